--[[
  Moves a course to a new state (publish, close), if it is in one of the states allowed.

  K (KEYS after the kit's two):
    K[1] course (hash)
  A (ARGV after the kit's):
    A[1] the Course serialized, A[2] new state, A[3..] the states it may come from
  Returns {ok = A[1]}.
  Errors:
    NOT_FOUND (course_id)            the course does not exist
    FAILED_PRECONDITION (course_id)  its state is not one of A[3..]
  Example:
    given = {{'HSET', 'training:{p:pv01}:course:c1',
              'p', 'course bytes', 'n', '0', 'cap', '30', 'st', '1'}}
    K = {'training:{p:pv01}:course:c1'}
    A = {'course bytes', '2', '1'}
]]
local st = redis.call('HGET', K[1], 'st')
if not st then
  return {err = Code.NOT_FOUND, msg = 'course not found', field = 'course_id',
          rule = 'unknown_course'}
end
local allowed = false
for i = 3, #A do if A[i] == st then allowed = true end end
if not allowed then
  return {err = Code.FAILED_PRECONDITION, msg = 'not allowed from the course state ' .. st,
          field = 'course_id', rule = 'course_state'}
end
redis.call('HSET', K[1], 'p', A[1], 'st', A[2])
emit_all()
return {ok = A[1]}
