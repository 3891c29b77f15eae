// Loaded before every test file (.mocharc.json). In-process training runs take the cores other
// processes leave idle (useIdleCores, lib/src/kernels/native.ts), and OpenBLAS rounds some products
// differently on 1 and 2 threads, so on a shared machine two runs of one test could see different
// counts. The suite pins the old default, every core, unless PRUNE_AT_INIT_THREADS is already set;
// test/threads-policy.test.ts unsets it where it tests the policy itself.
const os = require('os');
if (process.env.PRUNE_AT_INIT_THREADS === undefined || process.env.PRUNE_AT_INIT_THREADS === '') {
  process.env.PRUNE_AT_INIT_THREADS = String(Math.max(1, Math.min(256, os.availableParallelism())));
}
