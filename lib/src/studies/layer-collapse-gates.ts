/**
 * Gates of notebook 01's training claim (the rule is notebook/gate.ts; helpers: trained-gates.ts),
 * and the long-run rule for its EOC SNIP arms. The claim reads the EOC SNIP arms as "still trains"
 * where the ordered or chaotic mask has an empty layer; an EOC SNIP arm at chance after the budget
 * may be untrainable or only slow (deep sparse tanh nets can sit at chance for many epochs), so it
 * is re-trained with the dense reference's converged schedule (its first run, then all if that one
 * leaves chance) and the claim reads the long runs of a slow arm. The
 * arms with an empty layer need no long run: they compute a constant function, at chance by
 * construction whatever the schedule.
 */
import { longSchedule } from '../experiment';
import type { PruneTrainConfig } from '../experiment';
import type { FfnnConfig } from '../models';
import { aboveChanceGate, chanceLongRun, GATE_DEFAULTS, longRunsAt, sitsAtChance } from '../notebook/gate';
import type { Gate, RunAcc } from '../notebook/gate';
import { mean as meanOf } from '../stats';
import type { LayerCollapsePlan } from './layer-collapse-plan';
import type { TrainRow } from './layer-collapse-training';
import { armsBy, denseGateOf, divergenceGateOf, plateauGateOf } from './trained-gates';

type Plan = Pick<LayerCollapsePlan, 'training' | 'tolerances'> & Partial<Pick<LayerCollapsePlan, 'budget'>>;

const isEocSnip = (r: { method: string; phase: string }) => r.method === 'snip' && r.phase === 'eoc';
const armKey = (r: { arm: string; sparsity: number }) => `${r.arm} s=${r.sparsity}`;

/**
 * The long runs the claim may need, per EOC SNIP arm (dataset, sparsity) whose budget runs sit at
 * chance (mean ≤ chance + chanceTol): its configs with the converged schedule (longSchedule), first
 * seed first. Computed in two steps (notebook/gate.ts stagedLongRuns). `results[i]` is the outcome of
 * `configs[i]` (the budget's training configs, in order).
 */
export function longRunArms(p: Plan, configs: readonly PruneTrainConfig[], results: readonly RunAcc[]): PruneTrainConfig[][] {
  if (!longRunsAt(p.budget)) return [];
  if (configs.length !== results.length) throw new Error(`longRunArms: ${configs.length} configs but ${results.length} results; give one result per training config.`);
  const arms = new Map<string, number[]>();
  configs.forEach((c, i) => {
    const phase = (c.model as FfnnConfig).init?.scheme;
    if (c.train.epochs !== p.training.train.epochs || !isEocSnip({ method: c.prune.method, phase: String(phase) })) return;
    const k = `${c.data.name}|${c.prune.sparsity}`;
    arms.set(k, [...(arms.get(k) ?? []), i]);
  });
  const t = p.tolerances;
  return [...arms.values()].filter((idx) => sitsAtChance(idx.map((i) => results[i]), t.chance, t.chanceTol))
    .map((idx) => idx.map((i) => longSchedule(configs[i], p.training.convergedEpochs)));
}

/** The chance band of the long-run rule (stagedLongRuns, chanceLongRun). */
export const longRunBand = (p: Plan) => ({ chance: p.tolerances.chance, band: p.tolerances.chanceTol });

/** The long-run rule over one dataset's EOC SNIP arms: budget runs vs their long runs (converged-flagged rows). */
export function eocSnipLongRun(p: Plan, rows: readonly TrainRow[], dataset: string): ReturnType<typeof chanceLongRun<TrainRow>> {
  const mine = rows.filter((r) => r.dataset === dataset && isEocSnip(r));
  const budget = armsBy(mine.filter((r) => !r.converged), armKey), long = armsBy(mine.filter((r) => r.converged), armKey);
  const arms = Object.fromEntries(Object.entries(budget).map(([k, b]) => [k, { budget: b, long: long[k] ?? [] }]));
  if (Object.keys(arms).length === 0) throw new Error(`eocSnipLongRun: no EOC SNIP run on ${dataset}.`);
  return chanceLongRun(`${dataset}: EOC SNIP arms at chance, re-trained long`, arms,
    { ...longRunBand(p), budgetEpochs: p.training.train.epochs, longEpochs: p.training.convergedEpochs });
}

/**
 * The finished arm runs the claim reads: the budget's runs, except that an EOC SNIP arm found slow
 * is read from its long runs (eocSnipLongRun). Converged dense runs are not arms and are left out.
 */
export function rowsRead(p: Plan, rows: readonly TrainRow[]): TrainRow[] {
  const out = rows.filter((r) => !r.converged && !isEocSnip(r));
  for (const d of [...new Set(rows.filter(isEocSnip).map((r) => r.dataset))]) out.push(...Object.values(eocSnipLongRun(p, rows, d).read).flat());
  return out.filter((r) => r.outcome !== 'diverged');
}

/**
 * Gates of the training claim, per dataset: the dense EOC net against its converged run (the
 * collapsed ordered/chaotic arms compute a constant function whatever the training, so the EOC
 * arm is the one whose accuracy depends on it); the long-run rule over the EOC SNIP arms; a plateau
 * gate over the EOC SNIP runs the claim reads; an above-chance gate over the SNIP phase pairs (EOC
 * vs ordered, EOC vs chaotic at every sparsity of the grid: if every pair sits at chance, the
 * recipe trained no pruned net and the comparison tests nothing); a divergence gate over every run.
 */
export function trainingGates(p: LayerCollapsePlan, rows: readonly TrainRow[], margin: number = GATE_DEFAULTS.margin, maxGain: number = GATE_DEFAULTS.maxFinalEpochGain): Gate[] {
  const t = p.training.train, tol = p.tolerances;
  const gates: Gate[] = [];
  for (const d of p.training.datasets) {
    const mine = rows.filter((r) => r.dataset === d.name);
    const denseEoc = mine.filter((r) => r.method === 'none' && r.phase === 'eoc');
    gates.push(denseGateOf(`dense EOC FFNN L=${p.training.depth}, ${d.name} ${d.trainLimit || 'all'}/${d.testLimit || 'all'}, ${t.optimizer ?? 'sgd'} ${t.lr} b${t.batchSize} x${t.epochs} (converged: x${p.training.convergedEpochs})`,
      denseEoc.filter((r) => !r.converged), denseEoc.filter((r) => r.converged), margin, longRunBand(p)));
    const long = eocSnipLongRun(p, mine, d.name);
    gates.push(long.gate);
    gates.push(plateauGateOf(`${d.name}: EOC SNIP arms (as read)`, long.read, maxGain));
    const read = rowsRead(p, mine);
    const mean = (rs: TrainRow[]) => meanOf(rs.map((r) => r.acc));
    const pairs = [...new Set(read.filter(isEocSnip).map((r) => r.sparsity))].sort((a, b) => a - b).flatMap((s) => (['ordered', 'chaotic'] as const).map((ph) => ({
      name: `EOC vs ${ph} SNIP s=${s}`, a: mean(read.filter((r) => isEocSnip(r) && r.sparsity === s)), b: mean(read.filter((r) => r.method === 'snip' && r.phase === ph && r.sparsity === s)),
    }))).filter((x) => Number.isFinite(x.a) && Number.isFinite(x.b));
    if (pairs.length) gates.push(aboveChanceGate(`${d.name}: SNIP phase pairs`, pairs, tol.chance, tol.chanceTol));
    gates.push(divergenceGateOf(`${d.name}: every run`, armsBy(mine.filter((r) => r.method !== 'none' || !r.converged), (r) => `${armKey(r)}${r.converged ? ` x${p.training.convergedEpochs}` : ''}`)));
  }
  return gates;
}
