--[[
  Enrols a teacher in a published course with a free seat; enrolling again answers the first
  enrolment and takes no second seat.

  K (KEYS after the kit's two):
    K[1] course (hash), K[2] enrolments (hash: teacher -> Enrollment), K[3] enrolment states
    (hash: teacher -> '1' enrolled, '2' withdrawn)
  A (ARGV after the kit's):
    A[1] teacher id, A[2] the Enrollment serialized, A[3] the published state
  Returns {ok = '<seats left>:<the stored Enrollment>'}.
  Errors:
    NOT_FOUND (course_id)            the course does not exist
    FAILED_PRECONDITION (course_id)  the course is not published, or it is full
  Example:
    given = {{'HSET', 'training:{p:pv01}:course:c1',
              'p', 'course bytes', 'n', '0', 'cap', '30', 'st', '2'}}
    K = {'training:{p:pv01}:course:c1', 'training:{p:pv01}:enr:c1', 'training:{p:pv01}:enrst:c1'}
    A = {'t1', 'enrollment bytes', '2'}
]]
local st = redis.call('HGET', K[1], 'st')
if not st then
  return {err = Code.NOT_FOUND, msg = 'course not found', field = 'course_id',
          rule = 'unknown_course'}
end
local cap = tonumber(redis.call('HGET', K[1], 'cap'))
local taken = tonumber(redis.call('HGET', K[1], 'n'))
if redis.call('HGET', K[3], A[1]) == '1' then
  return {ok = tostring(cap - taken) .. ':' .. redis.call('HGET', K[2], A[1])}
end
if st ~= A[3] then
  return {err = Code.FAILED_PRECONDITION,
          msg = 'the course is not open for enrolment (publish it first, or it is closed)',
          field = 'course_id', rule = 'not_open'}
end
if taken >= cap then
  return {err = Code.FAILED_PRECONDITION, msg = 'the course is full (' .. cap .. ' seats)',
          field = 'course_id', rule = 'course_full'}
end
taken = redis.call('HINCRBY', K[1], 'n', 1)
redis.call('HSET', K[2], A[1], A[2])
redis.call('HSET', K[3], A[1], '1')
emit_all()
return {ok = tostring(cap - taken) .. ':' .. A[2]}
