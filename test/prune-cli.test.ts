import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { initBackend, buildModel, computeMask, loadDataset, gather, scoringBatchIndices, ModelConfig } from 'prune-at-init';
import { main } from 'prune-at-init/dist/cli';

before(async () => { await initBackend(); });

/** Independent safetensors reader in Python/numpy (hand-parsed header): every tensor as a JSON list. */
const PY = `
import json, struct, sys
import numpy as np
out = {}
for f in sys.argv[1:]:
    buf = open(f, 'rb').read()
    (n,) = struct.unpack('<Q', buf[:8])
    header = json.loads(buf[8:8 + n])
    meta = header.pop('__metadata__', {})
    dt = {'F32': '<f4', 'I32': '<i4', 'U8': 'u1'}
    t = {}
    for name, h in header.items():
        b, e = h['data_offsets']
        a = np.frombuffer(buf[8 + n + b:8 + n + e], dtype=dt[h['dtype']]).reshape(h['shape'])
        t[name] = {'dtype': h['dtype'], 'shape': list(a.shape), 'values': a.ravel().tolist()}
    out[f.split('/')[-1]] = {'meta': meta, 'tensors': t}
# SBP-SR check in numpy: squared norm of each output unit (column of a [in, out] kernel)
init = out.get('init.safetensors')
if init:
    norms = {}
    for name, v in init['tensors'].items():
        if name.endswith('/kernel'):
            a = np.array(v['values'], dtype=np.float64).reshape(v['shape'])
            norms[name] = (a ** 2).sum(axis=0).tolist()
    out['unitSqNorms'] = norms
print(json.dumps(out))
`;

interface PyTensor { dtype: string; shape: number[]; values: number[] }
type PyOut = Record<string, { meta: Record<string, string>; tensors: Record<string, PyTensor> }> & { unitSqNorms: Record<string, number[]> };

function readWithNumpy(dir: string, files: string[]): PyOut {
  const out = execFileSync('python3', ['-c', PY, ...files.map((f) => path.join(dir, f))], { maxBuffer: 256 << 20 }).toString();
  return JSON.parse(out) as PyOut;
}

/** Run `prune-at-init prune ...` in-process through the CLI entry; stdout parsed as JSON on success. */
async function cli(args: string[]): Promise<{ code: number; json?: Record<string, unknown>; err: string }> {
  let out = '', err = '';
  const o = process.stdout.write.bind(process.stdout), e = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((c: string | Uint8Array) => { out += String(c); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => { err += String(c); return true; }) as typeof process.stderr.write;
  try {
    const code = await main(['prune', ...args]);
    return { code, err, ...(code === 0 ? { json: JSON.parse(out) } : {}) };
  } finally {
    process.stdout.write = o; process.stderr.write = e;
  }
}

async function ok(args: string[]): Promise<Record<string, unknown>> {
  const r = await cli(args);
  assert.equal(r.code, 0, r.err);
  return r.json!;
}

/** A bad command line: exit code 2 (usage), the message on stderr. */
async function fails(args: string[], re: RegExp): Promise<void> {
  const r = await cli(args);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, re);
}

describe('prune-at-init prune (CLI)', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prune-cli-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const cfg: ModelConfig = { arch: 'ffnn', hidden: [20], activation: 'tanh', init: { scheme: 'explicit', sigmaW: 1.3, sigmaB: 0.2 } };

  it('snip: numpy reads init/mask/scoring-batch files and their values match the library', async () => {
    const out = path.join(tmp, 'snip');
    const summary = await ok(['--model', JSON.stringify(cfg), '--method', 'snip', '--sparsity', '0.8', '--seed', '3',
      '--out', out, '--dataset', 'fashion-mnist', '--train-limit', '200', '--per-class', '2']);
    assert.deepEqual(summary.files, ['init.safetensors', 'mask.safetensors', 'scoring_batch.safetensors', 'report.json']);
    const py = readWithNumpy(out, ['init.safetensors', 'mask.safetensors', 'scoring_batch.safetensors']);
    // independent reconstruction with the library
    const ds = loadDataset('fashion-mnist', { trainLimit: 200, seed: 3 });
    const net = buildModel(cfg, { seed: 3, inputShape: ds.inputShape, numClasses: ds.numClasses });
    const w0 = net.getWeights();
    const { selection } = computeMask(net, { method: 'snip', sparsity: 0.8, data: ds, seed: 3, options: { perClass: 2 } });
    const init = py['init.safetensors'].tensors, mask = py['mask.safetensors'].tensors;
    assert.deepEqual(Object.keys(init).sort(), ['fc1/bias', 'fc1/kernel', 'fc2/bias', 'fc2/kernel']);
    assert.deepEqual(init['fc1/kernel'].shape, [784, 20], 'dense layout [in, out]');
    assert.equal(init['fc1/kernel'].dtype, 'F32');
    assert.equal(py['init.safetensors'].meta.method, 'snip');
    for (const p of net.info) {
      const want = w0.get(p.name)!, m = p.prunable ? selection.mask.get(p.name) : undefined;
      const got = init[p.name].values;
      assert.equal(got.length, p.size);
      // exact float32 values; === so that a pruned -0 equals 0
      want.forEach((v, i) => assert.ok(got[i] === (m && !m[i] ? 0 : v), `${p.name}[${i}]: ${got[i]} vs ${v}`));
      if (m) {
        assert.equal(mask[p.name].dtype, 'U8');
        assert.deepEqual(mask[p.name].values, Array.from(m), `${p.name} mask`);
      }
    }
    const batch = py['scoring_batch.safetensors'].tensors;
    const idx = scoringBatchIndices(ds, 2, 3);
    const b = gather(ds, ds.train, idx);
    assert.deepEqual(batch.x.shape, [20, 28, 28, 1]);
    assert.deepEqual(batch.x.values, Array.from(b.x.dataSync()));
    assert.deepEqual(batch.y.values, Array.from(b.y.dataSync()));
    assert.equal(batch.y.dtype, 'I32');
    assert.deepEqual(batch.index.values, Array.from(idx));
    b.x.dispose(); b.y.dispose();
    // report.json agrees with the mask
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
    const n = 784 * 20 + 20 * 10;
    assert.equal(report.summary.kept, Math.round(0.2 * n));
    assert.deepEqual(report.layers.map((l: { kept: number }) => l.kept), selection.mask.perLayer().map((l) => l.kept));
    assert.deepEqual(report.scoringBatch.indices, Array.from(idx));
    assert.ok(report.criticalSparsity.sparsity > 0.8 && report.criticalSparsity.sparsity < 1);
    assert.equal(summary.kept, Math.round(0.2 * n));
    net.dispose();
  });

  it('sbp-sr: numpy finds every kept unit at squared norm sigma_w^2; synflow writes no scoring batch', async () => {
    const out = path.join(tmp, 'sbp');
    await ok(['--model', JSON.stringify(cfg), '--method', 'sbp-sr', '--sparsity', '0.9', '--out', out, '--train-limit', '200', '--per-class', '2']);
    const py = readWithNumpy(out, ['init.safetensors', 'mask.safetensors']);
    assert.equal(py['init.safetensors'].meta.rescaled, 'true');
    for (const [name, norms] of Object.entries(py.unitSqNorms)) {
      norms.forEach((s, j) => assert.ok(s === 0 || Math.abs(s - 1.69) < 1e-5, `${name} unit ${j}: ${s}`));
    }
    const sf = path.join(tmp, 'synflow');
    const summary = await ok(['--model', 'ffnn_relu_d3_w16', '--method', 'synflow', '--sparsity', '0.5', '--rounds', '4', '--out', sf]);
    assert.deepEqual(summary.files, ['init.safetensors', 'mask.safetensors', 'report.json']);
    assert.ok(!fs.existsSync(path.join(sf, 'scoring_batch.safetensors')));
  });

  it('bad input gives clear errors listing the valid values', async () => {
    const base = ['--model', 'ffnn_tanh_d2_w8', '--out', path.join(tmp, 'bad')];
    await fails([...base, '--method', 'obd', '--sparsity', '0.5'], /Unknown pruning method 'obd'. Available: grasp, magnitude, random, sbp-sr, snip, synflow/);
    await fails([...base, '--method', 'snip', '--sparsity', '1.5'], /--sparsity must be in \[0, 1\)/);
    await fails([...base, '--method', 'snip', '--sparsity', 'lots'], /--sparsity must be a number >= 0, got 'lots'/);
    await fails([...base, '--method', 'snip', '--sparsity', '0.5', '--scope', 'local'], /--scope must be 'global' or 'layerwise'/);
    await fails([...base, '--method', 'snip', '--sparsity', '0.5', '--frobnicate', '1'], /Unknown option '--frobnicate'/);
    await fails(['--method', 'snip', '--sparsity', '0.5', '--model', '{"arch":', '--out', 'x'], /does not parse/);
    await fails(['--method', 'snip', '--sparsity', '0.5', '--model', 'vgg99', '--out', 'x'], /--model: Unknown model name 'vgg99'/);
    assert.ok(!fs.existsSync(path.join(tmp, 'bad')), 'nothing written on error');
  });
});
