/**
 * Inference timing (Crowley et al., arXiv 1810.04622: reduced networks run faster): warm-up runs, then the median of timed
 * repeats; every run reads the output back (dataSync) so the clock stops only after the backend has
 * really finished. Latency depends on the architecture only, so nets are freshly built with random
 * weights. Backend variants ("wasm + OpenBLAS kernels", "pure wasm", "cpu", "tensorflow") are
 * switched in this process and the original backend and kernels are restored afterwards.
 */
import * as os from 'os';
import { performance } from 'perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { BackendName, initBackend } from '../backend';
import { extraKernelInfo, registerExtraKernels, nativeStatus, setSparseMaxDensity, sparseCounts, sparseMaxDensity } from '../kernels';
import { Mask } from '../mask';
import { buildModel, ModelConfig } from '../models';
import type { Net } from '../nn/net';
import { Rng } from '../rng';
import { mean, quantile } from '../stats';

export interface TimingStats {
  /** Median of the timed repeats, in ms. */
  medianMs: number;
  /** 25th / 75th percentiles (linear interpolation), min, mean, ms. */
  p25Ms: number;
  p75Ms: number;
  minMs: number;
  meanMs: number;
  warmup: number;
  repeats: number;
  /** Every timed repeat, in ms, in run order. */
  samples: number[];
}

export interface TimeFnOptions {
  warmup?: number;
  repeats?: number;
  /** Clock in ms (default performance.now; tests inject a fake one). */
  now?: () => number;
}

function checkCount(v: number, what: string, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new Error(`timing: ${what} must be an integer >= ${min}, got ${v}.`);
}

/** Run `fn` `warmup` times untimed, then `repeats` times timed; `fn` must block until its work is done. */
export function timeFn(fn: () => void, opts: TimeFnOptions = {}): TimingStats {
  const warmup = opts.warmup ?? 10, repeats = opts.repeats ?? 50;
  checkCount(warmup, 'warmup', 0);
  checkCount(repeats, 'repeats', 1);
  const now = opts.now ?? (() => performance.now());
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = now();
    fn();
    samples.push(now() - t0);
  }
  return timingStats(samples, warmup);
}

/** Median, quartiles, min and mean of timed repeats (ms). */
export function timingStats(samples: readonly number[], warmup: number): TimingStats {
  if (samples.length === 0) throw new Error('timingStats: give at least one timed repeat.');
  return {
    medianMs: quantile(samples, 0.5), p25Ms: quantile(samples, 0.25), p75Ms: quantile(samples, 0.75),
    minMs: Math.min(...samples), meanMs: mean(samples),
    warmup, repeats: samples.length, samples: [...samples],
  };
}

export interface InferenceTimingOptions extends Omit<TimeFnOptions, 'now'> {
  batchSize: number;
  /** Seed of the random input batch (default 0). */
  seed?: number;
}

/**
 * Latency of one eval-mode forward pass of `net` on a fixed random batch, output read back
 * (dataSync) inside the timed region. Tensors are disposed after every run.
 */
export function timeInference(net: Net, opts: InferenceTimingOptions): TimingStats {
  checkCount(opts.batchSize, 'batchSize', 1);
  const [h, w, c] = net.inputShape;
  const x = tf.tensor4d(new Rng(opts.seed ?? 0, 'timing-input').normalArray(opts.batchSize * h * w * c, 1), [opts.batchSize, h, w, c]);
  try {
    return timeFn(() => {
      const out = tf.tidy(() => net.forward(x));
      out.dataSync();
      out.dispose();
    }, opts);
  } finally {
    x.dispose();
  }
}

/** A backend plus whether this library's OpenBLAS kernels are registered on it. */
export interface BackendVariant {
  /** e.g. 'wasm+OpenBLAS', 'wasm', 'cpu+OpenBLAS', 'cpu', 'tensorflow'. */
  label: string;
  backend: BackendName;
  native: boolean;
}

function canSet(name: string): boolean {
  return tf.findBackendFactory(name) !== null && tf.findBackendFactory(name) !== undefined;
}

/**
 * Every backend variant this process can run: tensorflow (if tfjs-node registered it), wasm and
 * cpu, each with and without the OpenBLAS kernels when the addon is loaded. The variant in use
 * now comes first.
 */
export function availableBackendVariants(): BackendVariant[] {
  const native = nativeStatus().active;
  const out: BackendVariant[] = [];
  if (canSet('tensorflow')) out.push({ label: 'tensorflow', backend: 'tensorflow', native: false });
  for (const b of ['wasm', 'cpu'] as const) {
    if (!canSet(b)) continue;
    if (native) out.push({ label: `${b}+OpenBLAS`, backend: b, native: true });
    out.push({ label: b, backend: b, native: false });
  }
  const cur = currentVariantLabel();
  return [...out.filter((v) => v.label === cur), ...out.filter((v) => v.label !== cur)];
}

function currentVariantLabel(): string {
  const b = tf.getBackend();
  if (b === 'tensorflow') return b;
  return nativeStatus().active && registeredNative(b) ? `${b}+OpenBLAS` : b;
}

function registeredNative(backend: string): boolean {
  // registerExtraKernels labels native kernels '<backend>:<Kernel> (OpenBLAS)'
  return extraKernelInfo().some((l) => l.startsWith(`${backend}:`) && l.includes('OpenBLAS'));
}

/**
 * Run `fn` with `variant` active (backend set, OpenBLAS kernels on or off), then restore the
 * previous backend and the default kernels of both backends. Build and dispose nets inside `fn`.
 */
export async function withBackendVariant<T>(variant: BackendVariant, fn: () => T | Promise<T>): Promise<T> {
  await initBackend();
  const before = tf.getBackend();
  if (!canSet(variant.backend)) throw new Error(`withBackendVariant: backend '${variant.backend}' is not registered here; pick one of availableBackendVariants().`);
  if (variant.native && !nativeStatus().active) throw new Error(`withBackendVariant: '${variant.label}' needs the OpenBLAS addon, which is not active (${nativeStatus().detail}).`);
  // what our kernels were on both backends, to put them back exactly
  const had = new Map([variant.backend, before].map((b) => [b, registeredNative(b)]));
  const ok = await tf.setBackend(variant.backend);
  if (!ok) throw new Error(`withBackendVariant: could not switch to backend '${variant.backend}'.`);
  await tf.ready();
  registerExtraKernels(variant.backend, { native: variant.native });
  try {
    return await fn();
  } finally {
    for (const [b, native] of had) registerExtraKernels(b, { native });
    await tf.setBackend(before);
    await tf.ready();
  }
}

export interface TimingJob {
  /** Row label, e.g. 'Fisher pruned @ 61k'. */
  label: string;
  config: ModelConfig;
  inputShape: [number, number, number];
  numClasses: number;
}

export interface TimingRow {
  label: string;
  variant: string;
  backend: string;
  batchSize: number;
  medianMs: number;
  p25Ms: number;
  p75Ms: number;
  /** Median ms per example (medianMs / batchSize). */
  msPerExample: number;
  warmup: number;
  repeats: number;
  /** Every timed repeat, ms, in run order (rank tests between nets read them). */
  samples: number[];
}

export interface TimeArchitecturesOptions {
  variants: BackendVariant[];
  batchSizes: number[];
  warmup: number;
  repeats: number;
  /** Called after each (variant, net, batch) measurement. */
  onMeasured?: (row: TimingRow) => void;
}

/** A table row of one net's timed repeats under one backend variant and batch size. */
function timingRow(label: string, variant: string, backend: string, batchSize: number, s: TimingStats): TimingRow {
  return {
    label, variant, backend, batchSize, medianMs: s.medianMs, p25Ms: s.p25Ms, p75Ms: s.p75Ms,
    msPerExample: s.medianMs / batchSize, warmup: s.warmup, repeats: s.repeats, samples: s.samples,
  };
}

/** Rounds the timed repeats of timeArchitectures are spread over (at most one per repeat). */
export const TIMING_ROUNDS = 5;

/** `repeats` split into `rounds` near-equal chunks (the first ones one larger). */
export function roundChunks(repeats: number, rounds: number): number[] {
  const r = Math.max(1, Math.min(rounds, repeats));
  return Array.from({ length: r }, (_, i) => Math.floor(repeats / r) + (i < repeats % r ? 1 : 0));
}

/**
 * Time every architecture under every backend variant and batch size. Nets are built with random
 * weights (seed 0) inside the variant, so their tensors live on the backend being timed. The repeats
 * are interleaved: after `warmup` untimed runs of every (net, batch), TIMING_ROUNDS rounds each time a
 * chunk of every (net, batch) in turn, after one untimed run that re-warms its caches. Timing each net
 * in one block let the machine's drift over minutes (clock, other processes) pass for a difference
 * between nets: two standard runs of notebook 03 an hour apart disagreed on which of a matched pair
 * was faster. Interleaved, both nets of a pair see the same drift.
 */
export async function timeArchitectures(jobs: TimingJob[], o: TimeArchitecturesOptions): Promise<TimingRow[]> {
  if (!Array.isArray(jobs) || jobs.length === 0) throw new Error('timeArchitectures: give at least one { label, config, inputShape, numClasses } job.');
  if (!Array.isArray(o.variants) || o.variants.length === 0) throw new Error('timeArchitectures: give at least one backend variant (see availableBackendVariants()).');
  if (!Array.isArray(o.batchSizes) || o.batchSizes.length === 0) throw new Error('timeArchitectures: give at least one batch size.');
  checkCount(o.warmup, 'warmup', 0);
  checkCount(o.repeats, 'repeats', 1);
  const rows: TimingRow[] = [];
  for (const v of o.variants) {
    await withBackendVariant(v, () => {
      const nets: Net[] = [];
      try {
        for (const job of jobs) nets.push(buildModel(job.config, { seed: 0, inputShape: job.inputShape, numClasses: job.numClasses }));
        const cells = jobs.flatMap((job, j) => o.batchSizes.map((batchSize) => ({ job, net: nets[j], batchSize, samples: [] as number[] })));
        for (const c of cells) if (o.warmup > 0) timeInference(c.net, { batchSize: c.batchSize, warmup: o.warmup - 1, repeats: 1 });
        for (const chunk of roundChunks(o.repeats, TIMING_ROUNDS)) {
          for (const c of cells) c.samples.push(...timeInference(c.net, { batchSize: c.batchSize, warmup: 1, repeats: chunk }).samples);
        }
        for (const c of cells) {
          const row = timingRow(c.job.label, v.label, v.backend, c.batchSize, timingStats(c.samples, o.warmup));
          rows.push(row);
          o.onMeasured?.(row);
        }
      } finally {
        nets.forEach((n) => n.dispose());
      }
    });
  }
  return rows;
}

/**
 * What the timings ran on, for the notebook's setting line. Timings run on the thread count in force
 * (they never call the idle-core policy, which would make the count depend on the machine's load);
 * blasThreadPolicy says how that count was chosen.
 */
export function timingEnvironment(): { cpus: number; cpuModel: string; blasThreads: number; blasThreadPolicy: string; native: string; sparseMaxDensity: number } {
  const cpus = os.cpus();
  const n = nativeStatus();
  return {
    cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', blasThreads: n.threads, blasThreadPolicy: n.threadPolicy,
    native: n.active ? n.detail : `inactive (${n.detail})`, sparseMaxDensity: sparseMaxDensity(),
  };
}

export interface SparseTimingOptions {
  /** Fractions of each prunable kernel's weights removed, e.g. [0.9, 0.99]. */
  sparsities: number[];
  batchSizes: number[];
  warmup: number;
  repeats: number;
  /** Seed of the random unstructured masks (default 0). */
  seed?: number;
  onMeasured?: (row: SparseTimingRow) => void;
}

export interface SparseTimingRow extends TimingRow {
  sparsity: number;
  /** Median ms of the same net, mask and batch on the dense masked kernels (W ⊙ M multiplied out). */
  denseMaskedMs: number;
  /** denseMaskedMs / medianMs: what the sparse kernels buy. */
  speedup: number;
  /** Prunable layers that ran the sparse kernels / all prunable layers (convolutions stay dense). */
  sparseLayers: number;
  prunableLayers: number;
}

/**
 * Inference latency with unstructured random masks on the sparse kernels (kernels/sparse.ts) against
 * the dense masked product on the same net, mask and batch, for notebook 03's "unstructured sparse
 * vs reduced vs structured-pruned" comparison. Runs on the current backend variant when it has the
 * OpenBLAS kernels (else a clear error); only dense layers have sparse kernels, which the
 * sparseLayers column makes visible. Each layer uses them when its density is at most the
 * break-even density (sparseMaxDensity()); the setting in force is restored afterwards.
 */
export function timeUnstructuredSparse(jobs: TimingJob[], o: SparseTimingOptions): SparseTimingRow[] {
  if (!Array.isArray(jobs) || jobs.length === 0) throw new Error('timeUnstructuredSparse: give at least one { label, config, inputShape, numClasses } job.');
  if (!Array.isArray(o.sparsities) || o.sparsities.length === 0 || !o.sparsities.every((v) => v > 0 && v < 1)) {
    throw new Error(`timeUnstructuredSparse: sparsities must be fractions in (0, 1), e.g. [0.9, 0.99]; got ${JSON.stringify(o.sparsities)}.`);
  }
  if (!Array.isArray(o.batchSizes) || o.batchSizes.length === 0) throw new Error('timeUnstructuredSparse: give at least one batch size.');
  const variant = currentVariantLabel();
  if (!variant.endsWith('+OpenBLAS')) {
    throw new Error(`timeUnstructuredSparse: the sparse kernels are part of the OpenBLAS addon; the current backend variant is '${variant}' (${nativeStatus().detail}).`);
  }
  const limit = sparseMaxDensity() > 0 ? sparseMaxDensity() : 1;
  const previous = sparseMaxDensity();
  const rows: SparseTimingRow[] = [];
  try {
    for (const job of jobs) {
      for (const sparsity of o.sparsities) {
        const net = buildModel(job.config, { seed: 0, inputShape: job.inputShape, numClasses: job.numClasses });
        try {
          const rng = new Rng(o.seed ?? 0, `sparse-timing ${job.label} ${sparsity}`);
          net.setMask(new Mask(net.prunable.map((p) => [p.name, { shape: p.shape, data: Uint8Array.from({ length: p.size }, () => (rng.uniform() < 1 - sparsity ? 1 : 0)) }])));
          for (const batchSize of o.batchSizes) {
            setSparseMaxDensity(0);
            const dense = timeInference(net, { batchSize, warmup: o.warmup, repeats: o.repeats });
            setSparseMaxDensity(limit);
            const before = sparseCounts().forward;
            const s = timeInference(net, { batchSize, warmup: o.warmup, repeats: o.repeats });
            const sparseLayers = Math.round((sparseCounts().forward - before) / (o.warmup + o.repeats));
            const row: SparseTimingRow = {
              ...timingRow(job.label, `${variant}+sparse`, tf.getBackend(), batchSize, s), sparsity, denseMaskedMs: dense.medianMs,
              speedup: dense.medianMs / s.medianMs, sparseLayers, prunableLayers: net.prunable.length,
            };
            rows.push(row);
            o.onMeasured?.(row);
          }
        } finally {
          net.dispose();
        }
      }
    }
  } finally {
    setSparseMaxDensity(previous);
  }
  return rows;
}
