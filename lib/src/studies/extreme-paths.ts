/**
 * Notebook 02, §4: nominal vs effective sparsity of the FFNN masks at extreme sparsity. The masks
 * are the ones the trained runs use (pruneAtInit with the same model, data, method and seed as the
 * 'prune-train' task), recomputed at init by the engine task 'eoc-rescaling-paths' (cached).
 *
 * Effective sparsity (Vysogorets & Kempe, JMLR 2023; prune/effective.ts): a kept weight counts only
 * if it lies on some input→output path.
 */
import { initBackend } from '../backend';
import { loadDataset } from '../data';
import { registerTask, runSweep } from '../engine';
import { buildModel } from '../models';
import type { FfnnConfig } from '../models';
import { effectiveSparsity, pruneAtInit } from '../prune';

/** Per run: nominal and effective sparsity, and per layer the output units cut off from the input / from the output. */
export interface PathStats {
  nominalSparsity: number;
  effectiveSparsity: number;
  unitsWithoutInputs: number[];
  unitsWithoutOutputs: number[];
}

export interface PathTaskConfig {
  [k: string]: unknown;
  model: FfnnConfig;
  data: { name: string; trainLimit: number; testLimit: number };
  method: string;
  sparsity: number;
  seed: number;
}

export const PATH_TASK_DEFAULTS: PathTaskConfig = {
  model: { arch: 'ffnn', hidden: [100], activation: 'tanh', init: { scheme: 'eoc', sigmaB: 0.2 } },
  data: { name: 'mnist', trainLimit: 0, testLimit: 0 }, method: 'snip', sparsity: 0.9, seed: 0,
};

export async function runPathStats(cfg: PathTaskConfig): Promise<PathStats> {
  await initBackend();
  const ds = loadDataset(cfg.data.name, { trainLimit: cfg.data.trainLimit || undefined, testLimit: cfg.data.testLimit || undefined, seed: 0 });
  const net = buildModel(cfg.model, { seed: cfg.seed, inputShape: ds.inputShape, numClasses: ds.numClasses });
  try {
    const sigmaW = net.init && Number.isFinite(net.init.sigmaW) ? net.init.sigmaW : undefined;
    const r = pruneAtInit(net, { method: cfg.method, sparsity: cfg.sparsity, scope: 'global', data: ds, seed: cfg.seed, options: {}, sigmaW });
    const e = effectiveSparsity(net, r.selection.mask);
    return {
      nominalSparsity: e.sparsity, effectiveSparsity: e.effectiveSparsity,
      unitsWithoutInputs: e.layers.map((l) => l.unitsNoInput), unitsWithoutOutputs: e.layers.map((l) => l.unitsNoOutput),
    };
  } finally {
    net.dispose();
  }
}

export const PATH_TASK = registerTask({ name: 'eoc-rescaling-paths', module: require.resolve('./extreme-paths'), export: 'runPathStats', defaults: PATH_TASK_DEFAULTS });

/** Path statistics of every (method, sparsity, seed) config; throws on the first failure. */
export async function pathStatsFor(configs: PathTaskConfig[], workers: number): Promise<PathStats[]> {
  const recs = await runSweep<PathStats>({ task: PATH_TASK, configs, workers, progressBar: false });
  return recs.map((r, i) => {
    if (r.status === 'error') throw new Error(`eoc-rescaling-paths: ${configs[i].method} at ${configs[i].sparsity}, seed ${configs[i].seed} failed: ${r.error.message}`);
    return r.result;
  });
}
