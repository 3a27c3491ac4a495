--[[
  start_session: after the password verified against hash A[2], starts a session: clears the
  count of wrong passwords and stores the refresh token's hash with its expiry, dropping expired
  ones. Refused when the account went, was disabled or locked, or its password changed since the
  caller read it.

  KEYS (K):
    K[1] account:{u}:acct     hash  (see create_account.lua)
    K[2] account:{u}:refresh  hash  SHA-256 (hex) of a refresh token -> expiry (unix seconds)
  ARGV (A):
    A[1] now (unix seconds), A[2] the hash the password verified against,
    A[3] the new refresh token's SHA-256 (hex), A[4] its expiry (unix seconds)
  Returns: {ok = the serialized Account}
  Errors:
    Code.UNAUTHENTICATED: unknown, disabled, locked, or the password changed meanwhile
  Example:
    given = {{'HSET', 'account:{u:alice}:acct', 'a', 'acct', 'h', 'H', 'd', '0', 'f', '2', 'l', '0'}}
    K = {'account:{u:alice}:acct', 'account:{u:alice}:refresh'}
    A = {'1700000000', 'H', 'abcd', '1700043200'}
]]
local fields = redis.call('HMGET', K[1], 'a', 'h', 'd', 'l')
local now = tonumber(A[1])
if not fields[1] or fields[2] ~= A[2] or fields[3] == '1' or tonumber(fields[4] or '0') > now then
  return {err = Code.UNAUTHENTICATED, msg = 'refused'}
end
local stored = redis.call('HGETALL', K[2])
for i = 1, #stored, 2 do
  if tonumber(stored[i + 1]) <= now then redis.call('HDEL', K[2], stored[i]) end
end
redis.call('HSET', K[1], 'f', '0')
redis.call('HSET', K[2], A[3], A[4])
return {ok = fields[1]}
