import ora, { type Ora } from 'ora';
import type { Logger } from '../core/log.ts';
import type { Stats } from '../core/stats.ts';

/**
 * Live progress: on a terminal, an ora spinner line (one line per stage for run-all) with counts and rates;
 * elsewhere a log line every `intervalMs`. Reads the synchronous counters in Stats; never on the hot path.
 */
export interface ProgressOptions {
  stats: Stats;
  stages: readonly string[];
  log: Logger;
  tty: boolean;
  intervalMs: number;
  enabled: boolean;
  stream?: NodeJS.WriteStream;
}

export class Progress {
  private readonly opts: ProgressOptions;
  private spinner: Ora | undefined;
  private timer: NodeJS.Timeout | undefined;
  private last = new Map<string, { at: number; out: number }>();

  constructor(opts: ProgressOptions) {
    this.opts = opts;
  }

  /** Hooks for the logger so a log line does not tear the spinner line. */
  readonly beforeLog = (): void => {
    if (this.spinner?.isSpinning) this.spinner.clear();
  };
  readonly afterLog = (): void => {
    if (this.spinner?.isSpinning) this.spinner.render();
  };

  start(): void {
    if (!this.opts.enabled) return;
    const stream = this.opts.stream ?? process.stderr;
    // A terminal without a known width (e.g. under `script`, some CI consoles) would make the spinner's
    // line accounting explode: fall back to periodic log lines there.
    const usable = this.opts.tty && typeof stream.columns === 'number' && stream.columns >= 40;
    if (usable) {
      this.spinner = ora({ text: this.render(), stream, discardStdin: false }).start();
      this.timer = setInterval(() => {
        if (this.spinner) this.spinner.text = this.render();
      }, 250);
    } else {
      this.timer = setInterval(() => this.opts.log.info('progress', this.fields()), this.opts.intervalMs);
    }
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.spinner) {
      this.spinner.stop();
      this.spinner = undefined;
    }
  }

  /** A plain-text table of the final counters, for the end of a run. */
  summary(): string {
    const rows = this.opts.stages.map((name) => {
      const c = this.opts.stats.stage(name);
      const secs = Math.max(0.001, (Date.now() - this.opts.stats.startedAt) / 1000);
      return [name, c.in, c.out, c.errors, c.retries, Math.round(c.out / secs)].map(String);
    });
    const header = ['stage', 'in', 'out', 'errors', 'retries', 'avg/s'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
    return [line(header), ...rows.map(line)].join('\n') + '\n';
  }

  private rate(name: string, out: number): number {
    const now = Date.now();
    const prev = this.last.get(name);
    this.last.set(name, { at: now, out });
    if (!prev || now - prev.at < 1) return 0;
    return Math.round(((out - prev.out) * 1000) / (now - prev.at));
  }

  private fields(): Record<string, unknown> {
    const f: Record<string, unknown> = {};
    for (const name of this.opts.stages) {
      const c = this.opts.stats.stage(name);
      const g = this.opts.stats.gauges.get(name);
      f[name] = `in=${c.in} out=${c.out} rate=${this.rate(name, c.out)}/s err=${c.errors}` +
        (g?.queueFill ? ` queue=${Math.round(g.queueFill() * 100)}%` : '') +
        (g?.lag ? ` lag=${g.lag()}` : '');
    }
    return f;
  }

  private render(): string {
    const lines = this.opts.stages.map((name) => {
      const c = this.opts.stats.stage(name);
      const g = this.opts.stats.gauges.get(name);
      let s = `${name.padEnd(8)} in ${c.in}  out ${c.out}  ${this.rate(name, c.out)}/s`;
      if (g?.queueFill) s += `  queue ${Math.round(g.queueFill() * 100)}%`;
      if (g?.lag) s += `  lag ${g.lag()}`;
      if (c.retries) s += `  retries ${c.retries}`;
      if (c.errors) s += `  errors ${c.errors}`;
      return s;
    });
    return lines.join('\n  ');
  }
}
