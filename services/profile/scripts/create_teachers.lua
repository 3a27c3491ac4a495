--[[
  Creates new teachers of a county, all or none: the common case of a roster import, laid out in
  columns (store.cc CreateTeachers says why). Per teacher one HSET and one RPUSH; claims and
  index sets go as few variadic commands.

  K (KEYS after the kit's two):
    K[1] county record, then s index sets (zsets), n teacher records (hashes), n timelines
    (lists), m claim keys (teacher by teacher)
  A (ARGV after the kit's):
    A[1] payload answered, A[2] n, A[3] s, A[4] m, A[5] entry counts (a byte per teacher),
    A[6] claim counts (a byte per teacher), A[7] claim fields (a byte per claim, 1-based into the
    names), A[8] f, then f field names, n ids, n Teachers serialized, n sealed ID cards ('' none),
    the timeline entries (sequence numbers set), s set members ('*': every new teacher, else
    3-byte big-endian positions)
  Returns {ok = A[1]}.
  Errors:
    FAILED_PRECONDITION (county_id)  the county does not exist
    ALREADY_EXISTS (teacher_id)      a teacher exists
    ALREADY_EXISTS (<claim field>)   a claim is held by another teacher
  Example:
    given = {{'SET', 'profile:{c:110105}:county', 'county bytes'}}
    K = {'profile:{c:110105}:county', 'profile:{c:110105}:teachers', 'profile:{c:110105}:t:t1',
         'profile:{c:110105}:tl:t1', 'profile:{c:110105}:idc:blind1'}
    A = {'payload', '1', '1', '1', '\1', '\1', '\1', '1', 'id_card', 't1', 'teacher bytes',
         'sealed',
         'entry', '*'}
]]
if redis.call('EXISTS', K[1]) == 0 then
  return {err = Code.FAILED_PRECONDITION, msg = 'the county does not exist', field = 'county_id',
          rule = 'unknown_county'}
end
local n, s, m, f = tonumber(A[2]), tonumber(A[3]), tonumber(A[4]), tonumber(A[8])
local entry_counts, claim_counts, claim_fields = A[5], A[6], A[7]
local name0 = 8
local id0 = name0 + f
local profile0, sealed0, entry0 = id0 + n, id0 + 2 * n, id0 + 3 * n
local hash0 = 1 + s
local timeline0, claim0 = hash0 + n, hash0 + 2 * n
local entries = 0
for i = 1, n do entries = entries + string.byte(entry_counts, i) end
local set0 = entry0 + entries
-- owner[c]: the position of the teacher making claim c.
local owner, c = {}, 0
for i = 1, n do
  for _ = 1, string.byte(claim_counts, i) do c = c + 1; owner[c] = i end
end
-- Every check before the first write (mutation.h's contract), over many keys per call.
for first = 1, n, 1000 do
  local last = math.min(first + 999, n)
  if redis.call('EXISTS', unpack(K, hash0 + first, hash0 + last)) > 0 then
    for i = first, last do
      if redis.call('EXISTS', K[hash0 + i]) == 1 then
        return {err = Code.ALREADY_EXISTS, msg = 'teacher ' .. A[id0 + i] .. ' already exists',
                field = 'teacher_id', rule = 'teacher_exists'}
      end
    end
  end
end
for first = 1, m, 1000 do
  local last = math.min(first + 999, m)
  local holders = redis.call('MGET', unpack(K, claim0 + first, claim0 + last))
  for i = first, last do
    local holder = holders[i - first + 1]
    if holder and holder ~= A[id0 + owner[i]] then
      return {err = Code.ALREADY_EXISTS, msg = 'already recorded for teacher ' .. holder,
              field = A[name0 + string.byte(claim_fields, i)], rule = 'already_recorded'}
    end
  end
end
local entry = entry0
for i = 1, n do
  local sealed = A[sealed0 + i]
  if sealed ~= '' then
    redis.call('HSET', K[hash0 + i], 'p', A[profile0 + i], 'idc', sealed, 'v', '1')
  else
    redis.call('HSET', K[hash0 + i], 'p', A[profile0 + i], 'v', '1')
  end
  local count = string.byte(entry_counts, i)
  if count > 0 then
    redis.call('RPUSH', K[timeline0 + i], unpack(A, entry + 1, entry + count))
    entry = entry + count
  end
end
-- unpack() has a stack limit of a few thousand values: 500 pairs per command. Tables are filled
-- by explicit index (Lua's #t is a search on every append).
for first = 1, m, 500 do
  local kv, at = {}, 0
  for i = first, math.min(first + 499, m) do
    kv[at + 1] = K[claim0 + i]
    kv[at + 2] = A[id0 + owner[i]]
    at = at + 2
  end
  redis.call('MSET', unpack(kv, 1, at))
end
for j = 1, s do
  local spec = A[set0 + j]
  local positions, count = {}, 0
  if spec == '*' then
    for i = 1, n do positions[i] = i end
    count = n
  else
    for at = 1, #spec, 3 do
      local hi, mid, lo = string.byte(spec, at, at + 2)
      count = count + 1
      positions[count] = hi * 65536 + mid * 256 + lo
    end
  end
  for first = 1, count, 500 do
    local scored, at = {}, 0
    for k = first, math.min(first + 499, count) do
      scored[at + 1] = 0
      scored[at + 2] = A[id0 + positions[k]]
      at = at + 2
    end
    redis.call('ZADD', K[1 + j], unpack(scored, 1, at))
  end
end
emit_all()
return {ok = A[1]}
