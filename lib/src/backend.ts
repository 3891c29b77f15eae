/**
 * Backend selection. Fastest working first: tfjs-node ('tensorflow') where it is installed and
 * really is the native binding, else wasm (with our extra kernels), else the pure-JS cpu backend.
 * PRUNE_AT_INIT_BACKEND=tensorflow|wasm|cpu forces one. Every result records backendInfo().
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerExtraKernels, extraKernelInfo } from './kernels';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_ENV = 'PRUNE_AT_INIT_BACKEND';

export interface BackendInfo {
  backend: BackendName;
  tfjsVersion: string;
  /** Why this backend (forced by env, or the first that worked) and what was skipped. */
  reason: string;
  /** Extra kernels registered by this library (e.g. wasm Conv2DBackpropFilter, native BLAS). */
  extraKernels: string[];
}

let current: BackendInfo | null = null;
let pending: Promise<BackendInfo> | null = null;

function tryLoadTfjsNode(): string | null {
  try {
    // danfojs-node's override installs plain tfjs under this name: loading it succeeds but
    // registers no 'tensorflow' backend, so we check for the backend, not for the module.
    require('@tensorflow/tfjs-node');
  } catch (e) {
    return `tfjs-node not installed (${(e as Error).message.split('\n')[0]})`;
  }
  return tf.findBackendFactory('tensorflow') ? null : 'a package named @tensorflow/tfjs-node is present but registers no native backend';
}

const PROCESS_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

/**
 * The wasm backend's Emscripten runtime, when it starts in Node, adds process-level handlers that
 * rethrow every uncaught exception and unhandled rejection (tf-backend-wasm.node.js: `process.on(
 * "unhandledRejection", reason => { throw reason })`). They replace Node's own policy and make any
 * stray error, however harmless, fatal with a wasm stack frame (e.g. a Jupyter kernel's write to
 * its closed socket at shutdown, notebook/kernel-guard.ts). Remove exactly the handlers added
 * while the backend started, so Node's defaults (and the caller's own handlers) apply.
 */
function withoutRuntimeHandlers<T>(start: () => Promise<T>): Promise<T> {
  const proc = process as unknown as NodeJS.EventEmitter; // event names, not signals
  const before = new Map(PROCESS_EVENTS.map((ev) => [ev, new Set(proc.listeners(ev))]));
  const strip = () => {
    for (const ev of PROCESS_EVENTS) {
      for (const l of proc.listeners(ev)) if (!before.get(ev)!.has(l)) proc.removeListener(ev, l as (...a: unknown[]) => void);
    }
  };
  return start().finally(strip);
}

async function trySet(name: BackendName): Promise<boolean> {
  try {
    const ok = await withoutRuntimeHandlers(async () => { const r = await tf.setBackend(name); await tf.ready(); return r; });
    return ok && tf.getBackend() === name;
  } catch {
    return false;
  }
}

/** Initialise (once) and return the backend in use. */
export function initBackend(force?: BackendName): Promise<BackendInfo> {
  if (current && (!force || force === current.backend)) return Promise.resolve(current);
  if (pending && !force) return pending;
  pending = (async () => {
    const wanted = force ?? (process.env[BACKEND_ENV] as BackendName | undefined);
    const notes: string[] = [];
    const order: BackendName[] = wanted ? [wanted] : ['tensorflow', 'wasm', 'cpu'];
    if (wanted && !['tensorflow', 'wasm', 'cpu'].includes(wanted)) {
      throw new Error(`${BACKEND_ENV}=${wanted} is not a backend: use tensorflow, wasm or cpu (or unset it to pick the fastest).`);
    }
    for (const name of order) {
      if (name === 'tensorflow') {
        const why = tryLoadTfjsNode();
        if (why) { notes.push(why); continue; }
      }
      if (await trySet(name)) {
        const extras = registerExtraKernels(name);
        current = {
          backend: name,
          tfjsVersion: tf.version.tfjs,
          reason: wanted ? `forced by ${BACKEND_ENV}` : notes.length ? `fastest working (${notes.join('; ')})` : 'fastest working',
          extraKernels: extras,
        };
        return current;
      }
      notes.push(`${name} failed to initialise`);
    }
    throw new Error(`No TF.js backend could be initialised (${notes.join('; ')}). ` +
      (wanted ? `Unset ${BACKEND_ENV} or set it to cpu.` : 'Reinstall with `npm ci`.'));
  })();
  return pending;
}

/** The backend in use; throws if initBackend() has not completed. */
export function backendInfo(): BackendInfo {
  if (!current) throw new Error('Backend not initialised: await initBackend() first.');
  return { ...current, extraKernels: extraKernelInfo() };
}

export { tf };
