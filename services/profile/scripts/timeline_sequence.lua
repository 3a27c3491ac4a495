--[[
  with_sequence(entry, n): a serialized TimelineEntry with its sequence number n appended as
  field 6 (wire type 0, tag byte 0x30). The number is known only in the script, where the
  timeline's length is; a field repeated later in the bytes wins when parsing, so the entry
  needs no decoding. varint(n) is protobuf's base-128 varint, the least of it Lua needs.

  Piece: included by write_teachers.lua; never run on its own.
]]
local function varint(n)
  local out = {}
  while n >= 128 do
    out[#out + 1] = string.char(n % 128 + 128)
    n = math.floor(n / 128)
  end
  out[#out + 1] = string.char(n)
  return table.concat(out)
end
local function with_sequence(entry, n) return entry .. string.char(0x30) .. varint(n) end
