/**
 * Effective sparsity (Vysogorets & Kempe, "Connectivity Matters: Neural Network Pruning Through the
 * Lens of Effective Sparsity", JMLR 2023): a kept weight is ACTIVE when it lies on some path from an
 * input to an output through kept weights; the others are as good as pruned. At extreme sparsity the
 * effective sparsity (1 − active / all weights) can be much higher than the nominal one.
 *
 * The net is read as a graph of unit groups (dense units or conv channels) from its build config
 * (models.ts): each prunable kernel is an edge group from its input units to its own output units,
 * BatchNorm, activations, pooling and flatten map channel to channel, residual additions join two
 * groups channel-wise, and a structured unit mask of 0 (WRN interior channels) cuts a unit. Units are
 * channels for conv layers: a conv weight is active when its input channel is reachable from the
 * input and its output channel reaches an output, whatever the spatial position (border taps that
 * only ever see zero padding are not singled out). Biases and BN shifts are not paths: a unit cut off
 * from the input passes on a constant, not a signal.
 */
import type { Net } from '../nn/net';
import { Mask } from '../mask';

/** Per prunable kernel. */
export interface EffectiveLayer {
  name: string;
  kept: number;
  /** Kept weights on some input→output path. */
  active: number;
  /** active / size. */
  effectiveDensity: number;
  /** Output units (channels) of this kernel that no path from the input reaches. */
  unitsNoInput: number;
  /** Output units (channels) of this kernel with no path on to the net's output. */
  unitsNoOutput: number;
}

export interface EffectiveSparsity {
  layers: EffectiveLayer[];
  size: number;
  kept: number;
  active: number;
  /** 1 − kept / size. */
  sparsity: number;
  /** 1 − active / size (Vysogorets & Kempe). */
  effectiveSparsity: number;
  /** active / kept: the fraction of kept weights that lie on some input→output path (1 when nothing is kept). */
  activeFraction: number;
  /** Input features (pixels × channels for dense first layers, channels for conv) with no path to the output. */
  inputsNoOutput: number;
}

// ---- the unit graph -----------------------------------------------------------------------------

interface GNode { size: number; alive?: Float32Array }
interface KernelEdge {
  kind: 'kernel'; param: string; from: number; to: number;
  /** Kernel rows (input units) and columns (output units); row r reads unit `r % fromMod` of the source (flatten of NHWC). */
  rows: number; cols: number; fromMod: number;
}
interface IdentityEdge { kind: 'identity'; from: number; to: number }
type GEdge = KernelEdge | IdentityEdge;

/** Graph of unit groups: node 0 is the input, the last node the output (logits). Nodes are in topological order. */
export class UnitGraph {
  readonly nodes: GNode[] = [];
  readonly edges: GEdge[] = [];
  node(size: number, alive?: Float32Array): number { this.nodes.push({ size, alive }); return this.nodes.length - 1; }
  /** A prunable kernel [.., in, out] (dense [in, out] or conv [kh, kw, in, out]) from `from` to a new node; returns it. */
  kernel(net: Net, param: string, from: number, alive?: Float32Array): number {
    const shape = net.paramInfo(param).shape;
    const cols = shape[shape.length - 1], rows = net.paramInfo(param).size / cols;
    const fromSize = this.nodes[from].size;
    const inUnits = shape[shape.length - 2];
    // dense after a conv flatten: rows = H·W·C, read channel r % C; conv: rows = kh·kw·in, read r % in
    if (inUnits % fromSize !== 0) throw new Error(`effective sparsity: ${param} has ${inUnits} inputs, its source has ${fromSize} units.`);
    const to = this.node(cols, alive);
    this.edges.push({ kind: 'kernel', param, from, to, rows, cols, fromMod: fromSize });
    return to;
  }
  /** Channel-wise sum of nodes (residual addition): a new node fed by identity edges. */
  sum(...from: number[]): number {
    const size = this.nodes[from[0]].size;
    if (from.some((f) => this.nodes[f].size !== size)) throw new Error(`effective sparsity: residual sum of groups of sizes ${from.map((f) => this.nodes[f].size)}.`);
    const to = this.node(size);
    for (const f of from) this.edges.push({ kind: 'identity', from: f, to });
    return to;
  }
}

/** Which units are reachable from the input (fwd) and reach the output (bwd), given the mask. */
export function reachability(g: UnitGraph, mask: Mask): { fwd: Uint8Array[]; bwd: Uint8Array[] } {
  const n = g.nodes.length;
  const fwd = g.nodes.map((nd) => new Uint8Array(nd.size));
  const bwd = g.nodes.map((nd) => new Uint8Array(nd.size));
  const incoming: GEdge[][] = g.nodes.map(() => []), outgoing: GEdge[][] = g.nodes.map(() => []);
  for (const e of g.edges) { incoming[e.to].push(e); outgoing[e.from].push(e); }
  const alive = (v: number, u: number) => !g.nodes[v].alive || g.nodes[v].alive![u] !== 0;
  fwd[0].fill(1);
  for (let v = 1; v < n; v++) {
    for (const e of incoming[v]) {
      if (e.kind === 'identity') { for (let u = 0; u < g.nodes[v].size; u++) if (fwd[e.from][u]) fwd[v][u] = 1; continue; }
      const m = mask.get(e.param), src = fwd[e.from];
      for (let r = 0; r < e.rows; r++) {
        if (!src[r % e.fromMod]) continue;
        const o = r * e.cols;
        for (let c = 0; c < e.cols; c++) if (m[o + c]) fwd[v][c] = 1;
      }
    }
    for (let u = 0; u < g.nodes[v].size; u++) if (!alive(v, u)) fwd[v][u] = 0;
  }
  bwd[n - 1].fill(1);
  for (let v = n - 2; v >= 0; v--) {
    for (const e of outgoing[v]) {
      const dst = bwd[e.to];
      if (e.kind === 'identity') { for (let u = 0; u < g.nodes[v].size; u++) if (dst[u]) bwd[v][u] = 1; continue; }
      const m = mask.get(e.param);
      for (let r = 0; r < e.rows; r++) {
        const o = r * e.cols;
        for (let c = 0; c < e.cols; c++) if (m[o + c] && dst[c]) { bwd[v][r % e.fromMod] = 1; break; }
      }
    }
    for (let u = 0; u < g.nodes[v].size; u++) if (!alive(v, u)) bwd[v][u] = 0;
  }
  return { fwd, bwd };
}

/** The 0/1 arrays of active kept weights, by kernel name, and the reachability they came from. */
function activeArrays(g: UnitGraph, mask: Mask) {
  const { fwd, bwd } = reachability(g, mask);
  const active = new Map<string, Uint8Array>();
  for (const e of g.edges) {
    if (e.kind !== 'kernel') continue;
    const m = mask.get(e.param), src = fwd[e.from], dst = bwd[e.to], a = new Uint8Array(m.length);
    for (let r = 0; r < e.rows; r++) {
      if (!src[r % e.fromMod]) continue;
      const o = r * e.cols;
      for (let c = 0; c < e.cols; c++) if (m[o + c] && dst[c]) a[o + c] = 1;
    }
    active.set(e.param, a);
  }
  return { active, fwd, bwd };
}

/** Effective sparsity and disconnected units of a mask on a graph. */
export function effectiveSparsityOfGraph(g: UnitGraph, mask: Mask): EffectiveSparsity {
  const { active: act, fwd, bwd } = activeArrays(g, mask);
  const count = (a: Uint8Array) => a.reduce((s, v) => s + v, 0);
  const layers: EffectiveLayer[] = g.edges.filter((e): e is KernelEdge => e.kind === 'kernel').map((e) => {
    let noIn = 0, noOut = 0;
    for (let c = 0; c < e.cols; c++) { if (!fwd[e.to][c]) noIn++; if (!bwd[e.to][c]) noOut++; }
    const active = count(act.get(e.param)!);
    return { name: e.param, kept: count(mask.get(e.param)), active, effectiveDensity: active / (e.rows * e.cols), unitsNoInput: noIn, unitsNoOutput: noOut };
  });
  const size = g.edges.reduce((a, e) => a + (e.kind === 'kernel' ? e.rows * e.cols : 0), 0);
  const kept = layers.reduce((a, l) => a + l.kept, 0), active = layers.reduce((a, l) => a + l.active, 0);
  return {
    layers, size, kept, active, sparsity: 1 - kept / size, effectiveSparsity: 1 - active / size,
    activeFraction: kept === 0 ? 1 : active / kept, inputsNoOutput: bwd[0].reduce((a, b) => a + (b ? 0 : 1), 0),
  };
}

// ---- graphs of the model zoo (models.ts) ---------------------------------------------------------

/** Architectures (ModelConfig.arch) whose unit graph `unitGraph` knows. */
export const EFFECTIVE_ARCHS: readonly string[] = ['ffnn', 'cnn', 'resnet', 'wrn'];

/** The unit graph of a net built by buildModel (ffnn, cnn, resnet, wrn), or an error naming the architecture. */
export function unitGraph(net: Net): UnitGraph {
  const cfg = net.config;
  if (!cfg) throw new Error(`effective sparsity: ${net.name} has no build config (nets from buildModel have one).`);
  const g = new UnitGraph();
  const k = (name: string) => `${name}/kernel`;
  const has = (name: string) => net.info.some((p) => p.name === k(name));
  switch (cfg.arch) {
    case 'ffnn': {
      let h = g.node(net.paramInfo('fc1/kernel').shape[0]);
      for (let i = 1; has(`fc${i}`); i++) h = g.kernel(net, k(`fc${i}`), h);
      return g;
    }
    case 'cnn': {
      let h = g.node(net.inputShape[2]);
      for (let i = 1; has(`conv${i}`); i++) h = g.kernel(net, k(`conv${i}`), h);
      g.kernel(net, k('fc'), h);
      return g;
    }
    case 'resnet': {
      let h = g.kernel(net, k('stem/conv'), g.node(net.inputShape[2]));
      for (let s = 1; s <= 3; s++) for (let b = 1; has(`s${s}b${b}/conv1`); b++) {
        const name = `s${s}b${b}`;
        const r = g.kernel(net, k(`${name}/conv2`), g.kernel(net, k(`${name}/conv1`), h));
        h = g.sum(r, has(`${name}/shortcut`) ? g.kernel(net, k(`${name}/shortcut`), h) : h);
      }
      g.kernel(net, k('fc'), h);
      return g;
    }
    case 'wrn': {
      let h = g.kernel(net, k('stem/conv'), g.node(net.inputShape[2]));
      for (let s = 1; s <= 3; s++) for (let b = 1; has(`s${s}b${b}/conv1`) || has(`s${s}b${b}/shortcut`) || net.info.some((p) => p.name === `s${s}b${b}/bn1/gamma`); b++) {
        const name = `s${s}b${b}`;
        const parts: number[] = [];
        if (has(`${name}/conv1`)) {
          const mid = g.kernel(net, k(`${name}/conv1`), h, net.unitGroups.some((u) => u.name === `${name}/mid`) ? net.unitMaskArray(`${name}/mid`) : undefined);
          parts.push(g.kernel(net, k(`${name}/conv2`), mid));
        }
        // the projection shortcut reads the pre-activated input, which is channel-wise the block input
        parts.push(has(`${name}/shortcut`) ? g.kernel(net, k(`${name}/shortcut`), h) : h);
        h = parts.length > 1 ? g.sum(...parts) : parts[0];
      }
      g.kernel(net, k('fc'), h);
      return g;
    }
    default:
      throw new Error(`effective sparsity: architecture '${(cfg as { arch: string }).arch}' is not supported (${EFFECTIVE_ARCHS.join(', ')} are).`);
  }
}

function checkedGraph(net: Net, mask: Mask): UnitGraph {
  mask.validateFor(net);
  const g = unitGraph(net);
  const covered = new Set(g.edges.filter((e): e is KernelEdge => e.kind === 'kernel').map((e) => e.param));
  const missing = net.prunable.filter((p) => !covered.has(p.name)).map((p) => p.name);
  if (missing.length) throw new Error(`effective sparsity: the graph of ${net.name} misses kernels ${missing.join(', ')}.`);
  return g;
}

/** Effective sparsity of `mask` on `net` (see the module comment). */
export function effectiveSparsity(net: Net, mask: Mask): EffectiveSparsity {
  return effectiveSparsityOfGraph(checkedGraph(net, mask), mask);
}

/** The mask of the ACTIVE weights: kept weights on some input→output path (the rest of `mask` is inert). */
export function activeMask(net: Net, mask: Mask): Mask {
  const { active } = activeArrays(checkedGraph(net, mask), mask);
  return new Mask(net.prunable.map((p) => [p.name, { shape: p.shape, data: active.get(p.name)! }]));
}

// ---- the layer-level reading of a stored run ------------------------------------------------------

const CHAIN_KERNEL = /^(fc|conv)\d+\/kernel$|^fc\/kernel$/;
const RESIDUAL_KERNEL = /^stem\/conv\/kernel$|^(s\d+b\d+)\/(conv1|conv2|shortcut)\/kernel$|^fc\/kernel$/;

/**
 * Whether a run's mask leaves no input→output path, read from its per-layer kept counts alone (what
 * every stored run records; no net needed). Chains (ffnn, cnn: kernels fc1.., conv1.., fc): some kernel
 * is empty. ResNet and WRN (stem/conv, sXbY/conv1|conv2|shortcut, fc): the stem or the classifier is
 * empty, or some block's residual branch is empty (conv1 or conv2) while its shortcut is a projection
 * conv that is empty too (an identity shortcut always passes). Then the net's output does not depend
 * on its input, at initialisation and after any training with the mask fixed: the net is a constant
 * predictor, untrainable by construction. `false`: connected at the layer level (a unit-level cut, as
 * effectiveSparsity finds with the mask itself, is not seen here). `undefined`: layer names of another
 * architecture (DenseNet's concatenations, say), which this reading does not know.
 */
export function noPathAtLayerLevel(perLayer: ReadonlyArray<{ name: string; kept: number }>): boolean | undefined {
  const names = perLayer.map((l) => l.name);
  if (names.length === 0) return undefined;
  const empty = new Set(perLayer.filter((l) => l.kept === 0).map((l) => l.name));
  if (names.every((n) => CHAIN_KERNEL.test(n))) return empty.size > 0;
  if (!names.every((n) => RESIDUAL_KERNEL.test(n)) || !names.includes('stem/conv/kernel')) return undefined;
  if (empty.has('stem/conv/kernel') || empty.has('fc/kernel')) return true;
  const blocks = new Set(names.map((n) => RESIDUAL_KERNEL.exec(n)![1]).filter((b): b is string => !!b));
  return [...blocks].some((b) => (empty.has(`${b}/conv1/kernel`) || empty.has(`${b}/conv2/kernel`)) && empty.has(`${b}/shortcut/kernel`));
}
