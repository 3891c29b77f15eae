/**
 * Settings of the reduced-vs-pruned study (reduced-vs-pruned.ts): the WRN recipe, the nets, the
 * reduced members chosen to match each parameter budget, and plan(budget), which fixes them all.
 */
import * as os from 'os';
import { Augment, CIFAR_AUGMENT } from '../data';
import { wrnCost, reducedFamily, wrnFullInterior, wrnInterior, wrnStageWidths } from '../structured/families';
import type { StructuredConfig } from '../structured/arch';
import type { L1Variant } from '../structured/l1';
import type { Budget } from '../notebook/params';
import { GATE_DEFAULTS } from '../notebook/gate';

/**
 * How the WRN recipe and the standard net were fixed (issue 13: one recipe per network family, chosen on
 * the dense net, never on a verdict). The authors' recipe (SGD momentum 0.9, lr 0.1, x0.2 at 30/60/80 %,
 * wd 5e-4) was kept after a small lr sweep on the dense WRN-16-1; the standard net then moved to
 * WRN-16-0.5 at 20 epochs because WRN-16-1 at 10 epochs failed its dense gate (scripts/recipe-sweep-03-04.ts
 * `wrn` and `wrn-half`; numbers below). No arm or verdict was looked at in either choice.
 */
export const RVP_RECIPE_NOTE = 'WRN recipe: the authors\' (SGD momentum 0.9, lr 0.1, ×0.2 at 30/60/80 % of the epochs, wd 5e-4), kept after a small sweep on the dense WRN-16-1 (scripts/recipe-sweep-03-04.ts wrn; Fashion-MNIST 3,000/2,000, batch 64, seed 0, final test accuracy): lr 0.1: 81.30 % after 8 epochs, lr 0.05: 81.65 %, a difference below the 0.9-point standard error of a 2,000-image test set. Standard net: WRN-16-1 at 10 epochs (3 seeds) ended at 83.07 % against 85.60 % for its 30-epoch run, failing the 2-point dense gate, and its sweeps were most of the standard run\'s time; WRN-16-0.5 (a quarter of the MACs) at 20 epochs ends at 83.80 / 85.40 / 84.80 % (seeds 0-2, mean 84.67 %, last-epoch gains ≤ 0.1 point) against 84.80 % for its 60-epoch run (scripts/recipe-sweep-03-04.ts wrn-half, the plan\'s own dense-gate configs), so the standard budget trains WRN-16-0.5 for 20 epochs. Only the dense net was looked at.';

/** How the standard budget's fine-tuning per prune was fixed (WRN and DenseNet alike), for the notebook. */
export const PRUNE_STEPS_NOTE = 'Fine-tuning per prune at standard: 20 SGD steps (authors: 100). The authors fine-tune 100 steps × 1,300 prunes = 130,000 steps on top of a 78,000-step base, 1.7× its training; with about 96 prunes (WRN-16-0.5) and 59 (DenseNet-BC-16) to the smallest checkpoint, 20 steps per prune give 2.0× and 1.6× the base\'s 940 / 750 steps. An earlier standard run used 2 steps (0.2×), which leaves the pruned nets barely tuned and so favours the claims; the 20 was set from the authors\' ratio, not from a verdict.';

export type Criterion = 'fisher' | 'l1';

/** The base recipe, used for the base and for every net trained from scratch (the authors' WRN recipe, Crowley et al., arXiv 1810.04622, scaled). */
export interface RvpRecipe {
  [k: string]: unknown;
  epochs: number;
  batchSize: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  /** LR × gamma at these fractions of the epochs (authors: 60/120/160 of 200 -> 0.3, 0.6, 0.8; gamma 0.2). */
  milestones: number[];
  gamma: number;
  /** Batch augmentation (CIFAR-10: the authors' reflect-pad-4 crop + flip; none on Fashion-MNIST). */
  augment?: Augment;
}

export interface RvpPruneSettings {
  [k: string]: unknown;
  criteria: Criterion[];
  /** 'abs' = Σ|w| (Li et al.); the authors' code sums signed weights ('signed-authors'). */
  l1Variant: L1Variant;
  /** Fine-tuning SGD steps before each single-channel prune (authors: 100). */
  stepsPerPrune: number;
  batchSize: number;
  /** Constant fine-tuning LR (authors: 8e-4), momentum, weight decay. */
  lr: number;
  momentum: number;
  weightDecay: number;
  /** Fine-tuning augmentation (CIFAR-10: the authors' prune script pads with zeros, then crops and flips). */
  augment?: Augment;
}

/**
 * A net of the study: WRN-depth-widthFactor (default) or DenseNet-BC-depth with growth rate `growth`
 * (arch 'densenet'; widthFactor unused, left at 1); interior [] = full widths.
 */
export interface RvpModel { arch?: 'wrn' | 'densenet'; depth: number; widthFactor: number; growth?: number; interior: number[] }

/** The model config of an RvpModel. */
export function rvpModelConfig(m: RvpModel): StructuredConfig {
  const interior = m.interior.length ? { interior: m.interior } : {};
  if ((m.arch ?? 'wrn') === 'wrn') return { arch: 'wrn', depth: m.depth, widthFactor: m.widthFactor, ...interior };
  if (m.arch !== 'densenet' || !m.growth) throw new Error(`reduced-vs-pruned: model.arch must be 'wrn' or 'densenet' (with growth > 0), got ${JSON.stringify(m)}.`);
  return { arch: 'densenet', depth: m.depth, growth: m.growth, ...interior };
}

export interface RvpMember {
  family: 'reduced-depth' | 'reduced-width' | 'reduced-bottleneck' | 'reduced-growth';
  label: string;
  /** The matched budget it was chosen for (its own parameter count for depth members). */
  budget: number;
  model: RvpModel;
  params: number;
  macs: number;
}

export interface RvpPlan {
  budget: Budget;
  data: { name: string; trainLimit: number; testLimit: number };
  inputShape: [number, number, number];
  numClasses: number;
  base: { depth: number; widthFactor: number };
  baseParams: number;
  baseMacs: number;
  /** Prunable interior channels of the base. */
  baseChannels: number;
  train: RvpRecipe;
  prune: RvpPruneSettings;
  /** Fractions of the base's parameters at which every from-scratch family is built. */
  budgetFractions: number[];
  /** round(fraction × baseParams), largest first. */
  budgets: number[];
  /** Budget whose Fisher checkpoint is the copycat template (per seed). */
  templateBudget: number;
  /** Extra prune-and-tune checkpoints (fractions) that only extend the pruned-and-tuned curve. */
  curveFractions: number[];
  /** Every prune-and-tune checkpoint target (budgets ∪ depth members ∪ curve), largest first. */
  checkpointParams: number[];
  /** Lower depths of the depth family. */
  depths: number[];
  /** Reduced nets trained from scratch, chosen to match the budgets. */
  reduced: RvpMember[];
  /** Relative parameter difference allowed between compared groups. */
  matchTolerance: number;
  /** Copycat "tracks" scratch-pruned if |Δ error| <= max(this, 2 standard errors of Δ). */
  trackTolerance: number;
  /** Init seed of every net trained from scratch except the base: seed + this (a fresh draw). */
  scratchInitOffset: number;
  /**
   * Gates (rvp-gates.ts): the base is the dense reference; its converged accuracy is the same config
   * run for `convergedEpochs` (every seed, milestones stretch); margin and plateau gain in accuracy.
   */
  gate: { convergedEpochs: number; margin: number; maxFinalEpochGain: number; maxDivergedFraction: number };
  /**
   * Scratch-B (Liu et al., ICLR 2019): these reduced families are also trained for the base's training
   * compute, epochs x MACs(base) / MACs(member), at most `maxEpochFactor` x the epochs (Scratch-E = the
   * base recipe's epochs, the paper's comparison), at these matched budgets (the largest: the cheapest to run).
   */
  scratchB: { families: Array<RvpMember['family']>; budgets: number[]; maxEpochFactor: number };
  /** How the recipe was chosen (the dense sweep), for the notebook. */
  recipeNote: string;
  /** Backend variants: 'current', 'all', or labels (those available are timed; see availableBackendVariants). */
  timing: { batchSizes: number[]; warmup: number; repeats: number; variants: 'current' | 'all' | string[] };
  workers: number;
  /** What the run cost here (measured), for the notebook. */
  expected: string;
  notes: string[];
}

const FASHION_SHAPE: [number, number, number] = [28, 28, 1];
const CIFAR_SHAPE: [number, number, number] = [32, 32, 3];

export interface PlanOptions {
  /** 'fashion-mnist' (default) or 'cifar10' (needs PRUNE_AT_INIT_CIFAR_DIR). */
  dataset?: string;
  /** Worker processes for the sweeps (default: min(2, CPUs)). */
  workers?: number;
}

/** Stage widths' last entry: the interior width step of the bottleneck grid is 1 / C3. */
function lastStageWidth(widthFactor: number): number { return wrnStageWidths(widthFactor)[2]; }

/**
 * Choose reduced members: for each budget, the bottleneck Z = i / C3 and width k = j / 32 whose
 * parameter counts are closest to it (kept only within `tol`); each lower depth is its own budget.
 */
export function chooseReduced(base: { depth: number; widthFactor: number }, budgets: number[], depths: number[],
  shape: { inputShape: [number, number, number]; numClasses: number }, tol: number): { members: RvpMember[]; notes: string[] } {
  const c3 = lastStageWidth(base.widthFactor);
  const zs = Array.from({ length: c3 - 1 }, (_, i) => (i + 1) / c3);
  const ks = Array.from({ length: Math.round(32 * base.widthFactor) - 1 }, (_, j) => (j + 1) / 32);
  const fam = reducedFamily(base, { ...shape, bottlenecks: zs, widths: ks, depths, includeBase: false });
  const members: RvpMember[] = [];
  const notes: string[] = [];
  const toMember = (f: (typeof fam)[number], budget: number): RvpMember => {
    const kind = f.kind as 'depth' | 'width' | 'bottleneck';
    const interior = kind === 'bottleneck' ? wrnInterior(f.config) : [];
    return {
      family: `reduced-${kind}` as RvpMember['family'], label: f.label, budget,
      model: { depth: f.config.depth, widthFactor: f.config.widthFactor, interior }, params: f.params, macs: f.macs,
    };
  };
  for (const b of budgets) {
    for (const kind of ['bottleneck', 'width'] as const) {
      const cands = fam.filter((f) => f.kind === kind);
      if (cands.length === 0) continue;
      const best = cands.reduce((a, f) => (Math.abs(f.params - b) < Math.abs(a.params - b) ? f : a));
      const rel = Math.abs(best.params - b) / b;
      if (rel > tol) notes.push(`no ${kind} member within ${(tol * 100).toFixed(0)} % of budget ${b} (closest ${best.label}: ${best.params})`);
      else members.push(toMember(best, b));
    }
  }
  for (const f of fam.filter((x) => x.kind === 'depth')) members.push(toMember(f, f.params));
  return { members, notes };
}

/** Settings per budget (see the module comment); `budget` 'smoke' runs in seconds. */
export function plan(budget: Budget, opts: PlanOptions = {}): RvpPlan {
  const dataset = opts.dataset ?? 'fashion-mnist';
  if (!['fashion-mnist', 'cifar10'].includes(dataset)) throw new Error(`reduced-vs-pruned plan: dataset must be 'fashion-mnist' or 'cifar10', got '${dataset}'.`);
  const inputShape = dataset === 'cifar10' ? CIFAR_SHAPE : FASHION_SHAPE;
  const numClasses = 10;
  // the authors augment CIFAR-10 only: reflect padding for training from scratch, zero padding in the prune script
  const cifar = dataset === 'cifar10';
  const recipe = (epochs: number, batchSize: number): RvpRecipe => ({ epochs, batchSize, lr: 0.1, momentum: 0.9, weightDecay: 5e-4, milestones: [0.3, 0.6, 0.8], gamma: 0.2,
    ...(cifar ? { augment: CIFAR_AUGMENT } : {}) });
  const pruneS = (stepsPerPrune: number, batchSize: number): RvpPruneSettings => ({ criteria: ['fisher', 'l1'], l1Variant: 'abs', stepsPerPrune, batchSize, lr: 8e-4, momentum: 0.9, weightDecay: 5e-4,
    ...(cifar ? { augment: { crop: { pad: 4, fill: 'zero' }, flip: true } } : {}) });
  type Level = Omit<RvpPlan, 'budget' | 'inputShape' | 'numClasses' | 'baseParams' | 'baseMacs' | 'baseChannels' | 'budgets' | 'templateBudget' | 'checkpointParams' | 'reduced' | 'matchTolerance' | 'trackTolerance' | 'scratchInitOffset' | 'workers' | 'notes' | 'gate' | 'scratchB' | 'recipeNote'> & { templateFraction: number; convergedFactor: number };
  const levels: Record<Budget, Level> = {
    smoke: {
      data: { name: dataset, trainLimit: 256, testLimit: 200 },
      base: { depth: 16, widthFactor: 0.5 },
      train: recipe(1, 64),
      prune: pruneS(1, 16),
      budgetFractions: [0.7, 0.5], templateFraction: 0.5, curveFractions: [0.85], convergedFactor: 2,
      depths: [10],
      timing: { batchSizes: [1, 64], warmup: 1, repeats: 3, variants: 'current' },
      expected: 'measured here: 20 s from a cold cache on a quiet machine, about 1 min while other notebooks ran (kernel start and figure export included)',
    },
    // a preview, cut to under a minute of sweeps on 2 cores (the whole quick run: ~5 min here, at most 20 min on a
    // 34 GFLOP/s machine): standard's WRN-16-0.5 on 400 images for 3 epochs (39 steps), one step of batch 16 per prune,
    // standard's two budgets (the copycat claim needs one besides the template's), one pruning-curve
    // checkpoint besides them, the converged run at 2x. Its dense gate fails by design (verdicts 'inconclusive').
    quick: {
      data: { name: dataset, trainLimit: 400, testLimit: 400 },
      base: { depth: 16, widthFactor: 0.5 },
      train: recipe(3, 32),
      prune: pruneS(1, 16),
      budgetFractions: [0.5, 0.35], templateFraction: 0.35, curveFractions: [0.75], convergedFactor: 2,
      depths: [10],
      timing: { batchSizes: [1, 64], warmup: 2, repeats: 5, variants: 'current' },
      expected: 'a preview on WRN-16-0.5 (its dense gate fails by design: verdicts inconclusive): about 70 s here from a cold cache with the DenseNet part, estimated from per-config CPU time measured here (2 cores); the last cell prints this run\'s time',
    },
    standard: {
      // WRN-16-0.5 (not the authors' WRN-40-2) on a 3,000-image subset, 20 epochs of batch 64 (940 steps) with the
      // family recipe; converged run 60 epochs. WRN-16-1 at 10 epochs failed its dense gate (83.07 % vs 85.60 % at 30
      // epochs) and cost 4x the MACs per step; WRN-16-0.5 at 20 epochs passes it (RVP_RECIPE_NOTE). Budgets 0.5 and
      // 0.35 (as quick): at this width 0.25 has no bottleneck or width member within 5 %.
      data: { name: dataset, trainLimit: 3000, testLimit: 2000 },
      base: { depth: 16, widthFactor: 0.5 },
      train: recipe(20, 64),
      // 20 fine-tuning steps per prune: the authors fine-tune 100 steps x 1,300 prunes = 130,000 steps on top of a
      // 78,000-step base (1.7x); here about 96 prunes reach the smallest checkpoint, so 20 steps give ~1,900 steps
      // on top of the base's 940 (2.0x). The 2 steps used before gave 0.2x: pruned nets barely tuned, which would
      // favour the claims; fixed from that ratio, not from a verdict (PRUNE_STEPS_NOTE)
      prune: pruneS(20, 64),
      budgetFractions: [0.5, 0.35], templateFraction: 0.35, curveFractions: [0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2], convergedFactor: 3,
      depths: [10],
      // pure-JS 'cpu' left out: seconds per batch-64 forward
      timing: { batchSizes: [1, 64], warmup: 5, repeats: 25, variants: ['tensorflow', 'wasm+OpenBLAS', 'wasm', 'cpu+OpenBLAS'] },
      expected: 'measured on 2026-12-06 on 2 AMD EPYC cores (sgemm 100 GFLOP/s) over two runs: the WRN sweeps ≈ 4,900 CPU-s (dense gate and first stage ≈ 3,100, partly on shared cores; prune-and-tune 890; retrained nets 850), the DenseNet part ≈ 1,300 (its first stage measured on a faster machine); about 50-55 min cold on 2 cores; the last cell prints this run\'s time',
    },
    paper: {
      data: { name: dataset, trainLimit: 0, testLimit: 0 },
      base: { depth: 40, widthFactor: 2 },
      train: recipe(200, 128),
      prune: pruneS(100, 128),
      budgetFractions: [0.75, 0.5, 0.25, 0.1], templateFraction: 0.25, curveFractions: [0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.15], convergedFactor: 2,
      depths: [34, 28, 22, 16],
      timing: { batchSizes: [1, 64], warmup: 10, repeats: 50, variants: 'all' },
      expected: 'weeks of CPU time (200-epoch WRN-40-2 bases, 1,000+ prune rounds of 100 steps each); meant for a big machine',
    },
  };
  const lv = levels[budget];
  if (!lv) throw new Error(`reduced-vs-pruned plan: unknown budget '${budget}': use smoke, quick, standard or paper.`);
  const shape = { inputShape, numClasses };
  const baseCost = wrnCost({ arch: 'wrn', depth: lv.base.depth, widthFactor: lv.base.widthFactor }, shape);
  const budgets = lv.budgetFractions.map((f) => Math.round(f * baseCost.params)).sort((a, b) => b - a);
  const matchTolerance = 0.05;
  const { members, notes } = chooseReduced(lv.base, budgets, lv.depths, shape, matchTolerance);
  const depthParams = members.filter((m) => m.family === 'reduced-depth').map((m) => m.budget);
  const curve = lv.curveFractions.map((f) => Math.round(f * baseCost.params));
  const checkpointParams = [...new Set([...budgets, ...depthParams, ...curve])].sort((a, b) => b - a);
  const { templateFraction, convergedFactor, ...rest } = lv;
  if (budget === 'paper' && dataset !== 'cifar10') notes.push('paper budget on Fashion-MNIST: the authors used CIFAR-10 (set PRUNE_AT_INIT_CIFAR_DIR).');
  if (budget === 'standard') notes.push(PRUNE_STEPS_NOTE);
  if (!cifar) notes.push('No data augmentation on Fashion-MNIST (the authors crop and flip CIFAR-10; so does this study when run on CIFAR-10).');
  return {
    ...rest, budget, inputShape, numClasses,
    baseParams: baseCost.params, baseMacs: baseCost.macs,
    baseChannels: wrnFullInterior(lv.base.depth, lv.base.widthFactor).reduce((a, b) => a + b, 0),
    budgets, templateBudget: Math.round(templateFraction * baseCost.params), checkpointParams,
    reduced: members, matchTolerance, trackTolerance: 0.01, scratchInitOffset: 1_000_003,
    gate: { convergedEpochs: convergedFactor * lv.train.epochs, margin: GATE_DEFAULTS.margin, maxFinalEpochGain: GATE_DEFAULTS.maxFinalEpochGain, maxDivergedFraction: GATE_DEFAULTS.maxDivergedFraction },
    scratchB: { families: ['reduced-width'], budgets: budgets.slice(0, 1), maxEpochFactor: 4 },
    recipeNote: RVP_RECIPE_NOTE,
    workers: opts.workers ?? Math.max(1, Math.min(2, os.availableParallelism())),
    notes,
  };
}
