/**
 * Every engine config a notebook runs at a budget, read off its study modules' `sweepNeeds`
 * (studies/needs.ts: built by the same job functions the notebook's cells sweep, so a sweep planned
 * here computes exactly the keys the notebook looks up), labelled with the notebook, its stage and
 * the part of the study it serves. Stages that need earlier results (notebook 01's training at the
 * measured critical sparsities, notebook 03's pruning of its trained bases, the long runs of arms at
 * chance after the budget in notebooks 01, 02, 04 and 05) are planned once those
 * records are in the store; until then they are listed as deferred, and `sweep plan` run again
 * after the first wave plans them.
 */
import * as path from 'path';
import { describeConfig, openStore, PlainObject, TaskSpec } from '../engine';
import { DEFAULT_SEEDS, parseBudget } from '../notebook/params';
import type { Budget } from '../notebook/params';
import type { ConfigNeed, RecordLookup, StudyNeeds } from '../studies/needs';
import { joinNeeds } from '../studies/needs';
import * as layerCollapse from '../studies/layer-collapse';
import * as eocRescaling from '../studies/eoc-rescaling';
import * as reducedVsPruned from '../studies/reduced-vs-pruned';
import * as reducedVsPrunedDenseNet from '../studies/reduced-vs-pruned-densenet';
import * as kstartsDissipating from '../studies/kstarts-dissipating';
import * as overfitting from '../studies/overfitting';
import * as sanityChecks from '../studies/sanity-checks';

export type { RecordLookup } from '../studies/needs';

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
  /** The notebook's own seeds per budget (its first cell's notebookParams), DEFAULT_SEEDS for the rest. */
  seeds?: Partial<Record<Budget, number[]>>;
  /** The notebook's studies, in the order its cells run them. */
  needs(budget: Budget, seeds: number[], lookup: RecordLookup): StudyNeeds;
}

export const NOTEBOOKS: readonly NotebookSpec[] = [
  { id: '01', name: '01-layer-collapse', needs: layerCollapse.sweepNeeds },
  { id: '02', name: '02-eoc-rescaling', seeds: eocRescaling.NOTEBOOK_SEEDS, needs: eocRescaling.sweepNeeds },
  { id: '03', name: '03-reduced-vs-pruned', needs: (b, s, l) => joinNeeds(reducedVsPruned.sweepNeeds(b, s, l), reducedVsPrunedDenseNet.sweepNeeds(b, s, l)) },
  { id: '04', name: '04-kstarts-dissipating', needs: (b, s, l) => joinNeeds(kstartsDissipating.sweepNeeds(b, s, l), overfitting.sweepNeeds(b, s)) },
  { id: '05', name: '05-sanity-checks', seeds: sanityChecks.NOTEBOOK_SEEDS, needs: sanityChecks.sweepNeeds },
];

/** The seeds a notebook runs at a budget when PRUNE_AT_INIT_SEEDS is unset (as notebookParams picks them). */
export function notebookSeeds(nb: NotebookSpec, budget: Budget): number[] {
  return [...(nb.seeds?.[budget] ?? DEFAULT_SEEDS[budget])];
}

function label(notebook: string, xs: readonly ConfigNeed[]): PlannedConfig[] {
  return xs.map((x) => ({ notebook, stage: x.stage, part: x.part, task: x.task.name, key: describeConfig(x.task, x.config).key, config: x.config }));
}

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
    const s = seeds ?? notebookSeeds(nb, b);
    out.seeds[nb.name] = s;
    const r = nb.needs(b, s, lookup);
    out.configs.push(...label(nb.name, r.configs));
    out.deferred.push(...r.deferred.map((d) => ({ notebook: nb.name, stage: d.stage, reason: d.reason, ...(d.standIn ? { standIn: label(nb.name, d.standIn) } : {}) })));
  }
  return out;
}
