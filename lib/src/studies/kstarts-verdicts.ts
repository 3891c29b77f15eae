/**
 * The claims of the K-starts / dissipating-gradients study (kstarts-dissipating.ts): one verdict
 * function per claim, computing its checks from the tidy table with the numbers they rest on.
 */
import type { Check, ClaimChecks } from '../notebook/claims';
import { formatMeanSd, formatNumber } from '../notebook/tables';
import { mean, meanSd, quantile } from '../stats';
import type { MeanSd } from '../stats';
import { ARMS, Fitness, FITNESSES, ksArm, ksOracleArm, ksRandomPickArm, Plan, SINGLE_ARMS } from './kstarts-plan';
import type { Row } from './kstarts-rows';
import { Cell, cellId, cellLabel, cellsOf, Metric, paired, Paired, signed, stat, values } from './kstarts-stats';

/** a beats b: more seed wins than losses and a positive mean paired difference. */
function beats(pr: Paired): boolean {
  return pr.n > 0 && pr.meanDiff > 0 && pr.wins > pr.losses;
}

function pairedText(pr: Paired): string {
  return pr.n ? `${pr.wins}/${pr.n} seed-cells won (${pr.losses} lost), mean Δ ${signed(pr.meanDiff)}` : 'no paired data';
}

export interface VerdictSettings {
  /** Primary k and fitness of K-starts. */
  k: number;
  fitnesses: readonly Fitness[];
  /** Sparsities >= highSparsity are "high" (claim 2). */
  highSparsity: number;
  /** Training epochs E (a threshold run that never reaches p counts as needing more than E). */
  epochs: number;
  noiseFloor: number;
}

export function verdictSettings(p: Plan): VerdictSettings {
  return { k: p.primary.k, fitnesses: FITNESSES, highSparsity: p.highSparsity, epochs: p.epochs, noiseFloor: p.noiseFloor };
}

/** A claim's checks and numbers, before the notebook gates them (gatedVerdict), with the per-cell numbers behind them. */
export interface KsClaimChecks extends ClaimChecks {
  /** Per-cell numbers behind the checks, for a table. */
  details: Array<Record<string, unknown>>;
}

/**
 * Claim 1 (K-starts). Per fitness f, at the primary k, over all (model, dataset, p, seed):
 *  (a) K-starts(f) beats the single random mask of the same sparsity and budget;
 *  (b) picking by f beats a random pick among the same k candidates.
 * "Beats" = more seed wins than losses and a positive mean paired difference.
 */
export function verdictKStarts(rs: readonly Row[], s: VerdictSettings): KsClaimChecks {
  const checks: Check[] = [];
  const numbers: Record<string, string | number> = {};
  for (const f of s.fitnesses) {
    const vsRandom = paired(rs, ksArm(s.k, f), ARMS.random);
    const vsPick = paired(rs, ksArm(s.k, f), ksRandomPickArm(s.k));
    checks.push({ label: `K-starts k=${s.k} (${f}) beats one random mask: ${pairedText(vsRandom)}`, passed: beats(vsRandom) });
    checks.push({ label: `picking by ${f} beats a random pick among the ${s.k}: ${pairedText(vsPick)}`, passed: beats(vsPick) });
    numbers[`K-starts k=${s.k} (${f}) − random, mean Δ acc`] = signed(vsRandom.meanDiff);
    numbers[`K-starts k=${s.k} (${f}) vs random: seed wins`] = `${vsRandom.wins}/${vsRandom.n}`;
    numbers[`${f} pick − random pick, mean Δ acc`] = signed(vsPick.meanDiff);
    const pb = rs.filter((r) => r.arm === ksArm(s.k, f) && r.pickIsBest !== null);
    numbers[`${f} pick is the best of ${s.k} after training`] = pb.length ? `${pb.filter((r) => r.pickIsBest).length}/${pb.length} (chance ≈ ${formatNumber(1 / s.k, 2)})` : 'n/a';
    const rho = rs.filter((r) => r.arm === ksArm(s.k, f) && r.spearman !== null).map((r) => r.spearman!);
    numbers[`Spearman(${f} fitness, final acc), mean over runs`] = rho.length ? formatNumber(mean(rho), 3) : 'n/a';
  }
  const cm = paired(rs, ARMS.kstarts, ARMS.randomCM);
  numbers[`K-starts (primary) − compute-matched random, mean Δ acc`] = signed(cm.meanDiff);
  numbers[`K-starts (primary) vs compute-matched random: seed wins`] = `${cm.wins}/${cm.n}`;
  const details = cellsOf(rs, ARMS.random).map((c) => {
    const d: Record<string, unknown> = { cell: cellLabel(c), random: stat(rs, ARMS.random, c) };
    for (const f of s.fitnesses) d[`K-starts (${f})`] = stat(rs, ksArm(s.k, f), c);
    d['random pick'] = stat(rs, ksRandomPickArm(s.k), c);
    d['best after training'] = stat(rs, ksOracleArm(s.k), c);
    d['compute-matched random'] = stat(rs, ARMS.randomCM, c);
    return d;
  });
  return { checks, numbers, details };
}

/**
 * Claim 2 (dissipating gradients). At every high sparsity p >= highSparsity, per (model, dataset):
 *  (a) accuracy: dissipating (primary) has the highest mean final accuracy of the single methods;
 *  (b) epochs: the literal threshold rule needs more epochs to reach p (median over seeds; a run that
 *      never reaches p within E counts as E + 1) than K-starts and the mask-at-init methods.
 * The exact rule reaches p at E_d by construction, so (b) uses the threshold rule; its count is reported.
 */
export function verdictDissipating(rs: readonly Row[], s: VerdictSettings): KsClaimChecks {
  const checks: Check[] = [];
  const numbers: Record<string, string | number> = {};
  const high = (c: Cell) => c.sparsity >= s.highSparsity - 1e-12;
  const cells = cellsOf(rs, ARMS.dissipating, high);
  const details: Array<Record<string, unknown>> = [];
  if (cells.length === 0) checks.push({ label: `no dissipating runs at p >= ${s.highSparsity}`, passed: false });
  for (const c of cells) {
    const means = SINGLE_ARMS.map((a) => ({ arm: a, m: stat(rs, a, c) })).filter((x) => x.m !== null) as Array<{ arm: string; m: MeanSd }>;
    const diss = means.find((x) => x.arm === ARMS.dissipating);
    const others = means.filter((x) => x.arm !== ARMS.dissipating).sort((a, b) => b.m.mean - a.m.mean);
    const best = others[0];
    const pr = best ? paired(rs, ARMS.dissipating, best.arm, { filter: (r) => cellId(r) === cellId(c) }) : null;
    checks.push({
      label: `${cellLabel(c)}: dissipating ${diss ? formatMeanSd(diss.m, undefined, 4) : 'n/a'} vs best other ${best ? `${best.arm} ${formatMeanSd(best.m, undefined, 4)}` : 'n/a'}${pr ? ` (seed wins ${pr.wins}/${pr.n})` : ''}`,
      passed: !!diss && !!best && diss.m.mean > best.m.mean,
    });
    const thr = rs.filter((r) => r.arm === ARMS.threshold && cellId(r) === cellId(c) && r.error === null);
    const epochs = thr.map((r) => (r.epochsToTarget === null ? s.epochs + 1 : r.epochsToTarget));
    const notReached = thr.filter((r) => r.epochsToTarget === null).length;
    // epochs are integers, so the interpolated median is exact: (a + b) / 2 = a + (b − a) / 2
    const med = epochs.length ? quantile(epochs, 0.5) : NaN;
    const otherEpochs = [ARMS.kstarts, ARMS.random, ARMS.magnitude, ARMS.snip].map((a) => ({ arm: a, e: stat(rs, a, c, 'epochsToTarget') }));
    const maxOther = Math.max(...otherEpochs.map((o) => (o.e ? o.e.mean : -Infinity)));
    const exact = stat(rs, ARMS.dissipating, c, 'epochsToTarget');
    const medText = !Number.isFinite(med) ? 'n/a' : med > s.epochs ? `> ${s.epochs} (not reached in ${notReached}/${thr.length} runs)` : `${formatNumber(med, 1)}${notReached ? ` (not reached in ${notReached}/${thr.length})` : ''}`;
    checks.push({
      label: `${cellLabel(c)}: threshold rule needs ${medText} epochs to reach p vs at most ${Number.isFinite(maxOther) ? formatNumber(maxOther, 1) : 'n/a'} for K-starts / mask-at-init (exact rule: ${exact ? formatNumber(exact.mean, 1) : 'n/a'} by construction)`,
      passed: Number.isFinite(med) && Number.isFinite(maxOther) && med > maxOther,
    });
    numbers[`${cellLabel(c)}: dissipating acc`] = diss ? formatMeanSd(diss.m, undefined, 4) : 'n/a';
    numbers[`${cellLabel(c)}: best other single method`] = best ? `${best.arm} ${formatMeanSd(best.m, undefined, 4)}` : 'n/a';
    numbers[`${cellLabel(c)}: threshold-rule epochs to p (median)`] = medText;
    const d: Record<string, unknown> = { cell: cellLabel(c) };
    for (const x of means) d[x.arm] = x.m;
    d['threshold rule: epochs to p (median)'] = medText;
    details.push(d);
  }
  return { checks, numbers, details };
}

/**
 * Claim 3 (combination). In every (model, dataset, p) cell the combination beats K-starts (primary),
 * dissipating (primary) and the random mask in a majority of seeds ("consistently": all cells).
 */
export function verdictCombination(rs: readonly Row[], s: VerdictSettings): KsClaimChecks {
  void s;
  const checks: Check[] = [];
  const numbers: Record<string, string | number> = {};
  const cells = cellsOf(rs, ARMS.combined);
  const details: Array<Record<string, unknown>> = cells.map((c) => ({ cell: cellLabel(c), combination: stat(rs, ARMS.combined, c) }));
  for (const other of [ARMS.kstarts, ARMS.dissipating, ARMS.random]) {
    let okCells = 0;
    cells.forEach((c, i) => {
      const pr = paired(rs, ARMS.combined, other, { filter: (r) => cellId(r) === cellId(c) });
      const ok = pr.n > 0 && pr.wins > pr.n / 2;
      if (ok) okCells++;
      details[i][other] = stat(rs, other, c);
      details[i][`wins vs ${other}`] = `${pr.wins}/${pr.n}`;
    });
    const all = paired(rs, ARMS.combined, other);
    checks.push({ label: `combination beats ${other} in most seeds in ${okCells}/${cells.length} cells (all seeds: ${pairedText(all)})`, passed: cells.length > 0 && okCells === cells.length });
    numbers[`cells where the combination beats ${other} in most seeds`] = `${okCells}/${cells.length}`;
    numbers[`combination − ${other}, mean Δ acc`] = signed(all.meanDiff);
  }
  return { checks, numbers, details };
}

/**
 * Claim 4 (no retraining), for K-starts, dissipating and the combination, in every cell:
 *  (a) "not needed": the accuracy right after the net reached p is within noise of its final accuracy
 *      after the rest of the run's training with the mask fixed;
 *  (b) "does not change performance": an extra fine-tune phase changes the final accuracy by no more
 *      than noise.
 * Noise = max(sd over seeds of the final accuracy, noiseFloor); compared with |mean paired Δ|.
 */
export function verdictNoRetraining(rs: readonly Row[], s: VerdictSettings): KsClaimChecks {
  const checks: Check[] = [];
  const numbers: Record<string, string | number> = {};
  const details: Array<Record<string, unknown>> = [];
  const methods = [ARMS.kstarts, ARMS.dissipating, ARMS.combined];
  const within = (arm: string, from: Metric, to: Metric) => {
    let ok = 0, worst = 0;
    const cells = cellsOf(rs, arm);
    for (const c of cells) {
      const pr = paired(rs, arm, arm, { metricA: to, metricB: from, filter: (r) => cellId(r) === cellId(c) });
      const fin = values(rs, arm, c, 'acc');
      const sd = fin.length > 1 ? meanSd(fin).sd : NaN;
      const tol = Math.max(Number.isFinite(sd) ? sd : 0, s.noiseFloor);
      if (pr.n > 0 && Math.abs(pr.meanDiff) <= tol) ok++;
      if (pr.n > 0 && Math.abs(pr.meanDiff) > Math.abs(worst)) worst = pr.meanDiff;
    }
    return { ok, total: cells.length, worst, all: paired(rs, arm, arm, { metricA: to, metricB: from }) };
  };
  for (const m of methods) {
    const a = within(m, 'accAtTarget', 'acc');
    checks.push({ label: `${m}: accuracy at p is within noise of the accuracy after further training in ${a.ok}/${a.total} cells (final − at target: mean ${signed(a.all.meanDiff)}, largest ${signed(a.worst)})`, passed: a.total > 0 && a.ok === a.total });
    const b = within(m, 'acc', 'extraAcc');
    checks.push({ label: `${m}: extra fine-tuning changes the final accuracy by no more than noise in ${b.ok}/${b.total} cells (after − before: mean ${signed(b.all.meanDiff)}, largest ${signed(b.worst)})`, passed: b.total > 0 && b.ok === b.total });
    numbers[`${m}: acc at target → final (mean Δ)`] = signed(a.all.meanDiff);
    numbers[`${m}: final → after fine-tune (mean Δ)`] = signed(b.all.meanDiff);
    numbers[`${m}: cells within noise (at target / fine-tune)`] = `${a.ok}/${a.total} / ${b.ok}/${b.total}`;
  }
  const rnd = paired(rs, ARMS.random, ARMS.random, { metricA: 'extraAcc', metricB: 'acc' });
  numbers['random mask (reference): final → after fine-tune (mean Δ)'] = signed(rnd.meanDiff);
  for (const m of [...methods, ARMS.random]) {
    for (const c of cellsOf(rs, m)) {
      details.push({ method: m, cell: cellLabel(c), 'at target': stat(rs, m, c, 'accAtTarget'), 'final (as trained)': stat(rs, m, c, 'acc'), 'after fine-tune': stat(rs, m, c, 'extraAcc'), 'epochs to target': stat(rs, m, c, 'epochsToTarget') });
    }
  }
  return { checks, numbers, details };
}

/**
 * Internal consistency of the derivation (not a claim): K-starts at k = 1 read off the
 * all-candidates run equals the random baseline, and K-starts at the primary k and fitness read
 * off it equals the direct K-starts run. Exact equality is expected (deterministic training).
 */
export function consistency(rs: readonly Row[], s: VerdictSettings, fitness: Fitness): Check[] {
  const out: Check[] = [];
  for (const [a, b] of [[ksArm(1, fitness), ARMS.random], [ksArm(s.k, fitness), ARMS.kstarts]] as const) {
    const pr = paired(rs, a, b);
    const maxAbs = pr.diffs.reduce((m, d) => Math.max(m, Math.abs(d)), 0);
    out.push({ label: `${a} (derived) = ${b} (direct run): max |Δ acc| = ${formatNumber(maxAbs, 6)} over ${pr.n} runs`, passed: pr.n > 0 && maxAbs <= 1e-9 });
  }
  return out;
}
