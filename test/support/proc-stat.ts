import type { CpuSample } from 'prune-at-init';

/**
 * /proc/stat text (proc(5) layout) with the given aggregate `cpu` fields and `cpus` per-CPU lines;
 * the per-CPU numbers are filler: the policy reads only the aggregate line and counts the CPUs.
 */
export function procStat(fields: readonly number[], cpus: number): string {
  const per = Array.from({ length: cpus }, (_, i) => `cpu${i} ${fields.map(() => 7).join(' ')}`);
  return [`cpu  ${fields.join(' ')}`, ...per, 'intr 1330876 0 0', 'ctxt 2779051', 'btime 1796528000', 'processes 9000'].join('\n') + '\n';
}

/** A sample: aggregate cpu fields, CPUs in /proc/stat, this process's CPU microseconds (user, system), clock in ms. */
export function sample(fields: readonly number[], cpus: number, ownUs: [number, number], atMs: number): CpuSample {
  return { stat: procStat(fields, cpus), cpu: { user: ownUs[0], system: ownUs[1] }, atMs };
}

/** Two samples 100 ms apart on an idle 2-CPU machine (each CPU idle for its 10 jiffies): the policy picks every core. */
export function idleTwoCpus(): [CpuSample, CpuSample] {
  return [sample([5000, 10, 2000, 90000, 300, 0, 40, 0, 0, 0], 2, [0, 0], 1000),
    sample([5000, 10, 2000, 90020, 300, 0, 40, 0, 0, 0], 2, [0, 0], 1100)];
}
