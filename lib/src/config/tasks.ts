/**
 * Schemas of the study tasks' configs ('layer-collapse-init', 'rvp-train', 'rvp-prune', 'early-pruning'):
 * each is the source of its task's defaults (defaultsOf), so a key missing here is an unknown key
 * in a config. ('prune-train' lives with its task in experiment.ts.)
 */
import { fraction, int, nested, nonNegInt, posInt, strictObject, z } from './schema';
import { augmentSchema, dataSpecSchema, modelSpecSchema, trainConfigShape } from './common';

const FASHION = { name: 'fashion-mnist', trainLimit: 0, testLimit: 0 };

export const INIT_ANALYSIS_SCHEMA = strictObject({
  depth: posInt().default(10),
  width: posInt().default(100),
  seed: int().default(0),
  phases: z.array(strictObject({ name: z.enum(['ordered', 'eoc', 'chaotic']), sigmaW: z.number().positive(), sigmaB: z.number().min(0) })).default([]),
  methods: z.array(z.string()).default([]),
  sparsity: fraction().default(0.7),
  data: dataSpecSchema(FASHION),
  perNeuron: z.boolean().default(false).describe('store per-neuron kept fractions (heatmaps)'),
  synflowRounds: nonNegInt().default(0).describe('SynFlow at the fixed sparsity with this many rounds; 0 = skip'),
  version: int().default(1).describe('bumped when the analysis code changes meaning'),
});

/** The reduced-vs-pruned training recipe (RvpRecipe). */
const rvpRecipe = () => nested({
  epochs: nonNegInt().default(200),
  batchSize: posInt().default(128),
  lr: z.number().positive().default(0.1),
  momentum: z.number().min(0).lt(1).default(0.9),
  weightDecay: z.number().min(0).default(5e-4),
  milestones: z.array(z.number().gt(0).max(1)).default([0.3, 0.6, 0.8]),
  gamma: z.number().positive().default(0.2),
  augment: augmentSchema.optional(),
});

export const RVP_TRAIN_SCHEMA = strictObject({
  data: dataSpecSchema(FASHION),
  model: nested({ arch: z.enum(['wrn', 'densenet']).default('wrn'), depth: posInt().default(16), widthFactor: z.number().positive().default(1), growth: nonNegInt().default(0).describe('DenseNet growth rate (0 for a WRN)'), interior: z.array(nonNegInt()).default([]) }),
  replay: z.array(z.tuple([z.string(), nonNegInt()])).default([]).describe('[block, channel] pairs removed from the full net'),
  train: rvpRecipe(),
  initSeed: int().default(0),
  keepState: z.boolean().default(false),
  evalEveryEpoch: z.boolean().default(true).describe('test after every epoch (the plateau gate reads the history)'),
  seed: int().default(0),
});

export const RVP_PRUNE_SCHEMA = strictObject({
  data: dataSpecSchema(FASHION),
  base: nested({ arch: z.enum(['wrn', 'densenet']).default('wrn'), depth: posInt().default(40), widthFactor: z.number().positive().default(2), growth: nonNegInt().default(0) }),
  train: rvpRecipe(),
  prune: nested({
    criterion: z.enum(['fisher', 'l1']).default('fisher'),
    l1Variant: z.enum(['abs', 'signed-authors']).default('abs'),
    stepsPerPrune: nonNegInt().default(100),
    batchSize: posInt().default(128),
    lr: z.number().positive().default(8e-4),
    momentum: z.number().min(0).lt(1).default(0.9),
    weightDecay: z.number().min(0).default(5e-4),
    checkpointParams: z.array(posInt()).default([]),
    augment: augmentSchema.optional(),
  }),
  seed: int().default(0),
});

const scope = () => z.enum(['global', 'layerwise']);
const nullable = <T extends z.ZodType>(s: T) => s.nullable().default(null);

export const EARLY_PRUNING_METHOD_NAMES = ['dense', 'random', 'magnitude', 'snip', 'kstarts', 'dissipating', 'magnitude-at-epoch', 'combined'] as const;

/**
 * The early-pruning config ('early-pruning' task): the prune-train shape (model, data, prune, train,
 * seed) with each method's options in its own group. Configs stored in the older flat shape (task
 * 'haroon') are migrated by early-pruning/config-v1.ts.
 */
export const EARLY_PRUNING_SCHEMA = strictObject({
  model: modelSpecSchema.default('lenet300').describe('model name (parseModelName) or ModelConfig'),
  data: dataSpecSchema(FASHION),
  prune: nested({
    method: z.enum(EARLY_PRUNING_METHOD_NAMES).default('random'),
    sparsity: fraction().default(0.9).describe("fraction of prunable weights removed, in [0, 1); ignored by 'dense'"),
    scope: scope().default('global').describe('scope of score masks at init (magnitude, SNIP), as in their papers'),
    randomScope: scope().default('layerwise').describe('scope of random masks (random baseline, K-starts candidates)'),
    options: z.record(z.string(), z.unknown()).default({}).describe("options of the 'snip' score method"),
    kstarts: nested({
      k: posInt().default(5),
      selectionEpochs: posInt().default(1),
      fitness: z.enum(['magnitude', 'gradient', 'both', 'dissipation']).default('magnitude'),
      direction: z.enum(['max', 'min']).default('max'),
      normalize: z.enum(['none', 'perLayer']).default('none'),
      pick: z.enum(['fitness', 'random']).default('fitness'),
      init: z.enum(['shared', 'fresh']).default('shared'),
      afterSelection: z.enum(['continue', 'restart']).default('continue'),
      evaluateAllCandidates: z.boolean().default(false),
    }),
    dissipation: nested({
      epochs: nonNegInt().default(2).describe("E_d: epochs over which the net is pruned to p (also 'magnitude-at-epoch')"),
      schedule: z.enum(['geometric', 'cubic', 'linear', 'oneshot']).default('geometric'),
      rule: z.enum(['exact', 'threshold']).default('exact'),
      score: z.enum(['relative-change', 'absolute-change']).default('relative-change'),
      scope: scope().default('layerwise').describe("scope of dissipation and of 'magnitude-at-epoch'"),
      alpha: z.number().positive().default(0.1),
      maxEpochs: nullable(posInt()),
      epsScale: z.number().positive().default(0.01).describe('eps of the relative change (also K-starts fitness "dissipation")'),
    }),
    combined: nested({
      variant: z.enum(['A', 'B']).default('A'),
      p1: nullable(fraction()),
    }),
  }),
  train: nested({
    ...trainConfigShape({ batchSize: 128, lr: 0.05, optimizer: 'sgd', momentum: 0.9, weightDecay: 0 }),
    epochs: posInt().default(10).describe('total epochs of the final network, selection and pruning epochs included'),
  }),
  seed: int().default(0).describe('run seed; seeds.init, seeds.mask and seeds.data default to it'),
  seeds: nested({ init: nullable(int()), mask: nullable(int()), data: nullable(int()) }),
  extra: nested({
    epochs: nonNegInt().default(0).describe('extra phase after the run ("no retraining needed"); 0 = none'),
    mode: z.enum(['finetune', 'rewind']).default('finetune'),
    lr: nullable(z.number().positive()).describe("fine-tune learning rate (null: the last epoch's)"),
  }),
  eval: nested({
    everyEpoch: z.boolean().default(true).describe('test after every epoch (target epochs and the end always are)'),
    trainSplit: z.boolean().default(false).describe('also measure eval-mode accuracy on the training split (overfitting claim)'),
  }),
  maskPath: nullable(z.string().min(1)).describe('save the final mask (safetensors) here'),
});
