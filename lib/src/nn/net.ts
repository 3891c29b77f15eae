/**
 * A network = layers with explicit parameters + a forward function. Parameters are tf.Variables;
 * masks of prunable kernels and structured unit masks are non-trainable tensors owned by the net.
 * Forward passes can override parameters (e.g. |w| for SynFlow, w ± eps*g for a finite-difference HVP)
 * and inject per-example unit gates (Fisher channel saliency) without touching the variables.
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardContext, Layer, ParamInfo } from './layers';
import type { Mask } from '../mask';
import { Rng } from '../rng';

export interface UnitGroup {
  /** Name used for gates and unit masks, e.g. 's1b2/mid'. */
  name: string;
  /** Number of units (channels) in the group. */
  size: number;
  /** The kernel whose output channels these units are (their "producing filter"). */
  producer: string;
  /** The kernel that consumes them as input channels. */
  consumer: string;
}

export interface ForwardOptions {
  /** Training mode: BatchNorm uses batch statistics and queues running-stat updates. */
  training?: boolean;
  /** Raw values to use instead of the variables, by parameter name (masks are still applied). */
  overrides?: Map<string, tf.Tensor>;
  /** Multiply prunable kernels by their masks (default true). */
  applyMask?: boolean;
  /** Per-example gates on unit groups, by group name: shape [N, C] (dense) or [N, 1, 1, C] (conv). */
  gates?: Map<string, tf.Tensor>;
  /** If given, layers record their pre-activations here (the caller disposes them). */
  record?: Map<string, tf.Tensor>;
  /** Use fused kernels where available (default true). Their gradients are first-order only: pass false to nest tf.grads. */
  fusedKernels?: boolean;
}

export type ForwardFn = (x: tf.Tensor, ctx: ForwardContext) => tf.Tensor;

export class Net {
  readonly params = new Map<string, tf.Variable>();
  readonly buffers = new Map<string, tf.Variable>();
  readonly info: ParamInfo[];
  private readonly infoByName = new Map<string, ParamInfo>();
  private readonly masks = new Map<string, tf.Tensor>();
  private readonly unitMasks = new Map<string, tf.Tensor>();
  private disposed = false;
  private dropoutRng = new Rng(0, 'dropout');
  /** Training-mode forward passes since resetDropout: each draws its own dropout masks. */
  private dropoutCalls = 0;
  /** The config the net was built from and its resolved initialisation (given by buildModel). */
  readonly config?: import('../models').ModelConfig;
  readonly init?: import('../models').ResolvedInit;

  constructor(
    readonly name: string,
    readonly inputShape: number[],
    readonly numClasses: number,
    readonly layers: Layer[],
    private readonly forwardFn: ForwardFn,
    initial: Map<string, Float32Array>,
    readonly unitGroups: UnitGroup[] = [],
    built: { config?: import('../models').ModelConfig; init?: import('../models').ResolvedInit } = {},
  ) {
    this.config = built.config;
    this.init = built.init;
    this.info = layers.flatMap((l) => l.params());
    for (const p of this.info) {
      if (this.infoByName.has(p.name)) throw new Error(`Duplicate parameter name ${p.name}`);
      this.infoByName.set(p.name, p);
      const v = initial.get(p.name);
      if (!v || v.length !== p.size) throw new Error(`Initial value for ${p.name} missing or of wrong size (${v?.length} vs ${p.size}).`);
      const t = tf.tensor(v, p.shape, 'float32');
      this.params.set(p.name, tf.variable(t, true, `${name}/${p.name}`.replace(/[^A-Za-z0-9_./-]/g, '_') + `_${uid()}`));
      t.dispose();
    }
    for (const l of layers) for (const b of l.buffers()) {
      const t = tf.fill(b.shape, b.init);
      this.buffers.set(b.name, tf.variable(t, false));
      t.dispose();
    }
  }

  /** Parameter descriptions of the prunable kernels, in layer order. */
  get prunable(): ParamInfo[] { return this.info.filter((p) => p.prunable); }

  paramInfo(name: string): ParamInfo {
    const p = this.infoByName.get(name);
    if (!p) throw new Error(`Unknown parameter '${name}'. Known: ${[...this.infoByName.keys()].join(', ')}`);
    return p;
  }

  /** Total parameter count (trainable; masks and BN running stats excluded). */
  get numParams(): number { return this.info.reduce((a, p) => a + p.size, 0); }

  /** Restart the dropout stream (buildModel seeds it with the init seed): same seed, same dropout masks. */
  resetDropout(seed: number): void {
    this.dropoutRng = new Rng(seed, 'dropout');
    this.dropoutCalls = 0;
  }

  forward(x: tf.Tensor, opts: ForwardOptions = {}): tf.Tensor {
    this.assertAlive();
    const applyMask = opts.applyMask ?? true;
    const training = opts.training ?? false;
    const call = training ? this.dropoutCalls++ : -1;
    let site = 0;
    const dropout = (t: tf.Tensor, rate: number): tf.Tensor => {
      if (!(rate >= 0 && rate < 1)) throw new Error(`dropout: rate must be in [0, 1), got ${rate}.`);
      if (!training || rate === 0) return t;
      // drawn in JS from the seeded stream: the same masks on every backend
      const u = this.dropoutRng.fork(`${call}/${site++}`).uniformArray(t.size);
      const scale = 1 / (1 - rate);
      return tf.mul(t, tf.tensor(u.map((v) => (v >= rate ? scale : 0)), t.shape, 'float32'));
    };
    const bnUpdates: Array<[string, tf.Tensor]> = [];
    const paramParts = (name: string) => {
      const value = opts.overrides?.get(name) ?? this.params.get(name);
      if (!value) throw new Error(`Unknown parameter '${name}'`);
      return { value, mask: applyMask ? this.masks.get(name) : undefined };
    };
    const ctx: ForwardContext = {
      training,
      dropout,
      param: (name) => {
        const { value, mask } = paramParts(name);
        return mask ? tf.mul(value, mask) : value;
      },
      paramParts,
      fused: opts.fusedKernels ?? true,
      gates: opts.gates,
      unitMask: (name) => this.unitMasks.get(name),
      record: opts.record,
      bnUpdates,
      buffer: (name) => {
        const b = this.buffers.get(name);
        if (!b) throw new Error(`Unknown buffer '${name}'`);
        return b;
      },
    };
    const y = this.forwardFn(x, ctx);
    this.pendingBn.push(...bnUpdates);
    return y;
  }

  private pendingBn: Array<[string, tf.Tensor]> = [];

  /** Apply (or drop) the BatchNorm running-stat updates queued by training-mode forward passes. */
  commitBatchNorm(apply = true): void {
    for (const [name, t] of this.pendingBn) {
      if (apply) this.buffers.get(name)!.assign(t);
      t.dispose();
    }
    this.pendingBn = [];
  }

  // ---- masks -------------------------------------------------------------------------------

  /** Install a mask on the prunable kernels. Raw weights at pruned positions are set to zero too. */
  setMask(mask: Mask): void {
    this.assertAlive();
    mask.validateFor(this);
    for (const p of this.prunable) {
      const data = mask.get(p.name);
      const t = tf.tensor(Float32Array.from(data), p.shape, 'float32');
      this.masks.get(p.name)?.dispose();
      this.masks.set(p.name, t);
      const v = this.params.get(p.name)!;
      tf.tidy(() => v.assign(tf.mul(v, t)));
    }
  }

  /** Remove all masks (dense network). */
  clearMask(): void {
    for (const t of this.masks.values()) t.dispose();
    this.masks.clear();
  }

  hasMask(): boolean { return this.masks.size > 0; }

  /** The current mask as 0/1 arrays (all ones where no mask is installed). */
  maskArrays(): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    for (const p of this.prunable) {
      const t = this.masks.get(p.name);
      out.set(p.name, t ? Uint8Array.from(t.dataSync()) : new Uint8Array(p.size).fill(1));
    }
    return out;
  }

  /** Structured unit masks (1 = kept) for a unit group; undefined = all kept. */
  setUnitMask(group: string, keep: Float32Array | number[]): void {
    const g = this.unitGroups.find((u) => u.name === group);
    if (!g) throw new Error(`Unknown unit group '${group}'. Known: ${this.unitGroups.map((u) => u.name).join(', ')}`);
    if (keep.length !== g.size) throw new Error(`Unit mask for ${group} has ${keep.length} entries, expected ${g.size}.`);
    this.unitMasks.get(group)?.dispose();
    this.unitMasks.set(group, tf.tensor1d(Float32Array.from(keep)));
  }

  unitMaskArray(group: string): Float32Array {
    const g = this.unitGroups.find((u) => u.name === group);
    if (!g) throw new Error(`Unknown unit group '${group}'.`);
    const t = this.unitMasks.get(group);
    return t ? Float32Array.from(t.dataSync()) : new Float32Array(g.size).fill(1);
  }

  // ---- weights I/O -------------------------------------------------------------------------

  /** Raw parameter values (not multiplied by masks). */
  getWeights(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [n, v] of this.params) out.set(n, Float32Array.from(v.dataSync()));
    return out;
  }

  /** Effective weights W ⊙ M of the prunable kernels. */
  effectiveWeights(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const p of this.prunable) {
      const v = this.params.get(p.name)!, m = this.masks.get(p.name);
      if (!m) { out.set(p.name, Float32Array.from(v.dataSync())); continue; }
      const e = tf.mul(v, m);
      out.set(p.name, e.dataSync() as Float32Array);
      e.dispose();
    }
    return out;
  }

  setWeights(values: Map<string, Float32Array>): void {
    for (const [n, data] of values) {
      const p = this.paramInfo(n);
      if (data.length !== p.size) throw new Error(`setWeights: ${n} has ${data.length} values, expected ${p.size} (shape [${p.shape}]).`);
      const t = tf.tensor(data, p.shape, 'float32');
      this.params.get(n)!.assign(t);
      t.dispose();
    }
  }

  getBuffers(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [n, v] of this.buffers) out.set(n, Float32Array.from(v.dataSync()));
    return out;
  }

  setBuffers(values: Map<string, Float32Array>): void {
    for (const [n, data] of values) {
      const b = this.buffers.get(n);
      if (!b) throw new Error(`setBuffers: unknown buffer ${n}`);
      const t = tf.tensor(data, b.shape, 'float32');
      b.assign(t);
      t.dispose();
    }
  }

  /** Predict logits in eval mode, in batches. */
  predict(x: tf.Tensor, batchSize = 1000): tf.Tensor {
    const n = x.shape[0];
    const parts: tf.Tensor[] = [];
    for (let i = 0; i < n; i += batchSize) {
      parts.push(tf.tidy(() => this.forward(x.slice(i, Math.min(batchSize, n - i)))));
    }
    const out = tf.concat(parts);
    parts.forEach((p) => p.dispose());
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.params.values()) v.dispose();
    for (const v of this.buffers.values()) v.dispose();
    for (const t of this.masks.values()) t.dispose();
    for (const t of this.unitMasks.values()) t.dispose();
    this.commitBatchNorm(false);
  }

  private assertAlive(): void {
    if (this.disposed) throw new Error(`Net ${this.name} has been disposed.`);
  }
}

let counter = 0;
function uid(): number { return ++counter; }
