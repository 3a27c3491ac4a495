-- put_deferral: records a new deferral, or replaces one the caller read (ending it). Runs as a
-- Mutation body (services/common/mutation.h): a retried request id was answered by the prelude
-- before these checks; emit(1) publishes the prepared event.
--
-- KEYS (K): under the county's hash tag {c:<county>}
--   K[1] rotation:{c}:deferrals  hash  deferral id -> serialized Deferral
-- ARGV (A):
--   A[1] deferral id, A[2] the new serialized Deferral,
--   A[3] "" to create one, or the serialized Deferral the caller read (compare-and-set)
-- Returns: {ok = the new serialized Deferral}
-- Errors:
--   ALREADY_EXISTS (6): creating, and the id is taken
--   NOT_FOUND (5): replacing a deferral that does not exist
--   ABORTED (10): the deferral changed since the caller read it: read again and retry

local NOT_FOUND = 5
local ALREADY_EXISTS = 6
local ABORTED = 10

local stored = redis.call('HGET', K[1], A[1])
if A[3] == '' then
  if stored then return {err = ALREADY_EXISTS, msg = 'deferral ' .. A[1] .. ' exists'} end
else
  if not stored then return {err = NOT_FOUND, msg = 'no deferral ' .. A[1]} end
  if stored ~= A[3] then
    return {err = ABORTED, msg = 'deferral ' .. A[1] .. ' changed meanwhile; read it again and retry'}
  end
end
redis.call('HSET', K[1], A[1], A[2])
emit(1)
return {ok = A[2]}
