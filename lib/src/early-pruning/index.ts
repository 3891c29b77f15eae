/**
 * Haroon, "What to Prune and What Not to Prune at Initialization" (arXiv 2209.02201): the project's
 * reading of its abstract — K-starts, dissipating gradients, their combination, and baselines.
 * Only the public API is re-exported (helpers stay internal, to keep the package namespace clean).
 */
export { MaskedRun } from './masked-run';
export type { MaskedEpochRecord, EpochOptions as MaskedEpochOptions } from './masked-run';
export { dissipate, dissipationDensitySchedule, DISSIPATING_DEFAULTS } from './dissipating';
export type {
  DissipatingOptions, DissipationEpoch, DissipationPruneEvent, DissipationReport, DissipationRule, DissipationSchedule, DissipationScore,
} from './dissipating';
export { kStarts, KSTARTS_DEFAULTS } from './kstarts';
export type { CandidateReport, CandidateState, EarlyPruningSetup, KStartsFitness, KStartsOptions, KStartsReport, KStartsResult } from './kstarts';
export { combineKStartsDissipating, earlyPruningIntermediateSparsity } from './combined';
export type { EarlyPruningCombinedOptions, EarlyPruningCombinedResult } from './combined';
export { earlyPruningMagnitudeMask, earlyPruningRandomMask, earlyPruningSnipMask } from './baselines';
export { EARLY_PRUNING_DEFAULTS, EARLY_PRUNING_METHODS, runEarlyPruning } from './run';
export { isV1Config, migrateV1Config, V1_TASK_NAME } from './config-v1';
export type { EarlyPruningConfig, EarlyPruningMethod, EarlyPruningResult, FullEarlyPruningConfig } from './run';
