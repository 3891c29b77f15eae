/*
 * Direct 3x3 convolutions (stride 1, padding 1 on every side, NHWC) for narrow layers: 8 or 16 output
 * channels from at most 16 input channels, the first stages of WRN-16-0.5 and ResNet-20. There, im2col +
 * sgemm multiplies [pixels x 9C] by [9C x 8-16] and OpenBLAS runs such narrow products at a quarter to
 * half of its speed (bench/README.md, "Would a direct convolution close the conv gap?"). Here a register
 * tile of P output pixels x all output channels (8 pixels x 8, or 6 x 16) accumulates over (kh, kw, c)
 * with AVX2 FMAs straight from a zero-padded copy of the image.
 *
 * The input gradient of such a layer is the same convolution of dy with the filter flipped in space and
 * its channel axes swapped; the filter gradient accumulates x (x) dy over an image's pixels in tiles of
 * 8 (or 6) filter rows x all output channels. Every output is a sum in a fixed order (kh, kw, c for a
 * pixel; images, then pixels, for the filter gradient), whatever the thread count.
 *
 * Compiled for AVX2 + FMA as function targets, used only where the CPU reports both at run time.
 */
#include "conv_direct.h"
#include "scratch.h"
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#define PAI_DIRECT 1
#define DC __attribute__((target("avx2,fma")))
#define DC_INLINE DC static inline __attribute__((always_inline))
#endif

int pai_direct_supported(void) {
#ifdef PAI_DIRECT
  static int known = -1;
  if (known < 0) {
    __builtin_cpu_init();
    known = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }
  return known;
#else
  return 0;
#endif
}

int pai_direct_geometry(const Conv *cv) {
  return cv->kh == 3 && cv->kw == 3 && cv->sh == 1 && cv->sw == 1 && cv->dh == 1 && cv->dw == 1 && cv->pt == 1 && cv->pl == 1 &&
         cv->oh == cv->h && cv->ow == cv->w;
}

int pai_direct_shape(int c, int co) { return (co == 8 || co == 16) && c >= 1 && c <= 16; }

/* Output pixels per register tile: 8 x one vector of 8 channels, or 6 x two (12 accumulators of 16 registers). */
static int tile_pixels(int co) { return co == 8 ? 8 : 6; }

/* This thread's zero-padded image: (h + 2) rows of wp pixels. */
static _Thread_local Scratch padding = {NULL, 0};

static float *pad_image(const float *x, int h, int w, int c, int wp) {
  float *padded = grow(&padding, (size_t)(h + 2) * wp * c);
  if (!padded) return NULL;
  const size_t rs = (size_t)wp * c;
  memset(padded, 0, rs * sizeof(float));
  memset(padded + (size_t)(h + 1) * rs, 0, rs * sizeof(float));
  for (int i = 0; i < h; i++) {
    float *row = padded + (size_t)(i + 1) * rs;
    memset(row, 0, (size_t)c * sizeof(float));
    memcpy(row + c, x + (size_t)i * w * c, (size_t)w * c * sizeof(float));
    memset(row + (size_t)(w + 1) * c, 0, (size_t)(wp - w - 1) * c * sizeof(float));
  }
  return padded;
}

void pai_direct_flip(const float *W, float *Wf, int c, int co) {
  for (int kh = 0; kh < 3; kh++)
    for (int kw = 0; kw < 3; kw++)
      for (int ci = 0; ci < c; ci++)
        for (int o = 0; o < co; o++)
          Wf[((size_t)((2 - kh) * 3 + (2 - kw)) * co + o) * c + ci] = W[((size_t)(kh * 3 + kw) * c + ci) * co + o];
}

#ifdef PAI_DIRECT
/* P output pixels (valid of them stored) x NV vectors of 8 channels, from the padded image at the tile's top-left. */
DC_INLINE void fwd_tile(const float *xp, size_t rs, int c, const float *w, float *y, int co, const int P, const int NV, int valid) {
  __m256 acc[8][2];
  for (int p = 0; p < P; p++)
    for (int v = 0; v < NV; v++) acc[p][v] = _mm256_setzero_ps();
  for (int kh = 0; kh < 3; kh++) {
    for (int kw = 0; kw < 3; kw++) {
      const float *xr = xp + kh * rs + (size_t)kw * c;
      const float *wk = w + (size_t)(kh * 3 + kw) * c * co;
      for (int ci = 0; ci < c; ci++) {
        const __m256 w0 = _mm256_loadu_ps(wk + (size_t)ci * co);
        const __m256 w1 = NV > 1 ? _mm256_loadu_ps(wk + (size_t)ci * co + 8) : w0;
        for (int p = 0; p < P; p++) {
          const __m256 b = _mm256_broadcast_ss(xr + (size_t)p * c + ci);
          acc[p][0] = _mm256_fmadd_ps(b, w0, acc[p][0]);
          if (NV > 1) acc[p][1] = _mm256_fmadd_ps(b, w1, acc[p][1]);
        }
      }
    }
  }
  if (valid == P) {
    for (int p = 0; p < P; p++)
      for (int v = 0; v < NV; v++) _mm256_storeu_ps(y + (size_t)p * co + v * 8, acc[p][v]);
  } else {
    float tmp[8 * 16];
    for (int p = 0; p < P; p++)
      for (int v = 0; v < NV; v++) _mm256_storeu_ps(tmp + p * co + v * 8, acc[p][v]);
    memcpy(y, tmp, (size_t)valid * co * sizeof(float));
  }
}

DC static void fwd_rows(const float *xp, int h, int w, int c, int wp, const float *wt, int co, float *y) {
  const size_t rs = (size_t)wp * c;
  for (int i = 0; i < h; i++) {
    const float *xrow = xp + (size_t)i * rs;
    float *yrow = y + (size_t)i * w * co;
    if (co == 8) {
      for (int j = 0; j < w; j += 8) fwd_tile(xrow + (size_t)j * c, rs, c, wt, yrow + (size_t)j * co, co, 8, 1, w - j < 8 ? w - j : 8);
    } else {
      for (int j = 0; j < w; j += 6) fwd_tile(xrow + (size_t)j * c, rs, c, wt, yrow + (size_t)j * co, co, 6, 2, w - j < 6 ? w - j : 6);
    }
  }
}

/* Filter rows r0 .. r0 + R - 1 (row r = (kh * 3 + kw) * c + ci) x NV vectors: part += sum over the image's pixels. */
DC_INLINE void dw_tile(const float *xp, size_t rs, int h, int w, int c, const float *dy, int co, float *part, int r0, const int R,
                       const int NV) {
  __m256 acc[8][2];
  size_t off[8];
  for (int q = 0; q < R; q++) {
    const int r = r0 + q, k = r / c, ci = r % c;
    off[q] = (size_t)(k / 3) * rs + (size_t)(k % 3) * c + ci;
    for (int v = 0; v < NV; v++) acc[q][v] = _mm256_loadu_ps(part + (size_t)r * co + v * 8);
  }
  for (int i = 0; i < h; i++) {
    const float *xrow = xp + (size_t)i * rs;
    const float *drow = dy + (size_t)i * w * co;
    for (int j = 0; j < w; j++) {
      const float *xpix = xrow + (size_t)j * c;
      const __m256 d0 = _mm256_loadu_ps(drow + (size_t)j * co);
      const __m256 d1 = NV > 1 ? _mm256_loadu_ps(drow + (size_t)j * co + 8) : d0;
      for (int q = 0; q < R; q++) {
        const __m256 b = _mm256_broadcast_ss(xpix + off[q]);
        acc[q][0] = _mm256_fmadd_ps(b, d0, acc[q][0]);
        if (NV > 1) acc[q][1] = _mm256_fmadd_ps(b, d1, acc[q][1]);
      }
    }
  }
  for (int q = 0; q < R; q++)
    for (int v = 0; v < NV; v++) _mm256_storeu_ps(part + (size_t)(r0 + q) * co + v * 8, acc[q][v]);
}

/* The remaining rows of a tile: R is a constant in each branch, so the accumulators stay in registers. */
#define DW_TAIL(NV, R)                                                                                                              \
  case R:                                                                                                                           \
    dw_tile(xp, rs, h, w, c, dy, co, part, r, R, NV);                                                                               \
    break

DC static void dw_rows(const float *xp, int h, int w, int c, int wp, const float *dy, int co, float *part) {
  const size_t rs = (size_t)wp * c;
  const int rows = 9 * c;
  int r = 0;
  if (co == 8) {
    for (; r + 8 <= rows; r += 8) dw_tile(xp, rs, h, w, c, dy, co, part, r, 8, 1);
    switch (rows - r) { DW_TAIL(1, 1); DW_TAIL(1, 2); DW_TAIL(1, 3); DW_TAIL(1, 4); DW_TAIL(1, 5); DW_TAIL(1, 6); DW_TAIL(1, 7); default: break; }
  } else {
    for (; r + 6 <= rows; r += 6) dw_tile(xp, rs, h, w, c, dy, co, part, r, 6, 2);
    switch (rows - r) { DW_TAIL(2, 1); DW_TAIL(2, 2); DW_TAIL(2, 3); DW_TAIL(2, 4); DW_TAIL(2, 5); default: break; }
  }
}
#endif

int pai_direct_conv_image(const float *x, const float *wt, float *y, int h, int w, int c, int co) {
#ifdef PAI_DIRECT
  const int P = tile_pixels(co), wp = (w + P - 1) / P * P + 2;
  const float *xp = pad_image(x, h, w, c, wp);
  if (!xp) return 0;
  fwd_rows(xp, h, w, c, wp, wt, co, y);
  return 1;
#else
  return 0;
#endif
}

int pai_direct_filter_image(const float *x, const float *dy, float *part, int h, int w, int c, int co) {
#ifdef PAI_DIRECT
  const int wp = w + 2;
  const float *xp = pad_image(x, h, w, c, wp);
  if (!xp) return 0;
  dw_rows(xp, h, w, c, wp, dy, co, part);
  return 1;
#else
  return 0;
#endif
}
