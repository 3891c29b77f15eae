/** Scalar activations with derivatives, for mean-field (Edge-of-Chaos) computations in float64. */

export interface ScalarActivation {
  readonly name: string;
  phi(x: number): number;
  dphi(x: number): number;
  /** Pre-activation points where φ or φ' is not smooth; quadrature puts panel edges there. */
  readonly kinks?: readonly number[];
  /**
   * Positively homogeneous of degree 1 (φ(a·x) = a·φ(x) for a > 0: ReLU, linear). Then
   * E[φ(√q Z)²] = q·E[φ(Z)²] and χ does not depend on q, which the solvers use in closed form.
   */
  readonly homogeneous?: boolean;
}

export const tanhActivation: ScalarActivation = {
  name: 'tanh',
  phi: Math.tanh,
  dphi: (x) => { const t = Math.tanh(x); return 1 - t * t; },
};

export const reluActivation: ScalarActivation = {
  name: 'relu',
  phi: (x) => (x > 0 ? x : 0),
  dphi: (x) => (x > 0 ? 1 : 0),
  kinks: [0],
  homogeneous: true,
};

/** ELU with α = 1 (φ(x) = e^x − 1 for x ≤ 0), the form used by the authors' code. */
export const eluActivation: ScalarActivation = {
  name: 'elu',
  phi: (x) => (x > 0 ? x : Math.expm1(x)),
  dphi: (x) => (x > 0 ? 1 : Math.exp(x)),
  kinks: [0],
};

export const linearActivation: ScalarActivation = {
  name: 'linear',
  phi: (x) => x,
  dphi: () => 1,
  homogeneous: true,
};

const BUILTIN: Record<string, ScalarActivation> = {
  tanh: tanhActivation, relu: reluActivation, elu: eluActivation, linear: linearActivation,
};

export const ACTIVATION_NAMES: readonly string[] = Object.keys(BUILTIN);

export function activationByName(name: string): ScalarActivation {
  const a = BUILTIN[name.toLowerCase()];
  if (!a) throw new Error(`Unknown activation '${name}'; known: ${ACTIVATION_NAMES.join(', ')} (or build one with customActivation(name, phi, dphi)).`);
  return a;
}

/** A name or a ScalarActivation object -> ScalarActivation. */
export function resolveActivation(a: string | ScalarActivation): ScalarActivation {
  return typeof a === 'string' ? activationByName(a) : a;
}

/**
 * A user-defined activation. `dphi` is checked against central differences of `phi` at a few
 * points away from the declared kinks, so a wrong derivative fails here rather than silently
 * moving the Edge of Chaos.
 */
export function customActivation(
  name: string,
  phi: (x: number) => number,
  dphi: (x: number) => number,
  opts: { kinks?: readonly number[]; homogeneous?: boolean } = {},
): ScalarActivation {
  const h = 1e-5;
  for (const x of [-2.3, -0.71, 0.37, 1.9]) {
    if ((opts.kinks ?? []).some((k) => Math.abs(k - x) < 10 * h)) continue;
    const fd = (phi(x + h) - phi(x - h)) / (2 * h), d = dphi(x);
    if (!Number.isFinite(d) || Math.abs(fd - d) > 1e-5 * Math.max(1, Math.abs(fd))) {
      throw new Error(`customActivation '${name}': dphi(${x}) = ${d} but the finite difference of phi is ${fd}; pass the derivative of phi.`);
    }
  }
  return { name, phi, dphi, kinks: opts.kinks, homogeneous: opts.homogeneous };
}
