--[[
  create_rotation: records a proposed rotation, unless its teacher already has an active one.
  Runs as a Mutation body (services/common/mutation.h): a retry with the same request id was
  answered by the prelude before this runs; emit(1) publishes the prepared "rotation.proposed".

  KEYS (K): all under the county's hash tag {c:<county>}
    K[1] rotation:{c}:rot     hash  rotation id -> serialized Rotation
    K[2] rotation:{c}:state   hash  rotation id -> RotationState name (and "<id>:hr" / "<id>:rc"
                                    approval flags)
    K[3] rotation:{c}:active  hash  teacher id -> id of their rotation last created
    K[4] rotation:{c}:writes  string  the county's writes counter, bumped when this writes
    K[5] rotation:{c}:changes zset    the county's change log (county_delta.h), recorded here
  ARGV (A):
    A[1] rotation id, A[2] teacher id, A[3] serialized Rotation, A[4] its state name,
    A[5] how many records the change log keeps
  Returns: {ok = the serialized Rotation}
  Errors:
    Code.FAILED_PRECONDITION field 'teacher_id', rule 'one_active_rotation': the teacher's
      rotation in K[3] is still PROPOSED, APPROVED or STARTED
    Code.ALREADY_EXISTS: the rotation id is taken
  Example:
    K = {'rotation:{c:330723}:rot', 'rotation:{c:330723}:state', 'rotation:{c:330723}:active',
         'rotation:{c:330723}:writes', 'rotation:{c:330723}:changes'}
    A = {'r1', 't1', 'rotation-bytes', 'ROTATION_STATE_PROPOSED', '512'}
]]
local ACTIVE = {ROTATION_STATE_PROPOSED = true, ROTATION_STATE_APPROVED = true,
                ROTATION_STATE_STARTED = true}

local current = redis.call('HGET', K[3], A[2])
if current then
  local state = redis.call('HGET', K[2], current)
  if state and ACTIVE[state] then
    return {err = Code.FAILED_PRECONDITION, field = 'teacher_id', rule = 'one_active_rotation',
            msg = 'teacher ' .. A[2] .. ' already has rotation ' .. current .. ' in state ' ..
                  state .. '; at most one active rotation per teacher'}
  end
end
if redis.call('HEXISTS', K[1], A[1]) == 1 then
  return {err = Code.ALREADY_EXISTS, msg = 'rotation ' .. A[1] .. ' exists'}
end
redis.call('HSET', K[1], A[1], A[3])
redis.call('HSET', K[2], A[1], A[4])
redis.call('HSET', K[3], A[2], A[1])
local version = redis.call('INCR', K[4])
redis.call('ZADD', K[5], version, string.format('%d:r:%s', version, A[1]))
redis.call('ZREMRANGEBYRANK', K[5], 0, -1 - tonumber(A[5]))
emit(1)
return {ok = A[3]}
