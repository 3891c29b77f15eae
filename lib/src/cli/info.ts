import { initBackend } from '../backend';
import { availableDatasets } from '../data';
import type { Command } from './args';
import { sgemmGflops } from '../kernels/sgemm-probe';

/** `info`: backend, versions and datasets; each present dataset is read and checked, so a corrupt folder shows as unavailable. */
export const info: Command = {
  summary: 'JSON: backend in use, TF.js version, datasets available and where (each present dataset is read and checked)',
  usage: '',
  options: { sgemm: { type: 'boolean', help: 'also measure single-thread sgemm GFLOP/s (native kernels; about a second), to compare machines' } },
  async run(values) {
    const backend = await initBackend();
    return {
      backend: backend.backend, backendReason: backend.reason, tfjsVersion: backend.tfjsVersion, extraKernels: backend.extraKernels,
      node: process.version, datasets: availableDatasets({ verify: true }),
      ...(values.sgemm ? { sgemmGflopsOneThread: sgemmGflops() } : {}),
    };
  },
};
