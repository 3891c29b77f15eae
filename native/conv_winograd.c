/*
 * Winograd F(2x2, 3x3) for wide 3x3 stride-1 'same' convolutions (32 channels and more in and out, where
 * the direct kernels of conv_direct.c do not apply): the forward pass, and the input gradient (the same
 * convolution of dy with the filter flipped in space, its channel axes swapped). Each 2x2 block of outputs
 * comes from a 4x4 block of input: V = B^T d B per input channel, then 16 products V[k] (tiles x C) @
 * U[k] (C x CO) with U = G g G^T per filter, then Y = A^T M A. That is 16 multiply-adds per 4 outputs
 * and input channel instead of 36 (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
 * CVPR 2016). Measured on WRN-16-2's layers, a forward pass is 1.25-1.5x faster than im2col + sgemm
 * (bench/README.md); G's entries (0, 1/2, 1) and B's and A's (0, 1, -1) are exact in float, and the
 * outputs differ from im2col + sgemm by float32 rounding only (tests).
 *
 * Images are cut into chunks fixed by the shapes alone (about 1 MiB of transformed tiles), the threads
 * take whole chunks and each chunk's products run on one OpenBLAS thread: a result does not depend on
 * the thread count.
 */
#include "conv_winograd.h"
#include "napi_util.h"
#include "scratch.h"
#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define WG_CHUNK_FLOATS (1u << 18)
#define WG_MAX_C 512

int pai_winograd_applies(const Conv *cv) {
  return cv->kh == 3 && cv->kw == 3 && cv->sh == 1 && cv->sw == 1 && cv->dh == 1 && cv->dw == 1 && cv->pt == 1 && cv->pl == 1 &&
         cv->oh == cv->h && cv->ow == cv->w && cv->c >= 32 && cv->co >= 32 && cv->c <= WG_MAX_C && cv->co <= WG_MAX_C;
}

/* U[16][C][CO] = G g G^T for every (input, output) channel pair of W[3][3][C][CO]. */
static void filter_transform(const float *W, float *U, int C, int CO) {
  const size_t cc = (size_t)C * CO;
  for (size_t e = 0; e < cc; e++) {
    float g[3][3], t[4][3];
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) g[i][j] = W[(size_t)(i * 3 + j) * cc + e];
    for (int j = 0; j < 3; j++) {
      t[0][j] = g[0][j];
      t[1][j] = 0.5f * (g[0][j] + g[1][j] + g[2][j]);
      t[2][j] = 0.5f * (g[0][j] - g[1][j] + g[2][j]);
      t[3][j] = g[2][j];
    }
    for (int i = 0; i < 4; i++) {
      U[(size_t)(i * 4 + 0) * cc + e] = t[i][0];
      U[(size_t)(i * 4 + 1) * cc + e] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
      U[(size_t)(i * 4 + 2) * cc + e] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
      U[(size_t)(i * 4 + 3) * cc + e] = t[i][2];
    }
  }
}

/* V[16][T][C] for the tiles of images [n0, n0 + nb), tile t = ((n - n0) * th + ti) * tw + tj. */
HOT static void input_transform(const float *X, float *V, int n0, int nb, int H, int Wd, int C, size_t T) {
  const int th = (H + 1) / 2, tw = (Wd + 1) / 2;
  size_t t = 0;
  for (int n = n0; n < n0 + nb; n++) {
    for (int ti = 0; ti < th; ti++) {
      for (int tj = 0; tj < tw; tj++, t++) {
        const float *d[4][4];
        static const float zeros[WG_MAX_C] = {0};
        for (int i = 0; i < 4; i++) {
          const int ih = 2 * ti - 1 + i;
          for (int j = 0; j < 4; j++) {
            const int iw = 2 * tj - 1 + j;
            d[i][j] = ih < 0 || ih >= H || iw < 0 || iw >= Wd ? zeros : X + (((size_t)n * H + ih) * Wd + iw) * C;
          }
        }
        for (int i = 0; i < 4; i++) {
          float *o0 = V + ((size_t)(i * 4 + 0) * T + t) * C, *o1 = V + ((size_t)(i * 4 + 1) * T + t) * C;
          float *o2 = V + ((size_t)(i * 4 + 2) * T + t) * C, *o3 = V + ((size_t)(i * 4 + 3) * T + t) * C;
          /* row i of B^T d: B^T's rows are (1,0,-1,0), (0,1,1,0), (0,-1,1,0), (0,1,0,-1) */
          const int pa = i == 0 ? 0 : 1, pb = i == 0 ? 2 : i == 3 ? 3 : 2;
          const float sa = i == 2 ? -1.f : 1.f, sb = i == 1 || i == 2 ? 1.f : -1.f;
          const float *a0 = d[pa][0], *a1 = d[pa][1], *a2 = d[pa][2], *a3 = d[pa][3];
          const float *b0 = d[pb][0], *b1 = d[pb][1], *b2 = d[pb][2], *b3 = d[pb][3];
          for (int c = 0; c < C; c++) {
            const float r0 = sa * a0[c] + sb * b0[c], r1 = sa * a1[c] + sb * b1[c], r2 = sa * a2[c] + sb * b2[c],
                        r3 = sa * a3[c] + sb * b3[c];
            o0[c] = r0 - r2;
            o1[c] = r1 + r2;
            o2[c] = r2 - r1;
            o3[c] = r1 - r3;
          }
        }
      }
    }
  }
}

/* Y (images [n0, n0 + nb)) = A^T M A per tile, M[16][T][CO]. */
HOT static void output_transform(const float *M, float *Y, int n0, int nb, int H, int Wd, int CO, size_t T) {
  const int th = (H + 1) / 2, tw = (Wd + 1) / 2;
  size_t t = 0;
  float r[2][4][WG_MAX_C];
  for (int n = n0; n < n0 + nb; n++) {
    for (int ti = 0; ti < th; ti++) {
      for (int tj = 0; tj < tw; tj++, t++) {
        for (int j = 0; j < 4; j++) {
          const float *m0 = M + ((size_t)(0 * 4 + j) * T + t) * CO, *m1 = M + ((size_t)(1 * 4 + j) * T + t) * CO;
          const float *m2 = M + ((size_t)(2 * 4 + j) * T + t) * CO, *m3 = M + ((size_t)(3 * 4 + j) * T + t) * CO;
          float *r0 = r[0][j], *r1 = r[1][j];
          for (int o = 0; o < CO; o++) {
            r0[o] = m0[o] + m1[o] + m2[o];
            r1[o] = m1[o] - m2[o] - m3[o];
          }
        }
        for (int i = 0; i < 2; i++) {
          const int oh = 2 * ti + i;
          if (oh >= H) continue;
          float *y0 = Y + (((size_t)n * H + oh) * Wd + 2 * tj) * CO;
          for (int o = 0; o < CO; o++) y0[o] = r[i][0][o] + r[i][1][o] + r[i][2][o];
          if (2 * tj + 1 < Wd) {
            float *y1 = y0 + CO;
            for (int o = 0; o < CO; o++) y1[o] = r[i][1][o] - r[i][2][o] - r[i][3][o];
          }
        }
      }
    }
  }
}

/* This thread's transformed tiles and products of its chunk. */
static _Thread_local Scratch tiles = {NULL, 0};

int pai_winograd_conv(const float *X, const float *W, float *Y, const Conv *cv, int threads, const WinogradEpilogue *ep) {
  const int th = (cv->h + 1) / 2, tw = (cv->w + 1) / 2;
  const size_t per_image = (size_t)th * tw, per_out = (size_t)cv->oh * cv->ow;
  size_t nb = WG_CHUNK_FLOATS / (16 * per_image * (size_t)(cv->c + cv->co));
  if (nb < 1) nb = 1;
  if (nb > (size_t)cv->n) nb = (size_t)cv->n;
  const int chunks = (int)((cv->n + nb - 1) / nb);
  int nt = threads < chunks ? threads : chunks;
  if (nt < 1) nt = 1;
  float *U = malloc((size_t)16 * cv->c * cv->co * sizeof(float));
  if (!U) return 0;
  filter_transform(W, U, cv->c, cv->co);
  int failed = 0;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1) reduction(| : failed)
  for (int ci = 0; ci < chunks; ci++) {
    const int n0 = ci * (int)nb, cnt = n0 + (int)nb <= cv->n ? (int)nb : cv->n - n0;
    const size_t T = per_image * cnt;
    float *V = grow(&tiles, 16 * T * (size_t)(cv->c + cv->co));
    if (!V) { failed = 1; continue; }
    float *M = V + 16 * T * cv->c;
    input_transform(X, V, n0, cnt, cv->h, cv->w, cv->c, T);
    for (int k = 0; k < 16; k++)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)T, cv->co, cv->c, 1.f, V + (size_t)k * T * cv->c, cv->c,
                  U + (size_t)k * cv->c * cv->co, cv->co, 0.f, M + (size_t)k * T * cv->co, cv->co);
    float *yc = Y + (size_t)n0 * per_out * cv->co;
    output_transform(M, Y, n0, cnt, cv->h, cv->w, cv->co, T);
    if (ep) pai_apply_bias_act(yc, cnt * per_out, (size_t)cv->co, ep->bias, (size_t)cv->co, ep->act, ep->alpha, ep->prelu, ep->prelu_len);
  }
  free(U);
  return !failed;
}
