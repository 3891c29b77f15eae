/**
 * The dense gate of notebook 02's ResNet analogue on another training subset or schedule (issue 13:
 * what would a smaller standard budget give its dense reference?). Runs the plan's own dense configs
 * (gateJobs' converged run and the trained dense arm's seeds) with only the subset, epochs and
 * converged epochs changed, through the engine (cached in PRUNE_AT_INIT_RESULTS like any result).
 *   npx tsc -b && node build/scripts/resnet-dense-gate.js [trainLimit=500] [epochs=48] [convergedEpochs=4*epochs] [workers=1]
 */
import * as pai from 'prune-at-init';

async function main(): Promise<void> {
  const [trainLimit, epochs] = [Number(process.argv[2] ?? 500), Number(process.argv[3] ?? 48)];
  const converged = Number(process.argv[4] ?? 4 * epochs), workers = Number(process.argv[5] ?? 1);
  const eoc = pai.eocRescaling;
  const p0 = eoc.plan('standard', [0, 1, 2]);
  const t = p0.resnet.trained;
  const p = { ...p0, resnet: { ...p0.resnet, trained: { ...t, data: { ...t.data, trainLimit }, train: { ...t.train, epochs }, convergedEpochs: converged } } };
  const jobs = [...eoc.gateJobs(p).filter((j) => j.tag.section === 'resnet'), ...eoc.resnetJobs(p).trained.filter((j) => j.config.prune.method === 'none')];
  const recs = await pai.runSweep<any>({ task: pai.PRUNE_TRAIN_TASK, configs: jobs.map((j) => j.config) as any, workers, progressBar: false });
  recs.forEach((r, i) => {
    const c = jobs[i].config;
    if (r.status === 'error') { console.log(`${c.train.epochs} epochs, seed ${c.seed}: ERROR ${r.error.message}`); return; }
    console.log(`ResNet-20 Fashion-MNIST ${trainLimit}/${c.data.testLimit}, ${c.train.epochs} epochs, seed ${c.seed}: final test accuracy ` +
      `${r.result.finalTestAcc.toFixed(4)} (${r.status})`);
  });
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
