/**
 * Conv2DBackpropInput for the wasm backend via its own (XNNPACK) Conv2D: the wasm kernel is a
 * naive loop (~380 ms for a 64x28x28x32 3x3 layer, 25x its Conv2D), this is a convolution of
 * dy, with zeros inserted between its rows/cols for stride > 1, by the filter flipped in space
 * and with in/out channels swapped:
 *   dx[n,i,j,c] = sum_{a,b,o} dyd[n, i+a-(KH-1-padTop), j+b-(KW-1-padLeft), o] * W[KH-1-a, KW-1-b, c, o].
 * Used when the native kernels are off; shapes it cannot express go to the original kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { callKernel, originalKernel } from './registry';

interface Attrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

export function conv2DBackpropInputViaConv2D(args: { inputs: { dy: tf.TensorInfo; filter: tf.TensorInfo }; backend: unknown; attrs: Attrs }): tf.TensorInfo {
  const { inputs: { dy, filter }, backend, attrs } = args;
  const ci = attrs.dataFormat === 'NCHW' ? null : tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape as [number, number, number, number],
    attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  if (!ci || ci.padInfo.top > ci.filterHeight - 1 || ci.padInfo.left > ci.filterWidth - 1 || dy.dtype !== 'float32') {
    const orig = originalKernel('Conv2DBackpropInput', 'wasm');
    if (!orig) throw new Error('prune-at-init: the wasm backend has no Conv2DBackpropInput kernel for this input.');
    return orig.kernelFunc(args as any) as tf.TensorInfo;
  }
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, outChannels: co,
    filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = ci;
  const pt = ci.padInfo.top, pl = ci.padInfo.left;
  const be = 'wasm';
  const temps: tf.TensorInfo[] = [];
  const keep = (t: tf.TensorInfo) => { temps.push(t); return t; };
  try {
    let d = dy, hd = oh, wd = ow;
    if (sh > 1 || sw > 1) {
      // zero insertion: [n,oh,1,ow,1,co] padded to [n,oh,sh,ow,sw,co] = rows/cols at multiples of the stride
      const r6 = keep(callKernel('Reshape', be, backend, { x: dy }, { shape: [n, oh, 1, ow, 1, co] }));
      const p6 = keep(callKernel('PadV2', be, backend, { x: r6 },
        { paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]], constantValue: 0 }));
      d = keep(callKernel('Reshape', be, backend, { x: p6 }, { shape: [n, oh * sh, ow * sw, co] }));
      hd = oh * sh;
      wd = ow * sw;
    }
    // dx row i reads dilated rows up to i + padTop: h + padTop rows in all (crop or zero-pad to that)
    const needH = h + pt, needW = w + pl;
    if (hd > needH || wd > needW) {
      d = keep(callKernel('Slice', be, backend, { x: d }, { begin: [0, 0, 0, 0], size: [n, Math.min(hd, needH), Math.min(wd, needW), co] }));
      hd = Math.min(hd, needH);
      wd = Math.min(wd, needW);
    }
    const flipped = keep(callKernel('Reverse', be, backend, { x: filter }, { dims: [0, 1] }));
    const f = keep(callKernel('Transpose', be, backend, { x: flipped }, { perm: [0, 1, 3, 2] })); // [KH, KW, CO, C]
    const dx = callKernel('Conv2D', be, backend, { x: d, filter: f },
      { strides: [1, 1], dilations: [1, 1], pad: [[0, 0], [kh - 1 - pt, needH - hd], [kw - 1 - pl, needW - wd], [0, 0]], dataFormat: 'NHWC' });
    if (dx.shape.join() !== [n, h, w, c].join()) {
      (backend as { disposeData(id: object): void }).disposeData(dx.dataId);
      throw new Error(`Conv2DBackpropInput (wasm): internal shape mismatch ${dx.shape} for input ${attrs.inputShape}.`);
    }
    return dx;
  } finally {
    const b = backend as { disposeData(id: object): void };
    for (const t of temps) b.disposeData(t.dataId);
  }
}
