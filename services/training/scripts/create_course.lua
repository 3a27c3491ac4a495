--[[
  Creates a provider's course with no seats taken.

  K (KEYS after the kit's two):
    K[1] course (hash: p bytes, n seats taken, cap, st state), K[2] the provider's courses (zset)
  A (ARGV after the kit's):
    A[1] the Course serialized, A[2] course id, A[3] capacity, A[4] state (CourseState number)
  Returns {ok = A[1]}.
  Errors:
    ALREADY_EXISTS (course_id)  the course exists
  Example:
    K = {'training:{p:pv01}:course:c1', 'training:{p:pv01}:courses'}
    A = {'course bytes', 'c1', '30', '1'}
]]
if redis.call('EXISTS', K[1]) == 1 then
  return {err = Code.ALREADY_EXISTS, msg = 'course ' .. A[2] .. ' already exists',
          field = 'course_id', rule = 'course_exists'}
end
redis.call('HSET', K[1], 'p', A[1], 'n', 0, 'cap', A[3], 'st', A[4])
redis.call('ZADD', K[2], 0, A[2])
emit_all()
return {ok = A[1]}
