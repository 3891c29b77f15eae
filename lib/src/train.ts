/**
 * The pieces of a training step: config and LR schedule, cross-entropy, the optimiser (Trainer: SGD with
 * momentum in PyTorch semantics, or Adam; weight decay added to the gradient), evaluation and the
 * training-batch augmentation. Every step runs inside tf.tidy. The loop itself (data order,
 * divergence, mask projection, resume, evaluation per epoch) and train() are in training-run.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { Net } from './nn/net';
import { Rng } from './rng';
import { Augment, Dataset, Split, gather, validateAugment } from './data';
import { sgdMomentumUpdate } from './kernels/optim';
import { fusedSoftmaxCrossEntropy } from './kernels/softmax_ce';

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer?: 'sgd' | 'adam';
  /** SGD momentum (default 0.9). */
  momentum?: number;
  weightDecay?: number;
  /** Learning-rate schedule; default: x0.1 at 50% and 75% of the epochs. */
  schedule?: { type: 'step'; milestones?: number[]; gamma?: number } | { type: 'constant' };
  /** Training-batch augmentation (default none; CIFAR_AUGMENT is the anchors' crop + flip). */
  augment?: Augment;
}

export const TRAIN_DEFAULTS = { optimizer: 'sgd', momentum: 0.9, weightDecay: 0, milestones: [0.5, 0.75], gamma: 0.1 } as const;

export function validateTrainConfig(cfg: TrainConfig): void {
  const bad = (what: string) => { throw new Error(`Invalid training config: ${what}.`); };
  if (!Number.isInteger(cfg.epochs) || cfg.epochs < 0) bad(`epochs must be a non-negative integer, got ${cfg.epochs}`);
  if (!Number.isInteger(cfg.batchSize) || cfg.batchSize < 1) bad(`batchSize must be a positive integer, got ${cfg.batchSize}`);
  if (!(cfg.lr > 0) || !Number.isFinite(cfg.lr)) bad(`lr must be a positive number, got ${cfg.lr}`);
  if (cfg.optimizer && !['sgd', 'adam'].includes(cfg.optimizer)) bad(`optimizer must be 'sgd' or 'adam', got '${cfg.optimizer}'`);
  if (cfg.momentum !== undefined && !(cfg.momentum >= 0 && cfg.momentum < 1)) bad(`momentum must be in [0, 1), got ${cfg.momentum}`);
  if (cfg.weightDecay !== undefined && !(cfg.weightDecay >= 0)) bad(`weightDecay must be >= 0, got ${cfg.weightDecay}`);
}

/** Learning rate for a (0-based) epoch under the config's schedule. */
export function lrAt(cfg: TrainConfig, epoch: number): number {
  const s = cfg.schedule ?? { type: 'step' };
  if (s.type === 'constant') return cfg.lr;
  const ms: readonly number[] = s.milestones ?? TRAIN_DEFAULTS.milestones;
  const gamma = s.gamma ?? TRAIN_DEFAULTS.gamma;
  const passed = ms.filter((m: number) => epoch >= Math.round(m * cfg.epochs)).length;
  return cfg.lr * Math.pow(gamma, passed);
}

/** The composition the fused kernel replaces (and still runs where the backend lacks it). */
function composedCrossEntropy(logits: tf.Tensor, y: tf.Tensor): tf.Scalar {
  const oneHot = tf.oneHot(y, logits.shape[logits.rank - 1]);
  return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), -1))) as tf.Scalar;
}

/**
 * Mean softmax cross-entropy of logits [N, C] against int32 labels [N], and the number of rows whose
 * first largest logit is the label (tf.argMax's choice). One kernel each way where the backend has it
 * (kernels/softmax_ce.ts, the same bits), else composed from TF.js ops.
 */
export function crossEntropyAndCorrect(logits: tf.Tensor, labels: tf.Tensor): { loss: tf.Scalar; correct: tf.Scalar } {
  return tf.tidy(() => {
    const y = labels.toInt();
    return fusedSoftmaxCrossEntropy(logits, y) ?? { loss: composedCrossEntropy(logits, y), correct: tf.sum(tf.equal(tf.argMax(logits, -1), y)) as tf.Scalar };
  });
}

/** Mean softmax cross-entropy of logits [N, C] against int32 labels [N]. */
export function crossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const y = labels.toInt();
    return fusedSoftmaxCrossEntropy(logits, y)?.loss ?? composedCrossEntropy(logits, y);
  });
}

export interface StepHooks {
  /** Called with the raw-parameter gradients (by parameter name) before the update; inside tf.tidy. */
  onGradients?: (grads: Map<string, tf.Tensor>) => void;
  /**
   * Per-example unit gates for this step's forward pass (group name -> trainable tf.Variable, usually
   * ones of shape [N,1,1,C]). Their gradients come from the same backward pass as the parameters' and
   * go to onGateGradients (inside tf.tidy); the optimiser never updates them. Fisher channel saliency.
   */
  gates?: Map<string, tf.Variable>;
  onGateGradients?: (grads: Map<string, tf.Tensor>) => void;
}

/** Optimiser state + one training step; the loop around it is TrainingRun (training-run.ts). */
export class Trainer {
  private readonly slots = new Map<string, tf.Variable[]>();
  private readonly varToParam = new Map<string, string>();
  private t = 0;
  readonly cfg: Required<Pick<TrainConfig, 'optimizer' | 'momentum' | 'weightDecay'>> & TrainConfig;

  constructor(readonly net: Net, cfg: TrainConfig) {
    validateTrainConfig(cfg);
    this.cfg = { ...cfg, optimizer: cfg.optimizer ?? 'sgd', momentum: cfg.momentum ?? TRAIN_DEFAULTS.momentum, weightDecay: cfg.weightDecay ?? 0 };
    for (const [name, v] of net.params) this.varToParam.set(v.name, name);
  }

  /** One step on a batch; returns the batch loss and number of correct predictions. */
  step(x: tf.Tensor, y: tf.Tensor, lr: number, hooks: StepHooks = {}): { loss: number; correct: number } {
    const gateVars = hooks.gates ? [...hooks.gates] : [];
    const vars = [...this.net.params.values(), ...gateVars.map(([, v]) => v)];
    let loss = NaN, correct = 0;
    this.t++;
    tf.tidy(() => {
      let hits: tf.Scalar | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const out = crossEntropyAndCorrect(this.net.forward(x, { training: true, gates: hooks.gates }), y);
        // kept: variableGrads disposes intermediates of its function
        hits = tf.keep(out.correct);
        return out.loss;
      }, vars);
      loss = value.dataSync()[0];
      const kept = hits as unknown as tf.Scalar, finite = Number.isFinite(loss);
      if (finite) correct = kept.dataSync()[0];
      kept.dispose();
      if (!finite) return;
      const byParam = new Map<string, tf.Tensor>();
      for (const [vn, g] of Object.entries(grads)) { const p = this.varToParam.get(vn); if (p) byParam.set(p, g); }
      hooks.onGradients?.(byParam);
      if (hooks.onGateGradients) {
        const byGate = new Map<string, tf.Tensor>();
        for (const [gn, v] of gateVars) if (grads[v.name]) byGate.set(gn, grads[v.name]);
        hooks.onGateGradients(byGate);
      }
      const fused = this.cfg.optimizer === 'sgd' && this.cfg.momentum > 0;
      for (const [name, v] of this.net.params) {
        let g = byParam.get(name);
        if (!g) continue;
        if (this.cfg.weightDecay > 0 && !fused) g = tf.add(g, tf.mul(v, this.cfg.weightDecay));
        if (this.cfg.optimizer === 'sgd') {
          let s = this.slots.get(name);
          if (!s) { s = [tf.variable(tf.zerosLike(v), false)]; this.slots.set(name, s); }
          if (fused) {
            // one fused kernel per parameter (weight decay included) where the native addon provides it
            const u = sgdMomentumUpdate(v, s[0], g, lr, this.cfg.momentum, this.cfg.weightDecay);
            s[0].assign(u.slot);
            v.assign(u.value);
          } else v.assign(tf.sub(v, tf.mul(g, lr)));
        } else {
          const b1 = 0.9, b2 = 0.999, eps = 1e-8;
          let s = this.slots.get(name);
          if (!s) { s = [tf.variable(tf.zerosLike(v), false), tf.variable(tf.zerosLike(v), false)]; this.slots.set(name, s); }
          s[0].assign(tf.add(tf.mul(s[0], b1), tf.mul(g, 1 - b1)));
          s[1].assign(tf.add(tf.mul(s[1], b2), tf.mul(tf.square(g), 1 - b2)));
          const mhat = tf.div(s[0], 1 - Math.pow(b1, this.t)), vhat = tf.div(s[1], 1 - Math.pow(b2, this.t));
          v.assign(tf.sub(v, tf.mul(tf.div(mhat, tf.add(tf.sqrt(vhat), eps)), lr)));
        }
      }
    });
    this.net.commitBatchNorm(Number.isFinite(loss));
    return { loss, correct };
  }

  dispose(): void {
    for (const s of this.slots.values()) s.forEach((v) => v.dispose());
    this.slots.clear();
  }
}

/** Loss and accuracy on a split, eval mode, in batches. */
export function evaluate(net: Net, ds: Dataset, split: Split, batchSize = 1000): { loss: number; acc: number } {
  let lossSum = 0, correct = 0;
  for (let i = 0; i < split.n; i += batchSize) {
    const idx = new Int32Array(Math.min(batchSize, split.n - i));
    for (let j = 0; j < idx.length; j++) idx[j] = i + j;
    const b = gather(ds, split, idx);
    tf.tidy(() => {
      const out = crossEntropyAndCorrect(net.forward(b.x), b.y);
      lossSum += out.loss.dataSync()[0] * idx.length;
      correct += out.correct.dataSync()[0];
    });
    b.x.dispose(); b.y.dispose();
  }
  return { loss: lossSum / split.n, acc: correct / split.n };
}

/**
 * The augmentation of training batch (epoch, step), or undefined when `cfg.augment` is unset. Its
 * draws come from their own stream ('augment'), so turning augmentation on leaves the data order as it was.
 */
export function trainAugment(cfg: TrainConfig, ds: Dataset, seed: number): ((epoch: number, step: number) => { spec: Augment; rng: Rng }) | undefined {
  const spec = cfg.augment;
  if (!spec) return undefined;
  validateAugment(spec, ds.inputShape);
  const rng = new Rng(seed, 'augment');
  return (epoch, step) => ({ spec, rng: rng.fork(`epoch${epoch}/step${step}`) });
}
