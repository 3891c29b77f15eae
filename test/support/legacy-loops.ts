/**
 * Test-only verbatim copies of the three training loops as they were before issue #15 ("One training
 * loop"): train() (lib/src/train.ts), MaskedRun (lib/src/early-pruning/masked-run.ts) and pruneAndTune
 * (lib/src/structured/prune-and-tune.ts), at commit 7fdff38. The differential tests
 * (test/training-loop.test.ts) assert that the one loop (lib/src/training-run.ts) reproduces them
 * bit for bit. Only names were changed (Legacy*); the logic is untouched. Not library code.
 */
import * as tf from '@tensorflow/tfjs';
import {
  Net, Mask, Rng, Dataset, gather, minibatches, Trainer, TrainConfig, evaluate, lrAt, trainAugment,
  DivergenceReason, DivergenceWatch, StepHooks, EpochMetrics, TrainResult,
  PruneAndTuneOptions, PruneAndTuneResult, PruneCheckpoint, PruneEvent, groupPrefixes, structuredConfigOf, structuredCost,
  FisherAccumulator, normaliseScores, l1ChannelScores, randomChannelScores, takeSnapshot,
} from 'prune-at-init';

const evaluateSplit = evaluate;

function zeroScalarVariable(): tf.Variable {
  const z = tf.scalar(0);
  const v = tf.variable(z, false);
  z.dispose();
  return v;
}

// ---- train() -------------------------------------------------------------------------------------
export interface LegacyTrainOptions {
  /** Seed of the data order (minibatch shuffling). */
  seed?: number;
  onEpoch?: (m: EpochMetrics) => void;
  /** Called after every step (e.g. to prune during training); `epoch` is 0-based. */
  afterStep?: (info: { epoch: number; step: number; loss: number; trainer: Trainer }) => void;
  /** Called at the end of every epoch, before evaluation. */
  afterEpoch?: (info: { epoch: number; trainer: Trainer }) => void;
  hooks?: StepHooks;
  /** Evaluate on the test split every epoch (default true; the final epoch is always evaluated). */
  evalEveryEpoch?: boolean;
}

/** Train `net` in place. Data order comes from `opts.seed` (stream 'data'). */
export function legacyTrain(net: Net, ds: Dataset, cfg: TrainConfig, opts: LegacyTrainOptions = {}): TrainResult {
  const trainer = new Trainer(net, cfg);
  const rng = new Rng(opts.seed ?? 0, 'data');
  const augment = trainAugment(cfg, ds, opts.seed ?? 0);
  const t0 = Date.now();
  const epochs: EpochMetrics[] = [];
  let steps = 0;
  let diverged: TrainResult['diverged'];
  const watch = new DivergenceWatch();
  try {
    for (let e = 0; e < cfg.epochs && !diverged; e++) {
      const te = Date.now();
      const lr = lrAt(cfg, e);
      let lossSum = 0, correct = 0, seen = 0;
      const batches = minibatches(ds.train.n, cfg.batchSize, rng.fork(`epoch${e}`));
      for (let s = 0; s < batches.length; s++) {
        const b = gather(ds, ds.train, batches[s], augment?.(e, s));
        const r = trainer.step(b.x, b.y, lr, opts.hooks);
        b.x.dispose(); b.y.dispose();
        steps++;
        const why = watch.check(r.loss);
        if (why) { diverged = { epoch: e, step: s, loss: r.loss, reason: why, initialLoss: watch.initialLoss }; break; }
        lossSum += r.loss * batches[s].length; correct += r.correct; seen += batches[s].length;
        opts.afterStep?.({ epoch: e, step: s, loss: r.loss, trainer });
      }
      if (diverged) break;
      opts.afterEpoch?.({ epoch: e, trainer });
      const last = e === cfg.epochs - 1;
      const ev = opts.evalEveryEpoch === false && !last ? { loss: NaN, acc: NaN } : evaluate(net, ds, ds.test);
      const m: EpochMetrics = { epoch: e + 1, lr, trainLoss: lossSum / seen, trainAcc: correct / seen, testLoss: ev.loss, testAcc: ev.acc, seconds: (Date.now() - te) / 1000 };
      epochs.push(m);
      opts.onEpoch?.(m);
    }
  } finally {
    trainer.dispose();
  }
  let final: TrainResult['final'];
  if (diverged || epochs.length === 0) {
    const ev = evaluate(net, ds, ds.test);
    final = { testAcc: ev.acc, testLoss: ev.loss, trainLoss: diverged ? diverged.loss : NaN, trainAcc: NaN };
  } else {
    const l = epochs[epochs.length - 1];
    final = { testAcc: l.testAcc, testLoss: l.testLoss, trainLoss: l.trainLoss, trainAcc: l.trainAcc };
  }
  return { outcome: diverged ? 'diverged' : 'ok', epochs, final, diverged, steps, seconds: (Date.now() - t0) / 1000 };
}

// ---- MaskedRun -----------------------------------------------------------------------------------
export interface LegacyMaskedEpochRecord {
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

export interface LegacyEpochOptions {
  /** Learning rate override (default lrAt(cfg, epoch)). */
  lr?: number;
  /** Extra gradient hook, called with the raw-parameter gradients of every step (inside tf.tidy). */
  onGradients?: (grads: Map<string, tf.Tensor>) => void;
  /** Called after the epoch's steps, before evaluation (e.g. to prune). */
  afterTrain?: () => void;
  /** Evaluate on the test split (default: the run's evalEveryEpoch). */
  evaluate?: boolean;
}

export class LegacyMaskedRun {
  readonly trainer: Trainer;
  /** Epochs trained so far (the next epoch's 0-based index). */
  epochsDone = 0;
  readonly history: LegacyMaskedEpochRecord[] = [];
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
  runEpoch(o: LegacyEpochOptions = {}): LegacyMaskedEpochRecord {
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
    const rec: LegacyMaskedEpochRecord = {
      epoch: e + 1, lr, trainLoss: seen ? lossSum / seen : NaN, trainAcc: seen ? correct / seen : NaN,
      testAcc: ev ? ev.acc : null, testLoss: ev ? ev.loss : null,
      density: m.density, perLayerDensity: Object.fromEntries(m.perLayer().map((l) => [l.name, l.density])),
      gradNorm, seconds: (Date.now() - t0) / 1000,
    };
    this.history.push(rec);
    return rec;
  }

  /** Train until `epochsDone === epochs` (or divergence). */
  trainTo(epochs: number, o: Omit<LegacyEpochOptions, 'afterTrain' | 'onGradients'> = {}): void {
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

// ---- pruneAndTune --------------------------------------------------------------------------------
function posInt(v: number, what: string, min = 1): void {
  if (!Number.isInteger(v) || v < min) throw new Error(`pruneAndTune: ${what} must be an integer >= ${min}, got ${v}.`);
}

/** Run prune-and-tune on `net` in place (it ends masked); see the module comment. */
export function legacyPruneAndTune(net: Net, ds: Dataset, opts: PruneAndTuneOptions): PruneAndTuneResult {
  const t0 = Date.now();
  const s = {
    criterion: opts.criterion, l1Variant: opts.l1Variant ?? 'abs', costNormalisation: opts.costNormalisation ?? 'none',
    stepsPerPrune: opts.stepsPerPrune ?? 100, channelsPerRound: opts.channelsPerRound ?? 1, lr: opts.lr ?? 8e-4,
    momentum: opts.momentum ?? 0.9, weightDecay: opts.weightDecay ?? 5e-4, batchSize: opts.batchSize ?? 128,
    allowEmptyBlocks: opts.allowEmptyBlocks ?? true, snapshots: opts.snapshots ?? false, seed: opts.seed ?? 0,
    maxPrunes: opts.maxPrunes, augment: opts.augment,
  };
  if (!['fisher', 'l1', 'random'].includes(s.criterion)) throw new Error(`pruneAndTune: unknown criterion '${s.criterion}': use 'fisher', 'l1' or 'random'.`);
  if (s.costNormalisation !== 'none' && s.criterion !== 'fisher') throw new Error(`pruneAndTune: costNormalisation '${s.costNormalisation}' applies to the Fisher criterion only (criterion is '${s.criterion}').`);
  posInt(s.stepsPerPrune, 'stepsPerPrune', s.criterion === 'fisher' ? 1 : 0);
  posInt(s.channelsPerRound, 'channelsPerRound');
  posInt(s.batchSize, 'batchSize');
  if (s.maxPrunes !== undefined) posInt(s.maxPrunes, 'maxPrunes', 0);
  const cpPrunes = [...new Set(opts.checkpoints?.prunes ?? [])].sort((a, b) => a - b);
  const cpParams = [...new Set(opts.checkpoints?.params ?? [])].sort((a, b) => b - a);
  cpPrunes.forEach((p) => posInt(p, 'checkpoints.prunes entry', 0));
  cpParams.forEach((p) => { if (!(p > 0)) throw new Error(`pruneAndTune: checkpoints.params entries must be positive parameter counts, got ${p}.`); });
  if (s.maxPrunes === undefined && cpPrunes.length + cpParams.length === 0) {
    throw new Error('pruneAndTune: give maxPrunes or checkpoints (prunes and/or params), otherwise the run has no end.');
  }
  if (net.unitGroups.length === 0) throw new Error(`pruneAndTune: ${net.name} has no prunable interior channels.`);

  const config = structuredConfigOf(net);
  const blockNames = groupPrefixes(config);
  const keep = new Map(net.unitGroups.map((g) => [g.name, net.unitMaskArray(g.name)]));
  const live = new Map([...keep].map(([g, m]) => [g, m.reduce((a, v) => a + v, 0)]));
  const liveCost = () => structuredCost({ ...config, interior: blockNames.map((b) => live.get(`${b}/mid`) ?? 0) });
  const evalFn = opts.evaluate ?? ((n: Net) => evaluateSplit(n, ds, ds.test));

  const tuneCfg = { epochs: 1, batchSize: s.batchSize, lr: s.lr, momentum: s.momentum, weightDecay: s.weightDecay, schedule: { type: 'constant' as const }, augment: s.augment };
  const trainer = new Trainer(net, tuneCfg);
  // one augmentation stream over all fine-tuning steps (they are not organised in epochs)
  const augment = trainAugment(tuneCfg, ds, s.seed);
  const fisher = s.criterion === 'fisher' ? new FisherAccumulator(net) : undefined;
  const dataRng = new Rng(s.seed, 'prune-data'), scoreRng = new Rng(s.seed, 'prune-random');
  let epoch = 0, queue: Int32Array[] = [];
  const nextBatch = () => {
    if (queue.length === 0) queue = minibatches(ds.train.n, s.batchSize, dataRng.fork(`epoch${epoch++}`)).reverse();
    return queue.pop()!;
  };

  const history: PruneEvent[] = [];
  const checkpoints: PruneCheckpoint[] = [];
  const done = new Set<string>();
  const allTargets = [...cpPrunes.map((p) => `prunes=${p}`), ...cpParams.map((p) => `params<=${p}`)];
  let steps = 0, round = 0;
  const watch = new DivergenceWatch();
  let stopped: PruneAndTuneResult['stopped'] = 'exhausted';
  try {
    for (;;) {
      round++;
      let lossSum = 0;
      for (let i = 0; i < s.stepsPerPrune; i++) {
        const b = gather(ds, ds.train, nextBatch(), augment?.(0, steps));
        const r = trainer.step(b.x, b.y, s.lr, fisher ? fisher.hooks(b.x.shape[0]) : {});
        b.x.dispose(); b.y.dispose();
        steps++;
        const why = watch.check(r.loss);
        if (why) throw new Error(`pruneAndTune diverged: ${watch.describe(r.loss, why)} at step ${steps} (after ${history.length} prunes); lower lr (${s.lr}).`);
        lossSum += r.loss;
      }
      const prunes = history.length;
      const cost = liveCost();
      const due = [
        ...cpPrunes.filter((p) => prunes >= p && !done.has(`prunes=${p}`)).map((p) => `prunes=${p}`),
        ...cpParams.filter((p) => cost.params <= p && !done.has(`params<=${p}`)).map((p) => `params<=${p}`),
      ];
      if (due.length) {
        const ev = evalFn(net);
        due.forEach((d) => done.add(d));
        checkpoints.push({
          prunes, steps, ...cost, testError: 1 - ev.acc, testLoss: ev.loss,
          interior: blockNames.map((b) => live.get(`${b}/mid`) ?? 0), targets: due,
          ...(s.snapshots ? { snapshot: takeSnapshot(net) } : {}),
        });
      }
      if (s.maxPrunes !== undefined && prunes >= s.maxPrunes) { stopped = 'maxPrunes'; break; }
      if (s.maxPrunes === undefined && done.size === allTargets.length) { stopped = 'checkpoints'; break; }

      const raw = s.criterion === 'fisher' ? fisher!.scores()
        : s.criterion === 'l1' ? l1ChannelScores(net, s.l1Variant) : randomChannelScores(net, scoreRng);
      const scores = s.criterion === 'fisher' ? normaliseScores(net, raw, s.costNormalisation) : raw;
      const cands: Array<{ block: string; channel: number; score: number; order: number }> = [];
      net.unitGroups.forEach((g, gi) => {
        const m = keep.get(g.name)!, sc = scores.get(g.name)!;
        for (let c = 0; c < g.size; c++) if (m[c] === 1) cands.push({ block: g.name, channel: c, score: sc[c], order: gi * 1e7 + c });
      });
      cands.sort((a, b) => a.score - b.score || a.order - b.order);
      const want = Math.min(s.channelsPerRound, s.maxPrunes === undefined ? Infinity : s.maxPrunes - prunes);
      const removed: PruneEvent[] = [];
      for (const c of cands) {
        if (removed.length >= want) break;
        if (!s.allowEmptyBlocks && live.get(c.block)! <= 1) continue;
        keep.get(c.block)![c.channel] = 0;
        live.set(c.block, live.get(c.block)! - 1);
        removed.push({ block: c.block, channel: c.channel, score: c.score, step: steps });
      }
      if (removed.length === 0) { stopped = 'exhausted'; break; }
      for (const g of new Set(removed.map((r) => r.block))) net.setUnitMask(g, keep.get(g)!);
      history.push(...removed);
      fisher?.reset();
      opts.onRound?.({ round, prunes: history.length, steps, trainLoss: s.stepsPerPrune ? lossSum / s.stepsPerPrune : NaN, scores, removed, live: liveCost() });
    }
  } finally {
    trainer.dispose();
    fisher?.dispose();
  }
  return {
    config, history, checkpoints, steps, seconds: (Date.now() - t0) / 1000, stopped,
    unreached: allTargets.filter((t) => !done.has(t)), settings: s,
  };
}
