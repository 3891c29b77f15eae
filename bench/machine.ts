/**
 * What the benchmark ran on, recorded in results.json and printed: the CPU model, the vector
 * instruction sets the kernels can use, and the OpenBLAS build and core type (the kernel set
 * OpenBLAS picked for this CPU at load time) on the TF.js side and inside PyTorch. A ratio between
 * two sides that run different BLAS kernels (another OpenBLAS core type or version, or MKL) says
 * as much about the BLAS builds as about the code around them, so the benchmark warns about it.
 */
import * as fs from 'fs';
import * as os from 'os';
import type { NativeStatus } from 'prune-at-init';

/** Instruction-set flags of /proc/cpuinfo that matter for float32 kernels. */
const ISA_FLAGS = ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx512_bf16', 'avx512_fp16', 'amx_tile'];

export interface Machine {
  cpu: string;
  cores: number;
  isa: string[];
  /** The OpenBLAS the native addon linked (its build string and core type) and what the addon's own clones use. */
  tfjs_openblas: { config: string; core: string; threads: number; kernel_isa: string } | null;
}

export function describeMachine(native: NativeStatus): Machine {
  let flags: string[] = [];
  try {
    const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    flags = line ? line.split(':')[1].trim().split(/\s+/) : [];
  } catch { /* not Linux: leave the ISA list empty */ }
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    isa: ISA_FLAGS.filter((f) => flags.includes(f)),
    tfjs_openblas: native.active ? { config: native.config ?? native.detail, core: native.core ?? '', threads: native.threads, kernel_isa: native.isa ?? '' } : null,
  };
}

/** PyTorch's report (bench/pytorch_bench.py blas_info). */
export interface TorchBlas {
  torch: string; threads: number; build: string[]; openblas: { path: string; config?: string; core?: string; threads?: number }[];
  /** PyTorch runs its convolutions on oneDNN (MKL-DNN) rather than on BLAS. */
  mkldnn?: boolean;
}

/** OpenBLAS core types whose sgemm kernels stop at AVX2 (the ones an AVX-512 CPU can be forced to, e.g. OPENBLAS_CORETYPE=Haswell). */
const AVX2_CORES = ['haswell', 'zen', 'sandybridge', 'excavator'];

/** Differences between the kernels the two sides use, as warnings (empty: same OpenBLAS build and core, same conv ISA). */
export function blasDifferences(m: Machine, torch: TorchBlas | null, env: NodeJS.ProcessEnv = process.env): string[] {
  if (!torch) return [];
  const ours = m.tfjs_openblas;
  if (!ours) return ['TF.js runs without the native OpenBLAS kernels: its matmuls are not comparable to PyTorch\'s BLAS.'];
  if (torch.openblas.length === 0) {
    return [`PyTorch ${torch.torch} does not use OpenBLAS here (${torch.build.join('; ') || 'no BLAS line in torch.__config__.show()'}): ratios compare different BLAS libraries.`];
  }
  const out: string[] = [];
  if (torch.mkldnn) {
    out.push('PyTorch runs convolutions on oneDNN (MKL-DNN JIT kernels), TF.js on im2col + OpenBLAS sgemm (3x3 stride-1 layers: the addon\'s direct kernels for 8-16 channels, Winograd for 32-512): the conv workloads compare those.');
    // oneDNN picks its ISA from the CPU, not from OPENBLAS_CORETYPE: on an AVX-512 CPU with OpenBLAS forced to AVX2
    // kernels its convolutions use AVX-512 (measured here: WRN-16-2 inference 65.8 vs 106-116 ms capped at AVX2)
    const capped = [env.ONEDNN_MAX_CPU_ISA, env.DNNL_MAX_CPU_ISA].some((v) => v !== undefined && v !== '');
    if (m.isa.includes('avx512f') && AVX2_CORES.includes(ours.core.toLowerCase()) && !capped) {
      out.push(`this CPU has AVX-512 and oneDNN will use it, while OpenBLAS runs its ${ours.core} (AVX2) kernels on both sides: ` +
        'set DNNL_MAX_CPU_ISA=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 for AVX2 on both sides (bench/README.md).');
    }
  }
  const version = (c: string | undefined) => (c ?? '').split(' ').slice(0, 2).join(' ');
  for (const o of torch.openblas) {
    if (o.core && o.core.toLowerCase() !== ours.core.toLowerCase()) out.push(`OpenBLAS core types differ: TF.js side ${ours.core}, PyTorch side ${o.core} (${o.path}).`);
    if (o.config && version(o.config) !== version(ours.config)) out.push(`OpenBLAS versions differ: TF.js side '${version(ours.config)}', PyTorch side '${version(o.config)}' (${o.path}).`);
  }
  return out;
}
