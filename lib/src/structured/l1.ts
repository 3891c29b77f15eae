/**
 * L1 (Li et al. 2017) and random channel criteria. The L1 score of interior channel c is the sum over
 * (kh, kw, in) of |W[:, :, :, c]| of the producing conv1 kernel (TF.js layout [kh, kw, in, out]).
 * 'signed-authors' sums the signed weights with no absolute value, as the Crowley et al. code, github.com/BayesWatch/pytorch-prunes, does: that is NOT the L1 norm and is offered only to reproduce the authors' path.
 */
import * as tf from '@tensorflow/tfjs';
import type { Net } from '../nn/net';
import type { Rng } from '../rng';

export type L1Variant = 'abs' | 'signed-authors';

/** Per-group L1 (or signed-sum) scores of each interior channel's producing filter (raw conv1 weights). */
export function l1ChannelScores(net: Net, variant: L1Variant = 'abs'): Map<string, Float32Array> {
  if (variant !== 'abs' && variant !== 'signed-authors') throw new Error(`Unknown l1Variant '${variant}': use 'abs' (Σ|w|) or 'signed-authors' (Σw, the authors' code).`);
  const out = new Map<string, Float32Array>();
  for (const g of net.unitGroups) {
    const w = net.params.get(g.producer);
    if (!w) throw new Error(`l1ChannelScores: producer kernel ${g.producer} of ${g.name} not found in ${net.name}.`);
    const m = net.unitMaskArray(g.name);
    out.set(g.name, tf.tidy(() => {
      const s = tf.sum(variant === 'abs' ? tf.abs(w) : w, [0, 1, 2]);
      // a removed channel's filter no longer exists: score 0 (the loop never picks it)
      return tf.mul(s, tf.tensor1d(m)).dataSync() as Float32Array;
    }));
  }
  return out;
}

/** Uniform random scores (argmin = a uniformly random live channel). */
export function randomChannelScores(net: Net, rng: Rng): Map<string, Float32Array> {
  return new Map(net.unitGroups.map((g) => [g.name, Float32Array.from({ length: g.size }, () => rng.uniform())]));
}
