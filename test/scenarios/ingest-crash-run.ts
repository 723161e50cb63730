/**
 * The kill -9 scenario of `userpipe ingest`, shared by test/integration/ingest-crash.test.ts (short) and
 * test/scenarios/ingest-crash.ts (the full 50-file run whose figures go into the closing note):
 * write N spool files, start `ingest --once`, SIGKILL it once some but not all files are done, restart it,
 * then read the topic back and count.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startCli, runCli } from '../support/run-cli.ts';
import { createTopic, duplicates, ingestArgs, readTopic, writeSpool } from '../integration/ingest-helpers.ts';

export interface CrashFigures {
  files: number;
  users: number;
  /** Files marked done when the first run was killed. */
  doneAtKill: number;
  messages: number;
  distinctUsers: number;
  missingUsers: number;
  duplicates: number;
  filesDoneAtEnd: number;
  secondRunExit: number | null;
  secondRunStderr: string;
}

export async function crashScenario(root: string, topic: string, files: number, usersPerFile: number, killAfterDone: number, extraArgs: string[] = []): Promise<CrashFigures> {
  const spool = join(root, 'spool');
  const fx = await writeSpool(spool, files, usersPerFile);
  await createTopic(topic);
  await createTopic(`${topic}.dlq`);
  const countDone = async (): Promise<number> => (await readdir(spool)).filter((n) => n.endsWith('.COMPLETED')).length;

  const first = startCli(ingestArgs(root, topic, '--once', ...extraArgs), { timeoutMs: 300_000 });
  let doneAtKill: number;
  try {
    while (true) {
      doneAtKill = await countDone();
      if (doneAtKill >= killAfterDone) break;
      const exited = await Promise.race([first.done.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 2))]);
      if (exited) throw new Error(`ingest ended before it could be killed\n${first.stderr()}`);
    }
    first.kill('SIGKILL');
  } finally {
    first.kill('SIGKILL');
  }
  const killed = await first.done;
  if (killed.signal !== 'SIGKILL') throw new Error(`first run was not killed: code ${killed.code}\n${killed.stderr}`);

  const second = await runCli(ingestArgs(root, topic, '--once', ...extraArgs), { timeoutMs: 300_000 });
  const msgs = await readTopic(topic);
  const keys = new Set(msgs.map((m) => m.key?.toString() ?? ''));
  let missing = 0;
  for (const u of fx.uuids) if (!keys.has(u)) missing += 1;
  const d = duplicates(msgs);
  return {
    files,
    users: fx.uuids.size,
    doneAtKill,
    messages: d.total,
    distinctUsers: d.distinct,
    missingUsers: missing,
    duplicates: d.duplicates,
    filesDoneAtEnd: await countDone(),
    secondRunExit: second.code,
    secondRunStderr: second.stderr,
  };
}
