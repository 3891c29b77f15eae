/**
 * runSweep: look every config up in the store, compute the missing ones in parallel worker
 * processes (child_process.fork, one config at a time per worker, each worker writes its own
 * result atomically), and return the records in the configs' order. Killing a sweep loses at
 * most the configs in flight; rerunning it computes only what is missing.
 *
 * workers = 0 runs in this process, sequentially (for debugging, notebooks and tests);
 * workers >= 1 uses that many child processes (default: the number of CPUs).
 * Failed configs come back with status 'error' and are not stored, so a rerun retries them.
 */
import { ChildProcess, fork } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { canonicalize, PlainObject } from './canonical';
import { SweepProgress, terminalProgress } from './progress';
import { openStore, resultsRoot, ResultStore, RunRecord } from './store';
import { describeConfig, loadTaskFn, resolveTask, TaskLoadError, TaskSpec } from './task';
import { computeAndStore, errorInfo, RunJob, WorkerMessage } from './worker';
import { noteResultOrigin, noteSweep } from './tally';

export type SweepRecord<R = unknown> =
  | (RunRecord<R> & { status: 'cached' | 'computed' })
  | { status: 'error'; key: string; task: string; canonical: string; config: PlainObject; error: { message: string; stack?: string } };

export interface SweepOptions {
  task: TaskSpec | string;
  /** Fully expanded configs (each with its seed), e.g. from expandGrid(). */
  configs: readonly PlainObject[];
  /** 0 = in this process; n >= 1 = n worker processes. Default os.availableParallelism(). */
  workers?: number;
  /** A store or its directory. Default: `<resultsRoot()>/<task name>`. */
  store?: ResultStore | string;
  onProgress?: (p: SweepProgress) => void;
  /** Text progress bar on stderr. Default: only when stderr is a TTY. */
  progressBar?: boolean;
  signal?: AbortSignal;
}

interface Unique { key: string; canonical: string; full: PlainObject; config: PlainObject; indices: number[] }

function abortError(): Error {
  const e = new Error('Sweep aborted. Finished configs are stored; run the same sweep again to resume.');
  e.name = 'AbortError';
  return e;
}

/** node options for a worker: the parent's, minus debugger flags, plus tsx when .ts must load. */
function workerExecArgv(needTs: boolean): string[] {
  const args = process.execArgv.filter((a) => !/^--(inspect|debug)/.test(a));
  if (needTs && !args.some((a) => a.includes('tsx'))) {
    let tsx: string;
    try { tsx = require.resolve('tsx/cjs'); } catch {
      throw new Error('A sweep worker has to load TypeScript, but tsx is not installed: build the library (npx tsc -b) and use lib/dist, or install tsx.');
    }
    args.push('--require', tsx);
  }
  return args;
}

function isTsModule(spec: string): boolean {
  try { return /\.[cm]?tsx?$/.test(require.resolve(spec)); } catch { return /\.[cm]?tsx?$/.test(spec); }
}

export async function runSweep<R = unknown>(opts: SweepOptions): Promise<SweepRecord<R>[]> {
  const task = resolveTask(opts.task);
  if (!Array.isArray(opts.configs)) throw new Error('runSweep: configs must be an array of config objects (see expandGrid).');
  const workers = opts.workers ?? os.availableParallelism();
  if (!Number.isInteger(workers) || workers < 0) throw new Error(`runSweep: workers must be an integer >= 0, got ${workers}.`);
  const store = opts.store instanceof ResultStore ? opts.store
    : openStore({ dir: opts.store ?? path.join(resultsRoot(), task.name) });
  store.removeStaleTemps();
  if (opts.signal?.aborted) throw abortError();

  // Distinct configs, in first-appearance order.
  const uniques = new Map<string, Unique>();
  opts.configs.forEach((config, i) => {
    let d;
    try { d = describeConfig(task, config); } catch (e) { throw new Error(`runSweep: configs[${i}]: ${(e as Error).message}`); }
    const u = uniques.get(d.key);
    if (u) u.indices.push(i); else uniques.set(d.key, { ...d, config, indices: [i] });
  });

  const out: SweepRecord<R>[] = new Array(opts.configs.length);
  const settle = (u: Unique, rec: SweepRecord<R>) => { for (const i of u.indices) out[i] = rec; };
  const pending: Unique[] = [];
  let cached = 0;
  for (const u of uniques.values()) {
    const rec = store.get<R>(u.key);
    if (!rec) { pending.push(u); continue; }
    if (rec.task !== task.name) {
      throw new Error(`Store ${store.dir} holds key ${u.key} for task '${rec.task}', not '${task.name}': use one store directory per task.`);
    }
    // A stored config that no longer maps to this key means a default changed meaning.
    const now = canonicalize(rec.config, task.defaults);
    if (now !== u.canonical) {
      throw new Error(`Stored result ${store.file(u.key)} was computed with config ${rec.canonical}, which under the current defaults of ` +
        `task '${task.name}' reads ${now}, not ${u.canonical}: a default value was changed. Restore it (add new options instead of ` +
        'changing defaults), or move the old results away.');
    }
    settle(u, { ...rec, status: 'cached' });
    cached++;
  }

  // a read-only or full results folder must fail now, not after computing every config
  if (pending.length) store.probeWritable();

  const total = uniques.size;
  let done = cached, failed = 0, running = 0, computed = 0, lastKey: string | null = null;
  const t0 = Date.now();
  const bar = (opts.progressBar ?? process.stderr.isTTY === true) ? terminalProgress() : null;
  const report = () => {
    const left = total - done;
    const elapsed = (Date.now() - t0) / 1000;
    const p: SweepProgress = {
      done, total, cached, failed, running, lastKey,
      etaSeconds: left === 0 ? 0 : computed + failed > 0 ? (elapsed / (computed + failed)) * left : null,
    };
    bar?.update(p);
    opts.onProgress?.(p);
  };
  const finish = (u: Unique, rec: SweepRecord<R>) => {
    settle(u, rec);
    done++; lastKey = u.key;
    if (rec.status === 'error') failed++; else computed++;
    report();
  };
  report();

  try {
    if (pending.length === 0) { /* all cached */ } else if (workers === 0) {
      loadTaskFn(task); // fail fast on a bad module
      for (const u of pending) {
        if (opts.signal?.aborted) throw abortError();
        running = 1; report();
        try {
          const rec = await computeAndStore(task, u.config, store);
          running = 0;
          finish(u, { ...(rec as RunRecord<R>), status: 'computed' });
        } catch (e) {
          if (e instanceof TaskLoadError) throw e;
          running = 0;
          finish(u, { status: 'error', key: u.key, task: task.name, canonical: u.canonical, config: u.full, error: errorInfo(e) });
        }
      }
    } else {
      await runPool<R>(task, pending, Math.min(workers, pending.length), store, opts.signal, {
        started: () => { running++; report(); },
        finished: (u, rec) => { running--; finish(u, rec); },
      });
    }
  } finally {
    bar?.end();
    noteSweep(task.name, { computed, cached, failed });
    for (const u of uniques.values()) {
      const r = out[u.indices[0]];
      if (r && r.status !== 'error') noteResultOrigin(task.name, u.key, r.meta?.versions?.git, r.status === 'computed');
    }
  }
  if (failed) {
    const first = out.find((r) => r.status === 'error') as Extract<SweepRecord, { status: 'error' }>;
    process.stderr.write(`runSweep(${task.name}): ${failed} of ${total} configs failed; first error (${first.key}): ${first.error.message}\n`);
  }
  return out;
}

interface PoolEvents<R> { started(): void; finished(u: Unique, rec: SweepRecord<R>): void }

function runPool<R>(task: TaskSpec, pending: Unique[], n: number, store: ResultStore,
  signal: AbortSignal | undefined, ev: PoolEvents<R>): Promise<void> {
  const workerFile = path.join(__dirname, `worker${path.extname(__filename)}`);
  const execArgv = workerExecArgv(/\.tsx?$/.test(workerFile) || isTsModule(task.module));
  const queue = [...pending];
  let nextId = 0;
  let remaining = pending.length;
  const children = new Set<ChildProcess>();

  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const end = (err?: Error) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      const alive = [...children].filter((c) => c.exitCode === null && c.signalCode === null);
      if (err) { for (const c of alive) c.kill('SIGTERM'); reject(err); return; }
      // Idle workers exit when disconnected; resolve once all are gone, so none outlives the sweep.
      for (const c of alive) if (c.connected) c.disconnect();
      if (alive.length === 0) { resolve(); return; }
      let left = alive.length;
      for (const c of alive) c.once('exit', () => { if (--left === 0) resolve(); });
    };
    const onAbort = () => end(abortError());
    signal?.addEventListener('abort', onAbort);

    const spawn = () => {
      let current: { id: number; u: Unique } | null = null;
      let ready = false;
      // one native-kernel thread per worker: the workers already fill the cores (THREADS_ENV of
      // kernels/native.ts, spelled out because the engine does not depend on the kernels)
      const child = fork(workerFile, [], {
        execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: { ...process.env, PRUNE_AT_INIT_THREADS: '1' },
      });
      children.add(child);
      const next = () => {
        const u = queue.shift();
        if (!u || settled) { current = null; if (child.connected) child.disconnect(); return; }
        current = { id: nextId++, u };
        // the schema and the legacy migration (functions) cannot cross IPC: the parent validated and migrated already
        const job: RunJob = { type: 'run', id: current.id, task: { ...task, schema: undefined, legacy: undefined }, config: u.config, storeDir: store.dir };
        child.send(job);
        ev.started();
      };
      child.on('message', (m: WorkerMessage) => {
        if (settled) return;
        if (m.type === 'ready') { ready = true; return; }
        if (!current || m.id !== current.id) return;
        const u = current.u;
        if (m.type === 'fatal') { end(new TaskLoadError(m.error.message)); return; }
        if (m.type === 'done') {
          ev.finished(u, { ...(m.record as RunRecord<R>), status: 'computed' });
        } else {
          ev.finished(u, { status: 'error', key: u.key, task: task.name, canonical: u.canonical, config: u.full, error: m.error });
        }
        current = null;
        if (--remaining === 0) { end(); return; }
        next();
      });
      child.on('error', (e) => { if (!settled && !ready) end(new Error(`Could not start a sweep worker (${workerFile}): ${e.message}`)); });
      child.on('exit', (code, sig) => {
        if (settled) return;
        if (!ready) {
          end(new Error(`A sweep worker (${workerFile}) exited during start-up (code ${code}, signal ${sig}); its stderr above says why.`));
          return;
        }
        if (current) {
          // The config killed its worker (OOM, process.exit, a signal): record it and go on.
          const u = current.u;
          current = null;
          ev.finished(u, { status: 'error', key: u.key, task: task.name, canonical: u.canonical, config: u.full,
            error: { message: `worker process ${child.pid} died while running this config (exit code ${code}, signal ${sig})` } });
          if (--remaining === 0) { end(); return; }
        }
        if (queue.length > 0) spawn(); // replace it
      });
      next();
    };
    for (let i = 0; i < n; i++) spawn();
  });
}
