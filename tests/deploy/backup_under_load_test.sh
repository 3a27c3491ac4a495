#!/usr/bin/env bash
# Backup under load (issue 14): deploy/backup.sh while a client keeps writing, then
# deploy/restore.sh into a fresh data dir. The client writes one numbered change at a time, each
# an atomic script over every type the services use (a string, a hash field, a sorted-set member,
# a stream entry, and a counter), and logs each acknowledged number. The restore must hold one
# point in time of that sequence:
#   - every write acknowledged before the backup started (none lost),
#   - no write later than the backup's end (it was taken while they ran),
#   - a whole prefix 1..m and nothing else, in every key alike (no torn write, no gap),
# and the data written before the load (a teacher, with odd bytes and a TTL) as it was.
set -euo pipefail
export LC_ALL=C

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
deploy_test_dirs shidang-backup-load

# The writer: a minimal RESP client (no Redis library needed) that sends write n+1 only once
# write n was acknowledged, and prints n (flushed) after each acknowledgement.
writer_py='
import socket, sys
sock = socket.socket(socket.AF_UNIX)
sock.connect(sys.argv[1])
script = (b"redis.call(\"SET\", KEYS[1], ARGV[1]) "
          b"redis.call(\"HSET\", KEYS[2], ARGV[1], ARGV[2]) "
          b"redis.call(\"ZADD\", KEYS[3], ARGV[1], ARGV[1]) "
          b"redis.call(\"XADD\", KEYS[4], \"*\", \"n\", ARGV[1], \"v\", ARGV[2]) "
          b"return redis.call(\"INCR\", KEYS[5])")
def command(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out
buf = b""
n = 0
while True:
    n += 1
    tag = b"load:{l}:"
    sock.sendall(command(b"EVAL", script, b"5", tag + b"s:%d" % n, tag + b"hash", tag + b"zset",
                         tag + b"stream", tag + b"count", b"%d" % n, b"value %d \xe2\x80\x94" % n))
    while b"\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            sys.exit("connection closed")
        buf += chunk
    line, buf = buf.split(b"\r\n", 1)
    if line != b":%d" % n:
        sys.exit("write %d answered %r" % (n, line))
    sys.stdout.write("%d\n" % n)
    sys.stdout.flush()
'
acked() {
  local n
  n="$(tail -n 1 "$tmp/acks.log" 2>/dev/null)"
  echo "${n:-0}"
}

# --- the source, its data before the load, and the load ---------------------------------------
mkdir -p "$source_dir/keys"
head -c 32 /dev/urandom >"$source_dir/keys/principal.key"
chmod 600 "$source_dir/keys/principal.key"
start_platform_redis "$source_dir"
odd=$'王老师 "quoted" \\ \r\n\xff end'
q "$source_dir" HSET 'profile:{c:330723}:teacher:T1' name "$odd" >/dev/null
q "$source_dir" SET 'common:{c:330723}:idem:r1' answer EX 86400 >/dev/null

python3 -c "$writer_py" "$source_dir/redis.sock" >"$tmp/acks.log" 2>"$tmp/writer.err" &
writer_pid=$!
stop_first+=("$writer_pid")
for _ in $(seq 1 100); do (($(acked) >= 2000)) && break; sleep 0.05; done
(($(acked) >= 2000)) || fail "the writer did not get going: $(cat "$tmp/writer.err")"

# --- backup while it writes ----------------------------------------------------------------------
before="$(acked)"
"$repo/deploy/backup.sh" "$source_dir" "$tmp/backup.tar.gz"
after="$(acked)"
sleep 0.2
kill -0 "$writer_pid" 2>/dev/null || fail "the writer stopped during the backup: $(cat "$tmp/writer.err")"
kill "$writer_pid"
wait "$writer_pid" 2>/dev/null || true
stop_first=()
((after > before)) || fail "no write was acknowledged while the backup ran ($before, $after)"

# --- restore and check one point in time --------------------------------------------------------
"$repo/deploy/restore.sh" "$tmp/backup.tar.gz" "$restored_dir"
start_platform_redis "$restored_dir"
m="$(q "$restored_dir" GET 'load:{l}:count')"
[[ "$m" =~ ^[0-9]+$ ]] || fail "the restore holds no counter: [$m]"
m="${m:-0}"
((m >= before)) || fail "writes acknowledged before the backup started are missing: holds $m of $before"
((m <= after)) || fail "the restore holds $m writes, more than the $after acknowledged by its end"
expect_eq "$m" "$(q "$restored_dir" HLEN 'load:{l}:hash')" "hash fields"
expect_eq "$m" "$(q "$restored_dir" ZCARD 'load:{l}:zset')" "sorted-set members"
expect_eq "$m" "$(q "$restored_dir" XLEN 'load:{l}:stream')" "stream entries"
# The prefix 1..m, each write whole: the string, the hash field and the stream entry of every n.
check_script='
local m = tonumber(redis.call("GET", "load:{l}:count"))
local entries = redis.call("XRANGE", "load:{l}:stream", "-", "+")
for n = 1, m do
  local v = "value " .. n .. " \226\128\148"
  if redis.call("GET", "load:{l}:s:" .. n) ~= tostring(n) then return "string " .. n end
  if redis.call("HGET", "load:{l}:hash", tostring(n)) ~= v then return "hash field " .. n end
  if redis.call("ZSCORE", "load:{l}:zset", tostring(n)) ~= tostring(n) then return "zset " .. n end
  local fields = entries[n][2]
  if fields[2] ~= tostring(n) or fields[4] ~= v then return "stream entry " .. n end
end
if redis.call("EXISTS", "load:{l}:s:" .. (m + 1)) == 1 then return "a write past the counter" end
return "ok"
'
expect_eq ok "$(q "$restored_dir" EVAL "$check_script" 0)" "every write of the prefix, whole"
expect_eq "$((m + 6))" "$(q "$restored_dir" DBSIZE)" "keys: m strings, hash, zset, stream, counter, teacher, idem"
expect_eq "$odd" "$(q "$restored_dir" HGET 'profile:{c:330723}:teacher:T1' name)" "data from before the load"
ttl="$(q "$restored_dir" TTL 'common:{c:330723}:idem:r1')"
((ttl > 86000 && ttl <= 86400)) || fail "TTL kept (got $ttl)"

if ((failures)); then
  echo "backup_under_load_test: $failures failure(s)" >&2
  exit 1
fi
echo "backup_under_load_test: OK (backup taken while writing: $before acknowledged at its start," \
  "$after at its end; the restore holds writes 1..$m, each whole, and nothing else)"
