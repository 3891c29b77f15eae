/**
 * The gates of a trained comparison in studies 01 and 02 (the rule is notebook/gate.ts): one dense
 * gate per network (its budget run against its long, converged run of the same recipe), one plateau
 * gate over the arms compared, one divergence gate over every arm. Runs are plain records, so the
 * rule is testable without training anything.
 */
import { ChanceBand, Gate, denseGate, divergenceGate, plateauGate, splitDiverged } from '../notebook/gate';

/** One finished training run: outcome, final test accuracy and the test accuracy after each epoch. */
export interface GatedRun { outcome: string; acc: number; history: readonly number[] }

function finished(runs: readonly GatedRun[]): number[] {
  return splitDiverged(runs.map((r) => ({ outcome: r.outcome, finalTestAcc: r.acc }))).accs;
}

/**
 * Dense gate of one network: `reference` = the dense runs at the budget, `converged` = the same
 * recipe run long. Fails (rather than throwing) when either side has no finished run.
 */
export function denseGateOf(label: string, reference: readonly GatedRun[], converged: readonly GatedRun[], margin: number,
  atChance?: ChanceBand): Gate {
  const r = finished(reference), c = finished(converged);
  if (r.length === 0 || c.length === 0) {
    const missing = r.length === 0 ? `dense reference: no finished run of ${reference.length}` : `converged run: no finished run of ${converged.length}`;
    return { kind: 'dense-converged', label, passed: false, detail: `${missing} (diverged or not run)` };
  }
  return denseGate(label, r, c, margin, atChance);
}

/** Plateau gate over the arms compared (diverged runs have no plateau to show and are left to the divergence gate). */
export function plateauGateOf(label: string, arms: Record<string, readonly GatedRun[]>, maxGain: number): Gate {
  const hist: Record<string, number[][]> = {};
  for (const [name, runs] of Object.entries(arms)) {
    const ok = runs.filter((r) => r.outcome !== 'diverged' && r.history.length > 0 && r.history.every(Number.isFinite));
    if (ok.length) hist[name] = ok.map((r) => [...r.history]);
  }
  if (Object.keys(hist).length === 0) return { kind: 'plateau', label, passed: false, detail: 'no finished run to read a plateau from' };
  return plateauGate(label, hist, maxGain);
}

/** Divergence gate: diverged runs per arm (counted and shown, never averaged in). */
export function divergenceGateOf(label: string, arms: Record<string, readonly GatedRun[]>): Gate {
  const counts: Record<string, { diverged: number; runs: number }> = {};
  for (const [name, runs] of Object.entries(arms)) {
    if (runs.length) counts[name] = { diverged: runs.filter((r) => r.outcome === 'diverged').length, runs: runs.length };
  }
  return divergenceGate(label, counts);
}

/** Group runs into arms by a key. */
export function armsBy<T>(runs: readonly T[], key: (r: T) => string): Record<string, T[]> {
  const out: Record<string, T[]> = {};
  for (const r of runs) (out[key(r)] ??= []).push(r);
  return out;
}
