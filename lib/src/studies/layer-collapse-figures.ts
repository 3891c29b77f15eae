/**
 * Notebook 01's figures (entry module layer-collapse.ts): per-neuron and per-layer kept fractions,
 * SNIP score conditioning, critical sparsity vs depth, accuracy vs sparsity.
 */
import { FigureSpec, heatmapFigure, lineFigure, subplots, Series, colorFor } from '../notebook/plots';
import { LayerCollapsePlan, PhaseName, PHASES, TOLERANCES } from './layer-collapse-plan';
import { mbpTheory, MbpTheory } from './layer-collapse-mbp';
import { geometricMean } from '../stats';
import { CriticalSummary, InitAnalysisResult, perLayerKept } from './layer-collapse-init';
import { armRows, summarizeTraining, TrainRow } from './layer-collapse-training';

const PHASE_LABEL: Record<PhaseName, string> = { ordered: 'ordered', eoc: 'EOC', chaotic: 'chaotic' };
const METHOD_LABEL: Record<string, string> = { random: 'random', magnitude: 'magnitude (MBP)', snip: 'SNIP (SBP)', grasp: 'GraSP', synflow: 'SynFlow' };

/** Fig. 1 analogue: per-neuron kept fraction (rows = layers, columns = output units), SNIP and MBP x phase. */
export function perNeuronFigure(results: readonly InitAnalysisResult[], p: Pick<LayerCollapsePlan, 'figDepth' | 'fixedSparsity'>): FigureSpec {
  const r = results.find((x) => x.depth === p.figDepth && x.runs.some((run) => run.perNeuron));
  if (!r) throw new Error(`perNeuronFigure: no per-neuron data at depth ${p.figDepth}.`);
  const figs: FigureSpec[] = [], titles: string[] = [];
  for (const method of ['snip', 'magnitude']) for (const ph of PHASES) {
    const run = r.runs.find((x) => x.method === method && x.phase === ph && x.perNeuron);
    if (!run || !run.perNeuron) throw new Error(`perNeuronFigure: no per-neuron data for ${method}/${ph}.`);
    const width = Math.max(...run.perNeuron.map((u) => u.length));
    const z = run.perNeuron.map((u) => [...u, ...Array(width - u.length).fill(NaN)]);
    figs.push(heatmapFigure({ z, x: Array.from({ length: width }, (_, j) => j + 1), y: z.map((_, l) => l + 1), zmin: 0, zmax: 1, zTitle: 'kept', colorscale: 'Viridis' },
      { x: { title: method === 'magnitude' ? 'neuron' : undefined }, y: { title: ph === 'ordered' ? 'layer' : undefined } }));
    titles.push(`${METHOD_LABEL[method]}, ${PHASE_LABEL[ph]}`);
  }
  const fig = subplots(figs, { columns: 3, titles, title: `Kept fraction of each neuron's incoming weights, L=${p.figDepth}, sparsity ${p.fixedSparsity} (seed ${r.seed})`, width: 1200, height: 820 });
  // one shared colour bar (all panels use 0..1)
  fig.data.forEach((t, i) => {
    if (i < fig.data.length - 1) t.showscale = false;
    else t.colorbar = { title: { text: 'kept fraction' }, x: 1.01, y: 0.5, len: 0.9, thickness: 14 };
  });
  return fig;
}

/** Per-layer kept fraction vs layer index at the fixed sparsity, one panel per method, one line per phase; MBP theory overlaid. */
export function perLayerFigure(results: readonly InitAnalysisResult[], p: Pick<LayerCollapsePlan, 'figDepth' | 'fixedSparsity' | 'width'>): FigureSpec {
  const rows = perLayerKept(results, p.figDepth);
  const methods = [...new Set(rows.map((r) => r.method))];
  const th = mbpTheory(p.figDepth, p.width, p.fixedSparsity);
  const figs = methods.map((m, i) => {
    const series: Series[] = PHASES.map((ph) => {
      const rs = rows.filter((r) => r.method === m && r.phase === ph);
      return { name: PHASE_LABEL[ph], x: rs.map((r) => r.layer), y: rs.map((r) => r.kept) };
    }).filter((s) => s.x.length > 0);
    if (m === 'magnitude') series.push({ name: 'MBP theory (half-normal)', x: th.keptAtFixed.map((_, l) => l + 1), y: th.keptAtFixed });
    const bottom = i >= methods.length - 3;
    return lineFigure(series, { x: { title: bottom ? 'layer' : undefined }, y: { title: i % 3 === 0 ? 'kept fraction' : undefined, range: [-0.02, 1.02] } });
  });
  const n = new Set(results.filter((r) => r.depth === p.figDepth).map((r) => r.seed)).size;
  return subplots(figs, { columns: 3, titles: methods.map((m) => METHOD_LABEL[m] ?? m), title: `Per-layer kept fraction at sparsity ${p.fixedSparsity}, L=${p.figDepth} (mean over ${n} seed${n > 1 ? 's' : ''}; SynFlow: first seed)`, width: 1200 });
}

/** m_l / m_L (mean squared SNIP score relative to the last layer) vs layer, per phase, log scale. */
export function snipConditioningFigure(results: readonly InitAnalysisResult[], depth: number): FigureSpec {
  const series: Series[] = [];
  for (const ph of PHASES) {
    const runs = results.filter((r) => r.depth === depth).flatMap((r) => r.runs.filter((x) => x.method === 'snip' && x.phase === ph));
    if (!runs.length) continue;
    const L = runs[0].meanSqScore.length;
    const y = Array.from({ length: L }, (_, l) => {
      const v = runs.map((x) => x.meanSqScore[l] / x.meanSqScore[L - 1]).filter((v) => v > 0 && Number.isFinite(v));
      return geometricMean(v);
    });
    series.push({ name: PHASE_LABEL[ph], x: y.map((_, l) => l + 1), y });
  }
  return lineFigure(series, { title: `SNIP: m_l / m_L per layer, L=${depth}`, x: { title: 'layer' }, y: { title: 'm_l / m_L', log: true } });
}

/** Critical sparsity vs depth, one panel per method, phases as lines (mean ± sd over seeds); MBP prediction + interval overlaid. */
export function criticalFigure(summary: readonly CriticalSummary[], theory: readonly MbpTheory[]): FigureSpec {
  const methods = [...new Set(summary.map((s) => s.method))];
  const figs = methods.map((m, i) => {
    const series: Series[] = PHASES.map((ph) => {
      const rs = summary.filter((s) => s.method === m && s.phase === ph).sort((a, b) => a.depth - b.depth);
      return { name: PHASE_LABEL[ph], x: rs.map((r) => r.depth), y: rs.map((r) => r.mean), error: rs.map((r) => (Number.isFinite(r.sd) ? r.sd : 0)) };
    }).filter((s) => s.x.length > 0);
    if (m === 'magnitude') {
      const th = [...theory].sort((a, b) => a.depth - b.depth);
      series.push({ name: 'MBP prediction', x: th.map((t) => t.depth), y: th.map((t) => t.predicted) });
      series.push({ name: `MBP ${Math.round(th[0].level * 100)}% interval (low)`, x: th.map((t) => t.depth), y: th.map((t) => t.lo) });
      series.push({ name: `MBP ${Math.round(th[0].level * 100)}% interval (high)`, x: th.map((t) => t.depth), y: th.map((t) => t.hi) });
    }
    const fig = lineFigure(series, { x: { title: i >= methods.length - 2 ? 'depth L' : undefined }, y: { title: i % 2 === 0 ? 'critical sparsity' : undefined } });
    for (const t of fig.data) if (typeof t.name === 'string' && t.name.includes('interval')) { t.line = { color: colorFor('MBP prediction'), dash: 'dot', width: 1 }; t.marker = { size: 1, color: colorFor('MBP prediction') }; }
    return fig;
  });
  return subplots(figs, { columns: 2, titles: methods.map((m) => METHOD_LABEL[m] ?? m), title: 'Critical sparsity (first layer fully pruned) vs depth', width: 1100 });
}

/** Accuracy vs sparsity per dataset: arms as lines (mean ± sd), runs with an empty layer marked, critical points as vertical lines. */
export function accuracyFigure(allRows: readonly TrainRow[], criticals: Array<{ label: string; sparsity: number }>, chance = TOLERANCES.chance): FigureSpec {
  const rows = armRows(allRows);
  const datasets = [...new Set(rows.map((r) => r.dataset))];
  const figs = datasets.map((d) => {
    const sum = summarizeTraining(rows.filter((r) => r.dataset === d));
    const arms = [...new Set(sum.map((s) => s.arm))].filter((a) => !a.startsWith('dense'));
    const series: Series[] = arms.map((a) => {
      // each pruned arm starts from the dense net of its phase (sparsity 0)
      const phase = sum.find((x) => x.arm === a)!.phase;
      const rs = sum.filter((s) => s.arm === a || (s.method === 'none' && s.phase === phase)).sort((x, y) => x.sparsity - y.sparsity);
      return { name: a, x: rs.map((r) => r.sparsity), y: rs.map((r) => r.accMean), error: rs.map((r) => (Number.isFinite(r.accSd) ? r.accSd : 0)), text: rs.map((r) => `n=${r.n}, ${r.collapsed} with an empty layer`) };
    });
    const col = rows.filter((r) => r.dataset === d && r.collapsed);
    if (col.length) series.push({ name: 'run with an empty layer', x: col.map((r) => r.sparsity), y: col.map((r) => r.acc), text: col.map((r) => `${r.arm}, seed ${r.seed}: ${r.emptyLayers.length} empty`) });
    const fig = lineFigure(series, { x: { title: 'sparsity' }, y: { title: 'final test accuracy', range: [0, 1] } });
    for (const t of fig.data) if (t.name === 'run with an empty layer') { t.mode = 'markers'; t.marker = { symbol: 'x', size: 9, color: '#000000' }; t.line = undefined; }
    fig.data.push({ type: 'scatter', mode: 'lines', name: `chance (${chance})`, x: [0, 1], y: [chance, chance], line: { color: '#999999', dash: 'dash', width: 1 } });
    fig.layout.shapes = criticals.map((c) => ({ type: 'line', xref: 'x', yref: 'paper', x0: c.sparsity, x1: c.sparsity, y0: 0, y1: 1, line: { color: colorFor(c.label), dash: 'dot', width: 1 } }));
    return fig;
  });
  const fig = subplots(figs, { columns: 2, titles: datasets, title: 'Final test accuracy vs sparsity (dotted verticals: measured critical sparsities; x: runs with an empty layer)', width: 1200 });
  // subplots keeps per-panel shapes only through layout.shapes: re-anchor them to each panel's axes
  fig.layout.shapes = figs.flatMap((f, i) => ((f.layout.shapes as Array<Record<string, unknown>>) ?? []).map((s) => ({ ...s, xref: i === 0 ? 'x' : `x${i + 1}`, yref: i === 0 ? 'y domain' : `y${i + 1} domain` })));
  return fig;
}
