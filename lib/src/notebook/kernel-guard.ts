/**
 * Quiet shutdown of the tslab kernel. tslab (node_modules/tslab/dist/jupyter.js) keeps
 * process.stdout/stderr.write redirected to its ZeroMQ iopub socket after a cell ends ("Python
 * kernel forward outputs to the cell even after the execution is finished"), and on a
 * shutdown_request it closes its sockets while the process lives on until its event loop empties
 * (e.g. the figure exporter's browser, closed after an idle delay). Any later write (a warning, a
 * late log line) then calls zeromq's send on a closed socket, which throws EBADF "Socket is
 * closed" synchronously inside that write: an uncaught exception, printed at exit after the
 * notebook had already been saved. The output had no reader left (the client asked the kernel to
 * stop), so this guard drops exactly that error; any other uncaught error still ends the kernel
 * and is reported as before.
 */

/** Whether `e` is zeromq's "Socket is closed" thrown from tslab's Jupyter messaging code. */
export function isClosedKernelSocket(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown; stack?: unknown } | null;
  return !!err && err.code === 'EBADF' && err.message === 'Socket is closed' &&
    typeof err.stack === 'string' && /tslab[\\/]dist[\\/]jupyter\.js/.test(err.stack);
}

/** True in a tslab kernel process (its Jupyter messaging module is loaded). */
export function inTslabKernel(): boolean {
  return Object.keys(require.cache).some((k) => /tslab[\\/]dist[\\/]jupyter\.js$/.test(k));
}

let installed = false;

/** Install the guard once, in a tslab kernel only (notebookParams calls it). */
export function installKernelShutdownGuard(force = false): boolean {
  if (installed || (!force && !inTslabKernel())) return installed;
  installed = true;
  process.on('uncaughtException', (e) => {
    if (isClosedKernelSocket(e)) return;
    throw e; // Node reports it and ends the process, as without this handler
  });
  // A write from async code rejects a promise instead; any other rejection is raised as Node's
  // default (--unhandled-rejections=throw) would raise it.
  process.on('unhandledRejection', (reason) => {
    if (isClosedKernelSocket(reason)) return;
    throw reason;
  });
  return true;
}
