/**
 * Notebook 01's engine task 'layer-collapse-init' (entry module layer-collapse.ts): the init-only
 * analyses of one depth x seed, all phases and methods (per-layer kept counts at the fixed sparsity,
 * exact critical sparsity per method by collapsePoint (prune/report.ts), SNIP zero-score counts,
 * per-layer mean squared score, per-neuron kept fractions, mask differences against the EOC mask),
 * and the tidy rows the notebook reads from them. Worker processes load this module (the task's
 * `module`), so it imports no figure code.
 */
import { initBackend, backendInfo } from '../backend';
import { loadDataset } from '../data';
import { buildModel } from '../models';
import { collapsePoint, CollapsePoint, computeMask } from '../prune';
import { registerTask, runSweep, withSweepProgress } from '../engine';
import type { ProgressFactory } from '../engine';
import { defaultsOf } from '../config/schema';
import { INIT_ANALYSIS_SCHEMA } from '../config/tasks';
import { meanSd } from '../stats';
import { DataSpec, LayerCollapsePlan, modelConfig, PhaseName, PHASES, phasePoints } from './layer-collapse-plan';
import { okResults } from './layer-collapse-sweep';

/** Relative depth position of layer `index` (0-based) among `numLayers`: 0 = input layer, 1 = output layer. */
export function relativePosition(index: number, numLayers: number): number {
  if (!Number.isInteger(numLayers) || numLayers < 2) throw new Error(`relativePosition: numLayers must be an integer >= 2, got ${numLayers}.`);
  if (!Number.isInteger(index) || index < 0 || index >= numLayers) throw new Error(`relativePosition: index must be an integer in 0..${numLayers - 1}, got ${index}.`);
  return index / (numLayers - 1);
}

export type Side = 'input' | 'middle' | 'output';
/** Input side: relative position < 1/2; output side: > 1/2; the exact middle of an odd-depth net is 'middle'. */
export function sideOf(index: number, numLayers: number): Side {
  const r = relativePosition(index, numLayers);
  return r < 0.5 ? 'input' : r > 0.5 ? 'output' : 'middle';
}

/** Kept fraction of each output unit's incoming weights, for a [in, out] dense mask (row-major). */
export function perUnitKept(mask: Uint8Array, shape: number[]): number[] {
  if (shape.length !== 2) throw new Error(`perUnitKept: expects a dense kernel shape [in, out], got [${shape}].`);
  const [fin, out] = shape;
  if (mask.length !== fin * out) throw new Error(`perUnitKept: mask has ${mask.length} entries, shape [${shape}] has ${fin * out}.`);
  const kept = new Array(out).fill(0);
  for (let i = 0; i < mask.length; i++) if (mask[i]) kept[i % out]++;
  return kept.map((k) => k / fin);
}
// ---------------------------------------------------------------------------------------------
// Engine task: init-only analyses of one depth x seed

export interface InitAnalysisConfig {
  [k: string]: unknown;
  depth: number;
  width: number;
  seed: number;
  phases: Array<{ name: PhaseName; sigmaW: number; sigmaB: number }>;
  methods: string[];
  sparsity: number;
  data: DataSpec;
  /** Store per-neuron kept fractions (SNIP, magnitude) for the heatmaps. */
  perNeuron: boolean;
  /** SynFlow at the fixed sparsity with this many rounds; 0 = skip. */
  synflowRounds: number;
  /** Bump when the analysis code changes meaning (cached results are keyed by config). */
  version: number;
}

/** From INIT_ANALYSIS_SCHEMA (config/tasks.ts), the one source of the task's keys and defaults. */
export const INIT_ANALYSIS_DEFAULTS = defaultsOf(INIT_ANALYSIS_SCHEMA) as InitAnalysisConfig;

export interface MethodRun {
  phase: PhaseName;
  method: string;
  /** Kept weights per layer at the fixed sparsity. */
  keptAtSparsity: number[];
  emptyAtSparsity: string[];
  /** null for SynFlow (iterative: no single score set). */
  critical: CollapsePoint | null;
  zeroScores: number;
  nanScores: number;
  tiesBroken: number;
  /** Per layer mean of score^2 (m_l of Definition 1); NaN scores skipped. */
  meanSqScore: number[];
  /** Per layer, per output unit kept fraction at the fixed sparsity (only with perNeuron). */
  perNeuron?: number[][];
  /** Weights whose fixed-sparsity mask differs from the EOC mask of the same method (null without an EOC phase). */
  maskDiffVsEoc: number | null;
  seconds: number;
}

export interface InitAnalysisResult {
  depth: number;
  width: number;
  seed: number;
  layerNames: string[];
  sizes: number[];
  fanIns: number[];
  phases: Array<{ name: PhaseName; sigmaW: number; sigmaB: number }>;
  runs: MethodRun[];
  backend: string;
  seconds: number;
}

function meanSquares(s: Float32Array): number {
  let sum = 0, k = 0;
  for (let i = 0; i < s.length; i++) { const v = s[i]; if (Number.isNaN(v)) continue; sum += v * v; k++; }
  return k ? sum / k : NaN;
}

export async function runInitAnalysis(cfg: InitAnalysisConfig): Promise<InitAnalysisResult> {
  const t0 = Date.now();
  await initBackend();
  if (!Array.isArray(cfg.phases) || cfg.phases.length === 0) throw new Error('layer-collapse-init: give at least one phase {name, sigmaW, sigmaB}.');
  const ds = loadDataset(cfg.data.name, { trainLimit: cfg.data.trainLimit || undefined, testLimit: cfg.data.testLimit || undefined, seed: 0 });
  const methods = [...cfg.methods, ...(cfg.synflowRounds > 0 ? ['synflow'] : [])];
  const runs: MethodRun[] = [];
  const masks = new Map<string, Map<string, Uint8Array>>(); // `${phase}/${method}` -> mask
  let layerNames: string[] = [], sizes: number[] = [], fanIns: number[] = [];
  for (const ph of cfg.phases) {
    const net = buildModel(modelConfig(cfg.depth, cfg.width, ph), { seed: cfg.seed, inputShape: ds.inputShape, numClasses: ds.numClasses });
    try {
      if (ph.name !== 'eoc' && Math.abs((net.init?.sigmaW ?? NaN) - ph.sigmaW) > 1e-12) throw new Error(`layer-collapse-init: built sigma_w ${net.init?.sigmaW} != ${ph.sigmaW}.`);
      layerNames = net.prunable.map((p) => p.name);
      sizes = net.prunable.map((p) => p.size);
      fanIns = net.prunable.map((p) => p.fanIn);
      for (const method of methods) {
        const tm = Date.now();
        const options = method === 'synflow' ? { rounds: cfg.synflowRounds } : {};
        const r = computeMask(net, { method, sparsity: cfg.sparsity, data: ds, seed: cfg.seed, options });
        const mask = new Map(r.selection.mask.names.map((n) => [n, r.selection.mask.get(n)]));
        masks.set(`${ph.name}/${method}`, mask);
        const run: MethodRun = {
          phase: ph.name, method,
          keptAtSparsity: r.selection.mask.perLayer().map((l) => l.kept),
          emptyAtSparsity: r.selection.mask.emptyLayers(),
          critical: method === 'synflow' ? null : collapsePoint(r.scores),
          zeroScores: r.selection.zeroScores, nanScores: r.selection.nanScores, tiesBroken: r.selection.tiesBroken,
          meanSqScore: layerNames.map((n) => meanSquares(r.scores.get(n)!)),
          maskDiffVsEoc: null, seconds: 0,
        };
        if (cfg.perNeuron && (method === 'snip' || method === 'magnitude')) {
          run.perNeuron = net.prunable.map((p) => perUnitKept(mask.get(p.name)!, p.shape));
        }
        run.seconds = (Date.now() - tm) / 1000;
        runs.push(run);
      }
    } finally {
      net.dispose();
    }
  }
  if (cfg.phases.some((p) => p.name === 'eoc')) {
    for (const run of runs) {
      const ref = masks.get(`eoc/${run.method}`)!, mine = masks.get(`${run.phase}/${run.method}`)!;
      let diff = 0;
      for (const [n, a] of mine) { const b = ref.get(n)!; for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff++; }
      run.maskDiffVsEoc = diff;
    }
  }
  return {
    depth: cfg.depth, width: cfg.width, seed: cfg.seed, layerNames, sizes, fanIns, phases: cfg.phases, runs,
    backend: backendInfo().backend, seconds: (Date.now() - t0) / 1000,
  };
}

export const LAYER_COLLAPSE_INIT_TASK = registerTask({
  name: 'layer-collapse-init', module: require.resolve('./layer-collapse-init'), export: 'runInitAnalysis', defaults: INIT_ANALYSIS_DEFAULTS,
  schema: INIT_ANALYSIS_SCHEMA, dataFields: ['data.name'],
});

/** One init-analysis config per (depth, seed). */
export function initConfigs(p: LayerCollapsePlan, seeds: number[]): InitAnalysisConfig[] {
  const phases = phasePoints(p.sigmaB, p.orderedSigmaW, p.chaoticSigmaW).map(({ name, sigmaW, sigmaB }) => ({ name, sigmaW, sigmaB }));
  return p.depths.flatMap((depth) => seeds.map((seed, i) => ({
    depth, width: p.width, seed, phases, methods: [...p.methods], sparsity: p.fixedSparsity, data: { ...p.scoring },
    perNeuron: depth === p.figDepth && i === 0, synflowRounds: depth === p.figDepth && i === 0 ? p.synflowRounds : 0, version: 1,
  })));
}

/** Run (or read from the cache) every init analysis. */
export async function runInitAnalyses(p: LayerCollapsePlan, seeds: number[], o: { progress?: ProgressFactory } = {}): Promise<InitAnalysisResult[]> {
  const configs = initConfigs(p, seeds);
  const recs = await withSweepProgress(o.progress, 'init-only analyses (depth x seed)', (onProgress) =>
    runSweep<InitAnalysisResult>({ task: LAYER_COLLAPSE_INIT_TASK, configs, workers: p.workers, onProgress, progressBar: false }));
  return okResults(recs, 'init-analysis').map((r) => r.result);
}

// ---------------------------------------------------------------------------------------------
// Tidy rows from the init analyses

export interface CriticalRow {
  depth: number;
  phase: PhaseName;
  method: string;
  seed: number;
  /** Critical sparsity (1 when no layer empties below sparsity 1). */
  sparsity: number;
  /** 0-based index and 1-based name of the first layer to empty. */
  firstEmpty: number;
  firstEmptyName: string;
  numLayers: number;
  position: number;
  side: Side;
  zeroScores: number;
}

export function criticalRows(results: readonly InitAnalysisResult[]): CriticalRow[] {
  const rows: CriticalRow[] = [];
  for (const r of results) for (const run of r.runs) {
    if (!run.critical) continue;
    const L = r.layerNames.length;
    rows.push({
      depth: r.depth, phase: run.phase, method: run.method, seed: r.seed,
      sparsity: run.critical.sparsity ?? 1, firstEmpty: run.critical.firstEmpty, firstEmptyName: run.critical.firstEmptyName,
      numLayers: L, position: relativePosition(run.critical.firstEmpty, L), side: sideOf(run.critical.firstEmpty, L), zeroScores: run.zeroScores,
    });
  }
  return rows;
}

export interface CriticalSummary {
  depth: number; phase: PhaseName; method: string; n: number; mean: number; sd: number; min: number; max: number;
  /** Distinct first-empty layers (1-based 'fc<k>' names) over seeds. */
  firstEmpty: string;
  sides: string;
  maxZeroScores: number;
}

export function summarizeCritical(rows: readonly CriticalRow[]): CriticalSummary[] {
  const groups = new Map<string, CriticalRow[]>();
  for (const r of rows) {
    const k = `${r.depth}|${r.method}|${r.phase}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const out: CriticalSummary[] = [];
  for (const g of groups.values()) {
    const s = meanSd(g.map((r) => r.sparsity));
    out.push({
      depth: g[0].depth, phase: g[0].phase, method: g[0].method, n: s.n, mean: s.mean, sd: s.sd,
      min: Math.min(...g.map((r) => r.sparsity)), max: Math.max(...g.map((r) => r.sparsity)),
      firstEmpty: [...new Set(g.map((r) => r.firstEmptyName.replace('/kernel', '')))].join(', '),
      sides: [...new Set(g.map((r) => r.side))].join(', '),
      maxZeroScores: Math.max(...g.map((r) => r.zeroScores)),
    });
  }
  const pi = (p: PhaseName) => PHASES.indexOf(p);
  return out.sort((a, b) => a.method.localeCompare(b.method) || a.depth - b.depth || pi(a.phase) - pi(b.phase));
}

/** Mean (over seeds) kept fraction per layer at the fixed sparsity, for one depth. */
export function perLayerKept(results: readonly InitAnalysisResult[], depth: number): Array<{ phase: PhaseName; method: string; layer: number; kept: number; n: number }> {
  const acc = new Map<string, { phase: PhaseName; method: string; sums: number[]; n: number }>();
  for (const r of results) {
    if (r.depth !== depth) continue;
    for (const run of r.runs) {
      const k = `${run.phase}|${run.method}`;
      const a = acc.get(k) ?? { phase: run.phase, method: run.method, sums: r.sizes.map(() => 0), n: 0 };
      run.keptAtSparsity.forEach((kept, l) => { a.sums[l] += kept / r.sizes[l]; });
      a.n++;
      acc.set(k, a);
    }
  }
  if (acc.size === 0) throw new Error(`perLayerKept: no init analysis at depth ${depth}.`);
  return [...acc.values()].flatMap((a) => a.sums.map((s, l) => ({ phase: a.phase, method: a.method, layer: l + 1, kept: s / a.n, n: a.n })));
}
