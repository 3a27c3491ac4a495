--[[
  transition_rotation: moves a rotation from one state to another (or records one party's
  approval), if its stored state still is the one the caller read: what StartRotation writes
  after moving the teacher (rejections, cancellations and completions are change_rotation.lua,
  approvals approve_rotation.lua, without a read first). Runs as a Mutation body
  (services/common/mutation.h): a retried request id was answered by the prelude before any of
  these checks; emit(1) publishes the prepared event.

  KEYS (K): all under the county's hash tag {c:<county>}
    K[1] rotation:{c}:rot     hash  rotation id -> serialized Rotation
    K[2] rotation:{c}:state   hash  rotation id -> RotationState name; "<id>:hr" = "1" once county
                                    HR approved, "<id>:rc" = "1" once the receiving school confirmed
    K[3] rotation:{c}:active  hash  teacher id -> id of their rotation last created
    K[4] rotation:{c}:writes  string  the county's writes counter, bumped when this writes
    K[5] rotation:{c}:changes zset    the county's change log (county_delta.h), recorded here
  ARGV (A):
    A[1] rotation id          A[2] teacher id
    A[3] allowed from-states, comma-separated names
    A[4] the target state's name, for the error message
    A[5] the state the caller read (compare-and-set)
    A[6] the new state's name A[7] the new serialized Rotation
    A[8] approval flag to set: "" none, "hr" or "rc"
    A[9] the "hr" flag the caller read ("1" / ""), A[10] the "rc" flag the caller read
    A[11] "1": the rotation no longer occupies its teacher (drop K[3]'s entry if it is this one)
    A[12] how many records the change log keeps
  Returns: {ok = the new serialized Rotation}
  Errors:
    Code.NOT_FOUND: no such rotation
    Code.FAILED_PRECONDITION: the stored state may not become the target (names both states), or
                             the flag is set already
    Code.ABORTED: the rotation changed since the caller read it: read again and retry
  Example:
    given = {{'HSET', 'rotation:{c:330723}:state', 'r1', 'ROTATION_STATE_PROPOSED'},
             {'HSET', 'rotation:{c:330723}:rot', 'r1', 'old-bytes'},
             {'HSET', 'rotation:{c:330723}:active', 't1', 'r1'}}
    K = {'rotation:{c:330723}:rot', 'rotation:{c:330723}:state', 'rotation:{c:330723}:active',
         'rotation:{c:330723}:writes', 'rotation:{c:330723}:changes'}
    A = {'r1', 't1', 'ROTATION_STATE_PROPOSED', 'ROTATION_STATE_APPROVED',
         'ROTATION_STATE_PROPOSED', 'ROTATION_STATE_APPROVED', 'new-bytes', 'hr', '', '', '', '512'}
]]
local state = redis.call('HGET', K[2], A[1])
if not state then return {err = Code.NOT_FOUND, msg = 'no rotation ' .. A[1]} end
local allowed = false
for name in string.gmatch(A[3], '[^,]+') do
  if name == state then allowed = true end
end
if not allowed then
  return {err = Code.FAILED_PRECONDITION,
          msg = 'rotation ' .. A[1] .. ' is ' .. state .. '; cannot become ' .. A[4]}
end
local hr = redis.call('HGET', K[2], A[1] .. ':hr') or ''
local rc = redis.call('HGET', K[2], A[1] .. ':rc') or ''
if (A[8] == 'hr' and hr == '1') or (A[8] == 'rc' and rc == '1') then
  return {err = Code.FAILED_PRECONDITION,
          msg = 'rotation ' .. A[1] .. ' is already approved by ' ..
                (A[8] == 'hr' and 'county HR' or 'the receiving school')}
end
if state ~= A[5] or hr ~= A[9] or rc ~= A[10] then
  return {err = Code.ABORTED, msg = 'rotation ' .. A[1] .. ' changed meanwhile; read it again and retry'}
end
redis.call('HSET', K[1], A[1], A[7])
redis.call('HSET', K[2], A[1], A[6])
if A[8] ~= '' then redis.call('HSET', K[2], A[1] .. ':' .. A[8], '1') end
if A[11] == '1' and redis.call('HGET', K[3], A[2]) == A[1] then
  redis.call('HDEL', K[3], A[2])
end
local version = redis.call('INCR', K[4])
redis.call('ZADD', K[5], version, string.format('%d:r:%s', version, A[1]))
redis.call('ZREMRANGEBYRANK', K[5], 0, -1 - tonumber(A[12]))
emit(1)
return {ok = A[7]}
