/**
 * Gates of the K-starts / dissipating-gradients study (issue 13; gate rules in notebook/gate.ts):
 * - dense gate, per (model, dataset): the dense arm (same data, recipe and seeds as every sparse arm)
 *   vs the same config run for `convergedEpochs` (arm 'dense, converged', first seed);
 * - plateau gate: every arm a claim compares, per (model, dataset, p), gained at most
 *   `maxFinalEpochGain` test accuracy in its last epoch (sparse arms can need longer than the dense net);
 * - divergence gate: diverged runs of those arms (their accuracies are null in the rows, never averaged in).
 * - scope: a (model, dataset) group whose dense gate fails is left out of every claim's checks (its
 *   cells are inconclusive) while the groups that pass still test the claim (scopeByDenseGates).
 * Derived K-starts picks (read off the all-candidates runs) carry no history of their own; the direct
 * K-starts runs and the all-candidates run stand for them.
 */
import { denseGate, divergenceGate, Gate, Gates, plateauGate, scopeByDenseGates } from '../notebook/gate';

export const CONVERGED_ARM = 'dense, converged';

/** The arms each claim compares (names as in kstarts-dissipating's ARMS). */
export const CLAIM_ARMS: Record<string, readonly string[]> = {
  'kstarts-beats-random': ['random', 'random, compute-matched', 'K-starts', 'K-starts, all candidates trained'],
  'dissipating-best-at-high-sparsity': ['random', 'magnitude at init', 'SNIP', 'K-starts', 'magnitude at E_d', 'dissipating', 'dissipating, threshold rule'],
  'combination-beats-both': ['random', 'K-starts', 'dissipating', 'combination'],
  'no-retraining-needed': ['random', 'K-starts', 'dissipating', 'combination'],
};

/** What a gate needs of a row (kstarts-dissipating's Row has all of it). */
export interface KsGateRow {
  model: string;
  dataset: string;
  sparsity: number;
  arm: string;
  acc: number | null;
  outcome: string | null;
  error: string | null;
  history: number[] | null;
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
export function ksDenseGates(rows: readonly KsGateRow[], s: KsGateSettings): Gate[] {
  const groups = [...new Set(rows.filter((r) => r.arm === 'dense').map((r) => `${r.model}|${r.dataset}`))];
  return groups.map((g) => {
    const [model, dataset] = g.split('|');
    const acc = (arm: string) => rows.filter((r) => r.arm === arm && r.model === model && r.dataset === dataset && r.acc !== null && r.outcome !== 'diverged').map((r) => r.acc as number);
    const ref = acc('dense'), conv = acc(CONVERGED_ARM);
    const label = `dense ${model}, ${dataset}, ${s.recipe} vs ${s.convergedEpochs} epochs`;
    if (ref.length === 0 || conv.length === 0) {
      return { kind: 'dense-converged' as const, label, passed: false, detail: `missing ${ref.length === 0 ? 'dense reference' : 'converged run'} (failed or diverged); the comparison cannot be gated` };
    }
    return denseGate(label, ref, conv, s.margin);
  });
}

/**
 * The gates of every trained claim of notebook 04 and the rows its checks may read: the (model,
 * dataset) groups whose dense gate passed (all groups when none passes: then the claims are
 * inconclusive). Plateau and divergence gates look at the rows kept.
 */
export function ksScoped<R extends KsGateRow>(rows: readonly R[], s: KsGateSettings): { rows: R[]; gates: Record<string, Gates>; excluded: string[] } {
  const dense = ksDenseGates(rows, s);
  const groupOf = (r: KsGateRow) => `${r.model}, ${r.dataset}`;
  const denseGroups = [...new Set(rows.filter((r) => r.arm === 'dense').map(groupOf))];
  const scope = dense.length ? scopeByDenseGates('(model, dataset) groups tested', denseGroups.map((group, i) => ({ group, gate: dense[i] }))) : null;
  const excluded = scope && scope.included.length ? scope.excluded : [];
  const kept = rows.filter((r) => !excluded.includes(groupOf(r)));
  const out: Record<string, Gates> = {};
  for (const [id, arms] of Object.entries(CLAIM_ARMS)) {
    const sel = kept.filter((r) => arms.includes(r.arm) && r.error === null && (id !== 'dissipating-best-at-high-sparsity' || r.sparsity >= s.highSparsity - 1e-12));
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
    out[id] = gates;
  }
  return { rows: kept, gates: out, excluded };
}

/** The gates of every trained claim of notebook 04 (see ksScoped). */
export function ksGates(rows: readonly KsGateRow[], s: KsGateSettings): Record<string, Gates> {
  return ksScoped(rows, s).gates;
}
