/**
 * Structured-pruning bookkeeping for WRNs and DenseNet-BC: read a net's config and per-block interior
 * profile, apply a prune history as unit masks, and physically compress a masked net into a NEW
 * smaller net whose interior widths are the kept counts (conv1 output filters, BN2 entries + running
 * stats and conv2 input channels sliced; TF.js kernel layout [kh, kw, in, out]). WRN blocks with
 * nothing kept become shortcut-only; DenseNet layers with nothing kept output zero channels. The
 * compressed net has no unit masks, so timing it measures the real small net.
 */
import type { Net } from '../nn/net';
import { buildModel, wrnBlocks, WrnConfig } from '../models';
import { Cost, InteriorProfile } from './families';
import { groupPrefixes, StructuredConfig, structuredConfigOf, structuredCost } from './arch';

/** One removed channel, in pruning order. */
export interface PruneEvent {
  /** Unit-group name, e.g. 's2b1/mid'. */
  block: string;
  channel: number;
  /** Criterion value that selected it (Fisher Δ, L1 norm, or the random draw). */
  score: number;
  /** Fine-tuning steps done before this prune (cumulative). */
  step: number;
}

/** Block names of WRN-d in block order: s1b1, s1b2, ..., s3bn. */
export function wrnBlockNames(depth: number): string[] {
  const n = wrnBlocks(depth) / 3;
  return [1, 2, 3].flatMap((s) => Array.from({ length: n }, (_, b) => `s${s}b${b + 1}`));
}

/**
 * The WRN config a net was built from, with `interior` = its built interior widths (unit masks
 * ignored). Depth and width come from the net's name 'wrn-<d>-<k>' (as buildWrn names it).
 */
export function wrnConfigOf(net: Net): WrnConfig {
  const cfg = net.config;
  if (!cfg || cfg.arch !== 'wrn') throw new Error(`Net '${net.name}' is not a WRN built by buildModel; structured pruning supports WRNs only.`);
  const { depth, widthFactor } = cfg;
  const sizes = new Map(net.unitGroups.map((g) => [g.name, g.size]));
  const interior = wrnBlockNames(depth).map((b) => sizes.get(`${b}/mid`) ?? 0);
  const [h, w, c] = net.inputShape;
  return { arch: 'wrn', depth, widthFactor, interior, inputShape: [h, w, c], numClasses: net.numClasses };
}

/** Kept (live) channel indices of a unit group, from its unit mask; throws on non-0/1 entries. */
export function keptChannels(net: Net, group: string): number[] {
  const m = net.unitMaskArray(group);
  const out: number[] = [];
  m.forEach((v, i) => {
    if (v !== 0 && v !== 1) throw new Error(`Unit mask of ${group} has entry ${v} at ${i}; structured masks hold only 0 and 1.`);
    if (v === 1) out.push(i);
  });
  return out;
}

/** Per-block interior profile of a (masked) net: sizes C_b and kept counts (r_b = kept_b / C_b). */
export function interiorProfile(net: Net): InteriorProfile {
  const config = wrnConfigOf(net);
  const names = wrnBlockNames(config.depth);
  const kept = names.map((b) => (net.unitGroups.some((g) => g.name === `${b}/mid`) ? keptChannels(net, `${b}/mid`).length : 0));
  return { config, sizes: config.interior!.slice(), kept };
}

/** Kept (live) channel counts per group prefix, in order (0 for a group the net does not have). */
export function keptInterior(net: Net, cfg: StructuredConfig = structuredConfigOf(net)): number[] {
  const has = new Set(net.unitGroups.map((g) => g.name));
  return groupPrefixes(cfg).map((b) => (has.has(`${b}/mid`) ? keptChannels(net, `${b}/mid`).length : 0));
}

/** The config of the compressed net (WRN or DenseNet-BC): interior widths = kept counts. */
export function compressedConfig(net: Net): StructuredConfig {
  const cfg = structuredConfigOf(net);
  return { ...cfg, interior: keptInterior(net, cfg) };
}

/** Parameters and MACs of the net once compressed (what a masked net really costs). */
export function liveCost(net: Net): Cost {
  return structuredCost(compressedConfig(net));
}

/** Set the unit masks of `net` to "everything removed by `history`" (validates every event). */
export function applyHistory(net: Net, history: PruneEvent[]): void {
  const masks = new Map(net.unitGroups.map((g) => [g.name, new Float32Array(g.size).fill(1)]));
  history.forEach((e, i) => {
    const m = masks.get(e.block);
    if (!m) throw new Error(`Prune history entry ${i}: unknown block '${e.block}' for ${net.name}. Known: ${[...masks.keys()].join(', ')}.`);
    if (!Number.isInteger(e.channel) || e.channel < 0 || e.channel >= m.length) {
      throw new Error(`Prune history entry ${i}: channel ${e.channel} is outside 0..${m.length - 1} of ${e.block}.`);
    }
    if (m[e.channel] === 0) throw new Error(`Prune history entry ${i}: ${e.block} channel ${e.channel} was already removed (duplicate entry).`);
    m[e.channel] = 0;
  });
  for (const [g, m] of masks) net.setUnitMask(g, m);
}

/** Keep output channels `keep` of a [kh, kw, in, out] kernel. */
function sliceOut(w: Float32Array, [kh, kw, inC, outC]: number[], keep: number[]): Float32Array {
  const k = keep.length, r = new Float32Array(kh * kw * inC * k);
  for (let s = 0; s < kh * kw * inC; s++) for (let j = 0; j < k; j++) r[s * k + j] = w[s * outC + keep[j]];
  return r;
}

/** Keep input channels `keep` of a [kh, kw, in, out] kernel. */
function sliceIn(w: Float32Array, [kh, kw, inC, outC]: number[], keep: number[]): Float32Array {
  const k = keep.length, r = new Float32Array(kh * kw * k * outC);
  for (let s = 0; s < kh * kw; s++) for (let j = 0; j < k; j++) {
    r.set(w.subarray((s * inC + keep[j]) * outC, (s * inC + keep[j] + 1) * outC), (s * k + j) * outC);
  }
  return r;
}

function pick(v: Float32Array, keep: number[]): Float32Array { return Float32Array.from(keep, (i) => v[i]); }

/**
 * A new, smaller net (WRN or DenseNet-BC) holding the masked net's function: interior widths = kept
 * counts, weights and BN running stats copied, pruned channels dropped. Effective (weight-masked)
 * kernels are copied, so any unstructured mask is baked in. The source net is untouched; the caller
 * owns the result.
 */
export function compress(net: Net): Net {
  const full = structuredConfigOf(net);
  const keeps = new Map<string, number[]>();
  for (const g of net.unitGroups) keeps.set(g.name, keptChannels(net, g.name));
  const cfg: StructuredConfig = { ...full, interior: groupPrefixes(full).map((b) => keeps.get(`${b}/mid`)?.length ?? 0) };
  const small = buildModel(cfg, { inputShape: full.inputShape, numClasses: full.numClasses });
  const raw = net.getWeights(), eff = net.effectiveWeights();
  for (const [n, v] of eff) raw.set(n, v);
  const bufs = net.getBuffers();
  const weights = new Map<string, Float32Array>(), buffers = new Map<string, Float32Array>();
  for (const p of small.info) {
    const v = raw.get(p.name);
    if (!v) throw new Error(`compress: parameter ${p.name} of the compressed net has no source in ${net.name}.`);
    weights.set(p.name, v);
  }
  for (const n of small.buffers.keys()) {
    const v = bufs.get(n);
    if (!v) throw new Error(`compress: buffer ${n} of the compressed net has no source in ${net.name}.`);
    buffers.set(n, v);
  }
  for (const g of net.unitGroups) {
    const keep = keeps.get(g.name)!;
    if (keep.length === 0) continue; // block collapsed: no conv1/bn2/conv2 in the small net
    const b = g.name.replace(/\/mid$/, '');
    weights.set(g.producer, sliceOut(raw.get(g.producer)!, net.paramInfo(g.producer).shape, keep));
    weights.set(g.consumer, sliceIn(raw.get(g.consumer)!, net.paramInfo(g.consumer).shape, keep));
    for (const k of ['gamma', 'beta']) weights.set(`${b}/bn2/${k}`, pick(raw.get(`${b}/bn2/${k}`)!, keep));
    for (const k of ['mean', 'var']) buffers.set(`${b}/bn2/${k}`, pick(bufs.get(`${b}/bn2/${k}`)!, keep));
  }
  small.setWeights(weights);
  small.setBuffers(buffers);
  return small;
}

export interface ReplayOptions {
  inputShape?: [number, number, number];
  numClasses?: number;
  /**
   * 'full-net' (authors): init the FULL net, mask, slice, so compressed convs keep the full net's
   * fan-out init std. 'compressed': init the compressed config directly (fan-out of the small conv).
   */
  init?: 'full-net' | 'compressed';
}

/**
 * The "pruned architecture from scratch" (Crowley et al., arXiv 1810.04622): a freshly initialised net (seed) of `config`
 * with the channels of `history` removed, physically compressed. No learnt weights are used.
 */
export function replayHistory(config: StructuredConfig, history: PruneEvent[], seed: number, opts: ReplayOptions = {}): Net {
  if (config.arch !== 'wrn' && config.arch !== 'densenet') throw new Error(`replayHistory: config.arch must be 'wrn' or 'densenet', got '${(config as { arch: string }).arch}'.`);
  const fullNet = buildModel(config, { seed, inputShape: opts.inputShape, numClasses: opts.numClasses });
  try {
    applyHistory(fullNet, history);
    if ((opts.init ?? 'full-net') === 'full-net') return compress(fullNet);
    if (opts.init !== 'compressed') throw new Error(`replayHistory: init must be 'full-net' or 'compressed', got '${opts.init}'.`);
    const cfg = compressedConfig(fullNet);
    return buildModel(cfg, { seed, inputShape: cfg.inputShape, numClasses: cfg.numClasses });
  } finally {
    fullNet.dispose();
  }
}

/** Weights, BN buffers and unit masks of a net, as plain arrays (a pruning checkpoint). */
export interface NetSnapshot {
  weights: Map<string, Float32Array>;
  buffers: Map<string, Float32Array>;
  unitMasks: Map<string, Float32Array>;
}

export function takeSnapshot(net: Net): NetSnapshot {
  return {
    weights: net.getWeights(), buffers: net.getBuffers(),
    unitMasks: new Map(net.unitGroups.map((g) => [g.name, net.unitMaskArray(g.name)])),
  };
}

