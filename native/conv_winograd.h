/* Winograd F(2x2, 3x3) convolution for wide 3x3 stride-1 'same' layers (conv_winograd.c). */
#ifndef PAI_CONV_WINOGRAD_H
#define PAI_CONV_WINOGRAD_H
#include "conv.h"

/* Bias and activation applied to each chunk's outputs while they are in cache (pai_apply_bias_act). */
typedef struct {
  const float *bias;
  int act;
  float alpha;
  const float *prelu;
  size_t prelu_len;
} WinogradEpilogue;

/* 1 for a 3x3 stride-1 convolution padded by 1 on every side with 32 to 512 channels in and out. */
int pai_winograd_applies(const Conv *cv);
/* Y = conv(X, W) (+ epilogue) on up to `threads` threads; 0 when out of memory. */
int pai_winograd_conv(const float *X, const float *W, float *Y, const Conv *cv, int threads, const WinogradEpilogue *ep);

#endif
