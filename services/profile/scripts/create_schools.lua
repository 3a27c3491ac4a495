--[[
  Creates schools of a county, each with its name and (optional) code claimed, all or none.

  K (KEYS after the kit's two):
    K[1] county record, K[2] the county's schools (zset), then the schools' keys, referenced by
    index from A
  A (ARGV after the kit's):
    A[1] payload answered, A[2] n schools, then per school 7 args: school id, index in K of its
    record, of its name claim, of its code claim (0: no code), the School serialized, its name,
    its code
  Returns {ok = A[1]}.
  Errors:
    FAILED_PRECONDITION (county_id)  the county does not exist
    ALREADY_EXISTS (school_id)       a school with that id exists
    ALREADY_EXISTS (name)            a school of that name exists
    ALREADY_EXISTS (school_code)     another school has that code
  Example:
    given = {{'SET', 'profile:{c:110105}:county', 'county bytes'}}
    K = {'profile:{c:110105}:county', 'profile:{c:110105}:schools', 'profile:{c:110105}:school:s1',
         'profile:{c:110105}:school-name:第一中学',
         'profile:{c:110105}:school-code:1101050001'}
    A = {'payload', '1', 's1', '3', '4', '5', 'school bytes', '第一中学', '1101050001'}
]]
if redis.call('EXISTS', K[1]) == 0 then
  return {err = Code.FAILED_PRECONDITION, msg = 'the county does not exist; create it first',
          field = 'county_id', rule = 'unknown_county'}
end
local n = tonumber(A[2])
local pos = 3
local schools = {}
for i = 1, n do
  local s = {id = A[pos], key = K[tonumber(A[pos + 1])], name_key = K[tonumber(A[pos + 2])],
             code_index = tonumber(A[pos + 3]), bytes = A[pos + 4], name = A[pos + 5],
             code = A[pos + 6]}
  if s.code_index > 0 then s.code_key = K[s.code_index] end
  pos = pos + 7
  schools[i] = s
end
for i, s in ipairs(schools) do
  if redis.call('EXISTS', s.key) == 1 then
    return {err = Code.ALREADY_EXISTS, msg = 'school ' .. s.id .. ' already exists',
            field = 'school_id', rule = 'school_exists'}
  end
  local holder = redis.call('GET', s.name_key)
  if holder then
    return {err = Code.ALREADY_EXISTS,
            msg = 'a school named ' .. s.name .. ' already exists (' .. holder .. ')',
            field = 'name', rule = 'name_taken'}
  end
  if s.code_key then
    holder = redis.call('GET', s.code_key)
    if holder then
      return {err = Code.ALREADY_EXISTS,
              msg = 'school code ' .. s.code .. ' is already used by ' .. holder,
              field = 'school_code', rule = 'school_code_taken'}
    end
  end
end
for i, s in ipairs(schools) do
  redis.call('SET', s.key, s.bytes)
  redis.call('SET', s.name_key, s.id)
  if s.code_key then redis.call('SET', s.code_key, s.id) end
  redis.call('ZADD', K[2], 0, s.id)
end
emit_all()
return {ok = A[1]}
