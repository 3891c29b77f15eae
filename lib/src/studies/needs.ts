/**
 * What a notebook computes, as engine configs: each study module's `sweepNeeds(budget, seeds, lookup)`
 * lists every config its notebook's cells run at a budget, built by the same job functions its run
 * functions sweep (so `sweep plan`, cluster/notebooks.ts, plans exactly the keys the notebook looks up).
 *
 * A stage that needs earlier results (notebook 01 trains at the critical sparsities its init analyses
 * measured; notebook 03 prunes the bases it trained first) is listed only when every record it
 * depends on is in the store; otherwise it is `deferred`, with stand-in configs of the same cost
 * where the study can give them (for the cost estimate only, never run).
 */
import { describeConfig, PlainObject, RunRecord, TaskSpec } from '../engine';
import { longRunsAt, stagedLongRuns } from '../notebook/gate';
import type { ChanceBand, RunAcc } from '../notebook/gate';
import type { Budget } from '../notebook/params';

export interface ConfigNeed {
  /** Wave of the study: configs of one stage never depend on each other. */
  stage: string;
  /** Section of the study (and so the claims) the config serves. */
  part: string;
  task: TaskSpec;
  config: PlainObject;
}

export interface DeferredNeed { stage: string; reason: string; standIn?: ConfigNeed[] }

export interface StudyNeeds { configs: ConfigNeed[]; deferred: DeferredNeed[] }

/** Reads records of earlier stages from the results store (nothing is computed). */
export interface RecordLookup { get<R>(task: TaskSpec, config: PlainObject): RunRecord<R> | undefined }

/** Configs of one stage and part of a study. */
export function needsOf(stage: string, part: string, task: TaskSpec, configs: readonly object[]): ConfigNeed[] {
  return configs.map((config) => ({ stage, part, task, config: config as PlainObject }));
}

/** Records of `configs` (in order), and how many distinct configs have none yet. */
export function lookupAll<R>(lookup: RecordLookup, task: TaskSpec, configs: readonly object[]): { records: RunRecord<R>[]; missing: number } {
  const records: RunRecord<R>[] = [];
  const missing = new Set<string>();
  for (const c of configs) {
    const r = lookup.get<R>(task, c as PlainObject);
    if (r) records.push(r); else missing.add(describeConfig(task, c as PlainObject).key);
  }
  return { records, missing: missing.size };
}

/** Why a stage waits for `n` records of `what`. */
export const waitFor = (n: number, what: string): string => `needs the ${n} ${what} record(s) not yet in the store: run this wave, then \`sweep plan\` again`;

/**
 * A stage planned from the records of earlier `configs` (in order, one record per config): `plan`'s
 * needs once every record is stored; until then the stage is deferred (`why`: what it does; `what`:
 * the records it waits for). Used for the long runs of arms at chance (notebook/gate.ts
 * chanceLongRun), which only the budget runs' accuracies decide.
 */
export function afterRecords<R>(lookup: RecordLookup, task: TaskSpec, configs: readonly object[], stage: string, why: string, what: string,
  plan: (records: RunRecord<R>[]) => ConfigNeed[] | StudyNeeds): StudyNeeds {
  const got = lookupAll<R>(lookup, task, configs);
  if (got.missing) return { configs: [], deferred: [{ stage, reason: `${why}: ${waitFor(got.missing, what)}` }] };
  const planned = plan(got.records);
  return Array.isArray(planned) ? { configs: planned, deferred: [] } : planned;
}

/**
 * The needs of a long-run stage in its two steps (notebook/gate.ts stagedLongRuns): `arms` holds the
 * long-run configs of each arm at chance, first run first. Each arm's first long run is listed; the
 * others only once that run is stored and left chance (until then the rest waits, deferred).
 */
export function stagedLongRunNeeds<R extends { finalTestAcc: number; outcome: string }>(lookup: RecordLookup, task: TaskSpec, arms: ReadonlyArray<readonly object[]>,
  stage: string, part: string, o: ChanceBand): StudyNeeds {
  const outcome = (c: object): RunAcc | undefined => {
    const r = lookup.get<R>(task, c as PlainObject);
    return r ? { acc: r.result.finalTestAcc, outcome: r.result.outcome } : undefined;
  };
  const s = stagedLongRuns(arms, outcome, o);
  return {
    configs: needsOf(stage, part, task, s.jobs),
    deferred: s.waiting ? [{ stage: `${stage} (rest)`, reason: `the other runs of ${s.waiting} arm(s) are re-trained only if their first long run leaves chance: ${waitFor(s.waiting, 'first long-run')}` }] : [],
  };
}

/** The long-run stage of a study (afterRecords' arguments after `budget`); none at a budget that skips long runs (notebook/gate.ts longRunsAt). */
export function longRunNeeds<R>(budget: Budget, ...a: Parameters<typeof afterRecords<R>>): StudyNeeds {
  return longRunsAt(budget) ? afterRecords<R>(...a) : { configs: [], deferred: [] };
}

/** Several studies of one notebook as one list. */
export function joinNeeds(...xs: StudyNeeds[]): StudyNeeds {
  return { configs: xs.flatMap((x) => x.configs), deferred: xs.flatMap((x) => x.deferred) };
}
