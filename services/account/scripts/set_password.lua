--[[
  set_password: replaces the password hash and ends every refresh token of the account. A change
  by its owner names the hash their old password verified against (so two changes at once cannot
  both win); a reset by an administrator names none and also unlocks the account. A reset names
  the Account it read, which its answer repeats. The answer the caller gives is what the
  idempotency record keeps for retries.

  KEYS (K):
    K[1] account:{u}:acct     hash  (see create_account.lua)
    K[2] account:{u}:refresh  hash  (see start_session.lua)
  ARGV (A):
    A[1] the new hash, A[2] the hash the old password verified against ("" for a reset),
    A[3] the serialized Account the caller read ("" none), A[4] the answer to keep (sealed)
  Returns: {ok = A[4]}
  Errors:
    Code.NOT_FOUND: no such account
    Code.ABORTED: the password or the account changed meanwhile
  Example:
    given = {{'HSET', 'account:{u:alice}:acct', 'a', 'acct', 'h', 'OLD', 'f', '3', 'l', '0'}}
    K = {'account:{u:alice}:acct', 'account:{u:alice}:refresh'}
    A = {'NEW', 'OLD', 'acct', 'sealed-answer'}
]]
local fields = redis.call('HMGET', K[1], 'a', 'h')
if not fields[1] then
  return {err = Code.NOT_FOUND, msg = 'no such account', field = 'username',
          rule = 'unknown_account'}
end
if A[2] ~= '' and fields[2] ~= A[2] then
  return {err = Code.ABORTED, msg = 'the password changed meanwhile; sign in again'}
end
if A[3] ~= '' and fields[1] ~= A[3] then
  return {err = Code.ABORTED, msg = 'the account changed meanwhile'}
end
redis.call('HSET', K[1], 'h', A[1])
if A[2] == '' then redis.call('HSET', K[1], 'f', '0', 'l', '0') end
redis.call('DEL', K[2])
return {ok = A[4]}
