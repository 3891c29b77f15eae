/**
 * Running manifest tasks and reading their state. A task's configs go through runSweep, the engine
 * `npm run reproduce` and the notebooks use (stored configs are skipped, every result is written
 * atomically), so a requeued or resubmitted task never duplicates or corrupts a record. Each task
 * leaves `<manifest>.state/task-<i>.json` (running / done / failed / stopped, with the error of
 * every failed config), which `sweep status` reads together with the store and Slurm.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { getTask, openStore, runSweep, SweepRecord } from '../engine';
import { writeFileAtomic } from '../fsutil';
import { checkConfigKey, Manifest, ManifestConfig, readManifest } from './manifest';

export type TaskStatus = 'running' | 'done' | 'failed' | 'stopped';

export interface TaskState {
  index: number;
  status: TaskStatus;
  host: string;
  pid: number;
  /** Slurm job id of the array task ("<array job>_<index>"), when run under Slurm. */
  slurmJob?: string;
  startedAt: string;
  endedAt?: string;
  computed?: number;
  cached?: number;
  /** Error message of each config that failed in this run, by key. */
  errors: Record<string, string>;
}

export function stateDir(manifestFile: string): string { return `${path.resolve(manifestFile)}.state`; }
function stateFile(manifestFile: string, index: number): string { return path.join(stateDir(manifestFile), `task-${index}.json`); }

export function readTaskState(manifestFile: string, index: number): TaskState | undefined {
  try { return JSON.parse(fs.readFileSync(stateFile(manifestFile, index), 'utf8')); } catch { return undefined; }
}

function writeTaskState(manifestFile: string, s: TaskState): void {
  writeFileAtomic(stateFile(manifestFile, s.index), JSON.stringify(s, null, 1) + '\n');
}

export interface RunOptions {
  /** Worker processes per task (default $SLURM_CPUS_PER_TASK, else one per CPU). */
  workers?: number;
  /** Stop cleanly when aborted (SIGTERM): finished configs are stored, the one in flight is recomputed next time. */
  signal?: AbortSignal;
  /** Results root (default: the manifest's). */
  store?: string;
}

export interface RunOutcome { indices: number[]; computed: number; cached: number; failed: Array<{ key: string; task: string; error: string }>; stopped: boolean }

function defaultWorkers(): number {
  const s = Number(process.env.SLURM_CPUS_PER_TASK);
  return Number.isInteger(s) && s > 0 ? s : os.availableParallelism();
}

/** Run task `index` of the manifest (or every task, for a local run: the same engine, one task after another). */
export async function runManifest(manifestFile: string, index: number | 'all', o: RunOptions = {}): Promise<RunOutcome> {
  const m = readManifest(manifestFile);
  const indices = index === 'all' ? m.tasks.map((t) => t.index) : [index];
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= m.tasks.length) throw new Error(`--index ${i} is out of range: the manifest has tasks 0..${m.tasks.length - 1}.`);
  }
  const root = path.resolve(o.store ?? m.store);
  const out: RunOutcome = { indices, computed: 0, cached: 0, failed: [], stopped: false };
  for (const i of indices) {
    const configs = m.tasks[i].configs;
    configs.forEach(checkConfigKey);
    const state: TaskState = {
      index: i, status: 'running', host: os.hostname(), pid: process.pid, startedAt: new Date().toISOString(), errors: {},
      ...(process.env.SLURM_ARRAY_JOB_ID ? { slurmJob: `${process.env.SLURM_ARRAY_JOB_ID}_${process.env.SLURM_ARRAY_TASK_ID}` } : {}),
    };
    writeTaskState(manifestFile, state);
    const byTask = new Map<string, ManifestConfig[]>();
    for (const c of configs) byTask.set(c.task, [...(byTask.get(c.task) ?? []), c]);
    let computed = 0, cached = 0;
    try {
      for (const [task, cs] of byTask) {
        const recs: SweepRecord[] = await runSweep({
          task: getTask(task), configs: cs.map((c) => c.config), workers: o.workers ?? defaultWorkers(),
          store: path.join(root, task), signal: o.signal,
        });
        // scancel and time limits signal the workers too: a config whose worker died that way is not a failure
        if (o.signal?.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
        for (const r of recs) {
          if (r.status === 'error') { state.errors[r.key] = r.error.message; out.failed.push({ key: r.key, task, error: r.error.message }); } else if (r.status === 'computed') computed++; else cached++;
        }
      }
    } catch (e) {
      if ((e as Error).name !== 'AbortError') {
        Object.assign(state, { status: 'failed', endedAt: new Date().toISOString(), errors: { ...state.errors, task: (e as Error).message } });
        writeTaskState(manifestFile, state);
        throw e;
      }
      Object.assign(state, { status: 'stopped', endedAt: new Date().toISOString(), computed, cached });
      writeTaskState(manifestFile, state);
      out.stopped = true;
      return out;
    }
    Object.assign(state, { status: Object.keys(state.errors).length ? 'failed' : 'done', endedAt: new Date().toISOString(), computed, cached });
    writeTaskState(manifestFile, state);
    out.computed += computed; out.cached += cached;
  }
  return out;
}

export type ConfigStatus = 'done' | 'failed' | 'running' | 'pending';

export interface SweepStatus {
  manifest: string;
  counts: Record<ConfigStatus, number>;
  perNotebook: Record<string, Record<ConfigStatus, number>>;
  perPart: Record<string, Record<ConfigStatus, number>>;
  failed: Array<{ notebook: string; part: string; task: string; key: string; index: number; error: string }>;
  /** Task indices with a config not done and no run in progress (what `sweep resubmit` submits). */
  toResubmit: number[];
  tasks: Array<{ index: number; status: string; slurm?: string }>;
  deferred: string[];
}

const SLURM_LIVE = new Set(['RUNNING', 'CONFIGURING', 'COMPLETING', 'SUSPENDED']);
const SLURM_QUEUED = new Set(['PENDING', 'REQUEUED', 'RESIZING']);

/** Is a task's recorded run still going? Slurm's word if we have it, else its pid on this host. */
function running(st: TaskState | undefined, slurmState: string | undefined): boolean {
  if (slurmState) return SLURM_LIVE.has(slurmState);
  if (!st || st.status !== 'running') return false;
  if (st.host !== os.hostname()) return true; // another node: trust the file
  try { process.kill(st.pid, 0); return true; } catch { return false; }
}

/**
 * Done / failed / running / pending per config, notebook and part. `slurm` maps array index to the
 * Slurm state of its latest submission (from squeue), when known.
 */
export function sweepStatus(manifestFile: string, slurm: Map<number, string> = new Map(), store?: string): SweepStatus {
  const m: Manifest = readManifest(manifestFile);
  const root = path.resolve(store ?? m.store);
  const stores = new Map<string, ReturnType<typeof openStore>>();
  const storeOf = (t: string) => { let s = stores.get(t); if (!s) { s = openStore({ dir: path.join(root, t), onProblem: () => undefined }); stores.set(t, s); } return s; };
  const zero = (): Record<ConfigStatus, number> => ({ done: 0, failed: 0, running: 0, pending: 0 });
  const out: SweepStatus = { manifest: path.resolve(manifestFile), counts: zero(), perNotebook: {}, perPart: {}, failed: [], toResubmit: [], tasks: [], deferred: m.deferred.map((d) => `${d.notebook} / ${d.stage}: ${d.reason}`) };
  for (const t of m.tasks) {
    const st = readTaskState(manifestFile, t.index);
    const live = running(st, slurm.get(t.index));
    const queued = SLURM_QUEUED.has(slurm.get(t.index) ?? '');
    const errorOf = (key: string) => st?.errors[key] ?? st?.errors.task;
    let open = false;
    for (const c of t.configs) {
      let s: ConfigStatus;
      if (storeOf(c.task).has(c.key)) s = 'done';
      else if (live) s = 'running';
      else if (!queued && errorOf(c.key) !== undefined) s = 'failed';
      else s = 'pending';
      if (s === 'failed') out.failed.push({ notebook: c.notebook, part: c.part, task: c.task, key: c.key, index: t.index, error: errorOf(c.key)! });
      if (s === 'failed' || s === 'pending') open = true;
      out.counts[s]++;
      for (const nb of [c.notebook, ...(c.alsoIn ?? [])]) (out.perNotebook[nb] ??= zero())[s]++;
      (out.perPart[`${c.notebook} / ${c.part}`] ??= zero())[s]++;
    }
    if (open && !queued) out.toResubmit.push(t.index);
    out.tasks.push({ index: t.index, status: live ? 'running' : queued ? 'queued' : st?.status ?? 'not started', ...(slurm.has(t.index) ? { slurm: slurm.get(t.index) } : {}) });
  }
  out.perPart = Object.fromEntries(Object.entries(out.perPart).sort(([a], [b]) => a.localeCompare(b)));
  return out;
}
