/**
 * The small dense-reference sweep that fixed the DenseNet recipe and the standard budget of notebook
 * 03 (issue 13: one recipe per network family, chosen on the dense net, never on a verdict): the
 * standard base DenseNet-BC-16 (k=4), seed 0, the WRN family's schedule (×0.2 at 30/60/80 % of the
 * epochs, wd 5e-4, batch 32), lr 0.1 vs 0.05 at 8 and 24 epochs on 2,000 images, then lr 0.1 at more
 * epochs (and on 1,000 and 500 images, at batch 32 and 16, seeds 0-2) to find a schedule that ends near its own long run. Cached in
 * data/results/rvp-train like any result; prints one line per config.
 *   npx tsx scripts/recipe-sweep-densenet.ts [workers]
 */
import * as pai from 'prune-at-init';

const workers = Number(process.argv[2] ?? 1);

/** [training images, lr, epochs, batch size, seed]; 1,000 test images each. */
const GRID: Array<[number, number, number, number, number]> = [
  [2000, 0.1, 8, 32, 0], [2000, 0.1, 24, 32, 0], [2000, 0.05, 8, 32, 0], [2000, 0.05, 24, 32, 0], [2000, 0.1, 12, 32, 0],
  [1000, 0.1, 16, 32, 0], [1000, 0.1, 20, 32, 0], [1000, 0.1, 24, 32, 0], [1000, 0.1, 48, 32, 0], [1000, 0.1, 24, 32, 1], [1000, 0.1, 24, 32, 2],
  [1000, 0.1, 24, 16, 0], [1000, 0.1, 24, 16, 1], [1000, 0.1, 48, 16, 0],
  [500, 0.1, 48, 32, 0], [500, 0.1, 48, 32, 1], [500, 0.1, 48, 32, 2], [500, 0.1, 96, 32, 0],
];

async function main(): Promise<void> {
  const dn = pai.reducedVsPrunedDenseNet;
  const base = dn.trainJobs(dn.plan('standard', { workers }), [0]).find((j) => j.meta.family === 'base')!.config;
  const configs = GRID.map(([n, lr, epochs, batchSize, seed]) => ({
    ...base, data: { ...base.data, trainLimit: n, testLimit: 1000 }, train: { ...base.train, lr, epochs, batchSize }, initSeed: seed, seed, keepState: false,
  }));
  const recs = await pai.runSweep<any>({ task: pai.reducedVsPruned.RVP_TRAIN_TASK, configs: configs as any, workers, progressBar: false });
  recs.forEach((r, i) => {
    const c = configs[i];
    const what = `DenseNet-BC-${c.model.depth} (k=${c.model.growth}) FMNIST ${c.data.trainLimit}/${c.data.testLimit} sgd b${c.train.batchSize} lr ${c.train.lr} E ${c.train.epochs} seed ${c.seed}`;
    if (r.status === 'error') { console.log(`${what}: ERROR ${r.error.message}`); return; }
    const h: number[] = r.result.history ?? [];
    console.log(`${what}: accuracy ${(1 - r.result.testError).toFixed(4)}` + (h.length > 1 ? ` last-epoch gain ${(h[h.length - 1] - h[h.length - 2]).toFixed(4)}` : '') +
      ` ${r.result.seconds.toFixed(0)} s wall (${r.status})`);
  });
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
