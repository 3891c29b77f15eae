/**
 * Notebook 02, §4: nominal vs effective sparsity of the FFNN masks at extreme sparsity. The masks
 * are the ones the trained runs use (pruneAtInit with the same model, data, method and seed as the
 * 'prune-train' task), recomputed at init by the engine task 'eoc-rescaling-paths' (cached).
 *
 * Effective sparsity (Vysogorets & Kempe, JMLR 2023): a kept weight counts only if it lies on some
 * input→output path. EFFECTIVE-SPARSITY HOOK: `ffnnPathStats` below computes it for a chain of dense
 * kernels; when lib/src/prune/effective.ts (branch grasp) is merged, call it here instead.
 */
import { initBackend } from '../backend';
import { loadDataset } from '../data';
import { registerTask, runSweep } from '../engine';
import { buildModel } from '../models';
import type { FfnnConfig } from '../models';
import { pruneAtInit } from '../prune';

export interface KernelMask { name: string; shape: number[]; mask: Uint8Array }

export interface PathStats {
  nominalSparsity: number;
  effectiveSparsity: number;
  /** Per layer: output units with no kept incoming weight from a unit reachable from the input. */
  unitsWithoutInputs: number[];
  /** Per layer: input units of the layer with no kept outgoing weight toward a unit that reaches the output. */
  unitsWithoutOutputs: number[];
}

/**
 * Path statistics of a chain of dense kernels [in, out] (row-major, index i*out + j), input layer
 * first. A unit is reachable when a chain of kept weights leads to it from some input; it reaches
 * the output when a chain of kept weights leads from it to some output unit. A kept weight is
 * effective when its source is reachable and its target reaches the output.
 */
export function ffnnPathStats(kernels: readonly KernelMask[]): PathStats {
  if (kernels.length === 0) throw new Error('ffnnPathStats: give at least one kernel.');
  kernels.forEach((k, l) => {
    if (k.shape.length !== 2) throw new Error(`ffnnPathStats: ${k.name} has shape [${k.shape}]; only dense [in, out] kernels form a chain.`);
    if (k.mask.length !== k.shape[0] * k.shape[1]) throw new Error(`ffnnPathStats: ${k.name} mask has ${k.mask.length} entries, shape [${k.shape}] has ${k.shape[0] * k.shape[1]}.`);
    if (l > 0 && kernels[l - 1].shape[1] !== k.shape[0]) throw new Error(`ffnnPathStats: ${kernels[l - 1].name} outputs ${kernels[l - 1].shape[1]} units but ${k.name} takes ${k.shape[0]}.`);
  });
  const L = kernels.length;
  const fwd: Uint8Array[] = [new Uint8Array(kernels[0].shape[0]).fill(1)];
  for (let l = 0; l < L; l++) {
    const [fin, out] = kernels[l].shape, m = kernels[l].mask, next = new Uint8Array(out);
    for (let i = 0; i < fin; i++) if (fwd[l][i]) for (let j = 0; j < out; j++) if (m[i * out + j]) next[j] = 1;
    fwd.push(next);
  }
  const bwd: Uint8Array[] = new Array(L + 1);
  bwd[L] = new Uint8Array(kernels[L - 1].shape[1]).fill(1);
  for (let l = L - 1; l >= 0; l--) {
    const [fin, out] = kernels[l].shape, m = kernels[l].mask, prev = new Uint8Array(fin);
    for (let i = 0; i < fin; i++) for (let j = 0; j < out; j++) if (m[i * out + j] && bwd[l + 1][j]) { prev[i] = 1; break; }
    bwd[l] = prev;
  }
  let total = 0, kept = 0, effective = 0;
  for (let l = 0; l < L; l++) {
    const [fin, out] = kernels[l].shape, m = kernels[l].mask;
    total += m.length;
    for (let i = 0; i < fin; i++) for (let j = 0; j < out; j++) {
      if (!m[i * out + j]) continue;
      kept++;
      if (fwd[l][i] && bwd[l + 1][j]) effective++;
    }
  }
  const zeros = (a: Uint8Array) => a.length - a.reduce((s, v) => s + v, 0);
  return {
    nominalSparsity: 1 - kept / total,
    effectiveSparsity: 1 - effective / total,
    unitsWithoutInputs: fwd.slice(1).map(zeros),
    unitsWithoutOutputs: bwd.slice(0, L).map(zeros),
  };
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
    pruneAtInit(net, { method: cfg.method, sparsity: cfg.sparsity, scope: 'global', data: ds, seed: cfg.seed, options: {}, sigmaW });
    const masks = net.maskArrays();
    return ffnnPathStats(net.prunable.map((p) => ({ name: p.name, shape: p.shape, mask: masks.get(p.name)! })));
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
