/**
 * Identity and same-dtype Cast for the wasm backend that share the input's buffer (refcounted, as
 * the cpu and webgl backends do) instead of copying it. TF.js tensors are immutable, and the
 * engine clones every tensor it saves for the backward pass, so the wasm copies cost ~5% of a
 * conv-net training step for nothing.
 */
import * as tf from '@tensorflow/tfjs';
import { originalKernel } from './registry';

interface RefBackend { incRef(dataId: object): void }

export function identityAlias(args: { inputs: { x: tf.TensorInfo }; backend: unknown }): tf.TensorInfo {
  const { inputs: { x }, backend } = args;
  (backend as RefBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export function castAlias(args: { inputs: { x: tf.TensorInfo }; backend: unknown; attrs: { dtype: tf.DataType } }): tf.TensorInfo {
  if (args.attrs.dtype === args.inputs.x.dtype) return identityAlias(args);
  const orig = originalKernel('Cast', 'wasm');
  if (!orig) throw new Error('prune-at-init: the wasm backend has no Cast kernel to convert dtypes with.');
  return orig.kernelFunc(args as any) as tf.TensorInfo;
}
