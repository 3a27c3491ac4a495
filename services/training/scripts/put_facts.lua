--[[
  Stores the training service's copy of a teacher's facts (from the profile service's events)
  and bumps its version. The running totals were counted under the old facts (the cycle
  anchor): dropped here, recounted by the caller.

  K (KEYS after the kit's two):
    K[1] the teacher's record (hash), K[2] the county's teachers (zset), K[3] the county's writes
    counter
  A (ARGV after the kit's):
    A[1] teacher id, A[2] '1' when the teacher left (leaves the zset), then field, value pairs
  Returns {ok = the new version}.
  Errors: none.
  Example:
    K = {'training:{c:110105}:t:t1', 'training:{c:110105}:teachers', 'training:{c:110105}:writes'}
    A = {'t1', '0', 'anchor', '2024-09-01', 'hired', '2010-09-01'}
]]
for i = 3, #A, 2 do redis.call('HSET', K[1], A[i], A[i + 1]) end
local v = redis.call('HINCRBY', K[1], 'v', 1)
redis.call('HDEL', K[1], 'tally', 'row', 'ps')
redis.call('INCR', K[3])
if A[2] == '1' then
  redis.call('ZREM', K[2], A[1])
else
  redis.call('ZADD', K[2], 0, A[1])
end
emit_all()
return {ok = tostring(v)}
