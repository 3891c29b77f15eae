/**
 * The 'prune-train' jobs of notebook 02 (eoc-rescaling.ts), each a config with the tag its result is
 * read by: Fig. 2 arms, the §4 FFNN and ResNet methods, the per-layer masks and the dense runs of the
 * gates; and runJobs, which runs jobs through the engine and joins each result to its tag.
 */
import { runSweep, withSweepProgress } from '../engine';
import type { ProgressFactory, SweepRecord } from '../engine';
import { PRUNE_TRAIN_TASK, denseReference } from '../experiment';
import type { PruneTrainConfig, PruneTrainResult } from '../experiment';
import { noPathAtLayerLevel } from '../prune/effective';
import type { TrainConfig } from '../train';
import { ARMS, armSpec, ffnnConfig, resnetTrain } from './eoc-rescaling-plan';
import type { Arm, DataSpec, EocRescalingPlan } from './eoc-rescaling-plan';

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

export type RunRow<T> = T & {
  /** Final-epoch test accuracy (NaN for init-only runs and failures). */
  acc: number;
  /** Test accuracy after each epoch (empty for init-only runs and failures). */
  history: number[];
  outcome: PruneTrainResult['outcome'] | 'error';
  emptyLayers: string[];
  perLayer: PruneTrainResult['perLayer'];
  /** The mask leaves no input→output path (prune/effective.ts noPathAtLayerLevel; undefined for failures). */
  noPath?: boolean;
  density: number;
  /** Compute seconds of the run (from its record; cached runs report the original time). */
  seconds: number;
  cached: boolean;
  error?: string;
};

/** Run the jobs through the 'prune-train' engine task (cached, parallel) and join results to tags. */
export async function runJobs<T>(jobs: readonly Job<T>[], o: { workers: number; progress?: ProgressFactory; label?: string; store?: string }): Promise<RunRow<T>[]> {
  if (jobs.length === 0) return [];
  const recs = await withSweepProgress(o.progress, o.label ?? 'prune-train runs', (onProgress) =>
    runSweep<PruneTrainResult>({ task: PRUNE_TRAIN_TASK, configs: jobs.map((j) => j.config), workers: o.workers, onProgress, store: o.store, progressBar: false }));
  return recs.map((rec: SweepRecord<PruneTrainResult>, i) => {
    const tag = jobs[i].tag;
    if (rec.status === 'error') {
      return { ...tag, acc: NaN, history: [], outcome: 'error', emptyLayers: [], perLayer: [], density: NaN, seconds: 0, cached: false, error: rec.error.message };
    }
    const r = rec.result;
    return { ...tag, acc: r.finalTestAcc, history: r.epochs.map((e) => e.testAcc), outcome: r.outcome, emptyLayers: r.emptyLayers, perLayer: r.perLayer, noPath: noPathAtLayerLevel(r.perLayer), density: r.density, seconds: r.seconds, cached: rec.status === 'cached' };
  });
}
