/**
 * Stores of a task whose name or config shape changed. A task may declare
 * `legacy: { name, migrate }` (its earlier name and a map from that name's configs to today's).
 * Opening today's store adopts the legacy store beside it (`<root>/<legacy name>/`): each record is
 * re-keyed under today's canonical config, written atomically, and only then is the old file removed,
 * so an interrupted migration resumes where it stopped and loses nothing. A bundle's legacy records
 * are migrated the same way on import (cluster/bundle.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import { canonicalize, PlainObject } from './canonical';
import { ResultStore, RunRecord, StoreOptions } from './store';
import { recordKey, registeredTasks, TaskSpec } from './task';

const parseConfig: typeof import('../config/schema').parseConfig = (...a) => (require('../config/schema') as typeof import('../config/schema')).parseConfig(...a);

/** Where a migrated record came from (kept in the record, for provenance). */
export interface MigratedFrom { task: string; key: string; canonical: string }

/** The registered task that `name` was the earlier name of, if any. */
export function taskForLegacyName(name: string): TaskSpec | undefined {
  return registeredTasks().find((t) => t.legacy?.name === name);
}

/** `rec` (a record of `task.legacy.name`) as a record of `task`: migrated config, its canonical form and key; data, result and meta kept. */
export function migrateRecord(task: TaskSpec, rec: RunRecord): RunRecord & { migratedFrom: MigratedFrom } {
  if (!task.legacy) throw new Error(`Task '${task.name}' declares no legacy name to migrate from.`);
  let config: PlainObject;
  try {
    config = task.legacy.migrate(rec.config);
    if (task.schema) config = parseConfig(task.schema, config, `migrated config of '${rec.task}' record ${rec.key}`, 'config') as PlainObject;
  } catch (e) {
    throw new Error(`Cannot migrate '${rec.task}' record ${rec.key} to task '${task.name}': ${(e as Error).message}`);
  }
  const canonical = canonicalize(config, task.defaults);
  return {
    ...rec, key: recordKey(canonical, rec.data), task: task.name, canonical, config,
    migratedFrom: { task: rec.task, key: rec.key, canonical: rec.canonical },
  };
}

const adopted = new Set<string>();

export interface AdoptReport { from: string; moved: number; alreadyThere: number; failed: Array<{ key: string; message: string }> }

/**
 * Move the records of the legacy store beside `store` (when `store.dir` is `<root>/<task name>` of a
 * task with a legacy name) into it. Records that cannot be migrated, and corrupt files, stay where
 * they are; the legacy folder is removed once empty. Returns null when there is nothing to adopt.
 */
export function adoptLegacyStore(store: ResultStore, onProblem?: StoreOptions['onProblem']): AdoptReport | null {
  const name = path.basename(store.dir);
  const task = registeredTasks().find((t) => t.name === name && t.legacy);
  if (!task) return null;
  const legacyDir = path.join(path.dirname(store.dir), task.legacy!.name);
  // once per folder and process: what could not be migrated stays, and is reported once, not on every open
  if (adopted.has(legacyDir) || !fs.existsSync(legacyDir)) return null;
  adopted.add(legacyDir);
  const old = new ResultStore({ dir: legacyDir, onProblem }); // not openStore: a legacy folder adopts nothing itself
  old.removeStaleTemps();
  const report: AdoptReport = { from: legacyDir, moved: 0, alreadyThere: 0, failed: [] };
  for (const key of old.keys()) {
    const rec = old.get(key);
    if (!rec) continue; // corrupt: reported by the store, left in place
    let m;
    try { m = migrateRecord(task, rec); } catch (e) { report.failed.push({ key, message: (e as Error).message }); continue; }
    const had = store.get(m.key);
    store.put(m.key, m); // atomic; never overwrites a record already there
    try { fs.unlinkSync(old.file(key)); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; }
    if (had) report.alreadyThere++; else report.moved++;
  }
  try { fs.rmdirSync(legacyDir); } catch { /* not empty: records that could not be migrated stay */ }
  if (report.moved + report.alreadyThere + report.failed.length > 0) {
    process.stderr.write(`prune-at-init store: migrated ${report.moved} record(s) of task '${task.legacy!.name}' to '${task.name}' (${store.dir})` +
      `${report.alreadyThere ? `, ${report.alreadyThere} already there` : ''}${report.failed.length ? `; ${report.failed.length} could not be migrated and stay in ${legacyDir} (first: ${report.failed[0].message})` : ''}.\n`);
  }
  return report;
}
