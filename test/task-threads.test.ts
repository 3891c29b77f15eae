import { strict as assert } from 'assert';
import * as path from 'path';
import { runTask, nativeStatus, setNativeThreads, sgemmGflops } from 'prune-at-init';

describe('engine tasks and native threads', () => {
  it('a task runs its native kernels on one thread (as a sweep worker does), and the process count is restored after', async function () {
    const before = nativeStatus();
    assert.ok(before.active, `the native kernels must be built for this test: ${before.detail}`);
    setNativeThreads(2);
    try {
      const task = { name: 'threads-probe', module: path.join(__dirname, 'fixtures', 'engine', 'threads-task'), export: 'threadsTask', defaults: { seed: 0 } };
      const rec = await runTask<{ threads: number }>(task, { seed: 1 });
      assert.equal(rec.result.threads, 1);
      assert.equal(nativeStatus().threads, 2);
    } finally {
      setNativeThreads(before.threads);
    }
  });
});

describe('sgemm probe', () => {
  it('measures a positive single-thread GFLOP/s and leaves the thread count as it was', () => {
    const before = nativeStatus().threads;
    const g = sgemmGflops(128, 2);
    assert.ok(g !== null && Number.isFinite(g) && g > 0.1, `sgemm ${g}`);
    assert.equal(nativeStatus().threads, before);
    assert.throws(() => sgemmGflops(8), /n must be an integer >= 16/);
  });
});
