/**
 * Running the reduced-vs-pruned study: the three cached sweeps (runStudy) and the tidy results table
 * they give, one row per trained net.
 */
import { runSweep, RunRecord, SweepRecord, rowsToFrame, TaskSpec, withSweepProgress } from '../engine';
import type { ProgressFactory } from '../engine';
import type { Criterion, RvpPlan } from './rvp-plan';
import { RVP_PRUNE_TASK, RVP_TRAIN_TASK } from './rvp-tasks';
import type { RvpPruneConfig, RvpPruneResult, RvpTrainResult } from './rvp-tasks';
import { CRIT_NAME, pruneConfigs, stage1Jobs, stage3Jobs } from './rvp-jobs';
import type { RvpFamily, RvpJob, RvpJobMeta } from './rvp-jobs';

/** One trained net: a row of the tidy results table. */
export interface RvpRow {
  [k: string]: unknown;
  /** Legend name: family and criterion, e.g. 'pruned+tuned (Fisher)'. */
  series: string;
  family: RvpFamily;
  criterion: Criterion | null;
  /** Matched budget (parameter target), or null for a curve-only prune checkpoint. */
  budget: number | null;
  label: string;
  seed: number;
  params: number;
  macs: number;
  testError: number;
  /** SGD steps that produced this net (base + fine-tuning for pruned-and-tuned nets). */
  steps: number;
  /** Kept interior channels per block. */
  interior: number[];
  /** 'diverged' rows are left out of every mean and counted by the divergence gate. */
  outcome: 'ok' | 'diverged';
  /** Test accuracy per epoch (nets trained from scratch; [] for pruned-and-tuned checkpoints). */
  history: number[];
  key: string;
}

export const SERIES_NAMES: Record<string, string> = {
  'base': 'base',
  'dense-converged': 'base, converged (long schedule)',
  'pruned-tuned/fisher': 'pruned+tuned (Fisher)',
  'pruned-tuned/l1': 'pruned+tuned (L1)',
  'scratch-pruned/fisher': 'pruned arch. from scratch (Fisher)',
  'scratch-pruned/l1': 'pruned arch. from scratch (L1)',
  'copycat/fisher': 'copycat (Fisher profile)',
  'reduced-depth': 'reduced: depth',
  'reduced-width': 'reduced: width k',
  'reduced-bottleneck': 'reduced: bottleneck Z',
  'reduced-growth': 'reduced: growth rate k',
  'scratchB-width': 'reduced: width k, Scratch-B',
};

export function seriesName(family: RvpFamily, criterion: Criterion | null): string {
  return SERIES_NAMES[criterion && family !== 'base' && !family.startsWith('reduced') && family !== 'scratchB-width' ? `${family}/${criterion}` : family] ?? `${family}${criterion ? ` (${criterion})` : ''}`;
}

export interface RvpFailure { [k: string]: unknown; stage: string; label: string; seed: number | null; message: string }

export interface RvpRun {
  rows: RvpRow[];
  prune: Array<{ config: RvpPruneConfig; result: RvpPruneResult; key: string }>;
  failures: RvpFailure[];
  notes: string[];
  /** Wall-clock seconds per stage (cached results make them short). */
  seconds: Record<string, number>;
  /** How many configs were computed vs found in the cache, per stage. */
  computed: Record<string, { computed: number; cached: number; failed: number }>;
}

export interface RunStudyOptions {
  /** Worker processes (default plan.workers; 0 = in this process). */
  workers?: number;
  /** e.g. the notebook toolkit's progress(total, label). */
  progress?: ProgressFactory;
}

export function trainRow(meta: RvpJobMeta, rec: RunRecord<RvpTrainResult>): RvpRow {
  const r = rec.result;
  return {
    series: seriesName(meta.family, meta.criterion), family: meta.family, criterion: meta.criterion, budget: meta.budget,
    label: meta.label, seed: meta.seed, params: r.params, macs: r.macs, testError: r.testError,
    steps: meta.priorSteps + r.steps, interior: r.interior, outcome: r.outcome, history: r.history ?? [], key: rec.key,
  };
}

/** Rows of the pruned-and-tuned nets: one per checkpoint and budget it met (curve checkpoints: budget null). */
export function pruneRows(p: Pick<RvpPlan, 'budgets' | 'reduced'>, config: RvpPruneConfig, r: RvpPruneResult, key: string): RvpRow[] {
  const matched = new Set([...p.budgets, ...p.reduced.map((m) => m.budget)]);
  const rows: RvpRow[] = [];
  for (const c of r.checkpoints) {
    const ms = c.targets.filter((t) => matched.has(t));
    for (const budget of ms.length ? ms : [null]) {
      rows.push({
        series: seriesName('pruned-tuned', config.prune.criterion), family: 'pruned-tuned', criterion: config.prune.criterion, budget,
        label: `${CRIT_NAME[config.prune.criterion]} P&T, ${c.prunes} ch. removed`, seed: config.seed, params: c.params, macs: c.macs,
        testError: c.testError, steps: r.base.steps + c.steps, interior: c.interior, outcome: 'ok', history: [], key,
      });
    }
  }
  return rows;
}

/** One cached sweep of a study stage; its wall-clock and computed/cached counts go into `run`. */
export async function sweep<R>(stage: string, task: TaskSpec, configs: Record<string, unknown>[], workers: number, progress: ProgressFactory | undefined, run: Pick<RvpRun, 'seconds' | 'computed'>): Promise<SweepRecord<R>[]> {
  const t0 = Date.now();
  const recs = configs.length === 0 ? [] : await withSweepProgress(progress, stage, (onProgress) => runSweep<R>({ task, configs, workers, onProgress }),
    (pr) => pr.lastKey ?? undefined);
  run.seconds[stage] = (Date.now() - t0) / 1000;
  const keys = new Map<string, string>();
  for (const r of recs) keys.set(r.key, r.status);
  run.computed[stage] = {
    computed: [...keys.values()].filter((s) => s === 'computed').length,
    cached: [...keys.values()].filter((s) => s === 'cached').length,
    failed: [...keys.values()].filter((s) => s === 'error').length,
  };
  return recs;
}

/**
 * Run the three sweeps (cached by config hash under data/results/<task>/): bases + reduced nets;
 * prune-and-tune per criterion and seed; scratch-pruned + copycat nets. Failed configs are listed
 * in `failures` and left out of the rows.
 */
export async function runStudy(p: RvpPlan, seeds: number[], o: RunStudyOptions = {}): Promise<RvpRun> {
  if (!Array.isArray(seeds) || seeds.length === 0) throw new Error('runStudy: give at least one seed.');
  const workers = o.workers ?? p.workers;
  const run: RvpRun = { rows: [], prune: [], failures: [], notes: [...p.notes], seconds: {}, computed: {} };
  const collect = (stage: string, jobs: RvpJob[], recs: SweepRecord<RvpTrainResult>[]) => {
    recs.forEach((rec, i) => {
      const meta = jobs[i].meta;
      if (rec.status === 'error') run.failures.push({ stage, label: meta.label, seed: meta.seed, message: rec.error.message });
      else run.rows.push(trainRow(meta, rec));
    });
  };

  const j1 = stage1Jobs(p, seeds);
  collect('1 bases + reduced', j1, await sweep<RvpTrainResult>('1 bases + reduced', RVP_TRAIN_TASK, j1.map((j) => j.config), workers, o.progress, run));

  const pc = pruneConfigs(p, seeds);
  const precs = await sweep<RvpPruneResult>('2 prune-and-tune', RVP_PRUNE_TASK, pc, workers, o.progress, run);
  precs.forEach((rec, i) => {
    const c = pc[i];
    if (rec.status === 'error') { run.failures.push({ stage: '2 prune-and-tune', label: `${CRIT_NAME[c.prune.criterion]} prune-and-tune`, seed: c.seed, message: rec.error.message }); return; }
    run.prune.push({ config: c, result: rec.result, key: rec.key });
    run.rows.push(...pruneRows(p, c, rec.result, rec.key));
    for (const u of rec.result.unreached) run.notes.push(`${CRIT_NAME[c.prune.criterion]} seed ${c.seed}: checkpoint ${u} never reached`);
  });

  const { jobs: j3, notes } = stage3Jobs(p, run.prune);
  run.notes.push(...notes);
  collect('3 scratch-pruned + copycat', j3, await sweep<RvpTrainResult>('3 scratch-pruned + copycat', RVP_TRAIN_TASK, j3.map((j) => j.config), workers, o.progress, run));
  return run;
}


/** The tidy results table as a danfojs DataFrame (interior widths joined into a string). */
export function resultsFrame(rows: RvpRow[]) {
  const cols = ['series', 'family', 'criterion', 'budget', 'label', 'seed', 'params', 'macs', 'testError', 'steps', 'interior', 'outcome', 'history', 'key'];
  return rowsToFrame(rows.map((r) => ({ ...r, interior: r.interior.join(' '), history: r.history.join(' ') })), cols);
}
