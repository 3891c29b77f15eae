/**
 * Signal propagation measured on real nets (notebook 02's §1–§2, eoc-rescaling.ts): per-layer q^l and
 * pair correlation c^l from forward passes of dense, SNIP-pruned and pruned+rescaled EOC nets, against
 * the mean-field prediction (eoc-rescaling-theory.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { Dataset, gather } from '../data';
import { eocSigmaW, varianceFixedPoint } from '../eoc';
import type { Phase } from '../eoc';
import { buildModel } from '../models';
import type { Net } from '../nn/net';
import { mean, meanSd } from '../stats';
import { computeMask, rescaleKept } from '../prune';
import { ACTIVATION, SIGMA_B } from './eoc-rescaling-constants';
import { ffnnConfig } from './eoc-rescaling-plan';
import { meanFieldPair, phasePoints } from './eoc-rescaling-theory';

export interface SignalProfile {
  /** Recorded layer names (hidden pre-activations, input side first). */
  names: string[];
  /** q^l: mean over units and examples of the squared pre-activation. */
  q: number[];
  /** c^l: mean over input pairs (0,1), (2,3), … of the cosine between their pre-activation vectors. */
  c: number[];
  /** Number of input pairs averaged in c. */
  pairs: number;
}

/**
 * Forward `x` through `net` (eval mode) recording every hidden pre-activation y^l (FFNN: fc1 …
 * fc_{L−1}); returns q^l and the pair correlation c^l per layer. Needs an even batch ≥ 2.
 */
export function measureSignal(net: Net, x: tf.Tensor): SignalProfile {
  const n = x.shape[0];
  if (!(n >= 2) || n % 2 !== 0) throw new Error(`measureSignal: give an even batch of at least 2 inputs (pairs (0,1), (2,3), …), got ${n}.`);
  const record = new Map<string, tf.Tensor>();
  try {
    tf.tidy(() => { net.forward(x, { record }); });
    const names = [...record.keys()];
    if (names.length === 0) throw new Error(`measureSignal: ${net.name} recorded no pre-activations; it needs an architecture whose forward records them (ffnn, cnn, resnet).`);
    const q: number[] = [], c: number[] = [];
    for (const name of names) {
      const t = record.get(name)!;
      const d = t.dataSync();
      const units = d.length / n;
      let s2 = 0;
      for (let i = 0; i < d.length; i++) s2 += d[i] * d[i];
      q.push(s2 / d.length);
      let cs = 0;
      for (let p = 0; p < n; p += 2) {
        let ab = 0, aa = 0, bb = 0;
        const oa = p * units, ob = (p + 1) * units;
        for (let u = 0; u < units; u++) { const a = d[oa + u], b = d[ob + u]; ab += a * b; aa += a * a; bb += b * b; }
        cs += aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
      }
      c.push(cs / (n / 2));
    }
    return { names, q, c, pairs: n / 2 };
  } finally {
    for (const t of record.values()) t.dispose();
  }
}

/**
 * Per prunable dense kernel (layer order): the mean over output units of the squared norm of the
 * unit's effective incoming weights Σ_j (δ_ij W_ij)², i.e. the σ_w² a mean-field model of the
 * (pruned) layer sees. Dense kernels only (layout [in, out]).
 */
export function effectiveSigmaW2(net: Net): number[] {
  // the raw weights and the 0/1 mask as arrays: the sum runs over the kept entries only
  const w = net.getWeights(), m = net.maskArrays();
  return net.prunable.map((p) => {
    if (p.shape.length !== 2) throw new Error(`effectiveSigmaW2: ${p.name} has shape [${p.shape}]; only dense [in, out] kernels are supported.`);
    const out = p.shape[1], d = w.get(p.name)!, k = m.get(p.name)!;
    let s = 0;
    for (let i = 0; i < d.length; i++) if (k[i]) s += d[i] * d[i];
    return s / out;
  });
}

/** Output units (columns of a dense [in, out] kernel) with no kept incoming weight, per layer. */
export function emptyUnitsPerLayer(net: Net): number[] {
  const m = net.maskArrays();
  return net.prunable.map((p) => {
    const out = p.shape[p.shape.length - 1], a = m.get(p.name)!;
    const kept = new Uint8Array(out);
    for (let i = 0; i < a.length; i++) if (a[i]) kept[i % out] = 1;
    return out - kept.reduce((x, y) => x + y, 0);
  });
}

export type SignalVariant = 'dense' | 'pruned' | 'rescaled';

export interface SignalRow {
  /** Phase of the init ('eoc' for the pruning experiment). */
  phase: Phase;
  seed: number;
  /** 0 for the dense net. */
  sparsity: number;
  variant: SignalVariant;
  /** 1-based index of the weight layer producing the pre-activation. */
  layer: number;
  q: number;
  c: number;
  /** Mean-field prediction from the measured layer-1 (q, c), with this net's per-layer σ_w² (effectiveSigmaW2). */
  qPred: number;
  cPred: number;
  /** The dense net's fixed point q* (σ_b, nominal σ_w). */
  qStar: number;
  /** effectiveSigmaW2 of this layer's kernel. */
  sigmaW2: number;
  /** Units of this layer with no kept incoming weight. */
  emptyUnits: number;
}

function profileRows(net: Net, x: tf.Tensor, base: Pick<SignalRow, 'phase' | 'seed' | 'sparsity' | 'variant' | 'qStar'>, sigmaB: number): SignalRow[] {
  const prof = measureSignal(net, x);
  const s2 = effectiveSigmaW2(net);
  const empty = emptyUnitsPerLayer(net);
  const pred = meanFieldPair(ACTIVATION, sigmaB, s2.slice(1, prof.q.length), prof.q[0], prof.c[0]);
  return prof.q.map((q, i) => ({
    ...base, layer: i + 1, q, c: prof.c[i], qPred: pred.q[i], cPred: pred.c[i], sigmaW2: s2[i], emptyUnits: empty[i],
  }));
}

/** The first `batch` test inputs of `data` as one tensor (deterministic). */
function testBatch(data: Dataset, batch: number): tf.Tensor {
  if (!Number.isInteger(batch) || batch < 2 || batch % 2 !== 0) throw new Error(`batch must be an even integer ≥ 2, got ${batch}.`);
  if (batch > data.test.n) throw new Error(`batch ${batch} exceeds the ${data.test.n} test examples of ${data.name}; lower it or raise testLimit.`);
  const b = gather(data, data.test, Int32Array.from({ length: batch }, (_, i) => i));
  b.y.dispose();
  return b.x;
}

export interface SignalOptions { data: Dataset; depth: number; width: number; seeds: readonly number[]; batch: number; sigmaB?: number }

/**
 * Dense nets in the three phases (no pruning): per-layer q^l and c^l of a real input batch, with
 * the mean-field prediction. The "correlation map through depth" measurement.
 */
export async function phasePropagation(o: SignalOptions): Promise<SignalRow[]> {
  await initBackend();
  const sigmaB = o.sigmaB ?? SIGMA_B;
  const x = testBatch(o.data, o.batch);
  const rows: SignalRow[] = [];
  try {
    for (const pt of phasePoints(sigmaB)) {
      for (const seed of o.seeds) {
        const net = buildModel(ffnnConfig(o.depth, o.width, { scheme: 'explicit', sigmaW: pt.sigmaW, sigmaB }), { seed, inputShape: o.data.inputShape, numClasses: o.data.numClasses });
        try {
          rows.push(...profileRows(net, x, { phase: pt.arm, seed, sparsity: 0, variant: 'dense', qStar: pt.qStar }, sigmaB));
        } finally { net.dispose(); }
      }
    }
  } finally { x.dispose(); }
  return rows;
}

/**
 * EOC tanh nets, per seed: dense, then for each sparsity SNIP-pruned (mask installed) and
 * pruned + rescaled (kept weights of each unit scaled to squared norm σ_w², rescaleKept). SNIP
 * scores the dense net on its seed's class-balanced train batch. Weights are restored between
 * variants, so every variant starts from the same init.
 */
export async function signalPropagation(o: SignalOptions & { sparsities: readonly number[] }): Promise<SignalRow[]> {
  await initBackend();
  const sigmaB = o.sigmaB ?? SIGMA_B;
  const eoc = eocSigmaW(ACTIVATION, sigmaB);
  const qStar = varianceFixedPoint(ACTIVATION, sigmaB, eoc.sigmaW);
  const x = testBatch(o.data, o.batch);
  const rows: SignalRow[] = [];
  try {
    for (const seed of o.seeds) {
      const net = buildModel(ffnnConfig(o.depth, o.width, { scheme: 'eoc', sigmaB }), { seed, inputShape: o.data.inputShape, numClasses: o.data.numClasses });
      try {
        const sigmaW = net.init!.sigmaW;
        const w0 = net.getWeights();
        rows.push(...profileRows(net, x, { phase: 'eoc', seed, sparsity: 0, variant: 'dense', qStar }, sigmaB));
        for (const sparsity of o.sparsities) {
          const { selection } = computeMask(net, { method: 'snip', sparsity, data: o.data, seed });
          net.setMask(selection.mask);
          rows.push(...profileRows(net, x, { phase: 'eoc', seed, sparsity, variant: 'pruned', qStar }, sigmaB));
          rescaleKept(net, selection.mask, { sigmaW });
          rows.push(...profileRows(net, x, { phase: 'eoc', seed, sparsity, variant: 'rescaled', qStar }, sigmaB));
          net.clearMask();
          net.setWeights(w0);
        }
      } finally { net.dispose(); }
    }
  } finally { x.dispose(); }
  return rows;
}

/** Seed means of q, c and their predictions per (phase, sparsity, variant, layer). */
export function signalSummary(rows: readonly SignalRow[]): Array<Omit<SignalRow, 'seed'> & { n: number; qSd: number }> {
  const groups = new Map<string, SignalRow[]>();
  for (const r of rows) {
    const k = JSON.stringify([r.phase, r.sparsity, r.variant, r.layer]);
    const g = groups.get(k);
    if (g) g.push(r); else groups.set(k, [r]);
  }
  return [...groups.values()].map((g) => {
    const qs = meanSd(g.map((r) => r.q));
    return {
      phase: g[0].phase, sparsity: g[0].sparsity, variant: g[0].variant, layer: g[0].layer,
      q: qs.mean, qSd: qs.sd, c: mean(g.map((r) => r.c)), qPred: mean(g.map((r) => r.qPred)), cPred: mean(g.map((r) => r.cPred)),
      qStar: g[0].qStar, sigmaW2: mean(g.map((r) => r.sigmaW2)), emptyUnits: mean(g.map((r) => r.emptyUnits)), n: g.length,
    };
  });
}
