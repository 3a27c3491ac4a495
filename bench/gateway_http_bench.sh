#!/usr/bin/env bash
# HTTP/JSON front overhead on part 1's read route: GetTeacher of a teacher of the demo county
# (武义县, 1,500 teachers loaded by shidang-demo-load into the real shidang-profile on its own
# redis-server), as GET /v1/teachers/{teacher_id} through the gateway's HTTP/JSON front (token
# check, role, rate limiter off, access log on, JSON out) with wrk, back to back with the same RPC
# sent straight to the service over gRPC with h2load, at 1 and 32 connections, three rounds.
# Reports req/s, p50, p99 and per shape the median ratio HTTP-through-gateway / direct-gRPC of
# req/s (issue 7's target: >= 0.45 at 32 connections).
#
# wrk counts every answer; a run with any non-2xx answer fails. The direct path is checked as in
# bench/gateway_bench.sh (the service's status=OK log lines must equal the requests sent).
#
#   bench/gateway_http_bench.sh [build-dir]
#   (needs shidang-gateway, shidang-profile, shidang-demo-load, shidang-mint,
#    shidang_descriptor_set; ROUNDS=3, DURATION=10 (seconds per wrk run), GATEWAY_FLAGS="..."
#    from the environment)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
DURATION=${DURATION:-10}
GATEWAY=$BUILD/gateway/shidang-gateway
PROFILE=$BUILD/services/profile/shidang-profile
DEMO_LOAD=$BUILD/services/profile/shidang-demo-load
MINT=$BUILD/services/common/shidang-mint
DESC=$BUILD/shidang.desc
for bin in "$GATEWAY" "$PROFILE" "$DEMO_LOAD" "$MINT" "$DESC"; do
  [[ -e $bin ]] || { echo "missing $bin (build shidang-gateway shidang-profile shidang-demo-load shidang-mint shidang_descriptor_set)" >&2; exit 2; }
done
command -v h2load >/dev/null || { echo "h2load not found (apt-get install nghttp2-client)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 2; }
command -v redis-server >/dev/null || { echo "redis-server not found" >&2; exit 2; }

source "$ROOT/bench/lib.sh"

COUNTY=330723
make_bench_keys "$MINT"
TOKEN=$("$MINT" jwt --jwt_keys_file="$WORK/jwt.keys" --role=county_hr --sub=hr-bench \
  --region=$COUNTY --ttl=2h)
PRINCIPAL_HEADERS=$("$MINT" principal --principal_key_file="$WORK/principal.key" --role=county_hr \
  --sub=hr-bench --region=$COUNTY --ttl=2h)
PRINCIPAL_BIN=$(sed -n 's/^x-shidang-principal-bin: //p' <<<"$PRINCIPAL_HEADERS")
PRINCIPAL_SIG=$(sed -n 's/^x-shidang-principal-sig: //p' <<<"$PRINCIPAL_HEADERS")

start_profile_with_demo_county "$PROFILE" "$DEMO_LOAD" profile
"$GATEWAY" --port=0 --port_file="$WORK/gateway.port" --principal_key_file="$WORK/principal.key" \
  --descriptor_set="$DESC" --jwt_keys_file="$WORK/jwt.keys" \
  --backends="shidang.profile.v1.ProfileService=127.0.0.1:$PROFILE_PORT" --rate_per_second=0 \
  --http_port=0 --http_port_file="$WORK/http.port" ${GATEWAY_FLAGS:-} 2>"$WORK/gateway.log" &
GATEWAY_PID=$!
PIDS+=($GATEWAY_PID)
wait_port "$WORK/gateway.port" >/dev/null
HTTP_PORT=$(wait_port "$WORK/http.port")

# GetTeacherRequest{teacher_id} as one gRPC length-prefixed message.
python3 -c 'import sys, struct; t = sys.argv[1].encode(); m = b"\x0a" + bytes([len(t)]) + t
sys.stdout.buffer.write(b"\x00" + struct.pack(">I", len(m)) + m)' "$TEACHER" >"$WORK/body"
ok_lines() { grep -c 'GetTeacher .*status=OK' "$1" || true; }

# wrk's "1.23ms" / "850.00us" / "1.02s" -> milliseconds.
to_ms() { awk '{ v=$1; if (v ~ /us$/) { sub(/us$/,"",v); v/=1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v) }
                 else if (v ~ /s$/) { sub(/s$/,"",v); v*=1000 } printf "%.3f", v }' <<<"$1"; }

run_http() {  # connections
  local c=$1 out rps p50 p99 threads=$(( $1 < 2 ? 1 : 2 ))
  out=$(wrk -t "$threads" -c "$c" -d "${DURATION}s" --latency \
    -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HTTP_PORT/v1/teachers/$TEACHER")
  if grep -q 'Non-2xx' <<<"$out"; then echo "FAIL http: $(grep Non-2xx <<<"$out")" >&2; exit 1; fi
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1=="50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1=="99%" {print $2}' <<<"$out")")
  printf '%-8s %-5s %10s %9s %9s\n' http "$c" "$rps" "$p50" "$p99"
  echo "http $c $rps $p50 $p99" >>"$WORK/results"
}

run_grpc() {  # connections requests
  local c=$1 n=$2 log=$WORK/h2load.log out rps p50 p99 before ok
  rm -f "$log"
  before=$(ok_lines "$WORK/profile.log")
  out=$(h2load -n "$n" -c "$c" -m 1 -d "$WORK/body" --log-file="$log" \
    -H 'content-type: application/grpc' -H 'te: trailers' \
    -H "x-shidang-principal-bin: $PRINCIPAL_BIN" -H "x-shidang-principal-sig: $PRINCIPAL_SIG" \
    "http://127.0.0.1:$PROFILE_PORT/shidang.profile.v1.ProfileService/GetTeacher")
  for _ in $(seq 50); do
    ok=$(( $(ok_lines "$WORK/profile.log") - before )); [[ $ok -ge $n ]] && break; sleep 0.1
  done
  [[ $ok -eq $n ]] || { echo "FAIL grpc: backend logged $ok OK of $n" >&2; exit 1; }
  rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")
  read -r p50 p99 < <(cut -f3 "$log" | sort -n | awk '{v[NR]=$1} END {
      i50=int(NR*0.50); if (i50<1) i50=1; i99=int(NR*0.99); if (i99<1) i99=1;
      printf "%.3f %.3f\n", v[i50]/1000, v[i99]/1000 }')
  printf '%-8s %-5s %10s %9s %9s\n' grpc "$c" "$rps" "$p50" "$p99"
  echo "grpc $c $rps $p50 $p99" >>"$WORK/results"
}

echo "profile on :$PROFILE_PORT (teacher $TEACHER), gateway HTTP on :$HTTP_PORT (pid $GATEWAY_PID)"
# Warm-up: connections and the token cache.
curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HTTP_PORT/v1/teachers/$TEACHER" >/dev/null
: >"$WORK/results"
printf '%-8s %-5s %10s %9s %9s\n' path conns req/s p50_ms p99_ms
for round in $(seq "${ROUNDS:-3}"); do
  for c in 1 32; do
    run_grpc "$c" $(( c == 1 ? 3000 : 20000 ))
    run_http "$c"
  done
done

echo
echo "median over ${ROUNDS:-3} rounds (HTTP/JSON through the gateway vs direct gRPC):"
awk '
  { key=$2; if ($1=="grpc") { g[key]=$3 } else { n[key]++; ratio[key, n[key]] = $3 / g[key] } }
  function median(key, count,   i, j, t, v) {
    for (i = 1; i <= count; i++) v[i] = ratio[key, i]
    for (i = 1; i <= count; i++) for (j = i + 1; j <= count; j++) if (v[j] < v[i]) { t=v[i]; v[i]=v[j]; v[j]=t }
    return v[int((count + 1) / 2)]
  }
  END { for (key in n) printf "  %3s connections: req/s ratio %.2f\n", key, median(key, n[key]) }
' "$WORK/results" | sort -n
