import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import {
  initBackend, buildModel, loadDataset, train, gather, minibatches, crossEntropy, Rng,
  divergedLoss, DIVERGENCE_LOSS_FACTOR, MaskedRun, aggregate, rowsToFrame, eocRescaling, kstartsDissipating,
} from 'prune-at-init';

before(async () => { await initBackend(); });

describe('divergence rule (issue 14 defect 4)', () => {
  it('non-finite, or above the documented multiple of the first loss', () => {
    assert.equal(DIVERGENCE_LOSS_FACTOR, 100);
    assert.equal(divergedLoss(NaN, 2.3), 'non-finite');
    assert.equal(divergedLoss(Infinity, null), 'non-finite');
    assert.equal(divergedLoss(3e31, 2.3), 'exploded'); // the finite blow-up once reported as 'ok'
    assert.equal(divergedLoss(229, 2.3), null);
    assert.equal(divergedLoss(231, 2.3), 'exploded');
    assert.equal(divergedLoss(1e9, null), null); // no reference yet: the first loss is the reference
  });

  // A linear net at a large learning rate: the loss grows geometrically, so it passes 100x the first
  // loss while still finite. Both training paths (train, MaskedRun) must flag it the same way.
  const setup = () => {
    const ds = loadDataset('fashion-mnist', { trainLimit: 256, testLimit: 100 });
    const net = buildModel({ arch: 'ffnn', hidden: [32], activation: 'linear' }, { seed: 0 });
    return { ds, net, cfg: { epochs: 4, batchSize: 64, lr: 3, momentum: 0.9, schedule: { type: 'constant' as const } } };
  };

  it('train(): a finite explosion is outcome "diverged" (reason exploded), reference = the first batch loss', () => {
    const { ds, net, cfg } = setup();
    // independent reference: cross-entropy of the untrained net on train()'s first minibatch
    const first = minibatches(ds.train.n, cfg.batchSize, new Rng(0, 'data').fork('epoch0'))[0];
    const b = gather(ds, ds.train, first);
    const l0 = tf.tidy(() => crossEntropy(net.forward(b.x, { training: true }), b.y).dataSync()[0]);
    b.x.dispose(); b.y.dispose();
    const r = train(net, ds, cfg, { seed: 0 });
    assert.equal(r.outcome, 'diverged');
    const d = r.diverged!;
    assert.equal(d.reason, 'exploded');
    assert.ok(Number.isFinite(d.loss) && d.loss > 100 * l0, `loss ${d.loss} vs first ${l0}`);
    assert.ok(Math.abs(d.initialLoss! - l0) < 1e-4 * l0, `reference ${d.initialLoss} vs ${l0}`);
    net.dispose();
  });

  it('MaskedRun uses the same rule and stops at the same step as train()', () => {
    const a = setup();
    const r = train(a.net, a.ds, a.cfg, { seed: 0 });
    a.net.dispose();
    const b = setup();
    const run = new MaskedRun(b.net, b.ds, b.cfg, { seed: 0, evalEveryEpoch: false });
    run.trainTo(b.cfg.epochs);
    assert.ok(run.diverged, 'MaskedRun should flag the explosion');
    assert.equal(run.diverged!.reason, 'exploded');
    assert.deepEqual([run.diverged!.epoch, run.diverged!.step], [r.diverged!.epoch, r.diverged!.step]);
    run.dispose();
    b.net.dispose();
  });

  it('study summaries leave diverged runs out of their means and count them', () => {
    const row = (acc: number, outcome: 'ok' | 'diverged') => ({ g: 'a', acc, history: [acc], outcome, emptyLayers: [], perLayer: [], density: 1, seconds: 0, cached: false });
    const [s] = eocRescaling.summarize([row(0.9, 'ok'), row(0.7, 'ok'), row(0.1, 'diverged')], ['g']);
    assert.ok(Math.abs(s.mean - 0.8) < 1e-12);
    assert.deepEqual([s.n, s.diverged, s.failed], [2, 1, 0]);
    const cell = { arm: 'x', model: 'm', dataset: 'd', sparsity: 0.9 };
    const rs = [{ ...cell, acc: 0.9, outcome: 'ok' }, { ...cell, acc: 0.1, outcome: 'diverged' }] as never[];
    assert.deepEqual(kstartsDissipating.values(rs, 'x', cell as never), [0.9]);
  });

  it('aggregate() leaves diverged rows out of the means and counts them', () => {
    const rows = [
      { g: 'a', acc: 0.9, outcome: 'ok' }, { g: 'a', acc: 0.8, outcome: 'ok' }, { g: 'a', acc: 0.1, outcome: 'diverged' },
      { g: 'b', acc: 0.1, outcome: 'diverged' },
    ];
    const out = aggregate(rowsToFrame(rows, ['g', 'acc', 'outcome']), ['g'], ['acc']);
    const cols = out.columns as string[];
    const vals = out.values as unknown[][];
    const get = (r: number, c: string) => vals[r][cols.indexOf(c)];
    assert.ok(Math.abs((get(0, 'acc_mean') as number) - 0.85) < 1e-12);
    assert.equal(get(0, 'acc_n'), 2);
    assert.equal(get(0, 'diverged'), 1);
    assert.ok(Number.isNaN(get(1, 'acc_mean') as number));
    assert.equal(get(1, 'acc_n'), 0);
    assert.equal(get(1, 'diverged'), 1);
  });
});
