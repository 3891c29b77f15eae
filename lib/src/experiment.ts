/**
 * The standard experiment: build a model from a seed, prune it at initialisation, train it with the
 * mask fixed, report final-epoch metrics. Registered as engine task 'prune-train' so sweeps run it in
 * worker processes and cache it by config hash.
 */
import { initBackend, backendInfo } from './backend';
import { buildModel, ModelConfig } from './models';
import { loadDataset } from './data';
import type { TrainConfig } from './train';
import { train, EpochMetrics } from './training-run';
import { pruneWithAblation, checkAblation } from './prune';
import { registerTask } from './engine';
import { defaultsOf, fraction, int, nested, parseConfig, strictObject, z } from './config/schema';
import { dataSpecSchema, modelSpecSchema, trainConfigShape } from './config/common';
import { getScoreMethod } from './prune/score';

export interface PruneTrainConfig {
  [k: string]: unknown;
  /** Model name (see parseModelName) or config. */
  model: string | ModelConfig;
  data: { name: string; trainLimit: number; testLimit: number };
  /** method 'none' trains the dense net; ablation: a sanity check of the mask (prune/ablations.ts), 'none' by default (not in the hash). */
  prune: { method: string; sparsity: number; scope: 'global' | 'layerwise'; options: Record<string, unknown>; ablation?: string };
  train: TrainConfig;
  seed: number;
}

const pruneMethodSchema = z.string().superRefine((m, ctx) => {
  if (m === 'none') return;
  try { getScoreMethod(m); } catch (e) { ctx.addIssue({ code: 'custom', message: `${(e as Error).message} ('none' trains the dense net)` }); }
});

/** The schema of a 'prune-train' config: validation, defaults (neutral: omitted from the hash) and docs. */
export const PRUNE_TRAIN_SCHEMA = strictObject({
  model: modelSpecSchema.default('lenet300').describe('model name (parseModelName) or ModelConfig'),
  data: dataSpecSchema({ name: 'fashion-mnist', trainLimit: 0, testLimit: 0 }),
  prune: nested({
    method: pruneMethodSchema.default('none').describe("score method, or 'none' for the dense net"),
    sparsity: fraction().default(0).describe('fraction of prunable weights removed, in [0, 1)'),
    scope: z.enum(['global', 'layerwise']).default('global'),
    options: z.record(z.string(), z.unknown()).default({}).describe('method-specific options (see the method)'),
    ablation: z.string().default('none').describe("mask or scoring-data ablation (prune/ablations.ts), 'none' for the method itself"),
  }),
  train: nested(trainConfigShape({
    epochs: 0, batchSize: 128, lr: 0.1, optimizer: 'sgd', momentum: 0.9, weightDecay: 0, schedule: { type: 'step', milestones: [0.5, 0.75], gamma: 0.1 },
  })),
  seed: int().default(0),
});

/** Neutral defaults: a config equal to these at some path omits that path from its hash. */
export const PRUNE_TRAIN_DEFAULTS = defaultsOf(PRUNE_TRAIN_SCHEMA) as PruneTrainConfig;

export interface PruneTrainResult {
  outcome: 'ok' | 'diverged' | 'init-only';
  finalTestAcc: number;
  finalTestLoss: number;
  finalTrainLoss: number;
  epochs: EpochMetrics[];
  density: number;
  kept: number;
  prunable: number;
  emptyLayers: string[];
  perLayer: Array<{ name: string; size: number; kept: number }>;
  pruneNotes: Record<string, unknown>;
  backend: string;
  seconds: number;
}

export async function runPruneTrain(partial: Partial<PruneTrainConfig>): Promise<PruneTrainResult> {
  const t0 = Date.now();
  await initBackend();
  const cfg = parseConfig(PRUNE_TRAIN_SCHEMA, partial, 'prune-train config', 'config') as PruneTrainConfig;
  checkAblation(cfg.prune.ablation ?? 'none', cfg.prune.method); // before loading data or building the net
  const ds = loadDataset(cfg.data.name, { trainLimit: cfg.data.trainLimit || undefined, testLimit: cfg.data.testLimit || undefined, seed: 0 });
  const net = buildModel(cfg.model, { seed: cfg.seed, inputShape: ds.inputShape, numClasses: ds.numClasses });
  try {
    let notes: Record<string, unknown> = {};
    if (cfg.prune.method !== 'none') {
      const sigmaW = net.init && Number.isFinite(net.init.sigmaW) ? net.init.sigmaW : undefined;
      const r = pruneWithAblation(net, {
        method: cfg.prune.method, sparsity: cfg.prune.sparsity, scope: cfg.prune.scope, data: ds, seed: cfg.seed, options: cfg.prune.options, sigmaW,
        ablation: cfg.prune.ablation,
        rebuild: () => buildModel(cfg.model, { seed: cfg.seed, stream: 'init/reinit', inputShape: ds.inputShape, numClasses: ds.numClasses }),
      });
      notes = { note: r.note, zeroScores: r.selection.zeroScores, nanScores: r.selection.nanScores, tiesBroken: r.selection.tiesBroken };
      if (r.ablation !== 'none') notes.ablation = r.ablation;
    }
    const perLayer = [...net.maskArrays()].map(([name, m]) => ({ name, size: m.length, kept: m.reduce((a, b) => a + b, 0) }));
    const kept = perLayer.reduce((a, l) => a + l.kept, 0), prunable = perLayer.reduce((a, l) => a + l.size, 0);
    const base = {
      density: kept / prunable, kept, prunable, perLayer, pruneNotes: notes,
      emptyLayers: perLayer.filter((l) => l.kept === 0).map((l) => l.name),
      backend: backendInfo().backend,
    };
    if (cfg.train.epochs === 0) {
      return { ...base, outcome: 'init-only', finalTestAcc: NaN, finalTestLoss: NaN, finalTrainLoss: NaN, epochs: [], seconds: (Date.now() - t0) / 1000 };
    }
    const tr = train(net, ds, cfg.train, { seed: cfg.seed, evalEveryEpoch: true });
    return {
      ...base, outcome: tr.outcome, finalTestAcc: tr.final.testAcc, finalTestLoss: tr.final.testLoss, finalTrainLoss: tr.final.trainLoss,
      epochs: tr.epochs, seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    net.dispose();
  }
}

export const PRUNE_TRAIN_TASK = registerTask({
  name: 'prune-train',
  module: require.resolve('./experiment'),
  export: 'runPruneTrain',
  defaults: PRUNE_TRAIN_DEFAULTS,
  schema: PRUNE_TRAIN_SCHEMA,
  dataFields: ['data.name'],
});

/**
 * The dense reference of a trained comparison: the same model, data, recipe and seed, unpruned.
 * With `epochs`, the same recipe run for a longer schedule: the converged run a dense gate compares
 * against (a step schedule's milestones are fractions of the epochs, so they stretch with it).
 */
export function denseReference(cfg: PruneTrainConfig, epochs?: number): PruneTrainConfig {
  return longSchedule({ ...cfg, prune: { ...PRUNE_TRAIN_DEFAULTS.prune } }, epochs ?? cfg.train.epochs, 'denseReference');
}

/**
 * The same config (model, data, mask, recipe, seed) with a longer schedule: the long run of an arm
 * at chance (chanceLongRun in notebook/gate.ts) uses the converged run's epochs; milestones stretch.
 */
export function longSchedule(cfg: PruneTrainConfig, epochs: number, caller = 'longSchedule'): PruneTrainConfig {
  if (!(Number.isInteger(epochs) && epochs >= cfg.train.epochs)) {
    throw new Error(`${caller}: the converged run's epochs must be an integer >= the budget's ${cfg.train.epochs}, got ${epochs}.`);
  }
  return { ...cfg, train: { ...cfg.train, epochs } };
}
