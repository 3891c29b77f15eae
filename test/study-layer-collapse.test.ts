import { strict as assert } from 'assert';
import {
  layerCollapse as lc, Rng, scoresToMask, criticalSparsity, buildModel, computeMask, initBackend,
  mlpLayers, mbpPrediction, mbpSparsity, mbpThresholdQuantile, Scores, loadDataset, gatedVerdict, Gate,
} from 'prune-at-init';

type CriticalRow = ReturnType<typeof lc.criticalRows>[number];
type TrainRow = Awaited<ReturnType<typeof lc.runTraining>>[number];

// ---- brute force: top-k for every k through the library's exact mask routine --------------------
function bruteCollapse(scores: Scores): { K: number; perLayer: number[] } {
  const shapes = new Map([...scores].map(([n, s]) => [n, [s.length]]));
  const n = [...scores.values()].reduce((a, s) => a + s.length, 0);
  const perLayer = [...scores.keys()].map(() => 0);
  let K = 0;
  for (let k = 0; k <= n; k++) {
    const m = scoresToMask(scores, 1 - k / n === 1 ? 1 - 1e-12 : 1 - k / n, { shapes }).mask;
    assert.equal(m.kept, k, 'brute force must hit every k');
    const empty = m.emptyLayers();
    if (empty.length) K = k;
    [...scores.keys()].forEach((name, l) => { if (empty.includes(name)) perLayer[l] = k; });
  }
  return { K, perLayer };
}

function randomScores(rng: Rng, sizes: number[], kind: 'continuous' | 'ties' | 'zeros-nan'): Scores {
  const out: Scores = new Map();
  sizes.forEach((size, l) => {
    const a = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      if (kind === 'continuous') a[i] = rng.uniform() * (l + 1);
      else if (kind === 'ties') a[i] = rng.int(4) / 4; // few distinct values: many cross-layer ties
      else a[i] = l === 1 ? 0 : rng.uniform() < 0.3 ? 0 : rng.uniform() < 0.1 ? NaN : rng.uniform();
    }
    out.set(`fc${l + 1}/kernel`, a);
  });
  return out;
}

describe('layer-collapse study: exact critical sparsity (collapsePoint)', () => {
  it('matches brute force over every kept count and the library bisection, with ties, zeros and NaN', () => {
    const rng = new Rng(7, 'collapse-test');
    let cases = 0;
    for (const kind of ['continuous', 'ties', 'zeros-nan'] as const) {
      for (let trial = 0; trial < 6; trial++) {
        const sizes = Array.from({ length: 2 + rng.int(3) }, () => 1 + rng.int(12));
        const scores = randomScores(rng, sizes, kind);
        const cp = lc.collapsePoint(scores);
        const brute = bruteCollapse(scores);
        const n = sizes.reduce((a, b) => a + b, 0);
        assert.equal(cp.n, n);
        assert.equal(cp.kept, brute.K, `${kind} trial ${trial}: K`);
        assert.deepEqual(cp.layerCollapseSparsity.map((s) => Math.round((1 - s) * n)), brute.perLayer, `${kind}: per-layer collapse counts`);
        assert.equal(cp.layerCollapseSparsity[cp.firstEmpty], Math.min(...cp.layerCollapseSparsity));
        // the bisection over the exact mask routine gives the same sparsity and layer
        const bis = bisectionCollapse(scores);
        assert.equal(cp.sparsity, bis.sparsity, `${kind}: sparsity vs bisection`);
        if (bis.sparsity !== null) assert.deepEqual([cp.firstEmptyName], bis.layers);
        cases++;
      }
    }
    assert.equal(cases, 18);
  });

  it('matches the bisection on layers of the study\'s sizes, with ties (few distinct values)', () => {
    const rng = new Rng(11, 'collapse-large');
    for (const levels of [1000, 8]) {
      const sizes = [784 * 30, 30 * 30, 30 * 30, 30 * 30, 30 * 10];
      const scores: Scores = new Map(sizes.map((size, l) => [`fc${l + 1}/kernel`, Float32Array.from({ length: size }, () => rng.int(levels) / levels * (l === 0 ? 0.9 : 1))]));
      const cp = lc.collapsePoint(scores);
      const bis = bisectionCollapse(scores);
      assert.equal(cp.sparsity, bis.sparsity, `levels ${levels}`);
      assert.equal(cp.firstEmptyName, bis.layers[0], `levels ${levels}`);
      // every layer whose own collapse point is s_cr is empty there
      assert.deepEqual([...scores.keys()].filter((_, l) => cp.layerCollapseSparsity[l] === cp.sparsity), bis.layers, `levels ${levels}`);
    }
  });

  it('a single layer never collapses below sparsity 1 (null), and empty input is refused', () => {
    const cp = lc.collapsePoint(new Map([['a', Float32Array.from([3, 1, 2])]]));
    assert.equal(cp.sparsity, null);
    assert.equal(cp.kept, 0);
    assert.throws(() => lc.collapsePoint(new Map()), /no scores/);
    assert.throws(() => lc.collapsePoint(new Map([['a', new Float32Array(0)]])), /empty/);
  });
});

/**
 * The critical sparsity by bisection over the exact mask routine (the algorithm prune/report.ts's
 * criticalSparsity used before it read collapsePoint): "some layer empty" is monotone in the kept
 * count k, so bisect for the largest k with an empty layer.
 */
function bisectionCollapse(scores: Scores): { sparsity: number | null; layers: string[] } {
  const shapes = new Map([...scores].map(([name, s]) => [name, [s.length]]));
  const n = [...scores.values()].reduce((a, s) => a + s.length, 0);
  const emptyAt = (k: number) => scoresToMask(scores, 1 - k / n, { shapes }).mask.emptyLayers();
  let lo = 0, hi = n; // k = 0 keeps nothing (a layer is empty), k = n keeps everything
  while (hi - lo > 1) { const mid = Math.floor((lo + hi) / 2); if (emptyAt(mid).length > 0) lo = mid; else hi = mid; }
  return lo === 0 ? { sparsity: null, layers: [] } : { sparsity: 1 - lo / n, layers: emptyAt(lo) };
}

describe('layer-collapse study: positions, per-unit kept fractions, brackets', () => {
  it('relative position and side: 0 = input layer, 1 = output layer, exact middle is middle', () => {
    assert.equal(lc.relativePosition(0, 10), 0);
    assert.equal(lc.relativePosition(9, 10), 1);
    assert.equal(lc.sideOf(0, 10), 'input');
    assert.equal(lc.sideOf(4, 10), 'input'); // 4/9 < 1/2
    assert.equal(lc.sideOf(5, 10), 'output'); // 5/9 > 1/2
    assert.equal(lc.sideOf(1, 3), 'middle');
    assert.equal(lc.sideOf(99, 100), 'output');
    assert.throws(() => lc.relativePosition(10, 10), /index/);
    assert.throws(() => lc.relativePosition(0, 1), /numLayers/);
  });

  it('perUnitKept counts each output unit\'s incoming kept weights of an [in, out] kernel (brute force)', () => {
    const rng = new Rng(3, 'unit');
    const fin = 5, out = 4;
    const mask = Uint8Array.from({ length: fin * out }, () => (rng.uniform() < 0.4 ? 1 : 0));
    const expected = Array.from({ length: out }, (_, j) => {
      let k = 0;
      for (let i = 0; i < fin; i++) k += mask[i * out + j];
      return k / fin;
    });
    assert.deepEqual(lc.perUnitKept(mask, [fin, out]), expected);
    assert.throws(() => lc.perUnitKept(mask, [fin, out, 1]), /dense kernel/);
    assert.throws(() => lc.perUnitKept(mask, [fin, out + 1]), /entries/);
  });

  it('bracket puts one sparsity below and one past the critical point at density x factor and / factor', () => {
    assert.deepEqual(lc.bracket(0.9, 2), [0.8, 0.95]);
    assert.deepEqual(lc.bracket(0.3, 2), [0, 0.65]);
    assert.deepEqual(lc.bracket(0.9999, 2), [0.9998, 0.99995]);
    assert.deepEqual(lc.bracket(0.8712, 2), [0.74, 0.936]);
    assert.throws(() => lc.bracket(1, 2), /critical sparsity/);
    assert.throws(() => lc.bracket(0.5, 1), /factor/);
  });
});

describe('layer-collapse study: MBP predictions for the study FFNN (laws in eoc/mbp.ts)', () => {
  it('mbpTheory: the expectation rule inside its interval, input layer first, kept fractions average to the density', () => {
    for (const L of [5, 30]) {
      const th = lc.mbpTheory(L, 100, 0.7);
      const layers = mlpLayers(lc.ffnnWidths(L, 100));
      assert.equal(th.predicted, mbpPrediction(layers, 1).criticalSparsity);
      assert.equal(th.firstEmpty, 0);
      assert.ok(th.lo < th.predicted && th.predicted < th.hi, `${th.lo} < ${th.predicted} < ${th.hi}`);
      // the interval ends are s at the 0.5 % and 99.5 % quantiles of T* (level 0.99), as computed before the law moved to eoc/mbp.ts
      assert.deepEqual([th.lo, th.hi], [mbpSparsity(layers, mbpThresholdQuantile(layers, 1, (1 - 0.99) / 2), 1), mbpSparsity(layers, mbpThresholdQuantile(layers, 1, (1 + 0.99) / 2), 1)]);
      assert.ok(Math.abs(mbpSparsity(layers, 0, 1)) < 1e-15);
      const total = layers.reduce((a, l) => a + l.size, 0);
      const kept = layers.reduce((a, l, i) => a + l.size * th.keptAtFixed[i], 0);
      assert.ok(Math.abs(kept / total - 0.3) < 1e-9);
    }
  });

  it('ffnnWidths and modelConfig describe 784 -> width x (L-1) -> 10; bad depth is refused', () => {
    assert.deepEqual(lc.ffnnWidths(3, 7), [784, 7, 7, 10]);
    assert.throws(() => lc.ffnnWidths(1, 7), /depth/);
    const c = lc.modelConfig(4, 20, { name: 'ordered', sigmaW: 1, sigmaB: 0.2 });
    assert.deepEqual(c.hidden, [20, 20, 20]);
    assert.deepEqual(c.init, { scheme: 'ordered', sigmaW: 1, sigmaB: 0.2 });
    assert.deepEqual(lc.modelConfig(4, 20, { name: 'eoc', sigmaW: 1.3, sigmaB: 0.2 }).init, { scheme: 'eoc', sigmaB: 0.2 });
  });
});

describe('layer-collapse study: phase points and plan', () => {
  it('EOC sigma_w near the brief\'s 1.30 with chi = 1; ordered chi < 1 < chaotic chi; a wrong-side sigma_w is refused', () => {
    const pts = lc.phasePoints(0.2, 1.0, 2.0);
    assert.deepEqual(pts.map((p) => p.name), ['ordered', 'eoc', 'chaotic']);
    const eoc = pts[1];
    assert.ok(Math.abs(eoc.sigmaW - 1.30) < 0.01, `EOC sigma_w ${eoc.sigmaW}`);
    assert.ok(Math.abs(eoc.chi - 1) < 1e-8);
    assert.ok(pts[0].chi < 1 && pts[2].chi > 1);
    assert.throws(() => lc.phasePoints(0.2, 2.0, 2.5), /not ordered/);
  });

  it('plans: training depth among the analysed depths, quick spans shallow to the figure depth, unknown budgets fail', () => {
    for (const b of ['smoke', 'quick', 'standard', 'paper'] as const) {
      const p = lc.plan(b, { workers: 1 });
      assert.ok(p.depths.includes(p.training.depth) && p.depths.includes(p.figDepth));
      assert.equal(p.width, 100);
    }
    assert.deepEqual(lc.plan('quick').depths, [10, 30, 100]);
    assert.throws(() => lc.plan('huge' as never), /unknown budget/);
  });

  it('training arms bracket the measured critical points; configs cover datasets x arms x sparsities x seeds', () => {
    const p = lc.plan('smoke', { workers: 1 });
    const L = p.training.depth;
    const rows: CriticalRow[] = [];
    const mk = (phase: 'ordered' | 'eoc' | 'chaotic', method: string, sparsity: number, seed: number): CriticalRow =>
      ({ depth: L, phase, method, seed, sparsity, firstEmpty: 0, firstEmptyName: 'fc1/kernel', numLayers: L, position: 0, side: 'input', zeroScores: 0 });
    rows.push(mk('ordered', 'snip', 0.88, 0), mk('ordered', 'snip', 0.92, 1), mk('chaotic', 'snip', 0.7, 0), mk('chaotic', 'snip', 0.7, 1), mk('eoc', 'magnitude', 0.9, 0), mk('eoc', 'magnitude', 0.9, 1));
    const arms = lc.trainingArms(p, rows);
    const snip = arms.filter((a) => a.method === 'snip');
    assert.equal(snip.length, 3);
    assert.deepEqual(snip[0].sparsities, [0.4, 0.8, 0.85, 0.95]); // chaotic 0.7 -> 0.4, 0.85; ordered 0.9 -> 0.8, 0.95
    assert.deepEqual(arms.find((a) => a.method === 'magnitude')!.sparsities, [0.8, 0.95]);
    const configs = lc.trainingConfigs(p, arms, [0, 1]);
    const perSeed = arms.reduce((a, arm) => a + arm.sparsities.length, 0);
    // smoke: Fashion-MNIST trains every seed, MNIST the first only
    assert.deepEqual(p.training.datasets.map((d) => d.seeds), [0, 1]);
    assert.equal(configs.length, perSeed * 2 + perSeed * 1);
    assert.equal(configs.filter((c) => c.data.name === 'mnist' && c.seed === 1).length, 0);
    assert.ok(configs.every((c) => !('seeds' in c.data)));
    assert.ok(configs.every((c) => c.prune.scope === 'global' && (c.model as { hidden: number[] }).hidden.length === L - 1));
  });
});

describe('layer-collapse study: verdicts on synthetic data with known truth', () => {
  const theory = { predicted: 0.9, firstEmpty: 0, lo: 0.88, hi: 0.92, level: 0.99 };
  const mbpRow = (depth: number, seed: number, measured: number, extra: Partial<{ maskDiff: number; first: number; spread: number }> = {}) => ({
    depth, seed, maskDiff: extra.maskDiff ?? 0, criticalByPhase: [measured, measured + (extra.spread ?? 0), measured],
    measured, measuredFirstEmpty: extra.first ?? 0, theory,
  });

  it('verdictMbp: reproduced when masks agree and every seed is in the interval; each failure is reported', () => {
    const good = [mbpRow(10, 0, 0.9), mbpRow(10, 1, 0.91), mbpRow(30, 0, 0.89)];
    const v = lc.verdictMbp(good);
    assert.equal(v.verdict, 'reproduced');
    assert.equal(v.checks.length, 1 + 2 * 2);
    assert.ok(String(v.numbers['L=10 s_cr measured (mean ± sd)']).startsWith('0.905'));
    assert.equal(lc.verdictMbp([mbpRow(10, 0, 0.9, { maskDiff: 3 }), mbpRow(30, 0, 0.9)]).checks[0].passed, false);
    assert.equal(lc.verdictMbp([mbpRow(10, 0, 0.9, { spread: 1e-6 })]).checks[0].passed, false);
    const out = lc.verdictMbp([mbpRow(10, 0, 0.95), mbpRow(30, 0, 0.9)]);
    assert.equal(out.verdict, 'partly');
    assert.deepEqual(out.checks.map((c) => c.passed), [true, true, false, true, true]);
    const wrongLayer = lc.verdictMbp([mbpRow(10, 0, 0.9, { first: 3 })]);
    assert.deepEqual(wrongLayer.checks.map((c) => c.passed), [true, false, true]);
  });

  const snipRows = (o: { orderedDeep?: number; orderedFirst?: number; chaoticFirst?: number; flat?: boolean } = {}): CriticalRow[] => {
    const rows: CriticalRow[] = [];
    const table: Record<string, number[]> = {
      eoc: [0.995, 0.995, 0.995], ordered: [0.95, o.flat ? 0.95 : 0.8, o.orderedDeep ?? 0.4], chaotic: [0.9, 0.7, 0.3],
    };
    [10, 30, 100].forEach((L, i) => {
      for (const phase of ['ordered', 'eoc', 'chaotic'] as const) for (const seed of [0, 1]) {
        const first = phase === 'ordered' ? (o.orderedFirst ?? 0) : phase === 'chaotic' ? (o.chaoticFirst ?? L - 1) : 0;
        rows.push({
          depth: L, phase, method: 'snip', seed, sparsity: table[phase][i] + (seed ? 0.001 : -0.001),
          firstEmpty: first, firstEmptyName: `fc${first + 1}/kernel`, numLayers: L, position: lc.relativePosition(first, L), side: lc.sideOf(first, L), zeroScores: 0,
        });
      }
    });
    return rows;
  };

  it('verdictSnip: reproduced on data built to satisfy the claim; far-above, falling and side checks each fail when broken', () => {
    const v = lc.verdictSnip(snipRows());
    assert.equal(v.verdict, 'reproduced', v.rationale);
    assert.equal(v.checks.length, 6);
    assert.equal(v.numbers['L=100 ordered s_cr'], '0.4000 ± 0.0014');
    const near = lc.verdictSnip(snipRows({ orderedDeep: 0.95 }));
    assert.deepEqual(near.checks.map((c) => c.passed), [false, true, false, true, true, true]);
    assert.deepEqual(lc.verdictSnip(snipRows({ flat: true })).checks.map((c) => c.passed), [true, true, false, true, true, true]);
    assert.deepEqual(lc.verdictSnip(snipRows({ orderedFirst: 9, chaoticFirst: 0 })).checks.map((c) => c.passed), [true, true, true, true, false, false]);
  });

  const trow = (dataset: string, phase: 'ordered' | 'eoc' | 'chaotic', sparsity: number, seed: number, acc: number, collapsed: boolean, method = 'snip', o: Partial<TrainRow> = {}): TrainRow =>
    ({ dataset, phase, method, arm: lc.armLabel(method, phase), sparsity, seed, acc, collapsed, emptyLayers: collapsed ? ['fc1/kernel'] : [], outcome: 'ok', density: 1 - sparsity, seconds: 1,
      history: [acc, acc], converged: false, ...o });

  it('verdictTraining: collapsed runs at chance and EOC well above at the same sparsity -> reproduced; violations fail', () => {
    const rows = [
      trow('fashion-mnist', 'ordered', 0.9, 0, 0.1, true), trow('fashion-mnist', 'ordered', 0.9, 1, 0.1, true),
      trow('fashion-mnist', 'eoc', 0.9, 0, 0.7, false), trow('fashion-mnist', 'eoc', 0.9, 1, 0.72, false),
      trow('fashion-mnist', 'chaotic', 0.5, 0, 0.115, true), trow('fashion-mnist', 'eoc', 0.5, 0, 0.8, false),
      trow('fashion-mnist', 'ordered', 0.5, 0, 0.75, false),
    ];
    const P = lc.plan('standard', { workers: 1 });
    const v = lc.verdictTraining(P, rows);
    assert.equal(v.verdict, 'reproduced', v.rationale);
    assert.equal(v.checks.length, 3);
    assert.equal(v.numbers['runs with an empty layer'], 3);
    const notChance = lc.verdictTraining(P, [...rows, trow('mnist', 'chaotic', 0.9, 0, 0.35, true)]);
    assert.equal(notChance.checks[0].passed, false);
    const eocBad = lc.verdictTraining(P, rows.map((r) => (r.phase === 'eoc' && r.sparsity === 0.9 ? { ...r, acc: 0.2 } : r)));
    assert.deepEqual(eocBad.checks.map((c) => c.passed), [true, true, false]);
    const eocCollapsed = lc.verdictTraining(P, rows.map((r) => (r.phase === 'eoc' && r.sparsity === 0.5 ? { ...r, collapsed: true, acc: 0.1 } : r)));
    assert.equal(eocCollapsed.checks.find((c) => c.label.includes('s=0.5'))!.passed, false);
    const none = lc.verdictTraining(P, [trow('mnist', 'eoc', 0.5, 0, 0.8, false)]);
    assert.equal(none.verdict, 'not reproduced');
  });
});

describe('layer-collapse study: gates of the training claim (closed-form cases)', () => {
  // one dataset, as in the standard plan; the numbers below are chosen so each gate's truth is known
  const p = { ...lc.plan('standard', { workers: 1 }) };
  const d = p.training.datasets[0].name;
  const row = (phase: 'ordered' | 'eoc' | 'chaotic', method: string, sparsity: number, seed: number, acc: number, o: Partial<TrainRow> = {}): TrainRow =>
    ({ dataset: d, phase, method, arm: lc.armLabel(method, phase), sparsity, seed, acc, collapsed: phase !== 'eoc' && method === 'snip', emptyLayers: [], outcome: 'ok',
      density: 1 - sparsity, seconds: 1, history: [acc - 0.001, acc], converged: false, ...o });
  const rows = (denseAcc: number, convergedAcc: number, eocHistory = [0.6, 0.601]): TrainRow[] => [
    ...[0, 1, 2].map((s) => row('eoc', 'none', 0, s, denseAcc)),
    row('eoc', 'none', 0, 0, convergedAcc, { converged: true }),
    ...[0, 1, 2].map((s) => row('ordered', 'snip', 0.9, s, 0.1)),
    ...[0, 1, 2].map((s) => row('eoc', 'snip', 0.9, s, eocHistory[eocHistory.length - 1], { history: eocHistory })),
  ];
  const verdict = (rs: TrainRow[]) => gatedVerdict(lc.verdictTraining(p, rs).checks, lc.trainingGates(p, rs));

  it('dense reference 10 points below its converged run -> inconclusive (both numbers in the gate); within 2 points -> the checks decide', () => {
    const under = lc.trainingGates(p, rows(0.80, 0.90));
    assert.equal(under[0].kind, 'dense-converged');
    assert.equal(under[0].passed, false);
    assert.match(under[0].detail, /dense reference 80(\.00)? % \(3 seeds\) vs converged 90(\.00)? % \(1 seed\): gap 10(\.00)? points/);
    assert.equal(verdict(rows(0.80, 0.90)).verdict, 'inconclusive');
    assert.ok(lc.trainingGates(p, rows(0.885, 0.90)).every((g) => g.passed));
    assert.equal(verdict(rows(0.885, 0.90)).verdict, 'reproduced');
  });

  it('an EOC SNIP arm still gaining 10 points in its last epoch fails the plateau gate', () => {
    const g = lc.trainingGates(p, rows(0.89, 0.90, [0.5, 0.6]));
    assert.deepEqual(g.map((x) => [x.kind, x.passed]), [['dense-converged', true], ['chance-long-run', true], ['plateau', false], ['arms-above-chance', true], ['divergence', true]]);
    assert.equal(verdict(rows(0.89, 0.90, [0.5, 0.6])).verdict, 'inconclusive');
  });

  it('a diverged run is counted by the divergence gate and never averaged into the accuracies', () => {
    const rs = [...rows(0.89, 0.90), row('eoc', 'snip', 0.9, 3, 0.1, { outcome: 'diverged', history: [] })];
    const g = lc.trainingGates(p, rs);
    const div = g.find((x) => x.kind === 'divergence')!;
    assert.equal(div.passed, false);
    assert.match(div.detail, /SNIP \/ EOC s=0\.9 1\/4/);
    const v = lc.verdictTraining(p, rs);
    assert.match(v.numbers[`${d} s=0.9: EOC SNIP acc vs collapsed ordered`] as string, /^0\.601 vs/);
    assert.equal(lc.summarizeTraining(rs).find((s) => s.arm === 'SNIP / EOC')!.n, 3);
  });

  // EOC SNIP arm at chance after the budget (0.1125: a constant predictor of the most frequent MNIST test class), its mask not collapsed
  const atChance = (): TrainRow[] => rows(0.89, 0.90).map((r) => (r.method === 'snip' && r.phase === 'eoc' ? { ...r, acc: 0.1125, history: [0.1125, 0.1125] } : r));
  const L = p.training.convergedEpochs;
  const longRuns = (accs: number[], last = 0): TrainRow[] => accs.map((a, s) => row('eoc', 'snip', 0.9, s, a, { converged: true, history: [...Array(L - 2).fill(0.1125), a - last, a] }));
  const kindOf = (g: Gate[], kind: string) => g.find((x) => x.kind === kind)!;

  it('an EOC SNIP arm at chance with no long run: the long-run gate fails (slow or untrainable cannot be told), inconclusive', () => {
    const g = lc.trainingGates(p, atChance());
    assert.equal(kindOf(g, 'plateau').passed, true); // a gain of 0 at chance: the plateau gate alone would pass
    const lr = kindOf(g, 'chance-long-run');
    assert.equal(lr.passed, false);
    assert.match(lr.detail, new RegExp(`1 of 1 arms at chance after x${p.training.train.epochs} \\(at chance = mean ≤ 13.00 %\\), re-trained x${L} \\(first run; all runs if it leaves chance; none where no run's mask connects input to output\\): SNIP / EOC s=0.9 11.25 % after x${p.training.train.epochs}, no long run`));
    assert.equal(verdict(atChance()).verdict, 'inconclusive');
  });

  it('its long runs leave chance: slow, not untrainable; the claim reads the long runs (reproduced)', () => {
    const rs = [...atChance(), ...longRuns([0.80, 0.82, 0.84])];
    const g = lc.trainingGates(p, rs);
    assert.ok(g.every((x) => x.passed), JSON.stringify(g));
    assert.match(kindOf(g, 'chance-long-run').detail, new RegExp(`SNIP / EOC s=0.9 11.25 % → 82.00 % \\(3 of 3 runs\\): slow, not untrainable \\(read at x${L}\\)`));
    const v = lc.verdictTraining(p, rs);
    assert.match(v.checks[1].label, new RegExp(`EOC SNIP accuracy 0.8200 after x${L}`));
    assert.equal(gatedVerdict(v.checks, g).verdict, 'reproduced');
    // the plateau gate reads the long runs: one still gaining 5 points at its last epoch fails it
    const rising = lc.trainingGates(p, [...atChance(), ...longRuns([0.80, 0.82, 0.84], 0.05)]);
    assert.equal(kindOf(rising, 'plateau').passed, false);
  });

  it('its long runs stay at chance: evidence of untrainability at that schedule; the check fails with gates passing', () => {
    const rs = [...atChance(), ...longRuns([0.1125, 0.1125, 0.1125])];
    const g = lc.trainingGates(p, rs);
    assert.equal(kindOf(g, 'chance-long-run').passed, true);
    assert.match(kindOf(g, 'chance-long-run').detail, new RegExp(`11.25 % → 11.25 % \\(3 of 3 runs\\): stays at chance: untrainable at x${L}`));
    // every SNIP phase pair (EOC vs ordered at 0.9) sits at chance: the comparison tests nothing
    assert.equal(kindOf(g, 'arms-above-chance').passed, false);
    // with a pair above chance elsewhere in the grid (0.5: EOC 0.9, ordered 0.6) the gates pass and the at-chance arm counts as evidence
    const more = [...rs, ...[0, 1, 2].flatMap((s) => [row('eoc', 'snip', 0.5, s, 0.9), row('ordered', 'snip', 0.5, s, 0.6, { collapsed: false })])];
    const g2 = lc.trainingGates(p, more);
    assert.ok(g2.every((x) => x.passed), JSON.stringify(g2));
    const v = gatedVerdict(lc.verdictTraining(p, more).checks, g2);
    assert.equal(v.verdict, 'partly');
    // an untrainable arm is read from its budget runs (at chance either way; the gate cites the long runs)
    assert.match(v.summary, new RegExp(`✗ ${d} s=0.9 \\(ordered collapsed\\): EOC SNIP accuracy 0.1125 after x2 `)); // the fixture's budget rows have 2 epochs
  });

  it('longRunArms: per EOC SNIP arm at chance, its runs with the converged schedule, first seed first; nothing else', () => {
    const cfgs = lc.trainingConfigs(p, [{ phase: 'eoc', method: 'snip', sparsities: [0.5, 0.9] }, { phase: 'ordered', method: 'snip', sparsities: [0.9] }, { phase: 'eoc', method: 'none', sparsities: [0] }], [0, 1]);
    // order: eoc snip 0.5 (seeds 0, 1), eoc snip 0.9 (0, 1), ordered snip 0.9 (0, 1), dense (0, 1)
    const acc = [0.9, 0.9, 0.1125, 0.12, 0.1125, 0.1125, 0.1125, 0.95].map((a) => ({ acc: a, outcome: 'ok' }));
    const long = lc.longRunArms(p, cfgs, acc);
    assert.deepEqual(long, [[cfgs[2], cfgs[3]].map((c) => ({ ...c, train: { ...c.train, epochs: L } }))]);
    assert.deepEqual(long[0].map((c) => c.seed), [0, 1]);
    // the arm's mean decides: 0.1125 and 0.25 (mean 0.18 > 0.13) is above chance
    assert.deepEqual(lc.longRunArms(p, cfgs, acc.map((a, i) => (i === 3 ? { acc: 0.25, outcome: 'ok' } : a))), []);
    assert.throws(() => lc.longRunArms(p, cfgs, acc.slice(1)), /8 configs but 7 results/);
  });

  it('the standard plan trains MNIST 8k/2k on every seed with a converged run longer than the budget, on every seed', () => {
    assert.deepEqual(p.training.datasets, [{ name: 'mnist', trainLimit: 8000, testLimit: 2000, seeds: 0 }]);
    assert.ok(p.training.convergedEpochs > p.training.train.epochs);
    const conv = lc.convergedConfigs(p, [5, 6, 7]);
    assert.deepEqual(conv.map((c) => [c.seed, c.prune.method, c.train.epochs, c.train.lr]), [5, 6, 7].map((s) => [s, 'none', p.training.convergedEpochs, p.training.train.lr]));
    for (const c of conv) assert.equal((c.model as { init: { scheme: string } }).init.scheme, 'eoc');
  });
});

describe('layer-collapse study: init-analysis task on a small net', function () {
  this.timeout(60000);
  it('MBP and random masks are identical across phases, SNIP is not; per-method critical sparsity equals the bisection', async () => {
    await initBackend();
    const phases = lc.phasePoints(0.2, 1.0, 2.0).map(({ name, sigmaW, sigmaB }) => ({ name, sigmaW, sigmaB }));
    const cfg = {
      depth: 4, width: 16, seed: 3, phases, methods: ['random', 'magnitude', 'snip'], sparsity: 0.6,
      data: { name: 'fashion-mnist', trainLimit: 200, testLimit: 50 }, perNeuron: true, synflowRounds: 0, version: 1,
    };
    const r = await lc.runInitAnalysis(cfg);
    assert.equal(r.runs.length, 9);
    assert.deepEqual(r.sizes, [784 * 16, 16 * 16, 16 * 16, 16 * 10]);
    for (const run of r.runs) {
      if (run.method !== 'snip') assert.equal(run.maskDiffVsEoc, 0, `${run.method}/${run.phase}`);
      if (run.phase === 'eoc') assert.equal(run.maskDiffVsEoc, 0);
      const n = r.sizes.reduce((a, b) => a + b, 0);
      assert.equal(run.keptAtSparsity.reduce((a, b) => a + b, 0), Math.round(0.4 * n));
      // recompute independently: same net, same scores, library bisection
      const ph = phases.find((p) => p.name === run.phase)!;
      const net = buildModel(lc.modelConfig(4, 16, ph), { seed: 3 });
      try {
        const ds = loadDataset('fashion-mnist', { trainLimit: 200, testLimit: 50, seed: 0 });
        const res = computeMask(net, { method: run.method, sparsity: 0.6, data: ds, seed: 3 });
        const bis = bisectionCollapse(res.scores);
        assert.equal(run.critical!.sparsity, bis.sparsity, `${run.method}/${run.phase}`);
        assert.deepEqual([run.critical!.firstEmptyName], bis.layers);
        // the library's criticalSparsity (global) gives the same point and layer on the net
        const cs = criticalSparsity(net, res.scores);
        assert.equal(cs.sparsity, bis.sparsity);
        assert.deepEqual(cs.layers, bis.layers);
      } finally { net.dispose(); }
      if (run.method === 'snip' || run.method === 'magnitude') {
        assert.equal(run.perNeuron!.length, 4);
        assert.equal(run.perNeuron![3].length, 10);
        const kept0 = run.perNeuron![0].reduce((a, b) => a + b * 784, 0);
        assert.ok(Math.abs(kept0 - run.keptAtSparsity[0]) < 1e-6);
      }
    }
    const snipDiff = r.runs.filter((x) => x.method === 'snip' && x.phase !== 'eoc').map((x) => x.maskDiffVsEoc!);
    assert.ok(snipDiff.every((d) => d > 0), `SNIP masks depend on the phase: ${snipDiff}`);
  });
});
