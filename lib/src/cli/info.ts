import { initBackend } from '../backend';
import { availableDatasets } from '../data';

export const summary = 'JSON: backend in use, TF.js version, datasets available and where';
export const usage = 'prune-at-init info';

export async function run(): Promise<unknown> {
  const backend = await initBackend();
  return {
    backend: backend.backend, backendReason: backend.reason, tfjsVersion: backend.tfjsVersion, extraKernels: backend.extraKernels,
    node: process.version, datasets: availableDatasets(),
  };
}
