#!/usr/bin/env bash
# Backs up a running platform's data dir into one file (a .tar.gz, mode 0600: it holds the keys).
#
#   deploy/backup.sh <data_dir> <backup_file>
#
# The Redis part is a point-in-time RDB snapshot taken from the running server with
# `redis-cli --rdb` (the server forks and streams it, as to a replica; clients are not blocked).
# BGREWRITEAOF is not a backup: it rewrites the live AOF in place. The snapshot is checked with
# redis-check-rdb before the backup file appears. keys/ goes with it: encrypted fields and signed
# principals are useless without their keys. Restore with deploy/restore.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

(($# == 2)) || shidang_die "usage: deploy/backup.sh <data_dir> <backup_file>"
data_dir="$(shidang_abspath "$1")"
backup_file="$(shidang_abspath "$2")"
sock="$(shidang_redis_sock "$data_dir")"
shidang_redis_alive "$sock" ||
  shidang_die "no Redis answers on $sock: start the platform (deploy/run.sh --data_dir=$data_dir) and retry"
[[ -d "$(dirname "$backup_file")" ]] || shidang_die "no such directory: $(dirname "$backup_file")"

umask 077
# Work next to the backup file so the final rename is atomic (same filesystem).
work="$(mktemp -d "$(dirname "$backup_file")/.shidang-backup.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir "$work/backup"

redis_version="$(redis-cli -s "$sock" INFO server | tr -d '\r' | sed -n 's/^redis_version://p')"
keys_before="$(redis-cli -s "$sock" DBSIZE)"
redis-cli -s "$sock" --rdb "$work/backup/dump.rdb" >"$work/rdb.log" 2>&1 || {
  cat "$work/rdb.log" >&2
  shidang_die "redis-cli --rdb failed"
}
redis-check-rdb "$work/backup/dump.rdb" >"$work/check.log" 2>&1 || {
  cat "$work/check.log" >&2
  shidang_die "the snapshot did not pass redis-check-rdb"
}
if [[ -d "$data_dir/keys" ]]; then
  cp -a "$data_dir/keys" "$work/backup/keys"
fi
cat >"$work/backup/MANIFEST" <<EOF
format=shidang-backup-1
created=$(date -Iseconds)
source_data_dir=$data_dir
redis_version=$redis_version
keys_at_start=$keys_before
EOF

tar -C "$work/backup" -czf "$work/backup.tar.gz" .
mv "$work/backup.tar.gz" "$backup_file"
shidang_log "backup of $data_dir written to $backup_file ($(stat -c %s "$backup_file") bytes, ~$keys_before keys)"
