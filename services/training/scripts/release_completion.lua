--[[
  Releases a teacher's completion mark when it names the entry, and bumps the teacher's
  generation so a later completion gets a new entry id.

  K (KEYS after the kit's two):
    K[1] done, K[2] generations (as in mark_completed.lua)
  A (ARGV after the kit's):
    A[1] teacher id, A[2] ledger entry id
  Returns {ok = ''}.
  Errors: none.
  Example:
    given = {{'HSET', 'training:{p:pv01}:done:c1', 't1', 'e1|110105'}}
    K = {'training:{p:pv01}:done:c1', 'training:{p:pv01}:gen:c1'}
    A = {'t1', 'e1'}
]]
local mark = redis.call('HGET', K[1], A[1])
if mark and string.sub(mark, 1, #A[2] + 1) == A[2] .. '|' then
  redis.call('HDEL', K[1], A[1])
  redis.call('HINCRBY', K[2], A[1], 1)
end
return {ok = ''}
