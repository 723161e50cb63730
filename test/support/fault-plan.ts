/**
 * Which request of the RandomUser test server fails, and how. Deterministic in every mode, so a test can assert
 * exact outcomes: the same plan and the same order of requests give the same faults.
 */
import { Sfc32 } from '../../src/sources/synthetic-prng.ts';

/**
 * The ways the test server misbehaves:
 * - `500`: HTTP 500 with the service's real offline body (JSON `{"error": "Uh oh, ..."}`);
 * - `502`: HTTP 502 with an HTML page (a proxy in front of the service);
 * - `429`: the service's rate limit, JSON body, no Retry-After (what the real service sends);
 * - `429-retry-after`: the same with a `Retry-After` header in seconds;
 * - `empty`: HTTP 200, `results: []` while `info.results` says N;
 * - `short`: HTTP 200, fewer users than `info.results` (half, rounded down);
 * - `truncated`: HTTP 200, the JSON cut in the middle; the HTTP message itself ends cleanly (chunked);
 * - `slow`: no headers for `slowMs`, then a good answer (for a client whose timeout is shorter);
 * - `reset`: the TCP connection reset before any byte is sent;
 * - `html-200`: HTTP 200 with an HTML page instead of JSON.
 */
export const FAULT_KINDS = ['500', '502', '429', '429-retry-after', 'empty', 'short', 'truncated', 'slow', 'reset', 'html-200'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** One step of a fault sequence: a fault, or `ok` for a good answer. */
export type FaultStep = FaultKind | 'ok';

export type FaultPlan =
  /** No faults. */
  | { kind: 'none' }
  /** Request n (1-based) gets `steps[n-1]`; after the end, good answers, or start over with `loop`. */
  | { kind: 'sequence'; steps: readonly FaultStep[]; loop?: boolean }
  /** Requests failEvery, 2*failEvery, ... fail, with `kinds` in rotation (default: all kinds). */
  | { kind: 'every'; failEvery: number; kinds?: readonly FaultKind[] }
  /** Each request fails with probability `ratio`, drawn from a PRNG seeded with `seed`; `kinds` in rotation. */
  | { kind: 'ratio'; ratio: number; kinds?: readonly FaultKind[]; seed?: string };

/** Accepted wherever a plan is: a bare array is a non-looping sequence. */
export type FaultPlanInput = FaultPlan | readonly FaultStep[];

export class FaultPicker {
  private readonly plan: FaultPlan;
  private readonly kinds: readonly FaultKind[];
  private readonly rng: Sfc32;
  private faultsSoFar = 0;

  constructor(input: FaultPlanInput = { kind: 'none' }) {
    this.plan = normalize(input);
    const kinds = 'kinds' in this.plan && this.plan.kinds ? this.plan.kinds : FAULT_KINDS;
    if (kinds.length === 0) throw new RangeError('fault plan: kinds must not be empty');
    for (const k of kinds) if (!isFaultKind(k)) throw new RangeError(`fault plan: unknown kind ${String(k)}`);
    this.kinds = kinds;
    this.rng = Sfc32.fromString(this.plan.kind === 'ratio' ? (this.plan.seed ?? 'faults') : 'faults');
  }

  /** The step for request number `n` (1-based, counted by the caller). Call once per request, in order. */
  next(n: number): FaultStep {
    const p = this.plan;
    switch (p.kind) {
      case 'none':
        return 'ok';
      case 'sequence': {
        if (p.steps.length === 0) return 'ok';
        const i = p.loop ? (n - 1) % p.steps.length : n - 1;
        return p.steps[i] ?? 'ok';
      }
      case 'every':
        return n % p.failEvery === 0 ? this.rotate() : 'ok';
      case 'ratio':
        return this.rng.float() < p.ratio ? this.rotate() : 'ok';
    }
  }

  private rotate(): FaultKind {
    const kind = this.kinds[this.faultsSoFar % this.kinds.length] as FaultKind;
    this.faultsSoFar++;
    return kind;
  }
}

export function isFaultKind(x: unknown): x is FaultKind {
  return typeof x === 'string' && (FAULT_KINDS as readonly string[]).includes(x);
}

function normalize(input: FaultPlanInput): FaultPlan {
  if (Array.isArray(input)) {
    const steps = input as readonly FaultStep[];
    for (const s of steps) if (s !== 'ok' && !isFaultKind(s)) throw new RangeError(`fault plan: unknown step ${String(s)}`);
    return { kind: 'sequence', steps };
  }
  const plan = input as FaultPlan;
  if (plan.kind === 'sequence') {
    for (const s of plan.steps) if (s !== 'ok' && !isFaultKind(s)) throw new RangeError(`fault plan: unknown step ${String(s)}`);
  }
  if (plan.kind === 'every' && (!Number.isInteger(plan.failEvery) || plan.failEvery < 1)) {
    throw new RangeError(`fault plan: failEvery must be a positive integer, got ${plan.failEvery}`);
  }
  if (plan.kind === 'ratio' && !(plan.ratio >= 0 && plan.ratio <= 1)) {
    throw new RangeError(`fault plan: ratio must be within 0..1, got ${plan.ratio}`);
  }
  return plan;
}
