/**
 * runEarlyPruning(config): one entry point for notebooks and the sweep engine. The config is plain JSON;
 * the result is plain JSON (no NaN: missing values are null). Methods:
 *   'dense', 'random', 'magnitude', 'snip' (mask at init, then E epochs),
 *   'kstarts', 'dissipating', 'magnitude-at-epoch' (one-shot |w_t| mask after E_d epochs),
 *   'combined' (A: K-starts at p1 then dissipation to p; B: dissipation fitness).
 * Reported accuracy is the final epoch's test accuracy, never the best seen. All methods are the
 * project's reading of the Haroon abstract (arXiv 2209.02201), not the paper's exact procedure.
 */
import { initBackend, backendInfo } from '../backend';
import { defaultsOf, parseConfig } from '../config/schema';
import { EARLY_PRUNING_METHOD_NAMES, EARLY_PRUNING_SCHEMA } from '../config/tasks';
import { loadDataset } from '../data';
import type { ModelConfig } from '../models';
import type { Scope } from '../prune/scores-to-mask';
import { checkSparsity } from '../prune/scores-to-mask';
import { evaluate, lrAt, TrainConfig, validateTrainConfig } from '../train';
import { earlyPruningMagnitudeMask, earlyPruningRandomMask, earlyPruningSnipMask } from './baselines';
import { combineKStartsDissipating } from './combined';
import { DissipationSchedule, DissipationReport, DissipationRule, dissipate } from './dissipating';
import { buildFor, CandidateReport, EarlyPruningSetup, KStartsOptions, KStartsReport, kStarts } from './kstarts';
import { MaskedEpochRecord, MaskedRun } from './masked-run';
import { perLayerCounts } from './select';

export const EARLY_PRUNING_METHODS = EARLY_PRUNING_METHOD_NAMES;
export type EarlyPruningMethod = (typeof EARLY_PRUNING_METHODS)[number];

/** K-starts options of a run (also the K-starts half of 'combined'), as in KStartsOptions. */
type KStartsRunOptions = Pick<KStartsOptions, 'k' | 'selectionEpochs' | 'fitness' | 'direction' | 'normalize' | 'pick' | 'init' | 'afterSelection' | 'evaluateAllCandidates'>;

export interface EarlyPruningConfig extends KStartsRunOptions {
  method: EarlyPruningMethod;
  /** Model name (e.g. 'lenet300', 'cnn_small') or a ModelConfig object. */
  model: string | ModelConfig;
  dataset: string;
  trainLimit?: number | null;
  testLimit?: number | null;
  /** Seed of the trainLimit/testLimit subsets (default 0: the same data for every run seed). */
  subsetSeed?: number;
  /** Target sparsity p (fraction removed). Ignored by 'dense'. */
  sparsity: number;
  /** Total training epochs of the final network (selection and pruning epochs included). */
  epochs: number;
  /** Training recipe; its `epochs`, if given, must equal `epochs`. */
  train: Omit<TrainConfig, 'epochs'> & { epochs?: number };
  /** Run seed; initSeed, maskSeed and dataSeed default to it (they use separate RNG streams anyway). */
  seed: number;
  initSeed?: number | null;
  maskSeed?: number | null;
  dataSeed?: number | null;
  /** Scope of random masks (random baseline, K-starts candidates); default 'layerwise'. */
  maskScope?: Scope;
  /** Scope of score masks at init (magnitude, SNIP); default 'global', as in their papers. */
  scoreScope?: Scope;
  /** Scope of dissipation and of magnitude-at-epoch (same scope, for a fair contrast); default 'layerwise'. */
  dissipationScope?: Scope;
  // dissipating gradients (also 'magnitude-at-epoch' and the second half of 'combined' A)
  dissipationEpochs?: number;
  schedule?: DissipationSchedule;
  rule?: DissipationRule;
  /** Dissipation ranking: 'relative-change' (default), 'absolute-change' (sensitivity check). */
  dissipationScore?: 'relative-change' | 'absolute-change';
  alpha?: number;
  maxEpochs?: number | null;
  epsScale?: number;
  // combination
  combination?: 'A' | 'B';
  p1?: number | null;
  /** Options passed to the 'snip' score method. */
  snipOptions?: Record<string, unknown>;
  /** Extra phase after the run, for "no retraining needed": epochs (default 0 = none). */
  extraEpochs?: number;
  /** 'finetune' (default): continue the same sparse net; 'rewind': W0 with the final mask, retrained from scratch. */
  extraMode?: 'finetune' | 'rewind';
  /** Fine-tune learning rate (default: the last epoch's learning rate). */
  extraLr?: number | null;
  /** Evaluate the test split every epoch (default true; target epochs and the end always are). */
  evalEveryEpoch?: boolean;
  /** Also evaluate the final net (and the extra phase's) on the training split in eval mode: the train/test gap. */
  evalTrainSplit?: boolean;
  /** If set, save the final mask (safetensors) here, e.g. for Jaccard overlaps in a notebook. */
  maskPath?: string | null;
}

/** Every option with its default (the values a config may omit), from EARLY_PRUNING_SCHEMA (config/tasks.ts). */
export const EARLY_PRUNING_DEFAULTS = defaultsOf(EARLY_PRUNING_SCHEMA);

export interface EarlyPruningResult {
  method: EarlyPruningMethod;
  outcome: 'ok' | 'diverged';
  /** Final-epoch test accuracy (never the best seen). */
  finalTestAcc: number;
  finalTestLoss: number;
  /** Running training accuracy of the last epoch. */
  finalTrainAcc: number | null;
  /** Test accuracy right after the net became p-sparse (at init for mask-at-init methods; after selection for K-starts). */
  accAtTarget: number | null;
  /** Epochs trained when the final p-sparse mask was fixed (0 at init; E_s for K-starts; null if never reached). */
  epochsToTarget: number | null;
  /** Test accuracy after the extra training phase (extraEpochs > 0), else null. */
  extraTrainAcc: number | null;
  extra: {
    mode: 'finetune' | 'rewind'; epochs: number; lr: number | null; testAcc: number; trainAcc: number | null; delta: number;
    /** Eval-mode loss and accuracy on the training split after the extra phase (evalTrainSplit only). */
    trainEval?: { acc: number; loss: number };
  } | null;
  /** Eval-mode loss and accuracy of the final net on the training split (evalTrainSplit), else null. */
  trainEval: { acc: number; loss: number } | null;
  density: number;
  kept: number;
  size: number;
  perLayer: Array<{ name: string; size: number; kept: number; density: number }>;
  emptyLayers: string[];
  /** K-starts candidates (kstarts, combined). */
  candidates?: CandidateReport[];
  kstarts?: Omit<KStartsReport, 'candidates'>;
  dissipation?: DissipationReport;
  /** Sparsity of the K-starts masks in 'combined'. */
  p1?: number;
  /** Epochs of training over the train split, summed over every net trained (selection included). */
  compute: { trainingEpochs: number; selectionEpochs: number; evaluationEpochs: number };
  diagnostics: { history: MaskedEpochRecord[]; seeds: { init: number; mask: number; data: number } };
  backend: string;
  seconds: number;
}

function fail(msg: string): never { throw new Error(`runEarlyPruning: ${msg}`); }

function resolveConfig(c: EarlyPruningConfig): { setup: Omit<EarlyPruningSetup, 'ds'>; train: TrainConfig } {
  if (!c || typeof c !== 'object') fail('config must be an object.');
  if (!EARLY_PRUNING_METHODS.includes(c.method)) fail(`unknown method '${String(c.method)}': use one of ${EARLY_PRUNING_METHODS.join(', ')}.`);
  if (!Number.isInteger(c.epochs) || c.epochs < 1) fail(`epochs must be a positive integer, got ${c.epochs}.`);
  if (!c.train || typeof c.train !== 'object') fail('train must be a TrainConfig object (batchSize, lr, ...).');
  if (c.train.epochs !== undefined && c.train.epochs !== c.epochs) fail(`train.epochs (${c.train.epochs}) differs from epochs (${c.epochs}); give one of them.`);
  if (c.method !== 'dense') checkSparsity(c.sparsity);
  if (!Number.isFinite(c.seed)) fail(`seed must be a finite number, got ${c.seed}.`);
  const train: TrainConfig = { ...c.train, epochs: c.epochs };
  validateTrainConfig(train);
  if (c.extraEpochs !== undefined && (!Number.isInteger(c.extraEpochs) || c.extraEpochs < 0)) fail(`extraEpochs must be a non-negative integer, got ${c.extraEpochs}.`);
  if (c.extraMode !== undefined && !['finetune', 'rewind'].includes(c.extraMode)) fail(`extraMode must be 'finetune' or 'rewind', got '${c.extraMode}'.`);
  return {
    train,
    setup: {
      model: c.model, train, initSeed: c.initSeed ?? c.seed, maskSeed: c.maskSeed ?? c.seed, dataSeed: c.dataSeed ?? c.seed,
      evalEveryEpoch: c.evalEveryEpoch ?? true,
    },
  };
}

/** Run one Haroon experiment (see the module comment); initialises the TF.js backend if needed. */
export async function runEarlyPruning(config: EarlyPruningConfig): Promise<EarlyPruningResult> {
  const t0 = Date.now();
  parseConfig(EARLY_PRUNING_SCHEMA, config, 'runEarlyPruning config', 'config');
  const { setup: s, train } = resolveConfig(config);
  await initBackend();
  const ds = loadDataset(config.dataset, { trainLimit: config.trainLimit ?? undefined, testLimit: config.testLimit ?? undefined, seed: config.subsetSeed ?? 0 });
  const setup: EarlyPruningSetup = { ...s, ds };
  const E = train.epochs;
  const p = config.sparsity;
  const maskScope = config.maskScope ?? 'layerwise', scoreScope = config.scoreScope ?? 'global';
  const kopts: Omit<KStartsOptions, 'sparsity'> = {
    k: config.k, selectionEpochs: config.selectionEpochs, fitness: config.fitness, direction: config.direction,
    normalize: config.normalize, pick: config.pick, init: config.init, maskScope, afterSelection: config.afterSelection,
    evaluateAllCandidates: config.evaluateAllCandidates, epsScale: config.epsScale,
  };
  const dopts = {
    epochs: config.dissipationEpochs, schedule: config.schedule, rule: config.rule, alpha: config.alpha, score: config.dissipationScore,
    maxEpochs: config.maxEpochs ?? undefined, epsScale: config.epsScale, scope: config.dissipationScope ?? 'layerwise',
  };

  let run: MaskedRun;
  let initSeed = setup.initSeed;
  let accAtTarget: number | null = null, epochsToTarget: number | null = null;
  const extraOut: Partial<EarlyPruningResult> = {};
  let trainingEpochs = E, selectionEpochs = 0, evaluationEpochs = 0;
  const method = config.method;

  if (method === 'kstarts' || method === 'combined') {
    let ksReport: KStartsReport;
    if (method === 'kstarts') {
      const ks = kStarts(setup, { ...kopts, sparsity: p });
      run = ks.winner.run; initSeed = ks.winner.initSeed; ksReport = ks.report;
    } else {
      const cb = combineKStartsDissipating(setup, { sparsity: p, combination: config.combination, p1: config.p1 ?? undefined, kstarts: kopts, dissipating: dopts });
      run = cb.kstarts.winner.run; initSeed = cb.kstarts.winner.initSeed; ksReport = cb.kstarts.report;
      extraOut.p1 = cb.p1;
      if (cb.dissipation) extraOut.dissipation = cb.dissipation;
    }
    const { candidates, ...rest } = ksReport;
    extraOut.candidates = candidates; extraOut.kstarts = rest;
    selectionEpochs = rest.compute.selectionEpochs; trainingEpochs = rest.compute.totalEpochs; evaluationEpochs = rest.compute.evaluationEpochs;
    if (extraOut.dissipation) {
      accAtTarget = extraOut.dissipation.accAtTarget; epochsToTarget = extraOut.dissipation.targetEpoch;
    } else {
      accAtTarget = candidates[rest.pick].testAccAtSelection; epochsToTarget = rest.selectionEpochs;
    }
  } else {
    const net = buildFor(setup, initSeed);
    run = new MaskedRun(net, ds, train, { seed: setup.dataSeed, evalEveryEpoch: setup.evalEveryEpoch });
    try {
      if (method === 'dissipating' || method === 'magnitude-at-epoch') {
        const w0 = net.getWeights();
        const rep = dissipate(run, w0, {
          ...dopts, sparsity: p,
          ...(method === 'magnitude-at-epoch' ? { score: 'magnitude' as const, schedule: 'oneshot' as const, rule: 'exact' as const } : {}),
        });
        extraOut.dissipation = rep;
        accAtTarget = rep.accAtTarget; epochsToTarget = rep.targetEpoch;
      } else if (method !== 'dense') {
        const mask = method === 'random' ? earlyPruningRandomMask(net, p, setup.maskSeed, maskScope)
          : method === 'magnitude' ? earlyPruningMagnitudeMask(net, p, scoreScope)
            : earlyPruningSnipMask(net, ds, p, { scope: scoreScope, seed: setup.maskSeed, options: config.snipOptions });
        run.setMask(mask);
        accAtTarget = run.evaluate().acc; epochsToTarget = 0;
      }
      run.trainTo(E);
    } catch (e) { run.dispose(); throw e; }
  }

  try {
    const diverged = run.diverged !== null;
    const fin = run.evaluate();
    const trainEvalOf = (net: typeof run.net) => (config.evalTrainSplit ? evaluate(net, ds, ds.train) : undefined);
    const trainEval = trainEvalOf(run.net) ?? null;
    const last = run.history[run.history.length - 1];
    const mask = run.maskOrOnes();
    if (config.maskPath) mask.save(config.maskPath);
    let extra: EarlyPruningResult['extra'] = null;
    const extraEpochs = config.extraEpochs ?? 0;
    if (extraEpochs > 0 && !diverged) {
      const mode = config.extraMode ?? 'finetune';
      if (mode === 'finetune') {
        const lr = config.extraLr ?? lrAt(train, E - 1);
        run.trainTo(E + extraEpochs, { lr, evaluate: false });
        const acc = run.evaluate().acc;
        extra = { mode, epochs: extraEpochs, lr, testAcc: acc, trainAcc: run.history[run.history.length - 1].trainAcc, delta: acc - fin.acc, trainEval: trainEvalOf(run.net) };
      } else {
        const net = buildFor(setup, initSeed);
        const re = new MaskedRun(net, ds, { ...train, epochs: extraEpochs }, { seed: setup.dataSeed, evalEveryEpoch: false });
        try {
          if (run.mask) re.setMask(mask);
          re.trainTo(extraEpochs);
          const acc = re.evaluate().acc;
          extra = { mode, epochs: extraEpochs, lr: null, testAcc: acc, trainAcc: re.history[re.history.length - 1].trainAcc, delta: acc - fin.acc, trainEval: trainEvalOf(re.net) };
        } finally { re.dispose(); }
      }
      trainingEpochs += extraEpochs;
    }
    const result: EarlyPruningResult = {
      method, outcome: diverged ? 'diverged' : 'ok',
      finalTestAcc: fin.acc, finalTestLoss: fin.loss, finalTrainAcc: last && Number.isFinite(last.trainAcc) ? last.trainAcc : null,
      accAtTarget, epochsToTarget, extraTrainAcc: extra ? extra.testAcc : null, extra, trainEval,
      density: mask.density, kept: mask.kept, size: mask.size, perLayer: perLayerCounts(mask), emptyLayers: mask.emptyLayers(),
      ...extraOut,
      compute: { trainingEpochs, selectionEpochs, evaluationEpochs },
      diagnostics: { history: run.history.slice(0, historyEnd(run.history, E)), seeds: { init: initSeed, mask: setup.maskSeed, data: setup.dataSeed } },
      backend: backendInfo().backend,
      seconds: (Date.now() - t0) / 1000,
    };
    return jsonSafe(result);
  } finally {
    run.dispose();
  }
}

/** History up to the end of the main run (the fine-tune epochs are summarised in `extra`). */
function historyEnd(h: MaskedEpochRecord[], E: number): number {
  const i = h.findIndex((r) => r.epoch > E);
  return i < 0 ? h.length : i;
}

/** Replace non-finite numbers by null so the result survives JSON (NaN would silently become null anyway). */
function jsonSafe<T>(v: T): T {
  return JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x)));
}

