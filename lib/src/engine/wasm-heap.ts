// In the engine (which loads no TF.js) so a sweep's failed configs and the cost model explain the same error.

/**
 * `message` with the fix appended when it is how the wasm backend reports an exhausted heap ('memory access out of
 * bounds', 'Aborted()'), which names neither the tensor nor the cause; any other message unchanged.
 */
export function explainHeapExhaustion(message: string): string {
  return /memory access out of bounds|Aborted\(\)|out of memory/i.test(message)
    ? `${message} (the wasm backend's heap holds at most 4 GB of tensors: lower the config's batch size)`
    : message;
}
