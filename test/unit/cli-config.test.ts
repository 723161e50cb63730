import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/core/errors.ts';
import { checkConfigKeys, coerce, loadConfigFile, resolveOptions, type ConfigFile } from '../../src/cli/config.ts';
import { FETCH_OPTIONS, parseFetchConfig } from '../../src/cli/fetch-options.ts';
import { envName, flagAttribute, type OptionSpec } from '../../src/cli/option-spec.ts';
import { helpDescription } from '../../src/cli/program.ts';

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'userpipe-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const file = (data: Record<string, unknown>): ConfigFile => ({ path: '/etc/userpipe.yaml', data });
const resolve = (flags: Record<string, unknown>, env: Record<string, string> = {}, f?: ConfigFile) =>
  resolveOptions({ command: 'fetch', specs: FETCH_OPTIONS, flags, env, file: f });

function configError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e) => e instanceof ConfigError && message.test(e.message), message.source);
}

test('precedence: flags > environment > config file > defaults, per option', () => {
  const f = file({ results: 30, nat: ['gb'], fetch: { interval: '5s' }, rateLimit: 100 });
  const env = { USERPIPE_RESULTS: '20', USERPIPE_FETCH_INTERVAL: '2s' };
  const { values, sources } = resolve({ results: '10' }, env, f);
  assert.equal(values.results, 10);
  assert.equal(sources.results, 'flag');
  assert.equal(values.fetchInterval, 2000);
  assert.equal(sources.fetchInterval, 'env');
  assert.deepEqual(values.nat, ['gb']);
  assert.equal(sources.nat, 'file');
  assert.equal(values.rateLimit, 100);
  assert.equal(values.fetchMaxAttempts, 5);
  assert.equal(sources.fetchMaxAttempts, 'default');
  assert.equal(values.apiUrl, 'https://randomuser.me/api/1.4/');
  assert.equal('seed' in values, false, 'no default, not given: absent');
});

test('config file: a command section wins over top-level keys; keys by name or by flag, camel or kebab case', () => {
  const f = file({ results: 1, 'max-users': 7, fetch: { results: 3, 'api-url': 'http://x/api/' }, ingest: { results: 99 } });
  const { values } = resolve({}, {}, f);
  assert.equal(values.results, 3);
  assert.equal(values.maxUsers, 7);
  assert.equal(values.apiUrl, 'http://x/api/');
});

test('environment names: USERPIPE_ + upper snake case of the key', () => {
  assert.equal(envName('fetchInterval'), 'USERPIPE_FETCH_INTERVAL');
  assert.equal(envName('apiUrl'), 'USERPIPE_API_URL');
  assert.equal(flagAttribute('--spool-dir <dir>'), 'spoolDir');
  assert.equal(flagAttribute('--no-gzip'), 'gzip');
  const { values } = resolve({}, { USERPIPE_NAT: 'us, fr', USERPIPE_FETCH_ONCE: 'yes', USERPIPE_RATE_WINDOW: '1m', USERPIPE_FETCH_SOURCE: 'synthetic' });
  assert.deepEqual(values.nat, ['us', 'fr']);
  assert.equal(values.fetchOnce, true);
  assert.equal(values.rateWindow, 60_000);
  assert.equal(values.fetchSource, 'synthetic');
});

test('an empty environment variable counts as unset', () => {
  assert.equal(resolve({}, { USERPIPE_RESULTS: '' }).values.results, 1);
});

test('invalid values are refused naming the option and the layer it came from', () => {
  configError(() => resolve({ results: '0' }), /invalid --results: must be >= 1/);
  configError(() => resolve({ results: '5001' }), /invalid --results: must be <= 5000/);
  configError(() => resolve({ results: 'ten' }), /invalid --results: must be a number, got "ten"/);
  configError(() => resolve({ results: '2.5' }), /invalid --results: must be a whole number/);
  configError(() => resolve({}, { USERPIPE_RESULTS: '0' }), /invalid USERPIPE_RESULTS \(environment\): must be >= 1/);
  configError(() => resolve({}, {}, file({ results: 0 })), /invalid "results" in \/etc\/userpipe.yaml: must be >= 1/);
  configError(() => resolve({ interval: 'soon' }), /invalid --interval: must be a duration like 500ms, 1s, 10m, got "soon"/);
  configError(() => resolve({ source: 'kafka' }), /invalid --source: "kafka" is not one of randomuser, synthetic/);
  configError(() => resolve({ inc: 'name,shoe' }), /invalid --inc: "shoe" is not one of gender, name/);
  configError(() => resolve({}, { USERPIPE_FETCH_ONCE: 'maybe' }), /USERPIPE_FETCH_ONCE \(environment\): must be true or false/);
});

test('parseFetchConfig: nationalities are case-insensitive, deduplicated, and an unknown one is named', () => {
  const c = parseFetchConfig(resolve({ nat: 'us,GB,Us' }).values);
  assert.deepEqual(c.query.nat, ['US', 'GB']);
  configError(() => parseFetchConfig(resolve({ nat: 'us,xx' }).values), /invalid --nat: unknown nationality "xx" \(known: AU, BR/);
});

test('parseFetchConfig: derived paths, URL checks, and a page size that can never pass the rate limit', () => {
  const c = parseFetchConfig(resolve({ dataDir: '/d' }).values);
  assert.equal(c.spoolDir, '/d/spool');
  assert.equal(c.quarantineDir, '/d/quarantine');
  assert.equal(parseFetchConfig(resolve({ dataDir: '/d', spoolDir: '/s' }).values).spoolDir, '/s');
  configError(() => parseFetchConfig(resolve({ apiUrl: 'not a url' }).values), /invalid --api-url: not a URL/);
  configError(() => parseFetchConfig(resolve({ apiUrl: 'ftp://x/' }).values), /must be http or https/);
  configError(() => parseFetchConfig(resolve({ results: '5000', rateLimit: '1000' }).values), /can never fit under --rate-limit 1000/);
  // The synthetic source is not rate limited.
  assert.equal(parseFetchConfig(resolve({ results: '5000', rateLimit: '1000', source: 'synthetic' }).values).query.results, 5000);
});

test('loadConfigFile: YAML or JSON; unreadable, invalid or non-mapping files are errors naming the file', (t) => {
  const dir = tmp(t);
  writeFileSync(join(dir, 'a.yaml'), 'results: 5\nfetch:\n  nat: [us, gb]\n');
  writeFileSync(join(dir, 'a.json'), '{"results": 6}');
  writeFileSync(join(dir, 'empty.yaml'), '');
  writeFileSync(join(dir, 'bad.json'), '{"results": ');
  writeFileSync(join(dir, 'bad.yaml'), 'results: [1\n');
  writeFileSync(join(dir, 'list.yaml'), '- 1\n- 2\n');
  assert.deepEqual(loadConfigFile(join(dir, 'a.yaml')).data, { results: 5, fetch: { nat: ['us', 'gb'] } });
  assert.deepEqual(loadConfigFile(join(dir, 'a.json')).data, { results: 6 });
  assert.deepEqual(loadConfigFile(join(dir, 'empty.yaml')).data, {});
  configError(() => loadConfigFile(join(dir, 'missing.yaml')), /cannot read config file .*missing\.yaml: ENOENT/);
  configError(() => loadConfigFile(dir), /cannot read config file .*EISDIR/);
  configError(() => loadConfigFile(join(dir, 'bad.json')), /bad\.json is not valid JSON/);
  configError(() => loadConfigFile(join(dir, 'bad.yaml')), /bad\.yaml is not valid YAML/);
  configError(() => loadConfigFile(join(dir, 'list.yaml')), /must hold a mapping/);
  if (process.getuid?.() !== 0) {
    // root reads anything; elsewhere a file without read permission is refused like a missing one.
    writeFileSync(join(dir, 'secret.yaml'), 'results: 1\n');
    chmodSync(join(dir, 'secret.yaml'), 0o000);
    configError(() => loadConfigFile(join(dir, 'secret.yaml')), /cannot read config file .*EACCES/);
  }
});

test('checkConfigKeys: a typo is an error, not a silent default', () => {
  checkConfigKeys(file({ results: 1, 'spool-dir': '/s', fetch: { maxUsers: 3 } }), FETCH_OPTIONS);
  configError(() => checkConfigKeys(file({ reslts: 1 }), FETCH_OPTIONS), /unknown option "reslts" in config file/);
  configError(() => checkConfigKeys(file({ fetch: { natt: 'us' } }), FETCH_OPTIONS), /unknown option "natt" in section "fetch"/);
  configError(() => checkConfigKeys(file({ fetch: 'x' }), FETCH_OPTIONS), /section "fetch" .* must be a mapping/);
});

test('coerce: lists from strings or arrays, booleans from words', () => {
  const list: OptionSpec = { key: 'l', flag: '--l <x>', description: '', type: 'list' };
  assert.deepEqual(coerce(list, ' a, b,,c '), { ok: true, value: ['a', 'b', 'c'] });
  assert.deepEqual(coerce(list, ['a', 1]), { ok: true, value: ['a', '1'] });
  const bool: OptionSpec = { key: 'b', flag: '--b', description: '', type: 'boolean' };
  assert.deepEqual(coerce(bool, 'off'), { ok: true, value: false });
  assert.equal(coerce(bool, 'perhaps').ok, false);
});

test('help text of every fetch option shows its default (or what stands for it) and its environment variable', () => {
  for (const spec of FETCH_OPTIONS) {
    const text = helpDescription(spec);
    assert.match(text, new RegExp(`env ${envName(spec.key)}`), spec.key);
    if (spec.type !== 'boolean') assert.match(text, /default: /, `${spec.key}: ${text}`);
  }
});
