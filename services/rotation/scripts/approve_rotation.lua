--[[
  approve_rotation: one party's approval of a proposed rotation, all of it in one script (one
  round trip): the replay of a retried request id (the prelude, before any check), the caller's
  reach, the state check, the write and its event. Runs as a Mutation body
  (services/common/mutation.h); the prelude has answered a retry with the stored first answer or
  refused a reused request id before any of this runs.

  The service does not read the rotation first: it sends what the approval adds to it, as
  protobuf bytes this script appends to the stored ones (a parser merges concatenated messages:
  the last state and flags win, the history entry is appended), one version for each outcome.
  The script reads from the stored bytes only the top-level fields it needs (teacher, receiving
  school, whether the personnel relation moves).

  KEYS (K): all under the county's hash tag {c:<county>}
    K[1] rotation:{c}:rot     hash  rotation id -> serialized Rotation
    K[2] rotation:{c}:state   hash  rotation id -> RotationState name; "<id>:hr" = "1" once county
                                    HR approved, "<id>:rc" = "1" once the receiving school confirmed
    K[3] rotation:{c}:active  hash  teacher id -> id of their rotation last created (not written:
                                    an approval keeps its teacher occupied; the same keys as
                                    transition_rotation.lua)
    K[4] rotation:{c}:writes  string  the county's writes counter, bumped when this writes
    K[5] rotation:{c}:changes zset    the county's change log (county_delta.h), recorded here
  ARGV (A):
    A[1] rotation id
    A[2] who approves: "hr" (county HR of the county, or trusted), "school" (a school admin: a
         receiving school confirms where the personnel relation moves), "none" (may not approve)
    A[3] the school admin's school id (A[2] = "school")
    A[4] what the approval adds when it completes it (state APPROVED, the flag, a history entry):
         Rotation bytes to append
    A[5] the same when it still waits for the other party (state PROPOSED)
    A[6] the event's payload Any up to its value: field 1, the type URL, encoded
    A[7] how many records the change log keeps
  Prepared events: 1 "rotation.approved", 2 "rotation.confirmed"; each without teacher_id and
  payload, which this script appends (emit(i, extra)) from the stored rotation.
  Returns: {ok = the new serialized Rotation (the stored bytes with A[4] or A[5] appended)}
  Errors:
    Code.NOT_FOUND: no such rotation (A[2] = "hr"; anyone else is refused as below)
    Code.PERMISSION_DENIED: the caller may not approve it (the service words the refusal, alike
                            for every rotation, so that it tells nothing of it)
    Code.FAILED_PRECONDITION: the rotation is not PROPOSED (names both states), or this party
                              approved it already
  Example:
    given = {{'HSET', 'rotation:{c:330723}:state', 'r1', 'ROTATION_STATE_PROPOSED'},
             {'HSET', 'rotation:{c:330723}:rot', 'r1', '\10\2r1\18\2t1'}}
    K = {'rotation:{c:330723}:rot', 'rotation:{c:330723}:state', 'rotation:{c:330723}:active',
         'rotation:{c:330723}:writes', 'rotation:{c:330723}:changes'}
    A = {'r1', 'hr', '', '\80\2\88\1', '\80\1\88\1', '\10\4type', '512'}
]]
local function denied()
  return {err = Code.PERMISSION_DENIED, msg = 'may not approve rotation ' .. A[1]}
end

--- @include "stored_rotation.lua"

if A[2] == 'none' then return denied() end
local state = redis.call('HGET', K[2], A[1])
if not state then
  if A[2] == 'hr' then return {err = Code.NOT_FOUND, msg = 'no rotation ' .. A[1]} end
  return denied()
end
local stored = redis.call('HGET', K[1], A[1]) or ''
-- Rotation: 2 teacher_id, 5 receiving_school_id, 7 relation_moves.
local rotation = fields_of(stored, {[2] = true, [5] = true, [7] = true}, A[1])
local moves = rotation[7] == 1
local flag = 'hr'
if A[2] == 'school' then
  if not moves or rotation[5] ~= A[3] then return denied() end
  flag = 'rc'
end
if state ~= 'ROTATION_STATE_PROPOSED' then
  return {err = Code.FAILED_PRECONDITION,
          msg = 'rotation ' .. A[1] .. ' is ' .. state .. '; cannot become ROTATION_STATE_APPROVED'}
end
local hr = redis.call('HGET', K[2], A[1] .. ':hr') == '1'
local rc = redis.call('HGET', K[2], A[1] .. ':rc') == '1'
if (flag == 'hr' and hr) or (flag == 'rc' and rc) then
  return {err = Code.FAILED_PRECONDITION,
          msg = 'rotation ' .. A[1] .. ' is already approved by ' ..
                (flag == 'hr' and 'county HR' or 'the receiving school')}
end
local approved = (hr or flag == 'hr') and (not moves or rc or flag == 'rc')
local updated = stored .. (approved and A[4] or A[5])
redis.call('HSET', K[1], A[1], updated)
redis.call('HSET', K[2], A[1], approved and 'ROTATION_STATE_APPROVED' or 'ROTATION_STATE_PROPOSED')
redis.call('HSET', K[2], A[1] .. ':' .. flag, '1')
record_change(K, A[1], A[7])
emit(approved and 1 or 2, event_extra(rotation[2] or '', A[6], updated))
return {ok = updated}
