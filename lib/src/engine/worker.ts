/**
 * Worker process for runSweep: runs one config at a time, writes its record to the store
 * atomically, then reports back over IPC. Exits when the parent disconnects (finished, aborted or
 * killed), so no orphan keeps computing.
 */
import { PlainObject } from './canonical';
import { openStore, ResultStore, RunRecord } from './store';
import { runTask, TaskLoadError, TaskSpec } from './task';

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

function errorInfo(e: unknown): { message: string; stack?: string } {
  return e instanceof Error ? { message: e.message, stack: e.stack } : { message: String(e) };
}

function main(): void {
  const send = (m: WorkerMessage) => process.send!(m);
  const stores = new Map<string, ResultStore>();
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
