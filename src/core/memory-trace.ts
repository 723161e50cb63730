import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

/**
 * A diagnostic: with USERPIPE_MEMORY_TRACE=<ms>, one JSON line on stderr every <ms> with where the process's
 * memory is (RSS split into anonymous and file-backed pages, the V8 heap by space, external and buffer memory).
 * Scenarios and benchmarks use it to explain an RSS figure; it costs nothing when unset.
 */
export function startMemoryTrace(env: NodeJS.ProcessEnv, write: (line: string) => void): void {
  const ms = Number(env.USERPIPE_MEMORY_TRACE ?? '');
  if (!Number.isFinite(ms) || ms <= 0) return;
  const mb = (n: number): number => Math.round(n / 1024 / 102.4) / 10;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    const spaces: Record<string, number> = {};
    for (const s of getHeapSpaceStatistics()) spaces[s.space_name.replace(/_space$/, '')] = mb(s.space_used_size);
    write(JSON.stringify({ memoryTrace: Date.now(), rss: mb(m.rss), ...statusRss(), heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers), spaces }) + '\n');
  }, ms);
  timer.unref();
}

/** RssAnon and RssFile from /proc (Linux); empty elsewhere. */
function statusRss(): Record<string, number> {
  try {
    const text = readFileSync('/proc/self/status', 'utf8');
    const out: Record<string, number> = {};
    for (const key of ['RssAnon', 'RssFile']) {
      const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(text);
      if (m?.[1]) out[key] = Math.round(Number(m[1]) / 102.4) / 10;
    }
    return out;
  } catch {
    return {};
  }
}
