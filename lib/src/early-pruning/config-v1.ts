/**
 * The first early-pruning config shape (task 'haroon', until 2026-12): 40 flat keys, "all data"
 * spelled null. migrateV1Config maps one to today's nested config (config/tasks.ts
 * EARLY_PRUNING_SCHEMA), key by key, so stored results keep serving the same runs under new cache
 * keys (engine/migrate.ts re-keys the records).
 */
import type { PlainObject } from '../engine/canonical';
import { isPlainObject } from '../engine/canonical';

/** The v1 task name (its results folder: data/results/haroon/). */
export const V1_TASK_NAME = 'haroon';

/** v1 key -> path in today's config. */
const MOVES: Record<string, string> = {
  method: 'prune.method', sparsity: 'prune.sparsity', scoreScope: 'prune.scope', maskScope: 'prune.randomScope', snipOptions: 'prune.options',
  k: 'prune.kstarts.k', selectionEpochs: 'prune.kstarts.selectionEpochs', fitness: 'prune.kstarts.fitness', direction: 'prune.kstarts.direction',
  normalize: 'prune.kstarts.normalize', pick: 'prune.kstarts.pick', init: 'prune.kstarts.init', afterSelection: 'prune.kstarts.afterSelection',
  evaluateAllCandidates: 'prune.kstarts.evaluateAllCandidates',
  dissipationEpochs: 'prune.dissipation.epochs', schedule: 'prune.dissipation.schedule', rule: 'prune.dissipation.rule',
  dissipationScore: 'prune.dissipation.score', dissipationScope: 'prune.dissipation.scope', alpha: 'prune.dissipation.alpha',
  maxEpochs: 'prune.dissipation.maxEpochs', epsScale: 'prune.dissipation.epsScale',
  combination: 'prune.combined.variant', p1: 'prune.combined.p1',
  model: 'model', dataset: 'data.name', epochs: 'train.epochs', seed: 'seed',
  initSeed: 'seeds.init', maskSeed: 'seeds.mask', dataSeed: 'seeds.data',
  extraEpochs: 'extra.epochs', extraMode: 'extra.mode', extraLr: 'extra.lr',
  evalEveryEpoch: 'eval.everyEpoch', evalTrainSplit: 'eval.trainSplit', maskPath: 'maskPath',
};
/** Keys handled on their own: the limits (null -> 0), the subset seed (always 0), the recipe. */
const SPECIAL = ['trainLimit', 'testLimit', 'subsetSeed', 'train'];

/** True for a config in the v1 shape: a v1-only key at the top (an empty config reads the same in both). */
export function isV1Config(c: PlainObject): boolean {
  return Object.keys(c).some((k) => (k in MOVES && !['model', 'seed', 'maskPath'].includes(k)) || (SPECIAL.includes(k) && k !== 'train'));
}

function put(out: PlainObject, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let o = out;
  for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as PlainObject;
  o[parts[parts.length - 1]] = value;
}

/** Today's config for a v1 config (full or partial); throws on what v1 never allowed or today cannot express. */
export function migrateV1Config(c: PlainObject): PlainObject {
  const out: PlainObject = {};
  for (const [k, v] of Object.entries(c)) {
    if (v === undefined) continue;
    if (k in MOVES) { put(out, MOVES[k], v); continue; }
    if (k === 'trainLimit' || k === 'testLimit') { put(out, `data.${k}`, v ?? 0); continue; }
    if (k === 'subsetSeed') {
      if (v !== 0) throw new Error(`migrateV1Config: subsetSeed ${JSON.stringify(v)} has no counterpart (data subsets are drawn with seed 0); this record cannot be migrated.`);
      continue;
    }
    if (k === 'train') {
      if (!isPlainObject(v)) throw new Error(`migrateV1Config: train must be an object, got ${JSON.stringify(v)}.`);
      const { epochs, ...recipe } = v;
      if (epochs !== undefined && c.epochs !== undefined && epochs !== c.epochs) {
        throw new Error(`migrateV1Config: train.epochs (${String(epochs)}) differs from epochs (${String(c.epochs)}).`);
      }
      for (const [rk, rv] of Object.entries(recipe)) put(out, `train.${rk}`, rv);
      if (epochs !== undefined) put(out, 'train.epochs', epochs);
      continue;
    }
    throw new Error(`migrateV1Config: unknown v1 key '${k}'.`);
  }
  return out;
}
