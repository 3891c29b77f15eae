/**
 * Gates of the reduced-vs-pruned study (issue 13; gate rules in notebook/gate.ts): which trained
 * comparison of notebook 03 tests the paper rather than the budget.
 * - dense gate: the base net IS the dense reference (same data, recipe and seeds as every net trained
 *   from scratch); its final accuracy is compared with the same config run for a long schedule
 *   (family 'dense-converged', every seed);
 * - plateau gate: the from-scratch arms a claim compares were no longer improving at their last epoch
 *   (per-epoch test accuracy of 'rvp-train'); pruned-and-tuned nets are fine-tuned at a constant small
 *   LR between prunes and have no epoch history, so they are not plateau-gated;
 * - divergence gate: diverged runs of those arms (never averaged in: summarize leaves them out).
 * Also the Scratch-B epoch rule (Liu et al., "Rethinking the Value of Network Pruning", ICLR 2019).
 */
import { denseGate, divergenceGate, Gate, Gates, plateauGate } from '../notebook/gate';

/** The families of rows a gate looks at, per claim id (Scratch-B rows join claim 1). */
export const GATED_FAMILIES: Record<string, readonly string[] | null> = {
  'reduced-beats-pruned': ['base', 'reduced-depth', 'reduced-width', 'reduced-bottleneck', 'reduced-growth', 'scratchB-width'],
  'pruned-arch-from-scratch': ['base', 'scratch-pruned'],
  'copycat-tracks-pruned': ['base', 'copycat', 'scratch-pruned'],
  'reduced-faster': null,
};

/** What a gate needs of a row (RvpRow has all of it). */
export interface GateRow {
  family: string;
  series: string;
  criterion: string | null;
  testError: number;
  outcome?: string;
  history?: number[];
}

export interface RvpGateSettings {
  /** What was gated, e.g. 'WRN-16-1, fashion-mnist 4000/2000, SGD lr 0.1 b64 × 10 epochs'. */
  label: string;
  convergedEpochs: number;
  margin: number;
  maxFinalEpochGain: number;
  maxDivergedFraction: number;
}

/**
 * Scratch-B epochs: the member gets the base's training compute, epochs × MACs(base) / MACs(member),
 * rounded, at least the base's epochs and at most maxEpochFactor × them.
 */
export function scratchBEpochs(epochs: number, baseMacs: number, memberMacs: number, maxEpochFactor: number): number {
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new Error(`scratchBEpochs: epochs must be a positive integer, got ${epochs}.`);
  if (!(baseMacs > 0 && memberMacs > 0)) throw new Error(`scratchBEpochs: MACs must be positive, got base ${baseMacs}, member ${memberMacs}.`);
  if (!(maxEpochFactor >= 1)) throw new Error(`scratchBEpochs: maxEpochFactor must be >= 1, got ${maxEpochFactor}.`);
  return Math.min(Math.round(maxEpochFactor * epochs), Math.max(epochs, Math.round((epochs * baseMacs) / memberMacs)));
}

/** Chance on the study's 10-class datasets (Fashion-MNIST, CIFAR-10) and the band around it, as in the other studies. */
const RVP_CHANCE = { chance: 0.1, band: 0.05 };

const isDiverged = (r: GateRow) => r.outcome === 'diverged' || !Number.isFinite(r.testError);

/** Dense gate of the study: base accuracies (every seed) vs the converged run(s); a failed gate if either is missing. */
export function rvpDenseGate(rows: readonly GateRow[], s: RvpGateSettings): Gate {
  const acc = (f: string) => rows.filter((r) => r.family === f && !isDiverged(r)).map((r) => 1 - r.testError);
  const ref = acc('base'), conv = acc('dense-converged');
  const label = `dense ${s.label} vs ${s.convergedEpochs} epochs`;
  if (ref.length === 0 || conv.length === 0) {
    return { kind: 'dense-converged', label, passed: false, detail: `missing ${ref.length === 0 ? 'dense reference (base)' : 'converged run'} (failed or diverged); the comparison cannot be gated` };
  }
  return denseGate(label, ref, conv, s.margin, RVP_CHANCE);
}

/** The gates of every claim, from the result rows (the converged run's rows included). */
export function rvpGates(rows: readonly GateRow[], s: RvpGateSettings): Record<string, Gates> {
  const dense = rvpDenseGate(rows, s);
  const out: Record<string, Gates> = {};
  for (const [id, fams] of Object.entries(GATED_FAMILIES)) {
    if (fams === null) { out[id] = 'no training'; continue; }
    const sel = rows.filter((r) => fams.includes(r.family) && !(id === 'copycat-tracks-pruned' && r.family === 'scratch-pruned' && r.criterion !== 'fisher'));
    const gates: Gate[] = [dense];
    const hist: Record<string, number[][]> = {};
    const div: Record<string, { diverged: number; runs: number }> = {};
    for (const r of sel) {
      const d = (div[r.series] ??= { diverged: 0, runs: 0 });
      d.runs++;
      if (isDiverged(r)) { d.diverged++; continue; }
      if (r.history && r.history.length >= 1) (hist[r.series] ??= []).push(r.history);
    }
    if (Object.keys(hist).length) gates.push(plateauGate(`from-scratch arms, ${s.label}`, hist, s.maxFinalEpochGain));
    if (Object.keys(div).length) gates.push(divergenceGate(`arms of this claim, ${s.label}`, div, s.maxDivergedFraction));
    out[id] = gates;
  }
  return out;
}
