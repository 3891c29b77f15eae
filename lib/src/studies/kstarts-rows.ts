/**
 * The tidy table of the K-starts / dissipating-gradients study (kstarts-dissipating.ts): one row per
 * run and seed, plus the K-starts picks derived from the runs that train every candidate.
 */
import type { SweepRecord } from '../engine';
import type { EarlyPruningResult } from '../early-pruning/run';
import { argBest, CandidateReport } from '../early-pruning/kstarts';
import { fractionalRanks, mean, spearman } from '../stats';
import type { Family, Job } from './kstarts-jobs';
import { ARMS, Fitness, FITNESSES, ksArm, ksOracleArm, ksRandomPickArm, Plan } from './kstarts-plan';

export interface Row {
  model: string;
  dataset: string;
  /** Target sparsity (0 for the dense reference). */
  sparsity: number;
  seed: number;
  arm: string;
  family: Family;
  /** K-starts rows: k, fitness, and how the candidate was picked. */
  k: number | null;
  fitness: Fitness | null;
  pick: 'fitness' | 'random' | 'oracle' | null;
  /** Final-epoch test accuracy. */
  acc: number | null;
  /** Test accuracy right after the net became p-sparse. */
  accAtTarget: number | null;
  /** Epochs trained when the final p-sparse mask was fixed (null: never reached p). */
  epochsToTarget: number | null;
  reached: boolean;
  /** Final density of the prunable weights. */
  density: number | null;
  /** Test accuracy after the extra (retraining) phase, if any. */
  extraAcc: number | null;
  /** Passes over the training set, selection included, extra phase excluded. */
  passes: number | null;
  /** K-starts: the pick is (one of) the best candidate(s) after full training. */
  pickIsBest: boolean | null;
  /** K-starts: Spearman correlation of fitness and final accuracy over the candidates. */
  spearman: number | null;
  seconds: number | null;
  /** 'diverged' rows keep acc, accAtTarget and extraAcc null (never averaged in; counted by the divergence gate). */
  outcome: string | null;
  error: string | null;
  /** Test accuracy per epoch of the run (selection epochs included), for the plateau gate; null for derived picks. */
  history: number[] | null;
}

/** Candidate fields the derived picks need (a subset of CandidateReport). */
export type CandidateLike = Pick<CandidateReport, 'magnitude' | 'gradient' | 'finalTestAcc' | 'diverged'> & { testAccAtSelection?: number | null };

export interface DerivedPick {
  /** Index of the picked candidate among the first k (-1: none eligible). */
  pick: number;
  acc: number | null;
  accAtSelection: number | null;
  /** Mean final accuracy of the first k candidates (expected accuracy of a uniformly random pick). */
  randomPickAcc: number | null;
  bestAcc: number | null;
  pickIsBest: boolean | null;
  /** Spearman(fitness, final accuracy) over the first k candidates. */
  spearman: number | null;
}

/**
 * The K-starts pick among the first k candidates, as kStarts would make it with `fitness`:
 * argmax (ties: lowest index) over candidates that did not diverge; 'both' = sum of fractional ranks
 * of magnitude and gradient among those candidates.
 */
export function deriveKStartsPick(cands: readonly CandidateLike[], k: number, fitness: Fitness): DerivedPick {
  if (!Number.isInteger(k) || k < 1) throw new Error(`deriveKStartsPick: k must be a positive integer, got ${k}.`);
  if (!Array.isArray(cands) || cands.length < k) throw new Error(`deriveKStartsPick: need at least k = ${k} candidates, got ${Array.isArray(cands) ? cands.length : 'none'}; run K-starts with k >= ${k} and evaluateAllCandidates.`);
  if (!FITNESSES.includes(fitness)) throw new Error(`deriveKStartsPick: fitness must be one of ${FITNESSES.join(', ')}, got '${String(fitness)}'.`);
  const sub = cands.slice(0, k);
  const ok = (c: CandidateLike) => !c.diverged;
  let values: Array<number | null>;
  if (fitness === 'both') {
    const idx = sub.map((c, i) => i).filter((i) => ok(sub[i]) && sub[i].magnitude !== null && sub[i].gradient !== null);
    const rm = fractionalRanks(idx.map((i) => sub[i].magnitude!)), rg = fractionalRanks(idx.map((i) => sub[i].gradient!));
    values = sub.map(() => null);
    idx.forEach((i, j) => { values[i] = rm[j] + rg[j]; });
  } else {
    values = sub.map((c) => (ok(c) ? c[fitness] : null));
    if (sub.some((c, i) => ok(c) && values[i] === null)) throw new Error(`deriveKStartsPick: candidates lack the '${fitness}' fitness; run the all-candidates K-starts with fitness 'both'.`);
  }
  const pick = argBest(values, 'max');
  const finals = sub.map((c) => c.finalTestAcc).filter((a): a is number => a !== null && Number.isFinite(a));
  const bestAcc = finals.length ? Math.max(...finals) : null;
  const acc = pick >= 0 ? sub[pick].finalTestAcc : null;
  const pairs = sub.map((c, i) => [values[i], c.finalTestAcc] as const).filter(([v, a]) => v !== null && a !== null);
  return {
    pick, acc, accAtSelection: pick >= 0 ? sub[pick].testAccAtSelection ?? null : null,
    randomPickAcc: finals.length ? mean(finals) : null,
    bestAcc, pickIsBest: acc === null || bestAcc === null ? null : acc >= bestAcc,
    spearman: pairs.length >= 2 ? spearman(pairs.map((x) => x[0]!), pairs.map((x) => x[1]!)) : null,
  };
}

function emptyRow(j: Pick<Job, 'model' | 'dataset' | 'sparsity' | 'seed' | 'arm' | 'family'>): Row {
  return {
    model: j.model, dataset: j.dataset, sparsity: j.sparsity ?? 0, seed: j.seed, arm: j.arm, family: j.family,
    k: null, fitness: null, pick: null, acc: null, accAtTarget: null, epochsToTarget: null, reached: false, density: null,
    extraAcc: null, passes: null, pickIsBest: null, spearman: null, seconds: null, outcome: null, error: null, history: null,
  };
}

/** One row per job (errors kept, with acc null), plus the K-starts picks derived from the all-candidates runs. */
export function rows(p: Plan, js: readonly Job[], records: ReadonlyArray<SweepRecord<EarlyPruningResult>>): Row[] {
  if (js.length !== records.length) throw new Error(`kstartsDissipating.rows: ${js.length} jobs but ${records.length} records; pass runSweep's output for jobs(plan).`);
  const out: Row[] = [];
  js.forEach((j, i) => {
    const rec = records[i];
    const row = emptyRow(j);
    if (rec.status === 'error') { out.push({ ...row, error: rec.error.message }); return; }
    const r = rec.result;
    const extraEpochs = r.extra ? r.extra.epochs : 0;
    const reached = r.method === 'dense' ? true : r.epochsToTarget !== null;
    const ok = r.outcome !== 'diverged';
    Object.assign(row, {
      acc: ok ? r.finalTestAcc : null, accAtTarget: ok ? r.accAtTarget : null, epochsToTarget: r.epochsToTarget, reached, density: r.density,
      extraAcc: ok ? r.extraTrainAcc : null, passes: r.compute.trainingEpochs - extraEpochs, seconds: r.seconds, outcome: r.outcome,
      history: r.diagnostics.history.map((e) => e.testAcc).filter((a): a is number => a !== null && Number.isFinite(a)),
    });
    if (r.kstarts) { row.k = r.kstarts.k; row.fitness = r.kstarts.fitness === 'dissipation' ? null : r.kstarts.fitness; row.pick = r.kstarts.pickedBy; }
    out.push(row);
    if (j.arm === ARMS.kstartsAll && r.candidates) {
      const Es = r.kstarts!.selectionEpochs;
      for (const k of p.ks) {
        if (k > r.candidates.length) continue;
        const passes = k * Es + (p.epochs - Es);
        const at = { ...emptyRow({ ...j, family: 'kstarts-derived' }), k, epochsToTarget: Es, reached: true, passes, density: r.density, outcome: r.outcome };
        let rp: DerivedPick | null = null;
        for (const f of FITNESSES) {
          const d = deriveKStartsPick(r.candidates, k, f);
          rp = d;
          out.push({ ...at, arm: ksArm(k, f), fitness: f, pick: 'fitness', acc: d.acc, accAtTarget: d.accAtSelection, pickIsBest: d.pickIsBest, spearman: d.spearman });
        }
        out.push({ ...at, arm: ksRandomPickArm(k), pick: 'random', acc: rp!.randomPickAcc });
        out.push({ ...at, arm: ksOracleArm(k), pick: 'oracle', acc: rp!.bestAcc });
      }
    }
  });
  return out;
}
