/**
 * Verdicts of notebook 02's claims (eoc-rescaling.ts), pure: summaries in, checks with their numbers
 * out; and the glue from measured rows to verdict inputs.
 */
import type { Phase } from '../eoc';
import type { Check, ClaimChecks } from '../notebook/claims';
import { mean as avg } from '../stats';
import { COLLAPSE_MARGIN, SIGNAL_BAND, TRAINABLE_MARGIN } from './eoc-rescaling-constants';
import type { ExtremeTag, Fig2Tag, RunRow } from './eoc-rescaling-jobs';
import type { Arm } from './eoc-rescaling-plan';
import type { SignalVariant } from './eoc-rescaling-signal';
import { keptFraction, summarize } from './eoc-rescaling-summaries';
import type { AccSummary } from './eoc-rescaling-summaries';

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : String(x));
const pct = (s: number) => `${+(s * 100).toFixed(2)}%`;

/**
 * Verdict 1: rescaling keeps the pruned EOC net's signal variance near q*, the unrescaled one decays.
 * Input: q at the deepest recorded layer over q*, seed mean, per (variant, sparsity); dense has sparsity 0.
 */
export function signalVerdict(ratios: ReadonlyArray<{ variant: SignalVariant; sparsity: number; ratio: number }>, band = SIGNAL_BAND): ClaimChecks {
  if (!(band > 1)) throw new Error(`signalVerdict: band must be > 1, got ${band}.`);
  const get = (variant: SignalVariant, s: number) => ratios.find((r) => r.variant === variant && r.sparsity === s);
  const near = (x: number) => x >= 1 / band && x <= band;
  const dense = ratios.find((r) => r.variant === 'dense');
  if (!dense) throw new Error('signalVerdict: no dense row; measure the dense EOC net too.');
  const sparsities = [...new Set(ratios.filter((r) => r.variant !== 'dense').map((r) => r.sparsity))].sort((a, b) => a - b);
  if (sparsities.length === 0) throw new Error('signalVerdict: no pruned rows.');
  const checks: Check[] = [{ label: `dense EOC net: q^L/q* = ${f3(dense.ratio)} within [${f3(1 / band)}, ${band}]`, passed: near(dense.ratio) }];
  const numbers: Record<string, string | number> = { 'dense q^L/q*': dense.ratio };
  for (const s of sparsities) {
    const resc = get('rescaled', s), pr = get('pruned', s);
    if (!resc || !pr) throw new Error(`signalVerdict: sparsity ${s} needs both a 'pruned' and a 'rescaled' row.`);
    checks.push({ label: `${pct(s)}: rescaled q^L/q* = ${f3(resc.ratio)} within [${f3(1 / band)}, ${band}]`, passed: near(resc.ratio) });
    checks.push({ label: `${pct(s)}: unrescaled q^L/q* = ${f3(pr.ratio)} < ${f3(1 / band)} (decayed)`, passed: pr.ratio < 1 / band });
    numbers[`${pct(s)} pruned q^L/q*`] = pr.ratio;
    numbers[`${pct(s)} rescaled q^L/q*`] = resc.ratio;
  }
  return { checks, numbers };
}

export interface ArmCell { depth: number; sparsity: number; arm: Arm; mean: number }

/**
 * Verdict 2: EOC + rescaling ≥ EOC > ordered (means over the grid), and both gaps (rescaling over
 * EOC, EOC over ordered) larger at the deepest than at the shallowest depth (averaged over
 * sparsities) and at the highest than at the lowest sparsity (averaged over depths).
 */
export function orderingVerdict(cells: readonly ArmCell[]): ClaimChecks {
  const depths = [...new Set(cells.map((c) => c.depth))].sort((a, b) => a - b);
  const sparsities = [...new Set(cells.map((c) => c.sparsity))].sort((a, b) => a - b);
  const acc = (arm: Arm, d: number, s: number): number => {
    const c = cells.find((x) => x.arm === arm && x.depth === d && x.sparsity === s);
    if (!c) throw new Error(`orderingVerdict: missing cell arm=${arm}, depth=${d}, sparsity=${s}; every arm needs every (depth, sparsity).`);
    return c.mean;
  };
  const all = (f: (d: number, s: number) => number) => avg(depths.flatMap((d) => sparsities.map((s) => f(d, s))));
  const gapR = (d: number, s: number) => acc('eoc+rescale', d, s) - acc('eoc', d, s);
  const gapO = (d: number, s: number) => acc('eoc', d, s) - acc('ordered', d, s);
  const atDepth = (g: typeof gapR, d: number) => avg(sparsities.map((s) => g(d, s)));
  const atSparsity = (g: typeof gapR, s: number) => avg(depths.map((d) => g(d, s)));
  const dLo = depths[0], dHi = depths[depths.length - 1], sLo = sparsities[0], sHi = sparsities[sparsities.length - 1];
  const mR = all((d, s) => acc('eoc+rescale', d, s)), mE = all((d, s) => acc('eoc', d, s)), mO = all((d, s) => acc('ordered', d, s));
  const cellsRge = depths.flatMap((d) => sparsities.map((s) => gapR(d, s) >= 0)).filter(Boolean).length;
  const cellsEgo = depths.flatMap((d) => sparsities.map((s) => gapO(d, s) > 0)).filter(Boolean).length;
  const nCells = depths.length * sparsities.length;
  const checks: Check[] = [
    { label: `grid mean: EOC+rescaling ${f3(mR)} ≥ EOC ${f3(mE)}`, passed: mR >= mE },
    { label: `grid mean: EOC ${f3(mE)} > ordered ${f3(mO)}`, passed: mE > mO },
  ];
  if (depths.length > 1) {
    checks.push({ label: `rescaling gain grows with depth: ${f3(atDepth(gapR, dHi))} at L=${dHi} > ${f3(atDepth(gapR, dLo))} at L=${dLo}`, passed: atDepth(gapR, dHi) > atDepth(gapR, dLo) });
    checks.push({ label: `EOC-over-ordered gap grows with depth: ${f3(atDepth(gapO, dHi))} at L=${dHi} > ${f3(atDepth(gapO, dLo))} at L=${dLo}`, passed: atDepth(gapO, dHi) > atDepth(gapO, dLo) });
  }
  if (sparsities.length > 1) {
    checks.push({ label: `rescaling gain grows with sparsity: ${f3(atSparsity(gapR, sHi))} at ${pct(sHi)} > ${f3(atSparsity(gapR, sLo))} at ${pct(sLo)}`, passed: atSparsity(gapR, sHi) > atSparsity(gapR, sLo) });
    checks.push({ label: `EOC-over-ordered gap grows with sparsity: ${f3(atSparsity(gapO, sHi))} at ${pct(sHi)} > ${f3(atSparsity(gapO, sLo))} at ${pct(sLo)}`, passed: atSparsity(gapO, sHi) > atSparsity(gapO, sLo) });
  }
  const numbers: Record<string, string | number> = {
    'grid mean acc, EOC+rescaling': mR, 'grid mean acc, EOC': mE, 'grid mean acc, ordered': mO,
    'cells with EOC+rescaling ≥ EOC': `${cellsRge}/${nCells}`, 'cells with EOC > ordered': `${cellsEgo}/${nCells}`,
    [`rescaling gain at L=${dHi}, ${pct(sHi)}`]: gapR(dHi, sHi), [`rescaling gain at L=${dLo}, ${pct(sLo)}`]: gapR(dLo, sLo),
  };
  return { checks, numbers };
}

export interface MethodCell { method: string; sparsity: number; mean: number; n: number }

/** Collapsed: mean final accuracy ≤ chance + COLLAPSE_MARGIN. Trainable: ≥ chance + TRAINABLE_MARGIN. */
export function isCollapsedAcc(mean: number, chance: number): boolean { return !(mean > chance + COLLAPSE_MARGIN); }
export function isTrainableAcc(mean: number, chance: number): boolean { return mean >= chance + TRAINABLE_MARGIN; }

/** Per method, the sparsities (ascending) at which it collapses ('none', the dense reference, is skipped). */
export function collapseTable(cells: readonly MethodCell[], chance: number): Array<{ method: string; collapsedAt: number[]; firstCollapse: number | null }> {
  const methods = [...new Set(cells.map((c) => c.method))].filter((m) => m !== 'none');
  return methods.map((m) => {
    const at = cells.filter((c) => c.method === m && c.n > 0 && isCollapsedAcc(c.mean, chance)).map((c) => c.sparsity).sort((a, b) => a - b);
    return { method: m, collapsedAt: at, firstCollapse: at.length ? at[0] : null };
  });
}

/**
 * Verdict 3 (one family): SBP-SR trainable at the highest sparsity, where SNIP and each other
 * baseline collapse. Methods absent at the highest sparsity are skipped (not counted); 'none' (the
 * dense reference) is not a baseline.
 */
export function extremeVerdict(cells: readonly MethodCell[], o: { chance: number; family: string; target?: string }): ClaimChecks {
  const target = o.target ?? 'sbp-sr';
  cells = cells.filter((c) => c.method !== 'none');
  if (cells.length === 0) throw new Error(`extremeVerdict: no pruned results (${o.family}).`);
  const top = Math.max(...cells.map((c) => c.sparsity));
  const at = (m: string) => cells.find((c) => c.method === m && c.sparsity === top && c.n > 0);
  const t = at(target);
  if (!t) throw new Error(`extremeVerdict: no ${target} result at the highest sparsity ${top} (${o.family}).`);
  const checks: Check[] = [{ label: `${o.family}: ${target} trainable at ${pct(top)} (acc ${f3(t.mean)} ≥ chance + ${TRAINABLE_MARGIN})`, passed: isTrainableAcc(t.mean, o.chance) }];
  const numbers: Record<string, string | number> = { [`${o.family} ${target} acc @ ${pct(top)}`]: t.mean };
  const others = [...new Set(cells.map((c) => c.method))].filter((m) => m !== target && m !== 'none');
  for (const m of others) {
    const c = at(m);
    if (!c) continue;
    checks.push({ label: `${o.family}: ${m} collapses at ${pct(top)} (acc ${f3(c.mean)} ≤ chance + ${COLLAPSE_MARGIN})`, passed: isCollapsedAcc(c.mean, o.chance) });
    numbers[`${o.family} ${m} acc @ ${pct(top)}`] = c.mean;
  }
  for (const r of collapseTable(cells, o.chance)) {
    numbers[`${o.family} ${r.method} collapses at`] = r.collapsedAt.length ? r.collapsedAt.map(pct).join(', ') : 'never';
  }
  return { checks, numbers };
}

export interface PerLayerRun { arch: 'standard' | 'stable'; depth: number; seed: number; perLayer: ReadonlyArray<{ name: string; size: number; kept: number }> }

/**
 * Verdict 4: the Stable ResNet keeps a larger fraction of its last-stage (deep) weights than the
 * standard ResNet (seed mean, every depth), never empties a layer in a (depth, seed) where the
 * standard net empties one, and never empties more layers than it. Runs pair by (depth, seed).
 */
export function stableResnetVerdict(runs: readonly PerLayerRun[]): ClaimChecks {
  const depths = [...new Set(runs.map((r) => r.depth))].sort((a, b) => a - b);
  const checks: Check[] = [];
  const numbers: Record<string, string | number> = {};
  let standardEmptyCases = 0, stableEmptyThere = 0, moreEmpty = 0, pairs = 0;
  for (const d of depths) {
    const seeds = [...new Set(runs.filter((r) => r.depth === d).map((r) => r.seed))].sort((a, b) => a - b);
    const fr: Record<'standard' | 'stable', number[]> = { standard: [], stable: [] };
    for (const s of seeds) {
      const std = runs.find((r) => r.depth === d && r.seed === s && r.arch === 'standard');
      const stb = runs.find((r) => r.depth === d && r.seed === s && r.arch === 'stable');
      if (!std || !stb) throw new Error(`stableResnetVerdict: depth ${d}, seed ${s} needs both a standard and a stable run.`);
      pairs++;
      fr.standard.push(keptFraction(std.perLayer));
      fr.stable.push(keptFraction(stb.perLayer));
      const eStd = std.perLayer.filter((l) => l.kept === 0).length, eStb = stb.perLayer.filter((l) => l.kept === 0).length;
      if (eStd > 0) { standardEmptyCases++; if (eStb > 0) stableEmptyThere++; }
      if (eStb > eStd) moreEmpty++;
      numbers[`ResNet${d} seed ${s} empty layers (standard / stable)`] = `${eStd} / ${eStb}`;
    }
    const mStd = avg(fr.standard), mStb = avg(fr.stable); // one value per seed
    numbers[`ResNet${d} last-stage kept fraction, standard`] = mStd;
    numbers[`ResNet${d} last-stage kept fraction, stable`] = mStb;
    checks.push({ label: `ResNet${d}: Stable keeps more of its last-stage weights (${mStb.toExponential(2)} vs ${mStd.toExponential(2)})`, passed: mStb > mStd });
  }
  checks.push({
    label: standardEmptyCases === 0
      ? 'Stable empties no layer where the standard ResNet empties one (vacuous: the standard ResNet empties no layer here)'
      : `Stable empties no layer where the standard ResNet empties one (${stableEmptyThere} of ${standardEmptyCases} such cases have an empty Stable layer)`,
    passed: stableEmptyThere === 0,
  });
  checks.push({ label: `Stable never empties more layers than the standard ResNet (${moreEmpty} of ${pairs} (depth, seed) pairs do)`, passed: moreEmpty === 0 });
  return { checks, numbers };
}

// ---------------------------------------------------------------------------------------------
// Glue: measured rows -> verdict inputs

/** q at the deepest recorded layer over q*, per (variant, sparsity), EOC phase, seed means. */
export function signalRatios(summary: ReadonlyArray<{ phase: Phase; variant: SignalVariant; sparsity: number; layer: number; q: number; qStar: number }>): Array<{ variant: SignalVariant; sparsity: number; ratio: number; layer: number }> {
  const eoc = summary.filter((r) => r.phase === 'eoc');
  if (eoc.length === 0) throw new Error('signalRatios: no EOC rows.');
  const last = Math.max(...eoc.map((r) => r.layer));
  return eoc.filter((r) => r.layer === last).map((r) => ({ variant: r.variant, sparsity: r.sparsity, ratio: r.q / r.qStar, layer: last }));
}

/** Fig. 2 cells (seed means) of one dataset. */
export function armCells(rows: ReadonlyArray<RunRow<Fig2Tag>>, dataset: string): Array<ArmCell & AccSummary> {
  const sel = rows.filter((r) => r.dataset === dataset);
  if (sel.length === 0) throw new Error(`armCells: no Fig. 2 runs for dataset '${dataset}'.`);
  return summarize(sel, ['arm', 'depth', 'sparsity']);
}

/** Per-layer runs at one BN mode, paired as standard (SNIP on ResNet) vs stable (SBP-SR). */
export function perLayerRuns(rows: ReadonlyArray<RunRow<ExtremeTag>>, bnMode: 'train' | 'eval'): PerLayerRun[] {
  return rows.filter((r) => r.bnMode === bnMode && r.outcome !== 'error')
    .map((r) => ({ arch: r.method === 'sbp-sr' ? 'stable' as const : 'standard' as const, depth: r.depth, seed: r.seed, perLayer: r.perLayer }));
}
