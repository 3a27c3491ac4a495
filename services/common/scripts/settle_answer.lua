#!lua
--[[
  The last step of answering a request that carries a request_id (services/common/replay.h):
  stores the answer of a call that succeeded (a call that failed stores nothing, so a retry runs
  again) and releases the call's claim, if it still holds it (it may have expired and been taken
  by a waiter meanwhile; that claim is not this call's to release).

  Plain script: KEYS = K and ARGV = A as below; not a Mutation body.

  KEYS (K):
    K[1] <service>:{rq:<digest>}:answer  string, see claim_answer.lua
    K[2] <service>:{rq:<digest>}:claim   string, see claim_answer.lua
  ARGV (A):
    A[1] this call's claim, as given to claim_answer.lua
    A[2] the answer to store, "<fingerprint>\n<answer bytes>"; '' stores none (the call failed)
    A[3] how long the answer is kept, in seconds
  Returns: 1 when the answer was stored, 0 when not.
  Errors: none.
  Example:
    given = {{'SET', 'profile:{rq:0a1b}:claim', 'token\nfp', 'PX', '5000'}}
    K = {'profile:{rq:0a1b}:answer', 'profile:{rq:0a1b}:claim'}
    A = {'token\nfp', 'fp\nanswer-bytes', '604800'}
]]
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
if ARGV[2] == '' then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
