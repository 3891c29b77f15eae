/**
 * The small dense-reference sweep that fixed the DenseNet recipe of notebook 03 (issue 13: one
 * recipe per network family, chosen on the dense net, never on a verdict): the standard base
 * DenseNet, seed 0, lr 0.1 and 0.05 at the standard epochs and at the converged schedule. The lr 0.1
 * runs are the study's own base and converged configs (one cache entry each, in data/results/rvp-train).
 *   npx tsx scripts/recipe-sweep-densenet.ts [workers]
 */
import * as pai from 'prune-at-init';

const workers = Number(process.argv[2] ?? 1);

async function main(): Promise<void> {
  const dn = pai.reducedVsPrunedDenseNet;
  const p = dn.plan('standard', { workers });
  const own = dn.trainJobs(p, [0]).filter((j) => j.meta.family === 'base' || j.meta.family === 'dense-converged');
  const configs = [...own.map((j) => j.config), ...own.map((j) => ({ ...j.config, train: { ...j.config.train, lr: 0.05 } }))];
  const recs = await pai.runSweep<any>({ task: pai.reducedVsPruned.RVP_TRAIN_TASK, configs: configs as any, workers, progressBar: false });
  recs.forEach((r, i) => {
    const c = configs[i] as any;
    const what = `DenseNet-BC-${c.model.depth} (k=${c.model.growth}) FMNIST ${c.data.trainLimit}/${c.data.testLimit} sgd b${c.train.batchSize} lr ${c.train.lr} E ${c.train.epochs}`;
    if (r.status === 'error') { console.log(`${what}: ERROR ${r.error.message}`); return; }
    const h: number[] = r.result.history ?? [];
    console.log(`${what}: error ${r.result.testError.toFixed(4)}` + (h.length > 1 ? ` last-epoch gain ${(h[h.length - 1] - h[h.length - 2]).toFixed(4)}` : '') +
      ` ${r.result.seconds.toFixed(0)} s wall (${r.status})`);
  });
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
