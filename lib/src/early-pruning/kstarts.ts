/**
 * K-starts — the project's reading of Haroon (arXiv 2209.02201) abstract: "start from k random
 * p-sparse masks; during the first couple of epochs the network picks the fittest mask", fitness =
 * weight magnitude, gradient magnitude accumulated over an epoch, or both. Nothing below is the
 * paper's exact procedure; every constant is the project's choice, exposed as an option:
 *  - one dense init W0 shared by all candidates (init 'shared', default) or a fresh init each ('fresh');
 *  - k random masks with exact counts (scoresToMask), uniform density per layer (maskScope
 *    'layerwise', default) or global; candidate 0's mask is the random baseline's mask, so k = 1 is
 *    the random baseline;
 *  - every candidate trains E_s epochs (default 1) with the same minibatch order (one data seed);
 *  - fitness over the surviving weights S_i only:
 *      'magnitude' (default): sum |w| at the end of selection;
 *      'gradient': sum over the steps of the last selection epoch of sum |dL_t/dw|;
 *      'both': sum of the candidate's fractional ranks (1 = lowest, ties share the mean rank) under
 *              magnitude and under gradient;
 *      'dissipation' (combination option B): sum of r = |w - w0| / (|w0| + eps_l) (see dissipating.ts);
 *    normalize 'perLayer' replaces the sum by the sum over layers of the per-layer mean, so wide
 *    layers do not dominate ("depending on the architecture");
 *  - direction 'max' (default) or 'min'; ties go to the lowest candidate index; candidates that
 *    diverged are never picked. pick 'random' picks uniformly among the k (seeded), as a control;
 *  - the winner continues from its current state, optimiser state included ('continue', default),
 *    or restarts from W0 with its mask ('restart') for the remaining E - E_s epochs.
 * Compute: selection costs k * E_s masked epochs; the report says so.
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data';
import type { Mask } from '../mask';
import { buildModel, ModelConfig } from '../models';
import type { Net } from '../nn/net';
import { computeMask } from '../prune'; // the index registers every method (snip, grasp, ...)
import { checkSparsity, Scope } from '../prune/scores-to-mask';
import { Rng } from '../rng';
import type { TrainConfig } from '../train';
import { validateTrainConfig } from '../train';
import { MaskedRun, zeroScalarVariable } from './masked-run';
import { candidateInitSeed, candidateMaskSeed, layerEps, relativeChanges } from './select';
import { fractionalRanks, spearman } from '../stats';
import { stripUndefined } from './dissipating';

/** What every Haroon method needs: architecture, data, training recipe and the three seeds. */
export interface EarlyPruningSetup {
  model: string | ModelConfig;
  ds: Dataset;
  /** Training recipe; `epochs` is the total number of epochs of the final network (selection included). */
  train: TrainConfig;
  initSeed: number;
  maskSeed: number;
  dataSeed: number;
  /** Evaluate the test split after every epoch (default true; target epochs and the end always are). */
  evalEveryEpoch?: boolean;
}

export type KStartsFitness = 'magnitude' | 'gradient' | 'both' | 'dissipation';

export interface KStartsOptions {
  /** Sparsity p of every candidate mask (fraction removed). */
  sparsity: number;
  /** Number of candidates k (default 5). */
  k?: number;
  /** E_s: selection epochs per candidate (default 1). */
  selectionEpochs?: number;
  fitness?: KStartsFitness;
  direction?: 'max' | 'min';
  normalize?: 'none' | 'perLayer';
  pick?: 'fitness' | 'random';
  init?: 'shared' | 'fresh';
  maskScope?: Scope;
  afterSelection?: 'continue' | 'restart';
  /** Train every candidate to the end too, to see how often the pick is the best mask (default false). */
  evaluateAllCandidates?: boolean;
  /** eps_l = epsScale * RMS(W0_l) of the 'dissipation' fitness (default 0.01). */
  epsScale?: number;
  /** Explicit candidate masks (ablations, tests); k = masks.length. Default: k seeded random masks. */
  masks?: Mask[];
}

export const KSTARTS_DEFAULTS = {
  k: 5, selectionEpochs: 1, fitness: 'magnitude', direction: 'max', normalize: 'none', pick: 'fitness',
  init: 'shared', maskScope: 'layerwise', afterSelection: 'continue', evaluateAllCandidates: false, epsScale: 0.01,
} as const;

export interface CandidateReport {
  index: number;
  /** The value the pick compared (the rank sum for 'both'); null if the candidate diverged. */
  fitness: number | null;
  /** KStartsFitness components (normalised if normalize = 'perLayer'); null when not computed. */
  magnitude: number | null;
  gradient: number | null;
  dissipation: number | null;
  /** Raw per-layer sums over surviving weights. */
  perLayer: { magnitude: Record<string, number>; gradient?: Record<string, number>; dissipation?: Record<string, number> };
  /** Fractional ranks among candidates (fitness 'both'). */
  ranks?: { magnitude: number; gradient: number };
  kept: number;
  maskSeed: number | null;
  initSeed: number;
  trainAccAtSelection: number | null;
  testAccAtSelection: number | null;
  /** Final test accuracy after full training (evaluateAllCandidates, or the winner). */
  finalTestAcc: number | null;
  diverged: boolean;
}

export interface KStartsReport {
  k: number;
  sparsity: number;
  selectionEpochs: number;
  fitness: KStartsFitness;
  direction: 'max' | 'min';
  normalize: 'none' | 'perLayer';
  pickedBy: 'fitness' | 'random';
  /** Index of the chosen candidate. */
  pick: number;
  candidates: CandidateReport[];
  compute: { selectionEpochs: number; winnerEpochs: number; totalEpochs: number; evaluationEpochs: number };
  /** With evaluateAllCandidates: the best candidate after full training, the pick's rank (1 = best), Spearman(fitness, final acc). */
  bestFinal: { index: number; acc: number } | null;
  pickIsBestFinal: boolean | null;
  pickFinalRank: number | null;
  fitnessFinalSpearman: number | null;
  selectionSeconds: number;
}

/** A trained candidate: its run, mask, seeds and dense initial values. */
export interface CandidateState {
  index: number;
  run: MaskedRun;
  mask: Mask;
  initSeed: number;
  /** Dense initial values of every parameter (before masking). */
  w0: Map<string, Float32Array>;
}

export type Finish<T> = (run: MaskedRun, cand: CandidateState) => T;

export interface KStartsResult<T> {
  report: KStartsReport;
  /** The winner, trained to the end by `finish`; the caller owns (and disposes) its run. */
  winner: CandidateState;
  /** Every candidate's mask, by index. */
  candidateMasks: Mask[];
  finish: T;
}

export function buildFor(setup: EarlyPruningSetup, initSeed: number): Net {
  return buildModel(setup.model, { seed: initSeed, inputShape: setup.ds.inputShape, numClasses: setup.ds.numClasses });
}

function resolve(o: KStartsOptions) {
  checkSparsity(o.sparsity);
  const r = { ...KSTARTS_DEFAULTS, ...stripUndefined(o) } as Required<Omit<KStartsOptions, 'masks'>> & KStartsOptions;
  const k = o.masks ? o.masks.length : r.k;
  if (!Number.isInteger(k) || k < 1) throw new Error(`kstarts: k must be a positive integer, got ${k}.`);
  if (o.masks && o.k !== undefined && o.k !== o.masks.length) throw new Error(`kstarts: k = ${o.k} but ${o.masks.length} masks were given; drop k or make them agree.`);
  if (!Number.isInteger(r.selectionEpochs) || r.selectionEpochs < 1) throw new Error(`kstarts: selectionEpochs (E_s) must be a positive integer, got ${r.selectionEpochs}.`);
  const oneOf = (name: string, v: unknown, allowed: readonly string[]) => {
    if (!allowed.includes(v as string)) throw new Error(`kstarts: ${name} must be one of ${allowed.join(', ')}, got '${String(v)}'.`);
  };
  oneOf('fitness', r.fitness, ['magnitude', 'gradient', 'both', 'dissipation']);
  oneOf('direction', r.direction, ['max', 'min']);
  oneOf('normalize', r.normalize, ['none', 'perLayer']);
  oneOf('pick', r.pick, ['fitness', 'random']);
  oneOf('init', r.init, ['shared', 'fresh']);
  oneOf('maskScope', r.maskScope, ['layerwise', 'global']);
  oneOf('afterSelection', r.afterSelection, ['continue', 'restart']);
  if (!(r.epsScale >= 0) || !Number.isFinite(r.epsScale)) throw new Error(`kstarts: epsScale must be a finite number >= 0, got ${r.epsScale}.`);
  return { ...r, k };
}

/** Index of the best eligible value (ties: lowest index); -1 if none is eligible. */
export function argBest(values: Array<number | null>, direction: 'max' | 'min'): number {
  let best = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || !Number.isFinite(v)) continue;
    if (best < 0 || (direction === 'max' ? v > values[best]! : v < values[best]!)) best = i;
  }
  return best;
}

/** Total of per-layer sums, or the sum of per-layer means over surviving weights ('perLayer'). */
function combine(perLayer: Record<string, number>, kept: Map<string, number>, normalize: 'none' | 'perLayer'): number {
  let t = 0;
  for (const [name, s] of Object.entries(perLayer)) {
    if (normalize === 'none') t += s;
    else if (kept.get(name)! > 0) t += s / kept.get(name)!;
  }
  return t;
}

/**
 * Run K-starts: train the k candidates for E_s epochs, score them, pick one, and hand the winner to
 * `finish` (default: train to the end with the mask fixed). With evaluateAllCandidates every
 * candidate is finished the same way and its final accuracy reported.
 */
export function kStarts<T = void>(setup: EarlyPruningSetup, opts: KStartsOptions, finish?: Finish<T>): KStartsResult<T> {
  const o = resolve(opts);
  validateTrainConfig(setup.train);
  const E = setup.train.epochs;
  if (o.selectionEpochs > E) throw new Error(`kstarts: selectionEpochs (${o.selectionEpochs}) exceeds the training epochs (${E}).`);
  const fin: Finish<T> = finish ?? ((run) => { run.trainTo(E); return undefined as T; });
  const t0 = Date.now();
  const needGrad = o.fitness === 'gradient' || o.fitness === 'both';
  const cands: CandidateState[] = [];
  const reports: CandidateReport[] = [];
  try {
    for (let i = 0; i < o.k; i++) {
      const initSeed = o.init === 'shared' ? setup.initSeed : candidateInitSeed(setup.initSeed, i);
      const net = buildFor(setup, initSeed);
      const w0 = net.getWeights();
      const maskSeed = o.masks ? null : candidateMaskSeed(setup.maskSeed, i);
      const mask = o.masks ? o.masks[i] : computeMask(net, { method: 'random', sparsity: o.sparsity, scope: o.maskScope, seed: maskSeed! }).selection.mask;
      const run = new MaskedRun(net, setup.ds, setup.train, { seed: setup.dataSeed, evalEveryEpoch: setup.evalEveryEpoch ?? true });
      cands.push({ index: i, run, mask, initSeed, w0 });
      run.setMask(mask);
      const gradAcc = needGrad ? new Map(net.prunable.map((p) => [p.name, zeroScalarVariable()])) : null;
      try {
        for (let e = 0; e < o.selectionEpochs && !run.diverged; e++) {
          const last = e === o.selectionEpochs - 1;
          run.runEpoch({
            evaluate: last ? true : undefined,
            onGradients: last && gradAcc ? (grads) => {
              for (const [name, acc] of gradAcc) {
                const g = grads.get(name)!;
                acc.assign(tf.add(acc, tf.sum(tf.mul(tf.abs(g), run.maskTensor(name)!))));
              }
            } : undefined,
          });
        }
        reports.push(scoreCandidate(cands[i], gradAcc, o, maskSeed));
      } finally {
        gradAcc?.forEach((v) => v.dispose());
      }
    }
    // ---- pick --------------------------------------------------------------------------------
    if (o.fitness === 'both') {
      const ok = reports.filter((r) => !r.diverged);
      const rm = fractionalRanks(ok.map((r) => r.magnitude!)), rg = fractionalRanks(ok.map((r) => r.gradient!));
      ok.forEach((r, j) => { r.ranks = { magnitude: rm[j], gradient: rg[j] }; r.fitness = rm[j] + rg[j]; });
    }
    let pick: number;
    if (o.pick === 'random') pick = new Rng(setup.maskSeed, 'haroon/kstarts-pick').int(o.k);
    else {
      pick = argBest(reports.map((r) => r.fitness), o.direction);
      if (pick < 0) throw new Error(`kstarts: all ${o.k} candidates diverged during selection; lower the learning rate.`);
    }
    const selectionSeconds = (Date.now() - t0) / 1000;

    // ---- continue / restart, finish ---------------------------------------------------------
    const restart = (c: CandidateState): CandidateState => {
      c.run.dispose();
      const net = buildFor(setup, c.initSeed);
      // resume after the selection epochs: the remaining epochs, with the same LR schedule and data order
      const run = new MaskedRun(net, setup.ds, setup.train, { seed: setup.dataSeed, evalEveryEpoch: setup.evalEveryEpoch ?? true, startEpoch: o.selectionEpochs });
      run.setMask(c.mask);
      return { ...c, run };
    };
    const toFinish = o.evaluateAllCandidates ? cands.map((_, i) => i) : [pick];
    for (let i = 0; i < cands.length; i++) if (!toFinish.includes(i)) { cands[i].run.dispose(); }
    let winnerOut: T | undefined;
    for (const i of toFinish) {
      if (o.afterSelection === 'restart') cands[i] = restart(cands[i]);
      const c = cands[i];
      const out = fin(c.run, c);
      reports[i].finalTestAcc = c.run.diverged ? null : c.run.testAccNow();
      if (i === pick) winnerOut = out;
      else c.run.dispose();
    }
    const finals = o.evaluateAllCandidates ? reports.map((r) => r.finalTestAcc) : null;
    let bestFinal: KStartsReport['bestFinal'] = null, pickFinalRank: number | null = null, rho: number | null = null;
    if (finals) {
      const b = argBest(finals, 'max');
      if (b >= 0) bestFinal = { index: b, acc: finals[b]! };
      const pf = finals[pick];
      if (pf !== null) pickFinalRank = 1 + finals.filter((f) => f !== null && f > pf).length;
      const both = reports.filter((r) => r.fitness !== null && r.finalTestAcc !== null);
      rho = spearman(both.map((r) => r.fitness!), both.map((r) => r.finalTestAcc!));
    }
    const report: KStartsReport = {
      k: o.k, sparsity: o.sparsity, selectionEpochs: o.selectionEpochs, fitness: o.fitness, direction: o.direction,
      normalize: o.normalize, pickedBy: o.pick, pick, candidates: reports,
      compute: {
        selectionEpochs: o.k * o.selectionEpochs, winnerEpochs: E - o.selectionEpochs,
        totalEpochs: o.k * o.selectionEpochs + (E - o.selectionEpochs),
        evaluationEpochs: o.evaluateAllCandidates ? (o.k - 1) * (E - o.selectionEpochs) : 0,
      },
      bestFinal, pickIsBestFinal: finals ? bestFinal !== null && finals[pick] === bestFinal.acc : null,
      pickFinalRank, fitnessFinalSpearman: rho, selectionSeconds,
    };
    return { report, winner: cands[pick], candidateMasks: cands.map((c) => c.mask), finish: winnerOut as T };
  } catch (e) {
    for (const c of cands) c.run.dispose();
    throw e;
  }
}

function scoreCandidate(c: CandidateState, gradAcc: Map<string, tf.Variable> | null,
  o: ReturnType<typeof resolve>, maskSeed: number | null): CandidateReport {
  const net = c.run.net;
  const w = net.getWeights();
  const kept = new Map(c.mask.perLayer().map((l) => [l.name, l.kept]));
  const mag: Record<string, number> = {}, dis: Record<string, number> = {};
  for (const p of net.prunable) {
    const m = c.mask.get(p.name), wt = w.get(p.name)!, z = c.w0.get(p.name)!;
    const r = o.fitness === 'dissipation' ? relativeChanges(wt, z, layerEps(z, o.epsScale)) : null;
    let sm = 0, sd = 0;
    for (let i = 0; i < p.size; i++) {
      if (!m[i]) continue;
      sm += Math.abs(wt[i]);
      if (r) sd += r[i];
    }
    mag[p.name] = sm; dis[p.name] = sd;
  }
  const grad = gradAcc ? Object.fromEntries([...gradAcc].map(([n, v]) => [n, v.dataSync()[0]])) : undefined;
  const diverged = c.run.diverged !== null;
  const magnitude = combine(mag, kept, o.normalize);
  const gradient = grad ? combine(grad, kept, o.normalize) : null;
  const dissipation = o.fitness === 'dissipation' ? combine(dis, kept, o.normalize) : null;
  const fitness = diverged ? null : o.fitness === 'magnitude' ? magnitude : o.fitness === 'gradient' ? gradient
    : o.fitness === 'dissipation' ? dissipation : null; // 'both': filled in from the ranks
  const last = c.run.history[c.run.history.length - 1];
  return {
    index: c.index, fitness, magnitude, gradient, dissipation,
    perLayer: { magnitude: mag, ...(grad ? { gradient: grad } : {}), ...(o.fitness === 'dissipation' ? { dissipation: dis } : {}) },
    kept: c.mask.kept, maskSeed, initSeed: c.initSeed,
    trainAccAtSelection: last ? last.trainAcc : null, testAccAtSelection: last ? last.testAcc : null,
    finalTestAcc: null, diverged,
  };
}
