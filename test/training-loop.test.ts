/**
 * Differential tests of the one training loop (issue #15): train(), MaskedRun and pruneAndTune now
 * run through TrainingRun; the pre-refactor loops are kept verbatim in test/support/legacy-loops.ts.
 * Old and new must give bit-identical weights, BN statistics, losses, accuracies and divergence
 * records on the same net, data and seed (cached results and notebooks depend on these numbers).
 */
import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import {
  initBackend, buildModel, loadDataset, train, MaskedRun, pruneAndTune, computeMask, Mask, Net, Dataset,
  TrainConfig, Augment, PruneAndTuneOptions, TrainingRun,
} from 'prune-at-init';
import { legacyTrain, LegacyMaskedRun, legacyPruneAndTune } from './support/legacy-loops';
import { quadrants } from './support/quadrants';

before(async () => { await initBackend(); });

/** Every parameter and buffer, as raw bytes (bit-identical means byte-identical). */
function state(net: Net): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [n, v] of net.getWeights()) out[`p:${n}`] = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  for (const [n, v] of net.getBuffers()) out[`b:${n}`] = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  return out;
}

/** Drop wall-clock fields (the only non-deterministic numbers) from a result, recursively. */
function noTime(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(noTime);
  if (x instanceof Map) return new Map([...x].map(([k, v]) => [k, noTime(v)]));
  if (x && typeof x === 'object' && !ArrayBuffer.isView(x)) {
    return Object.fromEntries(Object.entries(x).filter(([k]) => k !== 'seconds').map(([k, v]) => [k, noTime(v)]));
  }
  return x;
}

const quadrantSet = () => quadrants(70, { mean: [0], std: [1] });
const fmnist = () => loadDataset('fashion-mnist', { trainLimit: 300, testLimit: 100 });
const ffnn = (seed = 3) => buildModel({ arch: 'ffnn', hidden: [32, 16], activation: 'relu' }, { seed });
const bnCnn = () => buildModel({ arch: 'cnn', channels: [4, 'M'], activation: 'relu', batchNorm: true }, { seed: 2 });
const quadCnn = () => buildModel({ arch: 'cnn', activation: 'relu', channels: [4, 'M'] }, { seed: 1, inputShape: [6, 6, 1], numClasses: 4 });
const CROP_FLIP: Augment = { crop: { pad: 1, fill: 'zero' }, flip: true };

describe('one training loop: train() is bit-identical to the pre-refactor loop', () => {
  const cases: Array<{ name: string; build: () => Net; ds: () => Dataset; cfg: TrainConfig; evalEveryEpoch?: boolean; mask?: number }> = [
    { name: 'SGD + momentum, weight decay, step schedule, evalEveryEpoch false, uneven last batch', build: ffnn, ds: fmnist,
      cfg: { epochs: 4, batchSize: 64, lr: 0.08, momentum: 0.9, weightDecay: 5e-4 }, evalEveryEpoch: false },
    { name: 'Adam with weight decay on a BatchNorm CNN (running statistics compared too)', build: bnCnn, ds: fmnist,
      cfg: { epochs: 2, batchSize: 50, lr: 2e-3, optimizer: 'adam', weightDecay: 1e-4, schedule: { type: 'constant' } } },
    { name: 'crop + flip augmentation on a tiny image set, masked from outside, plain SGD', build: quadCnn, ds: quadrantSet,
      cfg: { epochs: 3, batchSize: 16, lr: 0.05, momentum: 0, augment: CROP_FLIP }, mask: 0.5 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const ds = c.ds();
      const go = (f: typeof train) => {
        const net = c.build();
        if (c.mask) net.setMask(computeMask(net, { method: 'random', sparsity: c.mask, seed: 9 }).selection.mask);
        const calls: unknown[] = [];
        const r = f(net, ds, c.cfg, {
          seed: 7, evalEveryEpoch: c.evalEveryEpoch,
          afterStep: ({ epoch, step, loss }) => calls.push(['step', epoch, step, loss]),
          afterEpoch: ({ epoch }) => calls.push(['epoch', epoch]),
          onEpoch: (m) => calls.push(['metrics', noTime(m)]),
          hooks: { onGradients: (g) => calls.push(['grad', tf.sum(g.values().next().value!).dataSync()[0]]) },
        });
        const out = { r: noTime(r), calls, state: state(net) };
        net.dispose();
        return out;
      };
      const old = go(legacyTrain), now = go(train);
      assert.ok(old.calls.length > 20);
      assert.deepStrictEqual(now, old);
    });
  }

  it('a diverging run (huge lr): same outcome, divergence record, steps, final metrics and weights', () => {
    const ds = loadDataset('fashion-mnist', { trainLimit: 512, testLimit: 100 });
    for (const [lr, evalEveryEpoch] of [[1e4, true], [3, false]] as const) {
      const go = (f: typeof train) => {
        const net = buildModel({ arch: 'ffnn', hidden: [32], activation: 'linear' }, { seed: 0 });
        const r = f(net, ds, { epochs: 4, batchSize: 64, lr, momentum: 0.9, schedule: { type: 'constant' } }, { seed: 0, evalEveryEpoch });
        const out = { r: noTime(r), state: state(net) };
        net.dispose();
        return out;
      };
      const old = go(legacyTrain), now = go(train);
      assert.equal((old.r as { outcome: string }).outcome, 'diverged');
      assert.deepStrictEqual(now, old);
    }
  });
});

/** The new MaskedRun; startEpoch resumes (the legacy run had epochsDone written from outside). */
const newRun = (net: Net, ds: Dataset, cfg: TrainConfig, seed: number, evalEveryEpoch: boolean, startEpoch = 0) =>
  new MaskedRun(net, ds, cfg, { seed, evalEveryEpoch, startEpoch });
const oldRun = (net: Net, ds: Dataset, cfg: TrainConfig, seed: number, evalEveryEpoch: boolean, startEpoch = 0) => {
  const r = new LegacyMaskedRun(net, ds, cfg, seed, evalEveryEpoch);
  r.epochsDone = startEpoch;
  return r;
};
type AnyRun = ReturnType<typeof newRun> | ReturnType<typeof oldRun>;

describe('one training loop: MaskedRun is bit-identical to the pre-refactor loop', () => {
  /** K-starts / dissipating style: selection epoch with a gradient fitness, a prune mid-training, an LR override. */
  const scenario = (make: typeof newRun | typeof oldRun, ds: Dataset, cfg: TrainConfig, build: () => Net, evalEveryEpoch: boolean) => {
    const net = build();
    const run: AnyRun = make(net, ds, cfg, 11, evalEveryEpoch);
    const m1 = computeMask(net, { method: 'random', sparsity: 0.5, seed: 1 }).selection.mask;
    run.setMask(m1);
    let fit = 0;
    run.runEpoch({
      evaluate: true,
      onGradients: (grads) => { for (const p of net.prunable) fit += tf.sum(tf.mul(tf.abs(grads.get(p.name)!), run.maskTensor(p.name)!)).dataSync()[0]; },
    });
    const afterEpochs: number[] = [];
    run.runEpoch({
      afterTrain: () => {
        // prune at the end of the epoch (dissipating): keep the larger half of the live weights per layer
        afterEpochs.push(run.epochsDone);
        const w = net.getWeights(), before = run.maskOrOnes();
        const next = new Map<string, Uint8Array>();
        for (const p of net.prunable) {
          const live = before.get(p.name), a = w.get(p.name)!;
          const vals = [...a].map((v, i) => (live[i] ? Math.abs(v) : -1)).sort((x, y) => y - x);
          const cut = vals[Math.floor(before.perLayer().find((l) => l.name === p.name)!.kept / 2)];
          next.set(p.name, Uint8Array.from(a, (v, i) => (live[i] && Math.abs(v) > cut ? 1 : 0)));
        }
        run.setMask(new Mask(net.prunable.map((p) => [p.name, { shape: p.shape, data: next.get(p.name)! }])));
      },
    });
    run.runEpoch({ lr: 0.01, evaluate: false });
    run.trainTo(5);
    const out = { history: noTime(run.history) as unknown[], fit, afterEpochs, diverged: run.diverged, epochsDone: run.epochsDone, acc: run.testAccNow(), state: state(net) };
    run.dispose();
    return out;
  };
  const cases: Array<{ name: string; build: () => Net; ds: () => Dataset; cfg: TrainConfig; evalEveryEpoch: boolean }> = [
    { name: 'SGD + momentum, step schedule, evaluating every epoch', build: () => ffnn(5), ds: fmnist, cfg: { epochs: 5, batchSize: 64, lr: 0.05, momentum: 0.9, weightDecay: 1e-4 }, evalEveryEpoch: true },
    { name: 'Adam, augmentation, no per-epoch evaluation', build: quadCnn, ds: quadrantSet, cfg: { epochs: 5, batchSize: 16, lr: 3e-3, optimizer: 'adam', augment: CROP_FLIP }, evalEveryEpoch: false },
  ];
  for (const c of cases) {
    it(`${c.name}: a mask installed, changed mid-training, an LR override, trainTo`, () => {
      const ds = c.ds();
      const old = scenario(oldRun, ds, c.cfg, c.build, c.evalEveryEpoch), now = scenario(newRun, ds, c.cfg, c.build, c.evalEveryEpoch);
      assert.ok(old.fit > 0 && old.history.length === 5);
      assert.deepStrictEqual(now, old);
    });
  }

  it('resume (K-starts restart): startEpoch gives the legacy run with epochsDone written from outside', () => {
    const ds = fmnist(), cfg = { epochs: 4, batchSize: 64, lr: 0.05, momentum: 0.9 };
    const go = (make: typeof newRun | typeof oldRun) => {
      const net = ffnn(6);
      const run: AnyRun = make(net, ds, cfg, 3, false, 2);
      run.setMask(computeMask(net, { method: 'random', sparsity: 0.7, seed: 2 }).selection.mask);
      run.trainTo(4);
      const out = { history: noTime(run.history) as Array<{ epoch: number }>, epochsDone: run.epochsDone, state: state(net) };
      run.dispose();
      return out;
    };
    const old = go(oldRun), now = go(newRun);
    assert.deepStrictEqual(old.history.map((h) => h.epoch), [3, 4]);
    assert.deepStrictEqual(now, old);
  });

  it('a diverging run: same record, same partial epoch, and a further epoch is refused with the same message', () => {
    const ds = loadDataset('fashion-mnist', { trainLimit: 256, testLimit: 100 });
    const go = (make: typeof newRun | typeof oldRun) => {
      const net = buildModel({ arch: 'ffnn', hidden: [32], activation: 'linear' }, { seed: 0 });
      const run: AnyRun = make(net, ds, { epochs: 4, batchSize: 64, lr: 3, momentum: 0.9, schedule: { type: 'constant' } }, 0, true);
      run.trainTo(4);
      let err = '';
      try { run.runEpoch(); } catch (e) { err = (e as Error).message; }
      const out = { history: noTime(run.history), diverged: run.diverged, epochsDone: run.epochsDone, err, state: state(net) };
      run.dispose();
      return out;
    };
    const old = go(oldRun), now = go(newRun);
    assert.ok(old.diverged && old.err.length > 0);
    assert.deepStrictEqual(now, old);
  });
});

describe('one training loop: pruneAndTune fine-tuning is bit-identical to the pre-refactor loop', () => {
  const ds = () => loadDataset('fashion-mnist', { trainLimit: 200, testLimit: 64 });
  const cases: Array<{ name: string; opts: PruneAndTuneOptions }> = [
    // 200 / 48 -> 5 batches per data epoch; 3 steps per prune crosses data-epoch boundaries
    { name: 'Fisher, augmentation, rounds crossing data epochs, checkpoints with snapshots',
      opts: { criterion: 'fisher', stepsPerPrune: 3, batchSize: 48, lr: 0.01, maxPrunes: 5, checkpoints: { prunes: [2] }, snapshots: true, seed: 4, augment: { crop: { pad: 2, fill: 'zero' }, flip: true } } },
    { name: 'L1, two channels per round, Adam-free SGD without momentum', opts: { criterion: 'l1', stepsPerPrune: 2, channelsPerRound: 2, batchSize: 64, momentum: 0, maxPrunes: 4, seed: 1 } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = ds();
      const go = (f: typeof pruneAndTune) => {
        const net = buildModel('wrn10_1', { seed: 7 });
        const rounds: unknown[] = [];
        const r = f(net, d, { ...c.opts, onRound: (info) => rounds.push(noTime(info)) });
        const out = { r: noTime(r), rounds, state: state(net) };
        net.dispose();
        return out;
      };
      const old = go(legacyPruneAndTune), now = go(pruneAndTune);
      assert.ok(old.rounds.length >= 2);
      assert.deepStrictEqual(now, old);
    });
  }

  it('a diverging fine-tune throws the same error at the same step', () => {
    const d = ds();
    const go = (f: typeof pruneAndTune) => {
      const net = buildModel('wrn10_1', { seed: 7 });
      let err = '';
      try { f(net, d, { criterion: 'l1', stepsPerPrune: 4, batchSize: 64, lr: 1e6, maxPrunes: 6 }); } catch (e) { err = (e as Error).message; }
      const out = { err, state: state(net), tensors: tf.memory().numTensors };
      net.dispose();
      return out;
    };
    const old = go(legacyPruneAndTune), now = go(pruneAndTune);
    assert.match(old.err, /^pruneAndTune diverged: .* at step \d+ \(after \d+ prunes\); lower lr \(1000000\)\.$/);
    assert.deepStrictEqual(now, old);
  });
});

describe('TrainingRun: step ranges, resume and updaters', () => {
  const cfg: TrainConfig = { epochs: 4, batchSize: 64, lr: 0.05, momentum: 0.9, augment: undefined };
  it('trainSteps continues the epoch\'s data stream and rolls over: any split of the steps gives the same weights', () => {
    const ds = quadrantSet(); // 70 examples, batch 16 -> 5 batches per epoch (last one of 6)
    const qcfg: TrainConfig = { epochs: 3, batchSize: 16, lr: 0.05, momentum: 0.9, augment: CROP_FLIP };
    const go = (plan: (r: TrainingRun) => void) => {
      const net = quadCnn();
      const run = new TrainingRun(net, ds, qcfg, { seed: 3, evalEveryEpoch: false });
      plan(run);
      const out = { state: state(net), epochsDone: run.epochsDone, steps: run.steps };
      run.dispose();
      return out;
    };
    const epochs = go((r) => { r.runEpoch(); r.runEpoch(); });
    const steps = go((r) => { r.trainSteps(2); r.runEpoch(); r.trainSteps(4); r.trainSteps(1); });
    const rolled = go((r) => { r.trainSteps(10); });
    assert.deepStrictEqual([epochs.epochsDone, epochs.steps], [2, 10]);
    assert.deepStrictEqual(steps, epochs);
    assert.deepStrictEqual(rolled, epochs);
    assert.notDeepStrictEqual(go((r) => { r.trainSteps(9); }).state, epochs.state);
  });

  it('updaters: hooks every step, afterStep after each completed step, afterEpoch not after divergence; then the run refuses to go on', () => {
    const ds = loadDataset('fashion-mnist', { trainLimit: 256, testLimit: 64 });
    const net = buildModel({ arch: 'ffnn', hidden: [32], activation: 'linear' }, { seed: 0 });
    const log: string[] = [];
    let grads = 0;
    const run = new TrainingRun(net, ds, { ...cfg, lr: 3, schedule: { type: 'constant' } }, {
      evalEveryEpoch: false,
      updaters: [{
        stepHooks: (n) => { log.push(`hooks${n}`); return { onGradients: () => { grads++; } }; },
        beforeEpoch: (e) => log.push(`before${e}`),
        afterStep: ({ epoch, step }) => log.push(`step${epoch}.${step}`),
        afterEpoch: ({ epoch }) => log.push(`after${epoch}`),
      }],
    });
    run.trainTo(4);
    const d = run.diverged!;
    assert.ok(d, 'lr 3 on a linear net must diverge');
    // every step asks for hooks; the diverging one is not followed by afterStep, its epoch by no afterEpoch
    const stepsLogged = log.filter((l) => l.startsWith('step')).length;
    assert.equal(log.filter((l) => l.startsWith('hooks')).length, run.steps);
    assert.equal(stepsLogged, run.steps - 1);
    assert.equal(log[log.length - 1], `hooks64`);
    assert.deepStrictEqual(log.filter((l) => l.startsWith('after')), Array.from({ length: d.epoch }, (_, e) => `after${e}`));
    assert.equal(run.epochsDone, d.epoch + 1);
    assert.ok(grads >= stepsLogged);
    assert.throws(() => run.trainSteps(1), /Training diverged at epoch \d+ \(loss .*\); no further epochs can run\./);
    run.dispose();
    assert.throws(() => run.runEpoch(), /TrainingRun has been disposed\./);
  });

  it('resume: startEpoch runs the later epochs with their schedule and data order; bad values and two gate suppliers fail clearly', () => {
    const ds = fmnist();
    const go = (start: number) => {
      const net = ffnn(8);
      const run = new TrainingRun(net, ds, cfg, { startEpoch: start, evalEveryEpoch: false });
      const rec = run.runEpoch();
      const w = state(net);
      run.dispose();
      return { lr: rec.lr, epoch: rec.epoch, w };
    };
    const a = go(2), b = go(2), c = go(0);
    assert.deepStrictEqual([a.epoch, a.lr, c.epoch, c.lr], [3, 0.05 * 0.1, 1, 0.05]);
    assert.deepStrictEqual(a, b);
    assert.notDeepStrictEqual(a.w, c.w);
    const net = ffnn();
    assert.throws(() => new TrainingRun(net, ds, cfg, { startEpoch: -1 }), /startEpoch must be a non-negative integer, got -1/);
    const gate = () => ({ gates: new Map<string, tf.Variable>() });
    const run = new TrainingRun(net, ds, cfg, { updaters: [{ stepHooks: gate }, { stepHooks: gate }] });
    assert.throws(() => run.trainSteps(1), /more than one updater supplies gates/);
    run.dispose();
  });
});
