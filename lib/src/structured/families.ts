/**
 * Closed-form cost of WRN configs (parameters and MACs, mirroring models.ts buildWrn), the reduced
 * families trained from scratch (lower depth, lower width k, interior "bottleneck" multiplier Z),
 * parameter matching, and the copycat family (a pruned net's per-block interior profile scaled by a
 * global multiplier). MACs = multiply-accumulates of conv and linear kernels per example (BN, ReLU,
 * pooling and additions not counted); "FLOPs" in the reduced-vs-pruned notebook means these MACs.
 */
import type { Net } from '../nn/net';
import { wrnBlocks, WrnConfig } from '../models';

export interface Cost { params: number; macs: number }

export interface ShapeOptions { inputShape?: [number, number, number]; numClasses?: number }

/** MACs per example of a built net: Σ kernel size × MACs per weight (biases and BN cost nothing). */
export function macs(net: Net): number {
  return net.info.reduce((a, p) => a + (p.kind === 'kernel' ? p.size * p.macsPerWeight : 0), 0);
}

/** Stage output widths of WRN-d-k, as buildWrn rounds them. */
export function wrnStageWidths(widthFactor: number): [number, number, number] {
  if (!(widthFactor > 0)) throw new Error(`WRN widthFactor must be > 0, got ${widthFactor}.`);
  return [Math.round(16 * widthFactor), Math.round(32 * widthFactor), Math.round(64 * widthFactor)];
}

/** Full (unpruned) interior width of every block: the block's output width. */
export function wrnFullInterior(depth: number, widthFactor: number): number[] {
  const n = wrnBlocks(depth) / 3;
  const w = wrnStageWidths(widthFactor);
  return [0, 1, 2].flatMap((s) => Array<number>(n).fill(w[s]));
}

/** Interior width of every block of a config: explicit list, else int(out·Z), else out. */
export function wrnInterior(cfg: WrnConfig): number[] {
  const full = wrnFullInterior(cfg.depth, cfg.widthFactor);
  if (cfg.interior) {
    if (cfg.interior.length !== full.length) throw new Error(`WRN-${cfg.depth} has ${full.length} blocks but interior lists ${cfg.interior.length} widths.`);
    return cfg.interior.slice();
  }
  return cfg.bottleneck !== undefined ? full.map((o) => Math.floor(o * cfg.bottleneck!)) : full;
}

/**
 * Parameters and MACs of a WRN config (Zagoruyko & Komodakis 2016, arXiv 1605.07146): stem 3×3 conv (no bias); per block BN1 (2·in),
 * conv1 9·in·mid, BN2 2·mid, conv2 9·mid·out, 1×1 shortcut in·out when in ≠ out or stride 2; final BN,
 * linear with bias. A block with mid = 0 keeps BN1 and its shortcut (buildWrn does the same).
 */
export function wrnCost(cfg: WrnConfig, opts: ShapeOptions = {}): Cost {
  const [H, W, cin] = opts.inputShape ?? cfg.inputShape ?? [28, 28, 1];
  const classes = opts.numClasses ?? cfg.numClasses ?? 10;
  const mids = wrnInterior(cfg);
  const widths = wrnStageWidths(cfg.widthFactor);
  const n = mids.length / 3;
  let params = 9 * cin * 16, m = 9 * cin * 16 * H * W;
  let h = H, w = W, c = 16;
  mids.forEach((mid, i) => {
    if (!Number.isInteger(mid) || mid < 0) throw new Error(`WRN block ${i}: interior width must be a non-negative integer, got ${mid}.`);
    const s = Math.floor(i / n), stride = s > 0 && i % n === 0 ? 2 : 1, out = widths[s];
    const ho = Math.ceil(h / stride), wo = Math.ceil(w / stride);
    params += 2 * c;
    if (mid > 0) {
      params += 9 * c * mid + 2 * mid + 9 * mid * out;
      m += (9 * c * mid + 9 * mid * out) * ho * wo;
    }
    if (c !== out || stride !== 1) { params += c * out; m += c * out * ho * wo; }
    h = ho; w = wo; c = out;
  });
  params += 2 * c + c * classes + classes;
  m += c * classes;
  return { params, macs: m };
}

export type FamilyKind = 'base' | 'depth' | 'width' | 'bottleneck' | 'copycat';

export interface FamilyMember extends Cost {
  kind: FamilyKind;
  /** Readable label, e.g. 'WRN-16-2 ×0.5', 'WRN-10-2', 'copycat m=0.73'. */
  label: string;
  config: WrnConfig;
}

export interface ReducedFamilyOptions extends ShapeOptions {
  /** Lower depths (6n+4) at the base width. */
  depths?: number[];
  /** Lower width factors k at the base depth. */
  widths?: number[];
  /** Interior multipliers Z (every block's interior = int(out·Z)) at the base depth and width. */
  bottlenecks?: number[];
  /** Include the base net itself (default true). */
  includeBase?: boolean;
}

/** Reduced networks of a base WRN-d-k (Crowley et al., arXiv 1810.04622), each with its parameter count and MACs. */
export function reducedFamily(base: { depth: number; widthFactor: number }, opts: ReducedFamilyOptions = {}): FamilyMember[] {
  const mk = (kind: FamilyKind, label: string, config: WrnConfig): FamilyMember => ({ kind, label, config, ...wrnCost(config, opts) });
  const b: WrnConfig = { arch: 'wrn', depth: base.depth, widthFactor: base.widthFactor };
  const out: FamilyMember[] = [];
  if (opts.includeBase ?? true) out.push(mk('base', `WRN-${base.depth}-${base.widthFactor}`, b));
  for (const d of opts.depths ?? []) out.push(mk('depth', `WRN-${d}-${base.widthFactor}`, { ...b, depth: d }));
  for (const k of opts.widths ?? []) out.push(mk('width', `WRN-${base.depth}-${k}`, { ...b, widthFactor: k }));
  for (const z of opts.bottlenecks ?? []) {
    if (!(z > 0)) throw new Error(`reducedFamily: bottleneck multipliers must be > 0, got ${z}.`);
    out.push(mk('bottleneck', `WRN-${base.depth}-${base.widthFactor} ×${z}`, { ...b, bottleneck: z }));
  }
  return out;
}

/** The family member whose parameter count is closest to `target` (ties: the earlier member). */
export function matchParams<T extends Cost>(target: number, family: T[]): T {
  if (!(target > 0)) throw new Error(`matchParams: target must be a positive parameter count, got ${target}.`);
  if (family.length === 0) throw new Error('matchParams: the family is empty; build it with reducedFamily or copycatFamily first.');
  let best = family[0];
  for (const f of family) if (Math.abs(f.params - target) < Math.abs(best.params - target)) best = f;
  return best;
}

/** A per-block interior profile: full widths C_b and kept counts kept_b (r_b = kept_b / C_b). */
export interface InteriorProfile {
  config: WrnConfig;
  /** C_b: interior width of each block in the unpruned config. */
  sizes: number[];
  /** kept_b: live channels of each block. */
  kept: number[];
}

export interface CopycatMember extends FamilyMember { multiplier: number; budget: number }

/** Interior widths round(m · r_b · C_b) = round(m · kept_b), min 0 (Math.round: halves round up). */
export function copycatInterior(profile: InteriorProfile, m: number): number[] {
  if (!(m >= 0) || !Number.isFinite(m)) throw new Error(`copycat multiplier must be a finite number >= 0, got ${m}.`);
  return profile.kept.map((k) => Math.max(0, Math.round(m * k)));
}

/**
 * Copycat family (our interpretation of Crowley et al., arXiv 1810.04622, abstract): per block, interior = round(m · r_b · C_b) with one
 * global multiplier m per budget, chosen so the parameter count is as close to the budget as the
 * rounding allows (m is not capped at 1: a budget above the template's size widens it). Params are a
 * non-decreasing step function of m, so m is found by bisection on the first m reaching the budget,
 * then the closer of that step and the one below it is kept.
 */
export function copycatFamily(profile: InteriorProfile, budgets: number[], opts: ShapeOptions = {}): CopycatMember[] {
  if (profile.kept.length !== profile.sizes.length) throw new Error(`copycatFamily: profile has ${profile.kept.length} kept counts but ${profile.sizes.length} sizes.`);
  if (profile.kept.every((k) => k === 0)) throw new Error('copycatFamily: the template profile keeps no interior channel; use a less pruned checkpoint.');
  const { bottleneck: _unused, ...base } = profile.config;
  const configAt = (m: number): WrnConfig => ({ ...base, interior: copycatInterior(profile, m) });
  const cost = (m: number) => wrnCost(configAt(m), opts);
  const floor = cost(0).params;
  return budgets.map((budget) => {
    if (!(budget > 0)) throw new Error(`copycatFamily: budgets must be positive parameter counts, got ${budget}.`);
    let m = 0;
    if (budget > floor) {
      // invariant: cost(lo) < budget <= cost(hi)
      let lo = 0, hi = 1;
      while (cost(hi).params < budget) {
        lo = hi; hi *= 2;
        if (hi > 1e6) throw new Error(`copycatFamily: budget ${budget} is unreachable from this profile.`);
      }
      for (let it = 0; it < 200 && hi - lo > 1e-12 * hi; it++) {
        const mid = (lo + hi) / 2;
        if (cost(mid).params >= budget) hi = mid; else lo = mid;
      }
      m = Math.abs(cost(hi).params - budget) <= Math.abs(budget - cost(lo).params) ? hi : lo;
    }
    const config = configAt(m);
    return { kind: 'copycat' as const, label: `copycat m=${m.toFixed(3)}`, config, multiplier: m, budget, ...wrnCost(config, opts) };
  });
}
