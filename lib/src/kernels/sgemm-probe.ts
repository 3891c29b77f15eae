/**
 * Single-thread sgemm throughput of this machine (GFLOP/s), through the native OpenBLAS kernels:
 * the one number that says how a machine of this kind compares with another for the kit's
 * workloads (the README's run times cite it). Null without the native kernels.
 */
import { nativeBlas, singleThreaded } from './native';

export function sgemmGflops(n = 512, repeats = 7): number | null {
  if (!Number.isInteger(n) || n < 16 || !Number.isInteger(repeats) || repeats < 1) throw new Error(`sgemmGflops: n must be an integer >= 16 and repeats >= 1, got ${n}, ${repeats}.`);
  const blas = nativeBlas();
  if (!blas) return null;
  const restore = singleThreaded();
  try {
    const a = new Float32Array(n * n).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
    const b = new Float32Array(n * n).map((_, i) => ((i * 104729) % 1000) / 1000 - 0.5);
    const c = new Float32Array(n * n);
    const run = () => blas.matmul(a, 0, b, 0, c, 0, 1, 1, n, n, n, false, false, null, 0, 0, 0, 0, null, 0, 0);
    run(); // warm-up: page in the buffers and OpenBLAS's workspace
    const times: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = process.hrtime.bigint();
      run();
      times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    // the fastest repeat: other processes only ever slow a repeat down
    return (2 * n ** 3) / Math.min(...times) / 1e9;
  } finally {
    restore();
  }
}
