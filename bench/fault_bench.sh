#!/usr/bin/env bash
# The long fault runs (issue 14): the same code as the CTest fault suite (tests/e2e/fault_test.cc),
# at the sizes that do not fit CI:
#   1. SIGKILLs under a mixed write load through the gateway: WRITES acknowledged writes (default
#      50,000) with KILLS kills (default 17: each service, the gateway and redis-server in turn,
#      appendfsync always), then every write read back (0 lost, 0 doubled) and retried (the same
#      answer, nothing stored twice);
#   2. redis-server stopped for STALL seconds (default 30): every call UNAVAILABLE within the
#      call's Redis budget (~1 s), /readyz 503, and served again after SIGCONT with no restart.
# Each prints its summary lines ("faults: ...", "stall: ..."); the exit status is the tests'.
#
#   bench/fault_bench.sh [build-dir]
#   (build-dir defaults to ./build; it needs tests/e2e_fault_test and the platform's binaries:
#    cmake --build <dir> --target e2e_fault_test; WRITES, KILLS, STALL from the environment)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
TEST=$BUILD/tests/e2e_fault_test
[[ -x "$TEST" ]] || {
  echo "no $TEST: cmake --build $BUILD --target e2e_fault_test" >&2
  exit 2
}
WRITES=${WRITES:-50000}
KILLS=${KILLS:-17}
STALL=${STALL:-30}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
started=$(date +%s)
SHIDANG_FAULT_WRITES=$WRITES SHIDANG_FAULT_KILLS=$KILLS \
  "$TEST" --gtest_filter='KillsUnderLoadTest.*' >"$BUILD/fault_bench_kills.log" 2>&1 || status=1
grep -E '^faults:|FAILED|Failure' "$BUILD/fault_bench_kills.log" | head -40 || true
echo "kills under load: $(($(date +%s) - started)) s (log: $BUILD/fault_bench_kills.log)"

started=$(date +%s)
SHIDANG_STALL_SECONDS=$STALL \
  "$TEST" --gtest_filter='FaultTest.RedisStalled*' >"$BUILD/fault_bench_stall.log" 2>&1 || status=1
grep -E '^stall:|FAILED|Failure' "$BUILD/fault_bench_stall.log" | head -40 || true
echo "stall: $(($(date +%s) - started)) s (log: $BUILD/fault_bench_stall.log)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
