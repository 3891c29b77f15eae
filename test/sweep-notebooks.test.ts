/**
 * `sweep plan` lists every config the notebooks compute. At the smoke budget, every notebook's
 * configs are planned wave after wave (a deferred stage becomes plannable once the records it needs
 * are stored) and run with `sweep run --all`, the command a Slurm array task runs, here without
 * Slurm. Then all five notebooks execute through scripts/reproduce on that store and must compute
 * nothing. Checked two ways: the engine's compute log (PRUNE_AT_INIT_COMPUTE_LOG: every sweep, in
 * the notebook kernel or anywhere else, appends its computed / cached counts) and the store's
 * files, listed and read before and after.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { COMPUTE_LOG_ENV, computeTally, originsSentence, readClaimsFile, readComputeLog, registerTask, resultOrigins, runSweep } from 'prune-at-init';
import { listNotebooks, ReproduceResult, runReproduce } from '../scripts/reproduce';

const ROOT = (() => { let d = __dirname; while (!fs.existsSync(path.join(d, 'lib', 'package.json'))) d = path.dirname(d); return d; })();
const CLI = require.resolve('prune-at-init/dist/cli');

function cli(args: string[], store: string): any {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, PRUNE_AT_INIT_RESULTS: store }, timeout: 3600_000 });
  assert.equal(r.status, 0, `prune-at-init ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Every record file under the store: task/name -> its bytes (hidden files such as .step-times.json left out). */
function storeFiles(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const task of fs.readdirSync(root)) {
    const dir = path.join(root, task);
    if (task.startsWith('.') || !fs.statSync(dir).isDirectory()) continue;
    for (const f of fs.readdirSync(dir)) out.set(`${task}/${f}`, fs.readFileSync(path.join(dir, f)));
  }
  return out;
}

function withEnv<T>(vars: Record<string, string>, f: () => Promise<T>): Promise<T> {
  const old = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  return f().finally(() => { for (const [k, v] of Object.entries(old)) if (v === undefined) delete process.env[k]; else process.env[k] = v; });
}

/** Run `f` in a fresh folder under build/test-tmp holding a task module `<fn>.js` that exports `fn = <body>`; the folder is removed after. */
async function withToyModule(prefix: string, fn: string, body: string, f: (dir: string, mod: string) => Promise<void>): Promise<void> {
  fs.mkdirSync(path.join(ROOT, 'build', 'test-tmp'), { recursive: true });
  const dir = fs.mkdtempSync(path.join(ROOT, 'build', 'test-tmp', prefix));
  try {
    const mod = path.join(dir, `${fn}.js`);
    fs.writeFileSync(mod, `exports.${fn} = ${body};\n`);
    await f(dir, mod);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
}

describe('engine compute tally', () => {
  it('counts configs computed and served from the store, in this process and in the compute log', () =>
    withToyModule('tally-', 'square', '(c) => ({ y: c.x * c.x })', async (dir, mod) => {
      const task = registerTask({ name: 'tally-toy', module: mod, export: 'square', defaults: { x: 0 } });
      const log = path.join(dir, 'compute.log');
      const store = path.join(dir, 'store');
      const before = computeTally();
      await withEnv({ [COMPUTE_LOG_ENV]: log }, async () => {
        await runSweep({ task, configs: [{ x: 1 }, { x: 2 }, { x: 2 }], workers: 0, store });
        await runSweep({ task, configs: [{ x: 2 }, { x: 3 }], workers: 1, store });
      });
      const after = computeTally();
      // distinct configs: {1, 2} computed, then 2 read back and 3 computed (in a worker process)
      assert.deepEqual({ computed: after.computed - before.computed, cached: after.cached - before.cached }, { computed: 3, cached: 1 });
      assert.deepEqual(readComputeLog(log).map((l) => [l.task, l.computed, l.cached, l.failed]), [['tally-toy', 2, 0, 0], ['tally-toy', 1, 1, 0]]);
      assert.equal(fs.readdirSync(store).filter((f) => f.endsWith('.json')).length, 3, 'one record file per distinct computed config');
    }));
});

/** The checkout's commit, read by git itself (the engine reads .git files directly). */
const HEAD = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();

describe('engine result origins', () => {
  it('counts each distinct result once, under the commit that computed it, and says which this process computed', () =>
    withToyModule('origins-', 'cube', '(c) => ({ y: c.x * c.x * c.x })', async (dir, mod) => {
      const task = registerTask({ name: 'origins-toy', module: mod, export: 'cube', defaults: { x: 0 } });
      const store = path.join(dir, 'store');
      // a record computed "elsewhere": by a twin task in another store, then given this task and another commit
      const twin = registerTask({ name: 'origins-toy-twin', module: mod, export: 'cube', defaults: { x: 0 } });
      const other = path.join(dir, 'other');
      await runSweep({ task: twin, configs: [{ x: 5 }], workers: 0, store: other });
      const [file] = fs.readdirSync(other).filter((f) => f.endsWith('.json'));
      const rec = JSON.parse(fs.readFileSync(path.join(other, file), 'utf8'));
      Object.assign(rec, { task: task.name });
      rec.meta.versions.git = 'feedbeef'.repeat(5);
      fs.mkdirSync(store, { recursive: true });
      fs.writeFileSync(path.join(store, file), JSON.stringify(rec));
      const before = resultOrigins();
      await runSweep({ task, configs: [{ x: 5 }, { x: 6 }, { x: 6 }], workers: 0, store });
      await runSweep({ task, configs: [{ x: 6 }, { x: 7 }], workers: 1, store });
      const after = resultOrigins();
      const gained = (c: string) => (after.commits[c] ?? 0) - (before.commits[c] ?? 0);
      // x = 5 read back (other commit); 6 computed here, then read back (counted once); 7 computed in a worker
      assert.deepEqual([after.results - before.results, after.computedHere - before.computedHere], [3, 2]);
      assert.ok(/^[0-9a-f]{40}$/.test(HEAD), `git rev-parse HEAD gave ${HEAD}`);
      assert.deepEqual([gained(HEAD), gained('feedbeef'.repeat(5))], [2, 1]);
      assert.equal(originsSentence({ results: 3, computedHere: 2, commits: { [HEAD]: 2, ['feedbeef'.repeat(5)]: 1 } }),
        `Its 3 results: 2 computed in this run, the rest read from the store; by commit ${HEAD.slice(0, 7)} (2), commit feedbee (1).`);
    }));
});

describe('sweep plan lists everything the notebooks compute (smoke budget, every notebook)', function () {
  this.timeout(3600_000);
  let tmp = '', store = '';
  const waves: Array<{ toCompute: number; deferred: string[]; computed: number }> = [];
  let result: ReproduceResult;
  let logLines: ReturnType<typeof readComputeLog> = [];
  let filesBefore: Map<string, Buffer>;
  let filesAfter: Map<string, Buffer>;
  const notebooks = listNotebooks(path.join(ROOT, 'notebooks')).map((f) => path.basename(f, '.ipynb'));

  before(async function () {
    this.timeout(3600_000);
    const base = path.join(ROOT, 'build', 'test-tmp');
    fs.mkdirSync(base, { recursive: true });
    tmp = fs.mkdtempSync(path.join(base, 'sweep-nb-'));
    store = path.join(tmp, 'store');
    // waves: plan what is plannable, run it, plan again (notebook 03 needs three: bases, pruning, retraining)
    for (let w = 0; w < 5; w++) {
      const manifest = path.join(tmp, `wave-${w}.manifest`);
      const plan = cli(['sweep', 'plan', '--notebook', 'all', '--budget', 'smoke', '--out', manifest], store);
      if (plan.toCompute === 0) { waves.push({ toCompute: 0, deferred: plan.deferred, computed: 0 }); break; }
      const run = cli(['sweep', 'run', '--manifest', manifest, '--all', '--workers', '2'], store);
      waves.push({ toCompute: plan.toCompute, deferred: plan.deferred, computed: run.computed });
    }
    filesBefore = storeFiles(store);
    const log = path.join(tmp, 'compute.log');
    result = await withEnv({ PRUNE_AT_INIT_RESULTS: store, [COMPUTE_LOG_ENV]: log },
      () => runReproduce({ outDir: path.join(tmp, 'out'), budget: 'smoke', html: false, say: () => undefined }));
    logLines = readComputeLog(log);
    filesAfter = storeFiles(store);
    const perNotebook = notebooks.map((nb) => `${nb}: ${logLines.filter((l) => l.notebook === nb).map((l) => `${l.task} ${l.computed} computed / ${l.cached} cached`).join(', ')}`);
    console.log(`      waves (configs planned / computed): ${waves.map((w) => `${w.toCompute}/${w.computed}`).join(', ')}; ${filesBefore.size} record files\n      ${perNotebook.join('\n      ')}`);
  });

  after(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

  it('plans in waves until nothing is left or deferred, and each wave computes what it planned', () => {
    const last = waves.at(-1)!;
    assert.deepEqual([last.toCompute, last.deferred], [0, []], `the last plan still has work: ${JSON.stringify(waves)}`);
    assert.ok(waves.length >= 2 && waves.length <= 4, `waves: ${JSON.stringify(waves)}`);
    for (const w of waves.slice(0, -1)) assert.equal(w.computed, w.toCompute, `a wave computed ${w.computed} of ${w.toCompute} planned configs`);
  });

  for (const name of notebooks) {
    it(`${name} runs from the store with zero configs computed`, () => {
      const r = result.runs.find((x) => x.notebook === name);
      assert.ok(r, `${name} was not run`);
      assert.ok(r.ok, `${name} failed at code cell ${r.failure?.codeCell}: ${r.failure?.error}`);
      const mine = logLines.filter((l) => l.notebook === name);
      assert.ok(mine.length > 0, `${name} ran no sweep (compute log: ${JSON.stringify(logLines)})`);
      const sum = (k: 'computed' | 'cached' | 'failed') => mine.reduce((a, l) => a + l[k], 0);
      assert.deepEqual({ computed: sum('computed'), failed: sum('failed') }, { computed: 0, failed: 0 }, `${name}: ${JSON.stringify(mine)}`);
      assert.ok(sum('cached') > 0);
      // its claims file says where those results came from: all read from the store, all by this checkout
      const origins = readClaimsFile(path.join(tmp, 'out', 'claims', `${name}.json`)).results;
      assert.ok(origins && origins.results > 0 && origins.results <= sum('cached'), `${name}: ${JSON.stringify(origins)}`);
      assert.deepEqual([origins.computedHere, Object.keys(origins.commits)], [0, [HEAD]]);
    });
  }

  it('the store is unchanged by the notebooks: no record added, none rewritten', () => {
    assert.deepEqual([...filesAfter.keys()].sort(), [...filesBefore.keys()].sort());
    for (const [f, bytes] of filesBefore) assert.ok(filesAfter.get(f)!.equals(bytes), `${f} was rewritten`);
    // every sweep the notebooks ran was logged from the notebook kernels (none from elsewhere)
    assert.deepEqual([...new Set(logLines.map((l) => l.notebook))].sort(), [...notebooks].sort());
  });
});
