--[[
  Creates a county: its record, published with its events.

  K (KEYS after the kit's two):
    K[1] county record           profile:{c:<county>}:county
  A (ARGV after the kit's):
    A[1] the County, serialized
    A[2] county id               for the message only
  Returns {ok = A[1]}.
  Errors:
    ALREADY_EXISTS (county_id)   the county exists
  Example:
    K = {'profile:{c:110105}:county'}
    A = {'county bytes', '110105'}
]]
if redis.call('EXISTS', K[1]) == 1 then
  return {err = Code.ALREADY_EXISTS, msg = 'county ' .. A[2] .. ' already exists',
          field = 'county_id', rule = 'county_exists'}
end
redis.call('SET', K[1], A[1])
emit_all()
return {ok = A[1]}
