#!/usr/bin/env bash
# Gateway overhead (issue 6, "Speed"): the same read RPC straight to the service and through
# shidang-gateway (authentication, role check, rate limiter and access log on), back to back, with
# h2load at 1 connection x 1 stream, 32 x 1 and 4 x 32, three rounds. Reports req/s, p50, p99 (from
# h2load's per-request log), the gateway's CPU time per request (utime+stime from /proc/<pid>/stat
# before and after), and per shape the median ratio gateway/direct of req/s and the median p50
# added.
#
# The RPC (BACKEND=profile, the default): shidang.profile.v1.ProfileService/GetTeacher on a real
# shidang-profile with its own redis-server (unix socket), the demo county loaded by
# shidang-demo-load (as deploy/run.sh does), read by the demo teacher with a token scoped to them.
# BACKEND=echo: the test echo service's Echo instead (no Redis), the shape measured before.
# (The gRPC generic proxy front the forwarder replaced, once PROXY=1 here, is gone: its figures
# stay in the README.)
#
# The gateway runs with its defaults, busy polling included (--busy_poll_us=1000,
# --busy_poll_max_calls=2: gateway/grpc_front.h): at 1 x 1 its CPU per call then includes the
# polling while each call waits for the backend. GATEWAY_FLAGS=--busy_poll_us=0 measures without.
# The load average is printed before and after: the machine may be shared.
#
# h2load counts HTTP 200 as success, but gRPC errors are HTTP 200 too: every run is checked by
# counting the backend's (and the gateway's) own log lines for the method with status=OK, which
# must equal the number of requests sent.
#
#   bench/gateway_bench.sh [build-dir] [requests-scale]
#   (build-dir defaults to ./build; needs shidang-gateway, shidang-profile, shidang-demo-load,
#    shidang-echo-server, shidang-mint, shidang.desc; requests-scale multiplies the request
#    counts, default 1; ROUNDS=3, BACKEND=profile|echo and GATEWAY_FLAGS="..." (extra
#    flags of the gateway under test) from the environment)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
SCALE=${2:-1}
BACKEND=${BACKEND:-profile}
GATEWAY=$BUILD/gateway/shidang-gateway
MINT=$BUILD/services/common/shidang-mint
PROFILE=$BUILD/services/profile/shidang-profile
DEMO_LOAD=$BUILD/services/profile/shidang-demo-load
ECHO=$BUILD/tests/shidang-echo-server
needed=("$GATEWAY" "$MINT" "$BUILD/shidang.desc")
if [[ $BACKEND == profile ]]; then needed+=("$PROFILE" "$DEMO_LOAD"); else needed+=("$ECHO"); fi
for bin in "${needed[@]}"; do
  [[ -e $bin ]] || { echo "missing $bin (build shidang-gateway shidang-profile shidang-demo-load shidang-echo-server shidang-mint shidang_descriptor_set)" >&2; exit 2; }
done
command -v h2load >/dev/null || { echo "h2load not found (apt-get install nghttp2-client)" >&2; exit 2; }

source "$ROOT/bench/lib.sh"
make_bench_keys "$MINT"

if [[ $BACKEND == profile ]]; then
  start_profile_with_demo_county "$PROFILE" "$DEMO_LOAD" backend
  BACKEND_PORT=$PROFILE_PORT
  SERVICE=shidang.profile.v1.ProfileService
  RPC_PATH=/$SERVICE/GetTeacher
  DESC=$BUILD/shidang.desc
  # GetTeacherRequest{teacher_id: TEACHER} as one gRPC length-prefixed message (ids are short).
  (( ${#TEACHER} < 120 )) || { echo "teacher id too long for this encoder" >&2; exit 1; }
  printf "\\x00\\x00\\x00\\x00\\x$(printf %02x $(( ${#TEACHER} + 2 )))\\x0a\\x$(printf %02x ${#TEACHER})%s" \
    "$TEACHER" >"$WORK/body"
  SUB=$TEACHER
else
  "$ECHO" --port=0 --port_file="$WORK/backend.port" --principal_key_file="$WORK/principal.key" \
    --max_threads=1024 2>"$WORK/backend.log" &
  PIDS+=($!)
  BACKEND_PORT=$(wait_port "$WORK/backend.port")
  SERVICE=shidang.testing.v1.EchoService
  RPC_PATH=/$SERVICE/Echo
  # The echo service as a public API: the names of tests/kit/testing.proto, with the roles option
  # a real service declares (the gateway never decodes the messages).
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
  DESC=$WORK/bench.desc
  printf '\x00\x00\x00\x00\x07\x0a\x05hello' >"$WORK/body"
  SUB=t-bench
fi

TOKEN=$("$MINT" jwt --jwt_keys_file="$WORK/jwt.keys" --role=teacher --sub="$SUB" --ttl=2h)
PRINCIPAL_HEADERS=$("$MINT" principal --principal_key_file="$WORK/principal.key" --role=teacher \
  --sub="$SUB" --ttl=2h)
PRINCIPAL_BIN=$(sed -n 's/^x-shidang-principal-bin: //p' <<<"$PRINCIPAL_HEADERS")
PRINCIPAL_SIG=$(sed -n 's/^x-shidang-principal-sig: //p' <<<"$PRINCIPAL_HEADERS")

declare -A GW_PID GW_PORT
start_gateway() {  # label, extra flags...
  local label=$1; shift
  "$GATEWAY" --port=0 --port_file="$WORK/$label.port" --principal_key_file="$WORK/principal.key" \
    --descriptor_set="$DESC" --jwt_keys_file="$WORK/jwt.keys" \
    --backends="$SERVICE=127.0.0.1:$BACKEND_PORT" --rate_per_second=0 "$@" \
    2>"$WORK/$label.log" &
  GW_PID[$label]=$!
  PIDS+=($!)
  GW_PORT[$label]=$(wait_port "$WORK/$label.port")
}
# shellcheck disable=SC2086
start_gateway gateway ${GATEWAY_FLAGS:-}
LABELS=(direct gateway)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ok_lines() { grep -c "${RPC_PATH##*/}.*status=OK" "$1" || true; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))

# run <label> <connections> <streams> <requests>; prints one result line.
run() {
  local label=$1 c=$2 m=$3 n=$4
  local log=$WORK/h2load.$label.$c.$m.log port headers=()
  rm -f "$log"  # h2load appends
  if [[ $label == direct ]]; then
    port=$BACKEND_PORT
    headers=(-H "x-shidang-principal-bin: $PRINCIPAL_BIN" -H "x-shidang-principal-sig: $PRINCIPAL_SIG")
  else
    port=${GW_PORT[$label]}
    headers=(-H "authorization: Bearer $TOKEN")
  fi
  local backend_ok_before gw_ok_before=0 cpu_before=0 out
  backend_ok_before=$(ok_lines "$WORK/backend.log")
  if [[ $label != direct ]]; then
    gw_ok_before=$(ok_lines "$WORK/$label.log")
    cpu_before=$(cpu_ticks "${GW_PID[$label]}")
  fi
  out=$(h2load -n "$n" -c "$c" -m "$m" -d "$WORK/body" --log-file="$log" \
    -H 'content-type: application/grpc' -H 'te: trailers' "${headers[@]}" \
    "http://127.0.0.1:$port$RPC_PATH")
  local cpu_after=0 backend_ok gw_ok=0 rps succeeded p50 p99 cpu_us=-
  [[ $label == direct ]] || cpu_after=$(cpu_ticks "${GW_PID[$label]}")
  # Log lines are written when each call is done, which may trail the response a little.
  for _ in $(seq 50); do
    backend_ok=$(( $(ok_lines "$WORK/backend.log") - backend_ok_before ))
    [[ $label == direct ]] || gw_ok=$(( $(ok_lines "$WORK/$label.log") - gw_ok_before ))
    [[ $backend_ok -ge $n && ( $label == direct || $gw_ok -ge $n ||
       ${GATEWAY_FLAGS:-} == *access_log=false* ) ]] && break
    sleep 0.1
  done
  rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")
  succeeded=$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' <<<"$out")
  read -r p50 p99 < <(cut -f3 "$log" | sort -n | awk '{v[NR]=$1} END {
      i50=int(NR*0.50); if (i50<1) i50=1; i99=int(NR*0.99); if (i99<1) i99=1;
      printf "%.3f %.3f\n", v[i50]/1000, v[i99]/1000 }')
  if [[ $label != direct ]]; then
    cpu_us=$(( (cpu_after - cpu_before) * TICK_US / n ))
    [[ ${GATEWAY_FLAGS:-} == *access_log=false* || $gw_ok -eq $n ]] || {
      echo "FAIL $label: gateway logged $gw_ok OK of $n; statuses:" >&2
      grep -o 'status=[A-Z_]*' "$WORK/$label.log" | sort | uniq -c >&2
      exit 1
    }
  fi
  [[ $succeeded -eq $n ]] || { echo "FAIL $label: h2load: $succeeded of $n succeeded" >&2; exit 1; }
  [[ $backend_ok -eq $n ]] || { echo "FAIL $label: backend logged $backend_ok grpc OK of $n" >&2; exit 1; }
  printf '%-9s %-5s %-6s %10s %9s %9s %8s\n' "$label" "${c}x$m" "$n" "$rps" "$p50" "$p99" "$cpu_us"
  echo "$label ${c}x$m $rps $p50 $p99" >>"$WORK/results"
}

echo "$BACKEND backend on :$BACKEND_PORT ($RPC_PATH); gateway on :${GW_PORT[gateway]} (pid ${GW_PID[gateway]}); checking grpc-status via logs"
# Warm up every path (connections, token cache, the service's caches).
for label in "${LABELS[@]}"; do run "$label" 1 1 200 >/dev/null; done
: >"$WORK/results"

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-9s %-5s %-6s %10s %9s %9s %8s\n' path shape reqs req/s p50_ms p99_ms gw_cpu_us
for round in $(seq "${ROUNDS:-3}"); do
  for shape in "1 1 $((3000 * SCALE))" "32 1 $((20000 * SCALE))" "4 32 $((40000 * SCALE))"; do
    read -r c m n <<<"$shape"
    for label in "${LABELS[@]}"; do run "$label" "$c" "$m" "$n"; done
  done
done

echo
echo "median over ${ROUNDS:-3} rounds (vs direct in the same round and shape):"
awk '
  { key=$2; if ($1=="direct") { d_rps[key]=$3; d_p50[key]=$4 } else {
      k = $1 SUBSEP key; paths[$1]=1; shapes[key]=1; n[k]++
      ratio[k, n[k]] = $3 / d_rps[key]; added[k, n[k]] = $4 - d_p50[key] } }
  function median(arr, k, count,   i, j, t, v) {
    for (i = 1; i <= count; i++) v[i] = arr[k, i]
    for (i = 1; i <= count; i++) for (j = i + 1; j <= count; j++) if (v[j] < v[i]) { t=v[i]; v[i]=v[j]; v[j]=t }
    return v[int((count + 1) / 2)]
  }
  END { for (p in paths) for (s in shapes) { k = p SUBSEP s
          printf "  %-9s %-5s req/s ratio %.2f   p50 added %+.3f ms\n", p, s, median(ratio, k, n[k]), median(added, k, n[k]) } }
' "$WORK/results" | sort
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
