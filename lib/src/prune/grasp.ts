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
 * in the authors' CIFAR runs), g = ∇L held fixed, Hg by central finite differences (default; works
 * through tanh) or by nested tf.grads ('exact', relu/linear nets only, cross-checked against finite
 * differences and refused if they disagree). Differences from the authors' code, stated: the
 * gradient and Hg use the whole batch at once (the authors sum two half-batches: a positive factor
 * that leaves the ranking unchanged); the final linear layer is NOT re-initialised with Xavier (their
 * `reinit=True`); BN runs in eval mode by default (theirs: train mode, option bnMode 'train').
 */
import * as tf from '@tensorflow/tfjs';
import type { Net } from '../nn/net';
import { gather } from '../data';
import type { ScoreContext } from './score';
import { registerScoreMethod } from './score';
import type { Scores } from './scores-to-mask';
import { gradient, hvpExact, hvpFiniteDifference, kernelObjective } from './hvp';
import { bnModeOption, contextBatchIndices } from './snip';

export const GRASP_DEFAULTS = { perClass: 10, temperature: 200, hvp: 'fd' as const, relStep: 1e-3, bnMode: 'eval' as const };

export interface GraspOptions {
  temperature?: number;
  hvp?: 'fd' | 'exact';
  /** Finite-difference step relative to ‖θ‖/‖g‖ (default 1e-3). */
  relStep?: number;
  bnMode?: 'eval' | 'train';
}

export interface GraspResult {
  scores: Scores;
  /** ε of the finite-difference HVP (0 for 'exact'). */
  eps: number;
  /** For 'exact': max |Hg_exact − Hg_fd| / max |Hg_fd|, the cross-check. */
  exactVsFd?: number;
}

/** GraSP scores θ ⊙ Hg (keep highest) on the batch (x, y); θ = effective weights. */
export function graspScores(net: Net, x: tf.Tensor, y: tf.Tensor, o: GraspOptions = {}): GraspResult {
  const T = o.temperature ?? GRASP_DEFAULTS.temperature;
  const mode = o.hvp ?? GRASP_DEFAULTS.hvp;
  if (mode !== 'fd' && mode !== 'exact') throw new Error(`GraSP option hvp must be 'fd' or 'exact', got '${String(mode)}'.`);
  const obj = kernelObjective(net, x, y, { bnMode: o.bnMode, temperature: T, twiceDifferentiable: mode === 'exact' });
  const g = gradient(obj.loss, obj.weights);
  const tensors: tf.Tensor[] = [...g];
  try {
    const fd = hvpFiniteDifference(obj.loss, obj.weights, g, { relStep: o.relStep ?? GRASP_DEFAULTS.relStep });
    tensors.push(...fd.hv);
    let hv = fd.hv, exactVsFd: number | undefined;
    if (mode === 'exact') {
      let ex: tf.Tensor[];
      try {
        ex = hvpExact(obj.loss, obj.weights, g);
      } catch (e) {
        // e.g. a kernel with no second-order gradient (the native tanh gradient): same advice as below
        throw new Error(`GraSP hvp 'exact' disagrees with finite differences (the second-order gradient failed: ${(e as Error).message}): ` +
          'nested tf.grads is unreliable through tanh/sigmoid/ELU in TF.js (tfjs#3252). Use hvp: \'fd\' (the default) for this net.');
      }
      tensors.push(...ex);
      const [diff, scale] = tf.tidy(() => [
        Math.max(...ex.map((e, i) => tf.max(tf.abs(tf.sub(e, fd.hv[i]))).dataSync()[0])),
        Math.max(...fd.hv.map((h) => tf.max(tf.abs(h)).dataSync()[0])),
      ]);
      exactVsFd = scale > 0 ? diff / scale : diff;
      // nested tf.grads is silently wrong through tanh/sigmoid/exp (tfjs#3252): refuse rather than mislead
      if (!(exactVsFd < 0.05)) {
        throw new Error(`GraSP hvp 'exact' disagrees with finite differences (max rel. difference ${exactVsFd.toPrecision(3)}): ` +
          'nested tf.grads is wrong through tanh/sigmoid/ELU in TF.js (tfjs#3252). Use hvp: \'fd\' (the default) for this net.');
      }
      hv = ex;
    }
    const scores: Scores = new Map();
    tf.tidy(() => obj.names.forEach((n, i) => scores.set(n, tf.mul(obj.weights[i], hv[i]).dataSync() as Float32Array)));
    return { scores, eps: mode === 'exact' ? 0 : fd.eps, ...(exactVsFd !== undefined ? { exactVsFd } : {}) };
  } finally {
    tensors.forEach((t) => t.dispose());
    obj.dispose();
  }
}

function graspFromContext(ctx: ScoreContext): Scores {
  const o = ctx.options;
  const T = o.temperature === undefined ? GRASP_DEFAULTS.temperature : Number(o.temperature);
  if (!(T > 0) || !Number.isFinite(T)) throw new Error(`GraSP option temperature must be a positive number, got ${String(o.temperature)}.`);
  const rel = o.relStep === undefined ? GRASP_DEFAULTS.relStep : Number(o.relStep);
  if (!(rel > 0) || !Number.isFinite(rel)) throw new Error(`GraSP option relStep must be a positive number, got ${String(o.relStep)}.`);
  const idx = contextBatchIndices(ctx);
  const { x, y } = gather(ctx.data!, ctx.data!.train, idx);
  try {
    return graspScores(ctx.net, x, y, { temperature: T, hvp: o.hvp as GraspOptions['hvp'], relStep: rel, bnMode: bnModeOption(o.bnMode) }).scores;
  } finally {
    x.dispose(); y.dispose();
  }
}

registerScoreMethod({
  name: 'grasp',
  description: 'GraSP (Wang et al. 2020): score = theta * Hg (keep highest; the authors remove the highest -theta*Hg), ' +
    'loss = CE(logits / T) on one class-balanced batch. Options: perClass (10), temperature (200), hvp (\'fd\' | \'exact\', default fd), ' +
    'relStep (1e-3), bnMode (eval), batchIndices.',
  needsData: true,
  score: graspFromContext,
});
