/**
 * Results bundles: result records moved between stores (cluster -> laptop, one machine -> the next,
 * two stores merged) in one file, JSON or gzipped JSON (`.gz`), with a provenance summary: library
 * versions and commits, backend and kernel set, data sources, seeds, per task. Each record keeps its
 * own meta (backend, versions, host, time), so provenance survives the trip record by record.
 *
 * Import never overwrites: a key already stored with the same result is skipped, one stored with a
 * different result is reported as a conflict (both provenances shown) and left as it was. Records
 * whose key does not match the hash of their canonical config are refused. Writes are atomic (the
 * bundle file through a temp file and rename, records through the store's temp file and link).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gunzipSync, gzipSync } from 'zlib';
import { decodeRecord, encodeRecord, isPlainObject, migrateRecord, openStore, PlainObject, recordKey, recordProblem, RunRecord, taskForLegacyName } from '../engine';
import { writeFileAtomic } from '../fsutil';

export const BUNDLE_FORMAT = 'prune-at-init-results-bundle';

export interface Provenance {
  tasks: Record<string, number>;
  libVersions: string[];
  gitCommits: string[];
  node: string[];
  /** Backend name, TF.js version and the extra kernels registered, one entry per distinct set. */
  backends: Array<{ backend: string; tfjsVersion?: string; extraKernels: string[]; records: number }>;
  /** Data the records were computed on, as their configs name it (dataset, train/test subset sizes). */
  dataSources: string[];
  seeds: number[];
  hosts: string[];
}

export interface Bundle {
  format: typeof BUNDLE_FORMAT;
  version: 1;
  createdAt: string;
  createdBy: { host: string; node: string; store: string };
  provenance: Provenance;
  records: RunRecord[];
}

function dataSourceOf(c: PlainObject, meta: PlainObject): string | undefined {
  if (typeof meta.dataSource === 'string') return meta.dataSource;
  const d = isPlainObject(c.data) ? c.data : c;
  const name = d.name ?? d.dataset;
  if (typeof name !== 'string') return undefined;
  const lim = (v: unknown) => (typeof v === 'number' && v > 0 ? String(v) : 'all');
  return `${name} (train ${lim(d.trainLimit)}, test ${lim(d.testLimit)})`;
}

export function provenanceOf(records: readonly RunRecord[]): Provenance {
  const tasks: Record<string, number> = {};
  const set = { lib: new Set<string>(), git: new Set<string>(), node: new Set<string>(), data: new Set<string>(), seeds: new Set<number>(), hosts: new Set<string>() };
  const backends = new Map<string, Provenance['backends'][number]>();
  for (const r of records) {
    tasks[r.task] = (tasks[r.task] ?? 0) + 1;
    const v = r.meta.versions ?? ({} as RunRecord['meta']['versions']);
    if (v.lib) set.lib.add(v.lib);
    if (v.git) set.git.add(v.git);
    if (v.node) set.node.add(v.node);
    if (r.meta.host) set.hosts.add(r.meta.host);
    const ds = dataSourceOf(r.config, r.meta as unknown as PlainObject);
    if (ds) set.data.add(ds);
    if (typeof r.config.seed === 'number') set.seeds.add(r.config.seed);
    const b = (isPlainObject(r.meta.backend) ? r.meta.backend : {}) as { backend?: string; tfjsVersion?: string; extraKernels?: string[] };
    const id = JSON.stringify([b.backend, b.tfjsVersion, b.extraKernels]);
    const e = backends.get(id) ?? { backend: b.backend ?? 'unknown (TF.js not loaded by the task)', ...(b.tfjsVersion ? { tfjsVersion: b.tfjsVersion } : {}), extraKernels: b.extraKernels ?? [], records: 0 };
    e.records++;
    backends.set(id, e);
  }
  const sorted = <T>(s: Set<T>) => [...s].sort();
  return {
    tasks, libVersions: sorted(set.lib), gitCommits: sorted(set.git), node: sorted(set.node), backends: [...backends.values()],
    dataSources: sorted(set.data), seeds: [...set.seeds].sort((a, b) => a - b), hosts: sorted(set.hosts),
  };
}

/** Engine task stores under a results root (subdirectories holding records). */
export function storeTasks(root: string): string[] {
  try { return fs.readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort(); } catch { return []; }
}

export interface ExportOptions { tasks?: string[]; keys?: Set<string> }

/** Write the records of `root` (optionally some tasks or keys) to `file`; returns the bundle written. */
export function exportBundle(root: string, file: string, o: ExportOptions = {}): Bundle {
  const tasks = o.tasks ?? storeTasks(root);
  const records: RunRecord[] = [];
  for (const t of tasks) {
    for (const r of openStore({ dir: path.join(root, t) }).all()) if (!o.keys || o.keys.has(r.key)) records.push(r);
  }
  const bundle: Bundle = {
    format: BUNDLE_FORMAT, version: 1, createdAt: new Date().toISOString(),
    createdBy: { host: os.hostname(), node: process.version, store: path.resolve(root) },
    provenance: provenanceOf(records), records,
  };
  const text = encodeRecord(bundle);
  writeFileAtomic(file, file.endsWith('.gz') ? gzipSync(text) : text);
  return bundle;
}

export function readBundle(file: string): Bundle {
  let raw: Buffer;
  try { raw = fs.readFileSync(file); } catch (e) { throw new Error(`Cannot read bundle ${file}: ${(e as Error).message}.`); }
  let b: Bundle;
  try {
    const text = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
    b = decodeRecord(text) as Bundle;
  } catch (e) { throw new Error(`${file} is not a readable results bundle (${(e as Error).message}); write one with \`prune-at-init results export\`.`); }
  if (!isPlainObject(b) || b.format !== BUNDLE_FORMAT || !Array.isArray(b.records)) {
    throw new Error(`${file} is not a results bundle (format ${JSON.stringify((b as { format?: unknown })?.format)}); write one with \`prune-at-init results export\`.`);
  }
  return b;
}

export interface Conflict { task: string; key: string; stored: Provenance['backends'][number] & { host: string; finishedAt: string }; bundle: Provenance['backends'][number] & { host: string; finishedAt: string } }

export interface ImportReport {
  imported: number;
  /** Already stored with the same result. */
  same: number;
  conflicts: Conflict[];
  /** Records refused (incomplete, or key not the hash of their config). */
  invalid: Array<{ index: number; key: unknown; reason: string }>;
  /** Records of a task's earlier name migrated to today's task and key (counted in imported/same/conflicts too). */
  migrated?: number;
  provenance: Provenance;
}

function side(r: RunRecord): Conflict['stored'] {
  const b = (isPlainObject(r.meta.backend) ? r.meta.backend : {}) as { backend?: string; tfjsVersion?: string; extraKernels?: string[] };
  return { backend: b.backend ?? 'unknown', tfjsVersion: b.tfjsVersion, extraKernels: b.extraKernels ?? [], records: 1, host: r.meta.host, finishedAt: r.meta.finishedAt };
}

/** Merge a bundle's records into the store at `root` (one directory per task). */
export function importBundle(file: string, root: string): ImportReport {
  const b = readBundle(file);
  const report: ImportReport = { imported: 0, same: 0, conflicts: [], invalid: [], provenance: b.provenance };
  const stores = new Map<string, ReturnType<typeof openStore>>();
  b.records.forEach((rec0, index) => {
    let rec = rec0;
    const key = (rec as { key?: unknown })?.key;
    const why = typeof key === 'string' ? recordProblem(rec, key) : 'missing key';
    if (why) { report.invalid.push({ index, key, reason: why }); return; }
    const derived = recordKey(rec.canonical, rec.data);
    if (derived !== rec.key) { report.invalid.push({ index, key, reason: `key is not the hash of its canonical config and data (${derived})` }); return; }
    // a record of a task's earlier name and config shape joins today's store, re-keyed (engine/migrate.ts)
    const current = taskForLegacyName(rec.task);
    if (current) {
      try { rec = migrateRecord(current, rec); } catch (e) { report.invalid.push({ index, key, reason: (e as Error).message }); return; }
      report.migrated = (report.migrated ?? 0) + 1;
    }
    let store = stores.get(rec.task);
    if (!store) { store = openStore({ dir: path.join(root, rec.task) }); stores.set(rec.task, store); }
    // put keeps (and returns) a record already stored, even one written since get()
    const have = store.get(rec.key) ?? store.put(rec.key, rec);
    if (have === rec) { report.imported++; return; }
    if (encodeRecord(have.result) === encodeRecord(rec.result)) report.same++;
    else report.conflicts.push({ task: rec.task, key: rec.key, stored: side(have), bundle: side(rec) });
  });
  return report;
}
