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

/**
 * Where the results this process's sweeps returned were computed: one entry per distinct (task, config
 * key), by the git commit in its record (a cached result keeps the commit that computed it). Records of
 * different commits can differ in their last bits where kernels changed, so a report says which commits
 * its numbers come from.
 */
export interface ResultOrigins {
  /** Distinct results returned (computed now or read from the store). */
  results: number;
  /** Of those, computed by this process's sweeps (here or in their workers). */
  computedHere: number;
  /** Commit (or 'unknown' when the computing process was not in a git checkout) -> results. */
  commits: Record<string, number>;
}

const origins = new Map<string, { commit: string; computed: boolean }>();

/** Note one returned result (runSweep calls this for each distinct config that did not fail). */
export function noteResultOrigin(task: string, key: string, commit: string | undefined, computed: boolean): void {
  const id = `${task}/${key}`;
  const seen = origins.get(id);
  origins.set(id, { commit: commit ?? 'unknown', computed: computed || (seen?.computed ?? false) });
}

/** The origins of every result this process's sweeps returned so far. */
export function resultOrigins(): ResultOrigins {
  const out: ResultOrigins = { results: 0, computedHere: 0, commits: {} };
  for (const o of origins.values()) {
    out.results++;
    if (o.computed) out.computedHere++;
    out.commits[o.commit] = (out.commits[o.commit] ?? 0) + 1;
  }
  return out;
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
