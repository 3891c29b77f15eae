/**
 * SynFlow (Tanaka et al. 2020): data-free, iterative. R = 1ᵀ(∏_l |θ^l|)1, the sum of the outputs of
 * the LINEARISED net run on |θ| with an all-ones input; score = |θ ⊙ ∂R/∂θ| (= the sum, over all
 * input→output paths through a weight, of the product of |weights| along the path); pruned over n
 * rounds with the exponential schedule density_k = (1 − s)^(k/n), masks applied between rounds.
 *
 * What "linearised" means here (stated choices):
 * - kernels → |W| ⊙ M; biases and BN β → 0 (the paper's R has no bias terms; the SynFlow anchor's
 *   code also takes |b|, adding bias paths: not done here); BN γ → |γ|;
 * - BN runs in eval mode (the anchor's `prune_loop` default), i.e. the linear map x·|γ|/√(var+ε) with
 *   the init running statistics; a net whose BN running means are non-zero (trained) is refused;
 * - activations: relu/ELU are the identity on the non-negative signals that arise; tanh is made
 *   linear by running the net at a tiny signal amplitude (input α·1, α = 1e-6 by default), where
 *   tanh(h) = h to float32 precision. A homogeneity check R(2α) = 2R(α) verifies the linear regime.
 *
 * float32 safety (no float64 in TF.js, tfjs#1110): R of a depth-100 width-100 net is ~10^110. Each
 * "articulation" layer — one that lies on every input→output path, detected exactly by zeroing it
 * and checking that R becomes 0 — has its |W| multiplied by a factor c_l chosen so that the layer's
 * largest output stays at the input amplitude (first c_l = out units / Σ|W_l ⊙ M_l|, then corrected
 * from the recorded pre-activations of a forward pass at amplitude 1e-20, repeated until every layer
 * sits at that amplitude). Every path crosses each articulation layer exactly once, so every score is
 * multiplied by the SAME factor exp(logScale) = α·γ·∏ c_l: the global ranking (and the per-layer
 * ranking) equals exact SynFlow's, and exact scores are scores·exp(−logScale). Layers that some path
 * skips (ResNet branches, shortcuts) cannot be rescaled without changing relative path weights, so
 * they stay unscaled; the remaining growth is absorbed by α and an output-side factor γ; if R still
 * exceeds float32's range an Error says so. FFNNs and VGG-style CNNs are chains (all layers are
 * articulation layers), so they are safe at any depth.
 *
 * Returned scores of weights pruned in earlier rounds are 0; each round's selection (scoresToMask
 * with the previous round's mask) never brings them back.
 */
import * as tf from '@tensorflow/tfjs';
import type { Net } from '../nn/net';
import type { ScoreContext } from './score';
import { registerScoreMethod, selectMask } from './score';
import type { MaskSelection, Scope, Scores } from './scores-to-mask';

export type DensitySchedule = 'exponential' | 'linear';
export const SYNFLOW_DEFAULTS = { rounds: 100, schedule: 'exponential' as DensitySchedule, signal: 1e-6 };
const CALIBRATION_SIGNAL = 1e-20;

/** Density after round k of n towards finalDensity: exponential d^(k/n) (Tanaka et al.) or linear. */
export function densityAt(k: number, n: number, finalDensity: number, schedule: DensitySchedule = 'exponential'): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`densityAt: rounds must be a positive integer, got ${n}.`);
  if (!Number.isInteger(k) || k < 0 || k > n) throw new Error(`densityAt: round k must be an integer in 0..${n}, got ${k}.`);
  if (!(finalDensity > 0 && finalDensity <= 1)) throw new Error(`densityAt: final density must be in (0, 1], got ${finalDensity}.`);
  if (k === n) return finalDensity; // exactly the target, no pow() rounding
  if (schedule === 'exponential') return Math.pow(finalDensity, k / n);
  if (schedule === 'linear') return 1 - (1 - finalDensity) * (k / n);
  throw new Error(`Unknown density schedule '${schedule as string}': use 'exponential' or 'linear'.`);
}

export interface SynflowScoreOptions {
  /** Input amplitude α (default 1e-6; small enough that tanh is linear in float32). */
  signal?: number;
  /** Articulation layers, if already known (computed when omitted). */
  articulation?: Set<string>;
}

export interface SynflowScores {
  /** Scaled scores: exact SynFlow scores times exp(logScale), one common factor for all weights. */
  scores: Scores;
  /** Natural log of the common factor. */
  logScale: number;
  /** The scaled R (= exact R · exp(logScale)). */
  r: number;
  /** Prunable kernels on every input→output path (rescaled); the others keep |W|. */
  articulation: Set<string>;
  /** Input amplitude used. */
  alpha: number;
  /** Output-side factor on R (1 unless the unscaled part of the net grows beyond ~1e30). */
  gamma: number;
}

type Keep = Map<string, Uint8Array>;

function checkBatchNormAtInit(net: Net): void {
  for (const [name, v] of net.buffers) {
    if (!name.endsWith('/mean')) continue;
    const d = v.dataSync();
    for (let i = 0; i < d.length; i++) {
      if (d[i] !== 0) {
        throw new Error(`SynFlow runs BatchNorm as the linear map x*|gamma|/sqrt(var+eps) with init statistics, but running mean '${name}' ` +
          `is non-zero (${d[i]} at ${i}): the net was trained. Prune at initialisation (rebuild the net from its seed).`);
      }
    }
  }
}

/**
 * Scaled SynFlow scores of the net restricted to `keep` (default: its installed mask). Data-free;
 * does not modify the net. See the module comment for the scaling and what it guarantees.
 */
export function synflowScores(net: Net, keep?: Keep, o: SynflowScoreOptions = {}): SynflowScores {
  checkBatchNormAtInit(net);
  const alpha0 = o.signal ?? SYNFLOW_DEFAULTS.signal;
  if (!(alpha0 > 0) || !Number.isFinite(alpha0)) throw new Error(`SynFlow signal must be a positive number, got ${alpha0}.`);
  const mask = keep ?? net.maskArrays();
  const kernels = net.prunable;
  const raw = net.getWeights();
  const absK: Float32Array[] = [];
  const norm: number[] = [];
  for (const p of kernels) {
    const w = raw.get(p.name)!, m = mask.get(p.name);
    if (!m || m.length !== p.size) throw new Error(`SynFlow: mask for ${p.name} missing or of wrong size.`);
    const a = new Float32Array(p.size);
    let s = 0;
    for (let i = 0; i < p.size; i++) { a[i] = m[i] ? Math.abs(w[i]) : 0; s += a[i]; }
    absK.push(a);
    const out = p.shape[p.shape.length - 1];
    norm.push(s > 0 ? out / s : 1); // mean incoming |w|-sum per output unit -> 1
  }
  const others = new Map<string, tf.Tensor>();
  for (const p of net.info) {
    if (p.prunable) continue;
    const v = raw.get(p.name)!;
    others.set(p.name, tf.tensor(p.kind === 'gamma' ? v.map(Math.abs) : new Float32Array(p.size), p.shape, 'float32'));
  }
  const inputShape = [1, ...net.inputShape];
  const ones = tf.ones(inputShape);
  const kernelTensors = (scale: number[]) => kernels.map((p, i) => tf.tensor(scaleArray(absK[i], scale[i]), p.shape, 'float32'));
  const run = (ks: tf.Tensor[], alpha: number, record?: Map<string, tf.Tensor>): tf.Tensor => {
    const overrides = new Map(others);
    kernels.forEach((p, i) => overrides.set(p.name, ks[i]));
    return net.forward(tf.mul(ones, alpha), { training: false, overrides, applyMask: false, record });
  };
  const rOf = (ks: tf.Tensor[], alpha: number): number => tf.tidy(() => tf.sum(run(ks, alpha)).dataSync()[0]);
  /**
   * Measured normalisation: run at a tiny amplitude (tanh exactly linear, 1e±18 of float32 headroom),
   * read each eligible layer's max output (recorded pre-activations; the net output for the last
   * kernel) and divide its scale by its gain, so every measured layer's max becomes the input
   * amplitude. Exact for a linear chain in one pass; repeated if a measurement over/underflowed.
   */
  const calibrate = (scale: number[], eligible: (i: number) => boolean): number[] => {
    const s = scale.slice();
    for (let pass = 0; pass < 6; pass++) {
      const rec = new Map<string, tf.Tensor>();
      let maxes: Array<number | undefined>;
      try {
        maxes = tf.tidy(() => {
          const out = run(kernelTensors(s), CALIBRATION_SIGNAL, rec);
          return kernels.map((p, i) => {
            const t = i === kernels.length - 1 ? out : rec.get(p.layer);
            return t && eligible(i) ? tf.max(t).dataSync()[0] : undefined;
          });
        });
      } finally { rec.forEach((t) => t.dispose()); }
      // done when every measured layer already sits at the calibration amplitude (a pass where the
      // signal grew into tanh's non-linear range, or over/underflowed, is corrected again)
      let prev = CALIBRATION_SIGNAL, done = true;
      for (let i = 0; i < kernels.length; i++) {
        const m = maxes[i];
        if (m === undefined) continue;
        if (!(m > 0) || !Number.isFinite(m)) { done = false; break; }
        if (!(m < 2 * CALIBRATION_SIGNAL && m > 0.5 * CALIBRATION_SIGNAL)) done = false;
        s[i] *= prev / m;
        prev = m;
      }
      if (done) break;
    }
    return s;
  };

  try {
    const zeroScores = (articulation: Set<string>): SynflowScores =>
      ({ scores: new Map(kernels.map((p) => [p.name, new Float32Array(p.size)])), logScale: -Infinity, r: 0, articulation, alpha: alpha0, gamma: 1 });
    // every layer normalised (as if a chain): R = 0 here means no path is left (collapsed net)
    const normAll = calibrate(norm, () => true);
    const normalised = kernelTensors(normAll);
    let articulation = o.articulation;
    try {
      const base = rOf(normalised, alpha0);
      if (base === 0) return zeroScores(articulation ?? new Set());
      if (!articulation) {
        // articulation layers: zeroing them makes R exactly 0 (every path crosses them)
        articulation = new Set();
        for (let i = 0; i < kernels.length; i++) {
          const z = tf.zeros(kernels[i].shape);
          const r = rOf(normalised.map((k, j) => (j === i ? z : k)), alpha0);
          z.dispose();
          if (r === 0) articulation.add(kernels[i].name);
        }
      }
    } finally { normalised.forEach((k) => k.dispose()); }
    const art = articulation;
    // only articulation layers may be rescaled (a common factor on every path); the rest stay at |W|
    const scale = art.size === kernels.length ? normAll
      : calibrate(kernels.map((p, i) => (art.has(p.name) ? norm[i] : 1)), (i) => art.has(kernels[i].name));
    const ks = kernelTensors(scale);
    try {
      // choose α (input side) and γ (output side) so forward and backward signals fit in float32
      let alpha = alpha0, gamma = 1;
      let r = rOf(ks, alpha);
      if (!Number.isFinite(r)) {
        const tiny = 1e-30;
        const rt = rOf(ks, tiny);
        if (!(rt > 0) || !Number.isFinite(rt)) throw rangeError(`R = ${r} at input amplitude ${alpha0} and ${rt} at ${tiny}`);
        const logK = Math.log(rt) - Math.log(tiny);
        alpha = Math.max(tiny, Math.min(alpha0, Math.exp(-logK / 2)));
        r = rOf(ks, alpha);
      }
      if (r === 0 || !Number.isFinite(r)) throw rangeError(`R = ${r} at input amplitude ${alpha}`);
      // R ≈ α·K: keep the backward signal (∝ γ·K) below ~1e30
      const logK = Math.log(r) - Math.log(alpha);
      if (logK > Math.log(1e30)) gamma = Math.exp(Math.log(1e30) - logK);
      // homogeneity: the linearised net satisfies R(2α) = 2R(α); saturating activations at a too large signal do not
      for (let tries = 0; ; tries++) {
        const r2 = rOf(ks, 2 * alpha);
        if (Math.abs(r2 / (2 * r) - 1) <= 1e-4) break;
        if (tries >= 2 || alpha / 1e3 < 1e-30) {
          throw new Error(`SynFlow: the net is not in its linear regime (R(2a)/2R(a) = ${(r2 / (2 * r)).toPrecision(6)} at input amplitude ${alpha}): ` +
            'a saturating activation (tanh) sees too large a signal, typically in a deep net with skip connections. Try a smaller option signal.');
        }
        alpha /= 1e3;
        r = rOf(ks, alpha);
      }
      const scores: Scores = new Map();
      let nonFinite = 0;
      tf.tidy(() => {
        const grads = tf.grads((...k: tf.Tensor[]) => tf.mul(tf.sum(run(k, alpha)), gamma) as tf.Scalar)(ks);
        kernels.forEach((p, i) => {
          const s = tf.abs(tf.mul(ks[i], grads[i])).dataSync() as Float32Array;
          for (let j = 0; j < s.length; j++) if (!Number.isFinite(s[j])) nonFinite++;
          scores.set(p.name, s);
        });
      });
      if (nonFinite > 0) throw rangeError(`${nonFinite} non-finite scores (R = ${r} at input amplitude ${alpha})`);
      let logScale = Math.log(alpha) + Math.log(gamma);
      kernels.forEach((p, i) => { if (art.has(p.name)) logScale += Math.log(scale[i]); });
      return { scores, logScale, r: r * gamma, articulation: art, alpha, gamma };
    } finally { ks.forEach((k) => k.dispose()); }
  } finally {
    ones.dispose();
    for (const t of others.values()) t.dispose();
  }
}

function scaleArray(a: Float32Array, c: number): Float32Array {
  if (c === 1) return a;
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] * c;
  return out;
}

function rangeError(detail: string): Error {
  return new Error(`SynFlow: R = 1ᵀ∏|W|1 of this net does not fit in float32 even after rescaling (${detail}). ` +
    'Layers that some path skips (residual branches) cannot be rescaled exactly; use a shallower net or a chain architecture (FFNN/CNN).');
}

export interface SynflowPruneOptions {
  rounds?: number;
  schedule?: DensitySchedule;
  signal?: number;
  scope?: Scope;
  /** Keep the LOWEST scores each round (the inversion sanity check of Frankle et al. 2021; prune/ablations.ts). */
  invert?: boolean;
}

export interface SynflowPruneResult {
  selection: MaskSelection;
  /** Last round's scaled scores (weights pruned before that round: 0). */
  scores: Scores;
  logScale: number;
  /** Kept count after each round. */
  keptPerRound: number[];
  articulation: string[];
}

function numberOption(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (typeof v === 'boolean' || !Number.isFinite(x)) throw new Error(`SynFlow option ${name} must be a number, got ${String(v)}.`);
  return x;
}

/** The sparsity of each round: 1 − density_k for k = 1..n (see densityAt). */
export function synflowRoundSparsities(sparsity: number, rounds: number, schedule: DensitySchedule): number[] {
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`SynFlow option rounds must be a positive integer, got ${rounds}.`);
  if (schedule !== 'exponential' && schedule !== 'linear') throw new Error(`SynFlow option schedule must be 'exponential' or 'linear', got '${schedule as string}'.`);
  return Array.from({ length: rounds }, (_, i) => Math.max(0, 1 - densityAt(i + 1, rounds, 1 - sparsity, schedule)));
}

/** Keys of the SynFlow state carried between rounds (ScoreContext.memo). */
const ARTICULATION = 'synflow/articulation', LOG_SCALE = 'synflow/logScale';

/** Iterative SynFlow (computeMask's rounds, each selected by scoresToMask) with its per-round record. */
export function synflowPrune(net: Net, sparsity: number, o: SynflowPruneOptions = {}): SynflowPruneResult {
  const keptPerRound: number[] = [];
  let memo = new Map<string, unknown>();
  const r = selectMask(net, { method: 'synflow', sparsity, scope: o.scope, options: { rounds: o.rounds, schedule: o.schedule, signal: o.signal } }, {
    invert: o.invert, onRound: (selection, ctx) => { keptPerRound.push(selection.mask.kept); memo = ctx.memo; },
  });
  return {
    selection: r.selection, scores: r.scores, logScale: memo.get(LOG_SCALE) as number, keptPerRound,
    articulation: [...(memo.get(ARTICULATION) as Set<string>)],
  };
}

registerScoreMethod({
  name: 'synflow',
  description: 'SynFlow (Tanaka et al. 2020), data-free: |w * dR/dw| with R = 1^T prod|W| 1 of the linearised net (biases 0, BN eval), ' +
    'iterative: rounds (100) with the exponential density schedule (schedule: exponential | linear), masks applied between rounds; ' +
    'float32-safe by exact per-layer rescaling. Options: rounds, schedule, signal (input amplitude, 1e-6).',
  needsData: false,
  rounds: (ctx: ScoreContext) => synflowRoundSparsities(ctx.sparsity, numberOption(ctx.options.rounds, 'rounds') ?? SYNFLOW_DEFAULTS.rounds,
    (ctx.options.schedule as DensitySchedule | undefined) ?? SYNFLOW_DEFAULTS.schedule),
  // one round: score the net restricted to the previous round's mask (the articulation layers are found once)
  score: (ctx: ScoreContext) => {
    const res = synflowScores(ctx.net, ctx.previous ?? undefined, {
      signal: numberOption(ctx.options.signal, 'signal'), articulation: ctx.memo.get(ARTICULATION) as Set<string> | undefined,
    });
    ctx.memo.set(ARTICULATION, res.articulation);
    ctx.memo.set(LOG_SCALE, res.logScale);
    return res.scores;
  },
});
