/**
 * Conv2DBackpropFilter for the wasm backend, which lacks it (so conv nets cannot train on wasm).
 *
 * Classic trick, using the backend's own (XNNPACK) Conv2D: with x as [C, H, W, N] ("batch" = input
 * channel, "channels" = examples) and dy as a filter [OH, OW, N, CO], a stride-1 convolution
 * with dilation = the forward stride gives dW as [C, KH, KW, CO]:
 *   dW[kh,kw,c,o] = sum_{n,i,j} x[n, i*s + kh - padTop, j*s + kw - padLeft, c] * dy[n,i,j,o].
 * The forward padding becomes explicit padding; rows/cols the forward pass never reached (valid
 * padding with stride 2 on odd sizes) are cropped so the output is exactly KH x KW.
 */
import * as tf from '@tensorflow/tfjs';
import { callKernel } from './registry';

export interface Conv2DBackpropFilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** Forward-conv geometry for a Conv2DBackpropFilter call (NHWC only, dilation 1). */
export function backpropFilterInfo(xShape: number[], attrs: Conv2DBackpropFilterAttrs): tf.backend_util.Conv2DInfo {
  if (attrs.dataFormat === 'NCHW') {
    throw new Error(`Conv2DBackpropFilter: dataFormat 'NCHW' is not supported by prune-at-init's kernels; use 'NHWC' (channels last).`);
  }
  return tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], attrs.filterShape, attrs.strides, 1,
    attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
}

export function conv2DBackpropFilterViaConv2D(args: { inputs: { x: tf.TensorInfo; dy: tf.TensorInfo }; backend: unknown; attrs: Conv2DBackpropFilterAttrs }): tf.TensorInfo {
  const { inputs: { x, dy }, backend, attrs } = args;
  const info = backpropFilterInfo(x.shape, attrs);
  const { filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const be = 'wasm';
  const temps: tf.TensorInfo[] = [];
  try {
    // Extent of input rows the forward pass touched, from padTop: sh*(oh-1) + kh rows.
    const padTop = info.padInfo.top, padLeft = info.padInfo.left;
    let padBottom = sh * (oh - 1) + kh - h - padTop;
    let padRight = sw * (ow - 1) + kw - w - padLeft;
    let xs = x;
    if (padBottom < 0 || padRight < 0) {
      // Rows/cols beyond the last window never contribute: crop them (negative padding).
      const keepH = h + Math.min(padBottom, 0), keepW = w + Math.min(padRight, 0);
      xs = callKernel('Slice', be, backend, { x }, { begin: [0, 0, 0, 0], size: [x.shape[0], keepH, keepW, x.shape[3]] });
      temps.push(xs);
      padBottom = Math.max(padBottom, 0);
      padRight = Math.max(padRight, 0);
    }
    const xT = callKernel('Transpose', be, backend, { x: xs }, { perm: [3, 1, 2, 0] }); // [C, H, W, N]
    temps.push(xT);
    const dyT = callKernel('Transpose', be, backend, { x: dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, N, CO]
    temps.push(dyT);
    const pad = [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]];
    const dwT = callKernel('Conv2D', be, backend, { x: xT, filter: dyT },
      { strides: [1, 1], dilations: [sh, sw], pad, dataFormat: 'NHWC', dimRoundingMode: undefined }); // [C, KH, KW, CO]
    temps.push(dwT);
    if (dwT.shape[1] !== kh || dwT.shape[2] !== kw) {
      throw new Error(`Conv2DBackpropFilter (wasm): internal shape mismatch ${dwT.shape} for filter ${attrs.filterShape}.`);
    }
    return callKernel('Transpose', be, backend, { x: dwT }, { perm: [1, 2, 0, 3] }); // [KH, KW, C, CO]
  } finally {
    const b = backend as { disposeData(id: object): void };
    for (const t of temps) if (t !== x) b.disposeData(t.dataId);
  }
}
