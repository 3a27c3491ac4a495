#!lua
--[[
  Claims an ID-card number for one teacher nationally (services/profile/id_card_owners.h): the
  owner record of the number's blind index, under a hash tag of its own (no county's), names the
  one teacher who holds it. Taken before the county's script runs, released when that script
  refuses; a claim that names a teacher whose file does not hold the number (a crash between the
  steps) may be replaced by naming that holder in A[2].

  Plain script: KEYS = K and ARGV = A as below; not a Mutation body.

  KEYS (K):
    K[1] profile:{idc:<blind index>}:owner  hash  t = teacher id, at = when claimed (Unix ms,
                                                  Redis's own clock, so every replica agrees)
  ARGV (A):
    A[1] the claiming teacher's id
    A[2] the holder this claim may replace ('' none)
  Returns:
    {'claimed'}                  the record now names A[1] (it was free, or named A[2])
    {'held'}                     it named A[1] already
    {'taken', holder, age_ms}    another teacher holds it, claimed age_ms milliseconds ago
  Errors: none.
  Example:
    given = {{'HSET', 'profile:{idc:0a1b}:owner', 't', 'T-old', 'at', '0'}}
    K = {'profile:{idc:0a1b}:owner'}
    A = {'T-new', 'T-old'}
]]
local time = redis.call('TIME')
local now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local holder = redis.call('HGET', KEYS[1], 't')
if holder == ARGV[1] then return {'held'} end
if holder and holder ~= ARGV[2] then
  local at = tonumber(redis.call('HGET', KEYS[1], 'at') or '0') or 0
  return {'taken', holder, string.format('%.0f', now_ms - at)}
end
redis.call('HSET', KEYS[1], 't', ARGV[1], 'at', string.format('%.0f', now_ms))
return {'claimed'}
