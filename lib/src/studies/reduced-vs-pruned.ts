/**
 * Study: reduced versus pruned networks (Crowley, Turner, Storkey, O'Boyle, arXiv 1810.04622).
 *
 * A trained WRN is channel-pruned by prune-and-tune (Fisher and L1, one channel removed globally
 * every N fine-tuning steps); checkpoints give pruned-and-tuned nets at many parameter counts. Those
 * are compared, at matched parameter counts, with smaller nets trained from scratch: reduced nets
 * (lower depth, lower width k, interior "bottleneck" multiplier Z), the pruned architectures
 * re-initialised and trained from scratch, and the copycat family (one pruned net's per-block
 * channel profile scaled to other budgets). Inference latency of physically compressed pruned nets
 * is compared with reduced nets of the same size.
 *
 * Everything the notebook shows comes from here: plan(budget) fixes the settings; two engine tasks
 * ('rvp-train': train one WRN config from scratch; 'rvp-prune': prune-and-tune a trained base for one
 * criterion and seed) are cached by config hash and run in worker processes; runStudy() runs the
 * three sweeps; rows -> summarize -> verdicts compute the four claims from the numbers.
 *
 * Matching rule (stated in the notebook): the matched budgets B are fractions of the base's
 * parameters (plus the parameter count of each lower-depth net). The pruned-and-tuned net at B is
 * the first prune-and-tune checkpoint whose live (compressed) parameter count is <= B; reduced
 * members are the Z (step 1/C3, C3 = last-stage width) or k (step 1/32) whose count is closest to B;
 * copycat members take the multiplier whose count is closest to B. Two groups are compared only if
 * their mean parameter counts differ by at most `matchTolerance` (5 %) of the pruned one.
 *
 * Modules: rvp-plan.ts (settings, recipe, plan), rvp-tasks.ts (the engine tasks and their result
 * types), rvp-jobs.ts (the sweeps' configs, sweepNeeds), rvp-run.ts (runStudy, results rows),
 * rvp-summary.ts (mean ± sd per group), rvp-claims.ts (verdicts), rvp-timing.ts (inference timing),
 * rvp-report.ts (figures and tables), rvp-gates.ts (gates), rvp-sparse-timing.ts (unstructured arm).
 * This module re-exports what notebooks, scripts and other modules use.
 */
export { RVP_RECIPE_NOTE, PRUNE_STEPS_NOTE, rvpModelConfig, chooseReduced, plan } from './rvp-plan';
export type { Criterion, RvpRecipe, RvpPruneSettings, RvpModel, RvpMember, RvpPlan, PlanOptions } from './rvp-plan';

export { RVP_TRAIN_DEFAULTS, RVP_PRUNE_DEFAULTS, buildTrainNet, runRvpTrain, RVP_TRAIN_TASK, baseTrainConfig, ensureRecord, runRvpPrune, RVP_PRUNE_TASK } from './rvp-tasks';
export type { RvpTrainConfig, RvpTrainResult, RvpPruneConfig, RvpCheckpoint, RvpPruneResult } from './rvp-tasks';

export { stage1Jobs, pruneConfigs, checkpointAt, CRIT_NAME, kShort, stage3Jobs, stagedNeeds, notebookDataset, sweepNeeds } from './rvp-jobs';
export type { RvpFamily, RvpJobMeta, RvpJob } from './rvp-jobs';

export { SERIES_NAMES, seriesName, trainRow, pruneRows, sweep, runStudy, resultsFrame } from './rvp-run';
export type { RvpRow, RvpFailure, RvpRun, RunStudyOptions } from './rvp-run';
export type { ProgressHandle, ProgressFactory } from '../engine';

export { normaliseRows, labelRange, summarize, pruneCurve } from './rvp-summary';
export type { RvpGroup } from './rvp-summary';

export { CLAIMS, gateSettings, verdictReducedBeatsPruned, verdictScratchBeatsTuned, verdictCopycatTracks, verdictReducedFaster, latencyOrders, latencyPowerGate, LATENCY_ALPHA, verdicts } from './rvp-claims';
export type { RvpVerdict, VerdictOptions } from './rvp-claims';

export { timingJobs, timingVariants, runTiming, timeStudyJobs } from './rvp-timing';
export type { RvpTimingRow } from './rvp-timing';

export { stageProfile, errorFigure, flopsFigure, latencyFigure, profileFigure, settingText, choicesRows, denseReferenceRows, summaryRows, timingRows } from './rvp-report';

export { rvpGates, rvpDenseGate, scratchBEpochs, GATED_FAMILIES } from './rvp-gates';
export type { RvpGateSettings } from './rvp-gates';

// Unstructured-sparse timing of the base (notebook 03's third speed arm): rvp-sparse-timing.ts
export { matchedSparsities, runUnstructuredTiming, unstructuredTimingRows } from './rvp-sparse-timing';
