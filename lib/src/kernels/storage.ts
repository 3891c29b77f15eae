/**
 * Where the wasm and cpu backends keep a tensor's data, for kernels that read and write it in place:
 * the native kernels (operands handed to the addon as buffer + float offset) and the TypeScript ones
 * (typed views). Both make their float32 outputs here.
 */
import * as tf from '@tensorflow/tfjs';

export type Buf = ArrayBuffer | Float32Array;
type Info = tf.TensorInfo;

export interface Access {
  /** A new float32 output. */
  output(backend: any, shape: number[]): Info;
  /** A float32 operand as (buffer, offset in floats); locate operands after every output exists. */
  operand(backend: any, t: Info): [Buf, number];
  /** A typed view of a float32 or int32 tensor's data; like operand, valid until the next allocation. */
  view(backend: any, t: Info): Float32Array | Int32Array;
}

// The wasm heap's ArrayBuffer is replaced when its memory grows, so it is read at call time, after
// makeOutput (which may grow it).
const heapOffset = (backend: any, t: Info) => backend.dataIdMap.get(t.dataId).memoryOffset as number;

export const wasmAccess: Access = {
  output: (backend, shape) => backend.makeOutput(shape, 'float32'),
  operand: (backend, t) => [backend.wasm.HEAPU8.buffer as ArrayBuffer, heapOffset(backend, t) / 4],
  view: (backend, t) => {
    const Type = t.dtype === 'int32' ? Int32Array : Float32Array;
    return new Type(backend.wasm.HEAPU8.buffer, heapOffset(backend, t), tf.util.sizeFromShape(t.shape));
  },
};

export const cpuAccess: Access = {
  output: (backend, shape) => backend.makeTensorInfo(shape, 'float32', new Float32Array(tf.util.sizeFromShape(shape))),
  operand: (backend, t) => {
    const v = backend.data.get(t.dataId).values;
    if (!(v instanceof Float32Array)) throw new Error(`prune-at-init native kernels: expected float32 data, got ${t.dtype}.`);
    return [v, 0];
  },
  view: (backend, t) => backend.data.get(t.dataId).values as Float32Array | Int32Array,
};

export const accessFor = (backendName: 'wasm' | 'cpu'): Access => (backendName === 'wasm' ? wasmAccess : cpuAccess);
