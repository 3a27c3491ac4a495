--[[
  set_password: replaces the password hash and ends every refresh token of the account. A change
  by its owner names the hash their old password verified against (so two changes at once cannot
  both win); a reset by an administrator names none and also unlocks the account.

  KEYS (K):
    K[1] account:{u}:acct     hash  (see create_account.lua)
    K[2] account:{u}:refresh  hash  (see start_session.lua)
  ARGV (A):
    A[1] the new hash, A[2] the hash the old password verified against ("" for a reset)
  Returns: {ok = the serialized Account}
  Errors:
    Code.NOT_FOUND: no such account
    Code.ABORTED: the password changed meanwhile
  Example:
    given = {{'HSET', 'account:{u:alice}:acct', 'a', 'acct', 'h', 'OLD', 'f', '3', 'l', '0'}}
    K = {'account:{u:alice}:acct', 'account:{u:alice}:refresh'}
    A = {'NEW', 'OLD'}
]]
local fields = redis.call('HMGET', K[1], 'a', 'h')
if not fields[1] then
  return {err = Code.NOT_FOUND, msg = 'no such account', field = 'username',
          rule = 'unknown_account'}
end
if A[2] ~= '' and fields[2] ~= A[2] then
  return {err = Code.ABORTED, msg = 'the password changed meanwhile; sign in again'}
end
redis.call('HSET', K[1], 'h', A[1])
if A[2] == '' then redis.call('HSET', K[1], 'f', '0', 'l', '0') end
redis.call('DEL', K[2])
return {ok = fields[1]}
