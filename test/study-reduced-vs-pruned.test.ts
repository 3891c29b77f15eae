import { strict as assert } from 'assert';
import * as path from 'path';
import { spawnSync } from 'child_process';
import * as tf from '@tensorflow/tfjs';
import {
  initBackend, buildModel, reducedVsPruned as rvp, timeFn, timeInference, availableBackendVariants,
  withBackendVariant, extraKernelInfo, wrnCost, WrnConfig, Net, ModelConfig, roundChunks, timeArchitectures, mannWhitney,
} from 'prune-at-init';
import { useTempResults } from './support/temp-results';

type Row = Record<string, unknown>;

/** Parameter count of a built net, straight from its parameter shapes (independent of wrnCost). */
function countParams(net: Net): number {
  return net.info.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
}

// ------------------------------------------------------------------------------------------
// Synthetic tables: the truth is known by construction.

interface Fam { family: string; criterion: string | null; budget: number | null; params: number; macs?: number; errors: number[]; label?: string; history?: number[]; outcome?: string }

/** The dense reference (base, 3 seeds, mean error 0.10) and its converged run (error 0.095): the dense gate passes (gap 0.5 pp). */
const REF: Fam[] = [
  { family: 'base', criterion: null, budget: 170000, params: 170000, errors: [0.09, 0.10, 0.11] },
  { family: 'dense-converged', criterion: null, budget: null, params: 170000, errors: [0.095] },
];

/** Rows of the families plus REF (unless `ref` is given); every net trained from scratch ends on a flat history (gain 0). */
function table(fams: Fam[], ref: Fam[] = REF): Row[] {
  return [...fams, ...ref].flatMap((f) => f.errors.map((e, seed) => ({
    family: f.family, criterion: f.criterion, budget: f.budget, label: f.label ?? `${f.family}@${f.budget}`, seed,
    params: f.params, macs: f.macs ?? f.params * 100, testError: e, steps: 100, interior: [1, 2, 3],
    series: rvp.seriesName(f.family as never, f.criterion as never), outcome: f.outcome ?? 'ok',
    history: f.history ?? (f.family === 'pruned-tuned' ? [] : [0.5, 1 - e, 1 - e]),
  })));
}

const GS: rvp.RvpGateSettings = { label: 'test net', convergedEpochs: 30, margin: 0.02, maxFinalEpochGain: 0.01, maxDivergedFraction: 0 };
function V(rows: Row[] | ReturnType<typeof rvp.resultsFrame>, o: Record<string, unknown> = {}) {
  return rvp.verdicts(rows, [], { gateSettings: GS, ...o });
}

const B1 = 100000, B2 = 60000;
/** Reduced better than pruned-and-tuned, scratch better than tuned, copycat equal to scratch ± 0.1 pp. */
function goodWorld(): Fam[] {
  return [
    { family: 'pruned-tuned', criterion: 'fisher', budget: B1, params: 99000, errors: [0.15, 0.16, 0.14] },
    { family: 'pruned-tuned', criterion: 'fisher', budget: B2, params: 59500, errors: [0.20, 0.21, 0.19] },
    { family: 'pruned-tuned', criterion: 'l1', budget: B1, params: 99500, errors: [0.16, 0.17, 0.15] },
    { family: 'pruned-tuned', criterion: 'l1', budget: B2, params: 59000, errors: [0.22, 0.23, 0.21] },
    { family: 'reduced-bottleneck', criterion: null, budget: B1, params: 101000, errors: [0.10, 0.11, 0.09] },
    { family: 'reduced-bottleneck', criterion: null, budget: B2, params: 60500, errors: [0.12, 0.13, 0.11] },
    { family: 'reduced-width', criterion: null, budget: B2, params: 61000, errors: [0.125, 0.135, 0.115] },
    { family: 'scratch-pruned', criterion: 'fisher', budget: B1, params: 99000, errors: [0.11, 0.12, 0.10] },
    { family: 'scratch-pruned', criterion: 'fisher', budget: B2, params: 59500, errors: [0.13, 0.14, 0.12] },
    { family: 'scratch-pruned', criterion: 'l1', budget: B2, params: 59000, errors: [0.14, 0.15, 0.13] },
    { family: 'copycat', criterion: 'fisher', budget: B1, params: 100200, errors: [0.111, 0.121, 0.101] },
  ];
}

describe('reduced-vs-pruned: verdicts on synthetic tables', () => {
  it('summarize gives mean and sample sd over seeds per (family, criterion, budget)', () => {
    const g = rvp.summarize(table(goodWorld()));
    const pt = g.find((x) => x.family === 'pruned-tuned' && x.criterion === 'fisher' && x.budget === B1)!;
    assert.equal(pt.n, 3);
    assert.ok(Math.abs(pt.errorMean - 0.15) < 1e-12);
    // sd of {0.15, 0.16, 0.14}: deviations ±0.01, 0 -> sqrt(0.0002 / 2) = 0.01
    assert.ok(Math.abs(pt.errorSd - 0.01) < 1e-12);
    assert.equal(g.length, goodWorld().length + 1, 'every family and the base; the converged run has no budget');
  });

  it('a world built to agree with the paper reproduces claims 1-3, with the right number of checks', () => {
    const [v1, v2, v3] = V(table(goodWorld()));
    // claim 1: reduced (B1: bottleneck; B2: bottleneck, width) × criteria (fisher, l1) = 6 pairs
    assert.equal(v1.verdict, 'reproduced');
    assert.equal(v1.total, 6);
    assert.equal(v2.verdict, 'reproduced');
    assert.equal(v2.total, 3);
    assert.equal(v3.verdict, 'reproduced');
    assert.equal(v3.total, 1);
    // the numbers the verdict rests on are given: mean gap tuned - reduced, in percentage points
    const gap = v1.numbers['mean error gap, pruned+tuned − reduced (pp)'] as number;
    const want = 100 * ((0.15 - 0.10) + (0.16 - 0.10) + (0.20 - 0.12) + (0.22 - 0.12) + (0.20 - 0.125) + (0.22 - 0.125)) / 6;
    assert.ok(Math.abs(gap - want) < 1e-9, `${gap} vs ${want}`);
  });

  it('reversing the world gives "not reproduced"; reversing one budget gives "partly" with the exact count', () => {
    const bad = goodWorld().map((f) => (f.family.startsWith('reduced') ? { ...f, errors: f.errors.map((e) => e + 0.2) } : f));
    assert.equal(V(table(bad))[0].verdict, 'not reproduced');
    const mixed = goodWorld().map((f) => (f.family === 'reduced-width' ? { ...f, errors: [0.3, 0.3, 0.3] } : f));
    const v = V(table(mixed))[0];
    assert.equal(v.verdict, 'partly');
    assert.equal(v.passed, 4);
    assert.equal(v.total, 6);
    const scratchWorse = goodWorld().map((f) => (f.family === 'scratch-pruned' && f.criterion === 'l1' ? { ...f, errors: [0.3, 0.3, 0.3] } : f));
    const v2 = V(table(scratchWorse))[1];
    assert.deepEqual([v2.verdict, v2.passed, v2.total], ['partly', 2, 3]);
  });

  it('pairs whose parameter counts differ by more than the tolerance are dropped, and an untestable claim says so', () => {
    const off = goodWorld().map((f) => (f.family.startsWith('reduced') ? { ...f, params: f.params * 1.2 } : f));
    const v = V(table(off))[0];
    assert.equal(v.total, 0);
    assert.equal(v.verdict, 'not reproduced');
    assert.match(v.rationale, /Not tested/);
    // a looser tolerance admits them again
    assert.equal(V(table(off), { matchTolerance: 0.25 })[0].total, 6);
  });

  it('a lower mean error inside seed noise (gap <= 2 SE of the difference) does not count for claims 1 and 2', () => {
    // reduced-width at B2 vs Fisher pruned+tuned at B2 (mean 0.20, sd 0.01, n 3). Reduced 1.5 pp lower
    // with sd 0.01: 2 SE = 2 · sqrt(2 · 0.01² / 3) = 1.63 pp > 1.5 pp -> within noise, the check fails;
    // 2 pp lower -> beyond noise, it passes. Same rule for scratch vs tuned.
    const world = (reducedWidth: number[], scratchFisherB2: number[]) => goodWorld().map((f) => (
      f.family === 'reduced-width' ? { ...f, errors: reducedWidth }
        : f.family === 'scratch-pruned' && f.criterion === 'fisher' && f.budget === B2 ? { ...f, errors: scratchFisherB2 } : f));
    const inNoise = V(table(world([0.185, 0.195, 0.175], [0.185, 0.195, 0.175])));
    assert.deepEqual([inNoise[0].verdict, inNoise[0].passed, inNoise[0].total], ['partly', 5, 6]);
    assert.deepEqual([inNoise[1].verdict, inNoise[1].passed, inNoise[1].total], ['partly', 2, 3]);
    assert.match(inNoise[0].rationale, /within noise/);
    const beyond = V(table(world([0.18, 0.19, 0.17], [0.18, 0.19, 0.17])));
    assert.deepEqual([beyond[0].passed, beyond[1].passed], [6, 3]);
  });

  it('copycat tolerance is max(track tolerance, 2 standard errors of the difference)', () => {
    const shift = (errs: number[]) => goodWorld().map((f) => (f.family === 'copycat' ? { ...f, errors: errs } : f));
    // scratch-pruned Fisher at B1: mean 0.11, sd 0.01, n 3. Copycat 3 pp worse with sd 0.01:
    // SE of difference = sqrt(2 · 0.01² / 3) = 0.00816, 2 SE = 1.63 pp < 3 pp -> fails
    assert.equal(V(table(shift([0.14, 0.15, 0.13])))[2].verdict, 'not reproduced');
    // 1.5 pp worse: within 2 SE (1.63 pp) -> passes although above the 1 pp floor
    assert.equal(V(table(shift([0.125, 0.135, 0.115])))[2].verdict, 'reproduced');
    // same 1.5 pp with zero spread in the copycat: 2 SE = 2 · 0.01/sqrt(3) = 1.15 pp < 1.5 -> fails
    assert.equal(V(table(shift([0.125, 0.125, 0.125])))[2].verdict, 'not reproduced');
  });

  it('accepts the danfojs results frame as well as plain rows', () => {
    const rows = table(goodWorld()).map((r) => ({ ...r, key: 'k' })) as unknown as rvp.RvpRow[];
    const fromFrame = V(rvp.resultsFrame(rows));
    const fromRows = V(rows as unknown as Row[]);
    assert.deepEqual(fromFrame.map((v) => v.gates), fromRows.map((v) => v.gates));
    assert.deepEqual(fromFrame.map((v) => [v.verdict, v.passed, v.total]), fromRows.map((v) => [v.verdict, v.passed, v.total]));
  });

  it('timing verdict: per variant and batch, reduced must be faster in every matched pair; MAC ratio reported', () => {
    // 8 timed repeats within ±2 % of the median: pairs 2× apart are separated completely
    const around = (m: number) => [0.98, 0.985, 0.99, 0.995, 1.005, 1.01, 1.015, 1.02].map((f) => f * m);
    const t = (variant: string, batchSize: number, family: string, budget: number, params: number, macs: number, medianMs: number) =>
      ({ label: `${family}@${budget}`, variant, backend: 'wasm', batchSize, medianMs, p25Ms: medianMs, p75Ms: medianMs, msPerExample: medianMs / batchSize, warmup: 1, repeats: 8, samples: around(medianMs), family, criterion: family === 'pruned-tuned' ? 'fisher' : null, budget, params, macs, interior: [] }) as rvp.RvpTimingRow;
    const rows = [
      // variant A: reduced faster in both pairs; pruned nets carry 2× the MACs
      t('A', 1, 'pruned-tuned', B1, 99000, 2e6, 10), t('A', 1, 'reduced-bottleneck', B1, 101000, 1e6, 5),
      t('A', 1, 'pruned-tuned', B2, 59500, 1.2e6, 6), t('A', 1, 'reduced-bottleneck', B2, 60500, 0.6e6, 3),
      // variant B: one pair slower; an unmatched reduced net (params 30 % off) is ignored
      t('B', 1, 'pruned-tuned', B1, 99000, 2e6, 10), t('B', 1, 'reduced-bottleneck', B1, 101000, 1e6, 12),
      t('B', 1, 'pruned-tuned', B2, 59500, 1.2e6, 6), t('B', 1, 'reduced-bottleneck', B2, 60500, 0.6e6, 3),
      t('B', 1, 'reduced-width', B2, 80000, 0.6e6, 100),
    ];
    const v = rvp.verdictReducedFaster(rows);
    assert.equal(v.total, 2);
    assert.equal(v.passed, 1);
    assert.equal(v.verdict, 'partly');
    assert.equal(v.numbers['MACs Fisher-pruned / reduced at matched params (geometric mean)'], '2.00×');
    assert.match(String(v.numbers['B, batch 1: latency Fisher-pruned / reduced (geometric mean, range)']), /^1\.29× \(0\.83–2\.00\)$/);
    assert.equal(rvp.verdictReducedFaster([]).total, 0);
    // one check per criterion: L1-pruned nets that are faster than the reduced ones fail only their own check
    const l1 = (variant: string, budget: number, params: number, macs: number, ms: number) => ({ ...t(variant, 1, 'pruned-tuned', budget, params, macs, ms), criterion: 'l1', label: `l1@${budget}` }) as rvp.RvpTimingRow;
    const both = rvp.verdictReducedFaster([...rows, l1('A', B1, 100000, 0.25e6, 1), l1('A', B2, 60000, 0.15e6, 9)]);
    assert.deepEqual(both.checks.map((c) => [c.label.replace(/ in .*/, ''), c.passed]), [
      ['A, batch 1: reduced faster than Fisher-pruned', true], ['A, batch 1: reduced faster than L1-pruned', false], ['B, batch 1: reduced faster than Fisher-pruned', false],
    ]);
    assert.match(both.checks[1].label, /1\/2 matched pairs \(1 significantly slower\)$/);
    assert.equal(both.numbers['MACs L1-pruned / reduced at matched params (geometric mean)'], '0.25×');
    // a pair whose repeats interleave shows no significant difference: not faster, whichever median is lower
    const close = [{ ...rows[0], samples: [9, 9.5, 10, 10.5, 11, 11.5, 12, 12.5] }, { ...rows[1], samples: [8.8, 9.3, 9.8, 10.3, 10.8, 11.3, 11.8, 12.3] }, rows[2], rows[3]];
    const tied = rvp.verdictReducedFaster(close);
    assert.deepEqual([tied.passed, tied.total], [0, 1]);
    assert.equal(tied.checks[0].label, 'A, batch 1: reduced faster than Fisher-pruned in 1/2 matched pairs (1 without a significant difference)');
    assert.throws(() => rvp.verdictReducedFaster([{ ...rows[0], samples: [] }, rows[1]]), /no timed repeats/);
  });

  it('latency rule: exact one-sided Mann–Whitney per pair, Holm over the claim\'s pairs', () => {
    const s = (xs: number[]) => ({ samples: xs });
    const lo = [1, 2, 3, 4, 5, 6, 7, 8], hi = lo.map((v) => v + 100);
    assert.deepEqual(rvp.latencyOrders([{ reduced: s(lo), pruned: s(hi) }, { reduced: s(hi), pruned: s(lo) }, { reduced: s(lo), pruned: s(lo) }]).map((r) => r.order),
      ['faster', 'slower', 'no difference']);
    // one pair whose one-sided p lies between alpha/4 and alpha: faster alone, not once three null pairs join its family
    const x = [1, 2, 3, 5, 6, 8, 10, 12, 14, 16], y = [4, 7, 9, 11, 13, 15, 17, 18, 19, 20];
    const p = mannWhitney(x, y).pLess;
    assert.ok(p > rvp.LATENCY_ALPHA / 4 && p < rvp.LATENCY_ALPHA, `p = ${p}`);
    assert.equal(rvp.latencyOrders([{ reduced: s(x), pruned: s(y) }])[0].order, 'faster');
    const nul = { reduced: s(lo), pruned: s(lo) };
    assert.equal(rvp.latencyOrders([{ reduced: s(x), pruned: s(y) }, nul, nul, nul])[0].order, 'no difference');
  });

  it('latency power gate: too few repeats for the number of pairs makes the claim inconclusive, not "not reproduced"', () => {
    // 5 repeats each: the best a pair can reach is 1 / C(10, 5) = 1/252, above 0.05 / 20 and below 0.05 / 8
    assert.deepEqual([rvp.latencyPowerGate(new Array(20).fill(1 / 252), 5).passed, rvp.latencyPowerGate(new Array(8).fill(1 / 252), 5).passed], [false, true]);
    assert.match(rvp.latencyPowerGate(new Array(20).fill(1 / 252), 5).detail, /no pair could test as faster/);
    const r5 = (family: string, budget: number, params: number, ms: number, criterion: string | null) => ({ label: `${family}@${budget}@${criterion}`, variant: 'A', backend: 'wasm', batchSize: 1, medianMs: ms, p25Ms: ms, p75Ms: ms,
      msPerExample: ms, warmup: 1, repeats: 5, samples: [0.98, 0.99, 1, 1.01, 1.02].map((f) => f * ms), family, criterion, budget, params, macs: 1e6, interior: [] }) as rvp.RvpTimingRow;
    // 20 completely separated pairs (reduced 2× faster) with 5 repeats each: no pair can reach significance
    const rows: rvp.RvpTimingRow[] = [];
    for (let b = 0; b < 10; b++) for (const crit of ['fisher', 'l1']) rows.push(r5('pruned-tuned', 1000 * (b + 1), 1000 * (b + 1), 10, crit));
    for (let b = 0; b < 10; b++) rows.push(r5('reduced-width', 1000 * (b + 1), 1000 * (b + 1), 5, null));
    const weak = rvp.verdictReducedFaster(rows);
    assert.equal(weak.verdict, 'inconclusive');
    assert.equal(weak.passed, 0);
    // the same nets timed 8 times each: every pair is significant and the claim is reproduced
    const strong = rvp.verdictReducedFaster(rows.map((r) => ({ ...r, repeats: 8, samples: [0.97, 0.98, 0.99, 1, 1.005, 1.01, 1.02, 1.03].map((f) => f * r.medianMs) })));
    assert.deepEqual([strong.verdict, strong.passed, strong.total], ['reproduced', 2, 2]);
  });

  it('gates: an undertrained dense reference makes every trained claim inconclusive, with both numbers; speed is not gated', () => {
    // base mean error 0.10 vs converged 0.05: gap 5 pp > 2 pp margin
    const under = table(goodWorld(), [REF[0], { ...REF[1], errors: [0.05] }]);
    const vs = V(under);
    assert.deepEqual(vs.slice(0, 3).map((v) => v.verdict), ['inconclusive', 'inconclusive', 'inconclusive']);
    assert.match(vs[0].rationale, /dense reference 90(\.00)? % \(3 seeds\) vs converged 95(\.00)? % \(1 seed\): gap 5(\.00)? points, allowed 2(\.00)?/);
    assert.equal(vs[3].gates, 'no training');
    // the checks are still computed (6 of 6 pass), for information
    assert.deepEqual([vs[0].passed, vs[0].total], [6, 6]);
    // gap 1.5 pp: within the margin, the verdict comes from the checks
    assert.equal(V(table(goodWorld(), [REF[0], { ...REF[1], errors: [0.085] }]))[0].verdict, 'reproduced');
    // no converged run at all: the gate fails (the comparison cannot be gated)
    assert.equal(V(table(goodWorld(), [REF[0]]))[0].verdict, 'inconclusive');
  });

  it('gates: a from-scratch arm still improving at its last epoch fails only the claims that compare it', () => {
    // reduced-width gains 3 pp in its last epoch (> 1 pp): claim 1 compares it, claims 2 and 3 do not
    const still = goodWorld().map((f) => (f.family === 'reduced-width' ? { ...f, history: [0.5, 0.84, 0.87] } : f));
    const vs = V(table(still));
    assert.deepEqual(vs.slice(0, 3).map((v) => v.verdict), ['inconclusive', 'reproduced', 'reproduced']);
    assert.match(vs[0].summary, /still improving.*reduced: width k/);
  });

  it('gates: a diverged run is counted, never averaged in, and fails the divergence gate of its claim', () => {
    const world = [...goodWorld(), { family: 'scratch-pruned', criterion: 'fisher', budget: B1, params: 99000, errors: [0.9], outcome: 'diverged' }];
    const rows = table(world);
    const g = rvp.summarize(rows).find((x) => x.family === 'scratch-pruned' && x.criterion === 'fisher' && x.budget === B1)!;
    assert.equal(g.n, 3);
    assert.ok(Math.abs(g.errorMean - 0.11) < 1e-12, 'mean over the three finished runs only');
    const vs = V(rows);
    assert.equal(vs[1].verdict, 'inconclusive');
    assert.match(vs[1].summary, /diverged runs beyond 0 %: pruned arch\. from scratch \(Fisher\) 1\/7/);
    assert.equal(vs[0].verdict, 'reproduced', 'claim 1 compares no scratch-pruned net');
  });

  it('Scratch-B: epochs × MACs(base)/MACs(member), between the base epochs and the cap; both verdicts reported', () => {
    assert.equal(rvp.scratchBEpochs(10, 4e6, 1e6, 4), 40);
    assert.equal(rvp.scratchBEpochs(10, 4e6, 2.5e6, 4), 16);
    assert.equal(rvp.scratchBEpochs(10, 4e6, 0.5e6, 4), 40, 'capped at 4x');
    assert.equal(rvp.scratchBEpochs(10, 4e6, 5e6, 4), 10, 'never fewer epochs than Scratch-E');
    assert.throws(() => rvp.scratchBEpochs(0, 1, 1, 4), /positive integer/);
    // Scratch-B width nets worse than pruned+tuned while Scratch-E nets are better: the claim depends on the protocol
    const world = [...goodWorld(), { family: 'scratchB-width', criterion: null, budget: B2, params: 61000, errors: [0.3, 0.31, 0.29] }];
    const v = V(table(world))[0];
    assert.equal(v.verdict, 'reproduced', 'Scratch-E decides');
    assert.equal(v.numbers['verdict from the checks with Scratch-E nets / with Scratch-B width nets'], 'reproduced / not reproduced');
    assert.match(v.rationale, /depends on the compute protocol/);
    // the plan trains the Scratch-B members for that many epochs, and the converged runs on every seed
    const p = rvp.plan('quick');
    const jobs = rvp.stage1Jobs(p, [2, 1]);
    const conv = jobs.filter((j) => j.meta.family === 'dense-converged');
    assert.deepEqual(conv.map((c) => [c.config.seed, c.config.initSeed, c.config.train.epochs]), [[2, 2, p.gate.convergedEpochs], [1, 1, p.gate.convergedEpochs]]);
    for (const c of conv) {
      const base = jobs.find((j) => j.meta.family === 'base' && j.meta.seed === c.config.seed)!;
      assert.deepEqual({ ...c.config, train: { ...c.config.train, epochs: p.train.epochs }, keepState: true }, base.config, 'converged = base config, longer');
    }
    for (const m of p.reduced.filter((x) => x.family === "reduced-width" && p.scratchB.budgets.includes(x.budget))) {
      const j = jobs.find((x) => x.meta.family === 'scratchB-width' && x.meta.budget === m.budget)!;
      assert.equal(j.config.train.epochs, rvp.scratchBEpochs(p.train.epochs, p.baseMacs, m.macs, p.scratchB.maxEpochFactor));
    }
  });

  it('labelRange merges labels that differ only in numbers', () => {
    assert.equal(rvp.labelRange(['Fisher P&T, 112 ch. removed', 'Fisher P&T, 118 ch. removed', 'Fisher P&T, 115 ch. removed']), 'Fisher P&T, 112–118 ch. removed');
    assert.equal(rvp.labelRange(['copycat m=1.20 @ 104.9k', 'copycat m=1.25 @ 104.9k']), 'copycat m=1.20–1.25 @ 104.9k');
    assert.equal(rvp.labelRange(['a 1', 'b 2']), null);
  });
});

// ------------------------------------------------------------------------------------------

describe('reduced-vs-pruned: plan and matched reduced networks', () => {
  before(async () => { await initBackend(); });

  it('standard plan: WRN-16-0.5 with the parameters of the built net (WRN-16-1: the brief\'s 174,778); budgets are fractions of it; checkpoints cover budgets and depth nets', () => {
    const p = rvp.plan('standard');
    assert.equal(wrnCost({ arch: 'wrn', depth: 16, widthFactor: 1 }, { inputShape: [28, 28, 1], numClasses: 10 }).params, 174778);
    assert.deepEqual(p.base, { depth: 16, widthFactor: 0.5 });
    const net = rvp.buildTrainNet({ data: p.data, model: { ...p.base, interior: [] }, replay: [], train: p.train, initSeed: 0, keepState: false, evalEveryEpoch: false, seed: 0 }, { inputShape: p.inputShape, numClasses: p.numClasses });
    try { assert.equal(p.baseParams, countParams(net)); } finally { net.dispose(); }
    // prunable interior channels: one interior layer per block, (16 - 4) / 6 = 2 blocks per stage, stage widths 8, 16, 32
    assert.equal(p.baseChannels, 2 * (8 + 16 + 32));
    assert.deepEqual(p.budgets, p.budgetFractions.map((f) => Math.round(f * p.baseParams)).sort((a, b) => b - a));
    assert.deepEqual([...new Set(p.reduced.map((m) => m.family))].sort(), ['reduced-bottleneck', 'reduced-depth', 'reduced-width'], 'every family has a member at every budget');
    assert.deepEqual(p.notes.filter((n) => n.startsWith('no ')), []);
    for (const m of p.reduced) assert.ok(p.checkpointParams.includes(m.budget), `${m.label} budget ${m.budget} is a checkpoint target`);
    for (const b of p.budgets) assert.ok(p.checkpointParams.includes(b));
    assert.deepEqual(p.checkpointParams, [...p.checkpointParams].sort((a, b) => b - a));
    assert.ok(p.budgets.includes(p.templateBudget));
    assert.throws(() => rvp.plan('huge' as never), /unknown budget 'huge'/);
    assert.throws(() => rvp.plan('smoke', { dataset: 'svhn' }), /dataset must be/);
  });

  it('augments CIFAR-10 as the authors did (reflect-pad crop + flip to train, zero-pad in the prune script) and nothing else', () => {
    const c = rvp.plan('paper', { dataset: 'cifar10' });
    assert.deepEqual(c.train.augment, { crop: { pad: 4, fill: 'reflect' }, flip: true });
    assert.deepEqual(c.prune.augment, { crop: { pad: 4, fill: 'zero' }, flip: true });
    assert.deepEqual(rvp.pruneConfigs(c, [0])[0].prune.augment, { crop: { pad: 4, fill: 'zero' }, flip: true });
    const f = rvp.plan('quick');
    assert.equal(f.train.augment, undefined);
    assert.equal(f.prune.augment, undefined);
    assert.ok(!('augment' in rvp.pruneConfigs(f, [0])[0].prune), 'no augment key: Fashion-MNIST cache keys are unchanged');
  });

  it('every reduced member, as built, has the parameter count the plan states, within tolerance of its budget', () => {
    const p = rvp.plan('quick');
    assert.deepEqual([...new Set(p.reduced.map((m) => m.family))].sort(), ['reduced-bottleneck', 'reduced-depth', 'reduced-width']);
    for (const m of p.reduced) {
      const cfg = { config: { data: p.data, model: m.model, replay: [], train: p.train, initSeed: 0, keepState: false, evalEveryEpoch: false, seed: 0 } };
      const net = rvp.buildTrainNet(cfg.config, { inputShape: p.inputShape, numClasses: p.numClasses });
      try {
        assert.equal(countParams(net), m.params, m.label);
      } finally { net.dispose(); }
      assert.ok(Math.abs(m.params - m.budget) <= p.matchTolerance * m.budget, `${m.label}: ${m.params} vs ${m.budget}`);
    }
  });

  it('chooseReduced picks, per budget, the grid member closest in parameters (brute force over the grid)', () => {
    const base = { depth: 16, widthFactor: 1 };
    const shape = { inputShape: [28, 28, 1] as [number, number, number], numClasses: 10 };
    const budget = 50000;
    const { members } = rvp.chooseReduced(base, [budget], [], shape, 0.5);
    const bz = members.find((m) => m.family === 'reduced-bottleneck')!;
    let best = Infinity;
    for (let i = 1; i < 64; i++) best = Math.min(best, Math.abs(wrnCost({ arch: 'wrn', depth: 16, widthFactor: 1, bottleneck: i / 64 }, shape).params - budget));
    assert.equal(Math.abs(bz.params - budget), best);
    const bw = members.find((m) => m.family === 'reduced-width')!;
    best = Infinity;
    for (let j = 1; j < 32; j++) best = Math.min(best, Math.abs(wrnCost({ arch: 'wrn', depth: 16, widthFactor: j / 32 }, shape).params - budget));
    assert.equal(Math.abs(bw.params - budget), best);
    // a budget no member can reach within the tolerance is reported, not silently matched
    const far = rvp.chooseReduced(base, [1000], [], shape, 0.05);
    assert.equal(far.members.length, 0);
    assert.equal(far.notes.length, 2);
  });
});

// ------------------------------------------------------------------------------------------

describe('reduced-vs-pruned: tasks and the whole study at a tiny size', function () {
  this.timeout(180000);
  useTempResults('rvp-test-');
  before(async () => { await initBackend(); });

  /** Smoke plan shrunk further: 128 training examples, 64 test, two budgets, no depth family. */
  function tinyPlan(): rvp.RvpPlan {
    const p = rvp.plan('smoke', { workers: 0 });
    p.data = { ...p.data, trainLimit: 128, testLimit: 64 };
    p.budgets = [Math.round(0.8 * p.baseParams), Math.round(0.65 * p.baseParams)];
    p.templateBudget = p.budgets[1];
    p.reduced = rvp.chooseReduced(p.base, p.budgets, [], { inputShape: p.inputShape, numClasses: p.numClasses }, p.matchTolerance).members;
    p.checkpointParams = [Math.round(0.9 * p.baseParams), ...p.budgets];
    return p;
  }

  it('the whole study runs, builds consistent rows, and a rerun is fully cached with identical numbers', async () => {
    const p = tinyPlan();
    const run = await rvp.runStudy(p, [0], { workers: 0 });
    assert.deepEqual(run.failures, []);
    const fam = (f: string, c: string | null = null) => run.rows.filter((r) => r.family === f && (c === null || r.criterion === c));
    assert.equal(fam('base').length, 1);
    assert.equal(fam('reduced-bottleneck').length + fam('reduced-width').length, p.reduced.length);
    for (const crit of ['fisher', 'l1']) {
      const pr = run.prune.find((x) => x.config.prune.criterion === crit)!.result;
      // the stored base was reloaded exactly: same test error as when it was trained
      assert.equal(pr.base.reloadedTestError, pr.base.testError);
      assert.equal(pr.base.testError, fam('base')[0].testError);
      // checkpoints: live params <= their budgets; kept channels = total - prunes; params = built compressed net
      for (const c of pr.checkpoints) {
        for (const t of c.targets) assert.ok(c.params <= t);
        assert.equal(c.interior.reduce((a, b) => a + b, 0), p.baseChannels - c.prunes);
        const net = buildModel({ arch: 'wrn', depth: p.base.depth, widthFactor: p.base.widthFactor, interior: c.interior }, { inputShape: p.inputShape });
        try { assert.equal(countParams(net), c.params); } finally { net.dispose(); }
      }
      assert.equal(pr.history.length, pr.checkpoints[pr.checkpoints.length - 1].prunes);
      // scratch-pruned nets are the pruned-and-tuned architectures: same params and interior per budget
      for (const s of fam('scratch-pruned', crit)) {
        const t = fam('pruned-tuned', crit).find((r) => r.budget === s.budget)!;
        assert.equal(s.params, t.params);
        assert.deepEqual(s.interior, t.interior);
        assert.ok(t.steps > s.steps, 'pruned-and-tuned nets had base training plus fine-tuning');
      }
      assert.equal(fam('scratch-pruned', crit).length, p.budgets.length);
    }
    // copycat at the non-template budget, within tolerance, its profile a scaled Fisher template
    const cc = fam('copycat');
    assert.equal(cc.length, 1);
    assert.equal(cc[0].budget, p.budgets[0]);
    assert.ok(Math.abs(cc[0].params - p.budgets[0]) <= p.matchTolerance * p.budgets[0]);
    for (const r of run.rows) assert.ok(r.testError >= 0 && r.testError <= 1 && Number.isFinite(r.testError));

    const again = await rvp.runStudy(p, [0], { workers: 0 });
    for (const st of Object.values(again.computed)) assert.equal(st.computed, 0);
    const strip = (rows: rvp.RvpRow[]) => rows.map((r) => [r.family, r.criterion, r.budget, r.params, r.testError]);
    assert.deepEqual(strip(again.rows), strip(run.rows));
    // the verdicts run on the real table (whatever they say at this size)
    const vs = rvp.verdicts(run.rows, [], { gateSettings: rvp.gateSettings(p) });
    assert.equal(vs.length, 4);
    for (const v of vs.slice(0, 3)) assert.ok(v.total > 0, `${v.id} has checks`);
  });

  it('rvp-train is deterministic: the same config gives the same error and weights', async () => {
    const p = tinyPlan();
    const cfg: rvp.RvpTrainConfig = { data: p.data, model: { depth: 16, widthFactor: 0.5, interior: [] }, replay: [], train: { ...p.train, epochs: 1 }, initSeed: 5, keepState: true, evalEveryEpoch: true, seed: 5 };
    const a = await rvp.runRvpTrain(cfg), b = await rvp.runRvpTrain(cfg);
    assert.equal(a.testError, b.testError);
    assert.deepEqual(a.state, b.state);
    // WRN-16-0.5 on 28×28×1, by hand: stem 144; blocks 1904, 1184, 3632, 4672, 14432, 18560; final BN 64; fc 330
    assert.equal(a.params, 44922);
  });

  it('each task\'s module, loaded alone in a fresh process as a worker loads it, registers the task and exports its run function', function () {
    this.timeout(60000);
    // a worker receives the spec without its schema and requires spec.module; that module must register the same task
    const engine = path.join(path.dirname(require.resolve('prune-at-init')), 'engine');
    for (const task of [rvp.RVP_TRAIN_TASK, rvp.RVP_PRUNE_TASK]) {
      const script = `const e = require(${JSON.stringify(engine)}); const m = require(${JSON.stringify(task.module)}); const t = e.getTask(${JSON.stringify(task.name)});
        process.stdout.write(JSON.stringify({ fn: typeof m[${JSON.stringify(task.export)}], module: t.module, export: t.export, defaults: t.defaults, schema: !!t.schema }));`;
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const got = JSON.parse(r.stdout);
      assert.deepEqual(got, { fn: 'function', module: task.module, export: task.export, defaults: JSON.parse(JSON.stringify(task.defaults)), schema: true });
    }
  });

  it('replay builds the compressed pruned architecture from a fresh full-width init', () => {
    const cfg: rvp.RvpTrainConfig = {
      data: { name: 'fashion-mnist', trainLimit: 0, testLimit: 0 }, model: { depth: 16, widthFactor: 0.5, interior: [] },
      replay: [['s1b1/mid', 0], ['s1b1/mid', 3], ['s3b2/mid', 7]], train: rvp.RVP_TRAIN_DEFAULTS.train, initSeed: 3, keepState: false, evalEveryEpoch: false, seed: 0,
    };
    const net = rvp.buildTrainNet(cfg, { inputShape: [28, 28, 1], numClasses: 10 });
    const full = buildModel({ arch: 'wrn', depth: 16, widthFactor: 0.5 }, { seed: 3 });
    try {
      const sizes = Object.fromEntries(net.unitGroups.map((g) => [g.name, g.size]));
      assert.equal(sizes['s1b1/mid'], 6);
      assert.equal(sizes['s3b2/mid'], 31);
      // kept filters are the full net's fresh init: conv1 of s1b1 keeps out-channels 1,2,4..7 ([3,3,16,8] layout)
      const w = net.getWeights().get('s1b1/conv1/kernel')!, wf = full.getWeights().get('s1b1/conv1/kernel')!;
      const keep = [1, 2, 4, 5, 6, 7];
      for (let s = 0; s < 9 * 16; s++) keep.forEach((c, j) => assert.equal(w[s * 6 + j], wf[s * 8 + c]));
      assert.throws(() => rvp.buildTrainNet({ ...cfg, model: { ...cfg.model, interior: [1, 1, 1, 1, 1, 1] } }, { inputShape: [28, 28, 1], numClasses: 10 }), /replay needs model.interior = \[\]/);
    } finally { net.dispose(); full.dispose(); }
  });
});

// ------------------------------------------------------------------------------------------

describe('timing', () => {
  before(async () => { await initBackend(); });

  it('timeFn runs warm-ups untimed and reports the median of the timed repeats (fake clock)', () => {
    // each call advances the clock by the next duration; the first 2 calls are warm-ups
    const durations = [100, 100, 7, 1, 3, 9, 5];
    let clock = 0, calls = 0;
    const s = timeFn(() => { clock += durations[calls++]; }, { warmup: 2, repeats: 5, now: () => clock });
    assert.equal(calls, 7);
    assert.deepEqual(s.samples, [7, 1, 3, 9, 5]);
    assert.equal(s.medianMs, 5);
    assert.equal(s.p25Ms, 3);
    assert.equal(s.p75Ms, 7);
    assert.equal(s.minMs, 1);
    assert.equal(s.meanMs, 5);
    assert.throws(() => timeFn(() => undefined, { repeats: 0 }), /repeats must be an integer >= 1/);
  });

  it('timeArchitectures interleaves the nets: warm-ups, then rounds that time a chunk of every (net, batch) in turn', async () => {
    assert.deepEqual([roundChunks(10, 5), roundChunks(12, 5), roundChunks(3, 5), roundChunks(1, 5)], [[2, 2, 2, 2, 2], [3, 3, 2, 2, 2], [1, 1, 1], [1]]);
    const calls: string[] = [];
    const forward = Net.prototype.forward;
    Net.prototype.forward = function (this: Net, ...a: Parameters<Net['forward']>) { calls.push(`${this.name}:${a[0].shape[0]}`); return forward.apply(this, a); };
    try {
      const jobs = [{ label: 'A', config: { arch: 'wrn', depth: 10, widthFactor: 0.25 } as WrnConfig, inputShape: [8, 8, 1] as [number, number, number], numClasses: 3 },
        { label: 'B', config: { arch: 'ffnn', hidden: [4], activation: 'relu' } as ModelConfig, inputShape: [8, 8, 1] as [number, number, number], numClasses: 3 }];
      const n0 = tf.memory().numTensors;
      const rows = await timeArchitectures(jobs, { variants: [availableBackendVariants()[0]], batchSizes: [1, 2], warmup: 2, repeats: 4 });
      assert.equal(tf.memory().numTensors, n0);
      assert.deepEqual(rows.map((r) => [r.label, r.batchSize, r.repeats, r.warmup]), [['A', 1, 4, 2], ['A', 2, 4, 2], ['B', 1, 4, 2], ['B', 2, 4, 2]]);
      const [a, b] = [...new Set(calls.map((c) => c.split(':')[0]))];
      const cell = (net: string, batch: number, n: number) => Array(n).fill(`${net}:${batch}`);
      const round = (n: number) => [...cell(a, 1, n), ...cell(a, 2, n), ...cell(b, 1, n), ...cell(b, 2, n)];
      // warm-up (2 runs per cell), then 4 rounds of one re-warming run + one timed run per cell
      assert.deepEqual(calls, [...round(2), ...round(2), ...round(2), ...round(2), ...round(2)]);
    } finally {
      Net.prototype.forward = forward;
    }
  });

  it('timeInference leaves no tensors behind; switching backend variants restores the previous one', async () => {
    const before = tf.getBackend(), kernels = extraKernelInfo();
    const variants = availableBackendVariants();
    assert.ok(variants.length >= 1);
    const other = variants.find((v) => v.backend !== before) ?? variants[variants.length - 1];
    const seen = await withBackendVariant(other, () => {
      const net = buildModel({ arch: 'wrn', depth: 10, widthFactor: 0.5 } as WrnConfig, { seed: 0 });
      try {
        const n0 = tf.memory().numTensors;
        const s = timeInference(net, { batchSize: 2, warmup: 1, repeats: 3 });
        assert.equal(tf.memory().numTensors, n0);
        assert.equal(s.samples.length, 3);
        assert.ok(s.medianMs > 0);
      } finally { net.dispose(); }
      return tf.getBackend();
    });
    assert.equal(seen, other.backend);
    assert.equal(tf.getBackend(), before);
    assert.deepEqual(extraKernelInfo(), kernels);
  });
});
