/**
 * Study: "pruning at initialization handles overfitting just as well as post-training dropout"
 * (Haroon, arXiv 2209.02201, abstract) — a claim of notebook 04.
 *
 * The abstract's "dropout" is ambiguous (the author also calls weight removal "dropout"), so the
 * p-sparse nets are compared with BOTH readings, each at the same data, recipe and seeds:
 *  - dense + dropout: the dense net trained with inverted dropout (rate `dropout`) after every hidden
 *    activation (Srivastava et al. 2014), no pruning;
 *  - post-training magnitude pruning: the dense net trained for E epochs, then its |w| smallest
 *    weights removed globally to sparsity p (one shot), then fine-tuned `fineTuneEpochs` epochs at
 *    `fineTuneLr` with the mask fixed (Han et al. 2015 retrain after pruning; our choice, stated).
 *    Its accuracy right after pruning, before fine-tuning, is reported as its own arm.
 * The p-sparse nets pruned at initialization are Haroon's K-starts and dissipating gradients (the
 * notebook's primary readings) and plain SNIP and random masks, E epochs each. These arms, the dense
 * net and its converged run are notebook 04's own configs (kstartsDissipating.jobs, which evaluates
 * every run on the training split too), so they are computed once and read here from the cache.
 *
 * Metrics (per run): test accuracy and train accuracy, both in eval mode (no dropout) at the end of
 * training; gap = train − test. Diverged runs are counted and left out of every mean.
 *
 * Verdict rule (fixed before any run): for every sparsity p, at-init arm A and reference R, two checks:
 *  - gap: A's gap is not larger than R's beyond noise, i.e. NOT lowerBeyondNoise(R.gap, A.gap);
 *  - accuracy: A's test error is not larger than R's beyond noise, i.e. NOT lowerBeyondNoise(R.err, A.err);
 * "beyond noise" = by more than 2 standard errors of the difference of the means over seeds. The
 * claim is reproduced when every check passes, partly when some do. Whether the dense net overfits at
 * all (dense gap > 2 standard errors above 0) is reported with the verdict: without overfitting,
 * the checks say nothing about handling it.
 *
 * Gates (notebook/gate.ts; overfitGates): the dense LeNet vs the same config run for notebook 04's
 * converged schedule (every seed); the compared arms (dense + dropout and the at-init arms) gained at
 * most `maxFinalEpochGain` test accuracy in their last epoch; no compared arm diverged. A failed gate
 * makes the verdict 'inconclusive'. The post-training arm's fine-tune is not evaluated per epoch, so
 * it has no plateau of its own (its dense phase is the dense net's, which the dense gate covers).
 */
import { mergeConfigs } from '../engine';
import type { SweepRecord } from '../engine';
import { EARLY_PRUNING_DEFAULTS, EarlyPruningConfig, EarlyPruningResult } from '../early-pruning/run';
import { ModelConfig, parseModelName } from '../models';
import { Check, gatedVerdict, lowerBeyondNoise } from '../notebook/claims';
import type { ClaimVerdict, VerdictTally } from '../notebook/claims';
import { divergenceGate, Gate, Gates, gateStatus, plateauGate } from '../notebook/gate';
import type { Budget } from '../notebook/params';
import { formatMeanSd } from '../notebook/tables';
import { meanSd, standardError } from '../stats';
import type { MeanSd } from '../stats';
import { barFigure, FigureSpec, subplots } from '../notebook/plots';
import type { TrainConfig } from '../train';
import { ARMS as KS_ARMS, DataChoice, gateSettings as ksGateSettings, EARLY_PRUNING_TASK, jobs as kstartsJobs, LENET, ModelChoice, Plan as KsPlan, plan as kstartsPlan, Primary } from './kstarts-dissipating';
import { CONVERGED_ARM, ksDenseGates, KsGateSettings } from './kstarts-gates';
import { sweepEarlyPruning } from './kstarts-jobs';
import type { RunStudyOptions } from './kstarts-jobs';
import { needsOf, StudyNeeds } from './needs';

export const OVERFIT_ARMS = {
  dense: 'dense',
  dropout: 'dense + dropout',
  post: 'post-training magnitude + fine-tune',
  postNoFt: 'post-training magnitude, no fine-tune',
  kstarts: 'K-starts',
  dissipating: 'dissipating',
  snip: 'SNIP',
  random: 'random',
  /** The dense gate's converged run (notebook 04's: the dense config, a long schedule, every seed). */
  converged: CONVERGED_ARM,
} as const;

/** Pruned at initialization (the claim's subject). */
export const AT_INIT_ARMS: readonly string[] = [OVERFIT_ARMS.kstarts, OVERFIT_ARMS.dissipating, OVERFIT_ARMS.snip, OVERFIT_ARMS.random];
/** What they are compared with (the two readings of "post-training dropout"). */
export const REFERENCE_ARMS: readonly string[] = [OVERFIT_ARMS.dropout, OVERFIT_ARMS.post];
/** Arms trained without a mask (one set of runs, shared by every sparsity). */
const DENSE_ARMS: readonly string[] = [OVERFIT_ARMS.dense, OVERFIT_ARMS.dropout];

export interface OverfitPlan {
  budget: Budget;
  seeds: number[];
  model: ModelChoice;
  dataset: DataChoice;
  sparsities: number[];
  /** Training epochs E of every arm (K-starts selection and dissipation epochs included). */
  epochs: number;
  train: Omit<TrainConfig, 'epochs'>;
  /** K-starts and dissipating settings: notebook 04's primary readings. */
  primary: Primary;
  /** Dropout rate of the dense + dropout arm (after every hidden activation). */
  dropout: number;
  /** Post-training pruning: one-shot global |w| after E epochs, then this many fine-tuning epochs at fineTuneLr. */
  fineTuneEpochs: number;
  fineTuneLr: number;
  /** Gates: notebook 04's (dense vs converged run of convergedEpochs, margins in accuracy). */
  gate: KsPlan['gate'];
  /** How the recipe was chosen (notebook 04's dense sweep). */
  recipeNote: string;
  notes: string[];
}

/** A subset of notebook 04's sparsities at every budget, so the at-init arms are its cached runs. */
const SPARSITIES: Record<Budget, number[]> = { smoke: [0.99], quick: [0.9, 0.98], standard: [0.9, 0.98], paper: [0.8, 0.9, 0.95, 0.98] };

/**
 * Settings per budget: notebook 04's model (LeNet-300-100), first dataset (full Fashion-MNIST at
 * standard), epochs, recipe, gates and primary K-starts/dissipating readings (kstartsDissipating.plan),
 * so the p-sparse arms are the same runs; dropout 0.5; post-training fine-tune = notebook 04's
 * retraining phase (epochs, lr).
 */
export function plan(budget: Budget, seeds: readonly number[]): OverfitPlan {
  const kp = kstartsPlan(budget, seeds);
  const sparsities = SPARSITIES[budget];
  if (!sparsities) throw new Error(`overfitting.plan: no sparsities for budget '${budget}'; add it to SPARSITIES.`);
  const missing = sparsities.filter((sp) => !kp.sparsities.includes(sp));
  if (missing.length) throw new Error(`overfitting.plan: sparsities ${missing.join(', ')} are not in notebook 04's plan at '${budget}' (${kp.sparsities.join(', ')}); keep SPARSITIES a subset so the runs are shared.`);
  return {
    budget, seeds: [...kp.seeds], model: LENET, dataset: kp.datasets[0], sparsities, epochs: kp.epochs, train: { ...kp.train }, primary: { ...kp.primary },
    dropout: 0.5, fineTuneEpochs: kp.primary.extraEpochs, fineTuneLr: kp.primary.extraLr, gate: { ...kp.gate }, recipeNote: kp.recipeNote,
    notes: [
      'The dense + dropout and post-training arms get the same data, recipe and seeds as the p-sparse arms; post-training pruning trains E epochs dense plus the fine-tune epochs (more compute), which favours it.',
      'K-starts, dissipating and random also get notebook 04\'s extra fine-tune phase after their E epochs (its retraining claim); the accuracies here are read before it, at the end of the E epochs.',
      ...(budget === 'smoke' ? ['smoke budget: a pipeline check; its numbers are noise and its verdict means nothing.'] : []),
    ],
  };
}

/** The model config with dropout after every hidden activation (FFNN) or before the head (CNN). */
export function withDropout(model: string | ModelConfig, rate: number): ModelConfig {
  const cfg = typeof model === 'string' ? parseModelName(model) : model;
  if (cfg.arch !== 'ffnn' && cfg.arch !== 'cnn') throw new Error(`overfitting: dropout is built into FFNN and CNN models only, got arch '${cfg.arch}'.`);
  return { ...cfg, dropout: rate };
}

export interface OverfitJob { arm: string; sparsity: number | null; seed: number; config: EarlyPruningConfig }

/** Notebook 04's plan at this budget, narrowed to this plan's model, data, sparsities, epochs and recipe (its jobs are the shared configs). */
function ksPlanOf(p: OverfitPlan): KsPlan {
  return { ...kstartsPlan(p.budget, p.seeds), models: [p.model], datasets: [p.dataset], sparsities: [...p.sparsities], epochs: p.epochs, train: { ...p.train }, primary: { ...p.primary }, gate: { ...p.gate }, variants: [] };
}

/** Notebook 04's arms this study reads (its arm name -> ours). */
const SHARED_ARMS: Record<string, string> = {
  [KS_ARMS.dense]: OVERFIT_ARMS.dense, [CONVERGED_ARM]: OVERFIT_ARMS.converged, [KS_ARMS.kstarts]: OVERFIT_ARMS.kstarts,
  [KS_ARMS.dissipating]: OVERFIT_ARMS.dissipating, [KS_ARMS.snip]: OVERFIT_ARMS.snip, [KS_ARMS.random]: OVERFIT_ARMS.random,
};

/**
 * Engine configs ('early-pruning' task, eval.trainSplit on) of every arm, sparsity and seed: notebook 04's
 * dense, converged and at-init configs as they are (cache hits after notebook 04's sweep), plus
 * dense + dropout and post-training magnitude pruning.
 */
export function jobs(p: OverfitPlan): OverfitJob[] {
  const shared = kstartsJobs(ksPlanOf(p)).filter((j) => j.arm in SHARED_ARMS)
    .map((j): OverfitJob => ({ arm: SHARED_ARMS[j.arm], sparsity: j.sparsity, seed: j.seed, config: j.config }));
  const dense = shared.filter((j) => j.arm === OVERFIT_ARMS.dense);
  if (dense.length !== p.seeds.length) throw new Error(`overfitting.jobs: notebook 04's plan gave ${dense.length} dense configs for ${p.seeds.length} seeds.`);
  const out: OverfitJob[] = [...shared];
  for (const d of dense) out.push({ arm: OVERFIT_ARMS.dropout, sparsity: null, seed: d.seed, config: { ...d.config, model: withDropout(p.model.model, p.dropout) } });
  for (const sp of p.sparsities) {
    for (const d of dense) {
      out.push({
        arm: OVERFIT_ARMS.post, sparsity: sp, seed: d.seed,
        config: mergeConfigs(d.config, { prune: { method: 'magnitude-at-epoch', sparsity: sp, dissipation: { epochs: p.epochs, scope: 'global' } }, extra: { epochs: p.fineTuneEpochs, lr: p.fineTuneLr } }),
      });
    }
  }
  return out;
}

export interface OverfitRow {
  [k: string]: unknown;
  arm: string;
  /** Target sparsity; 0 for the dense arms. */
  sparsity: number;
  seed: number;
  /** Eval-mode accuracies at the end of training (null when diverged or failed). */
  testAcc: number | null;
  trainAcc: number | null;
  /** trainAcc − testAcc. */
  gap: number | null;
  density: number | null;
  outcome: 'ok' | 'diverged' | 'error';
  error: string | null;
  /** Test accuracy per epoch of the E epochs (plateau gate); [] when failed. */
  history: number[];
}

/** One row per run (the post-training arm gives two: after and before its fine-tune). */
export function rows(js: readonly OverfitJob[], records: ReadonlyArray<SweepRecord<EarlyPruningResult>>): OverfitRow[] {
  if (js.length !== records.length) throw new Error(`overfitting.rows: ${js.length} jobs but ${records.length} records; pass runSweep's output for jobs(plan).`);
  const row = (j: OverfitJob, arm: string, r: { test: number; train: number | undefined } | null, density: number | null, outcome: OverfitRow['outcome'], error: string | null): OverfitRow => {
    const ok = outcome === 'ok' && r !== null && r.train !== undefined;
    return {
      arm, sparsity: j.sparsity ?? 0, seed: j.seed, testAcc: ok ? r!.test : null, trainAcc: ok ? r!.train! : null,
      gap: ok ? r!.train! - r!.test : null, density, outcome, error, history: [],
    };
  };
  return js.flatMap((j, i) => {
    const rec = records[i];
    if (rec.status === 'error') return [row(j, j.arm, null, null, 'error', rec.error.message)];
    const r = rec.result;
    const main = { test: r.finalTestAcc, train: r.trainEval?.acc };
    const history = r.diagnostics.history.map((e) => e.testAcc).filter((a): a is number => a !== null && Number.isFinite(a));
    const withHistory = (x: OverfitRow): OverfitRow => ({ ...x, history });
    if (j.arm !== OVERFIT_ARMS.post) return [withHistory(row(j, j.arm, main, r.density, r.outcome, null))];
    const ft = r.extra ? { test: r.extra.testAcc, train: r.extra.trainEval?.acc } : null;
    // the fine-tune phase is not evaluated per epoch: the post arm's history is its dense phase (not plateau-gated)
    return [withHistory(row(j, OVERFIT_ARMS.post, ft, r.density, ft ? r.outcome : 'diverged', null)), withHistory(row(j, OVERFIT_ARMS.postNoFt, main, r.density, r.outcome, null))];
  });
}

export interface OverfitRun { plan: OverfitPlan; jobs: OverfitJob[]; rows: OverfitRow[]; computed: number; cached: number; seconds: number }

/** Every engine config of notebook 04's overfitting study at a budget (needs.ts): runStudy's jobs, many shared with the K-starts study. */
export function sweepNeeds(budget: Budget, seeds: number[]): StudyNeeds {
  return { configs: needsOf('sweep', 'overfitting (pai-handles-overfitting)', EARLY_PRUNING_TASK, jobs(plan(budget, seeds)).map((j) => j.config)), deferred: [] };
}

/** Run (or read from data/results/early-pruning/) every config of the plan, in one sweep. */
export async function runStudy(p: OverfitPlan, o: RunStudyOptions = {}): Promise<OverfitRun> {
  const t0 = Date.now();
  const js = jobs(p);
  const records = await sweepEarlyPruning(js.map((j) => j.config), 'overfitting runs', o);
  const keys = new Map(records.map((r) => [r.key, r.status]));
  return {
    plan: p, jobs: js, rows: rows(js, records), seconds: (Date.now() - t0) / 1000,
    computed: [...keys.values()].filter((s) => s === 'computed').length, cached: [...keys.values()].filter((s) => s === 'cached').length,
  };
}

// ---------------------------------------------------------------------------------------------
// Statistics, verdict

type Metric = 'testAcc' | 'trainAcc' | 'gap';

/** Values of `metric` of `arm` at sparsity p over seeds (dense arms: every seed, whatever p); diverged runs left out. */
export function values(rs: readonly OverfitRow[], arm: string, p: number, metric: Metric): number[] {
  const dense = DENSE_ARMS.includes(arm);
  return rs.filter((r) => r.arm === arm && (dense || Math.abs(r.sparsity - p) < 1e-12)).map((r) => r[metric]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}

function seedMean(xs: number[]): MeanSd | null { return xs.length ? meanSd(xs) : null; }

function diverged(rs: readonly OverfitRow[], arm: string, p?: number): { diverged: number; runs: number } {
  const sel = rs.filter((r) => r.arm === arm && (p === undefined || DENSE_ARMS.includes(arm) || Math.abs(r.sparsity - p) < 1e-12) && r.outcome !== 'error');
  return { diverged: sel.filter((r) => r.outcome === 'diverged').length, runs: sel.length };
}

/** The claim's id; its statement and source are in notebook 04, where a reader reads them. */
export const CLAIM = { id: 'pai-handles-overfitting' } as const;

/** The claim's verdict with its id and how many checks passed, and what its gates need. */
export interface OverfitVerdict extends ClaimVerdict, VerdictTally {
  id: typeof CLAIM.id;
  /**
   * What training gates need (claims.ts gates): the dense reference's per-seed test accuracies,
   * every arm's diverged counts, and whether the dense net overfits at all (gap beyond 2 SE of 0).
   */
  gateInputs: { denseTestAcc: number[]; diverged: Record<string, { diverged: number; runs: number }>; denseOverfits: boolean };
  /** The gates the verdict rests on (overfitGates). */
  gates: Gates;
}

const pct = (m: MeanSd | null) => (m ? `${formatMeanSd({ mean: 100 * m.mean, sd: 100 * m.sd, n: m.n }, undefined, 2)} %` : 'n/a');
const pp = (x: number) => `${(100 * x).toFixed(2)} pp`;
const pctOf = (x: number) => `${(100 * x).toFixed(2)} %`;

/**
 * The claim's checks (see the module comment): per sparsity, at-init arm and reference, "gap not
 * larger beyond noise" and "test error not larger beyond noise"; z standard errors (default 2).
 * Comparisons where an arm has no finite run are skipped and listed in the numbers.
 */
export function verdictOverfitting(rs: readonly OverfitRow[], o: { z?: number; gates: Gates }): OverfitVerdict {
  if (!o || o.gates === undefined) throw new Error('verdictOverfitting: give { gates } (overfitGates(rows, plan)).');
  const z = o.z ?? 2;
  const checks: Check[] = [];
  const numbers: Record<string, string | number> = {};
  const sparsities = [...new Set(rs.filter((r) => AT_INIT_ARMS.includes(r.arm)).map((r) => r.sparsity))].sort((a, b) => a - b);
  const denseGap = seedMean(values(rs, OVERFIT_ARMS.dense, 0, 'gap'));
  for (const arm of DENSE_ARMS) {
    numbers[`${arm}: test accuracy`] = pct(seedMean(values(rs, arm, 0, 'testAcc')));
    numbers[`${arm}: train − test gap`] = pct(seedMean(values(rs, arm, 0, 'gap')));
  }
  const skipped: string[] = [];
  for (const p of sparsities) {
    for (const arm of [...REFERENCE_ARMS.filter((a) => !DENSE_ARMS.includes(a)), OVERFIT_ARMS.postNoFt, ...AT_INIT_ARMS]) {
      numbers[`p=${p}, ${arm}: test accuracy / gap`] = `${pct(seedMean(values(rs, arm, p, 'testAcc')))} / ${pct(seedMean(values(rs, arm, p, 'gap')))}`;
    }
    for (const a of AT_INIT_ARMS) for (const ref of REFERENCE_ARMS) {
      const ga = seedMean(values(rs, a, p, 'gap')), gr = seedMean(values(rs, ref, p, 'gap'));
      const ea = seedMean(values(rs, a, p, 'testAcc').map((v) => 1 - v)), er = seedMean(values(rs, ref, p, 'testAcc').map((v) => 1 - v));
      if (!ga || !gr || !ea || !er) { skipped.push(`p=${p} ${a} vs ${ref}`); continue; }
      const g = lowerBeyondNoise(gr, ga, z);
      checks.push({ label: `p=${p}: ${a} gap ${pp(ga.mean)} not above ${ref} ${pp(gr.mean)} beyond ${z} SE (diff ${pp(g.diff)}, ${z} SE ${pp(g.margin)})`, passed: !g.passed });
      const e = lowerBeyondNoise(er, ea, z);
      checks.push({ label: `p=${p}: ${a} test accuracy ${pctOf(1 - ea.mean)} not below ${ref} ${pctOf(1 - er.mean)} beyond ${z} SE (diff ${pp(e.diff)}, ${z} SE ${pp(e.margin)})`, passed: !e.passed });
    }
  }
  if (skipped.length) numbers['comparisons skipped (no finished run)'] = skipped.join('; ');
  const div: Record<string, { diverged: number; runs: number }> = {};
  for (const arm of Object.values(OVERFIT_ARMS)) {
    const d = diverged(rs, arm);
    if (d.runs) div[arm] = d;
    if (d.diverged) numbers[`${arm}: diverged runs (left out)`] = `${d.diverged}/${d.runs}`;
  }
  const denseOverfits = !!denseGap && denseGap.mean > z * (Number.isFinite(denseGap.sd) ? standardError(denseGap) : 0);
  const gateInputs = { denseTestAcc: values(rs, OVERFIT_ARMS.dense, 0, 'testAcc'), diverged: div, denseOverfits };
  const why = `Per sparsity, each at-init arm (${AT_INIT_ARMS.join(', ')}) against each reading of "post-training dropout" (${REFERENCE_ARMS.join('; ')}): ` +
    `its train − test gap must not exceed, and its test accuracy must not fall below, the reference's by more than ${z} standard errors of the difference of the means over seeds (eval-mode accuracies, diverged runs left out). ` +
    (denseOverfits ? `The dense net overfits here (gap ${pct(denseGap)}).` : `The dense net does not overfit measurably here (gap ${pct(denseGap)}), so these checks cannot show overfitting being handled.`);
  return finish(checks, numbers, why, gateInputs, o.gates);
}

/** The one place a verdict is formed from the checks (training gates apply here). */
function finish(checks: Check[], numbers: Record<string, string | number>, why: string, gateInputs: OverfitVerdict['gateInputs'], gates: Gates): OverfitVerdict {
  if (checks.length === 0) {
    const verdict = gateStatus(gates) === 'failed' ? 'inconclusive' : 'not reproduced';
    return { ...CLAIM, checks, verdict, passed: 0, total: 0, summary: 'nothing to compare', numbers: { ...numbers, 'checks passed': '0/0 (nothing to compare)' }, rationale: `Not tested: no at-init arm and reference both finished. This is a failure of the run, not evidence against the claim.`, gateInputs, gates };
  }
  const v = gatedVerdict(checks, gates);
  return { ...CLAIM, ...v, checks, numbers: { ...numbers, 'checks passed': `${v.passed}/${v.total}` }, rationale: `${why} ${v.summary}`, gateInputs, gates };
}

/** The arms whose training the comparison rests on (plateau and divergence gates). */
const COMPARED_ARMS: readonly string[] = [OVERFIT_ARMS.dropout, OVERFIT_ARMS.post, ...AT_INIT_ARMS];

/** Notebook 04's gate settings for this plan's recipe. */
export function gateSettings(p: OverfitPlan): KsGateSettings {
  return ksGateSettings(ksPlanOf(p));
}

/**
 * The claim's gates (module comment): the dense gate (notebook 04's rule, on this study's dense and
 * converged rows), the plateau gate over dense + dropout and the at-init arms per sparsity (the post
 * arm's fine-tune has no per-epoch history), and the divergence gate over every compared arm.
 */
export function overfitGates(rs: readonly OverfitRow[], p: OverfitPlan): Gate[] {
  const s = gateSettings(p);
  const gateRows = rs.filter((r) => r.arm === OVERFIT_ARMS.dense || r.arm === OVERFIT_ARMS.converged).map((r) => ({
    model: p.model.label, dataset: p.dataset.label, sparsity: r.sparsity, arm: r.arm, acc: r.outcome === 'ok' ? r.testAcc : null, outcome: r.outcome, error: r.error, history: r.history,
  }));
  const dense = ksDenseGates(gateRows, s);
  const gates: Gate[] = dense.length ? dense : [{ kind: 'dense-converged', label: `dense ${p.model.label}, ${p.dataset.label}, ${s.recipe}`, passed: false, detail: 'no dense runs in the table' }];
  const hist: Record<string, number[][]> = {};
  const div: Record<string, { diverged: number; runs: number }> = {};
  for (const r of rs.filter((x) => COMPARED_ARMS.includes(x.arm) && x.outcome !== 'error')) {
    const name = DENSE_ARMS.includes(r.arm) ? r.arm : `${r.arm}, p=${r.sparsity}`;
    const d = (div[name] ??= { diverged: 0, runs: 0 });
    d.runs++;
    if (r.outcome === 'diverged') { d.diverged++; continue; }
    if (r.arm !== OVERFIT_ARMS.post && r.history.length) (hist[name] ??= []).push(r.history);
  }
  if (Object.keys(hist).length) gates.push(plateauGate(`dense + dropout and the at-init arms, ${s.recipe}`, hist, s.maxFinalEpochGain));
  if (Object.keys(div).length) gates.push(divergenceGate(`compared arms, ${s.recipe}`, div, s.maxDivergedFraction));
  return gates;
}

// ---------------------------------------------------------------------------------------------
// Table, figure, setting

const ALL_ARMS: readonly string[] = [OVERFIT_ARMS.dense, OVERFIT_ARMS.dropout, OVERFIT_ARMS.post, OVERFIT_ARMS.postNoFt, ...AT_INIT_ARMS];

/** Mean ± sd over seeds of train accuracy, test accuracy and gap, per arm and sparsity. */
export function gapTable(rs: readonly OverfitRow[]): Array<Record<string, unknown>> {
  const sparsities = [...new Set(rs.filter((r) => !DENSE_ARMS.includes(r.arm)).map((r) => r.sparsity))].sort((a, b) => a - b);
  const out: Array<Record<string, unknown>> = [];
  const add = (arm: string, p: number, label: string) => {
    const t = values(rs, arm, p, 'testAcc');
    if (!t.length) return;
    const d = diverged(rs, arm, p);
    out.push({ arm, p: label, 'train acc': meanSd(values(rs, arm, p, 'trainAcc')), 'test acc': meanSd(t), 'train − test gap': meanSd(values(rs, arm, p, 'gap')), runs: d.runs, diverged: d.diverged });
  };
  for (const arm of DENSE_ARMS) add(arm, 0, 'dense');
  for (const p of sparsities) for (const arm of ALL_ARMS.filter((a) => !DENSE_ARMS.includes(a))) add(arm, p, String(p));
  return out;
}

/** Train − test gap and test accuracy per arm (bars) at each sparsity; dense arms repeated at every p. */
export function gapFigure(rs: readonly OverfitRow[]): FigureSpec {
  const sparsities = [...new Set(rs.filter((r) => !DENSE_ARMS.includes(r.arm)).map((r) => r.sparsity))].sort((a, b) => a - b);
  const panel = (metric: 'gap' | 'testAcc', title: string) => barFigure(ALL_ARMS.map((arm) => {
    const st = sparsities.map((p) => seedMean(values(rs, arm, p, metric)));
    const ok = sparsities.map((p, i) => ({ p, s: st[i] })).filter((x) => x.s);
    return { name: arm, x: ok.map((x) => `p=${x.p}`), y: ok.map((x) => x.s!.mean), error: ok.map((x) => (Number.isFinite(x.s!.sd) ? x.s!.sd : NaN)) };
  }).filter((s) => s.x.length > 0), { title, y: { title } });
  return subplots([panel('gap', 'train − test accuracy gap'), panel('testAcc', 'test accuracy')], { columns: 2, title: 'Overfitting: pruned at init vs dense + dropout vs post-training pruning (mean ± sd)', height: 480, width: 1200 });
}

/** The setting line for recordClaim. */
export function settingText(p: OverfitPlan): string {
  return `${p.model.label} on ${p.dataset.label}; p ∈ {${p.sparsities.join(', ')}}; E = ${p.epochs} epochs SGD (lr ${p.train.lr}, momentum ${p.train.momentum}, batch ${p.train.batchSize}) for every arm; ` +
    `dense + dropout: rate ${p.dropout} after every hidden activation; post-training: global |w| one-shot after E epochs, fine-tuned ${p.fineTuneEpochs} epoch(s) at lr ${p.fineTuneLr}; ` +
    `K-starts k = ${p.primary.k} (E_s = ${p.primary.selectionEpochs}, ${p.primary.fitness}), dissipating E_d = ${p.primary.dissipationEpochs}; accuracies in eval mode; ` +
    `dense gate vs ${p.gate.convergedEpochs} epochs (margin ${100 * p.gate.margin} points), plateau ≤ ${100 * p.gate.maxFinalEpochGain} point; budget ${p.budget}, seeds ${p.seeds.join(', ')}.`;
}
