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
export type { CandidateReport, CandidateState, HaroonSetup, KStartsFitness, KStartsOptions, KStartsReport, KStartsResult } from './kstarts';
export { combineKStartsDissipating, haroonIntermediateSparsity } from './combined';
export type { HaroonCombinedOptions, HaroonCombinedResult } from './combined';
export { haroonMagnitudeMask, haroonRandomMask, haroonSnipMask } from './baselines';
export { HAROON_DEFAULTS, HAROON_METHODS, runHaroon } from './run';
export type { HaroonConfig, HaroonMethod, HaroonResult } from './run';
