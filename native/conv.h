/* Convolution geometry shared by blas_kernels.c (im2col + sgemm), conv_direct.c and conv_winograd.c. */
#ifndef PAI_CONV_H
#define PAI_CONV_H
#include <stddef.h>

/* NHWC input n x h x w x c, filter kh x kw x c x co, output oh x ow; strides, top/left padding, dilations. */
typedef struct {
  int n, h, w, c, kh, kw, co, oh, ow, sh, sw, pt, pl, dh, dw;
} Conv;

#endif
