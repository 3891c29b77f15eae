/** Bridge from model initialisation to the EOC solver (kept separate so models do not depend on its internals). */
import type { Activation } from './nn/layers';

export function eocPoint(activation: Activation, sigmaB: number): { sigmaW: number; chi: number } {
  if (activation === 'relu') {
    if (sigmaB !== 0) throw new Error(`The ReLU edge of chaos needs sigma_b = 0 (sigma_w = sqrt 2); got sigma_b = ${sigmaB}.`);
    return { sigmaW: Math.SQRT2, chi: 1 };
  }
  if (activation === 'linear') return { sigmaW: 1, chi: 1 };
  throw new Error(`EOC solver not available yet for ${activation}`);
}
