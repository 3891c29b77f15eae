import { initBackend } from '../backend';

export const summary = 'JSON: backend in use, TF.js version, datasets available and where';
export const usage = 'prune-at-init info';

export async function run(): Promise<unknown> {
  const backend = await initBackend();
  // datasets are reported by the data module once it lands
  return { backend: backend.backend, backendReason: backend.reason, tfjsVersion: backend.tfjsVersion, extraKernels: backend.extraKernels, node: process.version };
}
