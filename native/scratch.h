/* Per-thread scratch buffers grown on demand (64-byte aligned), shared by the addon's C files. */
#ifndef PAI_SCRATCH_H
#define PAI_SCRATCH_H
#include <stdlib.h>

typedef struct { float *p; size_t cap; } Scratch;

/* s's buffer with room for n floats (contents not kept when it grows); NULL when out of memory. */
static inline float *grow(Scratch *s, size_t n) {
  if (n > s->cap) {
    free(s->p);
    s->p = NULL;
    s->cap = 0;
    if (posix_memalign((void **)&s->p, 64, n * sizeof(float)) != 0) { s->p = NULL; return NULL; }
    s->cap = n;
  }
  return s->p;
}

#endif
