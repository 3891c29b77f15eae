/**
 * The configs of the reduced-vs-pruned study's three sweeps (runStudy in rvp-run.ts runs them), and
 * the same configs staged for `sweep plan` (sweepNeeds).
 */
import { cifarAvailable } from '../data';
import { copycatFamily, wrnFullInterior } from '../structured/families';
import type { Budget } from '../notebook/params';
import { lookupAll, needsOf, RecordLookup, StudyNeeds, waitFor } from './needs';
import { scratchBEpochs } from './rvp-gates';
import { plan } from './rvp-plan';
import type { Criterion, RvpMember, RvpPlan } from './rvp-plan';
import { baseTrainConfig, RVP_PRUNE_TASK, RVP_TRAIN_TASK } from './rvp-tasks';
import type { RvpCheckpoint, RvpPruneConfig, RvpPruneResult, RvpTrainConfig } from './rvp-tasks';

/** 'dense-converged': the base config run for the long schedule (dense gate); 'scratchB-width': Scratch-B reduced-width nets. */
export type RvpFamily = 'base' | 'dense-converged' | 'pruned-tuned' | 'scratch-pruned' | 'copycat' | 'scratchB-width' | RvpMember['family'];

/** What a trained net is in the study (joined to its record to make a table row). */
export interface RvpJobMeta {
  family: RvpFamily;
  criterion: Criterion | null;
  /** Matched budget (target parameter count); null for curve-only checkpoints. */
  budget: number | null;
  label: string;
  seed: number;
  /** Extra SGD steps that produced this net before its own training (none for from-scratch nets). */
  priorSteps: number;
}

export interface RvpJob { config: RvpTrainConfig; meta: RvpJobMeta }

function trainJob(p: RvpPlan, seed: number, model: RvpTrainConfig['model'], meta: Omit<RvpJobMeta, 'seed' | 'priorSteps'>, extra: Partial<RvpTrainConfig> = {}): RvpJob {
  const base = meta.family === 'base';
  return {
    config: {
      data: p.data, model, replay: [], train: p.train,
      initSeed: base ? seed : seed + p.scratchInitOffset, keepState: base, evalEveryEpoch: true, seed, ...extra,
    },
    meta: { ...meta, seed, priorSteps: 0 },
  };
}

/**
 * Sweep 1 ('rvp-train'): the dense gate's converged runs (the base config for gate.convergedEpochs,
 * every seed (notebook/gate.ts); the longest runs, so first), the bases, the Scratch-B members,
 * the reduced members.
 */
export function stage1Jobs(p: RvpPlan, seeds: number[]): RvpJob[] {
  const jobs: RvpJob[] = [];
  const baseLabel = `WRN-${p.base.depth}-${p.base.widthFactor}`;
  for (const s of seeds) {
    const conv = trainJob(p, s, { ...p.base, interior: [] }, { family: 'dense-converged', criterion: null, budget: null, label: `${baseLabel}, ${p.gate.convergedEpochs} epochs` });
    jobs.push({ ...conv, config: { ...conv.config, initSeed: s, keepState: false, train: { ...p.train, epochs: p.gate.convergedEpochs } } });
  }
  for (const s of seeds) jobs.push(trainJob(p, s, { ...p.base, interior: [] }, { family: 'base', criterion: null, budget: p.baseParams, label: baseLabel }));
  for (const m of p.reduced.filter((x) => p.scratchB.families.includes(x.family) && p.scratchB.budgets.includes(x.budget)).sort((a, b) => b.macs - a.macs)) {
    const epochs = scratchBEpochs(p.train.epochs, p.baseMacs, m.macs, p.scratchB.maxEpochFactor);
    for (const s of seeds) jobs.push(trainJob(p, s, m.model, { family: 'scratchB-width', criterion: null, budget: m.budget, label: `${m.label}, Scratch-B ${epochs} ep.` }, { train: { ...p.train, epochs } }));
  }
  for (const m of [...p.reduced].sort((a, b) => b.macs - a.macs)) {
    for (const s of seeds) jobs.push(trainJob(p, s, m.model, { family: m.family, criterion: null, budget: m.budget, label: m.label }));
  }
  return jobs;
}

/** Sweep 2 ('rvp-prune'): one prune-and-tune run per criterion and seed. */
export function pruneConfigs(p: RvpPlan, seeds: number[]): RvpPruneConfig[] {
  return p.prune.criteria.flatMap((criterion) => seeds.map((seed) => ({
    data: p.data, base: p.base, train: p.train,
    prune: {
      criterion, l1Variant: p.prune.l1Variant, stepsPerPrune: p.prune.stepsPerPrune, batchSize: p.prune.batchSize,
      lr: p.prune.lr, momentum: p.prune.momentum, weightDecay: p.prune.weightDecay, checkpointParams: p.checkpointParams,
      ...(p.prune.augment ? { augment: p.prune.augment } : {}),
    },
    seed,
  })));
}

/** The checkpoint of a prune run that met budget `b` first. */
export function checkpointAt(r: RvpPruneResult, b: number): RvpCheckpoint | undefined {
  return r.checkpoints.find((c) => c.targets.includes(b));
}

export const CRIT_NAME: Record<Criterion, string> = { fisher: 'Fisher', l1: 'L1' };

export function kShort(n: number): string { return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(1)}k`; }

/**
 * Sweep 3 ('rvp-train'): per seed, the pruned architectures at each budget re-initialised and
 * trained from scratch (both criteria), and the copycat members built from that seed's Fisher
 * template at every other budget. Budgets a prune run never reached are skipped (and listed).
 */
export function stage3Jobs(p: RvpPlan, prune: Array<{ config: RvpPruneConfig; result: RvpPruneResult }>): { jobs: RvpJob[]; notes: string[] } {
  const jobs: RvpJob[] = [];
  const notes: string[] = [];
  const shape = { inputShape: p.inputShape, numClasses: p.numClasses };
  for (const { config, result } of prune) {
    const s = config.seed, c = config.prune.criterion;
    for (const b of p.budgets) {
      const cp = checkpointAt(result, b);
      if (!cp) { notes.push(`${CRIT_NAME[c]} seed ${s}: budget ${b} not reached; no scratch-pruned net`); continue; }
      const replay = result.history.slice(0, cp.prunes);
      jobs.push(trainJob(p, s, { ...p.base, interior: [] }, { family: 'scratch-pruned', criterion: c, budget: b, label: `${CRIT_NAME[c]}-pruned arch. @ ${kShort(b)}` }, { replay }));
    }
    if (c !== 'fisher') continue;
    const tcp = checkpointAt(result, p.templateBudget);
    if (!tcp) { notes.push(`seed ${s}: template budget ${p.templateBudget} not reached; no copycat members`); continue; }
    const profile = { config: { arch: 'wrn' as const, depth: p.base.depth, widthFactor: p.base.widthFactor }, sizes: wrnFullInterior(p.base.depth, p.base.widthFactor), kept: tcp.interior };
    const others = p.budgets.filter((b) => b !== p.templateBudget);
    if (others.length === 0) continue;
    for (const m of copycatFamily(profile, others, shape)) {
      const rel = Math.abs(m.params - m.budget) / m.budget;
      if (rel > p.matchTolerance) { notes.push(`seed ${s}: copycat for budget ${m.budget} has ${m.params} params (off by ${(rel * 100).toFixed(1)} %); skipped`); continue; }
      jobs.push(trainJob(p, s, { ...p.base, interior: m.config.interior! }, { family: 'copycat', criterion: 'fisher', budget: m.budget, label: `copycat m=${m.multiplier.toFixed(2)} @ ${kShort(m.budget)}` }));
    }
  }
  return { jobs, notes };
}

/** Claims each family of WRNs feeds (the `sweep plan` part labels); the rest feed reduced-beats-pruned. */
const FAMILY_CLAIMS: Record<string, string> = {
  'dense-converged': 'dense gate', 'pruned-tuned': 'reduced-beats-pruned, copycat-tracks-pruned', 'scratch-pruned': 'pruned-arch-from-scratch', copycat: 'copycat-tracks-pruned',
};

/**
 * The staged configs of a reduced-vs-pruned study (needs.ts), as its runStudy sweeps them: the
 * trained nets; the prune-and-tune runs once their bases are stored ('rvp-prune' would otherwise
 * train a missing base itself, duplicating the first stage's work); the nets `retrain` derives from
 * the pruning results, once those are stored. `name` prefixes stages and parts ('' or 'DenseNet ').
 */
export function stagedNeeds(o: {
  name: string; claims(family: string): string; train: RvpJob[]; prune: RvpPruneConfig[];
  retrain?: { stage: string; jobs(prune: Array<{ config: RvpPruneConfig; result: RvpPruneResult }>): RvpJob[] };
}, lookup: RecordLookup): StudyNeeds {
  const part = (family: string) => `${o.name}${family} (${o.claims(family)})`;
  const trained = (stage: string, jobs: RvpJob[]) => jobs.map((j) => needsOf(stage, part(j.meta.family), RVP_TRAIN_TASK, [j.config])[0]);
  const configs = trained(`${o.name}1 bases + reduced`, o.train);
  const pruneStage = `${o.name}2 prune-and-tune`;
  const prune = needsOf(pruneStage, part('pruned-tuned'), RVP_PRUNE_TASK, o.prune);
  const later = o.retrain ? [{ stage: o.name + o.retrain.stage, reason: 'retrains the architectures the pruning finds (not in the estimate)' }] : [];
  const bases = lookupAll(lookup, RVP_TRAIN_TASK, o.prune.map(baseTrainConfig));
  if (bases.missing) return { configs, deferred: [{ stage: pruneStage, reason: `prunes the trained bases: ${waitFor(bases.missing, 'base')}`, standIn: prune }, ...later] };
  configs.push(...prune);
  if (!o.retrain) return { configs, deferred: [] };
  const pruned = lookupAll<RvpPruneResult>(lookup, RVP_PRUNE_TASK, o.prune);
  if (pruned.missing) return { configs, deferred: [{ ...later[0], reason: `${later[0].reason}: ${waitFor(pruned.missing, 'prune-and-tune')}` }] };
  configs.push(...trained(o.name + o.retrain.stage, o.retrain.jobs(o.prune.map((config, i) => ({ config, result: pruned.records[i].result })))));
  return { configs, deferred: [] };
}

/** Dataset of notebook 03 (its first cell): CIFAR-10 when the user supplies it, else Fashion-MNIST. */
export function notebookDataset(): string { return cifarAvailable().available ? 'cifar10' : 'fashion-mnist'; }

/** Every engine config of notebook 03's WRN study at a budget: runStudy's three sweeps (stagedNeeds). */
export function sweepNeeds(budget: Budget, seeds: number[], lookup: RecordLookup, o: { dataset?: string } = {}): StudyNeeds {
  const p = plan(budget, { dataset: o.dataset ?? notebookDataset() });
  return stagedNeeds({ name: '', claims: (f) => FAMILY_CLAIMS[f] ?? 'reduced-beats-pruned', train: stage1Jobs(p, seeds), prune: pruneConfigs(p, seeds), retrain: { stage: '3 scratch-pruned + copycat', jobs: (pr) => stage3Jobs(p, pr).jobs } }, lookup);
}
