import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryLog } from '../../src/clients/memory-log.ts';
import { resolveOptions } from '../../src/cli/config.ts';
import { PROCESS_COMMAND, processStageOptions } from '../../src/cli/process.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { runCli } from '../support/run-cli.ts';

function resolve(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
  return resolveOptions({ command: 'process', specs: PROCESS_COMMAND.specs, flags, env }).values;
}

test('process cli: defaults, and INFLUX_* environment variables', () => {
  const v = resolve({}, { INFLUX_HOST: 'http://influx:8086', INFLUX_ORG: 'acme', INFLUX_BUCKET: 'b1', INFLUX_TOKEN: 'tok' });
  const o = processStageOptions(v, new MemoryLog());
  assert.equal(o.topic, 'user_logs');
  assert.equal(o.dlqTopic, 'user_logs.dlq');
  assert.equal(o.group, 'userpipe-process');
  assert.equal(o.start, 'committed');
  assert.equal(o.measurement, 'users');
  assert.equal(o.dedupeWindow, 100_000);
  assert.equal(o.batchSize, 1000);
  assert.equal(o.flushIntervalMs, 1000);
  assert.equal(o.maxInFlight, 2);
  assert.equal(o.once, false);
  const writer = o.makeWriter({ onRetry: () => {} });
  assert.equal(writer.describe(), 'influxdb http://influx:8086 bucket=b1 org=acme');
  assert.doesNotMatch(writer.describe(), /tok/);
  assert.equal(resolve({}).influxBucket, 'userpipe');
});

test('process cli: no destination, or two, is a configuration error naming the options', () => {
  assert.throws(() => processStageOptions(resolve({}), new MemoryLog()), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /--influx-url \(or INFLUX_HOST\).*--lp-dir/);
    return true;
  });
  assert.throws(() => processStageOptions(resolve({ influxUrl: 'http://x:8086', lpDir: '/tmp/x' }), new MemoryLog()), /either --influx-url/);
  assert.throws(() => processStageOptions(resolve({ lpDir: '/tmp/x', measurement: '_users' }), new MemoryLog()), ConfigError);
  assert.throws(() => processStageOptions(resolve({ influxUrl: 'ftp://x' }), new MemoryLog()), /http/);
  assert.throws(() => resolve({ dedupeWindow: '-1' }), ConfigError);
});

test('process cli: the token file wins over INFLUX_TOKEN and loses its trailing newline', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'userpipe-token-'));
  try {
    const file = join(dir, 'token');
    await writeFile(file, 'from-file\n');
    const v = resolve({ influxUrl: 'http://127.0.0.1:1', influxTokenFile: file }, { INFLUX_TOKEN: 'from-env' });
    assert.doesNotThrow(() => processStageOptions(v, new MemoryLog()));
    await writeFile(file, '');
    assert.throws(() => processStageOptions(v, new MemoryLog()), /is empty/);
    assert.throws(() => processStageOptions(resolve({ influxUrl: 'http://x', influxTokenFile: join(dir, 'missing') }), new MemoryLog()), /cannot read/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('process cli: exit 2 without a destination; a token flag warns without printing the token', async () => {
  const none = await runCli(['process', '--once'], { env: { INFLUX_HOST: undefined }, timeoutMs: 30_000 });
  assert.equal(none.code, 2, none.stderr);
  assert.match(none.stderr, /needs a destination/);
  const flagged = await runCli(['process', '--once', '--influx-url', 'http://127.0.0.1:1', '--influx-token', 's3cr3t-value', '--brokers', '127.0.0.1:1', '--measurement', ''], {
    timeoutMs: 30_000,
  });
  assert.equal(flagged.code, 2, flagged.stderr);
  assert.match(flagged.stderr, /secret was given as a flag/);
  assert.doesNotMatch(flagged.stderr + flagged.stdout, /s3cr3t-value/);
});
