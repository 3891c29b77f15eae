import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import {
  initBackend, buildModel, loadDataset, gather, crossEntropy, Trainer, Rng, Net, WrnConfig,
  FisherAccumulator, fisherChannelScores, channelCost, l1ChannelScores, pruneAndTune, compress, replayHistory,
  applyHistory, wrnCost, macs, reducedFamily, matchParams, copycatFamily, copycatInterior, interiorProfile,
  PruneEvent, RoundInfo,
} from 'prune-at-init';
import { trainFewSteps } from './support/few-steps';

before(async () => { await initBackend(); });

const ds = () => loadDataset('fashion-mnist', { trainLimit: 256, testLimit: 64 });

/** Per-channel sums over kernel slices, straight from the [kh, kw, in, out] layout. */
function handL1(w: Float32Array, shape: number[], signed: boolean): number[] {
  const [kh, kw, cin, cout] = shape;
  const out = new Array<number>(cout).fill(0);
  for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) for (let i = 0; i < cin; i++) for (let c = 0; c < cout; c++) {
    const v = w[((a * kw + b) * cin + i) * cout + c];
    out[c] += signed ? v : Math.abs(v);
  }
  return out;
}

/**
 * Brute force s_{n,c} = Σ_hw a·g: gates of ones with the FULL activation shape [N,H,W,C] give
 * ∂L/∂G = a·g elementwise; the h, w sums, squares and means are done here in float64 JS.
 */
function bruteFisherDelta(net: Net, x: tf.Tensor, y: tf.Tensor): { delta: Map<string, number[]>; s: Map<string, number[][]> } {
  const groups = net.unitGroups;
  const n = x.shape[0];
  // spatial size of each interior: run once recording nothing, read conv1 output shape from ParamInfo
  const hw = groups.map((g) => net.paramInfo(g.producer).macsPerWeight);
  const side = hw.map((v) => Math.round(Math.sqrt(v)));
  const elem = tf.tidy(() => {
    const ones = groups.map((g, i) => tf.ones([n, side[i], side[i], g.size]));
    const gr = tf.grads((...gs: tf.Tensor[]) => crossEntropy(net.forward(x, { training: true, gates: new Map(groups.map((g, i) => [g.name, gs[i]])) }), y))(ones);
    return gr.map((t) => t.dataSync() as Float32Array);
  });
  net.commitBatchNorm(false);
  const delta = new Map<string, number[]>(), s = new Map<string, number[][]>();
  groups.forEach((g, gi) => {
    const C = g.size, P = side[gi] * side[gi], e = elem[gi];
    const sn: number[][] = [];
    for (let i = 0; i < n; i++) {
      const row = new Array<number>(C).fill(0);
      for (let p = 0; p < P; p++) for (let c = 0; c < C; c++) row[c] += e[(i * P + p) * C + c];
      sn.push(row);
    }
    s.set(g.name, sn);
    delta.set(g.name, Array.from({ length: C }, (_, c) => 0.5 * sn.reduce((a, r) => a + r[c] * r[c], 0) / n));
  });
  return { delta, s };
}

describe('structured pruning: closed-form sizes', () => {
  it('wrnCost reproduces the brief\'s parameter table (1-channel 28×28 and CIFAR 32×32×3)', () => {
    const fm = { inputShape: [28, 28, 1] as [number, number, number], numClasses: 10 };
    const ci = { inputShape: [32, 32, 3] as [number, number, number], numClasses: 10 };
    const w = (depth: number, widthFactor: number, extra: Partial<WrnConfig> = {}): WrnConfig => ({ arch: 'wrn', depth, widthFactor, ...extra });
    assert.equal(wrnCost(w(16, 2), fm).params, 691386);
    assert.equal(wrnCost(w(16, 2, { bottleneck: 0.5 }), fm).params, 352250);
    assert.equal(wrnCost(w(16, 2, { bottleneck: 0.75 }), fm).params, 521818);
    assert.equal(wrnCost(w(16, 2, { bottleneck: 0.125 }), fm).params, 97898);
    assert.equal(wrnCost(w(16, 1), fm).params, 174778);
    assert.equal(wrnCost(w(16, 1.5), fm).params, 390522);
    assert.equal(wrnCost(w(16, 0.75), fm).params, 99306);
    assert.equal(wrnCost(w(10, 2), fm).params, 303418);
    assert.equal(wrnCost(w(40, 2), ci).params, 2243546);
    assert.equal(wrnCost(w(40, 2, { bottleneck: 0.25 }), ci).params, 572282);
    assert.equal(wrnCost(w(16, 8), ci).params, 10961370);
    const fam = reducedFamily({ depth: 16, widthFactor: 2 }, { ...fm, depths: [10], widths: [1.25], bottlenecks: [0.375, 0.25] });
    assert.deepEqual(fam.map((f) => f.params), [691386, 303418, 272106, 267466, 182682]);
    assert.equal(matchParams(280000, fam).label, 'WRN-16-1.25');
    assert.equal(matchParams(200000, fam).kind, 'bottleneck');
  });

  it('channel costs match the brief\'s WRN-40-2 table; built nets agree with wrnCost in params and MACs', () => {
    const net = buildModel('wrn40_2', { inputShape: [32, 32, 3] });
    const want = [[578, 589824], [1154, 294912], [2306, 147456]];
    for (const [s, [p, m]] of [['s1b2', want[0]], ['s2b3', want[1]], ['s3b6', want[2]]] as const) {
      assert.deepEqual(channelCost(net, `${s}/mid`), { params: p, macs: m }, s);
    }
    net.dispose();
    // irregular interiors with collapsed identity and projection blocks
    const cfg: WrnConfig = { arch: 'wrn', depth: 16, widthFactor: 1, interior: [0, 7, 0, 13, 5, 0] };
    const small = buildModel(cfg);
    const c = wrnCost(cfg);
    assert.equal(small.numParams, c.params);
    assert.equal(macs(small), c.macs);
    // MACs by hand for WRN-10-1 at 28×28: stem 9·1·16·784, s1b1 2·9·16·16·784, s2b1 (9·16·32 + 9·32·32 + 16·32)·196,
    // s3b1 (9·32·64 + 9·64·64 + 32·64)·49, fc 64·10
    const hand = 9 * 16 * 784 + 2 * 9 * 256 * 784 + (9 * 16 * 32 + 9 * 32 * 32 + 16 * 32) * 196 + (9 * 32 * 64 + 9 * 64 * 64 + 32 * 64) * 49 + 640;
    const w10 = buildModel('wrn10_1');
    assert.equal(macs(w10), hand);
    assert.equal(wrnCost({ arch: 'wrn', depth: 10, widthFactor: 1 }).macs, hand);
    small.dispose(); w10.dispose();
  });

  it('copycat: widths round(m·kept_b), params as close to each budget as any m on a fine grid', () => {
    const config: WrnConfig = { arch: 'wrn', depth: 16, widthFactor: 2, inputShape: [28, 28, 1], numClasses: 10 };
    const profile = { config, sizes: [32, 32, 64, 64, 128, 128], kept: [30, 11, 40, 9, 25, 3] };
    const budgets = [150000, 250000, 400000, 800000];
    const fam = copycatFamily(profile, budgets);
    const grid: number[] = [];
    for (let m = 0; m <= 4; m += 5e-4) grid.push(wrnCost({ ...config, interior: copycatInterior(profile, m) }).params);
    fam.forEach((f, i) => {
      assert.deepEqual(f.config.interior, profile.kept.map((k) => Math.max(0, Math.round(f.multiplier * k))));
      assert.equal(f.params, buildModel(f.config).numParams);
      const bestGrid = Math.min(...grid.map((p) => Math.abs(p - budgets[i])));
      assert.ok(Math.abs(f.params - budgets[i]) <= bestGrid, `budget ${budgets[i]}: got ${f.params}, grid best error ${bestGrid}`);
    });
    assert.throws(() => copycatFamily({ ...profile, kept: [0, 0, 0, 0, 0, 0] }, [1e5]), /keeps no interior channel/);
  });
});

describe('structured pruning: criteria', () => {
  it('Fisher accumulator equals the brute-force Δ (elementwise a·g, JS sums) averaged over steps; dead channels score 0', () => {
    const d = ds();
    const net = buildModel('wrn10_1', { seed: 3 });
    const dead = [2, 5, 11];
    const m = new Float32Array(16).fill(1); dead.forEach((c) => (m[c] = 0));
    net.setUnitMask('s1b1/mid', m);
    const acc = new FisherAccumulator(net);
    const trainer = new Trainer(net, { epochs: 1, batchSize: 8, lr: 0.05, momentum: 0.9 });
    const sum = new Map(net.unitGroups.map((g) => [g.name, new Array<number>(g.size).fill(0)]));
    const steps = 3;
    for (let t = 0; t < steps; t++) {
      const b = gather(d, d.train, Int32Array.from({ length: 8 }, (_, i) => t * 8 + i));
      const { delta } = bruteFisherDelta(net, b.x, b.y);
      for (const [g, v] of delta) v.forEach((x, c) => (sum.get(g)![c] += x / steps));
      trainer.step(b.x, b.y, 0.05, acc.hooks(8));
      b.x.dispose(); b.y.dispose();
    }
    assert.equal(acc.steps, steps);
    const got = acc.scores();
    for (const [g, want] of sum) {
      const scale = Math.max(...want);
      assert.ok(scale > 0, `${g}: all-zero brute-force scores`);
      got.get(g)!.forEach((v, c) => assert.ok(Math.abs(v - want[c]) <= 1e-4 * scale, `${g}[${c}]: ${v} vs ${want[c]}`));
    }
    dead.forEach((c) => assert.equal(got.get('s1b1/mid')![c], 0));
    acc.reset();
    assert.equal(acc.steps, 0);
    assert.throws(() => acc.scores(), /no steps accumulated/);
    acc.dispose(); trainer.dispose(); net.dispose();
  });

  it('gate gradient s_{n,c} matches central finite differences of the batch-mean loss; single-batch scores agree', () => {
    const d = ds();
    const net = buildModel('wrn10_1', { seed: 5 });
    const b = gather(d, d.train, Int32Array.from({ length: 6 }, (_, i) => 40 + i));
    const { s, delta } = bruteFisherDelta(net, b.x, b.y);
    const g = 's2b1/mid', C = 32;
    const flat = s.get(g)!.flatMap((r, n) => r.map((v, c) => ({ n, c, v })));
    flat.sort((p, q) => Math.abs(q.v) - Math.abs(p.v));
    const scale = Math.abs(flat[0].v);
    const lossWithGate = (n: number, c: number, val: number) => tf.tidy(() => {
      const gate = new Float32Array(6 * C).fill(1); gate[n * C + c] = val;
      const l = crossEntropy(net.forward(b.x, { training: true, gates: new Map([[g, tf.tensor4d(gate, [6, 1, 1, C])]]) }), b.y).dataSync()[0];
      net.commitBatchNorm(false);
      return l;
    });
    const eps = 2e-3;
    for (const e of flat.slice(0, 4)) {
      const fd = (lossWithGate(e.n, e.c, 1 + eps) - lossWithGate(e.n, e.c, 1 - eps)) / (2 * eps);
      assert.ok(Math.abs(fd - e.v) <= 0.03 * scale, `s[${e.n},${e.c}] = ${e.v} vs finite difference ${fd}`);
    }
    const one = fisherChannelScores(net, b.x, b.y);
    for (const [name, want] of delta) {
      const sc = Math.max(...want);
      one.get(name)!.forEach((v, c) => assert.ok(Math.abs(v - want[c]) <= 1e-4 * sc, `${name}[${c}]`));
    }
    b.x.dispose(); b.y.dispose(); net.dispose();
  });

  it('L1 scores equal hand sums of the conv1 output filters (Σ|w| and the authors\' signed sum)', () => {
    const net = buildModel('wrn10_1', { seed: 2 });
    const w = net.getWeights();
    for (const variant of ['abs', 'signed-authors'] as const) {
      const got = l1ChannelScores(net, variant);
      for (const g of net.unitGroups) {
        const want = handL1(w.get(g.producer)!, net.paramInfo(g.producer).shape, variant === 'signed-authors');
        got.get(g.name)!.forEach((v, c) => assert.ok(Math.abs(v - want[c]) <= 1e-4 * (1 + Math.abs(want[c])), `${variant} ${g.name}[${c}]`));
      }
    }
    assert.throws(() => l1ChannelScores(net, 'l2' as never), /Unknown l1Variant 'l2'/);
    net.dispose();
  });
});

describe('structured pruning: prune-and-tune, compression, replay', () => {
  it('Fisher prune-and-tune removes exactly one live channel per round, the argmin; history replays to the same masks', () => {
    const d = ds();
    const net = buildModel('wrn10_1', { seed: 7 });
    const full = net.numParams;
    const alive = new Map(net.unitGroups.map((g) => [g.name, new Array<boolean>(g.size).fill(true)]));
    const rounds: RoundInfo[] = [];
    const res = pruneAndTune(net, d, {
      criterion: 'fisher', stepsPerPrune: 2, batchSize: 16, lr: 1e-3, maxPrunes: 10, seed: 1,
      checkpoints: { prunes: [0, 5, 10], params: [full - 3000] },
      onRound: (r) => {
        assert.equal(r.removed.length, 1);
        const e = r.removed[0];
        assert.ok(alive.get(e.block)![e.channel], `round ${r.round} removed dead channel ${e.block}[${e.channel}]`);
        let min = Infinity;
        for (const [g, a] of alive) a.forEach((ok, c) => { if (ok) min = Math.min(min, r.scores.get(g)![c]); });
        assert.equal(e.score, min);
        assert.equal(r.scores.get(e.block)![e.channel], min);
        alive.get(e.block)![e.channel] = false;
        rounds.push(r);
      },
    });
    assert.equal(res.history.length, 10);
    assert.equal(rounds.length, 10);
    assert.equal(res.stopped, 'maxPrunes');
    assert.equal(res.steps, 22);
    res.history.forEach((e, i) => assert.equal(e.step, 2 * (i + 1)));
    for (const g of net.unitGroups) {
      const m = net.unitMaskArray(g.name);
      alive.get(g.name)!.forEach((ok, c) => assert.equal(m[c], ok ? 1 : 0));
    }
    const targets = res.checkpoints.flatMap((c) => c.targets);
    assert.ok(['prunes=0', 'prunes=5', 'prunes=10'].every((t) => targets.includes(t)), targets.join());
    for (const c of res.checkpoints) {
      assert.ok(c.testError >= 0 && c.testError <= 1);
      assert.equal(c.interior.reduce((a, b) => a + b, 0), 112 - c.prunes);
    }
    // every pruned channel costs 9·in + 9·out + 2 parameters (its row of the first 3×3 conv, its column of the second, its BN scale and shift)
    const last = res.checkpoints[res.checkpoints.length - 1];
    const perChannel: Record<string, number> = { 's1b1/mid': 9 * 16 + 9 * 16 + 2, 's2b1/mid': 9 * 16 + 9 * 32 + 2, 's3b1/mid': 9 * 32 + 9 * 64 + 2 };
    assert.equal(last.params, full - res.history.reduce((a, e) => a + perChannel[e.block], 0));
    if (!res.unreached.includes(`params<=${full - 3000}`)) {
      const cp = res.checkpoints.find((c) => c.targets.includes(`params<=${full - 3000}`))!;
      assert.ok(cp.params <= full - 3000);
    }
    const fresh = buildModel(res.config, { seed: 99 });
    applyHistory(fresh, res.history);
    for (const g of net.unitGroups) assert.deepEqual(Array.from(fresh.unitMaskArray(g.name)), Array.from(net.unitMaskArray(g.name)));
    const scratch = replayHistory(res.config, res.history, 99);
    assert.deepEqual(scratch.unitGroups.map((g) => g.size), last.interior);
    assert.equal(scratch.numParams, last.params);
    // 'full-net' init: the compressed conv1 filters are the full fresh net's filters
    const fw = fresh.getWeights().get('s1b1/conv1/kernel')!, sw = scratch.getWeights().get('s1b1/conv1/kernel')!;
    const keep = [...fresh.unitMaskArray('s1b1/mid')].flatMap((v, c) => (v ? [c] : []));
    assert.equal(sw[1], fw[keep[1]]);
    assert.throws(() => applyHistory(fresh, [...res.history, res.history[0]]), /already removed/);
    fresh.dispose(); scratch.dispose(); net.dispose();
  });

  it('same seed, same Fisher history; no tensors leak across rounds', () => {
    const d = ds();
    const run = () => {
      const net = buildModel('wrn10_1', { seed: 8 });
      const before = tf.memory().numTensors;
      const r = pruneAndTune(net, d, { criterion: 'fisher', stepsPerPrune: 2, batchSize: 16, maxPrunes: 4, seed: 2 });
      // only the unit masks installed by the run remain (one tensor per group at most)
      assert.ok(tf.memory().numTensors - before <= net.unitGroups.length, `leaked ${tf.memory().numTensors - before} tensors`);
      net.dispose();
      return r.history;
    };
    assert.deepEqual(run(), run());
  });

  it('L1 without tuning prunes in ascending hand-L1 order; forbidding empty blocks leaves one channel each', () => {
    const d = ds();
    const net = buildModel('wrn10_1', { seed: 4 });
    const w = net.getWeights();
    const all = net.unitGroups.flatMap((g) => handL1(w.get(g.producer)!, net.paramInfo(g.producer).shape, false).map((v, c) => ({ block: g.name, c, v })));
    all.sort((a, b) => a.v - b.v);
    const res = pruneAndTune(net, d, { criterion: 'l1', stepsPerPrune: 0, maxPrunes: 30, checkpoints: { prunes: [30] } });
    assert.deepEqual(res.history.map((e) => `${e.block}:${e.channel}`), all.slice(0, 30).map((e) => `${e.block}:${e.c}`));
    net.dispose();

    const net2 = buildModel('wrn10_1', { seed: 4 });
    const r2 = pruneAndTune(net2, d, { criterion: 'random', stepsPerPrune: 0, channelsPerRound: 7, allowEmptyBlocks: false, maxPrunes: 500, seed: 3 });
    assert.equal(r2.stopped, 'exhausted');
    assert.equal(r2.history.length, 112 - 3);
    assert.equal(new Set(r2.history.map((e) => `${e.block}:${e.channel}`)).size, 109);
    for (const g of net2.unitGroups) assert.equal(net2.unitMaskArray(g.name).reduce((a, v) => a + v, 0), 1, g.name);
    net2.dispose();
    const net3 = buildModel('wrn10_1');
    assert.throws(() => pruneAndTune(net3, d, { criterion: 'fisher', stepsPerPrune: 0, maxPrunes: 1 }), /stepsPerPrune must be an integer >= 1/);
    assert.throws(() => pruneAndTune(net3, d, { criterion: 'l1' }), /give maxPrunes or checkpoints/);
    assert.throws(() => pruneAndTune(net3, d, { criterion: 'l1', costNormalisation: 'macs', maxPrunes: 1 }), /Fisher criterion only/);
    net3.dispose();
  });

  it('compress: same eval outputs as the masked net (trained BN stats, two blocks emptied), closed-form params', () => {
    const d = ds();
    const net = buildModel('wrn16_1', { seed: 11 });
    const rng = new Rng(5);
    const removedPer: Record<string, number> = {};
    for (const g of net.unitGroups) {
      const m = new Float32Array(g.size).fill(1);
      if (g.name === 's1b2/mid' || g.name === 's3b1/mid') m.fill(0); // identity-shortcut and projection-shortcut blocks emptied
      else for (let c = 0; c < g.size; c++) if (rng.uniform() < 0.4) m[c] = 0;
      removedPer[g.name] = g.size - m.reduce((a, v) => a + v, 0);
      net.setUnitMask(g.name, m);
    }
    trainFewSteps(net, d, 4);
    const bufs = net.getBuffers().get('s2b1/bn2/mean')!;
    assert.ok(bufs.some((v) => Math.abs(v) > 1e-3), 'BN running stats still at their init');
    const small = compress(net);
    const xb = gather(d, d.test, Int32Array.from({ length: 16 }, (_, i) => i));
    const a = tf.tidy(() => net.forward(xb.x).dataSync()), b = tf.tidy(() => small.forward(xb.x).dataSync());
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 1e-4 * (1 + Math.abs(v)), `logit ${i}: ${v} vs ${b[i]}`));
    // params: full minus removed channels × (9·in + 9·out + 2): two 3×3 conv slices and a BN scale and shift per channel
    const io: Record<string, [number, number]> = { s1b1: [16, 16], s1b2: [16, 16], s2b1: [16, 32], s2b2: [32, 32], s3b1: [32, 64], s3b2: [64, 64] };
    const expected = net.numParams - Object.entries(removedPer).reduce((s, [g, r]) => { const [i, o] = io[g.split('/')[0]]; return s + r * (9 * i + 9 * o + 2); }, 0);
    assert.equal(small.numParams, expected);
    assert.equal(small.unitGroups.length, 4);
    assert.deepEqual(interiorProfile(small).kept, interiorProfile(net).kept);
    assert.equal(macs(small), wrnCost({ ...interiorProfile(net).config, interior: interiorProfile(net).kept }).macs);
    xb.x.dispose(); xb.y.dispose(); small.dispose(); net.dispose();
  });

  it('replayHistory with init "compressed" builds the small config directly; bad histories fail clearly', () => {
    const cfg: WrnConfig = { arch: 'wrn', depth: 10, widthFactor: 1 };
    const hist: PruneEvent[] = Array.from({ length: 16 }, (_, c) => ({ block: 's1b1/mid', channel: c, score: 0, step: 0 }));
    const net = replayHistory(cfg, hist, 1, { init: 'compressed' });
    assert.deepEqual(net.unitGroups.map((g) => g.name), ['s2b1/mid', 's3b1/mid']);
    assert.equal(net.numParams, wrnCost({ ...cfg, interior: [0, 32, 64] }).params);
    net.dispose();
    assert.throws(() => replayHistory(cfg, [{ block: 's9b1/mid', channel: 0, score: 0, step: 0 }], 1), /unknown block 's9b1\/mid'/);
    assert.throws(() => replayHistory(cfg, [{ block: 's1b1/mid', channel: 16, score: 0, step: 0 }], 1), /channel 16 is outside 0..15/);
  });
});
