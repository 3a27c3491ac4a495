--[[
  Stores another service's summary of a teacher, unless a newer one of that source and kind is
  stored already (events can arrive late or twice).

  K (KEYS after the kit's two):
    K[1] the teacher's summaries (hash: field -> summary, field .. '@t' -> its as_of_ms)
  A (ARGV after the kit's):
    A[1] field ('<source>/<kind>'), A[2] the ServiceSummary serialized, A[3] its as_of_ms
  Returns {ok = ''}.
  Errors: none.
  Example:
    K = {'profile:{c:110105}:sum:t1'}
    A = {'training/hours', 'summary bytes', '1767225600000'}
]]
local stamp = tonumber(redis.call('HGET', K[1], A[1] .. '@t') or '-1')
if tonumber(A[3]) >= stamp then
  redis.call('HSET', K[1], A[1], A[2], A[1] .. '@t', A[3])
end
return {ok = ''}
