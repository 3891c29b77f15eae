/** Sweep manifests and results bundles without Slurm (test/slurm.test.ts runs them on a real one). */
import { strict as assert } from 'assert';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cluster, canonicalize, encodeRecord, openStore, RECORD_FORMAT, RunRecord } from 'prune-at-init';
import { main } from 'prune-at-init/dist/cli';

const cfg = (key: string, estSeconds: number): cluster.ManifestConfig =>
  ({ notebook: 'nb', stage: 's', part: 'p', task: 't', key, config: {}, estSeconds });

function record(config: Record<string, unknown>, result: unknown): RunRecord {
  const canonical = canonicalize(config);
  const key = createHash('sha256').update(canonical).digest('hex').slice(0, 16); // independent of the library's hash
  return {
    format: RECORD_FORMAT, key, task: 'toy', canonical, config, result,
    meta: { backend: { backend: 'wasm', tfjsVersion: '4.22.0', extraKernels: ['k1'] }, versions: { node: 'v20', lib: '0.1.0' }, startedAt: 'a', finishedAt: 'b', seconds: 1, host: 'h', pid: 1 },
  };
}

async function cli(args: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const write = process.stderr.write.bind(process.stderr);
  (process.stderr as { write: unknown }).write = (s: string) => { err += s; return true; };
  try { return { code: await main(args), err }; } finally { (process.stderr as { write: unknown }).write = write; }
}

describe('sweep manifests', () => {
  it('packs every config exactly once, within the target unless alone, at most maxConfigs per task', () => {
    const xs = Array.from({ length: 200 }, (_, i) => cfg(`k${i}`, ((i * 7919) % 97) + 1 + (i % 13 === 0 ? 300 : 0)));
    for (const [cap, max] of [[100, Infinity], [250, 3], [50, 1]] as const) {
      const tasks = cluster.packTasks(xs, cap, max);
      const keys = tasks.flatMap((t) => t.configs.map((c) => c.key));
      assert.deepEqual([...keys].sort(), xs.map((c) => c.key).sort());
      tasks.forEach((t, i) => {
        assert.equal(t.index, i);
        const sum = t.configs.reduce((a, c) => a + c.estSeconds, 0);
        assert.ok(Math.abs(sum - t.estSeconds) < 1e-9);
        assert.ok(sum <= cap || t.configs.length === 1, `task ${i} holds ${sum} s > ${cap} with ${t.configs.length} configs`);
        assert.ok(t.configs.length <= max);
      });
    }
  });

  it('wall time: n equal tasks on s slots take ceil(n/s) task lengths; a long config bounds its task', () => {
    const tasks = Array.from({ length: 7 }, (_, i) => ({ index: i, estSeconds: 40, configs: [cfg(`a${i}`, 10), cfg(`b${i}`, 30)] }));
    assert.equal(cluster.wallSeconds(tasks, 1, 3), 3 * 40);
    assert.equal(cluster.wallSeconds(tasks, 4, 7), 30); // 4 CPUs: 10 s of work, but the 30 s config runs on one
  });

  it('refuses a file that is not a manifest, naming the fix', () => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pai-m-')), 'x.manifest');
    fs.writeFileSync(f, '{"format":"something-else","tasks":[]}');
    assert.throws(() => cluster.readManifest(f), /not a sweep manifest.*sweep plan/);
  });

  it('the CLI rejects bad options before doing anything', async () => {
    assert.match((await cli(['sweep', 'launch'])).err, /unknown subcommand 'launch'.*plan, submit, run, status, resubmit/);
    assert.match((await cli(['sweep', 'plan', '--notebook', '02', '--budget', 'smoke'])).err, /--out <value> is required/);
    assert.match((await cli(['sweep', 'plan', '--notebook', '09', '--budget', 'smoke', '--out', '/tmp/x'])).err, /Unknown notebook '09'/);
    assert.match((await cli(['sweep', 'plan', '--notebook', '02', '--budget', 'huge', '--out', '/tmp/x'])).err, /not a budget/);
    assert.match((await cli(['sweep', 'plan', '--notebook', '02', '--budget', 'smoke', '--out', '/tmp/x', '--bogus', '1'])).err, /Unknown option '--bogus'/);
    assert.match((await cli(['sweep', 'submit', '/tmp/none.manifest', '--time', 'soon'])).err, /--time 'soon' is not a Slurm time limit/);
    assert.match((await cli(['results', 'import'])).err, /exactly one bundle FILE/);
  });
});

describe('results bundles', () => {
  it('round-trips records (NaN included), skips identical ones, reports conflicts and refuses forged keys', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pai-b-'));
    const a = openStore({ dir: path.join(dir, 'a', 'toy') });
    const r1 = record({ seed: 0, lr: 0.1 }, { acc: 0.5, loss: NaN }), r2 = record({ seed: 1, lr: 0.1 }, { acc: 0.6, loss: 1 });
    a.put(r1.key, r1); a.put(r2.key, r2);
    const file = path.join(dir, 'b.json.gz');
    const b = cluster.exportBundle(path.join(dir, 'a'), file);
    assert.deepEqual(b.provenance.tasks, { toy: 2 });
    assert.deepEqual(b.provenance.seeds, [0, 1]);
    assert.deepEqual(b.provenance.backends, [{ backend: 'wasm', tfjsVersion: '4.22.0', extraKernels: ['k1'], records: 2 }]);
    assert.equal(fs.readFileSync(file)[0], 0x1f, 'a .gz bundle is gzipped');

    const rep = cluster.importBundle(file, path.join(dir, 'c'));
    assert.deepEqual([rep.imported, rep.same, rep.conflicts.length, rep.invalid.length], [2, 0, 0, 0]);
    const back = openStore({ dir: path.join(dir, 'c', 'toy') }).get<{ loss: number }>(r1.key)!;
    assert.ok(Number.isNaN(back.result.loss));
    assert.equal(encodeRecord(back), encodeRecord(r1));

    const other = { ...r2, result: { acc: 0.7, loss: 1 } };
    const forged = { ...r1, canonical: canonicalize({ seed: 5, lr: 0.1 }) };
    const f2 = path.join(dir, 'c.json');
    fs.writeFileSync(f2, encodeRecord({ ...cluster.readBundle(file), records: [r1, other, forged] }));
    const stored = fs.readFileSync(path.join(dir, 'c', 'toy', `${r2.key}.json`));
    const rep2 = cluster.importBundle(f2, path.join(dir, 'c'));
    assert.deepEqual([rep2.imported, rep2.same, rep2.conflicts.map((c) => c.key), rep2.invalid.map((i) => i.index)], [0, 1, [r2.key], [2]]);
    assert.ok(fs.readFileSync(path.join(dir, 'c', 'toy', `${r2.key}.json`)).equals(stored), 'a conflicting record overwrote the stored one');
  });
});
