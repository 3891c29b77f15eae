/**
 * The one training loop of every training path: train() (below; experiments), MaskedRun (K-starts,
 * dissipating gradients, baselines) and prune-and-tune's fine-tuning. A TrainingRun owns
 *  - the optimiser (Trainer), whose momentum/Adam state lives as long as the run;
 *  - data order: epoch e's minibatches come from Rng(seed, dataStream).fork(`epoch<e>`) (stream 'data'
 *    unless told), so runs with one seed see identical minibatches; trainSteps continues the current
 *    epoch's batches and rolls over into the next epoch's;
 *  - augmentation (trainAugment), keyed by (epoch, step in the epoch), or by (0, step of the run) for
 *    prune-and-tune, whose steps are not organised in epochs (kept so its results do not change);
 *  - the learning rate, lrAt(cfg, epoch) unless overridden;
 *  - the divergence rule (divergence.ts): the step that meets it is recorded in `diverged` and the loop
 *    stops (the epoch is still closed and, if asked, evaluated). Callers decide: train() returns outcome
 *    'diverged', MaskedRun users record outcome 'diverged', prune-and-tune throws. Running on after
 *    that is a caller error and throws;
 *  - mask projection: with a mask installed by setMask, raw weights are re-multiplied by it after every
 *    step, so weights pruned in the middle of training stay exactly zero although the optimiser state
 *    at their positions would move them (their effective value is zero anyway);
 *  - resume: `startEpoch` begins at a later epoch with the schedule and data order of an uninterrupted run;
 *  - evaluation on the test split at the end of an epoch;
 *  - threads: outside engine tasks, the native kernels take the cores other processes leave idle when
 *    the run is created (useIdleCores, kernels/native.ts); engine tasks stay on one thread.
 * Callbacks follow OpenLTH's train(..., callbacks, start_step, end_step) (github.com/facebookresearch/open_lth,
 * training/train.py) and JaxPruner's updaters (github.com/google-research/jaxpruner): an Updater adds
 * gradient hooks to every step and is called around steps and epochs.
 */
import * as tf from '@tensorflow/tfjs';
import type { Net } from './nn/net';
import type { Mask } from './mask';
import { Rng } from './rng';
import { Dataset, gather, minibatches } from './data';
import { StepHooks, Trainer, TrainConfig, evaluate, lrAt, trainAugment } from './train';
import { DivergenceReason, DivergenceWatch } from './divergence';
import { useIdleCores } from './kernels/native';

/** Where and why a run diverged (epoch and step are 0-based; step within the epoch). */
export interface DivergedAt { epoch: number; step: number; loss: number; reason: DivergenceReason; initialLoss: number | null }

export interface StepInfo { epoch: number; step: number; loss: number; trainer: Trainer }

/** Per-step and per-epoch callbacks of a run (an OpenLTH callback / JaxPruner updater). */
export interface Updater {
  /** Hooks for the backward pass of one step on a batch of n examples (gradients inside tf.tidy). */
  stepHooks?: (n: number) => StepHooks;
  /** At the start of every epoch run by runEpoch. */
  beforeEpoch?: (epoch: number) => void;
  /** After every step that did not diverge (after mask projection). */
  afterStep?: (info: StepInfo) => void;
  /** After an epoch's steps, before evaluation; not after a diverged epoch. */
  afterEpoch?: (info: { epoch: number; trainer: Trainer }) => void;
}

export interface TrainingRunOptions {
  /** Seed of the data order and augmentation (default 0). */
  seed?: number;
  /** Evaluate on the test split at the end of every epoch (default true). */
  evalEveryEpoch?: boolean;
  /** Resume: the first epoch to run (default 0); schedule and data order as if the earlier ones had run. */
  startEpoch?: number;
  /** Rng stream of the data order (default 'data'). */
  dataStream?: string;
  /** Augmentation key: (epoch, step in epoch) (default) or (0, step of the run). */
  augmentKey?: 'epoch-step' | 'run-step';
  updaters?: Updater[];
}

export interface EpochOptions {
  /** Learning rate override (default lrAt(cfg, epoch)). */
  lr?: number;
  /** Extra gradient hook for this epoch's steps, after the updaters' (inside tf.tidy). */
  onGradients?: (grads: Map<string, tf.Tensor>) => void;
  /** Called after the epoch's steps, before evaluation (e.g. to prune); not after divergence. */
  afterTrain?: () => void;
  /** Evaluate on the test split (default: the run's evalEveryEpoch). */
  evaluate?: boolean;
}

export interface EpochRecord {
  /** 1-based global epoch index (resumed and selection epochs included). */
  epoch: number;
  lr: number;
  /** Means over the epoch's steps, weighted by batch size (NaN without a completed step). */
  trainLoss: number;
  trainAcc: number;
  /** Test metrics at the end of the epoch (after any pruning done then); null if not evaluated. */
  testAcc: number | null;
  testLoss: number | null;
  /** Completed (non-diverged) steps. */
  steps: number;
  seconds: number;
}

export class TrainingRun {
  readonly trainer: Trainer;
  readonly watch = new DivergenceWatch();
  diverged: DivergedAt | null = null;
  readonly evalEveryEpoch: boolean;
  readonly seed: number;
  protected disposed = false;
  private done: number;
  private nSteps = 0;
  private batches: Int32Array[] | null = null;
  private pos = 0;
  private maskTensors = new Map<string, tf.Tensor>();
  private current: Mask | null = null;
  private readonly dataRng: Rng;
  private readonly augment: ReturnType<typeof trainAugment>;
  private readonly augmentByRunStep: boolean;
  private readonly updaters: Updater[];

  constructor(readonly net: Net, readonly ds: Dataset, readonly cfg: TrainConfig, opts: TrainingRunOptions = {}) {
    const start = opts.startEpoch ?? 0;
    if (!Number.isInteger(start) || start < 0) throw new Error(`TrainingRun: startEpoch must be a non-negative integer, got ${start}.`);
    this.trainer = new Trainer(net, cfg);
    this.seed = opts.seed ?? 0;
    this.evalEveryEpoch = opts.evalEveryEpoch ?? true;
    this.done = start;
    this.dataRng = new Rng(this.seed, opts.dataStream ?? 'data');
    this.augment = trainAugment(cfg, ds, this.seed);
    this.augmentByRunStep = opts.augmentKey === 'run-step';
    this.updaters = opts.updaters ?? [];
    useIdleCores();
  }

  /** Epochs completed (the next epoch's 0-based index); a diverged epoch counts as completed. */
  get epochsDone(): number { return this.done; }

  /** Steps taken, the diverging one included. */
  get steps(): number { return this.nSteps; }

  /** The installed mask, or null for a dense net. */
  get mask(): Mask | null { return this.current; }

  /** The installed mask of one kernel as a float tensor (owned by the run), or undefined when dense. */
  maskTensor(name: string): tf.Tensor | undefined { return this.maskTensors.get(name); }

  /** Install a mask (zeroes the raw weights it prunes) and keep it enforced after every step. */
  setMask(mask: Mask): void {
    this.net.setMask(mask);
    for (const t of this.maskTensors.values()) t.dispose();
    this.maskTensors = new Map(this.net.prunable.map((p) => [p.name, tf.tensor(Float32Array.from(mask.get(p.name)), p.shape, 'float32')]));
    this.current = mask;
  }

  /**
   * Train the rest of the current epoch (all of it unless trainSteps stopped inside it), then
   * evaluate if asked. Stops early at divergence; the epoch then still counts as done.
   */
  runEpoch(o: EpochOptions = {}): EpochRecord {
    this.assertRunnable();
    const e = this.done;
    const t0 = Date.now();
    const lr = o.lr ?? lrAt(this.cfg, e);
    for (const u of this.updaters) u.beforeEpoch?.(e);
    const batches = this.epochBatches();
    let lossSum = 0, correct = 0, seen = 0, steps = 0;
    for (let s = this.pos; s < batches.length; s++) {
      const r = this.step(batches[s], e, s, lr, o.onGradients);
      if (!r) break;
      lossSum += r.loss * batches[s].length; correct += r.correct; seen += batches[s].length; steps++;
    }
    this.batches = null;
    this.done++;
    if (!this.diverged) {
      for (const u of this.updaters) u.afterEpoch?.({ epoch: e, trainer: this.trainer });
      o.afterTrain?.();
    }
    const ev = (o.evaluate ?? this.evalEveryEpoch) ? this.evaluate() : null;
    const rec: EpochRecord = {
      epoch: e + 1, lr, trainLoss: seen ? lossSum / seen : NaN, trainAcc: seen ? correct / seen : NaN,
      testAcc: ev ? ev.acc : null, testLoss: ev ? ev.loss : null, steps, seconds: (Date.now() - t0) / 1000,
    };
    this.epochEnded(rec);
    return rec;
  }

  /** For subclasses: called with every epoch's record, after evaluation (MaskedRun keeps its history). */
  protected epochEnded(rec: EpochRecord): void { void rec; }

  /** Run epochs until `epochsDone === epochs` (or divergence). */
  trainTo(epochs: number, o: Omit<EpochOptions, 'afterTrain' | 'onGradients'> = {}): void {
    while (this.epochsDone < epochs && !this.diverged) this.runEpoch(o);
  }

  /**
   * Train `n` steps from the current place in the data stream, rolling over into the next epoch's
   * batches (no evaluation, no epoch callbacks). Returns the unweighted mean step loss (NaN for n = 0).
   * Stops early at divergence.
   */
  trainSteps(n: number, o: { lr?: number } = {}): { steps: number; meanLoss: number } {
    this.assertRunnable();
    let lossSum = 0, steps = 0;
    for (let i = 0; i < n; i++) {
      const batches = this.epochBatches();
      if (batches.length === 0) throw new Error('TrainingRun.trainSteps: the training split is empty.');
      const e = this.done, s = this.pos++;
      const r = this.step(batches[s], e, s, o.lr ?? lrAt(this.cfg, e));
      if (!r) break;
      if (this.pos >= batches.length) { this.batches = null; this.done++; }
      lossSum += r.loss; steps++;
    }
    return { steps, meanLoss: steps ? lossSum / steps : NaN };
  }

  evaluate(): { acc: number; loss: number } { return evaluate(this.net, this.ds, this.ds.test); }

  /** Free the optimiser state and mask tensors; the net too unless keepNet. */
  dispose(keepNet = false): void {
    if (this.disposed) return;
    this.disposed = true;
    this.trainer.dispose();
    for (const t of this.maskTensors.values()) t.dispose();
    if (!keepNet) this.net.dispose();
  }

  private assertRunnable(): void {
    if (this.disposed) throw new Error(`${this.constructor.name} has been disposed.`);
    if (this.diverged) throw new Error(`Training diverged at epoch ${this.diverged.epoch + 1} (loss ${this.diverged.loss}); no further epochs can run.`);
  }

  /** The current epoch's minibatches (drawn when the epoch starts). */
  private epochBatches(): Int32Array[] {
    if (!this.batches) {
      this.batches = minibatches(this.ds.train.n, this.cfg.batchSize, this.dataRng.fork(`epoch${this.done}`));
      this.pos = 0;
    }
    return this.batches;
  }

  /** One step on rows `idx` (step s of epoch e); null when it met the divergence rule. */
  private step(idx: Int32Array, e: number, s: number, lr: number, onGradients?: EpochOptions['onGradients']): { loss: number; correct: number } | null {
    const hooks = this.stepHooks(idx.length, onGradients);
    const b = gather(this.ds, this.ds.train, idx, this.augment?.(this.augmentByRunStep ? 0 : e, this.augmentByRunStep ? this.nSteps : s));
    const r = this.trainer.step(b.x, b.y, lr, hooks);
    b.x.dispose(); b.y.dispose();
    this.nSteps++;
    const why = this.watch.check(r.loss);
    if (why) { this.diverged = { epoch: e, step: s, loss: r.loss, reason: why, initialLoss: this.watch.initialLoss }; return null; }
    this.projectMask();
    for (const u of this.updaters) u.afterStep?.({ epoch: e, step: s, loss: r.loss, trainer: this.trainer });
    return r;
  }

  /** The updaters' hooks for a batch of n, then the epoch's gradient hook; at most one may add gates. */
  private stepHooks(n: number, onGradients?: EpochOptions['onGradients']): StepHooks {
    const hs = this.updaters.flatMap((u) => (u.stepHooks ? [u.stepHooks(n)] : []));
    if (onGradients) hs.push({ onGradients });
    if (hs.length <= 1) return hs[0] ?? {};
    const gated = hs.filter((h) => h.gates);
    if (gated.length > 1) throw new Error('TrainingRun: more than one updater supplies gates.');
    return {
      onGradients: (g) => { for (const h of hs) h.onGradients?.(g); },
      gates: gated[0]?.gates, onGateGradients: gated[0]?.onGateGradients,
    };
  }

  private projectMask(): void {
    if (!this.current) return;
    tf.tidy(() => {
      for (const [name, m] of this.maskTensors) {
        const v = this.net.params.get(name)!;
        v.assign(tf.mul(v, m));
      }
    });
  }
}

export interface EpochMetrics {
  epoch: number; lr: number; trainLoss: number; trainAcc: number; testLoss: number; testAcc: number; seconds: number;
}

export interface TrainResult {
  outcome: 'ok' | 'diverged';
  epochs: EpochMetrics[];
  /** Final-epoch metrics (not the best seen). */
  final: { testAcc: number; testLoss: number; trainLoss: number; trainAcc: number };
  diverged?: DivergedAt;
  steps: number;
  seconds: number;
}

export interface TrainOptions {
  /** Seed of the data order (minibatch shuffling) and augmentation. */
  seed?: number;
  onEpoch?: (m: EpochMetrics) => void;
  /** Called after every step (e.g. to prune during training); `epoch` is 0-based. */
  afterStep?: Updater['afterStep'];
  /** Called at the end of every epoch, before evaluation. */
  afterEpoch?: Updater['afterEpoch'];
  hooks?: StepHooks;
  /** Evaluate on the test split every epoch (default true; the final epoch is always evaluated). */
  evalEveryEpoch?: boolean;
}

/**
 * Train `net` in place for cfg.epochs (a TrainingRun with data stream 'data'). The reported result is
 * the FINAL epoch's test accuracy; divergence ends the run with outcome 'diverged' (no exception) and
 * the test metrics of the net as it is then.
 */
export function train(net: Net, ds: Dataset, cfg: TrainConfig, opts: TrainOptions = {}): TrainResult {
  const t0 = Date.now();
  const hooks = opts.hooks;
  const run = new TrainingRun(net, ds, cfg, {
    seed: opts.seed ?? 0,
    updaters: [{ stepHooks: hooks && (() => hooks), afterStep: opts.afterStep, afterEpoch: opts.afterEpoch }],
  });
  const epochs: EpochMetrics[] = [];
  let last: EpochRecord | null = null;
  try {
    for (let e = 0; e < cfg.epochs && !run.diverged; e++) {
      last = run.runEpoch({ evaluate: opts.evalEveryEpoch !== false || e === cfg.epochs - 1 });
      if (run.diverged) break;
      const m: EpochMetrics = { epoch: last.epoch, lr: last.lr, trainLoss: last.trainLoss, trainAcc: last.trainAcc, testLoss: last.testLoss ?? NaN, testAcc: last.testAcc ?? NaN, seconds: last.seconds };
      epochs.push(m);
      opts.onEpoch?.(m);
    }
  } finally {
    run.dispose(true);
  }
  const diverged = run.diverged ?? undefined;
  let final: TrainResult['final'];
  if (diverged || epochs.length === 0) {
    const ev = last && last.testAcc !== null ? { acc: last.testAcc, loss: last.testLoss! } : evaluate(net, ds, ds.test);
    final = { testAcc: ev.acc, testLoss: ev.loss, trainLoss: diverged ? diverged.loss : NaN, trainAcc: NaN };
  } else {
    const l = epochs[epochs.length - 1];
    final = { testAcc: l.testAcc, testLoss: l.testLoss, trainLoss: l.trainLoss, trainAcc: l.trainAcc };
  }
  return { outcome: diverged ? 'diverged' : 'ok', epochs, final, diverged, steps: run.steps, seconds: (Date.now() - t0) / 1000 };
}
