import { strict as assert } from 'assert';
import * as pai from 'prune-at-init';
import { initBackend, buildModel, denseNetCost, reducedVsPruned as rvp, reducedVsPrunedDenseNet as dn } from 'prune-at-init';
import { useTempResults } from './support/temp-results';

function countParams(net: ReturnType<typeof buildModel>): number {
  let n = 0;
  for (const v of net.params.values()) n += v.size;
  return n;
}

describe('reduced-vs-pruned, DenseNet family: plans', () => {
  it('every budget: reduced DenseNets are their own budgets, smaller than the base and above the all-pruned floor', () => {
    for (const b of ['smoke', 'quick', 'standard', 'paper'] as const) {
      const p = dn.plan(b, { workers: 0 });
      assert.ok(p.gate.convergedEpochs >= 2 * p.train.epochs, `${b}: the converged run is a long schedule`);
      // the converged runs are the base config, longer, on every seed; every from-scratch net is evaluated per epoch
      const js = dn.trainJobs(p, [3, 1]);
      const conv = js.filter((j) => j.meta.family === 'dense-converged');
      assert.deepEqual(conv.map((j) => j.config.seed), [3, 1]);
      for (const c of conv) {
        const base = js.find((j) => j.meta.family === 'base' && j.meta.seed === c.config.seed)!;
        assert.deepEqual(c.config, { ...base.config, keepState: false, train: { ...p.train, epochs: p.gate.convergedEpochs } });
      }
      assert.ok(js.every((j) => j.config.evalEveryEpoch === true));
      const base = { arch: 'densenet' as const, depth: p.base.depth, growth: p.base.growth };
      assert.equal(p.baseParams, denseNetCost(base, { inputShape: p.inputShape }).params);
      assert.equal(p.baseChannels, 3 * ((p.base.depth - 4) / 6) * 4 * p.base.growth);
      const floor = denseNetCost({ ...base, interior: Array(3 * ((p.base.depth - 4) / 6)).fill(0) }, { inputShape: p.inputShape }).params;
      assert.ok(p.reduced.length >= 2, b);
      for (const m of p.reduced) {
        assert.ok(m.params < p.baseParams && m.params > floor, `${b} ${m.label}: ${m.params} vs base ${p.baseParams}, floor ${floor}`);
        assert.ok(p.budgets.includes(m.budget) && p.checkpointParams.includes(m.budget));
      }
      assert.ok(p.reduced.some((m) => m.family === 'reduced-depth') && p.reduced.some((m) => m.family === 'reduced-growth'));
    }
    assert.equal(dn.plan('paper').base.depth, 100);
    assert.throws(() => dn.plan('quick', { dataset: 'svhn' }), /dataset must be/);
  });
});

describe('reduced-vs-pruned, DenseNet family: the study at a tiny size', function () {
  this.timeout(300000);
  useTempResults('rvpd-test-');
  before(async () => { await initBackend(); });

  it('trains bases and reduced nets, prunes with Fisher and L1 to every budget, times compressed nets, and computes both claims', async () => {
    const p = dn.plan('smoke', { workers: 0 });
    p.data = { ...p.data, trainLimit: 128, testLimit: 64 };
    const run = await dn.runStudy(p, [0], { workers: 0 });
    assert.deepEqual(run.failures, []);
    assert.equal(run.rows.filter((r) => r.family === 'base').length, 1);
    assert.equal(run.rows.filter((r) => r.family.startsWith('reduced-')).length, p.reduced.length);
    for (const crit of ['fisher', 'l1']) {
      const pr = run.prune.find((x) => x.config.prune.criterion === crit)!.result;
      assert.equal(pr.base.reloadedTestError, pr.base.testError);
      for (const c of pr.checkpoints) {
        for (const t of c.targets) assert.ok(c.params <= t);
        assert.equal(c.interior.reduce((a, b) => a + b, 0), p.baseChannels - c.prunes);
        // the checkpoint's parameter count is that of the built compressed DenseNet
        const net = buildModel({ arch: 'densenet', depth: p.base.depth, growth: p.base.growth, interior: c.interior }, { inputShape: p.inputShape });
        try { assert.equal(countParams(net), c.params); } finally { net.dispose(); }
      }
      for (const b of p.budgets) assert.ok(rvp.checkpointAt(pr, b), `${crit}: budget ${b} reached`);
    }
    const timing = await dn.runTiming(p, run);
    const jobs = dn.timingJobs(p, run);
    assert.equal(jobs.length, 1 + 2 * p.budgets.length + p.reduced.length);
    assert.equal(timing.length, jobs.length * p.timing.batchSizes.length);
    for (const t of timing) assert.ok(t.medianMs > 0 && t.params > 0 && t.macs > 0);
    const vs = dn.verdicts(run.rows, timing, { matchTolerance: p.matchTolerance, gateSettings: dn.gateSettings(p) });
    assert.deepEqual(vs.map((v) => v.id), ['densenet-reduced-beats-pruned', 'densenet-reduced-faster']);
    assert.equal(vs[0].total, 2 * p.reduced.length, 'one error check per reduced net and criterion');
    assert.ok(vs[1].total > 0);
    // gates: the base vs its converged run, the from-scratch arms' plateau (base and reduced nets), divergence; timing trains
    // nothing, and its 2 repeats per net cannot make any pair significant (smallest p 1/C(4,2) = 1/6): inconclusive
    const g0 = vs[0].gates as pai.Gate[];
    assert.deepEqual(g0.map((g) => g.kind), ['dense-converged', 'plateau', 'divergence']);
    const conv = run.rows.find((r) => r.family === 'dense-converged')!, base = run.rows.find((r) => r.family === 'base')!;
    assert.equal(g0[0].passed, (1 - base.testError) >= (1 - conv.testError) - p.gate.margin);
    assert.deepEqual((vs[1].gates as pai.Gate[]).map((g) => [g.kind, g.passed]), [['timing-power', false]]);
    assert.equal(vs[1].verdict, 'inconclusive');
    if (!g0.every((g) => g.passed)) assert.equal(vs[0].verdict, 'inconclusive');
    for (const r of run.rows.filter((x) => x.family === 'base' || x.family.startsWith('reduced-'))) assert.equal(r.history.length, p.train.epochs);
    assert.equal(conv.history.length, p.gate.convergedEpochs);
    assert.ok(dn.settingText(p, [0]).includes('DenseNet-BC-16 (k=4)'));
    // the WRN study's tables and figures take the DenseNet plan and run: kept/full per dense block (2 layers × 4k = 32)
    const groups = rvp.summarize(run.rows);
    const table = rvp.summaryRows(p, groups);
    const pt = groups.find((g) => g.family === 'pruned-tuned')!;
    const kept = [0, 1, 2].map((b) => Math.round(pt.interior[2 * b] + pt.interior[2 * b + 1]));
    assert.equal(table.find((r) => r.net === pt.label && r.budget === pt.budget)!['interior per stage (of base)'], kept.map((k) => `${k}/32`).join(' · '));
    assert.equal(rvp.timingRows(p, timing).length, timing.length);
    assert.ok(rvp.errorFigure(groups, rvp.pruneCurve(p, run), 'DenseNet').data.length > 0);
    assert.ok(rvp.latencyFigure(timing).data.length > 0);
    const again = await dn.runStudy(p, [0], { workers: 0 });
    for (const st of Object.values(again.computed)) assert.equal(st.computed, 0);
  });
});
