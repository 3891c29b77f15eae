/**
 * Tables and text of the K-starts / dissipating-gradients study (kstarts-dissipating.ts): the plan's
 * choices, accuracies, epochs, the K-starts sweep, the variants and the dense references.
 */
import { formatNumber } from '../notebook/tables';
import { meanSd } from '../stats';
import { CONVERGED_ARM } from './kstarts-gates';
import { ARMS, FITNESSES, ksArm, ksOracleArm, ksRandomPickArm, MAIN_ARMS, Plan, Variant } from './kstarts-plan';
import type { Row } from './kstarts-rows';
import { Cell, cellId, cellLabel, cellsOf, paired, stat } from './kstarts-stats';

/** The plan's choices as rows for a table (what every constant is, and that it is ours). */
export function planTable(p: Plan): Array<{ choice: string; value: string }> {
  const pr = p.primary;
  return [
    { choice: 'models', value: p.models.map((m) => m.label).join('; ') },
    { choice: 'data (train/test subset)', value: p.datasets.map((d) => d.label).join('; ') },
    { choice: 'sparsity p (fraction removed)', value: p.sparsities.join(', ') + ` (high: p >= ${p.highSparsity})` },
    { choice: 'epochs E (selection/pruning included)', value: String(p.epochs) },
    { choice: 'optimizer', value: `SGD lr ${p.train.lr}, momentum ${p.train.momentum}, batch ${p.train.batchSize}, no weight decay; LR x0.1 at 50% and 75% of E` },
    { choice: 'masks', value: 'unstructured, all weight kernels, biases unpruned; random masks per layer at density 1 - p; magnitude/SNIP masks global' },
    { choice: 'K-starts (primary)', value: `k = ${pr.k}, E_s = ${pr.selectionEpochs}, fitness = ${pr.fitness} (sum of |w| over surviving weights), argmax, shared W0, winner continues` },
    { choice: 'K-starts sweep', value: `k in {${p.ks.join(', ')}}, fitness in {${FITNESSES.join(', ')}} ('both' = sum of the two fractional ranks)` },
    { choice: 'dissipating (primary)', value: `exact-count rule: after each of E_d = ${pr.dissipationEpochs} epochs prune the live weights with the smallest r = |w_t - w0| / (|w0| + 0.01 RMS(W0_l)), per layer, geometric density schedule to 1 - p` },
    { choice: 'dissipating (threshold rule)', value: `prune every live weight with |w_t - w0| <= ${pr.thresholdAlpha} |w0| after each epoch until p is reached (or E runs out)` },
    { choice: 'combination (primary)', value: `A: K-starts (k = ${pr.k}, ${pr.fitness}) at p1 = 1 - sqrt(1 - p), then dissipation to p over E_d = ${pr.dissipationEpochs} epochs` },
    { choice: 'retraining test', value: `fine-tune the final p-sparse net ${pr.extraEpochs} more epoch(s) at lr ${pr.extraLr}` },
    { choice: 'seeds', value: p.seeds.join(', ') + ' (init, masks and data order from separate streams)' },
    { choice: 'variants (sensitivity)', value: `${p.variants.map((v) => v.arm).join('; ')} — on ${p.variantDatasets.join(', ')}, p in {${p.variantSparsities.join(', ')}}` },
    { choice: 'recipe (how chosen)', value: p.recipeNote },
    { choice: 'dense reference and gates', value: `dense LeNet with the same data, recipe and seeds; converged = the same config run ${p.gate.convergedEpochs} epochs (same seeds, mean); trained claims count only if dense ≥ converged − ${100 * p.gate.margin} points, every arm compared gained ≤ ${100 * p.gate.maxFinalEpochGain} point in its last epoch and none diverged; else 'inconclusive'` },
  ];
}

/** Mean ± sd final accuracy per (model, dataset, arm), one column per sparsity; dense in every column. */
export function accuracyTable(rs: readonly Row[], arms: readonly string[] = [ARMS.dense, ...MAIN_ARMS]): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const groups = [...new Set(rs.map((r) => `${r.model}|${r.dataset}`))];
  const ps = [...new Set(rs.filter((r) => r.arm !== ARMS.dense).map((r) => r.sparsity))].sort((a, b) => a - b);
  for (const g of groups) {
    const [model, dataset] = g.split('|');
    for (const arm of arms) {
      const row: Record<string, unknown> = { model, dataset, method: arm };
      let any = false;
      for (const p of ps) {
        const c = { model, dataset, sparsity: arm === ARMS.dense ? 0 : p };
        const st = stat(rs, arm, c);
        row[`p=${p}`] = st;
        if (st) any = true;
      }
      if (any) out.push(row);
    }
  }
  return out;
}

/** Epochs to the target sparsity, passes over the data and seconds per run, by arm (pooled over cells; threshold rule per p). */
export function epochsTable(rs: readonly Row[], epochs: number): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const describe = (arm: string, sel: Row[], label: string) => {
    if (sel.length === 0) return;
    const reached = sel.filter((r) => r.epochsToTarget !== null);
    const ep = reached.map((r) => r.epochsToTarget!);
    const pass = sel.map((r) => r.passes).filter((x): x is number => x !== null);
    const sec = sel.map((r) => r.seconds).filter((x): x is number => x !== null);
    out.push({
      method: label, 'epochs to reach p': ep.length ? meanSd(ep) : null, 'reached p': `${reached.length}/${sel.length}`,
      'passes over the data': pass.length ? meanSd(pass) : null, 'seconds per run': sec.length ? meanSd(sec) : null,
    });
  };
  for (const arm of MAIN_ARMS) {
    if (arm === ARMS.threshold) {
      const ps = [...new Set(rs.filter((r) => r.arm === arm).map((r) => r.sparsity))].sort((a, b) => a - b);
      for (const p of ps) describe(arm, rs.filter((r) => r.arm === arm && r.sparsity === p && r.error === null), `${arm} (p=${p}; not reached = more than ${epochs})`);
    } else describe(arm, rs.filter((r) => r.arm === arm && r.error === null), arm);
  }
  return out;
}

/** K-starts by k and fitness: Δ accuracy vs the single random mask (paired), pick-is-best rate, Spearman. */
export function kstartsTable(rs: readonly Row[], ks: readonly number[]): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const k of ks) {
    const arms: Array<[string, string]> = [...FITNESSES.map((f) => [ksArm(k, f), f] as [string, string]), [ksRandomPickArm(k), 'random pick'], [ksOracleArm(k), 'best after training']];
    for (const [arm, label] of arms) {
      const pr = paired(rs, arm, ARMS.random);
      if (pr.n === 0) continue;
      const pb = rs.filter((r) => r.arm === arm && r.pickIsBest !== null);
      const rho = rs.filter((r) => r.arm === arm && r.spearman !== null).map((r) => r.spearman!);
      out.push({
        k, pick: label, 'Δ acc vs random mask': meanSd(pr.diffs), 'seed wins': `${pr.wins}/${pr.n}`,
        'pick is best': pb.length ? `${pb.filter((r) => r.pickIsBest).length}/${pb.length}` : '', 'chance': k > 1 && pb.length ? formatNumber(1 / k, 2) : '',
        'Spearman(fitness, acc)': rho.length ? meanSd(rho) : null,
      });
    }
  }
  return out;
}

/** Variants next to their primary arm: mean ± sd, paired Δ vs the primary and vs the random mask. */
export function sensitivityTable(rs: readonly Row[], variants: readonly Variant[]): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const v of variants) {
    for (const c of cellsOf(rs, v.arm)) {
      const f = (r: Cell) => cellId(r) === cellId(c);
      const vsPrimary = paired(rs, v.arm, v.of, { filter: f });
      const vsRandom = paired(rs, v.arm, ARMS.random, { filter: f });
      const ep = rs.filter((r) => r.arm === v.arm && cellId(r) === cellId(c));
      const extra = stat(rs, v.arm, c, 'extraAcc');
      out.push({
        variant: v.arm, 'differs from': `${v.of}: ${v.what}`, cell: cellLabel(c, false), acc: stat(rs, v.arm, c),
        'Δ vs primary': vsPrimary.n ? meanSd(vsPrimary.diffs) : null, 'Δ vs random': vsRandom.n ? meanSd(vsRandom.diffs) : null,
        'reached p': `${ep.filter((r) => r.reached).length}/${ep.length}`, 'after extra phase': extra,
      });
    }
  }
  return out;
}

/** The dense reference per seed and its converged run, per (model, dataset), for the gate table. */
export function denseReferenceRows(rs: readonly Row[]): Array<Record<string, unknown>> {
  return rs.filter((r) => r.arm === ARMS.dense || r.arm === CONVERGED_ARM).map((r) => ({
    model: r.model, dataset: r.dataset, run: r.arm, seed: r.seed, epochs: r.history ? r.history.length : null, outcome: r.outcome ?? r.error,
    'final test accuracy': r.acc, 'last-epoch gain': r.history && r.history.length >= 2 ? r.history[r.history.length - 1] - r.history[r.history.length - 2] : null,
  }));
}

/** The setting line for claims. */
export function settingText(p: Plan): string {
  return `${p.models.map((m) => m.label).join(' and ')} on ${p.datasets.map((d) => d.label).join(' and ')}; p ∈ {${p.sparsities.join(', ')}}; ` +
    `E = ${p.epochs} epochs SGD (lr ${p.train.lr}, momentum ${p.train.momentum}, batch ${p.train.batchSize}); K-starts k = ${p.primary.k} (sweep k ∈ {${p.ks.join(', ')}}), E_s = ${p.primary.selectionEpochs}; ` +
    `dissipating E_d = ${p.primary.dissipationEpochs} (relative change, per layer); combination A; dense gate vs ${p.gate.convergedEpochs} epochs (margin ${100 * p.gate.margin} points), plateau ≤ ${100 * p.gate.maxFinalEpochGain} point; budget ${p.budget}, seeds ${p.seeds.join(', ')}; every constant is the project's choice.`;
}
