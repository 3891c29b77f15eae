/**
 * Gradients and Hessian-vector products of a loss with respect to a net's prunable kernels, for the
 * first- and second-order pruning scores (SNIP, GraSP).
 *
 * Why two HVPs: TF.js nested `tf.grads` is silently WRONG through ops whose gradient reuses their
 * saved output (tanh, sigmoid, exp, so also softmax cross-entropy; tfjs#3252). Measured on TF.js
 * 4.22 (wasm): nested grads match finite differences for relu/linear nets with an MSE loss, disagree
 * for tanh nets and for `tf.logSoftmax` cross-entropy, and throw for ELU. Hence:
 * - `hvpFiniteDifference` (works for every net): Hv ≈ (∇L(θ+εv) − ∇L(θ−εv)) / 2ε, ε = relStep·‖θ‖/‖v‖;
 * - `hvpExact` (nested tf.grads): only for losses built from twice-differentiable ops, e.g. relu or
 *   linear nets with `crossEntropy2` below (an exp whose gradient is recomputed from its input).
 */
import * as tf from '@tensorflow/tfjs';
import type { Net } from '../nn/net';
import { crossEntropy } from '../train';

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
    return ce(t === 1 ? logits : tf.div(logits, t), y);
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
  /** ε = relStep·‖θ‖/‖v‖ (default 1e-3: a perturbation of 0.1% of the weights' norm, a float32 compromise
   *  between truncation error O(ε²) and rounding error O(eps_f32/ε)). */
  relStep?: number;
}

/** Central finite-difference Hessian-vector product H v of `loss` at ws. Returns Hv and the ε used. */
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
 * result is silently wrong, so callers should cross-check (GraSP's 'exact' mode does).
 */
export function hvpExact(loss: LossFn, ws: tf.Tensor[], v: tf.Tensor[]): tf.Tensor[] {
  checkLists(ws, v);
  return tf.tidy(() => tf.grads((...a: tf.Tensor[]) => {
    const g = tf.grads((...b: tf.Tensor[]) => loss(b))(a);
    return tf.addN(g.map((gi, i) => tf.sum(tf.mul(gi, v[i])))) as tf.Scalar;
  })(ws));
}

function checkLists(ws: tf.Tensor[], v: tf.Tensor[]): void {
  if (ws.length !== v.length) throw new Error(`HVP: ${ws.length} weight tensors but ${v.length} vector tensors.`);
  ws.forEach((w, i) => {
    if (w.size !== v[i].size) throw new Error(`HVP: tensor ${i} has ${w.size} weights but the vector has ${v[i].size} entries.`);
  });
}
