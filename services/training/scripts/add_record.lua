--[[
  Adds a teacher's training record (one logged outside the platform), waiting for the centre's
  review; one per course until it is settled.

  K (KEYS after the kit's two):
    K[1] the teacher's records (hash: id -> bytes), K[2] their states, K[3] the teacher's record
    (hash; 'w:<course>' a record waiting, 'c:<course>' credited), K[4] record -> teacher (hash),
    K[5] the county's writes counter, K[6] the county's pending self-reports (zset: record id by
    submission ms)
  A (ARGV after the kit's):
    A[1] record id, A[2] the TrainingRecord serialized, A[3] its state, A[4] course id ('' none),
    A[5] teacher id, A[6] submission ms when it awaits HR's review ('' otherwise)
  Returns {ok = A[2]}.
  Errors:
    ALREADY_EXISTS (record_id)       the record exists
    ALREADY_EXISTS (course_id)       a record of this course awaits the centre
    FAILED_PRECONDITION (course_id)  the course is already credited to the teacher
  Example:
    K = {'training:{c:110105}:recs:t1', 'training:{c:110105}:rs:t1', 'training:{c:110105}:t:t1',
         'training:{c:110105}:rec-teacher', 'training:{c:110105}:writes',
         'training:{c:110105}:pending'}
    A = {'r1', 'record bytes', '2', 'c1', 't1', '1767225600000'}
]]
if redis.call('HEXISTS', K[1], A[1]) == 1 then
  return {err = Code.ALREADY_EXISTS, msg = 'record ' .. A[1] .. ' already exists',
          field = 'record_id', rule = 'record_exists'}
end
if A[4] ~= '' then
  local waiting = redis.call('HGET', K[3], 'w:' .. A[4])
  if waiting then
    return {err = Code.ALREADY_EXISTS, field = 'course_id', rule = 'awaiting_centre',
            msg = 'already logged for this course (record ' .. waiting .. '), awaiting the centre'}
  end
  if redis.call('HEXISTS', K[3], 'c:' .. A[4]) == 1 then
    return {err = Code.FAILED_PRECONDITION, field = 'course_id', rule = 'already_credited',
            msg = 'this course is already credited to the teacher'}
  end
end
redis.call('HSET', K[1], A[1], A[2])
redis.call('HSET', K[2], A[1], A[3])
redis.call('HSET', K[4], A[1], A[5])
if A[4] ~= '' then redis.call('HSET', K[3], 'w:' .. A[4], A[1]) end
-- In the same script as the record, so the review queue never disagrees with the records.
if A[6] ~= '' then redis.call('ZADD', K[6], A[6], A[1]) end
redis.call('INCR', K[5])
emit_all()
return {ok = A[2]}
