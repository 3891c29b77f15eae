/**
 * Gates of the K-starts / dissipating-gradients study (issue 13; gate rules in notebook/gate.ts):
 * - dense gate, per (model, dataset): the dense arm (same data, recipe and seeds as every sparse arm)
 *   vs the same config run for `convergedEpochs` (arm 'dense, converged', every seed);
 * - plateau gate: every arm a claim compares, per (model, dataset, p), gained at most
 *   `maxFinalEpochGain` test accuracy in its last epoch (sparse arms can need longer than the dense net);
 * - divergence gate: diverged runs of those arms (their accuracies are null in the rows, never averaged in).
 * - long-run rule (chanceLongRun): a claim arm at chance in a cell after the budget may be untrainable
 *   or only slow; its runs are re-trained with the converged schedule (longRunJobs) and every claim
 *   reads those runs (readRows), the plateau gate included.
 * - scope: a (model, dataset) group whose dense gate fails is left out of every claim's checks (its
 *   cells are inconclusive) while the groups that pass still test the claim (scopeByDenseGates).
 * Derived K-starts picks (read off the all-candidates runs) carry no history of their own; the direct
 * K-starts runs and the all-candidates run stand for them.
 */
import { mergeConfigs } from '../engine';
import { chanceLongRun, denseGate, divergenceGate, Gate, Gates, longRunRule, longRunsAt, plateauGate, scopeByDenseGates, sitsAtChance } from '../notebook/gate';
import type { RunAcc } from '../notebook/gate';
import type { Job } from './kstarts-jobs';
import type { Plan } from './kstarts-plan';
import { armsBy } from './trained-gates';

export const CONVERGED_ARM = 'dense, converged';

/** The arms each claim compares (names as in kstarts-plan's ARMS). */
export const CLAIM_ARMS: Record<string, readonly string[]> = {
  'kstarts-beats-random': ['random', 'random, compute-matched', 'K-starts', 'K-starts, all candidates trained'],
  'dissipating-best-at-high-sparsity': ['random', 'magnitude at init', 'SNIP', 'K-starts', 'magnitude at E_d', 'dissipating', 'dissipating, threshold rule'],
  'combination-beats-both': ['random', 'K-starts', 'dissipating', 'combination'],
  'no-retraining-needed': ['random', 'K-starts', 'dissipating', 'combination'],
};

/** Chance accuracy (10 classes) and the band above it within which an arm sits at chance. */
export const CHANCE = 0.1;
export const CHANCE_BAND = 0.05;

/** What a gate needs of a row (kstarts-rows' Row has all of it). */
export interface KsGateRow {
  model: string;
  dataset: string;
  sparsity: number;
  arm: string;
  acc: number | null;
  outcome: string | null;
  error: string | null;
  history: number[] | null;
  /** Row family ('reference', 'kstarts-derived', ...): derived picks and dense references are not runs of a claim arm. */
  family?: string;
}

export interface KsGateSettings {
  /** The recipe, e.g. 'SGD lr 0.05 b128 × 8 epochs'. */
  recipe: string;
  convergedEpochs: number;
  margin: number;
  maxFinalEpochGain: number;
  maxDivergedFraction: number;
  /** Claim 2 is tested at p >= this only (its plateau gate looks there only). */
  highSparsity: number;
}

/** One dense gate per (model, dataset) with a dense arm; failed when the dense runs or the converged run are missing. */
/** A (model, dataset) group's name, as the scope gate lists it. */
const groupOf = (r: Pick<KsGateRow, 'model' | 'dataset'>) => `${r.model}, ${r.dataset}`;

/** One dense gate per (model, dataset) group with a dense arm, in first-appearance order. */
function denseGatesByGroup(rows: readonly KsGateRow[], s: KsGateSettings): Array<{ group: string; gate: Gate }> {
  const groups = [...new Map(rows.filter((r) => r.arm === 'dense').map((r) => [groupOf(r), r] as const)).values()];
  return groups.map(({ model, dataset }) => {
    const acc = (arm: string) => rows.filter((r) => r.arm === arm && r.model === model && r.dataset === dataset && r.acc !== null && r.outcome !== 'diverged').map((r) => r.acc as number);
    const ref = acc('dense'), conv = acc(CONVERGED_ARM);
    const label = `dense ${model}, ${dataset}, ${s.recipe} vs ${s.convergedEpochs} epochs`;
    const gate: Gate = ref.length === 0 || conv.length === 0
      ? { kind: 'dense-converged', label, passed: false, detail: `missing ${ref.length === 0 ? 'dense reference' : 'converged run'} (failed or diverged); the comparison cannot be gated` }
      : denseGate(label, ref, conv, s.margin, { chance: CHANCE, band: CHANCE_BAND });
    return { group: groupOf({ model, dataset }), gate };
  });
}

/** One dense gate per (model, dataset) with a dense arm; failed when the dense runs or the converged run are missing. */
export function ksDenseGates(rows: readonly KsGateRow[], s: KsGateSettings): Gate[] {
  return denseGatesByGroup(rows, s).map((g) => g.gate);
}

type ArmRow = Pick<KsGateRow, 'arm' | 'family' | 'model' | 'dataset' | 'sparsity' | 'acc' | 'outcome' | 'error'>;
/** A claim arm in one cell (model, dataset, p): the unit the long-run rule judges. */
const armCell = (r: Pick<KsGateRow, 'arm' | 'model' | 'dataset' | 'sparsity'>) => `${r.arm}, ${r.model}, ${r.dataset}, p=${r.sparsity}`;
const runAcc = (r: ArmRow): RunAcc => ({ acc: r.acc ?? NaN, outcome: r.error ? 'error' : r.outcome ?? 'error' });
/** Direct runs of an arm some claim compares (derived K-starts picks and the dense references are not runs of their own). */
const claimed = (r: Pick<KsGateRow, 'arm' | 'family'>) => r.family !== 'kstarts-derived' && r.family !== 'reference' && Object.values(CLAIM_ARMS).some((a) => a.includes(r.arm));

/** The claimed runs of `rs` (those passing `filter`) per arm cell, as the long-run rule reads them. */
function runsByCell(rs: readonly ArmRow[], filter: (r: ArmRow) => boolean = () => true): Record<string, RunAcc[]> {
  const out: Record<string, RunAcc[]> = {};
  for (const r of rs) if (claimed(r) && filter(r)) (out[armCell(r)] ??= []).push(runAcc(r));
  return out;
}

/** The claim arms (per cell) whose budget runs sit at chance (mean ≤ CHANCE + CHANCE_BAND). */
function armsAtChance(budget: readonly ArmRow[]): Set<string> {
  return new Set(Object.entries(runsByCell(budget)).filter(([, rs]) => sitsAtChance(rs, CHANCE, CHANCE_BAND)).map(([k]) => k));
}

/** The chance band of notebook 04's long-run rule. */
export const LONG_RUN_BAND = { chance: CHANCE, band: CHANCE_BAND } as const;

/**
 * The long runs: per claim arm at chance in its cell, its jobs with the converged schedule (epochs x
 * convergedEpochs / epochs), first seed first; computed in two steps (notebook/gate.ts stagedLongRuns).
 */
export function longRunJobs(p: Pick<Plan, 'epochs' | 'gate'> & Partial<Pick<Plan, 'budget'>>, budget: readonly ArmRow[], all: readonly Job[]): Job[][] {
  if (!longRunsAt(p.budget)) return [];
  const at = armsAtChance(budget), factor = p.gate.convergedEpochs / p.epochs;
  return Object.values(armsBy(all.filter((j) => j.sparsity !== null && claimed(j) && at.has(armCell({ ...j, sparsity: j.sparsity })))
    .map((j) => ({ ...j, config: mergeConfigs(j.config, { train: { epochs: Math.round(j.config.train!.epochs! * factor) } }) })), (j) => armCell({ ...j, sparsity: j.sparsity as number })));
}

/** The rows every claim reads: the budget rows, with each claim arm found slow in a cell (longRunRule) read from its long runs. */
export function readRows<R extends ArmRow>(budget: readonly R[], long: readonly R[]): R[] {
  const b = runsByCell(budget), l = runsByCell(long);
  const slow = new Set(Object.entries(b).filter(([k, rs]) => longRunRule(rs, l[k] ?? [], LONG_RUN_BAND).status === 'slow').map(([k]) => k));
  const swapped = (r: R) => claimed(r) && slow.has(armCell(r));
  return [...budget.filter((r) => !swapped(r)), ...long.filter(swapped)];
}

/** The long-run rule (chanceLongRun) over the arms of one claim, every cell. */
function claimLongRun(arms: readonly string[], budget: readonly ArmRow[], long: readonly ArmRow[], s: KsGateSettings, epochs: number, filter: (r: ArmRow) => boolean): Gate {
  const mine = (r: ArmRow) => arms.includes(r.arm) && filter(r);
  const b = runsByCell(budget, mine), l = runsByCell(long, mine);
  return chanceLongRun('arms of this claim at chance, re-trained long', Object.fromEntries(Object.entries(b).map(([k, rs]) => [k, { budget: rs, long: l[k] ?? [] }])),
    { ...LONG_RUN_BAND, budgetEpochs: epochs, longEpochs: s.convergedEpochs }).gate;
}

/**
 * The gates of every trained claim of notebook 04 and the rows its checks read. With `long` (the long
 * runs of arms at chance, runLongRuns; `epochs` = the budget's) the rows are readRows(budget, long) and
 * each claim also carries the long-run gate. Then a (model, dataset) group whose dense gate fails is
 * left out (scopeByDenseGates) while another passes; with none passing every dense gate stays and the
 * claims are inconclusive. Plateau and divergence gates look at the rows kept.
 */
export function ksScoped<R extends KsGateRow>(budgetRows: readonly R[], s: KsGateSettings, long?: { rows: readonly R[]; epochs: number }): { rows: R[]; gates: Record<string, Gates>; excluded: string[] } {
  const read = long ? readRows(budgetRows, long.rows) : [...budgetRows];
  const dense = denseGatesByGroup(read, s);
  const scope = dense.length ? scopeByDenseGates('(model, dataset) groups tested', dense) : null;
  const excluded = scope && scope.included.length ? scope.excluded : [];
  const keep = (r: Pick<KsGateRow, 'model' | 'dataset'>) => !excluded.includes(groupOf(r));
  const rows = read.filter(keep);
  const out: Record<string, Gates> = {};
  for (const [id, arms] of Object.entries(CLAIM_ARMS)) {
    const inClaim = (r: Pick<KsGateRow, 'sparsity'>) => id !== 'dissipating-best-at-high-sparsity' || r.sparsity >= s.highSparsity - 1e-12;
    const sel = rows.filter((r) => arms.includes(r.arm) && r.error === null && inClaim(r));
    const hist: Record<string, number[][]> = {};
    const div: Record<string, { diverged: number; runs: number }> = {};
    for (const r of sel) {
      const d = (div[r.arm] ??= { diverged: 0, runs: 0 });
      d.runs++;
      if (r.outcome === 'diverged') { d.diverged++; continue; }
      if (r.history && r.history.length >= 1) (hist[`${r.arm}, ${r.dataset}, p=${r.sparsity}`] ??= []).push(r.history);
    }
    const gates: Gate[] = scope ? [...scope.gates] : [{ kind: 'dense-converged', label: `dense reference, ${s.recipe}`, passed: false, detail: 'no dense runs in the table' }];
    if (Object.keys(hist).length) gates.push(plateauGate(`arms of this claim, ${s.recipe}`, hist, s.maxFinalEpochGain));
    if (Object.keys(div).length) gates.push(divergenceGate(`arms of this claim, ${s.recipe}`, div, s.maxDivergedFraction));
    if (long) {
      const b = budgetRows.filter(keep), l = long.rows.filter(keep);
      if (b.some((r) => claimed(r) && arms.includes(r.arm) && inClaim(r))) gates.push(claimLongRun(arms, b, l, s, long.epochs, inClaim));
    }
    out[id] = gates;
  }
  return { rows, gates: out, excluded };
}

/** The gates of every trained claim of notebook 04 (see ksScoped). */
export function ksGates(budgetRows: readonly KsGateRow[], s: KsGateSettings, long?: { rows: readonly KsGateRow[]; epochs: number }): Record<string, Gates> {
  return ksScoped(budgetRows, s, long).gates;
}
