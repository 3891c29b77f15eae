// Loaded before every test file (.mocharc.json). In-process training runs take the cores other
// processes leave idle when each starts (useIdleCores, lib/src/kernels/native.ts), and OpenBLAS rounds
// some products differently on 1 and 2 threads, so two runs of one test could see different counts on
// a shared machine. The suite therefore measures once, here, and pins that count for the whole run
// (every core on a quiet machine, as before the policy; fewer on a busy one, where extra BLAS threads
// stall); PRUNE_AT_INIT_THREADS set by the caller wins. test/threads-policy.test.ts unsets it where it
// tests the policy itself.
const fs = require('fs');
const os = require('os');
const path = require('path');
if (process.env.PRUNE_AT_INIT_THREADS === undefined || process.env.PRUNE_AT_INIT_THREADS === '') {
  const cores = Math.max(1, Math.min(256, os.availableParallelism()));
  const policy = path.join(__dirname, '..', '..', 'lib', 'dist', 'kernels', 'thread-policy.js');
  // the built library (npm test builds first); unbuilt, every core
  const threads = fs.existsSync(policy) ? require(policy).measureIdleCores(cores).threads : cores;
  process.env.PRUNE_AT_INIT_THREADS = String(threads);
}
