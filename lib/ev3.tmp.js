const pai = require('/work/main/lib/dist');
const tf = require('/work/main/node_modules/@tensorflow/tfjs');
(async () => {
  await pai.initBackend();
  const model = { arch: 'ffnn', hidden: Array(19).fill(100), activation: 'tanh', init: { scheme: 'eoc' } };
  const ds = pai.loadDataset('fashion-mnist', { trainLimit: 2000, testLimit: 2000, seed: 0 });
  const net = pai.buildModel(model, { seed: 0, inputShape: ds.inputShape, numClasses: ds.numClasses });
  for (const bs of [100, 1000, 250]) {
    pai.evaluate(net, ds, ds.test, bs);
    const t0 = Date.now(); for (let k = 0; k < 3; k++) pai.evaluate(net, ds, ds.test, bs); console.log('evaluate bs', bs, ((Date.now() - t0) / 3).toFixed(0), 'ms / 2000');
  }
  const x = tf.randomNormal([1000, 784]);
  for (let k = 0; k < 2; k++) { const t0 = Date.now(); tf.tidy(() => net.forward(x).dataSync()); console.log('forward 1000', Date.now() - t0); }
  const prof = await tf.profile(() => tf.tidy(() => net.forward(x).dataSync()));
  const agg = {}; for (const k of prof.kernels) { agg[k.name] = (agg[k.name] || 0) + k.kernelTimeMs; }
  console.log(agg);
  const t0 = Date.now(); pai.train(net, ds, { epochs: 1, batchSize: 100, lr: 0.01 }, { seed: 0, evalEveryEpoch: false }); console.log('train 1 epoch 2000 + eval 2000', Date.now() - t0);
})();
