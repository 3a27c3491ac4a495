--[[
  Builds a county's index of self-reports awaiting review from its records, once: for data
  written before the index existed. Each candidate is added only if its state is still the one
  awaited (a review since it was read removed it, and must not be undone); records added since
  were indexed by add_record.lua itself. Then marks the index built.

  K (KEYS after the kit's two):
    K[1] the county's pending self-reports (zset), K[2] the mark that it is built (string),
    then the teachers' record states (hashes), referenced by index from A
  A (ARGV after the kit's):
    A[1] n, A[2] the awaited state, then per candidate 3 args: states idx, record id, score
  Returns {ok = how many were added}.
  Errors: none.
  Example:
    given = {{'HSET', 'training:{c:110105}:rs:t1', 'r1', '2'}}
    K = {'training:{c:110105}:pending', 'training:{c:110105}:pending-built',
         'training:{c:110105}:rs:t1'}
    A = {'1', '2', '3', 'r1', '1767225600000'}
]]
local n = tonumber(A[1])
local added = 0
for i = 0, n - 1 do
  local p = 3 + 3 * i
  if redis.call('HGET', K[tonumber(A[p])], A[p + 1]) == A[2] then
    added = added + redis.call('ZADD', K[1], A[p + 2], A[p + 1])
  end
end
redis.call('SET', K[2], '1')
return {ok = tostring(added)}
