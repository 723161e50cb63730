import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryLog } from '../../src/clients/memory-log.ts';
import { Lifecycle } from '../../src/core/lifecycle.ts';
import { silentLogger } from '../../src/core/log.ts';
import { sleep } from '../../src/core/sleep.ts';
import { runPipeline } from '../../src/stages/run-all.ts';

test('regression: ingest told to stop while still preparing (fetch had nothing to do) is not a failure of run-all', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pipeline-'));
  try {
    let consumersEnded = 0;
    await runPipeline(
      {
        log: new MemoryLog(),
        topic: 't',
        spoolDir: dir,
        fetch: async () => {},
        // Like ingest waiting for its topics: a wait that ends with ABORTED when its stop signal fires.
        ingest: async (lc) => sleep(60_000, lc.stop),
        consumers: [
          async (lc, endOffsets) => {
            while (!endOffsets()) await sleep(10, lc.abort);
            consumersEnded += 1;
          },
        ],
      },
      new Lifecycle(),
      silentLogger,
    );
    assert.equal(consumersEnded, 1, 'the consumers still drained to the end');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('run-all: a part that really fails aborts the others and the pipeline fails', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pipeline-'));
  try {
    await assert.rejects(
      runPipeline(
        {
          log: new MemoryLog(),
          topic: 't',
          spoolDir: dir,
          fetch: async (lc) => sleep(60_000, lc.abort).catch(() => {}),
          ingest: async () => {
            throw new Error('broker refused the token');
          },
          consumers: [async (lc) => sleep(60_000, lc.abort).catch(() => {})],
        },
        new Lifecycle(),
        silentLogger,
      ),
      /broker refused the token/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
