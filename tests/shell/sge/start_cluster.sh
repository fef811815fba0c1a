#!/usr/bin/env bash
# Starts a one-host Grid Engine cell on localhost so queue.pl can be tested against the real qsub/qstat.
#   bash tests/shell/sge/start_cluster.sh
# Installs Debian's gridengine-master/-exec/-client with apt when missing (needs root; debconf answers are
# preseeded so the install is non-interactive), starts sge_qmaster and sge_execd, and creates what a bare
# cell lacks: this host as submit host, a queue all.q with one slot per CPU, the "smp" parallel environment
# (queue.pl maps --num-threads to -pe smp N), root allowed to run jobs, scheduling within 1 s of a submission
# or a finished job, and no load threshold (a busy test machine would otherwise put the queue in alarm state
# and run nothing).
# Idempotent: when all.q already answers, it returns at once.
# Exit codes: 0 cell up, 2 cannot install (not root and packages missing), 1 anything else.
set -euo pipefail

export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
common=$SGE_ROOT/$SGE_CELL/common
host=$(hostname)
work=$(mktemp -d /tmp/sge-setup.XXXXXX)
trap 'rm -rf "$work"' EXIT

say() { echo "start_cluster.sh: $*" >&2; }

# qconf reports success on stderr too; show its output only when it fails.
quiet() {
  local out
  out=$("$@" 2>&1) || { echo "$out" >&2; return 1; }
}

queue_ready() {
  command -v qstat >/dev/null || return 1
  # A healthy queue instance has an empty "states" column (no "u" unknown, "E" error, "d" disabled...).
  timeout 10 qstat -f -q all.q 2>/dev/null | awk '$1 ~ /^all\.q@/ { found = 1; if (NF > 5) bad = 1 }
    END { exit !(found && !bad) }'
}

install_packages() {
  if command -v qsub >/dev/null && [ -x /usr/lib/gridengine/sge_qmaster ] && [ -x /usr/lib/gridengine/sge_execd ]; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    say "gridengine is not installed and we are not root to install it"; exit 2
  fi
  say "installing gridengine-master, gridengine-exec and gridengine-client with apt-get"
  debconf-set-selections <<EOF
gridengine-common shared/gridengineconfig boolean true
gridengine-common shared/gridenginecell string $SGE_CELL
gridengine-common shared/gridenginemaster string $host
EOF
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    gridengine-master gridengine-exec gridengine-client >/dev/null
}

# Grid Engine refuses clients whose address resolves to another name than the one they call themselves
# ("client IP resolved to host name localhost"), which is what a container's /etc/hosts gives. host_aliases
# tells it both names are this host.
alias_host() {
  echo "$host localhost" >"$common/host_aliases"
  echo "$host" >"$common/act_qmaster"
}

start_daemon() {  # DAEMON INIT_SCRIPT
  pgrep -x "$1" >/dev/null || "/etc/init.d/$2" start >/dev/null
}

wait_for() {  # SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2
  shift 2
  for _ in $(seq 1 "$((seconds * 5))"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  say "$what did not happen within $seconds s; see /var/spool/gridengine/qmaster/messages"; exit 1
}

# Applies a qconf "show" output edited by sed through the matching "modify from file" option.
edit_config() {  # SHOW_OPTION MODIFY_OPTION NAME SED_SCRIPT
  local file=$work/$3
  qconf "$1" >"$file"
  sed -i "$4" "$file"
  (cd "$work" && quiet qconf "$2" "$3")
}

configure_cell() {
  qconf -ss 2>/dev/null | grep -qx "$host" || quiet qconf -as "$host"
  edit_config -sconf -Mconf global 's/^min_uid .*/min_uid 0/; s/^min_gid .*/min_gid 0/'
  edit_config -ssconf -Msconf sched \
    's/^schedule_interval .*/schedule_interval 0:0:1/; s/^flush_\(submit\|finish\)_sec .*/flush_\1_sec 1/'
  if ! qconf -shgrpl 2>/dev/null | grep -qx '@allhosts'; then
    printf 'group_name @allhosts\nhostlist %s\n' "$host" >"$work/allhosts"
    quiet qconf -Ahgrp "$work/allhosts"
  fi
  if ! qconf -spl 2>/dev/null | grep -qx smp; then
    cat >"$work/smp" <<'EOF'
pe_name            smp
slots              9999
user_lists         NONE
xuser_lists        NONE
start_proc_args    NONE
stop_proc_args     NONE
allocation_rule    $pe_slots
control_slaves     FALSE
job_is_first_task  TRUE
urgency_slots      min
accounting_summary FALSE
qsort_args         NONE
EOF
    quiet qconf -Ap "$work/smp"
  fi
  if ! qconf -sql 2>/dev/null | grep -qx all.q; then
    qconf -sq | sed -e 's/^qname .*/qname all.q/' -e 's/^hostlist .*/hostlist @allhosts/' \
      -e "s/^slots .*/slots $(nproc)/" -e 's/^pe_list .*/pe_list smp/' -e 's#^shell .*#shell /bin/bash#' \
      -e 's/^shell_start_mode .*/shell_start_mode unix_behavior/' -e 's/^load_thresholds .*/load_thresholds NONE/' \
      >"$work/all.q"
    quiet qconf -Aq "$work/all.q"
  fi
}

if queue_ready; then
  say "Grid Engine queue all.q already up"
  exit 0
fi
install_packages
alias_host
start_daemon sge_qmaster gridengine-master
wait_for 30 "sge_qmaster answering" qconf -sh
configure_cell
start_daemon sge_execd gridengine-exec
wait_for 60 "all.q@$host becoming available" queue_ready
say "Grid Engine queue all.q@$host is up"
