/**
 * Sweeps on a real Slurm: scripts/slurm-up.sh starts a one-node cluster on this machine (CI runs as
 * root on a fresh Debian; the test fails, never skips, when Slurm cannot start), then a job array of
 * smoke-budget configs of notebook 04 runs through `sweep submit`. Checked against independent
 * truth: a local run of the same configs (records equal up to their timing fields), the store's
 * files read directly, squeue's view of the array, and a bundle imported into an empty store.
 */
import { strict as assert } from 'assert';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cluster, describeConfig, getTask, recordProblem, decodeRecord, recordKey } from 'prune-at-init';

const ROOT = (() => { let d = __dirname; while (!fs.existsSync(path.join(d, 'lib', 'package.json'))) d = path.dirname(d); return d; })();
const CLI = require.resolve('prune-at-init/dist/cli');
const SLURM_DIR = process.env.PRUNE_AT_INIT_SLURM_DIR ?? '/tmp/prune-at-init-slurm';
const pidAlive = (f: string) => { try { process.kill(Number(fs.readFileSync(f, 'utf8')), 0); return true; } catch { return false; } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let tmp = '';
let startedHere = false;

function cli(args: string[], o: { store?: string; expectFail?: boolean } = {}): { out: any; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8', cwd: ROOT, env: { ...process.env, ...(o.store ? { PRUNE_AT_INIT_RESULTS: o.store } : {}) }, timeout: 170_000,
  });
  if (o.expectFail) { assert.notEqual(r.status, 0, `expected ${args.join(' ')} to fail; stdout: ${r.stdout}`); return { out: null, stderr: r.stderr }; }
  assert.equal(r.status, 0, `prune-at-init ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { out: JSON.parse(r.stdout), stderr: r.stderr };
}

/** A run's own measurements of time: not part of what must be reproduced. */
function withoutTimings(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutTimings);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !/seconds$/i.test(k)).map(([k, x]) => [k, withoutTimings(x)]));
  return v;
}

/** Every file of a task store: valid records named by their key; nothing corrupt or half-written left. */
function storeFiles(dir: string): Map<string, any> {
  const recs = new Map<string, any>();
  for (const name of fs.readdirSync(dir)) {
    assert.ok(!name.includes('.corrupt-'), `corrupt record moved aside in ${dir}: ${name}`);
    assert.ok(!name.endsWith('.tmp'), `temp file left in ${dir}: ${name}`);
    const key = name.replace(/\.json$/, '');
    const rec = decodeRecord(fs.readFileSync(path.join(dir, name), 'utf8'));
    assert.equal(recordProblem(rec, key), null, `${name} is not a complete record`);
    assert.equal(recordKey((rec as any).canonical, (rec as any).data), key, `${name}: key is not the hash of its config and data`);
    recs.set(key, rec);
  }
  return recs;
}

async function waitForArray(manifest: string, done: (states: Map<number, string>) => boolean, what: string, seconds = 150): Promise<Map<number, string>> {
  const t0 = Date.now();
  for (;;) {
    const states = cluster.arrayStates(manifest);
    if (done(states)) return states;
    if (Date.now() - t0 > seconds * 1000) throw new Error(`timed out waiting for ${what}; squeue says ${JSON.stringify([...states])}`);
    await sleep(400);
  }
}
const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE']);

describe('sweeps on a real Slurm (scripts/slurm-up.sh)', function () {
  this.timeout(180_000);
  let manifest = '', storeA = '', jobId = '', cancelled = -1, badIndex = -1, badKey = '';

  before(function () {
    this.timeout(300_000);
    startedHere = !pidAlive(path.join(SLURM_DIR, 'run', 'slurmctld.pid'));
    let out: string;
    try {
      out = execFileSync('bash', [path.join(ROOT, 'scripts', 'slurm-up.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 280_000 });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`Slurm did not start (scripts/slurm-up.sh): ${err.stderr || err.message}. CI installs and starts it as root; run this test as root on Debian 12.`);
    }
    process.env.SLURM_CONF = /SLURM_CONF=(\S+)/.exec(out)![1];
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pai-slurm-'));
    storeA = path.join(tmp, 'store-slurm');
  });

  after(() => {
    if (startedHere) execFileSync('bash', [path.join(ROOT, 'scripts', 'slurm-down.sh')], { stdio: 'inherit' });
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('plans smoke configs of notebook 04, submits them as a job array, and survives scancel + resubmit', async () => {
    manifest = path.join(tmp, 'run.manifest');
    const plan = cli(['sweep', 'plan', '--notebook', '04', '--budget', 'smoke', '--parts', 'reference,baseline,kstarts-all', '--configs-per-task', '3', '--out', manifest], { store: storeA }).out;
    assert.equal(plan.alreadyStored, 0);
    assert.ok(plan.tasks >= 3, `expected several tasks, got ${plan.tasks}`);
    // a config that is valid but fails at run time (a file stands where its mask's folder should be), added by hand as its own task
    const m = cluster.readManifest(manifest);
    // based on the cheapest config (the converged reference run trains for many epochs)
    const cheapest = m.tasks.flatMap((t) => t.configs).reduce((a, c) => (c.estSeconds < a.estSeconds ? c : a));
    const blocker = path.join(tmp, 'not-a-folder');
    fs.writeFileSync(blocker, 'a file where the mask folder should be');
    const bad = { ...cheapest.config, maskPath: path.join(blocker, 'mask.safetensors') };
    badKey = describeConfig(getTask('early-pruning'), bad).key;
    badIndex = m.tasks.length;
    m.tasks.push({ index: badIndex, estSeconds: 1, configs: [{ ...cheapest, key: badKey, config: bad, estSeconds: 1 }] });
    cluster.writeManifest(manifest, m);
    const keys = m.tasks.flatMap((t) => t.configs.map((c) => c.key));
    assert.equal(new Set(keys).size, keys.length, 'a key planned twice');

    const sub = cli(['sweep', 'submit', '--slurm', manifest, '--cpus-per-task', '1'], { store: storeA }).out;
    jobId = sub.jobId;
    const script = fs.readFileSync(sub.script, 'utf8');
    assert.match(script, new RegExp(`#SBATCH --array=0-${m.tasks.length - 1}\\b`));
    assert.match(script, /sweep run --manifest .* --index "\$SLURM_ARRAY_TASK_ID"/);

    // cancel the longest task (a K-starts-all run) once it is computing
    cancelled = m.tasks.findIndex((t) => t.configs.some((c) => c.part.startsWith('kstarts-all')));
    assert.ok(cancelled >= 0, `no kstarts-all task in the manifest: ${JSON.stringify(m.tasks.map((t) => t.configs.map((c) => c.part)))}`);
    const t0 = Date.now();
    while (cluster.readTaskState(manifest, cancelled)?.status !== 'running') {
      if (Date.now() - t0 > 120_000) throw new Error(`task ${cancelled} never started: ${JSON.stringify([...cluster.arrayStates(manifest)])}`);
      await sleep(100);
    }
    await sleep(300); // inside its first config: a smoke K-starts config trains for seconds
    const before = cluster.arrayStates(manifest).get(cancelled);
    assert.equal(before, 'RUNNING', `task ${cancelled} should be running when cancelled`);
    cluster.cancel(jobId, cancelled);
    const states = await waitForArray(manifest, (s) => m.tasks.every((t) => FINAL.has(s.get(t.index) ?? '')), 'the array to finish');
    assert.equal(states.get(cancelled), 'CANCELLED');
    assert.equal(cluster.readTaskState(manifest, cancelled)?.status, 'stopped', 'the cancelled task did not stop cleanly on SIGTERM');
    assert.equal(states.get(badIndex), 'FAILED', 'the task with the failing config exits non-zero');

    const st = cluster.sweepStatus(manifest, states);
    const cancelledKeys = m.tasks[cancelled].configs.map((c) => c.key);
    const storedA = storeFiles(path.join(storeA, 'early-pruning'));
    assert.ok(cancelledKeys.some((k) => !storedA.has(k)), 'the cancelled task stored all its configs: it was not cancelled mid-run');
    assert.deepEqual(st.failed.map((f) => f.key), [badKey]);
    assert.match(st.failed[0].error, /not-a-folder/);
    assert.ok(st.toResubmit.includes(cancelled) && st.toResubmit.includes(badIndex), `toResubmit ${st.toResubmit}`);
    for (const t of m.tasks) if (t.index !== cancelled && t.index !== badIndex) assert.equal(states.get(t.index), 'COMPLETED', `task ${t.index}`);
    // the CLI shows the same failure
    const shown = cli(['sweep', 'status', manifest]).out;
    assert.equal(shown.failed.length, 1);
    assert.match(shown.failed[0].error, /not-a-folder/);

    const re = cli(['sweep', 'resubmit', manifest]).out;
    assert.deepEqual([...re.indices].sort(), [...st.toResubmit].sort());
    const after = await waitForArray(manifest, (s) => {
      const sub2 = cluster.submissions(manifest).at(-1)!;
      return sub2.jobId === re.jobId && st.toResubmit.every((i) => FINAL.has(s.get(i) ?? ''));
    }, 'the resubmitted tasks');
    assert.equal(after.get(cancelled), 'COMPLETED');
    const final = cluster.sweepStatus(manifest, after);
    assert.equal(final.counts.done, keys.length - 1);
    assert.equal(final.counts.failed, 1);
    const recs = storeFiles(path.join(storeA, 'early-pruning'));
    assert.deepEqual([...recs.keys()].sort(), keys.filter((k) => k !== badKey).sort(), 'exactly one record per planned config');
  });

  it('stores records equal to a local run of the same configs (up to timing fields)', () => {
    const storeB = path.join(tmp, 'store-local');
    const local = path.join(tmp, 'local.manifest');
    const m = cluster.readManifest(manifest);
    m.tasks = m.tasks.filter((t) => t.index !== badIndex);
    cluster.writeManifest(local, m);
    const r = cli(['sweep', 'run', '--manifest', local, '--all', '--workers', '2', '--store', storeB]).out;
    const n = m.tasks.reduce((a, t) => a + t.configs.length, 0);
    assert.equal(r.computed, n);
    const a = storeFiles(path.join(storeA, 'early-pruning')), b = storeFiles(path.join(storeB, 'early-pruning'));
    assert.equal(b.size, n);
    for (const [key, rb] of b) {
      const ra = a.get(key);
      assert.ok(ra, `local record ${key} missing from the Slurm store`);
      assert.equal(ra.canonical, rb.canonical);
      assert.deepEqual(withoutTimings(ra.result), withoutTimings(rb.result), `record ${key} differs between Slurm and the local run`);
      assert.notEqual(ra.meta.pid, rb.meta.pid);
    }
  });

  it('exports a bundle that an empty store imports, so the configs come from the store with zero computed', () => {
    const bundle = path.join(tmp, 'results.json.gz');
    const exp = cli(['results', 'export', bundle, '--manifest', manifest], { store: storeA }).out;
    const n = storeFiles(path.join(storeA, 'early-pruning')).size;
    assert.equal(exp.records, n);
    assert.deepEqual(exp.provenance.tasks, { 'early-pruning': n });
    assert.deepEqual(exp.provenance.seeds, [0]);
    assert.ok(exp.provenance.backends.length >= 1 && exp.provenance.backends.every((b: any) => b.tfjsVersion === '4.22.0'));
    assert.ok(exp.provenance.dataSources.some((d: string) => d.startsWith('fashion-mnist')));

    const storeC = path.join(tmp, 'store-imported');
    const imp = cli(['results', 'import', bundle], { store: storeC }).out;
    assert.deepEqual({ imported: imp.imported, same: imp.same, conflicts: imp.conflicts.length, invalid: imp.invalid.length }, { imported: n, same: 0, conflicts: 0, invalid: 0 });
    const again = cli(['results', 'import', bundle], { store: storeC }).out;
    assert.deepEqual({ imported: again.imported, same: again.same }, { imported: 0, same: n });

    // a conflicting record for one key is reported and the stored one kept byte for byte
    const b = cluster.readBundle(bundle);
    const victim = b.records[0];
    const file = path.join(storeC, victim.task, `${victim.key}.json`);
    const bytes = fs.readFileSync(file);
    (victim.result as any).finalAcc = -1;
    const forged = path.join(tmp, 'forged.json');
    fs.writeFileSync(forged, JSON.stringify({ ...b, records: [victim] }));
    const conf = cli(['results', 'import', forged], { store: storeC });
    assert.equal(conf.out.conflicts.length, 1);
    assert.equal(conf.out.conflicts[0].key, victim.key);
    assert.match(conf.stderr, /conflict/);
    assert.ok(fs.readFileSync(file).equals(bytes), 'the stored record was overwritten');

    // the notebook's engine (runSweep) over the same configs, on the imported store: nothing computed
    const local = path.join(tmp, 'imported.manifest');
    const m = cluster.readManifest(manifest);
    m.tasks = m.tasks.filter((t) => t.index !== badIndex);
    cluster.writeManifest(local, m);
    const r = cli(['sweep', 'run', '--manifest', local, '--all', '--store', storeC]).out;
    assert.deepEqual({ computed: r.computed, cached: r.cached }, { computed: 0, cached: n });
    const replan = cli(['sweep', 'plan', '--notebook', '04', '--budget', 'smoke', '--parts', 'reference,baseline,kstarts-all', '--out', path.join(tmp, 'again.manifest')], { store: storeC }).out;
    assert.deepEqual({ toCompute: replan.toCompute, alreadyStored: replan.alreadyStored }, { toCompute: 0, alreadyStored: n });
  });
});
