/**
 * `prune-at-init sweep plan|submit|run|status|resubmit`: a notebook sweep as a Slurm job array
 * (lib/src/cluster). Parses its own argv with util.parseArgs (subcommand, then options).
 */
import * as os from 'os';
import { parseArgs } from 'util';
import { UsageError } from './args';
import * as cluster from '../cluster';
import { resultsRoot } from '../engine';
import { parseSeeds } from '../notebook/params';

export const summary = 'plan / submit / run / status / resubmit a notebook sweep as a Slurm job array';
export const usage = [
  'prune-at-init sweep plan --notebook 02|01,03|all --budget smoke|quick|paper [--seeds 0-4] --out run.manifest',
  '    [--task-minutes 60] [--configs-per-task N] [--cpus-per-task 1] [--nodes 1] [--cores-per-node N] [--parts text,...] [--store DIR]',
  '  prune-at-init sweep submit --slurm run.manifest [--partition P] [--time 4:00:00] [--cpus-per-task N] [--mem 8G] [--max-concurrent N] [--account A] [--dry-run]',
  '  prune-at-init sweep run --manifest run.manifest (--index N | --all) [--workers N] [--store DIR]',
  '  prune-at-init sweep status run.manifest [--no-slurm]',
  '  prune-at-init sweep resubmit run.manifest [Slurm options as for submit]',
].join('\n');

const S = { type: 'string' } as const, B = { type: 'boolean' } as const;
type Opt = typeof S | typeof B;
const SLURM_OPTS = { partition: S, time: S, 'cpus-per-task': S, mem: S, 'max-concurrent': S, account: S, 'dry-run': B };

function parse<T extends Record<string, Opt>>(argv: string[], options: T, sub: string): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`sweep ${sub}: ${(e as Error).message}`);
  }
}

function int(v: string | boolean | undefined, name: string, fallback?: number, min = 1): number {
  if (v === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} <integer> is required.`);
    return fallback;
  }
  const x = Number(v);
  if (!Number.isInteger(x) || x < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${v}'.`);
  return x;
}

function need(v: string | boolean | undefined, name: string): string {
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} <value> is required.`);
  return v;
}

function slurmOptions(v: Record<string, string | boolean | undefined>): cluster.SlurmOptions {
  const o: cluster.SlurmOptions = {};
  if (typeof v.partition === 'string') o.partition = v.partition;
  if (typeof v.time === 'string') {
    if (!/^(\d+-)?\d+(:\d{1,2}){0,2}$/.test(v.time)) throw new UsageError(`--time '${v.time}' is not a Slurm time limit: use minutes, H:MM:SS or D-HH:MM:SS.`);
    o.time = v.time;
  }
  if (v['cpus-per-task'] !== undefined) o.cpusPerTask = int(v['cpus-per-task'], 'cpus-per-task');
  if (typeof v.mem === 'string') {
    if (!/^\d+[KMGT]?$/i.test(v.mem)) throw new UsageError(`--mem '${v.mem}' is not a Slurm memory size: use e.g. 4000 (MB) or 8G.`);
    o.mem = v.mem;
  }
  if (v['max-concurrent'] !== undefined) o.maxConcurrent = int(v['max-concurrent'], 'max-concurrent');
  if (typeof v.account === 'string') o.account = v.account;
  return o;
}

async function plan(argv: string[]): Promise<unknown> {
  const { values: v, positionals } = parse(argv, {
    notebook: S, budget: S, seeds: S, out: S, 'task-minutes': S, 'configs-per-task': S, 'cpus-per-task': S, nodes: S, 'cores-per-node': S, parts: S, store: S,
  }, 'plan');
  if (positionals.length) throw new UsageError(`sweep plan: unexpected argument '${positionals[0]}'.`);
  const out = need(v.out, 'out');
  const taskMinutes = Number(v['task-minutes'] ?? 60);
  if (!(taskMinutes > 0)) throw new UsageError(`--task-minutes must be a number > 0, got '${v['task-minutes']}'.`);
  const m = await cluster.planSweep({
    notebooks: need(v.notebook, 'notebook'), budget: need(v.budget, 'budget'),
    seeds: v.seeds === undefined ? undefined : parseSeeds(v.seeds, '--seeds'),
    store: v.store ?? resultsRoot(), taskSeconds: taskMinutes * 60, cpusPerTask: int(v['cpus-per-task'], 'cpus-per-task', 1),
    parts: v.parts?.split(',').map((s) => s.trim()).filter(Boolean),
    configsPerTask: v['configs-per-task'] === undefined ? undefined : int(v['configs-per-task'], 'configs-per-task'),
  });
  cluster.writeManifest(out, m);
  return { manifest: out, ...cluster.summarize(m, { nodes: int(v.nodes, 'nodes', 1), coresPerNode: int(v['cores-per-node'], 'cores-per-node', os.availableParallelism()) }) };
}

function manifestArg(v: { manifest?: string | boolean }, positionals: string[], sub: string): string {
  const m = typeof v.manifest === 'string' ? v.manifest : positionals[0];
  if (!m) throw new UsageError(`sweep ${sub}: give the manifest (sweep ${sub} run.manifest).`);
  if (positionals.length > (typeof v.manifest === 'string' ? 0 : 1)) throw new UsageError(`sweep ${sub}: unexpected argument '${positionals.at(-1)}'.`);
  return m;
}

function submitOrResubmit(manifest: string, v: Record<string, string | boolean | undefined>, indices?: number[]): unknown {
  const script = cluster.writeSbatchScript(manifest, slurmOptions(v));
  if (v['dry-run']) return { script, submitted: false, indices: indices ?? 'all' };
  const s = cluster.submit(manifest, script, indices);
  return { script, submitted: true, jobId: s.jobId, array: s.array, logs: `${cluster.stateDir(manifest)}/logs` };
}

async function submit(argv: string[]): Promise<unknown> {
  const { values: v, positionals } = parse(argv, { slurm: S, manifest: S, ...SLURM_OPTS }, 'submit');
  return submitOrResubmit(manifestArg({ manifest: v.slurm ?? v.manifest }, positionals, 'submit'), v);
}

async function resubmit(argv: string[]): Promise<unknown> {
  const { values: v, positionals } = parse(argv, { slurm: S, manifest: S, ...SLURM_OPTS }, 'resubmit');
  const manifest = manifestArg({ manifest: v.slurm ?? v.manifest }, positionals, 'resubmit');
  const st = cluster.sweepStatus(manifest, cluster.arrayStates(manifest));
  if (st.toResubmit.length === 0) return { submitted: false, reason: `nothing to resubmit: ${st.counts.done} done, ${st.counts.running} running, ${st.counts.pending} pending in queued tasks` };
  return { ...(submitOrResubmit(manifest, v, st.toResubmit) as object), indices: st.toResubmit };
}

async function runCmd(argv: string[]): Promise<unknown> {
  const { values: v, positionals } = parse(argv, { manifest: S, index: S, all: B, workers: S, store: S }, 'run');
  const manifest = manifestArg(v, positionals, 'run');
  if ((v.index === undefined) === !v.all) throw new UsageError('sweep run: give --index N (one task, e.g. $SLURM_ARRAY_TASK_ID) or --all (every task here, one after another).');
  const ac = new AbortController();
  const stop = (sig: string) => { process.stderr.write(`sweep run: ${sig}: stopping; finished configs are stored, the ones in flight are recomputed next time.\n`); ac.abort(); };
  const onTerm = () => stop('SIGTERM'), onInt = () => stop('SIGINT');
  process.once('SIGTERM', onTerm);
  process.once('SIGINT', onInt);
  try {
    const r = await cluster.runManifest(manifest, v.all ? 'all' : int(v.index, 'index', undefined, 0), {
      workers: v.workers === undefined ? undefined : int(v.workers, 'workers', undefined, 0), signal: ac.signal, store: v.store,
    });
    if (r.stopped) throw new Error(`stopped by a signal before task(s) ${r.indices.join(',')} finished; run it again (or \`sweep resubmit\`) to finish.`);
    if (r.failed.length) {
      throw new Error(`${r.failed.length} config(s) failed (\`sweep status\` lists them); first: ${r.failed[0].key} (${r.failed[0].task}): ${r.failed[0].error}`);
    }
    return r;
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
  }
}

async function status(argv: string[]): Promise<unknown> {
  const { values: v, positionals } = parse(argv, { manifest: S, 'no-slurm': B }, 'status');
  const manifest = manifestArg(v, positionals, 'status');
  const hasSlurm = !v['no-slurm'] && cluster.submissions(manifest).length > 0;
  return cluster.sweepStatus(manifest, hasSlurm ? cluster.arrayStates(manifest) : new Map());
}

const SUB: Record<string, (argv: string[]) => Promise<unknown>> = { plan, submit, run: runCmd, status, resubmit };

export async function run(argv: string[]): Promise<unknown> {
  const [sub, ...rest] = argv;
  const f = sub ? SUB[sub] : undefined;
  if (!f) throw new UsageError(`${sub ? `unknown subcommand '${sub}'` : 'give a subcommand'}: one of ${Object.keys(SUB).join(', ')}.`);
  return f(rest);
}
