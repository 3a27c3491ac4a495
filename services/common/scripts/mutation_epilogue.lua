--[[
  The end of every Mutation script (services/common/mutation.h), after the body: on {ok = ...}
  publishes the events the body chose and stores the answer under the request_id; on
  {err = ...} stores nothing, so a retry runs again.

  KEYS and ARGV: as in mutation_prelude.lua (KEYS[1] idempotency record, KEYS[2] stream; ARGV[1]
  fingerprint, ARGV[2] TTL, ARGV[3] cap, ARGV[4] n, ARGV[5] one entry, the n event pairs or
  ARGV[6] the one batch).
  Returns:
    {'ok', payload, stream entry ids...}  the body answered {ok = payload}; one entry id per
                                          event, or one for all of them (ARGV[5] = '1')
    {'err', code, msg, field, rule}       the body answered {err = code, msg = ..., field = ...,
                                          rule = ...}; a field's rule names the rule refused
  Errors: a body answering anything else, or an err that is not a number (a Code.<NAME>), is a
  Lua error (Mutation reports INTERNAL).

  Piece: Mutation closes every body with it; never run on its own. It begins inside the body's
  function: this header is the body's last comment, the `end` below closes it.
]]
end
local result = body(K, A, emit, emit_all)
if type(result) ~= 'table' then
  error('mutation body must return {ok = <string>} or {err = <code>, msg = <text>}')
end
if result.err ~= nil then
  if type(result.err) ~= 'number' then
    error('mutation body: err must be an absl status code number (a Code.<NAME>)')
  end
  return {'err', result.err, tostring(result.msg or ''), tostring(result.field or ''),
          tostring(result.rule or '')}
end
local payload = result.ok
if type(payload) == 'number' then payload = tostring(payload) end
if type(payload) ~= 'string' then
  error('mutation body must return {ok = <string>} or {err = <code>, msg = <text>}')
end
local function xadd(...)
  return redis.call('XADD', KEYS[2], '*', ...)
end
-- Stream ids "<ms>-<seq>": is a older than b?
local function older(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if tonumber(am) ~= tonumber(bm) then return tonumber(am) < tonumber(bm) end
  return tonumber(as) < tonumber(bs)
end
-- The safety cap (ARGV[3]). Past it, only what EVERY consumer group has passed goes: entries
-- before the oldest one some group has pending, or has not been delivered yet. A group that is
-- down keeps all it has not read, over the cap if need be. Only a stream no group reads yet is
-- cut to the cap plainly (no reader has said it needs anything; see RegisterStream).
local function cap_stream(cap)
  if cap <= 0 or redis.call('XLEN', KEYS[2]) <= cap then return end
  local groups = redis.call('XINFO', 'GROUPS', KEYS[2])
  if #groups == 0 then
    redis.call('XTRIM', KEYS[2], 'MAXLEN', '~', cap)
    return
  end
  local keep
  for _, group in ipairs(groups) do
    local info = {}
    for j = 1, #group - 1, 2 do info[group[j]] = group[j + 1] end
    local need = info['last-delivered-id']
    if info['pending'] > 0 then need = redis.call('XPENDING', KEYS[2], info['name'])[2] end
    if keep == nil or older(need, keep) then keep = need end
  end
  -- MINID removes entries older than `keep` only; '~' only whole nodes of them.
  redis.call('XTRIM', KEYS[2], 'MINID', '~', keep)
end
local function envelope_of(i)
  if extras[i] then return ARGV[5 + 2 * i] .. extras[i] end
  return ARGV[5 + 2 * i]
end
local reply, replies = {'ok', payload}, 2
if one_batch then
  if batch_emitted then reply[3] = xadd('b', ARGV[6], 't', 'batch', 'n', ARGV[4]) end
elseif one_entry then
  if #order > 0 then
    -- An EventBatch: each envelope as field 1 (tag byte 10, varint length, bytes). The pieces go
    -- into one table.concat: joining them per event first would make two more strings of each
    -- envelope's size, and Lua hashes every string it makes.
    local parts, at = {}, 0
    for _, i in ipairs(order) do
      local envelope, extra = ARGV[5 + 2 * i], extras[i]
      local n = #envelope + (extra and #extra or 0)
      local length = ''
      while n >= 128 do
        length = length .. string.char(n % 128 + 128)
        n = math.floor(n / 128)
      end
      parts[at + 1] = '\10'
      parts[at + 2] = length .. string.char(n)
      parts[at + 3] = envelope
      at = at + 3
      if extra then
        at = at + 1
        parts[at] = extra
      end
    end
    reply[3] = xadd('b', table.concat(parts, '', 1, at), 't', 'batch', 'n', tostring(#order))
  end
else
  for _, i in ipairs(order) do
    replies = replies + 1
    reply[replies] = xadd('e', envelope_of(i), 't', ARGV[4 + 2 * i])
  end
end
cap_stream(tonumber(ARGV[3]))
if fingerprint ~= '' then
  redis.call('SET', KEYS[1], fingerprint .. '\n' .. payload, 'EX', ARGV[2])
end
return reply
