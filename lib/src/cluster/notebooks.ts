/**
 * Every engine config a notebook runs at a budget, read off the notebook's study module (the same
 * functions the notebook calls, so a sweep planned here computes exactly the keys the notebook
 * looks up), labelled with the notebook, its stage and the part of the study it serves.
 *
 * Dependent stages: notebook 01 picks its training sparsities from the critical sparsities its
 * init analyses measured, and notebook 03 prunes the bases it trained first and then retrains the
 * architectures the pruning found. Those configs are unknowable before the earlier results exist,
 * so they are planned only when every record they depend on is in the store; otherwise the stage is
 * listed as deferred, and `sweep plan` run again after the first wave plans it.
 */
import * as path from 'path';
import { describeConfig, openStore, PlainObject, RunRecord, TaskSpec } from '../engine';
import { DEFAULT_SEEDS, parseBudget } from '../notebook/params';
import type { Budget } from '../notebook/params';
import { cifarAvailable } from '../data';
import { PRUNE_TRAIN_TASK } from '../experiment';
import type { PruneTrainResult } from '../experiment';
import type { HaroonResult } from '../haroon/run';
import * as layerCollapse from '../studies/layer-collapse';
import * as eocRescaling from '../studies/eoc-rescaling';
import * as reducedVsPruned from '../studies/reduced-vs-pruned';
import * as kstartsDissipating from '../studies/kstarts-dissipating';

export interface PlannedConfig {
  notebook: string;
  stage: string;
  /** Section of the study (and so the claims) the config serves. */
  part: string;
  task: string;
  key: string;
  config: PlainObject;
}

export interface DeferredStage {
  notebook: string; stage: string; reason: string;
  /** Configs of the same cost standing in for the stage's (for the cost estimate only; never run). */
  standIn?: PlannedConfig[];
}

export interface NotebookConfigs { configs: PlannedConfig[]; deferred: DeferredStage[] }

/** Reads records of earlier stages from the results store (nothing is computed). */
export interface RecordLookup { get<R>(task: TaskSpec, config: PlainObject): RunRecord<R> | undefined }

export function storeLookup(root: string): RecordLookup {
  const stores = new Map<string, ReturnType<typeof openStore>>();
  return {
    get<R>(task: TaskSpec, config: PlainObject) {
      let s = stores.get(task.name);
      if (!s) { s = openStore({ dir: path.join(root, task.name) }); stores.set(task.name, s); }
      return s.get<R>(describeConfig(task, config).key);
    },
  };
}

interface NotebookSpec {
  id: string;
  name: string;
  /** The notebook's seeds per budget when PRUNE_AT_INIT_SEEDS is unset (its first cell). */
  seeds(budget: Budget): number[];
  configs(budget: Budget, seeds: number[], lookup: RecordLookup): NotebookConfigs;
}

type Labelled = { stage: string; part: string; task: TaskSpec; config: PlainObject };

function label(notebook: string, xs: Labelled[]): PlannedConfig[] {
  return xs.map((x) => ({ notebook, stage: x.stage, part: x.part, task: x.task.name, key: describeConfig(x.task, x.config).key, config: x.config }));
}

const defaultSeeds = (b: Budget) => [...(DEFAULT_SEEDS[b] ?? DEFAULT_SEEDS.quick)];

/** Records of `configs` (in order), and how many distinct configs have none yet. */
function lookupAll<R>(lookup: RecordLookup, task: TaskSpec, configs: PlainObject[]): { records: RunRecord<R>[]; missing: number } {
  const records: RunRecord<R>[] = [];
  const missing = new Set<string>();
  for (const c of configs) { const r = lookup.get<R>(task, c); if (r) records.push(r); else missing.add(describeConfig(task, c).key); }
  return { records, missing: missing.size };
}

const waitFor = (n: number, what: string) => `needs the ${n} ${what} record(s) not yet in the store: run this wave, then \`sweep plan\` again`;

const NB01: NotebookSpec = {
  id: '01', name: '01-layer-collapse', seeds: defaultSeeds,
  configs(budget, seeds, lookup) {
    const lc = layerCollapse;
    const p = lc.plan(budget);
    const init = lc.initConfigs(p, seeds) as unknown as PlainObject[];
    const out: Labelled[] = init.map((config) => ({ stage: 'init-analyses', part: 'critical sparsity (mbp-phase-blind, snip-phase-collapse)', task: lc.LAYER_COLLAPSE_INIT_TASK, config }));
    const deferred: DeferredStage[] = [];
    const got = lookupAll<layerCollapse.InitAnalysisResult>(lookup, lc.LAYER_COLLAPSE_INIT_TASK, init);
    const trainingConfigs = (rows: layerCollapse.CriticalRow[]) => lc.trainingConfigs(p, lc.trainingArms(p, rows), seeds);
    const labelled = (stage: string, part: string, cfgs: unknown[]): Labelled[] => cfgs.map((config) => ({ stage, part, task: PRUNE_TRAIN_TASK, config: config as PlainObject }));
    const training = (rows: layerCollapse.CriticalRow[]): Labelled[] => labelled('training', 'training (collapse-trains-at-chance)', trainingConfigs(rows));
    if (got.missing) {
      // a run's cost does not depend on its sparsity: distinct stand-in critical points give the largest grid
      const standIn = ([['snip', 'ordered', 0.3], ['snip', 'chaotic', 0.6], ['magnitude', 'eoc', 0.8]] as const)
        .map(([method, phase, sparsity]) => ({ depth: p.training.depth, method, phase, sparsity } as layerCollapse.CriticalRow));
      deferred.push({
        notebook: this.name, stage: 'training', reason: `training sparsities bracket the measured critical sparsities: ${waitFor(got.missing, 'init-analysis')}`,
        standIn: label(this.name, training(standIn)),
      });
      deferred.push({ notebook: this.name, stage: 'long runs', reason: 're-trains the EOC SNIP arms the training wave leaves at chance (not in the estimate)' });
    } else {
      const cfgs = trainingConfigs(lc.criticalRows(got.records.map((r) => r.result)));
      out.push(...labelled('training', 'training (collapse-trains-at-chance)', cfgs));
      // arms at chance after the budget are re-trained with the converged schedule: known once the training records exist
      const trained = lookupAll<PruneTrainResult>(lookup, PRUNE_TRAIN_TASK, cfgs as unknown as PlainObject[]);
      if (trained.missing) {
        deferred.push({ notebook: this.name, stage: 'long runs', reason: `re-trains the EOC SNIP arms left at chance (not in the estimate): ${waitFor(trained.missing, 'training')}` });
      } else {
        const long = lc.longRunConfigs(p, cfgs, trained.records.map((r) => ({ acc: r.result.finalTestAcc, outcome: r.result.outcome })));
        out.push(...labelled('long runs', 'long runs of arms at chance (collapse-trains-at-chance)', long));
      }
    }
    // the dense gate's converged run needs nothing measured first
    out.push(...labelled('dense gate', 'dense gate, converged run (collapse-trains-at-chance)', lc.convergedConfigs(p, seeds)));
    return { configs: label(this.name, out), deferred };
  },
};

/** Notebook 02's first cell: quick uses 2 seeds to fit a 2-core CPU. */
const NB02_SEEDS: Partial<Record<string, number[]>> = { smoke: [0], quick: [0, 1], paper: [0, 1, 2, 3, 4] };

const NB02: NotebookSpec = {
  id: '02', name: '02-eoc-rescaling',
  seeds: (b) => [...(NB02_SEEDS[b] ?? defaultSeeds(b))],
  configs(budget, seeds, lookup) {
    const E = eocRescaling;
    const p = E.plan(budget, seeds);
    const r = E.resnetJobs(p);
    const parts: Array<[string, Array<{ config: unknown }>]> = [
      ['fig2 (eoc-rescaling-ordering)', E.fig2Jobs(p)], ['extreme FFNN (sbp-sr-extreme-sparsity)', E.extremeFfnnJobs(p)],
      ['ResNet at init (sbp-sr-extreme-sparsity)', r.initOnly], ['ResNet trained (sbp-sr-extreme-sparsity)', r.trained],
      ['per-layer (stable-resnet-per-layer)', E.perLayerJobs(p)],
    ];
    const out = parts.flatMap(([part, jobs]) => jobs.map((j) => ({ stage: 'sweep', part, task: PRUNE_TRAIN_TASK, config: j.config as PlainObject })));
    // §4 methods at chance at the highest sparsity are re-trained with the converged schedule: known once the sweep's records exist
    const ffnn = E.extremeFfnnJobs(p), budgetJobs = [...ffnn, ...r.trained];
    const got = lookupAll<PruneTrainResult>(lookup, PRUNE_TRAIN_TASK, budgetJobs.map((j) => j.config as unknown as PlainObject));
    const deferred: DeferredStage[] = [];
    if (got.missing) deferred.push({ notebook: this.name, stage: 'long runs', reason: `re-trains the §4 methods left at chance (not in the estimate): ${waitFor(got.missing, 'sweep')}` });
    else {
      const rows = budgetJobs.map((j, i) => ({ ...j.tag, acc: got.records[i].result.finalTestAcc, outcome: got.records[i].result.outcome }));
      const long = E.longRunJobs(p, { extreme: rows.slice(0, ffnn.length), resnetTrained: rows.slice(ffnn.length) });
      out.push(...[...long.ffnn, ...long.resnet].map((j) => ({ stage: 'long runs', part: 'long runs of arms at chance (sbp-sr-extreme-sparsity, sbp-sr-extreme-resnet)', task: PRUNE_TRAIN_TASK, config: j.config as unknown as PlainObject })));
    }
    return { configs: label(this.name, out), deferred };
  },
};

/** Notebook 03's claims each family of nets feeds. */
const RVP_CLAIMS: Record<string, string> = {
  base: 'reduced-beats-pruned', 'pruned-tuned': 'reduced-beats-pruned, copycat-tracks-pruned', 'scratch-pruned': 'pruned-arch-from-scratch',
  copycat: 'copycat-tracks-pruned',
};
const rvpPart = (family: string) => `${family} (${RVP_CLAIMS[family] ?? 'reduced-beats-pruned'})`;

const NB03: NotebookSpec = {
  id: '03', name: '03-reduced-vs-pruned', seeds: defaultSeeds,
  configs(budget, seeds, lookup) {
    const R = reducedVsPruned;
    // the notebook's own choice: CIFAR-10 when the user supplies it, else Fashion-MNIST
    const p = R.plan(budget, { dataset: cifarAvailable().available ? 'cifar10' : 'fashion-mnist' });
    const out: Labelled[] = R.stage1Jobs(p, seeds).map((j) => ({ stage: '1 bases + reduced', part: rvpPart(j.meta.family), task: R.RVP_TRAIN_TASK, config: j.config as unknown as PlainObject }));
    const deferred: DeferredStage[] = [];
    const pc = R.pruneConfigs(p, seeds);
    // rvp-prune would train a missing base itself (ensureRecord), duplicating stage 1's work
    const bases = lookupAll(lookup, R.RVP_TRAIN_TASK, pc.map((c) => R.baseTrainConfig(c) as unknown as PlainObject));
    const stage2 = pc.map((config) => ({ stage: '2 prune-and-tune', part: rvpPart('pruned-tuned'), task: R.RVP_PRUNE_TASK, config: config as unknown as PlainObject }));
    if (bases.missing) {
      deferred.push({ notebook: this.name, stage: '2 prune-and-tune', reason: `prunes the trained bases: ${waitFor(bases.missing, 'base')}`, standIn: label(this.name, stage2) });
      deferred.push({ notebook: this.name, stage: '3 scratch-pruned + copycat', reason: 'retrains the architectures stage 2 finds (not in the estimate)' });
      return { configs: label(this.name, out), deferred };
    }
    out.push(...stage2);
    const pruned = lookupAll<reducedVsPruned.RvpPruneResult>(lookup, R.RVP_PRUNE_TASK, pc as unknown as PlainObject[]);
    if (pruned.missing) {
      deferred.push({ notebook: this.name, stage: '3 scratch-pruned + copycat', reason: `retrains the architectures stage 2 finds (not in the estimate): ${waitFor(pruned.missing, 'prune-and-tune')}` });
    } else {
      const prune = pc.map((config, i) => ({ config, result: pruned.records[i].result }));
      for (const j of R.stage3Jobs(p, prune).jobs) out.push({ stage: '3 scratch-pruned + copycat', part: rvpPart(j.meta.family), task: R.RVP_TRAIN_TASK, config: j.config as unknown as PlainObject });
    }
    return { configs: label(this.name, out), deferred };
  },
};

const NB04: NotebookSpec = {
  id: '04', name: '04-kstarts-dissipating', seeds: defaultSeeds,
  configs(budget, seeds, lookup) {
    const K = kstartsDissipating;
    const p = K.plan(budget, seeds), js = K.jobs(p);
    const out = js.map((j) => ({ stage: 'sweep', part: `${j.family} (all four claims)`, task: K.HAROON_TASK, config: j.config as unknown as PlainObject }));
    // claim arms at chance after the budget are re-trained with the converged schedule: known once the sweep's records exist
    const got = lookupAll<HaroonResult>(lookup, K.HAROON_TASK, js.map((j) => j.config as unknown as PlainObject));
    const deferred: DeferredStage[] = [];
    if (got.missing) deferred.push({ notebook: this.name, stage: 'long runs', reason: `re-trains the claim arms left at chance (not in the estimate): ${waitFor(got.missing, 'sweep')}` });
    else {
      const rows = K.rows(p, js, got.records.map((r) => ({ ...r, status: 'cached' as const })));
      out.push(...K.longRunJobs(p, rows, js).map((j) => ({ stage: 'long runs', part: 'long runs of arms at chance (all four claims)', task: K.HAROON_TASK, config: j.config as unknown as PlainObject })));
    }
    return { configs: label(this.name, out), deferred };
  },
};

export const NOTEBOOKS: readonly NotebookSpec[] = [NB01, NB02, NB03, NB04];

/** '02', '2', '02-eoc-rescaling' or 'all' -> notebook specs. */
export function resolveNotebooks(ids: string): NotebookSpec[] {
  if (ids === 'all') return [...NOTEBOOKS];
  return ids.split(',').map((raw) => {
    const id = raw.trim();
    const nb = NOTEBOOKS.find((n) => n.id === id || n.name === id || n.id === id.padStart(2, '0'));
    if (!nb) throw new Error(`Unknown notebook '${id}': use one of ${NOTEBOOKS.map((n) => `${n.id} (${n.name})`).join(', ')}, a comma-separated list, or 'all'.`);
    return nb;
  });
}

/** Configs of the notebooks at a budget (seeds: each notebook's own default unless given). */
export function notebooksConfigs(ids: string, budget: string, seeds: number[] | undefined, lookup: RecordLookup): NotebookConfigs & { seeds: Record<string, number[]> } {
  const b = parseBudget(budget, '--budget');
  const out: NotebookConfigs & { seeds: Record<string, number[]> } = { configs: [], deferred: [], seeds: {} };
  for (const nb of resolveNotebooks(ids)) {
    const s = seeds ?? nb.seeds(b);
    out.seeds[nb.name] = s;
    const r = nb.configs(b, s, lookup);
    out.configs.push(...r.configs);
    out.deferred.push(...r.deferred);
  }
  return out;
}
