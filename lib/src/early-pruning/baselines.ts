/**
 * Baselines of the Haroon notebook (all masks with exact counts via computeMask/scoresToMask):
 *  - random dropout: a fixed random p-sparse mask at init (seed = K-starts candidate 0's, so it is
 *    K-starts with k = 1);
 *  - magnitude at init (|W0|) and SNIP (if the 'snip' score method is registered);
 *  - magnitude at epoch E_d: dissipating(score 'magnitude', schedule 'oneshot') — see dissipating.ts.
 */
import type { Dataset } from '../data';
import type { Mask } from '../mask';
import type { Net } from '../nn/net';
import { computeMask } from '../prune'; // the index registers every method (snip, grasp, ...)
import type { Scope } from '../prune/scores-to-mask';
import { candidateMaskSeed } from './select';

/** The random-dropout baseline mask: candidate 0's random mask of K-starts (default per-layer uniform density). */
export function earlyPruningRandomMask(net: Net, sparsity: number, maskSeed: number, scope: Scope = 'layerwise'): Mask {
  return computeMask(net, { method: 'random', sparsity, scope, seed: candidateMaskSeed(maskSeed, 0) }).selection.mask;
}

/** Magnitude |W0| at init (default global scope). */
export function earlyPruningMagnitudeMask(net: Net, sparsity: number, scope: Scope = 'global'): Mask {
  return computeMask(net, { method: 'magnitude', sparsity, scope }).selection.mask;
}

/** SNIP at init through the registry; throws the registry's "Unknown pruning method" error if it is not registered. */
export function earlyPruningSnipMask(net: Net, ds: Dataset, sparsity: number, o: { scope?: Scope; seed?: number; options?: Record<string, unknown> } = {}): Mask {
  return computeMask(net, { method: 'snip', sparsity, scope: o.scope ?? 'global', seed: o.seed ?? 0, data: ds, options: o.options }).selection.mask;
}
