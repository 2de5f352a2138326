#!/usr/bin/env bash
# Starts and stops a one-node Slurm cluster on localhost (Debian 12's slurm-wlm 22.05 and
# munge) for the tests and CI: everything (slurm.conf, state, spool, logs, pid files, the
# munge key and socket) lives in DIR, nothing under /etc/slurm or /etc/munge is read or
# written. Needs root (slurmd starts jobs as their user) and no systemd or cgroups:
# proctrack/pgid (a job is its process group: its orphans die with it, a process that
# calls setsid escapes), task/none, no accounting. `start` waits until the node is idle and
# prints the line that points clients at the cluster; stderr gets the messages.
#
#   eval "$(scripts/slurm-local.sh start DIR)"   # -> export SLURM_CONF=DIR/slurm.conf
#   scripts/slurm-local.sh status DIR            # exit 0 = munged, slurmctld, slurmd run
#   scripts/slurm-local.sh stop DIR              # cancels the jobs, stops all; safe twice
#
# Clients find munged through slurm.conf (AuthInfo=socket=DIR/munge/munge.socket): libmunge
# reads no environment variable, so SLURM_CONF is all a client needs. Finished jobs stay
# visible to `scontrol show job ID` for MinJobAge (300 s) and are appended for good to
# DIR/jobcomp.log (JobId=.. JobState=COMPLETED|FAILED|CANCELLED|TIMEOUT ... ExitCode=..).
# Environment: SLURM_LOCAL_PORT (slurmctld's port, default 16817; slurmd takes a free one
# above it), SLURM_LOCAL_TIMEOUT (seconds to wait for the idle node, default 60),
# SLURM_LOCAL_CRED_EXPIRE (default 10: a requeued job waits this long + 1 s before it may
# start again; Slurm's default is 120).
# DIR is made traversable by all (chmod a+x): munged refuses a socket that is not.
set -euo pipefail

die() { echo "slurm-local: $*" >&2; exit 1; }
usage() { echo "usage: $0 start|stop|status DIR" >&2; exit 2; }
(($# == 2)) || usage
cmd="$1"
[[ "$cmd" == start ]] && mkdir -p "$2"
if [[ ! -d "$2" ]]; then
  [[ "$cmd" == stop ]] && { echo "slurm-local: nothing to stop ('$2' does not exist)" >&2; exit 0; }
  die "no such directory '$2'"
fi
dir="$(cd "$2" && pwd)"
conf="$dir/slurm.conf"
export SLURM_CONF="$conf"
node="$(uname -n)"
node="${node%%.*}"
ctld_port=""

# alive NAME: the pid in DIR's pid file of daemon NAME, if that process still runs as NAME.
alive() {
  local pid
  pid="$(cat "$dir/run/$1.pid" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$1" ]] || return 1
  echo "$pid"
}

# fail NAME MESSAGE: says what failed, shows NAME's log tail, stops what runs, exits 1.
fail() {
  echo "slurm-local: $2" >&2
  [[ -s "$dir/log/$1.log" ]] && { echo "--- tail of $dir/log/$1.log" >&2; tail -n 25 "$dir/log/$1.log" >&2; }
  stop_all
  exit 1
}

# busy PORT: something listens on 127.0.0.1:PORT.
busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p="$1"
  while busy "$p" || [[ "$p" == "${2:-}" ]]; do ((p < $1 + 200)) || die "no free port in $1..$p"; p=$((p + 1)); done
  echo "$p"
}

stop_all() {
  local name pid n
  if alive slurmctld > /dev/null; then  # the jobs' processes belong to no daemon: end them first
    timeout 10 squeue -h -o %i 2>/dev/null | xargs -r timeout 10 scancel 2>/dev/null || true
    for ((n = 0; n < 50; n++)); do [[ -z "$(timeout 5 squeue -h -t running,completing 2>/dev/null)" ]] && break; sleep 0.2; done
  fi
  for name in slurmd slurmctld munged; do
    pid="$(alive "$name")" || continue
    kill -TERM "$pid" 2>/dev/null || true
    for ((n = 0; n < 100; n++)); do [[ -d "/proc/$pid" ]] || break; sleep 0.1; done
    [[ -d "/proc/$pid" ]] && { echo "slurm-local: $name ($pid) ignored SIGTERM; killing it" >&2; kill -KILL "$pid" 2>/dev/null || true; }
  done
  return 0
}

write_conf() {
  local cpus mem slurmd_port
  cpus="$(nproc)"
  mem="$(awk '/^MemAvailable:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)"
  ctld_port="$(free_port "${SLURM_LOCAL_PORT:-16817}")"
  slurmd_port="$(free_port $((ctld_port + 1)) "$ctld_port")"
  cat > "$conf" << EOF
# Written by scripts/slurm-local.sh: a one-node cluster in $dir.
ClusterName=dfblocal
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=${SLURM_LOCAL_CRED_EXPIRE:-10}
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.log
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
JobRequeue=1
MinJobAge=300
SchedulerParameters=sched_interval=2  # the main scheduler every 2 s, not 60: dependents start soon
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
  local name pid state="" deadline t0="$EPOCHREALTIME"
  for name in munged slurmctld slurmd sinfo; do
    command -v "$name" > /dev/null || die "'$name' is missing: apt-get install slurm-wlm munge (scripts/setup.sh)"
  done
  [[ "$(id -u)" == 0 ]] || die "must run as root (slurmd runs jobs as their users)"
  for name in munged slurmctld slurmd; do
    pid="$(alive "$name")" && die "$name already runs from $dir (pid $pid); stop it first"
  done
  # Unix socket paths (munge's, slurmd's per step in the spool) must stay under 108 bytes.
  ((${#dir} <= 60)) || die "DIR '$dir' is too long for unix socket paths (60 characters at most)"
  mkdir -p "$dir"/{munge,state,spool,log,run}
  chmod a+x "$dir" && chmod 755 "$dir/munge"
  [[ -f "$dir/munge/munge.key" ]] || dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/munge/munge.key"
  write_conf

  munged --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/run/munged.pid" --seed-file="$dir/munge/munged.seed" \
    --log-file="$dir/log/munged.log" < /dev/null >> "$dir/log/munged.log" 2>&1 ||
    fail munged "munged did not start (its parent directories must be traversable by all)"
  slurmctld -f "$conf" < /dev/null >> "$dir/log/slurmctld.log" 2>&1 || fail slurmctld "slurmctld did not start"
  slurmd -f "$conf" -N "$node" < /dev/null >> "$dir/log/slurmd.log" 2>&1 || fail slurmd "slurmd did not start"

  deadline=$((SECONDS + ${SLURM_LOCAL_TIMEOUT:-60}))
  while ((SECONDS < deadline)); do
    for name in munged slurmctld slurmd; do alive "$name" > /dev/null || fail "$name" "$name exited"; done
    state="$(sinfo -h -n "$node" -o %T 2>/dev/null || true)"
    [[ "$state" == idle ]] && break
    sleep 0.5
  done
  [[ "$state" == idle ]] || fail slurmd "node $node is '${state:-unknown}', not idle, after ${SLURM_LOCAL_TIMEOUT:-60} s"
  echo "export SLURM_CONF=$conf" | tee "$dir/env"
  echo "slurm-local: node $node idle after $(((${EPOCHREALTIME/[.,]/} - ${t0/[.,]/}) / 1000)) ms (slurmctld on 127.0.0.1:$ctld_port)" >&2
}

case "$cmd" in
  start) start ;;
  stop)
    stop_all
    echo "slurm-local: stopped $dir" >&2 ;;
  status)
    out="" ok=1
    for name in munged slurmctld slurmd; do
      if pid="$(alive "$name")"; then out+=" $name=$pid"; else out+=" $name=down"; ok=0; fi
    done
    ((ok)) && out+=" node $node $(sinfo -h -n "$node" -o %T 2>/dev/null || echo '?')"
    echo "slurm-local: $( ((ok)) && echo running || echo 'not running'):$out"
    ((ok)) ;;
  *) usage ;;
esac
