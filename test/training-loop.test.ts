/**
 * The one training loop (lib/src/training-run.ts): step ranges, resume and updaters. train(), MaskedRun
 * and pruneAndTune run through it; differential tests against verbatim copies of the three loops it
 * replaced (bit-identical weights, BN statistics, metrics and divergence records) passed from commit
 * 519d349 to a90a018 and were then retired with those copies (issue #15: "before the old path is deleted").
 */
import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend, buildModel, loadDataset, Net, TrainConfig, Augment, TrainingRun } from 'prune-at-init';
import { quadrants } from './support/quadrants';

before(async () => { await initBackend(); });

/** Every parameter and buffer, as raw bytes (bit-identical means byte-identical). */
function state(net: Net): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [n, v] of net.getWeights()) out[`p:${n}`] = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  for (const [n, v] of net.getBuffers()) out[`b:${n}`] = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  return out;
}

const quadrantSet = () => quadrants(70, { mean: [0], std: [1] });
const fmnist = () => loadDataset('fashion-mnist', { trainLimit: 300, testLimit: 100 });
const ffnn = (seed = 3) => buildModel({ arch: 'ffnn', hidden: [32, 16], activation: 'relu' }, { seed });
const quadCnn = () => buildModel({ arch: 'cnn', activation: 'relu', channels: [4, 'M'] }, { seed: 1, inputShape: [6, 6, 1], numClasses: 4 });
const CROP_FLIP: Augment = { crop: { pad: 1, fill: 'zero' }, flip: true };

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
