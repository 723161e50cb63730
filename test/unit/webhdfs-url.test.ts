import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineError } from '../../src/core/errors.ts';
import {
  assertHdfsPath,
  buildQuery,
  buildWebHdfsUrl,
  encodeHdfsPath,
  normalizeNameNodeUrl,
  normalizePermission,
  redactUrl,
} from '../../src/clients/webhdfs-url.ts';
import { defaultHdfsUser, parentOf } from '../../src/clients/webhdfs.ts';

function assertCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => err instanceof PipelineError && err.code === code && !err.retryable);
}

test('encodeHdfsPath keeps slashes and percent-encodes every special character of a component', () => {
  assert.equal(encodeHdfsPath('/'), '/');
  assert.equal(encodeHdfsPath('/user/root/logs'), '/user/root/logs');
  assert.equal(encodeHdfsPath('/a b/c+d/e%f'), '/a%20b/c%2Bd/e%25f');
  assert.equal(encodeHdfsPath('/x#y/q?r=s&t/semi;colon'), '/x%23y/q%3Fr%3Ds%26t/semi%3Bcolon');
  assert.equal(encodeHdfsPath('/données/日本'), '/donn%C3%A9es/%E6%97%A5%E6%9C%AC');
  assert.equal(encodeHdfsPath('/dir/'), '/dir/');
  // Round trip: decoding each component gives the original path back.
  const path = '/a b/+/%41/ü;#?';
  assert.equal(encodeHdfsPath(path).split('/').map(decodeURIComponent).join('/'), path);
});

test('assertHdfsPath rejects what HDFS rejects, as non-retryable INVALID_INPUT', () => {
  for (const bad of ['', 'relative/path', 'a', '/a//b', '/a/./b', '/a/../b', '/..', '/a:b', '/nul\0x']) {
    assertCode(() => assertHdfsPath(bad), 'INVALID_INPUT');
  }
  for (const good of ['/', '/a', '/a/b/', '/.hidden', '/a..b', '/a.b/c']) assertHdfsPath(good);
  // A lone surrogate cannot be encoded as UTF-8.
  assertCode(() => encodeHdfsPath('/bad\uD800'), 'INVALID_INPUT');
});

test('normalizeNameNodeUrl strips trailing slashes and /webhdfs/v1, keeps a gateway prefix, rejects the rest', () => {
  assert.equal(normalizeNameNodeUrl('http://127.0.0.1:9870'), 'http://127.0.0.1:9870');
  assert.equal(normalizeNameNodeUrl('http://127.0.0.1:9870/'), 'http://127.0.0.1:9870');
  assert.equal(normalizeNameNodeUrl('http://nn:9870/webhdfs/v1/'), 'http://nn:9870');
  assert.equal(normalizeNameNodeUrl('https://knox:8443/gateway/default/'), 'https://knox:8443/gateway/default');
  assert.equal(normalizeNameNodeUrl('HTTP://NN:80'), 'http://nn');
  for (const bad of ['nn:9870', 'ftp://nn', 'http://nn:9870/?x=1', 'http://nn/#f', 'http://u:p@nn:9870', 'not a url']) {
    assertCode(() => normalizeNameNodeUrl(bad), 'CONFIG');
  }
});

test('buildQuery encodes values so "+" and spaces survive any decoder; undefined values are left out', () => {
  assert.equal(buildQuery({ op: 'RENAME', destination: '/a b/c+d', skip: undefined }), 'op=RENAME&destination=%2Fa%20b%2Fc%2Bd');
  assert.equal(buildQuery({ overwrite: false, offset: 0 }), 'overwrite=false&offset=0');
});

test('buildWebHdfsUrl: base + /webhdfs/v1 + encoded path, op then user.name then the parameters', () => {
  assert.equal(
    buildWebHdfsUrl('http://127.0.0.1:9870', '/tmp/a b', 'CREATE', 'root', { overwrite: true, permission: undefined }),
    'http://127.0.0.1:9870/webhdfs/v1/tmp/a%20b?op=CREATE&user.name=root&overwrite=true',
  );
  assert.equal(
    buildWebHdfsUrl('https://gw/gateway/default', '/', 'LISTSTATUS', 'dr.who'),
    'https://gw/gateway/default/webhdfs/v1/?op=LISTSTATUS&user.name=dr.who',
  );
  // Parameters only add: they cannot override op or user.name.
  const url = new URL(buildWebHdfsUrl('http://nn', '/x', 'OPEN', 'u s+er', { offset: 5, op: 'DELETE', 'user.name': 'hdfs' }));
  assert.deepEqual([...url.searchParams], [['op', 'OPEN'], ['user.name', 'u s+er'], ['offset', '5']]);
  assertCode(() => buildWebHdfsUrl('http://nn', 'x', 'OPEN', 'u'), 'INVALID_INPUT');
});

test('normalizePermission accepts 1-4 octal digits up to 1777, as string or number', () => {
  assert.equal(normalizePermission('755'), '755');
  assert.equal(normalizePermission('0644'), '0644');
  assert.equal(normalizePermission('1777'), '1777');
  assert.equal(normalizePermission(0o750), '750');
  for (const bad of ['', '8', '7777', '2000', 'rwx', '12345', -1]) assertCode(() => normalizePermission(bad), 'INVALID_INPUT');
});

test('redactUrl drops the query string (delegation tokens) and keeps origin and path', () => {
  assert.equal(
    redactUrl('http://127.0.0.1:9864/webhdfs/v1/a?op=CREATE&delegation=SECRET&namenoderpcaddress=x'),
    'http://127.0.0.1:9864/webhdfs/v1/a',
  );
  assert.equal(redactUrl('::'), '<invalid url>');
});

test('parentOf', () => {
  assert.equal(parentOf('/a/b'), '/a');
  assert.equal(parentOf('/a/b/'), '/a');
  assert.equal(parentOf('/a'), '/');
  assert.equal(parentOf('/'), '/');
});

test('defaultHdfsUser: HADOOP_USER_NAME wins, else the OS user', () => {
  assert.equal(defaultHdfsUser({ HADOOP_USER_NAME: ' hdfs ' }), 'hdfs');
  const osUser = defaultHdfsUser({});
  assert.ok(osUser.length > 0);
  assert.equal(defaultHdfsUser({ HADOOP_USER_NAME: '' }), osUser);
});
