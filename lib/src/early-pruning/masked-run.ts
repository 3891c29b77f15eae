/**
 * One network being trained epoch by epoch with a (changeable) mask: the run of K-starts, dissipating
 * gradients and the baselines. It is the one training loop (training-run.ts: optimiser state kept
 * across epochs, so a K-starts winner "continues from its current state"; data order of train(), so
 * candidates with one data seed see identical minibatches; the installed mask re-applied after every
 * step; resume by startEpoch) plus per-epoch diagnostics: density and per-layer gradient norm
 * (an updater), kept in `history`. A diverged run stops; its users record outcome 'diverged'.
 */
import * as tf from '@tensorflow/tfjs';
import type { Net } from '../nn/net';
import { Mask } from '../mask';
import type { Dataset } from '../data';
import type { TrainConfig } from '../train';
import { EpochOptions, EpochRecord, TrainingRun, TrainingRunOptions, Updater } from '../training-run';

export type { EpochOptions };

/** An epoch's record (without its step count) and the run's diagnostics at its end. */
export interface MaskedEpochRecord extends Omit<EpochRecord, 'steps' | 'seconds'> {
  /** Density of the prunable kernels at the end of the epoch (after pruning). */
  density: number;
  perLayerDensity: Record<string, number>;
  /** Mean over the epoch's steps of the L2 norm of each prunable kernel's gradient (gradient flow). */
  gradNorm: Record<string, number>;
  seconds: number;
}

/** Updater summing, per prunable kernel, the L2 norm of its gradient over an epoch's steps (on the backend). */
class GradNormMeter implements Updater {
  readonly sums: Map<string, tf.Variable>;
  constructor(net: Net) { this.sums = new Map(net.prunable.map((p) => [p.name, zeroScalarVariable()])); }
  beforeEpoch = (): void => { tf.tidy(() => { for (const v of this.sums.values()) v.assign(tf.zeros([])); }); };
  stepHooks = () => ({
    onGradients: (grads: Map<string, tf.Tensor>) => {
      for (const [name, acc] of this.sums) {
        const g = grads.get(name);
        if (g) acc.assign(tf.add(acc, tf.norm(g)));
      }
    },
  });
  /** Mean norm per step (NaN without a step). */
  means(steps: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, acc] of this.sums) out[name] = steps ? acc.dataSync()[0] / steps : NaN;
    return out;
  }
  dispose(): void { for (const v of this.sums.values()) v.dispose(); }
}

export class MaskedRun extends TrainingRun {
  readonly history: MaskedEpochRecord[] = [];
  private readonly gradNorm: GradNormMeter;

  constructor(net: Net, ds: Dataset, cfg: TrainConfig, opts: TrainingRunOptions = {}) {
    const meter = new GradNormMeter(net);
    super(net, ds, cfg, { ...opts, updaters: [meter, ...(opts.updaters ?? [])] });
    this.gradNorm = meter;
  }

  /** The installed mask, or all ones. */
  maskOrOnes(): Mask { return this.mask ?? Mask.ones(this.net); }

  /** Every epoch (runEpoch) is recorded in `history`, with the density after any pruning at its end. */
  protected override epochEnded(r: EpochRecord): void {
    const m = this.maskOrOnes();
    this.history.push({
      epoch: r.epoch, lr: r.lr, trainLoss: r.trainLoss, trainAcc: r.trainAcc, testAcc: r.testAcc, testLoss: r.testLoss,
      density: m.density, perLayerDensity: Object.fromEntries(m.perLayer().map((l) => [l.name, l.density])),
      gradNorm: this.gradNorm.means(r.steps), seconds: r.seconds,
    });
  }

  /** Test accuracy now: the last epoch's if it was evaluated at this state, else a fresh evaluation. */
  testAccNow(): number {
    const last = this.history[this.history.length - 1];
    return last && last.epoch === this.epochsDone && last.testAcc !== null ? last.testAcc : this.evaluate().acc;
  }

  /** Free the optimiser state, masks and diagnostics; the net too unless keepNet. */
  override dispose(keepNet = false): void {
    if (!this.disposed) this.gradNorm.dispose();
    super.dispose(keepNet);
  }
}

/** A non-trainable float32 scalar variable initialised to 0 (the initial tensor is not leaked). */
export function zeroScalarVariable(): tf.Variable {
  const z = tf.scalar(0);
  const v = tf.variable(z, false);
  z.dispose();
  return v;
}
