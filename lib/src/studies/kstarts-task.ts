/**
 * The engine task of the K-starts / dissipating-gradients study (kstarts-dissipating.ts): runEarlyPruning
 * registered as task 'early-pruning'. Worker processes load this module only, so it stays a leaf.
 */
import '../prune'; // registers every score method (SNIP among them) in the sweep's worker processes too
import { registerTask, PlainObject } from '../engine';
import { EARLY_PRUNING_DEFAULTS, EarlyPruningConfig, EarlyPruningResult, runEarlyPruning } from '../early-pruning/run';
import { migrateV1Config, V1_TASK_NAME } from '../early-pruning/config-v1';
import { EARLY_PRUNING_SCHEMA } from '../config/tasks';

/** The task function: runEarlyPruning, loaded through this module so that SNIP is registered in the worker. */
export function runEarlyPruningTask(config: EarlyPruningConfig): Promise<EarlyPruningResult> {
  return runEarlyPruning(config);
}

/**
 * runEarlyPruning as an engine task: results cached in data/results/early-pruning/<key>.json. Records of
 * its first, flat config shape (task 'haroon', data/results/haroon/) are migrated on first use.
 */
export const EARLY_PRUNING_TASK = registerTask({
  name: 'early-pruning',
  module: require.resolve('./kstarts-task'),
  export: 'runEarlyPruningTask',
  defaults: EARLY_PRUNING_DEFAULTS as unknown as PlainObject,
  schema: EARLY_PRUNING_SCHEMA,
  dataFields: ['data.name'],
  legacy: { name: V1_TASK_NAME, migrate: migrateV1Config },
});
