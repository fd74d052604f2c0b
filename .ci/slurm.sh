#!/usr/bin/env bash
# A throw-away one-node Slurm cluster for the Slurm runtime's tests (Debian's packages, run as root, no systemd).
# Usage: bash .ci/slurm.sh start|stop. State, logs and PID files live under $EVALRIG_SLURM_DIR (/tmp/evalrig-ci-slurm).
set -euo pipefail
state_dir=${EVALRIG_SLURM_DIR:-/tmp/evalrig-ci-slurm}
node=$(hostname -s)

start() {
  if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    echo "installing slurmctld slurmd slurm-client munge from the Debian mirror"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
  fi
  # munged refuses to run as root: it runs as the munge user, with the key the package made.
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create
    chown munge:munge /etc/munge/munge.key
    chmod 0600 /etc/munge/munge.key
  fi
  install -d -o munge -g munge -m 0755 /run/munge
  munge -n 2>/dev/null | unmunge >/dev/null 2>&1 || runuser -u munge -- /usr/sbin/munged
  munge -n | unmunge >/dev/null

  if [ -s "$state_dir/slurmctld.pid" ] && kill -0 "$(cat "$state_dir/slurmctld.pid")" 2>/dev/null; then
    echo "slurm already running (state in $state_dir)"
    return 0
  fi
  # proctrack/cgroup is the only tracking that leaves no process of a cancelled job behind on these machines.
  local proctrack=proctrack/linuxproc
  [ -w /sys/fs/cgroup/freezer ] && proctrack=proctrack/cgroup
  mkdir -p "$state_dir/state" "$state_dir/spool" "$state_dir/log"
  cat >/etc/slurm/slurm.conf <<CONF
ClusterName=evalrig-ci
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$state_dir/state
SlurmdSpoolDir=$state_dir/spool
SlurmctldPidFile=$state_dir/slurmctld.pid
SlurmdPidFile=$state_dir/slurmd.pid
SlurmctldLogFile=$state_dir/log/slurmctld.log
SlurmdLogFile=$state_dir/log/slurmd.log
ProctrackType=$proctrack
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$state_dir/log/jobcomp.log
MpiDefault=none
MailProg=/bin/true
GresTypes=gpu
EnforcePartLimits=ALL
ReturnToService=2
KillWait=5
MinJobAge=300
InactiveLimit=0
SlurmdParameters=config_overrides
NodeName=$node NodeAddr=127.0.0.1 NodeHostname=$node CPUs=8 RealMemory=20000 State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
  printf 'CgroupPlugin=autodetect\nConstrainCores=no\nConstrainRAMSpace=no\nConstrainDevices=no\n' >/etc/slurm/cgroup.conf
  slurmctld
  slurmd
  for _ in $(seq 1 150); do
    [ "$(sinfo -h -n "$node" -o %T 2>/dev/null)" = idle ] && break
    sleep 0.1
  done
  if [ "$(sinfo -h -n "$node" -o %T)" != idle ]; then
    sinfo -N -l
    tail -20 "$state_dir"/log/*.log
    exit 1
  fi
  srun --time=1 true
  echo "slurm running: partition debug on $node (state in $state_dir)"
}

# Zombies count as gone: PID 1 here reaps orphans only every few seconds.
alive() { [ -r "/proc/$1/stat" ] && [ "$(cut -d')' -f2 "/proc/$1/stat" | cut -d' ' -f2)" != Z ]; }

stop_pidfile() {
  [ -s "$1" ] || return 0
  local pid
  pid=$(cat "$1")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    alive "$pid" || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

stop() {
  # Jobs outlive their daemons (slurmstepd keeps running): cancel them all first.
  if [ -s "$state_dir/slurmctld.pid" ] && kill -0 "$(cat "$state_dir/slurmctld.pid")" 2>/dev/null; then
    scancel --user="$(id -un)" 2>/dev/null || true
    for _ in $(seq 1 150); do
      [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
  stop_pidfile "$state_dir/slurmd.pid"
  stop_pidfile "$state_dir/slurmctld.pid"
  stop_pidfile /run/munge/munged.pid
  find /sys/fs/cgroup/freezer/slurm_"$node" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  rm -rf "$state_dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
