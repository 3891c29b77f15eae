/**
 * Loading the optional OpenBLAS addon (native/, built by scripts/build-native.js at npm install).
 * Missing or broken addon -> null, and everything runs on the backends' own kernels.
 * PRUNE_AT_INIT_NATIVE=0 disables it; PRUNE_AT_INIT_THREADS=n gives the native kernels n threads:
 * OpenBLAS's for large dense products, the addon's own for convolutions, BatchNorm, elementwise and
 * sparse loops (whose results do not depend on the count). Default: every core at load; each
 * in-process training run then takes the cores other processes leave idle (useIdleCores(),
 * thread-policy.ts); sweep workers are started with 1 each (engine/sweep.ts), so parallel runs do not
 * oversubscribe.
 * PRUNE_AT_INIT_NATIVE_ADDON=/path/to/addon.node loads another build (or a missing one, to test fallback).
 */
import * as os from 'os';
import * as path from 'path';
import { addTaskEnvironment, insideTask } from '../engine/task';
import { describeIdleChoice, IdleCoresChoice, measureIdleCores } from './thread-policy';

export const NATIVE_ENV = 'PRUNE_AT_INIT_NATIVE';
export const THREADS_ENV = 'PRUNE_AT_INIT_THREADS';
/**
 * PRUNE_AT_INIT_FLUSH_DENORMALS=1: the native kernels flush denormal floats (|x| < 1.2e-38) to zero,
 * as torch.set_flush_denormal(True) does. Off by default: it changes results below 1.2e-38, which
 * signal-propagation diagnostics of deep nets can reach; on x86 each denormal operation otherwise
 * takes a microcode assist (a 1%-dense 50-layer tanh MLP ran 2x slower for it, bench/README.md).
 */
export const FLUSH_DENORMALS_ENV = 'PRUNE_AT_INIT_FLUSH_DENORMALS';
/**
 * PRUNE_AT_INIT_FAST_CONV=0: every convolution runs im2col + sgemm, as before the 3x3 stride-1 layers
 * got their own kernels (native/conv_direct.c: direct kernels for 8-16 channels, where the CPU has AVX2
 * and FMA; native/conv_winograd.c: Winograd F(2x2, 3x3) forward passes and input gradients for 32-512). Those round
 * differently, so this reproduces conv-net results computed before them bit for bit. On by default.
 */
export const FAST_CONV_ENV = 'PRUNE_AT_INIT_FAST_CONV';

type Buf = ArrayBuffer | Float32Array;

/**
 * The addon interface this library calls (PAI_ADDON_ABI in native/napi_util.h): a build reporting
 * another ABI is stale (built from older sources) and is not used; raise both on any change of the
 * addon's functions or their arguments.
 */
export const NATIVE_ABI = 4;

/** The sparse kernels' batch tile (TILE in native/sparse_kernels.c): packed batches are padded to a multiple of it. */
export const SPARSE_TILE = 64;

/** The addon's functions (see native/blas_kernels.c); offsets count float32 elements. */
export type ConvPath = 'direct' | 'pointwise' | 'im2col';

export interface NativeBlas {
  matmul(a: Buf, aOff: number, b: Buf, bOff: number, c: Buf, cOff: number, batchA: number, batchB: number,
    m: number, n: number, k: number, transA: boolean, transB: boolean, bias: Buf | null, biasOff: number,
    biasLen: number, act: number, alpha: number, prelu: Buf | null, preluOff: number, preluLen: number): void;
  conv2d(x: Buf, xOff: number, w: Buf, wOff: number, y: Buf, yOff: number, bias: Buf | null, biasOff: number,
    dims: Int32Array, act: number, alpha: number, prelu: Buf | null, preluOff: number, preluLen: number): void;
  conv2dBackpropInput(dy: Buf, dyOff: number, w: Buf, wOff: number, dx: Buf, dxOff: number, dims: Int32Array): void;
  conv2dBackpropFilter(x: Buf, xOff: number, dy: Buf, dyOff: number, dw: Buf, dwOff: number, dims: Int32Array): void;
  /** Which kernel each computation of a convolution (dims as for conv2d) takes: the direct 3x3 kernels, the pointwise product, or im2col + sgemm. */
  convPaths(dims: Int32Array): { forward: ConvPath; input: ConvPath; filter: ConvPath };
  reduce(x: Buf, xOff: number, y: Buf, yOff: number, outer: number, inner: number, overOuter: boolean, scale: number): void;
  maxPoolGrad(dy: Buf, dyOff: number, x: Buf, xOff: number, dx: Buf, dxOff: number, dims: Int32Array): void;
  tanh(x: Buf, xOff: number, y: Buf, yOff: number, n: number): void;
  /** op 0 add, 1 sub, 2 mul, 3 div, 4 tanh / 5 relu gradient (a = y, b = dy); modes 0 full [rows, inner], 1 one row [inner], 2 scalar. */
  binary(op: number, a: Buf, aOff: number, aMode: number, b: Buf, bOff: number, bMode: number, c: Buf, cOff: number,
    rows: number, inner: number): void;
  tile(x: Buf, xOff: number, y: Buf, yOff: number, shape: Int32Array, reps: Int32Array): void;
  sgdMomentum(v: Buf, vOff: number, s: Buf, sOff: number, g: Buf, gOff: number, v2: Buf, v2Off: number, s2: Buf, s2Off: number,
    n: number, lr: number, momentum: number, weightDecay: number): void;
  /** C[M,N] = act(op(A) @ op(B ⊙ BM) + bias) ⊙ CM; act 0 linear, 1 relu, 7 tanh; BM, CM, bias optional. */
  maskedMatmul(a: Buf, aOff: number, b: Buf, bOff: number, bm: Buf | null, bmOff: number, c: Buf, cOff: number, cm: Buf | null,
    cmOff: number, bias: Buf | null, biasOff: number, m: number, n: number, k: number, transA: boolean, transB: boolean, act: number): void;
  /** Y = act(gamma * (X - mean) / sqrt(var + eps) + beta) over X [rows, C] with its batch mean and biased variance (written to mean, var). */
  batchNormTrain(x: Buf, xOff: number, gamma: Buf, gOff: number, beta: Buf, bOff: number, y: Buf, yOff: number, mean: Buf, mOff: number,
    variance: Buf, vOff: number, rows: number, c: number, eps: number, relu: boolean): void;
  /** Eval-mode BatchNorm: Y = act(X * scale + shift) over X [rows, C] in one pass, rounding as Multiply then Add. */
  batchNormApply(x: Buf, xOff: number, scale: Buf, sOff: number, shift: Buf, hOff: number, y: Buf, yOff: number, rows: number, c: number,
    relu: boolean): void;
  /** dx, dgamma, dbeta of batchNormTrain; y = its relu output (null: linear). */
  batchNormGrad(x: Buf, xOff: number, dy: Buf, dyOff: number, y: Buf | null, yOff: number, gamma: Buf, gOff: number, mean: Buf, mOff: number,
    variance: Buf, vOff: number, dx: Buf, dxOff: number, dgamma: Buf, dgOff: number, dbeta: Buf, dbOff: number, rows: number, c: number, eps: number): void;
  /** Ones in a 0/1 mask of n floats, or -1 when an entry is neither 0 nor 1. */
  countNonzero01(mask: Buf, off: number, n: number): number;
  /** Index a 0/1 mask [K, M] for the sparse kernels (null: not a 0/1 mask); the handle is freed by the GC. */
  sparsePattern(mask: Buf, off: number, k: number, m: number): { handle: unknown; nnz: number } | null;
  /** Y[N,M] = act(X[N,K] @ (W ⊙ mask) + bias) over the pattern's kept weights; act 0 linear, 1 relu, 7 tanh. */
  sparseDense(pattern: unknown, x: Buf, xOff: number, w: Buf, wOff: number, y: Buf, yOff: number, bias: Buf | null, biasOff: number,
    n: number, act: number): void;
  /** DX[N,K] = DZ[N,M] @ (W ⊙ mask)^T. */
  sparseDenseDx(pattern: unknown, dz: Buf, dzOff: number, w: Buf, wOff: number, dx: Buf, dxOff: number, n: number): void;
  /** DW[K,M] = (X^T @ DZ) ⊙ mask, computed at the kept positions only. */
  sparseDenseDw(pattern: unknown, x: Buf, xOff: number, dz: Buf, dzOff: number, dw: Buf, dwOff: number, n: number): void;
  /**
   * A whole MLP whose every layer runs sparse, hidden activations kept packed transposed ([M, paddedN], zero beyond N;
   * paddedN = N rounded up to a multiple of SPARSE_TILE, checked; each in a buffer of 16 floats more, where it starts
   * at the first 64-byte boundary).
   * offs (float offsets into heap) = [x, then per layer w, bias (-1: none), out]; act 0 linear, 1 relu, 7 tanh.
   */
  mlpSparseForward(heap: ArrayBuffer, offs: Float64Array, patterns: unknown[], n: number, paddedN: number, act: number): void;
  /** Its gradients: offs = [dy, x, dz0 (-1: not wanted), then per layer w, h (transposed; -1 for the last), dW, db (-1: none)]. */
  mlpSparseBackward(heap: ArrayBuffer, offs: Float64Array, patterns: unknown[], n: number, paddedN: number, act: number): void;
  /** Threads of OpenBLAS and of the sparse kernels' parallel loops. */
  setThreads(n: number): void;
  /** Flush denormal floats to zero inside every kernel call (MXCSR FTZ/DAZ, restored after the call). */
  setFlushDenormals(on: boolean): void;
  /** Allow the 3x3 stride-1 kernels (direct, Winograd); returns what they run ('' when off). */
  setFastConv(on: boolean): string;
  /** isa: the widest instruction set the kernels' load-time clones use here ('avx512f', 'avx2', 'default'). */
  info(): { config: string; core: string; threads: number; isa: string };
  /** The interface version the addon was built with (NATIVE_ABI); absent in builds older than the check. */
  abi?: number;
}

const ADDON_FUNCTIONS = ['matmul', 'conv2d', 'conv2dBackpropInput', 'conv2dBackpropFilter', 'convPaths', 'reduce', 'maxPoolGrad', 'tanh', 'binary', 'tile',
  'sgdMomentum', 'maskedMatmul', 'batchNormTrain', 'batchNormApply', 'batchNormGrad', 'countNonzero01', 'sparsePattern', 'sparseDense', 'sparseDenseDx',
  'sparseDenseDw', 'mlpSparseForward', 'mlpSparseBackward', 'setThreads', 'setFlushDenormals', 'setFastConv', 'info'] as const;

/** Why a loaded module is not the addon this library expects, or null when it is. */
export function addonMismatch(m: Partial<NativeBlas> | null | undefined): string | null {
  if (!m || typeof m !== 'object') return 'the file exports no addon object';
  if (m.abi !== NATIVE_ABI) return `stale build: addon ABI ${m.abi === undefined ? 'missing (built before the check)' : m.abi}, this library needs ${NATIVE_ABI}`;
  const missing = ADDON_FUNCTIONS.filter((f) => typeof m[f] !== 'function');
  return missing.length ? `stale build: the addon lacks ${missing.join(', ')}` : null;
}

export interface NativeStatus {
  /** True when the addon is loaded and not disabled by PRUNE_AT_INIT_NATIVE=0. */
  active: boolean;
  /** Where the addon is (or was looked for). */
  path: string;
  /** Why it is inactive, or the OpenBLAS build it uses. */
  detail: string;
  threads: number;
  /** How `threads` was chosen: PRUNE_AT_INIT_THREADS, every core at load, the idle-core policy's last choice, setNativeThreads, or an engine task's one thread. */
  threadPolicy: string;
  /** Denormals flushed to zero inside the kernels (PRUNE_AT_INIT_FLUSH_DENORMALS=1). */
  flushDenormals?: boolean;
  /** What 3x3 stride-1 convolutions run besides im2col + sgemm (direct kernels, Winograd), or 'off' (PRUNE_AT_INIT_FAST_CONV=0). */
  fastConv?: string;
  /** When active: OpenBLAS's build string, the core type it picked for this CPU, and the widest ISA the addon's own loops use. */
  config?: string;
  core?: string;
  isa?: string;
}

export const NATIVE_ADDON_ENV = 'PRUNE_AT_INIT_NATIVE_ADDON';
/** Where scripts/build-native.js puts the addon (repo/native/build/Release), relative to lib/{src,dist}/kernels. */
export const DEFAULT_ADDON_PATH = path.resolve(__dirname, '..', '..', '..', 'native', 'build', 'Release', 'prune_at_init_blas.node');

function addonPath(): string {
  return process.env[NATIVE_ADDON_ENV] || DEFAULT_ADDON_PATH;
}

let loaded: { blas: NativeBlas | null; status: NativeStatus } | null = null;

function threadsFromEnv(): number {
  const raw = process.env[THREADS_ENV];
  if (raw === undefined || raw === '') return allCores();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new Error(`${THREADS_ENV}=${raw} is not a thread count: use an integer 1..256 (or unset it for all ${allCores()} cores).`);
  }
  return n;
}

const NO_THREADS = 'none (native kernels inactive)';

function threadsPolicyAtLoad(): string {
  const raw = process.env[THREADS_ENV];
  return raw === undefined || raw === '' ? `every core at load (${allCores()}); each in-process run takes the idle ones (useIdleCores)` : `${THREADS_ENV}=${raw}`;
}

/** A 0/1 switch from the environment (also false/true); unset or empty gives `unset`, anything else throws `${name}=${raw}: ${usage}`. */
function switchFromEnv(name: string, unset: boolean, usage: string): boolean {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return unset;
  if (raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new Error(`${name}=${raw}: ${usage}`);
}

function flushFromEnv(): boolean {
  return switchFromEnv(FLUSH_DENORMALS_ENV, false, 'use 1 to flush denormals to zero in the native kernels, or 0 / unset for IEEE denormals.');
}

function fastConvFromEnv(): boolean {
  return switchFromEnv(FAST_CONV_ENV, true, 'use 0 to run every convolution as im2col + sgemm (the bits of results computed before the 3x3 kernels), or 1 / unset for the direct and Winograd 3x3 kernels where they apply.');
}

function allCores(): number {
  return Math.max(1, Math.min(256, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length));
}

/** Set the native kernels' thread count for this process (1..256); returns the new status. */
export function setNativeThreads(n: number): NativeStatus {
  return applyThreads(n, `setNativeThreads(${n})`, 'setNativeThreads');
}

function applyThreads(n: number, policy: string, who: string): NativeStatus {
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error(`${who}: give an integer 1..256, got ${n}.`);
  const { blas } = load();
  if (!blas) throw new Error(`${who}: the native kernels are not active (${load().status.detail}).`);
  blas.setThreads(n);
  loaded!.status.threads = blas.info().threads;
  loaded!.status.threadPolicy = policy;
  return nativeStatus();
}

/** Open singleThreaded() scopes, and the count and policy the outermost one replaced. */
let singleDepth = 0;
let beforeSingle: { threads: number; policy: string } | null = null;

/**
 * Run with the native kernels on one thread; returns the function that restores the previous count.
 * Cached results must not depend on where they were computed: OpenBLAS rounds some products
 * differently on 1 and 2 threads, and a sweep worker runs on one, so every engine task does too.
 * Scopes nest (and may end out of order, as overlapping async tasks do): the last one to end restores.
 */
export function singleThreaded(): () => void {
  const { blas, status } = load();
  if (singleDepth++ === 0 && blas && status.threads > 1) {
    beforeSingle = { threads: status.threads, policy: status.threadPolicy };
    applyThreads(1, 'one thread (engine task or singleThreaded() scope)', 'singleThreaded');
  }
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    if (--singleDepth === 0 && beforeSingle) {
      const b = beforeSingle;
      beforeSingle = null;
      applyThreads(b.threads, b.policy, 'singleThreaded');
    }
  };
}

addTaskEnvironment(singleThreaded);

/**
 * Give the native kernels the cores other processes leave idle now (thread-policy.ts: a 100 ms
 * sample of /proc/stat, reused for 10 s; every core where it cannot be read). Called where one in-process run starts
 * (TrainingRun); call it before other heavy in-process compute. It stands aside, returning the
 * status unchanged, when PRUNE_AT_INIT_THREADS is set, inside an engine task or a singleThreaded()
 * scope (cached results stay one-thread), or without the native kernels. The count stays until the
 * next call: in-process numbers can differ in the last bits between a 1- and a 2-thread run.
 * `measure` replaces the /proc/stat sample (tests; callers with their own load signal).
 */
export function useIdleCores(measure: (cores: number) => IdleCoresChoice = recentIdleChoice): NativeStatus {
  const { blas, status } = load();
  const env = process.env[THREADS_ENV];
  if (!blas || (env !== undefined && env !== '') || insideTask() || singleDepth > 0) return { ...status };
  const choice = measure(allCores());
  return applyThreads(choice.threads, describeIdleChoice(choice), 'useIdleCores');
}

/** Runs started within this long of a /proc/stat sample reuse it (K-starts builds its candidates' runs back to back). */
const IDLE_REUSE_MS = 10_000;
let lastIdle: { at: number; choice: IdleCoresChoice } | null = null;

/** The default measurement (measureIdleCores), sampled at most once per IDLE_REUSE_MS (each sample blocks for its 100 ms window). */
function recentIdleChoice(cores: number): IdleCoresChoice {
  const now = Date.now();
  if (!lastIdle || now - lastIdle.at > IDLE_REUSE_MS || lastIdle.choice.cores !== cores) lastIdle = { at: now, choice: measureIdleCores(cores) };
  return lastIdle.choice;
}

/** The addon, or null (not built, failed to load, or disabled). Loads once. */
export function nativeBlas(): NativeBlas | null {
  return load().blas;
}

export function nativeStatus(): NativeStatus {
  return { ...load().status };
}

function load(): { blas: NativeBlas | null; status: NativeStatus } {
  if (loaded) return loaded;
  const threads = threadsFromEnv(), flush = flushFromEnv(), fast = fastConvFromEnv();
  const file = addonPath();
  const flag = process.env[NATIVE_ENV];
  if (flag === '0' || flag === 'false') {
    loaded = { blas: null, status: { active: false, path: file, detail: `disabled by ${NATIVE_ENV}=${flag}`, threads: 0, threadPolicy: NO_THREADS } };
    return loaded;
  }
  try {
    // The sparse kernels' OpenMP threads sleep between calls instead of spinning (the default spins
    // ~0.3 s after each parallel loop, stealing a core from the other jobs of a shared machine).
    // libgomp reads this once, when the addon loads it.
    if (process.env.OMP_WAIT_POLICY === undefined) process.env.OMP_WAIT_POLICY = 'PASSIVE';
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const blas = require(file) as NativeBlas;
    const stale = addonMismatch(blas);
    if (stale) {
      const detail = `${stale}; rebuild it with \`node scripts/build-native.js\` (the backends' own kernels are used meanwhile)`;
      process.stderr.write(`prune-at-init: native addon ${file} not used: ${detail}.\n`);
      loaded = { blas: null, status: { active: false, path: file, detail, threads: 0, threadPolicy: NO_THREADS } };
      return loaded;
    }
    blas.setThreads(threads);
    blas.setFlushDenormals(flush);
    const fastConv = blas.setFastConv(fast) || 'off';
    const info = blas.info();
    loaded = {
      blas,
      status: { active: true, path: file, detail: `${info.config} (core ${info.core})`, threads: info.threads, threadPolicy: threadsPolicyAtLoad(),
        config: info.config, core: info.core, isa: info.isa, flushDenormals: flush, fastConv },
    };
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    loaded = {
      blas: null,
      status: { active: false, path: file, detail: `addon not available (${msg}); run \`node scripts/build-native.js\` with libopenblas-dev installed`, threads: 0,
        threadPolicy: NO_THREADS },
    };
  }
  return loaded;
}
