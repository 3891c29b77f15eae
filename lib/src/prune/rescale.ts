/**
 * SBP-SR (Hayou et al. 2021): sensitivity-based pruning (SNIP) with a Stable Reparametrisation.
 * - FFNN/CNN: after pruning an EOC-initialised net, the kept incoming weights of every output unit
 *   are rescaled once so their squared norm is σ_w² again (our reading of Hayou et al. 2021, arXiv 2002.08797):
 *       W̃_ij = δ_ij W_ij σ_w / √(Σ_j' δ_ij' W_ij'²),  W̃ = 0 for an empty unit; biases untouched.
 *   For tanh this equals the authors' `scaled_init` up to their +0.001 (dropped here).
 * - ResNets: SBP-SR means the Stable ResNet (branch × 1/√L; buildModel {arch:'resnet', stable:true}
 *   or 'resnet32_stable') pruned with SNIP; no weight rescaling (their BN would undo it).
 *
 * Layouts: dense kernels are [in, out], so a unit (row i in the formula above) is a COLUMN here. Conv kernels
 * are [kh, kw, in, out]: variant 'fanIn' (default) normalises each output channel over (kh, kw, in)
 * jointly to σ_w² (fan-in consistent, as the authors' GraSP.py); variant 'perPosition' follows the
 * authors' SNIP.py: per (kh, kw, out) over input channels, to σ_w²/(kh·kw).
 */
import type { Net } from '../nn/net';
import type { Mask } from '../mask';
import { registerScoreMethod } from './score';
import { snipScoreFromContext } from './snip';

export type RescaleVariant = 'fanIn' | 'perPosition';
export const RESCALE_VARIANTS: readonly RescaleVariant[] = ['fanIn', 'perPosition'];

export interface RescaleOptions {
  /** σ_w of the init: one number for all layers, or per prunable kernel name (e.g. 'fc1/kernel'). */
  sigmaW: number | Record<string, number> | Map<string, number>;
  variant?: RescaleVariant;
}

export interface RescaleLayer {
  name: string;
  /** Normalisation groups (output units, or (position, unit) pairs for perPosition). */
  groups: number;
  /** Groups with no kept weight (left at zero). */
  emptyGroups: number;
  /** Target squared norm per group. */
  target: number;
  /** Mean over non-empty groups of the factor applied (σ_w/‖kept‖). */
  meanFactor: number;
}

export interface RescaleResult { variant: RescaleVariant; layers: RescaleLayer[] }

function sigmaFor(o: RescaleOptions, name: string): number {
  const s = typeof o.sigmaW === 'number' ? o.sigmaW : o.sigmaW instanceof Map ? o.sigmaW.get(name) : o.sigmaW[name];
  if (s === undefined) throw new Error(`rescaleKept: no sigmaW for ${name}; pass sigmaW as a number or give every prunable kernel.`);
  if (!(s > 0) || !Number.isFinite(s)) throw new Error(`rescaleKept: sigmaW for ${name} must be a positive number, got ${s}.`);
  return s;
}

/**
 * The rescaled raw values of every prunable kernel (see the module comment): kept weights scaled
 * per group, pruned entries 0. Reads the net's raw weights; modifies nothing.
 */
export function rescaledWeights(net: Net, mask: Mask, o: RescaleOptions): { weights: Map<string, Float32Array>; result: RescaleResult } {
  const variant = o.variant ?? 'fanIn';
  if (!RESCALE_VARIANTS.includes(variant)) throw new Error(`Unknown rescale variant '${variant as string}': use ${RESCALE_VARIANTS.join(' or ')}.`);
  mask.validateFor(net);
  const raw = net.getWeights();
  const updated = new Map<string, Float32Array>();
  const layers: RescaleLayer[] = [];
  for (const p of net.prunable) {
    const sigma = sigmaFor(o, p.name);
    const w = raw.get(p.name)!, m = mask.get(p.name);
    const out = p.shape[p.shape.length - 1];
    // flat index i of a kernel [..., out] belongs to unit i % out; perPosition groups by (i / (in*out) | 0, unit)
    const perPos = variant === 'perPosition' && p.shape.length === 4;
    const inCh = p.shape.length === 4 ? p.shape[2] : p.shape[0];
    const positions = perPos ? p.shape[0] * p.shape[1] : 1;
    const groups = positions * out;
    const target = perPos ? (sigma * sigma) / positions : sigma * sigma;
    const group = (i: number) => (perPos ? Math.floor(i / (inCh * out)) * out + (i % out) : i % out);
    const sq = new Float64Array(groups);
    for (let i = 0; i < w.length; i++) if (m[i]) sq[group(i)] += w[i] * w[i];
    const factor = new Float64Array(groups);
    let empty = 0, fsum = 0;
    for (let g = 0; g < groups; g++) {
      if (sq[g] > 0) { factor[g] = Math.sqrt(target / sq[g]); fsum += factor[g]; } else empty++;
    }
    const v = new Float32Array(w.length);
    for (let i = 0; i < w.length; i++) v[i] = m[i] ? w[i] * factor[group(i)] : 0;
    updated.set(p.name, v);
    layers.push({ name: p.name, groups, emptyGroups: empty, target, meanFactor: groups > empty ? fsum / (groups - empty) : 0 });
  }
  return { weights: updated, result: { variant, layers } };
}

/**
 * Rescale the kept weights of every prunable kernel in place: sets the net's raw weights to
 * rescaledWeights (pruned entries become 0); does not install or change the mask.
 */
export function rescaleKept(net: Net, mask: Mask, o: RescaleOptions): RescaleResult {
  const r = rescaledWeights(net, mask, o);
  net.setWeights(r.weights);
  return r.result;
}

/** True if the net has BatchNorm layers (the rescaling trick is for nets without BN). */
export function hasBatchNorm(net: Net): boolean {
  return net.info.some((p) => p.layerType === 'batchnorm');
}

/** Built as a Stable ResNet (buildModel names it 'stable-resnet<depth>'). */
export function isStableResNet(net: Net): boolean {
  return net.config?.arch === 'resnet' && net.config.stable === true;
}

/** Throws the SBP-SR error for nets with BatchNorm (the rescaling would be undone by BN). */
export function assertRescalable(net: Net): void {
  if (hasBatchNorm(net)) {
    throw new Error(`SBP-SR rescaling is defined for FFNN/CNN without BatchNorm, but ${net.name} has BatchNorm layers (BN would undo it). ` +
      'For ResNets SBP-SR means the Stable ResNet pruned with SNIP: build it with stable: true (e.g. \'resnet32_stable\') and use method \'snip\' ' +
      '(pruneAtInit with \'sbp-sr\' does this for a Stable ResNet).');
  }
}

/** SBP-SR for FFNN/CNN: install the mask and rescale the kept weights. Refuses nets with BatchNorm. */
export function applySbpSr(net: Net, mask: Mask, o: RescaleOptions): RescaleResult {
  assertRescalable(net);
  net.setMask(mask);
  return rescaleKept(net, mask, o);
}

const SBP_SR_NEEDS_SIGMA = 'sbp-sr needs sigmaW (the init sigma_w, e.g. eocSigmaW(\'tanh\', 0.2).sigmaW or resolveInit(...).sigmaW) to rescale the kept weights.';

registerScoreMethod({
  name: 'sbp-sr',
  description: 'SBP-SR (Hayou et al. 2021): SNIP scores (same batch as \'snip\' for a seed), then for FFNN/CNN the kept weights of each ' +
    'output unit are rescaled to squared norm sigma_w^2 (computeMask returns them, pruneAtInit installs them; options sigmaW, variant fanIn | perPosition). ' +
    'For ResNets SBP-SR = Stable ResNet (stable: true) + SNIP, no rescaling; rescaling a net with BatchNorm is an error. Options as snip.',
  needsData: true,
  score: snipScoreFromContext,
  check: (net, o) => {
    if (hasBatchNorm(net) && !isStableResNet(net)) assertRescalable(net);
    if (!hasBatchNorm(net) && o.sigmaW === undefined) throw new Error(SBP_SR_NEEDS_SIGMA);
  },
  finish: (net, mask, o) => {
    if (hasBatchNorm(net)) return { weights: null, rescale: null, note: 'Stable ResNet: SBP-SR = SNIP on the stable parametrisation; mask installed, no rescaling' };
    if (o.sigmaW === undefined) throw new Error(SBP_SR_NEEDS_SIGMA);
    const r = rescaledWeights(net, mask, { sigmaW: o.sigmaW, variant: o.rescaleVariant });
    return { weights: r.weights, rescale: r.result, note: `SNIP mask installed and kept weights rescaled to squared norm sigma_w^2 per unit (${r.result.variant})` };
  },
});
