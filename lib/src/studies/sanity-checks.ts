/**
 * Study: sanity checks of pruning-at-init methods (notebook 05-sanity-checks). Does a method's mask
 * matter, or only its per-layer densities?
 * - Frankle, Dziugaite, Roy, Carbin, "Pruning Neural Networks at Initialization: Why Are We Missing
 *   the Mark?" (ICLR 2021, arXiv 2009.08576), Sec. 5: layerwise shuffle, reinitialisation, inversion.
 * - Su, Chen, Cai, Wu, Gao, Wang, Lee, "Sanity-Checking Pruning Methods: Random Tickets can Win the
 *   Jackpot" (NeurIPS 2020, arXiv 2009.11094), Secs. 4-5: corrupted scoring data, layerwise
 *   rearrangement, smart-ratio random tickets.
 * The ablations are ordinary pruning methods (prune/ablations.ts) run through the engine task
 * 'prune-train' with `prune.ablation`, so every arm is cached by config hash like any other run.
 *
 * Everything the notebook shows comes from here: plan(budget) -> jobs -> runAll (engine sweep) ->
 * cells (mean ± sd per arm) -> gates (dense reference vs its converged accuracy) -> verdicts.
 *
 * Definitions (stated in the notebook):
 * - accuracy: final-epoch test accuracy, mean ± sd over seeds; diverged runs are counted, not averaged;
 * - an ablation HURTS an arm when its mean is lower by more than `hurtMargin` AND by more than z = 2
 *   standard errors of the difference (lowerBeyondNoise); "does not hurt" is the negation;
 * - gate: the dense net, trained with the same data, recipe and seeds, ends within `gateMargin` of its
 *   converged accuracy (the same recipe run `convergedFactor` times longer, mean over the same seeds). A claim
 *   whose nets fail the gate is 'inconclusive' (undertrained), whatever its checks say.
 */
import * as os from 'os';
import '../prune'; // registers every score method in the sweep's worker processes too
import { runSweep, withSweepProgress, SweepRecord } from '../engine';
import type { ProgressFactory } from '../engine';
import { denseReference, longSchedule, PRUNE_TRAIN_TASK, PruneTrainConfig, PruneTrainResult } from '../experiment';
import type { ModelConfig } from '../models';
import type { TrainConfig } from '../train';
import type { Budget } from '../notebook/params';
import { byBudget } from '../notebook/params';
import { Check, ClaimInput, gatedVerdict, lowerBeyondNoise } from '../notebook/claims';
import type { ClaimVerdict } from '../notebook/claims';
import { aboveChanceGate, chanceLongRun, denseGate, divergenceGate, Gate, longRunRule, longRunsAt, plateauGate, runStagedLongRuns, sitsAtChance, splitDiverged } from '../notebook/gate';
import { formatMeanSd, formatNumber } from '../notebook/tables';
import { meanSd } from '../stats';
import type { MeanSd } from '../stats';
import { FigureSpec, lineFigure, Series, subplots } from '../notebook/plots';
import { ffnnTrain, resnetTrain } from './eoc-rescaling';
import { recipe, STANDARD_RECIPES } from './sanity-recipes';
import { joinNeeds, longRunNeeds, needsOf, RecordLookup, stagedLongRunNeeds, StudyNeeds } from './needs';
import { armsBy } from './trained-gates';

export { recipeSweep, STANDARD_RECIPES, STANDARD_SWEEP } from './sanity-recipes';

export const NOTEBOOK = '05-sanity-checks';
export const METHODS = ['random', 'magnitude', 'snip', 'grasp', 'synflow', 'sbp-sr'] as const;
/** Ablations of a method's own mask (Frankle et al.). */
export const MASK_ABLATIONS = ['layerwise-shuffle', 'reinit', 'invert'] as const;
/** Random tickets with a density rule (method 'random'). */
export const TICKETS = ['smart-ratio', 'even'] as const;
/** Corrupted scoring batches (Su et al.), for the data-dependent methods. */
export const DATA_ABLATIONS = ['random-labels', 'shuffled-pixels'] as const;
export const DATA_METHODS = ['snip', 'grasp', 'sbp-sr'] as const;

export type NetId = 'lenet300' | 'eoc-ffnn' | 'resnet';
export interface DataSpec { name: string; trainLimit: number; testLimit: number }

export interface NetSpec {
  id: NetId;
  label: string;
  model: string | ModelConfig;
  data: DataSpec;
  train: TrainConfig;
  methods: string[];
  /** Mask ablations run for every method but 'random' (data ablations only where dataAblations). */
  ablations: string[];
  /** 'method:ablation' arms not run (no claim reads them; the budget saves their cost). */
  skipArms?: string[];
  tickets: string[];
  dataAblations: string[];
  sparsities: number[];
  /** Sparsities of the data ablations (a subset of sparsities). */
  dataSparsities: number[];
  /** Seeds trained (a prefix of the plan's seeds; the ResNet trains fewer). */
  seeds: number;
}

export interface Tolerances {
  /** Accuracy points an ablation must cost, beyond 2 SE, to count as hurting. */
  hurtMargin: number;
  /** z of lowerBeyondNoise. */
  z: number;
  /** Dense reference within this of its converged accuracy. */
  gateMargin: number;
  /** The converged run trains this many times the epochs (same recipe otherwise). */
  convergedFactor: number;
  /** Chance accuracy (10 classes) and the band above it within which an arm counts as untrained. */
  chance: number;
  chanceBand: number;
}

export const TOLERANCES: Tolerances = { hurtMargin: 0.01, z: 2, gateMargin: 0.02, convergedFactor: 4, chance: 0.1, chanceBand: 0.05 };

export interface SanityPlan {
  budget: Budget;
  seeds: number[];
  workers: number;
  nets: NetSpec[];
  /** SynFlow rounds (exponential schedule). */
  synflowRounds: number;
  tolerances: Tolerances;
  expected: string;
}

/** The deep tanh FFNN at the Edge of Chaos (notebook 02's net: width 100, sigma_b 0.2, sigma_w from the solver). */
export function eocFfnn(depth: number): ModelConfig {
  return { arch: 'ffnn', hidden: Array(depth - 1).fill(100), activation: 'tanh', init: { scheme: 'eoc', sigmaB: 0.2 } };
}

/** A small CIFAR-style ResNet (3 stages, BN, 6n+2 layers) sized for Fashion-MNIST on CPU. */
export const SMALL_RESNET: ModelConfig = { arch: 'resnet', depth: 8, widths: [8, 16, 32] };

export function plan(budget: Budget, seeds: readonly number[], o: { workers?: number } = {}): SanityPlan {
  if (!Array.isArray(seeds) || seeds.length === 0 || !seeds.every((s) => Number.isInteger(s) && s >= 0)) {
    throw new Error(`sanity-checks plan: seeds must be a non-empty array of non-negative integers, got ${JSON.stringify(seeds)}.`);
  }
  const workers = o.workers ?? Math.max(1, Math.min(2, os.availableParallelism()));
  const fm = (trainLimit: number, testLimit: number): DataSpec => ({ name: 'fashion-mnist', trainLimit, testLimit });
  const std = STANDARD_RECIPES;
  const data = byBudget(budget, { smoke: fm(300, 200), quick: fm(1000, 500), standard: fm(std.ffnnData.trainLimit, std.ffnnData.testLimit), paper: fm(0, 0) });
  const ffnn = (id: 'lenet300' | 'eoc-ffnn'): TrainConfig => (budget === 'standard' ? recipe('ffnn', std[id].epochs, std[id].lr) : ffnnTrain(byBudget(budget, { smoke: 1, quick: 2, standard: 0, paper: 20 })));
  const sparsities = byBudget(budget, { smoke: [0.9], quick: [0.9, 0.98], standard: [0.9, 0.98], paper: [0.5, 0.8, 0.9, 0.95, 0.98, 0.99] });
  const nSeeds = (max: Record<Budget, number>) => Math.min(seeds.length, byBudget(budget, max));
  const depth = byBudget(budget, { smoke: 6, quick: 20, standard: 20, paper: 50 });
  const nets: NetSpec[] = [
    {
      // standard and quick: 98 % only (its cost; the EOC net gives the second sparsity, 90 %)
      id: 'lenet300', label: 'LeNet-300-100 (ReLU)', model: 'lenet300', data, train: ffnn('lenet300'), methods: [...METHODS],
      ablations: [...MASK_ABLATIONS], tickets: [...TICKETS], dataAblations: [...DATA_ABLATIONS], sparsities: byBudget(budget, { smoke: sparsities, quick: [0.98], standard: [0.98], paper: sparsities }),
      dataSparsities: byBudget(budget, { smoke: sparsities, quick: [0.98], standard: [0.98], paper: sparsities }), seeds: nSeeds({ smoke: 1, quick: 2, standard: 3, paper: 5 }),
      // at standard and quick no claim reads SBP-SR's ablations on LeNet (its claim is on the EOC net): their cost goes to seeds
      ...(budget === 'standard' || budget === 'quick' ? { skipArms: MASK_ABLATIONS.map((a) => `sbp-sr:${a}`) } : {}),
    },
    {
      id: 'eoc-ffnn', label: `tanh FFNN at EOC, depth ${depth}`, model: eocFfnn(depth), data, train: ffnn('eoc-ffnn'), methods: [...METHODS],
      ablations: byBudget(budget, { smoke: [...MASK_ABLATIONS], quick: ['layerwise-shuffle'], standard: [...MASK_ABLATIONS], paper: [...MASK_ABLATIONS] }), tickets: [...TICKETS],
      dataAblations: byBudget(budget, { smoke: [], quick: [], standard: [], paper: [...DATA_ABLATIONS] }),
      // one sparsity at standard and quick (its cost): 90 %, where a first quick run left most of this net's arms at chance already
      sparsities: byBudget(budget, { smoke: sparsities, quick: [0.9], standard: [0.9], paper: sparsities }),
      dataSparsities: byBudget(budget, { smoke: sparsities, quick: [0.9], standard: [0.9], paper: sparsities }),
      seeds: nSeeds({ smoke: 1, quick: 2, standard: 3, paper: 5 }),
      ...(budget === 'standard' ? { skipArms: ['sbp-sr:reinit', 'sbp-sr:invert'] } : {}),
    },
    {
      // SBP-SR on a ResNet is the Stable ResNet (another architecture, notebook 02), so it is left out here.
      id: 'resnet', label: 'ResNet-8 (widths 8-16-32, BN)', model: SMALL_RESNET,
      data: byBudget(budget, { smoke: fm(200, 100), quick: fm(300, 300), standard: fm(std.resnetData.trainLimit, std.resnetData.testLimit), paper: fm(0, 0) }),
      train: budget === 'standard' ? recipe('resnet', std.resnet.epochs, std.resnet.lr, std.resnet.batchSize) : resnetTrain(byBudget(budget, { smoke: 1, quick: 2, standard: 0, paper: 20 })),
      methods: byBudget(budget, { smoke: ['magnitude', 'snip'], quick: ['magnitude', 'snip'], standard: ['snip'], paper: ['random', 'magnitude', 'snip', 'grasp', 'synflow'] }),
      ablations: byBudget(budget, { smoke: ['layerwise-shuffle'], quick: ['layerwise-shuffle'], standard: ['layerwise-shuffle'], paper: [...MASK_ABLATIONS] }),
      tickets: byBudget(budget, { smoke: [], quick: [], standard: [], paper: [...TICKETS] }), dataAblations: [], dataSparsities: [],
      sparsities: byBudget(budget, { smoke: [0.9], quick: [0.9], standard: [0.9], paper: sparsities }), seeds: nSeeds({ smoke: 1, quick: 2, standard: 3, paper: 5 }),
    },
  ];
  return {
    budget, seeds: [...seeds], workers, nets, synflowRounds: byBudget(budget, { smoke: 5, quick: 10, standard: std.synflowRounds, paper: 100 }), tolerances: { ...TOLERANCES },
    expected: byBudget(budget, { smoke: 'about a minute', quick: 'a preview (2 epochs on 1,000 images, the ResNet on 300, one sparsity per net; its dense gates are expected to fail: verdicts inconclusive): about 40 s cold on 2 cores, estimated from CPU time measured here (~0.3-0.5 s per FFNN run, ~1 s per ResNet run)', standard: std.expected, paper: 'hours (full Fashion-MNIST, 20 epochs)' }),
  };
}

/** How the recipes were chosen, per budget (shown in the notebook). */
export function trainingRecipeNote(budget: Budget): string {
  const shape = 'FFNNs (LeNet-300-100 and the EOC tanh net) SGD, momentum 0.9, batch 100, no weight decay; ResNet SGD, momentum 0.9, weight decay 1e-4, batch 100 (20 at standard); ' +
    'step decay x0.1 at 50 % and 75 % of the epochs. Same recipe for every arm, ablation and seed; final-epoch test accuracy.';
  return budget === 'standard'
    ? `${shape} Learning rate and epochs per net from a sweep on the dense nets only (below): ${STANDARD_RECIPES.note}`
    : `${shape} Learning rates are notebook 02's (FFNNs 0.01, ResNet 0.1), chosen there on the dense nets; the epochs are the budget's.`;
}

// ---------------------------------------------------------------------------------------------
// Jobs

/** 'long': an arm at chance after the budget re-trained with the converged schedule (longRunJobs). */
export type Kind = 'arm' | 'dense' | 'converged' | 'long';
export interface Tag { net: NetId; kind: Kind; method: string; ablation: string; sparsity: number; seed: number }
export interface Job { tag: Tag; config: PruneTrainConfig }

function job(p: SanityPlan, n: NetSpec, tag: Omit<Tag, 'net'>, train: TrainConfig): Job {
  const prune = tag.method === 'none'
    ? { method: 'none', sparsity: 0, scope: 'global' as const, options: {} }
    : { method: tag.method, sparsity: tag.sparsity, scope: 'global' as const, options: tag.method === 'synflow' ? { rounds: p.synflowRounds } : {}, ...(tag.ablation !== 'none' ? { ablation: tag.ablation } : {}) };
  return { tag: { net: n.id, ...tag }, config: { model: n.model, data: { ...n.data }, prune, train: { ...train }, seed: tag.seed } };
}

/** Every run of the plan: per net the dense reference and the converged run per seed, and each arm x sparsity x seed. */
export function jobs(p: SanityPlan): Job[] {
  const out: Job[] = [];
  for (const n of p.nets) {
    const seeds = p.seeds.slice(0, n.seeds);
    for (const seed of seeds) out.push(job(p, n, { kind: 'dense', method: 'none', ablation: 'none', sparsity: 0, seed }, n.train));
    // the converged reference on the same seeds as the dense one: a single seed's accuracy moved 1.5 points between two
    // roundings of the same ResNet-8 runs (79.7 % with im2col convolutions, 81.2 % with the 3x3 kernels), against a 2-point margin
    for (const seed of seeds) {
      const dense = job(p, n, { kind: 'converged', method: 'none', ablation: 'none', sparsity: 0, seed }, n.train);
      out.push({ tag: dense.tag, config: denseReference(dense.config, n.train.epochs * p.tolerances.convergedFactor) });
    }
    for (const sparsity of n.sparsities) for (const seed of seeds) {
      const arm = (method: string, ablation: string) => out.push(job(p, n, { kind: 'arm', method, ablation, sparsity, seed }, n.train));
      for (const m of n.methods) {
        arm(m, 'none');
        // a random mask shuffled, inverted or on fresh weights is another random mask: no ablation arms for 'random'
        if (m !== 'random') for (const a of n.ablations) if (!n.skipArms?.includes(`${m}:${a}`)) arm(m, a);
        if ((DATA_METHODS as readonly string[]).includes(m) && n.dataSparsities.includes(sparsity)) for (const a of n.dataAblations) arm(m, a);
      }
      for (const t of n.tickets) arm('random', t);
    }
  }
  return out;
}

/** Notebook 05's seeds per budget (its first cell); other budgets take DEFAULT_SEEDS. Quick trains two (three would exceed its five minutes). */
export const NOTEBOOK_SEEDS: Partial<Record<Budget, number[]>> = { quick: [0, 1] };

/**
 * Every engine config notebook 05 runs at a budget (needs.ts): runAll's jobs, then, once they are
 * stored, runLongRuns' long runs of the arms they leave at chance.
 */
export function sweepNeeds(budget: Budget, seeds: number[], lookup: RecordLookup): StudyNeeds {
  const p = plan(budget, seeds), js = jobs(p);
  const long = longRunNeeds<PruneTrainResult>(budget, lookup, PRUNE_TRAIN_TASK, js.map((j) => j.config), 'long runs',
    're-trains the arms the sweep leaves at chance with the converged schedule (not in the estimate)', 'sweep', (recs) => {
      const rows = js.map((j, i) => ({ ...j.tag, acc: recs[i].result.finalTestAcc, outcome: recs[i].result.outcome }) as Row);
      const arms = longRunJobs(p, rows);
      return joinNeeds(...[...new Set(arms.map((a) => a[0].tag.net))].map((net) => stagedLongRunNeeds(lookup, PRUNE_TRAIN_TASK, arms.filter((a) => a[0].tag.net === net).map((a) => a.map((j) => j.config)),
        'long runs', `${net} (long runs of arms at chance, ablation claims)`, longRunBand(p.tolerances))));
    });
  return joinNeeds({ configs: js.flatMap((j) => needsOf('sweep', `${j.tag.net} (${j.tag.kind === 'arm' ? 'ablation claims' : 'dense gate'})`, PRUNE_TRAIN_TASK, [j.config])), deferred: [] }, long);
}

export interface Row extends Tag {
  acc: number;
  outcome: string;
  epochAcc: number[];
  perLayer: Array<{ name: string; size: number; kept: number }>;
  seconds: number;
  cached: boolean;
  error?: string;
}

/** Run (or read from the cache) every job through 'prune-train'. */
export async function runAll(p: SanityPlan, o: { progress?: ProgressFactory; store?: string } = {}): Promise<Row[]> {
  return runJobs(p, jobs(p), 'sanity-check runs', o);
}

const armKey = (r: Pick<Tag, 'net' | 'method' | 'ablation' | 'sparsity'>) => `${r.net} s=${r.sparsity} ${r.method}${r.ablation === 'none' ? '' : ` ${r.ablation}`}`;

/** The arms (keys) whose budget runs sit at chance (mean of finished runs ≤ chance + chanceBand). */
function armsAtChance(rows: readonly Row[], tol: Tolerances): Set<string> {
  const g = new Map<string, Row[]>();
  for (const r of rows) if (r.kind === 'arm') g.set(armKey(r), [...(g.get(armKey(r)) ?? []), r]);
  return new Set([...g].filter(([, rs]) => sitsAtChance(rs, tol.chance, tol.chanceBand)).map(([k]) => k));
}

/**
 * The long runs: per arm at chance after the budget (an arm at chance gains 0 in its last epoch, so
 * the plateau gate cannot tell untrainable from slow), its runs with the converged schedule of its
 * net's dense reference (longSchedule, `convergedFactor` x the epochs), first seed first; computed in
 * two steps (notebook/gate.ts stagedLongRuns).
 */
export function longRunJobs(p: SanityPlan, rows: readonly Row[]): Job[][] {
  if (!longRunsAt(p.budget)) return [];
  const at = armsAtChance(rows, p.tolerances);
  return Object.values(armsBy(jobs(p).filter((j) => j.tag.kind === 'arm' && at.has(armKey(j.tag)))
    .map((j) => ({ tag: { ...j.tag, kind: 'long' as const }, config: longSchedule(j.config, j.config.train.epochs * p.tolerances.convergedFactor) })), (j) => armKey(j.tag)));
}

const longRunBand = (tol: Tolerances) => ({ chance: tol.chance, band: tol.chanceBand });

/** Run (or read from the cache) the long runs of the arms at chance in `rows` (runAll's), in stagedLongRuns' two steps. */
export async function runLongRuns(p: SanityPlan, rows: readonly Row[], o: { progress?: ProgressFactory; store?: string } = {}): Promise<Row[]> {
  return (await runStagedLongRuns(longRunJobs(p, rows), (js) => runJobs(p, js, 'long runs (sanity checks)', o), longRunBand(p.tolerances))).results;
}

/** The rows a claim reads: an arm found slow after the budget (longRunRule) is read from its long runs (as kind 'arm'). */
export function readRows(rows: readonly Row[], tol: Tolerances = TOLERANCES): Row[] {
  const of = (kind: Kind, k: string) => rows.filter((r) => r.kind === kind && armKey(r) === k);
  const slow = new Set([...new Set(rows.filter((r) => r.kind === 'arm').map(armKey))].filter((k) => longRunRule(of('arm', k), of('long', k), longRunBand(tol)).status === 'slow'));
  return [...rows.filter((r) => r.kind !== 'long' && !(r.kind === 'arm' && slow.has(armKey(r)))), ...rows.filter((r) => r.kind === 'long' && slow.has(armKey(r))).map((r) => ({ ...r, kind: 'arm' as const }))];
}

async function runJobs(p: SanityPlan, js: readonly Job[], label: string, o: { progress?: ProgressFactory; store?: string }): Promise<Row[]> {
  if (js.length === 0) return [];
  const recs = await withSweepProgress(o.progress, label, (onProgress) =>
    runSweep<PruneTrainResult>({ task: PRUNE_TRAIN_TASK, configs: js.map((j) => j.config), workers: p.workers, onProgress, store: o.store, progressBar: false }));
  return recs.map((rec: SweepRecord<PruneTrainResult>, i) => {
    const tag = js[i].tag;
    if (rec.status === 'error') return { ...tag, acc: NaN, outcome: 'error', epochAcc: [], perLayer: [], seconds: 0, cached: false, error: rec.error.message };
    const r = rec.result;
    return { ...tag, acc: r.finalTestAcc, outcome: r.outcome, epochAcc: r.epochs.map((e) => e.testAcc ?? NaN), perLayer: r.perLayer, seconds: r.seconds, cached: rec.status === 'cached' };
  });
}

// ---------------------------------------------------------------------------------------------
// Cells

export interface Cell { net: NetId; method: string; ablation: string; sparsity: number; acc: MeanSd; runs: number; diverged: number; failed: number }

/**
 * Mean ± sd of the final accuracy per (net, method, ablation, sparsity) arm over its finished runs
 * (splitDiverged); `diverged` counts the runs left out (diverged, or failed: `failed` of them).
 */
export function cells(rows: readonly Row[]): Cell[] {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    if (r.kind !== 'arm') continue;
    const k = `${r.net}|${r.method}|${r.ablation}|${r.sparsity}`;
    const g = groups.get(k);
    if (g) g.push(r); else groups.set(k, [r]);
  }
  return [...groups.values()].map((g) => {
    const split = splitDiverged(g.map((r) => ({ outcome: r.outcome, finalTestAcc: r.acc })));
    return {
      net: g[0].net, method: g[0].method, ablation: g[0].ablation, sparsity: g[0].sparsity,
      acc: split.accs.length ? meanSd(split.accs) : { mean: NaN, sd: NaN, n: 0 },
      runs: split.runs, diverged: split.diverged, failed: g.filter((r) => r.outcome === 'error').length,
    };
  });
}

export function findCell(cs: readonly Cell[], net: NetId, method: string, ablation: string, sparsity: number): Cell | undefined {
  return cs.find((c) => c.net === net && c.method === method && c.ablation === ablation && c.sparsity === sparsity);
}

// ---------------------------------------------------------------------------------------------
// Gates (the kit's shared gates, notebook/gate.ts)

/** Dense and converged runs of one net: finished accuracies, diverged (or failed) runs counted apart. */
function denseRuns(rows: readonly Row[], net: NetId, kind: 'dense' | 'converged') {
  return splitDiverged(rows.filter((r) => r.net === net && r.kind === kind).map((r) => ({ outcome: r.outcome, finalTestAcc: r.acc })));
}

/**
 * The gates of one net's dense reference: it ends within `gateMargin` of its converged accuracy (the
 * same recipe, `convergedFactor` times the epochs), and no dense or converged run diverged or failed
 * (such runs are counted by the divergence gate, never averaged in).
 */
export function netGates(rows: readonly Row[], net: NetSpec, tol: Tolerances = TOLERANCES): Gate[] {
  const ref = denseRuns(rows, net.id, 'dense'), conv = denseRuns(rows, net.id, 'converged');
  if (!ref.runs || !conv.runs) throw new Error(`sanity-checks: no dense reference or converged run of '${net.id}' in the rows (${ref.runs} dense, ${conv.runs} converged); pass the rows of runAll(plan).`);
  const gates: Gate[] = [divergenceGate(`${net.label}, dense runs`, { dense: ref, converged: conv })];
  if (ref.accs.length && conv.accs.length) {
    gates.unshift(denseGate(`${net.label} (${net.train.epochs} vs ${net.train.epochs * tol.convergedFactor} epochs)`, ref.accs, conv.accs, tol.gateMargin, { chance: tol.chance, band: tol.chanceBand }));
  }
  return gates;
}

// ---------------------------------------------------------------------------------------------
// Comparisons and verdicts

export interface Comparison {
  net: NetId; sparsity: number; method: string; ablation: string; base: MeanSd; ablated: MeanSd; diff: number; margin: number; hurts: boolean;
  /** The arm compared against (default: the method's own mask). */
  baseArm: { method: string; ablation: string };
  /** Both arms within chanceBand of chance: the comparison says nothing about the masks and is left out of the checks. */
  atChance: boolean;
}

/** ablated vs the method's own arm: diff = ablated - base; hurts = lower by > hurtMargin and > z SE. */
export function compare(cs: readonly Cell[], net: NetId, sparsity: number, method: string, ablation: string, base: { method: string; ablation: string } = { method, ablation: 'none' }, tol: Tolerances = TOLERANCES): Comparison | null {
  const b = findCell(cs, net, base.method, base.ablation, sparsity), a = findCell(cs, net, method, ablation, sparsity);
  if (!a || !b || !a.acc.n || !b.acc.n) return null;
  const lb = lowerBeyondNoise(a.acc, b.acc, tol.z);
  const atChance = Math.max(a.acc.mean, b.acc.mean) <= tol.chance + tol.chanceBand;
  return { net, sparsity, method, ablation, baseArm: { ...base }, base: b.acc, ablated: a.acc, diff: a.acc.mean - b.acc.mean, margin: lb.margin, hurts: lb.passed && lb.diff > tol.hurtMargin, atChance };
}

/** A claim's gated verdict with the gates it rests on and the comparisons its checks read. */
export interface SanityVerdict extends ClaimVerdict { gates: Gate[]; comparisons: Comparison[] }

const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
const armName = (c: { net: string; sparsity: number; method: string; ablation: string }) => `${c.net} s=${c.sparsity} ${c.method}${c.ablation === 'none' ? '' : ` ${c.ablation}`}`;
function label(c: Comparison, vs = 'own mask'): string {
  return `${armName(c)} vs ${vs}: ${pts(c.diff)} pts (2 SE ${(100 * c.margin).toFixed(1)})`;
}

/** One compared pair of a claim: the ablated arm vs its base arm (default: the method's own mask), and the check it feeds. */
interface Pair { method: string; ablation: string; base?: { method: string; ablation: string }; check: (c: Comparison) => Check }

/**
 * A claim over the pairs `pairsAt(net, sparsity)` of the given nets. Pairs with both arms at chance
 * are left out of the checks (listed). Gates: each net's dense reference (netGates); no compared arm
 * diverged (divergenceGate; diverged runs are counted, never averaged in); the arms checked no longer
 * improving at the last epoch (plateauGate); some pair above chance (aboveChanceGate).
 */
function claimOver(p: SanityPlan, budgetRows: readonly Row[], nets: readonly NetSpec[], pairsAt: (n: NetSpec, s: number) => Pair[], extra: Record<string, string | number> = {}): SanityVerdict {
  const tol = p.tolerances, rows = readRows(budgetRows, tol), cs = cells(rows);
  const checks: Check[] = [], comps: Comparison[] = [], arms = new Map<string, Cell>();
  for (const n of nets) for (const s of n.sparsities) for (const pair of pairsAt(n, s)) {
    const base = pair.base ?? { method: pair.method, ablation: 'none' };
    for (const cell of [findCell(cs, n.id, pair.method, pair.ablation, s), findCell(cs, n.id, base.method, base.ablation, s)]) if (cell) arms.set(armName(cell), cell);
    const c = compare(cs, n.id, s, pair.method, pair.ablation, base, tol);
    if (!c) continue;
    comps.push(c);
    if (!c.atChance) checks.push(pair.check(c));
  }
  const idle = comps.filter((c) => c.atChance);
  if (idle.length) extra = { ...extra, 'left out: both arms at chance': idle.map(armName).join(', ') };
  const gates: Gate[] = nets.flatMap((n) => netGates(rows, n, tol));
  // the long-run rule over the compared arms, per net (runs with 'long' rows in budgetRows: runLongRuns)
  for (const n of nets) {
    const mine = [...arms.keys()].filter((k) => arms.get(k)!.net === n.id);
    if (!mine.length) continue;
    const of = (kind: Kind, k: string) => budgetRows.filter((r) => r.kind === kind && armKey(r) === k);
    gates.push(chanceLongRun(`${n.label}: compared arms at chance, re-trained long`, Object.fromEntries(mine.map((k) => [k, { budget: of('arm', k), long: of('long', k) }])),
      { ...longRunBand(tol), budgetEpochs: n.train.epochs, longEpochs: n.train.epochs * tol.convergedFactor }).gate);
  }
  if (arms.size) gates.push(divergenceGate('compared arms', Object.fromEntries([...arms].map(([k, c]) => [k, { diverged: c.diverged, runs: c.runs }]))));
  const checked = new Map<string, Cell>();
  for (const c of comps.filter((x) => !x.atChance)) for (const k of [armName(c), armName({ ...c, ...c.baseArm })]) checked.set(k, arms.get(k)!);
  if (checked.size) gates.push(plateauGate('compared arms', Object.fromEntries([...checked].map(([k, c]) => [k, histories(rows, c)]))));
  if (comps.length) gates.push(aboveChanceGate('compared arms', comps.map((c) => ({ name: armName(c), a: c.ablated.mean, b: c.base.mean })), tol.chance, tol.chanceBand));
  if (!checks.length) checks.push({ label: 'no informative comparison (arms missing, or every pair at chance)', passed: false });
  const v = gatedVerdict(checks, gates);
  const numbers: Record<string, string | number> = {};
  for (const g of gates) numbers[`gate ${g.kind}: ${g.label}`] = `${g.passed ? 'passed' : 'FAILED'}: ${g.detail}`;
  for (const c of comps) numbers[`${c.net} s=${c.sparsity} ${c.method} ${c.ablation}`] = `${formatMeanSd(c.ablated)} vs ${formatMeanSd(c.base)} (${pts(c.diff)} pts)`;
  return { verdict: v.verdict, checks, rationale: v.summary, numbers: { ...numbers, ...extra }, gates, comparisons: comps };
}

/** Per-seed test-accuracy histories of an arm's finished runs. */
function histories(rows: readonly Row[], c: Cell): number[][] {
  return rows.filter((r) => r.kind === 'arm' && r.net === c.net && r.method === c.method && r.ablation === c.ablation && r.sparsity === c.sparsity && r.outcome === 'ok' && Number.isFinite(r.acc)).map((r) => r.epochAcc);
}

function netsWith(p: SanityPlan, f: (n: NetSpec) => boolean): NetSpec[] { return p.nets.filter(f); }

/**
 * The plan restricted to some nets: a claim rests on the gates of every net it reads, so the ResNet
 * analogue (whose dense reference is the costliest to converge) gets claims of its own, and its gate
 * does not decide the FFNN claims.
 */
export function onNets(p: SanityPlan, ids: readonly NetId[]): SanityPlan {
  const unknown = ids.filter((id) => !p.nets.some((n) => n.id === id));
  if (unknown.length) throw new Error(`sanity-checks onNets: no net ${unknown.map((u) => `'${u}'`).join(', ')} in the plan (have ${p.nets.map((n) => n.id).join(', ')}).`);
  return { ...p, nets: p.nets.filter((n) => ids.includes(n.id)) };
}

/** "Ablations `ablations` do not hurt methods `methods`": one check per (net, sparsity, method, ablation) where both arms exist. */
export function verdictNoHarm(p: SanityPlan, rows: readonly Row[], ablations: string | readonly string[], methods: readonly string[]): SanityVerdict {
  const abl = typeof ablations === 'string' ? [ablations] : [...ablations];
  const nets = netsWith(p, (n) => abl.some((a) => n.ablations.includes(a) || n.dataAblations.includes(a)) && n.methods.some((m) => methods.includes(m)));
  return claimOver(p, rows, nets, () => abl.flatMap((a) => methods.map((m) => ({ method: m, ablation: a, check: (c: Comparison) => ({ label: label(c), passed: !c.hurts }) }))));
}

/** Frankle et al. on inversion: inverting SNIP, SynFlow and magnitude hurts; inverting GraSP does not. */
export function verdictInversion(p: SanityPlan, rows: readonly Row[]): SanityVerdict {
  return claimOver(p, rows, netsWith(p, (n) => n.ablations.includes('invert')), () => ['magnitude', 'snip', 'synflow', 'grasp'].map((m) => ({
    method: m, ablation: 'invert',
    check: (c: Comparison) => (m === 'grasp' ? { label: `${label(c)}: not hurt`, passed: !c.hurts } : { label: `${label(c)}: hurt`, passed: c.hurts }),
  })));
}

/** Su et al.: smart-ratio random tickets are not worse than SNIP and GraSP (same sparsity). */
export function verdictSmartRatio(p: SanityPlan, rows: readonly Row[]): SanityVerdict {
  return claimOver(p, rows, netsWith(p, (n) => n.tickets.includes('smart-ratio')), () => ['snip', 'grasp'].map((m) => ({
    method: 'random', ablation: 'smart-ratio', base: { method: m, ablation: 'none' }, check: (c: Comparison) => ({ label: label(c, m), passed: !c.hurts }),
  })));
}

export interface Decomposition { net: NetId; sparsity: number; full: MeanSd; shuffled: MeanSd; snip: MeanSd; snipShuffled: MeanSd; even: MeanSd; weights: number; rescaling: number; densities: number }

/**
 * SBP-SR decomposed on one net: which weights it keeps (SBP-SR - SBP-SR shuffled), its rescaling
 * (SBP-SR shuffled - SNIP shuffled: same densities, random positions), its layer densities
 * (SNIP shuffled - even random ticket).
 */
export function sbpSrDecomposition(rows: readonly Row[], net: NetId): Decomposition[] {
  const cs = cells(rows);
  const sps = [...new Set(cs.filter((c) => c.net === net && c.method === 'sbp-sr').map((c) => c.sparsity))].sort((a, b) => a - b);
  const out: Decomposition[] = [];
  for (const s of sps) {
    const get = (m: string, a: string) => findCell(cs, net, m, a, s)?.acc;
    const full = get('sbp-sr', 'none'), shuffled = get('sbp-sr', 'layerwise-shuffle'), snip = get('snip', 'none'), snipShuffled = get('snip', 'layerwise-shuffle'), even = get('random', 'even');
    if (!full || !shuffled || !snip || !snipShuffled || !even) continue;
    out.push({ net, sparsity: s, full, shuffled, snip, snipShuffled, even, weights: full.mean - shuffled.mean, rescaling: shuffled.mean - snipShuffled.mean, densities: snipShuffled.mean - even.mean });
  }
  return out;
}

/** SBP-SR's accuracy survives the layerwise shuffle (derived extension of Frankle et al. to SBP-SR) on the EOC FFNN. */
export function verdictSbpSrShuffle(p: SanityPlan, rows: readonly Row[]): SanityVerdict {
  const r = verdictNoHarm(onNets(p, ['eoc-ffnn']), rows, 'layerwise-shuffle', ['sbp-sr']);
  const extra: Record<string, string | number> = {};
  for (const d of sbpSrDecomposition(rows, 'eoc-ffnn')) {
    extra[`s=${d.sparsity}: effect of the weights kept / rescaling / layer densities`] = `${pts(d.weights)} / ${pts(d.rescaling)} / ${pts(d.densities)} pts`;
  }
  return { ...r, numbers: { ...r.numbers, ...extra } };
}

/** The recordClaim input of a claim: verdict, numbers and rationale from the data, plus the gates it rests on. */
export function claimInput(id: string, r: SanityVerdict, meta: { paperStatement: string; source: string; setting: string; figure?: string }): ClaimInput {
  return { id, ...meta, numbers: r.numbers, verdict: r.verdict, rationale: r.rationale, gates: r.gates };
}

// ---------------------------------------------------------------------------------------------
// Seed-paper claims vs the shuffle (notebooks 01-04)

export interface SeedClaimRow { [k: string]: string; claim: string; dependsOn: string; survivesShuffle: string; evidence: string }

/** For each claim of notebooks 01-04: what it rests on and whether a layerwise shuffle leaves it standing. */
export function seedClaimsTable(rows: readonly Row[], p: SanityPlan): SeedClaimRow[] {
  const dec = sbpSrDecomposition(rows, 'eoc-ffnn');
  const cs = cells(rows);
  const ffnn = p.nets.find((n) => n.id === 'eoc-ffnn');
  const sbp = ffnn ? ffnn.sparsities.map((s) => compare(cs, 'eoc-ffnn', s, 'sbp-sr', 'layerwise-shuffle', undefined, p.tolerances)).filter((c): c is Comparison => c !== null) : [];
  const byConstruction = 'yes, by construction: a layerwise shuffle keeps every layer\'s kept count, and an empty layer stays empty';
  const sbpVerdict = sbp.length === 0 ? 'not measured' : sbp.every((c) => c.atChance) ? 'not measured: SBP-SR and its shuffle both at chance' : sbp.every((c) => !c.hurts) ? 'yes (measured): SBP-SR shuffled is not worse' : `no (measured): the shuffle hurts at s = ${sbp.filter((c) => c.hurts).map((c) => c.sparsity).join(', ')}`;
  const idle = (a: MeanSd, b: MeanSd) => (Math.max(a.mean, b.mean) <= p.tolerances.chance + p.tolerances.chanceBand ? ' (both arms at chance)' : '');
  const ev = dec.map((d) => `s=${d.sparsity}: weights ${pts(d.weights)}${idle(d.full, d.shuffled)}, rescaling ${pts(d.rescaling)}${idle(d.shuffled, d.snipShuffled)}, ` +
    `densities ${pts(d.densities)}${idle(d.snipShuffled, d.even)} pts`).join('; ') || 'no data';
  return [
    { claim: '01/mbp-phase-blind, 01/snip-phase-collapse', dependsOn: 'which layer empties first (per-layer counts only)', survivesShuffle: byConstruction, evidence: 'derived' },
    { claim: '01/collapse-trains-at-chance', dependsOn: 'an empty layer (no input-output path)', survivesShuffle: byConstruction, evidence: 'derived' },
    { claim: '02/eoc-rescaling-ordering, 02/sbp-sr-extreme-sparsity (SBP-SR on the EOC FFNN)', dependsOn: 'SBP-SR\'s layer densities, its rescaling, and which weights it keeps', survivesShuffle: sbpVerdict, evidence: ev },
    { claim: '02/rescaling-restores-signal', dependsOn: 'per-unit kept fan-in, which the rescaling normalises whatever the positions', survivesShuffle: 'expected yes (derived: the rescaling sets each unit\'s squared norm to sigma_w^2 for any mask); the accuracy side is the row above', evidence: 'derived' },
    { claim: '02/stable-resnet-per-layer', dependsOn: 'per-layer kept fractions', survivesShuffle: byConstruction, evidence: 'derived' },
    { claim: '03/* (reduced vs pruned)', dependsOn: 'structured channel pruning after training (Fisher, L1)', survivesShuffle: 'not applicable: the masks are whole channels chosen after training, not positions scored at init', evidence: 'n/a' },
    { claim: '04/* (K-starts, dissipating gradients)', dependsOn: 'masks chosen by short training runs', survivesShuffle: 'not tested here: their masks are picked by training, not by an at-init score', evidence: 'n/a' },
  ];
}

// ---------------------------------------------------------------------------------------------
// Tables and figures

const ARM_LABEL = (method: string, ablation: string) => (ablation === 'none' ? method : method === 'random' ? `random ticket (${ablation})` : `${method} ${ablation}`);

/** One row per arm: accuracy mean ± sd at each sparsity. */
export function accuracyTable(p: SanityPlan, rows: readonly Row[]): Array<Record<string, string | number>> {
  const cs = cells(rows);
  const out: Array<Record<string, string | number>> = [];
  for (const n of p.nets) {
    const dense = rows.filter((r) => r.net === n.id && r.kind === 'dense' && r.outcome === 'ok').map((r) => r.acc);
    out.push({ net: n.id, arm: 'dense', ...Object.fromEntries(n.sparsities.map((s) => [`s=${s}`, dense.length ? formatMeanSd(meanSd(dense)) : 'n/a'])) });
    const arms = [...new Set(cs.filter((c) => c.net === n.id).map((c) => `${c.method}|${c.ablation}`))];
    for (const a of arms) {
      const [m, ab] = a.split('|');
      out.push({ net: n.id, arm: ARM_LABEL(m, ab), ...Object.fromEntries(n.sparsities.map((s) => {
        const c = findCell(cs, n.id, m, ab, s);
        return [`s=${s}`, c && c.acc.n ? `${formatMeanSd(c.acc)}${c.diverged ? ` (${c.diverged} diverged)` : ''}` : 'n/a'];
      })) });
    }
  }
  return out;
}

/** Accuracy vs sparsity, one panel per (net, method): the method and its ablations as lines, the dense net as a flat line. */
export function accuracyFigure(p: SanityPlan, rows: readonly Row[]): FigureSpec {
  const cs = cells(rows);
  const panels = p.nets.flatMap((n) => n.methods.map((m) => ({ n, m })));
  const figs = panels.map(({ n, m }, i) => {
    const abl = ['none', ...n.ablations, ...((DATA_METHODS as readonly string[]).includes(m) ? n.dataAblations : [])];
    const series: Series[] = abl.map((a) => {
      const xs = n.sparsities.filter((s) => findCell(cs, n.id, m, a, s)?.acc.n);
      const c = xs.map((s) => findCell(cs, n.id, m, a, s)!.acc);
      return { name: a === 'none' ? 'own mask' : a, x: xs, y: c.map((v) => v.mean), error: c.map((v) => (Number.isFinite(v.sd) ? v.sd : 0)) };
    }).filter((s) => s.x.length > 0);
    for (const t of n.tickets) {
      const xs = n.sparsities.filter((s) => findCell(cs, n.id, 'random', t, s)?.acc.n);
      series.push({ name: `random ticket (${t})`, x: xs, y: xs.map((s) => findCell(cs, n.id, 'random', t, s)!.acc.mean) });
    }
    const dense = rows.filter((r) => r.net === n.id && r.kind === 'dense' && r.outcome === 'ok').map((r) => r.acc);
    if (dense.length) series.push({ name: 'dense', x: [Math.min(...n.sparsities), Math.max(...n.sparsities)], y: [meanSd(dense).mean, meanSd(dense).mean] });
    return lineFigure(series, { x: { title: i >= panels.length - 4 ? 'sparsity' : undefined }, y: { title: i % 4 === 0 ? 'test accuracy' : undefined, range: [0, 1] } });
  });
  return subplots(figs, { columns: 4, titles: panels.map(({ n, m }) => `${n.id}: ${m}`), title: 'Final test accuracy vs sparsity: each method with its ablations (mean ± sd over seeds)', width: 1400, height: 320 * Math.ceil(figs.length / 4) });
}

/** Per-layer kept fraction of each method's own mask (first seed) and of the smart-ratio ticket, at the highest sparsity. */
export function densityFigure(p: SanityPlan, rows: readonly Row[]): FigureSpec {
  const figs: FigureSpec[] = [], titles: string[] = [];
  for (const n of p.nets) {
    const s = Math.max(...n.sparsities), seed = p.seeds[0];
    const arms: Array<[string, string]> = [...n.methods.map((m): [string, string] => [m, 'none']), ...n.tickets.map((t): [string, string] => ['random', t])];
    const series: Series[] = [];
    for (const [m, a] of arms) {
      const r = rows.find((x) => x.net === n.id && x.kind === 'arm' && x.method === m && x.ablation === a && x.sparsity === s && x.seed === seed && x.perLayer.length);
      if (r) series.push({ name: ARM_LABEL(m, a), x: r.perLayer.map((_, i) => i + 1), y: r.perLayer.map((l) => l.kept / l.size) });
    }
    figs.push(lineFigure(series, { x: { title: 'prunable layer' }, y: { title: 'kept fraction', log: true } }));
    titles.push(`${n.label}, s=${s}`);
  }
  return subplots(figs, { columns: 3, titles, title: 'Per-layer density profiles (the shuffle and reinit arms share their method\'s profile exactly)', width: 1400, height: 420 });
}

/** Effect of each ablation per method: mean accuracy change (points) vs the method's own mask, per net and sparsity. */
export function effectTable(p: SanityPlan, rows: readonly Row[]): Array<Record<string, string>> {
  const cs = cells(rows);
  const out: Array<Record<string, string>> = [];
  for (const n of p.nets) for (const s of n.sparsities) for (const m of n.methods) {
    const row: Record<string, string> = { net: n.id, sparsity: formatNumber(s, 3), method: m };
    for (const a of [...MASK_ABLATIONS, ...DATA_ABLATIONS]) {
      const c = compare(cs, n.id, s, m, a, undefined, p.tolerances);
      row[a] = c ? `${pts(c.diff)}${c.atChance ? ' (both at chance)' : c.hurts ? ' (hurts)' : ''}` : '';
    }
    out.push(row);
  }
  return out;
}

/** The dense-reference gates of every net, as table rows. */
export function gateTable(p: SanityPlan, rows: readonly Row[]): Array<Record<string, string>> {
  return p.nets.flatMap((n) => netGates(rows, n, p.tolerances).map((g) => ({ net: n.label, gate: g.kind, status: g.passed ? 'passed' : 'FAILED', detail: g.detail })));
}
