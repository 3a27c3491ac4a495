# Sourced by the deploy tests (tests/deploy/*_test.sh) after `set -euo pipefail`: the repo and
# deploy/common.sh, a temp dir with a source and a restored data dir, cleanup on exit, failures
# counted, and Redis started the way deploy/run.sh starts it.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   deploy_test_dirs shidang-backup-test   # tmp, source_dir, restored_dir
#   start_platform_redis "$source_dir"; ... expect_eq 3 "$(q "$source_dir" DBSIZE)" "keys"
#   ((failures == 0))

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$repo/deploy/common.sh"

pids=()        # killed (SIGKILL) at exit: the Redis servers
stop_first=()  # stopped (SIGTERM) and waited for at exit, before the Redis servers: clients
failures=0

# Makes the temp dir $tmp (named after $1) with $source_dir and $restored_dir under it, all gone
# at exit together with every Redis in them.
deploy_test_dirs() {
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")"
  source_dir="$tmp/src"
  restored_dir="$tmp/dst"
  trap deploy_test_cleanup EXIT
}

deploy_test_cleanup() {
  set +e
  local pid dir
  for pid in "${stop_first[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  for dir in "$source_dir" "$restored_dir"; do
    redis-cli -s "$dir/redis.sock" SHUTDOWN NOSAVE >/dev/null 2>&1
  done
  for pid in "${pids[@]}"; do
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  rm -rf "$tmp"
}

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
expect_eq() { # expected actual what
  if [[ "$1" != "$2" ]]; then fail "$3: expected [$1], got [$2]"; fi
}
q() { # data_dir args... : one command, raw reply
  local dir="$1"
  shift
  redis-cli -s "$dir/redis.sock" --raw "$@"
}
start_platform_redis() { # data_dir
  shidang_write_redis_conf "$1" everysec 0
  shidang_start_redis "$1"
  pids+=("$SHIDANG_REDIS_PID")
}
