/**
 * Canonical form of an experiment config, and its hash (the cache key).
 *
 * Rules (LTH-style, see anchors-and-traps §3.4): keys sorted at every level; a key whose value
 * equals the default at the same path is omitted, so adding an option whose default has no effect
 * keeps every existing key valid; `undefined` means "use the default" and is dropped; arrays keep
 * their order (defaults never apply inside arrays); numbers use the ECMAScript shortest round-trip
 * form (JSON.stringify), with -0 written as 0. Non-JSON values (NaN, Infinity, functions, Dates,
 * Maps, class instances, bigint) are rejected: a config must be plain data.
 */
import { createHash } from 'crypto';

/** Number of hex characters of the SHA-256 kept as the key (64 bits). */
export const KEY_HEX_LENGTH = 16;

export type PlainObject = Record<string, unknown>;

export function isPlainObject(v: unknown): v is PlainObject {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function fail(path: string, what: string): never {
  throw new Error(`Config value at ${path} is ${what}: configs must be plain JSON data ` +
    '(finite numbers, strings, booleans, null, arrays, plain objects). Convert it to one of those.');
}

/** Canonical JSON of `value`, or undefined when it is to be omitted (undefined, or equal to `def`). */
function canon(value: unknown, def: unknown, path: string): string | undefined {
  if (value === undefined) return undefined;
  if (isPlainObject(value)) {
    const defObj = isPlainObject(def) ? def : undefined;
    const parts: string[] = [];
    for (const k of Object.keys(value).sort()) {
      const s = canon(value[k], defObj ? defObj[k] : undefined, `${path}.${k}`);
      if (s !== undefined) parts.push(`${JSON.stringify(k)}:${s}`);
    }
    // Every field at its default (missing fields mean "default") -> the object equals the default.
    if (parts.length === 0 && defObj) return undefined;
    return `{${parts.join(',')}}`;
  }
  const s = leaf(value, path);
  if (def !== undefined && !isPlainObject(def) && s === leafOrNull(def)) return undefined;
  return s;
}

function leafOrNull(def: unknown): string | null {
  try { return leaf(def, 'defaults'); } catch { return null; }
}

function leaf(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean': return value ? 'true' : 'false';
    case 'string': return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) fail(path, String(value));
      return Object.is(value, -0) ? '0' : JSON.stringify(value);
    case 'object':
      if (Array.isArray(value)) {
        return `[${value.map((e, i) => {
          if (e === undefined) fail(`${path}[${i}]`, 'undefined (arrays cannot have holes)');
          return canon(e, undefined, `${path}[${i}]`) as string;
        }).join(',')}]`;
      }
      return fail(path, `an instance of ${(value as object).constructor?.name ?? 'a class'}`);
    default:
      return fail(path, `a ${typeof value}`);
  }
}

/**
 * Canonical JSON string of `config` relative to `defaults` (both plain objects). Key order,
 * explicit defaults and undefined fields do not change it.
 */
export function canonicalize(config: PlainObject, defaults: PlainObject = {}): string {
  if (!isPlainObject(config)) fail('config', Array.isArray(config) ? 'an array' : String(config));
  if (!isPlainObject(defaults)) {
    throw new Error(`defaults must be a plain object, got ${Array.isArray(defaults) ? 'an array' : String(defaults)}.`);
  }
  canon(defaults, undefined, 'defaults'); // validates the defaults themselves
  return canon(config, defaults, 'config') ?? '{}';
}

/** SHA-256 (hex) of a canonical string, truncated to KEY_HEX_LENGTH characters. */
export function hashCanonical(canonical: string): string {
  return createHash('sha256').update(canonical, 'utf8').digest('hex').slice(0, KEY_HEX_LENGTH);
}

/** The cache key of a config: first 16 hex chars of sha256(canonicalize(config, defaults)). */
export function configKey(config: PlainObject, defaults: PlainObject = {}): string {
  return hashCanonical(canonicalize(config, defaults));
}

/**
 * `defaults` deep-merged with `config` (plain objects merge recursively; arrays and other values
 * from `config` replace the default; undefined fields take the default). Returns fresh objects.
 */
export function withDefaults<T extends PlainObject>(config: PlainObject, defaults: T): T {
  const merge = (c: unknown, d: unknown): unknown => {
    if (c === undefined) return d === undefined ? undefined : structuredClone(d);
    if (isPlainObject(c) && isPlainObject(d)) {
      const out: PlainObject = {};
      for (const k of new Set([...Object.keys(d), ...Object.keys(c)])) {
        const v = merge(c[k], d[k]);
        if (v !== undefined) out[k] = v;
      }
      return out;
    }
    if (isPlainObject(c)) return merge(c, {});
    return structuredClone(c);
  };
  return merge(config, defaults) as T;
}

/** `over` laid on `base`: over's values win, objects merge key by key, arrays are replaced whole. */
export function mergeConfigs<T extends PlainObject>(base: T, over: PlainObject): T {
  return withDefaults(over, base);
}

/** Top-level keys of `config` that `defaults` does not declare (typos, or options the task ignores). */
export function unknownKeys(config: PlainObject, defaults: PlainObject): string[] {
  return Object.keys(config).filter((k) => !(k in defaults));
}
