/**
 * Mean softmax cross-entropy of logits [N, C] against int32 labels [N] as one op: one kernel forward
 * and one backward, instead of the ~13 kernels forward and ~15 backward of its composition in
 * train.ts (oneHot, tf.logSoftmax's max / sub / exp / sum / log / sub and its custom gradient, mul,
 * sum, mean, neg; then argMax, equal and sum for the accuracy). On LeNet-300-100 that composition
 * was about a tenth of a training step, nearly all of it TF.js's bookkeeping around tiny tensors.
 *
 * Same bits as the composition: the reductions and the transcendental functions (Max, Exp, Sum, Log,
 * Mean) are the backend's own registered kernels, called directly with the composition's operands and
 * attributes; what runs here in TypeScript are the elementwise +, -, x, / of float32 operands, each
 * rounded with Math.fround, which is exactly float32 arithmetic (a double result of one such operation
 * rounds to the float32 result; test/softmax-ce.test.ts compares the two bit for bit).
 *
 * The forward also counts the rows whose first largest logit is the label (tf.argMax's choice), so a
 * training step needs no separate accuracy kernels. Only the loss carries a gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { AnyKernelFunc, callKernel } from './registry';
import { accessFor } from './storage';

type Info = tf.TensorInfo;

export const SOFTMAX_CE = 'PruneAtInitSoftmaxCrossEntropy';
export const SOFTMAX_CE_GRAD = 'PruneAtInitSoftmaxCrossEntropyGrad';

/** The storage of one kernel call: typed views (read after each kernel call, which may grow the wasm heap), outputs, disposal. */
function storage(backendName: 'wasm' | 'cpu', backend: any) {
  const acc = accessFor(backendName);
  return {
    output: (shape: number[]) => acc.output(backend, shape),
    f32: (t: Info) => acc.view(backend, t) as Float32Array,
    i32: (t: Info) => acc.view(backend, t) as Int32Array,
    dispose: (t: Info) => backend.disposeData(t.dataId),
  };
}

function checkOperands(kernel: string, logits: Info, labels: Info): [number, number] {
  if (logits.shape.length !== 2 || logits.dtype !== 'float32') {
    throw new Error(`${kernel}: logits must be a float32 matrix [N, C], got [${logits.shape}] ${logits.dtype}.`);
  }
  const [n, c] = logits.shape;
  if (labels.dtype !== 'int32' || labels.shape.length !== 1 || labels.shape[0] !== n) {
    throw new Error(`${kernel}: labels must be int32 of shape [${n}] (one per row of the logits), got [${labels.shape}] ${labels.dtype}.`);
  }
  return [n, c];
}

/** Labels must index a class: tf.oneHot would silently give an all-zero row (a loss of 0) for any other value. */
function checkLabels(lab: Int32Array, c: number): void {
  for (let i = 0; i < lab.length; i++) {
    if (!(lab[i] >= 0 && lab[i] < c)) {
      throw new Error(`softmax cross-entropy: label ${lab[i]} (row ${i}) is not a class index in [0, ${c}); check the dataset's labels and numClasses.`);
    }
  }
}

/** Inputs logits [N, C] float32, labels [N] int32; outputs [loss [], logSoftmax [N, C], correct []]. */
export function makeSoftmaxCrossEntropy(backendName: 'wasm' | 'cpu'): AnyKernelFunc {
  return (args) => {
    const { inputs: { logits, labels }, backend } = args;
    const [n, c] = checkOperands(SOFTMAX_CE, logits, labels);
    const s = storage(backendName, backend);
    const call = (name: string, inputs: object, attrs: object = {}) => callKernel(name, backendName, backend, inputs, attrs);
    checkLabels(s.i32(labels), c);
    // tf.logSoftmax (axis 1): value = (x - max) - log(sum(exp(x - max)))
    const xMax = call('Max', { x: logits }, { reductionIndices: 1, keepDims: true });
    const shifted = s.output([n, c]);
    {
      const x = s.f32(logits), m = s.f32(xMax), sh = s.f32(shifted);
      for (let i = 0, o = 0; i < n; i++) for (let j = 0; j < c; j++, o++) sh[o] = Math.fround(x[o] - m[i]);
    }
    const e = call('Exp', { x: shifted });
    const se = call('Sum', { x: e }, { axis: 1, keepDims: true });
    const lse = call('Log', { x: se });
    const value = s.output([n, c]), picked = s.output([n, c]);
    {
      const sh = s.f32(shifted), l = s.f32(lse), v = s.f32(value), p = s.f32(picked), lab = s.i32(labels);
      for (let i = 0, o = 0; i < n; i++) {
        for (let j = 0; j < c; j++, o++) {
          v[o] = Math.fround(sh[o] - l[i]);
          p[o] = Math.fround((j === lab[i] ? 1 : 0) * v[o]); // oneHot x value: the zeros keep their sign
        }
      }
    }
    // -mean(sum(oneHot x value, -1))
    const rowSum = call('Sum', { x: picked }, { axis: -1, keepDims: false });
    const mean = call('Mean', { x: rowSum }, { axis: null, keepDims: false });
    const loss = s.output([]), correct = s.output([]);
    s.f32(loss)[0] = -s.f32(mean)[0];
    {
      const x = s.f32(logits), lab = s.i32(labels);
      let hits = 0;
      for (let i = 0, o = 0; i < n; i++, o += c) {
        let best = 0;
        for (let j = 1; j < c; j++) if (x[o + j] > x[o + best]) best = j;
        if (best === lab[i]) hits++;
      }
      s.f32(correct)[0] = hits;
    }
    for (const t of [xMax, shifted, e, se, lse, picked, rowSum, mean]) s.dispose(t);
    return [loss, value, correct];
  };
}

/** Inputs dy [] (the loss's gradient), labels [N], value [N, C] (the forward's log-softmax); output d logits [N, C]. */
export function makeSoftmaxCrossEntropyGrad(backendName: 'wasm' | 'cpu'): AnyKernelFunc {
  return (args) => {
    const { inputs: { dy, labels, value }, backend } = args;
    const [n, c] = checkOperands(SOFTMAX_CE_GRAD, value, labels);
    const s = storage(backendName, backend);
    const call = (name: string, inputs: object, attrs: object = {}) => callKernel(name, backendName, backend, inputs, attrs);
    // neg, then mean's gradient (dy x 1 / N), sum's (a broadcast), mul's (x oneHot): g at the label, signed zeros elsewhere
    const g = Math.fround(-s.f32(dy)[0] / n);
    const dx = s.output([n, c]);
    {
      const d = s.f32(dx), lab = s.i32(labels);
      for (let i = 0, o = 0; i < n; i++) for (let j = 0; j < c; j++, o++) d[o] = Math.fround(g * (j === lab[i] ? 1 : 0));
    }
    // tf.logSoftmax's gradient: dy - sum(dy, 1) x exp(value)
    const rowSum = call('Sum', { x: dx }, { axis: 1, keepDims: true });
    const softmax = call('Exp', { x: value });
    {
      const d = s.f32(dx), r = s.f32(rowSum), sm = s.f32(softmax);
      for (let i = 0, o = 0; i < n; i++) for (let j = 0; j < c; j++, o++) d[o] = Math.fround(d[o] - Math.fround(r[i] * sm[o]));
    }
    s.dispose(rowSum);
    s.dispose(softmax);
    return dx;
  };
}

let registered = false;

/** Register the loss kernel's gradient (once; it only runs where the kernel did). */
export function registerSoftmaxCrossEntropyGradient(): void {
  if (registered) return;
  tf.registerGradient({
    kernelName: SOFTMAX_CE,
    inputsToSave: ['labels'],
    outputsToSave: [false, true, false],
    gradFunc: (dys, saved) => {
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      const [labels, value] = saved;
      return {
        logits: () => tf.engine().runKernel(SOFTMAX_CE_GRAD, { dy, labels, value }) as tf.Tensor,
        labels: () => tf.zeros(labels.shape, 'float32'),
      };
    },
  });
  registered = true;
}

/**
 * The loss (a scalar tensor) and the number of rows whose first largest logit is the label, through the
 * one-kernel op where the backend has it (float32 logits [N, C]), else null (train.ts composes TF.js ops).
 */
export function fusedSoftmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): { loss: tf.Scalar; correct: tf.Scalar } | null {
  if (logits.rank !== 2 || logits.dtype !== 'float32' || !tf.getKernel(SOFTMAX_CE, tf.getBackend())) return null;
  const [loss, value, correct] = tf.engine().runKernel(SOFTMAX_CE, { logits, labels }) as tf.Tensor[];
  value.dispose(); // kept by the engine for the backward pass
  return { loss: loss as tf.Scalar, correct: correct as tf.Scalar };
}
