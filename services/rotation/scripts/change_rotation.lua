--[[
  change_rotation: a rotation's rejection, cancellation or completion, all of it in one script
  (one round trip), as approve_rotation.lua does an approval: the replay of a retried request id
  (the prelude, before any check), the caller's reach, the state check, the write, its event and
  the change-log record. Runs as a Mutation body (services/common/mutation.h).

  The service does not read the rotation first: for each state the change may leave it sends
  what the change adds to the rotation in that state (the new state, a history entry naming the
  state left, a completion day), as protobuf bytes this script appends to the stored ones
  (stored_rotation.lua). The target state no longer occupies the teacher.

  KEYS (K): all under the county's hash tag {c:<county>}
    K[1] rotation:{c}:rot     hash  rotation id -> serialized Rotation
    K[2] rotation:{c}:state   hash  rotation id -> RotationState name (and "<id>:hr" / "<id>:rc"
                                    approval flags)
    K[3] rotation:{c}:active  hash  teacher id -> id of their rotation last created; its entry is
                                    dropped when it is this rotation
    K[4] rotation:{c}:writes  string  the county's writes counter, bumped when this writes
    K[5] rotation:{c}:changes zset    the county's change log (county_delta.h), recorded here
  ARGV (A):
    A[1] rotation id
    A[2] "1" when the caller acts on every rotation of the county (its HR or above, trusted)
    A[3] the caller's school id when a school admin, "" otherwise
    A[4] which school of the rotation may act besides: "receiving" (its receiving school, where
         the personnel relation moves), "sending" (its sending school, while PROPOSED), "" none
    A[5] the target state's name
    A[6] a day the stored started_on may not be after ("" no such check): a completion's day
    A[7] the event's payload Any up to its value: field 1, the type URL, encoded
    A[8] how many records the change log keeps
    A[9], A[10], ... pairs: a state the change may leave, what the change adds to a rotation
         in that state (Rotation bytes to append)
  Prepared event 1, without teacher_id and payload, which this script appends (emit(1, extra))
  from the stored rotation.
  Returns: {ok = the new serialized Rotation (the stored bytes with the pair's bytes appended)}
  Errors, in the order checked:
    Code.NOT_FOUND: no such rotation (A[2] = "1"; anyone else is refused as below)
    Code.PERMISSION_DENIED: the caller may not make the change (the service words the refusal,
                            alike for every rotation, so that it tells nothing of it)
    Code.OUT_OF_RANGE: A[6] is before the stored started_on, given as msg (the service words it
                       as INVALID_ARGUMENT on the request's day)
    Code.FAILED_PRECONDITION: the rotation is in no state of the pairs (names both states)
  Example:
    given = {{'HSET', 'rotation:{c:330723}:state', 'r1', 'ROTATION_STATE_PROPOSED'},
             {'HSET', 'rotation:{c:330723}:rot', 'r1', '\10\2r1\18\2t1'},
             {'HSET', 'rotation:{c:330723}:active', 't1', 'r1'}}
    K = {'rotation:{c:330723}:rot', 'rotation:{c:330723}:state', 'rotation:{c:330723}:active',
         'rotation:{c:330723}:writes', 'rotation:{c:330723}:changes'}
    A = {'r1', '1', '', '', 'ROTATION_STATE_CANCELLED', '', '\10\4type', '512',
         'ROTATION_STATE_PROPOSED', '\80\6', 'ROTATION_STATE_APPROVED', '\80\6'}
]]
--- @include "stored_rotation.lua"

local function denied()
  return {err = Code.PERMISSION_DENIED, msg = 'may not change rotation ' .. A[1]}
end

local state = redis.call('HGET', K[2], A[1])
if not state then
  if A[2] == '1' then return {err = Code.NOT_FOUND, msg = 'no rotation ' .. A[1]} end
  return denied()
end
local stored = redis.call('HGET', K[1], A[1]) or ''
-- Rotation: 2 teacher_id, 4 sending_school_id, 5 receiving_school_id, 7 relation_moves,
-- 13 started_on.
local rotation = fields_of(stored, {[2] = true, [4] = true, [5] = true, [7] = true, [13] = true},
                           A[1])
if A[2] ~= '1' then
  local school = A[3] ~= '' and A[3] or nil
  local receiving = A[4] == 'receiving' and rotation[7] == 1 and rotation[5] == school
  local sending = A[4] == 'sending' and state == 'ROTATION_STATE_PROPOSED' and
                  rotation[4] == school
  if not school or not (receiving or sending) then return denied() end
end
local started = rotation[13] or ''
if A[6] ~= '' and started ~= '' and A[6] < started then
  return {err = Code.OUT_OF_RANGE, msg = started}
end
local adds
for i = 9, #A - 1, 2 do
  if A[i] == state then adds = A[i + 1] end
end
if not adds then
  return {err = Code.FAILED_PRECONDITION,
          msg = 'rotation ' .. A[1] .. ' is ' .. state .. '; cannot become ' .. A[5]}
end
local updated = stored .. adds
local teacher = rotation[2] or ''
redis.call('HSET', K[1], A[1], updated)
redis.call('HSET', K[2], A[1], A[5])
if redis.call('HGET', K[3], teacher) == A[1] then redis.call('HDEL', K[3], teacher) end
record_change(K, A[1], A[8])
emit(1, event_extra(teacher, A[7], updated))
return {ok = updated}
