import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import {
  initBackend, buildModel, parseModelName, loadDataset, gather, Rng, DenseNetConfig,
  pruneAndTune, compress, replayHistory, applyHistory, denseNetCost, macs, liveCost, reducedDenseNetFamily,
  timeArchitectures, availableBackendVariants, fisherChannelScores,
} from 'prune-at-init';
import { trainFewSteps } from './support/few-steps';

before(async () => { await initBackend(); });

const ds = () => loadDataset('fashion-mnist', { trainLimit: 128, testLimit: 32 });

/** Parameters counted from the tensors themselves (not from ParamInfo or the closed form). */
function tensorParams(net: ReturnType<typeof buildModel>): number {
  let n = 0;
  for (const v of net.params.values()) n += v.size;
  return n;
}

/** Per-channel Σ|w| of a [kh, kw, in, out] kernel, straight from the layout. */
function handL1(w: Float32Array, [kh, kw, cin, cout]: number[]): number[] {
  const out = new Array<number>(cout).fill(0);
  for (let s = 0; s < kh * kw * cin; s++) for (let c = 0; c < cout; c++) out[c] += Math.abs(w[s * cout + c]);
  return out;
}

describe('DenseNet-BC: model and closed-form cost', () => {
  it('parses densenet_bc_d<L>_k<k>; layout 2k stem, 4k bottlenecks, compression 0.5; bad configs fail clearly', () => {
    assert.deepEqual(parseModelName('densenet_bc_d40_k12'), { arch: 'densenet', depth: 40, growth: 12 });
    const net = buildModel('densenet_bc_d22_k8', { seed: 1 });
    assert.equal(net.unitGroups.length, 9);
    assert.ok(net.unitGroups.every((g) => g.size === 32));
    assert.deepEqual(net.paramInfo('stem/conv/kernel').shape, [3, 3, 1, 16]);
    // block 1 ends at 16 + 3·8 = 40 channels; transition to floor(40/2) = 20
    assert.deepEqual(net.paramInfo('t1/conv/kernel').shape, [1, 1, 40, 20]);
    assert.deepEqual(net.paramInfo('d2l1/conv1/kernel').shape, [1, 1, 20, 32]);
    assert.deepEqual(net.paramInfo('d2l1/conv2/kernel').shape, [3, 3, 32, 8]);
    const y = tf.tidy(() => net.forward(tf.zeros([2, 28, 28, 1])).shape);
    assert.deepEqual(y, [2, 10]);
    net.dispose();
    assert.throws(() => buildModel({ arch: 'densenet', depth: 20, growth: 8 }), /6n\+4/);
    assert.throws(() => buildModel({ arch: 'densenet', depth: 22, growth: 8, interior: [1, 2] }), /9 dense layers but interior lists 2/);
    assert.throws(() => buildModel({ arch: 'densenet', depth: 22, growth: 0 }), /growth rate must be a positive integer/);
  });

  it('denseNetCost equals a hand count (DenseNet-BC-10, k=4) and the tensors of built nets, incl. emptied layers', () => {
    // hand count, 28×28×1 input, 10 classes (n = 1 layer per block): channels 8 → 12 → 6 → 10 → 5 → 9
    const params = 9 * 8 + (2 * 8 + 8 * 16 + 2 * 16 + 9 * 16 * 4) + (2 * 12 + 12 * 6) + (2 * 6 + 6 * 16 + 2 * 16 + 9 * 16 * 4)
      + (2 * 10 + 10 * 5) + (2 * 5 + 5 * 16 + 2 * 16 + 9 * 16 * 4) + 2 * 9 + 9 * 10 + 10;
    const m = 9 * 8 * 784 + (8 * 16 + 9 * 16 * 4) * 784 + 12 * 6 * 784 + (6 * 16 + 9 * 16 * 4) * 196 + 10 * 5 * 196 + (5 * 16 + 9 * 16 * 4) * 49 + 9 * 10;
    assert.deepEqual(denseNetCost({ arch: 'densenet', depth: 10, growth: 4 }), { params, macs: m });
    const n10 = buildModel('densenet_bc_d10_k4');
    assert.equal(tensorParams(n10), params);
    assert.equal(macs(n10), m);
    n10.dispose();
    for (const cfg of [
      { arch: 'densenet', depth: 16, growth: 6, interior: [0, 24, 7, 0, 3, 24] },
      { arch: 'densenet', depth: 22, growth: 8, bottleneck: 0.5 },
    ] as DenseNetConfig[]) {
      for (const shape of [[28, 28, 1], [32, 32, 3]] as Array<[number, number, number]>) {
        const net = buildModel(cfg, { inputShape: shape });
        const c = denseNetCost(cfg, { inputShape: shape });
        assert.equal(tensorParams(net), c.params, JSON.stringify(cfg));
        assert.equal(macs(net), c.macs, JSON.stringify(cfg));
        net.dispose();
      }
    }
    const fam = reducedDenseNetFamily({ depth: 22, growth: 8 }, { depths: [16, 10], growths: [6, 4] });
    assert.deepEqual(fam.map((f) => f.label), ['DenseNet-BC-22 (k=8)', 'DenseNet-BC-16 (k=8)', 'DenseNet-BC-10 (k=8)', 'DenseNet-BC-22 (k=6)', 'DenseNet-BC-22 (k=4)']);
    for (let i = 1; i < 3; i++) assert.ok(fam[i].params < fam[i - 1].params);
  });
});

describe('DenseNet-BC: channel pruning and compression', () => {
  it('compress: same eval outputs as the masked net (trained BN stats, two layers emptied); params = full − removed·(in + 9k + 2)', () => {
    const d = ds();
    const net = buildModel('densenet_bc_d16_k6', { seed: 3 });
    const rng = new Rng(9);
    const removed = new Map<string, number>();
    for (const g of net.unitGroups) {
      const m = new Float32Array(g.size).fill(1);
      if (g.name === 'd1l2/mid' || g.name === 'd3l1/mid') m.fill(0);
      else for (let c = 0; c < g.size; c++) if (rng.uniform() < 0.4) m[c] = 0;
      removed.set(g.name, g.size - m.reduce((a, v) => a + v, 0));
      net.setUnitMask(g.name, m);
    }
    trainFewSteps(net, d, 3);
    assert.ok(net.getBuffers().get('d2l1/bn2/mean')!.some((v) => Math.abs(v) > 1e-3), 'BN running stats still at their init');
    const small = compress(net);
    const xb = gather(d, d.test, Int32Array.from({ length: 16 }, (_, i) => i));
    const a = tf.tidy(() => net.forward(xb.x).dataSync()), b = tf.tidy(() => small.forward(xb.x).dataSync());
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 1e-4 * (1 + Math.abs(v)), `logit ${i}: ${v} vs ${b[i]}`));
    // a bottleneck channel costs its conv1×1 filter (in), its conv3×3 input slice (9k) and its BN2 pair
    const perChannel = (g: string) => net.paramInfo(`${g.split('/')[0]}/conv1/kernel`).shape[2] + 9 * 6 + 2;
    const expected = tensorParams(net) - [...removed].reduce((s, [g, r]) => s + r * perChannel(g), 0);
    assert.equal(tensorParams(small), expected);
    assert.equal(liveCost(net).params, expected);
    assert.equal(liveCost(net).macs, macs(small));
    assert.equal(small.unitGroups.length, 4);
    xb.x.dispose(); xb.y.dispose(); small.dispose(); net.dispose();
  });

  it('L1 prune-and-tune removes bottleneck channels in ascending hand Σ|w| order across layers; replay rebuilds the architecture', () => {
    const d = ds();
    const net = buildModel('densenet_bc_d10_k4', { seed: 4 });
    const w = net.getWeights();
    const all = net.unitGroups.flatMap((g) => handL1(w.get(g.producer)!, net.paramInfo(g.producer).shape).map((v, c) => ({ g: g.name, c, v })));
    all.sort((x, y) => x.v - y.v);
    const res = pruneAndTune(net, d, { criterion: 'l1', stepsPerPrune: 0, maxPrunes: 20, checkpoints: { prunes: [10, 20] } });
    assert.deepEqual(res.history.map((e) => `${e.block}:${e.channel}`), all.slice(0, 20).map((e) => `${e.g}:${e.c}`));
    const last = res.checkpoints[res.checkpoints.length - 1];
    assert.equal(last.interior.reduce((s, k) => s + k, 0), 48 - 20);
    const scratch = replayHistory(res.config, res.history, 5);
    assert.deepEqual(scratch.unitGroups.map((g) => g.size), last.interior.filter((k) => k > 0));
    assert.equal(tensorParams(scratch), last.params);
    const fresh = buildModel(res.config, { seed: 5 });
    applyHistory(fresh, res.history);
    assert.deepEqual(liveCost(fresh), { params: last.params, macs: last.macs });
    scratch.dispose(); fresh.dispose(); net.dispose();
  });

  it('Fisher prune-and-tune picks the global argmin of Δ over the bottleneck channels; scores are finite and non-negative', () => {
    const d = ds();
    const net = buildModel('densenet_bc_d10_k4', { seed: 6 });
    const b = gather(d, d.train, Int32Array.from({ length: 16 }, (_, i) => i));
    const single = fisherChannelScores(net, b.x, b.y);
    b.x.dispose(); b.y.dispose();
    assert.deepEqual([...single.keys()], net.unitGroups.map((g) => g.name));
    for (const s of single.values()) assert.ok(s.every((v) => Number.isFinite(v) && v >= 0));
    const before = tf.memory().numTensors;
    const res = pruneAndTune(net, d, {
      criterion: 'fisher', stepsPerPrune: 2, batchSize: 16, lr: 1e-3, maxPrunes: 3, seed: 1,
      onRound: (r) => {
        let min = Infinity;
        for (const g of net.unitGroups) {
          const m = net.unitMaskArray(g.name), s = r.scores.get(g.name)!;
          s.forEach((v, c) => { if (m[c] === 1 || (g.name === r.removed[0].block && c === r.removed[0].channel)) min = Math.min(min, v); });
        }
        assert.equal(r.removed[0].score, min);
      },
    });
    assert.equal(res.history.length, 3);
    assert.ok(tf.memory().numTensors - before <= net.unitGroups.length);
    net.dispose();
  });

  it('compressed DenseNets can be timed with timing.ts (warm-up + repeats, output read back)', async () => {
    const rows = await timeArchitectures([{ label: 'dn', config: { arch: 'densenet', depth: 10, growth: 4, interior: [3, 0, 16] }, inputShape: [28, 28, 1], numClasses: 10 }],
      { variants: availableBackendVariants().slice(0, 1), batchSizes: [2], warmup: 1, repeats: 2 });
    assert.equal(rows.length, 1);
    assert.ok(rows[0].medianMs > 0 && Number.isFinite(rows[0].medianMs));
  });
});
