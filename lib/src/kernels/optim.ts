/**
 * One SGD-with-momentum update (PyTorch semantics: grad' = grad + weightDecay * value,
 * slot' = momentum * slot + grad', value' = value - lr * slot') as a single native kernel where
 * available: 1 kernel per parameter instead of 4 (6 with weight decay), which matters for deep MLPs
 * (100 parameters in the 50-layer FFNN) and BN-heavy convnets. The native kernel rounds each step
 * as the TF.js ops do, so both paths give the same floats. Falls back to TF.js ops on other backends
 * / without the addon. The caller assigns the results.
 */
import * as tf from '@tensorflow/tfjs';
import { SGD_MOMENTUM } from './native_kernels';

export function sgdMomentumUpdate(value: tf.Tensor, slot: tf.Tensor, grad: tf.Tensor, lr: number, momentum: number, weightDecay = 0): { value: tf.Tensor; slot: tf.Tensor } {
  if (value.size !== slot.size || value.size !== grad.size) {
    throw new Error(`sgdMomentumUpdate: value [${value.shape}], slot [${slot.shape}] and grad [${grad.shape}] must have the same size.`);
  }
  if (!(weightDecay >= 0)) throw new Error(`sgdMomentumUpdate: weightDecay must be >= 0, got ${weightDecay}.`);
  if (tf.getKernel(SGD_MOMENTUM, tf.getBackend()) && value.dtype === 'float32' && slot.dtype === 'float32' && grad.dtype === 'float32') {
    const [v, s] = tf.engine().runKernel(SGD_MOMENTUM, { value, slot, grad }, { lr, momentum, weightDecay }) as tf.Tensor[];
    return { value: v, slot: s };
  }
  return tf.tidy(() => {
    const g = weightDecay > 0 ? tf.add(grad, tf.mul(value, weightDecay)) : grad;
    const s = tf.add(tf.mul(slot, momentum), g);
    return { value: tf.sub(value, tf.mul(s, lr)), slot: s };
  });
}
