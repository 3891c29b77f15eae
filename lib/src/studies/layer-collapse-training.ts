/**
 * Notebook 01's training sweep (entry module layer-collapse.ts): the arms at sparsities bracketing
 * the measured critical points, their configs and the converged dense runs, every config the
 * notebook needs at a budget (sweepNeeds), the runs themselves and their summaries.
 */
import type { FfnnConfig } from '../models';
import { runSweep, withSweepProgress } from '../engine';
import type { ProgressFactory } from '../engine';
import { PRUNE_TRAIN_TASK, PruneTrainConfig, PruneTrainResult, denseReference } from '../experiment';
import type { Budget } from '../notebook/params';
import { longRunsAt, runStagedLongRuns } from '../notebook/gate';
import { mean, meanSd } from '../stats';
import { joinNeeds, lookupAll, longRunNeeds, needsOf, RecordLookup, stagedLongRunNeeds, StudyNeeds, waitFor } from './needs';
import { LayerCollapsePlan, modelConfig, PhaseName, PHASES, phasePoints, plan } from './layer-collapse-plan';
import { CriticalRow, criticalRows, InitAnalysisResult, initConfigs, LAYER_COLLAPSE_INIT_TASK } from './layer-collapse-init';
import { okResults } from './layer-collapse-sweep';
import { longRunArms, longRunBand } from './layer-collapse-gates';

/** Mean SNIP / MBP critical sparsity per phase at one depth (from the init analyses). */
export function meanCritical(rows: readonly CriticalRow[], depth: number, method: string, phase: PhaseName): number {
  const xs = rows.filter((r) => r.depth === depth && r.method === method && r.phase === phase).map((r) => r.sparsity);
  if (xs.length === 0) throw new Error(`meanCritical: no ${method}/${phase} rows at depth ${depth}.`);
  return mean(xs);
}

/**
 * Sparsities at densities (1 - s) * factor and (1 - s) / factor: one below and one past the
 * critical point. Densities are rounded to 2 significant digits (readable grid points that still
 * resolve critical points close to sparsity 1); a density >= 1 gives sparsity 0.
 */
export function bracket(criticalSparsity: number, factor: number): [number, number] {
  if (!(criticalSparsity >= 0 && criticalSparsity < 1)) throw new Error(`bracket: critical sparsity must be in [0, 1), got ${criticalSparsity}.`);
  if (!(factor > 1)) throw new Error(`bracket: factor must be > 1, got ${factor}.`);
  const d = 1 - criticalSparsity;
  const s = (density: number) => (density >= 1 ? 0 : Number((1 - Number(density.toPrecision(2))).toPrecision(12)));
  return [s(d * factor), s(d / factor)];
}

export interface TrainArm { phase: PhaseName; method: 'snip' | 'magnitude' | 'none'; sparsities: number[] }

/**
 * Training arms: SNIP on every phase at the dense point and at sparsities bracketing the ordered
 * and chaotic SNIP critical points; MBP on the EOC net bracketing the MBP critical point.
 */
export function trainingArms(p: LayerCollapsePlan, rows: readonly CriticalRow[]): TrainArm[] {
  const L = p.training.depth, f = p.training.densityFactor;
  const snipGrid = [...new Set([...bracket(meanCritical(rows, L, 'snip', 'ordered'), f), ...bracket(meanCritical(rows, L, 'snip', 'chaotic'), f)])]
    .filter((s) => s > 0).sort((a, b) => a - b);
  const mbpGrid = bracket(meanCritical(rows, L, 'magnitude', 'eoc'), f).filter((s) => s > 0);
  return [
    ...PHASES.map((phase) => ({ phase, method: 'none' as const, sparsities: [0] })),
    ...PHASES.map((phase) => ({ phase, method: 'snip' as const, sparsities: snipGrid })),
    { phase: 'eoc' as const, method: 'magnitude' as const, sparsities: mbpGrid },
  ];
}

export function trainingConfigs(p: LayerCollapsePlan, arms: readonly TrainArm[], seeds: number[]): PruneTrainConfig[] {
  const pts = new Map(phasePoints(p.sigmaB, p.orderedSigmaW, p.chaoticSigmaW).map((x) => [x.name, x]));
  const out: PruneTrainConfig[] = [];
  for (const { seeds: nSeeds, ...data } of p.training.datasets) for (const arm of arms) for (const sparsity of arm.sparsities) for (const seed of nSeeds ? seeds.slice(0, nSeeds) : seeds) {
    out.push({
      model: modelConfig(p.training.depth, p.width, pts.get(arm.phase)!),
      data,
      prune: { method: arm.method, sparsity, scope: 'global', options: {} },
      train: structuredClone(p.training.train),
      seed,
    });
  }
  return out;
}

/**
 * The converged (long) runs of the dense EOC net per dataset, on every seed of the dense reference:
 * the dense gate's reference is their mean (notebook/gate.ts).
 */
export function convergedConfigs(p: LayerCollapsePlan, seeds: number[]): PruneTrainConfig[] {
  const dense = trainingConfigs(p, [{ phase: 'eoc', method: 'none', sparsities: [0] }], seeds);
  return dense.map((c) => denseReference(c, p.training.convergedEpochs));
}

/** What the long-run stage of notebook 01 does (its deferred reason). */
const LONG_RUNS_WHY = 're-trains the EOC SNIP arms the training wave leaves at chance with the converged schedule (not in the estimate)';

/**
 * Every config notebook 01 runs at a budget (needs.ts): the init analyses and the converged dense
 * runs, then, once the analyses are stored, the training arms at the critical sparsities they
 * measured, then, once those are stored, the long runs of the EOC SNIP arms at chance (the notebook's
 * cells: initConfigs, trainingConfigs(trainingArms(criticalRows)), convergedConfigs, runLongRuns).
 */
export function sweepNeeds(budget: Budget, seeds: number[], lookup: RecordLookup): StudyNeeds {
  const p = plan(budget);
  const init = initConfigs(p, seeds);
  const configs = [
    ...needsOf('init-analyses', 'critical sparsity (mbp-phase-blind, snip-phase-collapse)', LAYER_COLLAPSE_INIT_TASK, init),
    ...needsOf('dense gate', 'converged dense run (collapse-trains-at-chance gate)', PRUNE_TRAIN_TASK, convergedConfigs(p, seeds)),
  ];
  const training = (rows: CriticalRow[]) => needsOf('training', 'training (collapse-trains-at-chance)', PRUNE_TRAIN_TASK, trainingConfigs(p, trainingArms(p, rows), seeds));
  const got = lookupAll<InitAnalysisResult>(lookup, LAYER_COLLAPSE_INIT_TASK, init);
  if (!got.missing) {
    const trained = training(criticalRows(got.records.map((r) => r.result)));
    const cfgs = trained.map((n) => n.config as unknown as PruneTrainConfig);
    const long = longRunNeeds<PruneTrainResult>(budget, lookup, PRUNE_TRAIN_TASK, cfgs, 'long runs', LONG_RUNS_WHY, 'training', (recs) => stagedLongRunNeeds(lookup, PRUNE_TRAIN_TASK,
      longRunArms(p, cfgs, recs.map((r) => ({ acc: r.result.finalTestAcc, outcome: r.result.outcome }))), 'long runs', 'long runs of EOC SNIP arms at chance (collapse-trains-at-chance)', longRunBand(p)));
    return joinNeeds({ configs: [...configs, ...trained], deferred: [] }, long);
  }
  // a run's cost does not depend on its sparsity: distinct stand-in critical points give the largest grid
  const standIn = ([['snip', 'ordered', 0.3], ['snip', 'chaotic', 0.6], ['magnitude', 'eoc', 0.8]] as const)
    .map(([method, phase, sparsity]): CriticalRow => ({ depth: p.training.depth, method, phase, sparsity } as CriticalRow));
  return {
    configs,
    deferred: [
      { stage: 'training', reason: `training sparsities bracket the measured critical sparsities: ${waitFor(got.missing, 'init-analysis')}`, standIn: training(standIn) },
      ...(longRunsAt(budget) ? [{ stage: 'long runs', reason: `${LONG_RUNS_WHY}: after the training stage` }] : []),
    ],
  };
}

export interface TrainRow {
  dataset: string;
  phase: PhaseName;
  method: string;
  /** Arm label, e.g. 'SNIP / ordered'. */
  arm: string;
  sparsity: number;
  seed: number;
  acc: number;
  collapsed: boolean;
  emptyLayers: string[];
  outcome: string;
  density: number;
  seconds: number;
  /** Test accuracy after each epoch. */
  history: number[];
  /** A long-schedule run: the dense gate's converged run, or an EOC SNIP arm at chance re-trained long (layer-collapse-gates.ts); not a budget arm. */
  converged: boolean;
}

export function armLabel(method: string, phase: PhaseName): string {
  const m = method === 'snip' ? 'SNIP' : method === 'magnitude' ? 'MBP' : method === 'none' ? 'dense' : method;
  return `${m} / ${phase === 'eoc' ? 'EOC' : phase}`;
}

function phaseOfScheme(s: unknown): PhaseName {
  if (s === 'ordered' || s === 'eoc' || s === 'chaotic') return s;
  throw new Error(`layer-collapse: unexpected init scheme ${JSON.stringify(s)} in a training record.`);
}

export async function runTraining(p: LayerCollapsePlan, configs: PruneTrainConfig[], o: { progress?: ProgressFactory } = {}): Promise<TrainRow[]> {
  const recs = await withSweepProgress(o.progress, 'training runs (prune-train)', (onProgress) =>
    runSweep<PruneTrainResult>({ task: PRUNE_TRAIN_TASK, configs, workers: p.workers, onProgress, progressBar: false }));
  return okResults(recs, 'training').map(({ config, result }) => {
    const c = config as unknown as PruneTrainConfig;
    const phase = phaseOfScheme((c.model as FfnnConfig).init?.scheme);
    return {
      dataset: c.data.name, phase, method: c.prune.method, arm: armLabel(c.prune.method, phase), sparsity: c.prune.sparsity, seed: c.seed,
      acc: result.finalTestAcc, collapsed: result.emptyLayers.length > 0, emptyLayers: result.emptyLayers, outcome: result.outcome,
      density: result.density, seconds: result.seconds,
      history: result.epochs.map((e) => e.testAcc), converged: c.train.epochs !== p.training.train.epochs,
    };
  });
}

/**
 * The long runs of the EOC SNIP arms that `budgetRows` (runTraining's rows of `trainConfigs`, in
 * order) leave at chance, in two steps (notebook/gate.ts stagedLongRuns): each arm's first run with
 * the converged schedule, then its other runs if that one left chance. Their rows (converged-flagged).
 */
export async function runLongRuns(p: LayerCollapsePlan, trainConfigs: PruneTrainConfig[], budgetRows: readonly TrainRow[], o: { progress?: ProgressFactory } = {}): Promise<TrainRow[]> {
  const arms = longRunArms(p, trainConfigs, budgetRows.slice(0, trainConfigs.length));
  return (await runStagedLongRuns(arms, (cs) => runTraining(p, cs, o), longRunBand(p))).results;
}

export interface TrainSummary { dataset: string; arm: string; phase: PhaseName; method: string; sparsity: number; n: number; accMean: number; accSd: number; collapsed: number }

/** Arms only (no converged gate runs), finished runs only (diverged runs are counted by the divergence gate). */
export function armRows(rows: readonly TrainRow[]): TrainRow[] {
  return rows.filter((r) => !r.converged && r.outcome !== 'diverged');
}

export function summarizeTraining(rows: readonly TrainRow[]): TrainSummary[] {
  const g = new Map<string, TrainRow[]>();
  for (const r of armRows(rows)) { const k = `${r.dataset}|${r.arm}|${r.sparsity}`; g.set(k, [...(g.get(k) ?? []), r]); }
  return [...g.values()].map((rs) => {
    const s = meanSd(rs.map((r) => r.acc));
    return { dataset: rs[0].dataset, arm: rs[0].arm, phase: rs[0].phase, method: rs[0].method, sparsity: rs[0].sparsity, n: s.n, accMean: s.mean, accSd: s.sd, collapsed: rs.filter((r) => r.collapsed).length };
  }).sort((a, b) => a.dataset.localeCompare(b.dataset) || a.arm.localeCompare(b.arm) || a.sparsity - b.sparsity);
}
