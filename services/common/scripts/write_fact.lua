--[[
  write_fact: sets or deletes one field of a county's copied hash (another service's facts, which
  have no script of their own), bumps the county's writes counter and records the change in its
  change log (services/common/county_delta.h), all at once, so a reader patching its copy from
  the log never misses the write. Runs as a Mutation body (services/common/mutation.h) with no
  events.

  KEYS (K): all under the county's hash tag {c:<county>}
    K[1] the hash  (e.g. rotation:{c}:teachers)  field id -> serialized copy
    K[2] <service>:{c}:writes   string      the county's writes counter
    K[3] <service>:{c}:changes  sorted set  "<version>:<kind>:<id>" scored by version
  ARGV (A):
    A[1] kind (the hash's name in the log)   A[2] field id   A[3] '1' set, '0' delete
    A[4] the bytes to set   A[5] the counter's first value if it is missing
    A[6] how many records the log keeps
  Returns: {ok = the counter's new value}
  Errors:
    Code.INVALID_ARGUMENT: A[3] is neither '1' nor '0'
  Example:
    K = {'rotation:{c:330723}:teachers', 'rotation:{c:330723}:writes',
         'rotation:{c:330723}:changes'}
    A = {'t', 'T1', '1', 'teacher-bytes', '1765000000000000', '512'}
]]
if A[3] ~= '1' and A[3] ~= '0' then
  return {err = Code.INVALID_ARGUMENT, msg = 'write_fact: A[3] must be 1 (set) or 0 (delete)'}
end
if A[3] == '1' then
  redis.call('HSET', K[1], A[2], A[4])
else
  redis.call('HDEL', K[1], A[2])
end
redis.call('SET', K[2], A[5], 'NX')
local version = redis.call('INCR', K[2])
redis.call('ZADD', K[3], version, string.format('%d:%s:%s', version, A[1], A[2]))
redis.call('ZREMRANGEBYRANK', K[3], 0, -1 - tonumber(A[6]))
return {ok = string.format('%d', version)}
