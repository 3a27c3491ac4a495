--[[
  Marks teachers as having completed a course, once per teacher and generation (a reversed
  credit bumps the generation), HSETNX: one command per row in the usual case.

  K (KEYS after the kit's two):
    K[1] done (hash: teacher -> '<entry id>|<county>'), K[2] generations (hash: teacher -> n)
  A (ARGV after the kit's):
    A[1] n rows, A[2] the first answer, then per row: teacher id, ledger entry id, county
  Returns {ok = '<length of A[2]>:' .. A[2] .. rows}, a line per row: '+<mark>' marked now, or
    '=<mark>' marked before.
  Errors: none.
  Example:
    given = {{'HSET', 'training:{p:pv01}:gen:c1', 't2', '1'}}
    K = {'training:{p:pv01}:done:c1', 'training:{p:pv01}:gen:c1'}
    A = {'2', 'answer', 't1', 'e1', '110105', 't2', 'e2', '110105'}
]]
local n = tonumber(A[1])
local out = {}
-- Reversals of this course's credits are rare: without any, no row needs its generation read.
local any_reversed = redis.call('EXISTS', K[2]) == 1
for i = 0, n - 1 do
  local teacher, id, county = A[3 + 3 * i], A[4 + 3 * i], A[5 + 3 * i]
  local gen = any_reversed and redis.call('HGET', K[2], teacher)
  if gen then id = id .. '-' .. gen end
  local mark = id .. '|' .. county
  if redis.call('HSETNX', K[1], teacher, mark) == 1 then
    out[i + 1] = '+' .. mark
  else
    out[i + 1] = '=' .. redis.call('HGET', K[1], teacher)
  end
end
emit_all()
return {ok = #A[2] .. ':' .. A[2] .. table.concat(out, '\n')}
