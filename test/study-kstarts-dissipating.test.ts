import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  initBackend, loadDataset, kStarts, Dataset, ModelConfig, EarlyPruningSetup, describeConfig, EARLY_PRUNING_DEFAULTS, runSweep, mergeConfigs, kstartsDissipating as ksd, gatedVerdict,
} from 'prune-at-init';

type Row = ksd.Row;

// ---- synthetic tidy tables whose truth is known by construction ---------------------------------

const BASE: Omit<Row, 'dataset' | 'sparsity' | 'seed' | 'arm' | 'acc'> = {
  model: 'M', family: 'baseline', k: null, fitness: null, pick: null, accAtTarget: null, epochsToTarget: 0, reached: true, density: null,
  extraAcc: null, passes: null, pickIsBest: null, spearman: null, seconds: null, outcome: 'ok', error: null, history: null,
};
const row = (arm: string, dataset: string, sparsity: number, seed: number, acc: number | null, extra: Partial<Row> = {}): Row =>
  ({ ...BASE, arm, dataset, sparsity, seed, acc, ...extra });

const DATASETS = ['A', 'B'];
const PS = [0.8, 0.95, 0.99];
const SEEDS = [0, 1, 2];
/** Seed noise that sums to zero over the three seeds (so means are exact). */
const NOISE = [-0.004, 0.001, 0.003];

/** Rows for `arm` in every cell: acc = 0.8 - 0.2 p + offset + NOISE[seed]. */
function armRows(arm: string, offset: number | ((d: string, p: number, s: number) => number), extra: (d: string, p: number, s: number) => Partial<Row> = () => ({})): Row[] {
  const out: Row[] = [];
  for (const d of DATASETS) for (const p of PS) for (const s of SEEDS) {
    const off = typeof offset === 'number' ? offset : offset(d, p, s);
    out.push(row(arm, d, p, s, 0.8 - 0.2 * p + off + NOISE[s], extra(d, p, s)));
  }
  return out;
}

const SETTINGS: ksd.VerdictSettings = { k: 4, fitnesses: ['magnitude', 'gradient', 'both'], highSparsity: 0.95, epochs: 4, noiseFloor: 0.005 };

describe('study 04 (K-starts, dissipating): statistics and verdicts on synthetic tables', () => {
  it('paired() matches on (model, dataset, p, seed) and counts wins, ties, losses', () => {
    const rs = [
      row('a', 'A', 0.9, 0, 0.5), row('b', 'A', 0.9, 0, 0.4),
      row('a', 'A', 0.9, 1, 0.5), row('b', 'A', 0.9, 1, 0.5),
      row('a', 'A', 0.9, 2, 0.3), row('b', 'A', 0.9, 2, 0.6),
      row('a', 'A', 0.9, 3, 0.7), // no partner: ignored
      row('a', 'B', 0.9, 0, null), row('b', 'B', 0.9, 0, 0.2), // missing value: ignored
    ];
    const p = ksd.paired(rs, 'a', 'b');
    assert.equal(p.n, 3);
    assert.deepEqual([p.wins, p.ties, p.losses], [1, 1, 1]);
    assert.ok(Math.abs(p.meanDiff - (0.1 + 0 - 0.3) / 3) < 1e-12);
    const pf = ksd.paired(rs, 'a', 'b', { filter: (c) => c.dataset === 'B' });
    assert.equal(pf.n, 0);
    assert.ok(Number.isNaN(pf.meanDiff));
  });

  it('claim 1: K-starts better than random and than the random pick by construction -> every check passes; worse -> every check fails', () => {
    const good: Row[] = [...armRows(ksd.ARMS.random, 0), ...armRows(ksd.ARMS.randomCM, 0.005), ...armRows(ksd.ARMS.kstarts, 0.01),
      ...armRows(ksd.ksRandomPickArm(4), 0.002), ...armRows(ksd.ksOracleArm(4), 0.02)];
    for (const f of SETTINGS.fitnesses) good.push(...armRows(ksd.ksArm(4, f), 0.01, (d, p, s) => ({ pickIsBest: s === 0, spearman: 0.5 })));
    const v = ksd.verdictKStarts(good, SETTINGS);
    assert.equal(v.checks.length, 6);
    assert.ok(v.checks.every((c) => c.passed), JSON.stringify(v.checks));
    assert.equal(v.numbers['K-starts k=4 (magnitude) vs random: seed wins'], '18/18');
    assert.equal(v.numbers['K-starts k=4 (magnitude) − random, mean Δ acc'], '+0.0100');
    assert.equal(v.numbers['gradient pick − random pick, mean Δ acc'], '+0.0080');
    assert.equal(v.numbers['both pick is the best of 4 after training'], '6/18 (chance ≈ 0.25)');
    assert.equal(v.numbers['K-starts (primary) − compute-matched random, mean Δ acc'], '+0.0050');
    assert.equal(v.details.length, DATASETS.length * PS.length);

    // 'gradient' picks above the random mask (+0.001) but below the random pick (+0.002) -> only its second check fails
    const mixed = good.map((r) => (r.arm === ksd.ksArm(4, 'gradient') ? { ...r, acc: r.acc! - 0.009 } : r));
    const vm = ksd.verdictKStarts(mixed, SETTINGS);
    assert.deepEqual(vm.checks.map((c) => c.passed), [true, true, true, false, true, true]);

    const fitnessArms = new Set(SETTINGS.fitnesses.map((f) => ksd.ksArm(4, f)));
    const bad = good.map((r) => (fitnessArms.has(r.arm) ? { ...r, acc: r.acc! - 0.05 } : r));
    const vb = ksd.verdictKStarts(bad, SETTINGS);
    assert.ok(vb.checks.every((c) => !c.passed));
  });

  it('claim 2: dissipating best at high p and the threshold rule slower -> pass; censored (never reached) counts as more than E; a better magnitude mask fails the cell', () => {
    const epochsOf: Record<string, number> = { [ksd.ARMS.kstarts]: 1, [ksd.ARMS.magAtEpoch]: 2, [ksd.ARMS.dissipating]: 2 };
    const rs: Row[] = [];
    for (const a of ksd.SINGLE_ARMS) rs.push(...armRows(a, a === ksd.ARMS.dissipating ? 0.02 : 0, () => ({ epochsToTarget: epochsOf[a] ?? 0 })));
    // threshold rule: reaches p at epoch 3 at p = 0.95; never within E = 4 at p = 0.99 (null)
    rs.push(...armRows(ksd.ARMS.threshold, -0.01, (d, p) => ({ epochsToTarget: p >= 0.99 ? null : p >= 0.95 ? 3 : 1, reached: p < 0.99 })));
    const v = ksd.verdictDissipating(rs, SETTINGS);
    assert.equal(v.checks.length, 2 * DATASETS.length * 2, 'accuracy + epochs per high cell (p = 0.95, 0.99) per dataset');
    assert.ok(v.checks.every((c) => c.passed), JSON.stringify(v.checks));
    assert.match(v.numbers['M, A, p=0.99: threshold-rule epochs to p (median)'] as string, /^> 4 \(not reached in 3\/3 runs\)$/);
    assert.equal(v.numbers['M, B, p=0.95: threshold-rule epochs to p (median)'], '3');

    // magnitude at init beats dissipating at p = 0.99 on dataset B only; the threshold rule is as fast as K-starts at 0.95
    const rs2 = rs.map((r) => {
      if (r.arm === ksd.ARMS.magnitude && r.dataset === 'B' && r.sparsity === 0.99) return { ...r, acc: r.acc! + 0.03 };
      if (r.arm === ksd.ARMS.threshold && r.sparsity === 0.95) return { ...r, epochsToTarget: 1 };
      return r;
    });
    const v2 = ksd.verdictDissipating(rs2, SETTINGS);
    const failed = v2.checks.filter((c) => !c.passed).map((c) => c.label.split(':')[0]);
    assert.deepEqual(failed.sort(), ['M, A, p=0.95', 'M, B, p=0.95', 'M, B, p=0.99'].sort());
    assert.ok(v2.checks.find((c) => !c.passed && c.label.startsWith('M, B, p=0.99'))!.label.includes('magnitude at init'));
  });

  it('claim 3: the combination must win a majority of seeds in every cell against each of K-starts, dissipating and random', () => {
    const rs: Row[] = [...armRows(ksd.ARMS.kstarts, 0), ...armRows(ksd.ARMS.dissipating, -0.01), ...armRows(ksd.ARMS.random, -0.02)];
    // beats K-starts in seeds 0 and 1 of every cell (2/3), loses seed 2
    rs.push(...armRows(ksd.ARMS.combined, (d, p, s) => (s === 2 ? -0.005 : 0.005)));
    const v = ksd.verdictCombination(rs, SETTINGS);
    assert.deepEqual(v.checks.map((c) => c.passed), [true, true, true]);
    assert.equal(v.numbers['cells where the combination beats K-starts in most seeds'], '6/6');
    // in one cell it wins only seed 0 against K-starts -> "consistently" fails for K-starts only
    const rs2 = rs.map((r) => (r.arm === ksd.ARMS.combined && r.dataset === 'B' && r.sparsity === 0.8 && r.seed === 1 ? { ...r, acc: r.acc! - 0.01 } : r));
    const v2 = ksd.verdictCombination(rs2, SETTINGS);
    assert.deepEqual(v2.checks.map((c) => c.passed), [false, true, true]);
    assert.equal(v2.numbers['cells where the combination beats K-starts in most seeds'], '5/6');
  });

  it('claim 4: noise = max(seed sd of the final accuracy, floor); at-target and fine-tune differences inside it pass, outside fail', () => {
    // seed sd of acc = sd(NOISE) = 0.00361 < floor 0.005 -> tolerance 0.005
    const mk = (arm: string, atTarget: number, extra: number) => armRows(arm, 0, (d, p, s) => ({ accAtTarget: 0.8 - 0.2 * p + NOISE[s] - atTarget, extraAcc: 0.8 - 0.2 * p + NOISE[s] + extra }));
    const rs = [...mk(ksd.ARMS.kstarts, 0.004, 0.0049), ...mk(ksd.ARMS.dissipating, 0.2, 0.001), ...mk(ksd.ARMS.combined, 0, 0.006), ...mk(ksd.ARMS.random, 0.7, 0.01)];
    const v = ksd.verdictNoRetraining(rs, SETTINGS);
    assert.deepEqual(v.checks.map((c) => c.passed), [true, true, false, true, true, false]);
    assert.equal(v.numbers['dissipating: acc at target → final (mean Δ)'], '+0.2000');
    assert.equal(v.numbers['random mask (reference): final → after fine-tune (mean Δ)'], '+0.0100');
    // larger seed noise widens the tolerance: sd of {-0.02, 0, 0.02} = 0.02 > 0.006
    const wide = rs.map((r) => (r.arm === ksd.ARMS.combined ? { ...r, acc: r.acc! + [-0.02, 0, 0.02][r.seed] - NOISE[r.seed], extraAcc: r.extraAcc! + [-0.02, 0, 0.02][r.seed] - NOISE[r.seed] } : r));
    assert.equal(ksd.verdictNoRetraining(wide, SETTINGS).checks[5].passed, true);
  });

  it('tables: accuracy table has mean ± sd per p with dense in every column; epochs table pools runs and counts the unreached', () => {
    const rs = [...armRows(ksd.ARMS.random, 0), ...armRows(ksd.ARMS.threshold, 0, (d, p, s) => ({ epochsToTarget: s === 0 ? null : 2 }))];
    for (const d of DATASETS) for (const s of SEEDS) rs.push(row(ksd.ARMS.dense, d, 0, s, 0.9 + NOISE[s], { epochsToTarget: null }));
    const t = ksd.accuracyTable(rs, [ksd.ARMS.dense, ksd.ARMS.random]);
    assert.equal(t.length, 4);
    const dense = t.find((r) => r.method === ksd.ARMS.dense && r.dataset === 'A')! as Record<string, { mean: number; sd: number; n: number }>;
    for (const p of PS) assert.ok(Math.abs(dense[`p=${p}`].mean - 0.9) < 1e-12 && dense[`p=${p}`].n === 3);
    const rnd = t.find((r) => r.method === ksd.ARMS.random && r.dataset === 'B')! as Record<string, { mean: number; sd: number }>;
    assert.ok(Math.abs(rnd['p=0.95'].mean - (0.8 - 0.19)) < 1e-12);
    assert.ok(Math.abs(rnd['p=0.95'].sd - Math.sqrt((0.004 ** 2 + 0.001 ** 2 + 0.003 ** 2) / 2)) < 1e-12);
    const e = ksd.epochsTable(rs, 4);
    const thr = e.filter((r) => String(r.method).startsWith(ksd.ARMS.threshold));
    assert.equal(thr.length, PS.length);
    assert.equal(thr[0]['reached p'], '4/6');
  });
});

describe('study 04: gates', () => {
  const GS: ksd.KsGateSettings = { recipe: 'test recipe', convergedEpochs: 16, margin: 0.02, maxFinalEpochGain: 0.01, maxDivergedFraction: 0, highSparsity: 0.95 };
  const flat = (acc: number) => ({ history: [0.5, acc, acc] });
  /** Dense A: seeds 0.85, 0.86, 0.87 (mean 0.86); converged `conv`; every claim arm on a flat history in every cell. */
  function world(conv: number, extra: (arm: string, d: string, p: number, s: number) => Partial<Row> = () => ({})): Row[] {
    const rs: Row[] = [];
    for (const [s, a] of [0.85, 0.86, 0.87].entries()) rs.push(row(ksd.ARMS.dense, 'A', 0, s, a, flat(a)));
    rs.push(row(ksd.CONVERGED_ARM, 'A', 0, 0, conv, flat(conv)));
    const arms = [...new Set(Object.values(ksd.CLAIM_ARMS).flat())];
    for (const arm of arms) for (const p of [0.8, 0.99]) for (const s of SEEDS) rs.push(row(arm, 'A', p, s, 0.7, { ...flat(0.7), ...extra(arm, 'A', p, s) }));
    return rs;
  }
  const status = (g: ReturnType<typeof ksd.ksGates>) => Object.fromEntries(Object.entries(g).map(([k, v]) => [k, v !== 'no training' && v.every((x) => x.passed)]));

  it('dense gate: mean dense accuracy within the margin of the converged run passes; 3 points below fails, with both numbers', () => {
    const pass = ksd.ksDenseGates(world(0.875), GS);
    assert.equal(pass.length, 1);
    assert.equal(pass[0].passed, true, pass[0].detail); // gap 1.5 points
    const fail = ksd.ksDenseGates(world(0.89), GS)[0]; // gap 3 points
    assert.equal(fail.passed, false);
    assert.match(fail.detail, /dense reference 86(\.00)? % \(3 seeds\) vs converged 89(\.00)? % \(1 seed\): gap 3(\.00)? points, allowed 2(\.00)?/);
    assert.deepEqual(Object.values(status(ksd.ksGates(world(0.89), GS))), [false, false, false, false]);
    // the verdict of a claim with a failed gate is inconclusive whatever its checks
    const g = ksd.ksGates(world(0.89), GS)['combination-beats-both'];
    assert.equal(gatedVerdict([{ label: 'x', passed: true }], g).verdict, 'inconclusive');
    assert.equal(gatedVerdict([{ label: 'x', passed: true }], ksd.ksGates(world(0.875), GS)['combination-beats-both']).verdict, 'reproduced');
    // no converged run: the gate fails
    assert.equal(ksd.ksDenseGates(world(0.875).filter((r) => r.arm !== ksd.CONVERGED_ARM), GS)[0].passed, false);
  });

  it('scope: a dataset whose dense gate fails is left out of the checks (its rows dropped), the other dataset still tests the claim', () => {
    // dataset A passes (gap 1.5 points); dataset B's dense seed 1 never trained (0.1125): a failed run, named as such
    // (not averaged in as 0.6375 vs converged 0.95), and the other seeds' 0.90 are 5 points short anyway
    const b: Row[] = [];
    for (const [s, a] of [0.9, 0.1125, 0.9].entries()) b.push(row(ksd.ARMS.dense, 'B', 0, s, a, flat(a)));
    b.push(row(ksd.CONVERGED_ARM, 'B', 0, 0, 0.95, flat(0.95)));
    for (const s of SEEDS) b.push(row(ksd.ARMS.random, 'B', 0.99, s, 0.5, { history: [0.1, 0.3, 0.5] })); // still improving, but left out
    const rs = [...world(0.875), ...b];
    const sc = ksd.ksScoped(rs, GS);
    assert.deepEqual(sc.excluded, ['M, B']);
    assert.equal(sc.rows.length, world(0.875).length);
    assert.ok(sc.rows.every((r) => r.dataset === 'A'));
    const g = sc.gates['kstarts-beats-random'] as ReturnType<typeof ksd.ksDenseGates>;
    assert.deepEqual(g.map((x) => [x.kind, x.passed]), [['dense-converged', true], ['scope', true], ['plateau', true], ['divergence', true]]);
    assert.match(g[1].detail, /tested on M, A; left out \(inconclusive there\): M, B \(1 of 3 dense reference runs ended at chance \(11\.25 %; at chance = ≤ 15\.00 %\) while the converged run trains \(95\.00 %\): failed runs of this recipe, not undertraining \(the other 2: 90\.00 % vs converged 95\.00 %, gap 5\.00 points/);
    assert.equal(gatedVerdict([{ label: 'x', passed: true }], g).verdict, 'reproduced');
    // both datasets failing: nothing left to test; every dense gate stays and the claim is inconclusive
    const both = ksd.ksScoped([...world(0.89), ...b], GS);
    assert.deepEqual(both.excluded, []);
    assert.equal(gatedVerdict([{ label: 'x', passed: true }], both.gates['kstarts-beats-random']).verdict, 'inconclusive');
  });

  it('plateau gate: an arm still gaining more than 1 point in its last epoch fails only the claims that compare it', () => {
    const still = world(0.875, (arm, d, p) => (arm === ksd.ARMS.combined && p === 0.99 ? { history: [0.5, 0.67, 0.7] } : {}));
    assert.deepEqual(status(ksd.ksGates(still, GS)), {
      'kstarts-beats-random': true, 'dissipating-best-at-high-sparsity': true, 'combination-beats-both': false, 'no-retraining-needed': false,
    });
    const g = ksd.ksGates(still, GS)['combination-beats-both'] as ReturnType<typeof ksd.ksDenseGates>;
    assert.match(g.find((x) => !x.passed)!.detail, /still improving.*combination, A, p=0\.99 \(largest: combination, A, p=0\.99, 3(\.00)? points\)/);
  });

  it('divergence gate: one diverged run of an arm fails the claims comparing that arm; claim 2 looks at high sparsity only', () => {
    const div = world(0.875, (arm, d, p, s) => (arm === ksd.ARMS.dissipating && p === 0.8 && s === 1 ? { outcome: 'diverged', acc: null, history: null } : {}));
    assert.deepEqual(status(ksd.ksGates(div, GS)), {
      'kstarts-beats-random': true, 'dissipating-best-at-high-sparsity': true, 'combination-beats-both': false, 'no-retraining-needed': false,
    });
    const g = ksd.ksGates(div, GS)['no-retraining-needed'] as ReturnType<typeof ksd.ksDenseGates>;
    assert.match(g.find((x) => x.kind === 'divergence')!.detail, /dissipating 1\/6/);
  });
});

describe('study 04: arms at chance re-trained long (closed-form cases)', () => {
  const GS: ksd.KsGateSettings = { recipe: 'test recipe', convergedEpochs: 16, margin: 0.02, maxFinalEpochGain: 0.01, maxDivergedFraction: 0, highSparsity: 0.95 };
  const flat = (acc: number, n = 4) => ({ history: [0.1, ...Array(n - 1).fill(acc)] });
  /** Dense within the margin; every claim arm at 0.7 except dissipating at p = 0.99, at chance (0.11) in every seed. */
  function world(): Row[] {
    const rs: Row[] = [];
    for (const [s, a] of [0.85, 0.86, 0.87].entries()) rs.push(row(ksd.ARMS.dense, 'A', 0, s, a, flat(a)));
    rs.push(row(ksd.CONVERGED_ARM, 'A', 0, 0, 0.875, flat(0.875)));
    for (const arm of [...new Set(Object.values(ksd.CLAIM_ARMS).flat())]) for (const p of [0.8, 0.99]) for (const s of SEEDS) {
      const acc = arm === ksd.ARMS.dissipating && p === 0.99 ? 0.11 : 0.7;
      rs.push(row(arm, 'A', p, s, acc, flat(acc)));
    }
    return rs;
  }
  const longRows = (acc: number) => SEEDS.map((s) => row(ksd.ARMS.dissipating, 'A', 0.99, s, acc, flat(acc, 16)));
  const longGate = (g: ReturnType<typeof ksd.ksGates>, id: string) => (g[id] as ReturnType<typeof ksd.ksDenseGates>).find((x) => x.kind === 'chance-long-run');

  it('without its long runs an arm at chance fails the long-run gate of every claim comparing it (and only those)', () => {
    const g = ksd.ksGates(world(), GS, { rows: [], epochs: 4 });
    assert.equal(longGate(g, 'kstarts-beats-random')!.passed, true);
    for (const id of ['dissipating-best-at-high-sparsity', 'combination-beats-both', 'no-retraining-needed']) {
      assert.equal(longGate(g, id)!.passed, false, id);
      assert.match(longGate(g, id)!.detail, /dissipating, M, A, p=0\.99 11\.00 % after x4, no long run/);
    }
    // without the long-run rule the plateau gate passes this arm (its last-epoch gain at chance is 0)
    assert.ok((ksd.ksGates(world(), GS)['dissipating-best-at-high-sparsity'] as ReturnType<typeof ksd.ksDenseGates>).every((x) => x.passed));
  });

  it('its long runs leave chance: slow, the claims read them; they stay at chance: untrainable at that schedule, gates pass', () => {
    const slow = ksd.ksGates(world(), GS, { rows: longRows(0.6), epochs: 4 });
    assert.equal(longGate(slow, 'dissipating-best-at-high-sparsity')!.passed, true);
    assert.match(longGate(slow, 'dissipating-best-at-high-sparsity')!.detail, /dissipating, M, A, p=0\.99 11\.00 % → 60\.00 % \(3 of 3 runs\): slow, not untrainable \(read at x16\)/);
    const read = ksd.readRows(world(), longRows(0.6));
    assert.deepEqual(read.filter((r) => r.arm === ksd.ARMS.dissipating && r.sparsity === 0.99).map((r) => r.acc), [0.6, 0.6, 0.6]);
    assert.equal(read.length, world().length);
    const stuck = ksd.ksGates(world(), GS, { rows: longRows(0.11), epochs: 4 });
    assert.ok(Object.values(stuck).every((gs) => gs !== 'no training' && gs.every((x) => x.passed)), JSON.stringify(stuck));
    assert.match(longGate(stuck, 'no-retraining-needed')!.detail, /11\.00 % → 11\.00 % \(3 of 3 runs\): stays at chance: untrainable at x16/);
  });

  it('longRunJobs: the jobs of the claim arms at chance in their cell, with the converged schedule', () => {
    const p = ksd.plan('smoke', [0]);
    const js = ksd.jobs(p);
    const budget = js.filter((j) => j.sparsity !== null).map((j) => row(j.arm, j.dataset, j.sparsity!, j.seed, j.arm === ksd.ARMS.dissipating && j.dataset === js[0].dataset ? 0.1 : 0.7, { model: j.model, family: j.family }));
    const long = ksd.longRunJobs(p, budget, js);
    const want = js.filter((j) => j.arm === ksd.ARMS.dissipating && j.dataset === js[0].dataset && j.sparsity !== null);
    assert.ok(want.length > 0);
    // one arm per cell, its seeds in order (the first is re-trained first: stagedLongRuns)
    const cell = (j: { model: string; dataset: string; sparsity: number | null }) => `${j.model}|${j.dataset}|${j.sparsity}`;
    assert.deepEqual(long.flat(), want.map((j) => ({ ...j, config: { ...j.config, train: { ...j.config.train, epochs: p.gate.convergedEpochs } } })));
    assert.equal(long.length, new Set(want.map(cell)).size);
    for (const a of long) assert.equal(new Set(a.map(cell)).size, 1);
    // the quick preview skips long runs (longRunsAt): the same arms at chance give none
    assert.deepEqual(ksd.longRunJobs({ ...p, budget: 'quick' }, budget, js), []);
  });
});

describe('study 04: K-starts picks read off an all-candidates run', () => {
  const c = (magnitude: number, gradient: number, finalTestAcc: number, diverged = false) => ({ magnitude, gradient, finalTestAcc, diverged, testAccAtSelection: finalTestAcc - 0.1 });

  it('argmax per fitness (ties: lowest index), diverged candidates never picked, rank sum for "both", random pick = mean', () => {
    const cands = [c(5, 1, 0.70), c(7, 2, 0.72), c(7, 9, 0.68), c(9, 3, 0.75, true), c(1, 8, 0.71)];
    // first 3: magnitude 5,7,7 -> tie at 7 -> index 1; gradient 1,2,9 -> 2
    assert.equal(ksd.deriveKStartsPick(cands, 3, 'magnitude').pick, 1);
    assert.equal(ksd.deriveKStartsPick(cands, 3, 'gradient').pick, 2);
    // both over the 4 non-diverged of 5: magnitude ranks (5,7,7,1) -> 2, 3.5, 3.5, 1; gradient (1,2,9,8) -> 1,2,4,3; sums 3, 5.5, 7.5, 4 -> index 2
    const b = ksd.deriveKStartsPick(cands, 5, 'both');
    assert.equal(b.pick, 2);
    assert.equal(b.acc, 0.68);
    assert.ok(Math.abs(b.randomPickAcc! - (0.70 + 0.72 + 0.68 + 0.75 + 0.71) / 5) < 1e-12);
    assert.equal(b.bestAcc, 0.75);
    assert.equal(b.pickIsBest, false);
    // the diverged candidate 3 has the largest magnitude but is skipped
    assert.equal(ksd.deriveKStartsPick(cands, 4, 'magnitude').pick, 1);
    const one = ksd.deriveKStartsPick(cands, 1, 'gradient');
    assert.deepEqual([one.pick, one.acc, one.pickIsBest, one.spearman], [0, 0.70, true, null]);
    // Spearman of magnitude (5,7,7) vs acc (0.70,0.72,0.68): ranks (1,2.5,2.5) vs (2,3,1) -> r = 0
    assert.ok(Math.abs(ksd.deriveKStartsPick(cands, 3, 'magnitude').spearman!) < 1e-12);
    assert.throws(() => ksd.deriveKStartsPick(cands, 6, 'both'), /at least k = 6 candidates/);
    assert.throws(() => ksd.deriveKStartsPick(cands, 2, 'dissipation' as never), /fitness must be one of/);
  });

  describe('against direct K-starts runs (tiny MLP, 256 images)', function () {
    this.timeout(120000);
    const MODEL: ModelConfig = { arch: 'ffnn', hidden: [8], activation: 'relu' };
    let ds: Dataset;
    before(async () => { await initBackend(); ds = loadDataset('fashion-mnist', { trainLimit: 256, testLimit: 100 }); });
    const setup = (): EarlyPruningSetup => ({ model: MODEL, ds, train: { epochs: 3, batchSize: 64, lr: 0.05, momentum: 0.9, schedule: { type: 'constant' } }, initSeed: 3, maskSeed: 4, dataSeed: 5, evalEveryEpoch: false });

    it('the first k candidates of a k=4 all-candidates run give the same pick and final accuracy as direct runs with k = 2 and k = 4', () => {
      const all = kStarts(setup(), { sparsity: 0.8, k: 4, fitness: 'both', evaluateAllCandidates: true });
      all.winner.run.dispose();
      const cands = all.report.candidates;
      assert.equal(ksd.deriveKStartsPick(cands, 4, 'both').pick, all.report.pick, 'same rule as kStarts for "both"');
      for (const [k, f] of [[2, 'magnitude'], [4, 'gradient'], [2, 'both']] as const) {
        const direct = kStarts(setup(), { sparsity: 0.8, k, fitness: f });
        const finalAcc = direct.winner.run.testAccNow();
        direct.winner.run.dispose();
        const d = ksd.deriveKStartsPick(cands, k, f);
        assert.equal(d.pick, direct.report.pick, `k=${k} ${f}: pick`);
        assert.equal(d.acc, finalAcc, `k=${k} ${f}: final accuracy`);
      }
    });
  });
});

describe('study 04: plan and jobs', () => {
  it('every job is a valid config of the early-pruning task; arms, grid and compute-matching as planned', () => {
    const p = ksd.plan('smoke', [0]);
    const js = ksd.jobs(p);
    const keys = new Set<string>();
    for (const j of js) {
      const d = describeConfig(ksd.EARLY_PRUNING_TASK, j.config as unknown as Record<string, unknown>); // throws on unknown keys
      keys.add(d.key);
    }
    assert.equal(keys.size, js.length, 'no two jobs share a config');
    const mainArms = Object.values(ksd.ARMS).filter((a) => a !== ksd.ARMS.dense);
    const cells = p.models.length * p.datasets.length * p.sparsities.length * p.seeds.length;
    const variantCells = p.variantDatasets.length * p.variantSparsities.length * p.seeds.length;
    // dense per seed + one converged dense run per (model, dataset) + the arms + the variants
    assert.equal(js.length, p.models.length * p.datasets.length * (p.seeds.length + 1) + cells * mainArms.length + variantCells * p.variants.length);
    const conv = js.filter((j) => j.arm === ksd.CONVERGED_ARM);
    assert.equal(conv.length, p.models.length * p.datasets.length);
    const dense0 = js.find((j) => j.arm === ksd.ARMS.dense && j.dataset === conv[0].dataset && j.seed === 0)!;
    assert.deepEqual(conv[0].config, { ...dense0.config, train: { ...dense0.config.train, epochs: p.gate.convergedEpochs } }, 'converged = the dense config, longer');
    const cm = js.find((j) => j.arm === ksd.ARMS.randomCM)!;
    assert.equal(cm.config.train!.epochs, p.epochs + (p.primary.k - 1) * p.primary.selectionEpochs);
    const all = js.find((j) => j.arm === ksd.ARMS.kstartsAll)!;
    assert.deepEqual(all.config.prune!.kstarts, { k: Math.max(...p.ks), selectionEpochs: p.primary.selectionEpochs, fitness: 'both', evaluateAllCandidates: true });
    for (const j of js.filter((x) => x.family === 'variant')) {
      assert.ok(p.variantDatasets.includes(j.dataset) && p.variantSparsities.includes(j.sparsity!));
    }
    assert.equal(js.find((j) => j.arm === ksd.ARMS.dense)!.config.prune!.sparsity, EARLY_PRUNING_DEFAULTS.prune.sparsity);
    const q = ksd.plan('quick', [0, 1]);
    assert.deepEqual(q.sparsities, [0.9, 0.98]);
    assert.ok(q.sparsities.some((x) => x >= q.highSparsity), 'quick has a sparsity claim 2 counts as high');
    assert.ok(q.notes.some((n) => /CNN/.test(n)), 'quick says the CNN is left out');
    assert.equal(ksd.plan('paper', [0]).models.length, 2);
    // standard: full Fashion-MNIST, a sparsity counted as high by claim 2, 3 seeds when the notebook gives them
    const st = ksd.plan('standard', [0, 1, 2]);
    assert.deepEqual(st.datasets.map((d) => [d.name, d.trainLimit, d.testLimit]), [['fashion-mnist', 0, 0], ['mnist', 0, 0]]);
    assert.ok(st.sparsities.some((x) => x >= st.highSparsity));
    assert.ok(st.gate.convergedEpochs >= 3 * st.epochs && st.seeds.length >= 3);
    assert.throws(() => ksd.plan('fast' as never, [0]), /not a budget/);
    assert.throws(() => ksd.plan('quick', []), /seeds must be a non-empty array/);
  });

  it('rows(): failed configs stay as rows with the error; all-candidates runs expand to picks per k and fitness', () => {
    const p = { ...ksd.plan('smoke', [0]), ks: [1, 2] };
    const base = { model: 'M', dataset: 'A', sparsity: 0.9, seed: 0 };
    const js: ksd.Job[] = [
      { ...base, arm: ksd.ARMS.random, family: 'baseline', config: {} as never },
      { ...base, arm: ksd.ARMS.kstartsAll, family: 'kstarts-all', config: {} as never },
    ];
    const cand = (m: number, g: number, acc: number) => ({ magnitude: m, gradient: g, finalTestAcc: acc, diverged: false, testAccAtSelection: 0.5 });
    const result = {
      method: 'kstarts', outcome: 'ok', finalTestAcc: 0.8, extra: null, extraTrainAcc: null, accAtTarget: 0.5, epochsToTarget: 1, density: 0.1,
      compute: { trainingEpochs: 10 }, seconds: 1, kstarts: { k: 2, fitness: 'both', pickedBy: 'fitness', selectionEpochs: 1 },
      candidates: [cand(1, 2, 0.7), cand(2, 1, 0.8)], diagnostics: { history: [{ testAcc: 0.6 }, { testAcc: null }, { testAcc: 0.8 }] },
    };
    const recs = [
      { status: 'error', key: 'k1', task: 'early-pruning', canonical: '{}', config: {}, error: { message: 'boom' } },
      { status: 'computed', key: 'k2', task: 'early-pruning', canonical: '{}', config: {}, result, meta: {}, format: 1 },
    ] as never;
    const rs = ksd.rows(p, js, recs);
    assert.equal(rs[0].error, 'boom');
    assert.equal(rs[0].acc, null);
    const get = (arm: string) => rs.find((r) => r.arm === arm)!;
    assert.equal(get(ksd.ksArm(2, 'magnitude')).acc, 0.8);
    assert.equal(get(ksd.ksArm(2, 'gradient')).acc, 0.7);
    assert.equal(get(ksd.ksArm(1, 'gradient')).acc, 0.7);
    assert.ok(Math.abs(get(ksd.ksRandomPickArm(2)).acc! - 0.75) < 1e-12);
    assert.equal(get(ksd.ksOracleArm(2)).acc, 0.8);
    assert.equal(get(ksd.ksArm(2, 'magnitude')).passes, 2 * 1 + (p.epochs - 1));
    assert.deepEqual(get(ksd.ARMS.kstartsAll).history, [0.6, 0.8], 'epochs not evaluated are left out');
    assert.equal(get(ksd.ksArm(2, 'magnitude')).history, null, 'derived picks have no history of their own');
    // a diverged run keeps its row (counted) but no accuracy (never averaged in)
    const div = ksd.rows(p, [js[1]], [{ ...(recs as unknown as Array<Record<string, unknown>>)[1], result: { ...result, outcome: 'diverged', finalTestAcc: 0.1 } }] as never);
    assert.deepEqual([div[0].outcome, div[0].acc], ['diverged', null]);
    assert.throws(() => ksd.rows(p, js, [recs[0]] as never), /2 jobs but 1 records/);
  });
});

describe('study 04: the early-pruning task in a worker process', function () {
  this.timeout(120000);
  it('SNIP and combination B (with the task defaults filled in) run in a sweep worker and are cached', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksd-sweep-'));
    try {
      const p = ksd.plan('smoke', [0]);
      const tiny = { model: { arch: 'ffnn', hidden: [8], activation: 'relu' }, data: { trainLimit: 128, testLimit: 64 }, train: { epochs: 2 } };
      const pick = (arm: string) => mergeConfigs(ksd.jobs(p).find((j) => j.arm === arm && j.family !== 'reference')!.config as Record<string, unknown>, tiny);
      const configs = [pick(ksd.ARMS.snip), pick('combination B')];
      const first = await runSweep({ task: ksd.EARLY_PRUNING_TASK, configs, workers: 1, store: dir });
      for (const r of first) assert.notEqual(r.status, 'error', r.status === 'error' ? r.error.message : '');
      const res = first.map((r) => (r.status === 'error' ? null : r.result as { density: number; kstarts?: { fitness: string } }));
      const sp = (configs[0].prune as { sparsity: number }).sparsity;
      assert.ok(Math.abs(res[0]!.density - (1 - sp)) < 0.005, `SNIP mask at p = ${sp}: density ${res[0]!.density}`);
      assert.equal(res[1]!.kstarts!.fitness, 'dissipation');
      const again = await runSweep({ task: ksd.EARLY_PRUNING_TASK, configs, workers: 0, store: dir });
      assert.deepEqual(again.map((r) => r.status), ['cached', 'cached']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

