#!/usr/bin/env bash
# A one-node Slurm (Debian slurm-wlm 22.05 + munge) on this machine, without systemd, for the Slurm
# test and for trying `prune-at-init sweep submit` locally. Idempotent. Must run as root.
#
#   bash scripts/slurm-up.sh --install-only   # apt packages only (scripts/setup.sh calls this)
#   bash scripts/slurm-up.sh                  # install if needed, then start munged, slurmctld, slurmd
#   bash scripts/slurm-down.sh                # stop them (by the PIDs recorded here, never by name)
#
# State lives under $PRUNE_AT_INIT_SLURM_DIR (default /tmp/prune-at-init-slurm): slurm.conf, pid
# files, spool and state directories, logs. The cluster is named after this directory, so a second
# copy started elsewhere is a different cluster (and fails on the ports in use, loudly).
set -euo pipefail
SLURM_DIR="${PRUNE_AT_INIT_SLURM_DIR:-/tmp/prune-at-init-slurm}"
PACKAGES=(slurm-wlm munge)

fail() { echo "slurm-up: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "must run as root (it installs packages and starts system daemons); try: sudo bash $0"

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  # The package scripts start the daemons through invoke-rc.d, which fails without systemd/init
  # scripts running; a policy-rc.d that exits 101 ("action not allowed") makes them skip it.
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; created=1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}" || { [ $created -eq 1 ] && rm -f "$policy"; fail "apt-get install ${missing[*]} failed"; }
  [ $created -eq 1 ] && rm -f "$policy"
  return 0
}

install_packages
[ "${1:-}" = "--install-only" ] && exit 0

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
mkdir -p "$SLURM_DIR"/{state,spool,log,run}
chown -R slurm:slurm "$SLURM_DIR"/{state,spool,log} 2>/dev/null || true

# munge: nothing creates /run/munge without systemd; the key comes with the package.
mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
fi
MUNGE_PID="$SLURM_DIR/run/munged.pid"
if ! alive "$MUNGE_PID"; then
  # munged writes its own pid file (/run/munge/munged.pid); copy it so slurm-down finds it
  runuser -u munge -- /usr/sbin/munged --force
  for _ in $(seq 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
  [ -s /run/munge/munged.pid ] || fail "munged did not start (see /var/log/munge/munged.log)"
  cp /run/munge/munged.pid "$MUNGE_PID"
fi
munge -n | unmunge >/dev/null || fail "munge credential round trip failed"

HOST="$(hostname -s)"
NODE_LINE="$(slurmd -C | head -1)"   # NodeName=<host> CPUs=.. Boards=.. SocketsPerBoard=.. ... RealMemory=..
[[ "$NODE_LINE" == NodeName=* ]] || fail "slurmd -C printed no node line: $NODE_LINE"
NODE="${NODE_LINE%% *}"; NODE="${NODE#NodeName=}"
CONF="$SLURM_DIR/slurm.conf"
cat >"$CONF" <<EOF
# One-node test cluster written by scripts/slurm-up.sh
ClusterName=pai$(echo "$SLURM_DIR" | md5sum | cut -c1-8)
SlurmctldHost=${HOST}(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=600
KillWait=5
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool
SlurmctldPidFile=$SLURM_DIR/run/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/run/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log
SlurmdLogFile=$SLURM_DIR/log/slurmd.log
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
$NODE_LINE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=${NODE} Default=YES MaxTime=INFINITE State=UP
EOF
chown slurm:slurm "$SLURM_DIR/run" 2>/dev/null || true
chmod 777 "$SLURM_DIR/run"
export SLURM_CONF="$CONF"
# The daemons read SLURM_CONF; so do sbatch/squeue (the test and `sweep submit` pass it on).
# -c: a cluster this script starts begins with no jobs (a test killed mid-array must not leave its node busy)
alive "$SLURM_DIR/run/slurmctld.pid" || slurmctld -c -f "$CONF"
alive "$SLURM_DIR/run/slurmd.pid" || slurmd -f "$CONF"
for _ in $(seq 100); do
  state="$(sinfo -h -n "$NODE" -o %t 2>/dev/null || true)"
  [ "$state" = "idle" ] && break
  [ "$state" = "down" ] || [ "$state" = "drain" ] && scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true
  sleep 0.2
done
[ "$(sinfo -h -n "$NODE" -o %t 2>/dev/null)" = "idle" ] || fail "node $NODE did not become idle: $(sinfo 2>&1); logs in $SLURM_DIR/log"
echo "SLURM_CONF=$CONF"
