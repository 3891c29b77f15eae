/**
 * Closed-form cost of DenseNet-BC configs (parameters and MACs, mirroring models.ts buildDenseNet)
 * and the reduced DenseNets trained from scratch: lower depth and lower growth rate (Crowley et al.
 * reduce DenseNets the same two ways, arXiv 1810.04622). MACs = multiply-accumulates of conv and linear
 * kernels per example (BN, ReLU, pooling and concatenation not counted), as for WRNs.
 */
import { DenseNetConfig, denseNetInterior, denseNetLayers, denseNetWidths } from '../models';
import type { Cost, ShapeOptions } from './families';

/** Unit-group prefixes of DenseNet-BC-d in layer order: d1l1, d1l2, ..., d3ln. */
export function denseNetLayerNames(depth: number): string[] {
  const n = denseNetLayers(depth);
  return [1, 2, 3].flatMap((b) => Array.from({ length: n }, (_, l) => `d${b}l${l + 1}`));
}

/**
 * Parameters and MACs of a DenseNet-BC config: stem 3×3 conv (no bias); per dense layer BN1 (2·in),
 * conv1×1 in·mid, BN2 2·mid, conv3×3 9·mid·k (a layer with mid = 0 keeps BN1 only and outputs k
 * zero channels); per transition BN 2·C and conv1×1 C·floor(θC), at the resolution before its 2×2
 * average pool; final BN, linear with bias.
 */
export function denseNetCost(cfg: DenseNetConfig, opts: ShapeOptions = {}): Cost {
  const [H, W, cin] = opts.inputShape ?? cfg.inputShape ?? [28, 28, 1];
  const classes = opts.numClasses ?? cfg.numClasses ?? 10;
  const n = denseNetLayers(cfg.depth), k = cfg.growth, mids = denseNetInterior(cfg);
  const { stem } = denseNetWidths(cfg);
  const theta = cfg.compression ?? 0.5;
  let h = H, w = W, c = stem;
  let params = 9 * cin * stem, m = 9 * cin * stem * h * w;
  for (let b = 0; b < 3; b++) {
    for (let l = 0; l < n; l++) {
      const mid = mids[b * n + l];
      if (!Number.isInteger(mid) || mid < 0) throw new Error(`DenseNet layer ${b * n + l}: interior width must be a non-negative integer, got ${mid}.`);
      params += 2 * c;
      if (mid > 0) {
        params += c * mid + 2 * mid + 9 * mid * k;
        m += (c * mid + 9 * mid * k) * h * w;
      }
      c += k;
    }
    if (b < 2) {
      const out = Math.floor(theta * c);
      params += 2 * c + c * out;
      m += c * out * h * w;
      c = out; h = Math.floor(h / 2); w = Math.floor(w / 2);
    }
  }
  params += 2 * c + c * classes + classes;
  m += c * classes;
  return { params, macs: m };
}

export type DenseNetFamilyKind = 'base' | 'depth' | 'growth';

export interface DenseNetFamilyMember extends Cost {
  kind: DenseNetFamilyKind;
  /** e.g. 'DenseNet-BC-22 (k=8)'. */
  label: string;
  config: DenseNetConfig;
}

export function denseNetLabel(depth: number, growth: number): string { return `DenseNet-BC-${depth} (k=${growth})`; }

/** Reduced DenseNets of a base DenseNet-BC-d (growth k): lower depths at k, lower growth rates at d. */
export function reducedDenseNetFamily(base: { depth: number; growth: number }, opts: ShapeOptions & { depths?: number[]; growths?: number[]; includeBase?: boolean } = {}): DenseNetFamilyMember[] {
  const mk = (kind: DenseNetFamilyKind, depth: number, growth: number): DenseNetFamilyMember => {
    const config: DenseNetConfig = { arch: 'densenet', depth, growth };
    return { kind, label: denseNetLabel(depth, growth), config, ...denseNetCost(config, opts) };
  };
  return [
    ...(opts.includeBase ?? true ? [mk('base', base.depth, base.growth)] : []),
    ...(opts.depths ?? []).map((d) => mk('depth', d, base.growth)),
    ...(opts.growths ?? []).map((g) => mk('growth', base.depth, g)),
  ];
}
