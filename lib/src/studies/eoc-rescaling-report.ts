/**
 * Figures, tables and setting texts of notebooks/02-eoc-rescaling.ipynb, built from the study's
 * measured rows (eoc-rescaling.ts), so the notebook reads claim → figure → table → verdict.
 * Pure functions of their inputs; tested in test/study-eoc-rescaling-report.test.ts.
 */
import { colorFor, heatmapFigure, lineFigure, scatterFigure, subplots } from '../notebook/plots';
import type { FigureSpec, Series } from '../notebook/plots';
import type { TrainConfig } from '../train';
import { resnetArch } from './eoc-rescaling-jobs';
import type { ExtremeTag, RunRow, StudyRuns } from './eoc-rescaling-jobs';
import { ARMS, armSpec } from './eoc-rescaling-plan';
import type { Arm, DataSpec, EocRescalingPlan } from './eoc-rescaling-plan';
import type { SignalRow } from './eoc-rescaling-signal';
import { noPathAtLayerLevel } from '../prune/effective';
import { keptFraction, summarize } from './eoc-rescaling-summaries';
import type { AccSummary } from './eoc-rescaling-summaries';
import type { EocCurveRow, PhasePoint } from './eoc-rescaling-theory';
import { armCells, collapseTable, isCollapsedAcc, orderingVerdict, perLayerRuns, stableResnetVerdict } from './eoc-rescaling-verdicts';
import { verdictFromChecks } from '../notebook/claims';
import { backendInfo } from '../backend';
import { CHANCE } from './eoc-rescaling-constants';
import { mean } from '../stats';
import type { MeanSd } from '../stats';

type Summary = Omit<SignalRow, 'seed'> & { n: number; qSd: number };

/** Text helpers for tables, captions and claim settings. */
export const text = {
  /** 0.995 → '99.5%'. */
  pct: (s: number): string => `${+(s * 100).toFixed(2)}%`,
  /** The training recipe in one line. */
  tr: (t: TrainConfig): string => `${t.optimizer ?? 'sgd'} lr ${t.lr}, momentum ${t.momentum ?? 0.9}, wd ${t.weightDecay ?? 0}, batch ${t.batchSize}, ${t.epochs} epoch(s), lr ×0.1 at 50/75 %`,
  /** The data subset in one line. */
  ds: (d: DataSpec): string => `${d.name} ${d.trainLimit} train / ${d.testLimit} test (seeded class-stratified subsets)`,
  /** recordClaim refuses NaN: a number that could not be measured (every run failed) is shown as text. */
  safe: (o: Record<string, string | number>): Record<string, string | number> =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' && Number.isNaN(v) ? 'NaN (no successful run)' : v])),
};
const { pct, tr, ds } = text;
const ms = (c: MeanSd): MeanSd => ({ mean: c.mean, sd: c.sd, n: c.n });
const sdOr0 = (sd: number) => (Number.isFinite(sd) ? sd : 0);

/** What the run does, one row per part of the notebook. */
export function settingsRows(plan: EocRescalingPlan, seeds: readonly number[]): Array<{ part: string; setting: string }> {
  const t = plan.resnet.trained;
  const b = backendInfo();
  return [
    { part: 'backend', setting: `${b.backend} (tfjs ${b.tfjsVersion}); ${plan.workers} sweep worker process(es)` },
    { part: 'nets', setting: `tanh FFNN, width ${plan.width}, σ_b = ${plan.sigmaB}; arms ${ARMS.map((a) => a.label).join(' | ')}` },
    { part: '§1 theory', setting: `EOC curves of ${plan.theory.activations.join(', ')} at ${plan.theory.sigmaBs.length} σ_b values; dense nets of depth ${plan.theory.depth} in 3 phases, ${plan.theory.batch} test inputs` },
    { part: '§2 signal', setting: `EOC net depth ${plan.signal.depth}, SNIP at ${plan.signal.sparsities.map(pct).join(', ')}, with / without rescaling; ${plan.signal.batch} test inputs; no training` },
    ...plan.fig2.grids.map((g) => ({ part: `§3 Fig. 2 (${g.data.name})`, setting: `depths ${g.depths.join(', ')} × sparsities ${g.sparsities.map(pct).join(', ')} × 3 arms × ${seeds.length} seed(s); ${ds(g.data)}; ${tr(plan.fig2.train)}` })),
    { part: '§4 extreme, FFNN', setting: `depth ${plan.extreme.depth}, width ${plan.extreme.width}, EOC init; ${plan.extreme.methods.join(', ')} at ${plan.extreme.sparsities.map(pct).join(', ')} + dense reference; trained: ${ds(plan.extreme.data)}; ${tr(plan.extreme.train)}` },
    { part: '§4 extreme, ResNet (init only)', setting: `resnet${plan.resnet.depth} (16/32/64, BN) vs Stable; ${plan.resnet.methods.join(', ')} at ${plan.resnet.sparsities.map(pct).join(', ')}; masks analysed, not trained; scoring BN mode '${plan.resnet.bnMode}'` },
    { part: '§4 extreme, ResNet (trained)', setting: `${t.methods.map((m) => m === 'none' ? 'dense' : m).join(', ')} at ${t.sparsities.map(pct).join(', ')}, seed(s) ${t.seeds.join(', ')}; ${ds(t.data)}; ${tr(t.train)}` },
    { part: 'gates', setting: `dense EOC net within ${100 * plan.gate.margin} points of the same recipe run ${plan.gate.convergedEpochs} epochs (seed ${plan.gate.convergedSeeds.join(', ')}); arms compared gain ≤ ${100 * plan.gate.maxFinalEpochGain} point in their last epoch; no diverged run (ResNet converged: ${t.convergedEpochs} epochs)` },
    { part: '§4b per layer', setting: `SNIP on ResNet vs SBP-SR (SNIP on Stable ResNet), depths ${plan.resnet.perLayer.depths.join(', ')}, ${pct(plan.resnet.perLayer.sparsity)}, BN modes ${plan.resnet.perLayer.bnModes.join(' and ')}` },
  ];
}

// ---------------------------------------------------------------------------------------------
// §1 theory

/** EOC curves (σ_b against σ_w, one line per activation) with the tanh init points as dots. */
export function eocCurveFigure(curve: readonly EocCurveRow[], phases: readonly PhasePoint[]): FigureSpec {
  const activations = [...new Set(curve.map((r) => r.activation))];
  const lines = lineFigure(activations.map((a) => {
    const r = curve.filter((x) => x.activation === a);
    return { name: `EOC, ${a}`, x: r.map((x) => x.sigmaW), y: r.map((x) => x.sigmaB) };
  }), { title: 'Edge-of-Chaos curves', x: { title: 'σ_w' }, y: { title: 'σ_b' } });
  const dots = scatterFigure(phases.map((p) => ({ name: `tanh ${p.arm} arm (χ = ${p.chi.toFixed(3)})`, x: [p.sigmaW], y: [p.sigmaB] })));
  return { data: [...lines.data, ...dots.data], layout: lines.layout };
}

/** Largest |χ − 1| over the EOC curve (the solver's accuracy). */
export function maxChiError(curve: readonly EocCurveRow[]): number {
  return Math.max(...curve.map((r) => Math.abs(r.chi - 1)));
}

/** The EOC points at a few round σ_b values. */
export function eocPointRows(curve: readonly EocCurveRow[], sigmaBs: readonly number[] = [0, 0.2, 0.5, 1]): Array<Record<string, string | number>> {
  return curve.filter((r) => sigmaBs.includes(r.sigmaB)).map((r) => ({ activation: r.activation, 'σ_b': r.sigmaB, 'σ_w (EOC)': r.sigmaW, 'q*': r.qStar, 'χ': r.chi }));
}

export function phasePointRows(phases: readonly PhasePoint[]): Array<Record<string, string | number>> {
  return phases.map((p) => ({ arm: p.arm, 'σ_b': p.sigmaB, 'σ_w': p.sigmaW, 'q*': p.qStar, 'χ': p.chi, phase: p.phase }));
}

/** One colour per series: its measured markers and its mean-field line share it. */
function sharedColours(fig: FigureSpec): FigureSpec {
  return {
    ...fig, data: fig.data.map((t) => {
      const c = colorFor(String(t.name ?? '').replace(/ \((measured|mean-field)\)$/, ''));
      return { ...t, marker: { ...(t.marker as object), color: c }, line: t.line ? { ...(t.line as object), color: c } : undefined };
    }),
  };
}

/** A panel of mean-field lines (no markers) under measured markers. */
function predictedVsMeasured(pred: Series[], measured: Series[], opts: Parameters<typeof lineFigure>[1]): FigureSpec {
  const lines = lineFigure(pred, opts);
  return sharedColours({ data: [...lines.data.map((t) => ({ ...t, mode: 'lines' })), ...scatterFigure(measured).data], layout: lines.layout });
}

/** c^l and q^l through depth for the dense nets of each phase: measured markers, mean-field lines. */
export function correlationFigure(rows: readonly Summary[], phases: readonly PhasePoint[]): FigureSpec {
  const by = (f: (r: Summary) => number, pred: boolean): Series[] => phases.map((p) => {
    const r = rows.filter((x) => x.phase === p.arm).sort((a, b) => a.layer - b.layer);
    return { name: `${p.arm} ${pred ? '(mean-field)' : '(measured)'}`, x: r.map((x) => x.layer), y: r.map(f) };
  });
  const panel = (f: (r: Summary) => number, g: (r: Summary) => number, title: string, y: string) =>
    predictedVsMeasured(by(g, true), by(f, false), { title, x: { title: 'layer l' }, y: { title: y } });
  return subplots([
    panel((r) => r.c, (r) => r.cPred, 'pair correlation c^l', 'c^l'),
    panel((r) => r.q, (r) => r.qPred, 'variance q^l', 'q^l'),
  ], { columns: 2, title: 'Correlation map through depth: dense tanh nets in three phases' });
}

/** The deepest layer of each phase: measured against mean-field. */
export function deepestLayerRows(rows: readonly Summary[], phases: readonly PhasePoint[]): Array<Record<string, string | number>> {
  const last = Math.max(...rows.map((r) => r.layer));
  return phases.map((p) => {
    const r = rows.find((x) => x.phase === p.arm && x.layer === last);
    if (!r) throw new Error(`deepestLayerRows: no row for phase '${p.arm}' at layer ${last}.`);
    return { phase: p.arm, 'χ': p.chi, [`c^${last} measured`]: r.c, [`c^${last} mean-field`]: r.cPred, [`q^${last} measured`]: r.q, [`q^${last} mean-field`]: r.qPred, 'q*': p.qStar };
  });
}

// ---------------------------------------------------------------------------------------------
// §2 signal propagation

const VARIANT_NAME: Record<string, string> = { dense: 'dense', pruned: 'SNIP, no rescaling', rescaled: 'SNIP + rescaling' };

/** q^l / q* through depth, one panel per sparsity: dense, pruned and rescaled nets, measured (± sd) and mean-field. */
export function signalFigure(rows: readonly Summary[], net: { depth: number; sparsities: readonly number[] }): FigureSpec {
  const qStar = rows[0].qStar;
  const { depth, sparsities } = net;
  const panel = (s: number) => {
    const sel = (v: string) => rows.filter((r) => r.variant === v && (v === 'dense' || r.sparsity === s)).sort((a, b) => a.layer - b.layer);
    const vs = ['dense', 'pruned', 'rescaled'];
    return predictedVsMeasured(
      vs.map((v) => ({ name: `${VARIANT_NAME[v]} (mean-field)`, x: sel(v).map((r) => r.layer), y: sel(v).map((r) => r.qPred / qStar) })),
      vs.map((v) => ({ name: `${VARIANT_NAME[v]} (measured)`, x: sel(v).map((r) => r.layer), y: sel(v).map((r) => r.q / qStar), error: sel(v).map((r) => sdOr0(r.qSd) / qStar) })),
      { title: `sparsity ${pct(s)}`, x: { title: 'layer l' }, y: { title: 'q^l / q*', log: true } });
  };
  const columns = Math.min(2, sparsities.length);
  return subplots(sparsities.map(panel), { columns, height: 480 * Math.ceil(sparsities.length / columns) + 60, title: `q^l / q* through depth, EOC tanh net of depth ${depth} (q* = ${qStar.toFixed(4)})` });
}

/** The deepest hidden layer per (variant, sparsity): q/q* measured and mean-field, c, empty units. */
export function signalRows(rows: readonly Summary[], ratios: ReadonlyArray<{ variant: string; sparsity: number; ratio: number; layer: number }>): Array<Record<string, string | number>> {
  const qStar = rows[0].qStar;
  return [...ratios].sort((a, b) => a.sparsity - b.sparsity).map((r) => {
    const mine = rows.filter((x) => x.variant === r.variant && x.sparsity === r.sparsity);
    const last = mine.find((x) => x.layer === r.layer)!;
    return {
      sparsity: r.variant === 'dense' ? 'dense' : pct(r.sparsity), variant: VARIANT_NAME[r.variant], [`q^${r.layer}/q*`]: r.ratio, 'mean-field q/q*': last.qPred / qStar,
      [`c^${r.layer}`]: last.c, 'mean empty units per layer': mean(mine.map((x) => x.emptyUnits)), 'empty units in layer 1': mine.find((x) => x.layer === 1)!.emptyUnits,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// §3 Fig. 2 analogue

type Fig2Cell = { arm: Arm; depth: number; sparsity: number } & AccSummary;
const sortedUnique = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);

/** One heatmap per arm (depth × sparsity, final test accuracy, colour scale 0–1), one colour bar. */
export function fig2Figure(cells: readonly Fig2Cell[], title: string): FigureSpec {
  const depths = sortedUnique(cells.map((c) => c.depth));
  const sps = sortedUnique(cells.map((c) => c.sparsity));
  const z = (arm: Arm) => depths.map((d) => sps.map((s) => cells.find((c) => c.arm === arm && c.depth === d && c.sparsity === s)?.mean ?? NaN));
  const fig = subplots(ARMS.map((a, i) => heatmapFigure(
    { z: z(a.arm), x: sps.map(pct), y: depths.map((d) => `L=${d}`), zmin: 0, zmax: 1, zTitle: 'test acc', showValues: true, digits: 2 },
    { title: a.label, x: { title: 'sparsity' }, y: i === 0 ? { title: 'depth' } : {} })), { columns: 3, title });
  fig.data.forEach((t, i) => { if (i < fig.data.length - 1) t.showscale = false; else t.colorbar = { title: { text: 'test acc' }, x: 1.02, len: 0.9 }; });
  return fig;
}

/** One row per (depth, sparsity): each arm's mean ± sd, and its runs with an empty layer / diverged. */
export function fig2Rows(cells: readonly Fig2Cell[]): Array<Record<string, unknown>> {
  return sortedUnique(cells.map((c) => c.depth)).flatMap((d) => sortedUnique(cells.map((c) => c.sparsity)).map((s) => {
    const row: Record<string, unknown> = { depth: d, sparsity: pct(s) };
    for (const { arm } of ARMS) {
      const c = cells.find((x) => x.arm === arm && x.depth === d && x.sparsity === s);
      if (!c) continue;
      row[armSpec(arm).label] = ms(c);
      row[`${arm}: empty layer / diverged`] = `${c.emptySeeds} / ${c.diverged}`;
    }
    return row;
  }));
}

// ---------------------------------------------------------------------------------------------
// §4 extreme sparsity

type MethodCell = { method: string; sparsity: number } & AccSummary;

/** Accuracy against sparsity per method (± sd), with dashed chance and dense-reference lines. */
export function extremeFigure(plan: EocRescalingPlan, pruned: readonly MethodCell[], dense: MethodCell | undefined, chance: number): FigureSpec {
  const spx = plan.extreme.sparsities.map(pct);
  const acc = plan.extreme.methods.map((m) => {
    const cs = plan.extreme.sparsities.map((s) => pruned.find((c) => c.method === m && c.sparsity === s));
    return { name: m, x: spx, y: cs.map((c) => c?.mean ?? NaN), error: cs.map((c) => sdOr0(c?.sd ?? NaN)) };
  });
  const refs = [{ name: 'chance', x: spx, y: spx.map(() => chance) }, ...(dense ? [{ name: `dense (${dense.mean.toFixed(3)})`, x: spx, y: spx.map(() => dense.mean) }] : [])];
  const fig = lineFigure([...refs, ...acc], { title: `FFNN (depth ${plan.extreme.depth}, width ${plan.extreme.width}, EOC tanh): final test accuracy vs sparsity`, x: { title: 'sparsity' }, y: { title: 'test accuracy', range: [0, 1] } });
  fig.data.slice(0, refs.length).forEach((t) => { t.mode = 'lines'; t.line = { color: '#888888', width: 1.5, dash: 'dash' }; });
  return fig;
}

/** Per method: mean ± sd at every sparsity, where it collapses, runs with an empty layer, diverged runs. */
export function extremeRows(plan: EocRescalingPlan, pruned: readonly MethodCell[], chance: number): Array<Record<string, unknown>> {
  const collapse = collapseTable(pruned, chance);
  return plan.extreme.methods.map((m) => {
    const row: Record<string, unknown> = { method: m };
    for (const s of plan.extreme.sparsities) { const c = pruned.find((x) => x.method === m && x.sparsity === s); row[pct(s)] = c ? ms(c) : 'n/a'; }
    const ct = collapse.find((x) => x.method === m);
    row['collapses at'] = ct && ct.collapsedAt.length ? ct.collapsedAt.map(pct).join(', ') : 'never';
    const mine = pruned.filter((x) => x.method === m);
    row['runs with an empty layer'] = mine.reduce((a, x) => a + x.emptySeeds, 0);
    row['diverged runs (not in the means)'] = mine.reduce((a, x) => a + x.diverged, 0);
    return row;
  });
}

/** ResNet masks at init: mean number of empty layers and seeds disconnected at the layer level, per method and sparsity. */
export function resnetInitRows(plan: EocRescalingPlan, runs: ReadonlyArray<RunRow<ExtremeTag>>): Array<Record<string, unknown>> {
  return plan.resnet.methods.map((m) => {
    const row: Record<string, unknown> = { method: m, net: resnetArch(plan.resnet.depth, m) };
    for (const s of plan.resnet.sparsities) {
      const rs = runs.filter((r) => r.method === m && r.sparsity === s && r.outcome !== 'error');
      const emptyMean = mean(rs.map((r) => r.emptyLayers.length));
      row[pct(s)] = `${emptyMean.toFixed(1)} empty, ${rs.filter((r) => noPathAtLayerLevel(r.perLayer) === true).length}/${rs.length} disconnected`;
    }
    return row;
  });
}

/** Trained ResNets: final accuracy per (method, sparsity), the dense net as 'dense'. */
export function resnetTrainedRows(depth: number, cells: readonly MethodCell[], chance: number): Array<Record<string, unknown>> {
  return cells.map((c) => ({
    method: c.method === 'none' ? 'dense' : c.method, net: resnetArch(depth, c.method), sparsity: c.method === 'none' ? '0%' : pct(c.sparsity), 'final test acc': ms(c),
    'runs with an empty layer': c.emptySeeds, collapsed: c.method === 'none' ? '' : isCollapsedAcc(c.mean, chance) ? 'yes' : 'no',
  }));
}

// ---------------------------------------------------------------------------------------------
// §4b per-layer kept fractions

const shortLayerName = (n: string) => n.replace(/\/kernel$/, '').replace('stem/conv', 'stem');
const ARCH_LABEL = { standard: 'ResNet + SNIP', stable: 'Stable ResNet + SNIP (SBP-SR)' } as const;

/**
 * Kept fraction per layer (%, log axis; an empty layer is a gap) of SNIP on the standard ResNet vs
 * on the Stable ResNet, one panel per (BN mode, depth), and a summary row per net.
 */
export function perLayerReport(plan: EocRescalingPlan, runs: StudyRuns['perLayer']): { figure: FigureSpec; rows: Array<Record<string, unknown>> } {
  const panels: FigureSpec[] = [], titles: string[] = [], rows: Array<Record<string, unknown>> = [];
  const { depths, bnModes, sparsity } = plan.resnet.perLayer;
  for (const bn of bnModes) for (const d of depths) {
    const rs = perLayerRuns(runs, bn).filter((r) => r.depth === d);
    const series = (['standard', 'stable'] as const).map((arch) => {
      const mine = rs.filter((r) => r.arch === arch);
      const names = mine[0].perLayer.map((l) => l.name);
      const kept = names.map((_, i) => 100 * mine.reduce((a, r) => a + r.perLayer[i].kept / r.perLayer[i].size, 0) / mine.length);
      return { name: ARCH_LABEL[arch], x: names.map(shortLayerName), y: kept.map((k) => (k > 0 ? k : NaN)) };
    });
    panels.push(lineFigure(series, { x: { title: 'layer' }, y: { title: 'kept (%)', log: true } }));
    titles.push(`ResNet${d}, BN ${bn} mode`);
    for (const arch of ['standard', 'stable'] as const) {
      const mine = rs.filter((r) => r.arch === arch);
      rows.push({
        depth: d, 'BN mode': bn, net: arch, 'last-stage kept fraction': mean(mine.map((r) => keptFraction(r.perLayer))),
        'empty layers per seed': mine.map((r) => r.perLayer.filter((l) => l.kept === 0).length).join(', '),
        'shortcut convs kept (mean)': mean(mine.map((r) => r.perLayer.filter((l) => l.name.includes('shortcut')).reduce((x, l) => x + l.kept, 0))),
      });
    }
  }
  const columns = depths.length;
  const figure = subplots(panels, { columns, titles, height: 560 * Math.ceil(panels.length / columns) + 60, title: `Kept fraction per layer at ${pct(sparsity)} sparsity (mean over seeds)` });
  return { figure, rows };
}

// ---------------------------------------------------------------------------------------------
// Sweep bookkeeping

const allRuns = (runs: StudyRuns) => [...runs.fig2, ...runs.extreme, ...runs.resnetInit, ...runs.resnetTrained, ...runs.perLayer, ...runs.gates];

/** Runs, cached, failed and diverged counts and the times of the one engine sweep. */
export function sweepRows(runs: StudyRuns): Array<Record<string, number>> {
  const all = allRuns(runs);
  return [{
    runs: all.length, cached: all.filter((r) => r.cached).length, failed: all.filter((r) => r.outcome === 'error').length, diverged: all.filter((r) => r.outcome === 'diverged').length,
    'sweep wall s': runs.wallSeconds, 'sum of run s (this or earlier sweeps)': all.reduce((a, r) => a + r.seconds, 0),
  }];
}

/** The failed runs with their errors (left out of every statistic). */
export function failedRunRows(runs: StudyRuns): Array<{ run: string; error: string }> {
  return allRuns(runs).filter((r) => r.outcome === 'error').map((r) => ({ run: JSON.stringify({ ...r, perLayer: undefined, emptyLayers: undefined, error: undefined }), error: r.error ?? '' }));
}

// ---------------------------------------------------------------------------------------------
// Numbers the claims record beside their checks

/** §4 FFNN cells: the dense reference (method 'none'), the pruned cells, and chance for 10 classes. */
export function extremeCells(runs: Pick<StudyRuns, 'extreme'>): { chance: number; dense: MethodCell | undefined; pruned: MethodCell[] } {
  const cells = summarize(runs.extreme, ['method', 'sparsity']);
  return { chance: CHANCE, dense: cells.find((c) => c.method === 'none'), pruned: cells.filter((c) => c.method !== 'none') };
}

/** Mean empty units per layer of the rescaled nets, per sparsity ('90%: 1.5; 99%: 12.0'). */
export function emptyUnitsText(rows: readonly Summary[], sparsities: readonly number[], layers: number): string {
  return sparsities.map((s) => `${pct(s)}: ${(rows.filter((x) => x.variant === 'rescaled' && x.sparsity === s).reduce((a, x) => a + x.emptyUnits, 0) / layers).toFixed(1)}`).join('; ');
}

/** The grid-mean accuracies of the second Fig. 2 grid (shown for information, not in the checks); {} without one. */
export function secondaryGridNumbers(plan: EocRescalingPlan, runs: Pick<StudyRuns, 'fig2'>): Record<string, number> {
  const other = plan.fig2.grids[1]?.data.name;
  if (other === undefined) return {};
  const m = orderingVerdict(armCells(runs.fig2, other));
  const keys = ['grid mean acc, EOC+rescaling', 'grid mean acc, EOC', 'grid mean acc, ordered'];
  return Object.fromEntries(keys.map((k) => [`${other} (not in the checks): ${k}`, m.numbers[k] as number]));
}

/** Effective sparsity of each method's masks at the highest sparsity (rows of extremePathStats). */
export function effectiveSparsityNumbers(plan: EocRescalingPlan, paths: ReadonlyArray<Record<string, string | number>>): Record<string, string | number> {
  const top = pct(Math.max(...plan.extreme.sparsities));
  return Object.fromEntries(paths.filter((r) => r.sparsity === top).map((r) => [`${r.method} effective sparsity @ ${r.sparsity}`, r['effective sparsity']]));
}

/** The per-layer verdict's summary in the BN modes other than the verdict's (a sensitivity check). */
export function bnSensitivityNumbers(plan: EocRescalingPlan, runs: StudyRuns['perLayer']): Record<string, string> {
  return Object.fromEntries(plan.resnet.perLayer.bnModes.filter((m) => m !== plan.resnet.bnMode).map((bn) =>
    [`BN ${bn} mode (sensitivity, not in the verdict)`, verdictFromChecks(stableResnetVerdict(perLayerRuns(runs, bn)).checks).summary]));
}
