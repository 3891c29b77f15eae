/**
 * Slurm: the sbatch array script of a manifest (written next to it, readable, so it can be edited
 * and submitted by hand), submission through `sbatch --parsable`, and array task states through
 * `squeue` (no accounting database is assumed, so no sacct; squeue keeps finished jobs for
 * MinJobAge seconds). Submissions are logged in `<manifest>.state/submissions.json`.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../fsutil';
import { readManifest } from './manifest';
import { stateDir } from './run';

export interface SlurmOptions {
  partition?: string;
  /** Time limit per array task, Slurm syntax (e.g. '4:00:00'). */
  time?: string;
  cpusPerTask?: number;
  /** Memory per node, Slurm syntax (e.g. '8G'). */
  mem?: string;
  /** At most this many array tasks at once (the `%N` of --array). */
  maxConcurrent?: number;
  account?: string;
}

const shq = (s: string) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Node command that runs this CLI (compiled JS; under tsx, the TypeScript source through tsx). */
function cliCommand(): string[] {
  const cli = path.join(__dirname, '..', `cli${path.extname(__filename)}`);
  const args = [process.execPath];
  if (/\.ts$/.test(cli)) args.push('--require', require.resolve('tsx/cjs'));
  return [...args, cli];
}

export function scriptPath(manifestFile: string): string {
  return path.resolve(manifestFile).replace(/(\.manifest|\.json)?$/, '.sbatch');
}

/** The sbatch script text for a manifest. */
export function sbatchScript(manifestFile: string, o: SlurmOptions = {}): string {
  const m = readManifest(manifestFile);
  if (m.tasks.length === 0) throw new Error(`${manifestFile} has no tasks: every config is already stored (nothing to submit).`);
  const abs = path.resolve(manifestFile);
  const name = path.basename(abs).replace(/\.[^.]*$/, '');
  const cpus = o.cpusPerTask ?? m.cpusPerTask;
  const logs = path.join(stateDir(abs), 'logs');
  const array = `0-${m.tasks.length - 1}${o.maxConcurrent ? `%${o.maxConcurrent}` : ''}`;
  const d = (k: string, v: string | number | undefined) => (v === undefined || v === '' ? [] : [`#SBATCH --${k}=${v}`]);
  return [
    '#!/bin/bash',
    `# prune-at-init sweep: ${m.tasks.length} array tasks, ${m.tasks.reduce((a, t) => a + t.configs.length, 0)} configs (${m.notebooks.join(', ')}, budget ${m.budget}).`,
    `# Written by \`prune-at-init sweep submit\`; edit and submit by hand with: sbatch ${shq(path.basename(scriptPath(abs)))}`,
    '# Each task runs its configs with --cpus-per-task worker processes (one config per process, one core each)',
    '# and skips configs already in the store, so resubmitting or requeueing a task is always safe.',
    `#SBATCH --job-name=pai-${name}`,
    `#SBATCH --array=${array}`,
    ...d('cpus-per-task', cpus),
    '#SBATCH --ntasks=1',
    ...d('time', o.time), ...d('mem', o.mem), ...d('partition', o.partition), ...d('account', o.account),
    `#SBATCH --output=${logs}/%A_%a.out`,
    '#SBATCH --requeue',
    'set -euo pipefail',
    `cd ${shq(process.cwd())}`,
    '# the results store: a directory every node sees (shared filesystem)',
    `export PRUNE_AT_INIT_RESULTS=${shq(m.store)}`,
    `exec ${cliCommand().map(shq).join(' ')} sweep run --manifest ${shq(abs)} --index "$SLURM_ARRAY_TASK_ID" --workers "\${SLURM_CPUS_PER_TASK:-1}"`,
    '',
  ].join('\n');
}

export function writeSbatchScript(manifestFile: string, o: SlurmOptions = {}): string {
  const file = scriptPath(manifestFile);
  writeFileAtomic(file, sbatchScript(manifestFile, o));
  fs.chmodSync(file, 0o755);
  fs.mkdirSync(path.join(stateDir(manifestFile), 'logs'), { recursive: true });
  return file;
}

export interface Submission { jobId: string; array: string; script: string; at: string }

function submissionsFile(manifestFile: string): string { return path.join(stateDir(manifestFile), 'submissions.json'); }

export function submissions(manifestFile: string): Submission[] {
  try { return JSON.parse(fs.readFileSync(submissionsFile(manifestFile), 'utf8')); } catch { return []; }
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new Error(`'${cmd}' is not installed or not on PATH: run this on a Slurm login node (or start a local one with scripts/slurm-up.sh).`);
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(err.stderr || err.message).trim()}`);
  }
}

/** Submit the script (optionally only some array indices); returns the array job id. */
export function submit(manifestFile: string, script: string, indices?: number[]): Submission {
  const array = indices ? indices.join(',') : '';
  const args = ['--parsable', ...(array ? [`--array=${array}`] : []), script];
  const jobId = run('sbatch', args).trim().split(';')[0];
  if (!/^\d+$/.test(jobId)) throw new Error(`sbatch printed '${jobId}', not a job id.`);
  const s: Submission = { jobId, array: array || 'all', script, at: new Date().toISOString() };
  writeFileAtomic(submissionsFile(manifestFile), JSON.stringify([...submissions(manifestFile), s], null, 1) + '\n');
  return s;
}

/** State of each array index in its latest submission that squeue still knows (RUNNING, PENDING, COMPLETED, FAILED, CANCELLED, ...). */
export function arrayStates(manifestFile: string): Map<number, string> {
  const subs = submissions(manifestFile);
  const out = new Map<number, string>();
  if (subs.length === 0) return out;
  // all jobs, filtered here: `-j` fails outright once one of the ids has aged out of squeue
  const text = run('squeue', ['-h', '-r', '-t', 'all', '-o', '%F %K %T']);
  const order = new Map(subs.map((s, i) => [s.jobId, i]));
  const latest = new Map<number, number>();
  for (const line of text.split('\n')) {
    const [job, idx, state] = line.trim().split(/\s+/);
    const k = Number(idx), rank = order.get(job);
    if (!Number.isInteger(k) || rank === undefined || !state) continue;
    if ((latest.get(k) ?? -1) <= rank) { latest.set(k, rank); out.set(k, state); }
  }
  return out;
}

/** Cancel one array task (or the whole array with index undefined). */
export function cancel(jobId: string, index?: number): void {
  run('scancel', [index === undefined ? jobId : `${jobId}_${index}`]);
}
