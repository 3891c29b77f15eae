/**
 * What notebook 02 records for each claim besides the paper's statement and source (those stay in
 * the notebook, where a reader reads them): the setting, the measured numbers, the gated verdict
 * and the rationale, built from the study's rows (with the checks behind the verdict, which
 * recordClaim does not store). Pure functions; the notebook spreads the result into recordClaim:
 * `pai.recordClaim({ id, paperStatement, source, ...E.signalClaim(...), figure })`.
 */
import { gatedVerdict } from '../notebook/claims';
import type { ClaimVerdict } from '../notebook/claims';
import type { Gates } from '../notebook/gate';
import { extremeFfnnGates, extremeRead, fig2Gates, resnetGates } from './eoc-rescaling-gates';
import type { LongRuns } from './eoc-rescaling-gates';
import type { StudyRuns } from './eoc-rescaling-jobs';
import type { EocRescalingPlan } from './eoc-rescaling-plan';
import { bnSensitivityNumbers, effectiveSparsityNumbers, emptyUnitsText, extremeCells, secondaryGridNumbers, text } from './eoc-rescaling-report';
import type { signalSummary } from './eoc-rescaling-signal';
import { summarize } from './eoc-rescaling-summaries';
import type { PhasePoint } from './eoc-rescaling-theory';
import { armCells, extremeVerdict, orderingVerdict, perLayerRuns, signalRatios, signalVerdict, stableResnetVerdict } from './eoc-rescaling-verdicts';
import { COLLAPSE_MARGIN } from './eoc-rescaling-constants';

/** The computed part of a claim record: the gated verdict with its checks, and the setting it was measured in. */
export interface ClaimParts extends ClaimVerdict {
  setting: string;
  gates: Gates;
}

const { pct, ds, tr, safe } = text;
const COLLAPSE_RULE = 'Collapse = mean final accuracy ≤ chance + 0.05; trainable = ≥ chance + 0.10 (chance 0.10).';

/** §2: pruned EOC nets with and without rescaling, at init (signalSummary rows; phases from phasePoints). */
export function signalClaim(plan: EocRescalingPlan, seeds: readonly number[], sigRows: ReturnType<typeof signalSummary>, phases: readonly PhasePoint[]): ClaimParts {
  const ratios = signalRatios(sigRows);
  const v = signalVerdict(ratios);
  const vv = gatedVerdict(v.checks, 'no training');
  return {
    setting: `tanh FFNN depth ${plan.signal.depth}, width ${plan.width}, EOC σ_w = ${phases[1].sigmaW.toFixed(4)}, σ_b = ${plan.sigmaB}; SNIP (10/class) at ${plan.signal.sparsities.map(pct).join(', ')}; ${plan.signal.batch} Fashion-MNIST test images; seeds ${seeds.join(', ')}; at init`,
    numbers: safe({ ...v.numbers, 'q*': sigRows[0].qStar, 'mean empty units per layer after pruning (of 100)': emptyUnitsText(sigRows, plan.signal.sparsities, ratios[0].layer) }),
    checks: v.checks,
    verdict: vv.verdict,
    gates: 'no training',
    rationale: `${vv.summary}. Rule: near = q^L/q* in [1/1.5, 1.5], decayed = below 1/1.5, deepest hidden layer, seed means. Units left without inputs cannot be rescaled and pull q^l down at high sparsity.`,
  };
}

/** §3: the Fig. 2 ordering on the first grid (the second grid's means are recorded for information). */
export function orderingClaim(plan: EocRescalingPlan, seeds: readonly number[], runs: Pick<StudyRuns, 'fig2' | 'gates'>): ClaimParts {
  const g = plan.fig2.grids[0];
  const v = orderingVerdict(armCells(runs.fig2, g.data.name));
  const gates = fig2Gates(plan, runs);
  const vv = gatedVerdict(v.checks, gates);
  return {
    setting: `tanh FFNN width ${plan.width}, depths ${g.depths.join('/')}, sparsities ${g.sparsities.map(pct).join('/')}; ${ds(g.data)}; ${tr(plan.fig2.train)}; seeds ${seeds.join(', ')}; final-epoch accuracy`,
    numbers: safe({ ...v.numbers, ...secondaryGridNumbers(plan, runs) }),
    checks: v.checks,
    verdict: vv.verdict,
    gates,
    rationale: `${vv.summary}. Gaps compared between the deepest and shallowest depth (averaged over sparsities) and the highest and lowest sparsity (averaged over depths).`,
  };
}

/** §4: SBP-SR and the baselines on the deep FFNN at extreme sparsity (paths: extremePathStats rows). */
export function extremeFfnnClaim(plan: EocRescalingPlan, seeds: readonly number[], runs: StudyRuns, longRuns: LongRuns, paths: ReadonlyArray<Record<string, string | number>>): ClaimParts {
  const { chance, dense } = extremeCells(runs);
  const f = extremeVerdict(summarize(extremeRead(plan, 'ffnn', runs, longRuns), ['method', 'sparsity']), { chance, family: 'FFNN' });
  const gates = extremeFfnnGates(plan, runs, longRuns);
  const vv = gatedVerdict(f.checks, gates);
  return {
    setting: `FFNN: tanh depth ${plan.extreme.depth} width ${plan.extreme.width}, EOC init, ${plan.extreme.methods.join('/')} at ${plan.extreme.sparsities.map(pct).join('/')}, ${ds(plan.extreme.data)}, ${tr(plan.extreme.train)}, seeds ${seeds.join(', ')}`,
    numbers: safe({ ...f.numbers, 'FFNN dense reference acc': dense ? dense.mean : 'n/a', ...effectiveSparsityNumbers(plan, paths) }),
    checks: f.checks,
    verdict: vv.verdict,
    gates,
    rationale: `${vv.summary}. ${COLLAPSE_RULE}`,
  };
}

/** §4: SNIP on the ResNet vs on the Stable ResNet (SBP-SR), trained, at extreme sparsity. */
export function extremeResnetClaim(plan: EocRescalingPlan, runs: StudyRuns, longRuns: LongRuns): ClaimParts {
  const t = plan.resnet.trained;
  const r = extremeVerdict(summarize(extremeRead(plan, 'resnet', runs, longRuns), ['method', 'sparsity']), { chance: extremeCells(runs).chance, family: 'ResNet' });
  const gates = resnetGates(plan, runs, longRuns);
  const vv = gatedVerdict(r.checks, gates);
  const resDense = summarize(runs.resnetTrained, ['method', 'sparsity']).find((c) => c.method === 'none');
  return {
    setting: `ResNet${plan.resnet.depth} (16/32/64) vs Stable: ${t.methods.filter((m) => m !== 'none').join('/')} at ${t.sparsities.map(pct).join('/')}, ${ds(t.data)}, ${tr(t.train)}, seed(s) ${t.seeds.join(', ')}`,
    numbers: safe({ ...r.numbers, 'ResNet dense reference acc': resDense ? resDense.mean : 'n/a' }),
    checks: r.checks,
    verdict: vv.verdict,
    gates,
    rationale: `${vv.summary}. ${COLLAPSE_RULE}`,
  };
}

/** §4b: per-layer kept fractions of SNIP masks, ResNet vs Stable ResNet, at init (the plan's BN mode; the others as sensitivity). */
export function stableResnetClaim(plan: EocRescalingPlan, seeds: readonly number[], runs: Pick<StudyRuns, 'perLayer'>): ClaimParts {
  const v = stableResnetVerdict(perLayerRuns(runs.perLayer, plan.resnet.bnMode));
  const vv = gatedVerdict(v.checks, 'no training');
  const pl = plan.resnet.perLayer;
  return {
    setting: `ResNet${pl.depths.join('/ResNet')} (16/32/64, BN) vs Stable ResNet, SNIP (10/class, BN ${plan.resnet.bnMode} mode) at ${pct(pl.sparsity)}, Fashion-MNIST, seeds ${seeds.join(', ')}, at init`,
    numbers: safe({ ...v.numbers, ...bnSensitivityNumbers(plan, runs.perLayer) }),
    checks: v.checks,
    verdict: vv.verdict,
    gates: 'no training',
    rationale: `${vv.summary}. Deep blocks = last stage (s3*). Standard and Stable nets share initial weights and scoring batch per seed.`,
  };
}

/** What the long runs of §4 are and how the verdicts read them (markdown, with this run's counts). */
export function longRunNote(plan: EocRescalingPlan, longRuns: LongRuns): string {
  return `**Methods at chance at the highest sparsity: slow or untrainable?** ${longRuns.ffnn.length + longRuns.resnet.length} long run(s) ` +
    `(FFNN ${plan.gate.convergedEpochs} epochs, ResNet ${plan.resnet.trained.convergedEpochs}) of the methods whose budget runs sit at chance (mean ≤ chance + ${COLLAPSE_MARGIN}); ` +
    'the first seed\'s run is re-trained first; a method whose long runs leave chance is slow, not collapsed, and the verdict reads them (every seed re-trained); one whose first long run stays at chance counts as collapsed at that schedule. ' +
    'A method none of whose masks leaves an input-output path (a layer, or a block\'s branch and projection shortcut, emptied: prune/effective.ts noPathAtLayerLevel) is a constant predictor whatever the training: collapsed by construction, not re-trained. ' +
    'If every SBP-SR pair sits at chance, the net leaves no method trainable and the comparison tests nothing (gate \'arms-above-chance\').';
}
