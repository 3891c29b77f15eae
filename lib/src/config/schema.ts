/**
 * Strict config schemas (zod, https://zod.dev): one schema per config type is the source of its
 * defaults (`defaultsOf`), its documentation (`.describe`) and its validation. Every object is
 * strict, so an unknown key at any depth is an error that names the path, the value and the
 * accepted keys; wrong types and out-of-range values name the path, the value and the accepted range.
 */
import { z } from 'zod';

export { z };

/** A strict object whose unknown-key error lists the accepted keys. */
export function strictObject<S extends z.ZodRawShape>(shape: S) {
  const accepted = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys'
      ? `unknown key${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map((k) => `'${k}'`).join(', ')}; accepted keys: ${accepted}` : undefined),
  });
}

/** A strict object nested in a config: omitted -> every field at its default. */
export function nested<S extends z.ZodRawShape>(shape: S) {
  return strictObject(shape).prefault({} as never);
}

/** An integer (any sign: seeds may be negative, the RNG hashes them). */
export const int = () => z.int();
export const nonNegInt = () => z.int().min(0);
export const posInt = () => z.int().min(1);
/** A fraction in [0, 1) (sparsity). */
export const fraction = () => z.number().min(0).lt(1);

/** Thrown for a config that does not match its schema; `problems` holds one line per issue. */
export class ConfigError extends Error {
  constructor(readonly what: string, readonly problems: string[]) {
    super(`Invalid ${what}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'missing';
  try { const s = JSON.stringify(v); return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s; } catch { return String(v); }
}

function pathOf(root: string, path: PropertyKey[]): string {
  return path.reduce<string>((p, k) => (typeof k === 'number' ? `${p}[${k}]` : `${p}.${String(k)}`), root);
}

type Issue = z.core.$ZodIssue & { input?: unknown };

/** One line per leaf issue; for a union, the branch that got furthest into the value. */
function describe(issues: readonly Issue[], root: string, base: PropertyKey[] = []): string[] {
  const out: string[] = [];
  for (const iss of issues) {
    const path = [...base, ...iss.path];
    if (iss.code === 'invalid_union' && iss.errors.length) {
      // the branch whose issues go deepest (an object with a typo beats "expected string")
      const best = [...iss.errors].sort((a, b) => depth(b) - depth(a) || a.length - b.length)[0];
      out.push(...describe(best as Issue[], root, path));
      continue;
    }
    out.push(`${pathOf(root, path)}: ${iss.message} (got ${show(iss.input)})`);
  }
  return out;
}
const depth = (issues: readonly z.core.$ZodIssue[]) => Math.max(...issues.map((i) => i.path.length + (i.code === 'invalid_type' ? 0 : 0.5)));

/** Validate `value` against `schema`; returns the parsed value (defaults filled) or throws a ConfigError. */
export function parseConfig<T extends z.ZodType>(schema: T, value: unknown, what: string, root = what): z.output<T> {
  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return r.data;
  throw new ConfigError(what, describe(r.error.issues as Issue[], root));
}

/** The defaults a schema fills into an empty config. */
export function defaultsOf<T extends z.ZodType>(schema: T): z.output<T> {
  return schema.parse({});
}
