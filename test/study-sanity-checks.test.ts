import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { sanityChecks as sc, PRUNE_TRAIN_TASK, describeConfig, smartRatioCounts, buildModel } from 'prune-at-init';

type Row = Awaited<ReturnType<typeof sc.runAll>>[number];

/** A synthetic run row (no training): only the fields the verdicts read. */
function row(net: 'lenet300' | 'eoc-ffnn' | 'resnet', kind: 'arm' | 'dense' | 'converged' | 'long', method: string, ablation: string, sparsity: number, seed: number, acc: number, outcome = 'ok', epochAcc = [acc, acc]): Row {
  return { net, kind, method, ablation, sparsity, seed, acc, outcome, epochAcc, perLayer: [], seconds: 0, cached: false };
}

/** Arms with the given per-seed accuracies at one sparsity, plus a dense reference and a converged run. */
function world(accs: Record<string, number[]>, dense: number[], converged: number, net: 'lenet300' | 'eoc-ffnn' = 'lenet300', s = 0.9): Row[] {
  const rows: Row[] = dense.map((a, i) => row(net, 'dense', 'none', 'none', 0, i, a));
  rows.push(row(net, 'converged', 'none', 'none', 0, 0, converged));
  for (const [arm, xs] of Object.entries(accs)) {
    const [method, ablation] = arm.split(':');
    xs.forEach((a, i) => rows.push(row(net, 'arm', method, ablation ?? 'none', s, i, a)));
  }
  return rows;
}

function onePlan(net: 'lenet300' | 'eoc-ffnn', over: Partial<ReturnType<typeof sc.plan>['nets'][number]> = {}) {
  const p = sc.plan('smoke', [0, 1, 2], { workers: 0 });
  return { ...p, nets: p.nets.filter((n) => n.id === net).map((n) => ({ ...n, seeds: 3, sparsities: [0.9], dataSparsities: [0.9], ...over })) };
}

describe('sanity-checks study: plan and jobs', () => {
  it('plans every budget, with the six methods on both FFNNs and no SBP-SR on the ResNet', () => {
    for (const b of ['smoke', 'quick', 'standard', 'paper'] as const) {
      const p = sc.plan(b, [0, 1, 2], { workers: 1 });
      for (const id of ['lenet300', 'eoc-ffnn'] as const) assert.deepEqual(p.nets.find((n) => n.id === id)!.methods, ['random', 'magnitude', 'snip', 'grasp', 'synflow', 'sbp-sr']);
      const rn = p.nets.find((n) => n.id === 'resnet')!;
      assert.ok(!rn.methods.includes('sbp-sr'));
      for (const n of p.nets) assert.ok(n.dataSparsities.every((s) => n.sparsities.includes(s)), `${b} ${n.id}`);
      if (b === 'standard') for (const n of p.nets) assert.ok(n.seeds >= 3, `standard trains at least 3 seeds (${n.id})`);
    }
    assert.throws(() => sc.plan('smoke', []), /seeds must be a non-empty array/);
    assert.throws(() => sc.plan('huge' as 'smoke', [0]), /budget/);
  });

  it('jobs: a dense and a converged run per seed, and the arm count from the plan (closed form)', () => {
    const p = onePlan('lenet300', { seeds: 2, sparsities: [0.9, 0.98], dataSparsities: [0.9] });
    const n = p.nets[0];
    const js = sc.jobs(p);
    const perCell = n.methods.length + (n.methods.length - 1) * n.ablations.length + n.tickets.length; // random has no ablation arms
    const data = 3 * n.dataAblations.length; // snip, grasp, sbp-sr at the data sparsity
    assert.equal(js.length, 2 + 2 + 2 * 2 * perCell + 2 * data);
    const conv = js.filter((j) => j.tag.kind === 'converged');
    assert.deepEqual(conv.map((j) => j.tag.seed), js.filter((j) => j.tag.kind === 'dense').map((j) => j.tag.seed));
    for (const c of conv) {
      assert.equal(c.config.train.epochs, n.train.epochs * p.tolerances.convergedFactor);
      // each converged run is the dense reference of its seed with a longer schedule, nothing else changed
      const dense = js.find((j) => j.tag.kind === 'dense' && j.tag.seed === c.tag.seed)!;
      const shortened = { ...c.config, train: { ...c.config.train, epochs: n.train.epochs } };
      assert.equal(describeConfig(PRUNE_TRAIN_TASK, shortened).key, describeConfig(PRUNE_TRAIN_TASK, dense.config).key);
    }
    // every config is valid for prune-train, and distinct arms have distinct cache keys
    const keys = js.map((j) => describeConfig(PRUNE_TRAIN_TASK, j.config).key);
    assert.equal(new Set(keys).size, keys.length);
    // the method's own arm has no ablation key, so it shares its cache entry with plain prune-train runs
    const own = js.find((j) => j.tag.method === 'snip' && j.tag.ablation === 'none')!;
    assert.ok(!('ablation' in own.config.prune));
  });
});

describe('sanity-checks study: gate and verdicts (closed-form cases)', () => {
  const p = onePlan('lenet300');
  const net = p.nets[0];

  it('net gates: the shared dense gate over finished dense runs (edge included); diverged dense runs fail the divergence gate', () => {
    const dense = (rows: Row[]) => sc.netGates(rows, net, { ...p.tolerances, gateMargin: 0.02 }).find((g) => g.kind === 'dense-converged')!;
    assert.equal(dense(world({}, [0.8, 0.8], 0.81)).passed, true);
    assert.equal(dense(world({}, [0.8, 0.8], 0.82)).passed, true, 'a gap of exactly the margin passes');
    assert.equal(dense(world({}, [0.8, 0.8], 0.8201)).passed, false);
    assert.match(dense(world({}, [0.7, 0.8], 0.85)).detail, /dense reference 75\.00 % \(2 seeds\) vs converged 85\.00 %.*gap 10\.00 points, allowed 2\.00/);
    // a diverged dense run is counted, not averaged in: the dense gate reads the finished run (0.8) and the divergence gate fails
    const withDiverged = [...world({}, [0.8], 0.8), row('lenet300', 'dense', 'none', 'none', 0, 1, NaN, 'diverged')];
    const gs = sc.netGates(withDiverged, net);
    assert.equal(gs.find((g) => g.kind === 'dense-converged')!.passed, true);
    const div = gs.find((g) => g.kind === 'divergence')!;
    assert.equal(div.passed, false);
    assert.match(div.detail, /dense 1\/2/);
    assert.throws(() => sc.netGates(world({ snip: [0.8] }, [], 0.8), net), /no dense reference or converged run of 'lenet300'/);
  });

  it('a claim with a diverged arm, or an arm still improving at its last epoch, is inconclusive (gates shown)', () => {
    const accs = { snip: [0.8, 0.81, 0.82], 'snip:layerwise-shuffle': [0.8, 0.81, 0.82] };
    const ok = world(accs, [0.85, 0.85, 0.85], 0.86);
    assert.equal(sc.verdictNoHarm(p, ok, 'layerwise-shuffle', ['snip']).verdict, 'reproduced');
    // one more seed of the shuffled arm diverged: the mean stays that of the finished runs, the claim is inconclusive
    const diverged = [...ok, row('lenet300', 'arm', 'snip', 'layerwise-shuffle', 0.9, 3, NaN, 'diverged')];
    const d = sc.verdictNoHarm(p, diverged, 'layerwise-shuffle', ['snip']);
    assert.equal(d.verdict, 'inconclusive');
    assert.ok(Math.abs(d.comparisons[0].ablated.mean - 0.81) < 1e-12);
    assert.match(String(d.numbers['gate divergence: compared arms']), /FAILED: diverged runs beyond 0 %: lenet300 s=0\.9 snip layerwise-shuffle 1\/4/);
    // the shuffled arm gained 3 points in its final epoch (beyond the 1-point plateau threshold)
    const rising = ok.map((r) => (r.method === 'snip' && r.ablation === 'layerwise-shuffle' ? { ...r, epochAcc: [r.acc - 0.03, r.acc] } : r));
    const g = sc.verdictNoHarm(p, rising, 'layerwise-shuffle', ['snip']);
    assert.equal(g.verdict, 'inconclusive');
    assert.match(g.rationale, /still improving at the last epoch.*snip layerwise-shuffle/);
  });

  it('onNets: a claim reads only the gates of its nets (an undertrained ResNet leaves the FFNN claim decided)', () => {
    const both = sc.plan('smoke', [0, 1, 2], { workers: 0 });
    const two = { ...both, nets: both.nets.filter((n) => n.id !== 'eoc-ffnn').map((n) => ({ ...n, seeds: 3, sparsities: [0.9] })) };
    const rows = [
      ...world({ snip: [0.8, 0.81, 0.82], 'snip:layerwise-shuffle': [0.8, 0.81, 0.82] }, [0.85, 0.85, 0.85], 0.86),
      ...[0, 1, 2].map((i) => row('resnet', 'dense', 'none', 'none', 0, i, 0.5)), row('resnet', 'converged', 'none', 'none', 0, 0, 0.8),
      ...[0, 1, 2].flatMap((i) => [row('resnet', 'arm', 'snip', 'none', 0.9, i, 0.4), row('resnet', 'arm', 'snip', 'layerwise-shuffle', 0.9, i, 0.4)]),
    ];
    assert.equal(sc.verdictNoHarm(two, rows, 'layerwise-shuffle', ['snip']).verdict, 'inconclusive', 'the ResNet gate fails (gap 30 points)');
    assert.equal(sc.verdictNoHarm(sc.onNets(two, ['lenet300']), rows, 'layerwise-shuffle', ['snip']).verdict, 'reproduced');
    assert.equal(sc.verdictNoHarm(sc.onNets(two, ['resnet']), rows, 'layerwise-shuffle', ['snip']).verdict, 'inconclusive');
    assert.throws(() => sc.onNets(two, ['eoc-ffnn']), /no net 'eoc-ffnn' in the plan \(have lenet300, resnet\)/);
  });

  it('hurts = lower by more than the margin and by more than 2 SE (hand-computed)', () => {
    // own 0.80, 0.82, 0.84 (sd 0.02); ablated 0.76, 0.78, 0.80 (sd 0.02): diff -0.04, SE = sqrt(2 * 0.02^2 / 3) = 0.01633, 2 SE = 0.0327
    const rows = world({ snip: [0.8, 0.82, 0.84], 'snip:layerwise-shuffle': [0.76, 0.78, 0.8], 'snip:reinit': [0.785, 0.805, 0.825] }, [0.9, 0.9, 0.9], 0.9);
    const cs = sc.cells(rows);
    const a = sc.compare(cs, 'lenet300', 0.9, 'snip', 'layerwise-shuffle')!;
    assert.ok(Math.abs(a.diff + 0.04) < 1e-9);
    assert.ok(Math.abs(a.margin - 2 * Math.sqrt((2 * 0.02 ** 2) / 3)) < 1e-9);
    assert.equal(a.hurts, true);
    const b = sc.compare(cs, 'lenet300', 0.9, 'snip', 'reinit')!; // -0.015: beyond the 1-point margin but inside 2 SE
    assert.equal(b.hurts, false);
  });

  it('Frankle inversion verdict: reproduced when SNIP/SynFlow/magnitude drop and GraSP does not; gated', () => {
    const accs = {
      magnitude: [0.8, 0.81, 0.82], 'magnitude:invert': [0.5, 0.51, 0.52], snip: [0.8, 0.81, 0.82], 'snip:invert': [0.6, 0.61, 0.62],
      synflow: [0.8, 0.81, 0.82], 'synflow:invert': [0.7, 0.71, 0.72], grasp: [0.8, 0.81, 0.82], 'grasp:invert': [0.81, 0.8, 0.82],
    };
    const good = sc.verdictInversion(p, world(accs, [0.85, 0.85, 0.85], 0.86));
    assert.equal(good.verdict, 'reproduced', good.rationale);
    const graspHurt = sc.verdictInversion(p, world({ ...accs, 'grasp:invert': [0.6, 0.6, 0.61] }, [0.85, 0.85, 0.85], 0.86));
    assert.equal(graspHurt.verdict, 'partly');
    // the checks the verdict was formed from travel with it: one per method, only GraSP's failing when its inversion hurts
    assert.deepEqual(good.checks.map((c) => c.passed), [true, true, true, true]);
    assert.deepEqual(graspHurt.checks.filter((c) => !c.passed).map((c) => c.label.split(' vs ')[0]), ['lenet300 s=0.9 grasp invert']);
    const under = sc.verdictInversion(p, world(accs, [0.6, 0.6, 0.6], 0.86));
    assert.equal(under.verdict, 'inconclusive');
    assert.ok(under.gates.some((g) => g.kind === 'dense-converged' && !g.passed));
    assert.ok(Object.values(under.numbers).some((v) => String(v).startsWith('FAILED')));
  });

  it('pairs where both arms sit at chance are left out; a claim with only such pairs is inconclusive, not refuted', () => {
    // the SNIP arms at chance stay there in their long runs (untrainable at that schedule)
    const long = (ablation: string, xs: number[]) => xs.map((a, i) => row('lenet300', 'long', 'snip', ablation, 0.9, i, a));
    const rows = [...world({ snip: [0.1, 0.1, 0.1], 'snip:layerwise-shuffle': [0.12, 0.11, 0.1], grasp: [0.8, 0.8, 0.8], 'grasp:layerwise-shuffle': [0.6, 0.6, 0.6] }, [0.85, 0.85, 0.85], 0.86),
      ...long('none', [0.1, 0.1, 0.1]), ...long('layerwise-shuffle', [0.1, 0.11, 0.1])];
    const r = sc.verdictNoHarm(p, rows, 'layerwise-shuffle', ['snip', 'grasp']);
    assert.match(r.gates.find((g) => g.kind === 'chance-long-run')!.detail, /lenet300 s=0\.9 snip 10\.00 % → 10\.00 % \(3 of 3 runs\): stays at chance: untrainable at x4/);
    // without the long runs, slow cannot be told from untrainable: inconclusive
    assert.equal(sc.verdictNoHarm(p, rows.filter((x) => x.kind !== 'long'), 'layerwise-shuffle', ['snip', 'grasp']).verdict, 'inconclusive');
    assert.equal(r.verdict, 'not reproduced', r.rationale); // only GraSP's pair counts, and it hurts
    assert.match(String(r.numbers['left out: both arms at chance']), /lenet300 s=0\.9 snip layerwise-shuffle/);
    const idle = sc.verdictNoHarm(p, world({ snip: [0.1, 0.1, 0.1], 'snip:layerwise-shuffle': [0.1, 0.1, 0.1] }, [0.85, 0.85, 0.85], 0.86), 'layerwise-shuffle', ['snip']);
    assert.equal(idle.verdict, 'inconclusive');
    assert.ok(idle.gates.some((g) => g.kind === 'arms-above-chance' && !g.passed));
    // Su et al.'s two corruptions in one claim: each must not hurt
    const both = world({ snip: [0.8, 0.8, 0.8], 'snip:random-labels': [0.8, 0.8, 0.8], 'snip:shuffled-pixels': [0.7, 0.7, 0.7] }, [0.85, 0.85, 0.85], 0.86);
    const su = sc.verdictNoHarm(p, both, ['random-labels', 'shuffled-pixels'], ['snip']);
    assert.equal(su.verdict, 'partly');
    assert.equal(su.comparisons.length, 2);
  });

  it('an ablated arm at chance whose long run leaves chance is slow, not hurt: the claim reads the long run', () => {
    const rows = world({ snip: [0.8, 0.8, 0.8], 'snip:reinit': [0.1, 0.1, 0.1] }, [0.85, 0.85, 0.85], 0.86);
    // the budget alone reads "reinit hurts"; the long-run gate fails without the long run
    const noLong = sc.verdictNoHarm(p, rows, 'reinit', ['snip']);
    assert.equal(noLong.verdict, 'inconclusive');
    assert.match(noLong.rationale, /✗ lenet300 s=0\.9 snip reinit vs own mask: -70\.0 pts/);
    const slow = [...rows, ...[0.79, 0.8, 0.81].map((a, i) => row('lenet300', 'long', 'snip', 'reinit', 0.9, i, a))];
    const r = sc.verdictNoHarm(p, slow, 'reinit', ['snip']);
    assert.equal(r.verdict, 'reproduced', r.rationale);
    assert.match(r.gates.find((g) => g.kind === 'chance-long-run')!.detail, /snip reinit 10\.00 % → 80\.00 % \(3 of 3 runs\): slow, not untrainable \(read at x4\)/);
    // longRunJobs: the jobs of exactly that arm, with its net's converged schedule
    const arms = sc.longRunJobs(p, rows);
    assert.equal(arms.length, 1); // one arm, its seeds in order (the first is re-trained first: stagedLongRuns)
    const js = arms[0];
    assert.deepEqual(js.map((j) => [j.tag.kind, j.tag.method, j.tag.ablation, j.tag.seed, j.config.train.epochs]),
      [0, 1, 2].map((seed) => ['long', 'snip', 'reinit', seed, net.train.epochs * p.tolerances.convergedFactor]));
    assert.deepEqual(sc.jobs(p).filter((j) => j.tag.kind === 'arm' && j.tag.method === 'snip' && j.tag.ablation === 'reinit').map((j) => ({ ...j.config, train: { ...j.config.train, epochs: j.config.train.epochs * p.tolerances.convergedFactor } })), js.map((j) => j.config));
  });

  it('smart-ratio verdict and the SBP-SR decomposition (hand-computed differences)', () => {
    const eoc = onePlan('eoc-ffnn');
    const rows = world({
      snip: [0.7, 0.7, 0.7], grasp: [0.65, 0.65, 0.65], 'random:smart-ratio': [0.69, 0.7, 0.71], 'random:even': [0.5, 0.5, 0.5],
      'sbp-sr': [0.8, 0.8, 0.8], 'sbp-sr:layerwise-shuffle': [0.78, 0.78, 0.78], 'snip:layerwise-shuffle': [0.6, 0.6, 0.6],
    }, [0.85, 0.85, 0.85], 0.86, 'eoc-ffnn');
    assert.equal(sc.verdictSmartRatio(eoc, rows).verdict, 'reproduced');
    const [d] = sc.sbpSrDecomposition(rows, 'eoc-ffnn');
    assert.ok(Math.abs(d.weights - 0.02) < 1e-9 && Math.abs(d.rescaling - 0.18) < 1e-9 && Math.abs(d.densities - 0.1) < 1e-9);
    // SBP-SR shuffled is lower by 2 points with sd 0: beyond noise and the 1-point margin -> the shuffle hurts
    assert.equal(sc.verdictSbpSrShuffle(eoc, rows).verdict, 'not reproduced');
    const table = sc.seedClaimsTable(rows, eoc);
    assert.match(table.find((t) => t.claim.startsWith('02/eoc'))!.survivesShuffle, /^no \(measured\)/);
  });
});

describe('sanity-checks study: smoke runs through prune-train', function () {
  this.timeout(600_000);
  let dir: string;
  let rows: Row[];
  const p = onePlan('lenet300', { seeds: 1, methods: ['random', 'magnitude', 'snip'], ablations: ['layerwise-shuffle', 'reinit', 'invert'], tickets: ['smart-ratio', 'even'], dataAblations: ['random-labels'] });
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pai-sanity-'));
    rows = await sc.runAll(p, { store: dir });
  });
  after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  it('every run finishes, and the shuffle and reinit arms have exactly their method\'s per-layer kept counts', () => {
    assert.deepEqual(rows.filter((r) => r.outcome === 'error').map((r) => r.error), []);
    for (const m of ['magnitude', 'snip']) {
      const own = rows.find((r) => r.method === m && r.ablation === 'none')!;
      for (const a of ['layerwise-shuffle', 'reinit', 'invert']) {
        const ab = rows.find((r) => r.method === m && r.ablation === a)!;
        assert.equal(ab.perLayer.reduce((x, l) => x + l.kept, 0), own.perLayer.reduce((x, l) => x + l.kept, 0), `${m} ${a}: total`);
        if (a !== 'invert') assert.deepEqual(ab.perLayer, own.perLayer, `${m} ${a}`);
      }
    }
  });

  it('the random tickets have the rule\'s per-layer counts', () => {
    const net = buildModel('lenet300', { inputShape: [28, 28, 1], numClasses: 10 });
    const layers = net.prunable.map((q) => ({ name: q.name, size: q.size }));
    net.dispose();
    const sr = rows.find((r) => r.ablation === 'smart-ratio')!;
    assert.deepEqual(sr.perLayer.map((l) => l.kept), [...smartRatioCounts(layers, 0.9).values()]);
    const ev = rows.find((r) => r.ablation === 'even')!;
    assert.deepEqual(ev.perLayer.map((l) => l.kept), layers.map((l) => Math.round(0.1 * l.size)));
  });

  it('tables, figures and the seed-claims table build from the rows; a rerun reads every run from the cache', async () => {
    assert.ok(sc.accuracyTable(p, rows).length > 3);
    assert.ok(sc.effectTable(p, rows).some((r) => r.invert !== ''));
    assert.ok(sc.accuracyFigure(p, rows).data.length > 0);
    assert.ok(sc.densityFigure(p, rows).data.length > 0);
    assert.deepEqual(sc.gateTable(p, rows).map((g) => g.gate), ['dense-converged', 'divergence']);
    assert.equal(sc.seedClaimsTable(rows, p).length, 7);
    const again = await sc.runAll(p, { store: dir });
    assert.ok(again.every((r) => r.cached));
    assert.deepEqual(again.map((r) => r.acc), rows.map((r) => r.acc));
  });
});
