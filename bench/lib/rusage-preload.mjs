/**
 * Preloaded into every measured userpipe process (`node --import bench/lib/rusage-preload.ts src/main.ts ...`):
 * on exit, writes the process's own resource usage (CPU seconds, peak RSS) to $BENCH_RUSAGE_FILE, plus the
 * peaks of V8's heap and of memory outside it (Buffers), sampled every 200 ms, to tell where RSS sits. Exact,
 * unlike sampling /proc from outside, which misses the last interval before the process is gone.
 *
 * Plain JavaScript on purpose: a .ts preload makes Node load its type stripper (a WebAssembly module), which
 * added about 20 MB to every measured RSS (measured) that users' `dist/*.js` never pay.
 */
/* global process, setInterval */
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.env.BENCH_RUSAGE_FILE;
if (file) {
  const peak = { heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peak.heapTotal = Math.max(peak.heapTotal, m.heapTotal);
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
    peak.external = Math.max(peak.external, m.external);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
  };
  setInterval(sample, 200).unref();
  process.on('exit', () => {
    sample();
    const u = process.resourceUsage();
    // Peak RSS from this process's own memory map (VmHWM, Linux). Not getrusage's maxRSS: Linux carries it
    // across fork and exec, so a child of a big parent (the bench, ~250 MB) reports the parent's RSS at the
    // fork (measured: 252 MiB from a process whose sampled RSS never passed 185).
    let maxRssKiB = u.maxRSS;
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
      if (hwm) maxRssKiB = Number(hwm[1]);
    } catch {
      // not Linux: keep getrusage's figure
    }
    // maxRssKiB in KiB; CPU times in microseconds.
    // The same instant on both clocks: maps V8 profile timestamps (monotonic, microseconds) onto log times.
    const clock = { wallMs: Date.now(), monoUs: Number(process.hrtime.bigint() / 1000n) };
    writeFileSync(file, JSON.stringify({ userUs: u.userCPUTime, systemUs: u.systemCPUTime, maxRssKiB, peak, clock }));
  });
}
