/**
 * A stack of masked dense layers, act(... act(x @ (W0 ⊙ M0) + b0) ...) @ (W{L-1} ⊙ M{L-1}) + b{L-1},
 * as one op: one kernel forward and one backward (kernels/mlp_kernels.ts), bit-identical to the
 * per-layer ops (kernels/dense.ts) they replace. An FFNN's forward uses it when it can (models.ts);
 * gradients are first-order only, like the per-layer fused kernels'.
 */
import * as tf from '@tensorflow/tfjs';
import { maskedMatMul } from './dense';
import { DENSE_ACTIVATIONS } from './native_kernels';
import { forwardOperand, MLP, MLP_GRAD, MlpAttrs, operandAt } from './mlp_kernels';
import { identityAlias } from './wasm_alias';

export interface MlpLayer { w: tf.Tensor; mask?: tf.Tensor; bias?: tf.Tensor }

/** TF.js saves a kernel's outputs by index from a fixed list: this many layers at most take the one-kernel path. */
const MAX_LAYERS = 1024;

let enabled = true;

/** Turn the one-kernel path off (false) or on; returns the previous setting. For differential tests and the benchmark. */
export function setMlpFusion(on: boolean): boolean {
  const prev = enabled;
  enabled = on;
  return prev;
}

/** Does the current backend run these layers as one MLP kernel (all masked or none, all with bias or none, float32)? */
export function mlpFusable(layers: readonly MlpLayer[], activation: string): boolean {
  if (!enabled || !(activation in DENSE_ACTIVATIONS) || layers.length === 0 || layers.length > MAX_LAYERS) return false;
  const backend = tf.getBackend();
  if (!tf.getKernel(MLP, backend)) return false;
  // the hidden outputs are [1]-shaped handles (mlp_kernels.ts): the engine saves them through Identity, which must
  // share the buffer (cpu's does, wasm's own copies one float: kernels/wasm_alias.ts replaces it)
  if (backend === 'wasm' && tf.getKernel('Identity', backend)?.kernelFunc !== (identityAlias as unknown)) return false;
  const masked = !!layers[0].mask, bias = !!layers[0].bias;
  return layers.every((l) => !!l.mask === masked && !!l.bias === bias && [l.w, l.mask, l.bias].every((t) => !t || t.dtype === 'float32'));
}

/** The last layer's output (linear); hidden layers use `activation`. Check mlpFusable first. */
export function maskedMlp(x: tf.Tensor2D, layers: readonly MlpLayer[], activation: string): tf.Tensor2D {
  if (!mlpFusable(layers, activation)) throw new Error('maskedMlp: these layers cannot run as one kernel on this backend (check mlpFusable first).');
  const attrs: MlpAttrs = { layers: layers.length, activation, masked: !!layers[0].mask, bias: !!layers[0].bias };
  const inputs: tf.Tensor[] = [x];
  for (const l of layers) inputs.push(...[l.w, l.mask, l.bias].filter((t): t is tf.Tensor => !!t));
  const outs = tf.engine().runKernel(MLP, inputs as unknown as tf.NamedTensorMap, attrs as never) as unknown as tf.Tensor[];
  // the hidden outputs are returned for the backward pass (saved by the engine); the caller needs the last only
  for (let i = 0; i < outs.length - 1; i++) outs[i].dispose();
  return outs[outs.length - 1] as tf.Tensor2D;
}

let registered = false;

/** Register the MLP kernel's gradient (once; it only runs where the kernel did). */
export function registerMlpGradient(): void {
  if (registered) return;
  tf.registerGradient({
    kernelName: MLP,
    saveAllInputs: true, // [x, w0, m0, b0, w1, ...] as maskedMlp gives them
    outputsToSave: new Array(MAX_LAYERS).fill(true),
    gradFunc: (dy, saved, attrs) => {
      const a = attrs as unknown as MlpAttrs;
      const L = a.layers;
      // the hidden outputs' gradients are the engine's zeros: maskedMlp disposed those outputs, nothing used them
      const dys = (Array.isArray(dy) ? dy : [dy]) as tf.Tensor[];
      const nIn = operandAt(a, L).w; // the forward's inputs; its outputs follow
      const x = saved[0];
      const w = (i: number) => forwardOperand(saved, a, i).w;
      const m = (i: number) => forwardOperand(saved, a, i).mask;
      const h = (i: number) => saved[nIn + i];
      const d = dys[L - 1];
      const inputs: tf.NamedTensorMap = { dy: d, x };
      for (let i = 0; i < L; i++) {
        inputs[`w${i}`] = w(i);
        if (a.masked) inputs[`m${i}`] = m(i)!;
        inputs[`h${i}`] = h(i);
      }
      const g = tf.engine().runKernel(MLP_GRAD, inputs, attrs as never) as unknown as tf.Tensor[];
      const dW = g.slice(0, L), db = a.bias ? g.slice(L, 2 * L) : [], dz0 = L > 1 ? g[g.length - 1] : d;
      // TF.js asks only for the inputs that need a gradient: the weights and biases, rarely x or the masks
      // (keys: positions in the forward's input array)
      const grads: Record<string, () => tf.Tensor> = { 0: () => maskedMatMul(dz0, w(0), { bMask: m(0), transposeB: true }) };
      for (let i = 0; i < L; i++) {
        const at = operandAt(a, i);
        grads[at.w] = () => dW[i];
        if (at.mask >= 0) {
          grads[at.mask] = () => {
            if (i === 0) return maskedMatMul(x, dz0, { cMult: w(0), transposeA: true });
            throw new Error('maskedMlp: gradients with respect to the masks of layers after the first are not available; run the net with fusedKernels: false.');
          };
        }
        if (at.bias >= 0) grads[at.bias] = () => db[i];
      }
      return grads;
    },
  });
  registered = true;
}

