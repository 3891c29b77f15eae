import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend, buildModel, Trainer } from 'prune-at-init';

before(async () => { await initBackend(); });

/**
 * A float64 reference of several optimiser steps on a linear softmax classifier, written from the
 * update rules' definitions (PyTorch SGD with momentum: buf = mu buf + g, w -= lr buf; Adam, Kingma &
 * Ba 2015, Alg. 1, with weight decay added to the gradient as torch.optim.Adam does), with the
 * cross-entropy gradient in closed form: dL/dz = softmax(z) - onehot(y), averaged over the batch.
 */
function reference(opt: 'sgd' | 'adam', w0: number[], b0: number[], x: number[][], y: number[], steps: number, lr: number, wd: number, mu: number) {
  const d = x[0].length, c = b0.length;
  const w = [...w0], b = [...b0];
  const m = { w: w.map(() => 0), b: b.map(() => 0) }, v = { w: w.map(() => 0), b: b.map(() => 0) };
  for (let t = 1; t <= steps; t++) {
    const gw = w.map(() => 0), gb = b.map(() => 0);
    for (let n = 0; n < x.length; n++) {
      const z = Array.from({ length: c }, (_, k) => b[k] + x[n].reduce((a, xi, i) => a + xi * w[i * c + k], 0));
      const zmax = Math.max(...z), e = z.map((zk) => Math.exp(zk - zmax)), s = e.reduce((a, q) => a + q, 0);
      for (let k = 0; k < c; k++) {
        const dz = (e[k] / s - (k === y[n] ? 1 : 0)) / x.length;
        gb[k] += dz;
        for (let i = 0; i < d; i++) gw[i * c + k] += x[n][i] * dz;
      }
    }
    for (const [p, g, key] of [[w, gw, 'w'], [b, gb, 'b']] as const) {
      for (let j = 0; j < p.length; j++) {
        const gj = g[j] + wd * p[j];
        if (opt === 'sgd') {
          m[key][j] = mu * m[key][j] + gj;
          p[j] -= lr * m[key][j];
        } else {
          m[key][j] = 0.9 * m[key][j] + 0.1 * gj;
          v[key][j] = 0.999 * v[key][j] + 0.001 * gj * gj;
          const mh = m[key][j] / (1 - 0.9 ** t), vh = v[key][j] / (1 - 0.999 ** t);
          p[j] -= lr * mh / (Math.sqrt(vh) + 1e-8);
        }
      }
    }
  }
  return { w, b };
}

describe('optimisers against a float64 reference over several steps', () => {
  const xs = [[1, -2, 0.5], [0.3, 0.8, -1.1], [-0.7, 0.1, 2.0], [1.5, 1.0, -0.2]];
  const ys = [0, 2, 1, 2];
  for (const [opt, lr, wd] of [['sgd', 0.3, 0.01], ['sgd', 0.1, 0], ['adam', 0.05, 0.01], ['adam', 0.01, 0]] as const) {
    it(`${opt} (lr ${lr}, weight decay ${wd}): 6 steps, momentum/moment state carried between steps`, () => {
      const net = buildModel({ arch: 'ffnn', hidden: [], activation: 'linear', inputShape: [1, 3, 1], numClasses: 3 }, { seed: 4 });
      const w0 = [...net.getWeights().get('fc1/kernel')!], b0 = [...net.params.get('fc1/bias')!.dataSync()];
      const x = tf.tensor4d(xs.flat(), [4, 1, 3, 1]), y = tf.tensor1d(ys, 'int32');
      const trainer = new Trainer(net, { epochs: 1, batchSize: 4, lr, optimizer: opt, momentum: 0.9, weightDecay: wd });
      for (let s = 0; s < 6; s++) trainer.step(x, y, lr);
      const ref = reference(opt, w0, b0, xs, ys, 6, lr, wd, 0.9);
      const w = net.getWeights().get('fc1/kernel')!, b = net.params.get('fc1/bias')!.dataSync();
      // The reference moves the weights far from w0: the comparison is not satisfied by standing still.
      assert.ok(ref.w.some((r, i) => Math.abs(r - w0[i]) > 0.05));
      ref.w.forEach((r, i) => assert.ok(Math.abs(w[i] - r) < 2e-5, `w[${i}]: ${w[i]} vs float64 ${r}`));
      ref.b.forEach((r, i) => assert.ok(Math.abs(b[i] - r) < 2e-5, `b[${i}]: ${b[i]} vs float64 ${r}`));
      trainer.dispose(); net.dispose(); tf.dispose([x, y]);
    });
  }
});
