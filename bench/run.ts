/**
 * `npm run bench`: every userpipe stage measured against the raw ceiling of the system it feeds, back to
 * back on the same data, against the real stack. Prints the Markdown table and writes it to
 * bench/results/<date>.md and bench/results/latest.md. See bench/README.md for the method.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { BenchContext, type Measured } from './lib/context.ts';
import { REPO_ROOT } from './lib/child.ts';
import { parseOptions, type StageName } from './lib/options.ts';
import { detailsSection, machineSection, mainTable, type MachineInfo, type PendingRow } from './lib/report.ts';
import { PROBE_TOPIC, Stack } from './lib/stack.ts';
import { benchFetch } from './stages/fetch.ts';
import { benchIngest } from './stages/ingest.ts';
import { benchArchive } from './stages/archive.ts';
import { benchProcess } from './stages/process.ts';
import { benchMemory, memorySection, type MemoryResult } from './stages/memory.ts';
import { benchRunAll, runAllAvailable, runAllSection, type RunAllResult } from './stages/run-all.ts';
import { profileStage, profileTargets, type ProfileResult } from './stages/profile.ts';

function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha} (+ uncommitted changes in src/)` : sha;
  } catch {
    return 'unknown';
  }
}

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const stack = new Stack({ brokers: o.brokers, hdfsUrl: o.hdfsUrl, influxUrl: o.influxUrl, hdfsUser: o.hdfsUser });
  const ctx = new BenchContext(o, stack);
  const t0 = Date.now();
  ctx.log(`run ${ctx.runId}: stages ${[...o.only].join(',')}, ${o.users} users; scratch ${ctx.workDir}`);
  await ctx.ready();
  const v = await stack.versions();
  const machine: MachineInfo = {
    date: new Date().toISOString(),
    cpus: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus().length,
    ramGiB: totalmem() / 2 ** 30,
    node: process.versions.node,
    kafka: v.kafka,
    hdfs: v.hdfs,
    influxdb: v.influxdb,
    commit: commit(),
    loadStart: load(),
  };

  const measured: Measured[] = [];
  const pending: PendingRow[] = [];
  let memory: MemoryResult | undefined;
  let runAll: RunAllResult | undefined;
  const profiles: ProfileResult[] = [];
  const has = (s: StageName): boolean => o.only.has(s);
  const outDir = resolve(REPO_ROOT, o.outDir);
  const stamp = machine.date.slice(0, 19).replace(/:/g, '');
  try {
    if (has('fetch')) measured.push(await benchFetch(ctx));
    if (has('ingest')) measured.push(await benchIngest(ctx));
    if (has('archive')) measured.push(await benchArchive(ctx));
    if (has('process')) measured.push(await benchProcess(ctx));
    if (has('run-all')) {
      const why = runAllAvailable();
      if (why === undefined) runAll = await benchRunAll(ctx, measured);
      else pending.push({ stage: 'run-all (end to end)', reason: why });
    }
    if (has('memory')) memory = await benchMemory(ctx);
    if (has('profile')) {
      for (const target of profileTargets(o.profile, measured)) {
        const p = await profileStage(ctx, target);
        // Kept (git-ignored) for a closer look in Chrome DevTools or with bench/profile-summary.ts.
        const keepDir = join(outDir, 'profiles', stamp);
        mkdirSync(keepDir, { recursive: true });
        const kept = join(keepDir, `${p.stage.split(' ')[0] ?? 'stage'}-${basename(p.file)}`);
        copyFileSync(p.file, kept);
        p.markdown += `\n\nProfile file: \`${relative(REPO_ROOT, kept)}\` (not committed).`;
        profiles.push(p);
      }
    }
  } finally {
    machine.loadEnd = load();
    await ctx.cleanup();
    await stack.deleteTopic(PROBE_TOPIC).catch(() => {});
    await stack.close();
  }

  const extraRows = runAll ? [runAll.row] : [];
  const md = [
    `# userpipe benchmark, ${machine.date.slice(0, 10)}`,
    '',
    machineSection(machine, { users: o.users, results: o.results, partitions: o.partitions, codec: o.codec }),
    '',
    'Ratio = userpipe records/s ÷ ceiling records/s, measured back to back on the same data (1.0 = as fast as the',
    'system it feeds allows). MB = 10^6 bytes of the payload named per stage below. CPU and RSS are userpipe\'s own',
    'process (user + system CPU; kernel high-water mark of resident memory). ⚠ = a service was restarted by',
    'someone else during that run.',
    '',
    mainTable(measured, extraRows, pending),
    '',
    ...(runAll ? [runAllSection(runAll), ''] : []),
    ...(memory ? [memorySection(memory), ''] : []),
    ...(profiles.length > 0
      ? [
          '## Profiles of the stages under 0.8 of their ceiling',
          '',
          'Shares are of the busy time of the main thread within the stage\'s work window; "idle" is the event loop waiting on I/O',
          '(Kafka, HDFS, InfluxDB, disk). Summarise any profile with `node bench/profile-summary.ts <file.cpuprofile>`.',
          '',
          ...profiles.flatMap((p) => [p.markdown, '']),
        ]
      : []),
    '## How each figure was made',
    '',
    detailsSection(runAll ? [...measured, runAll.measured] : measured),
    `Total bench time: ${((Date.now() - t0) / 1000).toFixed(0)} s. Reproduce: \`npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\` with the stack up (\`test/stack/stack up\`).`,
    '',
  ].join('\n');

  process.stdout.write(md);
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${stamp}.md`);
  writeFileSync(file, md);
  writeFileSync(join(outDir, 'latest.md'), md);
  ctx.log(`written ${file} and ${join(outDir, 'latest.md')}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
