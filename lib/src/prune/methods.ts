/**
 * Registers the pruning-at-init methods (importing their modules) and provides `pruneAtInit`, the
 * one-call convenience: compute the mask, install it, and for 'sbp-sr' apply the rescaling.
 * Registered: random, magnitude (score.ts), snip, grasp, synflow, sbp-sr.
 */
import type { Net } from '../nn/net';
import { computeMask, PruneOptions, PruneResult } from './score';
import './snip';
import './grasp';
import './synflow';
import { applySbpSr, assertRescalable, hasBatchNorm, isStableResNet, RescaleResult, RescaleVariant } from './rescale';

export interface PruneAtInitOptions extends PruneOptions {
  /** sbp-sr: σ_w of the init (number or per kernel name); required for FFNN/CNN. */
  sigmaW?: number | Record<string, number>;
  /** sbp-sr: conv rescaling variant (default 'fanIn'). */
  rescaleVariant?: RescaleVariant;
}

export interface PruneAtInitResult extends PruneResult {
  /** The rescaling applied (sbp-sr on FFNN/CNN), else null. */
  rescale: RescaleResult | null;
  /** What was done, in words (e.g. that a Stable ResNet gets no rescaling). */
  note: string;
}

/** Compute the mask with `method`, install it on the net, and for 'sbp-sr' rescale the kept weights. */
export function pruneAtInit(net: Net, o: PruneAtInitOptions): PruneAtInitResult {
  checkPruneAtInit(net, o);
  return installMethodMask(net, computeMask(net, o), o);
}

/** Refuse an SBP-SR request that cannot be carried out, before the (possibly slow) scoring. */
export function checkPruneAtInit(net: Net, o: PruneAtInitOptions): void {
  if (o.method === 'sbp-sr' && hasBatchNorm(net) && !isStableResNet(net)) {
    assertRescalable(net);
  }
  if (o.method === 'sbp-sr' && !hasBatchNorm(net) && o.sigmaW === undefined) {
    throw new Error('sbp-sr needs sigmaW (the init sigma_w, e.g. eocSigmaW(\'tanh\', 0.2).sigmaW or resolveInit(...).sigmaW) to rescale the kept weights.');
  }
}

/** Install a mask selected for `o.method` (for 'sbp-sr' on FFNN/CNN: rescale the kept weights too). */
export function installMethodMask(net: Net, res: PruneResult, o: PruneAtInitOptions): PruneAtInitResult {
  if (o.method !== 'sbp-sr') {
    net.setMask(res.selection.mask);
    return { ...res, rescale: null, note: `${o.method} mask installed` };
  }
  if (hasBatchNorm(net)) {
    net.setMask(res.selection.mask);
    return { ...res, rescale: null, note: 'Stable ResNet: SBP-SR = SNIP on the stable parametrisation; mask installed, no rescaling' };
  }
  const rescale = applySbpSr(net, res.selection.mask, { sigmaW: o.sigmaW!, variant: o.rescaleVariant });
  return { ...res, rescale, note: `SNIP mask installed and kept weights rescaled to squared norm sigma_w^2 per unit (${rescale.variant})` };
}
