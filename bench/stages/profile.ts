/**
 * Profile stages: run a stage's userpipe side again on the same data under `node --cpu-prof`, and summarise
 * the .cpuprofile over the stage's work window only (its start to finish log lines, so start-up and module
 * loading do not drown the steady state): top self-time functions, time per area. The profiled run is a
 * little slower than the table's (the profiler samples every 500 µs).
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchContext, Measured } from '../lib/context.ts';
import { logTime, type ChildResult } from '../lib/child.ts';
import { summarize, summaryMarkdown, type ProfileSummary } from '../lib/cpuprofile.ts';
import { ratio } from '../lib/report.ts';
import { copySpool } from '../lib/spool-data.ts';
import { runArchive } from './archive.ts';
import { runFetch } from './fetch.ts';
import { createBenchTopic, runIngest } from './ingest.ts';
import { newDatabase, runProcess } from './process.ts';

export interface ProfileResult {
  stage: string;
  file: string;
  summary: ProfileSummary;
  markdown: string;
}

/** The stage's start and finish log lines (as in the table's work window). */
const WINDOW: Record<string, [string, string]> = {
  fetch: ['fetch started', 'fetch finished'],
  ingest: ['ingest started', 'ingest finished'],
  archive: ['archive starting', 'archive done'],
  process: ['process starting', 'process done'],
};

/** Which stages to profile: `auto` = every stage under 0.8 of its ceiling, lowest ratio first. */
export function profileTargets(spec: string, measured: Measured[]): Measured[] {
  const profilable = measured.filter((m) => Object.keys(WINDOW).some((k) => m.stage.startsWith(k)));
  if (spec === 'off') return [];
  if (spec === 'auto') return profilable.filter((m) => ratio(m) < 0.8).sort((a, b) => ratio(a) - ratio(b));
  const wanted = spec.split(',').map((s) => s.trim());
  return profilable.filter((m) => wanted.some((w) => m.stage.startsWith(w)));
}

export async function profileStage(ctx: BenchContext, m: Measured): Promise<ProfileResult> {
  const kind = Object.keys(WINDOW).find((k) => m.stage.startsWith(k)) ?? 'process';
  const dir = ctx.path(`profile-${kind}`);
  await mkdir(dir, { recursive: true });
  const flags = ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=500'];
  await ctx.ready();
  ctx.log(`profile: ${m.stage} (ratio ${ratio(m).toFixed(2)}) under --cpu-prof`);
  let r: ChildResult;
  if (kind === 'fetch') {
    r = (await runFetch(ctx, ctx.path('spool-profile'), m.records, flags)).r;
  } else if (kind === 'ingest') {
    const spool = ctx.path('spool-profile-ingest');
    await copySpool(ctx.spool?.dir ?? ctx.path('spool'), spool);
    const topic = ctx.name('users-profile');
    await createBenchTopic(ctx, topic);
    r = (await runIngest(ctx, spool, topic, flags)).r;
  } else if (kind === 'archive') {
    r = (await runArchive(ctx, ctx.topic?.topic ?? ctx.name('users'), `${ctx.hdfsRoot}/profile`, flags)).r;
  } else {
    const db = await newDatabase(ctx, 'profile');
    r = (await runProcess(ctx, ctx.topic?.topic ?? ctx.name('users'), db, { nodeFlags: flags })).r;
  }
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const file = files[0];
  if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
  const [startMsg, endMsg] = WINDOW[kind] as [string, string];
  const from = logTime(r, startMsg);
  const to = logTime(r, endMsg);
  const toMono = (wallMs: number): number => (r.clock ? r.clock.monoUs - (r.clock.wallMs - wallMs) * 1000 : Number.NaN);
  const window = r.clock && from !== undefined && to !== undefined ? { fromUs: toMono(from), toUs: toMono(to) } : undefined;
  const summary = summarize(join(dir, file), window);
  const markdown = [
    `### ${m.stage}: ratio ${ratio(m).toFixed(2)}`,
    '',
    `Same data, userpipe side again under \`node --cpu-prof --cpu-prof-interval=500\` (${r.wallSeconds.toFixed(1)} s wall, ${(r.cpuSeconds ?? 0).toFixed(1)} s CPU); ${window ? `samples from "${startMsg}" to "${endMsg}" only` : 'whole process'}.`,
    '',
    summaryMarkdown(summary, 12, 10),
  ].join('\n');
  return { stage: m.stage, file: join(dir, file), summary, markdown };
}
