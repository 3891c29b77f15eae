/**
 * Gates of notebook 02's trained claims (rule: notebook/gate.ts; helpers: trained-gates.ts): per
 * claim, the dense gate of each network against its converged run, a plateau gate over the arms
 * compared and a divergence gate over every arm.
 */
import type { Gate } from '../notebook/gate';
import type { TrainConfig } from '../train';
import type { DataSpec, EocRescalingPlan, StudyRuns } from './eoc-rescaling';
import { armsBy, denseGateOf, divergenceGateOf, plateauGateOf } from './trained-gates';


const recipeShort = (t: TrainConfig) => `${t.optimizer ?? 'sgd'} ${t.lr} b${t.batchSize}`;
const dataShort = (d: DataSpec) => `${d.name} ${d.trainLimit || 'all'}/${d.testLimit || 'all'}`;

/** Fig. 2 (primary grid): a dense gate per depth, a plateau gate and a divergence gate over every (arm, depth, sparsity) cell. */
export function fig2Gates(p: EocRescalingPlan, runs: Pick<StudyRuns, 'fig2' | 'gates'>): Gate[] {
  const g = p.fig2.grids[0];
  const gates = g.depths.map((depth) => {
    const mine = runs.gates.filter((r) => r.section === 'fig2' && r.depth === depth);
    return denseGateOf(`dense EOC FFNN L=${depth} w${p.width}, ${dataShort(g.data)}, ${recipeShort(p.fig2.train)} x${p.fig2.train.epochs} (converged: x${p.gate.convergedEpochs})`,
      mine.filter((r) => !r.converged), mine.filter((r) => r.converged), p.gate.margin);
  });
  const cells = armsBy(runs.fig2.filter((r) => r.dataset === g.data.name), (r) => `${r.arm} L=${r.depth} s=${r.sparsity}`);
  gates.push(plateauGateOf(`Fig. 2 cells (${dataShort(g.data)})`, cells, p.gate.maxFinalEpochGain));
  gates.push(divergenceGateOf(`Fig. 2 cells (${dataShort(g.data)})`, cells));
  return gates;
}

/** §4 FFNN: dense gate of the extreme net, plateau over every method at the highest sparsity, divergence over all runs. */
export function extremeFfnnGates(p: EocRescalingPlan, runs: Pick<StudyRuns, 'extreme' | 'gates'>): Gate[] {
  const e = p.extreme, top = Math.max(...e.sparsities);
  const label = `dense EOC FFNN L=${e.depth} w${e.width}, ${dataShort(e.data)}, ${recipeShort(e.train)} x${e.train.epochs} (converged: x${p.gate.convergedEpochs})`;
  return [
    denseGateOf(label, runs.extreme.filter((r) => r.method === 'none'), runs.gates.filter((r) => r.section === 'extreme'), p.gate.margin),
    plateauGateOf(`FFNN methods at ${+(top * 100).toFixed(2)}%`, armsBy(runs.extreme.filter((r) => r.sparsity === top), (r) => r.method), p.gate.maxFinalEpochGain),
    divergenceGateOf('FFNN, every method and sparsity', armsBy(runs.extreme, (r) => `${r.method} s=${r.sparsity}`)),
  ];
}

/** §4 ResNet (trained subset): dense gate of the ResNet, plateau over the pruned arms, divergence over all. */
export function resnetGates(p: EocRescalingPlan, runs: Pick<StudyRuns, 'resnetTrained' | 'gates'>): Gate[] {
  const t = p.resnet.trained;
  const label = `dense resnet${p.resnet.depth}, ${dataShort(t.data)}, ${recipeShort(t.train)} x${t.train.epochs} (converged: x${t.convergedEpochs})`;
  return [
    denseGateOf(label, runs.resnetTrained.filter((r) => r.method === 'none'), runs.gates.filter((r) => r.section === 'resnet'), p.gate.margin),
    plateauGateOf('ResNet pruned arms', armsBy(runs.resnetTrained.filter((r) => r.method !== 'none'), (r) => `${r.arch} s=${r.sparsity}`), p.gate.maxFinalEpochGain),
    divergenceGateOf('ResNet, every arm', armsBy(runs.resnetTrained, (r) => `${r.arch} s=${r.sparsity}`)),
  ];
}
