import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import {
  initBackend, buildModel, loadDataset, train, computeMask, Dataset, ModelConfig, TrainConfig,
  kStarts, dissipate, MaskedRun, combineKStartsDissipating, earlyPruningRandomMask, runEarlyPruning, dissipationDensitySchedule,
  EarlyPruningSetup, DissipationPruneEvent, EarlyPruningConfig, mergeConfigs,
} from 'prune-at-init';

// A tiny MLP (784-8-10: 6,352 prunable weights) on a 256-image subset keeps every test in seconds.
const MODEL: ModelConfig = { arch: 'ffnn', hidden: [8], activation: 'relu' };
const SEEDS = { initSeed: 3, maskSeed: 4, dataSeed: 5 };
const DATA = { name: 'fashion-mnist', trainLimit: 256, testLimit: 100 };
let ds: Dataset;

before(async () => {
  await initBackend();
  ds = loadDataset('fashion-mnist', { trainLimit: 256, testLimit: 100 });
});

const cfg = (epochs: number): TrainConfig => ({ epochs, batchSize: 64, lr: 0.05, momentum: 0.9, schedule: { type: 'constant' } });
const setup = (epochs: number): EarlyPruningSetup => ({ model: MODEL, ds, train: cfg(epochs), ...SEEDS, evalEveryEpoch: false });
const build = (seed = SEEDS.initSeed) => buildModel(MODEL, { seed, inputShape: ds.inputShape, numClasses: ds.numClasses });
const rms = (a: Float32Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
const close = (a: number, b: number, rel: number, what: string) =>
  assert.ok(Math.abs(a - b) <= rel * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

/** Fractional ranks written out independently: rank = 1 + #smaller + (#equal - 1) / 2. */
function ranksByCounting(v: number[]): number[] {
  return v.map((x) => 1 + v.filter((y) => y < x).length + (v.filter((y) => y === x).length - 1) / 2);
}

describe('Haroon K-starts', () => {
  it('fitness = hand-computed sums over surviving weights (independent train() run); pick = argmax of the rank sum; equal masks give equal fitness', () => {
    const proto = build();
    const mA = computeMask(proto, { method: 'random', sparsity: 0.8, scope: 'layerwise', seed: 11 }).selection.mask;
    const mB = computeMask(proto, { method: 'random', sparsity: 0.8, scope: 'layerwise', seed: 12 }).selection.mask;
    proto.dispose();
    const masks = [mA, mB, mA];
    const res = kStarts(setup(3), { sparsity: 0.8, masks, selectionEpochs: 2, fitness: 'both' }, () => undefined);
    res.winner.run.dispose();
    const cands = res.report.candidates;

    // Independent truth: the library's plain train() loop on the same init, mask and data seed,
    // |w| summed over the mask after 2 epochs, |dL/dw| summed over the mask in epoch 2 (float64).
    const truth = masks.map((m) => {
      const net = build();
      net.setMask(m);
      let epoch = 0;
      const grad = new Map(net.prunable.map((p) => [p.name, 0]));
      train(net, ds, cfg(2), {
        seed: SEEDS.dataSeed, evalEveryEpoch: false,
        afterEpoch: ({ epoch: e }) => { epoch = e + 1; },
        hooks: {
          onGradients: (g) => {
            if (epoch !== 1) return;
            for (const p of net.prunable) {
              const a = g.get(p.name)!.dataSync(), mm = m.get(p.name);
              let s = 0;
              for (let i = 0; i < a.length; i++) if (mm[i]) s += Math.abs(a[i]);
              grad.set(p.name, grad.get(p.name)! + s);
            }
          },
        },
      });
      const w = net.getWeights();
      const mag = new Map(net.prunable.map((p) => {
        const ww = w.get(p.name)!, mm = m.get(p.name);
        let s = 0;
        for (let i = 0; i < ww.length; i++) if (mm[i]) s += Math.abs(ww[i]);
        return [p.name, s];
      }));
      net.dispose();
      return { mag, grad };
    });
    truth.forEach((t, i) => {
      for (const [name, v] of t.mag) close(cands[i].perLayer.magnitude[name], v, 1e-9, `magnitude ${i} ${name}`);
      for (const [name, v] of t.grad) close(cands[i].perLayer.gradient![name], v, 1e-4, `gradient ${i} ${name}`);
      close(cands[i].magnitude!, [...t.mag.values()].reduce((a, b) => a + b, 0), 1e-9, `total magnitude ${i}`);
      assert.ok(cands[i].gradient! > 0);
    });
    // same W0, same mask, same minibatch order -> identical numbers
    assert.equal(cands[0].magnitude, cands[2].magnitude);
    assert.equal(cands[0].gradient, cands[2].gradient);
    assert.notEqual(cands[0].magnitude, cands[1].magnitude);
    // 'both' = sum of fractional ranks; argmax, ties to the lowest index
    const rm = ranksByCounting(cands.map((c) => c.magnitude!)), rg = ranksByCounting(cands.map((c) => c.gradient!));
    const sums = rm.map((r, i) => r + rg[i]);
    assert.deepEqual(cands.map((c) => c.fitness), sums);
    assert.equal(res.report.pick, sums.indexOf(Math.max(...sums)));
    assert.deepEqual(res.report.compute, { selectionEpochs: 6, winnerEpochs: 1, totalEpochs: 7, evaluationEpochs: 0 });

    // direction 'min' on magnitude picks the argmin of the independently computed sums
    const resMin = kStarts(setup(2), { sparsity: 0.8, masks, selectionEpochs: 2, fitness: 'magnitude', direction: 'min' }, () => undefined);
    resMin.winner.run.dispose();
    const tm = truth.map((t) => [...t.mag.values()].reduce((a, b) => a + b, 0));
    assert.equal(resMin.report.pick, tm.indexOf(Math.min(...tm)));
  });

  it('candidate masks keep exactly the target counts (per layer or global); k = 1 is the random baseline exactly', async () => {
    const r = kStarts(setup(1), { sparsity: 0.9, k: 4 }, () => undefined);
    r.winner.run.dispose();
    const net = build();
    for (const m of r.candidateMasks) {
      for (const l of m.perLayer()) assert.equal(l.kept, Math.round(0.1 * l.size), l.name);
    }
    for (let i = 1; i < 4; i++) assert.ok(r.candidateMasks[i].jaccard(r.candidateMasks[0]) < 0.5, 'candidates differ');
    assert.ok(r.candidateMasks[0].equals(earlyPruningRandomMask(net, 0.9, SEEDS.maskSeed)));
    const g = kStarts(setup(1), { sparsity: 0.9, k: 2, maskScope: 'global' }, () => undefined);
    g.winner.run.dispose();
    const total = net.prunable.reduce((a, p) => a + p.size, 0);
    for (const m of g.candidateMasks) assert.equal(m.kept, Math.round(0.1 * total));
    net.dispose();

    const base = { model: MODEL, data: DATA, train: { epochs: 3, batchSize: 64, lr: 0.05, schedule: { type: 'constant' as const } }, seed: 7 };
    const ks = await runEarlyPruning({ ...base, prune: { method: 'kstarts', sparsity: 0.9, kstarts: { k: 1 } } });
    const rnd = await runEarlyPruning({ ...base, prune: { method: 'random', sparsity: 0.9 } });
    assert.equal(ks.finalTestAcc, rnd.finalTestAcc);
    assert.deepEqual(ks.diagnostics.history.map((h) => h.trainLoss), rnd.diagnostics.history.map((h) => h.trainLoss));
    assert.deepEqual(ks.perLayer, rnd.perLayer);
  });

  it('options: restart from W0 with the winner mask, seeded random pick, fresh init per candidate', () => {
    // restart: the winner's final weights equal W0 * mask trained over epochs E_s..E-1 from scratch
    const r = kStarts(setup(3), { sparsity: 0.8, k: 2, selectionEpochs: 1, afterSelection: 'restart' });
    const win = r.winner;
    assert.deepEqual(win.run.history.map((h) => h.epoch), [2, 3]);
    const ref = build();
    const refRun = new MaskedRun(ref, ds, cfg(3), { seed: SEEDS.dataSeed, evalEveryEpoch: false, startEpoch: 1 });
    refRun.setMask(r.candidateMasks[r.report.pick]);
    refRun.trainTo(3);
    const a = win.run.net.getWeights(), b = ref.getWeights();
    for (const [n, v] of a) assert.deepEqual(Array.from(v), Array.from(b.get(n)!), n);
    refRun.dispose(); win.run.dispose();

    const picks = [0, 1].map(() => {
      const x = kStarts(setup(1), { sparsity: 0.8, k: 5, pick: 'random' }, () => undefined);
      x.winner.run.dispose();
      assert.equal(x.report.pickedBy, 'random');
      return x.report.pick;
    });
    assert.equal(picks[0], picks[1]);
    assert.ok(picks[0] >= 0 && picks[0] < 5);

    const f = kStarts(setup(1), { sparsity: 0.8, k: 3, init: 'fresh' }, () => undefined);
    f.winner.run.dispose();
    const seeds = f.report.candidates.map((c) => c.initSeed);
    assert.equal(seeds[0], SEEDS.initSeed);
    assert.equal(new Set(seeds).size, 3);
  });
});

/** Relative change with the documented eps guard, in float64, written from the definition. */
function relChange(w: Float32Array, w0: Float32Array): Float64Array {
  const eps = 0.01 * rms(w0);
  return Float64Array.from(w, (x, i) => Math.abs(x - w0[i]) / (Math.abs(w0[i]) + eps));
}

describe('Haroon dissipating gradients', () => {
  for (const scope of ['layerwise', 'global'] as const) {
    it(`exact rule (${scope}): prunes the smallest r on the geometric schedule, reaches p at epoch E_d, never revives, pruned weights stay 0`, () => {
      const p = 0.9, Ed = 3, E = 5;
      const net = build();
      const w0 = net.getWeights();
      const run = new MaskedRun(net, ds, cfg(E), { seed: SEEDS.dataSeed, evalEveryEpoch: false });
      const events: DissipationPruneEvent[] = [];
      const rep = dissipate(run, w0, { sparsity: p, epochs: Ed, scope, onPrune: (e) => events.push(e) });
      run.trainTo(E);
      assert.equal(events.length, Ed);
      assert.equal(rep.epochsToTarget, Ed);
      assert.equal(rep.targetEpoch, Ed);

      // epoch-1 weights are the real trained weights: same as an independent dense train() run
      const ref = build();
      train(ref, ds, cfg(1), { seed: SEEDS.dataSeed, evalEveryEpoch: false });
      const rw = ref.getWeights();
      ref.dispose();
      for (const pi of net.prunable) {
        const a = events[0].weights.get(pi.name)!, b = rw.get(pi.name)!;
        for (let i = 0; i < a.length; i++) assert.equal(a[i], b[i]);
      }

      const N = net.prunable.reduce((a, q) => a + q.size, 0);
      events.forEach((ev, t0) => {
        const t = t0 + 1;
        const d = Math.pow(1 - p, t / Ed); // geometric schedule from density 1
        assert.equal(ev.epoch, t);
        const groups = scope === 'layerwise' ? net.prunable.map((q) => [q.name]) : [net.prunable.map((q) => q.name)];
        for (const names of groups) {
          const n = names.reduce((a, nm) => a + net.paramInfo(nm).size, 0);
          let kept = 0, maxPruned = -Infinity, minKept = Infinity;
          for (const nm of names) {
            const r = relChange(ev.weights.get(nm)!, w0.get(nm)!), b = ev.before.get(nm), a = ev.after.get(nm);
            const wt = ev.weights.get(nm)!;
            for (let i = 0; i < r.length; i++) {
              assert.ok(!(a[i] && !b[i]), `${nm}[${i}] revived at epoch ${t}`);
              if (!b[i]) assert.ok(wt[i] === 0, `${nm}[${i}] pruned earlier must still be exactly 0, is ${wt[i]}`);
              if (a[i]) { kept++; minKept = Math.min(minKept, r[i]); } else if (b[i]) maxPruned = Math.max(maxPruned, r[i]);
            }
          }
          assert.equal(kept, t === Ed ? Math.round((1 - p) * n) : Math.round(d * n), `kept at epoch ${t} (${names})`);
          assert.ok(maxPruned <= minKept * (1 + 1e-6), `epoch ${t}: pruned r up to ${maxPruned} but kept r from ${minKept}`);
        }
        assert.ok(ev.after.kept < ev.before.kept);
        if (t === Ed) assert.equal(ev.after.kept, scope === 'global' ? Math.round((1 - p) * N) : ev.after.perLayer().reduce((a, l) => a + Math.round((1 - p) * l.size), 0));
      });
      // the mask stays fixed after E_d and pruned raw weights are exactly zero at the end
      const fin = run.maskOrOnes();
      assert.ok(fin.equals(events[Ed - 1].after));
      const w = net.getWeights(), eff = net.effectiveWeights();
      for (const q of net.prunable) {
        const m = fin.get(q.name), ww = w.get(q.name)!, e = eff.get(q.name)!;
        for (let i = 0; i < m.length; i++) if (!m[i]) assert.ok(ww[i] === 0 && e[i] === 0, `${q.name}[${i}]`);
      }
      assert.deepEqual(run.history.map((h) => +h.density.toFixed(12)), [...events.map((e) => +e.after.density.toFixed(12)), fin.density, fin.density].map((x) => +x.toFixed(12)));
      run.dispose();
    });
  }

  it('threshold rule prunes exactly the live weights with |w_t - w0| <= alpha |w0|; stops at the exact count; reports epochs needed (or null)', () => {
    /** Check every pruning step against the literal rule; counts uncapped steps that pruned something. */
    const check = (p: number, alpha: number, E: number) => {
      const net = build();
      const w0 = net.getWeights();
      const run = new MaskedRun(net, ds, { ...cfg(E), batchSize: 16 }, { seed: SEEDS.dataSeed, evalEveryEpoch: false });
      const events: DissipationPruneEvent[] = [];
      const rep = dissipate(run, w0, { sparsity: p, rule: 'threshold', alpha, onPrune: (e) => events.push(e) });
      let uncapped = 0, capped = 0;
      for (const ev of events) {
        for (const q of net.prunable) {
          const w = ev.weights.get(q.name)!, z = w0.get(q.name)!, b = ev.before.get(q.name), a = ev.after.get(q.name);
          const target = Math.round((1 - p) * q.size);
          let live = 0, cand = 0, kept = 0, prunedAllCand = true;
          for (let i = 0; i < w.length; i++) {
            if (!b[i]) { assert.equal(a[i], 0); continue; }
            live++;
            const c = Math.abs(w[i] - z[i]) <= alpha * Math.abs(z[i]);
            if (c) cand++;
            if (a[i]) kept++;
            if (!c) assert.equal(a[i], 1, `${q.name}[${i}] is not within alpha of w0 but was pruned`);
            if (c && a[i]) prunedAllCand = false;
          }
          if (live - cand >= target) { assert.ok(prunedAllCand, `${q.name} epoch ${ev.epoch}`); if (cand > 0) uncapped++; }
          else { assert.equal(kept, target, `${q.name} capped at the target`); capped++; }
        }
      }
      const fin = run.maskOrOnes().perLayer();
      run.dispose();
      return { rep, events, uncapped, capped, fin };
    };
    // small alpha: few weights stay within 0.5% of init; the target is not reached in 3 epochs
    const lo = check(0.97, 0.005, 3);
    assert.ok(lo.uncapped > 0, 'an uncapped threshold step must prune something');
    assert.equal(lo.events.length, 3);
    assert.ok(!lo.rep.reached && lo.rep.epochsToTarget === null && lo.rep.targetEpoch === null);
    assert.ok(lo.fin.some((l) => l.kept > Math.round(0.03 * l.size)));
    // large alpha: more than enough candidates at epoch 1 -> capped at exactly the target, 1 epoch needed
    const hi = check(0.5, 2, 3);
    assert.ok(hi.capped > 0);
    assert.equal(hi.rep.epochsToTarget, 1);
    assert.equal(hi.events.length, 1);
    for (const l of hi.fin) assert.equal(l.kept, Math.round(0.5 * l.size));
  });

  it('magnitude-at-epoch (score magnitude, one-shot at E_d) keeps the largest |w_t| per layer', () => {
    const net = build();
    const w0 = net.getWeights();
    const run = new MaskedRun(net, ds, cfg(2), { seed: SEEDS.dataSeed, evalEveryEpoch: false });
    const events: DissipationPruneEvent[] = [];
    dissipate(run, w0, { sparsity: 0.8, epochs: 2, score: 'magnitude', schedule: 'oneshot', onPrune: (e) => events.push(e) });
    assert.equal(events[0].after.kept, events[0].before.kept, 'no pruning before E_d');
    const ev = events[1];
    for (const q of net.prunable) {
      const w = ev.weights.get(q.name)!, a = ev.after.get(q.name);
      const sorted = Array.from(w, Math.abs).sort((x, y) => y - x);
      const k = Math.round(0.2 * q.size);
      let kept = 0;
      for (let i = 0; i < w.length; i++) if (a[i]) { kept++; assert.ok(Math.abs(w[i]) >= sorted[k - 1]); } else assert.ok(Math.abs(w[i]) <= sorted[k - 1]);
      assert.equal(kept, k);
    }
    run.dispose();
  });

  it('density schedules end exactly at 1 - p: geometric has a constant ratio, cubic follows Zhu & Gupta', () => {
    const g = dissipationDensitySchedule('geometric', 1, 0.05, 4);
    const ratios = g.map((d, i) => d / (i ? g[i - 1] : 1));
    for (const r of ratios) close(r, Math.pow(0.05, 0.25), 1e-12, 'ratio');
    assert.equal(g[3], 0.05);
    const c = dissipationDensitySchedule('cubic', 1, 0.1, 4);
    // sparsity s_t = s_f + (s_i - s_f)(1 - t/n)^3 with s_i = 0, s_f = 0.9
    c.forEach((d, i) => close(1 - d, 0.9 + (0 - 0.9) * Math.pow(1 - (i + 1) / 4, 3), 1e-12, `cubic ${i}`));
    assert.throws(() => dissipationDensitySchedule('geometric', 0.5, 0.6, 2), /dEnd \(0.6\) <= d0 \(0.5\)/);
  });
});

describe('Haroon combination and runEarlyPruning', () => {
  it('combination A: K-starts at density sqrt(1 - p), dissipation inside the winner, ends at exactly p', () => {
    const p = 0.9;
    const res = combineKStartsDissipating(setup(4), { sparsity: p, kstarts: { k: 3 }, dissipating: { epochs: 2 } });
    const win = res.kstarts.winner;
    assert.ok(Math.abs(res.p1 - (1 - Math.sqrt(0.1))) < 1e-15);
    for (const m of res.kstarts.candidateMasks) for (const l of m.perLayer()) assert.equal(l.kept, Math.round(Math.sqrt(0.1) * l.size), l.name);
    const fin = win.run.maskOrOnes();
    for (const l of fin.perLayer()) assert.equal(l.kept, Math.round(0.1 * l.size), l.name);
    for (const q of win.run.net.prunable) {
      const a = fin.get(q.name), b = win.mask.get(q.name);
      for (let i = 0; i < a.length; i++) assert.ok(!(a[i] && !b[i]), 'final mask lies inside the winner');
    }
    assert.equal(res.dissipation!.targetEpoch, 3); // E_s = 1 selection epoch + E_d = 2 pruning epochs
    assert.equal(win.run.epochsDone, 4);
    win.run.dispose();
    const g = combineKStartsDissipating(setup(4), { sparsity: p, kstarts: { k: 2 }, dissipating: { epochs: 2, scope: 'global' } });
    assert.equal(g.kstarts.winner.run.maskOrOnes().kept, Math.round(0.1 * (6272 + 80)));
    g.kstarts.winner.run.dispose();
  });

  it('runEarlyPruning: same seed -> same masks and numbers (JSON-safe); another seed differs; evaluating all candidates leaves the pick unchanged', async () => {
    const dir = require('fs').mkdtempSync(require('path').join(require('os').tmpdir(), 'haroon-'));
    const base: EarlyPruningConfig = {
      model: MODEL, data: DATA, prune: { method: 'combined', sparsity: 0.9, kstarts: { k: 3, fitness: 'gradient' }, dissipation: { epochs: 2 } },
      train: { epochs: 4, batchSize: 64, lr: 0.05 }, seed: 1, extra: { epochs: 1 },
    };
    // Net's constructor may leave its initial tensors behind (not this module's); measure that per build
    const t0 = tf.memory().numTensors;
    build().dispose();
    const perBuild = tf.memory().numTensors - t0;
    const tensorsBefore = tf.memory().numTensors;
    const strip = (r: unknown) => JSON.parse(JSON.stringify(r, (k, v) => (k === 'seconds' || k === 'selectionSeconds' ? undefined : v)));
    const a = await runEarlyPruning({ ...base, maskPath: `${dir}/a.safetensors` });
    const b = await runEarlyPruning({ ...base, maskPath: `${dir}/b.safetensors` });
    assert.deepEqual(JSON.parse(JSON.stringify(a)), a);
    assert.deepEqual(strip(a), strip(b));
    const bytes = (f: string) => require('fs').readFileSync(`${dir}/${f}.safetensors`) as Buffer;
    assert.ok(bytes('a').equals(bytes('b')), 'same seed, same saved mask');
    assert.equal(a.kept, Math.round(0.1 * 6272) + Math.round(0.1 * 80));
    assert.equal(a.epochsToTarget, 3);
    assert.ok(a.extraTrainAcc !== null && a.extra!.epochs === 1);
    assert.equal(a.compute.trainingEpochs, 3 * 1 + 3 + 1);
    const c = await runEarlyPruning({ ...base, seed: 2, maskPath: `${dir}/c.safetensors` });
    assert.ok(!bytes('c').equals(bytes('a')), 'another seed, another mask');
    assert.ok(c.finalTestAcc >= 0);
    const all = await runEarlyPruning(mergeConfigs(base, { prune: { kstarts: { evaluateAllCandidates: true } }, extra: { epochs: 0 } }));
    assert.equal(all.kstarts!.pick, a.kstarts!.pick);
    assert.equal(all.finalTestAcc, a.finalTestAcc);
    const finals = all.candidates!.map((x) => x.finalTestAcc!);
    assert.ok(finals.every((f) => f >= 0 && f <= 1));
    assert.equal(all.kstarts!.pickFinalRank, 1 + finals.filter((f) => f > finals[all.kstarts!.pick]).length);
    require('fs').rmSync(dir, { recursive: true });
    assert.equal(tf.memory().numTensors - tensorsBefore, 4 * 3 * perBuild, 'no tensor leak across runs beyond the nets built (4 runs x k = 3)');
  });

  it('bad input gets a clear error', async () => {
    const base: EarlyPruningConfig = { model: MODEL, data: DATA, prune: { method: 'random', sparsity: 0.9 }, train: { epochs: 2, batchSize: 64, lr: 0.05 }, seed: 0 };
    const withPrune = (prune: Record<string, unknown>) => mergeConfigs(base, { prune });
    await assert.rejects(runEarlyPruning(withPrune({ method: 'nope' })), /config\.prune\.method: Invalid option: expected one of "dense"\|"random".* \(got "nope"\)/);
    await assert.rejects(runEarlyPruning(withPrune({ sparsity: 1.5 })), /config\.prune\.sparsity: .*<1 \(got 1.5\)/);
    await assert.rejects(runEarlyPruning({ ...base, train: { batchSize: 64, lr: 0.05, momentun: 0.9 } as never }), /config\.train: unknown key 'momentun'; accepted keys: .*momentum/);
    await assert.rejects(runEarlyPruning(withPrune({ kstarts: { k: 2, fitnes: 'both' } })), /config\.prune\.kstarts: unknown key 'fitnes'; accepted keys: .*fitness/);
    await assert.rejects(runEarlyPruning({ method: 'dense', dataset: 'mnist' } as never), /config: unknown keys 'method', 'dataset'; accepted keys: .*data[^]*flat v1 shape[^]*\{"prune":\{"method":"dense"\},"data":\{"name":"mnist"\}\}/);
    await assert.rejects(runEarlyPruning(withPrune({ method: 'dissipating', dissipation: { epochs: 3 } })), /E_d = 3 pruning epochs but only 2/);
    await assert.rejects(runEarlyPruning(withPrune({ method: 'kstarts', kstarts: { selectionEpochs: 3 } })), /selectionEpochs \(3\) exceeds the training epochs \(2\)/);
    await assert.rejects(runEarlyPruning(withPrune({ method: 'combined', combined: { p1: 0.95 } })), /p1 \(0.95\) must be below the final sparsity/);
  });
});
