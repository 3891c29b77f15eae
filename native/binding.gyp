{
  "targets": [
    {
      "target_name": "prune_at_init_blas",
      "sources": ["blas_kernels.c", "conv_direct.c", "conv_winograd.c", "sparse_kernels.c"],
      "cflags": ["-O3", "-fno-trapping-math", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fopenmp"],
      "defines": ["_POSIX_C_SOURCE=200809L"],
      "include_dirs": ["/usr/include/x86_64-linux-gnu/openblas-pthread", "/usr/include/openblas"],
      "libraries": ["-lopenblas", "-fopenmp"]
    }
  ]
}
