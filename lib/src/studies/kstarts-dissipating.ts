/**
 * Study: K-starts and dissipating gradients (Haroon, "What to Prune and What Not to Prune at
 * Initialization", arXiv 2209.02201) — the logic behind notebooks/04-kstarts-dissipating.ipynb.
 *
 * Only the paper's abstract is available, so every constant here is the project's choice, fixed
 * before any result was seen and exposed in the plan: k, E_s (selection epochs), the fitness, E_d
 * (dissipation epochs), the dissipation rule and threshold, the combination order, the training
 * recipe, the data subsets. plan(budget) fixes them; jobs() turns the plan into engine configs of the
 * 'early-pruning' task (runEarlyPruning, cached by config hash, run in worker processes); rows() makes one tidy
 * table (one row per run and seed, plus K-starts picks derived from runs that train every
 * candidate); the verdict functions compute each claim's checks from that table, with the numbers
 * they rest on; the figure and table builders keep the notebook thin.
 *
 * Definitions (stated in the notebook):
 *  - accuracy = final-epoch test accuracy (never the best epoch); mean ± sd over seeds;
 *  - "compute-matched random": a random p-sparse mask fixed at init, trained for as many passes over
 *    the training set as the primary K-starts (and the combination) used in total, selection
 *    included: E + (k - 1) E_s passes (the LR schedule stretches with it). Dissipating gradients
 *    uses E passes (its pruning epochs are part of its E), so its compute-matched baseline is the
 *    plain random baseline. Passes are counted, not FLOPs (masked layers cost the same here);
 *  - "random pick among the k": the expected final accuracy of a uniformly random pick among the
 *    same k candidates, i.e. their mean final accuracy (exact; no pick noise);
 *  - K-starts at every k <= kMax and every fitness are read off one run per (dataset, p, seed) that
 *    trains all kMax candidates to the end: candidate i's mask, init and data order do not depend
 *    on k, so the first k candidates are exactly the candidates of a k-start run. consistency()
 *    checks this against direct runs.
 *
 * The study lives in modules named for what they do; this entry module re-exports them:
 * kstarts-task.ts (the engine task), kstarts-plan.ts (plan, arms, recipe), kstarts-jobs.ts (jobs,
 * sweepNeeds, runStudy, runLongRuns), kstarts-rows.ts (the tidy table, derived picks),
 * kstarts-stats.ts (statistics on it), kstarts-verdicts.ts (the claims), kstarts-tables.ts and
 * kstarts-figures.ts (what the notebook shows), kstarts-gates.ts (the gates).
 */
export { runEarlyPruningTask, EARLY_PRUNING_TASK } from './kstarts-task';
export { FITNESSES, LENET, SMALL_CNN, ARMS, ksArm, ksRandomPickArm, ksOracleArm, MAIN_ARMS, SINGLE_ARMS, KSD_RECIPE_NOTE, plan, gateSettings } from './kstarts-plan';
export type { Fitness, DataChoice, ModelChoice, Primary, Variant, Plan } from './kstarts-plan';
export { jobs, sweepNeeds, runStudy, runLongRuns } from './kstarts-jobs';
export type { Family, Job, StudyRun, RunStudyOptions } from './kstarts-jobs';
export { deriveKStartsPick, rows } from './kstarts-rows';
export type { Row, CandidateLike, DerivedPick } from './kstarts-rows';
export { cellsOf, cellLabel, values, stat, paired, signed } from './kstarts-stats';
export type { Cell, Paired } from './kstarts-stats';
export { verdictSettings, verdictKStarts, verdictDissipating, verdictCombination, verdictNoRetraining, consistency } from './kstarts-verdicts';
export type { VerdictSettings, KsClaimChecks } from './kstarts-verdicts';
export { planTable, accuracyTable, epochsTable, kstartsTable, sensitivityTable, denseReferenceRows, settingText } from './kstarts-tables';
export { accuracyFigure, accuracyVsKFigure, epochsFigure, retrainingFigure, sensitivityFigure } from './kstarts-figures';
export { ksGates, ksScoped, ksDenseGates, CLAIM_ARMS, CONVERGED_ARM, longRunJobs, readRows } from './kstarts-gates';
export type { KsGateSettings } from './kstarts-gates';
