--[[
  create_pairing: records an active pairing, unless the mentee's slot (one active mentor per role,
  one urban-rural pair) is taken or the mentor is at capacity. Both checks run here, so twenty
  concurrent requests for a mentor's last place let exactly one through. Runs as a Mutation body
  (services/common/mutation.h): a retried request id was answered before this runs; emit(1) and
  emit(2) publish "mentorship.pairing_created" for the mentee's and the mentor's growth files.

  KEYS (K): all under the county's hash tag {c:<county>}
    K[1] mentorship:{c}:pairings         hash  pairing id -> serialized Pairing
    K[2] mentorship:{c}:load             hash  mentor id (or "<mentor>|URBAN_RURAL") -> active
                                               pairings
    K[3] mentorship:{c}:slots            hash  "<mentee>|<slot>" -> active pairing id
    K[4] mentorship:{c}:teacher:<mentee> set   the mentee's pairing ids
    K[5] mentorship:{c}:teacher:<mentor> set   the mentor's pairing ids
    K[6] mentorship:{c}:writes           string the county's writes counter (store.h), bumped here
    K[7] mentorship:{c}:changes          zset   the county's change log (county_delta.h)
  ARGV (A):
    A[1] pairing id    A[2] serialized Pairing    A[3] the mentor's field in K[2]
    A[4] slot "<mentee>|<slot>"    A[5] capacity (the most active pairings a mentor may hold)
    A[6] the slot's name for messages ("TEACHING mentor", "SECOND mentor", "urban-rural pair")
    A[7] mentor id (for messages)    A[8] the counter's first value if it is missing
    A[9] how many records the change log keeps
  Returns: {ok = the serialized Pairing}
  Errors:
    Code.FAILED_PRECONDITION field 'role', rule 'ROLE_TAKEN': the mentee's slot is held by
      another active pairing
    Code.FAILED_PRECONDITION field 'mentor_id', rule 'CAPACITY': the mentor's load has reached
      the capacity
    Code.ALREADY_EXISTS: the pairing id is taken
  Example:
    K = {'mentorship:{c:330723}:pairings', 'mentorship:{c:330723}:load',
         'mentorship:{c:330723}:slots', 'mentorship:{c:330723}:teacher:t1',
         'mentorship:{c:330723}:teacher:t2', 'mentorship:{c:330723}:writes',
         'mentorship:{c:330723}:changes'}
    A = {'MP330723-1', 'pairing-bytes', 't2', 't1|TEACHING', '2', 'TEACHING mentor', 't2',
         '1765000000000000', '512'}
]]
local held = redis.call('HGET', K[3], A[4])
if held then
  local mentee = string.match(A[4], '^(.*)|')
  return {err = Code.FAILED_PRECONDITION, field = 'role', rule = 'ROLE_TAKEN',
          msg = 'teacher ' .. mentee .. ' already has an active ' .. A[6] .. ' (pairing ' .. held ..
                '); one at a time'}
end
local load = tonumber(redis.call('HGET', K[2], A[3]) or '0')
local capacity = tonumber(A[5])
if load >= capacity then
  return {err = Code.FAILED_PRECONDITION, field = 'mentor_id', rule = 'CAPACITY',
          msg = 'mentor ' .. A[7] .. ' already has ' .. load .. ' active mentees; capacity is ' ..
                capacity}
end
if redis.call('HEXISTS', K[1], A[1]) == 1 then
  return {err = Code.ALREADY_EXISTS, msg = 'pairing ' .. A[1] .. ' exists'}
end
redis.call('HSET', K[1], A[1], A[2])
redis.call('HINCRBY', K[2], A[3], 1)
redis.call('HSET', K[3], A[4], A[1])
redis.call('SADD', K[4], A[1])
redis.call('SADD', K[5], A[1])
redis.call('SET', K[6], A[8], 'NX')
local version = redis.call('INCR', K[6])
redis.call('ZADD', K[7], version, string.format('%d:p:%s', version, A[1]))
redis.call('ZREMRANGEBYRANK', K[7], 0, -1 - tonumber(A[9]))
emit(1)
emit(2)
return {ok = A[2]}
