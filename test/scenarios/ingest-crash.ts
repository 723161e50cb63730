/**
 * Must-show 2, full size: `kill -9` of `userpipe ingest` in the middle of a 50-file run, then a restart, against
 * the real Kafka. Prints the figures (users, messages, duplicates, lost) as one JSON line per round.
 *
 *   node test/scenarios/ingest-crash.ts [--files 50] [--users 1000] [--kill-after 25] [--rounds 3] [-- extra ingest args]
 *
 * Default ingest settings (4 files in flight, batches of 5,000 messages): the duplicates are the users of the
 * files that were in flight when the process died and had some, not all, of their messages acknowledged.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { crashScenario } from './ingest-crash-run.ts';
import { deleteTopics, unique } from '../integration/ingest-helpers.ts';

const { values, positionals } = parseArgs({
  options: {
    files: { type: 'string', default: '50' },
    users: { type: 'string', default: '1000' },
    'kill-after': { type: 'string', default: '25' },
    rounds: { type: 'string', default: '1' },
  },
  allowPositionals: true,
});

let failed = false;
for (let round = 1; round <= Number(values.rounds); round++) {
  const root = await mkdtemp(join(tmpdir(), 'userpipe-crash-'));
  const topic = unique('scenario-ingest-crash');
  try {
    const f = await crashScenario(root, topic, Number(values.files), Number(values.users), Number(values['kill-after']), positionals);
    const { secondRunStderr, ...figures } = f;
    const ok = f.missingUsers === 0 && f.filesDoneAtEnd === f.files && f.secondRunExit === 0;
    if (!ok) {
      failed = true;
      process.stderr.write(secondRunStderr);
    }
    process.stdout.write(JSON.stringify({ round, ok, ...figures }) + '\n');
  } finally {
    await deleteTopics(topic, `${topic}.dlq`);
    await rm(root, { recursive: true, force: true });
  }
}
process.exitCode = failed ? 1 : 0;
