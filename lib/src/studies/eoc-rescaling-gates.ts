/**
 * Gates of notebook 02's trained claims (rule: notebook/gate.ts; helpers: trained-gates.ts): per
 * claim, the dense gate of each network against its converged run, a plateau gate over the arms
 * compared and a divergence gate over every arm. The §4 claims also carry the long-run rule for arms
 * at chance (a method at chance at the highest sparsity after the budget may be untrainable or only
 * slow: it is re-trained with the converged schedule and the verdict reads that run) and an
 * above-chance gate over the pairs they compare (SBP-SR vs each other method at the highest
 * sparsity: if every pair sits at chance, the net leaves no method trainable and tests nothing).
 */
import { longSchedule } from '../experiment';
import { aboveChanceGate, chanceLongRun, longRunsAt, needsLongRun, runStagedLongRuns } from '../notebook/gate';
import type { Gate, RunAcc } from '../notebook/gate';
import type { ProgressFactory } from '../engine';
import { mean as meanOf } from '../stats';
import type { TrainConfig } from '../train';
import { CHANCE, COLLAPSE_MARGIN } from './eoc-rescaling-constants';
import { extremeFfnnJobs, resnetJobs, runJobs } from './eoc-rescaling-jobs';
import type { ExtremeTag, Job, RunRow, StudyRuns } from './eoc-rescaling-jobs';
import type { DataSpec, EocRescalingPlan } from './eoc-rescaling-plan';
import { armsBy, denseGateOf, divergenceGateOf, plateauGateOf } from './trained-gates';

const recipeShort = (t: TrainConfig) => `${t.optimizer ?? 'sgd'} ${t.lr} b${t.batchSize}`;
const dataShort = (d: DataSpec) => `${d.name} ${d.trainLimit || 'all'}/${d.testLimit || 'all'}`;

/** Fig. 2 (primary grid): a dense gate per depth, a plateau gate and a divergence gate over every (arm, depth, sparsity) cell. */
export function fig2Gates(p: EocRescalingPlan, runs: Pick<StudyRuns, 'fig2' | 'gates'>): Gate[] {
  const g = p.fig2.grids[0];
  const gates = g.depths.map((depth) => {
    const mine = runs.gates.filter((r) => r.section === 'fig2' && r.depth === depth);
    return denseGateOf(`dense EOC FFNN L=${depth} w${p.width}, ${dataShort(g.data)}, ${recipeShort(p.fig2.train)} x${p.fig2.train.epochs} (converged: x${p.gate.convergedEpochs})`,
      mine.filter((r) => !r.converged), mine.filter((r) => r.converged), p.gate.margin, longRunBand());
  });
  const cells = armsBy(runs.fig2.filter((r) => r.dataset === g.data.name), (r) => `${r.arm} L=${r.depth} s=${r.sparsity}`);
  gates.push(plateauGateOf(`Fig. 2 cells (${dataShort(g.data)})`, cells, p.gate.maxFinalEpochGain));
  gates.push(divergenceGateOf(`Fig. 2 cells (${dataShort(g.data)})`, cells));
  return gates;
}

export type Family = 'ffnn' | 'resnet';
/** Long runs of §4 arms at chance (runLongRuns), per family; empty when none was needed or run. */
export interface LongRuns { ffnn: RunRow<ExtremeTag>[]; resnet: RunRow<ExtremeTag>[] }
export const NO_LONG_RUNS: LongRuns = { ffnn: [], resnet: [] };

type BudgetRows = Pick<StudyRuns, 'extreme' | 'resnetTrained'>;

/** A family's budget rows, highest sparsity and epochs (budget, converged). */
function family(p: EocRescalingPlan, f: Family, runs: Partial<BudgetRows>): { rows: RunRow<ExtremeTag>[]; top: number; budgetEpochs: number; longEpochs: number } {
  if (f === 'ffnn') return { rows: runs.extreme ?? [], top: Math.max(...p.extreme.sparsities), budgetEpochs: p.extreme.train.epochs, longEpochs: p.gate.convergedEpochs };
  const t = p.resnet.trained;
  return { rows: runs.resnetTrained ?? [], top: Math.max(...t.sparsities), budgetEpochs: t.train.epochs, longEpochs: t.convergedEpochs };
}

/** The arms the §4 verdicts read (extremeVerdict): each pruned method at the highest sparsity. */
const topArms = <R extends { method: string; sparsity: number }>(rows: readonly R[], top: number) => armsBy(rows.filter((r) => r.method !== 'none' && r.sparsity === top), (r) => r.method);

/**
 * The long runs §4 may need, per method whose budget runs at the highest sparsity sit at chance
 * (mean ≤ chance + COLLAPSE_MARGIN) while some run's mask still connects input to output (a method
 * whose every mask leaves no path is untrainable by construction: needsLongRun): its runs with the
 * converged schedule (longSchedule), first seed
 * first, computed in two steps (notebook/gate.ts stagedLongRuns). `results` are the budget rows
 * (tags with acc and outcome; a record lookup gives the same).
 */
export function longRunJobs(p: EocRescalingPlan, results: { extreme: ReadonlyArray<ExtremeTag & RunAcc>; resnetTrained: ReadonlyArray<ExtremeTag & RunAcc> }): Record<Family, Job<ExtremeTag>[][]> {
  if (!longRunsAt(p.budget)) return { ffnn: [], resnet: [] };
  const pick = (f: Family, jobs: Job<ExtremeTag>[]) => {
    const { top, longEpochs } = family(p, f, {});
    const rows = f === 'ffnn' ? results.extreme : results.resnetTrained;
    const atChance = new Set(Object.entries(topArms(rows, top)).filter(([, rs]) => needsLongRun(rs, longRunBand())).map(([m]) => m));
    return Object.values(armsBy(jobs.filter((j) => j.tag.sparsity === top && atChance.has(j.tag.method)).map((j) => ({ tag: j.tag, config: longSchedule(j.config, longEpochs) })), (j) => j.tag.method));
  };
  return { ffnn: pick('ffnn', extremeFfnnJobs(p)), resnet: pick('resnet', resnetJobs(p).trained) };
}

/** The chance band of §4's long-run rule (CHANCE and COLLAPSE_MARGIN come from the leaf eoc-rescaling-constants.ts, so no import cycle leaves them undefined here). */
export const longRunBand = () => ({ chance: CHANCE, band: COLLAPSE_MARGIN });

/** Run (or read from the cache) the long runs of the §4 arms at chance, in stagedLongRuns' two steps (both families in one sweep per step). */
export async function runLongRuns(p: EocRescalingPlan, runs: BudgetRows, o: { progress?: ProgressFactory; store?: string } = {}): Promise<LongRuns> {
  const j = longRunJobs(p, runs);
  const arms = (['ffnn', 'resnet'] as const).flatMap((f) => j[f].map((a) => a.map((job) => ({ f, job }))));
  const r = await runStagedLongRuns(arms, async (xs) => runJobs(xs.map((x) => x.job), { workers: p.workers, progress: o.progress, label: 'long runs (prune-train)', store: o.store }), longRunBand());
  return { ffnn: r.results.filter((_, i) => r.jobs[i].f === 'ffnn'), resnet: r.results.filter((_, i) => r.jobs[i].f === 'resnet') };
}

/** The long-run rule over one family's methods at the highest sparsity. */
export function extremeLongRun(p: EocRescalingPlan, f: Family, runs: Partial<BudgetRows>, long: LongRuns = NO_LONG_RUNS): ReturnType<typeof chanceLongRun<RunRow<ExtremeTag>>> {
  const { rows, top, budgetEpochs, longEpochs } = family(p, f, runs);
  const budget = topArms(rows, top), longArms = topArms(long[f], top);
  const arms = Object.fromEntries(Object.entries(budget).map(([m, b]) => [m, { budget: b, long: longArms[m] ?? [] }]));
  return chanceLongRun(`${f === 'ffnn' ? 'FFNN' : 'ResNet'} methods at chance at ${+(top * 100).toFixed(2)}%, re-trained long`, arms,
    { ...longRunBand(), budgetEpochs, longEpochs });
}

/** The rows a §4 verdict reads: the budget rows, with each method found slow at the highest sparsity read from its long runs. */
export function extremeRead(p: EocRescalingPlan, f: Family, runs: Partial<BudgetRows>, long: LongRuns = NO_LONG_RUNS): RunRow<ExtremeTag>[] {
  const { rows, top } = family(p, f, runs);
  if (!rows.some((r) => r.method !== 'none' && r.sparsity === top)) return [...rows];
  return [...rows.filter((r) => r.method === 'none' || r.sparsity !== top), ...Object.values(extremeLongRun(p, f, runs, long).read).flat()];
}

/**
 * Gates of a §4 claim beyond its dense gate: the long-run rule, a plateau gate over the runs read at
 * the highest sparsity, an above-chance gate over the SBP-SR pairs there, a divergence gate over
 * every run (long runs included).
 */
function extremeArmGates(p: EocRescalingPlan, f: Family, runs: Partial<BudgetRows>, long: LongRuns, name: string, arm: (r: ExtremeTag) => string): Gate[] {
  const { rows, top } = family(p, f, runs);
  const pruned = rows.filter((r) => r.method !== 'none');
  if (!pruned.some((r) => r.sparsity === top)) return [divergenceGateOf(`${name}, every run`, armsBy(rows, arm))];
  const lr = extremeLongRun(p, f, runs, long);
  const mean = (rs: readonly RunRow<ExtremeTag>[]) => meanOf(rs.filter((r) => r.outcome !== 'diverged' && r.outcome !== 'error' && Number.isFinite(r.acc)).map((r) => r.acc));
  const target = lr.read['sbp-sr'];
  const pairs = target ? Object.entries(lr.read).filter(([m]) => m !== 'sbp-sr').map(([m, rs]) => ({ name: `sbp-sr vs ${m}`, a: mean(target), b: mean(rs) })).filter((x) => Number.isFinite(x.a) && Number.isFinite(x.b)) : [];
  const at = `${+(top * 100).toFixed(2)}%`;
  return [
    lr.gate,
    plateauGateOf(`${name} methods at ${at} (as read)`, lr.read, p.gate.maxFinalEpochGain),
    ...(pairs.length ? [aboveChanceGate(`${name}: SBP-SR pairs at ${at}`, pairs, CHANCE, COLLAPSE_MARGIN)] : []),
    divergenceGateOf(`${name}, every run`, { ...armsBy(rows, arm), ...armsBy(long[f], (r) => `${arm(r)} (long)`) }),
  ];
}

/** §4 FFNN: dense gate of the extreme net, then the arm gates (extremeArmGates). */
export function extremeFfnnGates(p: EocRescalingPlan, runs: Pick<StudyRuns, 'extreme' | 'gates'>, long: LongRuns = NO_LONG_RUNS): Gate[] {
  const e = p.extreme;
  const label = `dense EOC FFNN L=${e.depth} w${e.width}, ${dataShort(e.data)}, ${recipeShort(e.train)} x${e.train.epochs} (converged: x${p.gate.convergedEpochs})`;
  return [
    denseGateOf(label, runs.extreme.filter((r) => r.method === 'none'), runs.gates.filter((r) => r.section === 'extreme'), p.gate.margin, longRunBand()),
    ...extremeArmGates(p, 'ffnn', runs, long, 'FFNN', (r) => `${r.method} s=${r.sparsity}`),
  ];
}

/** §4 ResNet (trained subset): dense gate of the ResNet, then the arm gates (extremeArmGates). */
export function resnetGates(p: EocRescalingPlan, runs: Pick<StudyRuns, 'resnetTrained' | 'gates'>, long: LongRuns = NO_LONG_RUNS): Gate[] {
  const t = p.resnet.trained;
  const label = `dense resnet${p.resnet.depth}, ${dataShort(t.data)}, ${recipeShort(t.train)} x${t.train.epochs} (converged: x${t.convergedEpochs})`;
  return [
    denseGateOf(label, runs.resnetTrained.filter((r) => r.method === 'none'), runs.gates.filter((r) => r.section === 'resnet'), p.gate.margin, longRunBand()),
    ...extremeArmGates(p, 'resnet', runs, long, 'ResNet', (r) => `${r.arch} s=${r.sparsity}`),
  ];
}
