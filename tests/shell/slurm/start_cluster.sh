#!/usr/bin/env bash
# Starts a one-node Slurm cluster on localhost so slurm.pl can be tested against the real sbatch/squeue.
#   bash tests/shell/slurm/start_cluster.sh
# Installs slurm-wlm and munge with apt when they are missing (needs root), writes a minimal slurm.conf for
# this machine (its CPUs and memory, no GPUs), starts munged, slurmctld and slurmd, and waits until sinfo
# reports the node idle. Idempotent: when the node already answers, it returns at once.
# Exit codes: 0 cluster up, 2 cannot install (not root and packages missing), 1 anything else.
set -euo pipefail

conf_dir=/etc/slurm
state_dir=/var/lib/slurm
log_dir=/var/log/slurm
node=$(hostname -s)

say() { echo "start_cluster.sh: $*" >&2; }

node_ready() {
  command -v sinfo >/dev/null || return 1
  local state
  state=$(timeout 10 sinfo -h -n "$node" -o '%T' 2>/dev/null | head -n 1) || return 1
  case $state in idle|mixed|allocated|completing) return 0 ;; *) return 1 ;; esac
}

install_packages() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
      && command -v munged >/dev/null; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    say "slurm-wlm/munge are not installed and we are not root to install them"; exit 2
  fi
  say "installing slurm-wlm and munge with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
}

write_config() {
  local cpus mem_mb
  cpus=$(nproc --all)
  # Leave 10% of the memory to the system so Slurm never marks the node as having too little.
  mem_mb=$(awk '/^MemTotal:/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)
  mkdir -p "$conf_dir" "$state_dir/slurmctld" "$state_dir/slurmd" "$log_dir"
  cat >"$conf_dir/slurm.conf" <<EOF
# Written by phonasr tests/shell/slurm/start_cluster.sh: one node on localhost, for tests only.
ClusterName=phonasr-test
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$state_dir/slurmctld
SlurmdSpoolDir=$state_dir/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$log_dir/slurmctld.log
SlurmdLogFile=$log_dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
MinJobAge=60
MaxArraySize=10001
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF
  # Slurm 22.05 reads cgroup.conf even with cgroup plugins off; a minimal one avoids a startup warning.
  [ -f "$conf_dir/cgroup.conf" ] || echo "CgroupPlugin=autodetect" >"$conf_dir/cgroup.conf"
}

start_munge() {
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /etc/munge/munge.key /run/munge /var/log/munge /var/lib/munge
  chmod 400 /etc/munge/munge.key
  runuser -u munge -- munged
  for _ in $(seq 1 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  say "munged did not come up"; exit 1
}

start_daemons() {
  pgrep -x slurmctld >/dev/null || slurmctld
  pgrep -x slurmd >/dev/null || slurmd
}

wait_ready() {
  for _ in $(seq 1 60); do
    node_ready && return 0
    # A node that was down (e.g. after a restart of this machine) is resumed once slurmd answers.
    scontrol update NodeName="$node" State=RESUME >/dev/null 2>&1 || true
    sleep 1
  done
  say "node $node did not become idle; see $log_dir/slurmctld.log and $log_dir/slurmd.log"
  sinfo -N -l >&2 || true
  exit 1
}

if node_ready; then
  say "Slurm node $node already up"
  exit 0
fi
install_packages
if [ -f "$conf_dir/slurm.conf" ] && ! grep -q '^ClusterName=phonasr-test$' "$conf_dir/slurm.conf"; then
  say "$conf_dir/slurm.conf exists and is not ours; refusing to overwrite a real cluster's configuration"; exit 1
fi
write_config
start_munge
start_daemons
wait_ready
say "Slurm node $node is idle"
