--[[
  rotate_refresh: exchanges a live refresh token for a new one (the old one is used up). Refused
  when the account is unknown or disabled, or the old token is unknown or expired.

  KEYS (K):
    K[1] account:{u}:acct     hash  (see create_account.lua)
    K[2] account:{u}:refresh  hash  (see start_session.lua)
  ARGV (A):
    A[1] now (unix seconds), A[2] the old token's SHA-256 (hex), A[3] the new one's,
    A[4] the new one's expiry (unix seconds)
  Returns: {ok = the serialized Account}
  Errors:
    Code.UNAUTHENTICATED: as above
  Example:
    given = {{'HSET', 'account:{u:alice}:acct', 'a', 'acct', 'd', '0'},
             {'HSET', 'account:{u:alice}:refresh', 'old', '1700043200'}}
    K = {'account:{u:alice}:acct', 'account:{u:alice}:refresh'}
    A = {'1700000000', 'old', 'new', '1700050000'}
]]
local fields = redis.call('HMGET', K[1], 'a', 'd')
local expiry = redis.call('HGET', K[2], A[2])
if not fields[1] or fields[2] == '1' or not expiry or tonumber(expiry) <= tonumber(A[1]) then
  return {err = Code.UNAUTHENTICATED, msg = 'refused'}
end
redis.call('HDEL', K[2], A[2])
redis.call('HSET', K[2], A[3], A[4])
return {ok = fields[1]}
