/**
 * How many native-kernel threads one in-process run should use: the cores that other processes are
 * not using now. OpenBLAS splits each product evenly over its threads and waits for the slowest, so a
 * thread on a core another process holds stalls the whole product (a batch-1000 forward of a depth-20
 * tanh FFNN took 262 ms on 2 threads with the other core of a 2-core machine busy, 13 ms on 1).
 *
 * Load is measured over a short window from /proc/stat's aggregate `cpu` line (all processes) minus
 * this process's own CPU time (process.cpuUsage(), every thread of ours), so our own OpenBLAS threads
 * never count as someone else's load. Where /proc/stat is missing or unreadable (not Linux) the
 * choice falls back to every core, the behaviour before this policy.
 */
import * as fs from 'fs';

/** One reading of the machine's and this process's CPU counters. */
export interface CpuSample {
  /** The text of /proc/stat, or null where it could not be read. */
  stat: string | null;
  /** process.cpuUsage() at the same moment: microseconds of user and system CPU, all our threads. */
  cpu: { user: number; system: number };
  /** A monotonic clock in milliseconds (performance.now()). */
  atMs: number;
}

export interface IdleCoresChoice {
  /** Threads to use: max(1, cores - round(otherBusy)), or `cores` on fallback. */
  threads: number;
  cores: number;
  /** Cores kept busy by other processes over the window (null on fallback). */
  otherBusy: number | null;
  /** Cores busy in all (ours included) and ours, over the window (null on fallback). */
  allBusy: number | null;
  ownBusy: number | null;
  windowMs: number;
  /** Why the counters could not be used (the choice is then every core), or null. */
  fallback: string | null;
}

/** Busy and total jiffies of /proc/stat's aggregate cpu line, and how many CPUs they sum over; null if malformed. */
export function parseProcStat(text: string): { busy: number; total: number; cpus: number } | null {
  const lines = text.split('\n');
  const agg = lines.find((l) => /^cpu\s/.test(l));
  if (!agg) return null;
  const f = agg.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle [iowait irq softirq steal guest guest_nice] (proc(5)); the first four exist on every kernel
  if (f.length < 4 || f.some((v) => !Number.isFinite(v) || v < 0)) return null;
  const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  // guest and guest_nice are already counted in user and nice: left out, not added twice.
  // iowait is idle time (the core could run us); steal is a core the hypervisor gave to someone else.
  const busy = user + nice + system + irq + softirq + steal;
  const cpus = lines.filter((l) => /^cpu\d+\s/.test(l)).length;
  if (cpus === 0) return null;
  return { busy, total: busy + idle + iowait, cpus };
}

/**
 * The thread count for `cores` usable cores from two samples taken a short window apart.
 *
 * allBusy = busy jiffies / jiffies that passed per CPU (cores' worth of busy time, all processes);
 * ownBusy = our CPU microseconds / window microseconds; otherBusy = max(0, allBusy - ownBusy).
 * threads = max(1, cores - round(otherBusy)), rounded to nearest with halves up: with work split
 * evenly, a thread sharing a core with a process that takes a fraction s of it finishes its half in
 * 0.5 / (1 - s) of the one-thread time, so that thread stops paying at s = 0.5; ties go to fewer
 * threads because a stalled product costs far more than one idle core does. Small loads (a shell,
 * jiffy noise) round away instead of costing a whole thread, as ceil would.
 */
export function idleCoreThreads(a: CpuSample, b: CpuSample, cores: number): IdleCoresChoice {
  if (!Number.isInteger(cores) || cores < 1) throw new Error(`idleCoreThreads: cores must be a positive integer, got ${cores}.`);
  const windowMs = b.atMs - a.atMs;
  const fallback = (why: string): IdleCoresChoice => ({ threads: cores, cores, otherBusy: null, allBusy: null, ownBusy: null, windowMs, fallback: why });
  if (a.stat === null || b.stat === null) return fallback('/proc/stat is not readable here');
  const sa = parseProcStat(a.stat), sb = parseProcStat(b.stat);
  if (!sa || !sb) return fallback('/proc/stat has no well-formed aggregate cpu line');
  const dBusy = sb.busy - sa.busy, dTotal = sb.total - sa.total;
  if (!(windowMs > 0) || !(dTotal > 0) || dBusy < 0 || dBusy > dTotal) return fallback(`the CPU counters did not advance over the window (${dTotal} jiffies in ${windowMs} ms)`);
  const allBusy = (sb.cpus * dBusy) / dTotal;
  const ownBusy = (b.cpu.user + b.cpu.system - a.cpu.user - a.cpu.system) / 1000 / windowMs;
  const otherBusy = Math.max(0, allBusy - ownBusy);
  const threads = Math.max(1, cores - Math.round(otherBusy));
  return { threads, cores, otherBusy, allBusy, ownBusy, windowMs, fallback: null };
}

/** Read this machine's counters now. */
export function sampleCpu(): CpuSample {
  let stat: string | null = null;
  try { stat = fs.readFileSync('/proc/stat', 'utf8'); } catch { stat = null; }
  return { stat, cpu: process.cpuUsage(), atMs: performance.now() };
}

/** Default window: 10 jiffies per CPU at Linux's USER_HZ of 100, so one jiffy is 0.1 core. */
export const IDLE_WINDOW_MS = 100;

/** Sample, sleep `windowMs` without using a core (Atomics.wait blocks this thread), sample again, decide. */
export function measureIdleCores(cores: number, windowMs = IDLE_WINDOW_MS): IdleCoresChoice {
  const a = sampleCpu();
  if (a.stat === null) return idleCoreThreads(a, a, cores);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, windowMs);
  return idleCoreThreads(a, sampleCpu(), cores);
}

/** One line for nativeStatus().threadPolicy. */
export function describeIdleChoice(c: IdleCoresChoice): string {
  if (c.fallback) return `every core (${c.cores}): ${c.fallback}`;
  return `idle cores: ${c.threads} of ${c.cores} (other processes kept ${c.otherBusy!.toFixed(2)} cores busy over ${c.windowMs.toFixed(0)} ms)`;
}
