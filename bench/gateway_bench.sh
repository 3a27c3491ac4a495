#!/usr/bin/env bash
# Gateway overhead: the same unary RPC (the test echo service's Echo, a real service on the shared
# bootstrap) straight to the service and through shidang-gateway (authentication, role check, rate
# limiter and access log on), back to back, with h2load at 1 connection x 1 stream, 32 x 1 and
# 4 x 32, three rounds. Reports req/s, p50, p99 (from h2load's per-request log), the gateway's CPU
# time per request (utime+stime from /proc/<pid>/stat before and after), and per shape the median
# ratio gateway/direct of req/s and the median p50 added.
#
# h2load counts HTTP 200 as success, but gRPC errors are HTTP 200 too: every run is checked by
# counting the backend's (and the gateway's) own log lines with status=OK, which must equal the
# number of requests sent.
#
#   bench/gateway_bench.sh [build-dir] [requests-scale]
#   (build-dir defaults to ./build; needs shidang-gateway, shidang-echo-server, shidang-mint,
#    shidang.desc; requests-scale multiplies the request counts, default 1; ROUNDS=3 and
#    GATEWAY_FLAGS="..." (extra gateway flags) from the environment)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
SCALE=${2:-1}
GATEWAY=$BUILD/gateway/shidang-gateway
ECHO=$BUILD/tests/shidang-echo-server
MINT=$BUILD/services/common/shidang-mint
for bin in "$GATEWAY" "$ECHO" "$MINT" "$BUILD/shidang.desc"; do
  [[ -e $bin ]] || { echo "missing $bin (build shidang-gateway shidang-echo-server shidang-mint shidang_descriptor_set)" >&2; exit 2; }
done
command -v h2load >/dev/null || { echo "h2load not found (apt-get install nghttp2-client)" >&2; exit 2; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Keys and credentials, from our own tool.
"$MINT" keygen --out="$WORK/principal.key" >/dev/null
"$MINT" keygen --kid=bench --out="$WORK/jwt.keys" >/dev/null
TOKEN=$("$MINT" jwt --jwt_keys_file="$WORK/jwt.keys" --role=teacher --sub=t-bench --ttl=2h)
PRINCIPAL_HEADERS=$("$MINT" principal --principal_key_file="$WORK/principal.key" --role=teacher \
  --sub=t-bench --ttl=2h)
PRINCIPAL_BIN=$(sed -n 's/^x-shidang-principal-bin: //p' <<<"$PRINCIPAL_HEADERS")
PRINCIPAL_SIG=$(sed -n 's/^x-shidang-principal-sig: //p' <<<"$PRINCIPAL_HEADERS")

# The echo service as a public API: the same service and method names as tests/kit/testing.proto,
# with the roles option a real service declares (the gateway never decodes the messages).
mkdir -p "$WORK/protos/bench"
cat >"$WORK/protos/bench/echo_public.proto" <<'PROTO'
syntax = "proto3";
package shidang.testing.v1;
import "shidang/common/v1/options.proto";
service EchoService {
  rpc Echo(EchoRequest) returns (EchoResponse) {
    option (shidang.common.v1.roles) = ROLE_TEACHER;
    option (shidang.common.v1.idempotent) = true;
  }
}
message EchoRequest { string text = 1; int32 sleep_ms = 2; }
message EchoResponse { string text = 1; string actor = 2; string request_id = 3; string today = 4; }
PROTO
protoc --include_imports -I "$ROOT/protos" -I "$WORK/protos" \
  --descriptor_set_out="$WORK/bench.desc" bench/echo_public.proto

wait_port() {  # file -> port
  for _ in $(seq 100); do [[ -s $1 ]] && { cat "$1"; return; }; sleep 0.1; done
  echo "no port in $1" >&2; exit 1
}

# --max_threads: the sync server answers RESOURCE_EXHAUSTED when its pool is used up (seen at 128
# with 4 x 32 streams through the gateway); 1024 so that neither path
# is limited by the backend's pool (the gateway multiplexes 128 streams onto its connection).
"$ECHO" --port=0 --port_file="$WORK/echo.port" --principal_key_file="$WORK/principal.key" \
  --max_threads=1024 \
  2>"$WORK/echo.log" &
PIDS+=($!)
ECHO_PORT=$(wait_port "$WORK/echo.port")
"$GATEWAY" --port=0 --port_file="$WORK/gateway.port" --principal_key_file="$WORK/principal.key" \
  --descriptor_set="$WORK/bench.desc" --jwt_keys_file="$WORK/jwt.keys" \
  --backends="shidang.testing.v1.EchoService=127.0.0.1:$ECHO_PORT" --rate_per_second=0 \
  ${GATEWAY_FLAGS:-} 2>"$WORK/gateway.log" &
GATEWAY_PID=$!
PIDS+=($GATEWAY_PID)
GATEWAY_PORT=$(wait_port "$WORK/gateway.port")

# EchoRequest{text: "hello"} as one gRPC length-prefixed message.
printf '\x00\x00\x00\x00\x07\x0a\x05hello' >"$WORK/body"
PATH_ECHO=/shidang.testing.v1.EchoService/Echo

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ok_lines() { grep -c 'status=OK' "$1" || true; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))

# run <label> <port> <connections> <streams> <requests> <headers...>; prints one result line.
run() {
  local label=$1 port=$2 c=$3 m=$4 n=$5; shift 5
  local log=$WORK/h2load.$label.$c.$m.log
  rm -f "$log"  # h2load appends
  local echo_ok_before gw_ok_before cpu_before out
  echo_ok_before=$(ok_lines "$WORK/echo.log")
  gw_ok_before=$(ok_lines "$WORK/gateway.log")
  cpu_before=$(cpu_ticks "$GATEWAY_PID")
  out=$(h2load -n "$n" -c "$c" -m "$m" -d "$WORK/body" --log-file="$log" \
    -H 'content-type: application/grpc' -H 'te: trailers' "$@" \
    "http://127.0.0.1:$port$PATH_ECHO")
  local cpu_after echo_ok gw_ok rps succeeded p50 p99 cpu_us
  cpu_after=$(cpu_ticks "$GATEWAY_PID")
  # Log lines are written when each call is done, which may trail the response a little.
  for _ in $(seq 50); do
    echo_ok=$(( $(ok_lines "$WORK/echo.log") - echo_ok_before ))
    gw_ok=$(( $(ok_lines "$WORK/gateway.log") - gw_ok_before ))
    [[ $echo_ok -ge $n && ( $label != gateway* || $gw_ok -ge $n ||
       ${GATEWAY_FLAGS:-} == *access_log=false* ) ]] && break
    sleep 0.1
  done
  rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")
  succeeded=$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' <<<"$out")
  read -r p50 p99 < <(cut -f3 "$log" | sort -n | awk '{v[NR]=$1} END {
      i50=int(NR*0.50); if (i50<1) i50=1; i99=int(NR*0.99); if (i99<1) i99=1;
      printf "%.3f %.3f\n", v[i50]/1000, v[i99]/1000 }')
  if [[ $label == gateway* ]]; then
    cpu_us=$(( (cpu_after - cpu_before) * TICK_US / n ))
    [[ ${GATEWAY_FLAGS:-} == *access_log=false* || $gw_ok -eq $n ]] || {
      echo "FAIL $label: gateway logged $gw_ok OK of $n; statuses:" >&2
      grep -o 'status=[A-Z_]*' "$WORK/gateway.log" | sort | uniq -c >&2
      exit 1
    }
  else
    cpu_us=-
  fi
  [[ $succeeded -eq $n ]] || { echo "FAIL $label: h2load: $succeeded of $n succeeded" >&2; exit 1; }
  [[ $echo_ok -eq $n ]] || { echo "FAIL $label: backend logged $echo_ok grpc OK of $n" >&2; exit 1; }
  printf '%-8s %-5s %-6s %10s %9s %9s %8s\n' "$label" "${c}x$m" "$n" "$rps" "$p50" "$p99" "$cpu_us"
  echo "$label ${c}x$m $rps $p50 $p99" >>"$WORK/results"
}

echo "echo on :$ECHO_PORT, gateway on :$GATEWAY_PORT (pid $GATEWAY_PID); checking grpc-status via logs"
# Warm up both paths (connections, token cache).
run direct "$ECHO_PORT" 1 1 200 -H "x-shidang-principal-bin: $PRINCIPAL_BIN" \
  -H "x-shidang-principal-sig: $PRINCIPAL_SIG" >/dev/null
run gateway "$GATEWAY_PORT" 1 1 200 -H "authorization: Bearer $TOKEN" >/dev/null
: >"$WORK/results"

printf '%-8s %-5s %-6s %10s %9s %9s %8s\n' path shape reqs req/s p50_ms p99_ms gw_cpu_us
for round in $(seq "${ROUNDS:-3}"); do
  for shape in "1 1 $((3000 * SCALE))" "32 1 $((20000 * SCALE))" "4 32 $((40000 * SCALE))"; do
    read -r c m n <<<"$shape"
    run direct "$ECHO_PORT" "$c" "$m" "$n" -H "x-shidang-principal-bin: $PRINCIPAL_BIN" \
      -H "x-shidang-principal-sig: $PRINCIPAL_SIG"
    run gateway "$GATEWAY_PORT" "$c" "$m" "$n" -H "authorization: Bearer $TOKEN"
  done
done

echo
echo "median over ${ROUNDS:-3} rounds (gateway vs direct):"
awk '
  { key=$2; if ($1=="direct") { d_rps[key]=$3; d_p50[key]=$4 } else {
      n[key]++; ratio[key, n[key]] = $3 / d_rps[key]; added[key, n[key]] = $4 - d_p50[key] } }
  function median(arr, key, count,   i, j, t, v) {
    for (i = 1; i <= count; i++) v[i] = arr[key, i]
    for (i = 1; i <= count; i++) for (j = i + 1; j <= count; j++) if (v[j] < v[i]) { t=v[i]; v[i]=v[j]; v[j]=t }
    return v[int((count + 1) / 2)]
  }
  END { for (key in n) printf "  %-5s req/s ratio %.2f   p50 added %+.3f ms\n", key, median(ratio, key, n[key]), median(added, key, n[key]) }
' "$WORK/results" | sort
