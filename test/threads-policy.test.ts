/**
 * The idle-core thread policy (lib/src/kernels/thread-policy.ts, useIdleCores in native.ts): its
 * arithmetic on synthetic /proc/stat and cpu-usage samples against hand-computed counts, and where it
 * applies (a TrainingRun outside engine tasks) and where it must not (PRUNE_AT_INIT_THREADS set, engine
 * tasks, singleThreaded() scopes).
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  buildModel, CpuSample, idleCoreThreads, initBackend, nativeStatus, parseProcStat, runTask, setNativeThreads, THREADS_ENV, timingEnvironment,
  TrainingRun, useIdleCores,
} from 'prune-at-init';
import { singleThreaded } from 'prune-at-init/dist/kernels/native';
import { idleTwoCpus, sample } from './support/proc-stat';
import { quadrants } from './support/quadrants';

// aggregate fields: user nice system idle iowait irq softirq steal guest guest_nice
const BASE = [5000, 10, 2000, 90000, 300, 0, 40, 0, 0, 0];
const FIELD = { user: 0, nice: 1, system: 2, idle: 3, iowait: 4, irq: 5, softirq: 6, steal: 7, guest: 8 } as const;

/** BASE plus jiffy increments. */
function bump(d: Partial<Record<keyof typeof FIELD, number>>): number[] {
  const f = BASE.slice();
  for (const [k, v] of Object.entries(d)) f[FIELD[k as keyof typeof FIELD]] += v!;
  return f;
}

/** A 100 ms window on `cpus` CPUs: BASE then BASE + d, our CPU going from 0 to own microseconds (user, system). */
function win(d: Partial<Record<keyof typeof FIELD, number>>, cpus: number, own: [number, number] = [0, 0]): [CpuSample, CpuSample] {
  return [sample(BASE, cpus, [0, 0], 5000), sample(bump(d), cpus, own, 5100)];
}

const choose = ([a, b]: [CpuSample, CpuSample], cores: number) => idleCoreThreads(a, b, cores);

describe('idle-core thread policy: arithmetic', () => {
  it('parses the aggregate line: busy = user+nice+system+irq+softirq+steal, total adds idle and iowait, CPUs counted', () => {
    // 5000+10+2000+0+40+0 = 7050 busy; + 90000 idle + 300 iowait = 97350
    assert.deepEqual(parseProcStat(sample(BASE, 2, [0, 0], 0).stat!), { busy: 7050, total: 97350, cpus: 2 });
    assert.deepEqual(parseProcStat('cpu  100 0 50 1000\ncpu0 1 1 1 1\n'), { busy: 150, total: 1150, cpus: 1 }, 'four-field line of old kernels');
  });

  it('idle machine -> every core', () => {
    const c = choose(idleTwoCpus(), 2);
    assert.deepEqual({ t: c.threads, all: c.allBusy, own: c.ownBusy, other: c.otherBusy, fb: c.fallback }, { t: 2, all: 0, own: 0, other: 0, fb: null });
    assert.equal(choose(win({ idle: 80 }, 8), 8).threads, 8);
  });

  it('one other core fully busy on 2 cores -> 1 thread', () => {
    // 10 busy of 20 jiffies on 2 CPUs = 1 core; ours 0
    const c = choose(win({ user: 10, idle: 10 }, 2), 2);
    assert.equal(c.allBusy, 1);
    assert.equal(c.otherBusy, 1);
    assert.equal(c.threads, 1);
  });

  it('our own process busy on 2 threads is not counted as others: every core', () => {
    // 20 busy of 20 jiffies = 2 cores; ours 180 ms user + 20 ms system in 100 ms = 2 cores
    const c = choose(win({ user: 18, system: 2 }, 2, [180000, 20000]), 2);
    assert.equal(c.allBusy, 2);
    assert.equal(c.ownBusy, 2);
    assert.equal(c.otherBusy, 0);
    assert.equal(c.threads, 2);
    // ours on one core, someone else on the other: 1
    assert.equal(choose(win({ user: 20 }, 2, [100000, 0]), 2).threads, 1);
  });

  it('rounds others to the nearest core, halves up (8 cores, 80 jiffies per window)', () => {
    assert.equal(choose(win({ user: 34, idle: 46 }, 8), 8).threads, 5, '3.4 cores taken -> 3 -> 8 - 3');
    assert.equal(choose(win({ user: 35, idle: 45 }, 8), 8).threads, 4, '3.5 -> 4 -> 8 - 4');
    assert.equal(choose(win({ user: 36, idle: 44 }, 8), 8).threads, 4, '3.6 -> 4');
    assert.equal(choose(win({ user: 35, idle: 45 }, 8, [50000, 0]), 8).threads, 5, '3.5 all - 0.5 ours = 3 others');
    assert.equal(choose(win({ user: 4, idle: 16 }, 2), 2).threads, 2, '0.4 of a core (a shell, jiffy noise) costs no thread');
  });

  it('never below 1 thread or above the usable cores; our time beyond the measured busy time counts as no other load', () => {
    assert.equal(choose(win({ user: 20 }, 2), 2).threads, 1, 'both cores taken by others -> still 1');
    // /proc/stat over 4 CPUs, 2 usable here (affinity): 30 of 40 jiffies = 3 cores busy elsewhere
    assert.equal(choose(win({ user: 30, idle: 10 }, 4), 2).threads, 1);
    const c = choose(win({ user: 9, idle: 11 }, 2, [120000, 0]), 2);
    assert.equal(c.otherBusy, 0, '0.9 all - 1.2 ours: clamped at 0');
    assert.equal(c.threads, 2);
  });

  it('iowait is idle, steal is busy, guest time is not counted twice, nice/system/irq/softirq are busy', () => {
    assert.equal(choose(win({ idle: 10, iowait: 10 }, 2), 2).threads, 2);
    assert.equal(choose(win({ steal: 10, idle: 10 }, 2), 2).threads, 1);
    // 4 CPUs, 40 jiffies: user +10 of which guest +10 -> 1 core busy -> 3 (counted twice: 20/50 x 4 = 1.6 -> 2)
    assert.equal(choose(win({ user: 10, guest: 10, idle: 30 }, 4), 4).threads, 3);
    assert.equal(choose(win({ nice: 4, system: 3, irq: 2, softirq: 1, idle: 10 }, 2), 2).threads, 1);
  });

  it('falls back to every core, saying why, when /proc/stat is unreadable or malformed or the counters do not advance', () => {
    const ok = sample(BASE, 2, [0, 0], 0);
    const cases: Array<[CpuSample, CpuSample, RegExp]> = [
      [{ ...ok, stat: null }, { ...ok, stat: null, atMs: 100 }, /not readable/],
      [{ ...ok, stat: 'hello\nworld\n' }, { ...ok, stat: 'hello\nworld\n', atMs: 100 }, /no well-formed aggregate cpu line/],
      [{ ...ok, stat: 'cpu  1 2 x 4\ncpu0 1 2 3 4\n' }, { ...ok, atMs: 100 }, /no well-formed/],
      [{ ...ok, stat: 'cpu  1 2 3\ncpu0 1 2 3\n' }, { ...ok, atMs: 100 }, /no well-formed/],
      [{ ...ok, stat: 'cpu  1 2 3 4\n' }, { ...ok, atMs: 100 }, /no well-formed/],
      [ok, { ...ok, atMs: 100 }, /did not advance/],
      [sample(bump({ user: 10 }), 2, [0, 0], 0), sample(BASE, 2, [0, 0], 100), /did not advance/],
      [ok, sample(bump({ idle: 20 }), 2, [0, 0], 0), /did not advance/],
    ];
    for (const [a, b, why] of cases) {
      const c = idleCoreThreads(a, b, 6);
      assert.equal(c.threads, 6);
      assert.equal(c.otherBusy, null);
      assert.match(c.fallback ?? '', why);
    }
    assert.throws(() => idleCoreThreads(ok, ok, 0), /cores must be a positive integer/);
  });

  it("reads this machine's /proc/stat (Linux): one counted CPU per core the OS lists", () => {
    assert.equal(parseProcStat(fs.readFileSync('/proc/stat', 'utf8'))?.cpus, os.cpus().length);
  });
});

describe('idle-core thread policy: where it applies', () => {
  const avail = os.availableParallelism();
  const blasCap = (n: number) => Math.min(n, 64); // OpenBLAS caps at its build's MAX_THREADS (64 for Debian's)
  const cores = blasCap(avail);
  const idle = (n: number) => { const [a, b] = idleTwoCpus(); return idleCoreThreads(a, b, n); };
  const noMeasure = (): never => { throw new Error('the policy measured although it should stand aside'); };
  let savedEnv: string | undefined;
  let savedThreads = 0;

  before(async function () {
    await initBackend();
    assert.ok(nativeStatus().active, `the native kernels must be built for these tests: ${nativeStatus().detail}`);
    assert.ok(os.availableParallelism() >= 2, 'these tests need 2 cores');
  });
  beforeEach(() => {
    savedEnv = process.env[THREADS_ENV];
    savedThreads = nativeStatus().threads;
    delete process.env[THREADS_ENV];
  });
  afterEach(() => {
    if (savedEnv === undefined) delete process.env[THREADS_ENV]; else process.env[THREADS_ENV] = savedEnv;
    setNativeThreads(savedThreads);
  });

  it('outside tasks it sets the measured count and says so in nativeStatus and timingEnvironment', () => {
    setNativeThreads(1);
    const st = useIdleCores(idle);
    assert.equal(st.threads, cores);
    assert.match(st.threadPolicy, new RegExp(`^idle cores: ${avail} of ${avail} \\(other processes kept 0\\.00 cores busy over 100 ms\\)$`));
    assert.equal(timingEnvironment().blasThreadPolicy, st.threadPolicy);
    // one of two CPUs busy elsewhere: 1 core taken
    const [a, b] = [sample(BASE, 2, [0, 0], 0), sample(bump({ user: 10, idle: 10 }), 2, [0, 0], 100)];
    assert.equal(useIdleCores((n) => idleCoreThreads(a, b, n)).threads, blasCap(avail - 1));
    assert.equal(nativeStatus().threads, blasCap(avail - 1));
  });

  it('stands aside when PRUNE_AT_INIT_THREADS is set', () => {
    process.env[THREADS_ENV] = '1';
    setNativeThreads(2);
    const before = nativeStatus();
    assert.deepEqual(useIdleCores(noMeasure), before);
    assert.equal(nativeStatus().threads, 2);
  });

  it('stands aside inside singleThreaded() scopes, which nest and may end out of order', () => {
    setNativeThreads(2);
    const end1 = singleThreaded();
    assert.equal(nativeStatus().threads, 1);
    assert.equal(useIdleCores(noMeasure).threads, 1);
    const end2 = singleThreaded();
    end1();
    assert.equal(nativeStatus().threads, 1, 'the inner scope is still open');
    end2();
    end2();
    assert.equal(nativeStatus().threads, 2);
    assert.equal(nativeStatus().threadPolicy, 'setNativeThreads(2)');
  });

  it('an engine task runs on 1 thread although the policy would choose every core, directly and through a TrainingRun', async () => {
    const task = { name: 'idle-policy-probe', module: path.join(__dirname, 'fixtures', 'engine', 'idle-policy-task'), export: 'idlePolicyTask',
      defaults: { seed: 0, via: 'useIdleCores' } };
    assert.equal(useIdleCores(idle).threads, cores, 'control: outside a task this measurement gives every core');
    setNativeThreads(2);
    for (const via of ['useIdleCores', 'trainingRun']) {
      const rec = await runTask<{ threads: number; policy: string; insideTask: boolean }>(task, { seed: 1, via });
      assert.deepEqual(rec.result, { threads: 1, policy: 'one thread (engine task or singleThreaded() scope)', insideTask: true }, via);
      assert.equal(nativeStatus().threads, 2, `${via}: the process count is restored after the task`);
    }
  });

  it('a TrainingRun outside tasks applies the policy (this machine, now); with PRUNE_AT_INIT_THREADS set it does not', () => {
    const make = () => {
      const net = buildModel({ arch: 'ffnn', hidden: [8], activation: 'relu' }, { seed: 1, inputShape: [6, 6, 1], numClasses: 4 });
      new TrainingRun(net, quadrants(16, { mean: [0], std: [1] }), { epochs: 1, batchSize: 8, lr: 0.1 }).dispose();
    };
    setNativeThreads(1);
    make();
    const st = nativeStatus();
    const m = /^idle cores: (\d+) of (\d+) \(other processes kept ([\d.]+) cores busy over \d+ ms\)$/.exec(st.threadPolicy);
    assert.ok(m, st.threadPolicy);
    assert.equal(blasCap(Number(m[1])), st.threads);
    assert.equal(Number(m[2]), avail);
    assert.ok(st.threads >= 1 && st.threads <= cores);
    process.env[THREADS_ENV] = '1';
    setNativeThreads(2);
    make();
    assert.equal(nativeStatus().threads, 2);
    assert.equal(nativeStatus().threadPolicy, 'setNativeThreads(2)');
  });

  it('a fresh process without PRUNE_AT_INIT_THREADS starts on every core and says so', function () {
    this.timeout(60000);
    const root = (() => { let d = __dirname; while (!fs.existsSync(path.join(d, 'lib', 'package.json'))) d = path.dirname(d); return d; })();
    const env = { ...process.env };
    delete env[THREADS_ENV];
    const res = spawnSync(process.execPath, ['-e', `console.log(JSON.stringify(require('prune-at-init').nativeStatus()))`], { env, encoding: 'utf8', cwd: root });
    assert.equal(res.status, 0, res.stderr);
    const st = JSON.parse(res.stdout.trim().split('\n').pop()!);
    assert.equal(st.threads, cores);
    assert.equal(st.threadPolicy, `every core at load (${os.availableParallelism()}); each in-process run takes the idle ones (useIdleCores)`);
  });
});
