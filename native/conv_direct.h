/* The direct 3x3 convolution kernels (conv_direct.c). */
#ifndef PAI_CONV_DIRECT_H
#define PAI_CONV_DIRECT_H
#include "conv.h"

/* 1 where the CPU has AVX2 and FMA (checked once). */
int pai_direct_supported(void);
/* 1 for a 3x3 stride-1 convolution padded by 1 on every side (TF.js's 'same' for 3x3). */
int pai_direct_geometry(const Conv *cv);
/* 1 where the direct kernels take c input channels to co outputs (co 8 or 16, c at most 16). */
int pai_direct_shape(int c, int co);
/* The input gradient's filter: Wf[2-kh][2-kw][o][ci] = W[kh][kw][ci][o] (a conv from co channels to c). */
void pai_direct_flip(const float *W, float *Wf, int c, int co);
/* One image: y (h x w x co) = conv(x (h x w x c), wt); 0 when out of memory. */
int pai_direct_conv_image(const float *x, const float *wt, float *y, int h, int w, int c, int co);
/* One image: part (9c x co) += its filter gradient; 0 when out of memory. */
int pai_direct_filter_image(const float *x, const float *dy, float *part, int h, int w, int c, int co);

#endif
