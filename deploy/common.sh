# shellcheck shell=bash
# Shared by deploy/*.sh and tests/deploy/*.sh (sourced, not run): the data-dir layout, the Redis we
# start, and the small waits. Callers set `set -euo pipefail` themselves.
#
# Data dir layout (one folder that survives restarts; back it up with deploy/backup.sh):
#   redis/          Redis working dir: appendonlydir/ (the AOF, what Redis loads on start)
#   redis.sock      Redis unix socket (services connect here)
#   redis.conf      generated from deploy/redis.conf.tmpl on every start
#   redis.pid       pid of the running redis-server
#   keys/           principal.key (and the gateway's JWT keys), mode 0600
#   logs/<name>.log one log per process
#   run/<name>.port bound ports written by the processes (--port_file)
#   run.lock        held by deploy/run.sh while the platform runs
#   demo-loaded     marker: demo data was loaded once
#   demo-training-loaded  marker: the demo county's training history was loaded once
#   demo-rotation-loaded  marker: the demo county's rotation history was loaded once

SHIDANG_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

shidang_die() {
  echo "error: $*" >&2
  exit 1
}

shidang_log() {
  echo "[$(date +%H:%M:%S)] $*" >&2
}

# Absolute path of $1 (which need not exist yet).
shidang_abspath() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$PWD/$1" ;;
  esac
}

shidang_redis_sock() { printf '%s\n' "$1/redis.sock"; }

# Succeeds when a redis-server answers PING on the unix socket $1.
shidang_redis_alive() {
  [[ -S "$1" ]] && [[ "$(redis-cli -s "$1" PING 2>/dev/null)" == "PONG" ]]
}

# Succeeds when something (a Redis, or deploy/run.sh) is using data dir $1.
shidang_data_dir_in_use() {
  local data_dir="$1"
  if shidang_redis_alive "$(shidang_redis_sock "$data_dir")"; then return 0; fi
  if [[ -f "$data_dir/redis.pid" ]]; then
    local pid
    pid="$(cat "$data_dir/redis.pid" 2>/dev/null || true)"
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
      grep -q redis-server "/proc/$pid/cmdline" 2>/dev/null; then
      return 0
    fi
  fi
  if [[ -e "$data_dir/run.lock" ]] && ! flock -n "$data_dir/run.lock" true 2>/dev/null; then
    return 0
  fi
  return 1
}

# Writes <data_dir>/redis.conf from deploy/redis.conf.tmpl.
#   $1 data dir (absolute)  $2 appendfsync (everysec|always)  $3 TCP port on 127.0.0.1 (0 = no TCP)
shidang_write_redis_conf() {
  local data_dir="$1" appendfsync="$2" port="$3"
  case "$appendfsync" in
    everysec | always) ;;
    *) shidang_die "--appendfsync must be everysec or always, got '$appendfsync'" ;;
  esac
  [[ "$port" =~ ^[0-9]+$ ]] && ((port <= 65535)) ||
    shidang_die "--redis_port must be a number from 0 to 65535, got '$port'"
  # Redis config values are quoted strings: refuse what would break out of the quotes.
  [[ "$data_dir" != *[\"\\$'\n']* ]] ||
    shidang_die "--data_dir must not contain quotes, backslashes or newlines: $data_dir"
  local sock
  sock="$(shidang_redis_sock "$data_dir")"
  # The kernel limits unix socket paths to 107 bytes.
  ((${#sock} <= 100)) || shidang_die "--data_dir is too long for a unix socket path (${#sock} > 100 bytes): $sock"
  mkdir -p "$data_dir/redis" "$data_dir/logs"
  local conf
  conf="$(<"$SHIDANG_REPO/deploy/redis.conf.tmpl")"
  conf="${conf//@DATA_DIR@/$data_dir}"
  conf="${conf//@APPENDFSYNC@/$appendfsync}"
  conf="${conf//@PORT@/$port}"
  printf '%s\n' "$conf" >"$data_dir/redis.conf.tmp"
  mv "$data_dir/redis.conf.tmp" "$data_dir/redis.conf"
}

# Waits up to $2 seconds (default 10) for Redis on socket $1 to answer PING and finish loading.
shidang_wait_redis() {
  local sock="$1" deadline=$((SECONDS + ${2:-10}))
  while ((SECONDS < deadline)); do
    if shidang_redis_alive "$sock" &&
      redis-cli -s "$sock" INFO persistence 2>/dev/null | grep -q '^loading:0'; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# Starts redis-server for data dir $1 (config already written) in its own session, so a Ctrl-C in the
# terminal reaches only the script that stops things in order. Sets SHIDANG_REDIS_PID.
shidang_start_redis() {
  local data_dir="$1"
  # fd 9 is deploy/run.sh's lock on the data dir: not for redis to hold.
  setsid redis-server "$data_dir/redis.conf" </dev/null >>"$data_dir/logs/redis.log" 2>&1 9>&- &
  SHIDANG_REDIS_PID=$!
  if ! shidang_wait_redis "$(shidang_redis_sock "$data_dir")" 30; then
    kill "$SHIDANG_REDIS_PID" 2>/dev/null || true
    tail -n 20 "$data_dir/logs/redis.log" >&2 || true
    shidang_die "redis-server did not come up; see $data_dir/logs/redis.log"
  fi
}

# Stops Redis on data dir $1 with SHUTDOWN (which fsyncs the AOF) and waits for pid $2 to exit.
shidang_stop_redis() {
  local data_dir="$1" pid="${2:-}"
  redis-cli -s "$(shidang_redis_sock "$data_dir")" SHUTDOWN >/dev/null 2>&1 || true
  if [[ -n "$pid" ]]; then
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      shidang_log "redis-server did not stop in 30 s; sending SIGTERM"
      kill -TERM "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  fi
}
