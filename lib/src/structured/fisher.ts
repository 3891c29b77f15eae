/**
 * Fisher channel saliency (Theis et al. 2018, arXiv 1801.05787, as in the Crowley et al. code, github.com/BayesWatch/pytorch-prunes). For the masked
 * post-BN2-ReLU interior activation a and g = ∂L/∂a, with L the BATCH-MEAN cross-entropy:
 *   s_{n,c} = Σ_hw a·g,   Δ_c = ½ · mean_n s_{n,c}²,
 * accumulated over the fine-tuning steps of one round and divided by their number. TF.js has no
 * backward hooks, so s comes from per-example gates of ones [N,1,1,C] multiplied into a: ∂L/∂gate at
 * gate = 1 is exactly s, obtained from the training step's own backward pass (Trainer StepHooks.gates).
 * Raw Δ_c are compared across blocks (authors); dividing by a channel's parameter or MAC cost is an
 * option. Removed channels have a = 0, hence s = 0; the pruning loop never selects them anyway.
 */
import * as tf from '@tensorflow/tfjs';
import type { Net, UnitGroup } from '../nn/net';
import { crossEntropy, StepHooks } from '../train';

/** Divide each channel's score by nothing (authors), its parameter cost, or its MAC cost. */
export type CostNormalisation = 'none' | 'params' | 'macs';

function groupOf(net: Net, group: string): UnitGroup {
  const g = net.unitGroups.find((u) => u.name === group);
  if (!g) throw new Error(`Unknown unit group '${group}'. Known: ${net.unitGroups.map((u) => u.name).join(', ')}.`);
  return g;
}

/**
 * What one interior channel costs: its conv1 output filter, its conv2 input slice and its two BN2
 * affine entries (params); the MACs of the two kernel slices per example.
 */
export function channelCost(net: Net, group: string): { params: number; macs: number } {
  const g = groupOf(net, group);
  const prod = net.paramInfo(g.producer), cons = net.paramInfo(g.consumer);
  const pSlice = prod.size / g.size, cSlice = cons.size / g.size;
  const bnPrefix = g.name.replace(/\/mid$/, '') + '/bn2/';
  const bn = net.info.filter((p) => p.name.startsWith(bnPrefix) && p.size === g.size).length;
  return { params: pSlice + cSlice + bn, macs: pSlice * prod.macsPerWeight + cSlice * cons.macsPerWeight };
}

/** Divide scores by the per-channel cost ('none' returns copies). */
export function normaliseScores(net: Net, scores: Map<string, Float32Array>, how: CostNormalisation = 'none'): Map<string, Float32Array> {
  if (!['none', 'params', 'macs'].includes(how)) throw new Error(`Unknown cost normalisation '${how}': use 'none' (authors), 'params' or 'macs'.`);
  const out = new Map<string, Float32Array>();
  for (const [g, s] of scores) {
    const c = how === 'none' ? 1 : channelCost(net, g)[how];
    out.set(g, Float32Array.from(s, (v) => v / c));
  }
  return out;
}

let gateId = 0;

/** A variable from a fresh tensor, disposing the tensor (tf.variable copies and leaves it alive). */
function variableFrom(t: tf.Tensor, trainable: boolean, name?: string): tf.Variable {
  const v = tf.variable(t, trainable, name);
  t.dispose();
  return v;
}

/**
 * Accumulates Δ_c over training steps without a second backward pass: `hooks(n)` hands the Trainer
 * gates of ones for a batch of n, and adds ½·mean_n s² from their gradients to running sums (kept on
 * the backend, no sync per step). `scores()` = running sums / steps; `reset()` after each prune.
 */
export class FisherAccumulator {
  private readonly sums = new Map<string, tf.Variable>();
  private readonly gates = new Map<number, Map<string, tf.Variable>>();
  private nSteps = 0;

  constructor(readonly net: Net) {
    if (net.unitGroups.length === 0) throw new Error(`FisherAccumulator: ${net.name} has no unit groups (prunable channels).`);
    for (const g of net.unitGroups) this.sums.set(g.name, variableFrom(tf.zeros([g.size]), false));
  }

  /** Steps accumulated since the last reset. */
  get steps(): number { return this.nSteps; }

  /** Step hooks for a batch of n examples (pass to Trainer.step). */
  hooks(n: number): StepHooks {
    if (!Number.isInteger(n) || n < 1) throw new Error(`FisherAccumulator.hooks: batch size must be a positive integer, got ${n}.`);
    let gates = this.gates.get(n);
    if (!gates) {
      // trainable so tf.variableGrads differentiates them; the Trainer never updates them
      gates = new Map(this.net.unitGroups.map((g) => [g.name, variableFrom(tf.ones([n, 1, 1, g.size]), true, `fisher_gate_${g.name.replace(/\W/g, '_')}_${n}_${++gateId}`)]));
      this.gates.set(n, gates);
    }
    return {
      gates,
      onGateGradients: (grads) => {
        for (const [name, s] of grads) {
          const acc = this.sums.get(name)!;
          const c = s.shape[s.rank - 1];
          acc.assign(tf.add(acc, tf.mul(tf.mean(tf.square(tf.reshape(s, [-1, c])), 0), 0.5)));
        }
        this.nSteps++;
      },
    };
  }

  /** Mean Δ_c per unit group over the accumulated steps. */
  scores(): Map<string, Float32Array> {
    if (this.nSteps === 0) throw new Error('FisherAccumulator.scores: no steps accumulated since the last reset; run at least one training step with its hooks.');
    const out = new Map<string, Float32Array>();
    for (const [g, v] of this.sums) out.set(g, Float32Array.from(v.dataSync(), (x) => x / this.nSteps));
    return out;
  }

  reset(): void {
    for (const v of this.sums.values()) tf.tidy(() => v.assign(tf.zerosLike(v)));
    this.nSteps = 0;
  }

  dispose(): void {
    for (const v of this.sums.values()) v.dispose();
    for (const m of this.gates.values()) for (const v of m.values()) v.dispose();
    this.sums.clear();
    this.gates.clear();
  }
}

/**
 * Δ_c for a single batch without updating anything (e.g. to score a trained base net). Training-mode
 * BN (batch statistics, as during fine-tuning) by default; running-stat updates are dropped.
 */
export function fisherChannelScores(net: Net, x: tf.Tensor, y: tf.Tensor, opts: { training?: boolean } = {}): Map<string, Float32Array> {
  const groups = net.unitGroups;
  if (groups.length === 0) throw new Error(`fisherChannelScores: ${net.name} has no unit groups (prunable channels).`);
  const n = x.shape[0];
  const out = new Map<string, Float32Array>();
  tf.tidy(() => {
    const ones = groups.map((g) => tf.ones([n, 1, 1, g.size]));
    const grads = tf.grads((...gs: tf.Tensor[]) => crossEntropy(net.forward(x, { training: opts.training ?? true, gates: new Map(groups.map((g, i) => [g.name, gs[i]])) }), y))(ones);
    groups.forEach((g, i) => out.set(g.name, tf.mul(tf.mean(tf.square(tf.reshape(grads[i], [n, g.size])), 0), 0.5).dataSync() as Float32Array));
  });
  net.commitBatchNorm(false);
  return out;
}
