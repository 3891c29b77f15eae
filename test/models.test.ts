import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend, buildModel, Mask, crossEntropy, parseModelName, Rng } from 'prune-at-init';

before(async () => { await initBackend(); });

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

describe('masked models', () => {
  it('FFNN forward equals a hand computation with the mask applied', () => {
    const net = buildModel({ arch: 'ffnn', hidden: [3], activation: 'tanh', inputShape: [1, 2, 1], numClasses: 2 }, { seed: 1 });
    const w = net.getWeights();
    const W1 = w.get('fc1/kernel')!, b1 = w.get('fc1/bias')!, W2 = w.get('fc2/kernel')!, b2 = w.get('fc2/bias')!;
    const m1 = [1, 0, 1, 1, 1, 0], m2 = [0, 1, 1, 1, 1, 0];
    net.setMask(new Mask([['fc1/kernel', { shape: [2, 3], data: m1 }], ['fc2/kernel', { shape: [3, 2], data: m2 }]]));
    const x = [0.3, -1.2];
    const h = [0, 1, 2].map((j) => Math.tanh(x[0] * W1[j] * m1[j] + x[1] * W1[3 + j] * m1[3 + j] + b1[j]));
    const y = [0, 1].map((k) => h[0] * W2[k] * m2[k] + h[1] * W2[2 + k] * m2[2 + k] + h[2] * W2[4 + k] * m2[4 + k] + b2[k]);
    const out = tf.tidy(() => net.forward(tf.tensor4d(x, [1, 1, 2, 1])).dataSync());
    close(out, y, 1e-5, 'logits');
    net.dispose();
  });

  it('init: W = sigma_w/sqrt(fan_in) * Z with the same Z for every sigma_w; sample variance matches', () => {
    const a = buildModel({ arch: 'ffnn', hidden: [400], activation: 'tanh', init: { scheme: 'explicit', sigmaW: 1, sigmaB: 0.3 } }, { seed: 7 });
    const b = buildModel({ arch: 'ffnn', hidden: [400], activation: 'tanh', init: { scheme: 'explicit', sigmaW: 2.5, sigmaB: 0.3 } }, { seed: 7 });
    const wa = a.getWeights().get('fc1/kernel')!, wb = b.getWeights().get('fc1/kernel')!;
    for (let i = 0; i < 100; i++) assert.ok(Math.abs(wb[i] - 2.5 * wa[i]) < 1e-6);
    let s2 = 0; for (const v of wa) s2 += v * v;
    const varW = s2 / wa.length; // expected 1/784
    assert.ok(Math.abs(varW * 784 - 1) < 0.02, `var*fan_in = ${varW * 784}`);
    let bb = 0; const bias = a.getWeights().get('fc1/bias')!; for (const v of bias) bb += v * v;
    assert.ok(Math.abs(Math.sqrt(bb / bias.length) - 0.3) < 0.05);
    a.dispose(); b.dispose();
  });

  it('parameter counts match the closed-form WRN formula (Crowley brief: WRN-16-2 1ch = 691,386; WRN-40-2 CIFAR = 2,243,546)', () => {
    const w16 = buildModel('wrn16_2');
    assert.equal(w16.numParams, 691386);
    assert.equal(w16.unitGroups.reduce((a, g) => a + g.size, 0), 448);
    w16.dispose();
    const w40 = buildModel('wrn40_2', { inputShape: [32, 32, 3] });
    assert.equal(w40.numParams, 2243546);
    assert.equal(w40.unitGroups.reduce((a, g) => a + g.size, 0), 1344);
    w40.dispose();
    const bott = buildModel({ arch: 'wrn', depth: 40, widthFactor: 2, bottleneck: 0.5, inputShape: [32, 32, 3] });
    assert.equal(bott.numParams, 1129370);
    bott.dispose();
    const lenet = buildModel('lenet300');
    assert.equal(lenet.numParams, 266610);
    lenet.dispose();
  });

  it('names parse, and bad names/configs fail with a clear message', () => {
    assert.deepEqual(parseModelName('ffnn_tanh_d10_w100'), { arch: 'ffnn', activation: 'tanh', hidden: Array(9).fill(100) });
    assert.throws(() => parseModelName('vgg99'), /Unknown model name 'vgg99'/);
    assert.throws(() => buildModel({ arch: 'resnet', depth: 21 }), /6n\+2/);
    assert.throws(() => buildModel({ arch: 'ffnn', hidden: [10], activation: 'swish' as never }), /Unknown activation 'swish'/);
  });

  it('ResNet, Stable ResNet, CNN and WRN run forward/backward with the right output shape', () => {
    for (const name of ['cnn_small', 'resnet8', 'resnet8_stable', 'wrn10_1']) {
      const net = buildModel(name, { seed: 0 });
      const x = tf.randomNormal([2, 28, 28, 1]);
      const y = tf.tensor1d([1, 3], 'int32');
      const g = tf.variableGrads(() => crossEntropy(net.forward(x, { training: true }), y), [...net.params.values()]);
      net.commitBatchNorm(false);
      assert.equal(Object.keys(g.grads).length, net.params.size, name);
      tf.dispose([x, y, g.value, ...Object.values(g.grads)]);
      net.dispose();
    }
  });

  it('pruned weights get exactly zero gradient (masked in call)', () => {
    const net = buildModel('cnn_small', { seed: 3 });
    const rng = new Rng(1);
    const mask = new Mask(net.prunable.map((p) => [p.name, { shape: p.shape, data: Uint8Array.from({ length: p.size }, () => (rng.uniform() < 0.5 ? 1 : 0)) }]));
    net.setMask(mask);
    const x = tf.randomNormal([4, 28, 28, 1]), y = tf.tensor1d([0, 1, 2, 3], 'int32');
    const { grads, value } = tf.variableGrads(() => crossEntropy(net.forward(x), y), [...net.params.values()]);
    for (const p of net.prunable) {
      const g = grads[net.params.get(p.name)!.name].dataSync();
      const m = mask.get(p.name);
      let nonzeroKept = 0;
      for (let i = 0; i < g.length; i++) { if (!m[i]) assert.ok(g[i] === 0, `${p.name}[${i}] = ${g[i]}`); else if (g[i] !== 0) nonzeroKept++; }
      assert.ok(nonzeroKept > 0, `${p.name}: kept weights should get gradient`);
    }
    tf.dispose([x, y, value, ...Object.values(grads)]);
    net.dispose();
  });

  it('BatchNorm (training) normalises each channel; eval uses running stats with PyTorch momentum', () => {
    const net = buildModel({ arch: 'cnn', channels: [4], activation: 'linear', batchNorm: true, inputShape: [3, 3, 1], numClasses: 2 }, { seed: 0 });
    const rec = new Map<string, tf.Tensor>();
    const x = tf.randomNormal([8, 3, 3, 1], 0, 1, 'float32', 5);
    tf.tidy(() => net.forward(x, { training: true, record: rec }));
    const a = rec.get('conv1')!; // recorded after BN
    const { mean, variance } = tf.moments(a, [0, 1, 2]);
    close(mean.dataSync(), [0, 0, 0, 0], 1e-4, 'bn mean');
    close(variance.dataSync(), [1, 1, 1, 1], 1e-3, 'bn var');
    // running mean after one update = 0.9 * 0 + 0.1 * batch mean of the conv output
    const conv = tf.conv2d(x as tf.Tensor4D, net.params.get('conv1/kernel')! as tf.Tensor4D, 1, 'same');
    const bm = tf.moments(conv, [0, 1, 2]).mean.dataSync();
    net.commitBatchNorm(true);
    close(net.getBuffers().get('bn1/mean')!, Array.from(bm).map((v) => 0.1 * v), 1e-4, 'running mean');
    tf.dispose([x, a, mean, variance, conv]); rec.clear();
    net.dispose();
  });
});

describe('Net lifecycle and mask files', () => {
  it('building and disposing a net leaves no tensors behind', () => {
    const before = tf.memory().numTensors;
    for (const name of ['lenet300', 'resnet8', 'wrn10_1']) buildModel(name).dispose();
    assert.equal(tf.memory().numTensors, before);
  });
  it('Mask.save / Mask.load round-trips (safetensors, U8)', () => {
    const fs = require('fs') as typeof import('fs'), os = require('os') as typeof import('os'), path = require('path') as typeof import('path');
    const net = buildModel('cnn_small', { seed: 1 });
    const rng = new Rng(5);
    const m = new Mask(net.prunable.map((p) => [p.name, { shape: p.shape, data: Uint8Array.from({ length: p.size }, () => (rng.uniform() < 0.3 ? 1 : 0)) }]));
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pai-mask-')), 'mask.safetensors');
    m.save(file);
    const back = Mask.load(file);
    assert.ok(back.equals(m));
    assert.deepEqual(back.perLayer(), m.perLayer());
    net.dispose();
  });
});
