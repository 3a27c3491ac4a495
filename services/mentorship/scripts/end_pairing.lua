--[[
  end_pairing: replaces an active pairing with its ended form, if it is still what the caller
  read, and frees the mentor's place and the mentee's slot. Runs as a Mutation body
  (services/common/mutation.h); emit_all() publishes "mentorship.pairing_ended" for both files.

  KEYS (K): all under the county's hash tag {c:<county>}
    K[1] mentorship:{c}:pairings  hash  pairing id -> serialized Pairing
    K[2] mentorship:{c}:load      hash  mentor id (or "<mentor>|URBAN_RURAL") -> active pairings
    K[3] mentorship:{c}:slots     hash  "<mentee>|<slot>" -> active pairing id
    K[4] mentorship:{c}:writes    string the county's writes counter (store.h), bumped here
    K[5] mentorship:{c}:changes   zset   the county's change log (county_delta.h), recorded here
  ARGV (A):
    A[1] pairing id   A[2] the serialized Pairing the caller read (compare-and-set)
    A[3] the new serialized Pairing   A[4] the mentor's field in K[2]
    A[5] slot "<mentee>|<slot>"   A[6] the counter's first value if it is missing
    A[7] how many records the change log keeps
  Returns: {ok = the new serialized Pairing}
  Errors:
    Code.NOT_FOUND: no such pairing
    Code.ABORTED: the pairing changed since the caller read it: read again and retry
  Example:
    given = {{'HSET', 'mentorship:{c:330723}:pairings', 'MP330723-1', 'old'},
             {'HSET', 'mentorship:{c:330723}:load', 't2', '1'},
             {'HSET', 'mentorship:{c:330723}:slots', 't1|TEACHING', 'MP330723-1'}}
    K = {'mentorship:{c:330723}:pairings', 'mentorship:{c:330723}:load',
         'mentorship:{c:330723}:slots', 'mentorship:{c:330723}:writes',
         'mentorship:{c:330723}:changes'}
    A = {'MP330723-1', 'old', 'new', 't2', 't1|TEACHING', '1765000000000000', '512'}
]]
local stored = redis.call('HGET', K[1], A[1])
if not stored then return {err = Code.NOT_FOUND, msg = 'no pairing ' .. A[1]} end
if stored ~= A[2] then
  return {err = Code.ABORTED, msg = 'pairing ' .. A[1] .. ' changed meanwhile; read it again'}
end
redis.call('HSET', K[1], A[1], A[3])
if tonumber(redis.call('HGET', K[2], A[4]) or '0') > 0 then
  redis.call('HINCRBY', K[2], A[4], -1)
end
if redis.call('HGET', K[3], A[5]) == A[1] then redis.call('HDEL', K[3], A[5]) end
redis.call('SET', K[4], A[6], 'NX')
local version = redis.call('INCR', K[4])
redis.call('ZADD', K[5], version, string.format('%d:p:%s', version, A[1]))
redis.call('ZREMRANGEBYRANK', K[5], 0, -1 - tonumber(A[7]))
emit_all()
return {ok = A[3]}
