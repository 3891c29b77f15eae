/**
 * Result store: one JSON file per key, `<dir>/<key>.json`.
 *
 * Writes are atomic (temp file in the same directory, fsync, then hard-link into place, which
 * fails instead of replacing an existing file), so a reader or a killed process never leaves a
 * partial `<key>.json`. A file that does not parse or lacks a record's fields is reported as
 * corrupt, treated as missing, and moved aside to `<key>.json.corrupt-<time>` (kept for
 * inspection) when a new result is written for that key. A valid file is never overwritten.
 */
import * as fs from 'fs';
import * as path from 'path';
import { isPlainObject, PlainObject } from './canonical';
import type { DataIdentity } from '../data/identity';

export const RESULTS_ENV = 'PRUNE_AT_INIT_RESULTS';
export const RECORD_FORMAT = 1;

export interface RunMeta {
  /** backendInfo() of the process that ran the task, or null if TF.js was not initialised there. */
  backend: unknown;
  versions: { node: string; lib: string; tfjs?: string; git?: string };
  startedAt: string;
  finishedAt: string;
  seconds: number;
  host: string;
  pid: number;
}

export interface RunRecord<R = unknown> {
  format: number;
  key: string;
  task: string;
  /** canonicalize(config, task.defaults) at the time of the run. */
  canonical: string;
  /** The full config the task saw (defaults merged in). */
  config: PlainObject;
  /** Identity of the data the task read (data/identity.ts), for tasks that declare dataFields. */
  data?: DataIdentity[];
  result: R;
  meta: RunMeta;
}

export interface StoreProblem { key: string; file: string; reason: string }

export interface StoreOptions {
  /** Directory of the JSON files (created on demand). Default: resultsRoot(). */
  dir?: string;
  /** Called once per corrupt file found; default prints a warning on stderr. */
  onProblem?: (p: StoreProblem) => void;
}

/**
 * Root directory for results: $PRUNE_AT_INIT_RESULTS if set (relative to the working directory),
 * else `data/results` in the project root, the nearest ancestor of the working directory whose
 * package.json declares npm `workspaces` (so notebooks in notebooks/ share it); else the cwd.
 */
export function resultsRoot(): string {
  const env = process.env[RESULTS_ENV];
  if (env) return path.resolve(env);
  let dir = process.cwd();
  for (;;) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      if (pkg && pkg.workspaces) return path.join(dir, 'data', 'results');
    } catch { /* no package.json here */ }
    const up = path.dirname(dir);
    if (up === dir) return path.join(process.cwd(), 'data', 'results');
    dir = up;
  }
}

/** JSON cannot hold NaN/±Infinity; a diverged run's NaN loss must survive, so tag them. */
function replacer(_k: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? { $nonfinite: String(v) } : v;
}
function reviver(_k: string, v: unknown): unknown {
  if (isPlainObject(v) && typeof v.$nonfinite === 'string' && Object.keys(v).length === 1) return Number(v.$nonfinite);
  return v;
}
export function encodeRecord(rec: unknown): string { return JSON.stringify(rec, replacer, 1) + '\n'; }
export function decodeRecord(text: string): unknown { return JSON.parse(text, reviver); }

const KEY_RE = /^[A-Za-z0-9_-]{1,128}$/;
const TMP_RE = /^\.(.+)\.(\d+)\.[0-9a-f]+\.tmp$/;

/** Why `rec` is not a complete record for `key`, or null if it is one. */
export function recordProblem(rec: unknown, key: string): string | null {
  if (!isPlainObject(rec)) return 'not a JSON object';
  if (rec.format !== RECORD_FORMAT) return `format is ${JSON.stringify(rec.format)}, expected ${RECORD_FORMAT}`;
  if (rec.key !== key) return `key field ${JSON.stringify(rec.key)} does not match the file name`;
  if (typeof rec.task !== 'string') return 'missing task';
  if (typeof rec.canonical !== 'string') return 'missing canonical';
  if (!isPlainObject(rec.config)) return 'missing config';
  if (!('result' in rec)) return 'missing result';
  if (rec.result === null) return 'result is null (no task returns null: the run did not finish)';
  if (rec.data !== undefined && !Array.isArray(rec.data)) return 'data is not an array of data identities';
  const m = rec.meta;
  if (!isPlainObject(m) || typeof m.finishedAt !== 'string' || typeof m.seconds !== 'number') return 'missing meta';
  return null;
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || !KEY_RE.test(key)) {
    throw new Error(`Store key ${JSON.stringify(key)} is invalid: use 1-128 characters from [A-Za-z0-9_-] (e.g. a configKey()).`);
  }
}

function fsyncDir(dir: string): void {
  try { const fd = fs.openSync(dir, 'r'); try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); } } catch { /* not supported */ }
}

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
  try { // a killed process stays a zombie until reaped; it will write nothing more
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch { return true; }
}

/** Free space a store needs before a sweep computes anything. */
export const MIN_FREE_BYTES = 16 * 1024 * 1024;

/** A temp file is written and linked within milliseconds; one this old is abandoned whatever its pid says. */
const STALE_TEMP_MS = 10 * 60 * 1000;

export class ResultStore {
  readonly dir: string;
  /** Corrupt files seen by this store object (each reported once). */
  readonly problems: StoreProblem[] = [];
  private readonly onProblem: (p: StoreProblem) => void;
  private readonly reported = new Set<string>();

  constructor(opts: StoreOptions = {}) {
    this.dir = path.resolve(opts.dir ?? resultsRoot());
    this.onProblem = opts.onProblem ??
      ((p) => process.stderr.write(`prune-at-init store: ignoring corrupt result ${p.file} (${p.reason}); it will be recomputed.\n`));
  }

  file(key: string): string { checkKey(key); return path.join(this.dir, `${key}.json`); }

  private report(key: string, file: string, reason: string): void {
    if (this.reported.has(file)) return;
    this.reported.add(file);
    const p = { key, file, reason };
    this.problems.push(p);
    this.onProblem(p);
  }

  /** The record for `key`; undefined if absent or corrupt (corrupt files are reported). */
  get<R = unknown>(key: string): RunRecord<R> | undefined {
    const file = this.file(key);
    let text: string;
    try { text = fs.readFileSync(file, 'utf8'); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    let rec: unknown;
    try { rec = decodeRecord(text); } catch (e) {
      this.report(key, file, `invalid JSON: ${(e as Error).message}`);
      return undefined;
    }
    const why = recordProblem(rec, key);
    if (why) { this.report(key, file, why); return undefined; }
    return rec as RunRecord<R>;
  }

  has(key: string): boolean { return this.get(key) !== undefined; }

  /**
   * Store `record` under `key` atomically. If a valid record already exists it is kept and
   * returned (never overwritten: identical configs give identical results); a corrupt file in
   * the way is moved aside to `<key>.json.corrupt-<time>`. Returns the record now stored.
   */
  put<R>(key: string, record: RunRecord<R>): RunRecord<R> {
    const file = this.file(key);
    const why = recordProblem(decodeRecord(encodeRecord(record)), key);
    if (why) throw new Error(`Refusing to store an incomplete record for ${key}: ${why}.`);
    fs.mkdirSync(this.dir, { recursive: true });
    const tmp = path.join(this.dir, `.${key}.${process.pid}.${Math.floor(Math.random() * 2 ** 48).toString(16)}.tmp`);
    const fd = fs.openSync(tmp, 'wx');
    try {
      fs.writeFileSync(fd, encodeRecord(record));
      fs.fsyncSync(fd);
    } finally { fs.closeSync(fd); }
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          fs.linkSync(tmp, file); // atomic, and fails with EEXIST rather than replacing
          break;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'EEXIST') {
            const existing = this.get<R>(key);
            if (existing) return existing;
            if (attempt > 2) throw e;
            const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`;
            try { fs.renameSync(file, aside); } catch (e2) { if ((e2 as NodeJS.ErrnoException).code !== 'ENOENT') throw e2; }
            continue;
          }
          if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV' || code === 'ENOSYS') {
            // File system without hard links: rename is still atomic, only the no-replace check is racy.
            if (this.get(key)) return this.get<R>(key)!;
            fs.renameSync(tmp, file);
            break;
          }
          throw e;
        }
      }
      fsyncDir(this.dir);
    } finally {
      try { fs.unlinkSync(tmp); } catch { /* already renamed */ }
    }
    return record;
  }

  /**
   * Fail early, with the fix, if results cannot be written here: creates the folder, writes, fsyncs
   * and removes a probe file, and requires MIN_FREE_BYTES free (a record is a few kB to a few MB).
   */
  probeWritable(): void {
    const fix = `Make ${this.dir} writable, free some space, or point ${RESULTS_ENV} (or the store option) at another folder.`;
    const probe = path.join(this.dir, `.probe.${process.pid}.${Math.floor(Math.random() * 2 ** 48).toString(16)}.tmp`);
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      const fd = fs.openSync(probe, 'wx');
      try { fs.writeSync(fd, Buffer.alloc(4096)); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
    } catch (e) {
      throw new Error(`Results folder ${this.dir} is not writable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); nothing was computed. ${fix}`);
    } finally {
      try { fs.unlinkSync(probe); } catch { /* not created */ }
    }
    const st = fs.statfsSync(this.dir);
    const free = st.bavail * st.bsize;
    if (free < MIN_FREE_BYTES) {
      throw new Error(`Results folder ${this.dir} has only ${free} bytes free (need ${MIN_FREE_BYTES}); nothing was computed. ${fix}`);
    }
  }

  /** Keys of all `<key>.json` files (valid or not). */
  keys(): string[] {
    let names: string[];
    try { names = fs.readdirSync(this.dir); } catch { return []; }
    return names.filter((n) => n.endsWith('.json') && KEY_RE.test(n.slice(0, -5))).map((n) => n.slice(0, -5)).sort();
  }

  /** All valid records (corrupt files are reported and skipped), optionally of one task. */
  all<R = unknown>(task?: string): RunRecord<R>[] {
    return this.keys().map((k) => this.get<R>(k)).filter((r): r is RunRecord<R> => !!r && (!task || r.task === task));
  }

  /** Delete temp files left by processes that no longer exist (e.g. killed mid-write), or older than 10 min. */
  removeStaleTemps(): number {
    let names: string[];
    try { names = fs.readdirSync(this.dir); } catch { return 0; }
    let n = 0;
    for (const name of names) {
      const m = TMP_RE.exec(name);
      if (!m) continue;
      const pid = Number(m[2]);
      const file = path.join(this.dir, name);
      let old = false;
      try { old = Date.now() - fs.statSync(file).mtimeMs > STALE_TEMP_MS; } catch { continue; }
      if (!old && (pid === process.pid || pidAlive(pid))) continue;
      try { fs.unlinkSync(file); n++; } catch { /* raced */ }
    }
    return n;
  }
}

/** The store in `opts.dir`; a task's store first adopts the records of the task's legacy name (engine/migrate.ts). */
export function openStore(opts: StoreOptions | string = {}): ResultStore {
  const o = typeof opts === 'string' ? { dir: opts } : opts;
  const store = new ResultStore(o);
  try {
    (require('./migrate') as typeof import('./migrate')).adoptLegacyStore(store, o.onProblem);
  } catch (e) {
    // a reader of a read-only results folder still gets today's records; the legacy ones wait for a writable one
    process.stderr.write(`prune-at-init store: could not migrate the legacy records beside ${store.dir}: ${(e as Error).message}\n`);
  }
  return store;
}

