--[[
  Adds one policy version, one record per section it sets (DESIGN "Policy": sections never
  collide), at one (level, region) under its hash tag {pl:<region>}. Runs as a Mutation body
  (services/common/mutation.h): a retried request id was answered by the prelude before this.

  KEYS (K):
    K[1] policy:{pl:<region>}:versions  hash  "<date>/<section>" -> the stored version (the answer);
                                              "<date>" -> a whole version stored before sections
                                              were kept apart
    K[2] policy:{pl:<region>}:contents  hash  "<date>/<section>" -> the section's content bytes
  ARGV (A):
    A[1] effective_from (the date)
    A[2] the whole version stored at that date before sections were kept apart, as the caller
         read it ('' none)
    A[3] n, the number of sections; then six per section: its name, its record (the version with
         that section only), its content (deterministic bytes), '1' when the older whole version
         sets it ('0' otherwise), its content there, and the message should it conflict
  Returns: {ok = the answers concatenated}: protobuf reads them as one version holding all their
    sections; the one whose actor and request id it carries comes last (a record written now, or
    else the stored version of the first section). Per section: the same content stored at the
    date answers with its stored version; none stored: the record is written; emit(1) when any
    record was written.
  Errors:
    Code.ALREADY_EXISTS: a section already stored at the date with different content; nothing
                         written (field effective_from)
    Code.ABORTED: the older whole version changed since the caller read it (only a binary from
                  before sections were kept apart writes one): read again and retry
  Example:
    K = {'policy:{pl:330723}:versions', 'policy:{pl:330723}:contents'}
    A = {'2025-01-01', '', '1', 'training', 'record-bytes', 'content-bytes', '0', '',
         'a training version dated 2025-01-01 exists'}
]]
local date, older = A[1], A[2]
if (redis.call('HGET', K[1], date) or '') ~= older then
  return {err = Code.ABORTED, msg = 'a version dated ' .. date .. ' was stored meanwhile; retry'}
end
local stored_answers, seen, fresh = {}, {}, {}
for i = 0, tonumber(A[3]) - 1 do
  local b = 3 + i * 6
  local field = date .. '/' .. A[b + 1]
  local content = redis.call('HGET', K[2], field)
  local answer
  if content then
    answer = redis.call('HGET', K[1], field) or ''
  elseif A[b + 4] == '1' then
    content, answer = A[b + 5], older
  end
  if content then
    if content ~= A[b + 3] then
      return {err = Code.ALREADY_EXISTS, msg = A[b + 6], field = 'effective_from',
              rule = 'version_exists'}
    end
    if not seen[answer] then
      seen[answer] = true
      stored_answers[#stored_answers + 1] = answer
    end
  else
    fresh[#fresh + 1] = b
  end
end
local parts = {}
if #fresh == 0 then
  for i = #stored_answers, 1, -1 do parts[#parts + 1] = stored_answers[i] end
  return {ok = table.concat(parts)}
end
for _, answer in ipairs(stored_answers) do parts[#parts + 1] = answer end
for _, b in ipairs(fresh) do
  local field = date .. '/' .. A[b + 1]
  redis.call('HSET', K[1], field, A[b + 2])
  redis.call('HSET', K[2], field, A[b + 3])
  parts[#parts + 1] = A[b + 2]
end
emit(1)
return {ok = table.concat(parts)}
