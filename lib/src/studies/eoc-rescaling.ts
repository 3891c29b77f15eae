/**
 * Study behind notebooks/02-eoc-rescaling.ipynb (Hayou et al. 2021, "Robust Pruning at
 * Initialization"): Edge-of-Chaos (EOC) initialisation, the post-pruning rescaling of kept weights,
 * Stable ResNet, and SBP-SR at extreme sparsity. Everything the notebook shows is computed here:
 *
 * - plan(budget, seeds): every grid and training setting, per budget (smoke / quick / paper);
 * - theory: EOC curves, the three phase points with their χ, mean-field maps for an input pair;
 * - signal propagation: per-layer q^l and pair correlation c^l recorded from real forward passes of
 *   dense, SNIP-pruned and pruned+rescaled EOC nets, against the mean-field prediction;
 * - sweeps through the engine task 'prune-train' (cached by config hash, parallel, resumable);
 * - verdicts: pure functions from measured summaries to checks, each check carrying its numbers.
 *
 * Choices stated once here (the paper gives no FFNN training recipe): tanh FFNN of width 100,
 * σ_b = 0.2; arms ordered (σ_w = 1.0), EOC (σ_w from the solver, ≈ 1.3041) and chaotic (σ_w = 2.0);
 * FFNN training = the family's one recipe (ffnn-recipe.ts), the same for every arm and method;
 * final-epoch test accuracy is reported (the authors' code reports the best epoch). Trained claims
 * are gated (fig2Gates, extremeFfnnGates, resnetGates).
 */
// Its modules, each re-exported here (the notebooks' `eocRescaling` namespace): eoc-rescaling-
// constants (leaf: no imports), -plan (arms, recipes, budgets, seeds), -theory (mean field), -signal
// (measurements on real nets), -jobs (tagged 'prune-train' configs, runJobs), -paths (mask path
// statistics), -sweep (sweepParts, sweepNeeds, runAll), -summaries, -verdicts, -gates (trained
// claims), -report (figures, tables, texts), -claims (what each recordClaim gets besides the paper's words).
export * from './eoc-rescaling-constants';
export * from './eoc-rescaling-plan';
export * from './eoc-rescaling-theory';
export * from './eoc-rescaling-signal';
export * from './eoc-rescaling-jobs';
export * from './eoc-rescaling-paths';
export * from './eoc-rescaling-sweep';
export * from './eoc-rescaling-summaries';
export * from './eoc-rescaling-verdicts';
export { fig2Gates, extremeFfnnGates, resnetGates, longRunJobs, runLongRuns, extremeLongRun, extremeRead, NO_LONG_RUNS } from './eoc-rescaling-gates';
export type { LongRuns, Family } from './eoc-rescaling-gates';
export * from './eoc-rescaling-report';
export * from './eoc-rescaling-claims';
