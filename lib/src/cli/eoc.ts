import { ACTIVATION_NAMES, activationByName, classifyPhase, eocSigmaW } from '../eoc';
import { choiceOpt, CliValues, Command, numberOpt, stringOpt, UsageError } from './args';

/**
 * Largest relative disagreement with the panel rule accepted from --rule hermite. Plain
 * Gauss–Hermite converges slowly on kinks and at large q (ELU at sigma_b 0.2: 5e-3 off at 160 nodes;
 * one node returns a meaningless sigma_w), so its answer is checked against the panel rule and
 * refused beyond this, rather than printed wrong.
 */
export const HERMITE_MAX_REL_ERROR = 1e-4;

function checkHermite(what: string, got: number, ref: number, nodes: number): void {
  const rel = Math.abs(got - ref) / Math.max(Math.abs(ref), Number.MIN_VALUE);
  if (!(rel <= HERMITE_MAX_REL_ERROR)) {
    throw new UsageError(`--rule hermite with --nodes ${nodes} gives ${what} = ${got}, ${rel.toExponential(1)} relative to the panel rule's ${ref} ` +
      `(limit ${HERMITE_MAX_REL_ERROR}): raise --nodes, or use --rule panels (the default).`);
  }
}

export const eoc: Command = {
  summary: 'JSON: Edge-of-Chaos sigma_w, q* and chi for an activation and sigma_b (or the phase at a given sigma_w)',
  usage: '--activation <name> [--sigma-b 0] [--sigma-w X [--chi-tol 1e-6]] [--rule panels|hermite [--nodes 160]]',
  options: {
    activation: { type: 'string', value: ACTIVATION_NAMES.join('|'), help: 'activation function', required: true },
    'sigma-b': { type: 'string', value: '<number >= 0>', help: 'bias standard deviation', default: '0' },
    'sigma-w': { type: 'string', value: '<number > 0>', help: 'classify the phase at this weight scale instead of solving for the EOC' },
    'chi-tol': { type: 'string', value: '<number >= 0>', help: "|chi - 1| counted as the edge of chaos (with --sigma-w)", default: '1e-6' },
    rule: { type: 'string', value: 'panels|hermite', help: "quadrature: 'panels' (Gauss–Legendre panels split at kinks) or 'hermite' (checked against panels)", default: 'panels' },
    nodes: { type: 'string', value: '<integer >= 2>', help: 'Gauss–Hermite order (only with --rule hermite)', default: '160' },
  },
  notes: `With --rule hermite the result is compared with the panel rule and refused (exit 2) when they differ by more than ${HERMITE_MAX_REL_ERROR} (relative).`,
  async run(v: CliValues) {
    const name = stringOpt(v, 'activation')!;
    if (!ACTIVATION_NAMES.includes(name.toLowerCase())) throw new UsageError(`--activation must be one of ${ACTIVATION_NAMES.join(', ')}, got '${name}'.`);
    const activation = activationByName(name);
    const sigmaB = numberOpt(v, 'sigma-b', { fallback: 0, min: 0 })!;
    const rule = choiceOpt(v, 'rule', ['panels', 'hermite'] as const, 'panels')!;
    if (v.nodes !== undefined && rule !== 'hermite') throw new UsageError('--nodes sets the Gauss–Hermite order and applies only with --rule hermite (the panel rule has no such setting).');
    const nodes = numberOpt(v, 'nodes', { fallback: 160, integer: true, min: 2, max: 2000 })!;
    const opts = rule === 'hermite' ? { rule, nodes } : { rule };
    if (v['sigma-w'] !== undefined) {
      const sigmaW = numberOpt(v, 'sigma-w', { min: Number.MIN_VALUE })!;
      const chiTol = numberOpt(v, 'chi-tol', { fallback: 1e-6, min: 0 })!;
      const r = classifyPhase(activation, sigmaB, sigmaW, { ...opts, chiTol });
      if (rule === 'hermite') checkHermite('chi', r.chi, classifyPhase(activation, sigmaB, sigmaW, { chiTol }).chi, nodes);
      return r;
    }
    if (v['chi-tol'] !== undefined) throw new UsageError('--chi-tol applies only with --sigma-w (classifying a phase).');
    const r = eocSigmaW(activation, sigmaB, opts);
    if (rule === 'hermite') checkHermite('sigma_w', r.sigmaW, eocSigmaW(activation, sigmaB).sigmaW, nodes);
    return r;
  },
};
