--[[
  Stores recounted running totals of teachers, each only when the teacher's ledger still has the
  length they were counted from and the teacher still exists.

  K (KEYS after the kit's two):
    K[1] the county's writes counter, then the keys referenced by index from A
  A (ARGV after the kit's):
    A[1] n, then per write 7 args: teacher record idx, ledger idx, ledger length, tally, row,
    policy stamp, event index (0 none)
  Returns {ok = how many were stored}.
  Errors: none.
  Example:
    given = {{'HSET', 'training:{c:110105}:t:t1', 'v', '1'},
             {'RPUSH', 'training:{c:110105}:ledger:t1', 'entry bytes'}}
    K = {'training:{c:110105}:writes', 'training:{c:110105}:t:t1', 'training:{c:110105}:ledger:t1'}
    A = {'1', '2', '3', '1', 'tally', 'row', 'ps', '1'}
]]
local n = tonumber(A[1])
local stored = 0
redis.call('INCR', K[1])
for i = 0, n - 1 do
  local p = 2 + 7 * i
  local t, ledger = K[tonumber(A[p])], K[tonumber(A[p + 1])]
  if redis.call('LLEN', ledger) == tonumber(A[p + 2]) and redis.call('EXISTS', t) == 1 then
    redis.call('HSET', t, 'tally', A[p + 3], 'row', A[p + 4], 'ps', A[p + 5])
    local event = tonumber(A[p + 6])
    if event > 0 then emit(event) end
    stored = stored + 1
  end
end
return {ok = tostring(stored)}
