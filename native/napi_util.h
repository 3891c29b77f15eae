/*
 * Shared by the addon's C files: the N-API argument helpers (every operand is (buffer, elementOffset),
 * bounds-checked before use; see blas_kernels.c), the activation codes, and the load-time ISA clones.
 */
#ifndef PAI_NAPI_UTIL_H
#define PAI_NAPI_UTIL_H
#define NAPI_VERSION 8
/* The addon's interface version: raise it (and NATIVE_ABI in lib/src/kernels/native.ts) whenever a
   function is added or removed or its arguments change, so a stale build is refused at load. */
#define PAI_ADDON_ABI 4
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Hot elementwise/reduction loops get an AVX2 clone picked at load time where the CPU has it. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HOT __attribute__((target_clones("avx2", "default")))
#else
#define HOT
#endif

enum { ACT_LINEAR = 0, ACT_RELU = 1, ACT_RELU6 = 2, ACT_LEAKYRELU = 3, ACT_SIGMOID = 4, ACT_ELU = 5, ACT_PRELU = 6, ACT_TANH = 7 };

/* c = act(c + bias) row by row; bias and prelu slopes have length 1 or n (broadcast over rows). (blas_kernels.c) */
void pai_apply_bias_act(float *c, size_t rows, size_t n, const float *bias, size_t bias_len, int act, float alpha,
                        const float *prelu, size_t prelu_len);

/* c[i] = act'(y[i]) * dy[i] from the activation's output y (tanh: dy * (1 - y^2); relu: y > 0 ? dy : 0), as
   the binary kernel's OP_TANH_GRAD / OP_RELU_GRAD round it; c must not alias y or dy. (blas_kernels.c) */
void pai_act_grad(int act, const float *y, const float *dy, float *c, size_t n);

/* sparse_kernels.c: its exported functions, and the thread count of its parallel loops. */
void pai_sparse_register(napi_env env, napi_value exports);
void pai_sparse_set_threads(int n);

/*
 * One entry of an exports table: JS name, C function. Every export runs through pai_call_kernel
 * (blas_kernels.c), which flushes denormal floats to zero for the duration of the call when
 * setFlushDenormals(true) asked for it.
 */
napi_value pai_call_kernel(napi_env env, napi_callback_info info);
#define EXPORT(NAME, FN) {NAME, NULL, pai_call_kernel, NULL, NULL, NULL, napi_default, (void *)(FN)}

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error(env, NULL, "prune-at-init native: N-API call failed: " #call); \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

/* The N-API prologue of every exported function: exactly N arguments into a[0..N-1]. */
#define ARGS(N, NAME)                                                                  \
  size_t argc = (N);                                                                   \
  napi_value a[(N)];                                                                   \
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));                            \
  if (argc != (N)) {                                                                   \
    napi_throw_error(env, NULL, "prune-at-init native: " NAME " expects " #N " arguments"); \
    return NULL;                                                                       \
  }

static inline int get_i64(napi_env env, napi_value v, int64_t *out, const char *what) {
  if (napi_get_value_int64(env, v, out) != napi_ok) {
    char msg[160];
    snprintf(msg, sizeof msg, "prune-at-init native: argument '%s' must be a number", what);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

static inline int get_bool(napi_env env, napi_value v, int *out, const char *what) {
  bool b;
  if (napi_get_value_bool(env, v, &b) != napi_ok) {
    char msg[160];
    snprintf(msg, sizeof msg, "prune-at-init native: argument '%s' must be a boolean", what);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  *out = b ? 1 : 0;
  return 1;
}

/* Resolve (buffer, offset) to a float pointer with `need` elements in range. */
static inline int get_f32(napi_env env, napi_value buf, napi_value off, size_t need, float **out, const char *what) {
  char msg[200];
  void *data = NULL;
  size_t bytes = 0;
  bool is_ab = false, is_ta = false;
  napi_is_arraybuffer(env, buf, &is_ab);
  if (is_ab) {
    if (napi_get_arraybuffer_info(env, buf, &data, &bytes) != napi_ok) is_ab = false;
  } else {
    napi_is_typedarray(env, buf, &is_ta);
    if (is_ta) {
      napi_typedarray_type type;
      size_t length;
      napi_value ab;
      size_t byte_offset;
      if (napi_get_typedarray_info(env, buf, &type, &length, &data, &ab, &byte_offset) != napi_ok || type != napi_float32_array) {
        snprintf(msg, sizeof msg, "prune-at-init native: operand '%s' must be a Float32Array or an ArrayBuffer", what);
        napi_throw_type_error(env, NULL, msg);
        return 0;
      }
      bytes = length * sizeof(float);
    }
  }
  if (!is_ab && !is_ta) {
    snprintf(msg, sizeof msg, "prune-at-init native: operand '%s' must be a Float32Array or an ArrayBuffer", what);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  int64_t o;
  if (!get_i64(env, off, &o, what)) return 0;
  size_t avail = bytes / sizeof(float);
  if (o < 0 || (size_t)o > avail || need > avail - (size_t)o || ((uintptr_t)data & 3u) != 0) {
    snprintf(msg, sizeof msg, "prune-at-init native: operand '%s' out of range (offset %lld + %zu floats > %zu)", what,
             (long long)o, need, avail);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  *out = (float *)data + o;
  return 1;
}

static inline int is_null(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t == napi_null || t == napi_undefined;
}

#endif
