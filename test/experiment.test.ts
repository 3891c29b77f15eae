import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runSweep, PRUNE_TRAIN_TASK, runPruneTrain, configKey, PRUNE_TRAIN_DEFAULTS } from 'prune-at-init';

describe('prune-train experiment task', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pai-exp-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const base = {
    model: { arch: 'ffnn', hidden: [32, 32, 32], activation: 'tanh', init: { scheme: 'eoc' } },
    data: { name: 'mnist', trainLimit: 500, testLimit: 200 },
    train: { epochs: 1, batchSize: 50, lr: 0.05, optimizer: 'sgd', momentum: 0.9, weightDecay: 0, schedule: { type: 'constant' } },
  };

  it('prunes to the exact density, trains, and reports final-epoch metrics; a rerun is served from the cache', async () => {
    const configs = ['snip', 'sbp-sr'].map((method) => ({ ...base, prune: { method, sparsity: 0.9, scope: 'global', options: {} }, seed: 1 }));
    const first = await runSweep({ task: PRUNE_TRAIN_TASK, configs, workers: 0, store: dir });
    for (const r of first) {
      if (r.status !== 'computed') assert.fail(`expected a computed run, got ${r.status}: ${JSON.stringify(r)}`);
      const res = r.result as Awaited<ReturnType<typeof runPruneTrain>>;
      assert.equal(res.kept, Math.round(0.1 * res.prunable));
      assert.equal(res.epochs.length, 1);
      assert.equal(res.finalTestAcc, res.epochs[0].testAcc);
      assert.ok(res.finalTestAcc > 0.1, `accuracy ${res.finalTestAcc}`);
    }
    const again = await runSweep({ task: PRUNE_TRAIN_TASK, configs, workers: 0, store: dir });
    assert.deepEqual(again.map((r) => r.status), ['cached', 'cached']);
  });

  it('the cache key ignores options left at their defaults', () => {
    const a = configKey({ ...base, seed: 0 }, PRUNE_TRAIN_DEFAULTS);
    const b = configKey({ ...base, seed: 0, prune: { method: 'none', sparsity: 0, scope: 'global', options: {} } }, PRUNE_TRAIN_DEFAULTS);
    assert.equal(a, b);
  });
});
