--[[
  Appends credit entries to teachers' ledgers, in order, each once (its mark), storing the
  running totals when the ledger has the length they were counted for (else dropping them for a
  recount), and settling a record or reversing a credit on the way (store.cc says more).

  K (KEYS after the kit's two):
    K[1] the county's writes counter, K[2] its pending self-reports (a settled record leaves
    them), then every other key once, referenced by index from A
  A (ARGV after the kit's):
    A[1] n appends, A[2] strict ('1': an append is a strict review), then per append 8 args:
    head, mark, entry bytes, entry id, tally, row, policy stamp, the summary to attach to the
    event when the totals are stored ('' none); then 0 or 9 extra args: records idx, states idx,
    record id, from state, to state, record bytes, strict, course id whose 'w:' to drop ('' none),
    mark to release ('' none). The head packs five numbers, 3 bytes each, big-endian: teacher
    record idx, ledger idx, event index (0 none), expected ledger length + 1 (0: drop the
    totals), number of extra args.
  Returns {ok = a character per append}: '0' not applied (already in), '1' applied with its
    totals, '2' applied, totals dropped (recount).
  Errors:
    FAILED_PRECONDITION (record_id)  strict, and the record is no longer awaiting review; checked
                                     before any write
  Example:
    given = {{'HSET', 'training:{c:110105}:rs:t1', 'r1', '2'}}
    K = {'training:{c:110105}:writes', 'training:{c:110105}:pending', 'training:{c:110105}:t:t1',
         'training:{c:110105}:ledger:t1', 'training:{c:110105}:recs:t1', 'training:{c:110105}:rs:t1'}
    A = {'1', '1', '\0\0\3\0\0\4\0\0\1\0\0\1\0\0\9', 'c:c1', 'entry bytes', 'e1', 'tally',
         'row', 'ps', 'summary', '5', '6', 'r1', '2', '3', 'record bytes', '1', 'c1', 'c:c0'}
]]
local n = tonumber(A[1])
local function head(p)
  local a1, a2, a3, b1, b2, b3, c1, c2, c3, d1, d2, d3, e1, e2, e3 = string.byte(A[p], 1, 15)
  return K[(a1 * 256 + a2) * 256 + a3], K[(b1 * 256 + b2) * 256 + b3], (c1 * 256 + c2) * 256 + c3,
         (d1 * 256 + d2) * 256 + d3 - 1, (e1 * 256 + e2) * 256 + e3
end
local function applies(t, p)
  local got = redis.call('HMGET', t, A[p + 1], 'x:' .. A[p + 3])
  return not got[1] and not got[2]
end
local function record_state(x)
  return redis.call('HGET', K[tonumber(A[x + 1])], A[x + 2])
end
if A[2] == '1' then
  local p = 3
  for _ = 1, n do
    local t, _, _, _, extra = head(p)
    local x = p + 8
    if extra > 0 and A[x + 6] == '1' and tonumber(A[x]) > 0 and applies(t, p) then
      local state = record_state(x)
      if state ~= A[x + 3] then
        return {err = Code.FAILED_PRECONDITION, field = 'record_id', rule = 'not_pending',
                msg = 'the record is no longer awaiting review (state ' .. tostring(state) .. ')'}
      end
    end
    p = x + extra
  end
end
redis.call('INCR', K[1])
local out = {}
local p = 3
for i = 1, n do
  local t, ledger, event, expected, extra = head(p)
  if applies(t, p) then
    local mark, entry_id = A[p + 1], A[p + 3]
    local len = redis.call('RPUSH', ledger, A[p + 2])
    local summary = nil
    if expected >= 0 and len == expected + 1 then
      redis.call('HSET', t, mark, entry_id, 'tally', A[p + 4], 'row', A[p + 5], 'ps', A[p + 6])
      if A[p + 7] ~= '' then summary = A[p + 7] end
      out[i] = '1'
    else
      redis.call('HSET', t, mark, entry_id)
      redis.call('HDEL', t, 'tally', 'row', 'ps')
      out[i] = '2'
    end
    if extra > 0 then
      local x = p + 8
      if A[x + 8] ~= '' then redis.call('HDEL', t, A[x + 8]) end
      local records = tonumber(A[x])
      if records > 0 and record_state(x) == A[x + 3] then
        redis.call('HSET', K[records], A[x + 2], A[x + 5])
        redis.call('HSET', K[tonumber(A[x + 1])], A[x + 2], A[x + 4])
        redis.call('ZREM', K[2], A[x + 2])
        if A[x + 7] ~= '' then redis.call('HDEL', t, 'w:' .. A[x + 7]) end
      end
    end
    if event > 0 then emit(event, summary) end
  else
    out[i] = '0'
  end
  p = p + 8 + extra
end
return {ok = table.concat(out)}
