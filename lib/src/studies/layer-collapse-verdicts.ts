/**
 * Notebook 01's verdicts (entry module layer-collapse.ts): one function per claim, each returning
 * its checks with the numbers they rest on and the verdict of the checks alone (a ClaimVerdict
 * without gates: the notebook gates the training claim's checks itself, with gatedVerdict).
 */
import { Check, verdictFromChecks } from '../notebook/claims';
import type { ClaimVerdict } from '../notebook/claims';
import { formatMeanSd, formatNumber } from '../notebook/tables';
import { meanSd } from '../stats';
import { PhaseName, PHASES, TOLERANCES, VerdictTolerances } from './layer-collapse-plan';
import type { LayerCollapsePlan } from './layer-collapse-plan';
import type { MbpTheory } from './layer-collapse-mbp';
import type { CriticalRow, InitAnalysisResult } from './layer-collapse-init';
import type { TrainRow } from './layer-collapse-training';
import { rowsRead } from './layer-collapse-gates';

function finish(checks: Check[], numbers: Record<string, string | number>, note = ''): ClaimVerdict {
  const v = verdictFromChecks(checks);
  return { verdict: v.verdict, checks, numbers, rationale: v.summary + (note ? ` ${note}` : '') };
}

const f4 = (x: number) => formatNumber(x, 4);

export interface MbpVerdictRow {
  depth: number;
  seed: number;
  /** Max over phases of the MBP mask difference (weights) against the EOC mask, fixed sparsity. */
  maskDiff: number;
  /** MBP critical sparsity per phase (must coincide). */
  criticalByPhase: number[];
  measured: number;
  measuredFirstEmpty: number;
  theory: Pick<MbpTheory, 'predicted' | 'firstEmpty' | 'lo' | 'hi' | 'level'>;
}

export function mbpVerdictRows(results: readonly InitAnalysisResult[], theory: readonly MbpTheory[]): MbpVerdictRow[] {
  return results.map((r) => {
    const runs = r.runs.filter((x) => x.method === 'magnitude');
    const eoc = runs.find((x) => x.phase === 'eoc') ?? runs[0];
    if (!eoc || !eoc.critical) throw new Error(`mbpVerdictRows: no magnitude run at depth ${r.depth}, seed ${r.seed}.`);
    const th = theory.find((t) => t.depth === r.depth);
    if (!th) throw new Error(`mbpVerdictRows: no MBP theory for depth ${r.depth}.`);
    return {
      depth: r.depth, seed: r.seed, maskDiff: Math.max(...runs.map((x) => x.maskDiffVsEoc ?? 0)),
      criticalByPhase: runs.map((x) => x.critical?.sparsity ?? 1),
      measured: eoc.critical.sparsity ?? 1, measuredFirstEmpty: eoc.critical.firstEmpty, theory: th,
    };
  });
}

/**
 * Verdict 1: MBP masks identical across sigma_w; per depth, the first layer to empty is the
 * predicted one and the measured s_cr lies in the theory's prediction interval, in every seed.
 */
export function verdictMbp(rows: readonly MbpVerdictRow[]): ClaimVerdict {
  if (rows.length === 0) throw new Error('verdictMbp: no rows.');
  const checks: Check[] = [];
  const numbers: Record<string, string | number> = {};
  const maxDiff = Math.max(...rows.map((r) => r.maskDiff));
  const csSpread = Math.max(...rows.map((r) => Math.max(...r.criticalByPhase) - Math.min(...r.criticalByPhase)));
  checks.push({ label: `MBP masks identical across sigma_w (max differing weights ${maxDiff}, max s_cr spread ${csSpread})`, passed: maxDiff === 0 && csSpread === 0 });
  numbers['MBP mask: max weights differing across sigma_w'] = maxDiff;
  const depths = [...new Set(rows.map((r) => r.depth))].sort((a, b) => a - b);
  for (const L of depths) {
    const rs = rows.filter((r) => r.depth === L);
    const th = rs[0].theory;
    const firstOk = rs.every((r) => r.measuredFirstEmpty === th.firstEmpty);
    const inside = rs.filter((r) => r.measured >= th.lo && r.measured <= th.hi).length;
    const m = meanSd(rs.map((r) => r.measured));
    checks.push({ label: `L=${L}: first empty layer = predicted fc${th.firstEmpty + 1} in ${rs.filter((r) => r.measuredFirstEmpty === th.firstEmpty).length}/${rs.length} seeds`, passed: firstOk });
    checks.push({ label: `L=${L}: measured s_cr in the ${Math.round(th.level * 100)}% interval [${f4(th.lo)}, ${f4(th.hi)}] in ${inside}/${rs.length} seeds`, passed: inside === rs.length });
    numbers[`L=${L} s_cr measured (mean ± sd)`] = formatMeanSd(m, undefined, 4);
    numbers[`L=${L} s_cr predicted [interval]`] = `${f4(th.predicted)} [${f4(th.lo)}, ${f4(th.hi)}]`;
    numbers[`L=${L} max |measured - predicted|`] = f4(Math.max(...rs.map((r) => Math.abs(r.measured - th.predicted))));
  }
  return finish(checks, numbers);
}

/**
 * Verdict 2 (SNIP): at the deepest depth the EOC s_cr exceeds the ordered and chaotic ones by at
 * least farMargin; their mean s_cr strictly decreases with depth; the ordered phase's first empty
 * layer is on the input side and the chaotic phase's on the output side, in every depth and seed.
 */
export function verdictSnip(rows: readonly CriticalRow[], tol: Pick<VerdictTolerances, 'farMargin'> = TOLERANCES): ClaimVerdict {
  const snip = rows.filter((r) => r.method === 'snip');
  if (snip.length === 0) throw new Error('verdictSnip: no SNIP rows.');
  const depths = [...new Set(snip.map((r) => r.depth))].sort((a, b) => a - b);
  const mean = (phase: PhaseName, L: number) => {
    const xs = snip.filter((r) => r.phase === phase && r.depth === L).map((r) => r.sparsity);
    if (!xs.length) throw new Error(`verdictSnip: no ${phase} rows at depth ${L}.`);
    return meanSd(xs);
  };
  const checks: Check[] = [];
  const numbers: Record<string, string | number> = {};
  for (const L of depths) for (const ph of PHASES) {
    const m = mean(ph, L);
    numbers[`L=${L} ${ph} s_cr`] = formatMeanSd(m, undefined, 4);
  }
  const Lmax = depths[depths.length - 1];
  const eoc = mean('eoc', Lmax).mean;
  for (const ph of ['ordered', 'chaotic'] as const) {
    const o = mean(ph, Lmax).mean;
    checks.push({ label: `L=${Lmax}: EOC s_cr ${f4(eoc)} - ${ph} ${f4(o)} = ${f4(eoc - o)} >= ${tol.farMargin}`, passed: eoc - o >= tol.farMargin });
  }
  for (const ph of ['ordered', 'chaotic'] as const) {
    const ms = depths.map((L) => mean(ph, L).mean);
    const falls = depths.length >= 2 && ms.every((m, i) => i === 0 || m < ms[i - 1]);
    checks.push({ label: `${ph} s_cr falls with depth (${depths.map((L, i) => `L=${L}: ${f4(ms[i])}`).join(', ')})`, passed: falls });
  }
  for (const [ph, side] of [['ordered', 'input'], ['chaotic', 'output']] as const) {
    const rs = snip.filter((r) => r.phase === ph);
    const ok = rs.filter((r) => r.side === side).length;
    const pos = [...new Set(rs.map((r) => `L=${r.depth}: ${r.firstEmptyName.replace('/kernel', '')}`))].join(', ');
    checks.push({ label: `${ph} empties the ${side} side first in ${ok}/${rs.length} (depth, seed) cases (${pos})`, passed: ok === rs.length });
    numbers[`${ph}: first empty layer`] = pos;
  }
  const z = snip.filter((r) => r.zeroScores > 0);
  numbers['SNIP exactly-zero float32 scores (max over runs)'] = Math.max(0, ...snip.map((r) => r.zeroScores));
  return finish(checks, numbers, z.length ? `${z.length} SNIP runs had exactly-zero scores (float32 underflow).` : 'No SNIP score underflowed to exactly 0.');
}

/**
 * Verdict 3: every trained run with a fully pruned layer ends at chance (|acc - chance| <= chanceTol),
 * and at every (dataset, sparsity) where an ordered or chaotic SNIP run collapsed, the EOC SNIP runs
 * have no empty layer and mean accuracy >= chance + wellAbove. An EOC SNIP arm at chance after the
 * budget is read from its long runs (rowsRead: layer-collapse-gates.ts).
 */
export function verdictTraining(p: Pick<LayerCollapsePlan, 'training' | 'tolerances'>, allRows: readonly TrainRow[]): ClaimVerdict {
  const tol = p.tolerances;
  const rows = rowsRead(p, allRows);
  if (rows.length === 0) throw new Error('verdictTraining: no finished training rows (arms).');
  const checks: Check[] = [];
  const numbers: Record<string, string | number> = {};
  const collapsed = rows.filter((r) => r.collapsed);
  const atChance = collapsed.filter((r) => Math.abs(r.acc - tol.chance) <= tol.chanceTol);
  const accs = collapsed.map((r) => r.acc);
  checks.push({
    label: collapsed.length === 0 ? 'no trained run had an empty layer (nothing to test)'
      : `${atChance.length}/${collapsed.length} runs with an empty layer end within ${tol.chanceTol} of chance ${tol.chance} (accuracy ${f4(Math.min(...accs))}..${f4(Math.max(...accs))})`,
    passed: collapsed.length > 0 && atChance.length === collapsed.length,
  });
  numbers['runs with an empty layer'] = collapsed.length;
  if (collapsed.length) numbers['their accuracy (min..max)'] = `${f4(Math.min(...accs))}..${f4(Math.max(...accs))}`;
  const points = new Map<string, { dataset: string; sparsity: number }>();
  for (const r of rows) if (r.collapsed && r.method === 'snip' && r.phase !== 'eoc') points.set(`${r.dataset}|${r.sparsity}`, { dataset: r.dataset, sparsity: r.sparsity });
  const sorted = [...points.values()].sort((a, b) => a.dataset.localeCompare(b.dataset) || a.sparsity - b.sparsity);
  if (sorted.length === 0) checks.push({ label: 'no ordered/chaotic SNIP run collapsed, so no EOC comparison', passed: false });
  for (const pt of sorted) {
    const eoc = rows.filter((r) => r.dataset === pt.dataset && r.sparsity === pt.sparsity && r.method === 'snip' && r.phase === 'eoc');
    const others = rows.filter((r) => r.dataset === pt.dataset && r.sparsity === pt.sparsity && r.method === 'snip' && r.phase !== 'eoc' && r.collapsed);
    const trained = eoc.filter((r) => r.outcome !== 'diverged'); // diverged runs: counted in the label, not averaged
    const m = trained.length ? meanSd(trained.map((r) => r.acc)) : { mean: NaN, sd: NaN, n: 0 };
    const nCollapsed = eoc.filter((r) => r.collapsed).length;
    const ok = trained.length > 0 && nCollapsed === 0 && m.mean >= tol.chance + tol.wellAbove;
    const who = [...new Set(others.map((r) => r.phase))].join('+');
    const epochs = [...new Set(eoc.map((r) => r.history.length))].join('/');
    checks.push({
      label: `${pt.dataset} s=${pt.sparsity} (${who} collapsed): EOC SNIP accuracy ${eoc.length ? f4(m.mean) : 'n/a'} after x${epochs} (n=${trained.length}, ${nCollapsed} collapsed, ${eoc.length - trained.length} diverged) >= ${formatNumber(tol.chance + tol.wellAbove, 2)}`,
      passed: ok,
    });
    numbers[`${pt.dataset} s=${pt.sparsity}: EOC SNIP acc vs collapsed ${who}`] = `${eoc.length ? formatNumber(m.mean, 3) : 'n/a'} vs ${formatNumber(meanSd(others.map((r) => r.acc)).mean, 3)}`;
  }
  return finish(checks, numbers);
}
