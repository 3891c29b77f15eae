/**
 * Training recipes of notebook 05 at the `standard` budget, and the small sweep on the DENSE nets
 * that chose them (issue 13: one recipe per network, fixed on the dense reference, the same for every
 * arm, ablation and seed; never tuned toward a verdict).
 *
 * Sweep: per net, learning rate x epochs E, each dense run paired with the same recipe run 4E epochs
 * (the converged run of the dense gate; the step schedule's milestones stretch with the epochs).
 * Rule: the smallest E of the grid whose dense run is within the gate margin of its 4E run at every
 * learning rate tried is taken, and at that E the learning rate with the highest dense accuracy.
 */
import { runSweep } from '../engine';
import { PRUNE_TRAIN_TASK, PruneTrainConfig, PruneTrainResult, denseReference } from '../experiment';
import type { ModelConfig } from '../models';
import type { TrainConfig } from '../train';
import { ffnnTrain, resnetTrain } from './eoc-rescaling';

export interface SweepNet { id: string; model: string | ModelConfig; data: { name: string; trainLimit: number; testLimit: number }; family: 'ffnn' | 'resnet' }

/** The recipe shape of each family (notebook 02's), with the learning rate and epochs the sweep sets. */
export function recipe(family: 'ffnn' | 'resnet', epochs: number, lr: number): TrainConfig {
  return { ...(family === 'ffnn' ? ffnnTrain(epochs) : resnetTrain(epochs)), lr };
}

export interface RecipeGrid { lrs: number[]; epochs: number[]; convergedFactor: number }

/** Dense configs of the sweep: each (lr, E) at seed 0 and its converged run (4E). */
export function recipeSweepConfigs(net: SweepNet, grid: RecipeGrid): Array<{ lr: number; epochs: number; converged: boolean; config: PruneTrainConfig }> {
  const out: Array<{ lr: number; epochs: number; converged: boolean; config: PruneTrainConfig }> = [];
  for (const lr of grid.lrs) for (const e of grid.epochs) {
    const config: PruneTrainConfig = { model: net.model, data: { ...net.data }, prune: { method: 'none', sparsity: 0, scope: 'global', options: {} }, train: recipe(net.family, e, lr), seed: 0 };
    out.push({ lr, epochs: e, converged: false, config });
    out.push({ lr, epochs: e, converged: true, config: denseReference(config, e * grid.convergedFactor) });
  }
  return out;
}

export interface RecipeSweepRow { [k: string]: string | number; net: string; lr: number; epochs: number; acc: number; convergedAcc: number; gapPts: number; seconds: number; convergedSeconds: number }

/** Run (or read from the cache) the sweep of one net; one row per (lr, E). */
export async function recipeSweep(net: SweepNet, grid: RecipeGrid, o: { workers?: number; store?: string } = {}): Promise<RecipeSweepRow[]> {
  const cs = recipeSweepConfigs(net, grid);
  const recs = await runSweep<PruneTrainResult>({ task: PRUNE_TRAIN_TASK, configs: cs.map((c) => c.config), workers: o.workers ?? 2, store: o.store, progressBar: false });
  const res = recs.map((r, i) => {
    if (r.status === 'error') throw new Error(`recipe sweep ${net.id} lr ${cs[i].lr} E ${cs[i].epochs}: ${r.error.message}`);
    return r.result;
  });
  const rows: RecipeSweepRow[] = [];
  for (let i = 0; i < cs.length; i += 2) {
    const d = res[i], c = res[i + 1];
    rows.push({ net: net.id, lr: cs[i].lr, epochs: cs[i].epochs, acc: d.finalTestAcc, convergedAcc: c.finalTestAcc, gapPts: 100 * (c.finalTestAcc - d.finalTestAcc), seconds: d.seconds, convergedSeconds: c.seconds });
  }
  return rows;
}

/**
 * The `standard` budget's recipes (chosen by the sweep above; its numbers are in STANDARD_SWEEP).
 * FFNNs train on a 10,000-image subset of Fashion-MNIST's training set and test on the full 10,000-image
 * test set: the dense gate passes there (STANDARD_SWEEP), and the ~300 arms of the plan fit the budget.
 */
export const STANDARD_RECIPES = {
  ffnnData: { trainLimit: 10000, testLimit: 0 },
  resnetData: { trainLimit: 1000, testLimit: 1000 },
  lenet300: { lr: 0.1, epochs: 8 },
  'eoc-ffnn': { lr: 0.1, epochs: 8 },
  resnet: { lr: 0.1, epochs: 12 },
  synflowRounds: 20,
  expected: 'about 7 minutes cold on 2 uncontended cores',
  note: 'TBD',
} as const;
