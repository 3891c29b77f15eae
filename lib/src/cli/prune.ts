/**
 * `prune-at-init prune`: build a model from its seed, prune it at initialisation with one method and
 * write what a trainer (or numpy/PyTorch) needs to reproduce the run:
 * - init.safetensors: every parameter after pruning (F32; tensor name = parameter name, e.g.
 *   'fc1/kernel'), pruned entries 0, kept entries as initialised (sbp-sr: rescaled). TF.js layouts:
 *   dense kernels [in, out], conv kernels [kh, kw, in, out] (PyTorch: transpose to [out, in] /
 *   [out, in, kh, kw]); BN running statistics are not included (init values: mean 0, var 1).
 * - mask.safetensors: U8 0/1 per prunable kernel, same names and layouts.
 * - scoring_batch.safetensors (data-dependent methods only): x F32 [n, H, W, C] (normalised, NHWC),
 *   y I32 [n], index I32 [n] (train-split indices).
 * - report.json: per-layer report, summary, critical sparsity of the scores, settings, backend.
 */
import * as fs from 'fs';
import * as path from 'path';
import { choiceOpt, CliValues, Command, numberOpt, stringOpt, UsageError } from './args';
import { initBackend, backendInfo } from '../backend';
import { buildModel, parseModelName, resolveInit, ModelConfig } from '../models';
import { loadDataset, gather, Dataset, DATASET_NAMES } from '../data';
import { writeSafetensors, StTensor } from '../safetensors';
import { prepareOutputDir, writeFileAtomic } from '../fsutil';
import { getScoreMethod } from '../prune/score';
import { pruneAtInit } from '../prune/methods';
import { scoringBatchIndices, SNIP_DEFAULTS } from '../prune/snip';
import { layerReport, criticalSparsity } from '../prune/report';
import { RESCALE_VARIANTS, RescaleVariant } from '../prune/rescale';
import { parseConfig } from '../config/schema';
import { modelConfigSchema } from '../config/common';

/** Every file a prune run may write (a rerun into the same --out replaces all of them, or none). */
export const PRUNE_OUTPUTS = ['init.safetensors', 'mask.safetensors', 'scoring_batch.safetensors', 'report.json'] as const;

function modelConfig(spec: string): ModelConfig {
  if (spec.trim().startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(spec);
    } catch (e) {
      throw new UsageError(`--model looks like JSON but does not parse (${(e as Error).message}); pass a model name (e.g. ffnn_tanh_d10_w100) or a JSON config.`);
    }
    try { return parseConfig(modelConfigSchema, json, '--model JSON config', '--model') as ModelConfig; } catch (e) { throw new UsageError((e as Error).message); }
  }
  try { return parseModelName(spec); } catch (e) { throw new UsageError(`--model: ${(e as Error).message}`); }
}

/** σ_w of a FFNN/CNN config's init, for the SBP-SR rescaling. */
function configSigmaW(cfg: ModelConfig): number {
  if (cfg.arch !== 'ffnn' && cfg.arch !== 'cnn') throw new UsageError(`sbp-sr rescales FFNN/CNN only; '${cfg.arch}' has no sigma_w to restore.`);
  const s = resolveInit(cfg.init ?? { scheme: 'kaiming' }, cfg.activation).sigmaW;
  if (!(s > 0)) throw new UsageError(`The model's init (${cfg.init?.scheme ?? 'kaiming'}) has no single sigma_w; pass --sigma-w.`);
  return s;
}

export const prune: Command = {
  summary: 'Prune a freshly initialised model with one method; write init/mask/scoring-batch safetensors and report.json',
  usage: '--model <name|JSON> --method <method> --sparsity <0..1) --out <folder> [options]',
  options: {
    model: { type: 'string', value: '<name|JSON>', help: "model name (e.g. lenet300, ffnn_tanh_d10_w100) or a JSON ModelConfig", required: true },
    method: { type: 'string', value: '<method>', help: 'random, magnitude, snip, grasp, synflow or sbp-sr', required: true },
    sparsity: { type: 'string', value: '<0..1)', help: 'fraction of prunable weights removed', required: true },
    out: { type: 'string', value: '<folder>', help: 'output folder (checked before computing; must not hold an earlier run unless --force)', required: true },
    force: { type: 'boolean', help: "replace an earlier run's files in --out" },
    seed: { type: 'string', value: '<integer>', help: 'init, data subset and scoring-batch seed; negative as --seed=-1', default: '0' },
    scope: { type: 'string', value: 'global|layerwise', help: 'rank scores over all layers or per layer', default: 'global' },
    dataset: { type: 'string', value: DATASET_NAMES.join('|'), help: 'data for data-dependent methods', default: 'fashion-mnist (data-dependent methods)' },
    'train-limit': { type: 'string', value: '<integer >= 1>', help: 'seeded class-stratified training subset' },
    'data-dir': { type: 'string', value: '<folder>', help: "dataset folder (overrides PRUNE_AT_INIT_*_DIR)" },
    'per-class': { type: 'string', value: '<integer >= 1>', help: 'scoring-batch examples per class', default: String(SNIP_DEFAULTS.perClass) },
    'bn-mode': { type: 'string', value: 'eval|train', help: 'BatchNorm mode while scoring' },
    temperature: { type: 'string', value: '<number > 0>', help: 'GraSP temperature' },
    rounds: { type: 'string', value: '<integer >= 1>', help: 'SynFlow rounds' },
    schedule: { type: 'string', value: 'exponential|linear', help: 'SynFlow sparsity schedule' },
    'sigma-w': { type: 'string', value: '<number > 0>', help: "sbp-sr: the weight scale to restore (default: the model's init)" },
    variant: { type: 'string', value: RESCALE_VARIANTS.join('|'), help: 'sbp-sr rescaling variant', default: 'fanIn' },
  },
  notes: `Writes into --out: ${PRUNE_OUTPUTS.join(', ')} (scoring_batch only for data-dependent methods); each file atomically.`,
  run,
};

async function run(v: CliValues): Promise<unknown> {
  const t0 = Date.now();
  const method = stringOpt(v, 'method')!;
  let m;
  try { m = getScoreMethod(method); } catch (e) { throw new UsageError((e as Error).message); } // lists the registered methods
  const sparsity = numberOpt(v, 'sparsity', { min: 0 })!;
  if (!(sparsity < 1)) throw new UsageError(`--sparsity must be in [0, 1) (the fraction removed), got ${sparsity}.`);
  const seed = numberOpt(v, 'seed', { fallback: 0, integer: true })!;
  const scope = choiceOpt(v, 'scope', ['global', 'layerwise'] as const, 'global')!;
  const out = path.resolve(stringOpt(v, 'out')!);
  const variant = choiceOpt(v, 'variant', RESCALE_VARIANTS, 'fanIn' as RescaleVariant)!;
  const modelSpec = stringOpt(v, 'model')!;
  const cfg = modelConfig(modelSpec);
  const options: Record<string, unknown> = {};
  const perClass = numberOpt(v, 'per-class', { integer: true, min: 1 });
  if (perClass !== undefined) options.perClass = perClass;
  const rounds = numberOpt(v, 'rounds', { integer: true, min: 1 });
  if (rounds !== undefined) options.rounds = rounds;
  const bnMode = choiceOpt(v, 'bn-mode', ['eval', 'train'] as const);
  if (bnMode !== undefined) options.bnMode = bnMode;
  const temperature = numberOpt(v, 'temperature', { min: Number.MIN_VALUE });
  if (temperature !== undefined) options.temperature = temperature;
  const schedule = choiceOpt(v, 'schedule', ['exponential', 'linear'] as const);
  if (schedule !== undefined) options.schedule = schedule;
  const trainLimit = numberOpt(v, 'train-limit', { integer: true, min: 1 });
  const sigmaWOpt = numberOpt(v, 'sigma-w', { min: Number.MIN_VALUE });
  const dsName = stringOpt(v, 'dataset', m.needsData ? 'fashion-mnist' : undefined);
  if (dsName !== undefined && !(DATASET_NAMES as readonly string[]).includes(dsName)) throw new UsageError(`--dataset must be one of ${DATASET_NAMES.join(', ')}, got '${dsName}'.`);
  // every output problem now, before the (possibly long) scoring
  const earlier = prepareOutputDir(out, PRUNE_OUTPUTS, { force: v.force === true, flag: '--out' });

  await initBackend();
  let ds: Dataset | undefined;
  if (dsName) ds = loadDataset(dsName, { trainLimit, dir: stringOpt(v, 'data-dir'), seed });
  let batchIdx: Int32Array | undefined;
  if (m.needsData) {
    batchIdx = scoringBatchIndices(ds!, (options.perClass as number | undefined) ?? SNIP_DEFAULTS.perClass, seed);
    options.batchIndices = batchIdx;
  }
  const net = buildModel(cfg, { seed, ...(ds ? { inputShape: ds.inputShape, numClasses: ds.numClasses } : {}) });
  try {
    const sigmaW = method === 'sbp-sr' && !net.info.some((p) => p.layerType === 'batchnorm')
      ? (sigmaWOpt ?? configSigmaW(cfg)) : undefined;
    const res = pruneAtInit(net, { method, sparsity, scope, data: ds, seed, options, sigmaW, rescaleVariant: variant });
    const mask = res.selection.mask;
    const report = layerReport(net, mask, res.scores);
    const iterative = method === 'synflow';
    const cs = iterative ? null : criticalSparsity(net, res.scores, { scope });

    const files: string[] = [];
    const write = (name: string, data: Uint8Array | string) => { writeFileAtomic(path.join(out, name), data); files.push(name); };
    const weights = net.getWeights();
    const meta = {
      format: 'prune-at-init', layout: 'TF.js: dense kernels [in, out], conv kernels [kh, kw, in, out]; row-major',
      model: modelSpec, seed: String(seed), method, sparsity: String(sparsity), rescaled: String(res.rescale !== null),
    };
    write('init.safetensors', writeSafetensors(net.info.map((p): StTensor => ({ name: p.name, dtype: 'F32', shape: p.shape, data: weights.get(p.name)! })), meta));
    write('mask.safetensors', writeSafetensors(mask.names.map((n): StTensor => ({ name: n, dtype: 'U8', shape: mask.shape(n), data: mask.get(n) })), meta));
    if (batchIdx && ds) {
      const b = gather(ds, ds.train, batchIdx);
      const x = Float32Array.from(b.x.dataSync()), y = Int32Array.from(b.y.dataSync());
      b.x.dispose(); b.y.dispose();
      write('scoring_batch.safetensors', writeSafetensors([
        { name: 'x', dtype: 'F32', shape: [batchIdx.length, ...ds.inputShape], data: x },
        { name: 'y', dtype: 'I32', shape: [batchIdx.length], data: y },
        { name: 'index', dtype: 'I32', shape: [batchIdx.length], data: batchIdx },
      ], { split: 'train', dataset: ds.name, normalization: JSON.stringify(ds.normalization) }));
    }
    const threshold = res.selection.threshold instanceof Map ? Object.fromEntries(res.selection.threshold) : res.selection.threshold;
    const seconds = (Date.now() - t0) / 1000;
    const summaryOut = {
      out, files: [...files, 'report.json'], model: net.name, method, sparsity, scope, seed,
      kept: report.summary.kept, size: report.summary.size, density: report.summary.density,
      emptyLayers: report.summary.emptyLayers, collapsed: report.summary.collapsed,
      criticalSparsity: cs ? cs.sparsity : null, rescaled: res.rescale !== null, seconds,
    };
    // --force: files of the earlier run that this run did not write would mislead; remove them
    for (const name of earlier) if (!files.includes(name) && name !== 'report.json') fs.unlinkSync(path.join(out, name));
    write('report.json', JSON.stringify({
      command: 'prune', model: { spec: modelSpec, config: cfg, name: net.name, numParams: net.numParams, inputShape: net.inputShape },
      method: { name: method, description: m.description, options: { ...options, batchIndices: undefined } },
      sparsity, scope, seed,
      dataset: ds ? { name: ds.name, source: ds.source, normalization: ds.normalization } : null,
      scoringBatch: batchIdx ? { split: 'train', size: batchIdx.length, indices: Array.from(batchIdx) } : null,
      selection: { threshold, tiesBroken: res.selection.tiesBroken, zeroScores: res.selection.zeroScores, nanScores: res.selection.nanScores },
      scoresNote: iterative ? 'synflow: final-round scores, scaled by one common factor (ranking exact); weights pruned in earlier rounds score 0' : undefined,
      criticalSparsity: cs ?? { note: 'not computed for iterative methods (the final scores are conditioned on the earlier rounds)' },
      rescale: res.rescale, note: res.note,
      layers: report.layers, summary: report.summary, effective: report.effective,
      backend: backendInfo(), seconds,
    }, null, 2) + '\n');
    return summaryOut;
  } finally {
    net.dispose();
  }
}
