#!lua
--[[
  Lets go of a national ID-card claim (services/profile/id_card_owners.h) if it still names the
  teacher: after the county's script refused the write that took it, or for the number an update
  replaced. A claim another teacher took meanwhile is left alone.

  Plain script: KEYS = K and ARGV = A as below; not a Mutation body.

  KEYS (K):
    K[1] profile:{idc:<blind index>}:owner  hash  t = teacher id, at = when claimed
  ARGV (A):
    A[1] the teacher whose claim goes
  Returns: 1 when the claim was removed, 0 when it named someone else or nobody.
  Errors: none.
  Example:
    given = {{'HSET', 'profile:{idc:0a1b}:owner', 't', 'T-other', 'at', '0'}}
    K = {'profile:{idc:0a1b}:owner'}
    A = {'T-1'}
]]
if redis.call('HGET', KEYS[1], 't') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
