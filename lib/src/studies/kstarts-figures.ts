/**
 * Figures of the K-starts / dissipating-gradients study (kstarts-dissipating.ts), built from the tidy
 * table so that the notebook stays thin.
 */
import { meanSd } from '../stats';
import { barFigure, FigureSpec, lineFigure, Series, subplots } from '../notebook/plots';
import { ARMS, FITNESSES, ksArm, ksOracleArm, ksRandomPickArm, Variant } from './kstarts-plan';
import type { Row } from './kstarts-rows';
import { Cell, cellId, cellLabel, cellsOf, Metric, paired, stat } from './kstarts-stats';

function groupsOf(rs: readonly Row[]): Array<{ model: string; dataset: string }> {
  const seen = new Map<string, { model: string; dataset: string }>();
  for (const r of rs) if (!seen.has(`${r.model}|${r.dataset}`)) seen.set(`${r.model}|${r.dataset}`, { model: r.model, dataset: r.dataset });
  return [...seen.values()];
}

function sparsitiesOf(rs: readonly Row[], arm: string): number[] {
  return [...new Set(rs.filter((r) => r.arm === arm).map((r) => r.sparsity))].sort((a, b) => a - b);
}

function seriesOf(rs: readonly Row[], arm: string, g: { model: string; dataset: string }, metric: Metric, name = arm): Series | null {
  const pts = sparsitiesOf(rs, arm).map((p) => ({ p, st: stat(rs, arm, { ...g, sparsity: p }, metric) })).filter((x) => x.st !== null);
  if (pts.length === 0) return null;
  return { name, x: pts.map((x) => x.p), y: pts.map((x) => x.st!.mean), error: pts.map((x) => (Number.isFinite(x.st!.sd) ? x.st!.sd : NaN)), text: pts.map((x) => `n=${x.st!.n}`) };
}

const pAxis = (ps: number[]) => ({ title: 'sparsity p (fraction removed)', range: [Math.min(...ps) - 0.01, Math.max(...ps) + 0.01] as [number, number] });

/** Accuracy vs sparsity per method (mean ± sd over seeds), one panel per (model, dataset); dense as a flat line. */
export function accuracyFigure(rs: readonly Row[], arms: readonly string[] = [ARMS.random, ARMS.magnitude, ARMS.snip, ARMS.kstarts, ARMS.dissipating, ARMS.combined, ARMS.magAtEpoch, ARMS.randomCM]): FigureSpec {
  const gs = groupsOf(rs.filter((r) => r.arm !== ARMS.dense));
  const ps = sparsitiesOf(rs, ARMS.random);
  const figs = gs.map((g) => {
    const series = arms.map((a) => seriesOf(rs, a, g, 'acc')).filter((s): s is Series => s !== null);
    const dense = stat(rs, ARMS.dense, { ...g, sparsity: 0 });
    if (dense) series.push({ name: ARMS.dense, x: ps, y: ps.map(() => dense.mean) });
    const fig = lineFigure(series, { title: `${g.model}, ${g.dataset}`, x: pAxis(ps), y: { title: 'final test accuracy' } });
    // the dense reference as a dashed grey line, so it is not mistaken for a method
    for (const t of fig.data) if (t.name === ARMS.dense) { t.line = { color: '#7f7f7f', width: 2, dash: 'dash' }; t.marker = { color: '#7f7f7f', size: 4 }; }
    return fig;
  });
  const columns = Math.min(figs.length, 2);
  return subplots(figs, { columns, title: 'Accuracy vs sparsity (mean ± sd over seeds)', height: 480 * Math.ceil(figs.length / columns) + 60 });
}

/** K-starts: accuracy minus the single random mask's (paired, mean ± sd) vs k, one panel per (model, dataset, p). */
export function accuracyVsKFigure(rs: readonly Row[], ks: readonly number[]): FigureSpec {
  const cells = cellsOf(rs, ksArm(ks[0], 'magnitude'));
  const figs = cells.map((c) => {
    const f = (r: Cell) => cellId(r) === cellId(c);
    const mk = (name: string, arm: (k: number) => string): Series => {
      const pts = ks.map((k) => ({ k, pr: paired(rs, arm(k), ARMS.random, { filter: f }) })).filter((x) => x.pr.n > 0);
      return { name, x: pts.map((x) => String(x.k)), y: pts.map((x) => x.pr.meanDiff), error: pts.map((x) => (x.pr.n > 1 ? meanSd(x.pr.diffs).sd : NaN)) };
    };
    const series = [...FITNESSES.map((fit) => mk(`pick by ${fit}`, (k) => ksArm(k, fit))), mk('random pick (expected)', ksRandomPickArm), mk('best after training', ksOracleArm)].filter((s) => s.x.length > 0);
    return lineFigure(series, { title: cellLabel(c, false), x: { title: 'k' }, y: { title: 'Δ acc vs random mask' } });
  });
  const columns = Math.min(4, figs.length);
  return subplots(figs, { columns, title: 'K-starts: accuracy gain over one random mask vs k (paired by seed, mean ± sd)', height: 400 * Math.ceil(figs.length / columns) + 60 });
}

/** Epochs to reach p by arm (mean over seeds), one panel per (model, dataset); x = p. Not reached = E + 1. */
export function epochsFigure(rs: readonly Row[], epochs: number): FigureSpec {
  const arms = [ARMS.random, ARMS.magnitude, ARMS.snip, ARMS.kstarts, ARMS.magAtEpoch, ARMS.dissipating, ARMS.threshold, ARMS.combined];
  const gs = groupsOf(rs.filter((r) => r.arm !== ARMS.dense));
  const figs = gs.map((g) => {
    const series: Series[] = [];
    for (const a of arms) {
      const ps = sparsitiesOf(rs, a);
      const pts = ps.map((p) => {
        const sel = rs.filter((r) => r.arm === a && r.model === g.model && r.dataset === g.dataset && r.sparsity === p && r.error === null);
        const ep = sel.map((r) => (r.epochsToTarget === null ? epochs + 1 : r.epochsToTarget));
        return { p, ep, nr: sel.filter((r) => r.epochsToTarget === null).length };
      }).filter((x) => x.ep.length > 0);
      if (pts.length) series.push({ name: a, x: pts.map((x) => String(x.p)), y: pts.map((x) => meanSd(x.ep).mean), text: pts.map((x) => (x.nr ? `not reached in ${x.nr}/${x.ep.length}` : '')) });
    }
    return barFigure(series, { title: `${g.model}, ${g.dataset}`, x: { title: 'sparsity p' }, y: { title: 'epochs to reach p' } });
  });
  return subplots(figs, { columns: Math.min(figs.length, 2), title: `Epochs each method needs to reach its sparsity (${epochs + 1} = not reached within ${epochs})` });
}

/** Accuracy at the target, at the end of the run, and after extra fine-tuning; one panel per method and (model, dataset). */
export function retrainingFigure(rs: readonly Row[]): FigureSpec {
  const methods = [ARMS.kstarts, ARMS.dissipating, ARMS.combined, ARMS.random];
  const gs = groupsOf(rs.filter((r) => r.arm !== ARMS.dense));
  const figs: FigureSpec[] = [];
  const titles: string[] = [];
  for (const g of gs) {
    for (const m of methods) {
      const series = [
        seriesOf(rs, m, g, 'accAtTarget', 'right at target'),
        seriesOf(rs, m, g, 'acc', 'final (as trained)'),
        seriesOf(rs, m, g, 'extraAcc', 'after extra fine-tune'),
      ].filter((s): s is Series => s !== null);
      if (series.length === 0) continue;
      const ps = sparsitiesOf(rs, m);
      figs.push(lineFigure(series, { x: { ...pAxis(ps), title: 'p' }, y: { title: 'test accuracy' } }));
      titles.push(`${m} — ${g.dataset}`);
    }
  }
  const columns = Math.min(4, figs.length);
  return subplots(figs, { columns, titles, title: 'Is retraining needed? Accuracy right at the target, after the run, after extra fine-tuning', height: 400 * Math.ceil(figs.length / columns) + 60 });
}

/** Variants vs their primary and the random mask: mean accuracy per variant, one bar group per cell. */
export function sensitivityFigure(rs: readonly Row[], variants: readonly Variant[]): FigureSpec {
  const arms = [ARMS.random, ARMS.kstarts, ARMS.dissipating, ARMS.threshold, ARMS.combined, ...variants.map((v) => v.arm)];
  const vcells = variants.length ? cellsOf(rs, variants[0].arm) : [];
  const series: Series[] = vcells.map((c) => {
    const pts = arms.map((a) => ({ a, st: stat(rs, a, c) })).filter((x) => x.st !== null);
    return { name: cellLabel(c, false), x: pts.map((x) => x.a), y: pts.map((x) => x.st!.mean), error: pts.map((x) => (Number.isFinite(x.st!.sd) ? x.st!.sd : NaN)) };
  }).filter((s) => s.x.length > 0);
  if (series.length === 0) throw new Error('sensitivityFigure: no variant runs in the table.');
  return barFigure(series, { title: 'Sensitivity: variants of each reading (mean ± sd)', y: { title: 'final test accuracy' }, height: 520, width: 1000 });
}
