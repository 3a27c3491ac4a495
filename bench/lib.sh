# Sourced by the gateway benches (bench/gateway_bench.sh, bench/gateway_http_bench.sh) after
# `set -euo pipefail`: a work dir $WORK removed at exit with every process in PIDS stopped, keys
# from our own tool, port files, and the real profile service holding the demo county.

WORK=$(mktemp -d)
PIDS=()
bench_cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap bench_cleanup EXIT

wait_port() { # file -> port, waiting up to 20 s
  for _ in $(seq 200); do [[ -s $1 ]] && { cat "$1"; return; }; sleep 0.1; done
  echo "no port in $1" >&2
  exit 1
}

# $WORK/principal.key and the JWT keyset $WORK/jwt.keys (kid "bench"), made by shidang-mint ($1).
make_bench_keys() { # mint
  "$1" keygen --out="$WORK/principal.key" >/dev/null
  "$1" keygen --kid=bench --out="$WORK/jwt.keys" >/dev/null
}

# Starts a redis-server on $WORK/redis.sock and the profile service $1 on it (port file
# $WORK/$3.port, stderr $WORK/$3.log), then loads the demo county into it with shidang-demo-load
# $2. Sets PROFILE_PORT and TEACHER (the demo teacher's id).
start_profile_with_demo_county() { # profile demo_load name
  command -v redis-server >/dev/null || { echo "redis-server not found" >&2; exit 2; }
  redis-server --port 0 --unixsocket "$WORK/redis.sock" --save '' --appendonly no \
    --dir "$WORK" >"$WORK/redis.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do [[ -S $WORK/redis.sock ]] && break; sleep 0.05; done
  head -c 48 /dev/urandom >"$WORK/data.key"
  # --max_threads: the sync server answers RESOURCE_EXHAUSTED when its pool is used up; 1024 so
  # that no path measured is limited by it.
  "$1" --port=0 --port_file="$WORK/$3.port" --principal_key_file="$WORK/principal.key" \
    --redis="unix:$WORK/redis.sock" --data_key_file="$WORK/data.key" --max_threads=1024 \
    2>"$WORK/$3.log" &
  PIDS+=($!)
  PROFILE_PORT=$(wait_port "$WORK/$3.port")
  "$2" --profile="127.0.0.1:$PROFILE_PORT" --principal_key_file="$WORK/principal.key" \
    --ids_file="$WORK/demo-ids" >"$WORK/demo-load.log" 2>&1 ||
    { echo "demo load failed:" >&2; cat "$WORK/demo-load.log" >&2; exit 1; }
  TEACHER=$(sed -n 's/^teacher_id=//p' "$WORK/demo-ids")
  [[ -n $TEACHER ]] || { echo "the demo load named no teacher; see $WORK/demo-load.log" >&2; exit 1; }
}
