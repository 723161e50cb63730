import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { ConfigError, errorMessage } from '../core/errors.ts';
import { parseDuration, parseSize } from '../core/units.ts';
import { envName, flagAttribute, type OptionSpec, type OptionValues } from './option-spec.ts';

/**
 * Resolve a command's options from four layers, highest first: flags > environment > config file > defaults.
 * Every value is coerced to its type and validated before anything starts; an error names the key, the
 * layer it came from and what is wrong.
 */
export type Layer = 'flag' | 'env' | 'file' | 'default';

export interface ConfigFile {
  path: string;
  data: Record<string, unknown>;
}

const SECTION_NAMES = ['fetch', 'ingest', 'archive', 'process', 'runAll', 'run-all'] as const;

export function loadConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${errorMessage(err)}`, { key: 'config' });
  }
  let data: unknown;
  try {
    data = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${errorMessage(err)}`, {
      key: 'config',
    });
  }
  if (data === null || data === undefined) data = {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`config file ${path} must hold a mapping of option names to values`, { key: 'config' });
  }
  return { path, data: data as Record<string, unknown> };
}

function camel(k: string): string {
  return k.replace(/[-_]([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Check the file only names options some command knows (a typo is an error, not a silent default). */
export function checkConfigKeys(file: ConfigFile, allSpecs: readonly OptionSpec[]): void {
  const known = new Set(allSpecs.flatMap((s) => [s.key, flagAttribute(s.flag)]));
  const check = (obj: Record<string, unknown>, where: string): void => {
    for (const k of Object.keys(obj)) {
      if (!known.has(camel(k))) throw new ConfigError(`unknown option "${k}" ${where} in config file ${file.path}`, { key: k });
    }
  };
  for (const [k, v] of Object.entries(file.data)) {
    if ((SECTION_NAMES as readonly string[]).includes(k)) {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        throw new ConfigError(`section "${k}" in config file ${file.path} must be a mapping`, { key: k });
      }
      check(v as Record<string, unknown>, `in section "${k}"`);
    } else if (!known.has(camel(k))) {
      throw new ConfigError(`unknown option "${k}" in config file ${file.path}`, { key: k });
    }
  }
}

function fileValue(file: ConfigFile | undefined, command: string, spec: OptionSpec): unknown {
  if (!file) return undefined;
  const names = new Set([spec.key, flagAttribute(spec.flag), ...(spec.stageFlag ? [flagAttribute(spec.stageFlag)] : [])]);
  const pick = (obj: unknown): unknown => {
    if (!obj || typeof obj !== 'object') return undefined;
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) if (names.has(camel(k))) return v;
    return undefined;
  };
  const section = file.data[command] ?? file.data[camel(command)];
  const stageSection = spec.stage && spec.stage !== command ? file.data[spec.stage] : undefined;
  return pick(section) ?? pick(stageSection) ?? pick(file.data);
}

function envValue(env: NodeJS.ProcessEnv, spec: OptionSpec): { value: string; name: string } | undefined {
  for (const name of [envName(spec.key), ...(spec.env ?? [])]) {
    const value = env[name];
    if (value !== undefined && value !== '') return { value, name };
  }
  return undefined;
}

function describeSource(layer: Layer, spec: OptionSpec, where: string): string {
  switch (layer) {
    case 'flag':
      return `${/--[a-z0-9-]+/.exec(spec.flag)?.[0] ?? spec.key}`;
    case 'env':
      return `${where} (environment)`;
    case 'file':
      return `"${spec.key}" in ${where}`;
    default:
      return `default of ${spec.key}`;
  }
}

export function coerce(spec: OptionSpec, raw: unknown): { ok: true; value: unknown } | { ok: false; problem: string } {
  const bad = (problem: string) => ({ ok: false as const, problem });
  switch (spec.type) {
    case 'string':
    case 'enum':
      if (typeof raw === 'number') return { ok: true, value: String(raw) };
      return typeof raw === 'string' ? { ok: true, value: raw } : bad('must be a string');
    case 'integer':
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n)) return bad(`must be a number, got ${JSON.stringify(raw)}`);
      if (spec.type === 'integer' && !Number.isInteger(n)) return bad(`must be a whole number, got ${JSON.stringify(raw)}`);
      return { ok: true, value: n };
    }
    case 'boolean':
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      if (typeof raw === 'string' && /^(1|true|yes|on)$/i.test(raw)) return { ok: true, value: true };
      if (typeof raw === 'string' && /^(0|false|no|off)$/i.test(raw)) return { ok: true, value: false };
      return bad(`must be true or false, got ${JSON.stringify(raw)}`);
    case 'duration': {
      const ms = typeof raw === 'string' || typeof raw === 'number' ? parseDuration(raw) : undefined;
      return ms === undefined ? bad(`must be a duration like 500ms, 1s, 10m, got ${JSON.stringify(raw)}`) : { ok: true, value: ms };
    }
    case 'size': {
      const b = typeof raw === 'string' || typeof raw === 'number' ? parseSize(raw) : undefined;
      return b === undefined ? bad(`must be a size like 64MiB, 512k, got ${JSON.stringify(raw)}`) : { ok: true, value: b };
    }
    case 'list': {
      const items = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? raw.split(',') : undefined;
      if (!items) return bad('must be a comma-separated list');
      return { ok: true, value: items.map((s) => s.trim()).filter((s) => s !== '') };
    }
  }
}

export interface ResolveInput {
  command: string;
  specs: readonly OptionSpec[];
  /** Values commander saw on the command line (only options the user actually passed). */
  flags: OptionValues;
  env: NodeJS.ProcessEnv;
  file?: ConfigFile;
}

export interface Resolved {
  values: OptionValues;
  /** Which layer each value came from (for warnings such as "secret given as a flag"). */
  sources: Record<string, Layer>;
}

const ajv = new Ajv({ allErrors: false, strict: false });
const validators = new WeakMap<readonly OptionSpec[], ReturnType<typeof ajv.compile>>();

function schemaFor(specs: readonly OptionSpec[]): ReturnType<typeof ajv.compile> {
  let v = validators.get(specs);
  if (v) return v;
  const properties: Record<string, unknown> = {};
  for (const s of specs) {
    const p: Record<string, unknown> = {};
    if (s.type === 'integer' || s.type === 'duration' || s.type === 'size') p.type = 'integer';
    else if (s.type === 'number') p.type = 'number';
    else if (s.type === 'boolean') p.type = 'boolean';
    else if (s.type === 'list') {
      p.type = 'array';
      p.items = s.itemChoices ? { enum: [...s.itemChoices] } : { type: 'string' };
    } else p.type = 'string';
    if (s.choices) p.enum = [...s.choices];
    if (s.min !== undefined) p.minimum = s.min;
    if (s.max !== undefined) p.maximum = s.max;
    properties[s.key] = p;
  }
  v = ajv.compile({ type: 'object', properties });
  validators.set(specs, v);
  return v;
}

export function resolveOptions(input: ResolveInput): Resolved {
  const values: OptionValues = {};
  const sources: Record<string, Layer> = {};
  const where: Record<string, string> = {};
  for (const spec of input.specs) {
    let raw: unknown;
    let layer: Layer = 'default';
    let origin = '';
    const attr = flagAttribute(spec.flag);
    const ev = envValue(input.env, spec);
    const fv = fileValue(input.file, input.command, spec);
    if (input.flags[attr] !== undefined) {
      raw = input.flags[attr];
      layer = 'flag';
    } else if (ev) {
      raw = ev.value;
      layer = 'env';
      origin = ev.name;
    } else if (fv !== undefined && fv !== null) {
      raw = fv;
      layer = 'file';
      origin = input.file?.path ?? '';
    } else if (spec.default !== undefined) {
      raw = spec.default;
    } else {
      continue;
    }
    const c = coerce(spec, raw);
    if (!c.ok) throw new ConfigError(`invalid ${describeSource(layer, spec, origin)}: ${c.problem}`, { key: spec.key });
    values[spec.key] = c.value;
    sources[spec.key] = layer;
    where[spec.key] = describeSource(layer, spec, origin);
  }
  const validate = schemaFor(input.specs);
  if (!validate(values)) {
    const e = validate.errors?.[0];
    const key = e?.instancePath.split('/')[1] ?? e?.instancePath.slice(1) ?? '?';
    const spec = input.specs.find((s) => s.key === key);
    let problem = e?.message ?? 'is invalid';
    if (e?.keyword === 'enum') {
      const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues ?? spec?.choices ?? spec?.itemChoices ?? [];
      const bad = e.instancePath.split('/').length > 2 ? (values[key] as unknown[])[Number(e.instancePath.split('/')[2])] : values[key];
      problem = `${JSON.stringify(bad)} is not one of ${allowed.join(', ')}`;
    }
    throw new ConfigError(`invalid ${where[key] ?? key}: ${problem}`, { key });
  }
  return { values, sources };
}
