#!/usr/bin/env bash
# Runs the whole platform on this machine: installs what is missing, builds, starts Redis (append-only
# file on, data in --data_dir), every service binary that exists and the gateway, waits until each is
# ready, loads the demo data once, prints where to connect, and on Ctrl-C / SIGTERM stops the services
# (SIGTERM, graceful) and then Redis (SHUTDOWN, which fsyncs the AOF).
#
# Flags (--flag=value or --flag value):
#   --data_dir=DIR             data folder that survives restarts (default <repo>/.data)
#   --appendfsync=everysec|always
#                              everysec (default): a crash of redis-server may lose up to ~2 s of
#                              acknowledged writes; always: none, at the cost of an fsync per write
#   --redis_port=N             Redis TCP port on 127.0.0.1 (default 6390; 0 = unix socket only)
#   --base_port=N              gateway gRPC on N, services on N+1.. (profile, training, rotation,
#                              mentorship, account), gateway HTTP on N+80 (default 7100; 0 = any
#                              free ports)
#   --no_build                 use the binaries already in build/
# SHIDANG_BUILD_DIR overrides build/ (relative to the repo root or absolute). The web page is served
# from <build>/web (deploy/build.sh builds it there) when it holds an index.html; SHIDANG_WEB_ROOT
# chooses another folder.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$SHIDANG_REPO"

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

data_dir="$SHIDANG_REPO/.data"
appendfsync=everysec
redis_port=6390
base_port=7100
build=1
while (($#)); do
  arg="$1"
  shift
  case "$arg" in
    --data_dir=* | --appendfsync=* | --redis_port=* | --base_port=*) value="${arg#*=}" ;;
    --data_dir | --appendfsync | --redis_port | --base_port)
      (($#)) || shidang_die "$arg needs a value"
      value="$1"
      shift
      ;;
    --no_build) build=0; continue ;;
    -h | --help) usage ;;
    *) shidang_die "unknown flag '$arg' (allowed: --data_dir --appendfsync --redis_port --base_port --no_build)" ;;
  esac
  case "${arg%%=*}" in
    --data_dir) data_dir="$value" ;;
    --appendfsync) appendfsync="$value" ;;
    --redis_port) redis_port="$value" ;;
    --base_port) base_port="$value" ;;
  esac
done
[[ -n "$data_dir" ]] || shidang_die "--data_dir must not be empty"
data_dir="$(shidang_abspath "$data_dir")"
[[ "$base_port" =~ ^[0-9]+$ ]] && ((base_port == 0 || (base_port >= 1024 && base_port + 80 <= 65535))) ||
  shidang_die "--base_port must be 0 or a number from 1024 to 65455, got '$base_port'"

build_dir="${SHIDANG_BUILD_DIR:-build}"
build_dir="$(shidang_abspath "$build_dir")"

deploy/install-deps.sh
if ((build)); then
  shidang_log "building into $build_dir (deploy/build.sh)"
  SHIDANG_BUILD_DIR="$build_dir" deploy/build.sh
fi

mkdir -p "$data_dir"
# One run.sh per data dir: the lock (fd 9) is held for the life of this script; children are started
# with fd 9 closed, so it is freed when the script ends.
exec 9>"$data_dir/run.lock"
flock -n 9 || shidang_die "another deploy/run.sh is using $data_dir"
sock="$(shidang_redis_sock "$data_dir")"
if shidang_redis_alive "$sock"; then
  shidang_die "a redis-server is already running on $sock; stop it first"
fi
mkdir -p "$data_dir/logs" "$data_dir/run" "$data_dir/keys"
chmod 700 "$data_dir/keys"
rm -f "$data_dir/run/"*.port

# --- stopping -------------------------------------------------------------------------------------
names=()  # started processes, in start order (redis is handled apart)
pids=()
redis_pid=""
stopping=0
stop_requested=0

cleanup() {
  local rc=$?
  set +e
  ((stopping)) && return
  stopping=1
  # Stop in order even if the terminal or the reader of our output is gone.
  trap '' INT TERM HUP PIPE
  # Services and gateway first, newest first, so none is left without its Redis mid-request.
  local i pid
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid="${pids[i]}"
    if kill -0 "$pid" 2>/dev/null; then
      shidang_log "stopping ${names[i]} (pid $pid)"
      kill -TERM "$pid" 2>/dev/null
    fi
  done
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid="${pids[i]}"
    # Services drain within --shutdown_grace_ms (default 5 s); give them a little more.
    local deadline=$((SECONDS + 10))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      shidang_log "${names[i]} did not stop in 10 s; SIGKILL"
      kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
  done
  if [[ -n "$redis_pid" ]]; then
    shidang_log "stopping redis-server (SHUTDOWN: the AOF is fsynced)"
    shidang_stop_redis "$data_dir" "$redis_pid"
  fi
  rm -f "$data_dir/run/"*.port
  shidang_log "stopped"
  exit "$rc"
}
trap cleanup EXIT
# While starting, a signal aborts the start (the EXIT trap stops what is already up).
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- Redis ----------------------------------------------------------------------------------------
shidang_write_redis_conf "$data_dir" "$appendfsync" "$redis_port"
shidang_log "starting redis-server (appendonly yes, appendfsync $appendfsync, data in $data_dir/redis)"
shidang_start_redis "$data_dir"
redis_pid="$SHIDANG_REDIS_PID"

# --- keys -----------------------------------------------------------------------------------------
mint="$build_dir/services/common/shidang-mint"
principal_key="$data_dir/keys/principal.key"
if [[ ! -s "$principal_key" ]]; then
  shidang_log "creating $principal_key"
  rm -f "$principal_key"
  if [[ -x "$mint" ]]; then
    "$mint" keygen --out="$principal_key"
  else
    (umask 077 && head -c 32 /dev/urandom >"$principal_key.tmp" && mv "$principal_key.tmp" "$principal_key")
  fi
fi
chmod 600 "$principal_key"
# The gateway's JWT signing keys: a keyset file, one "<kid> <hex secret>" line per key (see
# services/common/jwt.h); add a line to rotate. Demo tokens below are signed with it.
jwt_keys="$data_dir/keys/jwt.keys"
jwt_kid="${SHIDANG_JWT_KID:-demo}"
if [[ ! -s "$jwt_keys" ]]; then
  shidang_log "creating $jwt_keys (kid $jwt_kid)"
  rm -f "$jwt_keys"
  if [[ -x "$mint" ]]; then
    "$mint" keygen --out="$jwt_keys" --kid="$jwt_kid"
  else
    (umask 077 && printf '%s %s\n' "$jwt_kid" "$(head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n')" \
      >"$jwt_keys.tmp" && mv "$jwt_keys.tmp" "$jwt_keys")
  fi
fi
chmod 600 "$jwt_keys"

# The profile service's data key: ID-card numbers are sealed and blind-indexed with it. Losing it
# makes them unreadable, so it lives in keys/ and goes into every backup.
profile_data_key="$data_dir/keys/profile-data.key"
if [[ ! -s "$profile_data_key" ]]; then
  shidang_log "creating $profile_data_key"
  rm -f "$profile_data_key"
  if [[ -x "$mint" ]]; then
    "$mint" keygen --out="$profile_data_key"
  else
    (umask 077 && head -c 32 /dev/urandom >"$profile_data_key.tmp" && mv "$profile_data_key.tmp" "$profile_data_key")
  fi
fi
chmod 600 "$profile_data_key"

# --- services -------------------------------------------------------------------------------------
# Succeeds when the gRPC health service on $1 answers SERVING. Python's grpcio (python3-grpcio) has no
# grpc_health module on Debian, so the probe sends the raw protobuf bytes: an empty
# HealthCheckRequest, and SERVING is field 1 = 1, i.e. the bytes 08 01.
grpc_health_ok() {
  /usr/bin/python3 - "$1" <<'PY' 2>/dev/null
import sys
import grpc
with grpc.insecure_channel(sys.argv[1]) as channel:
    check = channel.unary_unary("/grpc.health.v1.Health/Check")
    try:
        reply = check(b"", timeout=1)
    except grpc.RpcError:
        sys.exit(1)
sys.exit(0 if reply == b"\x08\x01" else 1)
PY
}

have_grpc_python=0
if /usr/bin/python3 -c 'import grpc' 2>/dev/null; then have_grpc_python=1; fi

# Starts $1 (a name) as "$2 args..." in its own session (a Ctrl-C in the terminal reaches only this
# script, which stops things in order), logging to logs/<name>.log.
start_process() {
  local name="$1"
  shift
  setsid "$@" </dev/null >>"$data_dir/logs/$name.log" 2>&1 9>&- &
  names+=("$name")
  pids+=("$!")
}

# Waits until process $1 (index into pids) wrote port file $2 and its port accepts TCP and, when $3 is 1
# and python3-grpcio is there, its gRPC health check answers SERVING. Sets ready_port. Runs in this
# shell (not a $(...) subshell) so a SIGTERM to this script is handled within a fraction of a second.
wait_ready() {
  local index="$1" port_file="$2" grpc="$3" deadline=$((SECONDS + 60)) port=""
  local name="${names[index]}" pid="${pids[index]}"
  ready_port=""
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$data_dir/logs/$name.log" >&2 || true
      shidang_die "$name exited while starting; see $data_dir/logs/$name.log"
    fi
    if [[ -s "$port_file" ]]; then
      port="$(<"$port_file")"
      if [[ "$port" =~ ^[0-9]+$ ]] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        if ((!grpc || !have_grpc_python)) || grpc_health_ok "127.0.0.1:$port"; then
          ready_port="$port"
          return 0
        fi
      fi
    fi
    sleep 0.2
  done
  shidang_die "$name was not ready (port file, TCP connect, health SERVING) in 60 s; see $data_dir/logs/$name.log"
}

port_for() {  # $1 offset from --base_port
  if ((base_port == 0)); then echo 0; else echo $((base_port + $1)); fi
}

services=(profile training rotation mentorship account)
# Flags a service takes beyond the common ones (services/common/server.h).
declare -A service_extra_args=(
  [profile]="--data_key_file=$profile_data_key"
  [account]="--jwt_keys_file=$jwt_keys"
)
declare -A service_port=()
declare -A service_metrics_port=()
offset=1
for service in "${services[@]}"; do
  binary="$build_dir/services/$service/shidang-$service"
  port="$(port_for "$offset")"
  metrics_port="$(port_for $((offset + 90)))"
  offset=$((offset + 1))
  if [[ ! -x "$binary" ]]; then
    continue
  fi
  shidang_log "starting $service"
  port_file="$data_dir/run/$service.port"
  extra=()
  if [[ -n "${service_extra_args[$service]:-}" ]]; then extra=("${service_extra_args[$service]}"); fi
  # The rotation service moves a teacher in the profile service when a rotation that moves the
  # personnel relation starts.
  if [[ "$service" == rotation && -n "${service_port[profile]:-}" ]]; then
    extra+=("--profile=127.0.0.1:${service_port[profile]}")
  fi
  # The account service signs the gateway's tokens with the keyset's demo key and reads teachers
  # (for their accounts) from the profile service.
  if [[ "$service" == account ]]; then
    extra+=("--jwt_kid=$jwt_kid")
    if [[ -n "${service_port[profile]:-}" ]]; then extra+=("--profile=127.0.0.1:${service_port[profile]}"); fi
  fi
  # /metrics (services/common/metrics.h) on base+91.. (or any free port); its port file is
  # written before the gRPC one, so it is there once the service is ready.
  metrics_port_file="$data_dir/run/$service.metrics.port"
  start_process "$service" "$binary" \
    --port="$port" --port_file="$port_file" \
    --metrics_port="$metrics_port" --metrics_port_file="$metrics_port_file" \
    --redis="unix:$sock" --principal_key_file="$principal_key" "${extra[@]}"
  wait_ready $((${#pids[@]} - 1)) "$port_file" 1
  service_port[$service]="$ready_port"
  service_metrics_port[$service]="$(cat "$metrics_port_file" 2>/dev/null || true)"
done

# The gateway (gateway/main.cc): the public gRPC port and the HTTP/JSON front, in front of the
# services started above.
gateway="$build_dir/gateway/shidang-gateway"
gateway_port=""
gateway_http_port=""
gateway_note=""
declare -A service_proto=(
  [profile]=shidang.profile.v1.ProfileService
  [training]=shidang.training.v1.TrainingService
  [rotation]=shidang.rotation.v1.RotationService
  [mentorship]=shidang.mentorship.v1.MentorshipService
  [account]=shidang.account.v1.AccountService
)
if [[ -x "$gateway" && ${#service_port[@]} -eq 0 ]]; then
  gateway_note="not started (no service is built to route to)"
elif [[ -x "$gateway" ]]; then
  backends=""
  for service in "${services[@]}"; do
    [[ -n "${service_port[$service]:-}" ]] || continue
    backends+="${backends:+;}${service_proto[$service]}=127.0.0.1:${service_port[$service]}"
  done
  # The web page (web/, built by deploy/build.sh), served by the gateway's HTTP front.
  web_root="$(shidang_abspath "${SHIDANG_WEB_ROOT:-$build_dir/web}")"
  web_args=()
  if [[ -r "$web_root/index.html" ]]; then web_args=(--web_root="$web_root"); fi
  shidang_log "starting gateway"
  start_process gateway "$gateway" "${web_args[@]}" \
    --port="$(port_for 0)" --port_file="$data_dir/run/gateway.port" \
    --http_port="$(port_for 80)" --http_port_file="$data_dir/run/gateway-http.port" \
    --descriptor_set="$build_dir/shidang.desc" --backends="$backends" \
    --principal_key_file="$principal_key" --jwt_keys_file="$jwt_keys"
  # Its health answers SERVING once every backend has been seen SERVING.
  wait_ready $((${#pids[@]} - 1)) "$data_dir/run/gateway.port" 1
  gateway_port="$ready_port"
  wait_ready $((${#pids[@]} - 1)) "$data_dir/run/gateway-http.port" 0
  gateway_http_port="$ready_port"
fi

# --- demo data, once ------------------------------------------------------------------------------
# Runs demo loader $3 with the flags after it and the principal key, once per data dir: $1 says what
# it loads (in the log), $2 is its marker file, written when it succeeds; a failure is retried by the
# next run (every loader is safe to run twice).
# The demo teacher's id, written by the profile demo loader (empty before it ran).
demo_teacher_id() { sed -n 's/^teacher_id=//p' "$data_dir/demo-ids" 2>/dev/null; }

load_demo_once() {
  local what="$1" marker="$2" loader="$3"
  shift 3
  shidang_log "loading $what (once; log in $data_dir/logs/demo-load.log)"
  if "$loader" "$@" --principal_key_file="$principal_key" \
    </dev/null >>"$data_dir/logs/demo-load.log" 2>&1; then
    date -Iseconds >"$data_dir/$marker"
  else
    shidang_log "WARNING: $what did not load (see $data_dir/logs/demo-load.log); next run retries"
  fi
}

# Demo data (services/profile/demo_load_main.cc): a synthetic county (武义县, 330723) loaded through
# the profile service's own RPCs, once per data dir (marker file demo-loaded).
demo_loader="$build_dir/services/profile/shidang-demo-load"
if [[ -x "$demo_loader" && ! -e "$data_dir/demo-loaded" && -n "${service_port[profile]:-}" ]]; then
  load_demo_once "the demo county" demo-loaded "$demo_loader" \
    --profile="127.0.0.1:${service_port[profile]}" --ids_file="$data_dir/demo-ids"
fi
# Its training history (services/training/demo_load_main.cc): courses of the county's teacher
# development centre over the past cycle and this year, completions by a steady habit per teacher,
# a few self-reports waiting for HR; once per data dir (marker demo-training-loaded), after the county.
training_demo_loader="$build_dir/services/training/shidang-training-demo-load"
if [[ -x "$training_demo_loader" && -e "$data_dir/demo-loaded" && ! -e "$data_dir/demo-training-loaded" &&
      -n "${service_port[profile]:-}" && -n "${service_port[training]:-}" ]]; then
  load_demo_once "the demo county's training history" demo-training-loaded "$training_demo_loader" \
    --profile="127.0.0.1:${service_port[profile]}" --training="127.0.0.1:${service_port[training]}"
fi

# Its rotation history (services/rotation/demo_load_main.cc): last school year's rotations (some
# counting, some not for a reason each, a few by backbone teachers) and this year's, started at some
# schools and proposed at others, so HR's compliance view shows schools that pass and schools that
# fail; once per data dir (marker demo-rotation-loaded), after the county.
rotation_demo_loader="$build_dir/services/rotation/shidang-rotation-demo-load"
if [[ -x "$rotation_demo_loader" && -e "$data_dir/demo-loaded" && ! -e "$data_dir/demo-rotation-loaded" &&
      -n "${service_port[profile]:-}" && -n "${service_port[rotation]:-}" ]]; then
  load_demo_once "the demo county's rotation history" demo-rotation-loaded "$rotation_demo_loader" \
    --profile="127.0.0.1:${service_port[profile]}" --rotation="127.0.0.1:${service_port[rotation]}" \
    --teacher_id="$(demo_teacher_id)"
fi

# Its mentor pairings (services/mentorship/demo_load_main.cc): most new teachers paired with a
# TEACHING and a SECOND mentor from the service's own suggestions, some lacking one or both, and a
# term of activities for the first pairings; once per data dir (marker demo-mentorship-loaded).
mentorship_demo_loader="$build_dir/services/mentorship/shidang-mentorship-demo-load"
if [[ -x "$mentorship_demo_loader" && -e "$data_dir/demo-loaded" &&
      ! -e "$data_dir/demo-mentorship-loaded" && -n "${service_port[mentorship]:-}" ]]; then
  # The demo teacher (demo-ids: the demo account's and token's) gets a pairing of their own.
  load_demo_once "the demo county's mentor pairings" demo-mentorship-loaded \
    "$mentorship_demo_loader" --mentorship="127.0.0.1:${service_port[mentorship]}" \
    --teacher_id="$(demo_teacher_id)"
fi

# One demo account per role (services/account/demo_accounts_main.cc), scoped like the demo tokens;
# their usernames and passwords are kept in <data_dir>/demo-accounts (0600) and printed below. Made
# once; an account that exists gets a new password when the file is missing.
demo_accounts_tool="$build_dir/services/account/shidang-demo-accounts"
if [[ -x "$demo_accounts_tool" && -n "${service_port[account]:-}" && ! -s "$data_dir/demo-accounts" ]]; then
  demo_teacher_id=""
  demo_school_id=demo-school
  if [[ -r "$data_dir/demo-ids" ]]; then
    demo_teacher_id="$(sed -n 's/^teacher_id=//p' "$data_dir/demo-ids")"
    demo_school_id="$(sed -n 's/^school_id=//p' "$data_dir/demo-ids")"
  fi
  shidang_log "creating the demo accounts (once; log in $data_dir/logs/demo-load.log)"
  if ! "$demo_accounts_tool" --account="127.0.0.1:${service_port[account]}" \
    --principal_key_file="$principal_key" --region="${SHIDANG_DEMO_REGION:-330723}" \
    --teacher_id="$demo_teacher_id" --school_id="$demo_school_id" \
    --out="$data_dir/demo-accounts" </dev/null >>"$data_dir/logs/demo-load.log" 2>&1; then
    shidang_log "WARNING: some demo accounts were not made (see $data_dir/logs/demo-load.log)"
  fi
fi

# --- where to connect -----------------------------------------------------------------------------
# Everything is up: from here a signal means "stop", handled by the loop below.
trap 'stop_requested=1' INT TERM HUP
{
  echo
  echo "Shidang is running (data in $data_dir; logs in $data_dir/logs). Ctrl-C stops it."
  echo "  Redis        unix:$sock"
  if ((redis_port)); then echo "  Redis        127.0.0.1:$redis_port   (redis-cli -p $redis_port)"; fi
  for service in "${services[@]}"; do
    if [[ -n "${service_port[$service]:-}" ]]; then
      printf '  %-12s 127.0.0.1:%s  (gRPC; needs a signed principal: shidang-mint principal)\n' \
        "$service" "${service_port[$service]}"
      if [[ -n "${service_metrics_port[$service]:-}" ]]; then
        printf '  %-12s http://127.0.0.1:%s/metrics  (Prometheus)\n' "" "${service_metrics_port[$service]}"
      fi
    else
      printf '  %-12s not built yet (no %s)\n' "$service" "${build_dir#"$SHIDANG_REPO"/}/services/$service/shidang-$service"
    fi
  done
  if [[ -n "$gateway_port" ]]; then
    echo "  Gateway      127.0.0.1:$gateway_port (gRPC, bearer token)"
    if [[ -n "$gateway_http_port" ]]; then
      echo "  Gateway      http://127.0.0.1:$gateway_http_port (HTTP/JSON, bearer token)"
      if ((${#web_args[@]})); then
        echo "  Web page     http://127.0.0.1:$gateway_http_port/  (sign in with an account or a demo token below)"
      else
        echo "  Web page     not built (deploy/build.sh builds it into ${web_root#"$SHIDANG_REPO"/})"
      fi
      echo "               http://127.0.0.1:$gateway_http_port/metrics  (Prometheus)"
    fi
  elif [[ -n "$gateway_note" ]]; then
    echo "  Gateway      $gateway_note"
  else
    echo "  Gateway      not built yet (no ${build_dir#"$SHIDANG_REPO"/}/gateway/shidang-gateway)"
  fi
  if [[ -x "$mint" ]]; then
    echo
    echo "Signed principal for calling a service directly (each line is a metadata entry of the call):"
    echo "  $mint principal --principal_key_file=$principal_key --role=admin --sub=operator"
    # Demo scopes: the demo county, and a teacher and school the demo loader created.
    demo_region="${SHIDANG_DEMO_REGION:-330723}"
    demo_teacher=demo-teacher
    demo_school=demo-school
    if [[ -r "$data_dir/demo-ids" ]]; then
      demo_teacher="$(sed -n 's/^teacher_id=//p' "$data_dir/demo-ids")"
      demo_school="$(sed -n 's/^school_id=//p' "$data_dir/demo-ids")"
    fi
    echo
    echo "Demo bearer tokens (valid 24 h):"
    for role in teacher school_admin county_hr city_hr province_hr training_center admin; do
      scope=()
      sub=""
      case "$role" in
        teacher) sub="$demo_teacher" ;;
        school_admin) scope=(--school_id="$demo_school") ;;
        county_hr) scope=(--region="$demo_region") ;;
        city_hr) scope=(--region="${demo_region:0:4}00") ;;
        province_hr) scope=(--region="${demo_region:0:2}0000") ;;
        training_center) scope=(--provider_id="P${demo_region}-TDC") ;;
      esac
      if token="$("$mint" jwt --jwt_keys_file="$jwt_keys" --kid="$jwt_kid" --role="$role" \
        "${scope[@]}" --sub="${sub:-demo-$role}" --ttl=24h 2>>"$data_dir/logs/mint.log")"; then
        printf '  %-16s %s\n' "$role" "$token"
      else
        printf '  %-16s (shidang-mint failed; see %s)\n' "$role" "$data_dir/logs/mint.log"
      fi
    done
    if [[ -s "$data_dir/demo-accounts" ]]; then
      echo
      echo "Demo accounts (sign in: POST /v1/sessions {\"username\":...,\"password\":...}; kept in $data_dir/demo-accounts):"
      while read -r role username password; do
        printf '  %-16s %-24s %s\n' "$role" "$username" "$password"
      done <"$data_dir/demo-accounts"
    fi
    if [[ -n "$gateway_http_port" ]]; then
      echo "  e.g. curl -H \"Authorization: Bearer <teacher token>\" http://127.0.0.1:$gateway_http_port/v1/teachers/$demo_teacher/growth-file"
      echo "       curl -H \"Authorization: Bearer <county_hr token>\" \"http://127.0.0.1:$gateway_http_port/v1/counties/$demo_region/teachers?schoolId=$demo_school\""
      echo "       curl -H \"Authorization: Bearer <county_hr token>\" http://127.0.0.1:$gateway_http_port/v1/counties/$demo_region/training-compliance"
      echo "       curl -H \"Authorization: Bearer <county_hr token>\" \"http://127.0.0.1:$gateway_http_port/v1/counties/$demo_region/rotation-compliance?schoolYear=$(date +%Y -d '-8 months')\""
      echo "       curl -H \"Authorization: Bearer <teacher token>\" http://127.0.0.1:$gateway_http_port/v1/teachers/$demo_teacher/training-summary"
      echo "       curl -H \"Authorization: Bearer <county_hr token>\" http://127.0.0.1:$gateway_http_port/v1/counties/$demo_region/unpaired-teachers"
      echo "       curl -H \"Authorization: Bearer <county_hr token>\" \"http://127.0.0.1:$gateway_http_port/v1/counties/$demo_region/pairing-suggestions?role=PAIRING_ROLE_SECOND\""
    fi
    if [[ -n "$gateway_port" ]]; then
      echo "  gRPC clients: 127.0.0.1:$gateway_port with metadata \"authorization: Bearer <token>\" (server reflection is on)"
    fi
  fi
  echo
} >&2

# --- wait -----------------------------------------------------------------------------------------
while ((!stop_requested)); do
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[i]}" 2>/dev/null; then
      shidang_log "${names[i]} exited unexpectedly; see $data_dir/logs/${names[i]}.log"
      exit 1
    fi
  done
  if ! kill -0 "$redis_pid" 2>/dev/null; then
    shidang_log "redis-server exited unexpectedly; see $data_dir/logs/redis.log"
    redis_pid=""
    exit 1
  fi
  # A trapped signal interrupts `wait` at once (it would not interrupt a foreground sleep).
  sleep 1 &
  wait $! || true
done
shidang_log "stop requested"
exit 0
