/*
 * Sparse kernels for masked dense layers y = act(x @ (W ⊙ M) + b) whose 0/1 mask M is fixed and
 * sparse: the mask's pattern is indexed once (sparsePattern: CSC by output column for the forward,
 * CSR by input row for the input gradient), and the weights are read from the dense W at the kept
 * positions on every call, so SGD can keep updating W in place and nothing is rebuilt until the mask
 * changes. Cost is O(nnz * N) instead of O(K * M * N).
 *
 * The batch is packed transposed ([features, N]) and processed in tiles of TILE examples, so each
 * kept weight is one broadcast-multiply-add over TILE contiguous floats (4 AVX-512 / 8 AVX2
 * registers) -- the layout sparse-times-dense libraries use for a dense right-hand side
 * (e.g. Intel MKL's mkl_sparse_s_mm with SPARSE_LAYOUT_ROW_MAJOR). Each output element is computed
 * by one thread in a fixed order, so results do not depend on the thread count.
 */
#pragma GCC optimize("fp-contract=fast")
#include "napi_util.h"
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define WIDE __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define WIDE
#endif

#define TILE 64
#define STR(x) #x
#define XSTR(x) STR(x)
typedef float v16 __attribute__((vector_size(64)));

/* Below this many multiply-adds per call a parallel region costs more than it saves. */
#define PARALLEL_MIN_FLOPS (1 << 18)

static int sparse_threads = 1;

void pai_sparse_set_threads(int n) { sparse_threads = n < 1 ? 1 : n; }

typedef struct {
  int32_t k, m;
  int64_t nnz;
  int32_t *col_ptr, *col_k, *col_w; /* CSC: column j holds entries col_ptr[j]..col_ptr[j+1]-1: row col_k[e], weight index col_w[e] */
  int32_t *row_ptr, *row_j, *row_w; /* CSR: row k holds entries row_ptr[k]..row_ptr[k+1]-1: column row_j[e], weight index row_w[e] */
} Pattern;

static void pattern_free(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Pattern *p = data;
  free(p->col_ptr);
  free(p->col_k);
  free(p->col_w);
  free(p->row_ptr);
  free(p->row_j);
  free(p->row_w);
  free(p);
}

/* countNonzero01(mask, off, n): the number of ones in a 0/1 mask, or -1 as soon as an entry is neither. */
static napi_value count_nonzero01(napi_env env, napi_callback_info info) {
  ARGS(3, "countNonzero01");
  int64_t n;
  if (!get_i64(env, a[2], &n, "n")) return NULL;
  if (n < 0) { napi_throw_range_error(env, NULL, "prune-at-init native: countNonzero01 got a negative size"); return NULL; }
  float *mask;
  if (!get_f32(env, a[0], a[1], (size_t)n, &mask, "mask")) return NULL;
  int64_t nnz = 0;
  for (int64_t i = 0; i < n; i++) {
    if (mask[i] == 1.f) nnz++;
    else if (mask[i] != 0.f) { nnz = -1; break; }
  }
  napi_value v;
  CHECK(napi_create_int64(env, nnz, &v));
  return v;
}

/*
 * sparsePattern(mask, off, K, M) -> { handle, nnz } for a 0/1 mask [K, M], or null when some entry is
 * neither 0 nor 1 (the caller then keeps the dense product, which handles any multiplier).
 */
static napi_value sparse_pattern(napi_env env, napi_callback_info info) {
  ARGS(4, "sparsePattern");
  int64_t k, m;
  if (!get_i64(env, a[2], &k, "K") || !get_i64(env, a[3], &m, "M")) return NULL;
  if (k < 1 || m < 1 || k * m >= INT32_MAX) {
    napi_throw_range_error(env, NULL, "prune-at-init native: sparsePattern needs 1 <= K, M and K*M < 2^31");
    return NULL;
  }
  float *mask;
  if (!get_f32(env, a[0], a[1], (size_t)(k * m), &mask, "mask")) return NULL;
  int64_t nnz = 0;
  for (int64_t i = 0; i < k * m; i++) {
    if (mask[i] == 1.f) nnz++;
    else if (mask[i] != 0.f) {
      napi_value nul;
      CHECK(napi_get_null(env, &nul));
      return nul;
    }
  }
  Pattern *p = calloc(1, sizeof *p);
  if (p) {
    p->k = (int32_t)k, p->m = (int32_t)m, p->nnz = nnz;
    const size_t e = (size_t)(nnz ? nnz : 1);
    p->col_ptr = calloc((size_t)m + 1, sizeof(int32_t));
    p->row_ptr = calloc((size_t)k + 1, sizeof(int32_t));
    p->col_k = malloc(e * sizeof(int32_t)), p->col_w = malloc(e * sizeof(int32_t));
    p->row_j = malloc(e * sizeof(int32_t)), p->row_w = malloc(e * sizeof(int32_t));
  }
  if (!p || !p->col_ptr || !p->row_ptr || !p->col_k || !p->col_w || !p->row_j || !p->row_w) {
    if (p) pattern_free(env, p, NULL);
    napi_throw_error(env, NULL, "prune-at-init native: out of memory");
    return NULL;
  }
  for (int32_t r = 0; r < k; r++) {
    for (int32_t j = 0; j < m; j++) {
      if (mask[(size_t)r * m + j] == 0.f) continue;
      p->row_ptr[r + 1]++;
      p->col_ptr[j + 1]++;
    }
  }
  for (int32_t r = 0; r < k; r++) p->row_ptr[r + 1] += p->row_ptr[r];
  for (int32_t j = 0; j < m; j++) p->col_ptr[j + 1] += p->col_ptr[j];
  int32_t *fill = calloc((size_t)m, sizeof(int32_t));
  if (!fill) { pattern_free(env, p, NULL); napi_throw_error(env, NULL, "prune-at-init native: out of memory"); return NULL; }
  /* rows ascending, so every column's entries are in ascending row order too */
  for (int32_t r = 0, e = 0; r < k; r++) {
    for (int32_t j = 0; j < m; j++) {
      const int32_t w = r * (int32_t)m + j;
      if (mask[w] == 0.f) continue;
      p->row_j[e] = j, p->row_w[e] = w, e++;
      const int32_t c = p->col_ptr[j] + fill[j]++;
      p->col_k[c] = r, p->col_w[c] = w;
    }
  }
  free(fill);
  napi_value obj, handle, v;
  if (napi_create_external(env, p, pattern_free, NULL, &handle) != napi_ok) {
    pattern_free(env, p, NULL);
    napi_throw_error(env, NULL, "prune-at-init native: could not wrap the sparse pattern");
    return NULL;
  }
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_set_named_property(env, obj, "handle", handle));
  CHECK(napi_create_int64(env, nnz, &v));
  CHECK(napi_set_named_property(env, obj, "nnz", v));
  return obj;
}

static int get_pattern(napi_env env, napi_value v, Pattern **out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, (void **)out) != napi_ok) {
    napi_throw_type_error(env, NULL, "prune-at-init native: argument 'pattern' must be a handle from sparsePattern");
    return 0;
  }
  return 1;
}

/* Grow-only scratch (four slots per thread): a fresh large malloc per call is an mmap plus page faults. */
static _Thread_local float *scratch_buf[4] = {NULL, NULL, NULL, NULL};
static _Thread_local size_t scratch_cap[4] = {0, 0, 0, 0};

static float *scratch(int slot, size_t n) {
  if (n > scratch_cap[slot]) {
    free(scratch_buf[slot]);
    scratch_buf[slot] = NULL;
    scratch_cap[slot] = 0;
    if (posix_memalign((void **)&scratch_buf[slot], 64, n * sizeof(float)) != 0) { scratch_buf[slot] = NULL; return NULL; }
    scratch_cap[slot] = n;
  }
  return scratch_buf[slot];
}

static size_t padded(size_t n) { return (n + TILE - 1) / TILE * TILE; }

typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4)));
typedef int32_t i8v __attribute__((vector_size(32)));

/* r[0..8) (8 rows of 8 floats) transposed in registers: unpack, 2-lane and 4-lane shuffles (vunpck/vshufps/vperm2f128 on AVX2). */
static inline __attribute__((always_inline)) void transpose8(v8 *r) {
  const i8v lo = {0, 8, 1, 9, 4, 12, 5, 13}, hi = {2, 10, 3, 11, 6, 14, 7, 15};
  const i8v lo2 = {0, 1, 8, 9, 4, 5, 12, 13}, hi2 = {2, 3, 10, 11, 6, 7, 14, 15};
  const i8v lo4 = {0, 1, 2, 3, 8, 9, 10, 11}, hi4 = {4, 5, 6, 7, 12, 13, 14, 15};
  v8 t[8], u[8];
  for (int k = 0; k < 8; k += 2) { t[k] = __builtin_shuffle(r[k], r[k + 1], lo); t[k + 1] = __builtin_shuffle(r[k], r[k + 1], hi); }
  for (int k = 0; k < 8; k += 4) {
    u[k] = __builtin_shuffle(t[k], t[k + 2], lo2); u[k + 1] = __builtin_shuffle(t[k], t[k + 2], hi2);
    u[k + 2] = __builtin_shuffle(t[k + 1], t[k + 3], lo2); u[k + 3] = __builtin_shuffle(t[k + 1], t[k + 3], hi2);
  }
  for (int k = 0; k < 4; k++) { r[k] = __builtin_shuffle(u[k], u[k + 4], lo4); r[k + 4] = __builtin_shuffle(u[k], u[k + 4], hi4); }
}

/*
 * dst[c * ldd + i] = src[i * lds + c] (+ add[i]) for i < rows, c < cols: a transpose in 8x8 register blocks (pure data
 * movement, plus one float add per element when `add` is given, so results match an element-by-element copy exactly).
 */
WIDE static void transpose_block8(const float *restrict src, size_t lds, size_t rows, size_t cols, float *restrict dst, size_t ldd,
                                  const float *restrict add) {
  const size_t r8 = rows & ~(size_t)7, c8 = cols & ~(size_t)7;
  for (size_t i0 = 0; i0 < r8; i0 += 8) {
    const v8 a = add ? *(const v8u *)(add + i0) : (v8){0};
    for (size_t c0 = 0; c0 < c8; c0 += 8) {
      v8 r[8];
      for (int k = 0; k < 8; k++) r[k] = *(const v8u *)(src + (i0 + k) * lds + c0);
      transpose8(r);
      for (int k = 0; k < 8; k++) *(v8u *)(dst + (c0 + k) * ldd + i0) = add ? r[k] + a : r[k];
    }
  }
  for (size_t i = 0; i < rows; i++) {
    const size_t c_from = i < r8 ? c8 : 0; /* full row blocks did their first c8 columns */
    for (size_t c = c_from; c < cols; c++) dst[c * ldd + i] = add ? src[i * lds + c] + add[i] : src[i * lds + c];
  }
}

/* dst[f * np + i] = src[i * F + f] for i < N, 0 for N <= i < np (np = padded(N)): the batch transposed. */
static void pack_transposed(const float *restrict src, size_t F, size_t N, float *restrict dst) {
  const size_t np = padded(N);
  transpose_block8(src, F, N, F, dst, np, NULL);
  if (np > N)
    for (size_t f = 0; f < F; f++) memset(dst + f * np + N, 0, (np - N) * sizeof(float));
}

/* out[0..TILE) = sum over entries e in [e0, e1) of W[wi[e]] * src[fi[e] * stride .. + TILE). */
WIDE static void gather_axpy(const int32_t *restrict fi, const int32_t *restrict wi, int32_t e0, int32_t e1, const float *restrict W,
                             const float *restrict src, size_t stride, float *restrict out) {
  v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
  for (int32_t e = e0; e < e1; e++) {
    const float w = W[wi[e]];
    const v16 *s = (const v16 *)(src + (size_t)fi[e] * stride);
    a0 += w * s[0];
    a1 += w * s[1];
    a2 += w * s[2];
    a3 += w * s[3];
  }
  v16 *o = (v16 *)out;
  o[0] = a0, o[1] = a1, o[2] = a2, o[3] = a3;
}

/* sum_i a[i] * b[i] over n (a multiple of TILE) floats; fixed order. */
WIDE static float dot_padded(const float *restrict a, const float *restrict b, size_t n) {
  const v16 *x = (const v16 *)a, *y = (const v16 *)b;
  v16 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
  for (size_t t = 0; t < n / 16; t += 4) {
    s0 += x[t] * y[t];
    s1 += x[t + 1] * y[t + 1];
    s2 += x[t + 2] * y[t + 2];
    s3 += x[t + 3] * y[t + 3];
  }
  const v16 s = (s0 + s1) + (s2 + s3);
  typedef float v8 __attribute__((vector_size(32)));
  typedef float v4 __attribute__((vector_size(16)));
  const v8 h = (v8){s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]} + (v8){s[8], s[9], s[10], s[11], s[12], s[13], s[14], s[15]};
  const v4 q = (v4){h[0], h[1], h[2], h[3]} + (v4){h[4], h[5], h[6], h[7]};
  return (q[0] + q[2]) + (q[1] + q[3]);
}

static int threads_for(double flops) { return flops >= PARALLEL_MIN_FLOPS ? sparse_threads : 1; }

/*
 * out[n, o] = sum over the pattern entries e of output o (ptr/fi/wi) of W[wi[e]] * in[n, fi[e]] (+ bias[o]);
 * in is [N, F], out is [N, O].
 */
/* r[o * np + n] for n < padded(N) = the same sums with the input already packed transposed (t: [F, np], zero beyond N). */
static void spmm_packed(const float *t, size_t np, const float *W, const int32_t *ptr, const int32_t *fi, const int32_t *wi, size_t O,
                        float *r, size_t N, int64_t nnz) {
  const int nt = threads_for(2.0 * (double)nnz * (double)np);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (size_t o = 0; o < O; o++) {
    for (size_t n0 = 0; n0 < N; n0 += TILE) gather_axpy(fi, wi, ptr[o], ptr[o + 1], W, t + n0, np, r + o * np + n0);
  }
}

/*
 * out [N, O] = r [O, np] transposed back, the bias added (0 without one: x + 0.f turns -0 into +0, as the sum always
 * did); the zeros go to scratch slot `zslot`. 0: out of memory.
 */
static int unpack(const float *r, size_t np, size_t O, size_t N, const float *bias, float *out, int zslot) {
  const float *add = bias;
  if (!add) {
    float *z = scratch(zslot, O);
    if (!z) return 0;
    memset(z, 0, O * sizeof(float));
    add = z;
  }
  transpose_block8(r, np, O, N, out, O, add);
  return 1;
}

static int spmm(const float *in, size_t F, const float *W, const int32_t *ptr, const int32_t *fi, const int32_t *wi, size_t O,
                const float *bias, float *out, size_t N, int64_t nnz) {
  const size_t np = padded(N);
  float *t = scratch(0, F * np), *r = scratch(1, O * np);
  if (!t || !r) return 0;
  pack_transposed(in, F, N, t);
  spmm_packed(t, np, W, ptr, fi, wi, O, r, N, nnz);
  return unpack(r, np, O, N, bias, out, 0); /* the packed input is no longer needed */
}

static napi_value oom(napi_env env) {
  napi_throw_error(env, NULL, "prune-at-init native: out of memory");
  return NULL;
}

/* sparseDense(pattern, X, xOff, W, wOff, Y, yOff, bias|null, biasOff, N, act): Y[N,M] = act(X[N,K] @ (W ⊙ M) + bias), act 0 linear, 1 relu, 7 tanh. */
static napi_value sparse_dense(napi_env env, napi_callback_info info) {
  ARGS(11, "sparseDense");
  Pattern *p;
  int64_t n, act;
  if (!get_pattern(env, a[0], &p) || !get_i64(env, a[9], &n, "N") || !get_i64(env, a[10], &act, "act")) return NULL;
  if (n < 0 || !(act == ACT_LINEAR || act == ACT_RELU || act == ACT_TANH)) {
    napi_throw_range_error(env, NULL, "prune-at-init native: sparseDense got a bad batch size or activation");
    return NULL;
  }
  float *X, *W, *Y, *bias = NULL;
  if (!get_f32(env, a[1], a[2], (size_t)(n * p->k), &X, "x") || !get_f32(env, a[3], a[4], (size_t)p->k * p->m, &W, "w") ||
      !get_f32(env, a[5], a[6], (size_t)(n * p->m), &Y, "y") || (!is_null(env, a[7]) && !get_f32(env, a[7], a[8], (size_t)p->m, &bias, "bias")))
    return NULL;
  if (n == 0) return NULL;
  if (!spmm(X, (size_t)p->k, W, p->col_ptr, p->col_k, p->col_w, (size_t)p->m, bias, Y, (size_t)n, p->nnz)) return oom(env);
  pai_apply_bias_act(Y, (size_t)n, (size_t)p->m, NULL, 0, (int)act, 0.f, NULL, 0);
  return NULL;
}

/* DW = (X^T @ DZ) ⊙ M at the kept positions, from the packed transposed xt [K, np] and dzt [M, np] (zero beyond N). */
static void dw_packed(const Pattern *p, const float *xt, const float *dzt, size_t np, float *C) {
  memset(C, 0, (size_t)p->k * (size_t)p->m * sizeof(float));
  const int nt = threads_for(2.0 * (double)p->nnz * (double)np);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (size_t r = 0; r < (size_t)p->k; r++) {
    for (int32_t e = p->row_ptr[r]; e < p->row_ptr[r + 1]; e++) C[p->row_w[e]] = dot_padded(xt + r * np, dzt + (size_t)p->row_j[e] * np, np);
  }
}

/*
 * The operands of the two gradient kernels, (pattern, A, aOff, B, bOff, C, cOff, N):
 * sparseDenseDx: A = DZ [N,M], B = W [K,M], C = DX [N,K]; sparseDenseDw: A = X [N,K], B = DZ [N,M], C = DW [K,M].
 */
static int grad_args(napi_env env, napi_value *a, int dw, Pattern **p, int64_t *n, float **A, float **B, float **C) {
  if (!get_pattern(env, a[0], p) || !get_i64(env, a[7], n, "N")) return 0;
  if (*n < 0) { napi_throw_range_error(env, NULL, "prune-at-init native: sparse gradient got a negative batch size"); return 0; }
  const size_t N = (size_t)*n, K = (size_t)(*p)->k, M = (size_t)(*p)->m;
  return get_f32(env, a[1], a[2], dw ? N * K : N * M, A, dw ? "x" : "dz") && get_f32(env, a[3], a[4], dw ? N * M : K * M, B, dw ? "dz" : "w") &&
         get_f32(env, a[5], a[6], dw ? K * M : N * K, C, dw ? "dw" : "dx");
}

/*
 * sparseDenseDx(pattern, DZ, dzOff, W, wOff, DX, dxOff, N): DX[N,K] = DZ[N,M] @ (W ⊙ M)^T.
 * sparseDenseDw(pattern, X, xOff, DZ, dzOff, DW, dwOff, N): DW = (X^T @ DZ) ⊙ M, computed at the kept positions only.
 */
static napi_value sparse_grad(napi_env env, napi_callback_info info, int dw) {
  ARGS(8, "sparseDenseDx/sparseDenseDw");
  Pattern *p;
  int64_t n;
  float *A, *B, *C;
  if (!grad_args(env, a, dw, &p, &n, &A, &B, &C)) return NULL;
  const size_t K = (size_t)p->k, M = (size_t)p->m;
  if (!dw) {
    if (n > 0 && !spmm(A, M, B, p->row_ptr, p->row_j, p->row_w, K, NULL, C, (size_t)n, p->nnz)) return oom(env);
    return NULL;
  }
  if (n == 0 || p->nnz == 0) { memset(C, 0, K * M * sizeof(float)); return NULL; }
  const size_t np = padded((size_t)n);
  float *xt = scratch(0, K * np), *dzt = scratch(1, M * np);
  if (!xt || !dzt) return oom(env);
  pack_transposed(A, K, (size_t)n, xt);
  pack_transposed(B, M, (size_t)n, dzt);
  dw_packed(p, xt, dzt, np, C);
  return NULL;
}

static napi_value sparse_dense_dx(napi_env env, napi_callback_info info) { return sparse_grad(env, info, 0); }
static napi_value sparse_dense_dw(napi_env env, napi_callback_info info) { return sparse_grad(env, info, 1); }

/* ---- a whole MLP of sparse layers, in the transposed layout ---------------------------------------- */

/*
 * When every layer of an MLP runs sparse, its hidden activations stay packed transposed ([features, padded(N)], zero
 * beyond N) from one layer to the next: the per-layer kernels above pack each layer's input and unpack its output,
 * and the backward packs the same gradient twice. Every element is still computed by the same operations in the
 * same order (spmm_packed, dw_packed, the bias added after the sum, pai_apply_bias_act, pai_act_grad, the bias
 * gradient summed over the batch in double in batch order, dx + 0.f), so the results are the per-layer kernels'
 * bits (test/mlp-kernel.test.ts). All operands live in one buffer (the wasm heap), addressed by float offsets.
 */
typedef struct { float *base; size_t floats; const double *off; size_t noff; } Operands;

static int get_operands(napi_env env, napi_value heap, napi_value offs, Operands *o) {
  void *data = NULL;
  size_t bytes = 0;
  bool is_ab = false;
  napi_is_arraybuffer(env, heap, &is_ab);
  if (!is_ab || napi_get_arraybuffer_info(env, heap, &data, &bytes) != napi_ok || ((uintptr_t)data & 3u) != 0) {
    napi_throw_type_error(env, NULL, "prune-at-init native: the MLP kernels' operands must be in one ArrayBuffer");
    return 0;
  }
  bool is_ta = false;
  napi_typedarray_type type;
  void *od;
  napi_value ab;
  size_t bo;
  napi_is_typedarray(env, offs, &is_ta);
  if (!is_ta || napi_get_typedarray_info(env, offs, &type, &o->noff, &od, &ab, &bo) != napi_ok || type != napi_float64_array) {
    napi_throw_type_error(env, NULL, "prune-at-init native: the MLP kernels' offsets must be a Float64Array");
    return 0;
  }
  o->base = data, o->floats = bytes / sizeof(float), o->off = od;
  return 1;
}

/* The operand at offs[i] with `need` floats, NULL when offs[i] < 0 and it may be absent; 0 on a range error. */
static int operand(napi_env env, const Operands *o, size_t i, size_t need, int optional, float **out);

/*
 * A packed transposed activation, which the vector loads and stores need 64-byte aligned: its buffer holds PACK_SPARE
 * floats more than `need`, and the activation starts at the first 64-byte boundary in it (the same in both calls).
 */
#define PACK_SPARE 16
static int packed_operand(napi_env env, const Operands *o, size_t i, size_t need, int optional, float **out) {
  if (!operand(env, o, i, need + PACK_SPARE, optional, out)) return 0;
  if (*out) *out = (float *)(((uintptr_t)*out + 63u) & ~(uintptr_t)63u);
  return 1;
}

static int operand(napi_env env, const Operands *o, size_t i, size_t need, int optional, float **out) {
  if (i >= o->noff) { napi_throw_range_error(env, NULL, "prune-at-init native: too few MLP operand offsets"); return 0; }
  const double v = o->off[i];
  if (v < 0 && optional) { *out = NULL; return 1; }
  if (!(v >= 0) || v != (double)(size_t)v || (size_t)v > o->floats || need > o->floats - (size_t)v) {
    char msg[160];
    snprintf(msg, sizeof msg, "prune-at-init native: MLP operand %zu out of range (offset %g + %zu floats > %zu)", i, v, need, o->floats);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  *out = o->base + (size_t)v;
  return 1;
}

/* The layers' patterns (a JS array of handles), each layer's input width equal to the previous one's output width. */
static Pattern **get_patterns(napi_env env, napi_value arr, uint32_t *L) {
  if (napi_get_array_length(env, arr, L) != napi_ok || *L == 0) {
    napi_throw_type_error(env, NULL, "prune-at-init native: patterns must be a non-empty array of sparsePattern handles");
    return NULL;
  }
  Pattern **P = malloc(*L * sizeof *P);
  if (!P) { napi_throw_error(env, NULL, "prune-at-init native: out of memory"); return NULL; }
  for (uint32_t i = 0; i < *L; i++) {
    napi_value v;
    if (napi_get_element(env, arr, i, &v) != napi_ok || !get_pattern(env, v, &P[i])) { free(P); return NULL; }
    if (i > 0 && P[i]->k != P[i - 1]->m) {
      free(P);
      napi_throw_range_error(env, NULL, "prune-at-init native: consecutive MLP layers' widths differ");
      return NULL;
    }
  }
  return P;
}

/* The arguments both MLP calls share, (heap, offs, patterns, N, paddedN, act); 0 after throwing (c->P is to be freed). */
typedef struct { Operands ops; Pattern **P; uint32_t L; size_t N, np; int64_t act; } MlpCall;

static int mlp_args(napi_env env, napi_value *a, MlpCall *c) {
  int64_t n, np;
  if (!get_operands(env, a[0], a[1], &c->ops) || !get_i64(env, a[3], &n, "N") || !get_i64(env, a[4], &np, "paddedN") ||
      !get_i64(env, a[5], &c->act, "act"))
    return 0;
  if (n < 1 || !(c->act == ACT_LINEAR || c->act == ACT_RELU || c->act == ACT_TANH)) {
    napi_throw_range_error(env, NULL, "prune-at-init native: the MLP kernels got a bad batch size or activation");
    return 0;
  }
  if (np != (int64_t)padded((size_t)n)) {
    napi_throw_range_error(env, NULL, "prune-at-init native: paddedN must be N rounded up to a multiple of " XSTR(TILE) " (the sparse kernels' tile)");
    return 0;
  }
  c->N = (size_t)n, c->np = (size_t)np;
  return (c->P = get_patterns(env, a[2], &c->L)) != NULL;
}

/*
 * mlpSparseForward(heap, offs, patterns, N, paddedN, act): offs = [x, then per layer w, bias (-1: none), out]. Hidden layers
 * (act) write [M, padded(N)] transposed with zeros beyond N (in buffers of PACK_SPARE floats more, see packed_operand);
 * the last (linear) writes [N, M].
 */
static napi_value mlp_sparse_forward(napi_env env, napi_callback_info info) {
  ARGS(6, "mlpSparseForward");
  MlpCall c;
  if (!mlp_args(env, a, &c)) return NULL;
  Pattern **P = c.P;
  const size_t N = c.N, np = c.np;
  float *x, *in = NULL;
  if (!operand(env, &c.ops, 0, N * (size_t)P[0]->k, 0, &x)) goto done;
  if (!(in = scratch(0, (size_t)P[0]->k * np))) { oom(env); goto done; }
  pack_transposed(x, (size_t)P[0]->k, N, in);
  for (uint32_t i = 0; i < c.L; i++) {
    const Pattern *p = P[i];
    const size_t M = (size_t)p->m, at = 1 + 3 * (size_t)i;
    const int last = i == c.L - 1;
    float *W, *bias, *out, *r;
    if (!operand(env, &c.ops, at, (size_t)p->k * M, 0, &W) || !operand(env, &c.ops, at + 1, M, 1, &bias) ||
        !(last ? operand(env, &c.ops, at + 2, N * M, 0, &out) : packed_operand(env, &c.ops, at + 2, M * np, 0, &out)))
      goto done;
    if (!(r = last ? scratch(1, M * np) : out)) { oom(env); goto done; }
    spmm_packed(in, np, W, p->col_ptr, p->col_k, p->col_w, M, r, N, p->nnz);
    if (last) {
      if (!unpack(r, np, M, N, bias, out, 2)) { oom(env); goto done; }
    } else {
      for (size_t o = 0; o < M; o++) {
        float *row = out + o * np;
        const float b = bias ? bias[o] : 0.f;
        for (size_t j = 0; j < N; j++) row[j] = row[j] + b;
        pai_apply_bias_act(row, 1, N, NULL, 0, (int)c.act, 0.f, NULL, 0);
        memset(row + N, 0, (np - N) * sizeof(float));
      }
      in = out;
    }
  }
done:
  free(P);
  return NULL;
}

/*
 * mlpSparseBackward(heap, offs, patterns, N, paddedN, act): offs = [dy, x, dz0 (-1: not wanted), then per layer w, h (the
 * forward's transposed output; -1 for the last layer), dW, db (-1: no bias)]. dz0 is the first layer's gradient with
 * respect to its pre-activation, [N, M0].
 */
static napi_value mlp_sparse_backward(napi_env env, napi_callback_info info) {
  ARGS(6, "mlpSparseBackward");
  MlpCall c;
  if (!mlp_args(env, a, &c)) return NULL;
  Pattern **P = c.P;
  const size_t N = c.N, np = c.np;
  const size_t K0 = (size_t)P[0]->k;
  size_t widest = 0;
  for (uint32_t i = 0; i < c.L; i++) widest = (size_t)P[i]->m > widest ? (size_t)P[i]->m : widest;
  float *dy, *x, *dz0, *D, *Zb, *B, *xt0;
  if (!operand(env, &c.ops, 0, N * (size_t)P[c.L - 1]->m, 0, &dy) || !operand(env, &c.ops, 1, N * K0, 0, &x) ||
      !operand(env, &c.ops, 2, N * (size_t)P[0]->m, 1, &dz0))
    goto done;
  if (!(D = scratch(1, widest * np)) || !(Zb = scratch(2, widest * np)) || !(B = scratch(3, widest * np))) { oom(env); goto done; }
  pack_transposed(dy, (size_t)P[c.L - 1]->m, N, D);
  for (uint32_t ii = c.L; ii-- > 0;) {
    const Pattern *p = P[ii];
    const size_t K = (size_t)p->k, M = (size_t)p->m, at = 3 + 4 * (size_t)ii;
    const int last = ii == c.L - 1;
    float *W, *h, *dW, *db;
    if (!operand(env, &c.ops, at, K * M, 0, &W) || !packed_operand(env, &c.ops, at + 1, M * np, last, &h) ||
        !operand(env, &c.ops, at + 2, K * M, 0, &dW) || !operand(env, &c.ops, at + 3, M, 1, &db))
      goto done;
    /* the gradient with respect to the pre-activation (the last layer is linear); zero beyond N like D and h */
    const float *Z = D;
    if (!last && c.act != ACT_LINEAR) { pai_act_grad((int)c.act, h, D, Zb, M * np); Z = Zb; }
    const float *xt;
    if (ii > 0) {
      if (!packed_operand(env, &c.ops, 3 + 4 * ((size_t)ii - 1) + 1, K * np, 0, (float **)&xt)) goto done;
    } else {
      if (!(xt0 = scratch(0, K0 * np))) { oom(env); goto done; }
      pack_transposed(x, K0, N, xt0);
      xt = xt0;
    }
    if (p->nnz == 0) memset(dW, 0, K * M * sizeof(float));
    else dw_packed(p, xt, Z, np, dW);
    if (db) {
      for (size_t o = 0; o < M; o++) {
        double acc = 0;
        for (size_t j = 0; j < N; j++) acc += Z[o * np + j];
        db[o] = (float)acc;
      }
    }
    if (ii == 0) {
      if (dz0) transpose_block8(Z, np, M, N, dz0, M, NULL);
      break;
    }
    spmm_packed(Z, np, W, p->row_ptr, p->row_j, p->row_w, K, B, N, p->nnz);
    for (size_t k = 0; k < K; k++) {
      float *row = B + k * np;
      for (size_t j = 0; j < N; j++) row[j] = row[j] + 0.f; /* -0 to +0, as the per-layer kernel's unpacking did */
      memset(row + N, 0, (np - N) * sizeof(float));
    }
    float *t = D;
    D = B, B = t;
  }
done:
  free(P);
  return NULL;
}

void pai_sparse_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      EXPORT("countNonzero01", count_nonzero01),
      EXPORT("sparsePattern", sparse_pattern),
      EXPORT("sparseDense", sparse_dense),
      EXPORT("sparseDenseDx", sparse_dense_dx),
      EXPORT("sparseDenseDw", sparse_dense_dw),
      EXPORT("mlpSparseForward", mlp_sparse_forward),
      EXPORT("mlpSparseBackward", mlp_sparse_backward),
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
