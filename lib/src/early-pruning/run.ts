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
import { defaultsOf, parseConfig, z } from '../config/schema';
import { EARLY_PRUNING_METHOD_NAMES, EARLY_PRUNING_SCHEMA } from '../config/tasks';
import { loadDataset } from '../data';
import type { ModelConfig } from '../models';
import { checkSparsity } from '../prune/scores-to-mask';
import { evaluate, lrAt, TrainConfig, validateTrainConfig } from '../train';
import { earlyPruningMagnitudeMask, earlyPruningRandomMask, earlyPruningSnipMask } from './baselines';
import { combineKStartsDissipating } from './combined';
import { DissipationReport, dissipate } from './dissipating';
import { buildFor, CandidateReport, EarlyPruningSetup, KStartsOptions, KStartsReport, kStarts } from './kstarts';
import { MaskedEpochRecord, MaskedRun } from './masked-run';
import { perLayerCounts } from './select';
import { isV1Config, migrateV1Config } from './config-v1';

export const EARLY_PRUNING_METHODS = EARLY_PRUNING_METHOD_NAMES;
export type EarlyPruningMethod = (typeof EARLY_PRUNING_METHODS)[number];

/**
 * An early-pruning config (config/tasks.ts EARLY_PRUNING_SCHEMA): the prune-train shape, every field
 * optional (omitted = its default). `train.epochs` is the total training epochs of the final network,
 * selection and pruning epochs included.
 */
export type EarlyPruningConfig = { model?: FullEarlyPruningConfig['model'] } & DeepPartial<Omit<FullEarlyPruningConfig, 'model'>>;
/** A config with every default filled in (what runEarlyPruning reads). */
export type FullEarlyPruningConfig = z.output<typeof EARLY_PRUNING_SCHEMA>;
type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

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

/** The run's setup and recipe; checks what the schema cannot (a sparsity the mask routine accepts). */
function resolveConfig(c: FullEarlyPruningConfig): { setup: Omit<EarlyPruningSetup, 'ds'>; train: TrainConfig } {
  if (c.prune.method !== 'dense') checkSparsity(c.prune.sparsity);
  const train = c.train as TrainConfig;
  validateTrainConfig(train);
  const s = c.seeds;
  return {
    train,
    setup: { model: c.model as string | ModelConfig, train, initSeed: s.init ?? c.seed, maskSeed: s.mask ?? c.seed, dataSeed: s.data ?? c.seed, evalEveryEpoch: c.eval.everyEpoch },
  };
}

/** Run one early-pruning experiment (see the module comment); initialises the TF.js backend if needed. */
export async function runEarlyPruning(partial: EarlyPruningConfig): Promise<EarlyPruningResult> {
  const t0 = Date.now();
  let config: FullEarlyPruningConfig;
  try {
    config = parseConfig(EARLY_PRUNING_SCHEMA, partial, 'runEarlyPruning config', 'config') as FullEarlyPruningConfig;
  } catch (e) {
    let today: string | undefined;
    try { if (isV1Config(partial as Record<string, unknown>)) today = JSON.stringify(migrateV1Config(partial as Record<string, unknown>)); } catch { /* not migratable either */ }
    if (today) (e as Error).message += `\nThis is the flat v1 shape (migrateV1Config converts it). Today the same run reads ${today}.`;
    throw e;
  }
  const { setup: s, train } = resolveConfig(config);
  await initBackend();
  const ds = loadDataset(config.data.name, { trainLimit: config.data.trainLimit || undefined, testLimit: config.data.testLimit || undefined, seed: 0 });
  const setup: EarlyPruningSetup = { ...s, ds };
  const E = train.epochs;
  const pr = config.prune, ks = pr.kstarts, di = pr.dissipation;
  const p = pr.sparsity;
  const maskScope = pr.randomScope, scoreScope = pr.scope;
  const kopts: Omit<KStartsOptions, 'sparsity'> = { ...ks, maskScope, epsScale: di.epsScale };
  const dopts = {
    epochs: di.epochs, schedule: di.schedule, rule: di.rule, alpha: di.alpha, score: di.score,
    maxEpochs: di.maxEpochs ?? undefined, epsScale: di.epsScale, scope: di.scope,
  };

  let run: MaskedRun;
  let initSeed = setup.initSeed;
  let accAtTarget: number | null = null, epochsToTarget: number | null = null;
  const extraOut: Partial<EarlyPruningResult> = {};
  let trainingEpochs = E, selectionEpochs = 0, evaluationEpochs = 0;
  const method = pr.method;

  if (method === 'kstarts' || method === 'combined') {
    let ksReport: KStartsReport;
    if (method === 'kstarts') {
      const ks = kStarts(setup, { ...kopts, sparsity: p });
      run = ks.winner.run; initSeed = ks.winner.initSeed; ksReport = ks.report;
    } else {
      const cb = combineKStartsDissipating(setup, { sparsity: p, combination: pr.combined.variant, p1: pr.combined.p1 ?? undefined, kstarts: kopts, dissipating: dopts });
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
            : earlyPruningSnipMask(net, ds, p, { scope: scoreScope, seed: setup.maskSeed, options: pr.options });
        run.setMask(mask);
        accAtTarget = run.evaluate().acc; epochsToTarget = 0;
      }
      run.trainTo(E);
    } catch (e) { run.dispose(); throw e; }
  }

  try {
    const diverged = run.diverged !== null;
    const fin = run.evaluate();
    const trainEvalOf = (net: typeof run.net) => (config.eval.trainSplit ? evaluate(net, ds, ds.train) : undefined);
    const trainEval = trainEvalOf(run.net) ?? null;
    const last = run.history[run.history.length - 1];
    const mask = run.maskOrOnes();
    if (config.maskPath) mask.save(config.maskPath);
    let extra: EarlyPruningResult['extra'] = null;
    const extraEpochs = config.extra.epochs;
    if (extraEpochs > 0 && !diverged) {
      const mode = config.extra.mode;
      if (mode === 'finetune') {
        const lr = config.extra.lr ?? lrAt(train, E - 1);
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

