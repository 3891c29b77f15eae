/**
 * The one-kernel softmax cross-entropy (kernels/softmax_ce.ts) against the TF.js composition it
 * replaces (one-hot, tf.logSoftmax, mul, sum, mean, neg; argMax for the accuracy): loss, gradient and
 * count of correct rows bit for bit (cached results were computed with the composition), on wasm and
 * cpu with the native kernels; both against float64 closed forms; labels that index no class refused;
 * no tensor leaks in a training step.
 */
import { strict as assert } from 'assert';
import { buildModel, crossEntropy, crossEntropyAndCorrect, fusedSoftmaxCrossEntropy, Rng, tf, Trainer } from 'prune-at-init';
import { onNativeBackends } from './support/native-backends';

const bits = (t: tf.Tensor) => Buffer.from((t.dataSync() as Float32Array).slice().buffer).toString('hex');
const nativeExpected = process.env.PRUNE_AT_INIT_NATIVE !== '0';

/** What train.ts computed before the fused kernel (and still does where it is absent). */
function composed(logits: tf.Tensor, labels: tf.Tensor): { loss: tf.Scalar; correct: tf.Scalar } {
  const oneHot = tf.oneHot(labels, logits.shape[1]!);
  return {
    loss: tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), -1))) as tf.Scalar,
    correct: tf.sum(tf.equal(tf.argMax(logits, -1), labels)) as tf.Scalar,
  };
}

/** Float64 loss, d loss / d logits = (softmax - onehot) / N, and the first-argmax hits. */
function exact(x: Float32Array, y: Int32Array, c: number): { loss: number; grad: Float64Array; hits: number } {
  const n = y.length, grad = new Float64Array(n * c);
  let loss = 0, hits = 0;
  for (let i = 0; i < n; i++) {
    const row = Array.from(x.subarray(i * c, (i + 1) * c));
    const m = Math.max(...row);
    const z = row.reduce((s, v) => s + Math.exp(v - m), 0);
    loss += (m + Math.log(z) - row[y[i]]) / n;
    row.forEach((v, j) => { grad[i * c + j] = (Math.exp(v - m) / z - (j === y[i] ? 1 : 0)) / n; });
    if (row.indexOf(m) === y[i]) hits++;
  }
  return { loss, grad, hits };
}

if (nativeExpected) describe('softmax cross-entropy as one kernel', function () {
  this.timeout(60000);
  onNativeBackends((backend) => {
    const cases = [
      { n: 128, c: 10, scale: 3, what: 'a LeNet batch' },
      { n: 7, c: 2, scale: 1, what: 'two classes' },
      { n: 33, c: 100, scale: 30, what: 'large logits (exp underflows for most classes)' },
      { n: 1, c: 5, scale: 1e-40, what: 'subnormal logits' },
      { n: 16, c: 4, scale: 0, what: 'all logits tied (argMax takes the first)' },
    ];
    for (const k of cases) {
      it(`${k.what} (N=${k.n}, C=${k.c}): loss, gradient for an upstream dy of 3 and correct count bit for bit`, () => {
        const r = new Rng(11, `${backend}/${k.n}/${k.c}`);
        const data = Float32Array.from(r.normalArray(k.n * k.c), (v) => v * k.scale);
        // a few exact ties between a row's two largest logits
        for (let i = 0; i < k.n; i += 3) data[i * k.c + k.c - 1] = Math.max(...data.subarray(i * k.c, (i + 1) * k.c));
        const labels = Int32Array.from({ length: k.n }, () => r.int(k.c));
        const x = tf.tensor2d(data, [k.n, k.c]), y = tf.tensor1d(labels, 'int32');
        const before = tf.memory().numTensors;
        const run = (f: typeof composed) => tf.tidy(() => {
          const { loss, correct } = f(x, y);
          const g = tf.grad((l: tf.Tensor) => tf.mul(f(l, y).loss, 3))(x);
          return [loss, correct, g];
        });
        const fusedOut = run((l, t) => fusedSoftmaxCrossEntropy(l, t)!);
        const ref = run(composed);
        assert.equal(bits(fusedOut[0]), bits(ref[0]), 'loss');
        assert.equal(fusedOut[1].dataSync()[0], ref[1].dataSync()[0], 'correct count');
        assert.equal(bits(fusedOut[2]), bits(ref[2]), 'gradient');
        const want = exact(data, labels, k.c);
        assert.equal(fusedOut[1].dataSync()[0], want.hits);
        assert.ok(Math.abs(fusedOut[0].dataSync()[0] - want.loss) <= 1e-6 * Math.max(1, want.loss), `loss ${fusedOut[0].dataSync()[0]} vs ${want.loss}`);
        const g = fusedOut[2].dataSync();
        const gmax = want.grad.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        want.grad.forEach((v, i) => assert.ok(Math.abs(g[i] - 3 * v) <= 3e-6 * gmax + 1e-30, `gradient ${i}: ${g[i]} vs ${3 * v}`));
        tf.dispose([...fusedOut, ...ref]);
        assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
        tf.dispose([x, y]);
      });
    }

    it('crossEntropyAndCorrect and crossEntropy take the kernel, float labels are truncated to ints as before, nothing leaks', () => {
      const x = tf.tensor2d([2, 1, 0, 0, 3, 1], [2, 3]);
      const y = tf.tensor1d([0, 2]);
      const { loss, correct } = crossEntropyAndCorrect(x, y);
      const ref = composed(x, y.toInt());
      assert.equal(bits(loss), bits(ref.loss));
      assert.equal(correct.dataSync()[0], 1);
      const before = tf.memory().numTensors;
      const alone = crossEntropy(x, y);
      assert.equal(bits(alone), bits(ref.loss));
      alone.dispose();
      assert.equal(tf.memory().numTensors, before, 'crossEntropy outside tf.tidy leaves nothing behind');
      tf.dispose([x, y, loss, correct, ref.loss, ref.correct]);
    });

    it('refuses a label that indexes no class, naming it and the fix', () => {
      const x = tf.zeros([3, 4]);
      for (const bad of [4, -1]) {
        const y = tf.tensor1d([0, bad, 1], 'int32');
        assert.throws(() => crossEntropy(x, y), (e: Error) => e.message.includes(`label ${bad} (row 1)`) && e.message.includes('[0, 4)') && e.message.includes('numClasses'));
        y.dispose();
      }
      x.dispose();
    });

    it('a training step with it leaks no tensors and counts the rows argMax gets right', () => {
      const net = buildModel({ arch: 'ffnn', activation: 'relu', hidden: [20] }, { seed: 3, inputShape: [4, 4, 1], numClasses: 5 });
      const trainer = new Trainer(net, { epochs: 1, batchSize: 12, lr: 0.05 });
      const r = new Rng(5, 'step');
      const x = tf.tensor4d(r.normalArray(12 * 16), [12, 4, 4, 1]), y = tf.tensor1d(Int32Array.from({ length: 12 }, () => r.int(5)), 'int32');
      trainer.step(x, y, 0.05);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        const want = tf.tidy(() => tf.sum(tf.equal(tf.argMax(net.forward(x, { training: true }), -1), y)).dataSync()[0]);
        assert.equal(trainer.step(x, y, 0.05).correct, want);
      }
      assert.equal(tf.memory().numTensors, before);
      trainer.dispose(); net.dispose(); tf.dispose([x, y]);
    });
  });
});
