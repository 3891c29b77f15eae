/**
 * The engine task of the K-starts / dissipating-gradients study (kstarts-dissipating.ts): runHaroon
 * registered as task 'haroon'. Worker processes load this module only, so it stays a leaf.
 */
import '../prune'; // registers every score method (SNIP among them) in the sweep's worker processes too
import { registerTask, PlainObject } from '../engine';
import { HAROON_DEFAULTS, HaroonConfig, HaroonResult, runHaroon } from '../haroon/run';
import { HAROON_SCHEMA } from '../config/tasks';

/** The task function: runHaroon, loaded through this module so that SNIP is registered in the worker. */
export function runHaroonTask(config: HaroonConfig): Promise<HaroonResult> {
  return runHaroon(config);
}

/** runHaroon as an engine task: results cached in data/results/haroon/<key>.json. */
export const HAROON_TASK = registerTask({
  name: 'haroon',
  module: require.resolve('./kstarts-task'),
  export: 'runHaroonTask',
  defaults: HAROON_DEFAULTS as unknown as PlainObject,
  schema: HAROON_SCHEMA,
  dataFields: ['dataset'],
});
