/**
 * GraSP (Wang et al. 2020, "Picking winning tickets before training by preserving gradient flow").
 *
 * Sign convention. The authors' code (alecwangcq/GraSP, pruner/GraSP.py) computes
 * S = −θ ⊙ Hg and REMOVES the weights with the highest S (keeps S ≤ the k-th largest). Our shared
 * scoresToMask KEEPS the highest scores, so the score returned here is
 *     score = θ ⊙ Hg  (= −S),
 * which keeps exactly the weights the authors keep (the SynFlow anchor does the same: "Hg * theta,
 * negate to remove top percent"). Scores are signed; no abs.
 *
 * Loss: mean cross-entropy of logits / T on one class-balanced batch (T = 200 and 10 per class as
 * in the authors' CIFAR runs), g = ∇L held fixed. Hg is never a guess (hvp.ts says why each way can
 * fail): 'exact' = nested tf.grads, used only after `checkExactHvp` has verified it on this net;
 * 'fd' = central finite differences with the step chosen by a convergence check (`hvpConverged`);
 * 'auto' (default) = exact when verified, else the converged finite difference, else an error. Where
 * neither can be trusted GraSP throws instead of returning a mask. Differences from the authors'
 * code, stated: the gradient and Hg use the whole batch at once (the authors sum two half-batches: a
 * positive factor that leaves the ranking unchanged); the final linear layer is NOT re-initialised
 * with Xavier (their `reinit=True`); BN runs in eval mode by default (theirs: train mode, option
 * bnMode 'train').
 */
import * as tf from '@tensorflow/tfjs';
import type { Net } from '../nn/net';
import { gather } from '../data';
import type { ScoreContext } from './score';
import { registerScoreMethod } from './score';
import type { Scores } from './scores-to-mask';
import {
  checkExactHvp, ExactHvpCheck, FD_TOL, gradient, hvpConverged, hvpExact, HvpUntrustedError, kernelObjective, LossFn,
} from './hvp';
import { bnModeOption, contextBatchIndices } from './snip';

export const GRASP_HVP_MODES = ['auto', 'exact', 'fd'] as const;
export type GraspHvp = (typeof GRASP_HVP_MODES)[number];
export const GRASP_DEFAULTS = { perClass: 10, temperature: 200, hvp: 'auto' as GraspHvp, tol: FD_TOL, bnMode: 'eval' as const };
const GRASP_OPTION_KEYS = ['perClass', 'temperature', 'hvp', 'tol', 'bnMode', 'batchIndices'];

export interface GraspOptions {
  temperature?: number;
  /** How Hg is computed (default 'auto'; see the module comment). */
  hvp?: GraspHvp;
  /** Tolerance of the finite-difference convergence check (default 3e-3, relative 2-norm). */
  tol?: number;
  bnMode?: 'eval' | 'train';
}

export interface GraspResult {
  scores: Scores;
  /** The HVP used. */
  hvp: 'exact' | 'fd';
  /** ε of the finite-difference HVP (0 for 'exact'). */
  eps: number;
  /** For 'fd': relative difference of the agreeing pair of steps (the error estimate). */
  fdDiff?: number;
  /** The verification of nested tf.grads (modes 'exact' and 'auto'). */
  exactCheck?: ExactHvpCheck;
}

/** GraSP scores θ ⊙ Hg (keep highest) on the batch (x, y); θ = effective weights. */
export function graspScores(net: Net, x: tf.Tensor, y: tf.Tensor, o: GraspOptions = {}): GraspResult {
  const T = o.temperature ?? GRASP_DEFAULTS.temperature;
  const mode = o.hvp ?? GRASP_DEFAULTS.hvp;
  if (!GRASP_HVP_MODES.includes(mode)) throw new Error(`GraSP option hvp must be one of ${GRASP_HVP_MODES.join(', ')}, got '${String(mode)}'.`);
  const tol = o.tol ?? GRASP_DEFAULTS.tol;
  if (!(tol > 0 && tol < 1)) throw new Error(`GraSP option tol must be in (0, 1), got ${tol}.`);
  const exactCheck = mode === 'fd' ? undefined : checkExactHvp(net, x, y, { bnMode: o.bnMode });
  if (mode === 'exact' && !exactCheck!.trusted) {
    throw new Error(`GraSP hvp 'exact' cannot be trusted for ${net.name}: ${exactCheck!.detail}. Use hvp 'auto' (the default) or 'fd'.`);
  }
  const useExact = exactCheck?.trusted === true;
  const obj = kernelObjective(net, x, y, { bnMode: o.bnMode, temperature: T, twiceDifferentiable: useExact });
  const held: tf.Tensor[] = [];
  try {
    const g = gradient(obj.loss, obj.weights);
    held.push(...g);
    const r = useExact ? { hv: hvpExact(obj.loss, obj.weights, g), eps: 0 } : fdHg(obj.loss, obj.weights, g, tol, net.name, exactCheck);
    held.push(...r.hv);
    const scores: Scores = new Map();
    tf.tidy(() => obj.names.forEach((n, i) => scores.set(n, tf.mul(obj.weights[i], r.hv[i]).dataSync() as Float32Array)));
    for (const [n, s] of scores) {
      if (!s.every(Number.isFinite)) throw new Error(`GraSP scores of ${n} are not finite (loss overflow at temperature ${T}?): no mask computed.`);
    }
    return { scores, hvp: useExact ? 'exact' : 'fd', eps: r.eps, ...('diff' in r ? { fdDiff: r.diff } : {}), ...(exactCheck ? { exactCheck } : {}) };
  } finally {
    tf.dispose(held);
    obj.dispose();
  }
}

/** The converged finite-difference Hg, or an error that says why neither way could be trusted. */
function fdHg(loss: LossFn, ws: tf.Tensor[], g: tf.Tensor[], tol: number, name: string, check?: ExactHvpCheck) {
  try {
    return hvpConverged(loss, ws, g, { tol });
  } catch (e) {
    if (!(e instanceof HvpUntrustedError)) throw e;
    const exact = check ? ` The exact HVP (nested tf.grads) is not usable either: ${check.detail}.` : ' Try hvp \'auto\' (nested tf.grads where verified).';
    throw new Error(`GraSP cannot compute Hg reliably for ${name}, so no mask is returned: ${e.message}${exact} ` +
      'A larger tol accepts a less accurate Hg.');
  }
}

function graspFromContext(ctx: ScoreContext): Scores {
  const o = ctx.options;
  const unknown = Object.keys(o).filter((k) => o[k] !== undefined && !GRASP_OPTION_KEYS.includes(k));
  if (unknown.length) {
    throw new Error(`Unknown GraSP option(s) ${unknown.join(', ')}: known are ${GRASP_OPTION_KEYS.join(', ')}` +
      (unknown.includes('relStep') ? ' (relStep was replaced by a convergence check on the step: set tol instead).' : '.'));
  }
  const T = o.temperature === undefined ? GRASP_DEFAULTS.temperature : Number(o.temperature);
  if (!(T > 0) || !Number.isFinite(T)) throw new Error(`GraSP option temperature must be a positive number, got ${String(o.temperature)}.`);
  const tol = o.tol === undefined ? GRASP_DEFAULTS.tol : Number(o.tol);
  if (!(tol > 0 && tol < 1)) throw new Error(`GraSP option tol must be a number in (0, 1), got ${String(o.tol)}.`);
  const idx = contextBatchIndices(ctx);
  const { x, y } = gather(ctx.data!, ctx.data!.train, idx);
  try {
    return graspScores(ctx.net, x, y, { temperature: T, hvp: o.hvp as GraspOptions['hvp'], tol, bnMode: bnModeOption(o.bnMode) }).scores;
  } finally {
    x.dispose(); y.dispose();
  }
}

registerScoreMethod({
  name: 'grasp',
  description: 'GraSP (Wang et al. 2020): score = theta * Hg (keep highest; the authors remove the highest -theta*Hg), ' +
    'loss = CE(logits / T) on one class-balanced batch. Options: perClass (10), temperature (200), ' +
    'hvp (\'auto\' | \'exact\' | \'fd\', default auto: nested tf.grads where verified on the net, else finite differences with a ' +
    'convergence-checked step; throws when neither can be trusted), tol (3e-3), bnMode (eval), batchIndices.',
  needsData: true,
  score: graspFromContext,
});
