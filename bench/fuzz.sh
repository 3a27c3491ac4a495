#!/usr/bin/env bash
# libFuzzer over the parsers that read what clients send (issue 14, "A fault suite that stays"):
# the CSV reader (fuzz_csv), the gateway's JSON mapping with its strict check (fuzz_json), bearer
# tokens and key sets (fuzz_jwt) and the HTTP route templates and matching (fuzz_routes). Each
# starts from its seed corpus in tests/fuzz/corpus/<name>/ (copied, so the kept seeds stay small)
# and runs for a bounded time under AddressSanitizer. Prints per target the runs, executions per
# second, coverage (edges) and corpus size; exits non-zero when any target finds a crash, whose
# input libFuzzer leaves in <build-dir>/fuzz-out/<name>/ (crash-*: add it to the seeds once fixed).
#
#   bench/fuzz.sh [build-dir] [seconds-per-target]
#   (build-dir defaults to ./build-fuzz, configured here with clang-14 and -DSHIDANG_FUZZ=ON;
#    seconds default 60; TARGETS="csv json" runs only those)
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
build="$(realpath -m "${1:-$repo/build-fuzz}")"
seconds="${2:-60}"
targets="${TARGETS:-csv json jwt routes}"

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  CC=clang-14 CXX=clang++-14 cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSHIDANG_FUZZ=ON >/dev/null
fi
cmake --build "$build" -j2 $(for t in $targets; do echo --target "fuzz_$t"; done)

failed=0
printf '%-8s %10s %10s %8s %8s %s\n' target runs exec/s edges corpus result
for t in $targets; do
  out="$build/fuzz-out/$t"
  rm -rf "$out/corpus"
  mkdir -p "$out/corpus"
  cp "$repo/tests/fuzz/corpus/$t/"* "$out/corpus/"
  log="$out/fuzz.log"
  result=ok
  if ! (cd "$out" && ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 "$build/tests/fuzz/fuzz_$t" \
      -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 corpus >"$log" 2>&1); then
    result="FAILED (see $log)"
    failed=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  edges=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  corpus=$(ls "$out/corpus" | wc -l)
  printf '%-8s %10s %10s %8s %8s %s\n' "$t" "$runs" "$rate" "$edges" "$corpus" "$result"
done
exit "$failed"
