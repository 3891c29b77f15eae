import { CliArgs, numberArg, stringArg } from './args';
import { activationByName, classifyPhase, eocSigmaW } from '../eoc';

export const summary = 'JSON: Edge-of-Chaos sigma_w, q* and chi for an activation and sigma_b (or the phase at a given sigma_w)';
export const usage = 'prune-at-init eoc --activation tanh|relu|elu|linear [--sigma-b 0] [--sigma-w X (classify the phase instead)] [--chi-tol 1e-6] [--rule panels|hermite] [--nodes 160]';

export async function run(args: CliArgs): Promise<unknown> {
  const known = new Set(['activation', 'sigma-b', 'sigma-w', 'chi-tol', 'rule', 'nodes']);
  for (const k of Object.keys(args)) if (!known.has(k)) throw new Error(`Unknown option --${k}.`);
  const activation = activationByName(stringArg(args, 'activation'));
  const sigmaB = numberArg(args, 'sigma-b', 0);
  const rule = stringArg(args, 'rule', 'panels');
  if (rule !== 'panels' && rule !== 'hermite') throw new Error(`--rule must be 'panels' or 'hermite', got '${rule}'.`);
  const opts = { rule: rule as 'panels' | 'hermite', nodes: numberArg(args, 'nodes', 160) };
  if (args['sigma-w'] !== undefined) {
    const sigmaW = numberArg(args, 'sigma-w');
    const r = classifyPhase(activation, sigmaB, sigmaW, { ...opts, chiTol: numberArg(args, 'chi-tol', 1e-6) });
    return r;
  }
  return eocSigmaW(activation, sigmaB, opts);
}
