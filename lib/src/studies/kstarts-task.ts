/**
 * The engine task of the K-starts / dissipating-gradients study (kstarts-dissipating.ts): runEarlyPruning
 * registered as task 'haroon'. Worker processes load this module only, so it stays a leaf.
 */
import '../prune'; // registers every score method (SNIP among them) in the sweep's worker processes too
import { registerTask, PlainObject } from '../engine';
import { EARLY_PRUNING_DEFAULTS, EarlyPruningConfig, EarlyPruningResult, runEarlyPruning } from '../early-pruning/run';
import { EARLY_PRUNING_SCHEMA } from '../config/tasks';

/** The task function: runEarlyPruning, loaded through this module so that SNIP is registered in the worker. */
export function runEarlyPruningTask(config: EarlyPruningConfig): Promise<EarlyPruningResult> {
  return runEarlyPruning(config);
}

/** runEarlyPruning as an engine task: results cached in data/results/haroon/<key>.json. */
export const EARLY_PRUNING_TASK = registerTask({
  name: 'haroon',
  module: require.resolve('./kstarts-task'),
  export: 'runEarlyPruningTask',
  defaults: EARLY_PRUNING_DEFAULTS as unknown as PlainObject,
  schema: EARLY_PRUNING_SCHEMA,
  dataFields: ['dataset'],
});
