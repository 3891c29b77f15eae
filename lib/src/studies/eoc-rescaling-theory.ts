/**
 * Mean-field theory of notebook 02's §1 (eoc-rescaling.ts): Edge-of-Chaos curves, the ordered / EOC /
 * chaotic init points of the tanh FFNNs, and the mean-field map of an input pair through depth.
 */
import { classifyPhase, eocSigmaW, gaussianExpectation, gaussianExpectation2, resolveActivation } from '../eoc';
import type { EocPoint, Phase } from '../eoc';
import { resolveInit } from '../models';
import type { InitSpec } from '../models';
import { ACTIVATION, SIGMA_B } from './eoc-rescaling-constants';
import { armSpec } from './eoc-rescaling-plan';

export interface EocCurveRow { activation: string; sigmaB: number; sigmaW: number; qStar: number; chi: number }

/**
 * EOC σ_w for each σ_b. ReLU has an EOC only at σ_b = 0 (σ_w = √2; for σ_b > 0 the variance grows
 * without bound at χ = 1), so it contributes that single point.
 */
export function eocCurveRows(activations: readonly string[], sigmaBs: readonly number[]): EocCurveRow[] {
  const out: EocCurveRow[] = [];
  for (const a of activations) {
    const act = resolveActivation(a);
    const bs = act.homogeneous ? [0] : sigmaBs;
    for (const b of bs) {
      const p: EocPoint = eocSigmaW(act, b);
      out.push({ activation: act.name, sigmaB: b, sigmaW: p.sigmaW, qStar: p.qStar, chi: p.chi });
    }
  }
  return out;
}

export interface PhasePoint { arm: Phase; sigmaB: number; sigmaW: number; qStar: number; chi: number; phase: Phase }

/** The ordered / EOC / chaotic init points of the tanh FFNNs, with q* and χ from the mean-field maps. */
export function phasePoints(sigmaB = SIGMA_B): PhasePoint[] {
  const specs: Array<[Phase, InitSpec]> = [
    ['ordered', armSpec('ordered').init],
    ['eoc', armSpec('eoc').init],
    ['chaotic', { scheme: 'chaotic', sigmaW: 2.0, sigmaB }],
  ];
  return specs.map(([arm, spec]) => {
    const r = resolveInit({ ...spec, sigmaB }, ACTIVATION);
    const ph = classifyPhase(ACTIVATION, r.sigmaB, r.sigmaW, { chiTol: 1e-6 });
    if (ph.qStar === null) throw new Error(`phasePoints: no finite q* at sigma_w = ${r.sigmaW}, sigma_b = ${r.sigmaB}.`);
    return { arm, sigmaB: r.sigmaB, sigmaW: r.sigmaW, qStar: ph.qStar, chi: ph.chi, phase: ph.phase };
  });
}

/**
 * Mean-field propagation of a pair of inputs: starting from the layer-1 variance q1 and correlation
 * c1, layer l+1 has
 *   q^{l+1} = σ_b² + σ_{w,l+1}² E[φ(u)²],            u ~ N(0, q^l),
 *   c^{l+1} = (σ_b² + σ_{w,l+1}² E[φ(u1)φ(u2)]) / q^{l+1},  (u1, u2) variances q^l, correlation c^l.
 * `sigmaW2` holds σ_w² of layers 2, 3, … (one per step; per-layer values model pruned nets whose
 * kept weights have a smaller squared norm). Returns arrays of length sigmaW2.length + 1.
 */
export function meanFieldPair(activation: string, sigmaB: number, sigmaW2: readonly number[], q1: number, c1: number): { q: number[]; c: number[] } {
  if (!(q1 >= 0) || !Number.isFinite(q1)) throw new Error(`meanFieldPair: q1 must be a finite variance ≥ 0, got ${q1}.`);
  if (!(c1 >= -1 && c1 <= 1)) throw new Error(`meanFieldPair: c1 must be a correlation in [-1, 1], got ${c1}.`);
  sigmaW2.forEach((s, i) => { if (!(s >= 0) || !Number.isFinite(s)) throw new Error(`meanFieldPair: sigmaW2[${i}] = ${s} must be a finite number ≥ 0.`); });
  const act = resolveActivation(activation);
  const b2 = sigmaB * sigmaB;
  const q = [q1], c = [c1];
  for (const w2 of sigmaW2) {
    const qp = q[q.length - 1], cp = c[c.length - 1];
    const diag = gaussianExpectation(act, qp, (x) => { const p = act.phi(x); return p * p; });
    const cross = gaussianExpectation2(act, qp, cp, (u1, u2) => act.phi(u1) * act.phi(u2));
    const qn = b2 + w2 * diag;
    q.push(qn);
    c.push(qn > 0 ? Math.min(1, Math.max(-1, (b2 + w2 * cross) / qn)) : 1);
  }
  return { q, c };
}
