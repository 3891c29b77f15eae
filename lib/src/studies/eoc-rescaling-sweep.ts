/**
 * Notebook 02's sweep (eoc-rescaling.ts): every 'prune-train' job by section (sweepParts), the engine
 * configs the notebook needs at a budget (sweepNeeds, read by `sweep plan`), and runAll, which runs
 * them all in one engine call.
 */
import type { ProgressFactory } from '../engine';
import { PRUNE_TRAIN_TASK } from '../experiment';
import type { PruneTrainResult } from '../experiment';
import { noPathAtLayerLevel } from '../prune/effective';
import type { Budget } from '../notebook/params';
import { longRunBand, longRunJobs } from './eoc-rescaling-gates';
import { extremeFfnnJobs, fig2Jobs, gateJobs, perLayerJobs, resnetJobs, runJobs } from './eoc-rescaling-jobs';
import type { ExtremeTag, Fig2Tag, GateTag, Job, RunRow, StudyRuns } from './eoc-rescaling-jobs';
import { pathConfigs } from './eoc-rescaling-paths';
import { plan } from './eoc-rescaling-plan';
import type { EocRescalingPlan } from './eoc-rescaling-plan';
import { PATH_TASK } from './extreme-paths';
import { joinNeeds, longRunNeeds, needsOf, RecordLookup, stagedLongRunNeeds, StudyNeeds } from './needs';

/** Rough relative cost, to start the slow runs first (less idle tail on the workers). */
function costRank(j: Job<Fig2Tag | ExtremeTag | GateTag>): number {
  const t = j.tag as Partial<ExtremeTag> & Partial<Fig2Tag> & Partial<GateTag>;
  if (t.section === 'resnet') return 2e6 + j.config.train.epochs;
  const epochs = j.config.train.epochs;
  if (t.family === 'resnet') return (epochs > 0 ? 1e6 : 0) + (t.method === 'synflow' ? 1e4 : 0) + (t.depth ?? 0);
  return (t.method === 'synflow' ? 1e4 : 0) + (t.depth ?? 0) * Math.max(1, epochs);
}

/** The 'prune-train' jobs of every section of runAll (its results come back split the same way). */
export interface SweepParts { fig2: Job<Fig2Tag>[]; extreme: Job<ExtremeTag>[]; resnetInit: Job<ExtremeTag>[]; resnetTrained: Job<ExtremeTag>[]; perLayer: Job<ExtremeTag>[]; gates: Job<GateTag>[] }

/** Every 'prune-train' job of the study, by section: the jobs runAll sweeps. */
export function sweepParts(p: EocRescalingPlan): SweepParts {
  const r = resnetJobs(p);
  return { fig2: fig2Jobs(p), extreme: extremeFfnnJobs(p), resnetInit: r.initOnly, resnetTrained: r.trained, perLayer: perLayerJobs(p), gates: gateJobs(p) };
}

/** Claims each section of runAll serves (the `sweep plan` part labels). */
const SECTION_PARTS: Record<keyof SweepParts, string> = {
  fig2: 'fig2 (eoc-rescaling-ordering)', extreme: 'extreme FFNN (sbp-sr-extreme-sparsity)', resnetInit: 'ResNet at init (sbp-sr-extreme-sparsity)',
  resnetTrained: 'ResNet trained (sbp-sr-extreme-resnet)', perLayer: 'per-layer (stable-resnet-per-layer)', gates: 'dense references and converged runs (gates)',
};

/**
 * Every engine config notebook 02 runs at a budget (needs.ts): runAll's sweep and extremePathStats'
 * mask statistics, then, once the §4 budget runs are stored, runLongRuns' long runs of the methods
 * they leave at chance (first seed, then the others of a method whose first long run left chance).
 */
export function sweepNeeds(budget: Budget, seeds: number[], lookup: RecordLookup): StudyNeeds {
  const p = plan(budget, seeds);
  const parts = sweepParts(p);
  const configs = (Object.keys(parts) as Array<keyof SweepParts>).flatMap((k) => needsOf('sweep', SECTION_PARTS[k], PRUNE_TRAIN_TASK, parts[k].map((j) => j.config)));
  configs.push(...needsOf('sweep', 'FFNN mask paths (sbp-sr-extreme-sparsity)', PATH_TASK, pathConfigs(p)));
  const budgetJobs = [...parts.extreme, ...parts.resnetTrained];
  const long = longRunNeeds<PruneTrainResult>(budget, lookup, PRUNE_TRAIN_TASK, budgetJobs.map((j) => j.config), 'long runs',
    're-trains the §4 methods the sweep leaves at chance with the converged schedule (not in the estimate)', 'sweep', (recs) => {
      const rows = budgetJobs.map((j, i) => ({ ...j.tag, acc: recs[i].result.finalTestAcc, outcome: recs[i].result.outcome, noPath: noPathAtLayerLevel(recs[i].result.perLayer) }));
      const l = longRunJobs(p, { extreme: rows.slice(0, parts.extreme.length), resnetTrained: rows.slice(parts.extreme.length) });
      return stagedLongRunNeeds(lookup, PRUNE_TRAIN_TASK, [...l.ffnn, ...l.resnet].map((a) => a.map((j) => j.config)), 'long runs',
        'long runs of methods at chance (sbp-sr-extreme-sparsity, sbp-sr-extreme-resnet)', longRunBand());
    });
  return joinNeeds({ configs, deferred: [] }, long);
}

/**
 * Every sweep of the study in ONE engine call (so the workers stay busy), slowest runs first;
 * results come back split by section. Identical configs (e.g. a per-layer run that is also in the
 * ResNet table) are computed once.
 */
export async function runAll(p: EocRescalingPlan, o: { progress?: ProgressFactory; store?: string } = {}): Promise<StudyRuns> {
  const t0 = Date.now();
  const parts = sweepParts(p);
  const all: Array<Job<Fig2Tag | ExtremeTag | GateTag>> = [...parts.fig2, ...parts.extreme, ...parts.resnetInit, ...parts.resnetTrained, ...parts.perLayer, ...parts.gates];
  const order = all.map((_, i) => i).sort((a, b) => costRank(all[b]) - costRank(all[a]) || a - b);
  const ran = await runJobs(order.map((i) => all[i]), { workers: p.workers, progress: o.progress, label: 'prune-train runs', store: o.store });
  const rows: Array<RunRow<Fig2Tag | ExtremeTag | GateTag>> = new Array(all.length);
  order.forEach((i, k) => { rows[i] = ran[k]; });
  let at = 0;
  const take = <T>(n: number) => rows.slice(at, (at += n)) as unknown as RunRow<T>[];
  return {
    fig2: take<Fig2Tag>(parts.fig2.length), extreme: take<ExtremeTag>(parts.extreme.length), resnetInit: take<ExtremeTag>(parts.resnetInit.length),
    resnetTrained: take<ExtremeTag>(parts.resnetTrained.length), perLayer: take<ExtremeTag>(parts.perLayer.length), gates: take<GateTag>(parts.gates.length),
    wallSeconds: (Date.now() - t0) / 1000,
  };
}
