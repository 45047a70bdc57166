#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the `--slurm` integration test
# (cmd/ssl4dp/slurm_test.go) and for trying `ssl4dp experiment --slurm` by hand. Needs root.
#
#   scripts/slurm_local.sh start DIR   installs Debian's slurm-wlm and munge when missing,
#                                      writes DIR/slurm.conf (this host, its cores, no
#                                      accounting, state and spool under DIR), starts munged
#                                      (unless one answers already), slurmctld and slurmd, and
#                                      waits until sinfo shows the node idle. Prints
#                                      SLURM_CONF=DIR/slurm.conf: export it for sbatch & co.
#   scripts/slurm_local.sh stop DIR    scontrol shutdown, then stops munged if start started it.
#
# The ports are picked at random (SLURM_LOCAL_PORT overrides) so that a leftover cluster or a
# system one does not answer instead. SLURM_LOCAL_CPUS gives the node fewer CPUs than nproc.
# Jobs run as the submitting user; each CPU is one job slot for jobs of cpus-per-task 1.
set -euo pipefail
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
conf="$dir/slurm.conf"

install_missing() {
  local missing=()
  for p in slurm-wlm munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "slurm_local: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # The packages' postinst scripts try to start their services; a container without systemd
  # refuses, which is fine: we start the daemons ourselves.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null || echo "slurm_local: apt-get update failed; trying with the lists we have" >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  }
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND…
  local n=$1 what=$2
  shift 2
  for _ in $(seq "$((n * 5))"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "slurm_local: $what did not happen within ${n}s; logs in $dir" >&2
  return 1
}

munge_answers() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }

start() {
  [ "$(id -u)" -eq 0 ] || { echo "slurm_local: needs root (munged as user munge, slurmd as root)" >&2; exit 1; }
  install_missing
  mkdir -p "$dir/state" "$dir/spool"
  dir=$(cd "$dir" && pwd)
  conf="$dir/slurm.conf"
  if ! munge_answers; then
    if [ ! -s /etc/munge/munge.key ]; then
      mkdir -p /etc/munge
      if command -v mungekey >/dev/null; then mungekey -c -f -k /etc/munge/munge.key; else dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; fi
      chown munge:munge /etc/munge/munge.key
      chmod 400 /etc/munge/munge.key
    fi
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    chmod 755 /run/munge
    runuser -u munge -- /usr/sbin/munged
    touch "$dir/started-munged"
    wait_for 10 "munged answering" munge_answers
  fi
  local host cpus port
  host=$(hostname -s)
  cpus=${SLURM_LOCAL_CPUS:-$(nproc)}
  port=${SLURM_LOCAL_PORT:-$((20000 + RANDOM % 20000))}
  cat >"$conf" <<EOF
# One-node cluster written by scripts/slurm_local.sh: this host, its $cpus CPUs, no accounting.
ClusterName=ssl4dp-local
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=1
# Quick turnover for tests: cancelled jobs get SIGKILL 5 s after SIGTERM; finished jobs stay
# visible to squeue -t all for 10 minutes.
KillWait=5
MinJobAge=600
ReturnToService=2
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$conf"
  /usr/sbin/slurmctld -f "$conf"
  /usr/sbin/slurmd -f "$conf"
  wait_for 30 "the node becoming idle (sinfo)" bash -c "sinfo -h -o '%t' | grep -qx idle"
  echo "SLURM_CONF=$conf"
}

stop() {
  dir=$(cd "$dir" && pwd)
  conf="$dir/slurm.conf"
  if [ -f "$conf" ]; then
    SLURM_CONF="$conf" scontrol shutdown >/dev/null 2>&1 || true
    for pidfile in "$dir/slurmctld.pid" "$dir/slurmd.pid"; do
      [ -f "$pidfile" ] || continue
      pid=$(cat "$pidfile")
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill "$pid" 2>/dev/null || true
    done
  fi
  if [ -f "$dir/started-munged" ] && [ -f /run/munge/munged.pid ]; then
    kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
    rm -f "$dir/started-munged"
  fi
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
