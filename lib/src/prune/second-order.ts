/**
 * The gradient TF.js 4.22 lacks for second-order derivatives of conv nets: Conv2DBackpropFilter (the
 * weight gradient of a convolution) has none registered, so nested tf.grads through any conv layer
 * throws. dW = Σ x ⋆ dy is bilinear in (x, dy); for an upstream G of the filter's shape its gradient
 * is, w.r.t. x, the transposed convolution of dy with G, and w.r.t. dy, the convolution of x with G
 * (the mirror of tfjs-core's Conv2DBackpropInput gradient, gradients/Conv2DBackpropInput_grad.js).
 * Whether the result is right is not assumed: checkExactHvp verifies nested gradients on each net.
 */
import * as tf from '@tensorflow/tfjs';

let registered = false;

/** Register the Conv2DBackpropFilter gradient once (a no-op when TF.js already has one). */
export function registerSecondOrderGradients(): void {
  if (registered) return;
  registered = true;
  if (tf.getGradient('Conv2DBackpropFilter') !== undefined) return;
  tf.registerGradient({
    kernelName: 'Conv2DBackpropFilter',
    inputsToSave: ['x', 'dy'],
    gradFunc: (g, saved, attrs) => {
      const [x, dy] = saved as [tf.Tensor4D, tf.Tensor4D];
      const a = attrs as unknown as { strides: [number, number] | number; pad: 'valid' | 'same' | number; dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
      if (a.dataFormat !== undefined && a.dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter gradient: only NHWC, got ${a.dataFormat}.`);
      const G = (Array.isArray(g) ? g[0] : g) as tf.Tensor4D;
      return {
        x: () => tf.conv2dTranspose(dy, G, x.shape, a.strides, a.pad as 'valid' | 'same', a.dimRoundingMode),
        dy: () => tf.conv2d(x, G, a.strides, a.pad as 'valid' | 'same', 'NHWC', 1, a.dimRoundingMode),
      };
    },
  });
}

/**
 * Run `f` (a nested tf.grads computation) with a Tanh gradient that nested tf.grads can differentiate.
 * TF.js's Tanh gradient (and the kit's native one, kernels/gradients.ts) computes dy·(1 − y²) from the
 * saved OUTPUT y, which the tape records as a constant (tfjs#3252): the second derivative then misses
 * the tanh curvature term. This one saves the input x and recomputes tanh(x), so the tape sees the
 * whole dependence. The gradient registry is global, so the swap lasts only for `f` (forward and
 * backward passes of one call: the saved tensors follow the config in force at forward time).
 */
export function withSecondOrderGradients<T>(f: () => T): T {
  registerSecondOrderGradients();
  const original = tf.getGradient('Tanh');
  tf.registerGradient({
    kernelName: 'Tanh',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      const d = (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor;
      return { x: () => tf.mul(d, tf.sub(1, tf.square(tf.tanh(x)))) };
    },
  });
  try {
    return f();
  } finally {
    if (original) tf.registerGradient(original);
  }
}
