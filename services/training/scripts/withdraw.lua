--[[
  Withdraws an enrolled teacher from a course, freeing the seat.

  K (KEYS after the kit's two):
    K[1] course (hash), K[2] enrolments, K[3] enrolment states (as in enroll.lua)
  A (ARGV after the kit's):
    A[1] teacher id, A[2] the withdrawn Enrollment serialized
  Returns {ok = A[2]}.
  Errors:
    FAILED_PRECONDITION (teacher_id)  the teacher is not enrolled
  Example:
    given = {{'HSET', 'training:{p:pv01}:course:c1',
              'p', 'course bytes', 'n', '1', 'cap', '30', 'st', '2'},
             {'HSET', 'training:{p:pv01}:enrst:c1', 't1', '1'}}
    K = {'training:{p:pv01}:course:c1', 'training:{p:pv01}:enr:c1', 'training:{p:pv01}:enrst:c1'}
    A = {'t1', 'enrollment bytes'}
]]
if redis.call('HGET', K[3], A[1]) ~= '1' then
  return {err = Code.FAILED_PRECONDITION, msg = 'the teacher is not enrolled in this course',
          field = 'teacher_id', rule = 'not_enrolled'}
end
redis.call('HINCRBY', K[1], 'n', -1)
redis.call('HSET', K[2], A[1], A[2])
redis.call('HSET', K[3], A[1], '2')
emit_all()
return {ok = A[2]}
