/**
 * The combination of K-starts and dissipating gradients — the project's reading of Haroon
 * (arXiv 2209.02201) abstract ("the combination ... beats each alone"); the order is not stated in
 * available sources, so both orders are options:
 *   'A' (default): K-starts picks among k random masks at an intermediate sparsity p1 (default
 *       density sqrt(1 - p), half the log-density), then dissipating gradients prunes inside the
 *       winner, from its current state, up to p (pruning epochs E_s + 1 .. E_s + E_d), measuring the
 *       relative change from the winner's W0; then training continues with the mask fixed.
 *   'B': K-starts at p with the dissipation fitness (sum of r over surviving weights at the end of
 *       selection, argmax by default).
 */
import { checkSparsity } from '../prune/scores-to-mask';
import { DissipatingOptions, DissipationReport, dissipate } from './dissipating';
import { EarlyPruningSetup, KStartsOptions, KStartsResult, kStarts } from './kstarts';

export interface EarlyPruningCombinedOptions {
  /** Final sparsity p. */
  sparsity: number;
  /** 'A' (default): K-starts at p1 then dissipation to p; 'B': K-starts with the dissipation fitness. */
  combination?: 'A' | 'B';
  /** Option A: sparsity of the K-starts candidates (default 1 - sqrt(1 - p)). */
  p1?: number;
  kstarts?: Omit<KStartsOptions, 'sparsity'>;
  dissipating?: Omit<DissipatingOptions, 'sparsity'>;
}

export interface EarlyPruningCombinedResult {
  combination: 'A' | 'B';
  /** Sparsity of the K-starts masks (p1 for A, p for B). */
  p1: number;
  kstarts: KStartsResult<DissipationReport | null>;
  /** Dissipation report of the winner (option A). */
  dissipation: DissipationReport | null;
}

/** Default intermediate sparsity of option A: density sqrt(1 - p). */
export function earlyPruningIntermediateSparsity(p: number): number {
  checkSparsity(p);
  return 1 - Math.sqrt(1 - p);
}

/** Run the combination; the winner is trained to the end and returned (the caller disposes winner.run). */
export function combineKStartsDissipating(setup: EarlyPruningSetup, o: EarlyPruningCombinedOptions): EarlyPruningCombinedResult {
  checkSparsity(o.sparsity);
  const combination = o.combination ?? 'A';
  const E = setup.train.epochs;
  if (combination === 'B') {
    if (o.kstarts?.fitness !== undefined && o.kstarts.fitness !== 'dissipation') {
      throw new Error(`combined: option B uses the 'dissipation' fitness, but kstarts.fitness is '${o.kstarts.fitness}'; drop it or use option A.`);
    }
    const ks = kStarts<DissipationReport | null>(setup, { ...o.kstarts, sparsity: o.sparsity, fitness: 'dissipation' }, (run) => { run.trainTo(E); return null; });
    return { combination, p1: o.sparsity, kstarts: ks, dissipation: null };
  }
  if (combination !== 'A') throw new Error(`combined: combination must be 'A' or 'B', got '${String(combination)}'.`);
  const p1 = o.p1 ?? earlyPruningIntermediateSparsity(o.sparsity);
  checkSparsity(p1);
  if (!(p1 < o.sparsity)) throw new Error(`combined: p1 (${p1}) must be below the final sparsity (${o.sparsity}), so dissipation has something to prune.`);
  const ks = kStarts<DissipationReport | null>(setup, { ...o.kstarts, sparsity: p1 }, (run, cand) => {
    const rep = dissipate(run, cand.w0, { ...o.dissipating, sparsity: o.sparsity });
    run.trainTo(E);
    return rep;
  });
  return { combination, p1, kstarts: ks, dissipation: ks.finish };
}
