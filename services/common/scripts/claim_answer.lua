#!lua
--[[
  The first step of answering a request that carries a request_id (services/common/replay.h):
  returns the stored answer when there is one; otherwise claims the request for this call, so
  that of concurrent identical calls only one runs the use case and the others wait for its
  answer. A claim expires on its own (PX), so a call that died holding it holds nobody up for
  longer than that: the next waiter to ask claims it anew.

  Plain script: KEYS = K and ARGV = A as below; not a Mutation body.

  KEYS (K):
    K[1] <service>:{rq:<digest>}:answer  string  "<fingerprint>\n<answer bytes>", SET EX by
                                                 settle_answer.lua
    K[2] <service>:{rq:<digest>}:claim   string  "<token>\n<fingerprint>" of the call running it
  ARGV (A):
    A[1] this call's claim: "<token>\n<fingerprint>"
    A[2] how long a claim lives, in milliseconds
  Returns:
    {'answer', <stored answer>}  answered before (the caller compares the fingerprint)
    {'held', <claim>}            another call is running it (the caller compares the fingerprint,
                                 then waits and asks again)
    {'mine'}                     claimed for this call: run the use case, then settle_answer.lua
  Errors: none.
  Example:
    given = {{'SET', 'profile:{rq:0a1b}:claim', 'other\nfp', 'PX', '5000'}}
    K = {'profile:{rq:0a1b}:answer', 'profile:{rq:0a1b}:claim'}
    A = {'token\nfp', '5000'}
]]
local answer = redis.call('GET', KEYS[1])
if answer then return {'answer', answer} end
local claim = redis.call('GET', KEYS[2])
if claim and claim ~= ARGV[1] then return {'held', claim} end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return {'mine'}
