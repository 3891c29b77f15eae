/**
 * One pruning contract (issue #15): scores in, mask out through the one selection routine. The
 * truth here is the OLD code (test/support/legacy-prune.ts, frozen copies of the pre-refactor
 * functions): every method, scope and sparsity must give bit-identical masks, selection statistics
 * and (SBP-SR) rescaled weights; every entry point (computeMask, pruneAtInit, pruneWithAblation)
 * must agree for every registered method.
 */
import { strict as assert } from 'assert';
import {
  initBackend, buildModel, computeMask, pruneAtInit, pruneWithAblation, scoreMethods, scoresToMask, synflowPrune,
  lowestLiveUnits, Mask, Net, Rng, Dataset, Scores, MaskSelection,
} from 'prune-at-init';
import { layerEps, relativeChanges } from 'prune-at-init/dist/early-pruning/select';
import {
  legacyComputeMask, legacyRescaledWeights, legacySynflowPrune, legacyKeepTop, legacyScoresToMask, legacyDissipationScores,
  legacyDissipationSum, legacyChannelsToRemove, LegacySelection, KeepCounts,
} from './support/legacy-prune';

before(async () => { await initBackend(); });

function synthetic(shape: [number, number, number], classes: number, n: number, seed: number): Dataset {
  const rng = new Rng(seed, 'synthetic');
  const d = shape[0] * shape[1] * shape[2];
  const split = () => ({ x: rng.normalArray(n * d), y: Int32Array.from({ length: n }, (_, i) => i % classes), n });
  return { name: 'synthetic', inputShape: shape, numClasses: classes, train: split(), test: split(), source: 'test', normalization: { mean: [0], std: [1] } };
}

const SIGMA_W = 1.3;
const NETS: Record<string, { build: () => Net; data: Dataset }> = {
  ffnn: {
    build: () => buildModel({ arch: 'ffnn', hidden: [24, 16], activation: 'tanh', inputShape: [1, 12, 1], numClasses: 4, init: { scheme: 'explicit', sigmaW: SIGMA_W, sigmaB: 0.1 } }, { seed: 7 }),
    data: synthetic([1, 12, 1], 4, 60, 1),
  },
  cnn: {
    build: () => buildModel({ arch: 'cnn', channels: [4, 6], activation: 'relu', inputShape: [6, 6, 2], numClasses: 3 }, { seed: 8 }),
    data: synthetic([6, 6, 2], 3, 45, 2),
  },
};
const SPARSITIES = [0.5, 0.9, 0.99];
const SCOPES = ['global', 'layerwise'] as const;
const ROUNDS = 12; // SynFlow rounds (kept small for time; the schedule code is the same for any count)

function sameMask(a: Mask, b: Mask, what: string): void {
  assert.deepEqual(a.names, b.names, `${what}: layer names`);
  for (const n of a.names) assert.ok(Buffer.from(a.get(n)).equals(Buffer.from(b.get(n))), `${what}: mask of ${n} differs`);
}

function sameSelection(a: MaskSelection, b: LegacySelection, what: string, o: { zeroScores?: boolean } = {}): void {
  sameMask(a.mask, b.mask, what);
  assert.deepEqual(a.threshold, b.threshold, `${what}: threshold`);
  assert.equal(a.tiesBroken, b.tiesBroken, `${what}: tiesBroken`);
  if (o.zeroScores !== false) assert.equal(a.zeroScores, b.zeroScores, `${what}: zeroScores`);
  assert.equal(a.nanScores, b.nanScores, `${what}: nanScores`);
}

function sameWeights(a: Map<string, Float32Array>, b: Map<string, Float32Array>, names: string[], what: string): void {
  for (const n of names) assert.ok(Buffer.from(a.get(n)!.buffer).equals(Buffer.from(b.get(n)!.buffer)), `${what}: weights of ${n} differ`);
}

/** The note the old pruneAtInit returned (stored in cached experiment results). */
const legacyNote = (method: string) => (method === 'sbp-sr' ? 'SNIP mask installed and kept weights rescaled to squared norm sigma_w^2 per unit (fanIn)' : `${method} mask installed`);

describe('one pruning contract: new entry points = old code, bit for bit', function () {
  this.timeout(600000);

  it('every registered method has a legacy copy to be checked against', () => {
    assert.deepEqual(scoreMethods(), ['grasp', 'magnitude', 'random', 'sbp-sr', 'snip', 'synflow']);
  });

  for (const [netName, spec] of Object.entries(NETS)) {
    for (const method of ['random', 'magnitude', 'snip', 'grasp', 'synflow', 'sbp-sr']) {
      it(`${netName} ${method}: computeMask, pruneAtInit and pruneWithAblation('none') = old computeMask/pruneAtInit, both scopes, s = ${SPARSITIES}`, () => {
        for (const scope of SCOPES) {
          for (const sparsity of SPARSITIES) {
            const what = `${netName} ${method} ${scope} ${sparsity}`;
            const seed = 3;
            const options = method === 'synflow' ? { rounds: ROUNDS } : {};
            const o = { method, sparsity, scope, data: spec.data, seed, options, sigmaW: SIGMA_W };
            const net = spec.build();
            const w0 = net.getWeights();
            const old = legacyComputeMask(net, { method, sparsity, scope, data: spec.data, seed, rounds: ROUNDS });
            const res = computeMask(net, o);
            sameSelection(res.selection, old.selection, `computeMask ${what}`);
            sameWeights(net.getWeights(), w0, [...w0.keys()], `computeMask leaves the net alone (${what})`);
            assert.ok(!net.hasMask(), 'computeMask installs nothing');
            // the old pruneAtInit result: mask installed, and for sbp-sr the rescaled kept weights
            const oldWeights = method === 'sbp-sr' ? legacyRescaledWeights(net, old.selection.mask, SIGMA_W) : null;
            if (oldWeights) sameWeights(res.weights!, oldWeights, [...oldWeights.keys()], `computeMask sbp-sr weights ${what}`);
            else assert.equal(res.weights, null);
            assert.equal(res.note, legacyNote(method));
            for (const entry of ['pruneAtInit', 'pruneWithAblation'] as const) {
              const fresh = spec.build();
              const r = entry === 'pruneAtInit' ? pruneAtInit(fresh, o) : pruneWithAblation(fresh, { ...o, ablation: 'none' });
              sameSelection(r.selection, old.selection, `${entry} ${what}`);
              sameMask(Mask.fromNet(fresh), old.selection.mask, `${entry} installed mask ${what}`);
              const installed = fresh.getWeights();
              const expect = new Map(net.prunable.map((p) => {
                const m = old.selection.mask.get(p.name);
                // installing a mask multiplies the raw weights by it (so a pruned negative weight becomes -0)
                return [p.name, oldWeights ? oldWeights.get(p.name)! : w0.get(p.name)!.map((v, i) => v * m[i])];
              }));
              sameWeights(installed, expect, [...expect.keys()], `${entry} installed weights ${what}`);
              assert.equal(r.note, legacyNote(method));
              fresh.dispose();
            }
            net.dispose();
          }
        }
      });
    }
  }

  it('sbp-sr perPosition on the CNN: computeMask weights = pruneAtInit installed weights = the old per-(position, unit) rescaling', () => {
    const spec = NETS.cnn;
    for (const sparsity of [0.5, 0.9]) {
      const net = spec.build();
      const o = { method: 'sbp-sr', sparsity, data: spec.data, seed: 6, sigmaW: SIGMA_W, rescaleVariant: 'perPosition' as const };
      const old = legacyComputeMask(net, o);
      const want = legacyRescaledWeights(net, old.selection.mask, SIGMA_W, 'perPosition');
      const r = computeMask(net, o);
      sameWeights(r.weights!, want, [...want.keys()], `computeMask perPosition ${sparsity}`);
      assert.equal(r.rescale!.variant, 'perPosition');
      const fresh = spec.build();
      pruneAtInit(fresh, o);
      sameWeights(fresh.getWeights(), want, [...want.keys()], `pruneAtInit perPosition ${sparsity}`);
      net.dispose(); fresh.dispose();
    }
  });

  it('with a previous mask installed: snip, sbp-sr, magnitude, synflow = old code (which started from / scored the masked net)', () => {
    // a 0.1-sparse previous mask: SynFlow's first round (density 0.1^(1/12) = 0.83) asks for no more than is live, where the old code was right
    for (const [netName, spec] of Object.entries(NETS)) {
      for (const method of ['snip', 'sbp-sr', 'magnitude', 'synflow']) {
        for (const scope of SCOPES) {
          for (const sparsity of [0.9, 0.99]) {
            const what = `${netName} ${method} ${scope} ${sparsity} after a 0.1 random mask`;
            const net = spec.build();
            net.setMask(legacyComputeMask(net, { method: 'random', sparsity: 0.1, scope, seed: 11 }).selection.mask);
            const old = legacyComputeMask(net, { method, sparsity, scope, data: spec.data, seed: 4, rounds: ROUNDS });
            const res = computeMask(net, { method, sparsity, scope, data: spec.data, seed: 4, options: method === 'synflow' ? { rounds: ROUNDS } : {}, sigmaW: SIGMA_W });
            // zero scores now count live weights only (the old count included the pruned weights' zeros)
            sameSelection(res.selection, old.selection, what, { zeroScores: method === 'synflow' });
            if (method === 'synflow') { net.dispose(); continue; } // its last round's live set is the previous round's mask
            const prev = net.maskArrays();
            let liveZeros = 0;
            for (const [n, s] of res.scores) s.forEach((v, i) => { if (prev.get(n)![i] && v === 0) liveZeros++; });
            assert.equal(res.selection.zeroScores, liveZeros, `${what}: zeroScores = live zero scores`);
            net.dispose();
          }
        }
      }
    }
  });

  it('with a previous mask installed, no method revives a pruned weight (grasp and random included), and asking for more than is live is an error', () => {
    const spec = NETS.ffnn;
    for (const method of scoreMethods()) {
      for (const scope of SCOPES) {
        const net = spec.build();
        const prev = legacyComputeMask(net, { method: 'random', sparsity: 0.6, scope, seed: 12 }).selection.mask;
        net.setMask(prev);
        const r = computeMask(net, { method, sparsity: 0.9, scope, data: spec.data, seed: 2, options: method === 'synflow' ? { rounds: 3 } : {}, sigmaW: SIGMA_W });
        for (const n of prev.names) r.selection.mask.get(n).forEach((v, i) => assert.ok(!v || prev.get(n)[i], `${method} ${scope}: ${n}[${i}] revived`));
        const kept = scope === 'global' ? [r.selection.mask.kept] : r.selection.mask.perLayer().map((l) => l.kept);
        const want = scope === 'global' ? [Math.round((1 - 0.9) * prev.size)] : prev.perLayer().map((l) => Math.round((1 - 0.9) * l.size));
        assert.deepEqual(kept, want, `${method} ${scope}: exact counts`);
        assert.throws(() => computeMask(net, { method, sparsity: 0.2, scope, data: spec.data, seed: 2, options: method === 'synflow' ? { rounds: 3 } : {}, sigmaW: SIGMA_W }), /only .* live|revive/);
        net.dispose();
      }
    }
  });

  it('synflowPrune (each round through scoresToMask) = old synflowPrune, incl. invert and keptPerRound', () => {
    for (const [netName, spec] of Object.entries(NETS)) {
      for (const scope of SCOPES) {
        for (const invert of [false, true]) {
          const net = spec.build();
          const old = legacySynflowPrune(net, 0.95, { rounds: 7, scope, invert });
          const r = synflowPrune(net, 0.95, { rounds: 7, scope, invert });
          sameSelection(r.selection, old.selection, `${netName} ${scope} invert=${invert}`);
          assert.deepEqual(r.keptPerRound, old.keptPerRound);
          sameWeights(r.scores, old.scores, [...old.scores.keys()], 'last round scores');
          net.dispose();
        }
      }
    }
  });

  it('invert ablation = old code (synflow inverted every round; others the inverted one-shot scores)', () => {
    const spec = NETS.ffnn;
    for (const method of ['magnitude', 'snip', 'synflow']) {
      const net = spec.build();
      const old = method === 'synflow' ? legacySynflowPrune(net, 0.9, { rounds: ROUNDS, invert: true }).selection
        : (() => { const s = legacyComputeMask(net, { method, sparsity: 0.9, data: spec.data, seed: 1 }).scores; return legacyScoresToMask(new Map([...s].map(([n, v]) => [n, v.map((x) => -x)])), 0.9, { shapes: new Map(net.prunable.map((p) => [p.name, p.shape])) }); })();
      const r = pruneWithAblation(net, { method, sparsity: 0.9, data: spec.data, seed: 1, options: method === 'synflow' ? { rounds: ROUNDS } : {}, ablation: 'invert' });
      sameSelection(r.selection, old, `invert ${method}`);
      if (method === 'synflow') assert.equal(r.sourceMask, null);
      else sameMask(r.sourceMask!, legacyComputeMask(spec.build(), { method, sparsity: 0.9, data: spec.data, seed: 1 }).selection.mask, `invert ${method}: source mask`);
      net.dispose();
    }
  });
});

describe('one selection routine: keep counts, previous masks, and the channel-level variant', () => {
  /** Scores with many ties (a few distinct values), some NaN, and a previous mask. */
  function tiedScores(rng: Rng, shapes: Map<string, number[]>): { scores: Scores; prev: Map<string, Uint8Array> } {
    const scores: Scores = new Map(), prev = new Map<string, Uint8Array>();
    for (const [n, shape] of shapes) {
      const size = shape.reduce((a, b) => a * b, 1);
      scores.set(n, Float32Array.from({ length: size }, () => { const u = rng.uniform(); return u < 0.05 ? NaN : Math.floor(u * 6) / 2; }));
      prev.set(n, Uint8Array.from({ length: size }, () => (rng.uniform() < 0.7 ? 1 : 0)));
    }
    return { scores, prev };
  }
  const shapes = new Map<string, number[]>([['a', [5, 7]], ['b', [3, 3, 2, 4]], ['c', [11]]]);
  const sizes = [...shapes.values()].map((s) => s.reduce((a, b) => a * b, 1));

  it('a keep count gives the old keepTop mask (dead weights at -Infinity) exactly, global and per layer', () => {
    for (let t = 0; t < 200; t++) {
      const rng = new Rng(t, 'keep-counts');
      const { scores, prev } = tiedScores(rng, shapes);
      // the old dissipating callers marked dead weights -Infinity and never asked for more than is live
      const dead: Scores = new Map([...scores].map(([n, s]) => [n, s.map((v, i) => (prev.get(n)![i] ? (Number.isNaN(v) ? -3.4e38 : v) : -Infinity))]));
      const live = [...prev.values()].map((m) => m.reduce((a, b) => a + b, 0));
      const totalLive = live.reduce((a, b) => a + b, 0);
      const g: KeepCounts = { scope: 'global', total: 1 + Math.floor(rng.uniform() * totalLive) };
      const l: KeepCounts = { scope: 'layerwise', perLayer: new Map([...shapes.keys()].map((n, i) => [n, Math.floor(rng.uniform() * (live[i] + 1))])) };
      for (const counts of [g, l]) {
        const old = legacyKeepTop(shapes, dead, counts);
        sameMask(scoresToMask(dead, counts, { shapes, previous: prev }).mask, old, `trial ${t} ${counts.scope} (previous)`);
        sameMask(scoresToMask(dead, counts, { shapes }).mask, old, `trial ${t} ${counts.scope} (no previous)`);
      }
    }
    void sizes;
  });

  it('a sparsity with no previous mask is the old routine; with one, pruned weights are never kept even when NaN live scores tie them', () => {
    for (let t = 0; t < 100; t++) {
      const rng = new Rng(t, 'sparsity');
      const { scores, prev } = tiedScores(rng, shapes);
      for (const scope of SCOPES) {
        for (const s of [0, 0.3, 0.8, 0.97]) {
          sameSelection(scoresToMask(scores, s, { scope, shapes }), legacyScoresToMask(scores, s, { scope, shapes }), `trial ${t} ${scope} ${s}`);
        }
        // brute force with a previous mask: among live weights, k largest (NaN lowest), ties by index
        const liveN = scope === 'global' ? [[...prev.values()].reduce((a, m) => a + m.reduce((x, y) => x + y, 0), 0)] : [...prev.values()].map((m) => m.reduce((x, y) => x + y, 0));
        const s = 0.9;
        const ks = scope === 'global' ? [Math.round((1 - s) * sizes.reduce((a, b) => a + b, 0))] : sizes.map((n) => Math.round((1 - s) * n));
        if (ks.some((k, i) => k > liveN[i])) continue;
        const got = scoresToMask(scores, s, { scope, shapes, previous: prev }).mask;
        const groups = scope === 'global' ? [[...shapes.keys()]] : [...shapes.keys()].map((n) => [n]);
        groups.forEach((names, gi) => {
          const items: Array<{ n: string; i: number; v: number; order: number }> = [];
          let order = 0;
          for (const n of names) scores.get(n)!.forEach((v, i) => { if (prev.get(n)![i]) items.push({ n, i, v: Number.isNaN(v) ? -Infinity : v, order }); order++; });
          // (-Infinity) - (-Infinity) is NaN: compare equal values by index explicitly
          items.sort((a, b) => (a.v === b.v ? a.order - b.order : b.v - a.v));
          const want = new Set(items.slice(0, ks[gi]).map((x) => `${x.n}:${x.i}`));
          for (const n of names) got.get(n).forEach((v, i) => assert.equal(v === 1, want.has(`${n}:${i}`), `trial ${t} ${scope} ${n}[${i}]`));
        });
      }
    }
  });

  it('relative change: one function = the old dissipating ranking and the old K-starts fitness sum', () => {
    for (let t = 0; t < 50; t++) {
      const rng = new Rng(t, 'rel');
      const n = 97;
      const z = Float32Array.from({ length: n }, (_, i) => (i % 13 === 0 ? 0 : rng.normal()));
      const w = Float32Array.from(z, (v, i) => (i % 7 === 0 ? v : v + 0.1 * rng.normal()));
      const live = Uint8Array.from({ length: n }, () => (rng.uniform() < 0.8 ? 1 : 0));
      const e = layerEps(z, t % 5 === 0 ? 0 : 0.01);
      const r = relativeChanges(w, z, e);
      const old = legacyDissipationScores(w, z, live, e, 'relative-change');
      assert.ok(Buffer.from(r.buffer).equals(Buffer.from(old.r.buffer)), `trial ${t}: r`);
      let sum = 0;
      for (let i = 0; i < n; i++) if (live[i]) sum += r[i];
      assert.equal(sum, legacyDissipationSum(w, z, live, e));
    }
  });

  it('channel removal: lowestLiveUnits = the old prune-and-tune argmin (ties: earlier block, then lower channel; skips emptied blocks when not allowed)', () => {
    for (let t = 0; t < 300; t++) {
      const rng = new Rng(t, 'channels');
      const groups = [{ name: 'b1/mid', size: 5 }, { name: 'b2/mid', size: 3 }, { name: 'b3/mid', size: 8 }];
      const keep = new Map(groups.map((g) => [g.name, Uint8Array.from({ length: g.size }, () => (rng.uniform() < 0.6 ? 1 : 0))]));
      const scores = new Map(groups.map((g) => [g.name, Float32Array.from({ length: g.size }, () => Math.floor(rng.uniform() * 3))]));
      const want = 1 + Math.floor(rng.uniform() * 6);
      for (const allowEmpty of [true, false]) {
        const old = legacyChannelsToRemove(groups, keep, scores, want, allowEmpty);
        const got = lowestLiveUnits(groups.map((g) => g.name), scores, keep, want, { allowEmpty });
        assert.deepEqual(got, old, `trial ${t} allowEmpty=${allowEmpty}`);
      }
    }
  });
});
