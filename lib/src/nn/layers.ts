/**
 * Layers with explicit parameters. Prunable kernels are multiplied by a non-trainable mask inside
 * `call` (TF.js ignores layer constraints during fit, tfjs#3345), so pruned weights are exactly zero
 * in every forward pass and receive zero gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNorm } from '../kernels/batchnorm';
import { maskedDense } from '../kernels/dense';

export type Activation = 'tanh' | 'relu' | 'elu' | 'linear';
export const ACTIVATIONS: readonly Activation[] = ['tanh', 'relu', 'elu', 'linear'];

export function activate(x: tf.Tensor, act: Activation): tf.Tensor {
  switch (act) {
    case 'tanh': return tf.tanh(x);
    case 'relu': return tf.relu(x);
    case 'elu': return tf.elu(x);
    case 'linear': return x;
    default: throw new Error(`Unknown activation '${act as string}': use one of ${ACTIVATIONS.join(', ')}.`);
  }
}

export type ParamKind = 'kernel' | 'bias' | 'gamma' | 'beta';
export type LayerType = 'dense' | 'conv2d' | 'batchnorm';

/** Static description of one parameter tensor: enough for reports, FLOPs, init and pruning scope. */
export interface ParamInfo {
  name: string;          // '<layer>/<kind>', e.g. 'fc3/kernel', 's2b1/conv1/kernel'
  layer: string;
  layerType: LayerType;
  kind: ParamKind;
  shape: number[];
  size: number;
  /** Kernels of dense and conv layers; biases and normalisation parameters are not. */
  prunable: boolean;
  fanIn: number;
  fanOut: number;
  /** Multiply-accumulates each weight performs per example (1 for dense, Hout*Wout for conv). */
  macsPerWeight: number;
}

/** What a layer sees during one forward pass. */
export interface ForwardContext {
  training: boolean;
  /** Effective value of a parameter (override or variable, times its mask if prunable and masking is on). */
  param(name: string): tf.Tensor;
  /** The same, unmultiplied: the raw value and the mask to apply (absent: none), for layers that fuse the product. */
  paramParts(name: string): { value: tf.Tensor; mask?: tf.Tensor };
  /** Layers may use fused kernels (first-order gradients only); false for nested tf.grads. */
  fused: boolean;
  /** Optional per-example multiplicative gates on structured units ([N,1,1,C] or [N,C]), by unit-group name. */
  gates?: Map<string, tf.Tensor>;
  /** Optional channel masks on structured units ([C]), by unit-group name. */
  unitMask(name: string): tf.Tensor | undefined;
  /** Collected pre-activations by layer name, when requested (signal-propagation diagnostics). */
  record?: Map<string, tf.Tensor>;
  /** BatchNorm running-stat updates to apply after the step (kept tensors). */
  bnUpdates: Array<[string, tf.Tensor]>;
  buffer(name: string): tf.Variable;
  /**
   * Inverted dropout: in training mode, each entry kept with probability 1 - rate and scaled by
   * 1 / (1 - rate) (expectation preserved), drawn from the net's seeded dropout stream; identity in eval mode.
   */
  dropout(x: tf.Tensor, rate: number): tf.Tensor;
}

export interface Layer {
  readonly name: string;
  params(): ParamInfo[];
  buffers(): Array<{ name: string; shape: number[]; init: number }>;
  /** Output spatial shape, for FLOP accounting, given the input shape [H, W, C] or [D]. */
  outShape(inShape: number[]): number[];
  call(x: tf.Tensor, ctx: ForwardContext): tf.Tensor;
}

export class Dense implements Layer {
  constructor(readonly name: string, readonly units: number, readonly inUnits: number, readonly useBias = true) {}
  params(): ParamInfo[] {
    const p: ParamInfo[] = [{
      name: `${this.name}/kernel`, layer: this.name, layerType: 'dense', kind: 'kernel',
      shape: [this.inUnits, this.units], size: this.inUnits * this.units, prunable: true,
      fanIn: this.inUnits, fanOut: this.units, macsPerWeight: 1,
    }];
    if (this.useBias) p.push({
      name: `${this.name}/bias`, layer: this.name, layerType: 'dense', kind: 'bias', shape: [this.units],
      size: this.units, prunable: false, fanIn: this.inUnits, fanOut: this.units, macsPerWeight: 0,
    });
    return p;
  }
  buffers() { return []; }
  outShape(): number[] { return [this.units]; }
  /** x @ (W ⊙ M) + b, then `activation` (fused into the same kernel where the backend has it). */
  call(x: tf.Tensor, ctx: ForwardContext, activation: Activation = 'linear'): tf.Tensor {
    const x2 = x.rank === 2 ? x : x.reshape([x.shape[0], -1]);
    if (x2.shape[1] !== this.inUnits) {
      throw new Error(`Layer ${this.name} expects ${this.inUnits} input features, got ${x2.shape[1]} (input shape ${x.shape}).`);
    }
    const { value: w, mask } = ctx.paramParts(`${this.name}/kernel`);
    const bias = this.useBias ? ctx.param(`${this.name}/bias`) : undefined;
    return maskedDense({ x: x2 as tf.Tensor2D, w: w as tf.Tensor2D, mask, bias, activation, fused: ctx.fused });
  }
}

export type Padding = 'same' | 'valid';

export class Conv2d implements Layer {
  readonly outH: number;
  readonly outW: number;
  constructor(
    readonly name: string, readonly inShape: [number, number, number], readonly filters: number, readonly kernelSize: number,
    readonly stride = 1, readonly padding: Padding = 'same', readonly useBias = false,
  ) {
    const [h, w] = inShape, k = kernelSize, s = stride;
    this.outH = padding === 'same' ? Math.ceil(h / s) : Math.floor((h - k) / s) + 1;
    this.outW = padding === 'same' ? Math.ceil(w / s) : Math.floor((w - k) / s) + 1;
    if (this.outH < 1 || this.outW < 1) throw new Error(`Layer ${name}: input ${h}x${w} is too small for a ${k}x${k} 'valid' convolution.`);
  }
  get inChannels(): number { return this.inShape[2]; }
  outShape(): number[] { return [this.outH, this.outW, this.filters]; }
  params(): ParamInfo[] {
    const k = this.kernelSize;
    const p: ParamInfo[] = [{
      name: `${this.name}/kernel`, layer: this.name, layerType: 'conv2d', kind: 'kernel',
      shape: [k, k, this.inChannels, this.filters], size: k * k * this.inChannels * this.filters, prunable: true,
      fanIn: k * k * this.inChannels, fanOut: k * k * this.filters, macsPerWeight: this.outH * this.outW,
    }];
    if (this.useBias) p.push({
      name: `${this.name}/bias`, layer: this.name, layerType: 'conv2d', kind: 'bias', shape: [this.filters],
      size: this.filters, prunable: false, fanIn: k * k * this.inChannels, fanOut: k * k * this.filters, macsPerWeight: 0,
    });
    return p;
  }
  buffers() { return []; }
  call(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    if (x.rank !== 4 || x.shape[3] !== this.inChannels) {
      throw new Error(`Layer ${this.name} expects NHWC input with ${this.inChannels} channels, got shape [${x.shape}].`);
    }
    let y: tf.Tensor = tf.conv2d(x as tf.Tensor4D, ctx.param(`${this.name}/kernel`) as tf.Tensor4D, this.stride, this.padding);
    if (this.useBias) y = tf.add(y, ctx.param(`${this.name}/bias`));
    return y;
  }
}

/** BatchNorm over the last axis, PyTorch conventions (momentum 0.1, eps 1e-5, biased batch variance). */
export class BatchNorm implements Layer {
  constructor(readonly name: string, readonly channels: number, readonly momentum = 0.1, readonly eps = 1e-5) {}
  params(): ParamInfo[] {
    const base = { layer: this.name, layerType: 'batchnorm' as const, shape: [this.channels], size: this.channels, prunable: false, fanIn: 1, fanOut: 1, macsPerWeight: 0 };
    return [{ ...base, name: `${this.name}/gamma`, kind: 'gamma' }, { ...base, name: `${this.name}/beta`, kind: 'beta' }];
  }
  buffers() {
    return [{ name: `${this.name}/mean`, shape: [this.channels], init: 0 }, { name: `${this.name}/var`, shape: [this.channels], init: 1 }];
  }
  outShape(inShape: number[]): number[] { return inShape; }
  /** Normalise, scale and shift, then `activation` (ReLU fused into the same kernel where the backend has it). */
  call(x: tf.Tensor, ctx: ForwardContext, activation: Activation = 'linear'): tf.Tensor {
    const gamma = ctx.param(`${this.name}/gamma`), beta = ctx.param(`${this.name}/beta`);
    const fusedAct = activation === 'relu' ? 'relu' : 'linear';
    const r = batchNorm({
      x, gamma, beta, eps: this.eps, activation: fusedAct, fused: ctx.fused, training: ctx.training,
      ...(ctx.training ? {} : { runningMean: ctx.buffer(`${this.name}/mean`), runningVar: ctx.buffer(`${this.name}/var`) }),
    });
    if (ctx.training) {
      const n = x.size / this.channels;
      const rm = ctx.buffer(`${this.name}/mean`), rv = ctx.buffer(`${this.name}/var`);
      // running variance uses the unbiased estimate, as PyTorch does
      const mu = this.momentum;
      ctx.bnUpdates.push([`${this.name}/mean`, tf.keep(tf.add(tf.mul(rm, 1 - mu), tf.mul(r.mean!, mu)))]);
      ctx.bnUpdates.push([`${this.name}/var`, tf.keep(tf.add(tf.mul(rv, 1 - mu), tf.mul(r.variance!, mu * n / Math.max(n - 1, 1))))]);
    }
    return fusedAct === activation ? r.y : activate(r.y, activation);
  }
}
