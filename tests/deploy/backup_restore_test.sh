#!/usr/bin/env bash
# Backup and restore, end to end, with real redis-servers and the real deploy scripts:
#   1. start a Redis the way deploy/run.sh does (same config template: appendonly yes, unix socket)
#      in a fresh data dir, and write a few hundred keys of every type we use (hash, zset, stream
#      with a consumer group, string with and without TTL, list, set) with Chinese and odd bytes;
#   2. deploy/backup.sh while it runs; then change a key and add one (must NOT be in the restore);
#   3. deploy/restore.sh must refuse the live data dir;
#   4. deploy/restore.sh into a fresh data dir; start a fresh Redis there the way run.sh does, and
#      check every key, value, TTL and consumer group against the source at backup time and against
#      what was written; restart it once more (the data must come from the AOF, not a leftover RDB).
set -euo pipefail
export LC_ALL=C  # ${#s} counts bytes, as RESP wants

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
deploy_test_dirs shidang-backup-test

# One command as RESP (length-prefixed arguments: no quoting, any bytes but NUL).
resp() {
  printf '*%d\r\n' "$#"
  local arg
  for arg in "$@"; do printf '$%d\r\n%s\r\n' "${#arg}" "$arg"; done
}

# Every key, sorted, with its type, whether it has a TTL, and its whole value in a canonical,
# length-prefixed form (hash fields and set members sorted), computed inside the server.
canonical_dump_script='
local keys = redis.call("KEYS", "*")
table.sort(keys)
local out = {}
local function put(s) s = tostring(s); out[#out + 1] = #s .. ":" .. s end
for _, key in ipairs(keys) do
  local t = redis.call("TYPE", key).ok
  put(key); put(t); put(redis.call("PTTL", key) > 0 and "ttl" or "no-ttl")
  local items = {}
  if t == "string" then
    items = {redis.call("GET", key)}
  elseif t == "hash" then
    local flat = redis.call("HGETALL", key)
    for i = 1, #flat, 2 do items[#items + 1] = #flat[i] .. ":" .. flat[i] .. "=" .. flat[i + 1] end
    table.sort(items)
  elseif t == "zset" then
    items = redis.call("ZRANGE", key, 0, -1, "WITHSCORES")
  elseif t == "list" then
    items = redis.call("LRANGE", key, 0, -1)
  elseif t == "set" then
    items = redis.call("SMEMBERS", key)
    table.sort(items)
  elseif t == "stream" then
    for _, entry in ipairs(redis.call("XRANGE", key, "-", "+")) do
      items[#items + 1] = entry[1]
      for _, v in ipairs(entry[2]) do items[#items + 1] = v end
    end
  end
  put(#items)
  for _, v in ipairs(items) do put(v) end
end
return table.concat(out)
'
canonical_dump() {  # data_dir
  redis-cli -s "$1/redis.sock" --raw EVAL "$canonical_dump_script" 0
}

# --- 1. the source platform and its data ---------------------------------------------------------
mkdir -p "$source_dir/keys"
head -c 32 /dev/urandom >"$source_dir/keys/principal.key"
chmod 600 "$source_dir/keys/principal.key"
start_platform_redis "$source_dir"

odd=$'line one\r\nline "two" \xe2\x80\x94 \\ \xff\xfe end'
county='{c:330723}'
{
  for i in $(seq 1 120); do
    resp HSET "profile:$county:teacher:T$i" name "王老师$i" birth_date "1980-01-$(printf %02d $((i % 28 + 1)))" \
      title "一级" note "$odd $i"
  done
  for i in $(seq 1 60); do
    resp ZADD "training:$county:ledger:T$i" 0.5 "course-a-$i" "$i.5" "course-b-$i" -3 "correction-$i" 360 "cap"
  done
  for s in $(seq 1 20); do
    for e in $(seq 1 10); do
      resp XADD "profile:$county:events:$s" '*' type "TEACHER_CREATED" summary "新教师入职 $s-$e" payload "$odd"
    done
  done
  resp XGROUP CREATE "profile:$county:events:1" growth-file 0
  resp XREADGROUP GROUP growth-file consumer-1 COUNT 4 STREAMS "profile:$county:events:1" '>'
  for i in $(seq 1 150); do
    if ((i % 2)); then
      resp SET "common:$county:idem:req-$i" "{\"code\":0,\"body\":\"第$i条\"}" EX 86400
    else
      resp SET "common:$county:idem:req-$i" "plain value $i"
    fi
  done
  for i in $(seq 1 20); do
    resp RPUSH "rotation:$county:queue:$i" "a$i" "b$i" "c$i" "$odd"
    resp SADD "mentorship:$county:mentees:M$i" "T$i" "T$((i + 1))" "T$((i + 2))"
  done
} >"$tmp/load.resp"
pipe_out="$(redis-cli -s "$source_dir/redis.sock" --pipe <"$tmp/load.resp" 2>&1)"
[[ "$pipe_out" == *"errors: 0,"* ]] || fail "loading the data: $pipe_out"
written_keys=$((120 + 60 + 20 + 150 + 20 + 20))
expect_eq "$written_keys" "$(q "$source_dir" DBSIZE)" "keys in the source"

# --- 2. backup while it runs, then change the source -------------------------------------------
dump_at_backup="$(canonical_dump "$source_dir")"
groups_at_backup="$(q "$source_dir" XINFO GROUPS "profile:$county:events:1")"
"$repo/deploy/backup.sh" "$source_dir" "$tmp/backup.tar.gz"
[[ -s "$tmp/backup.tar.gz" ]] || fail "backup file missing"
expect_eq 600 "$(stat -c %a "$tmp/backup.tar.gz")" "backup file mode"
q "$source_dir" SET "common:$county:after-backup" x >/dev/null
q "$source_dir" HSET "profile:$county:teacher:T1" name "changed after backup" >/dev/null

# --- 3. restore refuses a data dir in use --------------------------------------------------------
if "$repo/deploy/restore.sh" "$tmp/backup.tar.gz" "$source_dir" 2>"$tmp/refuse.err"; then
  fail "restore into the running source data dir succeeded"
fi
grep -q "in use" "$tmp/refuse.err" || fail "refusal does not say why: $(cat "$tmp/refuse.err")"
expect_eq "changed after backup" "$(q "$source_dir" HGET "profile:$county:teacher:T1" name)" \
  "the live source after a refused restore"

# --- 4. restore into a fresh data dir and start it as run.sh would ------------------------------
"$repo/deploy/restore.sh" "$tmp/backup.tar.gz" "$restored_dir"
[[ ! -e "$restored_dir/redis/dump.rdb" ]] || fail "restore left a dump.rdb (Redis would ignore it)"
[[ -f "$restored_dir/redis/appendonlydir/appendonly.aof.manifest" ]] || fail "restore wrote no AOF"
cmp -s "$source_dir/keys/principal.key" "$restored_dir/keys/principal.key" || fail "keys/ not restored"
expect_eq 600 "$(stat -c %a "$restored_dir/keys/principal.key")" "restored key mode"

check_restored() {  # label
  local label="$1"
  expect_eq 1 "$(q "$restored_dir" CONFIG GET appendonly | sed -n 2p | grep -c yes)" "$label: appendonly"
  expect_eq "$written_keys" "$(q "$restored_dir" DBSIZE)" "$label: key count"
  if [[ "$(canonical_dump "$restored_dir")" != "$dump_at_backup" ]]; then
    fail "$label: the restored keys and values differ from the source at backup time"
  fi
  expect_eq "$groups_at_backup" "$(q "$restored_dir" XINFO GROUPS "profile:$county:events:1")" \
    "$label: consumer group"
  # Spot checks against what was written, independent of the source server.
  expect_eq "王老师1" "$(q "$restored_dir" HGET "profile:$county:teacher:T1" name)" "$label: value before the change"
  expect_eq "$odd 77" "$(q "$restored_dir" HGET "profile:$county:teacher:T77" note)" "$label: odd bytes"
  expect_eq "60.5" "$(q "$restored_dir" ZSCORE "training:$county:ledger:T60" course-b-60)" "$label: zset score"
  expect_eq "-3" "$(q "$restored_dir" ZSCORE "training:$county:ledger:T7" correction-7)" "$label: negative score"
  expect_eq 10 "$(q "$restored_dir" XLEN "profile:$county:events:20")" "$label: stream length"
  expect_eq 4 "$(q "$restored_dir" XPENDING "profile:$county:events:1" growth-file | head -n 1)" \
    "$label: pending entries"
  expect_eq "{\"code\":0,\"body\":\"第149条\"}" "$(q "$restored_dir" GET "common:$county:idem:req-149")" "$label: string"
  local ttl
  ttl="$(q "$restored_dir" TTL "common:$county:idem:req-149")"
  ((ttl > 86000 && ttl <= 86400)) || fail "$label: TTL kept (got $ttl)"
  expect_eq -1 "$(q "$restored_dir" TTL "common:$county:idem:req-150")" "$label: no TTL"
  expect_eq "$odd" "$(q "$restored_dir" LINDEX "rotation:$county:queue:5" 3)" "$label: list"
  expect_eq 3 "$(q "$restored_dir" SCARD "mentorship:$county:mentees:M20")" "$label: set"
  expect_eq 0 "$(q "$restored_dir" EXISTS "common:$county:after-backup")" "$label: a write after the backup"
}

start_platform_redis "$restored_dir"
check_restored "restored"
q "$restored_dir" SHUTDOWN >/dev/null 2>&1 || true
wait "${pids[-1]}" 2>/dev/null || true
start_platform_redis "$restored_dir"
check_restored "restarted"

if ((failures)); then
  echo "backup_restore_test: $failures failure(s)" >&2
  exit 1
fi
echo "backup_restore_test: OK ($written_keys keys backed up, restored and checked)"
