import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, buildModel, loadDataset, gather, train, overfitting as of, kstartsDissipating as ksd, denseGate, Gate } from 'prune-at-init';

before(async () => { await initBackend(); });

type Row = of.OverfitRow;
const A = of.OVERFIT_ARMS;

/** Synthetic rows: each arm's per-seed test accuracies and gaps; history = [test - gain, test] when `gain` is given. */
function synth(spec: Record<string, { test: number[]; gap: number[]; p?: number; gain?: number }>): Row[] {
  return Object.entries(spec).flatMap(([arm, s]) => s.test.map((t, i) => ({
    arm, sparsity: s.p ?? 0, seed: i, testAcc: t, trainAcc: t + s.gap[i], gap: s.gap[i], density: null, outcome: 'ok' as const, error: null,
    history: [t - (s.gain ?? 0), t],
  })));
}

/** A passing gate (the checks' rule is tested here; the gates in their own describe). */
const PASS: Gate[] = [denseGate('dense', [0.9], [0.9])];

describe('overfitting study: plan and jobs', () => {
  it('every budget plans LeNet arms with eval-mode train accuracy; dropout and post-training configs are what the claim says', () => {
    for (const b of ['smoke', 'quick', 'standard', 'paper'] as const) {
      const p = of.plan(b, [0, 1]);
      const js = of.jobs(p);
      // dense, dense + dropout and the converged run (2 seeds each), 5 sparse arms x p x 2 seeds
      assert.equal(js.length, 3 * 2 + p.sparsities.length * 5 * 2, b);
      assert.ok(js.every((j) => j.config.eval?.trainSplit === true));
      // the dense, converged and at-init configs are notebook 04's own (one cache entry, computed once)
      const ks = ksd.jobs(ksd.plan(b, [0, 1])).map((j) => JSON.stringify(j.config));
      const own = [A.dropout, A.post] as string[];
      for (const j of js.filter((x) => !own.includes(x.arm))) assert.ok(ks.includes(JSON.stringify(j.config)), `${b} ${j.arm} p=${j.sparsity}: not a notebook 04 config`);
      assert.deepEqual(js.filter((j) => j.arm === A.converged).map((j) => j.config.seed), [0, 1]);
      const drop = js.find((j) => j.arm === A.dropout)!;
      assert.deepEqual(drop.config.model, { arch: 'ffnn', activation: 'relu', hidden: [300, 100], dropout: 0.5 });
      assert.equal(drop.config.prune!.method, 'dense');
      const post = js.find((j) => j.arm === A.post)!;
      assert.equal(post.config.prune!.method, 'magnitude-at-epoch');
      assert.deepEqual(post.config.prune!.dissipation, { epochs: p.epochs, scope: 'global' });
      assert.deepEqual(post.config.extra, { epochs: p.fineTuneEpochs, lr: p.fineTuneLr });
    }
    assert.throws(() => of.withDropout({ arch: 'wrn', depth: 10, widthFactor: 1 }, 0.5), /FFNN and CNN models only/);
  });
});

describe('overfitting study: verdict rule (closed-form cases)', () => {
  const sparse = (test: number[], gap: number[]) => ({ test, gap, p: 0.9 });
  const base = {
    [A.dense]: { test: [0.80, 0.81, 0.82], gap: [0.10, 0.11, 0.12] },
    [A.dropout]: { test: [0.82, 0.83, 0.84], gap: [0.02, 0.03, 0.04] },
    [A.post]: sparse([0.82, 0.83, 0.84], [0.02, 0.03, 0.04]),
  };
  it('at-init arms equal to the references: every check passes -> reproduced; the dense net overfits', () => {
    const same = sparse([0.82, 0.83, 0.84], [0.02, 0.03, 0.04]);
    const v = of.verdictOverfitting(synth({ ...base, [A.kstarts]: same, [A.dissipating]: same, [A.snip]: same, [A.random]: same }), { gates: PASS });
    assert.equal(v.total, 4 * 2 * 2);
    assert.equal(v.verdict, 'reproduced');
    assert.equal(v.gateInputs.denseOverfits, true);
    assert.deepEqual(v.gateInputs.denseTestAcc, [0.80, 0.81, 0.82]);
  });
  it('a gap larger by more than 2 SE fails its gap checks; one inside 2 SE passes', () => {
    // gaps 0.10/0.12/0.14 vs 0.02/0.03/0.04: diff 0.09, SE = sqrt(0.02²/3 + 0.01²/3) = 0.0129 -> beyond 2 SE
    const worse = sparse([0.82, 0.83, 0.84], [0.10, 0.12, 0.14]);
    // gaps 0.03/0.04/0.05: diff 0.01, SE = sqrt(2 · 0.01²/3) = 0.0082 -> inside 2 SE (0.0163)
    const close = sparse([0.82, 0.83, 0.84], [0.03, 0.04, 0.05]);
    const v = of.verdictOverfitting(synth({ ...base, [A.kstarts]: worse, [A.dissipating]: close, [A.snip]: close, [A.random]: close }), { gates: PASS });
    const gapChecks = v.checks.filter((c) => c.label.includes(' gap '));
    assert.deepEqual(gapChecks.map((c) => c.passed), [false, false, true, true, true, true, true, true]);
    assert.ok(v.checks.filter((c) => c.label.includes('test accuracy')).every((c) => c.passed));
    assert.equal(v.verdict, 'partly');
  });
  it('lower test accuracy beyond 2 SE fails; diverged runs are left out and counted; no overfitting is reported', () => {
    const low = sparse([0.70, 0.71, 0.72], [0.02, 0.03, 0.04]);
    const rows = synth({ ...base, [A.dense]: { test: [0.8, 0.8, 0.8], gap: [0.0, 0.01, -0.01] }, [A.kstarts]: low, [A.dissipating]: low, [A.snip]: low, [A.random]: low });
    rows.push({ arm: A.random, sparsity: 0.9, seed: 9, testAcc: null, trainAcc: null, gap: null, density: null, outcome: 'diverged', error: null, history: [] });
    const v = of.verdictOverfitting(rows, { gates: PASS });
    assert.equal(v.verdict, 'partly'); // gap checks pass, accuracy checks fail
    assert.ok(v.checks.filter((c) => c.label.includes('test accuracy')).every((c) => !c.passed));
    assert.deepEqual(v.gateInputs.diverged[A.random], { diverged: 1, runs: 4 });
    assert.equal(v.numbers[`${A.random}: diverged runs (left out)`], '1/4');
    assert.equal(v.gateInputs.denseOverfits, false);
    assert.match(v.rationale, /does not overfit measurably/);
  });
});

describe('overfitting study: gates', () => {
  const p = of.plan('standard', [0, 1, 2]);
  const sparse = (test: number[], gap: number[], gain = 0) => ({ test, gap, p: 0.9, gain });
  const ok = sparse([0.82, 0.83, 0.84], [0.02, 0.03, 0.04]);
  const spec = {
    [A.dense]: { test: [0.88, 0.88, 0.88], gap: [0.05, 0.05, 0.05] },
    [A.converged]: { test: [0.89], gap: [0.06] },
    [A.dropout]: { test: [0.82, 0.83, 0.84], gap: [0.02, 0.03, 0.04] },
    [A.post]: ok, [A.kstarts]: ok, [A.dissipating]: ok, [A.snip]: ok, [A.random]: ok,
  };
  it('trained and converged arms pass every gate; the verdict is the checks\' verdict', () => {
    const gates = of.overfitGates(synth(spec), p);
    assert.deepEqual(gates.map((g) => [g.kind, g.passed]), [['dense-converged', true], ['plateau', true], ['divergence', true]]);
    assert.equal(of.verdictOverfitting(synth(spec), { gates }).verdict, 'reproduced');
  });
  it('dense + dropout still gaining 1.5 points in its last epoch (> 1): plateau gate fails, verdict inconclusive', () => {
    const rows = synth({ ...spec, [A.dropout]: { ...spec[A.dropout], gain: 0.015 } });
    const gates = of.overfitGates(rows, p);
    const plateau = gates.find((g) => g.kind === 'plateau')!;
    assert.equal(plateau.passed, false);
    assert.match(plateau.detail, /dense \+ dropout/);
    const v = of.verdictOverfitting(rows, { gates });
    assert.equal(v.verdict, 'inconclusive');
    assert.equal(v.total, 16); // the checks are still listed, for information
  });
  it('dense 3 points below its converged run (margin 2): dense gate fails', () => {
    const gates = of.overfitGates(synth({ ...spec, [A.converged]: { test: [0.91], gap: [0.06] } }), p);
    assert.deepEqual(gates.filter((g) => !g.passed).map((g) => g.kind), ['dense-converged']);
  });
  it('no converged run: the dense gate fails and says so', () => {
    const { [A.converged]: _c, ...rest } = spec;
    const g = of.overfitGates(synth(rest), p)[0];
    assert.equal(g.passed, false);
    assert.match(g.detail, /missing converged run/);
  });
  it('one diverged SNIP run: counted by the divergence gate (left out of the means)', () => {
    const rows = synth(spec);
    rows.push({ arm: A.snip, sparsity: 0.9, seed: 3, testAcc: null, trainAcc: null, gap: null, density: null, outcome: 'diverged', error: null, history: [] });
    const div = of.overfitGates(rows, p).find((g) => g.kind === 'divergence')!;
    assert.equal(div.passed, false);
    assert.match(div.detail, /SNIP, p=0.9 1\/4/);
  });
  it('verdictOverfitting refuses to run without gates', () => {
    assert.throws(() => of.verdictOverfitting(synth(spec), undefined as never), /give \{ gates \}/);
  });
});

describe('overfitting study: end to end (tiny)', function () {
  this.timeout(120_000);
  it('runs every arm; post-training nets are exactly p-sparse; the dense train accuracy equals an independent train() + evaluation', async () => {
    const p0 = of.plan('smoke', [0]);
    const p: of.OverfitPlan = { ...p0, dataset: { ...p0.dataset, trainLimit: 200, testLimit: 100, label: 'FM 200/100' }, epochs: 3 };
    const store = fs.mkdtempSync(path.join(os.tmpdir(), 'overfit-'));
    try {
      const run = await of.runStudy(p, { workers: 0, store });
      const arms = new Set(run.rows.map((r) => r.arm));
      assert.deepEqual([...arms].sort(), Object.values(A).sort());
      for (const r of run.rows) assert.ok(r.outcome === 'ok' && r.gap !== null && Math.abs(r.gap - (r.trainAcc! - r.testAcc!)) < 1e-12, JSON.stringify(r));
      for (const r of run.rows.filter((x) => x.arm === A.post || x.arm === A.postNoFt)) assert.ok(Math.abs(r.density! - (1 - p.sparsities[0])) < 1e-5, `density ${r.density}`);
      // independent path: train() with the same seed and recipe, then argmax accuracy on the training split in JS
      const ds = loadDataset('fashion-mnist', { trainLimit: 200, testLimit: 100, seed: 0 });
      const net = buildModel('lenet300', { seed: 0, inputShape: ds.inputShape, numClasses: ds.numClasses });
      train(net, ds, { ...p.train, epochs: 3 }, { seed: 0, evalEveryEpoch: false });
      const b = gather(ds, ds.train, Int32Array.from({ length: ds.train.n }, (_, i) => i));
      const logits = tf.tidy(() => net.forward(b.x).arraySync() as number[][]);
      const labels = Array.from(b.y.dataSync());
      const acc = logits.filter((l, i) => l.indexOf(Math.max(...l)) === labels[i]).length / labels.length;
      b.x.dispose(); b.y.dispose(); net.dispose();
      assert.equal(run.rows.find((r) => r.arm === A.dense)!.trainAcc, acc);
      const gates = of.overfitGates(run.rows, p);
      assert.deepEqual(gates.map((g) => g.kind), ['dense-converged', 'plateau', 'divergence']);
      const v = of.verdictOverfitting(run.rows, { gates });
      assert.equal(v.total, 16);
      assert.ok(run.rows.filter((r) => r.arm !== A.post && r.arm !== A.postNoFt).every((r) => r.history.length === (r.arm === A.converged ? p.gate.convergedEpochs : p.epochs)), 'one test accuracy per epoch');
      assert.ok(of.gapTable(run.rows).length >= 8);
      assert.equal(of.gapFigure(run.rows).data.length > 0, true);
    } finally {
      fs.rmSync(store, { recursive: true, force: true });
    }
  });
});
