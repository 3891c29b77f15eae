#!/usr/bin/env bash
# One-time set-up of a fresh Debian machine (idempotent): system packages, then the npm packages
# (which also builds the library and, where OpenBLAS is present, the native kernels).
set -euo pipefail
cd "$(dirname "$0")/.."
APT_PACKAGES=(
  jupyter-nbconvert python3-nbclient jupyter-notebook   # headless notebook execution (tslab kernel)
  dataset-fashion-mnist                                  # Fashion-MNIST IDX files
  libopenblas-dev                                        # native BLAS kernels for TF.js
  chromium                                               # static figure export + HTML rendering test
  python3-numpy                                          # interop test: numpy reads our safetensors
)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# a one-node Slurm for the sweep test (test/slurm.test.ts starts and stops it with scripts/slurm-up.sh / slurm-down.sh)
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO bash scripts/slurm-up.sh --install-only
npm ci
