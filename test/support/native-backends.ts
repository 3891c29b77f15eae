import { strict as assert } from 'assert';
import { initBackend, nativeStatus, registerExtraKernels, tf } from 'prune-at-init';

/**
 * For the enclosing describe: the native addon must be active (wasm first), and `body` is declared once
 * per backend that has the native kernels ('on wasm', 'on cpu'), each switched to before its tests;
 * afterwards the cpu backend's pure kernels and the wasm backend are restored.
 */
export function onNativeBackends(body: (backend: 'wasm' | 'cpu') => void): void {
  before(async () => {
    await initBackend('wasm');
    assert.ok(nativeStatus().active, `native addon: ${nativeStatus().detail}`);
  });
  after(async () => {
    registerExtraKernels('cpu', { native: false });
    await tf.setBackend('wasm');
  });
  for (const backend of ['wasm', 'cpu'] as const) {
    describe(`on ${backend}`, () => {
      before(async () => {
        registerExtraKernels(backend, { native: true });
        await tf.setBackend(backend);
      });
      body(backend);
    });
  }
}
