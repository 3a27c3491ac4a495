#!/usr/bin/env bash
# Restores a backup made by deploy/backup.sh into a STOPPED data dir, so that the next
# deploy/run.sh --data_dir=<data_dir> starts from it.
#
#   deploy/restore.sh <backup_file> <data_dir>
#
# Refuses while a Redis or deploy/run.sh uses the data dir. What was there (redis/, keys/) is moved
# aside to *.before-restore-<time>, never deleted.
#
# Why not just copy dump.rdb into place: with appendonly yes (our config) Redis loads the AOF and
# ignores dump.rdb, and with no AOF at all it starts EMPTY and writes an empty AOF. So this script
# starts a temporary redis-server on the RDB with appendonly off, then CONFIG SET appendonly yes,
# which writes a fresh AOF from the loaded data; it waits for that rewrite, checks the key count,
# shuts the temporary server down and removes dump.rdb, leaving the AOF that run.sh's Redis loads.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

(($# == 2)) || shidang_die "usage: deploy/restore.sh <backup_file> <data_dir>"
backup_file="$(shidang_abspath "$1")"
data_dir="$(shidang_abspath "$2")"
[[ -f "$backup_file" ]] || shidang_die "no such backup file: $backup_file"

mkdir -p "$data_dir"
if shidang_data_dir_in_use "$data_dir"; then
  shidang_die "$data_dir is in use (a Redis or deploy/run.sh is running on it): stop it first"
fi
# Hold run.sh's lock so the platform cannot start on a half-restored dir.
exec 9>"$data_dir/run.lock"
flock -n 9 || shidang_die "$data_dir is in use by deploy/run.sh: stop it first"

umask 077
work="$(mktemp -d "$data_dir/.restore.XXXXXX")"
temp_pid=""
cleanup() {
  set +e
  if [[ -n "$temp_pid" ]] && kill -0 "$temp_pid" 2>/dev/null; then
    redis-cli -s "$work/r.sock" SHUTDOWN NOSAVE >/dev/null 2>&1
    wait "$temp_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

tar -C "$work" -xzf "$backup_file" || shidang_die "cannot read $backup_file as a backup (tar.gz)"
grep -qx 'format=shidang-backup-1' "$work/MANIFEST" 2>/dev/null ||
  shidang_die "$backup_file is not a Shidang backup (no MANIFEST with format=shidang-backup-1)"
[[ -f "$work/dump.rdb" ]] || shidang_die "$backup_file holds no dump.rdb"
redis-check-rdb "$work/dump.rdb" >"$work/check.log" 2>&1 || {
  cat "$work/check.log" >&2
  shidang_die "the snapshot in $backup_file did not pass redis-check-rdb"
}

stamp="$(date +%Y%m%d-%H%M%S)"
for part in redis keys; do
  if [[ -e "$data_dir/$part" ]]; then
    mv "$data_dir/$part" "$data_dir/$part.before-restore-$stamp"
    shidang_log "moved the old $data_dir/$part aside to $part.before-restore-$stamp"
  fi
done
mkdir -p "$data_dir/redis" "$data_dir/logs"
cp "$work/dump.rdb" "$data_dir/redis/dump.rdb"

# The temporary server: socket only, appendonly off so it loads the RDB; the AOF names match
# deploy/redis.conf.tmpl so the platform's Redis finds what this one writes.
setsid redis-server --port 0 --unixsocket "$work/r.sock" --unixsocketperm 700 \
  --dir "$data_dir/redis" --dbfilename dump.rdb --save "" \
  --appendonly no --appenddirname appendonlydir --appendfilename appendonly.aof \
  --aof-use-rdb-preamble yes --daemonize no --logfile "$data_dir/logs/restore-redis.log" \
  </dev/null 9>&- &
temp_pid=$!
shidang_wait_redis "$work/r.sock" 60 ||
  shidang_die "the temporary redis-server did not load the snapshot; see $data_dir/logs/restore-redis.log"
keys_loaded="$(redis-cli -s "$work/r.sock" DBSIZE)"

redis-cli -s "$work/r.sock" CONFIG SET appendonly yes >/dev/null
info_field() { redis-cli -s "$work/r.sock" INFO persistence | tr -d '\r' | sed -n "s/^$1://p"; }
deadline=$((SECONDS + 300))
while :; do
  ((SECONDS < deadline)) || shidang_die "the AOF rewrite did not finish in 300 s"
  if [[ "$(info_field aof_enabled)" == 1 && "$(info_field aof_rewrite_in_progress)" == 0 &&
    "$(info_field aof_rewrite_scheduled)" == 0 ]]; then
    break
  fi
  sleep 0.1
done
[[ "$(info_field aof_last_bgrewrite_status)" == ok ]] || shidang_die "the AOF rewrite failed; see $data_dir/logs/restore-redis.log"
[[ -f "$data_dir/redis/appendonlydir/appendonly.aof.manifest" ]] || shidang_die "no AOF manifest was written"

# SHUTDOWN fsyncs the AOF; NOSAVE: no dump.rdb is wanted (it would be ignored anyway).
redis-cli -s "$work/r.sock" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
wait "$temp_pid" 2>/dev/null || true
temp_pid=""
rm -f "$data_dir/redis/dump.rdb"

if [[ -d "$work/keys" ]]; then
  cp -a "$work/keys" "$data_dir/keys"
  chmod 700 "$data_dir/keys"
fi
# The restored data is whatever the backup held: never load the demo data on top of it.
echo "restored from $backup_file at $(date -Iseconds)" >"$data_dir/demo-loaded"
cp "$data_dir/demo-loaded" "$data_dir/demo-training-loaded"
cp "$data_dir/demo-loaded" "$data_dir/demo-rotation-loaded"
shidang_log "restored $keys_loaded keys into $data_dir (backup: $(tr '\n' ' ' <"$work/MANIFEST"))"
shidang_log "start it with: deploy/run.sh --data_dir=$data_dir"
