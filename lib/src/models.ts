/**
 * Model zoo built from typed configs or readable names: FFNN (incl. LeNet-300-100), a small
 * VGG-style CNN, CIFAR-style ResNet (optionally Stable ResNet), pre-activation WRN-d-k and
 * DenseNet-BC with prunable interior channels. Initialisation is drawn in float64 JS from the seed, one stream per
 * parameter, as W = (sigma_w / sqrt(fan)) * Z: the same Z for every sigma_w (so magnitude masks are
 * phase-blind by construction) and identical weights on every backend.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from './rng';
import { Activation, ACTIVATIONS, activate, BatchNorm, Conv2d, Dense, ForwardContext, Layer, ParamInfo } from './nn/layers';
import { Net, UnitGroup } from './nn/net';
import { eocSigmaW } from './eoc';
import { maskedMlp, mlpFusable } from './kernels/mlp';

export type InitScheme = 'eoc' | 'ordered' | 'chaotic' | 'kaiming' | 'xavier' | 'explicit';
export interface InitSpec {
  scheme: InitScheme;
  /** Weight scale: W ~ N(0, sigmaW^2 / fan). Required for 'explicit'; overrides the scheme default otherwise. */
  sigmaW?: number;
  /** Bias std: b ~ N(0, sigmaB^2). */
  sigmaB?: number;
  /** Which fan divides sigmaW^2 (default 'in'; the WRN authors use 'out'). */
  fan?: 'in' | 'out';
}

interface Shape { inputShape?: [number, number, number]; numClasses?: number }
/** `init` sets the weight distribution of the nets whose builders read it (FFNN, CNN, ResNet). */
interface Common extends Shape { init?: InitSpec }
export interface FfnnConfig extends Common {
  arch: 'ffnn'; hidden: number[]; activation: Activation; bias?: boolean;
  /** Dropout rate after every hidden activation, training only (default 0: none). */
  dropout?: number;
}
export interface CnnConfig extends Common {
  arch: 'cnn'; channels: Array<number | 'M'>; activation: Activation; batchNorm?: boolean; bias?: boolean; kernelSize?: number;
  /** Dropout rate on the flattened features before the linear head, training only (default 0: none). */
  dropout?: number;
}
export interface ResNetConfig extends Common {
  arch: 'resnet'; depth: number; widths?: [number, number, number]; stable?: boolean; activation?: Activation;
}
/** Initialised as the WRN authors' code does (fanOutInit); there is no `init` option. */
export interface WrnConfig extends Shape {
  arch: 'wrn'; depth: number; widthFactor: number;
  /** Interior (mid) channels of each block, in block order; default: the block's output width. */
  interior?: number[];
  /** Multiply every block's interior width by this (int(out * z)), the "bottleneck" reduced family. */
  bottleneck?: number;
}
/**
 * DenseNet-BC (Huang et al. 2017) with pre-activation layers: 3 dense blocks of (depth - 4) / 6
 * bottleneck layers BN-ReLU-conv1×1(→ interior)-BN-ReLU-conv3×3(→ growth), each concatenated to its
 * input; transitions BN-ReLU-conv1×1(→ floor(compression · C))-avgpool 2×2; stem conv3×3 → 2·growth.
 */
export interface DenseNetConfig extends Shape {
  arch: 'densenet'; depth: number; growth: number;
  /** Transition compression θ (default 0.5, "-C"). */
  compression?: number;
  /** Interior (bottleneck) channels of each dense layer, in layer order; default 4·growth. */
  interior?: number[];
  /** Multiply every layer's interior width by this (floor(4·growth·z)). */
  bottleneck?: number;
}
export type ModelConfig = FfnnConfig | CnnConfig | ResNetConfig | WrnConfig | DenseNetConfig;

export interface ResolvedInit { scheme: InitScheme; sigmaW: number; sigmaB: number; fan: 'in' | 'out'; chi?: number }

/** Turn an init spec into numbers (sigma_w from the EOC solver for 'eoc'). */
export function resolveInit(spec: InitSpec, activation: Activation): ResolvedInit {
  const fan = spec.fan ?? 'in';
  switch (spec.scheme) {
    case 'kaiming': return { scheme: 'kaiming', sigmaW: spec.sigmaW ?? Math.SQRT2, sigmaB: spec.sigmaB ?? 0, fan };
    case 'xavier': return { scheme: 'xavier', sigmaW: NaN, sigmaB: spec.sigmaB ?? 0, fan };
    case 'explicit':
      if (spec.sigmaW === undefined) throw new Error(`init.scheme 'explicit' needs init.sigmaW (and optionally sigmaB).`);
      return { scheme: 'explicit', sigmaW: spec.sigmaW, sigmaB: spec.sigmaB ?? 0, fan };
    case 'eoc': {
      const sigmaB = spec.sigmaB ?? (activation === 'relu' ? 0 : 0.2);
      const p = eocSigmaW(activation, sigmaB);
      return { scheme: 'eoc', sigmaW: spec.sigmaW ?? p.sigmaW, sigmaB, fan, chi: p.chi };
    }
    case 'ordered': return { scheme: 'ordered', sigmaW: spec.sigmaW ?? 1.0, sigmaB: spec.sigmaB ?? 0.2, fan };
    case 'chaotic': return { scheme: 'chaotic', sigmaW: spec.sigmaW ?? 2.0, sigmaB: spec.sigmaB ?? 0.2, fan };
    default: throw new Error(`Unknown init scheme '${(spec as InitSpec).scheme}': use eoc, ordered, chaotic, kaiming, xavier or explicit.`);
  }
}

/** Draw initial values for every parameter of a layer list. */
function initialValues(layers: Layer[], rng: Rng, kernelInit: (p: ParamInfo) => { std: number } | { uniform: number }, biasStd: (p: ParamInfo) => number): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const l of layers) for (const p of l.params()) {
    const r = rng.fork(p.name);
    if (p.kind === 'kernel') {
      const k = kernelInit(p);
      out.set(p.name, 'std' in k ? r.normalArray(p.size, k.std) : r.uniformArray(p.size, -k.uniform, k.uniform));
    } else if (p.kind === 'bias') {
      const s = biasStd(p);
      out.set(p.name, s > 0 ? r.normalArray(p.size, s) : new Float32Array(p.size));
    } else if (p.kind === 'gamma') out.set(p.name, new Float32Array(p.size).fill(1));
    else out.set(p.name, new Float32Array(p.size));
  }
  return out;
}

function gaussianKernel(init: ResolvedInit) {
  return (p: ParamInfo) => {
    if (init.scheme === 'xavier') return { std: Math.sqrt(2 / (p.fanIn + p.fanOut)) };
    return { std: init.sigmaW / Math.sqrt(init.fan === 'in' ? p.fanIn : p.fanOut) };
  };
}

export interface BuildOptions {
  seed?: number; inputShape?: [number, number, number]; numClasses?: number;
  /** Seed stream of the initial values (default 'init'); the reinit ablation draws fresh weights from another one. */
  stream?: string;
}

/** Build a network from a config or a readable name (see parseModelName). */
export function buildModel(spec: ModelConfig | string, opts: BuildOptions = {}): Net {
  const cfg = typeof spec === 'string' ? parseModelName(spec) : spec;
  const inputShape = opts.inputShape ?? cfg.inputShape ?? [28, 28, 1];
  const numClasses = opts.numClasses ?? cfg.numClasses ?? 10;
  const rng = new Rng(opts.seed ?? 0, opts.stream ?? 'init');
  let net: Net;
  switch (cfg.arch) {
    case 'ffnn': net = buildFfnn(cfg, inputShape, numClasses, rng); break;
    case 'cnn': net = buildCnn(cfg, inputShape, numClasses, rng); break;
    case 'resnet': net = buildResNet(cfg, inputShape, numClasses, rng); break;
    case 'wrn': net = buildWrn(cfg, inputShape, numClasses, rng); break;
    case 'densenet': net = buildDenseNet(cfg, inputShape, numClasses, rng); break;
    default: throw new Error(`Unknown architecture '${(cfg as ModelConfig).arch}': use ffnn, cnn, resnet, wrn or densenet.`);
  }
  net.resetDropout(opts.seed ?? 0);
  return net;
}

function checkDropout(rate: number | undefined): number {
  const r = rate ?? 0;
  if (!(r >= 0 && r < 1)) throw new Error(`dropout must be a rate in [0, 1), got ${rate}.`);
  return r;
}

function checkActivation(a: Activation): void {
  if (!ACTIVATIONS.includes(a)) throw new Error(`Unknown activation '${a}': use one of ${ACTIVATIONS.join(', ')}.`);
}

function buildFfnn(cfg: FfnnConfig, inputShape: number[], numClasses: number, rng: Rng): Net {
  checkActivation(cfg.activation);
  if (!cfg.hidden.every((w) => Number.isInteger(w) && w > 0)) throw new Error(`ffnn hidden widths must be positive integers, got [${cfg.hidden}].`);
  const init = resolveInit(cfg.init ?? { scheme: 'kaiming' }, cfg.activation);
  const dims = [inputShape.reduce((a, b) => a * b, 1), ...cfg.hidden, numClasses];
  const layers = dims.slice(1).map((d, i) => new Dense(`fc${i + 1}`, d, dims[i], cfg.bias ?? true));
  const act = cfg.activation;
  const rate = checkDropout(cfg.dropout);
  const forward = (x: tf.Tensor, ctx: ForwardContext) => {
    let h = x.reshape([x.shape[0], dims[0]]);
    // the whole stack as one op (kernels/mlp.ts: the same arithmetic, one kernel each way) unless a
    // pre-activation is recorded or dropout draws masks
    if (ctx.fused && !ctx.record && !(ctx.training && rate > 0)) {
      const stack = layers.map((l) => {
        const { value: w, mask } = ctx.paramParts(`${l.name}/kernel`);
        return { w, mask, bias: l.useBias ? ctx.param(`${l.name}/bias`) : undefined };
      });
      if (mlpFusable(stack, act)) return maskedMlp(h as tf.Tensor2D, stack, act);
    }
    layers.forEach((l, i) => {
      // y^1 = W x; y^l = W phi(y^{l-1}): the activation is applied to every hidden pre-activation,
      // inside the layer's kernel unless the pre-activations are being recorded
      const hidden = i < layers.length - 1;
      if (ctx.record && hidden) {
        const z = l.call(h, ctx);
        ctx.record.set(l.name, tf.keep(z.clone()));
        h = activate(z, act);
      } else h = l.call(h, ctx, hidden ? act : 'linear');
      if (hidden && rate > 0) h = ctx.dropout(h, rate);
    });
    return h;
  };
  const values = initialValues(layers, rng, gaussianKernel(init), () => init.sigmaB);
  return new Net(`ffnn[${cfg.hidden.length + 1}x${cfg.hidden[0] ?? 0},${act}${rate ? `,dropout ${rate}` : ''}]`, inputShape, numClasses, layers, forward, values, [], { config: cfg, init });
}

function buildCnn(cfg: CnnConfig, inputShape: [number, number, number], numClasses: number, rng: Rng): Net {
  checkActivation(cfg.activation);
  const init = resolveInit(cfg.init ?? { scheme: 'kaiming' }, cfg.activation);
  const k = cfg.kernelSize ?? 3;
  const ops: Array<{ conv: Conv2d; bn?: BatchNorm } | 'M'> = [];
  const layers: Layer[] = [];
  let shape: [number, number, number] = [...inputShape];
  let ci = 0;
  for (const c of cfg.channels) {
    if (c === 'M') {
      ops.push('M');
      shape = [Math.floor(shape[0] / 2), Math.floor(shape[1] / 2), shape[2]];
      continue;
    }
    ci++;
    const conv = new Conv2d(`conv${ci}`, shape, c, k, 1, 'same', cfg.bias ?? !cfg.batchNorm);
    const bn = cfg.batchNorm ? new BatchNorm(`bn${ci}`, c) : undefined;
    layers.push(conv, ...(bn ? [bn] : []));
    ops.push({ conv, bn });
    shape = conv.outShape() as [number, number, number];
  }
  const fc = new Dense('fc', numClasses, shape[0] * shape[1] * shape[2]);
  layers.push(fc);
  const act = cfg.activation;
  const rate = checkDropout(cfg.dropout);
  const forward = (x: tf.Tensor, ctx: ForwardContext) => {
    let h = x;
    for (const op of ops) {
      if (op === 'M') { h = tf.maxPool(h as tf.Tensor4D, 2, 2, 'valid'); continue; }
      h = op.conv.call(h, ctx);
      if (ctx.record) {
        if (op.bn) h = op.bn.call(h, ctx);
        ctx.record.set(op.conv.name, tf.keep(h.clone()));
        h = activate(h, act);
      } else h = op.bn ? op.bn.call(h, ctx, act) : activate(h, act);
    }
    return fc.call(rate > 0 ? ctx.dropout(h, rate) : h, ctx);
  };
  const values = initialValues(layers, rng, gaussianKernel(init), () => init.sigmaB);
  return new Net(`cnn[${cfg.channels.join('-')}]`, inputShape, numClasses, layers, forward, values, [], { config: cfg, init });
}

function buildResNet(cfg: ResNetConfig, inputShape: [number, number, number], numClasses: number, rng: Rng): Net {
  const act = cfg.activation ?? 'relu';
  checkActivation(act);
  if ((cfg.depth - 2) % 6 !== 0 || cfg.depth < 8) throw new Error(`ResNet depth must be 6n+2 with n >= 1 (8, 14, 20, 32, ...), got ${cfg.depth}.`);
  const n = (cfg.depth - 2) / 6;
  const widths = cfg.widths ?? [16, 32, 64];
  // Stable ResNet: each residual branch, after its second BN, is scaled by 1/sqrt(number of blocks)
  const branchScale = cfg.stable ? 1 / Math.sqrt(3 * n) : 1;
  const layers: Layer[] = [];
  const stem = new Conv2d('stem/conv', inputShape, widths[0], 3);
  const stemBn = new BatchNorm('stem/bn', widths[0]);
  layers.push(stem, stemBn);
  let shape = stem.outShape() as [number, number, number];
  type Block = { c1: Conv2d; b1: BatchNorm; c2: Conv2d; b2: BatchNorm; sc?: { conv: Conv2d; bn: BatchNorm } };
  const blocks: Block[] = [];
  for (let s = 0; s < 3; s++) for (let b = 0; b < n; b++) {
    const stride = s > 0 && b === 0 ? 2 : 1;
    const name = `s${s + 1}b${b + 1}`;
    const out = widths[s];
    const c1 = new Conv2d(`${name}/conv1`, shape, out, 3, stride);
    const mid = c1.outShape() as [number, number, number];
    const c2 = new Conv2d(`${name}/conv2`, mid, out, 3, 1);
    const blk: Block = { c1, b1: new BatchNorm(`${name}/bn1`, out), c2, b2: new BatchNorm(`${name}/bn2`, out) };
    if (stride !== 1 || shape[2] !== out) blk.sc = { conv: new Conv2d(`${name}/shortcut`, shape, out, 1, stride), bn: new BatchNorm(`${name}/shortcut_bn`, out) };
    layers.push(blk.c1, blk.b1, blk.c2, blk.b2, ...(blk.sc ? [blk.sc.conv, blk.sc.bn] : []));
    blocks.push(blk);
    shape = c2.outShape() as [number, number, number];
  }
  const fc = new Dense('fc', numClasses, widths[2]);
  layers.push(fc);
  const forward = (x: tf.Tensor, ctx: ForwardContext) => {
    let h = stemBn.call(stem.call(x, ctx), ctx, act);
    for (const blk of blocks) {
      let r = blk.b1.call(blk.c1.call(h, ctx), ctx, act);
      r = blk.b2.call(blk.c2.call(r, ctx), ctx);
      if (branchScale !== 1) r = tf.mul(r, branchScale);
      const sc = blk.sc ? blk.sc.bn.call(blk.sc.conv.call(h, ctx), ctx) : h;
      h = activate(tf.add(r, sc), act);
      if (ctx.record) ctx.record.set(blk.c2.name, tf.keep(h.clone()));
    }
    return fc.call(tf.mean(h, [1, 2]), ctx);
  };
  const init = cfg.init ? resolveInit(cfg.init, act) : undefined;
  // authors' default: Kaiming normal, fan-out for convs; PyTorch default (uniform ±1/sqrt(fan_in)) for the linear
  const values = initialValues(layers, rng,
    (p) => init ? gaussianKernel(init)(p) : p.layerType === 'dense' ? { uniform: 1 / Math.sqrt(p.fanIn) } : { std: Math.sqrt(2 / p.fanOut) },
    () => init?.sigmaB ?? 0);
  return new Net(`${cfg.stable ? 'stable-' : ''}resnet${cfg.depth}`, inputShape, numClasses, layers, forward, values, [], { config: cfg, init });
}

/**
 * conv1 → BN → ReLU → (unit mask, Fisher gate of unit group `group`) → conv2: the prunable interior
 * of a WRN block or a DenseNet-BC bottleneck layer; its channels are the structured-pruning units.
 */
function prunableInterior(x: tf.Tensor, c1: Conv2d, bn2: BatchNorm, c2: Conv2d, group: string, ctx: ForwardContext): tf.Tensor {
  let a = bn2.call(c1.call(x, ctx), ctx, 'relu');
  const um = ctx.unitMask(group);
  if (um) a = tf.mul(a, um);
  const gate = ctx.gates?.get(group);
  if (gate) a = tf.mul(a, gate);
  return c2.call(a, ctx);
}

/** Final BN-ReLU, global average pool and linear layer of a pre-activation net (its layers appended to `layers`). */
function preActivationHead(channels: number, numClasses: number, layers: Layer[]): (h: tf.Tensor, ctx: ForwardContext) => tf.Tensor {
  const bnFinal = new BatchNorm('final/bn', channels);
  const fc = new Dense('fc', numClasses, channels);
  layers.push(bnFinal, fc);
  return (h, ctx) => fc.call(tf.mean(bnFinal.call(h, ctx, 'relu'), [1, 2]), ctx);
}

/** The WRN authors' init: convs normal with std sqrt(2 / fan-out), the linear layer at PyTorch's default uniform ±1/sqrt(fan-in). */
function fanOutInit(p: ParamInfo): { std: number } | { uniform: number } {
  return p.layerType === 'dense' ? { uniform: 1 / Math.sqrt(p.fanIn) } : { std: Math.sqrt(2 / p.fanOut) };
}

/** Number of blocks of a WRN-d: 3 stages of (d-4)/6 blocks. */
export function wrnBlocks(depth: number): number {
  if ((depth - 4) % 6 !== 0 || depth < 10) throw new Error(`WRN depth must be 6n+4 with n >= 1 (10, 16, 22, 28, 40, ...), got ${depth}.`);
  return ((depth - 4) / 6) * 3;
}

function buildWrn(cfg: WrnConfig, inputShape: [number, number, number], numClasses: number, rng: Rng): Net {
  const nb = wrnBlocks(cfg.depth);
  const n = nb / 3;
  const k = cfg.widthFactor;
  if (!(k > 0)) throw new Error(`WRN widthFactor must be > 0, got ${k}.`);
  const stageWidths = [Math.round(16 * k), Math.round(32 * k), Math.round(64 * k)];
  if (cfg.interior && cfg.interior.length !== nb) throw new Error(`WRN-${cfg.depth} has ${nb} blocks but interior lists ${cfg.interior.length} widths.`);
  const layers: Layer[] = [];
  const unitGroups: UnitGroup[] = [];
  const stem = new Conv2d('stem/conv', inputShape, 16, 3);
  layers.push(stem);
  let shape = stem.outShape() as [number, number, number];
  type Block = { name: string; bn1: BatchNorm; c1?: Conv2d; bn2?: BatchNorm; c2?: Conv2d; sc?: Conv2d; stride: number };
  const blocks: Block[] = [];
  for (let s = 0; s < 3; s++) for (let b = 0; b < n; b++) {
    const idx = s * n + b;
    const stride = s > 0 && b === 0 ? 2 : 1;
    const name = `s${s + 1}b${b + 1}`;
    const out = stageWidths[s];
    const mid = cfg.interior ? cfg.interior[idx] : cfg.bottleneck !== undefined ? Math.floor(out * cfg.bottleneck) : out;
    if (!Number.isInteger(mid) || mid < 0) throw new Error(`WRN block ${name}: interior width must be a non-negative integer, got ${mid}.`);
    const blk: Block = { name, bn1: new BatchNorm(`${name}/bn1`, shape[2]), stride };
    layers.push(blk.bn1);
    let outShape: [number, number, number];
    if (mid > 0) {
      blk.c1 = new Conv2d(`${name}/conv1`, shape, mid, 3, stride);
      blk.bn2 = new BatchNorm(`${name}/bn2`, mid);
      blk.c2 = new Conv2d(`${name}/conv2`, blk.c1.outShape() as [number, number, number], out, 3, 1);
      layers.push(blk.c1, blk.bn2, blk.c2);
      unitGroups.push({ name: `${name}/mid`, size: mid, producer: blk.c1.name + '/kernel', consumer: blk.c2.name + '/kernel' });
      outShape = blk.c2.outShape() as [number, number, number];
    } else {
      outShape = [Math.ceil(shape[0] / stride), Math.ceil(shape[1] / stride), out];
    }
    if (shape[2] !== out || stride !== 1) {
      blk.sc = new Conv2d(`${name}/shortcut`, shape, out, 1, stride);
      layers.push(blk.sc);
    }
    blocks.push(blk);
    shape = outShape;
  }
  const head = preActivationHead(shape[2], numClasses, layers);
  const forward = (x: tf.Tensor, ctx: ForwardContext) => {
    let h = stem.call(x, ctx);
    for (const blk of blocks) {
      const o1 = blk.bn1.call(h, ctx, 'relu');
      const z = blk.c1 && blk.bn2 && blk.c2 ? prunableInterior(o1, blk.c1, blk.bn2, blk.c2, `${blk.name}/mid`, ctx) : undefined;
      // pre-activation WRN: the projection shortcut reads the pre-activated input, identity reads x
      const sc = blk.sc ? blk.sc.call(o1, ctx) : h;
      h = z ? tf.add(z, sc) : sc;
    }
    return head(h, ctx);
  };
  const values = initialValues(layers, rng, fanOutInit, () => 0);
  const net = new Net(`wrn-${cfg.depth}-${k}`, inputShape, numClasses, layers, forward, values, unitGroups, { config: cfg });
  return net;
}

/** Dense layers per block of DenseNet-BC-d: 3 blocks of (d - 4) / 6 bottleneck layers. */
export function denseNetLayers(depth: number): number {
  if ((depth - 4) % 6 !== 0 || depth < 10) throw new Error(`DenseNet-BC depth must be 6n+4 with n >= 1 (10, 16, 22, 28, 40, 100, ...), got ${depth}.`);
  return (depth - 4) / 6;
}

/** Channel counts of DenseNet-BC as buildDenseNet lays them out: stem width, transition outputs. */
export function denseNetWidths(cfg: Pick<DenseNetConfig, 'depth' | 'growth' | 'compression'>): { stem: number; transitions: number[]; out: number } {
  const n = denseNetLayers(cfg.depth), k = cfg.growth, theta = cfg.compression ?? 0.5;
  if (!Number.isInteger(k) || k < 1) throw new Error(`DenseNet growth rate must be a positive integer, got ${k}.`);
  if (!(theta > 0 && theta <= 1)) throw new Error(`DenseNet compression must be in (0, 1], got ${theta}.`);
  let c = 2 * k;
  const transitions: number[] = [];
  for (let b = 0; b < 3; b++) {
    c += n * k;
    if (b < 2) { c = Math.floor(theta * c); transitions.push(c); }
  }
  return { stem: 2 * k, transitions, out: c };
}

/** Interior width of every dense layer of a config: explicit list, else floor(4k·z), else 4k. */
export function denseNetInterior(cfg: DenseNetConfig): number[] {
  const count = 3 * denseNetLayers(cfg.depth);
  if (cfg.interior) {
    if (cfg.interior.length !== count) throw new Error(`DenseNet-BC-${cfg.depth} has ${count} dense layers but interior lists ${cfg.interior.length} widths.`);
    return cfg.interior.slice();
  }
  const full = 4 * cfg.growth;
  return Array<number>(count).fill(cfg.bottleneck !== undefined ? Math.floor(full * cfg.bottleneck) : full);
}

function buildDenseNet(cfg: DenseNetConfig, inputShape: [number, number, number], numClasses: number, rng: Rng): Net {
  const n = denseNetLayers(cfg.depth), k = cfg.growth, theta = cfg.compression ?? 0.5;
  const widths = denseNetWidths(cfg);
  const mids = denseNetInterior(cfg);
  const layers: Layer[] = [];
  const unitGroups: UnitGroup[] = [];
  const stem = new Conv2d('stem/conv', inputShape, widths.stem, 3);
  layers.push(stem);
  let shape = stem.outShape() as [number, number, number];
  type DenseLayer = { name: string; bn1: BatchNorm; c1?: Conv2d; bn2?: BatchNorm; c2?: Conv2d; hw: [number, number] };
  type Transition = { bn: BatchNorm; conv: Conv2d };
  const blocks: Array<{ layers: DenseLayer[]; transition?: Transition }> = [];
  for (let b = 0; b < 3; b++) {
    const dl: DenseLayer[] = [];
    for (let l = 0; l < n; l++) {
      const name = `d${b + 1}l${l + 1}`, mid = mids[b * n + l];
      if (!Number.isInteger(mid) || mid < 0) throw new Error(`DenseNet layer ${name}: interior width must be a non-negative integer, got ${mid}.`);
      const layer: DenseLayer = { name, bn1: new BatchNorm(`${name}/bn1`, shape[2]), hw: [shape[0], shape[1]] };
      layers.push(layer.bn1);
      if (mid > 0) {
        layer.c1 = new Conv2d(`${name}/conv1`, shape, mid, 1);
        layer.bn2 = new BatchNorm(`${name}/bn2`, mid);
        layer.c2 = new Conv2d(`${name}/conv2`, layer.c1.outShape() as [number, number, number], k, 3);
        layers.push(layer.c1, layer.bn2, layer.c2);
        unitGroups.push({ name: `${name}/mid`, size: mid, producer: layer.c1.name + '/kernel', consumer: layer.c2.name + '/kernel' });
      }
      dl.push(layer);
      shape = [shape[0], shape[1], shape[2] + k];
    }
    let transition: Transition | undefined;
    if (b < 2) {
      transition = { bn: new BatchNorm(`t${b + 1}/bn`, shape[2]), conv: new Conv2d(`t${b + 1}/conv`, shape, Math.floor(theta * shape[2]), 1) };
      layers.push(transition.bn, transition.conv);
      shape = [Math.floor(shape[0] / 2), Math.floor(shape[1] / 2), transition.conv.filters];
    }
    blocks.push({ layers: dl, transition });
  }
  const head = preActivationHead(shape[2], numClasses, layers);
  const forward = (x: tf.Tensor, ctx: ForwardContext) => {
    let h = stem.call(x, ctx);
    for (const blk of blocks) {
      for (const l of blk.layers) {
        const o1 = l.bn1.call(h, ctx, 'relu');
        // every interior channel removed: the layer's conv3×3 would see zeros and (no bias) output k zero channels
        const z = l.c1 && l.bn2 && l.c2 ? prunableInterior(o1, l.c1, l.bn2, l.c2, `${l.name}/mid`, ctx) : tf.zeros([h.shape[0], l.hw[0], l.hw[1], k]);
        h = tf.concat([h, z], 3);
      }
      if (blk.transition) h = tf.avgPool(blk.transition.conv.call(blk.transition.bn.call(h, ctx, 'relu'), ctx) as tf.Tensor4D, 2, 2, 'valid');
    }
    return head(h, ctx);
  };
  // the Crowley et al. code initialises DenseNets like its WRNs
  const values = initialValues(layers, rng, fanOutInit, () => 0);
  return new Net(`densenet-bc-${cfg.depth}-${k}`, inputShape, numClasses, layers, forward, values, unitGroups, { config: cfg });
}

/**
 * Readable names: `ffnn_tanh_d10_w100` (depth = weight layers, so 9 hidden layers of 100),
 * `lenet300` (784-300-100-10 ReLU), `mlp_relu_512_512`, `cnn_small`, `resnet20`, `resnet32_stable`,
 * `wrn16_2` / `wrn_16_2`, `densenet_bc_d40_k12` (DenseNet-BC, depth 40, growth 12). Activation/init
 * can be overridden in the config form.
 */
export function parseModelName(name: string): ModelConfig {
  let m: RegExpMatchArray | null;
  if ((m = name.match(/^ffnn_(tanh|relu|elu|linear)_d(\d+)_w(\d+)$/))) {
    const depth = +m[2], width = +m[3];
    if (depth < 1) throw new Error(`Model '${name}': depth must be >= 1.`);
    return { arch: 'ffnn', activation: m[1] as Activation, hidden: Array(depth - 1).fill(width) };
  }
  if (name === 'lenet300') return { arch: 'ffnn', activation: 'relu', hidden: [300, 100] };
  if ((m = name.match(/^mlp_(tanh|relu|elu|linear)((?:_\d+)+)$/))) {
    return { arch: 'ffnn', activation: m[1] as Activation, hidden: m[2].split('_').filter(Boolean).map(Number) };
  }
  if (name === 'cnn_small') return { arch: 'cnn', activation: 'relu', channels: [32, 32, 'M', 64, 'M'] };
  if ((m = name.match(/^resnet(\d+)(_stable)?$/))) return { arch: 'resnet', depth: +m[1], stable: !!m[2] };
  if ((m = name.match(/^wrn_?(\d+)_(\d+(?:\.\d+)?)$/))) return { arch: 'wrn', depth: +m[1], widthFactor: +m[2] };
  if ((m = name.match(/^densenet_bc_d(\d+)_k(\d+)$/))) return { arch: 'densenet', depth: +m[1], growth: +m[2] };
  throw new Error(`Unknown model name '${name}'. Known forms: ffnn_<act>_d<depth>_w<width>, lenet300, mlp_<act>_<w1>_<w2>..., cnn_small, resnet<6n+2>[_stable], wrn<6n+4>_<k>, densenet_bc_d<6n+4>_k<growth>.`);
}

export { Net };
