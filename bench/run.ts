/**
 * Training-step and inference benchmark of the reference workloads on every available TF.js
 * backend configuration (wasm and cpu, each with and without the native kernels) and in PyTorch
 * (bench/pytorch_bench.py --serve, 1 thread). Steps of all configurations are interleaved in
 * rounds of 5, so a shared, noisy machine slows them alike and the ratios stay meaningful.
 * Writes bench/results.json and prints a table with the TF.js / PyTorch ratio. See bench/README.md.
 * Besides the one-thread rows (10% random masks, dense masked compute on both sides): rows at more
 * threads (--threads, default 1 and every core; TF.js wasm+native against PyTorch at that many
 * threads), and with --sparsity, rows of the MLP workloads at those sparsities where TF.js uses its
 * sparse kernels (wasm+native+sparse) and PyTorch its usual dense masked product; --break-even
 * first times the sparse kernels against the dense ones per layer shape (bench/break_even.ts).
 *
 *   npm run bench [-- --workloads a,b --configs wasm+native,wasm,cpu+native,cpu --steps 20 --warmup 5 --jit-warmup 200
 *                    --budget-ms 60000 --max-step-ms 15000 --out bench/results.json --no-pytorch
 *                    --threads 1,2 --sparsity 0.95,0.99,0.999 --break-even]
 */
import { ChildProcessWithoutNullStreams, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  buildModel, DEFAULT_SPARSE_MAX_DENSITY, initBackend, Mask, ModelConfig, nativeStatus, Net, registerExtraKernels, Rng, setNativeThreads,
  setSparseMaxDensity, sparseCounts, tf, Trainer,
} from 'prune-at-init';
import { breakEven } from './break_even';
import { blasDifferences, describeMachine, TorchBlas } from './machine';

interface Workload { name: string; model: ModelConfig; batch: number }

/** The reference workloads; bench/pytorch_bench.py defines the same ones. */
export const WORKLOADS: Workload[] = [
  { name: 'mlp_lenet300_b128', model: { arch: 'ffnn', activation: 'relu', hidden: [300, 100] }, batch: 128 },
  { name: 'ffnn_tanh_d50_w100_b128', model: { arch: 'ffnn', activation: 'tanh', hidden: new Array(49).fill(100) }, batch: 128 },
  { name: 'cnn_small_b64', model: { arch: 'cnn', activation: 'relu', channels: [32, 32, 'M', 64, 'M'], kernelSize: 3 }, batch: 64 },
  { name: 'wrn16_2_b64', model: { arch: 'wrn', depth: 16, widthFactor: 2 }, batch: 64 },
  // the standard budget's conv nets (notebooks 03 and 02), 8-64 channels
  { name: 'wrn16_05_b64', model: { arch: 'wrn', depth: 16, widthFactor: 0.5 }, batch: 64 },
  { name: 'resnet20_b100', model: { arch: 'resnet', depth: 20 }, batch: 100 },
];

/** Fraction of weights kept by the random masks of the main rows (computed dense on both sides there). */
const DENSITY = 0.1;
const LR = 0.01, MOMENTUM = 0.9;
/** Steps per configuration per round. */
const ROUND = 5;

interface Config { name: string; backend: 'wasm' | 'cpu'; native: boolean; mlpOnly?: boolean; sparse?: boolean }
/** Masked dense layers on the sparse kernels (kernels/sparse.ts): only in the --sparsity rows. */
const SPARSE_CONFIG: Config = { name: 'wasm+native+sparse', backend: 'wasm', native: true, sparse: true };
const CONFIGS: Config[] = [
  { name: 'wasm+native', backend: 'wasm', native: true },
  { name: 'wasm', backend: 'wasm', native: false },
  { name: 'cpu+native', backend: 'cpu', native: true },
  // The pure-JS cpu backend needed 271 s for ONE cnn_small_b64 training step (its Conv2DBackpropFilter
  // is a scalar loop), so by default it only runs the MLPs; --configs cpu forces it everywhere.
  { name: 'cpu', backend: 'cpu', native: false, mlpOnly: true },
];

type Phase = 'train' | 'infer';
interface Times { wall: number[]; cpu: number[] }
interface Timing {
  train_ms: number; train_cpu_ms: number; train_steps: number;
  infer_ms: number; infer_cpu_ms: number; infer_steps: number;
  train_min_ms?: number; infer_min_ms?: number; train_cpu_min_ms?: number; infer_cpu_min_ms?: number;
}
type Entry = Timing | { error: string; first_step_ms?: number };
interface Results {
  meta: Record<string, unknown>;
  tfjs: Record<string, Record<string, Entry>>;
  pytorch?: Record<string, Entry>;
  pytorch_meta?: Record<string, unknown>;
  sparse_break_even?: ReturnType<typeof breakEven>;
}

/** Something that can run steps of one workload: a TF.js configuration or the PyTorch server. */
interface Runner {
  name: string;
  setup(warmup: number, budgetMs: number, maxStepMs: number): Promise<void>;
  run(phase: Phase, steps: number): Promise<Times>;
  dispose(): void;
}

/** The repository root (bench/run.ts runs from bench/ under tsx and from build/bench/ compiled). */
const ROOT = (() => {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'bench', 'pytorch_bench.py')) && fs.existsSync(path.join(d, 'package.json'))) return d;
  }
  throw new Error(`bench/run: cannot find the repository root above ${__dirname}.`);
})();

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** One line of the table: a workload at a mask density and thread count, with the configurations that run it. */
interface Row { key: string; w: Workload; density: number; threads: number; configs: Config[] }

function randomMask(net: Net, seed: number, density: number): Mask {
  const rng = new Rng(seed, 'bench-mask');
  return new Mask(net.prunable.map((p) => {
    const r = rng.fork(p.name);
    const d = new Uint8Array(p.size);
    for (let i = 0; i < p.size; i++) d[i] = r.uniform() < density ? 1 : 0;
    return [p.name, { shape: p.shape, data: d }];
  }));
}

class TooSlow extends Error {
  constructor(readonly ms: number, limit: number) {
    super(`one training step took ${(ms / 1000).toFixed(1)} s (over --max-step-ms ${limit}); not timed further`);
  }
}

/** A TF.js configuration: its own masked net, trainer and batch on its backend. */
class TfRunner implements Runner {
  readonly name: string;
  private net: Net | null = null;
  private trainer: Trainer | null = null;
  private x: tf.Tensor | null = null;
  private y: tf.Tensor | null = null;

  private readonly w: Workload;

  constructor(private readonly cfg: Config, private readonly row: Row) { this.name = cfg.name; this.w = row.w; }

  /** Make this configuration's backend, kernels, thread count and sparse-kernel choice current. */
  private async activate(): Promise<void> {
    if (tf.getBackend() !== this.cfg.backend) await initBackend(this.cfg.backend);
    registerExtraKernels(this.cfg.backend, { native: this.cfg.native });
    if (this.cfg.native) setNativeThreads(this.row.threads);
    setSparseMaxDensity(this.cfg.sparse ? DEFAULT_SPARSE_MAX_DENSITY : 0);
  }

  async setup(warmup: number, budgetMs: number, maxStepMs: number): Promise<void> {
    await this.activate();
    this.net = buildModel(this.w.model, { seed: 1, inputShape: [28, 28, 1], numClasses: 10 });
    this.net.setMask(randomMask(this.net, 3, this.row.density));
    this.trainer = new Trainer(this.net, { epochs: 1, batchSize: this.w.batch, lr: LR, momentum: MOMENTUM, optimizer: 'sgd' });
    const rng = new Rng(2, 'bench-data');
    this.x = tf.tensor4d(rng.normalArray(this.w.batch * 28 * 28), [this.w.batch, 28, 28, 1]);
    this.y = tf.tensor1d(Int32Array.from({ length: this.w.batch }, () => rng.int(10)), 'int32');
    // Warm up both phases; slow configurations stop after budgetMs/10, and hopeless ones (pure-JS cpu
    // conv nets) are reported with their one step instead of holding the benchmark for many minutes.
    for (const phase of ['train', 'infer'] as const) {
      const t0 = performance.now();
      for (let i = 0; i < warmup && (i === 0 || performance.now() - t0 < budgetMs / 10); i++) {
        const t = performance.now();
        this.step(phase);
        const dt = performance.now() - t;
        if (phase === 'train' && i === 0 && dt > maxStepMs) throw new TooSlow(dt, maxStepMs);
      }
    }
  }

  private step(phase: Phase): void {
    if (phase === 'train') this.trainer!.step(this.x!, this.y!, LR);
    else tf.tidy(() => { this.net!.forward(this.x!).dataSync(); });
  }

  async run(phase: Phase, steps: number): Promise<Times> {
    await this.activate();
    const out: Times = { wall: [], cpu: [] };
    const before = tf.memory().numTensors, sparseBefore = sparseCounts().forward;
    for (let i = 0; i < steps; i++) {
      const c = process.cpuUsage(), t = performance.now();
      this.step(phase);
      out.wall.push(performance.now() - t);
      const dc = process.cpuUsage(c);
      out.cpu.push((dc.user + dc.system) / 1000);
    }
    const leaked = tf.memory().numTensors - before;
    if (leaked !== 0) throw new Error(`${this.name}/${this.w.name}: ${leaked} tensors leaked by ${phase} steps`);
    if (this.cfg.sparse && sparseCounts().forward === sparseBefore) throw new Error(`${this.name}/${this.row.key}: the sparse kernels never ran`);
    return out;
  }

  dispose(): void {
    this.trainer?.dispose();
    this.net?.dispose();
    tf.dispose([this.x!, this.y!].filter(Boolean));
  }
}

/** The PyTorch side: one long-lived `pytorch_bench.py --serve` process, one request at a time. */
class PyServer {
  private readonly proc: ChildProcessWithoutNullStreams;
  private buffer = '';
  private readonly lines: string[] = [];
  private waiting: ((line: string) => void) | null = null;
  private exited: string | null = null;

  constructor(python: string, readonly threads: number) {
    this.proc = spawn(python, [path.join(ROOT, 'bench', 'pytorch_bench.py'), '--serve', '--threads', String(threads)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d) => process.stderr.write(d));
    this.proc.stdout.on('data', (d: Buffer) => {
      this.buffer += d.toString();
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        this.lines.push(this.buffer.slice(0, nl));
        this.buffer = this.buffer.slice(nl + 1);
      }
      this.deliver();
    });
    this.proc.on('exit', (code) => { this.exited = `pytorch_bench.py --serve exited (${code})`; this.deliver(); });
  }

  private deliver(): void {
    if (!this.waiting) return;
    const w = this.waiting;
    if (this.lines.length) { this.waiting = null; w(this.lines.shift()!); }
    else if (this.exited) { this.waiting = null; w(JSON.stringify({ error: this.exited })); }
  }

  request(req: object): Promise<any> {
    return new Promise((resolve, reject) => {
      this.waiting = (line) => {
        const r = JSON.parse(line);
        if (r.error) reject(new Error(`PyTorch: ${r.error}`));
        else resolve(r);
      };
      if (!this.exited) this.proc.stdin.write(JSON.stringify(req) + '\n');
      this.deliver();
    });
  }

  close(): void {
    if (this.exited) return;
    this.proc.stdin.write(JSON.stringify({ cmd: 'quit' }) + '\n');
    this.proc.stdin.end();
  }
}

class PyRunner implements Runner {
  readonly name = 'pytorch';
  constructor(private readonly server: PyServer, private readonly row: Row) {}
  async setup(warmup: number): Promise<void> {
    await this.server.request({ cmd: 'setup', workload: this.row.w.name, density: this.row.density, warmup });
  }
  async run(phase: Phase, steps: number): Promise<Times> {
    return this.server.request({ cmd: 'run', workload: this.row.w.name, density: this.row.density, phase, steps });
  }
  dispose(): void { /* the server keeps its models until it quits */ }
}

function torchVersion(python: string): string {
  return spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' }).stdout.trim();
}

function findPython(): string | null {
  for (const py of [process.env.PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean) as string[]) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return null;
}

/** Interleave ROUND-step chunks of every runner until each has `steps` (or >= 5 steps past its budget). */
async function measure(runners: Runner[], steps: number, budgetMs: number): Promise<Map<string, Entry>> {
  const times = new Map<string, Record<Phase, Times>>();
  const failed = new Map<string, string>();
  for (const r of runners) times.set(r.name, { train: { wall: [], cpu: [] }, infer: { wall: [], cpu: [] } });
  for (const phase of ['train', 'infer'] as const) {
    const spent = new Map<string, number>(runners.map((r) => [r.name, 0]));
    const done = (r: Runner) => {
      const n = times.get(r.name)![phase].wall.length;
      return failed.has(r.name) || n >= steps || (n >= 5 && spent.get(r.name)! > budgetMs);
    };
    while (runners.some((r) => !done(r))) {
      for (const r of runners) {
        if (done(r)) continue;
        try {
          const t = await r.run(phase, Math.min(ROUND, steps - times.get(r.name)![phase].wall.length));
          const acc = times.get(r.name)![phase];
          acc.wall.push(...t.wall);
          acc.cpu.push(...t.cpu);
          spent.set(r.name, spent.get(r.name)! + t.wall.reduce((a, b) => a + b, 0));
        } catch (e) {
          failed.set(r.name, (e as Error).message);
        }
      }
    }
  }
  const out = new Map<string, Entry>();
  for (const r of runners) {
    const f = failed.get(r.name);
    if (f) { out.set(r.name, { error: f }); continue; }
    const t = times.get(r.name)!;
    // minima too: on a busy shared machine they show the undisturbed step better than the median
    out.set(r.name, {
      train_ms: median(t.train.wall), train_cpu_ms: median(t.train.cpu), train_steps: t.train.wall.length,
      infer_ms: median(t.infer.wall), infer_cpu_ms: median(t.infer.cpu), infer_steps: t.infer.wall.length,
      train_min_ms: Math.min(...t.train.wall), infer_min_ms: Math.min(...t.infer.wall),
      train_cpu_min_ms: Math.min(...t.train.cpu), infer_cpu_min_ms: Math.min(...t.infer.cpu),
    });
  }
  return out;
}

function fmt(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

const ok = (e: Entry | undefined): e is Timing => !!e && 'train_ms' in e;

function printTable(res: Results, configs: string[]): void {
  const cols = [...configs, 'pytorch', 'best/pt', 'cpu-time'];
  const head = ['workload', 'phase', ...cols];
  const rows: string[][] = [];
  for (const w of Object.keys(res.tfjs)) {
    for (const phase of ['train', 'infer'] as const) {
      const entries = configs.map((c) => res.tfjs[w]?.[c]);
      const vals = entries.map((e) => (ok(e) ? e[`${phase}_ms`] : undefined));
      const pt = res.pytorch?.[w];
      const ptv = ok(pt) ? pt[`${phase}_ms`] : undefined;
      let best = -1;
      vals.forEach((v, i) => { if (v !== undefined && (best < 0 || v < vals[best]!)) best = i; });
      const bestEntry = best >= 0 ? entries[best] : undefined;
      const ratio = ptv && best >= 0 ? `${(vals[best]! / ptv).toFixed(2)}x` : '-';
      const cpuRatio = ok(pt) && ok(bestEntry) ? `${(bestEntry[`${phase}_cpu_ms`] / pt[`${phase}_cpu_ms`]).toFixed(2)}x` : '-';
      const cell = (e: Entry | undefined, v: number | undefined) =>
        ok(e) ? fmt(v) : e?.first_step_ms !== undefined ? (phase === 'train' ? `(${fmt(e.first_step_ms)})` : '-') : e ? 'error' : '-';
      rows.push([w, phase, ...entries.map((e, i) => cell(e, vals[i])), fmt(ptv), ratio, cpuRatio]);
    }
  }
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ');
  console.log('\nmedian wall ms per step; best/pt = fastest TF.js config / PyTorch (same threads), same rounds; rows:');
  console.log('workload (1 thread, 10% masks computed dense), "Nt" = N threads, "s0.99" = 99% sparse masks (TF.js sparse kernels);');
  console.log('cpu-time = the same ratio in process CPU time (less sensitive to other jobs on the machine);');
  console.log('(x) = ms of the one step run by a configuration too slow to time (over --max-step-ms)');
  console.log(line(head));
  console.log(width.map((n) => '-'.repeat(n)).join('  '));
  for (const r of rows) console.log(line(r));
}

/**
 * V8 optimises TF.js's engine code (tape, tidy, kernel dispatch: ~120 calls per LeNet step) only after many
 * calls, so the first workload timed used to pay for it: LeNet-300-100 trained at 3.8 ms per step after 5
 * warm-up steps and 2.4 ms after 200 (AMD EPYC Zen 5, 2026-12-06), while PyTorch has no such phase. Throwaway
 * nets of the 1-thread MLP rows (or of the first row) are trained `steps` steps first (not more warm-up of the timed nets: their
 * weights would drift away from PyTorch's, which start from the same state).
 */
async function warmJit(rows: readonly Row[], steps: number, budgetMs: number, maxStepMs: number): Promise<void> {
  if (steps === 0) return;
  // the MLP rows (each step is short, so its calls are many), or the first row if none: the JS paths are shared
  const mlps = rows.filter((r) => r.threads === 1 && r.density === DENSITY && r.w.model.arch === 'ffnn');
  for (const row of mlps.length ? mlps : rows.slice(0, 1)) {
    for (const c of row.configs.filter((x) => x.backend === 'wasm')) {
      const r = new TfRunner(c, row);
      try { await r.setup(steps, budgetMs, maxStepMs); } catch { /* a too-slow configuration is reported by its own row */ } finally { r.dispose(); }
    }
  }
}

async function main(): Promise<void> {
  const steps = Number(arg('steps') ?? 20), warmup = Number(arg('warmup') ?? 5), budgetMs = Number(arg('budget-ms') ?? 60000);
  const maxStepMs = Number(arg('max-step-ms') ?? 15000);
  if (!(steps >= 5) || !(warmup >= 1) || !(budgetMs > 0) || !(maxStepMs > 0)) {
    throw new Error('bench: need --steps >= 5, --warmup >= 1, --budget-ms > 0, --max-step-ms > 0.');
  }
  const jitSteps = Number(arg('jit-warmup') ?? 200);
  if (!(Number.isInteger(jitSteps) && jitSteps >= 0)) throw new Error(`bench: --jit-warmup wants a step count >= 0, got ${arg('jit-warmup')}.`);
  const wanted = arg('workloads')?.split(',');
  const workloads = wanted ? WORKLOADS.filter((w) => wanted.includes(w.name)) : WORKLOADS;
  if (wanted && workloads.length !== wanted.length) {
    throw new Error(`Unknown workload in --workloads ${wanted}: known ${WORKLOADS.map((w) => w.name).join(', ')}.`);
  }
  const native = nativeStatus();
  const explicitConfigs = arg('configs') !== undefined;
  const configs = (arg('configs')?.split(',') ?? CONFIGS.map((c) => c.name)).map((n) => {
    const c = CONFIGS.find((k) => k.name === n);
    if (!c) throw new Error(`Unknown config '${n}': use ${CONFIGS.map((k) => k.name).join(', ')}.`);
    return c;
  });
  const skipped = configs.filter((c) => c.native && !native.active);
  if (skipped.length) console.log(`skipping ${skipped.map((c) => c.name).join(', ')}: ${native.detail}`);
  const active = configs.filter((c) => !skipped.includes(c));
  const out = path.resolve(arg('out') ?? path.join(ROOT, 'bench', 'results.json'));
  const cores = os.cpus().length;
  const threadList = [...new Set((arg('threads') ?? `1,${cores}`).split(',').map(Number))];
  if (!threadList.every((t) => Number.isInteger(t) && t >= 1 && t <= 256)) throw new Error(`bench: --threads wants integers 1..256, got ${arg('threads')}.`);
  const sparsities = arg('sparsity')?.split(',').map(Number) ?? [];
  if (!sparsities.every((v) => v > 0 && v < 1)) throw new Error(`bench: --sparsity wants fractions in (0, 1) such as 0.95,0.99, got ${arg('sparsity')}.`);
  const sparseOk = native.active && active.some((c) => c.name === 'wasm+native');
  if (sparsities.length && !sparseOk) console.log('--sparsity rows need the wasm+native configuration with the native addon: skipped.');
  const rows: Row[] = [];
  for (const w of workloads) {
    rows.push({ key: w.name, w, density: DENSITY, threads: 1, configs: active.filter((c) => !(c.mlpOnly && !explicitConfigs && w.model.arch !== 'ffnn')) });
    for (const t of threadList.filter((t) => t > 1 && native.active)) {
      rows.push({ key: `${w.name} ${t}t`, w, density: DENSITY, threads: t, configs: active.filter((c) => c.name === 'wasm+native') });
    }
  }
  for (const w of sparseOk ? workloads.filter((w) => w.model.arch === 'ffnn') : []) {
    for (const sp of sparsities) {
      for (const t of threadList) {
        rows.push({ key: `${w.name} s${sp}${t > 1 ? ` ${t}t` : ''}`, w, density: 1 - sp, threads: t, configs: [SPARSE_CONFIG, active.find((c) => c.name === 'wasm+native')!] });
      }
    }
  }
  const python = process.argv.includes('--no-pytorch') ? null : findPython();
  if (!python && !process.argv.includes('--no-pytorch')) console.log('PyTorch not found (set PYTHON=/path/to/python with torch): no ratios.');
  const servers = new Map<number, PyServer>();
  const serverFor = (t: number) => {
    if (!servers.has(t)) servers.set(t, new PyServer(python!, t));
    return servers.get(t)!;
  };

  const machine = describeMachine(native);
  const torchBlas: TorchBlas | null = python ? await serverFor(1).request({ cmd: 'info' }) : null;
  const warnings = blasDifferences(machine, torchBlas);
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.isa.join(' ')}`);
  console.log(`TF.js side: ${machine.tfjs_openblas ? `${machine.tfjs_openblas.config}, core ${machine.tfjs_openblas.core}, addon loops ${machine.tfjs_openblas.kernel_isa}` : native.detail}`);
  if (torchBlas) console.log(`PyTorch side: torch ${torchBlas.torch}; ${[...new Set(torchBlas.openblas.map((o) => `${o.config}, core ${o.core}`))].join('; ') || torchBlas.build.join('; ')}`);
  for (const wmsg of warnings) console.warn(`warning: ${wmsg}`);

  const res: Results = {
    meta: {
      date: new Date().toISOString(), cpu: machine.cpu, cores, machine, blas_warnings: warnings, node: process.version, tfjs: tf.version.tfjs,
      native, loadavg_start: os.loadavg(), steps, warmup, jit_warmup_steps: jitSteps, budget_ms: budgetMs, density: DENSITY, round: ROUND, threads: threadList,
      sparsity: sparsities, sparse_max_density: DEFAULT_SPARSE_MAX_DENSITY,
      method: `median over steps; configurations and PyTorch interleaved in rounds of ${ROUND} steps; wall and process-CPU ms`,
    },
    tfjs: {},
    ...(python ? { pytorch: {}, pytorch_meta: { python, threads: threadList, torch: torchVersion(python), blas: torchBlas } } : {}),
  };
  const kernels: Record<string, string[]> = {};
  for (const c of active) {
    await initBackend(c.backend);
    kernels[c.name] = registerExtraKernels(c.backend, { native: c.native }).filter((k) => k.startsWith(`${c.backend}:`));
    console.log(`${c.name}: ${kernels[c.name].join(', ') || '(TF.js kernels only)'}`);
  }
  res.meta.kernels = kernels;
  if (process.argv.includes('--break-even') && native.active) {
    console.log('sparse kernels: break-even density per layer shape (sparse/dense us, forward + gradients, 1 thread):');
    await initBackend('wasm');
    registerExtraKernels('wasm', { native: true });
    setNativeThreads(1);
    res.sparse_break_even = breakEven();
  }
  try {
    await warmJit(rows, jitSteps, budgetMs, maxStepMs);
    for (const row of rows) {
      const runners: Runner[] = row.configs.map((c) => new TfRunner(c, row));
      if (python) runners.push(new PyRunner(serverFor(row.threads), row));
      const ready: Runner[] = [];
      const failed = new Map<string, Entry>();
      res.tfjs[row.key] = {};
      for (const r of runners) {
        try {
          await r.setup(warmup, budgetMs, maxStepMs);
          ready.push(r);
        } catch (e) {
          failed.set(r.name, e instanceof TooSlow ? { error: e.message, first_step_ms: e.ms } : { error: `setup failed: ${(e as Error).message}` });
        }
      }
      const m = await measure(ready, steps, budgetMs);
      for (const r of runners) r.dispose();
      for (const [name, e] of [...failed, ...m]) {
        // more CPU than wall time x threads means a BLAS pool escaped the pinning
        if (name === 'pytorch' && ok(e) && e.train_cpu_ms > 1.3 * row.threads * e.train_ms) {
          console.warn(`  warning: PyTorch used ${(e.train_cpu_ms / e.train_ms).toFixed(1)}x its wall time in CPU on ${row.key}: more than ${row.threads} thread(s).`);
        }
        if (name === 'pytorch') res.pytorch![row.key] = e;
        else res.tfjs[row.key][name] = e;
        console.log(`  ${row.key.padEnd(36)} ${name.padEnd(18)} ` + (ok(e)
          ? `train ${fmt(e.train_ms).padStart(7)} ms (${e.train_steps})  infer ${fmt(e.infer_ms).padStart(7)} ms (${e.infer_steps})`
          : `failed: ${e.error}`));
      }
    }
  } finally {
    for (const sv of servers.values()) sv.close();
  }
  res.meta.loadavg_end = os.loadavg();
  fs.writeFileSync(out, JSON.stringify(res, null, 2) + '\n');
  printTable(res, [...new Set(rows.flatMap((r) => r.configs.map((c) => c.name)))]);
  for (const wmsg of warnings) console.warn(`warning: ${wmsg}`);
  console.log(`\nload average ${os.loadavg().map((v) => v.toFixed(1)).join(' ')} (start ${(res.meta.loadavg_start as number[]).map((v) => v.toFixed(1)).join(' ')})`);
  console.log(`written to ${path.relative(process.cwd(), out)}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
