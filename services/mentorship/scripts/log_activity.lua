--[[
  log_activity: records one activity of a pairing; a term has at most one TERM_EVALUATION. Runs as
  a Mutation body (services/common/mutation.h); emit_all() publishes the prepared events (a term
  evaluation's "mentorship.term_evaluated", none for other kinds).

  KEYS (K): all under the county's hash tag {c:<county>}
    K[1] mentorship:{c}:activities:<pairing>  hash  activity id -> serialized Activity
    K[2] mentorship:{c}:evaluations           hash  "<pairing>|<term>" -> evaluation's activity id
    K[3] mentorship:{c}:pairings              hash  pairing id -> serialized Pairing
  ARGV (A):
    A[1] activity id   A[2] serialized Activity   A[3] pairing id
    A[4] "<pairing>|<term>" for a TERM_EVALUATION, "" otherwise
  Returns: {ok = the serialized Activity}
  Errors:
    Code.NOT_FOUND: no such pairing
    Code.ALREADY_EXISTS field 'activity.kind': the term already has an evaluation
    Code.ALREADY_EXISTS: the activity id is taken
  Example:
    given = {{'HSET', 'mentorship:{c:330723}:pairings', 'MP330723-1', 'p'}}
    K = {'mentorship:{c:330723}:activities:MP330723-1', 'mentorship:{c:330723}:evaluations',
         'mentorship:{c:330723}:pairings'}
    A = {'MA330723-1', 'activity-bytes', 'MP330723-1', ''}
]]
if redis.call('HEXISTS', K[3], A[3]) == 0 then
  return {err = Code.NOT_FOUND, msg = 'no pairing ' .. A[3]}
end
if A[4] ~= '' then
  local done = redis.call('HGET', K[2], A[4])
  if done then
    return {err = Code.ALREADY_EXISTS, field = 'activity.kind', rule = 'one_evaluation_per_term',
            msg = 'the term already has an evaluation (' .. done .. '); one per term'}
  end
end
if redis.call('HEXISTS', K[1], A[1]) == 1 then
  return {err = Code.ALREADY_EXISTS, msg = 'activity ' .. A[1] .. ' exists'}
end
redis.call('HSET', K[1], A[1], A[2])
if A[4] ~= '' then redis.call('HSET', K[2], A[4], A[1]) end
emit_all()
return {ok = A[2]}
