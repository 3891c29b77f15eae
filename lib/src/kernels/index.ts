/**
 * Kernels this library adds to TF.js backends. Filled in by the kernels work (issue 5 / wasm
 * Conv2DBackpropFilter); returns the names of the kernels registered.
 */
const registered: string[] = [];

export function registerExtraKernels(backend: string): string[] {
  void backend;
  return registered.slice();
}

export function extraKernelInfo(): string[] {
  return registered.slice();
}
