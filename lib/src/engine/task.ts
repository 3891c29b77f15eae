/**
 * Tasks: what a sweep runs. A task names a module and an export that a worker process can load,
 * so the engine itself knows nothing about experiments:
 *   export async function myTask(config, ctx) { ...; return { accuracy } }   // JSON-able result
 *   registerTask({ name: 'my-task', module: require.resolve('./my-task'), export: 'myTask', defaults })
 * `module` is an absolute path (resolve it with require.resolve from the registering file so
 * that it points at .ts under tsx and at .js in lib/dist) or a package specifier such as
 * 'prune-at-init/dist/experiment'. Paths starting with ./ or ../ are resolved against the cwd.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { canonicalize, hashCanonical, isPlainObject, PlainObject, unknownKeys, withDefaults } from './canonical';
import { RECORD_FORMAT, RunMeta, RunRecord } from './store';
import type { z } from 'zod';
import type { DataIdentity } from '../data/identity';

// Loaded on first use, so the engine loads on its own (fast worker start-up; tasks without a schema or data).
const parseConfig: typeof import('../config/schema').parseConfig = (...a) => (require('../config/schema') as typeof import('../config/schema')).parseConfig(...a);
const datasetIdentity = (name: string): DataIdentity => (require('../data/identity') as typeof import('../data/identity')).datasetIdentity(name);

export interface TaskSpec<C extends PlainObject = PlainObject> {
  /** Registry name; also the results subdirectory (`data/results/<name>/`). */
  name: string;
  /** Module a worker can `require` (absolute path or package specifier). */
  module: string;
  /** Name of the exported function `(config, ctx) => result | Promise<result>`. */
  export: string;
  /** Every option with a default that has no effect; omitted from the hash when a config matches it. */
  defaults: C;
  /** Reject configs with top-level keys missing from `defaults` (catches typos). Default true. */
  strict?: boolean;
  /**
   * Strict schema of the config (config/schema.ts): checked before anything runs (unknown keys at
   * any depth, types, ranges). Its defaults should be `defaults` (defaultsOf(schema)). Not sent to
   * worker processes: the parent validates.
   */
  schema?: z.ZodType;
  /**
   * Dotted paths of the full config that name a dataset (e.g. 'data.name'): the identity of that
   * data (data/identity.ts) is stored in the record and joins the cache key.
   */
  dataFields?: string[];
  /**
   * The task's earlier name and a map from that name's stored configs to today's: opening this task's
   * store adopts the legacy store beside it, re-keyed (engine/migrate.ts).
   */
  legacy?: { name: string; migrate: (config: PlainObject) => PlainObject };
}

export interface TaskContext { key: string; task: string; canonical: string; data: DataIdentity[] }
export type TaskFn<C = PlainObject, R = unknown> = (config: C, ctx: TaskContext) => R | Promise<R>;

/** A task module that cannot be loaded: the whole sweep stops, rather than failing every config. */
export class TaskLoadError extends Error {
  constructor(message: string) { super(message); this.name = 'TaskLoadError'; }
}

const registry = new Map<string, TaskSpec>();
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function normaliseTask<C extends PlainObject>(spec: TaskSpec<C>): TaskSpec<C> {
  if (!spec || typeof spec !== 'object') throw new Error(`A task must be an object { name, module, export, defaults }, got ${String(spec)}.`);
  if (typeof spec.name !== 'string' || !NAME_RE.test(spec.name)) {
    throw new Error(`Task name ${JSON.stringify(spec.name)} is invalid: use letters, digits, '_', '.', '-' (it names a results folder).`);
  }
  if (typeof spec.module !== 'string' || !spec.module) throw new Error(`Task '${spec.name}' needs a module path (e.g. require.resolve('./my-task')).`);
  if (typeof spec.export !== 'string' || !spec.export) throw new Error(`Task '${spec.name}' needs the name of the exported function in 'export'.`);
  if (!isPlainObject(spec.defaults)) throw new Error(`Task '${spec.name}' needs defaults as a plain object (use {} for none).`);
  canonicalize({}, spec.defaults); // throws on non-JSON defaults
  if (spec.schema) parseConfig(spec.schema, spec.defaults, `defaults of task '${spec.name}'`, 'defaults');
  if (spec.dataFields !== undefined && (!Array.isArray(spec.dataFields) || spec.dataFields.some((f) => typeof f !== 'string' || !f))) {
    throw new Error(`Task '${spec.name}': dataFields must be an array of dotted config paths (e.g. ['data.name']).`);
  }
  if (spec.legacy !== undefined && (!spec.legacy || typeof spec.legacy.name !== 'string' || !NAME_RE.test(spec.legacy.name) ||
    spec.legacy.name === spec.name || typeof spec.legacy.migrate !== 'function')) {
    throw new Error(`Task '${spec.name}': legacy must be { name, migrate } with another valid task name and a function.`);
  }
  const module = /^\.\.?[\\/]/.test(spec.module) ? path.resolve(spec.module) : spec.module;
  return Object.freeze({ ...spec, module, defaults: structuredClone(spec.defaults) });
}

/** Register (or replace) a task by name; returns the normalised, frozen spec. */
export function registerTask<C extends PlainObject>(spec: TaskSpec<C>): TaskSpec<C> {
  const t = normaliseTask(spec);
  registry.set(t.name, t as unknown as TaskSpec);
  return t;
}

export function getTask(name: string): TaskSpec {
  const t = registry.get(name);
  if (!t) {
    const known = [...registry.keys()];
    throw new Error(`Unknown task '${name}': ${known.length ? `registered tasks are ${known.join(', ')}` : 'no task is registered'}. ` +
      'Call registerTask({ name, module, export, defaults }) first.');
  }
  return t;
}

/** Every registered task. */
export function registeredTasks(): TaskSpec[] { return [...registry.values()]; }

export function resolveTask(task: TaskSpec | string): TaskSpec {
  return typeof task === 'string' ? getTask(task) : normaliseTask(task);
}

function dataIdentities(task: TaskSpec, full: PlainObject): DataIdentity[] {
  return (task.dataFields ?? []).map((field) => {
    const name = field.split('.').reduce<unknown>((o, k) => (isPlainObject(o) ? o[k] : undefined), full);
    if (typeof name !== 'string') throw new Error(`Task '${task.name}': config field ${field} should name a dataset, got ${JSON.stringify(name)}.`);
    return datasetIdentity(name);
  });
}

/** The schema's output; a config in the task's legacy shape fails with today's spelling of it. */
function parseWithLegacyHint(task: TaskSpec, config: PlainObject): PlainObject {
  try {
    return parseConfig(task.schema!, config, `config of task '${task.name}'`, 'config') as PlainObject;
  } catch (e) {
    if (!task.legacy) throw e;
    let today: string;
    try {
      const m = task.legacy.migrate(config);
      parseConfig(task.schema!, m, 'migrated', 'config');
      today = canonicalize(m);
    } catch { throw e; }
    (e as Error).message += `\nThis is the flat shape of task '${task.legacy.name}'. Today the same run reads ${today}.`;
    throw e;
  }
}

/**
 * Key, canonical form, full config and data identity of `config` for `task`. Throws, before any
 * compute, on a config that fails the task's schema (or, without one, has unknown top-level keys),
 * and on data that cannot be found. The key hashes the canonical config and the data's content hash.
 */
export function describeConfig(task: TaskSpec, config: PlainObject): { key: string; canonical: string; full: PlainObject; data: DataIdentity[] } {
  if (!isPlainObject(config)) throw new Error(`A config for task '${task.name}' must be a plain object, got ${Array.isArray(config) ? 'an array' : String(config)}.`);
  // with a schema, the full config is its output: defaults filled field by field, and a union
  // member (e.g. schedule {type: 'constant'}) replaces the default whole instead of merging into it
  const parsed = task.schema ? parseWithLegacyHint(task, config) : undefined;
  if (!parsed && task.strict !== false) {
    const extra = unknownKeys(config, task.defaults);
    if (extra.length) {
      throw new Error(`Config option(s) ${extra.map((k) => `'${k}'`).join(', ')} unknown to task '${task.name}' ` +
        `(options: ${Object.keys(task.defaults).join(', ') || 'none'}). Fix the name, or add it to the task's defaults with a no-effect value.`);
    }
  }
  const canonical = canonicalize(config, task.defaults);
  const full = parsed ?? withDefaults(config, task.defaults);
  const data = dataIdentities(task, full);
  return { key: recordKey(canonical, data), canonical, full, data };
}

/** The cache key of a canonical config and the identity of the data it reads (records store both, so a key can be re-derived). */
export function recordKey(canonical: string, data: readonly Pick<DataIdentity, 'hash'>[] | undefined): string {
  return hashCanonical(data && data.length ? `${canonical}\ndata:${data.map((d) => d.hash).join(',')}` : canonical);
}

const fnCache = new Map<string, TaskFn>();

export function loadTaskFn(task: TaskSpec): TaskFn {
  const id = `${task.module}#${task.export}`;
  const hit = fnCache.get(id);
  if (hit) return hit;
  let mod: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    mod = require(task.module);
  } catch (e) {
    throw new TaskLoadError(`Cannot load module '${task.module}' of task '${task.name}': ${(e as Error).message}`);
  }
  const fn = mod?.[task.export];
  if (typeof fn !== 'function') {
    throw new TaskLoadError(`Module '${task.module}' of task '${task.name}' has no exported function '${task.export}' ` +
      `(exports: ${Object.keys(mod ?? {}).join(', ') || 'none'}).`);
  }
  fnCache.set(id, fn as TaskFn);
  return fn as TaskFn;
}

/** The git directory of a checkout at `dir`: `.git` itself, or where a worktree's `.git` file points. */
function gitDirAt(dir: string): string | undefined {
  const dotGit = path.join(dir, '.git');
  try {
    if (fs.statSync(dotGit).isDirectory()) return dotGit;
    const m = /^gitdir:\s*(.+)$/m.exec(fs.readFileSync(dotGit, 'utf8'));
    return m ? path.resolve(dir, m[1].trim()) : undefined;
  } catch { return undefined; }
}

function readGitHead(): string | undefined {
  // Provenance only: the commit the tree is on (uncommitted edits are not captured).
  for (let dir = path.resolve(__dirname); ; dir = path.dirname(dir)) {
    const git = gitDirAt(dir);
    if (git) {
      try {
        const head = fs.readFileSync(path.join(git, 'HEAD'), 'utf8').trim();
        if (!head.startsWith('ref: ')) return head;
        const ref = head.slice(5);
        // a worktree keeps its HEAD here and the branches in the main repository's git directory
        let common = git;
        try { common = path.resolve(git, fs.readFileSync(path.join(git, 'commondir'), 'utf8').trim()); } catch { /* not a worktree */ }
        for (const d of new Set([git, common])) {
          try { return fs.readFileSync(path.join(d, ref), 'utf8').trim(); } catch { /* packed or elsewhere */ }
        }
        const packed = fs.readFileSync(path.join(common, 'packed-refs'), 'utf8');
        return packed.split('\n').find((l) => l.endsWith(` ${ref}`))?.split(' ')[0];
      } catch { return undefined; }
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

let staticVersions: RunMeta['versions'] | undefined;
function versions(): RunMeta['versions'] {
  if (!staticVersions) {
    let lib = 'unknown';
    try { lib = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version; } catch { /* not in the package layout */ }
    staticVersions = { node: process.version, lib };
    const git = readGitHead();
    if (git) staticVersions.git = git;
  }
  const v = { ...staticVersions };
  const info = backendIfLoaded() as { tfjsVersion?: string } | null;
  if (info?.tfjsVersion) v.tfjs = info.tfjsVersion;
  return v;
}

/** backendInfo() if the task loaded our backend module and initialised it; never loads TF.js itself. */
function backendIfLoaded(): unknown {
  try {
    const id = require.resolve('../backend');
    const mod = require.cache[id]?.exports as { backendInfo?: () => unknown } | undefined;
    return mod?.backendInfo ? mod.backendInfo() : null;
  } catch { return null; }
}

const taskEnvironments: Array<() => () => void> = [];

/**
 * Register a setting every task runs under: `enter` applies it and returns the function that
 * restores the previous state. Lets the kernels pin their thread count for cached results without
 * the engine importing them (the engine runs standalone, e.g. in a bare sweep worker).
 */
export function addTaskEnvironment(enter: () => () => void): void {
  if (!taskEnvironments.includes(enter)) taskEnvironments.push(enter);
}

let tasksRunning = 0;

/**
 * True while a task runs in this process (runTask, in-process or in a sweep worker): lets in-process
 * policies that must not touch cached results (the native kernels' idle-core thread count) stand aside.
 */
export function insideTask(): boolean {
  return tasksRunning > 0;
}

/** Run one config of `task` in this process and return its record (nothing is stored). */
export async function runTask<R = unknown>(task: TaskSpec | string, config: PlainObject): Promise<RunRecord<R>> {
  let t = resolveTask(task);
  const fn = loadTaskFn(t);
  // A worker gets the spec without its schema (functions cannot cross IPC); loading the module
  // registered the full spec, so take the schema from there: the config then reads the same.
  const reg = registry.get(t.name);
  if (!t.schema && reg?.schema && reg.module === t.module && reg.export === t.export) t = { ...t, schema: reg.schema };
  const { key, canonical, full, data } = describeConfig(t, config);
  const startedAt = new Date();
  const t0 = performance.now();
  const restores = taskEnvironments.map((enter) => enter());
  let result: unknown;
  tasksRunning++;
  try {
    result = await fn(structuredClone(full), { key, task: t.name, canonical, data });
  } finally {
    tasksRunning--;
    for (const restore of restores.reverse()) restore();
  }
  const seconds = (performance.now() - t0) / 1000;
  if (result === undefined || result === null) {
    throw new Error(`Task '${t.name}' returned ${result} for ${key}: return a JSON-able result (e.g. an object of metrics).`);
  }
  return {
    format: RECORD_FORMAT,
    key, task: t.name, canonical, config: full, data,
    result: result as R,
    meta: {
      backend: backendIfLoaded(),
      versions: versions(),
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      seconds,
      host: os.hostname(),
      pid: process.pid,
    },
  };
}
