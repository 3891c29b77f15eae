/**
 * Prune-and-tune (Crowley et al. code, github.com/BayesWatch/pytorch-prunes), in place on a trained WRN or DenseNet-BC. Each round:
 *   1. fine-tune `stepsPerPrune` SGD steps at a constant LR (Fisher scores accumulate in the same
 *      backward pass);
 *   2. if the current state is a requested checkpoint (prune count reached or passed, or live
 *      parameters at or below a budget, each for the first time): evaluate and record params, MACs, test error, profile;
 *   3. remove `channelsPerRound` live channels (default exactly one) by global argmin of the
 *      criterion over all blocks; reset the Fisher sums.
 * The fine-tuning runs through the one training loop (training-run.ts, trainSteps), so one optimiser
 * (with its momentum) lives through the whole run. Data order: stream Rng(seed, 'prune-data'), its
 * epochs' batches consumed in turn across rounds; augmentation keyed by the run's step. A step that
 * meets the divergence rule (divergence.ts) stops the loop and pruneAndTune throws (a pruning schedule
 * cannot continue from a diverged net).
 * Removing a block's last channel collapses it to its shortcut (authors) unless allowEmptyBlocks is
 * false. The argmin is the channel-level variant of the one selection routine (lowestLiveUnits,
 * prune/scores-to-mask.ts): ties go to the earlier block, then the lower channel index.
 */
import type { Net } from '../nn/net';
import type { Augment, Dataset } from '../data';
import { Rng } from '../rng';
import { evaluate as evaluateSplit } from '../train';
import { TrainingRun } from '../training-run';
import type { Cost } from './families';
import { groupPrefixes, StructuredConfig, structuredConfigOf, structuredCost } from './arch';
import { FisherAccumulator, CostNormalisation, normaliseScores } from './fisher';
import { l1ChannelScores, randomChannelScores, L1Variant } from './l1';
import { NetSnapshot, PruneEvent, takeSnapshot } from './compress';
import { lowestLiveUnits } from '../prune/scores-to-mask';

export type ChannelCriterion = 'fisher' | 'l1' | 'random';

export interface PruneAndTuneOptions {
  criterion: ChannelCriterion;
  /** L1 criterion: 'abs' = Σ|w| (Li et al., default) or 'signed-authors' = Σw (authors' code). */
  l1Variant?: L1Variant;
  /** Fisher only: divide Δ_c by the channel's parameter or MAC cost (default 'none', as the authors). */
  costNormalisation?: CostNormalisation;
  /** Fine-tuning steps before each prune (default 100, authors). Fisher needs >= 1. */
  stepsPerPrune?: number;
  /** Channels removed per round (default 1, authors). */
  channelsPerRound?: number;
  /** Constant fine-tuning LR (default 8e-4, authors' WRN value), momentum (0.9), weight decay (5e-4), batch (128). */
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  batchSize?: number;
  /** Allow removing a block's last channel (default true: the block becomes its shortcut). */
  allowEmptyBlocks?: boolean;
  /** Stop after this many prunes (after fine-tuning and checkpointing the final state). */
  maxPrunes?: number;
  /** Record a checkpoint at these prune counts and/or the first time live params <= each budget. */
  checkpoints?: { prunes?: number[]; params?: number[] };
  /** Keep weights, BN stats and unit masks at every checkpoint (default false). */
  snapshots?: boolean;
  /** Test metric at checkpoints (default: evaluate(net, ds, ds.test)). */
  evaluate?: (net: Net) => { loss: number; acc: number };
  /** Seed of the data order and of the random criterion (default 0). */
  seed?: number;
  /** Fine-tuning batch augmentation (default none; the authors' prune script crops with zero padding and flips). */
  augment?: Augment;
  onRound?: (info: RoundInfo) => void;
}

export interface RoundInfo {
  round: number;
  /** Channels removed so far (after this round's prune). */
  prunes: number;
  steps: number;
  /** Mean training loss over this round's fine-tuning steps (NaN when stepsPerPrune = 0). */
  trainLoss: number;
  /** The scores this round's prune compared (normalised if asked), by unit group. */
  scores: Map<string, Float32Array>;
  removed: PruneEvent[];
  live: Cost;
}

export interface PruneCheckpoint extends Cost {
  prunes: number;
  steps: number;
  testError: number;
  testLoss: number;
  /** Kept interior channels per block, in block order (0 = collapsed block). */
  interior: number[];
  /** Why it was recorded: 'prunes=N' and/or 'params<=B'. */
  targets: string[];
  snapshot?: NetSnapshot;
}

export interface PruneAndTuneResult {
  /** The net's config before pruning (interior = its built widths). */
  config: StructuredConfig;
  history: PruneEvent[];
  checkpoints: PruneCheckpoint[];
  steps: number;
  seconds: number;
  stopped: 'maxPrunes' | 'checkpoints' | 'exhausted';
  /** Checkpoint targets never reached (e.g. a budget below the all-collapsed net). */
  unreached: string[];
  /** What ran, for the notebook's "open choices" table. */
  settings: Required<Omit<PruneAndTuneOptions, 'onRound' | 'evaluate' | 'maxPrunes' | 'checkpoints' | 'augment'>> & { maxPrunes?: number; augment?: Augment };
}

function posInt(v: number, what: string, min = 1): void {
  if (!Number.isInteger(v) || v < min) throw new Error(`pruneAndTune: ${what} must be an integer >= ${min}, got ${v}.`);
}

/** Run prune-and-tune on `net` in place (it ends masked); see the module comment. */
export function pruneAndTune(net: Net, ds: Dataset, opts: PruneAndTuneOptions): PruneAndTuneResult {
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
  const fisher = s.criterion === 'fisher' ? new FisherAccumulator(net) : undefined;
  // Fisher scores accumulate from the fine-tuning steps' own backward pass
  const run = new TrainingRun(net, ds, tuneCfg, {
    seed: s.seed, dataStream: 'prune-data', augmentKey: 'run-step', updaters: fisher ? [{ stepHooks: (n) => fisher.hooks(n) }] : [],
  });
  const scoreRng = new Rng(s.seed, 'prune-random');

  const history: PruneEvent[] = [];
  const checkpoints: PruneCheckpoint[] = [];
  const done = new Set<string>();
  const allTargets = [...cpPrunes.map((p) => `prunes=${p}`), ...cpParams.map((p) => `params<=${p}`)];
  let steps = 0, round = 0;
  let stopped: PruneAndTuneResult['stopped'] = 'exhausted';
  try {
    for (;;) {
      round++;
      const tuned = run.trainSteps(s.stepsPerPrune);
      steps = run.steps;
      const d = run.diverged;
      if (d) throw new Error(`pruneAndTune diverged: ${run.watch.describe(d.loss, d.reason)} at step ${steps} (after ${history.length} prunes); lower lr (${s.lr}).`);
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
      const want = Math.min(s.channelsPerRound, s.maxPrunes === undefined ? Infinity : s.maxPrunes - prunes);
      const removed: PruneEvent[] = lowestLiveUnits(net.unitGroups.map((g) => g.name), scores, keep, want, { allowEmpty: s.allowEmptyBlocks })
        .map((c) => ({ ...c, step: steps }));
      for (const c of removed) {
        keep.get(c.block)![c.channel] = 0;
        live.set(c.block, live.get(c.block)! - 1);
      }
      if (removed.length === 0) { stopped = 'exhausted'; break; }
      for (const g of new Set(removed.map((r) => r.block))) net.setUnitMask(g, keep.get(g)!);
      history.push(...removed);
      fisher?.reset();
      opts.onRound?.({ round, prunes: history.length, steps, trainLoss: tuned.meanLoss, scores, removed, live: liveCost() });
    }
  } finally {
    run.dispose(true);
    fisher?.dispose();
  }
  return {
    config, history, checkpoints, steps, seconds: (Date.now() - t0) / 1000, stopped,
    unreached: allTargets.filter((t) => !done.has(t)), settings: s,
  };
}
