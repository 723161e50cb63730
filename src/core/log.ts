/**
 * Structured logs on stderr (stdout is for data): a fixed message and data in fields. Text for people
 * (`12:00:01.123 WARN  fetch: request failed attempt=2 reason="HTTP 503"`), or one JSON object per line for
 * machines. Fields whose key looks secret are redacted, whatever the caller passes.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFormat = 'text' | 'json';
export type Fields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
const SECRET_KEY = /token|password|passwd|secret|authorization|sasl/i;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** A logger whose lines carry `component` (e.g. `ingest`, `archive.hdfs`). */
  child(component: string): Logger;
  readonly level: LogLevel;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  write?: (line: string) => void;
  component?: string;
  /** Called before a line is written (the progress spinner clears its line). */
  beforeWrite?: () => void;
  afterWrite?: () => void;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const format = options.format ?? 'text';
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const emit = (lvl: LogLevel, component: string | undefined, msg: string, fields?: Fields): void => {
    if (RANK[lvl] < RANK[level]) return;
    const line = format === 'json' ? jsonLine(lvl, component, msg, fields) : textLine(lvl, component, msg, fields);
    options.beforeWrite?.();
    write(line);
    options.afterWrite?.();
  };
  const make = (component: string | undefined): Logger => ({
    level,
    debug: (m, f) => emit('debug', component, m, f),
    info: (m, f) => emit('info', component, m, f),
    warn: (m, f) => emit('warn', component, m, f),
    error: (m, f) => emit('error', component, m, f),
    child: (c) => make(component ? `${component}.${c}` : c),
  });
  return make(options.component);
}

/** A logger that drops everything: the default for library code and tests. */
export const silentLogger: Logger = createLogger({ level: 'silent' });

function redact(fields: Fields | undefined): Fields | undefined {
  if (!fields) return fields;
  let out: Fields | undefined;
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_KEY.test(k) && v !== undefined && v !== null) {
      out ??= { ...fields };
      out[k] = '[redacted]';
    }
  }
  return out ?? fields;
}

function fieldValue(v: unknown): unknown {
  if (v instanceof Error) return v.message;
  if (typeof v === 'bigint') return v.toString();
  return v;
}

/**
 * JSON for a field value or a whole line: secret-looking keys redacted at any depth (a headers object carries
 * `authorization`), bigints as strings, errors as messages, cycles cut. A log call must never throw: it often
 * runs in a catch block, where an exception would hide the error being logged. Undefined when it still fails
 * (a throwing getter or toJSON).
 */
function safeJson(value: unknown): string | undefined {
  const seen = new WeakSet<object>();
  try {
    return JSON.stringify(value, (key: string, v: unknown) => {
      if (key !== '' && SECRET_KEY.test(key) && v !== undefined && v !== null) return '[redacted]';
      if (typeof v === 'bigint') return v.toString();
      if (v instanceof Error) return v.message;
      if (typeof v === 'object' && v !== null) {
        if (seen.has(v)) return '[circular]'; // (or an object seen twice: rare in log fields, fine to shorten)
        seen.add(v);
      }
      return v;
    });
  } catch {
    return undefined;
  }
}

function jsonLine(level: LogLevel, component: string | undefined, msg: string, fields?: Fields): string {
  const head: Fields = { time: new Date().toISOString(), level, ...(component ? { component } : {}), msg };
  const obj: Fields = { ...head };
  for (const [k, v] of Object.entries(redact(fields) ?? {})) obj[k] = fieldValue(v);
  return (safeJson(obj) ?? JSON.stringify({ ...head, logError: 'unserializable fields' })) + '\n';
}

function textLine(level: LogLevel, component: string | undefined, msg: string, fields?: Fields): string {
  const time = new Date().toISOString().slice(11, 23);
  let line = `${time} ${level.toUpperCase().padEnd(5)} ${component ? component + ': ' : ''}${msg}`;
  for (const [k, v] of Object.entries(redact(fields) ?? {})) {
    if (v === undefined) continue;
    const val = fieldValue(v);
    const s = typeof val === 'string' ? val : (safeJson(val) ?? '[unserializable]');
    line += ` ${k}=${/[\s"=]/.test(s) ? JSON.stringify(s) : s}`;
  }
  return line + '\n';
}
