import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  buildModel, correlationThroughDepth, eocRescaling as E, eocSigmaW, initBackend, loadDataset, Mask, rescaleKept, tf,
  varianceFixedPoint, verdictFromChecks, gatedVerdict,
} from 'prune-at-init';
import { runPathStats } from 'prune-at-init/dist/studies/extreme-paths';
import { runPruneTrain } from 'prune-at-init/dist/experiment';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);

describe('study 02 (EOC + rescaling): plan and jobs', () => {
  it('plans every budget; quick previews standard\'s grid corners and extreme net with the 99.9 % top sparsity', () => {
    for (const b of ['smoke', 'quick', 'standard', 'paper'] as const) {
      const p = E.plan(b, [0, 1], { workers: 2 });
      assert.equal(p.budget, b);
      assert.deepEqual(p.seeds, [0, 1]);
      assert.ok(p.fig2.grids.length >= 1 && p.fig2.grids[0].data.name === (b === 'standard' || b === 'quick' ? 'mnist' : 'fashion-mnist'));
      assert.ok(p.gate.convergedEpochs > p.fig2.train.epochs && p.resnet.trained.convergedEpochs > p.resnet.trained.train.epochs);
    }
    const q = E.plan('quick', [0, 1]), st = E.plan('standard', [0, 1]);
    assert.deepEqual(q.fig2.grids.map((g) => [g.data.name, g.depths, g.sparsities]), st.fig2.grids.map((g) => [g.data.name, g.depths, g.sparsities]));
    assert.ok(q.fig2.grids[0].data.trainLimit < st.fig2.grids[0].data.trainLimit, 'quick trains on a subset');
    assert.deepEqual([q.extreme.depth, q.extreme.width, q.extreme.sparsities], [st.extreme.depth, st.extreme.width, [0.99, 0.999]]);
    assert.ok(q.resnet.trained.seeds.length >= 2, 'quick gates the ResNet over two seeds');
    assert.equal(q.resnet.perLayer.sparsity, 0.999);
    assert.throws(() => E.plan('fast' as never, [0]), /not a budget/);
    assert.throws(() => E.plan('smoke', []), /seeds must be a non-empty array/);
  });

  it('standard: MNIST 8k/2k, the grid\'s corners, an extreme net with about 50 kept weights per layer at 99.9 %', () => {
    const p = E.plan('standard', [0, 1, 2]);
    assert.deepEqual(p.fig2.grids.map((g) => [g.data, g.depths, g.sparsities]), [[{ name: 'mnist', trainLimit: 8000, testLimit: 2000 }, [10, 30], [0.5, 0.95]]]);
    assert.deepEqual(p.extreme.data, { name: 'mnist', trainLimit: 8000, testLimit: 2000 });
    const widths = [784, ...Array(p.extreme.depth - 1).fill(p.extreme.width), 10];
    const weights = widths.slice(1).reduce((a, w, i) => a + w * widths[i], 0);
    const keptPerLayer = ((1 - Math.max(...p.extreme.sparsities)) * weights) / p.extreme.depth;
    assert.ok(keptPerLayer >= 40, `${keptPerLayer} kept weights per layer`);
    assert.equal(p.resnet.trained.seeds.length, 3);
  });

  it('gate jobs: per depth of the first grid a dense EOC run per seed plus converged runs; converged runs for §4 FFNN and the dense ResNet', () => {
    const p = E.plan('standard', [4, 5, 6]);
    const jobs = E.gateJobs(p);
    const g = p.fig2.grids[0];
    const fig2 = jobs.filter((j) => j.tag.section === 'fig2');
    assert.deepEqual(p.gate.convergedSeeds, [4, 5, 6]);
    assert.equal(fig2.length, g.depths.length * 6);
    for (const j of jobs) {
      assert.equal(j.config.prune.method, 'none');
      const want = j.tag.converged ? (j.tag.section === 'resnet' ? p.resnet.trained.convergedEpochs : p.gate.convergedEpochs) : p.fig2.train.epochs;
      assert.equal(j.config.train.epochs, want, JSON.stringify(j.tag));
      assert.equal(j.config.train.lr, j.tag.section === 'resnet' ? p.resnet.trained.train.lr : p.fig2.train.lr);
    }
    // converged runs on every seed: per fig2 depth, then the extreme FFNN, then the ResNet
    assert.deepEqual(jobs.filter((j) => j.tag.converged).map((j) => j.tag.seed), Array(g.depths.length + 2).fill([4, 5, 6]).flat());
    assert.deepEqual(jobs.filter((j) => j.tag.section === 'extreme').map((j) => (j.config.model as { hidden: number[] }).hidden), Array(3).fill(Array(9).fill(200)));
    assert.equal(jobs.filter((j) => j.tag.section === 'resnet')[0].config.model, 'resnet20');
  });

  it('Fig. 2 jobs: one per grid cell × arm × seed, arms mapped to (init, method)', () => {
    const p = E.plan('quick', [3, 4]);
    const jobs = E.fig2Jobs(p);
    const expected = p.fig2.grids.reduce((a, g) => a + g.depths.length * g.sparsities.length, 0) * 3 * 2;
    assert.equal(jobs.length, expected);
    for (const j of jobs) {
      const m = j.config.model as { hidden: number[]; init: { scheme: string; sigmaW?: number } };
      assert.equal(m.hidden.length, j.tag.depth - 1);
      assert.ok(m.hidden.every((w) => w === 100));
      assert.equal(j.config.seed, j.tag.seed);
      assert.equal(j.config.prune.sparsity, j.tag.sparsity);
      const want = { ordered: ['ordered', 'snip'], eoc: ['eoc', 'snip'], 'eoc+rescale': ['eoc', 'sbp-sr'] }[j.tag.arm];
      assert.deepEqual([m.init.scheme, j.config.prune.method], want);
      if (j.tag.arm === 'ordered') assert.equal(m.init.sigmaW, 1.0);
    }
  });

  it('extreme and ResNet jobs: dense reference, SBP-SR on the Stable ResNet, BN mode only for data-dependent scores', () => {
    const p = E.plan('quick', [0, 1]);
    const ex = E.extremeFfnnJobs(p);
    assert.equal(ex.length, (1 + p.extreme.methods.length * p.extreme.sparsities.length) * 2);
    assert.equal(ex.filter((j) => j.tag.method === 'none').length, 2);
    const { initOnly, trained } = E.resnetJobs(p);
    assert.equal(initOnly.length, p.resnet.methods.length * p.resnet.sparsities.length * 2);
    for (const j of [...initOnly, ...trained]) {
      assert.equal(j.config.model, j.tag.method === 'sbp-sr' ? 'resnet20_stable' : 'resnet20');
      assert.deepEqual(j.config.prune.options, ['snip', 'grasp', 'sbp-sr'].includes(j.tag.method) ? { bnMode: 'train' } : {});
    }
    assert.ok(initOnly.every((j) => j.config.train.epochs === 0 && !j.tag.trained));
    assert.ok(trained.every((j) => j.config.train.epochs > 0 && j.tag.trained));
    const pl = E.perLayerJobs(p);
    assert.equal(pl.length, p.resnet.perLayer.depths.length * 2 * 2 * 2);
  });
});

describe('study 02: mean-field pair map', () => {
  it('linear activation: q and c follow the closed-form affine maps', () => {
    const b = 0.3, w2 = [1.2, 0.7, 2.0];
    const r = E.meanFieldPair('linear', b, w2, 0.8, 0.4);
    let q = 0.8, cov = 0.4 * 0.8;
    for (let l = 0; l < w2.length; l++) {
      q = b * b + w2[l] * q;
      cov = b * b + w2[l] * cov;
      close(r.q[l + 1], q, 1e-12, `q[${l + 1}]`);
      close(r.c[l + 1], cov / q, 1e-12, `c[${l + 1}]`);
    }
  });

  it('ReLU: matches the arc-cosine kernel E[relu(u1)relu(u2)] = q(√(1−c²) + (π − acos c)c)/(2π)', () => {
    const r = E.meanFieldPair('relu', 0, [2, 2], 1.5, 0.3);
    let q = 1.5, c = 0.3;
    for (let l = 1; l <= 2; l++) {
      const cross = (q * (Math.sqrt(1 - c * c) + (Math.PI - Math.acos(c)) * c)) / (2 * Math.PI);
      const qn = 2 * (q / 2);
      c = (2 * cross) / qn;
      q = qn;
      close(r.q[l], q, 1e-9, `q[${l}]`);
      close(r.c[l], c, 1e-9, `c[${l}]`);
    }
  });

  it('tanh at q* agrees with the library correlation map and keeps q at q*', () => {
    const sb = 0.2, sw = eocSigmaW('tanh', sb).sigmaW, qs = varianceFixedPoint('tanh', sb, sw);
    const r = E.meanFieldPair('tanh', sb, Array(6).fill(sw * sw), qs, 0.5);
    const ref = correlationThroughDepth('tanh', sb, sw, 0.5, 6);
    r.q.forEach((q) => close(q, qs, 1e-9, 'q at q*'));
    r.c.forEach((c, i) => close(c, ref[i], 1e-9, `c[${i}]`));
    assert.throws(() => E.meanFieldPair('tanh', sb, [1], 0.5, 1.5), /c1 must be a correlation/);
  });
});

describe('study 02: measurements on real nets', () => {
  before(async () => { await initBackend(); });

  it('measureSignal equals an independent float64 forward pass (q^l and pair cosines)', () => {
    const net = buildModel({ arch: 'ffnn', hidden: [5, 3], activation: 'tanh', init: { scheme: 'explicit', sigmaW: 1.4, sigmaB: 0.3 } }, { seed: 7, inputShape: [2, 2, 1], numClasses: 2 });
    try {
      const xs = [[0.5, -1, 2, 0.1], [1, 1, -0.3, 0.7], [-0.2, 0.4, 0.9, -1.5], [0, 2, 0.3, 0.3]];
      const x = tf.tensor4d(xs.flat(), [4, 2, 2, 1]);
      const prof = E.measureSignal(net, x);
      x.dispose();
      const w = net.getWeights();
      const dense = (inp: number[], k: string, n: number, m: number) => Array.from({ length: m }, (_, o) => {
        let s = w.get(`${k}/bias`)![o];
        for (let i = 0; i < n; i++) s += inp[i] * w.get(`${k}/kernel`)![i * m + o];
        return s;
      });
      const y1 = xs.map((v) => dense(v, 'fc1', 4, 5));
      const y2 = y1.map((v) => dense(v.map(Math.tanh), 'fc2', 5, 3));
      assert.deepEqual(prof.names, ['fc1', 'fc2']);
      [y1, y2].forEach((ys, l) => {
        const all = ys.flat();
        close(prof.q[l], all.reduce((a, b) => a + b * b, 0) / all.length, 1e-5, `q layer ${l + 1}`);
        const cos = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0) / Math.sqrt(a.reduce((s, v) => s + v * v, 0) * b.reduce((s, v) => s + v * v, 0));
        close(prof.c[l], (cos(ys[0], ys[1]) + cos(ys[2], ys[3])) / 2, 1e-5, `c layer ${l + 1}`);
      });
      assert.throws(() => { const t = tf.zeros([3, 2, 2, 1]); try { E.measureSignal(net, t); } finally { t.dispose(); } }, /even batch/);
    } finally { net.dispose(); }
  });

  it('effectiveSigmaW2 / emptyUnitsPerLayer by hand; after rescaling every non-empty unit has squared norm sigma_w^2', () => {
    const net = buildModel({ arch: 'ffnn', hidden: [4], activation: 'tanh', init: { scheme: 'explicit', sigmaW: 1.3, sigmaB: 0.2 } }, { seed: 3, inputShape: [3, 1, 1], numClasses: 2 });
    try {
      // fc1 kernel [3, 4]: unit 2 loses every input; fc2 kernel [4, 2]: keep one weight per unit
      const m1 = [1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1], m2 = [1, 0, 0, 0, 0, 0, 0, 1];
      const mask = new Mask([['fc1/kernel', { shape: [3, 4], data: m1 }], ['fc2/kernel', { shape: [4, 2], data: m2 }]]);
      const w = net.getWeights();
      net.setMask(mask);
      const byHand = [['fc1/kernel', m1, 4], ['fc2/kernel', m2, 2]].map(([k, m, out]) => {
        const d = w.get(k as string)!;
        return (m as number[]).reduce((s, keep, i) => s + (keep ? d[i] * d[i] : 0), 0) / (out as number);
      });
      E.effectiveSigmaW2(net).forEach((v, i) => close(v, byHand[i], 1e-6, `layer ${i + 1}`));
      assert.deepEqual(E.emptyUnitsPerLayer(net), [1, 0]);
      rescaleKept(net, mask, { sigmaW: 1.3 });
      const s2 = E.effectiveSigmaW2(net);
      close(s2[0], 1.69 * 3 / 4, 1e-5, 'fc1 after rescaling');
      close(s2[1], 1.69, 1e-5, 'fc2 after rescaling');
    } finally { net.dispose(); }
  });

  it('signalPropagation: rows per variant and layer, deterministic, leaks no tensors, rescaled σ² = σ_w²·(live units)', async () => {
    const data = loadDataset('mnist', { trainLimit: 200, testLimit: 50 });
    const o = { data, depth: 4, width: 16, seeds: [1], batch: 8, sparsities: [0.8] };
    const before = tf.memory().numTensors;
    const rows = await E.signalPropagation(o);
    assert.equal(tf.memory().numTensors, before);
    assert.equal(rows.length, 3 * 3);
    const sw = eocSigmaW('tanh', 0.2).sigmaW;
    for (const r of rows.filter((x) => x.variant === 'rescaled')) close(r.sigmaW2, sw * sw * (1 - r.emptyUnits / 16), 1e-4, `rescaled layer ${r.layer}`);
    for (const r of rows.filter((x) => x.layer === 1)) { assert.equal(r.qPred, r.q); assert.equal(r.cPred, r.c); }
    assert.deepEqual(await E.signalPropagation(o), rows);
    const ratios = E.signalRatios(E.signalSummary(rows));
    assert.deepEqual(ratios.map((r) => r.variant).sort(), ['dense', 'pruned', 'rescaled']);
    assert.ok(ratios.every((r) => r.layer === 3));
  });
});

describe('study 02: aggregation', () => {
  const row = (method: string, sparsity: number, seed: number, acc: number, empty = 0, error = false) => ({
    family: 'ffnn' as const, arch: 'x', depth: 2, method, sparsity, seed, trained: true,
    acc: error ? NaN : acc, history: error ? [] : [acc], outcome: error ? 'error' as const : 'ok' as const, emptyLayers: Array(empty).fill('l'), perLayer: [], density: 1 - sparsity, seconds: 1, cached: false,
  });

  it('summarize: sample mean ± sd per group, counting empty-layer and failed runs', () => {
    const s = E.summarize([row('a', 0.9, 0, 0.2), row('a', 0.9, 1, 0.4, 1), row('a', 0.9, 2, 0, 0, true), row('b', 0.9, 0, 0.7)], ['method', 'sparsity']);
    const a = s.find((x) => x.method === 'a')!;
    close(a.mean, 0.3, 1e-12, 'mean');
    close(a.sd, Math.sqrt(0.02), 1e-12, 'sd');
    assert.deepEqual([a.n, a.emptySeeds, a.failed], [2, 1, 1]);
    assert.equal(s.find((x) => x.method === 'b')!.n, 1);
    // a diverged run is counted, never averaged in
    const d = E.summarize([row('a', 0.9, 0, 0.2), row('a', 0.9, 1, 0.4), { ...row('a', 0.9, 2, 0.1), outcome: 'diverged' as const }], ['method']);
    assert.deepEqual([d[0].n, d[0].diverged], [2, 1]);
    close(d[0].mean, 0.3, 1e-12, 'mean without the diverged run');
  });

  it('keptFraction over the last stage', () => {
    const pl = [{ name: 's1b1/conv1/kernel', size: 100, kept: 50 }, { name: 's3b1/conv1/kernel', size: 300, kept: 3 }, { name: 's3b2/conv2/kernel', size: 100, kept: 1 }];
    assert.equal(E.keptFraction(pl), 4 / 400);
    assert.throws(() => E.keptFraction(pl, 's9'), /no layer named s9/);
  });
});

describe('study 02: verdicts on inputs whose truth is known by construction', () => {
  it('signalVerdict: near / decayed bands and missing rows', () => {
    const ok = E.signalVerdict([
      { variant: 'dense', sparsity: 0, ratio: 1.05 },
      { variant: 'pruned', sparsity: 0.9, ratio: 0.3 }, { variant: 'rescaled', sparsity: 0.9, ratio: 0.9 },
      { variant: 'pruned', sparsity: 0.99, ratio: 0.1 }, { variant: 'rescaled', sparsity: 0.99, ratio: 1.4 },
    ]);
    assert.equal(ok.checks.length, 5);
    assert.equal(verdictFromChecks(ok.checks).verdict, 'reproduced');
    const bad = E.signalVerdict([
      { variant: 'dense', sparsity: 0, ratio: 1 },
      { variant: 'pruned', sparsity: 0.9, ratio: 0.7 }, { variant: 'rescaled', sparsity: 0.9, ratio: 0.6 },
    ]);
    assert.deepEqual(bad.checks.map((c) => c.passed), [true, false, false]);
    assert.equal(verdictFromChecks(bad.checks).verdict, 'partly');
    assert.throws(() => E.signalVerdict([{ variant: 'dense', sparsity: 0, ratio: 1 }, { variant: 'pruned', sparsity: 0.9, ratio: 0.2 }]), /needs both/);
  });

  it('orderingVerdict: a grid built with EOC+SR ≥ EOC > ordered and widening gaps passes all six checks; swapped arms fail', () => {
    const depths = [10, 50], sparsities = [0.5, 0.9];
    const cells = (f: (arm: string, d: number, s: number) => number) => depths.flatMap((d) => sparsities.flatMap((s) =>
      (['ordered', 'eoc', 'eoc+rescale'] as const).map((arm) => ({ arm, depth: d, sparsity: s, mean: f(arm, d, s) }))));
    // penalties grow with depth and sparsity, most for ordered, least for rescaled
    const good = cells((arm, d, s) => 0.9 - (arm === 'eoc+rescale' ? 0.1 : arm === 'eoc' ? 0.3 : 0.6) * (d / 50) * s);
    const v = E.orderingVerdict(good);
    assert.equal(v.checks.length, 6);
    assert.deepEqual(v.checks.map((c) => c.passed), [true, true, true, true, true, true]);
    // rescaling gain at (50, 0.9) = (0.3 − 0.1) · 1 · 0.9 = 0.18
    close(v.numbers['rescaling gain at L=50, 90%'] as number, 0.18, 1e-12, 'gain');
    const swapped = E.orderingVerdict(cells((arm, d, s) => (arm === 'ordered' ? 0.8 : 0.5) + 0 * d * s));
    assert.deepEqual(swapped.checks.slice(0, 2).map((c) => c.passed), [true, false]);
    assert.throws(() => E.orderingVerdict(good.filter((c) => !(c.arm === 'eoc' && c.depth === 50))), /missing cell/);
  });

  it('extremeVerdict and collapseTable: thresholds at chance + 5 / + 10 points; the dense reference is ignored', () => {
    assert.equal(E.isCollapsedAcc(0.15, 0.1), true);
    assert.equal(E.isCollapsedAcc(0.1501, 0.1), false);
    assert.equal(E.isTrainableAcc(0.2, 0.1), true);
    assert.equal(E.isTrainableAcc(0.1999, 0.1), false);
    const cells = [
      { method: 'none', sparsity: 0, mean: 0.85, n: 2 },
      { method: 'sbp-sr', sparsity: 0.9, mean: 0.7, n: 2 }, { method: 'sbp-sr', sparsity: 0.999, mean: 0.4, n: 2 },
      { method: 'snip', sparsity: 0.9, mean: 0.6, n: 2 }, { method: 'snip', sparsity: 0.999, mean: 0.1, n: 2 },
      { method: 'random', sparsity: 0.9, mean: 0.12, n: 2 }, { method: 'random', sparsity: 0.999, mean: 0.1, n: 2 },
      { method: 'magnitude', sparsity: 0.9, mean: 0.5, n: 2 }, { method: 'magnitude', sparsity: 0.999, mean: 0.2, n: 2 },
    ];
    const v = E.extremeVerdict(cells, { chance: 0.1, family: 'FFNN' });
    assert.deepEqual(v.checks.map((c) => c.passed), [true, true, true, false]);
    assert.equal(v.numbers['FFNN random collapses at'], '90%, 99.9%');
    assert.equal(v.numbers['FFNN sbp-sr collapses at'], 'never');
    const t = E.collapseTable(cells, 0.1);
    assert.deepEqual(t.map((r) => [r.method, r.firstCollapse]), [['sbp-sr', null], ['snip', 0.999], ['random', 0.9], ['magnitude', null]]);
    assert.throws(() => E.extremeVerdict(cells.filter((c) => c.method !== 'sbp-sr'), { chance: 0.1, family: 'FFNN' }), /no sbp-sr result/);
  });

  it('stableResnetVerdict: deep-stage fraction and empty-layer comparisons, with the vacuous case labelled', () => {
    const pl = (s3kept: number, emptyS1: boolean) => [
      { name: 'stem/conv/kernel', size: 10, kept: 5 }, { name: 's1b1/conv1/kernel', size: 100, kept: emptyS1 ? 0 : 4 },
      { name: 's3b1/conv1/kernel', size: 1000, kept: s3kept }, { name: 'fc/kernel', size: 10, kept: 2 },
    ];
    const runs = (stdEmpty: boolean, stbEmpty: boolean, stbS3: number) => [0, 1].flatMap((seed) => [
      { arch: 'standard' as const, depth: 20, seed, perLayer: pl(3, stdEmpty) },
      { arch: 'stable' as const, depth: 20, seed, perLayer: pl(stbS3, stbEmpty) },
    ]);
    const good = E.stableResnetVerdict(runs(true, false, 9));
    assert.deepEqual(good.checks.map((c) => c.passed), [true, true, true]);
    const vacuous = E.stableResnetVerdict(runs(false, false, 9));
    assert.match(vacuous.checks[1].label, /vacuous/);
    const bad = E.stableResnetVerdict(runs(true, true, 2));
    assert.deepEqual(bad.checks.map((c) => c.passed), [false, false, true]);
    assert.deepEqual(E.stableResnetVerdict(runs(false, true, 9)).checks.map((c) => c.passed), [true, true, false]);
    assert.throws(() => E.stableResnetVerdict(runs(true, false, 9).slice(1)), /needs both/);
  });
});

describe('study 02: gates (closed-form cases)', () => {
  const p = E.plan('standard', [0, 1, 2]);
  const g = p.fig2.grids[0];
  const base = { acc: 0, history: [] as number[], outcome: 'ok' as const, emptyLayers: [], perLayer: [], density: 1, seconds: 1, cached: false };
  const gateRun = (depth: number, seed: number, acc: number, converged: boolean) =>
    ({ ...base, section: 'fig2' as const, net: `d${depth}`, dataset: g.data.name, depth, seed, converged, acc, history: [acc - 0.001, acc] });
  const cell = (arm: 'ordered' | 'eoc' | 'eoc+rescale', depth: number, sparsity: number, seed: number, history: number[], outcome: 'ok' | 'diverged' = 'ok') =>
    ({ ...base, dataset: g.data.name, arm, depth, sparsity, seed, acc: history[history.length - 1] ?? NaN, history, outcome });
  const cells = (last: number[]) => E.ARMS.flatMap((a) => g.depths.flatMap((d) => g.sparsities.flatMap((s) => [0, 1, 2].map((seed) => cell(a.arm, d, s, seed, last)))));
  const gates = (ref: number, conv: number, last = [0.5, 0.5]) => E.fig2Gates(p, {
    fig2: cells(last), gates: g.depths.flatMap((d) => [...[0, 1, 2].map((s) => gateRun(d, s, ref, false)), gateRun(d, 0, conv, true)]),
  });

  it('fig2Gates: one dense gate per depth; 5 points under the converged run fails it, 1 point passes', () => {
    const ok = gates(0.93, 0.94);
    assert.deepEqual(ok.map((x) => x.kind), [...g.depths.map(() => 'dense-converged'), 'plateau', 'divergence']);
    assert.ok(ok.every((x) => x.passed), JSON.stringify(ok));
    const under = gates(0.89, 0.94);
    assert.deepEqual(under.map((x) => x.passed), [false, false, true, true]);
    assert.equal(verdictFromChecks([{ label: 'x', passed: true }]).verdict, 'reproduced');
    assert.equal(gatedVerdict([{ label: 'x', passed: true }], under).verdict, 'inconclusive');
  });

  it('fig2Gates: cells still gaining 3 points fail the plateau gate; a diverged cell fails the divergence gate', () => {
    assert.equal(gates(0.93, 0.94, [0.4, 0.43]).find((x) => x.kind === 'plateau')!.passed, false);
    const runs = { fig2: [...cells([0.5, 0.5]), cell('eoc', g.depths[0], g.sparsities[0], 3, [], 'diverged')], gates: g.depths.flatMap((d) => [gateRun(d, 0, 0.93, false), gateRun(d, 0, 0.94, true)]) };
    const div = E.fig2Gates(p, runs).find((x) => x.kind === 'divergence')!;
    assert.equal(div.passed, false);
    assert.match(div.detail, /1\/4/);
  });

  it('extremeFfnnGates: no converged run means a failed dense gate, not a crash', () => {
    const ex = (method: string, sparsity: number, acc: number) => ({ ...base, family: 'ffnn' as const, arch: 'x', depth: 10, method, sparsity, seed: 0, trained: true, acc, history: [acc, acc] });
    const rows = [ex('none', 0, 0.95), ...p.extreme.methods.map((m) => ex(m, 0.999, 0.1))];
    const noConv = E.extremeFfnnGates(p, { extreme: rows, gates: [] });
    assert.equal(noConv[0].passed, false);
    assert.match(noConv[0].detail, /converged run: no finished run/);
    const conv = { ...gateRun(10, 0, 0.955, true), section: 'extreme' as const };
    // every method at chance at 99.9 % and no long run: the dense gate passes, the long-run gate (and the above-chance gate) do not
    const idle = E.extremeFfnnGates(p, { extreme: rows, gates: [conv] });
    assert.deepEqual(idle.map((x) => [x.kind, x.passed]), [['dense-converged', true], ['chance-long-run', false], ['plateau', true], ['arms-above-chance', false], ['divergence', true]]);
  });

  // §4 FFNN at 99.9 %: SBP-SR and SNIP at chance after the budget (16 epochs), every other method well above chance
  const L = p.gate.convergedEpochs, top = Math.max(...p.extreme.sparsities);
  const ex = (method: string, sparsity: number, seed: number, acc: number, epochs = p.extreme.train.epochs) =>
    ({ ...base, family: 'ffnn' as const, arch: 'x', depth: p.extreme.depth, method, sparsity, seed, trained: true, acc, history: [0.1, ...Array(epochs - 1).fill(acc)] });
  const budget = [...[0, 1, 2].map((s) => ex('none', 0, s, 0.95)),
    ...p.extreme.methods.flatMap((m) => [0, 1, 2].map((s) => ex(m, top, s, m === 'sbp-sr' || m === 'snip' ? 0.1135 : 0.6)))];
  const conv = { ...gateRun(p.extreme.depth, 0, 0.955, true), section: 'extreme' as const };
  const longOf = (accs: Record<string, number>) => ({ ffnn: Object.entries(accs).flatMap(([m, a]) => [0, 1, 2].map((s) => ex(m, top, s, a, L))), resnet: [] });

  it('longRunJobs: the runs of the §4 methods at chance at the highest sparsity, with the converged schedule', () => {
    const jobs = E.longRunJobs(p, { extreme: budget, resnetTrained: [] });
    const want = E.extremeFfnnJobs(p).filter((j) => j.tag.sparsity === top && ['snip', 'sbp-sr'].includes(j.tag.method));
    const long = (m: string) => want.filter((j) => j.tag.method === m).map((j) => ({ tag: j.tag, config: { ...j.config, train: { ...j.config.train, epochs: L } } }));
    // one arm per method, its seeds in order (the first is re-trained first: stagedLongRuns)
    assert.deepEqual(jobs.ffnn.map((a) => a[0].tag.method).sort(), ['sbp-sr', 'snip']);
    for (const a of jobs.ffnn) { assert.deepEqual(a, long(a[0].tag.method)); assert.deepEqual(a.map((j) => j.tag.seed), [0, 1, 2]); }
    assert.deepEqual(jobs.resnet, []);
    // the quick preview skips long runs (longRunsAt): the same methods at chance give none
    assert.deepEqual(E.longRunJobs({ ...p, budget: 'quick' }, { extreme: budget, resnetTrained: [] }), { ffnn: [], resnet: [] });
  });

  it('a method at chance whose every mask leaves no input-output path gets no long run and reads as untrainable', () => {
    const cut = budget.map((r) => (r.method === 'snip' ? { ...r, noPath: true } : { ...r, noPath: false }));
    const jobs = E.longRunJobs(p, { extreme: cut, resnetTrained: [] });
    assert.deepEqual(jobs.ffnn.map((a) => a[0].tag.method), ['sbp-sr'], 'SNIP is untrainable by construction: only SBP-SR is re-trained');
    const long = { ffnn: longOf({ 'sbp-sr': 0.7 }).ffnn, resnet: [] };
    const lr = E.extremeLongRun(p, 'ffnn', { extreme: cut }, long);
    assert.deepEqual([lr.status.snip, lr.status['sbp-sr'], lr.gate.passed], ['no path', 'slow', true]);
    assert.match(lr.gate.detail, /snip 11.35 % after x16: no input-output path in any run's mask \(3 of 3\): untrainable by construction/);
    // one seed's mask still connected: the method needs its long run as before
    const oneConnected = cut.map((r) => (r.method === 'snip' && r.seed === 2 ? { ...r, noPath: false } : r));
    assert.deepEqual(E.longRunJobs(p, { extreme: oneConnected, resnetTrained: [] }).ffnn.map((a) => a[0].tag.method).sort(), ['sbp-sr', 'snip']);
  });

  it('SBP-SR slow (leaves chance in its long run), SNIP untrainable: gates pass and the verdict reads the long runs', () => {
    const long = longOf({ 'sbp-sr': 0.7, snip: 0.1135 });
    const g = E.extremeFfnnGates(p, { extreme: budget.concat([]), gates: [conv] }, long);
    const lr = g.find((x) => x.kind === 'chance-long-run')!;
    assert.equal(lr.detail, `2 of ${p.extreme.methods.length} arms at chance after x${p.extreme.train.epochs} (at chance = mean ≤ 15.00 %), re-trained x${L} (first run; all runs if it leaves chance; none where no run's mask connects input to output): ` +
      `snip 11.35 % → 11.35 % (3 of 3 runs): stays at chance: untrainable at x${L}; sbp-sr 11.35 % → 70.00 % (3 of 3 runs): slow, not untrainable (read at x${L})`);
    assert.ok(g.every((x) => x.passed), JSON.stringify(g));
    const cells = E.summarize(E.extremeRead(p, 'ffnn', { extreme: budget }, long), ['method', 'sparsity']);
    const v = E.extremeVerdict(cells, { chance: 0.1, family: 'FFNN' });
    assert.equal(v.checks[0].passed, true); // sbp-sr trainable, read at 0.7
    assert.equal(v.checks.find((c) => c.label.includes('snip collapses'))!.passed, true);
    assert.equal(v.checks.find((c) => c.label.includes('random collapses'))!.passed, false);
    // without the long runs the same budget data would call SBP-SR collapsed: now the long-run gate fails instead
    assert.equal(gatedVerdict(E.extremeVerdict(E.summarize(budget, ['method', 'sparsity']), { chance: 0.1, family: 'FFNN' }).checks, E.extremeFfnnGates(p, { extreme: budget, gates: [conv] })).verdict, 'inconclusive');
  });

  it('a method at chance whose long run leaves chance no longer counts as collapsed', () => {
    const long = longOf({ 'sbp-sr': 0.7, snip: 0.4 });
    const cells = E.summarize(E.extremeRead(p, 'ffnn', { extreme: budget }, long), ['method', 'sparsity']);
    const v = E.extremeVerdict(cells, { chance: 0.1, family: 'FFNN' });
    assert.match(v.checks.find((c) => c.label.includes('snip collapses'))!.label, /acc 0\.400/);
    assert.equal(v.checks.find((c) => c.label.includes('snip collapses'))!.passed, false);
  });
});

describe('study 02: effective sparsity of the extreme masks (task wiring)', function () {
  this.timeout(60000);
  it('the task reports the mask the trained run uses: nominal sparsity = the target, effective >= nominal, per-layer counts consistent', async () => {
    const cfg = { model: E.ffnnConfig(4, 8, { scheme: 'eoc', sigmaB: 0.2 }), data: { name: 'mnist', trainLimit: 200, testLimit: 100 }, method: 'snip', sparsity: 0.95, seed: 1 };
    const s = await runPathStats(cfg);
    const n = 784 * 8 + 8 * 8 * 2 + 8 * 10;
    close(s.nominalSparsity, 1 - Math.round(0.05 * n) / n, 1e-12, 'nominal');
    assert.ok(s.effectiveSparsity >= s.nominalSparsity - 1e-12);
    assert.deepEqual([s.unitsWithoutInputs.length, s.unitsWithoutOutputs.length], [4, 4]);
    assert.ok(s.unitsWithoutInputs.every((u, l) => u >= 0 && u <= (l === 3 ? 10 : 8)));
    // the same mask as the trained run of that config: its per-layer kept counts give the same nominal sparsity
    const run = await runPruneTrain({ model: cfg.model, data: cfg.data, prune: { method: 'snip', sparsity: 0.95, scope: 'global', options: {} }, train: { ...E.ffnnTrain(0) }, seed: 1 });
    close(s.nominalSparsity, 1 - run.kept / run.prunable, 1e-12, 'same mask as prune-train');
    const eff = await runPathStats({ ...cfg, sparsity: 0.0 });
    assert.deepEqual([eff.nominalSparsity, eff.effectiveSparsity], [0, 0]);
  });
});

describe('study 02: runAll maps every result back to its job', function () {
  this.timeout(60000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pai-study02-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('returns each section in job order (density = 1 − sparsity for every row), dense reference included', async () => {
    const base = E.plan('smoke', [0], { workers: 0 });
    const data = { name: 'mnist', trainLimit: 200, testLimit: 100 };
    const p: typeof base = {
      ...base,
      fig2: { grids: [{ data, depths: [2], sparsities: [0.3, 0.6] }], train: E.ffnnTrain(1) },
      extreme: { ...base.extreme, data, depth: 2, methods: ['random', 'snip'], sparsities: [0.8], train: E.ffnnTrain(1) },
      resnet: {
        ...base.resnet, data, depth: 8, methods: ['random'], sparsities: [0.7],
        trained: { ...base.resnet.trained, methods: [] },
        perLayer: { depths: [8], sparsity: 0.85, bnModes: ['eval'] },
      },
    };
    const runs = await E.runAll(p, { store: dir });
    assert.equal(runs.fig2.length, 2 * 3);
    assert.equal(runs.extreme.length, 1 + 2);
    assert.equal(runs.resnetInit.length, 1);
    assert.equal(runs.resnetTrained.length, 0);
    assert.equal(runs.perLayer.length, 2);
    // gates: the dense EOC run and its converged run at the grid's depth, the converged §4 FFNN (no trained ResNet)
    assert.deepEqual(runs.gates.map((r) => [r.section, r.converged]), [['fig2', false], ['fig2', true], ['extreme', true]]);
    assert.ok(runs.gates.every((r) => r.history.length === (r.converged ? p.gate.convergedEpochs : 1)));
    for (const r of [...runs.fig2, ...runs.extreme, ...runs.resnetInit, ...runs.perLayer]) {
      assert.equal(r.error, undefined);
      close(r.density, 1 - r.sparsity, 0.002, `${JSON.stringify({ ...r, perLayer: undefined })}`);
    }
    assert.ok(runs.fig2.every((r) => r.acc >= 0 && r.acc <= 1));
    assert.deepEqual(runs.perLayer.map((r) => r.arch), ['resnet8', 'resnet8_stable']);
    assert.ok(runs.resnetInit.every((r) => r.outcome === 'init-only' && Number.isNaN(r.acc)));
  });
});
