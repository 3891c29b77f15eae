import { strict as assert } from 'assert';
import { progress, sweepProgressTo, withSweepProgress } from 'prune-at-init';
import type { ProgressFactory, SweepProgress } from 'prune-at-init';

// sweepProgressTo (engine/progress.ts) replaced three sweep-to-display helpers. Differential test: the
// calls each old helper (copied below as the old path) made on its display against the new one's, on a
// sweep whose reports are those runSweep makes (a first report after the cache scan, one per finished
// or started config, done counted over distinct configs).

type Call = string;
const recorder = (calls: Call[]): ProgressFactory => (total, label) => {
  calls.push(`make ${total} ${label}`);
  return { set: (d, n) => { calls.push(`set ${d} ${n}`); }, finish: (n) => { calls.push(`finish ${n}`); } };
};

/** A sweep of `total` distinct configs, `cached` of them in the store, the rest computed one at a time (one failed). */
function reports(total: number, cached: number): SweepProgress[] {
  const out: SweepProgress[] = [];
  let done = cached, failed = 0;
  const r = (running: number, lastKey: string | null) => out.push({ done, total, cached, failed, running, etaSeconds: null, lastKey });
  r(0, null);
  for (let i = cached; i < total; i++) {
    r(1, out[out.length - 1].lastKey);
    done++;
    if (i === total - 2) failed++;
    r(0, `key${i}`);
  }
  return out;
}

// old path: layer-collapse-sweep.ts sweepProgress (display made before the sweep with the number of configs, finished by end())
function oldLayerCollapse(factory: ProgressFactory | undefined, total: number, label: string) {
  const h = factory?.(total, label);
  const f = ((p: SweepProgress) => h?.set(p.done, `${p.cached} cached${p.failed ? `, ${p.failed} failed` : ''}`)) as ((p: SweepProgress) => void) & { end(): void };
  f.end = () => h?.finish();
  return f;
}

// old path: rvp-run.ts sweep() (display made before the sweep with the number of distinct configs, note = last key, finished after)
function oldRvp(factory: ProgressFactory | undefined, total: number, label: string) {
  const bar = factory && total ? factory(total, label) : undefined;
  return { onProgress: (pr: SweepProgress) => bar?.set(pr.done, pr.lastKey ?? undefined), end: () => bar?.finish() };
}

describe('sweepProgressTo: one sweep progress helper, old helpers vs new', () => {
  for (const [total, cached] of [[5, 0], [5, 2], [3, 3]] as const) {
    it(`layer-collapse runs (${total} configs, ${cached} cached): same display calls`, () => {
      const oldCalls: Call[] = [], newCalls: Call[] = [];
      const o = oldLayerCollapse(recorder(oldCalls), total, 'training runs');
      const n = sweepProgressTo(recorder(newCalls), 'training runs');
      for (const p of reports(total, cached)) { o(p); n(p); }
      o.end(); n.end();
      assert.deepEqual(newCalls, oldCalls);
      assert.equal(newCalls.filter((c) => c.startsWith('finish')).length, 1);
    });

    it(`rvp stages (${total} configs, ${cached} cached): same display calls`, () => {
      const oldCalls: Call[] = [], newCalls: Call[] = [];
      const o = oldRvp(recorder(oldCalls), total, '1 bases + reduced');
      const n = sweepProgressTo(recorder(newCalls), '1 bases + reduced', (pr) => pr.lastKey ?? undefined);
      for (const p of reports(total, cached)) { o.onProgress(p); n(p); }
      o.end(); n.end();
      assert.deepEqual(newCalls, oldCalls);
    });

    it(`the notebook display (pai.progress) as the factory of withSweepProgress (${total} configs, ${cached} cached): one terminal bar ending at ${total}/${total}`, async () => {
      const out: string[] = [];
      let t = 0;
      const factory: ProgressFactory = (n, label) => progress(n, label, { notebook: false, minIntervalMs: 0, now: () => (t += 1000), stream: { isTTY: true, write: (x: string) => out.push(x) } });
      const got = await withSweepProgress(factory, 'K-starts runs', async (onProgress) => { for (const p of reports(total, cached)) onProgress(p); return 'ok'; });
      assert.equal(got, 'ok');
      assert.ok(out.every((l) => l.includes('K-starts runs')));
      // the final line: every config done, the counts of the last report, the terminal line ended
      assert.match(out[out.length - 1], new RegExp(`: ${total}/${total} \\(100%\\), .* — ${cached} cached${cached === total ? '' : ', 1 failed'}\x1b\\[K\n$`));
      assert.equal(out.filter((l) => l.endsWith('\n')).length, 1, 'finished once');
    });
  }

  it('withSweepProgress finishes the display when the sweep throws, and rethrows', async () => {
    const calls: Call[] = [];
    await assert.rejects(withSweepProgress(recorder(calls), 'x', async (onProgress) => { onProgress(reports(3, 0)[0]); throw new Error('boom'); }), /boom/);
    assert.deepEqual(calls, ['make 3 x', 'set 0 0 cached', 'finish undefined']);
  });

  it('a sweep stopped early: end() finishes the display once; no factory draws nothing', () => {
    const calls: Call[] = [];
    const n = sweepProgressTo(recorder(calls), 'x');
    n.end();
    assert.deepEqual(calls, [], 'no report, no display');
    const rs = reports(4, 1);
    n(rs[0]); n(rs[1]);
    n.end(); n.end();
    assert.deepEqual(calls, ['make 4 x', 'set 1 1 cached', 'set 1 1 cached', 'finish undefined']);
    const none = sweepProgressTo(undefined, 'y');
    for (const p of rs) none(p);
    none.end();
  });
});
