import { strict as assert } from 'assert';
import { execFileSync, spawn, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';
import {
  aggregate, canonicalize, configKey, expandGrid, openStore, progressLine, resultsTable, runSweep, runTask,
  registerTask, getTask, StoreProblem, SweepProgress, SweepRecord, TaskSpec, toRows, withDefaults,
} from 'prune-at-init';
import { toyDefaults } from './fixtures/engine/toy-task';

// Runs as .ts under tsx (dev) and as compiled .js from build/test (npm test): fixtures follow suit.
const EXT = path.extname(__filename);
const FIX = path.join(__dirname, 'fixtures', 'engine');
const NODE_ARGS = EXT === '.ts' ? ['--require', require.resolve('tsx/cjs')] : [];
const ROOT = (() => { let d = __dirname; while (!fs.existsSync(path.join(d, 'lib', 'package.json'))) d = path.dirname(d); return d; })();
const TOY: TaskSpec = { name: 'toy', module: path.join(FIX, `toy-task${EXT}`), export: 'toy', defaults: toyDefaults };
const sha16 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex').slice(0, 16);
const expectedY = (x: number, seed: number, scale = 1) => scale * x * x + seed / 10;

let tmp: string;
const sub = (name: string) => path.join(tmp, name);
/** Execution markers written by the toy task: one per completed execution. */
function execs(dir: string): { key: string; pid: number; x: number }[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.exec')).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
}
/** Whether a process group has a live (non-zombie) member; zombies wait for init to reap them. */
function groupAlive(pgid: number): boolean {
  if (!fs.existsSync('/proc/self/stat')) { try { process.kill(-pgid, 0); return true; } catch { return false; } }
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).some((pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // state ppid pgrp ...
      return Number(f[2]) === pgid && f[0] !== 'Z';
    } catch { return false; }
  });
}
/** Live (non-zombie) sweep workers started by this process. */
function liveWorkers(): number[] {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(f[1]) === process.pid && f[0] !== 'Z' && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('engine/worker');
    } catch { return false; }
  }).map(Number);
}
const quietStore = (dir: string, problems: StoreProblem[] = []) => openStore({ dir, onProblem: (p) => problems.push(p) });

before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-test-')); });
after(() => { fs.rmSync(tmp, { recursive: true, force: true }); delete process.env.TOY_TASK_LOG_DIR; });

describe('engine: canonical form and keys', () => {
  const defaults = { lr: 0.001, model: { depth: 6, width: 100, act: 'relu' }, seed: 0, tags: [] as string[] };

  it('ignores key order, drops undefined, omits defaults at every level', () => {
    const a = { seed: 3, model: { width: 200, depth: 6 }, lr: 0.01, note: undefined };
    const b = { lr: 0.01, model: { depth: 6, width: 200, act: 'relu' }, seed: 3 };
    assert.equal(canonicalize(a, defaults), '{"lr":0.01,"model":{"width":200},"seed":3}');
    assert.equal(canonicalize(b, defaults), canonicalize(a, defaults));
    assert.equal(configKey(a, defaults), configKey(b, defaults));
    // All at defaults (explicitly or not) -> empty object; an empty array equal to the default is omitted.
    assert.equal(canonicalize({ lr: 0.001, model: { act: 'relu' }, tags: [] }, defaults), '{}');
    assert.equal(canonicalize({}, defaults), '{}');
    // Arrays keep order; objects inside arrays get sorted keys; -0 is 0; 1.0 is 1.
    assert.equal(canonicalize({ tags: ['b', 'a'], v: [{ z: 1, a: -0 }], w: 1.0 }), '{"tags":["b","a"],"v":[{"a":0,"z":1}],"w":1}');
    assert.notEqual(configKey({ tags: ['a', 'b'] }), configKey({ tags: ['b', 'a'] }));
  });

  it('adding an option at its default keeps every old key', () => {
    const configs = [{}, { lr: 0.1 }, { model: { width: 50 }, seed: 2 }];
    const newDefaults = { ...defaults, rescale: false, model: { ...defaults.model, bias: true } };
    for (const c of configs) assert.equal(configKey(c, newDefaults), configKey(c, defaults));
    assert.equal(configKey({ rescale: false, model: { bias: true } }, newDefaults), configKey({}, defaults));
    assert.notEqual(configKey({ rescale: true }, newDefaults), configKey({}, defaults));
  });

  it('rejects values that are not plain JSON data, naming the path', () => {
    assert.throws(() => canonicalize({ a: { b: NaN } }), /config\.a\.b is NaN/);
    assert.throws(() => canonicalize({ a: [1, Infinity] }), /config\.a\[1\] is Infinity/);
    assert.throws(() => canonicalize({ d: new Date(0) }), /config\.d is an instance of Date/);
    assert.throws(() => canonicalize({ f: () => 1 }), /config\.f is a function/);
    assert.throws(() => canonicalize([] as never), /config is an array/);
  });

  it('pinned hashes: sha256 of hand-written canonical strings, first 16 hex chars', () => {
    const cases: [Record<string, unknown>, Record<string, unknown>, string, string][] = [
      [{}, {}, '{}', '44136fa355b3678a'],
      [{ b: [3, 1, { c: 'x' }], a: 1 }, {}, '{"a":1,"b":[3,1,{"c":"x"}]}', '8bf161f6ef87486a'],
      [{ seed: 3, model: { width: 100, depth: 6, act: 'relu' }, lr: 0.001, tags: [] }, { model: { act: 'relu' }, tags: [] },
        '{"lr":0.001,"model":{"depth":6,"width":100},"seed":3}', 'e2bee6e27a72bbbd'],
      [{ s: 'é"q', neg: -2.5, big: 1e21 }, {}, '{"big":1e+21,"neg":-2.5,"s":"é\\"q"}', '439089f774be5969'],
    ];
    for (const [config, defs, canonical, hex] of cases) {
      assert.equal(canonicalize(config, defs), canonical);
      assert.equal(configKey(config, defs), sha16(canonical));
      assert.equal(configKey(config, defs), hex); // literal, computed with `printf %s ... | sha256sum`
    }
  });

  it('withDefaults merges deeply; expandGrid orders paths slowest-first and seeds innermost', () => {
    assert.deepEqual(withDefaults({ model: { width: 5 }, x: [1] }, { model: { width: 1, depth: 2 }, x: [0, 0], y: 3 }),
      { model: { width: 5, depth: 2 }, x: [1], y: 3 });
    const g = expandGrid({ lr: 1 }, { 'model.width': [10, 20], method: ['a', 'b'] }, [0, 1]);
    assert.equal(g.length, 8);
    assert.deepEqual(g.slice(0, 3), [
      { lr: 1, model: { width: 10 }, method: 'a', seed: 0 },
      { lr: 1, model: { width: 10 }, method: 'a', seed: 1 },
      { lr: 1, model: { width: 10 }, method: 'b', seed: 0 },
    ]);
    assert.deepEqual(g[7], { lr: 1, model: { width: 20 }, method: 'b', seed: 1 });
    assert.throws(() => expandGrid({}, { a: [] }, [0]), /grid\['a'\] must be a non-empty array/);
    assert.throws(() => expandGrid({}, { a: [1] }, []), /seeds must be a non-empty array/);
  });
});

describe('engine: store', () => {
  it('round-trips records (NaN kept), writes atomically, never overwrites a valid file', async () => {
    const dir = sub('store1');
    const store = quietStore(dir);
    const rec = await runTask(TOY, { x: 3, seed: 2, mode: 'nan' });
    assert.equal(rec.key, configKey({ x: 3, seed: 2, mode: 'nan' }, toyDefaults));
    assert.deepEqual(rec.result, { y: expectedY(3, 2), sq: [3, 9], nan: NaN });
    store.put(rec.key, rec);
    assert.deepEqual(fs.readdirSync(dir), [`${rec.key}.json`]); // no temp file left
    const raw = JSON.parse(fs.readFileSync(path.join(dir, `${rec.key}.json`), 'utf8'));
    assert.equal(raw.result.y, expectedY(3, 2));
    assert.ok(Object.is(store.get<{ nan: number }>(rec.key)!.result.nan, NaN));
    const other = { ...rec, result: { y: -1, sq: [], nan: 0 } };
    assert.equal((store.put(rec.key, other).result as { y: number }).y, expectedY(3, 2)); // existing kept
    assert.equal(store.get<{ y: number }>(rec.key)!.result.y, expectedY(3, 2));
    assert.throws(() => store.get('../etc/passwd'), /Store key "..\/etc\/passwd" is invalid/);
    assert.throws(() => store.put(rec.key, { ...rec, meta: undefined } as never), /incomplete record.*missing meta/);
  });

  it('a truncated file is reported as corrupt, treated as missing, recomputed and kept aside', async () => {
    const dir = sub('store2'), log = sub('log2');
    process.env.TOY_TASK_LOG_DIR = log;
    const problems: StoreProblem[] = [];
    const store = quietStore(dir, problems);
    const configs = [{ x: 1 }, { x: 2 }];
    const first = await runSweep({ task: TOY, configs, workers: 0, store, progressBar: false });
    const key = first[1].key;
    const file = path.join(dir, `${key}.json`);
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text.slice(0, text.length >> 1));
    assert.equal(store.get(key), undefined);
    assert.equal(problems.length, 1);
    assert.match(problems[0].reason, /invalid JSON/);
    const again = await runSweep({ task: TOY, configs, workers: 0, store, progressBar: false });
    assert.deepEqual(again.map((r) => r.status), ['cached', 'computed']);
    assert.deepEqual(execs(log).map((e) => e.key).sort(), [first[0].key, key, key].sort()); // only x=2 ran again
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).result.y, expectedY(2, 0));
    const aside = fs.readdirSync(dir).filter((f) => f.startsWith(`${key}.json.corrupt-`));
    assert.equal(aside.length, 1);
    assert.equal(fs.readFileSync(path.join(dir, aside[0]), 'utf8'), text.slice(0, text.length >> 1));
  });
});

describe('engine: sweeps', () => {
  it('runs in 2 worker processes, returns records in order, and a second call computes nothing', async () => {
    const dir = sub('sweep1'), log = sub('log-sweep1');
    process.env.TOY_TASK_LOG_DIR = log;
    const configs = expandGrid({ sleepMs: 150 }, { x: [1, 2, 3] }, [0, 1]);
    const progress: SweepProgress[] = [];
    const recs = await runSweep<{ y: number }>({ task: TOY, configs, workers: 2, store: quietStore(dir), progressBar: false, onProgress: (p) => progress.push(p) });
    assert.equal(recs.length, 6);
    recs.forEach((r, i) => {
      if (r.status === 'error') return assert.fail(r.error.message);
      assert.equal(r.status, 'computed');
      assert.deepEqual(r.config, { ...toyDefaults, ...configs[i] });
      assert.equal(r.result.y, expectedY(configs[i].x as number, configs[i].seed as number));
      assert.equal(r.key, configKey(configs[i], toyDefaults));
    });
    const e1 = execs(log);
    assert.equal(e1.length, 6);
    const pids = new Set(e1.map((e) => e.pid));
    assert.equal(pids.size, 2, `expected two worker PIDs, got ${[...pids]}`);
    assert.ok(!pids.has(process.pid));
    const last = progress[progress.length - 1];
    assert.deepEqual({ ...last, etaSeconds: 0 }, { done: 6, total: 6, cached: 0, failed: 0, running: 0, etaSeconds: 0, lastKey: last.lastKey });
    assert.ok(progress.some((p) => p.running === 2));

    const again = await runSweep<{ y: number }>({ task: TOY, configs: [...configs, configs[0]], workers: 2, store: dir, progressBar: false });
    assert.equal(execs(log).length, 6); // nothing recomputed
    assert.deepEqual(again.map((r) => r.status), Array(7).fill('cached'));
    assert.deepEqual(again.slice(0, 6).map((r) => r.status !== 'error' && r.result), recs.map((r) => r.status !== 'error' && r.result));
    assert.equal(again[6].key, again[0].key);
  });

  it('records a failing config and a worker that dies, replaces the worker and goes on; failures are retried later', async () => {
    const dir = sub('sweep2'), log = sub('log-sweep2');
    process.env.TOY_TASK_LOG_DIR = log;
    const configs = [{ x: 1 }, { x: 2, mode: 'throw' }, { x: 3, mode: 'die' }, { x: 4 }, { x: 5 }];
    const origWrite = process.stderr.write; let stderr = '';
    process.stderr.write = ((s: string) => { stderr += s; return true; }) as typeof process.stderr.write;
    let recs: SweepRecord<{ y: number }>[];
    try {
      // one worker, so the configs after the one that kills it can only run in a replacement process
      // (with two, the surviving worker may take them all, and the replacement would go unobserved)
      recs = await runSweep<{ y: number }>({ task: TOY, configs, workers: 1, store: dir, progressBar: false });
    } finally { process.stderr.write = origWrite; }
    assert.deepEqual(recs.map((r) => r.status), ['computed', 'error', 'error', 'computed', 'computed']);
    assert.match((recs[1] as { error: { message: string } }).error.message, /toy failure for x=2/);
    assert.match((recs[2] as { error: { message: string } }).error.message, /died while running this config \(exit code null, signal SIGKILL\)/);
    assert.match(stderr, /2 of 5 configs failed/);
    assert.equal(fs.readdirSync(dir).filter((f) => f.endsWith('.json')).length, 3); // errors are not stored
    const pidOf = (x: number) => execs(log).filter((e) => e.x === x).map((e) => e.pid);
    assert.equal(pidOf(1).length, 1);
    assert.notDeepEqual(pidOf(4), pidOf(1), 'the config after the dead worker ran in the dead worker\'s process');
    assert.deepEqual(pidOf(5), pidOf(4));
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      const retry = await runSweep({ task: TOY, configs: [{ x: 1 }, { x: 2, mode: 'throw' }], workers: 0, store: dir, progressBar: false });
      assert.deepEqual(retry.map((x) => x.status), ['cached', 'error']);
    } finally { process.stderr.write = origWrite; }
  });

  it('rejects unknown options, a changed default and an unloadable task with clear errors', async () => {
    const dir = sub('sweep3');
    await assert.rejects(runSweep({ task: TOY, configs: [{ x: 1, sclae: 2 }], workers: 0, store: dir }), /configs\[0\]: Config option\(s\) 'sclae' unknown to task 'toy'/);
    await runSweep({ task: TOY, configs: [{ x: 1 }], workers: 0, store: dir, progressBar: false });
    const changed = { ...TOY, defaults: { ...toyDefaults, scale: 2 } };
    await assert.rejects(runSweep({ task: changed, configs: [{ x: 1 }], workers: 0, store: dir }), /a default value was changed/);
    const bad = { ...TOY, export: 'nope' };
    await assert.rejects(runSweep({ task: bad, configs: [{ x: 9 }], workers: 2, store: dir }), /has no exported function 'nope'/);
    registerTask(TOY);
    assert.equal(getTask('toy').module, TOY.module);
    assert.throws(() => getTask('missing'), /Unknown task 'missing': registered tasks are .*toy/);
  });

  it('an AbortSignal stops the sweep and its workers; rerunning resumes', async () => {
    const dir = sub('abort');
    process.env.TOY_TASK_LOG_DIR = sub('log-abort');
    const configs = [1, 2, 3, 4, 5, 6].map((x) => ({ x, sleepMs: 200 }));
    const ac = new AbortController();
    await assert.rejects(runSweep({ task: TOY, configs, workers: 2, store: dir, progressBar: false,
      onProgress: (p) => { if (p.done >= 1) ac.abort(); }, signal: ac.signal }), /Sweep aborted/);
    for (let i = 0; liveWorkers().length > 0; i++) {
      assert.ok(i < 200, `workers still alive 2 s after abort: ${liveWorkers()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const stored = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).length;
    assert.ok(stored >= 1 && stored < 6, `stored ${stored}`);
    const recs = await runSweep({ task: TOY, configs, workers: 2, store: dir, progressBar: false });
    assert.equal(recs.filter((r) => r.status === 'cached').length, stored);
    assert.equal(recs.filter((r) => r.status === 'computed').length, 6 - stored);
  });

  it('SIGKILL mid-sweep leaves only complete files; a rerun computes just the missing configs', async function () {
    this.timeout(60000);
    const dir = sub('kill'), log = sub('log-kill'), n = 12;
    process.env.TOY_TASK_LOG_DIR = log;
    const child = spawn(process.execPath, [...NODE_ARGS, path.join(FIX, `sweep-child${EXT}`), dir, String(n), '250'],
      { detached: true, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env } });
    let out = '';
    child.stdout!.on('data', (d) => { out += d; });
    const jsonFiles = () => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : []);
    const t0 = Date.now();
    while (jsonFiles().length < 3) {
      assert.ok(Date.now() - t0 < 20000, 'the child sweep produced no results in 20 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    process.kill(-child.pid!, 'SIGKILL'); // the sweep and its workers, mid-run
    await new Promise((r) => child.once('exit', r));
    for (let i = 0; groupAlive(child.pid!); i++) { // wait until the whole process group is gone
      assert.ok(i < 200, 'worker processes survived SIGKILL of their group');
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(out, '', 'the child sweep finished before it was killed');
    const stored = jsonFiles();
    assert.ok(stored.length >= 3 && stored.length < n, `stored ${stored.length}`);
    for (const f of stored) {
      const rec = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
      assert.equal(`${rec.key}.json`, f);
      assert.equal(rec.result.y, expectedY(rec.config.x, 1));
      assert.equal(typeof rec.meta.finishedAt, 'string');
    }
    const storedKeys = new Set(stored.map((f) => f.slice(0, -5)));

    const configs = expandGrid({ sleepMs: 250 }, { x: Array.from({ length: n }, (_, i) => i) }, [1]);
    const before = new Set(fs.readdirSync(log));
    const resumed = await runSweep<{ y: number }>({ task: TOY, configs, workers: 2, store: dir, progressBar: false });
    const ranNow = fs.readdirSync(log).filter((f) => !before.has(f)).map((f) => f.split('.')[0]).sort();
    const missing = configs.map((c) => configKey(c, toyDefaults)).filter((k) => !storedKeys.has(k)).sort();
    assert.deepEqual(ranNow, missing);
    assert.deepEqual(resumed.map((r) => r.status === 'cached'), configs.map((c) => storedKeys.has(configKey(c, toyDefaults))));
    assert.deepEqual(fs.readdirSync(dir).filter((f) => !f.endsWith('.json')), []); // stale temp files removed

    const fresh = await runSweep<{ y: number }>({ task: TOY, configs: configs.map((c) => ({ ...c, sleepMs: 0 })), workers: 0, store: sub('kill-fresh'), progressBar: false });
    assert.deepEqual(resumed.map((r) => r.status !== 'error' && r.result), fresh.map((r) => r.status !== 'error' && r.result));
  });

  it('worker processes exit when the sweep process is killed', async () => {
    const dir = sub('orphans');
    process.env.TOY_TASK_LOG_DIR = sub('log-orphans');
    const child = spawn(process.execPath, [...NODE_ARGS, path.join(FIX, `sweep-child${EXT}`), dir, '8', '300'],
      { detached: true, stdio: 'ignore', env: { ...process.env } });
    const t0 = Date.now();
    while (!fs.existsSync(dir) || fs.readdirSync(dir).filter((f) => f.endsWith('.json')).length < 1) {
      assert.ok(Date.now() - t0 < 20000, 'the child sweep produced no results in 20 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    process.kill(child.pid!, 'SIGKILL'); // only the parent: its workers must notice and quit
    await new Promise((r) => child.once('exit', r));
    for (let i = 0; groupAlive(child.pid!); i++) {
      assert.ok(i < 300, 'orphaned sweep workers are still running 3 s after their parent died');
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(fs.readdirSync(dir).filter((f) => f.endsWith('.json')).length < 8);
  });

  it('workers busy in synchronous compute exit within 3 s of the parent\'s SIGKILL, without an EPIPE trace (issue 14 defect 7)', async () => {
    const dir = sub('orphans-busy');
    const child = spawn(process.execPath, [...NODE_ARGS, path.join(FIX, `sweep-child${EXT}`), dir, '2', '30000', 'busy'],
      { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env } });
    let err = '';
    child.stderr!.on('data', (d) => { err += d; });
    const workers = () => fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((pid) => {
      try { return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1] === String(child.pid); } catch { return false; }
    });
    const t0 = Date.now();
    while (workers().length < 2) {
      assert.ok(Date.now() - t0 < 20000, 'the child sweep started no workers in 20 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1500)); // both are now inside the 30 s busy loop
    process.kill(child.pid!, 'SIGKILL');
    await new Promise((r) => child.once('exit', r));
    for (let i = 0; groupAlive(child.pid!); i++) {
      assert.ok(i < 300, 'busy sweep workers are still running 3 s after their parent died');
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(!/EPIPE/.test(err), err);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.json')), []);
  });

  it('a read-only results folder fails before anything is computed (issue 14 defect 6)', async () => {
    const dir = sub('readonly'), log = sub('log-readonly');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o555);
    const root = process.getuid?.() === 0;
    if (root) execFileSync('chattr', ['+i', dir]); // root ignores permission bits; immutable stops root too
    process.env.TOY_TASK_LOG_DIR = log;
    try {
      await assert.rejects(runSweep({ task: TOY, configs: [{ x: 1 }, { x: 2 }], workers: 0, store: dir, progressBar: false }),
        (e: Error) => /Results folder .*readonly is not writable \((EACCES|EPERM|EROFS)\); nothing was computed\. Make .* writable/.test(e.message));
      assert.deepEqual(execs(log), []);
      // a store that has every result cached needs no write access
    } finally {
      if (root) execFileSync('chattr', ['-i', dir]);
      fs.chmodSync(dir, 0o755);
    }
  });

  it('a stored record with result null is corrupt: reported and recomputed, not served (issue 14 defect 8)', async () => {
    const dir = sub('null-result');
    const problems: StoreProblem[] = [];
    const store = quietStore(dir, problems);
    const [first] = await runSweep<{ y: number }>({ task: TOY, configs: [{ x: 3 }], workers: 0, store, progressBar: false });
    assert.equal(first.status, 'computed');
    const file = store.file(first.key);
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), result: null }));
    const [again] = await runSweep<{ y: number }>({ task: TOY, configs: [{ x: 3 }], workers: 0, store, progressBar: false });
    assert.equal(again.status, 'computed');
    assert.equal((again as { result: { y: number } }).result.y, 9);
    assert.match(problems[0].reason, /result is null/);
  });

  it('works from compiled JavaScript without tsx', function () {
    this.timeout(30000);
    const out = sub('compiled');
    const compile = (src: string, dst: string) => {
      const js = ts.transpileModule(fs.readFileSync(src, 'utf8'), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText;
      fs.mkdirSync(path.dirname(dst), { recursive: true });
      fs.writeFileSync(dst, js);
    };
    const engineSrc = path.join(ROOT, 'lib', 'src', 'engine');
    for (const f of fs.readdirSync(engineSrc).filter((f) => f.endsWith('.ts'))) compile(path.join(engineSrc, f), path.join(out, 'engine', f.replace(/\.ts$/, '.js')));
    compile(path.join(ROOT, 'test', 'fixtures', 'engine', 'toy-task.ts'), path.join(out, 'toy-task.js'));
    fs.writeFileSync(path.join(out, 'run.js'), `
      const { runSweep } = require('./engine/sweep');
      const { toyDefaults } = require('./toy-task');
      runSweep({ task: { name: 'toy', module: __dirname + '/toy-task.js', export: 'toy', defaults: toyDefaults },
        configs: [1, 2, 3, 4].map((x) => ({ x, sleepMs: 100 })), workers: 2, store: __dirname + '/store', progressBar: false })
        .then((r) => console.log(JSON.stringify({ execArgv: process.execArgv, recs: r.map((x) => ({ y: x.result.y, pid: x.meta.pid })) })));
    `);
    const res = spawnSync(process.execPath, [path.join(out, 'run.js')], { encoding: 'utf8', env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') } });
    assert.equal(res.status, 0, res.stderr);
    const got = JSON.parse(res.stdout);
    assert.deepEqual(got.execArgv, []);
    assert.deepEqual(got.recs.map((r: { y: number }) => r.y), [1, 4, 9, 16]);
    assert.equal(new Set(got.recs.map((r: { pid: number }) => r.pid)).size, 2);
  });
});

describe('engine: results table', () => {
  it('flattens config and result into columns and aggregates mean, sample sd and n', () => {
    const rec = (key: string, method: string, width: number, seed: number, acc: number | null, extra: Record<string, unknown> = {}) =>
      ({ key, config: { method, model: { width }, seed }, result: acc === null ? {} : { acc, seed: seed * 10, ...extra } });
    const records = [
      rec('k1', 'snip', 10, 0, 1), rec('k2', 'snip', 10, 1, 2), rec('k3', 'snip', 10, 2, 4),
      rec('k4', 'rand', 10, 0, 10), rec('k5', 'snip', 20, 0, 0.5), rec('k6', 'snip', 20, 1, null),
      rec('k7', 'mag', 10, 0, NaN), rec('k8', 'mag', 10, 1, 3),
      { key: 'k9', config: { method: 'rand', model: { width: 10 }, seed: 1 }, error: { message: 'boom' } },
    ];
    const df = resultsTable(records);
    assert.deepEqual(df.columns, ['_key', 'method', 'model.width', 'seed', 'acc', 'result.seed', '_error']);
    const rows = toRows(df);
    assert.equal(rows.length, 9);
    assert.deepEqual(rows[1], { _key: 'k2', method: 'snip', 'model.width': 10, seed: 1, acc: 2, 'result.seed': 10, _error: null });
    assert.deepEqual(rows[8], { _key: 'k9', method: 'rand', 'model.width': 10, seed: 1, acc: null, 'result.seed': null, _error: 'boom' });
    assert.deepEqual(toRows(resultsTable(records.slice(0, 2), ['seed', 'acc'])), [{ seed: 0, acc: 1 }, { seed: 1, acc: 2 }]);
    assert.throws(() => resultsTable(records, ['accuracy']), /unknown column\(s\) accuracy; available: _key, method/);

    const agg = toRows(aggregate(df, ['method', 'model.width'], ['acc']));
    // By hand: snip/10 has 1, 2, 4 -> mean 7/3, deviations -4/3, -1/3, 5/3, sum of squares 42/9, sd = sqrt(42/9 / 2) = sqrt(7/3).
    assert.deepEqual(agg.map((r) => [r.method, r['model.width'], r.acc_n]), [['mag', 10, 2], ['rand', 10, 1], ['snip', 10, 3], ['snip', 20, 1]]);
    const snip10 = agg[2];
    assert.ok(Math.abs((snip10.acc_mean as number) - 7 / 3) < 1e-15);
    assert.ok(Math.abs((snip10.acc_sd as number) - Math.sqrt(7 / 3)) < 1e-15);
    assert.equal(agg[1].acc_mean, 10); // the failed rand run has no value and is not counted
    assert.ok(Number.isNaN(agg[1].acc_sd as number)); // n = 1: sample sd undefined
    assert.ok(Number.isNaN(agg[0].acc_mean as number)); // a NaN run shows up
    assert.equal(agg[3].acc_mean, 0.5); // null (missing metric) skipped
    const all = toRows(aggregate(df, [], ['acc', 'result.seed']))[0];
    assert.equal(all.acc_n, 7);
    assert.equal(all['result.seed_mean'], (0 + 10 + 20 + 0 + 0 + 0 + 10) / 7);
    assert.throws(() => aggregate(df, ['nope'], ['acc']), /no column 'nope'/);
    assert.throws(() => aggregate(df, ['acc'], ['method']), /metric 'method' has a non-numeric value "snip"/);
    assert.deepEqual(toRows(resultsTable([])), []);
  });

  it('progress line', () => {
    assert.equal(progressLine({ done: 3, total: 12, cached: 1, failed: 0, running: 2, etaSeconds: 75, lastKey: 'k' }, 8),
      '[##......] 3/12 (1 cached, 2 running) eta 1m15s');
  });
});
