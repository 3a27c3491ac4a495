#!lua
--[[
  The start of every Mutation script (services/common/mutation.h): replays or refuses a reused
  request_id, then lays out K, A, emit and emit_all for the body, which Mutation pastes after this
  piece and before mutation_epilogue.lua, as the inside of `body = function(K, A, emit, emit_all)`.

  The "#!lua" line above makes this a Redis 7 script with flags (none), not an old-style one: in
  cluster mode Redis then refuses any access to a key outside the declared keys' slot, which
  old-style scripts are allowed for compatibility. So the cluster check catches a body that
  touches a key it was not given, too. It must stay the script's first line.

  KEYS:
    KEYS[1] idempotency record (the stream key again when the request has no request_id; then
            untouched)
    KEYS[2] event stream
    KEYS[3..] the body's K
  ARGV:
    ARGV[1] fingerprint of the request ('' = no idempotency)
    ARGV[2] idempotency TTL in seconds
    ARGV[3] stream MAXLEN ~ cap (0 = none)
    ARGV[4] n, the number of prepared events
    ARGV[5] '1' when the chosen events go out as one stream entry, '2' when they were sent as
            one EventBatch (MutationRequest::all_events_as_one_batch)
    then n pairs (event type, serialized shidang.common.v1.Event), or for '2' the one
    serialized EventBatch of all n; then the body's A
  Returns, before the body runs:
    {'replay', payload}  the request_id's record has this fingerprint: the first answer
    {'mismatch'}         the request_id was used for a different request
  Errors: none of its own; Code (status_codes.lua) is in scope for the body.

  Piece: Mutation wraps every body with it; never run on its own.
]]
--- @include "status_codes.lua"
local fingerprint = ARGV[1]
if fingerprint ~= '' then
  -- The record is "<fingerprint>\n<payload>": one string, so one SET ... EX writes it with its TTL.
  local record = redis.call('GET', KEYS[1])
  if record then
    local cut = string.find(record, '\n', 1, true)
    if cut and string.sub(record, 1, cut - 1) == fingerprint then
      return {'replay', string.sub(record, cut + 1)}
    end
    return {'mismatch'}
  end
end
local n_events = tonumber(ARGV[4])
local one_entry = ARGV[5] == '1'
-- The caller serialized every event into the EventBatch ARGV[6]: all of them go out or none.
local one_batch = ARGV[5] == '2'
-- Filled by index: Lua's #t searches for the end on every append (~10 ms for a roster import's
-- 90,000 keys and args).
local K = {}
for i = 3, #KEYS do K[i - 2] = KEYS[i] end
local A = {}
local args_before = 5 + 2 * n_events
if one_batch then args_before = 6 end
for i = args_before + 1, #ARGV do A[i - args_before] = ARGV[i] end
local chosen, order, extras = {}, {}, {}
local batch_emitted = false
local function emit(i, extra)
  if one_batch then
    error('emit(' .. tostring(i) .. '): the events were sent as one batch ' ..
          '(all_events_as_one_batch); publish them with emit_all')
  end
  if type(i) ~= 'number' or i % 1 ~= 0 or i < 1 or i > n_events then
    error('emit(' .. tostring(i) .. '): no prepared event with that number; there are ' .. n_events)
  end
  if extra ~= nil then
    if type(extra) ~= 'string' then error('emit(' .. i .. ', extra): extra must be a string') end
    extras[i] = extra
  end
  if not chosen[i] then
    chosen[i] = true
    order[#order + 1] = i
  end
end
local function emit_all()
  if one_batch then
    batch_emitted = true
    return
  end
  for i = 1, n_events do emit(i) end
end
local body = function(K, A, emit, emit_all)
