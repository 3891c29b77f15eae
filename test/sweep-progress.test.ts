import { strict as assert } from 'assert';
import { progress, sweepProgress, sweepProgressTo } from 'prune-at-init';
import type { ProgressFactory, ProgressOptions, ProgressUpdater, SweepProgress } from 'prune-at-init';

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

// old path: notebook/progress.ts sweepProgress (display made at the first report, finished when every config is done)
function oldNotebook(label: string, opts: ProgressOptions = {}): (p: SweepProgress) => void {
  let bar: ProgressUpdater | null = null;
  return (p) => {
    bar = bar ?? progress(p.total, label, opts);
    bar.set(p.done, `${p.cached} cached, ${p.failed} failed, ${p.running} running`);
    if (p.done === p.total) bar.finish();
  };
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

    it(`notebook sweepProgress (${total} configs, ${cached} cached): the same terminal output, byte for byte`, () => {
      const draw = (make: (opts: ProgressOptions) => (p: SweepProgress) => void): string[] => {
        const out: string[] = [];
        let t = 0;
        const f = make({ notebook: false, minIntervalMs: 0, now: () => (t += 1000), stream: { isTTY: true, write: (s: string) => out.push(s) } });
        for (const p of reports(total, cached)) f(p);
        return out;
      };
      const old = draw((opts) => oldNotebook('Haroon runs', opts)), now = draw((opts) => sweepProgress('Haroon runs', opts));
      assert.deepEqual(now, old);
      // the final line: every config done, the counts of the last report, the terminal line ended
      assert.match(old[old.length - 1], new RegExp(`: ${total}/${total} \\(100%\\), .* — ${cached} cached, ${cached === total ? 0 : 1} failed, 0 running\x1b\\[K\n$`));
    });
  }

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
