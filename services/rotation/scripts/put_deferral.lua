--[[
  put_deferral: records a new deferral, or replaces one the caller read (ending it). Runs as a
  Mutation body (services/common/mutation.h): a retried request id was answered by the prelude
  before these checks; emit(1) publishes the prepared event.

  KEYS (K): under the county's hash tag {c:<county>}
    K[1] rotation:{c}:deferrals  hash  deferral id -> serialized Deferral
    K[2] rotation:{c}:writes     string  the county's writes counter, bumped when this writes
    K[3] rotation:{c}:changes    zset    the county's change log (county_delta.h), recorded here
  ARGV (A):
    A[1] deferral id, A[2] the new serialized Deferral,
    A[3] "" to create one, or the serialized Deferral the caller read (compare-and-set),
    A[4] how many records the change log keeps
  Returns: {ok = the new serialized Deferral}
  Errors:
    Code.ALREADY_EXISTS: creating, and the id is taken
    Code.NOT_FOUND: replacing a deferral that does not exist
    Code.ABORTED: the deferral changed since the caller read it: read again and retry
  Example:
    K = {'rotation:{c:330723}:deferrals', 'rotation:{c:330723}:writes',
         'rotation:{c:330723}:changes'}
    A = {'d1', 'deferral-bytes', '', '512'}
]]
local stored = redis.call('HGET', K[1], A[1])
if A[3] == '' then
  if stored then return {err = Code.ALREADY_EXISTS, msg = 'deferral ' .. A[1] .. ' exists'} end
else
  if not stored then return {err = Code.NOT_FOUND, msg = 'no deferral ' .. A[1]} end
  if stored ~= A[3] then
    return {err = Code.ABORTED, msg = 'deferral ' .. A[1] .. ' changed meanwhile; read it again and retry'}
  end
end
redis.call('HSET', K[1], A[1], A[2])
local version = redis.call('INCR', K[2])
redis.call('ZADD', K[3], version, string.format('%d:d:%s', version, A[1]))
redis.call('ZREMRANGEBYRANK', K[3], 0, -1 - tonumber(A[4]))
emit(1)
return {ok = A[2]}
