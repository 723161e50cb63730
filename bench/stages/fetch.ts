/**
 * fetch (synthetic source) -> spool dir, against writing the very same bytes into a fresh directory on the
 * same file system: same file count, names and sizes, one file after the other, with the same discipline as
 * userpipe's atomic write (hidden temp file opened O_EXCL, write, fsync, close, rename, fsync the directory).
 * Without that discipline the "ceiling" would be page-cache speed and the ratio would measure fsync, not
 * userpipe. What the ratio does charge to userpipe: generating the users and serialising them.
 */
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { repeatCeiling, type BenchContext, type Measured } from '../lib/context.ts';
import { disturbances, ensureOk, runUserpipe, window, type ChildResult } from '../lib/child.ts';
import { readSpool } from '../lib/spool-data.ts';

/** Run `userpipe fetch` into `dir`; returns the child result. */
export async function runFetch(ctx: BenchContext, dir: string, users: number, nodeFlags: string[] = []): Promise<{ r: ChildResult; args: string[] }> {
  const args = [
    'fetch',
    '--source',
    'synthetic',
    '--results',
    String(ctx.o.results),
    '--interval',
    '0',
    '--max-users',
    String(users),
    '--data-dir',
    join(dir, '..', `${dir.split('/').pop() ?? 'spool'}-state`),
    '--spool-dir',
    dir,
  ];
  const r = await runUserpipe({ label: 'userpipe fetch', args, timeoutMs: 30 * 60_000, nodeFlags });
  ensureOk(r);
  return { r, args };
}

async function writeAtomicRaw(dir: string, name: string, data: Buffer): Promise<void> {
  const tmp = join(dir, `.${name}.tmp`);
  const fh = await open(tmp, 'wx', 0o644);
  await fh.writeFile(data);
  await fh.sync();
  await fh.close();
  await rename(tmp, join(dir, name));
  const dh = await open(dir, 'r');
  await dh.sync();
  await dh.close();
}

export async function benchFetch(ctx: BenchContext): Promise<Measured> {
  const dir = ctx.path('spool');
  await ctx.ready();
  ctx.log(`fetch: ${ctx.o.users} synthetic users, ${ctx.o.results} per response, into ${dir}`);
  const { r, args } = await runFetch(ctx, dir, ctx.o.users);
  const files = await readSpool(dir);
  const bytes = files.reduce((s, f) => s + f.data.length, 0);

  const ceiling = await repeatCeiling(async (i) => {
    const ceilingDir = ctx.path(`spool-ceiling-${i}`);
    await mkdir(ceilingDir, { recursive: true });
    const t0 = performance.now();
    for (const f of files) await writeAtomicRaw(ceilingDir, f.name, f.data);
    const seconds = (performance.now() - t0) / 1000;
    await rm(ceilingDir, { recursive: true, force: true });
    return seconds;
  });

  ctx.spool = { dir, users: ctx.o.users };
  return {
    stage: 'fetch → spool',
    records: ctx.o.users,
    bytes,
    bytesWhat: 'spool file bytes (the API JSON)',
    userpipe: {
      label: 'userpipe fetch --source synthetic --interval 0',
      seconds: window(r, 'fetch started', 'fetch finished'),
      wallSeconds: r.wallSeconds,
      cpuSeconds: r.cpuSeconds,
      peakRssBytes: r.peakRssBytes,
      disturbed: disturbances(r),
      args,
    },
    ceiling: {
      label: `same ${files.length} files, same bytes: open(wx) + write + fsync + rename + fsync dir, in a loop (node:fs)`,
      ...ceiling,
    },
    notes: [],
  };
}

/** The spool for later stages: the one fetch wrote, or (stage run alone) one written now, untimed. */
export async function ensureSpool(ctx: BenchContext): Promise<string> {
  if (ctx.spool) return ctx.spool.dir;
  const dir = ctx.path('spool');
  ctx.log(`preparing ${ctx.o.users} users in ${dir} (untimed)`);
  await runFetch(ctx, dir, ctx.o.users);
  ctx.spool = { dir, users: ctx.o.users };
  return dir;
}
