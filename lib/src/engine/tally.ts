/**
 * How many configs the engine computed and how many it served from the store: per process
 * (computeTally), and across processes through a log file when PRUNE_AT_INIT_COMPUTE_LOG names one.
 * Every runSweep call (in a notebook kernel, a script, a `sweep run` task) appends one JSON line
 * { task, computed, cached, failed, pid, notebook } counting its distinct configs; a config a worker
 * process computed counts in the sweep that sent it there. So "the notebooks computed nothing after a
 * sweep" is checkable from outside the kernel: sum `computed` over the file (readComputeLog).
 */
import * as fs from 'fs';

export const COMPUTE_LOG_ENV = 'PRUNE_AT_INIT_COMPUTE_LOG';

export interface ComputeTally { computed: number; cached: number; failed: number }

export interface ComputeLogLine extends ComputeTally { task: string; pid: number; notebook?: string }

const tally: ComputeTally = { computed: 0, cached: 0, failed: 0 };

/** Distinct configs this process's sweeps computed (here or in their workers), read from the store, or failed. */
export function computeTally(): ComputeTally { return { ...tally }; }

/** Record one sweep's counts (runSweep calls this once, when it ends). */
export function noteSweep(task: string, t: ComputeTally): void {
  tally.computed += t.computed; tally.cached += t.cached; tally.failed += t.failed;
  const file = process.env[COMPUTE_LOG_ENV];
  if (!file) return;
  const line: ComputeLogLine = { task, ...t, pid: process.pid, ...(process.env.PRUNE_AT_INIT_NOTEBOOK ? { notebook: process.env.PRUNE_AT_INIT_NOTEBOOK } : {}) };
  // one short O_APPEND write per sweep: lines of concurrent processes do not interleave
  fs.appendFileSync(file, JSON.stringify(line) + '\n');
}

/** The lines of a compute log (an absent file: none). */
export function readComputeLog(file: string): ComputeLogLine[] {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return text.split('\n').filter(Boolean).map((l, i) => {
    try { return JSON.parse(l) as ComputeLogLine; } catch { throw new Error(`${file}: line ${i + 1} is not a compute-log line: ${l.slice(0, 80)}`); }
  });
}
