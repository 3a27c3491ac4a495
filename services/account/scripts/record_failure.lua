--[[
  record_failure: counts a wrong password, atomically, as services/account/rules.h's
  AfterWrongPassword decides (tests/account/store_test.cc checks the two agree): the `max`-th in
  a row locks the account until A[3] (the rules' LockEnd) and starts the count again. Nothing
  while it is locked (locked until l, that second excluded), nothing for an unknown username (the
  caller runs it either way, so both take the same round trip). The figures come from the rules'
  kLockout, never from here.

  KEYS (K):
    K[1] account:{u}:acct  hash  (see create_account.lua)
  ARGV (A):
    A[1] now (unix seconds), A[2] max wrong passwords in a row, A[3] locked until (unix seconds)
    when this failure locks
  Returns: {ok = '1'} when this failure locked the account, else {ok = ''}
  Errors: none
  Example:
    given = {{'HSET', 'account:{u:alice}:acct', 'f', '4', 'l', '0'}}
    K = {'account:{u:alice}:acct'}
    A = {'1700000000', '5', '1700000900'}
]]
if redis.call('EXISTS', K[1]) == 0 then return {ok = ''} end
local now = tonumber(A[1])
if tonumber(redis.call('HGET', K[1], 'l') or '0') > now then return {ok = ''} end
local failures = redis.call('HINCRBY', K[1], 'f', 1)
if failures >= tonumber(A[2]) then
  redis.call('HSET', K[1], 'f', '0', 'l', A[3])
  return {ok = '1'}
end
return {ok = ''}
