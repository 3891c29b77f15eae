/**
 * Sweep manifests: the configs a set of notebooks still needs at a budget (keyed by config hash,
 * minus those already stored), packed into tasks of about a target length, with the cost estimate.
 * One manifest is one Slurm job array: task i is array index i. The file is plain JSON, so a user
 * can read it, and a task can be edited or added by hand (each config is re-hashed when it runs).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeConfig, getTask, openStore } from '../engine';
import { writeFileAtomic } from '../fsutil';
import { calibrate, Calibration, DEFAULT_OVERHEAD, estimateSeconds, StepTimes } from './cost';
import { DeferredStage, notebooksConfigs, PlannedConfig, storeLookup } from './notebooks';

export const MANIFEST_FORMAT = 'prune-at-init-sweep-manifest';

export interface ManifestConfig extends PlannedConfig {
  /** Other notebooks that need the same config (computed once). */
  alsoIn?: string[];
  estSeconds: number;
}

export interface ManifestTask { index: number; estSeconds: number; configs: ManifestConfig[] }

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  version: 1;
  createdAt: string;
  notebooks: string[];
  budget: string;
  seeds: Record<string, number[]>;
  /** Results root (one store directory per engine task below it); must be on a shared filesystem. */
  store: string;
  /** Configs the notebooks need (distinct keys), of which `alreadyStored` were in the store. */
  totalConfigs: number;
  alreadyStored: number;
  /** Target core-seconds of one task (its wall time at one CPU). */
  taskSeconds: number;
  cpusPerTask: number;
  calibration: Record<string, Calibration>;
  /** Stages planned in a later wave; `standIn` configs carry their estimated cost. */
  deferred: Array<Omit<DeferredStage, 'standIn'> & { standIn?: ManifestConfig[] }>;
  tasks: ManifestTask[];
}

export interface PlanOptions {
  notebooks: string;
  budget: string;
  seeds?: number[];
  /** Results root (default resultsRoot()). */
  store: string;
  /** Target task length in core-seconds. */
  taskSeconds: number;
  cpusPerTask?: number;
  /** Keep only configs whose part contains one of these strings. */
  parts?: string[];
  /** At most this many configs per task. */
  configsPerTask?: number;
}

/**
 * First-fit decreasing: configs longest first, each into the first task with room (a config longer
 * than the target gets its own task), at most `maxConfigs` per task.
 */
export function packTasks(configs: ManifestConfig[], capacity: number, maxConfigs = Infinity): ManifestTask[] {
  const sorted = [...configs].sort((a, b) => b.estSeconds - a.estSeconds || a.key.localeCompare(b.key));
  const bins: Array<{ sum: number; configs: ManifestConfig[] }> = [];
  for (const c of sorted) {
    const bin = bins.find((b) => b.sum + c.estSeconds <= capacity && b.configs.length < maxConfigs);
    if (bin) { bin.configs.push(c); bin.sum += c.estSeconds; } else bins.push({ sum: c.estSeconds, configs: [c] });
  }
  return bins.map((b, index) => ({ index, estSeconds: b.sum, configs: b.configs }));
}

export async function planSweep(o: PlanOptions): Promise<Manifest> {
  if (!(o.taskSeconds > 0)) throw new Error(`Task length must be > 0 seconds, got ${o.taskSeconds}.`);
  const cpus = o.cpusPerTask ?? 1;
  if (!Number.isInteger(cpus) || cpus < 1) throw new Error(`--cpus-per-task must be an integer >= 1, got ${cpus}.`);
  const planned = notebooksConfigs(o.notebooks, o.budget, o.seeds, storeLookup(o.store));
  let configs = planned.configs;
  if (o.parts?.length) {
    configs = configs.filter((c) => o.parts!.some((p) => c.part.includes(p) || c.stage.includes(p)));
    if (configs.length === 0) throw new Error(`No config's part or stage matches --parts ${o.parts.join(',')}: parts are ${[...new Set(planned.configs.map((c) => c.part))].join('; ')}.`);
  }
  const distinct = new Map<string, ManifestConfig>();
  for (const c of configs) {
    const id = `${c.task}/${c.key}`;
    const have = distinct.get(id);
    if (have) { if (have.notebook !== c.notebook && !have.alsoIn?.includes(c.notebook)) (have.alsoIn ??= []).push(c.notebook); } else distinct.set(id, { ...c, estSeconds: 0 });
  }
  const tasks = [...new Set([...distinct.values()].map((c) => c.task))];
  const times = new StepTimes(o.store);
  const cal = await calibrate(o.store, tasks, times);
  const stores = new Map(tasks.map((t) => [t, openStore({ dir: path.join(o.store, t), onProblem: () => undefined })]));
  const todo: ManifestConfig[] = [];
  let stored = 0;
  for (const c of distinct.values()) {
    if (stores.get(c.task)!.has(c.key)) { stored++; continue; }
    c.estSeconds = estimateSeconds(cal[c.task], times, c.task, c.config);
    todo.push(c);
  }
  const deferred = planned.deferred.map((d) => ({
    ...d, standIn: d.standIn?.map((c) => ({ ...c, estSeconds: estimateSeconds(cal[c.task] ?? { overhead: DEFAULT_OVERHEAD[c.task] ?? 1, records: 0, source: 'default' }, times, c.task, c.config) })),
  }));
  times.save();
  return {
    format: MANIFEST_FORMAT, version: 1, createdAt: new Date().toISOString(),
    notebooks: Object.keys(planned.seeds), budget: o.budget, seeds: planned.seeds, store: path.resolve(o.store),
    totalConfigs: distinct.size, alreadyStored: stored, taskSeconds: o.taskSeconds, cpusPerTask: cpus,
    calibration: cal, deferred, tasks: packTasks(todo, o.taskSeconds * cpus, o.configsPerTask),
  };
}

export function writeManifest(file: string, m: Manifest): void {
  writeFileAtomic(file, JSON.stringify(m, null, 1) + '\n');
}

export function readManifest(file: string): Manifest {
  let m: Manifest;
  try { m = JSON.parse(fs.readFileSync(file, 'utf8')); } catch (e) {
    throw new Error(`Cannot read manifest ${file}: ${(e as Error).message}. Write one with \`prune-at-init sweep plan --out ${file}\`.`);
  }
  if (m?.format !== MANIFEST_FORMAT || !Array.isArray(m.tasks)) throw new Error(`${file} is not a sweep manifest (format '${String(m?.format)}'); write one with \`sweep plan\`.`);
  m.tasks.forEach((t, i) => { if (t.index !== i) throw new Error(`${file}: task ${i} has index ${t.index}; tasks must be numbered 0, 1, 2, ... in order.`); });
  return m;
}

/** Check a manifest config still hashes to its key (a changed default would otherwise store it under a stale key). */
export function checkConfigKey(c: PlannedConfig): void {
  const { key } = describeConfig(getTask(c.task), c.config);
  if (key !== c.key) {
    throw new Error(`Manifest config ${c.key} (${c.task}) now hashes to ${key}: the library's defaults changed since the plan. Re-plan with \`sweep plan\`.`);
  }
}

/** Wall time of tasks (each ~ its core-seconds / cpus, at least its longest config) on `slots` parallel task slots, longest first. */
export function wallSeconds(tasks: readonly ManifestTask[], cpusPerTask: number, slots: number): number {
  const lengths = tasks.map((t) => Math.max(t.estSeconds / cpusPerTask, ...t.configs.map((c) => c.estSeconds))).sort((a, b) => b - a);
  const load = new Array(Math.max(1, slots)).fill(0);
  for (const l of lengths) { let i = 0; for (let j = 1; j < load.length; j++) if (load[j] < load[i]) i = j; load[i] += l; }
  return Math.max(0, ...load);
}

export interface PlanSummary {
  configs: number; alreadyStored: number; toCompute: number; tasks: number;
  coreHours: number;
  /** coreHours: this wave; laterWaves: the deferred stages that stand-in configs estimate. */
  perNotebook: Record<string, { configs: number; coreHours: number; laterWaves?: { configs: number; coreHours: number } }>;
  wallHours: { nodes: number; coresPerNode: number; tasksPerNode: number; hours: number };
  calibration: Record<string, string>;
  deferred: string[];
}

export function summarize(m: Manifest, o: { nodes?: number; coresPerNode?: number } = {}): PlanSummary {
  const all = m.tasks.flatMap((t) => t.configs);
  const perNotebook: PlanSummary['perNotebook'] = {};
  for (const nb of m.notebooks) perNotebook[nb] = { configs: 0, coreHours: 0 };
  for (const c of all) {
    for (const nb of [c.notebook, ...(c.alsoIn ?? [])]) {
      perNotebook[nb].configs++;
      perNotebook[nb].coreHours += c.estSeconds / 3600;
    }
  }
  for (const d of m.deferred) {
    if (!d.standIn?.length) continue;
    const lw = (perNotebook[d.notebook].laterWaves ??= { configs: 0, coreHours: 0 });
    lw.configs += d.standIn.length;
    lw.coreHours += d.standIn.reduce((a, c) => a + c.estSeconds, 0) / 3600;
  }
  const nodes = o.nodes ?? 1, coresPerNode = o.coresPerNode ?? os.availableParallelism();
  const tasksPerNode = Math.max(1, Math.floor(coresPerNode / m.cpusPerTask));
  const round = (x: number) => Number(x.toPrecision(3));
  for (const v of Object.values(perNotebook)) { v.coreHours = round(v.coreHours); if (v.laterWaves) v.laterWaves.coreHours = round(v.laterWaves.coreHours); }
  return {
    configs: m.totalConfigs, alreadyStored: m.alreadyStored, toCompute: all.length, tasks: m.tasks.length,
    coreHours: round(all.reduce((a, c) => a + c.estSeconds, 0) / 3600),
    perNotebook,
    wallHours: { nodes, coresPerNode, tasksPerNode, hours: round(wallSeconds(m.tasks, m.cpusPerTask, nodes * tasksPerNode) / 3600) },
    calibration: Object.fromEntries(Object.entries(m.calibration).map(([t, c]) => [t, c.source === 'store'
      ? `steps x measured step time + ${c.overhead.toFixed(1)} s overhead (median over ${c.records} stored runs)`
      : `steps x measured step time + ${c.overhead.toFixed(1)} s overhead (default: ${c.records} stored runs, < 3)`])),
    deferred: m.deferred.map((d) => `${d.notebook} / ${d.stage}: ${d.reason}`),
  };
}
