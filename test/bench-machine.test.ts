/**
 * The benchmark's warnings about what the two sides run (bench/machine.ts): a ratio between
 * different kernel sets must say so. Cases built by hand (no CPU or PyTorch needed).
 */
import { strict as assert } from 'assert';
import { blasDifferences, Machine, TorchBlas } from '../bench/machine';

const machine = (isa: string[], core: string): Machine => ({
  cpu: 'test CPU', cores: 2, isa, tfjs_openblas: { config: 'OpenBLAS 0.3.21 DYNAMIC_ARCH', core, threads: 1, kernel_isa: 'avx2' },
});
const torch = (core: string, mkldnn: boolean): TorchBlas => ({
  torch: '1.13', threads: 1, build: [], openblas: [{ path: '/usr/lib/libopenblas.so.0', config: 'OpenBLAS 0.3.21 DYNAMIC_ARCH', core }], mkldnn,
});
const isaWarning = (w: string[]) => w.filter((x) => x.includes('ONEDNN_MAX_CPU_ISA'));

describe('bench machine warnings', () => {
  it('warns when oneDNN can use AVX-512 while OpenBLAS is held to AVX2 kernels, unless its ISA is capped', () => {
    const m = machine(['avx2', 'fma', 'avx512f'], 'Haswell');
    assert.equal(isaWarning(blasDifferences(m, torch('Haswell', true), {})).length, 1);
    assert.equal(isaWarning(blasDifferences(m, torch('Haswell', true), { ONEDNN_MAX_CPU_ISA: 'AVX2' })).length, 0);
    assert.equal(isaWarning(blasDifferences(m, torch('Haswell', true), { DNNL_MAX_CPU_ISA: 'AVX2' })).length, 0);
  });
  it('does not warn about the ISA on an AVX2-only CPU, with AVX-512 OpenBLAS kernels, or without oneDNN', () => {
    assert.equal(isaWarning(blasDifferences(machine(['avx2', 'fma'], 'Haswell'), torch('Haswell', true), {})).length, 0);
    assert.equal(isaWarning(blasDifferences(machine(['avx2', 'avx512f'], 'SkylakeX'), torch('SkylakeX', true), {})).length, 0);
    assert.equal(isaWarning(blasDifferences(machine(['avx2', 'avx512f'], 'Haswell'), torch('Haswell', false), {})).length, 0);
  });
  it('still reports differing OpenBLAS core types', () => {
    const w = blasDifferences(machine(['avx2'], 'Haswell'), torch('Zen', false), {});
    assert.ok(w.some((x) => /core types differ: TF\.js side Haswell, PyTorch side Zen/.test(x)), w.join('\n'));
  });
});
