--[[
  create_account: stores a new account with its password hash, unless the username is taken.
  Runs as a Mutation body (services/common/mutation.h); publishes no event. The answer the caller
  gives is what the idempotency record keeps for retries (the mutation prelude replays it before
  this body runs, so a retry is not refused as a taken username).

  KEYS (K): under the account's hash tag {u:<username>}
    K[1] account:{u}:acct  hash  a = serialized Account, h = argon2id hash, d = "1" when disabled,
                                 f = wrong passwords in a row, l = locked until (unix seconds)
  ARGV (A):
    A[1] the serialized Account, A[2] the password hash, A[3] the answer to keep (sealed)
  Returns: {ok = A[3]}
  Errors:
    Code.ALREADY_EXISTS: the username is taken
  Example:
    K = {'account:{u:alice}:acct'}
    A = {'account-bytes', '$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA', 'sealed-answer'}
]]
if redis.call('EXISTS', K[1]) == 1 then
  return {err = Code.ALREADY_EXISTS, msg = 'the username is taken', field = 'account.username',
          rule = 'username_taken'}
end
redis.call('HSET', K[1], 'a', A[1], 'h', A[2], 'd', '0', 'f', '0', 'l', '0')
return {ok = A[3]}
