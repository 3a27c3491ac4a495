--[[
  What the scripts that change a stored rotation without reading it first share
  (approve_rotation.lua, change_rotation.lua): the service sends what the change adds to the
  rotation as protobuf bytes the script appends to the stored ones (a parser merges concatenated
  messages: the last scalar wins, a history entry is appended), and the script reads from the
  stored bytes only the top-level fields it needs.

    varint(n)                   protobuf's base-128 varint of n
    fields_of(bytes, wanted, id)  the top-level fields of serialized message `bytes` named in
                                `wanted` (number -> true): varints as numbers, length-delimited
                                ones as strings; the last occurrence wins, as in a parser (`id`
                                names the rotation in the error a malformed message raises)
    record_change(K, id, bound)   bumps the county's writes counter K[4] and records rotation `id`
                                in its change log K[5] (county_delta.h), keeping `bound` records
    event_extra(teacher, any_head, updated)
                                what emit(i, extra) appends to a prepared event that has neither:
                                Event.teacher_id (4) and Event.payload (11), an Any of `any_head`
                                (its field 1, the type URL, encoded) and the rotation `updated`

  Piece: included by approve_rotation.lua and change_rotation.lua; never run on its own.
]]
local function varint(n)
  local out = ''
  while n >= 128 do
    out = out .. string.char(n % 128 + 128)
    n = math.floor(n / 128)
  end
  return out .. string.char(n)
end

local function fields_of(bytes, wanted, id)
  local found, at, size = {}, 1, #bytes
  local function read_varint()
    local value, scale = 0, 1
    while true do
      local b = string.byte(bytes, at)
      if not b then error('stored rotation ' .. id .. ' is truncated') end
      at = at + 1
      value = value + (b % 128) * scale
      if b < 128 then return value end
      scale = scale * 128
    end
  end
  while at <= size do
    local key = read_varint()
    local field, wire = math.floor(key / 8), key % 8
    if wire == 0 then
      local value = read_varint()
      if wanted[field] then found[field] = value end
    elseif wire == 2 then
      local length = read_varint()
      if wanted[field] then found[field] = string.sub(bytes, at, at + length - 1) end
      at = at + length
    elseif wire == 1 then
      at = at + 8
    elseif wire == 5 then
      at = at + 4
    else
      error('stored rotation ' .. id .. ' has wire type ' .. wire)
    end
  end
  return found
end

local function record_change(K, id, bound)
  local version = redis.call('INCR', K[4])
  redis.call('ZADD', K[5], version, string.format('%d:r:%s', version, id))
  redis.call('ZREMRANGEBYRANK', K[5], 0, -1 - tonumber(bound))
end

local function event_extra(teacher, any_head, updated)
  local any = any_head .. '\18' .. varint(#updated) .. updated
  return '\34' .. varint(#teacher) .. teacher .. '\90' .. varint(#any) .. any
end
