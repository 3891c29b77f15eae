import { strict as assert } from 'assert';
import { Rng } from 'prune-at-init';

describe('Rng', () => {
  it('is deterministic per (seed, stream) and streams differ', () => {
    const a = new Rng(1, 'x'), b = new Rng(1, 'x'), c = new Rng(1, 'y');
    const xa = [a.uniform(), a.uniform()], xb = [b.uniform(), b.uniform()], xc = [c.uniform(), c.uniform()];
    assert.deepEqual(xa, xb);
    assert.notDeepEqual(xa, xc);
    assert.deepEqual(new Rng(5).fork('m').normalArray(4), new Rng(5).fork('m').normalArray(4));
  });
  it('uniform has mean 1/2 and variance 1/12; normal has mean 0, variance 1, kurtosis 3', () => {
    const r = new Rng(42); const n = 200000;
    let s = 0, s2 = 0;
    for (let i = 0; i < n; i++) { const u = r.uniform(); s += u; s2 += u * u; }
    assert.ok(Math.abs(s / n - 0.5) < 0.005);
    assert.ok(Math.abs(s2 / n - 0.25 - 1 / 12) < 0.003);
    let m1 = 0, m2 = 0, m4 = 0;
    for (let i = 0; i < n; i++) { const z = r.normal(); m1 += z; m2 += z * z; m4 += z ** 4; }
    assert.ok(Math.abs(m1 / n) < 0.01);
    assert.ok(Math.abs(m2 / n - 1) < 0.015);
    assert.ok(Math.abs(m4 / n - 3) < 0.1);
  });
  it('permutation is a permutation', () => {
    const p = Array.from(new Rng(3).permutation(1000)).sort((x, y) => x - y);
    assert.deepEqual(p, Array.from({ length: 1000 }, (_, i) => i));
  });
});
