/**
 * Gradients and Hessian-vector products of a loss with respect to a net's prunable kernels, for the
 * first- and second-order pruning scores (SNIP, GraSP).
 *
 * Two HVPs, neither trusted blindly:
 * - `hvpExact` (nested tf.grads): exact where every op's gradient can itself be differentiated.
 *   TF.js 4.22 alone (wasm and cpu, measured against a float64 Hessian in test/prune-hvp.test.ts)
 *   gets relu and linear dense nets right; through tanh the nested gradient is silently wrong
 *   (relative error ~0.7-0.9; tfjs#3252: a gradient computed from the op's saved output is not
 *   differentiated through that output), with the native kernels it throws, and conv layers throw
 *   (Conv2DBackpropFilter has no gradient). second-order.ts supplies both missing pieces for the
 *   duration of each call; max-pooling (MaxPoolGrad) and ELU still throw. `checkExactHvp` verifies
 *   the result on the actual net before anyone uses it.
 * - `hvpFiniteDifference`: one central difference (∇L(θ+εv) − ∇L(θ−εv)) / 2ε. A fixed step is not
 *   safe: on ReLU nets it crosses activation kinks (LeNet-300-100, relative step 1e-3: error > 100 %),
 *   deep chaotic tanh nets need steps where float32 rounding dominates, and too small a step drowns
 *   in rounding. `hvpConverged` walks down a ladder of steps and accepts an estimate only when two
 *   successive steps agree within a tolerance; a kink crossed at a step makes that step's estimate
 *   jump (the gradient jump divided by 2ε), so it cannot agree with its neighbour by accident, and
 *   when no pair agrees it throws instead of returning a guess.
 */
import * as tf from '@tensorflow/tfjs';
import type { Net } from '../nn/net';
import { crossEntropy } from '../train';
import { Rng } from '../rng';
import { withSecondOrderGradients } from './second-order';

/** A scalar loss as a function of a list of tensors (the prunable kernels, in `net.prunable` order). */
export type LossFn = (ws: tf.Tensor[]) => tf.Scalar;

/** exp with a gradient recomputed from the input, so nested tf.grads can differentiate it again. */
const expTwice = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = args[0] as tf.Tensor, save = args[1] as tf.GradSaveFunc;
  save([x]);
  return { value: tf.exp(x), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, tf.exp(saved[0])) };
});

/**
 * Mean softmax cross-entropy of logits [N, C] against int labels [N], differentiable twice by nested
 * tf.grads (same value as `crossEntropy` in train.ts). The max-shift for stability is a constant read
 * from the logits, so no gradient flows through it (the log-sum-exp value does not depend on it).
 */
export function crossEntropy2(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  const c = logits.shape[logits.rank - 1];
  const data = logits.dataSync() as Float32Array;
  let mx = -Infinity;
  for (let i = 0; i < data.length; i++) if (data[i] > mx) mx = data[i];
  const m = tf.scalar(Number.isFinite(mx) ? mx : 0);
  const z = tf.sub(logits, m);
  const lse = tf.log(tf.sum(expTwice(z), -1));
  const picked = tf.sum(tf.mul(tf.oneHot(labels.toInt(), c), z), -1);
  return tf.mean(tf.sub(lse, picked)) as tf.Scalar;
}

export interface KernelObjectiveOptions {
  /** BatchNorm mode of the forward pass: 'eval' (running statistics, default) or 'train' (batch statistics, no running-stat update). */
  bnMode?: 'eval' | 'train';
  /** Logits are divided by this before the loss (GraSP's T; default 1). */
  temperature?: number;
  /** Use `crossEntropy2` (needed for `hvpExact`); default false uses the standard log-softmax CE. */
  twiceDifferentiable?: boolean;
}

/**
 * The mean cross-entropy on (x, y) as a function of the prunable kernels. `weights` are the
 * EFFECTIVE kernels W ⊙ M (owned by the objective: call dispose), so gradients are with respect to
 * the weights the net actually uses; the forward runs with these as overrides and masking off.
 */
export interface KernelObjective { names: string[]; weights: tf.Tensor[]; loss: LossFn; dispose(): void }

export function kernelObjective(net: Net, x: tf.Tensor, y: tf.Tensor, o: KernelObjectiveOptions = {}): KernelObjective {
  const bnMode = o.bnMode ?? 'eval';
  if (bnMode !== 'eval' && bnMode !== 'train') throw new Error(`bnMode must be 'eval' or 'train', got '${bnMode as string}'.`);
  const t = o.temperature ?? 1;
  if (!(t > 0) || !Number.isFinite(t)) throw new Error(`temperature must be a positive number, got ${t}.`);
  const names = net.prunable.map((p) => p.name);
  const eff = net.effectiveWeights();
  const weights = names.map((n) => tf.tensor(eff.get(n)!, net.paramInfo(n).shape, 'float32'));
  const ce = o.twiceDifferentiable ? crossEntropy2 : crossEntropy;
  const loss: LossFn = (ws) => {
    const logits = net.forward(x, {
      training: bnMode === 'train', overrides: new Map(names.map((n, i) => [n, ws[i]])), applyMask: false,
      // the fused kernels' gradients cannot be differentiated again
      fusedKernels: !o.twiceDifferentiable,
    });
    // training-mode BN queues running-stat updates: scoring must not change the net
    if (bnMode === 'train') net.commitBatchNorm(false);
    // an explicit temperature always divides (exact for T = 1), so checkExactHvp sees the same ops
    return ce(o.temperature === undefined ? logits : tf.div(logits, t), y);
  };
  return { names, weights, loss, dispose: () => weights.forEach((w) => w.dispose()) };
}

/** ∇L at ws (new tensors; the caller disposes them). */
export function gradient(loss: LossFn, ws: tf.Tensor[]): tf.Tensor[] {
  return tf.tidy(() => tf.grads((...a: tf.Tensor[]) => loss(a))(ws));
}

function sqNorm(ts: tf.Tensor[]): number {
  return tf.tidy(() => ts.reduce((acc, t) => acc + (tf.sum(tf.square(t)).dataSync()[0]), 0));
}

export interface FdHvpOptions {
  /** ε = relStep·‖θ‖/‖v‖ (default 1e-3). One step is not checked: prefer `hvpConverged`. */
  relStep?: number;
}

/** One central finite difference H v ≈ (∇L(θ+εv) − ∇L(θ−εv)) / 2ε at ws. Returns Hv and the ε used. */
export function hvpFiniteDifference(loss: LossFn, ws: tf.Tensor[], v: tf.Tensor[], o: FdHvpOptions = {}): { hv: tf.Tensor[]; eps: number } {
  checkLists(ws, v);
  const rel = o.relStep ?? 1e-3;
  if (!(rel > 0) || !Number.isFinite(rel)) throw new Error(`relStep must be a positive number, got ${rel}.`);
  const nv = Math.sqrt(sqNorm(v)), nw = Math.sqrt(sqNorm(ws));
  if (nv === 0) return { hv: ws.map((w) => tf.zerosLike(w)), eps: 0 };
  // a zero θ (e.g. a fully pruned net) has no scale: fall back to a unit-norm step
  const eps = rel * (nw > 0 ? nw : 1) / nv;
  const hv = tf.tidy(() => {
    const gp = gradient(loss, ws.map((w, i) => tf.add(w, tf.mul(v[i], eps))));
    const gm = gradient(loss, ws.map((w, i) => tf.sub(w, tf.mul(v[i], eps))));
    return gp.map((g, i) => tf.div(tf.sub(g, gm[i]), 2 * eps));
  });
  return { hv, eps };
}

/**
 * Exact H v by nested tf.grads: ∇(∇L · v). Correct only when every op on the path from ws to the
 * loss has a gradient that nested tf.grads can differentiate (see the module comment); otherwise the
 * result is silently wrong: verify it with `checkExactHvp` before use.
 */
export function hvpExact(loss: LossFn, ws: tf.Tensor[], v: tf.Tensor[]): tf.Tensor[] {
  checkLists(ws, v);
  try {
    return withSecondOrderGradients(() => tf.tidy(() => tf.grads((...a: tf.Tensor[]) => {
      const g = tf.grads((...b: tf.Tensor[]) => loss(b))(a);
      return tf.addN(g.map((gi, i) => tf.sum(tf.mul(gi, v[i])))) as tf.Scalar;
    })(ws)));
  } catch (e) {
    releaseFailedTape();
    throw e;
  }
}

function checkLists(ws: tf.Tensor[], v: tf.Tensor[]): void {
  if (ws.length !== v.length) throw new Error(`HVP: ${ws.length} weight tensors but ${v.length} vector tensors.`);
  ws.forEach((w, i) => {
    if (w.size !== v[i].size) throw new Error(`HVP: tensor ${i} has ${w.size} weights but the vector has ${v[i].size} entries.`);
  });
}

/** An HVP that could not be computed to the requested accuracy (the message says why and what to do). */
export class HvpUntrustedError extends Error {
  constructor(message: string) { super(message); this.name = 'HvpUntrustedError'; }
}

/**
 * ‖a − b‖₂ / ‖b‖₂ over all entries (0 when both are zero, Infinity when only b is). The 2-norm, not
 * the max: float32 rounding of a finite difference is spread over all entries, and the max over a
 * quarter of a million entries picks its worst case.
 */
export function relDiff(a: tf.Tensor[], b: tf.Tensor[]): number {
  return tf.tidy(() => {
    let num = 0, den = 0;
    a.forEach((t, i) => {
      num += tf.sum(tf.square(tf.sub(t, b[i]))).dataSync()[0];
      den += tf.sum(tf.square(b[i])).dataSync()[0];
    });
    if (!Number.isFinite(num) || Number.isNaN(den)) return Infinity;
    return den > 0 ? Math.sqrt(num / den) : num === 0 ? 0 : Infinity;
  });
}

function allFinite(ts: tf.Tensor[]): boolean {
  return tf.tidy(() => ts.every((t) => tf.all(tf.isFinite(t)).dataSync()[0] === 1));
}

/**
 * Default ladder of relative steps for `hvpConverged`: 1e-2 down to 6e-7 by factors of 4. The top is
 * large enough for O(ε²) truncation to show, the bottom is where float32 rounding (~1e-7/ε relative)
 * takes over.
 */
export const FD_REL_STEPS: readonly number[] = Array.from({ length: 8 }, (_, k) => 1e-2 / 4 ** k);
/** Default agreement tolerance of successive finite-difference estimates (relative 2-norm, `relDiff`). */
export const FD_TOL = 3e-3;

export interface ConvergedFdOptions {
  /** Successive estimates must agree to ‖a−b‖₂/‖b‖₂ ≤ tol (default FD_TOL = 3e-3). */
  tol?: number;
  /** Relative steps to try, strictly decreasing (default FD_REL_STEPS). */
  relSteps?: readonly number[];
}

export interface ConvergedHvp {
  hv: tf.Tensor[];
  /** ε and relative step of the accepted (smaller) step of the agreeing pair. */
  eps: number;
  relStep: number;
  /** Relative difference between the agreeing pair (an error estimate for hv: about diff/15 from truncation). */
  diff: number;
  /** Every step tried, with its difference to the previous one (null for the first or after a non-finite estimate). */
  ladder: Array<{ relStep: number; diff: number | null }>;
}

/**
 * Central finite-difference H v with the step chosen by a convergence check: walk down `relSteps`,
 * and accept the first estimate that agrees with the previous step's within `tol`. For a smooth loss
 * the difference between steps ε and ε/4 is (15/16)·c·ε², so the accepted estimate's truncation error
 * is about diff/15. Throws HvpUntrustedError when no two successive steps agree.
 */
export function hvpConverged(loss: LossFn, ws: tf.Tensor[], v: tf.Tensor[], o: ConvergedFdOptions = {}): ConvergedHvp {
  const tol = o.tol ?? FD_TOL;
  if (!(tol > 0 && tol < 1)) throw new Error(`HVP tolerance tol must be in (0, 1), got ${tol}.`);
  const steps = o.relSteps ?? FD_REL_STEPS;
  if (steps.length < 2 || steps.some((s, i) => !(s > 0) || !Number.isFinite(s) || (i > 0 && !(s < steps[i - 1])))) {
    throw new Error(`relSteps must hold at least two positive, strictly decreasing steps, got [${steps.join(', ')}].`);
  }
  const ladder: ConvergedHvp['ladder'] = [];
  let prev: tf.Tensor[] | null = null;
  try {
    for (const relStep of steps) {
      const { hv, eps } = hvpFiniteDifference(loss, ws, v, { relStep });
      if (eps === 0) return { hv, eps, relStep, diff: 0, ladder }; // v = 0: Hv = 0 exactly
      const finite = allFinite(hv);
      const diff = prev && finite ? relDiff(prev, hv) : null;
      ladder.push({ relStep, diff });
      if (prev) tf.dispose(prev);
      prev = finite ? hv : null;
      if (!finite) tf.dispose(hv);
      if (diff !== null && diff <= tol) {
        const out = prev!;
        prev = null;
        return { hv: out, eps, relStep, diff, ladder };
      }
    }
  } finally {
    if (prev) tf.dispose(prev);
  }
  const seen = ladder.map((l) => `${l.relStep.toPrecision(2)}: ${l.diff === null ? '-' : l.diff.toPrecision(2)}`).join(', ');
  throw new HvpUntrustedError(`the finite-difference Hessian-vector product did not converge: no two successive steps agree within ` +
    `tol ${tol} (relative step: difference to the previous estimate = ${seen}). Every step either crosses activation kinks ` +
    '(ReLU, max-pool) or is swamped by float32 rounding.');
}

export interface ExactHvpCheck {
  /** The nested-gradient HVP matched a converged finite difference on the sub-batch. */
  trusted: boolean;
  /** Why not (or what was compared). */
  detail: string;
  /** Relative difference (`relDiff`) exact vs converged finite difference (when both were computed). */
  relDiff?: number;
  /** Examples of the sub-batch the check ran on. */
  examples: number;
  /**
   * Direction of the check: 'all' kernels, or only the 'output' kernel (the fallback when activation
   * kinks stop every finite difference along all kernels; see checkExactHvp).
   */
  direction?: 'all' | 'output';
}

/**
 * Default tolerance of `checkExactHvp`: its finite difference must converge to 1e-2 and the exact HVP
 * agree with it to 5·1e-2. Looser than FD_TOL because on a ReLU net no step above ~1e-4 is free of
 * kinks and float32 rounding leaves ~0.5 % below that; the check only has to tell a right nested
 * gradient (error ~1e-7 on relu nets) from a wrong one (~0.7-0.9 through tanh).
 */
export const EXACT_CHECK_TOL = 1e-2;

export interface ExactCheckOptions extends Omit<KernelObjectiveOptions, 'twiceDifferentiable' | 'temperature'> {
  /** Finite-difference convergence tolerance of the check (default EXACT_CHECK_TOL); exact must agree within 5·tol. */
  tol?: number;
  relSteps?: readonly number[];
  /** Sub-batch sizes to try, first to last (default [2, 1]). */
  examples?: number[];
}

/**
 * Does nested tf.grads compute this net's HVP right? Whether it does is a property of the ops on the
 * path (see the module comment), not of the data or the direction, so it is checked where a finite
 * difference can converge: on a sub-batch of the first few examples (few activation kinks) and along
 * a seeded random direction scaled like each kernel's weights (each weight moves by about the same
 * relative step; along the gradient the step concentrates on a few weights and meets a kink within
 * a relative step of 1e-5 on LeNet-300-100 even for one example). The exact HVP must match the
 * converged finite difference within 5·tol (EXACT_CHECK_TOL says why tol is 1e-2). Fewer examples are tried when the finite
 * difference does not converge; when it never does, the check fails (untrusted, detail says why).
 * The check runs at temperature 1 (the logits are still divided, so the ops are the same): a high T
 * shrinks the smooth curvature (∝ 1/T²) relative to the gradient jumps at kinks (∝ 1/T), and at
 * GraSP's T = 200 a finite difference on a ReLU net does not converge even on one example.
 */
export function checkExactHvp(net: Net, x: tf.Tensor, y: tf.Tensor, o: ExactCheckOptions = {}): ExactHvpCheck {
  const tol = o.tol ?? EXACT_CHECK_TOL;
  const sizes = o.examples ?? [2, 1];
  if (sizes.length === 0 || sizes.some((m) => !Number.isInteger(m) || m < 1)) throw new Error(`examples must list positive integers, got [${sizes.join(', ')}].`);
  const n = x.shape[0];
  const tried = [...new Set(sizes.map((m) => Math.min(m, n)))];
  let last: ExactHvpCheck = { trusted: false, detail: 'no sub-batch tried', examples: 0 };
  for (const size of tried) {
    last = checkOn(net, x, y, size, 'all', tol, o);
    // only an unconverged finite difference is worth another (smaller) sub-batch
    if (!last.detail.startsWith('could not verify')) return last;
  }
  // Activation kinks (ReLU, many units per example in conv nets) stopped every finite difference.
  // Moving only the output kernel moves no pre-activation of any hidden unit, so no kink is crossed
  // and the finite difference converges; the comparison then covers the second derivatives of the
  // whole backward pass with respect to the backpropagated signal, but not the curvature terms of
  // activations (zero for ReLU), which the 'all' direction checks where it can.
  const fallback = checkOn(net, x, y, tried[tried.length - 1], 'output', tol, o);
  return fallback.trusted || !fallback.detail.startsWith('could not verify')
    ? { ...fallback, detail: `${fallback.detail} (along all kernels: ${last.detail})` } : last;
}

function checkOn(net: Net, x: tf.Tensor, y: tf.Tensor, size: number, direction: 'all' | 'output', tol: number, o: ExactCheckOptions): ExactHvpCheck {
  const xs = x.slice(0, size), ys = y.slice(0, size);
  const obj = kernelObjective(net, xs, ys, { bnMode: o.bnMode, temperature: 1, twiceDifferentiable: true });
  const held: tf.Tensor[] = [xs, ys];
  try {
    const rng = new Rng(0, 'checkExactHvp');
    const last = obj.weights.length - 1;
    const v = obj.weights.map((w, i) => tf.tidy(() => {
      if (direction === 'output' && i !== last) return tf.zerosLike(w);
      const rms = Math.sqrt(tf.mean(tf.square(w)).dataSync()[0]);
      return tf.tensor(rng.fork(String(i)).normalArray(w.size, rms > 0 ? rms : 1), w.shape);
    }));
    held.push(...v);
    const r = compareExactWithFd(obj.loss, obj.weights, v, { tol, relSteps: o.relSteps });
    const along = direction === 'all' ? 'a random direction in all kernels' : `a random direction in the output kernel ${obj.names[last]} only`;
    return { ...r, detail: `${r.detail}, on ${size} example(s) along ${along}`, examples: size, direction };
  } finally {
    tf.dispose(held);
    obj.dispose();
  }
}

/**
 * Nested tf.grads H v against the converged finite difference of the same loss: trusted when they
 * agree within 5·tol (tol default EXACT_CHECK_TOL). `examples` is left 0 (the caller knows the batch).
 */
export function compareExactWithFd(loss: LossFn, ws: tf.Tensor[], v: tf.Tensor[], o: { tol?: number; relSteps?: readonly number[] } = {}): ExactHvpCheck {
  const tol = o.tol ?? EXACT_CHECK_TOL;
  const held: tf.Tensor[] = [];
  try {
    try {
      held.push(...hvpExact(loss, ws, v));
    } catch (e) {
      // e.g. a gradient kernel with no gradient of its own (the native activation gradients)
      return { trusted: false, detail: `nested tf.grads failed: ${(e as Error).message}`, examples: 0 };
    }
    let fd: ConvergedHvp;
    try {
      fd = hvpConverged(loss, ws, v, { tol, relSteps: o.relSteps });
    } catch (e) {
      if (!(e instanceof HvpUntrustedError)) throw e;
      return { trusted: false, detail: `could not verify nested tf.grads: ${e.message}`, examples: 0 };
    }
    held.push(...fd.hv);
    const d = relDiff(held.slice(0, ws.length), fd.hv);
    const trusted = d <= 5 * tol;
    return {
      trusted, relDiff: d, examples: 0,
      detail: `nested tf.grads vs converged finite difference (relative step ${fd.relStep.toPrecision(2)}): ` +
        `relative difference ${d.toPrecision(3)} (limit ${5 * tol})` +
        (trusted ? '' : '; TF.js does not differentiate some op of this loss twice correctly (tfjs#3252: tanh, sigmoid, exp)'),
    };
  } finally {
    tf.dispose(held);
  }
}

/**
 * After tf.grads threw during backpropagation, TF.js 4.22 skips its tape clean-up (engine.js,
 * `gradients`: the saved tensors are disposed and the tape dropped only on success), leaking every
 * tensor saved for the backward pass. Do that clean-up here.
 */
function releaseFailedTape(): void {
  const state = (tf.engine() as unknown as { state: { gradientDepth: number; activeTape: Array<{ saved?: tf.Tensor[] }> | null } }).state;
  if (state.gradientDepth !== 0 || !state.activeTape) return;
  for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
  state.activeTape = null;
}
