/**
 * One network being trained epoch by epoch with a (changeable) mask: the shared engine of K-starts,
 * dissipating gradients and the baselines. It keeps the optimiser state across epochs (so a K-starts
 * winner "continues from its current state"), uses the same data order as `train()` (stream
 * Rng(dataSeed, 'data').fork(`epoch<e>`), so candidates with one data seed see identical
 * minibatches), and records per-epoch diagnostics (density, per-layer gradient norm).
 *
 * Pruning in the middle of training leaves a momentum/Adam state at the newly pruned positions, which
 * would move their raw weights away from zero; the raw weights are therefore re-multiplied by the
 * mask after every step, so pruned weights stay exactly zero (their effective value is zero anyway).
 */
import * as tf from '@tensorflow/tfjs';
import type { Net } from '../nn/net';
import { Mask } from '../mask';
import { Rng } from '../rng';
import { Dataset, gather, minibatches } from '../data';
import { Trainer, TrainConfig, evaluate, lrAt, trainAugment } from '../train';
import { DivergenceReason, DivergenceWatch } from '../divergence';

export interface MaskedEpochRecord {
  /** 1-based global epoch index (selection epochs included). */
  epoch: number;
  lr: number;
  trainLoss: number;
  trainAcc: number;
  /** Test accuracy at the end of the epoch (after any pruning done at that epoch); null if not evaluated. */
  testAcc: number | null;
  testLoss: number | null;
  /** Density of the prunable kernels at the end of the epoch (after pruning). */
  density: number;
  perLayerDensity: Record<string, number>;
  /** Mean over the epoch's steps of the L2 norm of each prunable kernel's gradient (gradient flow). */
  gradNorm: Record<string, number>;
  seconds: number;
}

export interface EpochOptions {
  /** Learning rate override (default lrAt(cfg, epoch)). */
  lr?: number;
  /** Extra gradient hook, called with the raw-parameter gradients of every step (inside tf.tidy). */
  onGradients?: (grads: Map<string, tf.Tensor>) => void;
  /** Called after the epoch's steps, before evaluation (e.g. to prune). */
  afterTrain?: () => void;
  /** Evaluate on the test split (default: the run's evalEveryEpoch). */
  evaluate?: boolean;
}

export class MaskedRun {
  readonly trainer: Trainer;
  /** Epochs trained so far (the next epoch's 0-based index). */
  epochsDone = 0;
  readonly history: MaskedEpochRecord[] = [];
  diverged: { epoch: number; step: number; loss: number; reason: DivergenceReason; initialLoss: number | null } | null = null;
  private readonly watch = new DivergenceWatch();
  private maskTensors = new Map<string, tf.Tensor>();
  private current: Mask | null = null;
  private readonly dataRng: Rng;
  private readonly augment: ReturnType<typeof trainAugment>;
  private readonly normAcc: Map<string, tf.Variable>;
  private disposed = false;

  constructor(readonly net: Net, readonly ds: Dataset, readonly cfg: TrainConfig, readonly dataSeed: number, readonly evalEveryEpoch = true) {
    this.trainer = new Trainer(net, cfg);
    this.dataRng = new Rng(dataSeed, 'data');
    this.augment = trainAugment(cfg, ds, dataSeed);
    this.normAcc = new Map(net.prunable.map((p) => [p.name, zeroScalarVariable()]));
  }

  /** The installed mask, or null for a dense net. */
  get mask(): Mask | null { return this.current; }

  /** The installed mask, or all ones. */
  maskOrOnes(): Mask { return this.current ?? Mask.ones(this.net); }

  /** The installed mask of one kernel as a float tensor (owned by the run), or undefined when dense. */
  maskTensor(name: string): tf.Tensor | undefined { return this.maskTensors.get(name); }

  /** Install a mask (zeroes the raw weights it prunes) and keep it enforced after every step. */
  setMask(mask: Mask): void {
    this.net.setMask(mask);
    for (const t of this.maskTensors.values()) t.dispose();
    this.maskTensors = new Map(this.net.prunable.map((p) => [p.name, tf.tensor(Float32Array.from(mask.get(p.name)), p.shape, 'float32')]));
    this.current = mask;
  }

  /** Train one epoch (global index `epochsDone`); returns its record. Stops early when the loss meets the divergence rule (divergence.ts). */
  runEpoch(o: EpochOptions = {}): MaskedEpochRecord {
    if (this.disposed) throw new Error('MaskedRun has been disposed.');
    if (this.diverged) throw new Error(`Training diverged at epoch ${this.diverged.epoch + 1} (loss ${this.diverged.loss}); no further epochs can run.`);
    const e = this.epochsDone;
    const t0 = Date.now();
    const lr = o.lr ?? lrAt(this.cfg, e);
    tf.tidy(() => { for (const v of this.normAcc.values()) v.assign(tf.zeros([])); });
    const hooks = {
      onGradients: (grads: Map<string, tf.Tensor>) => {
        for (const [name, acc] of this.normAcc) {
          const g = grads.get(name);
          if (g) acc.assign(tf.add(acc, tf.norm(g)));
        }
        o.onGradients?.(grads);
      },
    };
    const batches = minibatches(this.ds.train.n, this.cfg.batchSize, this.dataRng.fork(`epoch${e}`));
    let lossSum = 0, correct = 0, seen = 0, steps = 0;
    for (let s = 0; s < batches.length; s++) {
      const b = gather(this.ds, this.ds.train, batches[s], this.augment?.(e, s));
      const r = this.trainer.step(b.x, b.y, lr, hooks);
      b.x.dispose(); b.y.dispose();
      const why = this.watch.check(r.loss);
      if (why) { this.diverged = { epoch: e, step: s, loss: r.loss, reason: why, initialLoss: this.watch.initialLoss }; break; }
      this.enforceMask();
      lossSum += r.loss * batches[s].length; correct += r.correct; seen += batches[s].length; steps++;
    }
    this.epochsDone++;
    if (!this.diverged) o.afterTrain?.();
    const doEval = o.evaluate ?? this.evalEveryEpoch;
    const ev = doEval ? evaluate(this.net, this.ds, this.ds.test) : null;
    const gradNorm: Record<string, number> = {};
    for (const [name, acc] of this.normAcc) gradNorm[name] = steps ? acc.dataSync()[0] / steps : NaN;
    const m = this.maskOrOnes();
    const rec: MaskedEpochRecord = {
      epoch: e + 1, lr, trainLoss: seen ? lossSum / seen : NaN, trainAcc: seen ? correct / seen : NaN,
      testAcc: ev ? ev.acc : null, testLoss: ev ? ev.loss : null,
      density: m.density, perLayerDensity: Object.fromEntries(m.perLayer().map((l) => [l.name, l.density])),
      gradNorm, seconds: (Date.now() - t0) / 1000,
    };
    this.history.push(rec);
    return rec;
  }

  /** Train until `epochsDone === epochs` (or divergence). */
  trainTo(epochs: number, o: Omit<EpochOptions, 'afterTrain' | 'onGradients'> = {}): void {
    while (this.epochsDone < epochs && !this.diverged) this.runEpoch(o);
  }

  evaluate(): { acc: number; loss: number } { return evaluate(this.net, this.ds, this.ds.test); }

  /** Test accuracy now: the last epoch's if it was evaluated at this state, else a fresh evaluation. */
  testAccNow(): number {
    const last = this.history[this.history.length - 1];
    return last && last.epoch === this.epochsDone && last.testAcc !== null ? last.testAcc : this.evaluate().acc;
  }

  private enforceMask(): void {
    if (!this.current) return;
    tf.tidy(() => {
      for (const [name, m] of this.maskTensors) {
        const v = this.net.params.get(name)!;
        v.assign(tf.mul(v, m));
      }
    });
  }

  /** Free the optimiser state and masks; the net too unless keepNet. */
  dispose(keepNet = false): void {
    if (this.disposed) return;
    this.disposed = true;
    this.trainer.dispose();
    for (const t of this.maskTensors.values()) t.dispose();
    for (const v of this.normAcc.values()) v.dispose();
    if (!keepNet) this.net.dispose();
  }
}

/** A non-trainable float32 scalar variable initialised to 0 (the initial tensor is not leaked). */
export function zeroScalarVariable(): tf.Variable {
  const z = tf.scalar(0);
  const v = tf.variable(z, false);
  z.dispose();
  return v;
}
