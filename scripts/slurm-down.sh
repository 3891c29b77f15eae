#!/usr/bin/env bash
# Stop the one-node Slurm started by scripts/slurm-up.sh: slurmd, slurmctld, then munged, each by
# the PID recorded in its pid file (never by process name: other Slurm or munge instances on the
# machine are left alone). Waits until each has exited.
set -euo pipefail
SLURM_DIR="${PRUNE_AT_INIT_SLURM_DIR:-/tmp/prune-at-init-slurm}"
stop() {
  local f="$SLURM_DIR/run/$1.pid"
  [ -s "$f" ] || return 0
  local pid; pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$f"
}
stop slurmd
stop slurmctld
stop munged
