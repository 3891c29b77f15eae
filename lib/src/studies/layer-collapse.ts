/**
 * Study: layer collapse under naive pruning at initialisation (Hayou, Ton, Doucet, Teh, ICLR 2021,
 * "Robust Pruning at Initialization"; notebook 01-layer-collapse). Brief: shared/papers/hayou-robust-pruning.md,
 * experiments E1 (SBP vs phase), E2 (MBP phase-blind, fan-in driven) and the chance-level part of E4.
 *
 * Net: tanh FFNN 784 -> width x (L-1) -> 10, W = sigma_w/sqrt(fan_in) Z with the SAME Z for every
 * sigma_w (models.ts), biases N(0, sigma_b^2). Phase points: sigma_b = 0.2; ordered sigma_w = 1.0,
 * EOC sigma_w from the solver (about 1.304), chaotic sigma_w = 2.0; chi printed for each.
 *
 * Everything the notebook shows comes from this entry module, which re-exports the study's parts:
 * - layer-collapse-plan.ts: phase points, the net, plan(budget) with all settings;
 * - layer-collapse-init.ts: engine task 'layer-collapse-init' (one depth x seed, all phases and
 *   methods): per-layer kept counts at the fixed sparsity, exact critical sparsity per method
 *   (collapsePoint, prune/report.ts: the exact top-k rule of scoresToMask evaluated in one pass),
 *   SNIP zero-score counts, per-layer mean squared score, per-neuron kept fractions (Fig. 1
 *   analogue), and the number of weights whose mask differs from the EOC mask of the same method
 *   (phase-blindness); the tidy critical-sparsity rows read from it;
 * - layer-collapse-mbp.ts: the MBP predictions for the study's FFNN (the laws, in expectation and
 *   exact, with the prediction interval, are in eoc/mbp.ts);
 * - layer-collapse-training.ts: training sweep through the engine task 'prune-train' at sparsities
 *   bracketing the measured critical points, every config of the notebook (sweepNeeds);
 * - layer-collapse-gates.ts: gates of the training claim and the long-run rule of its EOC SNIP arms;
 * - layer-collapse-verdicts.ts: verdict functions that return checks with the numbers they rest on;
 * - layer-collapse-figures.ts: the notebook's figures.
 *
 * Definitions (stated in the notebook):
 * - critical sparsity s_cr: the smallest sparsity at which the global top-k mask empties some layer
 *   (exact to one weight: s_cr = 1 - K/n, K = the largest kept count with an empty layer);
 * - first layer to empty: the layer empty at s_cr;
 * - relative position of a layer: (index - 1)/(L - 1) for layers 1..L (0 = input layer, 1 = output
 *   layer); "input side" < 1/2, "output side" > 1/2.
 */
export * from './layer-collapse-plan';
export * from './layer-collapse-mbp';
export * from './layer-collapse-init';
export * from './layer-collapse-training';
export * from './layer-collapse-verdicts';
export * from './layer-collapse-figures';
export type { ProgressHandle, ProgressFactory } from '../engine';
// The exact critical sparsity of a score set is the library's (prune/report.ts).
export { collapsePoint } from '../prune';
export type { CollapsePoint } from '../prune';
export { trainingGates, longRunArms, eocSnipLongRun, rowsRead } from './layer-collapse-gates';
