/**
 * Schemas of the config pieces shared by the engine tasks and the CLI: model spec, init, training
 * recipe (with augmentation), data spec. Builders take the owning config's defaults, so each task's
 * schema is the one source of its defaults (see defaultsOf).
 */
import { z, strictObject, nested, nonNegInt, posInt } from './schema';
import { ACTIVATIONS, Activation } from '../nn/layers';
import { parseModelName } from '../models';
import { canonicalDatasetName } from '../data/datasets';

/** `schema` with a default when one is given, else required. */
export function withDefault<T extends z.ZodType>(schema: T, value: z.output<T> | undefined) {
  return value === undefined ? schema : schema.default(value as never);
}

/** `schema` with a default when one is given, else optional. */
export function optional<T extends z.ZodType>(schema: T, value: z.output<T> | undefined) {
  return value === undefined ? schema.optional() : schema.default(value as never);
}

export const activationSchema = z.enum(ACTIVATIONS as [Activation, ...Activation[]]);

export const initSchema = strictObject({
  scheme: z.enum(['eoc', 'ordered', 'chaotic', 'kaiming', 'xavier', 'explicit']),
  sigmaW: z.number().positive().optional().describe('weight scale: W ~ N(0, sigmaW^2 / fan)'),
  sigmaB: z.number().min(0).optional().describe('bias std'),
  fan: z.enum(['in', 'out']).optional(),
});

const shape = {
  inputShape: z.tuple([posInt(), posInt(), posInt()]).optional(),
  numClasses: z.int().min(2).optional(),
};
// WRN and DenseNet-BC are initialised as the Crowley et al. code does: they take no `init`.
const common = { ...shape, init: initSchema.optional() };

/** A model config object: one of the four architectures of models.ts. */
export const modelConfigSchema = z.discriminatedUnion('arch', [
  strictObject({ arch: z.literal('ffnn'), hidden: z.array(posInt()), activation: activationSchema, bias: z.boolean().optional(), dropout: z.number().min(0).lt(1).optional(), ...common }),
  strictObject({
    arch: z.literal('cnn'), channels: z.array(z.union([posInt(), z.literal('M')])).min(1), activation: activationSchema,
    batchNorm: z.boolean().optional(), bias: z.boolean().optional(), kernelSize: posInt().optional(), dropout: z.number().min(0).lt(1).optional(), ...common,
  }),
  strictObject({
    arch: z.literal('resnet'), depth: posInt(), widths: z.tuple([posInt(), posInt(), posInt()]).optional(),
    stable: z.boolean().optional(), activation: activationSchema.optional(), ...common,
  }),
  strictObject({
    arch: z.literal('wrn'), depth: posInt(), widthFactor: z.number().positive(), interior: z.array(nonNegInt()).optional(),
    bottleneck: z.number().positive().optional(), ...shape,
  }),
  strictObject({
    arch: z.literal('densenet'), depth: posInt(), growth: posInt(), compression: z.number().gt(0).max(1).optional(),
    interior: z.array(nonNegInt()).optional(), bottleneck: z.number().positive().optional(), ...shape,
  }),
]);

/** A model name that parseModelName knows (e.g. 'lenet300', 'ffnn_tanh_d10_w100', 'wrn16_2'). */
export const modelNameSchema = z.string().superRefine((s, ctx) => {
  try { parseModelName(s); } catch (e) { ctx.addIssue({ code: 'custom', message: (e as Error).message }); }
});

export const modelSpecSchema = z.union([modelNameSchema, modelConfigSchema]);

export const datasetNameSchema = z.string().superRefine((s, ctx) => {
  try { canonicalDatasetName(s); } catch (e) { ctx.addIssue({ code: 'custom', message: (e as Error).message }); }
});

export interface DataSpecShape { name: string; trainLimit: number; testLimit: number }
/** { name, trainLimit, testLimit } (0 = the whole split). */
export function dataSpecSchema(d: DataSpecShape) {
  return nested({
    name: datasetNameSchema.default(d.name),
    trainLimit: nonNegInt().default(d.trainLimit).describe('training examples kept (seeded class-stratified); 0 = all'),
    testLimit: nonNegInt().default(d.testLimit).describe('test examples kept; 0 = all'),
  });
}

export const augmentSchema = strictObject({
  crop: strictObject({ pad: nonNegInt(), fill: z.enum(['reflect', 'zero']) }).optional(),
  flip: z.boolean().optional(),
});

export const scheduleSchema = z.discriminatedUnion('type', [
  strictObject({ type: z.literal('step'), milestones: z.array(z.number().gt(0).max(1)).optional(), gamma: z.number().positive().optional() }),
  strictObject({ type: z.literal('constant') }),
]);

export interface TrainDefaults {
  epochs?: number; batchSize?: number; lr?: number; optimizer?: 'sgd' | 'adam'; momentum?: number; weightDecay?: number;
  schedule?: z.output<typeof scheduleSchema>;
}
/** TrainConfig of train.ts; fields without a default are required. */
export function trainConfigShape(d: TrainDefaults = {}) {
  return {
    epochs: withDefault(nonNegInt(), d.epochs),
    batchSize: withDefault(posInt(), d.batchSize),
    lr: withDefault(z.number().positive(), d.lr),
    optimizer: optional(z.enum(['sgd', 'adam']), d.optimizer),
    momentum: optional(z.number().min(0).lt(1), d.momentum),
    weightDecay: optional(z.number().min(0), d.weightDecay),
    schedule: optional(scheduleSchema, d.schedule),
    augment: augmentSchema.optional(),
  };
}
