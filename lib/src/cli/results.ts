/** `prune-at-init results export|import FILE`: move result records between stores (lib/src/cluster/bundle). */
import { parseArgs } from 'util';
import { UsageError } from './args';
import * as cluster from '../cluster';
import { resultsRoot } from '../engine';

export const summary = 'export / import a bundle of result records with provenance (never overwrites)';
export const usage = [
  'prune-at-init results export FILE[.gz] [--tasks prune-train,early-pruning] [--manifest run.manifest] [--store DIR]',
  '  prune-at-init results import FILE[.gz] [--store DIR]',
].join('\n');

export async function run(argv: string[]): Promise<unknown> {
  const [sub, ...rest] = argv;
  if (sub !== 'export' && sub !== 'import') throw new UsageError(`${sub ? `unknown subcommand '${sub}'` : 'give a subcommand'}: export or import.`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, strict: true, options: { tasks: { type: 'string' }, manifest: { type: 'string' }, store: { type: 'string' } } });
  } catch (e) { throw new UsageError(`results ${sub}: ${(e as Error).message}`); }
  const { values: v, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(`results ${sub}: give exactly one bundle FILE (got ${positionals.length}).`);
  const file = positionals[0];
  const root = v.store ?? resultsRoot();
  if (sub === 'export') {
    if (v.manifest && v.tasks) throw new UsageError('results export: give --tasks or --manifest, not both.');
    const known = cluster.storeTasks(root);
    const tasks = v.tasks?.split(',').map((s) => s.trim());
    for (const t of tasks ?? []) if (!known.includes(t)) throw new UsageError(`results export: no task store '${t}' under ${root} (there: ${known.join(', ') || 'none'}).`);
    let keys: Set<string> | undefined;
    if (v.manifest) keys = new Set(cluster.readManifest(v.manifest).tasks.flatMap((t) => t.configs.map((c) => c.key)));
    const b = cluster.exportBundle(root, file, { tasks, keys });
    return { file, records: b.records.length, provenance: b.provenance };
  }
  if (v.tasks || v.manifest) throw new UsageError('results import: --tasks and --manifest apply to export only.');
  const r = cluster.importBundle(file, root);
  if (r.conflicts.length) {
    process.stderr.write(`results import: ${r.conflicts.length} record(s) conflict with different results already stored; kept the stored ones (listed under "conflicts").\n`);
  }
  return { file, store: root, ...r };
}
