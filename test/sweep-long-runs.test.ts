/**
 * `sweep plan` lists the long runs of arms at chance (notebook/gate.ts chanceLongRun) as a dependent
 * stage of notebooks 01, 02, 04 and 05: deferred while the budget records they depend on are
 * missing, empty when no arm sits at chance, and, when every arm sits at chance, the budget configs
 * of the arms the notebook re-trains, with the converged schedule. Records are stand-ins with a set
 * final accuracy (only the accuracy and outcome decide the long runs).
 */
import { strict as assert } from 'assert';
import { cluster, eocRescaling, kstartsDissipating, layerCollapse, PlainObject, PRUNE_TRAIN_TASK, sanityChecks, TaskSpec } from 'prune-at-init';

type Planned = cluster.PlannedConfig;

/** Per-layer kept counts of a stand-in prune-train record: a chain with nothing emptied (connected), or with its second layer emptied (no input-output path). */
const CONNECTED = [{ name: 'fc1/kernel', kept: 5 }, { name: 'fc2/kernel', kept: 5 }];
const CUT = [{ name: 'fc1/kernel', kept: 5 }, { name: 'fc2/kernel', kept: 0 }];

/**
 * A store where every config has a record: prune-train and Haroon runs end at `acc`; each init analysis
 * measures critical sparsity 0.5. `long` (configs longer than the budget's, i.e. long runs): their
 * accuracy by seed, or null for no record yet (default: `acc`).
 */
function lookupAt(acc: number | null, long?: (seed: number) => number | null, budgetEpochs?: (c: PlainObject) => boolean, perLayer: Array<{ name: string; kept: number }> = CONNECTED): cluster.RecordLookup {
  return {
    get<R>(task: TaskSpec, config: PlainObject) {
      if (acc === null) return undefined;
      if (long && budgetEpochs && !budgetEpochs(config)) {
        const a = long(Number(config.seed));
        if (a === null) return undefined;
        return { result: task.name === PRUNE_TRAIN_TASK.name ? { finalTestAcc: a, outcome: 'ok', perLayer } : { method: 'random', outcome: 'ok', finalTestAcc: a, diagnostics: { history: [] } } } as never as R & undefined;
      }
      let result: unknown;
      if (task.name === layerCollapse.LAYER_COLLAPSE_INIT_TASK.name) {
        const critical = { sparsity: 0.5, firstEmpty: 1, firstEmptyName: 'fc1' };
        const runs = (['ordered', 'eoc', 'chaotic'] as const).flatMap((phase) => ['snip', 'magnitude'].map((method) => ({ phase, method, critical, zeroScores: 0 })));
        result = { depth: config.depth, seed: config.seed, layerNames: ['fc1', 'fc2', 'fc3'], runs };
      } else if (task.name === kstartsDissipating.EARLY_PRUNING_TASK.name) {
        result = { method: 'random', outcome: 'ok', finalTestAcc: acc, accAtTarget: acc, epochsToTarget: 1, density: 0.1, extraTrainAcc: null, compute: { trainingEpochs: 1 }, seconds: 1, diagnostics: { history: [] } };
      } else {
        assert.equal(task.name, PRUNE_TRAIN_TASK.name);
        result = { finalTestAcc: acc, outcome: 'ok', perLayer };
      }
      return { result } as never as R & undefined;
    },
  };
}

const NOTEBOOKS = ['01', '02', '04', '05'];
const plan = (id: string, acc: number | null, budget = 'smoke') => cluster.notebooksConfigs(id, budget, undefined, lookupAt(acc));
const longOf = (xs: Planned[]) => xs.filter((c) => c.stage === 'long runs');
/** Epochs of a config (prune-train: train.epochs; Haroon: epochs) and the config without them. */
const epochsOf = (c: PlainObject) => Number((c.train as PlainObject | undefined)?.epochs ?? c.epochs);
const withoutSchedule = (c: PlainObject) => JSON.stringify({ ...c, train: c.train ? { ...(c.train as PlainObject), epochs: 0, milestones: 0 } : undefined, epochs: 0 });

describe('sweep plan: long runs of arms at chance (dependent stage)', () => {
  for (const id of NOTEBOOKS) {
    it(`${id}: deferred until the budget records exist, then none when no arm sits at chance`, () => {
      const empty = plan(id, null);
      assert.deepEqual(longOf(empty.configs), []);
      assert.equal(empty.deferred.filter((d) => d.stage === 'long runs').length, 1, JSON.stringify(empty.deferred));
      const trained = plan(id, 0.9);
      assert.deepEqual([longOf(trained.configs).length, trained.deferred], [0, []]);
    });

    it(`${id}: every arm at chance -> each long run is a budget arm's config, trained longer`, () => {
      const r = plan(id, 0.1);
      assert.deepEqual(r.deferred, []);
      const long = longOf(r.configs);
      assert.ok(long.length > 0);
      const budget = new Map(r.configs.filter((c) => c.stage !== 'long runs').map((c) => [withoutSchedule(c.config), c]));
      for (const l of long) {
        const b = budget.get(withoutSchedule(l.config));
        assert.ok(b, `long run ${l.key} is no budget config re-scheduled`);
        assert.ok(epochsOf(l.config) > epochsOf(b.config), `${l.key}: ${epochsOf(l.config)} epochs, budget ${epochsOf(b.config)}`);
      }
    });
  }

  it('quick (a preview that skips long runs) lists none and defers none, even with every arm at chance', () => {
    for (const id of NOTEBOOKS) for (const acc of [null, 0.1]) {
      const r = plan(id, acc, 'quick');
      assert.deepEqual([longOf(r.configs).length, r.deferred.filter((d) => d.stage === 'long runs')], [0, []], `${id} at acc ${acc}`);
    }
  });

  it('01 re-trains exactly the EOC SNIP training runs, for the converged epochs', () => {
    const p = layerCollapse.plan('smoke');
    const r = plan('01', 0.1).configs;
    const eocSnip = (c: PlainObject) => (c.prune as PlainObject).method === 'snip' && ((c.model as PlainObject).init as PlainObject).scheme === 'eoc';
    assert.equal(longOf(r).length, r.filter((c) => c.stage === 'training' && eocSnip(c.config)).length);
    for (const l of longOf(r)) assert.ok(eocSnip(l.config) && epochsOf(l.config) === p.training.convergedEpochs);
  });

  it('02 re-trains every pruned method at the highest sparsity of the extreme FFNN and trained ResNet sweeps', () => {
    const p = eocRescaling.plan('smoke', eocRescaling.NOTEBOOK_SEEDS.smoke!);
    const r = plan('02', 0.1).configs;
    const top = (part: string, s: number) => r.filter((c) => c.stage === 'sweep' && c.part.startsWith(part) && (c.config.prune as PlainObject).sparsity === s && (c.config.prune as PlainObject).method !== 'none');
    const expected = new Set([...top('extreme FFNN', Math.max(...p.extreme.sparsities)), ...top('ResNet trained', Math.max(...p.resnet.trained.sparsities))].map((c) => withoutSchedule(c.config)));
    assert.deepEqual(new Set(longOf(r).map((c) => withoutSchedule(c.config))), expected);
  });

  it('02 plans no long run for methods at chance whose masks leave no input-output path', () => {
    const cut = cluster.notebooksConfigs('02', 'smoke', undefined, lookupAt(0.1, undefined, undefined, CUT));
    assert.deepEqual([longOf(cut.configs).length, cut.deferred], [0, []]);
    assert.ok(longOf(plan('02', 0.1).configs).length > 0, 'the same records with connected masks need long runs');
  });

  it('05 re-trains every pruned arm (not the dense references) for 4x its epochs', () => {
    const r = plan('05', 0.1).configs;
    const arms = r.filter((c) => c.stage === 'sweep' && c.part.includes('ablation claims'));
    assert.equal(longOf(r).length, arms.length);
    const byBudget = new Map(arms.map((c) => [withoutSchedule(c.config), c]));
    for (const l of longOf(r)) assert.equal(epochsOf(l.config), 4 * epochsOf(byBudget.get(withoutSchedule(l.config))!.config));
    assert.equal(sanityChecks.TOLERANCES.convergedFactor, 4);
  });

  describe('two steps: first seed of each arm at chance; the others only if its long run leaves chance', () => {
    const SEEDS = [0, 1, 2];
    // the budget's configs are the ones the plan lists at the sweep/training stage with every record at chance
    const budgetKeys = (id: string) => new Set(cluster.notebooksConfigs(id, 'standard', SEEDS, lookupAt(0.1)).configs.filter((c) => c.stage !== 'long runs').map((c) => JSON.stringify(c.config)));
    for (const id of NOTEBOOKS) {
      it(`${id} (standard, 3 seeds)`, () => {
        const keys = budgetKeys(id);
        const isBudget = (c: PlainObject) => keys.has(JSON.stringify(c));
        const at = (long?: (seed: number) => number | null) => cluster.notebooksConfigs(id, 'standard', SEEDS, lookupAt(0.1, long, isBudget));
        const all = longOf(at(() => 0.8).configs); // first long runs leave chance: every seed of every arm
        assert.ok(all.length > 0);
        const arms = new Set(all.map((c) => withoutSchedule({ ...c.config, seed: 0 })));
        assert.equal(all.length, arms.size * SEEDS.length, 'every seed of every arm');
        const firsts = longOf(at(() => 0.1).configs); // first long runs stay at chance: one per arm, its first seed
        assert.deepEqual(firsts.map((c) => c.config.seed), firsts.map(() => 0));
        assert.deepEqual(new Set(firsts.map((c) => withoutSchedule({ ...c.config, seed: 0 }))), arms);
        const waiting = at(() => null); // first long runs not computed yet: the firsts, and the rest deferred
        assert.deepEqual(longOf(waiting.configs).map((c) => c.key), firsts.map((c) => c.key));
        assert.ok(waiting.deferred.some((d) => d.stage === 'long runs (rest)' && /first long-run/.test(d.reason)), JSON.stringify(waiting.deferred));
        assert.deepEqual(at(() => 0.1).deferred, []);
      });
    }
  });
});
