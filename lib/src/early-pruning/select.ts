/**
 * Shared helpers of the Haroon methods: the relative change from init, seeds derived per candidate,
 * and small statistics. (Exact-count selection is the project's one routine, scoresToMask with keep counts.)
 */
import type { Mask } from '../mask';
import { Rng } from '../rng';

/**
 * The relative change of each weight from its initial value, r = |w_t - w0| / (|w0| + eps)
 * (float64), the one definition used by dissipating gradients (ranking) and K-starts (fitness).
 */
export function relativeChanges(wt: ArrayLike<number>, w0: ArrayLike<number>, eps: number): Float64Array {
  if (wt.length !== w0.length) throw new Error(`relativeChanges: ${wt.length} weights but ${w0.length} initial values.`);
  const r = new Float64Array(wt.length);
  for (let i = 0; i < r.length; i++) r[i] = Math.abs(wt[i] - w0[i]) / (Math.abs(w0[i]) + eps);
  return r;
}

/** The eps guard of a layer: epsScale times the RMS of its initial weights (scale-free). */
export function layerEps(w0: ArrayLike<number>, epsScale: number): number {
  return epsScale * rms(w0);
}

/** Seed of candidate i's random mask; candidate 0's is also the random baseline's (k = 1 == random). */
export function candidateMaskSeed(maskSeed: number, i: number): number {
  return new Rng(maskSeed, 'haroon/candidate-mask').fork(String(i)).nextUint32();
}

/** Init seed of candidate i under 'fresh' init; candidate 0 keeps the run's init seed. */
export function candidateInitSeed(initSeed: number, i: number): number {
  return i === 0 ? initSeed : new Rng(initSeed, 'haroon/candidate-init').fork(String(i)).nextUint32();
}

/** Root mean square of an array (float64 accumulation). */
export function rms(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return a.length ? Math.sqrt(s / a.length) : 0;
}

/** Per-layer kept counts of a mask as a plain record. */
export function perLayerCounts(mask: Mask): Array<{ name: string; size: number; kept: number; density: number }> {
  return mask.perLayer().map((l) => ({ name: l.name, size: l.size, kept: l.kept, density: l.density }));
}
