/**
 * The architectures structured pruning supports (pre-activation WRN, DenseNet-BC), behind one
 * interface: the config a built net came from, its unit groups in order, and the closed-form cost
 * of a config with given interior widths. Prune-and-tune and compression go through these.
 */
import type { Net } from '../nn/net';
import { DenseNetConfig, denseNetInterior, WrnConfig } from '../models';
import { Cost, ShapeOptions, wrnCost, wrnInterior } from './families';
import { denseNetCost, denseNetLayerNames } from './densenet';
import { wrnBlockNames } from './compress';

export type StructuredConfig = WrnConfig | DenseNetConfig;

function checkArch(cfg: { arch: string } | undefined, who: string): asserts cfg is StructuredConfig {
  if (!cfg || (cfg.arch !== 'wrn' && cfg.arch !== 'densenet')) {
    throw new Error(`${who}: structured pruning supports WRNs and DenseNet-BC built by buildModel, got ${cfg ? `arch '${cfg.arch}'` : 'a net without a config'}.`);
  }
}

/** Unit-group prefixes (blocks or dense layers) of a config, in order: group `${prefix}/mid`. */
export function groupPrefixes(cfg: StructuredConfig): string[] {
  checkArch(cfg, 'groupPrefixes');
  return cfg.arch === 'wrn' ? wrnBlockNames(cfg.depth) : denseNetLayerNames(cfg.depth);
}

/** Interior widths of a config, per group prefix. */
export function structuredInterior(cfg: StructuredConfig): number[] {
  checkArch(cfg, 'structuredInterior');
  return cfg.arch === 'wrn' ? wrnInterior(cfg) : denseNetInterior(cfg);
}

/** Parameters and MACs of a config. */
export function structuredCost(cfg: StructuredConfig, opts: ShapeOptions = {}): Cost {
  checkArch(cfg, 'structuredCost');
  return cfg.arch === 'wrn' ? wrnCost(cfg, opts) : denseNetCost(cfg, opts);
}

/** The config a net was built from, with `interior` = its built interior widths (unit masks ignored) and its input shape. */
export function structuredConfigOf(net: Net): StructuredConfig {
  const cfg = net.config;
  checkArch(cfg, `Net '${net.name}'`);
  const sizes = new Map(net.unitGroups.map((g) => [g.name, g.size]));
  const interior = groupPrefixes(cfg).map((b) => sizes.get(`${b}/mid`) ?? 0);
  const [h, w, c] = net.inputShape;
  const { bottleneck: _unused, ...rest } = cfg;
  return { ...rest, interior, inputShape: [h, w, c], numClasses: net.numClasses };
}
