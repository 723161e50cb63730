import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveOptions } from '../../src/cli/config.ts';
import { INGEST_OPTIONS, parseIngestConfig } from '../../src/cli/ingest-options.ts';
import { ConfigError } from '../../src/core/errors.ts';

/** Flags are keyed as commander names them (`--once` -> once), env by option key. */
function config(flags: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}) {
  const { values } = resolveOptions({ command: 'ingest', specs: INGEST_OPTIONS, flags, env });
  return parseIngestConfig(values);
}

test('ingest options: defaults', () => {
  const c = config();
  assert.equal(c.spoolDir, './userpipe-data/spool');
  assert.equal(c.quarantineDir, 'userpipe-data/quarantine');
  assert.deepEqual(c.completion, { mode: 'rename' });
  assert.equal(c.topic, 'user_logs');
  assert.equal(c.dlqTopic, 'user_logs.dlq');
  assert.equal(c.createTopic, undefined);
  assert.equal(c.format, 'user');
  assert.equal(c.acks, 'all');
  assert.equal(c.idempotent, true);
  assert.equal(c.compression, 'snappy');
  assert.equal(c.once, false);
  assert.equal(c.settleTimeMs, 2000);
  assert.equal(c.pollIntervalMs, 1000);
  assert.equal(c.maxFileSize, 16 * 1024 * 1024);
  assert.equal(c.maxFilesInFlight, 4);
});

test('ingest options: flags and environment (units parsed, dlq follows the topic)', () => {
  const c = config(
    { topic: 'T', createTopic: true, partitions: '6', settleTime: '10s', maxFileSize: '1MiB', doneDir: '/done', once: true, dataDir: '/d' },
    { USERPIPE_KAFKA_COMPRESSION: 'zstd', USERPIPE_ACKS: '1' },
  );
  assert.equal(c.dlqTopic, 'T.dlq');
  assert.deepEqual(c.createTopic, { partitions: 6, replicationFactor: 1 });
  assert.equal(c.settleTimeMs, 10_000);
  assert.equal(c.maxFileSize, 1024 * 1024);
  assert.deepEqual(c.completion, { mode: 'move', dir: '/done' });
  assert.equal(c.once, true);
  assert.equal(c.spoolDir, '/d/spool');
  assert.equal(c.compression, 'zstd');
  assert.equal(c.acks, 1);
  assert.equal(c.idempotent, false, 'idempotence follows acks=all unless asked for');
});

test('ingest options: combinations that could lose data or make no sense are refused', () => {
  const refused: Array<[Record<string, unknown>, RegExp]> = [
    [{ acks: '0', deleteCompleted: true }, /--acks 0 with --delete-completed could lose data/],
    [{ deleteCompleted: true, doneDir: '/x' }, /exclude each other/],
    [{ topic: 'a', dlqTopic: 'a' }, /must differ/],
    [{ acks: '1', idempotent: true }, /needs --acks all/],
  ];
  for (const [flags, message] of refused) {
    assert.throws(() => config(flags), (err: unknown) => err instanceof ConfigError && message.test(err.message), JSON.stringify(flags));
  }
  assert.throws(() => config({ compression: 'brotli' }), ConfigError);
  assert.equal(config({ acks: '0' }).acks, 0, 'acks 0 alone is allowed (with a warning at start)');
});
