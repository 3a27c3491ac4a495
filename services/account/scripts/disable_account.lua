--[[
  disable_account: marks the account disabled (its stored Account replaced by the caller's, with
  disabled set) and ends every refresh token. Disabling twice changes nothing more. Its answer
  (the Account stored) is what the idempotency record keeps for retries.

  KEYS (K):
    K[1] account:{u}:acct     hash  (see create_account.lua)
    K[2] account:{u}:refresh  hash  (see start_session.lua)
  ARGV (A):
    A[1] the serialized Account with disabled set, A[2] the serialized Account the caller read
  Returns: {ok = the serialized Account now stored}
  Errors:
    Code.NOT_FOUND: no such account
    Code.ABORTED: the account changed since the caller read it
  Example:
    given = {{'HSET', 'account:{u:alice}:acct', 'a', 'acct', 'd', '0'}}
    K = {'account:{u:alice}:acct', 'account:{u:alice}:refresh'}
    A = {'acct-disabled', 'acct'}
]]
local stored = redis.call('HGET', K[1], 'a')
if not stored then
  return {err = Code.NOT_FOUND, msg = 'no such account', field = 'username',
          rule = 'unknown_account'}
end
if stored ~= A[2] then return {err = Code.ABORTED, msg = 'the account changed meanwhile'} end
redis.call('HSET', K[1], 'a', A[1], 'd', '1')
redis.call('DEL', K[2])
return {ok = A[1]}
