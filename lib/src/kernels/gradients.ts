/**
 * Leaner gradients for kernels whose TF.js gradient is slow on wasm/cpu:
 * - Sum, Mean: dy broadcast with Tile, instead of dy * ones(x.shape), a ones tensor TF.js builds in
 *   JS and uploads on every backward pass (~65 ms of a 550 ms WRN-16-2 step on wasm, from BatchNorm);
 * - Tanh: one native pass dy * (1 - y^2) instead of Square, Sub, Multiply (3 kernels per layer);
 * - the fused dense, batch-norm, MLP and softmax cross-entropy kernels (dense.ts, batchnorm.ts, mlp.ts,
 *   softmax_ce.ts), which have no TF.js gradient of their own.
 * Gradients are global in TF.js, so each checks at call time that the current backend runs our
 * native kernels and otherwise uses the original gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { registerBatchNormGradient } from './batchnorm';
import { registerDenseGradients } from './dense';
import { registerMlpGradient } from './mlp';
import { registerSoftmaxCrossEntropyGradient } from './softmax_ce';
import { ACT_GRAD } from './native_kernels';

let installed = false;

export function installFastGradients(nativeOn: (backendName: string) => boolean): void {
  if (installed) return;
  for (const kernelName of ['Sum', 'Mean'] as const) {
    const original = tf.getGradient(kernelName);
    if (!original) continue;
    tf.registerGradient({
      ...original,
      gradFunc: (dy, saved, attrs) => {
        const [x] = saved;
        const d = Array.isArray(dy) ? dy[0] : dy;
        if (!nativeOn(tf.getBackend()) || d.dtype !== 'float32') return original.gradFunc(dy, saved, attrs);
        const axes = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
        const expanded = x.shape.slice();
        for (const a of axes) expanded[a] = 1;
        const size = axes.reduce((p, a) => p * x.shape[a], 1);
        return {
          x: () => {
            const e = tf.reshape(d, expanded);
            return tf.broadcastTo(kernelName === 'Mean' ? tf.div(e, size) : e, x.shape);
          },
        };
      },
    });
  }
  const tanh = tf.getGradient('Tanh');
  if (tanh) {
    tf.registerGradient({
      ...tanh,
      gradFunc: (dy, saved, attrs) => {
        const [y] = saved;
        const d = Array.isArray(dy) ? dy[0] : dy;
        if (!nativeOn(tf.getBackend()) || d.dtype !== 'float32' || y.dtype !== 'float32') return tanh.gradFunc(dy, saved, attrs);
        return { x: () => tf.engine().runKernel(ACT_GRAD, { y, dy: d }, { activation: 'tanh' }) as tf.Tensor };
      },
    });
  }
  registerDenseGradients();
  registerMlpGradient();
  registerBatchNormGradient();
  registerSoftmaxCrossEntropyGradient();
  installed = true;
}
