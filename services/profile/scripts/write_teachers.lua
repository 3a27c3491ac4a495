--[[
  Writes teachers of a county, new or existing, all or none (store.cc WriteTeachers): each
  teacher's record and version, its timeline entries numbered in order, its claims (ID card,
  national id) and its index sets. CreateTeachers (create_teachers.lua) is the fast path when all
  are new.

  K (KEYS after the kit's two):
    K[1] county record, K[2] the county's teachers (zset), then every other key once, referenced
    by index from A
  A (ARGV after the kit's):
    A[1] payload answered, A[2] n writes, then per write: teacher id, index in K of its record
    (hash), of its timeline (list), expect ('absent', 'present' or 'version'), expected version,
    the Teacher serialized ('' keep), sealed ID card ('' keep), e, e timeline entries, c, c
    pairs (index in K of a claim key, the request field it comes from), then three lists, each a
    count and indexes in K: sets to join, sets to leave, claims to release
  Returns {ok = A[1]}.
  Errors:
    FAILED_PRECONDITION (county_id)  the county does not exist
    ALREADY_EXISTS (teacher_id)      expect 'absent', and the teacher exists
    NOT_FOUND (teacher_id)           expect 'present' or 'version', and it does not
    ABORTED (etag)                   expect 'version', and the teacher changed since it was read
    ALREADY_EXISTS (<claim field>)   the claim is held by another teacher, or two writes claim it
  Example:
    given = {{'SET', 'profile:{c:110105}:county', 'county bytes'},
             {'HSET', 'profile:{c:110105}:t:t2', 'p', 'teacher bytes', 'v', '3'},
             {'RPUSH', 'profile:{c:110105}:tl:t2', 'entry'},
             {'SET', 'profile:{c:110105}:ntid:old', 't2'}}
    K = {'profile:{c:110105}:county', 'profile:{c:110105}:teachers', 'profile:{c:110105}:t:t1',
         'profile:{c:110105}:tl:t1', 'profile:{c:110105}:idc:blind1',
         'profile:{c:110105}:t:t2', 'profile:{c:110105}:tl:t2', 'profile:{c:110105}:ix:school:s1',
                   'profile:{c:110105}:ntid:old'}
    A = {'payload', '2',
         't1', '3', '4', 'absent', '0', 'teacher bytes', 'sealed', '1', 'entry', '1', '5',
           'id_card',
         '1', '2', '0', '0',
         't2', '6', '7', 'version', '3', '', '', '1', 'entry', '0', '0', '1', '8', '1', '9'}
]]
--- @include "timeline_sequence.lua"
if redis.call('EXISTS', K[1]) == 0 then
  return {err = Code.FAILED_PRECONDITION, msg = 'the county does not exist', field = 'county_id',
          rule = 'unknown_county'}
end
local n = tonumber(A[2])
local pos = 3
local writes = {}
local function keys_at(count)
  local out = {}
  for i = 1, count do out[i] = K[tonumber(A[pos])]; pos = pos + 1 end
  return out
end
for w = 1, n do
  local r = {id = A[pos], hash = K[tonumber(A[pos + 1])], timeline = K[tonumber(A[pos + 2])],
             expect = A[pos + 3], version = A[pos + 4], teacher = A[pos + 5], sealed = A[pos + 6]}
  local entries = tonumber(A[pos + 7])
  pos = pos + 8
  r.entries = {}
  for i = 1, entries do r.entries[i] = A[pos]; pos = pos + 1 end
  local claims = tonumber(A[pos]); pos = pos + 1
  r.claims = {}
  for i = 1, claims do
    r.claims[i] = {key = K[tonumber(A[pos])], field = A[pos + 1]}
    pos = pos + 2
  end
  local count = tonumber(A[pos]); pos = pos + 1
  r.add = keys_at(count)
  count = tonumber(A[pos]); pos = pos + 1
  r.remove = keys_at(count)
  count = tonumber(A[pos]); pos = pos + 1
  r.release = keys_at(count)
  writes[w] = r
end
-- Every check before the first write (mutation.h's contract). Checks of new teachers and of
-- claims are batched (EXISTS and MGET over many keys): an import checks thousands at once.
local function chunks(values, size)
  local out = {}
  for first = 1, #values, size do out[#out + 1] = {first, math.min(first + size - 1, #values)} end
  return out
end
local new_hashes = {}
for _, r in ipairs(writes) do
  if r.expect == 'absent' then new_hashes[#new_hashes + 1] = r.hash end
end
for _, range in ipairs(chunks(new_hashes, 1000)) do
  if redis.call('EXISTS', unpack(new_hashes, range[1], range[2])) > 0 then
    for _, r in ipairs(writes) do
      if r.expect == 'absent' and redis.call('EXISTS', r.hash) == 1 then
        return {err = Code.ALREADY_EXISTS, msg = 'teacher ' .. r.id .. ' already exists',
                field = 'teacher_id', rule = 'teacher_exists'}
      end
    end
  end
end
for _, r in ipairs(writes) do
  if r.expect ~= 'absent' and redis.call('EXISTS', r.hash) == 0 then
    return {err = Code.NOT_FOUND, msg = 'teacher ' .. r.id .. ' not found', field = 'teacher_id',
            rule = 'unknown_teacher'}
  end
  if r.expect == 'version' then
    local version = redis.call('HGET', r.hash, 'v') or '0'
    if version ~= r.version then
      return {err = Code.ABORTED, field = 'etag', rule = 'etag_stale',
              msg = 'teacher ' .. r.id .. ' changed since it was read (etag ' .. r.version ..
                    ', now ' .. version .. '); read it again and redo the change'}
    end
  end
end
local claim_keys, claim_owner, claim_field = {}, {}, {}
for _, r in ipairs(writes) do
  for _, c in ipairs(r.claims) do
    local owner = claim_owner[c.key]
    if owner and owner ~= r.id then
      return {err = Code.ALREADY_EXISTS, msg = 'already recorded for teacher ' .. owner,
              field = c.field, rule = 'already_recorded'}
    end
    if not owner then
      claim_keys[#claim_keys + 1] = c.key
      claim_owner[c.key] = r.id
      claim_field[c.key] = c.field
    end
  end
end
for _, range in ipairs(chunks(claim_keys, 1000)) do
  local holders = redis.call('MGET', unpack(claim_keys, range[1], range[2]))
  for i = 1, #holders do
    local key = claim_keys[range[1] + i - 1]
    local holder = holders[i]
    if holder and holder ~= claim_owner[key] then
      return {err = Code.ALREADY_EXISTS, msg = 'already recorded for teacher ' .. holder,
              field = claim_field[key], rule = 'already_recorded'}
    end
  end
end
-- Writes, batched: a roster import writes thousands of teachers in this one script, so index
-- additions and claims are gathered per key and sent as few variadic commands.
local later_zadd = {}
local later_set = {}
for _, r in ipairs(writes) do
  local fields = {}
  if r.teacher ~= '' then fields[#fields + 1] = 'p'; fields[#fields + 1] = r.teacher end
  if r.sealed ~= '' then fields[#fields + 1] = 'idc'; fields[#fields + 1] = r.sealed end
  if r.expect == 'absent' then
    fields[#fields + 1] = 'v'; fields[#fields + 1] = '1'
    redis.call('HSET', r.hash, unpack(fields))
  else
    if #fields > 0 then redis.call('HSET', r.hash, unpack(fields)) end
    redis.call('HINCRBY', r.hash, 'v', 1)
  end
  -- A new teacher has no timeline yet (the hash and the list are written together).
  local length = 0
  if r.expect ~= 'absent' then length = redis.call('LLEN', r.timeline) end
  local entries = {}
  for i, entry in ipairs(r.entries) do entries[i] = with_sequence(entry, length + i) end
  if #entries > 0 then redis.call('RPUSH', r.timeline, unpack(entries)) end
  for _, c in ipairs(r.claims) do
    later_set[#later_set + 1] = c.key
    later_set[#later_set + 1] = r.id
  end
  for _, key in ipairs(r.add) do
    local members = later_zadd[key]
    if not members then members = {}; later_zadd[key] = members end
    members[#members + 1] = 0
    members[#members + 1] = r.id
  end
  for _, key in ipairs(r.remove) do redis.call('ZREM', key, r.id) end
  for _, key in ipairs(r.release) do
    if redis.call('GET', key) == r.id then redis.call('DEL', key) end
  end
end
-- unpack() has a stack limit of a few thousand values: send in chunks.
local function in_chunks(command, key, values)
  for first = 1, #values, 1000 do
    local last = math.min(first + 999, #values)
    if key then
      redis.call(command, key, unpack(values, first, last))
    else
      redis.call(command, unpack(values, first, last))
    end
  end
end
in_chunks('MSET', nil, later_set)
for key, members in pairs(later_zadd) do in_chunks('ZADD', key, members) end
emit_all()
return {ok = A[1]}
