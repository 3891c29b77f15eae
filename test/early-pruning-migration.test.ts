import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  cluster, datasetIdentity, describeConfig, encodeRecord, kstartsDissipating as ksd, migrateV1Config, openStore, recordKey, runSweep, RunRecord,
} from 'prune-at-init';

const TASK = ksd.EARLY_PRUNING_TASK;

// A full v1 config as the 'haroon' task stored it (every default filled in), written out by hand.
const V1_FULL = {
  method: 'combined', model: 'lenet300', dataset: 'fashion-mnist', trainLimit: null, testLimit: 2000, subsetSeed: 0, sparsity: 0.98, epochs: 6,
  train: { batchSize: 128, lr: 0.05, optimizer: 'sgd', momentum: 0.9, weightDecay: 0 }, seed: 2, initSeed: null, maskSeed: 7, dataSeed: null,
  maskScope: 'layerwise', scoreScope: 'global', dissipationScope: 'layerwise', k: 4, selectionEpochs: 1, fitness: 'magnitude', direction: 'max',
  normalize: 'none', pick: 'fitness', init: 'shared', afterSelection: 'continue', evaluateAllCandidates: false, dissipationEpochs: 2,
  schedule: 'geometric', rule: 'exact', dissipationScore: 'relative-change', alpha: 0.1, maxEpochs: null, epsScale: 0.01, combination: 'A',
  p1: null, snipOptions: {}, extraEpochs: 2, extraMode: 'finetune', extraLr: 0.005, evalEveryEpoch: true, evalTrainSplit: true, maskPath: null,
};
// The same run in today's shape, written out by hand from the schema's documentation.
const V2_FULL = {
  model: 'lenet300', data: { name: 'fashion-mnist', trainLimit: 0, testLimit: 2000 },
  prune: {
    method: 'combined', sparsity: 0.98, scope: 'global', randomScope: 'layerwise', options: {},
    kstarts: { k: 4, selectionEpochs: 1, fitness: 'magnitude', direction: 'max', normalize: 'none', pick: 'fitness', init: 'shared', afterSelection: 'continue', evaluateAllCandidates: false },
    dissipation: { epochs: 2, schedule: 'geometric', rule: 'exact', score: 'relative-change', scope: 'layerwise', alpha: 0.1, maxEpochs: null, epsScale: 0.01 },
    combined: { variant: 'A', p1: null },
  },
  train: { epochs: 6, batchSize: 128, lr: 0.05, optimizer: 'sgd', momentum: 0.9, weightDecay: 0 },
  seed: 2, seeds: { init: null, mask: 7, data: null },
  extra: { epochs: 2, mode: 'finetune', lr: 0.005 }, eval: { everyEpoch: true, trainSplit: true }, maskPath: null,
};

describe('early-pruning configs: the v1 (flat) shape migrates to today\'s', () => {
  it('a full v1 config maps key by key to the hand-written nested config, which validates and names the same run', () => {
    assert.deepEqual(migrateV1Config(V1_FULL), V2_FULL);
    const d = describeConfig(TASK, V2_FULL);
    // the canonical form keeps only what differs from the defaults: the grouping, not a restatement of them
    assert.equal(d.canonical, '{"data":{"testLimit":2000},"eval":{"trainSplit":true},"extra":{"epochs":2,"lr":0.005},' +
      '"prune":{"kstarts":{"k":4},"method":"combined","sparsity":0.98},"seed":2,"seeds":{"mask":7},"train":{"epochs":6}}');
    // a partial v1 config (what a study wrote) gives the same key as the full one
    assert.equal(describeConfig(TASK, migrateV1Config({ method: 'combined', testLimit: 2000, sparsity: 0.98, epochs: 6, seed: 2, maskSeed: 7, k: 4, extraEpochs: 2, extraLr: 0.005, evalTrainSplit: true })).key, d.key);
  });

  it('"all data" is 0 everywhere; what v1 never allowed or today cannot express is refused by name', () => {
    assert.deepEqual(migrateV1Config({ trainLimit: null, testLimit: 300 }), { data: { trainLimit: 0, testLimit: 300 } });
    assert.throws(() => migrateV1Config({ subsetSeed: 3 }), /subsetSeed 3 has no counterpart/);
    assert.throws(() => migrateV1Config({ epochs: 4, train: { epochs: 5, lr: 0.1 } }), /train\.epochs \(5\) differs from epochs \(4\)/);
    assert.throws(() => migrateV1Config({ kk: 4 }), /unknown v1 key 'kk'/);
    assert.throws(() => describeConfig(TASK, { method: 'dense', dataset: 'mnist' }),
      /unknown keys 'method', 'dataset'[^]*the flat shape of task 'haroon'[^]*\{"data":\{"name":"mnist"\},"prune":\{"method":"dense"\}\}/);
  });
});

describe('early-pruning store: a v1 store is adopted, re-keyed, without loss', function () {
  this.timeout(60000);
  let root: string;
  // a v1 record's key is the hash of its canonical form (bundles check it); `tag` stands in for that form
  const v1Record = (tag: string, config: Record<string, unknown>, acc: number): RunRecord => ({
    format: 1, key: recordKey(`{"v1":"${tag}"}`, [datasetIdentity('fashion-mnist')]), task: 'haroon', canonical: `{"v1":"${tag}"}`, config, data: [datasetIdentity('fashion-mnist')],
    result: { method: config.method, outcome: 'ok', finalTestAcc: acc }, meta: { backend: null, versions: { node: 'v20', lib: '0' }, startedAt: 'a', finishedAt: 'b', seconds: 1, host: 'h', pid: 1 },
  } as RunRecord);
  const writeV1 = (dir: string, rec: RunRecord) => { fs.mkdirSync(dir, { recursive: true }); fs.writeFileSync(path.join(dir, `${rec.key}.json`), encodeRecord(rec)); };
  beforeEach(() => { root = fs.mkdtempSync(path.join(os.tmpdir(), 'ep-migrate-')); });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('opening the store moves each record under its new key; a sweep of the nested config finds it cached; the v1 folder goes', async () => {
    const a = v1Record('a', V1_FULL, 0.875);
    writeV1(path.join(root, 'haroon'), a);
    writeV1(path.join(root, 'haroon'), v1Record('b', { ...V1_FULL, seed: 3 }, 0.5));
    const store = openStore({ dir: path.join(root, 'early-pruning') });
    assert.ok(!fs.existsSync(path.join(root, 'haroon')), 'the emptied v1 folder is removed');
    const key = describeConfig(TASK, V2_FULL).key;
    const rec = store.get<{ finalTestAcc: number }>(key)! as RunRecord<{ finalTestAcc: number }> & { migratedFrom: unknown };
    assert.equal(rec.result.finalTestAcc, 0.875);
    assert.deepEqual(rec.migratedFrom, { task: 'haroon', key: a.key, canonical: '{"v1":"a"}' });
    assert.equal(store.keys().length, 2);
    // the engine serves it: no compute (a compute would fail: the run is far too long for this test's time limit)
    const [r] = await runSweep({ task: TASK, configs: [V2_FULL], workers: 0, store: path.join(root, 'early-pruning') });
    assert.equal(r.status, 'cached');
  });

  it('resumes after a crash between writing the new record and removing the old; a record it cannot migrate stays where it was', () => {
    const key = describeConfig(TASK, V2_FULL).key;
    writeV1(path.join(root, 'haroon'), v1Record('a', V1_FULL, 0.875));
    writeV1(path.join(root, 'early-pruning'), { ...v1Record('a', {}, 0.875), key, task: 'early-pruning', config: V2_FULL, canonical: describeConfig(TASK, V2_FULL).canonical });
    const c = v1Record('c', { ...V1_FULL, subsetSeed: 1 }, 0.25);
    writeV1(path.join(root, 'haroon'), c);
    const store = openStore({ dir: path.join(root, 'early-pruning') });
    assert.deepEqual(store.keys(), [key], 'no duplicate of the record already moved');
    assert.deepEqual(fs.readdirSync(path.join(root, 'haroon')), [`${c.key}.json`], 'the record that cannot be migrated is kept, untouched');
  });

  it('a bundle of v1 records imports into today\'s store under the new keys', () => {
    const src = path.join(root, 'src'), dst = path.join(root, 'dst'), file = path.join(root, 'v1.json.gz');
    writeV1(path.join(src, 'haroon'), v1Record('a', V1_FULL, 0.875));
    cluster.exportBundle(src, file);
    const rep = cluster.importBundle(file, dst);
    assert.deepEqual([rep.imported, rep.migrated, rep.invalid.length], [1, 1, 0]);
    assert.deepEqual(fs.readdirSync(dst), ['early-pruning']);
    assert.equal(openStore({ dir: path.join(dst, 'early-pruning') }).get<{ finalTestAcc: number }>(describeConfig(TASK, V2_FULL).key)!.result.finalTestAcc, 0.875);
  });
});
