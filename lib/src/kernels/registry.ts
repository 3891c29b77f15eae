/**
 * Replacing TF.js kernels while remembering the originals, so a replacement can fall back to
 * (or be compared against) the backend's own implementation, and so tests can restore it.
 */
import * as tf from '@tensorflow/tfjs';

export type AnyKernelFunc = (args: { inputs: any; backend: any; attrs?: any }) => tf.TensorInfo | tf.TensorInfo[];

interface Saved { original: tf.KernelConfig | undefined; label: string }

// key `${backend}/${kernel}` -> the config that was registered before ours (undefined: none).
const saved = new Map<string, Saved>();

const key = (kernelName: string, backendName: string) => `${backendName}/${kernelName}`;

/** The kernel config registered before we replaced it (or the current one if we did not). */
export function originalKernel(kernelName: string, backendName: string): tf.KernelConfig | undefined {
  const s = saved.get(key(kernelName, backendName));
  return s ? s.original : tf.getKernel(kernelName, backendName);
}

/**
 * Register `kernelFunc` for (kernelName, backendName), replacing any existing kernel without the
 * "already registered" warning. Idempotent: re-registering keeps the first saved original.
 */
export function replaceKernel(kernelName: string, backendName: string, kernelFunc: AnyKernelFunc, label: string): void {
  const k = key(kernelName, backendName);
  const current = tf.getKernel(kernelName, backendName);
  if (!saved.has(k)) saved.set(k, { original: current, label });
  else saved.get(k)!.label = label;
  if (current) tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ kernelName, backendName, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}

/** Put back the kernel that was registered before replaceKernel (or remove ours if there was none). */
export function restoreKernel(kernelName: string, backendName: string): void {
  const k = key(kernelName, backendName);
  const s = saved.get(k);
  if (!s) return;
  if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName);
  if (s.original) tf.registerKernel(s.original);
  saved.delete(k);
}

/** Labels ("wasm:Conv2DBackpropFilter (via Conv2D)", ...) of the kernels currently replaced. */
export function replacedKernels(): string[] {
  return [...saved.values()].map((s) => s.label).sort();
}

/** Run a registered kernel of `backendName` directly (inside another kernel: no tape, no engine). */
export function callKernel(kernelName: string, backendName: string, backend: unknown, inputs: object, attrs: object = {}): tf.TensorInfo {
  const cfg = tf.getKernel(kernelName, backendName);
  if (!cfg) throw new Error(`Kernel ${kernelName} is not registered for backend '${backendName}'.`);
  return cfg.kernelFunc({ inputs, backend, attrs } as any) as tf.TensorInfo;
}
