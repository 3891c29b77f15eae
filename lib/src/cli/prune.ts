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
import * as path from 'path';
import { CliArgs, numberArg, stringArg } from './args';
import { initBackend, backendInfo } from '../backend';
import { buildModel, parseModelName, resolveInit, ModelConfig } from '../models';
import { loadDataset, gather, Dataset } from '../data';
import { writeSafetensors, StTensor } from '../safetensors';
import { writeFileAtomic } from '../fsutil';
import { checkSparsity } from '../prune/scores-to-mask';
import { getScoreMethod } from '../prune/score';
import { pruneAtInit } from '../prune/methods';
import { scoringBatchIndices, SNIP_DEFAULTS } from '../prune/snip';
import { layerReport, criticalSparsity } from '../prune/report';
import { RESCALE_VARIANTS, RescaleVariant } from '../prune/rescale';

export const summary = 'Prune a freshly initialised model with one method; write init/mask/scoring-batch safetensors and report.json';
export const usage = 'prune-at-init prune --model <name | JSON config> --method <' + 'random|magnitude|snip|grasp|synflow|sbp-sr' +
  '> --sparsity <0..1) --out <dir> [--seed 0] [--scope global|layerwise] [--dataset fashion-mnist] [--train-limit N] [--data-dir DIR] ' +
  '[--per-class 10] [--bn-mode eval|train] [--temperature 200] [--rounds 100] [--schedule exponential|linear] [--sigma-w X] [--variant fanIn|perPosition]';

const KNOWN = ['model', 'method', 'sparsity', 'out', 'seed', 'scope', 'dataset', 'train-limit', 'data-dir', 'per-class', 'bn-mode',
  'temperature', 'rounds', 'schedule', 'sigma-w', 'variant'];

function modelConfig(spec: string): ModelConfig {
  if (spec.trim().startsWith('{')) {
    try {
      return JSON.parse(spec) as ModelConfig;
    } catch (e) {
      throw new Error(`--model looks like JSON but does not parse (${(e as Error).message}); pass a model name (e.g. ffnn_tanh_d10_w100) or a JSON config.`);
    }
  }
  return parseModelName(spec);
}

/** σ_w of a FFNN/CNN config's init, for the SBP-SR rescaling. */
function configSigmaW(cfg: ModelConfig): number {
  if (cfg.arch !== 'ffnn' && cfg.arch !== 'cnn') throw new Error(`sbp-sr rescales FFNN/CNN only; '${cfg.arch}' has no sigma_w to restore.`);
  const s = resolveInit(cfg.init ?? { scheme: 'kaiming' }, cfg.activation).sigmaW;
  if (!(s > 0)) throw new Error(`The model's init (${cfg.init?.scheme ?? 'kaiming'}) has no single sigma_w; pass --sigma-w.`);
  return s;
}

export async function run(args: CliArgs): Promise<unknown> {
  const t0 = Date.now();
  for (const k of Object.keys(args)) if (!KNOWN.includes(k)) throw new Error(`Unknown option --${k}. Known: ${KNOWN.map((o) => `--${o}`).join(', ')}.`);
  const method = stringArg(args, 'method');
  const m = getScoreMethod(method); // throws listing the registered methods
  const sparsity = numberArg(args, 'sparsity');
  checkSparsity(sparsity);
  const seed = numberArg(args, 'seed', 0);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${seed}.`);
  const scope = stringArg(args, 'scope', 'global');
  if (scope !== 'global' && scope !== 'layerwise') throw new Error(`--scope must be 'global' or 'layerwise', got '${scope}'.`);
  const out = stringArg(args, 'out');
  const variant = stringArg(args, 'variant', 'fanIn') as RescaleVariant;
  if (!RESCALE_VARIANTS.includes(variant)) throw new Error(`--variant must be ${RESCALE_VARIANTS.join(' or ')}, got '${variant}'.`);
  const modelSpec = stringArg(args, 'model');
  const cfg = modelConfig(modelSpec);

  const options: Record<string, unknown> = {};
  const intOpt = (flag: string, key: string) => {
    if (args[flag] === undefined) return;
    const v = numberArg(args, flag);
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${flag} must be a positive integer, got ${v}.`);
    options[key] = v;
  };
  intOpt('per-class', 'perClass');
  intOpt('rounds', 'rounds');
  if (args['bn-mode'] !== undefined) options.bnMode = stringArg(args, 'bn-mode');
  if (args.temperature !== undefined) options.temperature = numberArg(args, 'temperature');
  if (args.schedule !== undefined) options.schedule = stringArg(args, 'schedule');

  await initBackend();
  let ds: Dataset | undefined;
  const dsName = args.dataset !== undefined ? stringArg(args, 'dataset') : m.needsData ? 'fashion-mnist' : undefined;
  if (dsName) {
    const trainLimit = args['train-limit'] !== undefined ? numberArg(args, 'train-limit') : undefined;
    ds = loadDataset(dsName, { trainLimit, dir: args['data-dir'] !== undefined ? stringArg(args, 'data-dir') : undefined, seed });
  }
  let batchIdx: Int32Array | undefined;
  if (m.needsData) {
    batchIdx = scoringBatchIndices(ds!, (options.perClass as number | undefined) ?? SNIP_DEFAULTS.perClass, seed);
    options.batchIndices = batchIdx;
  }
  const net = buildModel(cfg, { seed, ...(ds ? { inputShape: ds.inputShape, numClasses: ds.numClasses } : {}) });
  try {
    const sigmaW = method === 'sbp-sr' && !net.info.some((p) => p.layerType === 'batchnorm')
      ? (args['sigma-w'] !== undefined ? numberArg(args, 'sigma-w') : configSigmaW(cfg)) : undefined;
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
      layers: report.layers, summary: report.summary,
      backend: backendInfo(), seconds,
    }, null, 2) + '\n');
    return summaryOut;
  } finally {
    net.dispose();
  }
}
