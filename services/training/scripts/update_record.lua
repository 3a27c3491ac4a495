--[[
  Moves a record from the state it was read in to another (a review), if nobody moved it since.

  K (KEYS after the kit's two):
    K[1] the teacher's records, K[2] their states (as in add_record.lua), K[3] the county's
    pending self-reports (the record leaves them: it is reviewed)
  A (ARGV after the kit's):
    A[1] record id, A[2] the TrainingRecord serialized, A[3] from state, A[4] to state
  Returns {ok = ''}.
  Errors:
    NOT_FOUND (record_id)            the record does not exist
    FAILED_PRECONDITION (record_id)  it is no longer in the from state
  Example:
    given = {{'HSET', 'training:{c:110105}:rs:t1', 'r1', '2'}}
    K = {'training:{c:110105}:recs:t1', 'training:{c:110105}:rs:t1',
         'training:{c:110105}:pending'}
    A = {'r1', 'record bytes', '2', '4'}
]]
local state = redis.call('HGET', K[2], A[1])
if not state then
  return {err = Code.NOT_FOUND, msg = 'record not found', field = 'record_id',
          rule = 'unknown_record'}
end
if state ~= A[3] then
  return {err = Code.FAILED_PRECONDITION, field = 'record_id', rule = 'not_pending',
          msg = 'the record is no longer awaiting review (state ' .. state .. ')'}
end
redis.call('HSET', K[1], A[1], A[2])
redis.call('HSET', K[2], A[1], A[4])
redis.call('ZREM', K[3], A[1])
emit_all()
return {ok = ''}
