/**
 * A pruning mask: one 0/1 array per prunable kernel, validated against a network's prunable tensors
 * (names, shapes, 0/1 entries). Value object: density, per-layer counts, equality, save/load.
 */
import * as fs from 'fs';
import type { Net } from './nn/net';
import { readSafetensors, writeSafetensors } from './safetensors';
import { writeFileAtomic } from './fsutil';

export interface MaskLayerCount { name: string; shape: number[]; size: number; kept: number; density: number }

export class Mask {
  private readonly data: Map<string, Uint8Array>;
  private readonly shapes: Map<string, number[]>;

  constructor(entries: Iterable<[string, { shape: number[]; data: ArrayLike<number> }]>) {
    this.data = new Map();
    this.shapes = new Map();
    for (const [name, { shape, data }] of entries) {
      const size = shape.reduce((a, b) => a * b, 1);
      if (data.length !== size) throw new Error(`Mask for ${name}: ${data.length} entries but shape [${shape}] has ${size}.`);
      const u = new Uint8Array(size);
      for (let i = 0; i < size; i++) {
        const v = data[i];
        if (v !== 0 && v !== 1) throw new Error(`Mask for ${name}: entry ${i} is ${v}; masks hold only 0 and 1.`);
        u[i] = v;
      }
      this.data.set(name, u);
      this.shapes.set(name, shape.slice());
    }
  }

  /** A mask that keeps everything, for the net's prunable kernels. */
  static ones(net: Net): Mask {
    return new Mask(net.prunable.map((p) => [p.name, { shape: p.shape, data: new Uint8Array(p.size).fill(1) }]));
  }

  /** The mask currently installed in a net (ones where none is). */
  static fromNet(net: Net): Mask {
    const arr = net.maskArrays();
    return new Mask(net.prunable.map((p) => [p.name, { shape: p.shape, data: arr.get(p.name)! }]));
  }

  get names(): string[] { return [...this.data.keys()]; }

  get(name: string): Uint8Array {
    const d = this.data.get(name);
    if (!d) throw new Error(`Mask has no tensor '${name}'. It has: ${this.names.join(', ')}`);
    return d;
  }

  shape(name: string): number[] { this.get(name); return this.shapes.get(name)!.slice(); }

  /** Check names and shapes against the net's prunable kernels; throws naming the mismatch. */
  validateFor(net: Net): void {
    const want = net.prunable;
    const missing = want.filter((p) => !this.data.has(p.name)).map((p) => p.name);
    const extra = this.names.filter((n) => !want.some((p) => p.name === n));
    if (missing.length || extra.length) {
      throw new Error(`Mask does not match ${net.name}: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}].`);
    }
    for (const p of want) {
      const s = this.shapes.get(p.name)!;
      if (s.length !== p.shape.length || s.some((d, i) => d !== p.shape[i])) {
        throw new Error(`Mask shape mismatch for ${p.name}: mask [${s}] vs parameter [${p.shape}].`);
      }
    }
  }

  get size(): number { let n = 0; for (const d of this.data.values()) n += d.length; return n; }
  get kept(): number { let k = 0; for (const d of this.data.values()) for (let i = 0; i < d.length; i++) k += d[i]; return k; }
  get density(): number { return this.kept / this.size; }
  get sparsity(): number { return 1 - this.density; }

  perLayer(): MaskLayerCount[] {
    return this.names.map((name) => {
      const d = this.data.get(name)!;
      let kept = 0;
      for (let i = 0; i < d.length; i++) kept += d[i];
      return { name, shape: this.shapes.get(name)!.slice(), size: d.length, kept, density: kept / d.length };
    });
  }

  /** Names of layers with no weight kept (layer collapse). */
  emptyLayers(): string[] { return this.perLayer().filter((l) => l.kept === 0).map((l) => l.name); }

  equals(other: Mask): boolean {
    if (this.names.length !== other.names.length) return false;
    for (const [n, d] of this.data) {
      const o = other.data.get(n);
      if (!o || o.length !== d.length) return false;
      for (let i = 0; i < d.length; i++) if (d[i] !== o[i]) return false;
    }
    return true;
  }

  /** Fraction of kept weights shared with another mask: |A ∩ B| / |A ∪ B|. */
  jaccard(other: Mask): number {
    let inter = 0, union = 0;
    for (const [n, d] of this.data) {
      const o = other.get(n);
      for (let i = 0; i < d.length; i++) { inter += d[i] & o[i]; union += d[i] | o[i]; }
    }
    return union === 0 ? 1 : inter / union;
  }

  /** Save as safetensors (uint8 tensors named like the parameters), atomically. */
  save(path: string): void {
    writeFileAtomic(path, writeSafetensors(this.names.map((n) => ({ name: n, dtype: 'U8', shape: this.shapes.get(n)!, data: this.data.get(n)! }))));
  }

  static load(path: string): Mask {
    if (!fs.existsSync(path)) throw new Error(`Mask file not found: ${path}`);
    const tensors = readSafetensors(fs.readFileSync(path), path);
    return new Mask(tensors.map((t) => [t.name, { shape: t.shape, data: t.data as Uint8Array }]));
  }
}
