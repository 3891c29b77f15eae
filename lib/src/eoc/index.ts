/** Edge-of-Chaos mean-field theory and the MBP-at-init prediction, in plain float64 JS (Hayou et al. 2021 §2). */
export * from './quadrature';
export * from './erfc';
export * from './activations';
export * from './meanfield';
export * from './mbp';
