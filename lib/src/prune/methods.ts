/**
 * Registers the pruning-at-init methods (importing their modules) and provides `pruneAtInit`, the
 * one-call convenience: computeMask, then install its mask (and, for 'sbp-sr' on FFNN/CNN, its
 * rescaled kept weights) on the net: the same pruned net computeMask describes.
 * Registered: random, magnitude (score.ts), snip, grasp, synflow, sbp-sr (rescale.ts).
 */
import type { Net } from '../nn/net';
import { computeMask, installPruneResult, PruneOptions, PruneResult } from './score';
import './snip';
import './grasp';
import './synflow';
import './rescale';

/** Compute the method's mask (and finished weights), and install them on the net. */
export function pruneAtInit(net: Net, o: PruneOptions): PruneResult {
  const r = computeMask(net, o);
  installPruneResult(net, r);
  return r;
}
