/**
 * The bench's view of spool files: read them back (the bytes fetch wrote, also after ingest renamed them
 * `.COMPLETED`), copy them into a fresh spool dir for a re-run, and derive from them exactly what the
 * ceilings send: the users as NDJSON (ProducerPerformance's payload file) and the line protocol the process
 * stage renders for them (same transforms, same origins, hence the same points and timestamps).
 */
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSpoolName } from '../../src/sinks/spool-name.ts';
import { renderPoint } from '../../src/transforms/line-protocol.ts';
import type { RandomUser, RandomUserResponse } from '../../src/transforms/randomuser-types.ts';
import { userToPoint } from '../../src/transforms/user-point.ts';

export interface SpoolFile {
  /** The name fetch gave it (without `.COMPLETED`). */
  name: string;
  path: string;
}

const COMPLETED = '.COMPLETED';

/** Spool files in name (= fetch time) order, whether ingest has marked them done or not. */
export async function listSpool(dir: string): Promise<SpoolFile[]> {
  const out: SpoolFile[] = [];
  for (const n of await readdir(dir)) {
    const name = n.endsWith(COMPLETED) ? n.slice(0, -COMPLETED.length) : n;
    if (name.startsWith('response_') && name.endsWith('.json')) out.push({ name, path: join(dir, n) });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function readSpool(dir: string): Promise<Array<SpoolFile & { data: Buffer }>> {
  const files = await listSpool(dir);
  return Promise.all(files.map(async (f) => ({ ...f, data: await readFile(f.path) })));
}

/** Copy the spool files into `to` under their original names (ingest's input for a second run). */
export async function copySpool(from: string, to: string): Promise<number> {
  await mkdir(to, { recursive: true });
  const files = await listSpool(from);
  for (const f of files) await copyFile(f.path, join(to, f.name));
  return files.length;
}

/** Each user of each file with its origin (what ingest's headers carry for it). */
export async function* spoolUsers(dir: string): AsyncGenerator<{ user: RandomUser; fetchedAtMs: number; seq: number; index: number; source: string }> {
  for (const f of await listSpool(dir)) {
    const stamp = parseSpoolName(f.name);
    if (!stamp) continue;
    const response = JSON.parse(await readFile(f.path, 'utf8')) as RandomUserResponse;
    for (let i = 0; i < response.results.length; i++) {
      yield { user: response.results[i] as RandomUser, fetchedAtMs: stamp.fetchedAtMs, seq: stamp.seq, index: i, source: f.name };
    }
  }
}

/**
 * Users as NDJSON, at most `max` lines (ProducerPerformance holds its payload file in memory). Also counts all
 * users and their JSON bytes (what ingest sends as message values).
 */
export async function writePayloadFile(dir: string, file: string, max: number): Promise<{ lines: number; bytes: number; users: number; userBytes: number }> {
  const lines: string[] = [];
  let bytes = 0;
  let users = 0;
  let userBytes = 0;
  for await (const u of spoolUsers(dir)) {
    const s = JSON.stringify(u.user);
    const n = Buffer.byteLength(s);
    users += 1;
    userBytes += n;
    if (lines.length < max) {
      lines.push(s);
      bytes += n;
    }
  }
  await writeFile(file, lines.join('\n'));
  return { lines: lines.length, bytes, users, userBytes };
}

/** The process stage's line protocol for these users, cut into request bodies of `batchSize` lines. */
export async function renderBatches(dir: string, batchSize: number, measurement = 'users'): Promise<{ batches: string[]; lines: number; bytes: number }> {
  const batches: string[] = [];
  let current: string[] = [];
  let lines = 0;
  let bytes = 0;
  for await (const u of spoolUsers(dir)) {
    const line = renderPoint(userToPoint(u.user, { fetchedAtMs: u.fetchedAtMs, seq: u.seq, index: u.index, source: u.source }, { measurement }));
    current.push(line);
    lines += 1;
    bytes += Buffer.byteLength(line) + 1;
    if (current.length >= batchSize) {
      batches.push(current.join('\n') + '\n');
      current = [];
    }
  }
  if (current.length > 0) batches.push(current.join('\n') + '\n');
  return { batches, lines, bytes };
}
