/*
 * prune-at-init native kernels behind N-API, for TF.js's wasm and cpu backends: OpenBLAS sgemm for
 * matmuls and convolutions, plain C for the reductions, pooling gradient, tanh, broadcasting
 * arithmetic and tile that were the next bottlenecks of a training step.
 *
 * Every tensor operand is passed as (buffer, elementOffset): the buffer is an ArrayBuffer (the wasm
 * heap, shared by all operands) or a Float32Array (a cpu-backend tensor); offsets count float32
 * elements from the start of that view. Each operand is bounds-checked before any BLAS call, so a
 * wrong shape from JS raises a RangeError instead of corrupting memory.
 *
 * Layouts follow TF.js: row-major matrices, NHWC images, conv filters [KH, KW, C, CO] (= a row-major
 * [KH*KW*C, CO] matrix). Convolutions are im2col/col2im + sgemm over chunks of whole images, so
 * the column buffer stays cache-sized instead of N*OH*OW*KH*KW*C floats; 3x3 stride-1 'same' layers
 * run the direct kernels of conv_direct.c (8-16 channels) or Winograd (conv_winograd.c, 32-512) instead.
 */
#include "napi_util.h"
#include "conv_direct.h"
#include "conv_winograd.h"
#include "scratch.h"
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

/* OpenBLAS extensions; declared here too because a netlib cblas.h (selected via Debian
 * alternatives) does not declare them. Linking against -lopenblas provides them. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
char *openblas_get_corename(void);

/*
 * OpenBLAS threads pay off only on large products: on the 128x100x100 layers of a deep MLP, handing
 * work to a second thread cost more than it saved (and far more when the cores are busy with other
 * jobs, as the thread must wait to be scheduled). So products under THREADED_MIN_FLOPS run on the
 * calling thread and larger ones on the configured count; openblas_set_num_threads is called only
 * when that changes (it only sets a counter once the threads exist).
 */
#define THREADED_MIN_FLOPS 1.6e7
static int blas_threads = 1, blas_threads_now = 1;

static void sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int m, int n, int k, float alpha,
                  const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
  const int want = 2.0 * m * n * k >= THREADED_MIN_FLOPS ? blas_threads : 1;
  if (want != blas_threads_now) {
    openblas_set_num_threads(want);
    blas_threads_now = want;
  }
  cblas_sgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/*
 * Convolutions run over chunks of whole images (about 1 MiB of im2col columns each, near L2), fixed
 * by the shapes alone, never by the thread count, and the threads take whole chunks, each chunk's
 * product on one OpenBLAS thread: so a result does not depend on how many threads computed it.
 * (OpenBLAS's rounding does depend on a product's shape: splitting a 128x784 @ 784x300 product into
 * two halves of rows changed 2,620 of its 38,400 outputs, hence chunks fixed by shapes.) The filter
 * gradient sums over the batch: each chunk gives its partial dW, added in chunk order. With its own
 * threads, OpenBLAS ran the narrow products of 8-32-channel convolutions slower on 2 threads than on
 * 1 (training steps 0.6-0.7x as fast for WRN-16-0.5 and ResNet-20).
 */
#define CHUNK_FLOATS (1u << 18)
/* A product split across threads must have at least this many flops per thread (fork/join ~ microseconds). */
#define CONV_PARALLEL_MIN_FLOPS 2e6

static void tanh_loop(const float *x, float *y, size_t n);

/* Scratch buffers grown on demand, one per thread: the im2col/col2im columns of each thread's chunk, and
   the calling thread's per-chunk partial filter gradients (also safe if the addon is loaded in worker_threads). */
static _Thread_local Scratch cols = {NULL, 0}, partials = {NULL, 0};

static float *workspace(size_t n) { return grow(&cols, n); }

void pai_apply_bias_act(float *c, size_t rows, size_t n, const float *bias, size_t bias_len, int act, float alpha,
                        const float *prelu, size_t prelu_len) {
  if (bias == NULL && act == ACT_LINEAR) return;
  for (size_t r = 0; r < rows; r++) {
    float *row = c + r * n;
    if (bias) {
      if (bias_len == 1) { for (size_t j = 0; j < n; j++) row[j] += bias[0]; }
      else { for (size_t j = 0; j < n; j++) row[j] += bias[j]; }
    }
    switch (act) {
      case ACT_RELU: for (size_t j = 0; j < n; j++) row[j] = row[j] > 0.f ? row[j] : 0.f; break;
      case ACT_RELU6: for (size_t j = 0; j < n; j++) row[j] = row[j] < 0.f ? 0.f : (row[j] > 6.f ? 6.f : row[j]); break;
      case ACT_LEAKYRELU: for (size_t j = 0; j < n; j++) row[j] = row[j] < 0.f ? alpha * row[j] : row[j]; break;
      case ACT_SIGMOID: for (size_t j = 0; j < n; j++) row[j] = 1.f / (1.f + expf(-row[j])); break;
      case ACT_ELU: for (size_t j = 0; j < n; j++) row[j] = row[j] < 0.f ? expm1f(row[j]) : row[j]; break;
      case ACT_PRELU:
        for (size_t j = 0; j < n; j++) row[j] = row[j] < 0.f ? prelu[prelu_len == 1 ? 0 : j] * row[j] : row[j];
        break;
      case ACT_TANH: tanh_loop(row, row, n); break;
      default: break;
    }
  }
}

/* prelu slopes from (buffer, offset, length) at a[0..2]; length must be 1 or n. */
static int get_prelu(napi_env env, napi_value *a, int64_t n, float **prelu, int64_t *len) {
  if (!get_i64(env, a[2], len, "preluLen")) return 0;
  if (*len != 1 && *len != n) {
    napi_throw_range_error(env, NULL, "prune-at-init native: prelu weights length must be 1 or the channel count");
    return 0;
  }
  return get_f32(env, a[0], a[1], (size_t)*len, prelu, "preluWeights");
}

/*
 * matmul(A, aOff, B, bOff, C, cOff, batchA, batchB, M, N, K, transA, transB, bias|null, biasOff, biasLen, act, alpha,
 *        prelu|null, preluOff, preluLen)
 * C[i] = act(op(A[i]) @ op(B[i]) + bias); a batch of 1 broadcasts.
 */
static napi_value matmul(napi_env env, napi_callback_info info) {
  ARGS(21, "matmul");
  int64_t ba, bb, m, n, k, bias_len, act;
  int ta, tb;
  double alpha = 0;
  if (!get_i64(env, a[6], &ba, "batchA") || !get_i64(env, a[7], &bb, "batchB") || !get_i64(env, a[8], &m, "M") ||
      !get_i64(env, a[9], &n, "N") || !get_i64(env, a[10], &k, "K") || !get_bool(env, a[11], &ta, "transA") ||
      !get_bool(env, a[12], &tb, "transB") || !get_i64(env, a[15], &bias_len, "biasLen") || !get_i64(env, a[16], &act, "act"))
    return NULL;
  napi_get_value_double(env, a[17], &alpha);
  if (ba < 1 || bb < 1 || m < 0 || n < 0 || k < 0 || (ba != bb && ba != 1 && bb != 1)) {
    napi_throw_range_error(env, NULL, "prune-at-init native: matmul got bad dimensions");
    return NULL;
  }
  int64_t batch = ba > bb ? ba : bb;
  float *A, *B, *C, *bias = NULL;
  if (!get_f32(env, a[0], a[1], (size_t)(ba * m * k), &A, "A") || !get_f32(env, a[2], a[3], (size_t)(bb * k * n), &B, "B") ||
      !get_f32(env, a[4], a[5], (size_t)(batch * m * n), &C, "C"))
    return NULL;
  napi_valuetype bt;
  napi_typeof(env, a[13], &bt);
  if (bt != napi_null && bt != napi_undefined) {
    if (bias_len != 1 && bias_len != n) { napi_throw_range_error(env, NULL, "prune-at-init native: bias length must be 1 or N"); return NULL; }
    if (!get_f32(env, a[13], a[14], (size_t)bias_len, &bias, "bias")) return NULL;
  }
  float *prelu = NULL;
  int64_t prelu_len = 0;
  if (act == ACT_PRELU && !get_prelu(env, a + 18, n, &prelu, &prelu_len)) return NULL;
  if (m == 0 || n == 0) return NULL;
  if (k == 0) {
    memset(C, 0, (size_t)(batch * m * n) * sizeof(float));
  } else if (bb == 1 && !ta && batch > 1) {
    /* A is one contiguous [batch*M, K] matrix: a single, larger (faster) gemm. */
    sgemm(CblasRowMajor, CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)(batch * m), (int)n, (int)k, 1.f, A,
                (int)k, B, tb ? (int)k : (int)n, 0.f, C, (int)n);
  } else {
    for (int64_t i = 0; i < batch; i++) {
      const float *ai = A + (ba == 1 ? 0 : i * m * k);
      const float *bi = B + (bb == 1 ? 0 : i * k * n);
      sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, 1.f,
                  ai, ta ? (int)m : (int)k, bi, tb ? (int)k : (int)n, 0.f, C + i * m * n, (int)n);
    }
  }
  pai_apply_bias_act(C, (size_t)(batch * m), (size_t)n, bias, (size_t)bias_len, (int)act, (float)alpha, prelu, (size_t)prelu_len);
  return NULL;
}

static int get_conv(napi_env env, napi_value arr, Conv *cv) {
  napi_typedarray_type type;
  size_t length;
  void *data;
  napi_value ab;
  size_t off;
  bool is_ta = false;
  napi_is_typedarray(env, arr, &is_ta);
  if (!is_ta || napi_get_typedarray_info(env, arr, &type, &length, &data, &ab, &off) != napi_ok || type != napi_int32_array ||
      length != 15) {
    napi_throw_type_error(env, NULL, "prune-at-init native: conv dims must be an Int32Array of 15");
    return 0;
  }
  const int32_t *d = (const int32_t *)data;
  *cv = (Conv){d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14]};
  for (int i = 0; i < 15; i++) {
    if (d[i] < 0 || ((i < 11 || i > 12) && i != 0 && d[i] == 0)) {
      napi_throw_range_error(env, NULL, "prune-at-init native: conv dims must be positive");
      return 0;
    }
  }
  return 1;
}

/* 1x1, stride 1, no padding: the input already is the column matrix. */
static int is_pointwise(const Conv *cv) {
  return cv->kh == 1 && cv->kw == 1 && cv->sh == 1 && cv->sw == 1 && cv->pt == 0 && cv->pl == 0 && cv->oh == cv->h &&
         cv->ow == cv->w;
}

static int chunk_images(const Conv *cv) {
  size_t per = (size_t)cv->oh * cv->ow * cv->kh * cv->kw * cv->c;
  size_t nb = per ? CHUNK_FLOATS / per : 1;
  if (nb < 1) nb = 1;
  if (nb > (size_t)cv->n) nb = cv->n;
  return (int)nb;
}

/* OpenBLAS on one thread, for products that run inside our own threads. */
static void blas_one_thread(void) {
  if (blas_threads_now != 1) {
    openblas_set_num_threads(1);
    blas_threads_now = 1;
  }
}

/* Threads for `parts` independent pieces of `flops` in all. */
static int conv_threads(int parts, double flops) {
  int nt = blas_threads < parts ? blas_threads : parts;
  while (nt > 1 && flops / nt < CONV_PARALLEL_MIN_FLOPS) nt--;
  return nt < 1 ? 1 : nt;
}

/*
 * Threads for BatchNorm and elementwise loops (the addon's thread count, from 2^16 elements on). The
 * per-channel sums run over fixed blocks of rows, each block's double partial added in block order,
 * so they do not depend on the thread count either; the elementwise passes split rows freely.
 */
#define PAR_MIN_ELEMENTS (1u << 16)
#define BN_BLOCK_ROWS 2048
static int loop_threads(size_t n) { return n >= PAR_MIN_ELEMENTS ? blas_threads : 1; }

/* [r0, r1) of `rows` for thread t of nt */
#define THREAD_RANGE(rows, t, nt, r0, r1) const size_t r0 = (rows) * (size_t)(t) / (size_t)(nt), r1 = (rows) * (size_t)((t) + 1) / (size_t)(nt)

/* How a convolution is cut: images per chunk, chunks, threads (OpenBLAS set to one thread for the chunks' products). */
typedef struct { int pointwise, nb, chunks, nt; } ConvPlan;

static ConvPlan conv_plan(const Conv *cv) {
  ConvPlan p;
  p.pointwise = is_pointwise(cv);
  p.nb = chunk_images(cv);
  p.chunks = (cv->n + p.nb - 1) / p.nb;
  p.nt = conv_threads(p.chunks, 2.0 * cv->n * cv->oh * cv->ow * cv->kh * cv->kw * cv->c * cv->co);
  blas_one_thread();
  return p;
}

/*
 * The 3x3 kernels where they apply (3x3 stride-1 'same' layers): the direct kernels (conv_direct.c) for 8 or
 * 16 output channels (for the input gradient: 8 or 16 input channels) from at most 16, on a CPU with AVX2
 * and FMA; Winograd (conv_winograd.c) for the forward pass and input gradient from 32 channels in and out.
 * Everywhere else, and with setFastConv(false) (PRUNE_AT_INIT_FAST_CONV=0), im2col + sgemm.
 */
static int fast_on = 1;
static int direct_forward(const Conv *cv) { return fast_on && pai_direct_geometry(cv) && pai_direct_shape(cv->c, cv->co) && pai_direct_supported(); }
static int winograd_forward(const Conv *cv) { return fast_on && pai_winograd_applies(cv); }
static int direct_input(const Conv *cv) { return fast_on && pai_direct_geometry(cv) && pai_direct_shape(cv->co, cv->c) && pai_direct_supported(); }

/* images [n0, n0 + cnt) of chunk ci */
#define CHUNK_IMAGES(p, cv, ci, n0, cnt) const int n0 = (ci) * (p).nb, cnt = n0 + (p).nb <= (cv).n ? (p).nb : (cv).n - n0

/* col[(n,oh,ow), (kh,kw,c)] for images n0..n0+nb-1. */
static void im2col(const float *x, float *col, const Conv *cv, int n0, int nb) {
  const int C = cv->c;
  float *dst = col;
  for (int n = n0; n < n0 + nb; n++) {
    const float *xn = x + (size_t)n * cv->h * cv->w * C;
    for (int oh = 0; oh < cv->oh; oh++) {
      for (int ow = 0; ow < cv->ow; ow++) {
        const int iw0 = ow * cv->sw - cv->pl;
        const int row_inside = iw0 >= 0 && iw0 + (cv->kw - 1) * cv->dw < cv->w && cv->dw == 1;
        for (int kh = 0; kh < cv->kh; kh++) {
          const int ih = oh * cv->sh - cv->pt + kh * cv->dh;
          if (ih < 0 || ih >= cv->h) {
            memset(dst, 0, (size_t)cv->kw * C * sizeof(float));
            dst += cv->kw * C;
            continue;
          }
          const float *xr = xn + (size_t)ih * cv->w * C;
          if (row_inside) {
            memcpy(dst, xr + (size_t)iw0 * C, (size_t)cv->kw * C * sizeof(float));
            dst += cv->kw * C;
            continue;
          }
          for (int kw = 0; kw < cv->kw; kw++) {
            const int iw = iw0 + kw * cv->dw;
            if (iw < 0 || iw >= cv->w) memset(dst, 0, (size_t)C * sizeof(float));
            else memcpy(dst, xr + (size_t)iw * C, (size_t)C * sizeof(float));
            dst += C;
          }
        }
      }
    }
  }
}

/* The column matrix of images [n0, n0 + cnt): the input itself for a pointwise convolution, else im2col
   into this thread's scratch (NULL: out of memory). */
static const float *columns(const float *X, const Conv *cv, const ConvPlan *p, int n0, int cnt) {
  if (p->pointwise) return X + (size_t)n0 * cv->h * cv->w * cv->c;
  float *col = workspace((size_t)p->nb * cv->oh * cv->ow * cv->kh * cv->kw * cv->c);
  if (col) im2col(X, col, cv, n0, cnt);
  return col;
}

/* dx[n, ih, iw, c] += col[(n,oh,ow), (kh,kw,c)]; dx for images n0.. must be zeroed by the caller. */
static void col2im(const float *col, float *dx, const Conv *cv, int n0, int nb) {
  const int C = cv->c;
  const float *src = col;
  for (int n = n0; n < n0 + nb; n++) {
    float *xn = dx + (size_t)n * cv->h * cv->w * C;
    for (int oh = 0; oh < cv->oh; oh++) {
      for (int ow = 0; ow < cv->ow; ow++) {
        const int iw0 = ow * cv->sw - cv->pl;
        for (int kh = 0; kh < cv->kh; kh++) {
          const int ih = oh * cv->sh - cv->pt + kh * cv->dh;
          if (ih < 0 || ih >= cv->h) { src += cv->kw * C; continue; }
          float *xr = xn + (size_t)ih * cv->w * C;
          for (int kw = 0; kw < cv->kw; kw++) {
            const int iw = iw0 + kw * cv->dw;
            if (iw >= 0 && iw < cv->w) {
              float *d = xr + (size_t)iw * C;
              for (int c = 0; c < C; c++) d[c] += src[c];
            }
            src += C;
          }
        }
      }
    }
  }
}

/* conv2d(X, xOff, W, wOff, Y, yOff, bias|null, biasOff, dims, act, alpha, prelu|null, preluOff, preluLen) */
static napi_value conv2d(napi_env env, napi_callback_info info) {
  ARGS(14, "conv2d");
  Conv cv;
  if (!get_conv(env, a[8], &cv)) return NULL;
  int64_t act;
  double alpha = 0;
  if (!get_i64(env, a[9], &act, "act")) return NULL;
  napi_get_value_double(env, a[10], &alpha);
  const size_t kkc = (size_t)cv.kh * cv.kw * cv.c, per_in = (size_t)cv.h * cv.w * cv.c, per_out = (size_t)cv.oh * cv.ow;
  float *X, *W, *Y, *bias = NULL;
  if (!get_f32(env, a[0], a[1], cv.n * per_in, &X, "x") || !get_f32(env, a[2], a[3], kkc * cv.co, &W, "filter") ||
      !get_f32(env, a[4], a[5], cv.n * per_out * cv.co, &Y, "y"))
    return NULL;
  napi_valuetype bt;
  napi_typeof(env, a[6], &bt);
  if (bt != napi_null && bt != napi_undefined && !get_f32(env, a[6], a[7], (size_t)cv.co, &bias, "bias")) return NULL;
  float *prelu = NULL;
  int64_t prelu_len = 0;
  if (act == ACT_PRELU && !get_prelu(env, a + 11, cv.co, &prelu, &prelu_len)) return NULL;
  if (cv.n == 0) return NULL;
  int failed = 0;
  if (direct_forward(&cv)) {
    const int nt = conv_threads(cv.n, 2.0 * cv.n * per_out * kkc * cv.co);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1) reduction(| : failed)
    for (int n = 0; n < cv.n; n++) {
      float *yn = Y + (size_t)n * per_out * cv.co;
      if (!pai_direct_conv_image(X + (size_t)n * per_in, W, yn, cv.h, cv.w, cv.c, cv.co)) { failed = 1; continue; }
      pai_apply_bias_act(yn, per_out, (size_t)cv.co, bias, (size_t)cv.co, (int)act, (float)alpha, prelu, (size_t)prelu_len);
    }
    if (failed) napi_throw_error(env, NULL, "prune-at-init native: out of memory");
    return NULL;
  }
  if (winograd_forward(&cv)) {
    blas_one_thread();
    const WinogradEpilogue ep = {bias, (int)act, (float)alpha, prelu, (size_t)prelu_len};
    if (!pai_winograd_conv(X, W, Y, &cv, conv_threads(cv.n, 2.0 * cv.n * per_out * kkc * cv.co), &ep))
      napi_throw_error(env, NULL, "prune-at-init native: out of memory");
    return NULL;
  }
  const ConvPlan p = conv_plan(&cv);
#pragma omp parallel for num_threads(p.nt) schedule(dynamic, 1) if (p.nt > 1) reduction(| : failed)
  for (int ci = 0; ci < p.chunks; ci++) {
    CHUNK_IMAGES(p, cv, ci, n0, cnt);
    float *yc = Y + (size_t)n0 * per_out * cv.co;
    const float *colm = columns(X, &cv, &p, n0, cnt);
    if (!colm) { failed = 1; continue; }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(cnt * per_out), cv.co, (int)kkc, 1.f, colm, (int)kkc, W, cv.co,
                0.f, yc, cv.co);
    pai_apply_bias_act(yc, cnt * per_out, (size_t)cv.co, bias, (size_t)cv.co, (int)act, (float)alpha, prelu, (size_t)prelu_len);
  }
  if (failed) napi_throw_error(env, NULL, "prune-at-init native: out of memory");
  return NULL;
}

/* conv2dBackpropInput(DY, dyOff, W, wOff, DX, dxOff, dims): dx = col2im(dy @ W^T) */
static napi_value conv2d_backprop_input(napi_env env, napi_callback_info info) {
  ARGS(7, "conv2dBackpropInput");
  Conv cv;
  if (!get_conv(env, a[6], &cv)) return NULL;
  const size_t kkc = (size_t)cv.kh * cv.kw * cv.c, per_in = (size_t)cv.h * cv.w * cv.c, per_out = (size_t)cv.oh * cv.ow;
  float *DY, *W, *DX;
  if (!get_f32(env, a[0], a[1], cv.n * per_out * cv.co, &DY, "dy") || !get_f32(env, a[2], a[3], kkc * cv.co, &W, "filter") ||
      !get_f32(env, a[4], a[5], cv.n * per_in, &DX, "dx"))
    return NULL;
  if (cv.n == 0) return NULL;
  int failed = 0;
  if (direct_input(&cv) || winograd_forward(&cv)) {
    /* dx = the 'same' convolution of dy (co channels) into c channels with the filter flipped in space, its
       channel axes swapped: by the direct kernels or by Winograd */
    float *wf = malloc(kkc * cv.co * sizeof(float));
    if (!wf) { napi_throw_error(env, NULL, "prune-at-init native: out of memory"); return NULL; }
    pai_direct_flip(W, wf, cv.c, cv.co);
    const int nt = conv_threads(cv.n, 2.0 * cv.n * per_out * kkc * cv.co);
    if (direct_input(&cv)) {
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1) reduction(| : failed)
      for (int n = 0; n < cv.n; n++)
        if (!pai_direct_conv_image(DY + (size_t)n * per_out * cv.co, wf, DX + (size_t)n * per_in, cv.h, cv.w, cv.co, cv.c)) failed = 1;
    } else {
      Conv tr = cv;
      tr.c = cv.co;
      tr.co = cv.c;
      blas_one_thread();
      failed = !pai_winograd_conv(DY, wf, DX, &tr, nt, NULL);
    }
    free(wf);
    if (failed) napi_throw_error(env, NULL, "prune-at-init native: out of memory");
    return NULL;
  }
  const ConvPlan p = conv_plan(&cv);
#pragma omp parallel for num_threads(p.nt) schedule(dynamic, 1) if (p.nt > 1) reduction(| : failed)
  for (int ci = 0; ci < p.chunks; ci++) {
    CHUNK_IMAGES(p, cv, ci, n0, cnt);
    const float *dyc = DY + (size_t)n0 * per_out * cv.co;
    if (p.pointwise) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(cnt * per_out), cv.c, cv.co, 1.f, dyc, cv.co, W, cv.co, 0.f,
                  DX + (size_t)n0 * per_in, cv.c);
      continue;
    }
    float *col = workspace((size_t)p.nb * per_out * kkc);
    if (!col) { failed = 1; continue; }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(cnt * per_out), (int)kkc, cv.co, 1.f, dyc, cv.co, W, cv.co, 0.f, col,
                (int)kkc);
    memset(DX + (size_t)n0 * per_in, 0, (size_t)cnt * per_in * sizeof(float));
    col2im(col, DX, &cv, n0, cnt);
  }
  if (failed) napi_throw_error(env, NULL, "prune-at-init native: out of memory");
  return NULL;
}

/*
 * conv2dBackpropFilter(X, xOff, DY, dyOff, DW, dwOff, dims): dW = im2col(x)^T @ dy. Each chunk of images
 * gives its own partial dW (in any thread); the partials are then added in chunk order, so the sum
 * does not depend on the thread count.
 */
static napi_value conv2d_backprop_filter(napi_env env, napi_callback_info info) {
  ARGS(7, "conv2dBackpropFilter");
  Conv cv;
  if (!get_conv(env, a[6], &cv)) return NULL;
  const size_t kkc = (size_t)cv.kh * cv.kw * cv.c, per_in = (size_t)cv.h * cv.w * cv.c, per_out = (size_t)cv.oh * cv.ow;
  float *X, *DY, *DW;
  if (!get_f32(env, a[0], a[1], cv.n * per_in, &X, "x") || !get_f32(env, a[2], a[3], cv.n * per_out * cv.co, &DY, "dy") ||
      !get_f32(env, a[4], a[5], kkc * cv.co, &DW, "dw"))
    return NULL;
  if (cv.n == 0) { memset(DW, 0, kkc * cv.co * sizeof(float)); return NULL; }
  const ConvPlan p = conv_plan(&cv);
  const size_t wsize = kkc * cv.co;
  float *part = p.chunks > 1 ? grow(&partials, (size_t)p.chunks * wsize) : DW;
  if (!part) { napi_throw_error(env, NULL, "prune-at-init native: out of memory"); return NULL; }
  int failed = 0;
  const int direct = direct_forward(&cv);
#pragma omp parallel for num_threads(p.nt) schedule(dynamic, 1) if (p.nt > 1) reduction(| : failed)
  for (int ci = 0; ci < p.chunks; ci++) {
    CHUNK_IMAGES(p, cv, ci, n0, cnt);
    if (direct) {
      /* this chunk's images one after another into its partial */
      float *pc = part + (size_t)ci * wsize;
      memset(pc, 0, wsize * sizeof(float));
      for (int n = n0; n < n0 + cnt && !failed; n++)
        if (!pai_direct_filter_image(X + (size_t)n * per_in, DY + (size_t)n * per_out * cv.co, pc, cv.h, cv.w, cv.c, cv.co)) failed = 1;
      continue;
    }
    const float *colm = columns(X, &cv, &p, n0, cnt);
    if (!colm) { failed = 1; continue; }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)kkc, cv.co, (int)(cnt * per_out), 1.f, colm, (int)kkc,
                DY + (size_t)n0 * per_out * cv.co, cv.co, 0.f, part + (size_t)ci * wsize, cv.co);
  }
  if (failed) { napi_throw_error(env, NULL, "prune-at-init native: out of memory"); return NULL; }
  if (p.chunks > 1) {
    for (size_t j = 0; j < wsize; j++) {
      float s = part[j];
      for (int ci = 1; ci < p.chunks; ci++) s += part[(size_t)ci * wsize + j];
      DW[j] = s;
    }
  }
  return NULL;
}

/* ---- reductions, max-pool gradient, tanh ------------------------------------------------------ */

/* acc[j] = sum_i x[i, j] over a row-major [outer, inner] matrix, accumulated in double. */
HOT static void col_sums(const float *x, size_t outer, size_t inner, double *acc) {
  memset(acc, 0, inner * sizeof(double));
  for (size_t i = 0; i < outer; i++) {
    const float *r = x + i * inner;
    for (size_t j = 0; j < inner; j++) acc[j] += r[j];
  }
}

/* sum of one row, in double with 4 independent partial sums (vectorisable without -ffast-math). */
HOT static double row_sum(const float *r, size_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t j = 0;
  for (; j + 4 <= n; j += 4) { s0 += r[j]; s1 += r[j + 1]; s2 += r[j + 2]; s3 += r[j + 3]; }
  for (; j < n; j++) s0 += r[j];
  return (s0 + s1) + (s2 + s3);
}

/*
 * reduce(X, xOff, Y, yOff, outer, inner, overOuter, scale): X is [outer, inner] row-major;
 * overOuter: Y[j] = scale * sum_i X[i,j] (leading axes reduced), else Y[i] = scale * sum_j X[i,j].
 */
static napi_value reduce(napi_env env, napi_callback_info info) {
  ARGS(8, "reduce");
  int64_t outer, inner;
  int over_outer;
  double scale;
  if (!get_i64(env, a[4], &outer, "outer") || !get_i64(env, a[5], &inner, "inner") || !get_bool(env, a[6], &over_outer, "overOuter"))
    return NULL;
  if (napi_get_value_double(env, a[7], &scale) != napi_ok || outer < 0 || inner < 0) {
    napi_throw_range_error(env, NULL, "prune-at-init native: reduce got bad dimensions or scale");
    return NULL;
  }
  float *X, *Y;
  if (!get_f32(env, a[0], a[1], (size_t)(outer * inner), &X, "x") ||
      !get_f32(env, a[2], a[3], (size_t)(over_outer ? inner : outer), &Y, "y"))
    return NULL;
  if (over_outer) {
    double *acc = malloc((size_t)(inner ? inner : 1) * sizeof(double));
    if (!acc) { napi_throw_error(env, NULL, "prune-at-init native: out of memory"); return NULL; }
    col_sums(X, (size_t)outer, (size_t)inner, acc);
    for (int64_t j = 0; j < inner; j++) Y[j] = (float)(acc[j] * scale);
    free(acc);
  } else {
    for (int64_t i = 0; i < outer; i++) Y[i] = (float)(row_sum(X + i * inner, (size_t)inner) * scale);
  }
  return NULL;
}

/* Running per-channel max and its position; branch-free so it vectorises over channels. */
HOT static void window_max(const float *restrict xp, float *restrict best, int32_t *restrict where, int32_t pos, size_t C) {
  for (size_t c = 0; c < C; c++) {
    const float v = xp[c], b = best[c];
    const int32_t w = where[c];
    best[c] = v > b ? v : b;
    where[c] = v > b ? pos : w;
  }
}

/*
 * maxPoolGrad(DY, dyOff, X, xOff, DX, dxOff, dims[N,H,W,C,KH,KW,OH,OW,sh,sw,pt,pl]): each output's
 * gradient goes to the first maximum of its window (row-major), as TF.js's cpu backend does.
 */
static napi_value max_pool_grad(napi_env env, napi_callback_info info) {
  ARGS(7, "maxPoolGrad");
  napi_typedarray_type type;
  size_t length;
  void *data;
  napi_value ab;
  size_t off;
  bool is_ta = false;
  napi_is_typedarray(env, a[6], &is_ta);
  if (!is_ta || napi_get_typedarray_info(env, a[6], &type, &length, &data, &ab, &off) != napi_ok || type != napi_int32_array ||
      length != 12) {
    napi_throw_type_error(env, NULL, "prune-at-init native: pool dims must be an Int32Array of 12");
    return NULL;
  }
  const int32_t *d = (const int32_t *)data;
  const int N = d[0], H = d[1], W = d[2], C = d[3], KH = d[4], KW = d[5], OH = d[6], OW = d[7], SH = d[8], SW = d[9], PT = d[10],
            PL = d[11];
  for (int i = 0; i < 12; i++) {
    if (d[i] < 0 || (i != 0 && i < 10 && d[i] == 0)) {
      napi_throw_range_error(env, NULL, "prune-at-init native: pool dims must be positive");
      return NULL;
    }
  }
  float *DY, *X, *DX;
  if (!get_f32(env, a[0], a[1], (size_t)N * OH * OW * C, &DY, "dy") || !get_f32(env, a[2], a[3], (size_t)N * H * W * C, &X, "x") ||
      !get_f32(env, a[4], a[5], (size_t)N * H * W * C, &DX, "dx"))
    return NULL;
  memset(DX, 0, (size_t)N * H * W * C * sizeof(float));
  float *best = malloc((size_t)(C ? C : 1) * sizeof(float));
  int32_t *where = malloc((size_t)(C ? C : 1) * sizeof(int32_t));
  if (!best || !where) {
    free(best);
    free(where);
    napi_throw_error(env, NULL, "prune-at-init native: out of memory");
    return NULL;
  }
  for (int n = 0; n < N; n++) {
    const float *xn = X + (size_t)n * H * W * C;
    float *dxn = DX + (size_t)n * H * W * C;
    for (int oh = 0; oh < OH; oh++) {
      for (int ow = 0; ow < OW; ow++) {
        for (int c = 0; c < C; c++) { best[c] = -INFINITY; where[c] = -1; }
        for (int kh = 0; kh < KH; kh++) {
          const int ih = oh * SH - PT + kh;
          if (ih < 0 || ih >= H) continue;
          for (int kw = 0; kw < KW; kw++) {
            const int iw = ow * SW - PL + kw;
            if (iw < 0 || iw >= W) continue;
            const int pos = ih * W + iw;
            const float *xp = xn + (size_t)pos * C;
            window_max(xp, best, where, pos, (size_t)C);
          }
        }
        const float *dyp = DY + (((size_t)n * OH + oh) * OW + ow) * C;
        for (int c = 0; c < C; c++) {
          if (where[c] >= 0) dxn[(size_t)where[c] * C + c] += dyp[c];
        }
      }
    }
  }
  free(best);
  free(where);
  return NULL;
}

/*
 * tanh as a [13/6] rational function of x (the minimax approximation Eigen uses), which
 * vectorises; max error ~4e-7 relative over the float range (checked in test/kernels.test.ts).
 */
/* Not restrict: pai_apply_bias_act runs it in place. */
HOT static void tanh_loop(const float *x, float *y, size_t n) {
  const float lim = 7.90531110763549805f;
  for (size_t i = 0; i < n; i++) {
    const float v = x[i];
    float xc = v > lim ? lim : v;
    xc = xc < -lim ? -lim : xc;
    const float x2 = xc * xc;
    float p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
    p = x2 * p + -8.60467152213735e-11f;
    p = x2 * p + 5.12229709037114e-08f;
    p = x2 * p + 1.48572235717979e-05f;
    p = x2 * p + 6.37261928875436e-04f;
    p = x2 * p + 4.89352455891786e-03f;
    p = xc * p;
    float q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
    q = x2 * q + 2.26843463243900e-03f;
    q = x2 * q + 4.89352518554385e-03f;
    const float r = p / q;
    /* tiny |x|: tanh(x) = x to float precision (and keeps -0 and denormals exact) */
    y[i] = x2 < 1.6e-7f ? v : r;
  }
}

/* tanh(X, xOff, Y, yOff, n) */
static napi_value tanh_kernel(napi_env env, napi_callback_info info) {
  ARGS(5, "tanh");
  int64_t n;
  if (!get_i64(env, a[4], &n, "n")) return NULL;
  if (n < 0) { napi_throw_range_error(env, NULL, "prune-at-init native: tanh got a negative length"); return NULL; }
  float *X, *Y;
  if (!get_f32(env, a[0], a[1], (size_t)n, &X, "x") || !get_f32(env, a[2], a[3], (size_t)n, &Y, "y")) return NULL;
  tanh_loop(X, Y, (size_t)n);
  return NULL;
}

/* ---- broadcasting elementwise arithmetic ------------------------------------------------------ */

/* Activation gradients from the activation's output: a = y, b = dy.
 * OP_TANH_GRAD: c = dy * (1 - y^2); OP_RELU_GRAD: c = y > 0 ? dy : 0 (TF.js's step(x) is 0 at x = 0 too). */
enum { OP_ADD = 0, OP_SUB = 1, OP_MUL = 2, OP_DIV = 3, OP_TANH_GRAD = 4, OP_RELU_GRAD = 5 };
/* How an operand maps onto the [rows, inner] output: the full tensor, one row repeated, or a scalar. */
enum { FULL = 0, ROW = 1, SCALAR = 2 };

#define BINARY_LOOPS(NAME, EXPR)                                                                           \
  HOT static void NAME(const float *restrict a, int am, const float *restrict b, int bm, float *restrict c, \
                       size_t rows, size_t inner) {                                                        \
    const size_t n = rows * inner;                                                                         \
    if (am == FULL && bm == FULL) {                                                                        \
      for (size_t i = 0; i < n; i++) { const float x = a[i], y = b[i]; c[i] = EXPR; }                      \
    } else if (am == FULL && bm == SCALAR) {                                                               \
      const float y = b[0];                                                                                \
      for (size_t i = 0; i < n; i++) { const float x = a[i]; c[i] = EXPR; }                                \
    } else if (am == SCALAR && bm == FULL) {                                                               \
      const float x = a[0];                                                                                \
      for (size_t i = 0; i < n; i++) { const float y = b[i]; c[i] = EXPR; }                                \
    } else {                                                                                               \
      for (size_t r = 0; r < rows; r++) {                                                                  \
        const float *ar = am == FULL ? a + r * inner : a, *br = bm == FULL ? b + r * inner : b;             \
        float *cr = c + r * inner;                                                                         \
        if (am == SCALAR) { const float x = a[0]; for (size_t j = 0; j < inner; j++) { const float y = br[j]; cr[j] = EXPR; } } \
        else if (bm == SCALAR) { const float y = b[0]; for (size_t j = 0; j < inner; j++) { const float x = ar[j]; cr[j] = EXPR; } } \
        else { for (size_t j = 0; j < inner; j++) { const float x = ar[j], y = br[j]; cr[j] = EXPR; } }   \
      }                                                                                                    \
    }                                                                                                      \
  }

BINARY_LOOPS(binary_add, x + y)
BINARY_LOOPS(binary_sub, x - y)
BINARY_LOOPS(binary_mul, x * y)
BINARY_LOOPS(binary_div, x / y)
BINARY_LOOPS(binary_tanh_grad, y * (1.f - x * x))
BINARY_LOOPS(binary_relu_grad, x > 0.f ? y : 0.f)
typedef void (*binary_fn)(const float *restrict, int, const float *restrict, int, float *restrict, size_t, size_t);

void pai_act_grad(int act, const float *y, const float *dy, float *c, size_t n) {
  (act == ACT_TANH ? binary_tanh_grad : binary_relu_grad)(y, FULL, dy, FULL, c, 1, n);
}

/*
 * binary(op, A, aOff, aMode, B, bOff, bMode, C, cOff, rows, inner): C[r, j] = A op B over a
 * [rows, inner] output; each operand is FULL ([rows, inner]), ROW ([inner], repeated) or SCALAR.
 */
static napi_value binary(napi_env env, napi_callback_info info) {
  ARGS(11, "binary");
  int64_t op, am, bm, rows, inner;
  if (!get_i64(env, a[0], &op, "op") || !get_i64(env, a[3], &am, "aMode") || !get_i64(env, a[6], &bm, "bMode") ||
      !get_i64(env, a[9], &rows, "rows") || !get_i64(env, a[10], &inner, "inner"))
    return NULL;
  if (op < OP_ADD || op > OP_RELU_GRAD || am < FULL || am > SCALAR || bm < FULL || bm > SCALAR || rows < 0 || inner < 0) {
    napi_throw_range_error(env, NULL, "prune-at-init native: binary got a bad op, mode or size");
    return NULL;
  }
  const size_t n = (size_t)(rows * inner);
  const size_t need_a = am == FULL ? n : am == ROW ? (size_t)inner : 1, need_b = bm == FULL ? n : bm == ROW ? (size_t)inner : 1;
  float *A, *B, *C;
  if (!get_f32(env, a[1], a[2], need_a, &A, "a") || !get_f32(env, a[4], a[5], need_b, &B, "b") || !get_f32(env, a[7], a[8], n, &C, "c"))
    return NULL;
  if (n == 0) return NULL;
  binary_fn fn = op == OP_ADD ? binary_add : op == OP_SUB ? binary_sub : op == OP_MUL ? binary_mul : op == OP_DIV ? binary_div
               : op == OP_TANH_GRAD ? binary_tanh_grad : binary_relu_grad;
  /* elementwise: any split gives the same bits; without a ROW operand the output is split flat */
  const int flat = am != ROW && bm != ROW;
  const size_t units = flat ? n : (size_t)rows, width = flat ? 1 : (size_t)inner;
  int nt = loop_threads(n);
  if ((size_t)nt > units) nt = (int)units;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int t = nt > 1 ? omp_get_thread_num() : 0;
    THREAD_RANGE(units, t, nt, u0, u1);
    const size_t off = u0 * width, len = (u1 - u0) * width;
    if (len > 0)
      fn(am == FULL ? A + off : A, (int)am, bm == FULL ? B + off : B, (int)bm, C + off, flat ? 1 : u1 - u0, flat ? len : (size_t)inner);
  }
  return NULL;
}

/* ---- tile (broadcastTo) ------------------------------------------------------------------------ */

/* Write x (shape shp[d..]) tiled reps[d..] times into y; returns floats written. */
static size_t tile_rec(const float *x, float *y, const int32_t *shp, const int32_t *reps, int rank, int d) {
  if (d == rank - 1) {
    const size_t n = (size_t)shp[d];
    for (int32_t k = 0; k < reps[d]; k++) memcpy(y + k * n, x, n * sizeof(float));
    return n * (size_t)reps[d];
  }
  size_t inner_in = 1;
  for (int i = d + 1; i < rank; i++) inner_in *= (size_t)shp[i];
  size_t block = 0;
  for (int32_t i = 0; i < shp[d]; i++) block += tile_rec(x + i * inner_in, y + block, shp, reps, rank, d + 1);
  for (int32_t k = 1; k < reps[d]; k++) memcpy(y + k * block, y, block * sizeof(float));
  return block * (size_t)reps[d];
}

/* tile(X, xOff, Y, yOff, shape Int32Array, reps Int32Array) */
static napi_value tile(napi_env env, napi_callback_info info) {
  ARGS(6, "tile");
  const int32_t *arr[2];
  size_t len[2];
  for (int j = 0; j < 2; j++) {
    napi_typedarray_type type;
    void *data;
    napi_value ab;
    size_t off;
    bool is_ta = false;
    napi_is_typedarray(env, a[4 + j], &is_ta);
    if (!is_ta || napi_get_typedarray_info(env, a[4 + j], &type, &len[j], &data, &ab, &off) != napi_ok || type != napi_int32_array) {
      napi_throw_type_error(env, NULL, "prune-at-init native: tile shape and reps must be Int32Arrays");
      return NULL;
    }
    arr[j] = (const int32_t *)data;
  }
  if (len[0] != len[1] || len[0] == 0 || len[0] > 16) {
    napi_throw_range_error(env, NULL, "prune-at-init native: tile shape and reps must have the same rank (1..16)");
    return NULL;
  }
  const int rank = (int)len[0];
  size_t in = 1, out = 1;
  for (int i = 0; i < rank; i++) {
    if (arr[0][i] < 0 || arr[1][i] < 0) { napi_throw_range_error(env, NULL, "prune-at-init native: negative tile dims"); return NULL; }
    in *= (size_t)arr[0][i];
    out *= (size_t)arr[0][i] * (size_t)arr[1][i];
  }
  float *X, *Y;
  if (!get_f32(env, a[0], a[1], in, &X, "x") || !get_f32(env, a[2], a[3], out, &Y, "y")) return NULL;
  if (out > 0) tile_rec(X, Y, arr[0], arr[1], rank, 0);
  return NULL;
}

/* ---- masked dense layers ------------------------------------------------------------------------ */

HOT static void mul_into(const float *restrict a, const float *restrict b, float *restrict c, size_t n) {
  for (size_t i = 0; i < n; i++) c[i] = a[i] * b[i];
}

HOT static void mul_inplace(float *restrict c, const float *restrict b, size_t n) {
  for (size_t i = 0; i < n; i++) c[i] *= b[i];
}

/*
 * maskedMatmul(A, aOff, B, bOff, BM|null, bmOff, C, cOff, CM|null, cmOff, bias|null, biasOff, M, N, K, transA, transB, act)
 * C[M,N] = act(op(A) @ op(B ⊙ BM) + bias) ⊙ CM: a masked dense layer and its gradients in one call each
 * (forward: A = x, B = W, BM = mask; dx: A = dz, B = W, BM = mask, transB; dW: A = x, B = dz, transA,
 * CM = mask; dmask: the same with CM = W). B ⊙ BM goes to the scratch buffer, so no masked copy of
 * the weights is ever a tensor. bias has length N.
 */
static napi_value masked_matmul(napi_env env, napi_callback_info info) {
  ARGS(18, "maskedMatmul");
  int64_t m, n, k, act;
  int ta, tb;
  if (!get_i64(env, a[12], &m, "M") || !get_i64(env, a[13], &n, "N") || !get_i64(env, a[14], &k, "K") ||
      !get_bool(env, a[15], &ta, "transA") || !get_bool(env, a[16], &tb, "transB") || !get_i64(env, a[17], &act, "act"))
    return NULL;
  if (m < 0 || n < 0 || k < 0 || !(act == ACT_LINEAR || act == ACT_RELU || act == ACT_TANH)) {
    napi_throw_range_error(env, NULL, "prune-at-init native: maskedMatmul got bad dimensions or activation");
    return NULL;
  }
  const size_t sa = (size_t)(m * k), sb = (size_t)(k * n), sc = (size_t)(m * n);
  float *A, *B, *C, *BM = NULL, *CM = NULL, *bias = NULL;
  if (!get_f32(env, a[0], a[1], sa, &A, "A") || !get_f32(env, a[2], a[3], sb, &B, "B") || !get_f32(env, a[6], a[7], sc, &C, "C"))
    return NULL;
  if (!is_null(env, a[4]) && !get_f32(env, a[4], a[5], sb, &BM, "BM")) return NULL;
  if (!is_null(env, a[8]) && !get_f32(env, a[8], a[9], sc, &CM, "CM")) return NULL;
  if (!is_null(env, a[10]) && !get_f32(env, a[10], a[11], (size_t)n, &bias, "bias")) return NULL;
  if (sc == 0) return NULL;
  if (k == 0) {
    memset(C, 0, sc * sizeof(float));
  } else {
    const float *b = B;
    if (BM) {
      float *scratch = workspace(sb);
      if (!scratch) { napi_throw_error(env, NULL, "prune-at-init native: out of memory"); return NULL; }
      mul_into(B, BM, scratch, sb);
      b = scratch;
    }
    sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, 1.f, A,
                ta ? (int)m : (int)k, b, tb ? (int)k : (int)n, 0.f, C, (int)n);
  }
  pai_apply_bias_act(C, (size_t)m, (size_t)n, bias, (size_t)n, (int)act, 0.f, NULL, 0);
  if (CM) mul_inplace(C, CM, sc);
  return NULL;
}

/* ---- batch normalisation (training mode) --------------------------------------------------------- */

/* Per-channel sums of X [rows, C] (or of (X - mu)^2 when mu is given) into acc (double). */
HOT static void channel_sums(const float *restrict x, size_t rows, size_t C, const double *restrict mu, double *restrict acc) {
  for (size_t c = 0; c < C; c++) acc[c] = 0;
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * C;
    if (mu) { for (size_t c = 0; c < C; c++) { const double d = (double)xr[c] - mu[c]; acc[c] += d * d; } }
    else { for (size_t c = 0; c < C; c++) acc[c] += xr[c]; }
  }
}

HOT static void bn_apply(const float *restrict x, float *restrict y, size_t rows, size_t C, const float *restrict scale,
                         const float *restrict shift, int relu) {
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * C;
    float *yr = y + r * C;
    if (relu) { for (size_t c = 0; c < C; c++) { const float v = xr[c] * scale[c] + shift[c]; yr[c] = v > 0.f ? v : 0.f; } }
    else { for (size_t c = 0; c < C; c++) yr[c] = xr[c] * scale[c] + shift[c]; }
  }
}

/*
 * Sums over rows in fixed blocks of BN_BLOCK_ROWS: sum(ctx, r0, nr, out) writes the `width` sums of rows
 * [r0, r0 + nr); each block's partial (from any thread) is then added in block order, so the result does
 * not depend on the thread count. 0: out of memory.
 */
typedef void (*RowSums)(const void *ctx, size_t r0, size_t nr, double *out);

static int blocked_sums(RowSums sum, const void *ctx, size_t rows, size_t width, size_t elements, double *out) {
  const size_t nblk = (rows + BN_BLOCK_ROWS - 1) / BN_BLOCK_ROWS;
  if (nblk <= 1) { sum(ctx, 0, rows, out); return 1; }
  double *part = malloc(nblk * width * sizeof(double));
  if (!part) return 0;
  const int nt = loop_threads(elements);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (size_t b = 0; b < nblk; b++) {
    const size_t r0 = b * BN_BLOCK_ROWS;
    sum(ctx, r0, rows - r0 < BN_BLOCK_ROWS ? rows - r0 : BN_BLOCK_ROWS, part + b * width);
  }
  for (size_t j = 0; j < width; j++) {
    double v = part[j];
    for (size_t b = 1; b < nblk; b++) v += part[b * width + j];
    out[j] = v;
  }
  free(part);
  return 1;
}

/* channel_sums over [rows, C] (mu: NULL for sums, else squared deviations), in row blocks */
typedef struct { const float *x; size_t C; const double *mu; } ChannelSums;

static void channel_sums_rows(const void *ctx, size_t r0, size_t nr, double *out) {
  const ChannelSums *k = ctx;
  channel_sums(k->x + r0 * k->C, nr, k->C, k->mu, out);
}

static int channel_sums_blocked(const float *x, size_t rows, size_t C, const double *mu, double *acc) {
  const ChannelSums k = {x, C, mu};
  return blocked_sums(channel_sums_rows, &k, rows, C, rows * C, acc);
}

static void bn_apply_par(const float *x, float *y, size_t rows, size_t C, const float *scale, const float *shift, int relu) {
  const int nt = loop_threads(rows * C);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int t = nt > 1 ? omp_get_thread_num() : 0;
    THREAD_RANGE(rows, t, nt, r0, r1);
    bn_apply(x + r0 * C, y + r0 * C, r1 - r0, C, scale, shift, relu);
  }
}

/*
 * batchNormApply(X, xOff, scale, sOff, shift, hOff, Y, yOff, rows, C, relu): eval-mode BatchNorm, the
 * per-channel affine map Y = act(X * scale + shift) in one pass; each element rounds as the TF.js Multiply
 * then Add it replaces (no FMA contraction: -std=c11), so results are the same bits.
 */
static napi_value batch_norm_apply(napi_env env, napi_callback_info info) {
  ARGS(11, "batchNormApply");
  int64_t rows, C;
  int relu;
  if (!get_i64(env, a[8], &rows, "rows") || !get_i64(env, a[9], &C, "C") || !get_bool(env, a[10], &relu, "relu")) return NULL;
  if (rows < 1 || C < 1) { napi_throw_range_error(env, NULL, "prune-at-init native: batchNormApply got bad dimensions"); return NULL; }
  const size_t n = (size_t)(rows * C);
  float *X, *S, *H, *Y;
  if (!get_f32(env, a[0], a[1], n, &X, "x") || !get_f32(env, a[2], a[3], (size_t)C, &S, "scale") ||
      !get_f32(env, a[4], a[5], (size_t)C, &H, "shift") || !get_f32(env, a[6], a[7], n, &Y, "y"))
    return NULL;
  bn_apply_par(X, Y, (size_t)rows, (size_t)C, S, H, relu);
  return NULL;
}

/*
 * batchNormTrain(X, xOff, gamma, gOff, beta, bOff, Y, yOff, mean, mOff, var, vOff, rows, C, eps, relu)
 * Over X [rows, C]: mean and biased variance per channel (two passes, double accumulators), then
 * Y = act(gamma * (X - mean) / sqrt(var + eps) + beta) with act = relu or identity.
 */
static napi_value batch_norm_train(napi_env env, napi_callback_info info) {
  ARGS(16, "batchNormTrain");
  int64_t rows, C;
  int relu;
  double eps;
  if (!get_i64(env, a[12], &rows, "rows") || !get_i64(env, a[13], &C, "C") || !get_bool(env, a[15], &relu, "relu")) return NULL;
  if (napi_get_value_double(env, a[14], &eps) != napi_ok || rows < 1 || C < 1 || !(eps >= 0)) {
    napi_throw_range_error(env, NULL, "prune-at-init native: batchNormTrain got bad dimensions or eps");
    return NULL;
  }
  const size_t n = (size_t)(rows * C);
  float *X, *G, *B, *Y, *M, *V;
  if (!get_f32(env, a[0], a[1], n, &X, "x") || !get_f32(env, a[2], a[3], (size_t)C, &G, "gamma") ||
      !get_f32(env, a[4], a[5], (size_t)C, &B, "beta") || !get_f32(env, a[6], a[7], n, &Y, "y") ||
      !get_f32(env, a[8], a[9], (size_t)C, &M, "mean") || !get_f32(env, a[10], a[11], (size_t)C, &V, "var"))
    return NULL;
  double *acc = malloc((size_t)C * 2 * sizeof(double));
  float *ss = malloc((size_t)C * 2 * sizeof(float));
  if (!acc || !ss) { free(acc); free(ss); napi_throw_error(env, NULL, "prune-at-init native: out of memory"); return NULL; }
  double *mu = acc + C;
  if (!channel_sums_blocked(X, (size_t)rows, (size_t)C, NULL, mu)) { free(acc); free(ss); napi_throw_error(env, NULL, "prune-at-init native: out of memory"); return NULL; }
  for (int64_t c = 0; c < C; c++) mu[c] /= (double)rows;
  if (!channel_sums_blocked(X, (size_t)rows, (size_t)C, mu, acc)) { free(acc); free(ss); napi_throw_error(env, NULL, "prune-at-init native: out of memory"); return NULL; }
  for (int64_t c = 0; c < C; c++) {
    const double var = acc[c] / (double)rows, inv = 1.0 / sqrt(var + eps);
    M[c] = (float)mu[c];
    V[c] = (float)var;
    ss[c] = (float)(G[c] * inv);
    ss[C + c] = (float)(B[c] - mu[c] * G[c] * inv);
  }
  bn_apply_par(X, Y, (size_t)rows, (size_t)C, ss, ss + C, relu);
  free(acc);
  free(ss);
  return NULL;
}

/* Per-channel sums of dz and dz * xhat (double accumulators); dz = dy, or dy where the relu output y > 0. */
HOT static void bn_grad_sums(const float *restrict x, const float *restrict dy, const float *restrict y, const float *restrict mean,
                             const float *restrict inv, double *restrict sb, double *restrict sg, size_t rows, size_t C) {
  for (size_t c = 0; c < C; c++) { sb[c] = 0; sg[c] = 0; }
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * C, *dr = dy + r * C;
    if (y) {
      const float *yr = y + r * C;
      for (size_t c = 0; c < C; c++) {
        const float dz = yr[c] > 0.f ? dr[c] : 0.f;
        sb[c] += dz;
        sg[c] += dz * ((xr[c] - mean[c]) * inv[c]);
      }
    } else {
      for (size_t c = 0; c < C; c++) {
        const float dz = dr[c];
        sb[c] += dz;
        sg[c] += dz * ((xr[c] - mean[c]) * inv[c]);
      }
    }
  }
}

HOT static void bn_grad_dx(const float *restrict x, const float *restrict dy, const float *restrict y, const float *restrict mean,
                           const float *restrict inv, const float *restrict a1, const float *restrict k1, const float *restrict k2,
                           float *restrict dx, size_t rows, size_t C) {
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * C, *dr = dy + r * C;
    float *o = dx + r * C;
    if (y) {
      const float *yr = y + r * C;
      for (size_t c = 0; c < C; c++) {
        const float dz = yr[c] > 0.f ? dr[c] : 0.f;
        o[c] = a1[c] * dz - k1[c] - (xr[c] - mean[c]) * inv[c] * k2[c];
      }
    } else {
      for (size_t c = 0; c < C; c++) o[c] = a1[c] * dr[c] - k1[c] - (xr[c] - mean[c]) * inv[c] * k2[c];
    }
  }
}

/* bn_grad_sums in row blocks: out[0..C) the sums of dz, out[C..2C) of dz * xhat */
typedef struct { const float *x, *dy, *y, *mean, *inv; size_t C; } GradSums;

static void grad_sums_rows(const void *ctx, size_t r0, size_t nr, double *out) {
  const GradSums *k = ctx;
  const size_t o = r0 * k->C;
  bn_grad_sums(k->x + o, k->dy + o, k->y ? k->y + o : NULL, k->mean, k->inv, out, out + k->C, nr, k->C);
}

/*
 * batchNormGrad(X, xOff, DY, dyOff, Y|null, yOff, gamma, gOff, mean, mOff, var, vOff, DX, dxOff, DG, dgOff, DB, dbOff, rows, C, eps)
 * Gradients of Y = act(gamma * xhat + beta), xhat = (X - mean) / sqrt(var + eps) with batch statistics:
 * dz = DY (masked by Y > 0 when Y, the relu output, is given), DB = sum dz, DG = sum dz * xhat,
 * DX = gamma / sqrt(var + eps) * (dz - DB / rows - xhat * DG / rows).
 */
static napi_value batch_norm_grad(napi_env env, napi_callback_info info) {
  ARGS(21, "batchNormGrad");
  int64_t rows, C;
  double eps;
  if (!get_i64(env, a[18], &rows, "rows") || !get_i64(env, a[19], &C, "C")) return NULL;
  if (napi_get_value_double(env, a[20], &eps) != napi_ok || rows < 1 || C < 1 || !(eps >= 0)) {
    napi_throw_range_error(env, NULL, "prune-at-init native: batchNormGrad got bad dimensions or eps");
    return NULL;
  }
  const size_t n = (size_t)(rows * C);
  float *X, *DY, *Y = NULL, *G, *M, *V, *DX, *DG, *DB;
  if (!get_f32(env, a[0], a[1], n, &X, "x") || !get_f32(env, a[2], a[3], n, &DY, "dy") ||
      (!is_null(env, a[4]) && !get_f32(env, a[4], a[5], n, &Y, "y")) || !get_f32(env, a[6], a[7], (size_t)C, &G, "gamma") ||
      !get_f32(env, a[8], a[9], (size_t)C, &M, "mean") || !get_f32(env, a[10], a[11], (size_t)C, &V, "var") ||
      !get_f32(env, a[12], a[13], n, &DX, "dx") || !get_f32(env, a[14], a[15], (size_t)C, &DG, "dgamma") ||
      !get_f32(env, a[16], a[17], (size_t)C, &DB, "dbeta"))
    return NULL;
  double *sb = malloc((size_t)C * 2 * sizeof(double));
  float *pc = malloc((size_t)C * 4 * sizeof(float));
  if (!sb || !pc) { free(sb); free(pc); napi_throw_error(env, NULL, "prune-at-init native: out of memory"); return NULL; }
  double *sg = sb + C;
  float *inv = pc, *a1 = pc + C, *k1 = pc + 2 * C, *k2 = pc + 3 * C;
  for (int64_t c = 0; c < C; c++) inv[c] = (float)(1.0 / sqrt((double)V[c] + eps));
  const GradSums gs = {X, DY, Y, M, inv, (size_t)C};
  if (!blocked_sums(grad_sums_rows, &gs, (size_t)rows, 2 * (size_t)C, (size_t)rows * (size_t)C, sb)) { free(sb); free(pc); napi_throw_error(env, NULL, "prune-at-init native: out of memory"); return NULL; }
  for (int64_t c = 0; c < C; c++) {
    DB[c] = (float)sb[c];
    DG[c] = (float)sg[c];
    /* DX = a1 * dz - k1 - xhat * k2 per channel: a1 = gamma*inv, k1 = a1*DB/rows, k2 = a1*DG/rows */
    a1[c] = G[c] * inv[c];
    k1[c] = (float)(G[c] * inv[c] * sb[c] / (double)rows);
    k2[c] = (float)(G[c] * inv[c] * sg[c] / (double)rows);
  }
  {
    const int nt = loop_threads((size_t)rows * (size_t)C);
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
      const int t = nt > 1 ? omp_get_thread_num() : 0;
      THREAD_RANGE((size_t)rows, t, nt, r0, r1);
      bn_grad_dx(X + r0 * C, DY + r0 * C, Y ? Y + r0 * C : NULL, M, inv, a1, k1, k2, DX + r0 * C, r1 - r0, (size_t)C);
    }
  }
  free(sb);
  free(pc);
  return NULL;
}

/* ---- fused SGD with momentum (PyTorch semantics) ----------------------------------------------- */

/* Weight decay (wd > 0) adds wd*v to the gradient first, rounded as the separate TF.js Multiply and Add
   it replaces (t = fl(v*wd), then fl(g + t): -std=c11 keeps GCC from contracting them into an FMA), so
   training gives the same numbers bit for bit with one kernel per parameter instead of three. */
HOT static void sgd_momentum_loop(const float *restrict v, const float *restrict s, const float *restrict g, float *restrict v2,
                                  float *restrict s2, size_t n, float lr, float momentum, float wd) {
  for (size_t i = 0; i < n; i++) {
    const float gi = wd != 0.f ? g[i] + v[i] * wd : g[i];
    const float si = momentum * s[i] + gi;
    s2[i] = si;
    v2[i] = v[i] - lr * si;
  }
}

/* sgdMomentum(V, vOff, S, sOff, G, gOff, V2, v2Off, S2, s2Off, n, lr, momentum, wd): g' = g + wd*v; s2 = m*s + g'; v2 = v - lr*s2 */
static napi_value sgd_momentum(napi_env env, napi_callback_info info) {
  ARGS(14, "sgdMomentum");
  int64_t n;
  double lr, momentum, wd;
  if (!get_i64(env, a[10], &n, "n")) return NULL;
  if (n < 0 || napi_get_value_double(env, a[11], &lr) != napi_ok || napi_get_value_double(env, a[12], &momentum) != napi_ok ||
      napi_get_value_double(env, a[13], &wd) != napi_ok || !(wd >= 0)) {
    napi_throw_range_error(env, NULL, "prune-at-init native: sgdMomentum got a bad size, lr, momentum or weight decay");
    return NULL;
  }
  float *V, *S, *G, *V2, *S2;
  if (!get_f32(env, a[0], a[1], (size_t)n, &V, "value") || !get_f32(env, a[2], a[3], (size_t)n, &S, "slot") ||
      !get_f32(env, a[4], a[5], (size_t)n, &G, "grad") || !get_f32(env, a[6], a[7], (size_t)n, &V2, "newValue") ||
      !get_f32(env, a[8], a[9], (size_t)n, &S2, "newSlot"))
    return NULL;
  sgd_momentum_loop(V, S, G, V2, S2, (size_t)n, (float)lr, (float)momentum, (float)wd);
  return NULL;
}

/*
 * Denormal floats (|x| < 1.2e-38) take a microcode assist per operation on x86: a deep tanh MLP whose
 * signal decays through them ran 2x slower than one whose signal stays normal. With the flag on,
 * each kernel runs with MXCSR's flush-to-zero and denormals-are-zero bits set (what PyTorch's
 * torch.set_flush_denormal(True) does) and the caller's MXCSR is restored afterwards, so JS and
 * wasm keep IEEE denormals. Off by default: results below 1.2e-38 become exact zeros. Worker
 * threads of OpenBLAS and OpenMP keep their own MXCSR, so this holds for single-thread runs.
 */
static int flush_denormals = 0;

napi_value pai_call_kernel(napi_env env, napi_callback_info info) {
  void *fn = NULL;
  size_t argc = 0;
  CHECK(napi_get_cb_info(env, info, &argc, NULL, NULL, &fn));
  const napi_callback kernel = (napi_callback)fn;
#if defined(__x86_64__)
  if (flush_denormals) {
    const unsigned int saved = _mm_getcsr();
    _mm_setcsr(saved | 0x8040u); /* FTZ (bit 15) | DAZ (bit 6) */
    napi_value r = kernel(env, info);
    _mm_setcsr(saved);
    return r;
  }
#endif
  return kernel(env, info);
}

/* setFlushDenormals(on) */
static napi_value set_flush_denormals(napi_env env, napi_callback_info info) {
  ARGS(1, "setFlushDenormals");
  int on;
  if (!get_bool(env, a[0], &on, "on")) return NULL;
  flush_denormals = on;
  return NULL;
}

/* setFastConv(on) -> what the 3x3 stride-1 layers run besides im2col + sgemm ("" when off) */
static napi_value set_fast_conv(napi_env env, napi_callback_info info) {
  ARGS(1, "setFastConv");
  int on;
  if (!get_bool(env, a[0], &on, "on")) return NULL;
  fast_on = on;
  const char *what = !on ? "" : pai_direct_supported() ? "direct 3x3 for 8-16 channels, Winograd F(2x2,3x3) for 32-512"
                                                       : "Winograd F(2x2,3x3) for 32-512 channels";
  napi_value r;
  CHECK(napi_create_string_utf8(env, what, NAPI_AUTO_LENGTH, &r));
  return r;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int64_t n;
  if (argc != 1 || !get_i64(env, a[0], &n, "threads")) return NULL;
  if (n < 1 || n > 256) { napi_throw_range_error(env, NULL, "prune-at-init native: threads must be in 1..256"); return NULL; }
  openblas_set_num_threads((int)n);
  blas_threads = blas_threads_now = (int)n;
  pai_sparse_set_threads((int)n);
  return NULL;
}

/* convPaths(dims): which kernel each of a convolution's three computations takes ("direct", "winograd", "pointwise" or "im2col"). */
static napi_value conv_paths(napi_env env, napi_callback_info info) {
  ARGS(1, "convPaths");
  Conv cv;
  if (!get_conv(env, a[0], &cv)) return NULL;
  const char *other = is_pointwise(&cv) ? "pointwise" : "im2col";
  const char *paths[3] = {direct_forward(&cv) ? "direct" : winograd_forward(&cv) ? "winograd" : other,
                          direct_input(&cv) ? "direct" : winograd_forward(&cv) ? "winograd" : other, direct_forward(&cv) ? "direct" : other};
  const char *names[3] = {"forward", "input", "filter"};
  napi_value obj, v;
  CHECK(napi_create_object(env, &obj));
  for (int i = 0; i < 3; i++) {
    CHECK(napi_create_string_utf8(env, paths[i], NAPI_AUTO_LENGTH, &v));
    CHECK(napi_set_named_property(env, obj, names[i], v));
  }
  return obj;
}

static napi_value blas_info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value obj, v;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, obj, "config", v));
  CHECK(napi_create_string_utf8(env, openblas_get_corename(), NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, obj, "core", v));
  CHECK(napi_create_int32(env, blas_threads, &v));
  CHECK(napi_set_named_property(env, obj, "threads", v));
  /* what the load-time clones of the hot loops (HOT, and WIDE in sparse_kernels.c) can use here */
  const char *isa = "default";
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  isa = __builtin_cpu_supports("avx512f") ? "avx512f" : __builtin_cpu_supports("avx2") ? "avx2" : "default";
#endif
  CHECK(napi_create_string_utf8(env, isa, NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, obj, "isa", v));
  return obj;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      EXPORT("matmul", matmul),
      EXPORT("conv2d", conv2d),
      EXPORT("conv2dBackpropInput", conv2d_backprop_input),
      EXPORT("conv2dBackpropFilter", conv2d_backprop_filter),
      EXPORT("convPaths", conv_paths),
      EXPORT("reduce", reduce),
      EXPORT("maxPoolGrad", max_pool_grad),
      EXPORT("tanh", tanh_kernel),
      EXPORT("binary", binary),
      EXPORT("tile", tile),
      EXPORT("sgdMomentum", sgd_momentum),
      EXPORT("maskedMatmul", masked_matmul),
      EXPORT("batchNormTrain", batch_norm_train),
      EXPORT("batchNormApply", batch_norm_apply),
      EXPORT("batchNormGrad", batch_norm_grad),
      EXPORT("setThreads", set_threads),
      EXPORT("setFlushDenormals", set_flush_denormals),
      EXPORT("setFastConv", set_fast_conv),
      EXPORT("info", blas_info),
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  pai_sparse_register(env, exports);
  /* The loader (lib/src/kernels/native.ts, NATIVE_ABI) refuses a build whose ABI differs: a stale
     addon then falls back to the backends' kernels at load instead of failing mid-training. */
  napi_value abi;
  if (napi_create_int32(env, PAI_ADDON_ABI, &abi) != napi_ok || napi_set_named_property(env, exports, "abi", abi) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
