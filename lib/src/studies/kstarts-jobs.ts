/**
 * The runs of the K-starts / dissipating-gradients study (kstarts-dissipating.ts): jobs() turns the
 * plan into engine configs of the 'early-pruning' task (kstarts-task.ts), sweepNeeds() lists them for
 * `sweep plan`, runStudy() and runLongRuns() run them (cached by config hash, in worker processes).
 */
import { mergeConfigs, runSweep, withSweepProgress, ResultStore, SweepRecord, PlainObject } from '../engine';
import type { ProgressFactory } from '../engine';
import { EARLY_PRUNING_DEFAULTS, EarlyPruningConfig, EarlyPruningResult } from '../early-pruning/run';
import type { Budget } from '../notebook/params';
import { runStagedLongRuns } from '../notebook/gate';
import { CONVERGED_ARM, LONG_RUN_BAND, longRunJobs } from './kstarts-gates';
import { ARMS, dissipatingArm, Plan, plan } from './kstarts-plan';
import { Row, rows } from './kstarts-rows';
import { EARLY_PRUNING_TASK } from './kstarts-task';
import { joinNeeds, longRunNeeds, needsOf, RecordLookup, stagedLongRunNeeds, StudyNeeds } from './needs';

export type Family = 'reference' | 'baseline' | 'proposed' | 'kstarts-all' | 'kstarts-derived' | 'variant';

export interface Job {
  arm: string;
  family: Family;
  model: string;
  dataset: string;
  /** null for the dense reference. */
  sparsity: number | null;
  seed: number;
  config: EarlyPruningConfig;
}

const MAIN_FAMILY: Record<string, Family> = {
  [ARMS.random]: 'baseline', [ARMS.randomCM]: 'baseline', [ARMS.magnitude]: 'baseline', [ARMS.snip]: 'baseline', [ARMS.magAtEpoch]: 'baseline',
  [ARMS.kstarts]: 'proposed', [ARMS.dissipating]: 'proposed', [ARMS.threshold]: 'proposed', [ARMS.combined]: 'proposed', [ARMS.kstartsAll]: 'kstarts-all',
};

/**
 * Arms also evaluated on the training split at the end (one forward pass): notebook 04's overfitting
 * claim (studies/overfitting.ts) reads its train - test gaps off these same cached runs.
 */
const TRAIN_EVAL_ARMS: readonly string[] = [ARMS.dense, CONVERGED_ARM, ARMS.random, ARMS.snip, ARMS.kstarts, ARMS.dissipating];

/** Every engine config of the plan, labelled with its arm. */
export function jobs(p: Plan): Job[] {
  const pr = p.primary, E = p.epochs;
  const kMax = Math.max(...p.ks);
  const extra = { extra: { epochs: pr.extraEpochs, lr: pr.extraLr } };
  const diss = dissipatingArm(pr);
  const kstarts = (method: 'kstarts' | 'combined', o: Record<string, unknown> = {}) =>
    ({ method, kstarts: { k: pr.k, selectionEpochs: pr.selectionEpochs, fitness: pr.fitness, ...o } });
  const arms: Array<[string, EarlyPruningConfig]> = [
    [ARMS.random, { prune: { method: 'random' }, ...extra }],
    [ARMS.randomCM, { prune: { method: 'random' }, train: { epochs: E + (pr.k - 1) * pr.selectionEpochs } }],
    [ARMS.magnitude, { prune: { method: 'magnitude' } }],
    [ARMS.snip, { prune: { method: 'snip' } }],
    [ARMS.magAtEpoch, { prune: { method: 'magnitude-at-epoch', dissipation: { epochs: pr.dissipationEpochs, scope: pr.scope } } }],
    [ARMS.kstarts, { prune: kstarts('kstarts'), ...extra }],
    [ARMS.kstartsAll, { prune: kstarts('kstarts', { k: kMax, fitness: 'both', evaluateAllCandidates: true }) }],
    [ARMS.dissipating, { ...diss, ...extra }],
    [ARMS.threshold, { prune: { method: 'dissipating', dissipation: { rule: 'threshold', alpha: pr.thresholdAlpha } } }],
    [ARMS.combined, { prune: { ...kstarts('combined'), dissipation: diss.prune.dissipation, combined: { variant: pr.combination } }, ...extra }],
  ];
  const out: Job[] = [];
  for (const m of p.models) {
    for (const d of p.datasets) {
      const base = (seed: number, sparsity: number): EarlyPruningConfig => ({
        model: m.model, data: { name: d.name, trainLimit: d.trainLimit, testLimit: d.testLimit },
        prune: { method: 'random', sparsity }, train: { ...p.train, epochs: E }, seed,
      });
      const job = (arm: string, family: Family, sparsity: number | null, seed: number, config: EarlyPruningConfig): Job =>
        ({ arm, family, model: m.label, dataset: d.label, sparsity, seed, config });
      const dense = (seed: number) => mergeConfigs(base(seed, EARLY_PRUNING_DEFAULTS.prune.sparsity), { prune: { method: 'dense' } });
      for (const seed of p.seeds) out.push(job(ARMS.dense, 'reference', null, seed, dense(seed)));
      // the dense gate's converged runs: the same config, a long schedule (milestones stretch), every seed (notebook/gate.ts)
      for (const seed of p.seeds) out.push(job(CONVERGED_ARM, 'reference', null, seed, mergeConfigs(dense(seed), { train: { epochs: p.gate.convergedEpochs } })));
      for (const sp of p.sparsities) {
        for (const [arm, c] of arms) {
          for (const seed of p.seeds) out.push(job(arm, MAIN_FAMILY[arm], sp, seed, mergeConfigs(base(seed, sp), c)));
        }
        if (p.variantModels.includes(m.label) && p.variantDatasets.includes(d.label) && p.variantSparsities.includes(sp)) {
          for (const v of p.variants) {
            for (const seed of p.seeds) out.push(job(v.arm, 'variant', sp, seed, mergeConfigs(base(seed, sp), v.config)));
          }
        }
      }
    }
  }
  for (const j of out) if (TRAIN_EVAL_ARMS.includes(j.arm)) j.config = mergeConfigs(j.config, { eval: { trainSplit: true } });
  return out;
}

export interface StudyRun {
  plan: Plan;
  jobs: Job[];
  records: SweepRecord<EarlyPruningResult>[];
  rows: Row[];
  failures: Array<{ arm: string; dataset: string; sparsity: number | null; seed: number; message: string }>;
  computed: number;
  cached: number;
  seconds: number;
}

export interface RunStudyOptions {
  /** Worker processes (default: runSweep's, one per CPU); 0 runs in this process. */
  workers?: number;
  store?: ResultStore | string;
  progress?: ProgressFactory;
}

/** One cached sweep of 'early-pruning'-task configs (notebook 04's studies all run through it), with a labelled progress display. */
export function sweepEarlyPruning(configs: readonly EarlyPruningConfig[], label: string, o: RunStudyOptions): Promise<SweepRecord<EarlyPruningResult>[]> {
  return withSweepProgress(o.progress, label, (onProgress) => runSweep<EarlyPruningResult>({
    task: EARLY_PRUNING_TASK, configs: configs.map((c) => c as unknown as PlainObject), workers: o.workers, store: o.store, onProgress, progressBar: false,
  }));
}

/**
 * Every engine config of notebook 04's K-starts / dissipating study at a budget (needs.ts): runStudy's
 * jobs, then, once they are stored, runLongRuns' long runs of the claim arms they leave at chance.
 */
export function sweepNeeds(budget: Budget, seeds: number[], lookup: RecordLookup): StudyNeeds {
  const p = plan(budget, seeds), js = jobs(p);
  const long = longRunNeeds<EarlyPruningResult>(budget, lookup, EARLY_PRUNING_TASK, js.map((j) => j.config), 'long runs',
    're-trains the claim arms the sweep leaves at chance with the converged schedule (not in the estimate)', 'sweep', (recs) => {
      const budgetRows = rows(p, js, recs.map((r) => ({ ...r, status: 'cached' as const })));
      return stagedLongRunNeeds(lookup, EARLY_PRUNING_TASK, longRunJobs(p, budgetRows, js).map((a) => a.map((j) => j.config)), 'long runs', 'long runs of arms at chance (all four claims)', LONG_RUN_BAND);
    });
  return joinNeeds({ configs: js.flatMap((j) => needsOf('sweep', `${j.family} (all four claims)`, EARLY_PRUNING_TASK, [j.config])), deferred: [] }, long);
}

/** Run (or read from the cache) every config of the plan, in one sweep. */
export async function runStudy(p: Plan, o: RunStudyOptions = {}): Promise<StudyRun> {
  const t0 = Date.now();
  const js = jobs(p);
  const records = await sweepEarlyPruning(js.map((j) => j.config), 'K-starts / dissipating runs', o);
  const failures = js.flatMap((j, i) => {
    const r = records[i];
    return r.status === 'error' ? [{ arm: j.arm, dataset: j.dataset, sparsity: j.sparsity, seed: j.seed, message: r.error.message }] : [];
  });
  const keys = new Set<string>();
  let computed = 0, cached = 0;
  records.forEach((r) => {
    if (keys.has(r.key)) return;
    keys.add(r.key);
    if (r.status === 'computed') computed++; else if (r.status === 'cached') cached++;
  });
  return { plan: p, jobs: js, records, rows: rows(p, js, records), failures, computed, cached, seconds: (Date.now() - t0) / 1000 };
}

/**
 * Run (or read from the cache) the long runs of the claim arms at chance after the budget
 * (longRunJobs: the converged schedule; stagedLongRuns' two steps); their rows, for readRows and ksGates.
 */
export async function runLongRuns(p: Plan, budget: readonly Row[], o: RunStudyOptions = {}): Promise<{ jobs: Job[]; rows: Row[]; epochs: number }> {
  const sweep = async (js: Job[]) => (await sweepEarlyPruning(js.map((j) => j.config), 'long runs (K-starts / dissipating)', o))
    .map((rec) => ({ rec, acc: rec.status === 'error' ? NaN : rec.result.finalTestAcc, outcome: rec.status === 'error' ? 'error' : rec.result.outcome }));
  const r = await runStagedLongRuns(longRunJobs(p, budget, jobs(p)), sweep, LONG_RUN_BAND);
  return { jobs: r.jobs, rows: rows(p, r.jobs, r.results.map((x) => x.rec)).filter((row) => row.family !== 'kstarts-derived'), epochs: p.epochs };
}
