/**
 * Profile one stage: run its userpipe side again on the same data under `node --cpu-prof`, and summarise the
 * .cpuprofile (top self-time functions, time per area). The profile's figures are not the table's: the
 * profiler slows the run a little.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchContext, Measured } from '../lib/context.ts';
import type { ChildResult } from '../lib/child.ts';
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

export async function profileStage(ctx: BenchContext, m: Measured): Promise<ProfileResult> {
  const dir = ctx.path('profile');
  await mkdir(dir, { recursive: true });
  const flags = ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=500'];
  await ctx.ready();
  ctx.log(`profile: ${m.stage} (ratio ${ratio(m).toFixed(2)}) under --cpu-prof`);
  let r: ChildResult;
  if (m.stage.startsWith('fetch')) {
    r = (await runFetch(ctx, ctx.path('spool-profile'), m.records, flags)).r;
  } else if (m.stage.startsWith('ingest')) {
    const spool = ctx.path('spool-profile');
    await copySpool(ctx.spool?.dir ?? ctx.path('spool'), spool);
    const topic = ctx.name('users-profile');
    await createBenchTopic(ctx, topic);
    r = (await runIngest(ctx, spool, topic, flags)).r;
  } else if (m.stage.startsWith('archive')) {
    r = (await runArchive(ctx, ctx.topic?.topic ?? ctx.name('users'), `${ctx.hdfsRoot}/profile`, flags)).r;
  } else {
    const db = await newDatabase(ctx, 'profile');
    r = (await runProcess(ctx, ctx.topic?.topic ?? ctx.name('users'), db, { nodeFlags: flags })).r;
  }
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const file = files[0];
  if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
  const summary = summarize(join(dir, file));
  const markdown = [
    `## Profile: ${m.stage} (lowest ratio to its ceiling: ${ratio(m).toFixed(2)})`,
    '',
    `\`node --cpu-prof --cpu-prof-interval=500\` on the userpipe side, same data (${r.wallSeconds.toFixed(1)} s wall under the profiler, ${(r.cpuSeconds ?? 0).toFixed(1)} s CPU). Summarise any profile with \`node bench/profile-summary.ts <file.cpuprofile>\`.`,
    '',
    summaryMarkdown(summary),
  ].join('\n');
  return { stage: m.stage, file: join(dir, file), summary, markdown };
}
