/**
 * Constants of notebook 02's study (eoc-rescaling.ts): the nets' fixed choices and the accuracy
 * bands of its verdicts and gates. A leaf module (no imports), so that every module of the study can
 * read them at load time without an import cycle.
 */
export const NOTEBOOK = '02-eoc-rescaling';
export const ACTIVATION = 'tanh' as const;
export const SIGMA_B = 0.2;
export const WIDTH = 100;
/** Factor defining "near the fixed point": q/q* within [1/SIGNAL_BAND, SIGNAL_BAND]; below 1/SIGNAL_BAND = decayed. */
export const SIGNAL_BAND = 1.5;
/** Collapse: mean final test accuracy ≤ chance + COLLAPSE_MARGIN. Trainable: ≥ chance + TRAINABLE_MARGIN. */
export const COLLAPSE_MARGIN = 0.05;
/** Chance accuracy of the 10-class datasets trained here. */
export const CHANCE = 0.1;
export const TRAINABLE_MARGIN = 0.10;
export const FFNN_METHODS = ['random', 'magnitude', 'snip', 'grasp', 'synflow', 'sbp-sr'] as const;
/** The methods whose ResNet masks cost seconds, not minutes (all but GraSP). */
export const RESNET_FAST_METHODS = FFNN_METHODS.filter((m) => m !== 'grasp');
export const EXTREME_SPARSITIES = [0.9, 0.95, 0.98, 0.995, 0.999] as const;
