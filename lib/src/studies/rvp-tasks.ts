/**
 * The engine tasks of the reduced-vs-pruned study, cached by config hash and run in worker processes
 * (which load this module: registerTask's module path is this file, the one exporting the run
 * functions): 'rvp-train' trains one WRN or DenseNet config from scratch; 'rvp-prune' prune-and-tunes
 * a trained base for one criterion and seed.
 */
import * as path from 'path';
import { initBackend, backendInfo } from '../backend';
import { Augment, loadDataset, Dataset } from '../data';
import { buildModel } from '../models';
import type { Net } from '../nn/net';
import { evaluate, TrainConfig } from '../train';
import { train as trainNet } from '../training-run';
import { registerTask, describeConfig, openStore, resultsRoot, runTask, RunRecord, TaskSpec } from '../engine';
import { replayHistory, compress, PruneEvent } from '../structured/compress';
import { structuredConfigOf, structuredCost } from '../structured/arch';
import { pruneAndTune } from '../structured/prune-and-tune';
import type { L1Variant } from '../structured/l1';
import { defaultsOf } from '../config/schema';
import { RVP_PRUNE_SCHEMA, RVP_TRAIN_SCHEMA } from '../config/tasks';
import { rvpModelConfig } from './rvp-plan';
import type { Criterion, RvpModel, RvpRecipe } from './rvp-plan';

export interface RvpTrainConfig {
  [k: string]: unknown;
  data: { name: string; trainLimit: number; testLimit: number };
  /** interior [] = full widths (the block's output width). */
  model: RvpModel;
  /**
   * Non-empty: the "pruned architecture from scratch" — init the FULL net of `model` (interior
   * must be []), remove these [block, channel] pairs, physically compress (authors' init scale).
   */
  replay: Array<[string, number]>;
  train: RvpRecipe;
  /** Seed of the initial weights; `seed` is the data order. */
  initSeed: number;
  /** Return the trained weights and BN statistics (base nets, for prune-and-tune). */
  keepState: boolean;
  /** Test every epoch (the plateau gate reads the per-epoch history); false: the last epoch only. */
  evalEveryEpoch: boolean;
  seed: number;
}

/** From RVP_TRAIN_SCHEMA (config/tasks.ts), the one source of the task's keys and defaults. */
export const RVP_TRAIN_DEFAULTS = defaultsOf(RVP_TRAIN_SCHEMA) as RvpTrainConfig;

export interface RvpTrainResult {
  outcome: 'ok' | 'diverged';
  testError: number;
  testLoss: number;
  trainLoss: number;
  params: number;
  macs: number;
  /** Interior widths of the trained (compressed) net, per block. */
  interior: number[];
  steps: number;
  seconds: number;
  backend: string;
  /** Test accuracy after each epoch (evalEveryEpoch), else only the last; NaN-free. */
  history: number[];
  /** Trained weights and BN buffers as base64 float32, when keepState. */
  state?: { weights: Record<string, string>; buffers: Record<string, string> };
}

export interface RvpPruneConfig {
  [k: string]: unknown;
  data: RvpTrainConfig['data'];
  base: Omit<RvpModel, 'interior'>;
  /** The base's recipe (identifies the trained base, found or trained through 'rvp-train'). */
  train: RvpRecipe;
  prune: {
    criterion: Criterion; l1Variant: L1Variant; stepsPerPrune: number; batchSize: number;
    lr: number; momentum: number; weightDecay: number;
    /** Checkpoint the first time live params <= each of these; the run stops after the last. */
    checkpointParams: number[];
    augment?: Augment;
  };
  seed: number;
}

/** From RVP_PRUNE_SCHEMA (config/tasks.ts). */
export const RVP_PRUNE_DEFAULTS = defaultsOf(RVP_PRUNE_SCHEMA) as RvpPruneConfig;

export interface RvpCheckpoint {
  prunes: number;
  /** Fine-tuning steps so far (excluding the base's training). */
  steps: number;
  params: number;
  macs: number;
  testError: number;
  interior: number[];
  /** The parameter budgets this checkpoint was the first to meet. */
  targets: number[];
}

export interface RvpPruneResult {
  baseKey: string;
  base: { testError: number; params: number; macs: number; steps: number; reloadedTestError: number };
  criterion: Criterion;
  checkpoints: RvpCheckpoint[];
  /** Removed channels in order, through the last checkpoint. */
  history: Array<[string, number]>;
  steps: number;
  seconds: number;
  unreached: string[];
  backend: string;
}

function toTrainConfig(r: RvpRecipe): TrainConfig {
  return { epochs: r.epochs, batchSize: r.batchSize, lr: r.lr, momentum: r.momentum, weightDecay: r.weightDecay, schedule: { type: 'step', milestones: r.milestones, gamma: r.gamma }, augment: r.augment };
}

function datasetOf(d: RvpTrainConfig['data']): Dataset {
  return loadDataset(d.name, { trainLimit: d.trainLimit || undefined, testLimit: d.testLimit || undefined, seed: 0 });
}

function encodeF32(a: Float32Array): string { return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64'); }
function decodeF32(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  const out = new Float32Array(b.length / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}
function encodeMap(m: Map<string, Float32Array>): Record<string, string> { return Object.fromEntries([...m].map(([k, v]) => [k, encodeF32(v)])); }
function decodeMap(r: Record<string, string>): Map<string, Float32Array> { return new Map(Object.entries(r).map(([k, v]) => [k, decodeF32(v)])); }

/** The net an 'rvp-train' config starts from (fresh init; replay -> compressed pruned architecture). */
export function buildTrainNet(cfg: RvpTrainConfig, ds: { inputShape: [number, number, number]; numClasses: number }): Net {
  const m = cfg.model;
  const shape = { inputShape: ds.inputShape, numClasses: ds.numClasses };
  if (cfg.replay.length > 0) {
    if (m.interior.length > 0) throw new Error('rvp-train: replay needs model.interior = [] (the full net whose channels it removes).');
    const events: PruneEvent[] = cfg.replay.map(([block, channel]) => ({ block, channel, score: 0, step: 0 }));
    return replayHistory(rvpModelConfig(m), events, cfg.initSeed, { ...shape, init: 'full-net' });
  }
  return buildModel(rvpModelConfig(m), { seed: cfg.initSeed, ...shape });
}

/** Task 'rvp-train': train one WRN config from scratch with the base recipe; final-epoch test error. */
export async function runRvpTrain(cfg: RvpTrainConfig): Promise<RvpTrainResult> {
  const t0 = Date.now();
  await initBackend();
  const ds = datasetOf(cfg.data);
  const net = buildTrainNet(cfg, ds);
  try {
    const interior = structuredConfigOf(net).interior!;
    const cost = structuredCost({ ...rvpModelConfig(cfg.model), interior }, { inputShape: ds.inputShape, numClasses: ds.numClasses });
    const tr = trainNet(net, ds, toTrainConfig(cfg.train), { seed: cfg.seed, evalEveryEpoch: cfg.evalEveryEpoch });
    return {
      outcome: tr.outcome, testError: 1 - tr.final.testAcc, testLoss: tr.final.testLoss, trainLoss: tr.final.trainLoss,
      params: cost.params, macs: cost.macs, interior, steps: tr.steps, seconds: (Date.now() - t0) / 1000, backend: backendInfo().backend,
      history: tr.epochs.map((e) => e.testAcc).filter((a) => Number.isFinite(a)),
      ...(cfg.keepState ? { state: { weights: encodeMap(net.getWeights()), buffers: encodeMap(net.getBuffers()) } } : {}),
    };
  } finally {
    net.dispose();
  }
}

export const RVP_TRAIN_TASK = registerTask({
  name: 'rvp-train', module: require.resolve('./rvp-tasks'), export: 'runRvpTrain', defaults: RVP_TRAIN_DEFAULTS, schema: RVP_TRAIN_SCHEMA, dataFields: ['data.name'],
});

/** The 'rvp-train' config of the base that an 'rvp-prune' config prunes. */
export function baseTrainConfig(cfg: Pick<RvpPruneConfig, 'data' | 'base' | 'train' | 'seed'>): RvpTrainConfig {
  return {
    data: cfg.data, model: { ...cfg.base, interior: [] }, replay: [],
    train: cfg.train, initSeed: cfg.seed, keepState: true, evalEveryEpoch: true, seed: cfg.seed,
  };
}

/** A record from `task`'s store under resultsRoot(), computed in this process (and stored) if missing. */
export async function ensureRecord<R>(task: TaskSpec, config: Record<string, unknown>): Promise<RunRecord<R>> {
  const store = openStore({ dir: path.join(resultsRoot(), task.name) });
  const { key } = describeConfig(task, config);
  const hit = store.get<R>(key);
  if (hit) return hit;
  const rec = await runTask<R>(task, config);
  return store.put(key, rec);
}

/** Task 'rvp-prune': load (or train) the base, prune-and-tune it, evaluate compressed checkpoints. */
export async function runRvpPrune(cfg: RvpPruneConfig): Promise<RvpPruneResult> {
  const t0 = Date.now();
  await initBackend();
  if (cfg.prune.checkpointParams.length === 0) throw new Error('rvp-prune: prune.checkpointParams is empty; give the parameter budgets to checkpoint at.');
  const baseRec = await ensureRecord<RvpTrainResult>(RVP_TRAIN_TASK, baseTrainConfig(cfg));
  const b = baseRec.result;
  if (!b.state) throw new Error(`rvp-prune: base record ${baseRec.key} holds no weights (keepState was false).`);
  const ds = datasetOf(cfg.data);
  const net = buildModel(rvpModelConfig({ ...cfg.base, interior: [] }), { seed: cfg.seed, inputShape: ds.inputShape, numClasses: ds.numClasses });
  try {
    net.setWeights(decodeMap(b.state.weights));
    net.setBuffers(decodeMap(b.state.buffers));
    const reloaded = 1 - evaluate(net, ds, ds.test).acc;
    const evalCompressed = (n: Net) => {
      // authors: load the masked weights, compress, test (no fine-tuning after the last prune)
      const small = compress(n);
      try { return evaluate(small, ds, ds.test); } finally { small.dispose(); }
    };
    const p = cfg.prune;
    const r = pruneAndTune(net, ds, {
      criterion: p.criterion, l1Variant: p.l1Variant, stepsPerPrune: p.stepsPerPrune, batchSize: p.batchSize,
      lr: p.lr, momentum: p.momentum, weightDecay: p.weightDecay, checkpoints: { params: p.checkpointParams },
      evaluate: evalCompressed, seed: cfg.seed, augment: p.augment,
    });
    return {
      baseKey: baseRec.key,
      base: { testError: b.testError, params: b.params, macs: b.macs, steps: b.steps, reloadedTestError: reloaded },
      criterion: p.criterion,
      checkpoints: r.checkpoints.map((c) => ({
        prunes: c.prunes, steps: c.steps, params: c.params, macs: c.macs, testError: c.testError, interior: c.interior,
        targets: c.targets.filter((t) => t.startsWith('params<=')).map((t) => Number(t.slice('params<='.length))),
      })),
      history: r.history.map((e) => [e.block, e.channel] as [string, number]),
      steps: r.steps, seconds: (Date.now() - t0) / 1000, unreached: r.unreached, backend: backendInfo().backend,
    };
  } finally {
    net.dispose();
  }
}

export const RVP_PRUNE_TASK = registerTask({
  name: 'rvp-prune', module: require.resolve('./rvp-tasks'), export: 'runRvpPrune', defaults: RVP_PRUNE_DEFAULTS, schema: RVP_PRUNE_SCHEMA, dataFields: ['data.name'],
});
