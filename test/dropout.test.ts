import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend, buildModel, Net, FfnnConfig, Trainer, loadDataset, gather } from 'prune-at-init';

before(async () => { await initBackend(); });

/** A net whose forward is just ctx.dropout on its input (no parameters). */
function dropoutOnly(rate: number, seed: number): Net {
  const net = new Net('dropout-only', [1], 1, [], (x, ctx) => ctx.dropout(x, rate), new Map());
  net.resetDropout(seed);
  return net;
}

describe('dropout (inverted, seeded, training only)', () => {
  it('entries are 0 or x/(1-p); kept fraction and mean match 1-p and 1 within 4 standard errors', () => {
    const n = 200_000;
    for (const p of [0.2, 0.5]) {
      const net = dropoutOnly(p, 3);
      const y = tf.tidy(() => net.forward(tf.ones([n, 1]), { training: true }).dataSync());
      const scale = 1 / (1 - p);
      let kept = 0, sum = 0;
      y.forEach((v) => {
        assert.ok(v === 0 || Math.abs(v - scale) < 1e-6, `entry ${v}`);
        if (v !== 0) kept++;
        sum += v;
      });
      // Bernoulli(1-p) keep: sd of the kept fraction sqrt(p(1-p)/n); of the mean sqrt(p/(1-p)/n)
      assert.ok(Math.abs(kept / n - (1 - p)) < 4 * Math.sqrt(p * (1 - p) / n), `kept ${kept / n} vs ${1 - p}`);
      assert.ok(Math.abs(sum / n - 1) < 4 * Math.sqrt(p / (1 - p) / n), `mean ${sum / n}`);
      net.dispose();
    }
  });

  it('eval mode is the identity; same seed gives the same masks, each training forward a new one', () => {
    const x = tf.randomNormal([64, 8], 0, 1, 'float32', 1);
    const a = dropoutOnly(0.5, 7), b = dropoutOnly(0.5, 7), c = dropoutOnly(0.5, 8);
    const run = (net: Net, training: boolean) => tf.tidy(() => Array.from(net.forward(x, { training }).dataSync()));
    assert.deepEqual(run(a, false), Array.from(x.dataSync()));
    const a1 = run(a, true), a2 = run(a, true), b1 = run(b, true), b2 = run(b, true), c1 = run(c, true);
    assert.deepEqual(a1, b1);
    assert.deepEqual(a2, b2);
    assert.notDeepEqual(a1, a2);
    assert.notDeepEqual(a1, c1);
    a.resetDropout(7);
    assert.deepEqual(run(a, true), a1);
    assert.throws(() => dropoutOnly(1, 0).forward(x, { training: true }), /rate must be in \[0, 1\)/);
    [a, b, c].forEach((n) => n.dispose());
    x.dispose();
  });

  it('FFNN: eval output equals the same net without dropout; for a linear net the mean training output converges to it', () => {
    const base: FfnnConfig = { arch: 'ffnn', activation: 'linear', hidden: [40, 30] };
    const plain = buildModel(base, { seed: 2, inputShape: [1, 1, 12] });
    const drop = buildModel({ ...base, dropout: 0.4 }, { seed: 2, inputShape: [1, 1, 12] });
    const x = tf.randomNormal([3, 1, 1, 12], 0, 1, 'float32', 4);
    const e0 = tf.tidy(() => Array.from(plain.forward(x).dataSync())), e1 = tf.tidy(() => Array.from(drop.forward(x).dataSync()));
    assert.deepEqual(e1, e0);
    // linear in each dropout mask and masks independent across layers: E[training output] = eval output
    const R = 600, sum = new Float64Array(e0.length), sq = new Float64Array(e0.length);
    for (let r = 0; r < R; r++) {
      const y = tf.tidy(() => drop.forward(x, { training: true }).dataSync());
      y.forEach((v, i) => { sum[i] += v; sq[i] += v * v; });
    }
    e0.forEach((v, i) => {
      const m = sum[i] / R, sd = Math.sqrt(Math.max(sq[i] / R - m * m, 0));
      assert.ok(Math.abs(m - v) <= 5 * sd / Math.sqrt(R) + 1e-6, `output ${i}: mean ${m} vs eval ${v} (sd ${sd})`);
    });
    assert.throws(() => buildModel({ ...base, dropout: 1 }), /dropout must be a rate in \[0, 1\)/);
    plain.dispose(); drop.dispose(); x.dispose();
  });

  it('LeNet with dropout trains deterministically per seed and leaks no tensors', () => {
    const ds = loadDataset('fashion-mnist', { trainLimit: 128, testLimit: 32 });
    const go = () => {
      const net = buildModel({ arch: 'ffnn', activation: 'relu', hidden: [300, 100], dropout: 0.5 }, { seed: 1 });
      const before = tf.memory().numTensors;
      const tr = new Trainer(net, { epochs: 1, batchSize: 32, lr: 0.05 });
      const losses: number[] = [];
      for (let t = 0; t < 4; t++) {
        const b = gather(ds, ds.train, Int32Array.from({ length: 32 }, (_, i) => t * 32 + i));
        losses.push(tr.step(b.x, b.y, 0.05).loss);
        b.x.dispose(); b.y.dispose();
      }
      tr.dispose();
      assert.equal(tf.memory().numTensors, before);
      net.dispose();
      return losses;
    };
    assert.deepEqual(go(), go());
  });
});
