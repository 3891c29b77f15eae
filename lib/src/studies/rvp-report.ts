/**
 * Figures, setting texts and display tables of notebooks/03-reduced-vs-pruned.ipynb, built from the
 * study's rows, summaries and timing rows. Pure functions of their inputs.
 */
import type { Augment } from '../data';
import { denseNetInterior } from '../models';
import { wrnFullInterior } from '../structured/families';
import { Row, formatNumber } from '../notebook/tables';
import { lineFigure, scatterFigure, heatmapFigure, subplots, FigureSpec, Series } from '../notebook/plots';
import type { RvpMember, RvpPlan } from './rvp-plan';
import { checkpointAt, CRIT_NAME, kShort } from './rvp-jobs';
import { SERIES_NAMES, seriesName } from './rvp-run';
import type { RvpRow, RvpRun } from './rvp-run';
import type { RvpGroup } from './rvp-summary';
import type { RvpTimingRow } from './rvp-timing';

// ---------------------------------------------------------------------------------------------
// Figures and display helpers

/** The base of a plan: a WRN (depth, widthFactor) or a DenseNet-BC (depth, growth). */
type PlanBase = { base: { depth: number; widthFactor: number } | { depth: number; growth: number } };

/** Kept interior channels per stage (WRN) or dense block as "kept/full" strings, e.g. ['30/32', '52/64', '20/128']. */
export function stageProfile(p: PlanBase, interior: number[]): string[] {
  const b = p.base;
  const full = 'growth' in b ? denseNetInterior({ arch: 'densenet', depth: b.depth, growth: b.growth }) : wrnFullInterior(b.depth, b.widthFactor);
  if (interior.length !== full.length) return [];
  const n = full.length / 3;
  return [0, 1, 2].map((s) => {
    let k = 0, f = 0;
    for (let i = s * n; i < (s + 1) * n; i++) { k += interior[i]; f += full[i]; }
    return `${Math.round(k)}/${f}`;
  });
}

const SERIES_ORDER = Object.values(SERIES_NAMES);

function seriesOf(groups: RvpGroup[], x: 'params' | 'macs'): Series[] {
  const names = [...new Set(groups.map((g) => g.series))].sort((a, b) => SERIES_ORDER.indexOf(a) - SERIES_ORDER.indexOf(b));
  return names.map((name) => {
    const gs = groups.filter((g) => g.series === name).sort((a, b) => a[x] - b[x]);
    return {
      name, x: gs.map((g) => g[x]), y: gs.map((g) => 100 * g.errorMean), error: gs.map((g) => (Number.isFinite(g.errorSd) ? 100 * g.errorSd : NaN)),
      text: gs.map((g) => `${g.label}<br>budget ${g.budget}, n=${g.n}`),
    };
  });
}

/** Draw the base as a grey reference point (the palette's 9th colour is another blue). */
function greyBase(fig: FigureSpec): FigureSpec {
  for (const t of fig.data) {
    if (t.name !== 'base') continue;
    t.marker = { ...(t.marker as object), color: '#555555', symbol: 'diamond', size: 10 };
    if (t.line) t.line = { ...(t.line as object), color: '#555555' };
  }
  return fig;
}

/** Test error (%) vs parameters (log) and vs MACs, one series per family, mean ± sd over seeds. */
export function errorFigure(groups: RvpGroup[], curve: RvpGroup[], title: string): FigureSpec {
  const all = [...curve, ...groups.filter((g) => g.family !== 'pruned-tuned')];
  const a = lineFigure(seriesOf(all, 'params'), { title: 'vs parameters', x: { title: 'parameters', log: true }, y: { title: 'test error (%)' } });
  const b = lineFigure(seriesOf(all, 'macs'), { title: 'vs MACs per example', x: { title: 'MACs', log: true }, y: { title: 'test error (%)' } });
  // zoom on the best 12 percentage points, where most families sit (points above are cut off)
  const lo = Math.floor(100 * Math.min(...all.map((g) => g.errorMean)) - 1.5);
  const z = lineFigure(seriesOf(all, 'params'), { title: `zoom: ${lo}–${lo + 12} % error`, x: { title: 'parameters', log: true }, y: { title: 'test error (%)', range: [lo, lo + 12] } });
  return greyBase(subplots([a, b, z], { columns: 3, title, height: 480, width: 1320 }));
}

/** MACs vs parameters per family: where the FLOPs of equally sized nets differ. */
export function flopsFigure(groups: RvpGroup[], curve: RvpGroup[]): FigureSpec {
  const all = [...curve, ...groups.filter((g) => g.family !== 'pruned-tuned')];
  const names = [...new Set(all.map((g) => g.series))].sort((a, b) => SERIES_ORDER.indexOf(a) - SERIES_ORDER.indexOf(b));
  const series = names.map((name) => {
    const gs = all.filter((g) => g.series === name).sort((a, b) => a.params - b.params);
    return { name, x: gs.map((g) => g.params), y: gs.map((g) => g.macs), text: gs.map((g) => g.label) };
  });
  return greyBase(lineFigure(series, { title: 'MACs per example vs parameters', x: { title: 'parameters', log: true }, y: { title: 'MACs per example', log: true } }));
}

/** Median latency (ms) vs parameters, one panel per (backend variant, batch size). */
export function latencyFigure(timing: readonly RvpTimingRow[]): FigureSpec {
  const combos = [...new Set(timing.map((t) => JSON.stringify([t.variant, t.batchSize])))].map((s) => JSON.parse(s) as [string, number]);
  const figs = combos.map(([v, b]) => {
    const rows = timing.filter((t) => t.variant === v && t.batchSize === b);
    const names = [...new Set(rows.map((r) => seriesName(r.family, r.criterion)))].sort((x, y) => SERIES_ORDER.indexOf(x) - SERIES_ORDER.indexOf(y));
    const series = names.map((name) => {
      const rs = rows.filter((r) => seriesName(r.family, r.criterion) === name).sort((x, y) => x.params - y.params);
      return { name, x: rs.map((r) => r.params), y: rs.map((r) => r.medianMs), text: rs.map((r) => `${r.label}<br>${formatNumber(r.macs / 1e6, 1)}M MACs`) };
    });
    return scatterFigure(series, { title: `${v}, batch ${b}`, x: { title: 'parameters', log: true }, y: { title: 'median latency (ms)', log: true } });
  });
  const columns = Math.min(2, figs.length);
  return greyBase(subplots(figs, { columns, title: 'Inference latency of compressed pruned vs reduced nets', height: 440 * Math.ceil(figs.length / columns) + 60 }));
}

/** Kept fraction of every block's interior channels, per criterion and budget (first seed). */
export function profileFigure(p: RvpPlan, run: Pick<RvpRun, 'prune'>): FigureSpec {
  const full = wrnFullInterior(p.base.depth, p.base.widthFactor);
  const n = full.length / 3;
  const blocks = full.map((_, i) => `s${Math.floor(i / n) + 1}b${(i % n) + 1}`);
  const firstSeed = Math.min(...run.prune.map((r) => r.config.seed));
  const z: number[][] = [], y: string[] = [];
  for (const { config, result } of run.prune.filter((r) => r.config.seed === firstSeed)) {
    for (const b of p.budgets) {
      const cp = checkpointAt(result, b);
      if (!cp) continue;
      z.push(cp.interior.map((k, i) => k / full[i]));
      y.push(`${CRIT_NAME[config.prune.criterion]} @ ${kShort(b)}`);
    }
  }
  if (z.length === 0) { z.push(full.map(() => NaN)); y.push('no checkpoints'); }
  return heatmapFigure({ z, x: blocks, y, zTitle: 'kept fraction', zmin: 0, zmax: 1, showValues: true, digits: 2 }, { title: `Kept interior channels per block (seed ${firstSeed})`, height: 120 + 40 * z.length });
}

// ---------------------------------------------------------------------------------------------
// Text and tables for the notebook

function dataText(p: RvpPlan): string {
  const name = p.data.name === 'cifar10' ? 'CIFAR-10' : 'Fashion-MNIST';
  const tr = p.data.trainLimit ? `${p.data.trainLimit}-example` : 'full';
  const te = p.data.testLimit ? `${p.data.testLimit}-example` : 'full';
  return `${name} (${tr} training set, ${te} test set${p.data.trainLimit || p.data.testLimit ? '; seeded class-stratified subsets, the same for every seed' : ''})`;
}

/** One line saying what ran (for recordClaim's `setting`). */
export function settingText(p: RvpPlan, seeds: number[]): string {
  const t = p.train, q = p.prune;
  return `WRN-${p.base.depth}-${p.base.widthFactor} (${p.baseParams.toLocaleString('en-US')} params, ${p.baseChannels} prunable channels) on ${dataText(p)}; ` +
    `base and every from-scratch net: ${t.epochs} epoch(s) SGD batch ${t.batchSize}, lr ${t.lr} ×${t.gamma} at ${t.milestones.join('/')} of training, momentum ${t.momentum}, wd ${t.weightDecay}; ` +
    `prune-and-tune: one channel removed globally every ${q.stepsPerPrune} fine-tuning step(s) (batch ${q.batchSize}, constant lr ${q.lr}), Fisher (raw Δ) and L1 (Σ|w|); ` +
    `matched budgets ${p.budgets.map(kShort).join(', ')} params (±${(100 * p.matchTolerance).toFixed(0)} %); from-scratch nets get the base's epochs (Scratch-E), reduced-width nets at ${p.scratchB.budgets.map(kShort).join(', ')} also the base's training compute (Scratch-B); ` +
    `dense gate: base vs the same config run ${p.gate.convergedEpochs} epochs, margin ${(100 * p.gate.margin).toFixed(0)} points; plateau gate: last-epoch gain ≤ ${(100 * p.gate.maxFinalEpochGain).toFixed(0)} point; final-epoch test error; budget ${p.budget}; seeds ${seeds.join(', ')}`;
}

function augmentText(a: Augment | undefined): string {
  if (!a || (!a.crop && !a.flip)) return 'no augmentation';
  return [a.crop ? `random crop after ${a.crop.fill} padding of ${a.crop.pad}` : '', a.flip ? 'horizontal flip' : ''].filter(Boolean).join(' + ');
}

/** The choices the paper leaves open and what this study runs, as table rows. */
export function choicesRows(p: RvpPlan): Array<{ choice: string; ours: string }> {
  const q = p.prune;
  const fam = (f: RvpMember['family']) => p.reduced.filter((m) => m.family === f).map((m) => `${m.label} (${kShort(m.params)})`).join(', ') || 'none';
  return [
    { choice: 'data', ours: dataText(p) },
    { choice: 'base / from-scratch recipe', ours: `${p.train.epochs} epoch(s), batch ${p.train.batchSize}, SGD lr ${p.train.lr} (×${p.train.gamma} at ${p.train.milestones.join(', ')} of the epochs), momentum ${p.train.momentum}, wd ${p.train.weightDecay}; ${augmentText(p.train.augment)}` },
    { choice: 'L1 variant', ours: q.l1Variant === 'abs' ? 'Σ|w| over conv1 out-filter (Li et al.); the authors\' code sums signed weights' : 'signed Σw (authors\' code)' },
    { choice: 'Fisher normalisation / loss', ours: 'raw Δ_c compared across blocks (authors); batch-mean cross-entropy' },
    { choice: 'fine-tune steps per prune, LR', ours: `${q.stepsPerPrune} step(s) of batch ${q.batchSize}, constant lr ${q.lr} (= final base LR), momentum ${q.momentum}, wd ${q.weightDecay}; ${augmentText(q.augment)} (authors: 100 steps of 128)` },
    { choice: 'channels per round / scope / empty blocks', ours: 'one channel; global argmin over all blocks; a block losing its last channel collapses to its shortcut (authors)' },
    { choice: 'pruned-and-tuned evaluation', ours: 'checkpoint the first time live params <= each target; compress (slice filters), test; no extra tuning' },
    { choice: 'scratch-pruned init', ours: `full net freshly initialised (init seed = seed + ${p.scratchInitOffset}), prune history replayed, compressed: the full net's fan-out init std (authors)` },
    { choice: 'copycat', ours: `template = Fisher checkpoint at ${kShort(p.templateBudget)} of the same seed; per block interior = round(m · kept_b) (Math.round), one global m per budget chosen so the parameter count is closest to the budget; trained from scratch with own fan-out init` },
    { choice: 'reduced: depth', ours: fam('reduced-depth') },
    { choice: 'reduced: width k (step 1/32)', ours: fam('reduced-width') },
    { choice: 'reduced: bottleneck Z (step 1/C3)', ours: fam('reduced-bottleneck') },
    { choice: 'matching', ours: `by parameters; pruned-and-tuned = first checkpoint with params <= budget; reduced/copycat = closest count; pairs compared only within ${(100 * p.matchTolerance).toFixed(0)} %; MACs reported` },
    { choice: 'copycat "tracks"', ours: `|Δ error| <= max(${(100 * p.trackTolerance).toFixed(1)} pp, 2 standard errors of the difference of means)` },
    { choice: 'timing', ours: `variants ${Array.isArray(p.timing.variants) ? p.timing.variants.join(', ') : p.timing.variants} (as available), batch ${p.timing.batchSizes.join(' and ')}, ${p.timing.warmup} warm-up then median of ${p.timing.repeats} runs interleaved across the nets in 5 rounds, output read back, random weights, compressed nets; faster = exact one-sided Mann–Whitney on the repeats, Holm over the claim's pairs, family-wise α 0.05` },
    { choice: 'metric', ours: 'final-epoch top-1 test error (no model selection), mean ± sd over seeds; diverged runs counted, never averaged in' },
    { choice: 'recipe (how chosen)', ours: p.recipeNote },
    { choice: 'dense reference and gate', ours: `the base is the dense reference (same data, recipe, seeds); its converged accuracy = the same config run ${p.gate.convergedEpochs} epochs (same seeds, mean; milestones stretched); trained claims count only if base ≥ converged − ${(100 * p.gate.margin).toFixed(0)} points, every from-scratch arm gained ≤ ${(100 * p.gate.maxFinalEpochGain).toFixed(0)} point in its last epoch and none diverged; else 'inconclusive'` },
    { choice: 'compute of from-scratch nets', ours: `Scratch-E (Liu et al. 2019): the base recipe's ${p.train.epochs} epochs (the paper's comparison, decides the verdicts); Scratch-B: reduced-width nets at ${p.scratchB.budgets.map(kShort).join(', ')} trained for the base's training compute, ${p.train.epochs} × MACs(base)/MACs(net) epochs (at most ${p.scratchB.maxEpochFactor}×), reported beside claim 1` },
  ];
}

/** The dense reference and its converged run, per seed, for the notebook's gate table. */
export function denseReferenceRows(rows: readonly RvpRow[]): Row[] {
  return rows.filter((r) => r.family === 'base' || r.family === 'dense-converged').map((r) => ({
    net: r.series, seed: r.seed, epochs: r.history.length || null, outcome: r.outcome, 'test accuracy (%)': 100 * (1 - r.testError),
    'last-epoch gain (points)': r.history.length >= 2 ? 100 * (r.history[r.history.length - 1] - r.history[r.history.length - 2]) : null,
  }));
}

/** Summary rows for display: one per (family, criterion, budget). */
export function summaryRows(p: PlanBase, groups: RvpGroup[]): Row[] {
  return [...groups].sort((a, b) => b.budget - a.budget || SERIES_ORDER.indexOf(a.series) - SERIES_ORDER.indexOf(b.series)).map((g) => ({
    budget: g.budget, family: g.series, net: g.label, params: Math.round(g.params), 'MACs (M)': g.macs / 1e6,
    'test error (%)': { mean: 100 * g.errorMean, sd: 100 * g.errorSd, n: g.n }, 'SGD steps': Math.round(g.steps),
    'interior per stage (of base)': stageProfile(p, g.interior).join(' · '),
  }));
}

/** Timing rows for display (one per net, backend variant and batch size). */
export function timingRows(p: PlanBase, rows: readonly RvpTimingRow[]): Row[] {
  return rows.map((r) => ({
    variant: r.variant, batch: r.batchSize, family: seriesName(r.family, r.criterion), net: r.label, budget: r.budget,
    params: r.params, 'MACs (M)': r.macs / 1e6, 'median (ms)': r.medianMs, 'IQR (ms)': `${r.p25Ms.toFixed(2)}–${r.p75Ms.toFixed(2)}`,
    'interior per stage (of base)': stageProfile(p, r.interior).join(' · '),
  }));
}
