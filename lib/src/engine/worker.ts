/**
 * Worker process for runSweep: runs one config at a time, writes its record to the store
 * atomically, then reports back over IPC. Exits when the parent disconnects (finished, aborted or
 * killed), so no orphan keeps computing. Training is synchronous and blocks this process's event
 * loop for minutes, so the 'disconnect' event alone would only fire after the config finished (and
 * the reply then failed with EPIPE): a watchdog thread polls the parent pid and kills the worker as
 * soon as the parent is gone (its record would have no reader; the sweep's rerun recomputes it).
 */
import { Worker } from 'worker_threads';
import { PlainObject } from './canonical';
import { openStore, ResultStore, RunRecord } from './store';
import { runTask, TaskLoadError, TaskSpec } from './task';
import { explainHeapExhaustion } from './wasm-heap';

export interface RunJob { type: 'run'; id: number; task: TaskSpec; config: PlainObject; storeDir: string }
export type WorkerMessage =
  | { type: 'ready'; pid: number }
  | { type: 'done'; id: number; record: RunRecord }
  | { type: 'failed'; id: number; error: { message: string; stack?: string } }
  | { type: 'fatal'; id: number; error: { message: string; stack?: string } };

/** Run `config` and store the record (shared by worker processes and the in-process mode). */
export async function computeAndStore(task: TaskSpec, config: PlainObject, store: ResultStore): Promise<RunRecord> {
  const record = await runTask(task, config);
  return store.put(record.key, record);
}

export function errorInfo(e: unknown): { message: string; stack?: string } {
  return e instanceof Error ? { message: explainHeapExhaustion(e.message), stack: e.stack } : { message: String(e) };
}

/** Poll interval of the parent watchdog (ms). */
const WATCH_MS = 250;

/** A thread that SIGKILLs this process when its parent (pid `ppid`) is gone, even while the main thread computes. */
export function watchParent(ppid: number): Worker {
  const code = `const { workerData } = require('worker_threads');
    setInterval(() => { if (process.ppid !== workerData.ppid) process.kill(process.pid, 'SIGKILL'); }, ${WATCH_MS});`;
  const w = new Worker(code, { eval: true, workerData: { ppid } });
  w.unref(); // never keeps the worker alive by itself
  return w;
}

function main(): void {
  const send = (m: WorkerMessage) => {
    // the parent may be gone: nothing to report to, and no EPIPE stack trace
    if (!process.connected) process.exit(0);
    process.send!(m, undefined, undefined, (err) => { if (err) process.exit(0); });
  };
  const stores = new Map<string, ResultStore>();
  watchParent(process.ppid);
  process.on('disconnect', () => process.exit(0));
  process.on('message', async (job: RunJob) => {
    if (!job || job.type !== 'run') return;
    let store = stores.get(job.storeDir);
    if (!store) { store = openStore({ dir: job.storeDir }); stores.set(job.storeDir, store); }
    try {
      const record = await computeAndStore(job.task, job.config, store);
      send({ type: 'done', id: job.id, record });
    } catch (e) {
      send({ type: e instanceof TaskLoadError ? 'fatal' : 'failed', id: job.id, error: errorInfo(e) });
    }
  });
  send({ type: 'ready', pid: process.pid });
}

if (require.main === module) {
  if (!process.send) throw new Error('engine/worker is started by runSweep through child_process.fork, not directly.');
  main();
}
