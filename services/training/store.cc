#include "services/training/store.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/common/events.h"
#include "services/common/keys.h"
#include "services/common/status.h"

namespace shidang::training {
namespace {

constexpr char kPrefix[] = "training:";

// K = [course, courses zset]; A = [bytes, course id, capacity, state].
const Mutation& CreateCourseScript() {
  static const Mutation* script = new Mutation(R"lua(
if redis.call('EXISTS', K[1]) == 1 then
  return {err = 6, msg = 'course ' .. A[2] .. ' already exists', field = 'course_id'}
end
redis.call('HSET', K[1], 'p', A[1], 'n', 0, 'cap', A[3], 'st', A[4])
redis.call('ZADD', K[2], 0, A[2])
emit_all()
return {ok = A[1]}
)lua");
  return *script;
}

// K = [course]; A = [bytes, new state, allowed from-states...].
const Mutation& ChangeCourseStateScript() {
  static const Mutation* script = new Mutation(R"lua(
local st = redis.call('HGET', K[1], 'st')
if not st then return {err = 5, msg = 'course not found', field = 'course_id'} end
local allowed = false
for i = 3, #A do if A[i] == st then allowed = true end end
if not allowed then
  return {err = 9, msg = 'not allowed from the course state ' .. st, field = 'course_id'}
end
redis.call('HSET', K[1], 'p', A[1], 'st', A[2])
emit_all()
return {ok = A[1]}
)lua");
  return *script;
}

// K = [course, enrollments, enrollment states]; A = [teacher, bytes, published state].
const Mutation& EnrollScript() {
  static const Mutation* script = new Mutation(R"lua(
local st = redis.call('HGET', K[1], 'st')
if not st then return {err = 5, msg = 'course not found', field = 'course_id'} end
local cap = tonumber(redis.call('HGET', K[1], 'cap'))
local taken = tonumber(redis.call('HGET', K[1], 'n'))
if redis.call('HGET', K[3], A[1]) == '1' then
  return {ok = tostring(cap - taken) .. ':' .. redis.call('HGET', K[2], A[1])}
end
if st ~= A[3] then
  return {err = 9, msg = 'the course is not open for enrolment (publish it first, or it is closed)',
          field = 'course_id'}
end
if taken >= cap then
  return {err = 9, msg = 'the course is full (' .. cap .. ' seats)', field = 'course_id'}
end
taken = redis.call('HINCRBY', K[1], 'n', 1)
redis.call('HSET', K[2], A[1], A[2])
redis.call('HSET', K[3], A[1], '1')
emit_all()
return {ok = tostring(cap - taken) .. ':' .. A[2]}
)lua");
  return *script;
}

// K = [course, enrollments, enrollment states]; A = [teacher, bytes].
const Mutation& WithdrawScript() {
  static const Mutation* script = new Mutation(R"lua(
if redis.call('HGET', K[3], A[1]) ~= '1' then
  return {err = 9, msg = 'the teacher is not enrolled in this course', field = 'teacher_id'}
end
redis.call('HINCRBY', K[1], 'n', -1)
redis.call('HSET', K[2], A[1], A[2])
redis.call('HSET', K[3], A[1], '2')
emit_all()
return {ok = A[2]}
)lua");
  return *script;
}

// K = [done]; A = [n, teacher, mark, ...]. Answers per row "" (marked now) or the earlier mark.
const Mutation& MarkCompletedScript() {
  static const Mutation* script = new Mutation(R"lua(
local n = tonumber(A[1])
local out = {}
for i = 1, n do
  local teacher, mark = A[2 * i], A[2 * i + 1]
  local before = redis.call('HGET', K[1], teacher)
  if before then
    out[i] = before
  else
    redis.call('HSET', K[1], teacher, mark)
    out[i] = ''
  end
end
emit_all()
return {ok = table.concat(out, '\n')}
)lua");
  return *script;
}

// K = [lens, ...]; A = [n, then per append: teacher, ledger key idx, marks key idx, mark, entry
// bytes, entry id, records key idx (0 none), states key idx, record id, from state, to state,
// record bytes, strict, cr key idx (0 none), course id, event index (0 none)].
const Mutation& AppendLedgerScript() {
  static const Mutation* script = new Mutation(R"lua(
local n = tonumber(A[1])
local items = {}
local pos = 2
for i = 1, n do
  local it = {teacher = A[pos], ledger = K[tonumber(A[pos + 1])],
              marks = K[tonumber(A[pos + 2])], mark = A[pos + 3], bytes = A[pos + 4],
              entry_id = A[pos + 5], rec_idx = tonumber(A[pos + 6]),
              states = K[tonumber(A[pos + 7])], record_id = A[pos + 8], from = A[pos + 9],
              to = A[pos + 10], record = A[pos + 11], strict = A[pos + 12] == '1',
              cr_idx = tonumber(A[pos + 13]), course = A[pos + 14],
              event = tonumber(A[pos + 15])}
  pos = pos + 16
  items[i] = it
end
-- Every check before the first write (mutation.h's contract).
local seen = {}
for i, it in ipairs(items) do
  it.apply = redis.call('HEXISTS', it.marks, it.mark) == 0 and not seen[it.marks .. it.mark]
  seen[it.marks .. it.mark] = true
  if it.rec_idx > 0 then
    local state = redis.call('HGET', it.states, it.record_id)
    it.settle = state == it.from
    if it.strict and it.apply and not it.settle then
      return {err = 9, field = 'record_id',
              msg = 'the record is no longer awaiting review (state ' .. tostring(state) .. ')'}
    end
  end
end
local out = {}
for i, it in ipairs(items) do
  if it.apply then
    local len = redis.call('RPUSH', it.ledger, it.bytes)
    redis.call('HSET', K[1], it.teacher, len)
    redis.call('HSET', it.marks, it.mark, it.entry_id)
    if it.rec_idx > 0 and it.settle then
      redis.call('HSET', K[it.rec_idx], it.record_id, it.record)
      redis.call('HSET', it.states, it.record_id, it.to)
    end
    if it.cr_idx > 0 and it.settle then redis.call('HDEL', K[it.cr_idx], it.course) end
    if it.event > 0 then emit(it.event) end
    out[i] = '1'
  else
    out[i] = '0'
  end
end
return {ok = table.concat(out, '')}
)lua");
  return *script;
}

// K = [records, states, cr, marks, rec-teacher]; A = [record id, bytes, state, course id,
// teacher].
const Mutation& AddRecordScript() {
  static const Mutation* script = new Mutation(R"lua(
if redis.call('HEXISTS', K[1], A[1]) == 1 then
  return {err = 6, msg = 'record ' .. A[1] .. ' already exists', field = 'record_id'}
end
if A[4] ~= '' then
  local waiting = redis.call('HGET', K[3], A[4])
  if waiting then
    return {err = 6, field = 'course_id',
            msg = 'already logged for this course (record ' .. waiting .. '), awaiting the centre'}
  end
  if redis.call('HEXISTS', K[4], 'c:' .. A[4]) == 1 then
    return {err = 9, field = 'course_id', msg = 'this course is already credited to the teacher'}
  end
end
redis.call('HSET', K[1], A[1], A[2])
redis.call('HSET', K[2], A[1], A[3])
redis.call('HSET', K[5], A[1], A[5])
if A[4] ~= '' then redis.call('HSET', K[3], A[4], A[1]) end
emit_all()
return {ok = A[2]}
)lua");
  return *script;
}

// K = [records, states]; A = [record id, bytes, from state, to state].
const Mutation& UpdateRecordScript() {
  static const Mutation* script = new Mutation(R"lua(
local state = redis.call('HGET', K[2], A[1])
if not state then return {err = 5, msg = 'record not found', field = 'record_id'} end
if state ~= A[3] then
  return {err = 9, field = 'record_id',
          msg = 'the record is no longer awaiting review (state ' .. state .. ')'}
end
redis.call('HSET', K[1], A[1], A[2])
redis.call('HSET', K[2], A[1], A[4])
emit_all()
return {ok = ''}
)lua");
  return *script;
}

// K = [facts, teachers, fv]; A = [teacher, leave, field, value, ...].
const Mutation& PutFactsScript() {
  static const Mutation* script = new Mutation(R"lua(
for i = 3, #A, 2 do redis.call('HSET', K[1], A[i], A[i + 1]) end
local v = redis.call('HINCRBY', K[1], 'v', 1)
redis.call('HSET', K[3], A[1], v)
if A[2] == '1' then
  redis.call('ZREM', K[2], A[1])
else
  redis.call('ZADD', K[2], 0, A[1])
end
emit_all()
return {ok = tostring(v)}
)lua");
  return *script;
}

// K = [sums, summeta]; A = [n, then per write: teacher, bytes, meta, ledger length, event index].
// Keeps the summary made from the longest ledger (two writers racing for one teacher each store
// what they computed; the one that saw more entries wins).
const Mutation& PutSummariesScript() {
  static const Mutation* script = new Mutation(R"lua(
local n = tonumber(A[1])
for i = 0, n - 1 do
  local teacher, bytes, meta = A[2 + 5 * i], A[3 + 5 * i], A[4 + 5 * i]
  local len, event = tonumber(A[5 + 5 * i]), tonumber(A[6 + 5 * i])
  local old = redis.call('HGET', K[2], teacher)
  local old_len = -1
  if old then old_len = tonumber(string.match(old, '^(%d+)')) or -1 end
  if len >= old_len then
    redis.call('HSET', K[1], teacher, bytes)
    redis.call('HSET', K[2], teacher, meta)
    if event > 0 then emit(event) end
  end
end
return {ok = ''}
)lua");
  return *script;
}

// Keys referenced by index from the script's arguments: each distinct key once.
class KeyList {
 public:
  explicit KeyList(std::vector<std::string> fixed) : keys_(std::move(fixed)) {
    for (size_t i = 0; i < keys_.size(); ++i) index_[keys_[i]] = i + 1;
  }
  std::string Ref(const std::string& key) {
    auto [it, inserted] = index_.emplace(key, keys_.size() + 1);
    if (inserted) keys_.push_back(key);
    return std::to_string(it->second);
  }
  redis::Args Take() { return std::move(keys_); }

 private:
  std::vector<std::string> keys_;
  std::map<std::string, size_t> index_;
};

absl::Status ParseInto(absl::string_view bytes, google::protobuf::Message* message,
                       absl::string_view what) {
  if (!message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(absl::StrCat("training store: unreadable ", what));
  }
  return absl::OkStatus();
}

// A request on the stream of `tag`'s state, idempotent when the write carries a request.
absl::StatusOr<MutationRequest> NewRequest(const std::string& stream_key, absl::string_view tag,
                                           const WriteContext& write,
                                           std::vector<common::v1::Event> events) {
  MutationRequest request;
  request.stream_key = stream_key;
  request.events = std::move(events);
  if (write.request != nullptr) {
    SHIDANG_RETURN_IF_ERROR(AttachIdempotency(request, kServiceName, tag, write.actor,
                                              write.method, *write.request));
  }
  return request;
}

absl::StatusOr<MutationResult> RunWrite(redis::Pool& pool, const Mutation& script,
                                        const MutationRequest& request) {
  // Consumers find the stream through the index; registering is idempotent and comes before the
  // first write under the tag (events.h).
  SHIDANG_RETURN_IF_ERROR(RegisterStream(pool, kServiceName, request.stream_key));
  return script.Run(pool, request);
}

int64_t ToInt(absl::string_view text) {
  int64_t value = 0;
  return absl::SimpleAtoi(text, &value) ? value : 0;
}

absl::StatusOr<StoredCourse> CourseFromHash(const redis::Reply& hash) {
  StoredCourse out;
  int64_t enrolled = 0;
  for (size_t i = 0; i + 1 < hash.size(); i += 2) {
    absl::string_view field = hash[i].str();
    if (field == "p") {
      SHIDANG_RETURN_IF_ERROR(ParseInto(hash[i + 1].str(), &out.course, "course"));
    } else if (field == "n") {
      enrolled = ToInt(hash[i + 1].str());
    } else if (field == "st") {
      out.state = static_cast<v1::CourseState>(ToInt(hash[i + 1].str()));
    }
  }
  // After parsing: ParseFromArray clears the message, whatever order the fields came in.
  out.course.set_enrolled(static_cast<int32_t>(enrolled));
  out.course.set_state(out.state);
  return out;
}

}  // namespace

std::string SummaryMeta::Encode() const {
  return absl::StrCat(ledger_length, "\x1f", policy_stamp, "\x1f", facts_version, "\x1f",
                      school_id, "\x1f", name);
}

SummaryMeta SummaryMeta::Decode(absl::string_view text) {
  std::vector<std::string> parts = absl::StrSplit(text, '\x1f');
  SummaryMeta meta;
  meta.ledger_length = parts.size() > 0 ? ToInt(parts[0]) : -1;
  if (parts.size() > 1) meta.policy_stamp = parts[1];
  if (parts.size() > 2) meta.facts_version = ToInt(parts[2]);
  if (parts.size() > 3) meta.school_id = parts[3];
  if (parts.size() > 4) meta.name = parts[4];
  return meta;
}

TrainingStore::TrainingStore(redis::Pool& pool) : pool_(pool) {}

std::string TrainingStore::ProviderTag(absl::string_view p) { return keys::HashTag("p", p); }
std::string TrainingStore::CountyTag(absl::string_view c) { return keys::HashTag("c", c); }
std::string TrainingStore::CourseKey(absl::string_view p, absl::string_view id) {
  return absl::StrCat(kPrefix, ProviderTag(p), ":course:", id);
}
std::string TrainingStore::CoursesKey(absl::string_view p) {
  return absl::StrCat(kPrefix, ProviderTag(p), ":courses");
}
std::string TrainingStore::EnrollmentsKey(absl::string_view p, absl::string_view id) {
  return absl::StrCat(kPrefix, ProviderTag(p), ":enr:", id);
}
std::string TrainingStore::EnrollmentStatesKey(absl::string_view p, absl::string_view id) {
  return absl::StrCat(kPrefix, ProviderTag(p), ":enrst:", id);
}
std::string TrainingStore::DoneKey(absl::string_view p, absl::string_view id) {
  return absl::StrCat(kPrefix, ProviderTag(p), ":done:", id);
}
std::string TrainingStore::FactsKey(absl::string_view c, absl::string_view t) {
  return absl::StrCat(kPrefix, CountyTag(c), ":t:", t);
}
std::string TrainingStore::TeachersKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":teachers");
}
std::string TrainingStore::FactsVersionsKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":fv");
}
std::string TrainingStore::LedgerKey(absl::string_view c, absl::string_view t) {
  return absl::StrCat(kPrefix, CountyTag(c), ":ledger:", t);
}
std::string TrainingStore::LengthsKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":lens");
}
std::string TrainingStore::MarksKey(absl::string_view c, absl::string_view t) {
  return absl::StrCat(kPrefix, CountyTag(c), ":marks:", t);
}
std::string TrainingStore::RecordsKey(absl::string_view c, absl::string_view t) {
  return absl::StrCat(kPrefix, CountyTag(c), ":recs:", t);
}
std::string TrainingStore::RecordStatesKey(absl::string_view c, absl::string_view t) {
  return absl::StrCat(kPrefix, CountyTag(c), ":rs:", t);
}
std::string TrainingStore::CourseRecordsKey(absl::string_view c, absl::string_view t) {
  return absl::StrCat(kPrefix, CountyTag(c), ":cr:", t);
}
std::string TrainingStore::RecordTeacherKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":rec-teacher");
}
std::string TrainingStore::SummariesKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":sums");
}
std::string TrainingStore::SummaryMetaKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":summeta");
}
std::string TrainingStore::HomeKey(absl::string_view t) {
  return absl::StrCat(kPrefix, keys::HashTag("t", t), ":home");
}
std::string TrainingStore::ProvidersKey() { return absl::StrCat(kPrefix, "providers"); }
std::string TrainingStore::CountiesKey() { return absl::StrCat(kPrefix, "counties"); }
std::string TrainingStore::ProviderStreamKey(absl::string_view p) {
  return keys::StreamKey(kServiceName, ProviderTag(p));
}
std::string TrainingStore::CountyStreamKey(absl::string_view c) {
  return keys::StreamKey(kServiceName, CountyTag(c));
}

absl::StatusOr<std::string> TrainingStore::ProviderOfCourse(absl::string_view course_id,
                                                            absl::string_view field) {
  if (course_id.empty()) return InvalidField(field, "required", "required");
  if (course_id.size() < 15 || course_id[0] != 'C' || course_id[13] != '-') {
    return absl::NotFoundError(absl::StrCat("course ", course_id, " not found"));
  }
  return std::string(course_id.substr(14));
}

absl::StatusOr<std::string> TrainingStore::CountyOfRecord(absl::string_view record_id,
                                                          absl::string_view field) {
  if (record_id.empty()) return InvalidField(field, "required", "required");
  if (record_id.size() < 9 || record_id[0] != 'R' || record_id[7] != '-') {
    return absl::NotFoundError(absl::StrCat("training record ", record_id, " not found"));
  }
  return std::string(record_id.substr(1, 6));
}

absl::StatusOr<v1::Course> TrainingStore::CreateCourse(const v1::Course& course,
                                                       const WriteContext& write,
                                                       std::vector<common::v1::Event> events) {
  const std::string& p = course.provider_id();
  SHIDANG_ASSIGN_OR_RETURN(MutationRequest request,
                           NewRequest(ProviderStreamKey(p), ProviderTag(p), write, std::move(events)));
  SHIDANG_RETURN_IF_ERROR(pool_.Command({"SADD", ProvidersKey(), p}).status());
  request.keys = {CourseKey(p, course.course_id()), CoursesKey(p)};
  request.args = {course.SerializeAsString(), course.course_id(),
                  std::to_string(course.capacity()), std::to_string(course.state())};
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result, RunWrite(pool_, CreateCourseScript(), request));
  v1::Course stored;
  SHIDANG_RETURN_IF_ERROR(ParseInto(result.payload, &stored, "course"));
  return stored;
}

absl::StatusOr<StoredCourse> TrainingStore::GetCourse(absl::string_view course_id) {
  SHIDANG_ASSIGN_OR_RETURN(std::string provider, ProviderOfCourse(course_id));
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply hash,
                           pool_.Command({"HGETALL", CourseKey(provider, course_id)}));
  if (hash.size() == 0) return absl::NotFoundError(absl::StrCat("course ", course_id, " not found"));
  return CourseFromHash(hash);
}

absl::StatusOr<std::vector<std::string>> TrainingStore::Providers() {
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply reply, pool_.Command({"SMEMBERS", ProvidersKey()}));
  std::vector<std::string> out;
  for (size_t i = 0; i < reply.size(); ++i) out.emplace_back(reply[i].str());
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::vector<StoredCourse>> TrainingStore::ListCourses(
    const std::vector<std::string>& providers) {
  std::vector<redis::Args> ranges;
  for (const std::string& p : providers) ranges.push_back({"ZRANGE", CoursesKey(p), "0", "-1"});
  if (ranges.empty()) return std::vector<StoredCourse>{};
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> ids, pool_.Pipeline(ranges));
  std::vector<redis::Args> gets;
  for (size_t i = 0; i < ids.size(); ++i) {
    SHIDANG_RETURN_IF_ERROR(ids[i].ToStatus());
    for (size_t j = 0; j < ids[i].size(); ++j) {
      gets.push_back({"HGETALL", CourseKey(providers[i], ids[i][j].str())});
    }
  }
  std::vector<StoredCourse> out;
  if (gets.empty()) return out;
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> hashes, pool_.Pipeline(gets));
  for (const redis::Reply& hash : hashes) {
    SHIDANG_RETURN_IF_ERROR(hash.ToStatus());
    if (hash.size() == 0) continue;
    SHIDANG_ASSIGN_OR_RETURN(StoredCourse course, CourseFromHash(hash));
    out.push_back(std::move(course));
  }
  std::sort(out.begin(), out.end(), [](const StoredCourse& a, const StoredCourse& b) {
    return a.course.course_id() < b.course.course_id();
  });
  return out;
}

absl::StatusOr<v1::Course> TrainingStore::ChangeCourseState(
    const v1::Course& updated, const std::vector<v1::CourseState>& from,
    const WriteContext& write, std::vector<common::v1::Event> events) {
  const std::string& p = updated.provider_id();
  SHIDANG_ASSIGN_OR_RETURN(MutationRequest request,
                           NewRequest(ProviderStreamKey(p), ProviderTag(p), write, std::move(events)));
  v1::Course bytes = updated;
  bytes.clear_enrolled();
  request.keys = {CourseKey(p, updated.course_id())};
  request.args = {bytes.SerializeAsString(), std::to_string(updated.state())};
  for (v1::CourseState s : from) request.args.push_back(std::to_string(s));
  SHIDANG_RETURN_IF_ERROR(RunWrite(pool_, ChangeCourseStateScript(), request).status());
  SHIDANG_ASSIGN_OR_RETURN(StoredCourse stored, GetCourse(updated.course_id()));
  return stored.course;
}

absl::StatusOr<std::pair<v1::Enrollment, int>> TrainingStore::Enroll(
    absl::string_view course_id, const v1::Enrollment& enrollment, const WriteContext& write,
    std::vector<common::v1::Event> events) {
  SHIDANG_ASSIGN_OR_RETURN(std::string p, ProviderOfCourse(course_id));
  SHIDANG_ASSIGN_OR_RETURN(MutationRequest request,
                           NewRequest(ProviderStreamKey(p), ProviderTag(p), write, std::move(events)));
  request.keys = {CourseKey(p, course_id), EnrollmentsKey(p, course_id),
                  EnrollmentStatesKey(p, course_id)};
  request.args = {enrollment.teacher_id(), enrollment.SerializeAsString(),
                  std::to_string(v1::COURSE_STATE_PUBLISHED)};
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result, RunWrite(pool_, EnrollScript(), request));
  size_t colon = result.payload.find(':');
  if (colon == std::string::npos) return absl::DataLossError("training store: bad enroll answer");
  std::pair<v1::Enrollment, int> out;
  out.second = static_cast<int>(ToInt(absl::string_view(result.payload).substr(0, colon)));
  SHIDANG_RETURN_IF_ERROR(
      ParseInto(absl::string_view(result.payload).substr(colon + 1), &out.first, "enrollment"));
  return out;
}

absl::StatusOr<v1::Enrollment> TrainingStore::Withdraw(absl::string_view course_id,
                                                       const v1::Enrollment& withdrawn,
                                                       const WriteContext& write,
                                                       std::vector<common::v1::Event> events) {
  SHIDANG_ASSIGN_OR_RETURN(std::string p, ProviderOfCourse(course_id));
  SHIDANG_ASSIGN_OR_RETURN(MutationRequest request,
                           NewRequest(ProviderStreamKey(p), ProviderTag(p), write, std::move(events)));
  request.keys = {CourseKey(p, course_id), EnrollmentsKey(p, course_id),
                  EnrollmentStatesKey(p, course_id)};
  request.args = {withdrawn.teacher_id(), withdrawn.SerializeAsString()};
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result, RunWrite(pool_, WithdrawScript(), request));
  v1::Enrollment out;
  SHIDANG_RETURN_IF_ERROR(ParseInto(result.payload, &out, "enrollment"));
  return out;
}

absl::StatusOr<std::optional<v1::Enrollment>> TrainingStore::GetEnrollment(
    absl::string_view course_id, absl::string_view teacher_id) {
  SHIDANG_ASSIGN_OR_RETURN(std::string p, ProviderOfCourse(course_id));
  SHIDANG_ASSIGN_OR_RETURN(
      redis::Reply reply,
      pool_.Command({"HGET", EnrollmentsKey(p, course_id), std::string(teacher_id)}));
  if (reply.is_nil()) return std::optional<v1::Enrollment>();
  v1::Enrollment e;
  SHIDANG_RETURN_IF_ERROR(ParseInto(reply.str(), &e, "enrollment"));
  return std::optional<v1::Enrollment>(std::move(e));
}

absl::StatusOr<std::vector<std::string>> TrainingStore::MarkCompleted(
    absl::string_view course_id, const std::vector<std::string>& teachers,
    const std::vector<std::string>& marks, const WriteContext& write) {
  SHIDANG_ASSIGN_OR_RETURN(std::string p, ProviderOfCourse(course_id));
  SHIDANG_ASSIGN_OR_RETURN(MutationRequest request,
                           NewRequest(ProviderStreamKey(p), ProviderTag(p), write, {}));
  request.keys = {DoneKey(p, course_id)};
  request.args = {std::to_string(teachers.size())};
  for (size_t i = 0; i < teachers.size(); ++i) {
    request.args.push_back(teachers[i]);
    request.args.push_back(marks[i]);
  }
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result, RunWrite(pool_, MarkCompletedScript(), request));
  std::vector<std::string> out = absl::StrSplit(result.payload, '\n');
  if (teachers.empty()) out.clear();
  if (out.size() != teachers.size()) {
    return absl::DataLossError("training store: completion answer does not match the rows");
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> TrainingStore::CompletionMarks(
    absl::string_view course_id, const std::vector<std::string>& teachers) {
  SHIDANG_ASSIGN_OR_RETURN(std::string p, ProviderOfCourse(course_id));
  std::vector<std::string> out;
  if (teachers.empty()) return out;
  redis::Args hmget = {"HMGET", DoneKey(p, course_id)};
  hmget.insert(hmget.end(), teachers.begin(), teachers.end());
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply reply, pool_.Command(hmget));
  for (size_t i = 0; i < reply.size(); ++i) {
    out.emplace_back(reply[i].is_nil() ? "" : reply[i].str());
  }
  return out;
}

absl::StatusOr<std::string> TrainingStore::HomeCounty(absl::string_view teacher_id) {
  SHIDANG_ASSIGN_OR_RETURN(std::vector<std::string> homes,
                           HomeCounties({std::string(teacher_id)}));
  if (homes[0].empty()) {
    return absl::NotFoundError(absl::StrCat("teacher ", teacher_id, " not found"));
  }
  return homes[0];
}

absl::StatusOr<std::vector<std::string>> TrainingStore::HomeCounties(
    const std::vector<std::string>& ids) {
  std::vector<redis::Args> gets;
  for (const std::string& id : ids) gets.push_back({"GET", HomeKey(id)});
  std::vector<std::string> out;
  if (gets.empty()) return out;
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, pool_.Pipeline(gets));
  for (const redis::Reply& r : replies) {
    SHIDANG_RETURN_IF_ERROR(r.ToStatus());
    out.emplace_back(r.is_nil() ? "" : r.str());
  }
  return out;
}

absl::Status TrainingStore::SetHomeCounty(absl::string_view teacher_id,
                                          absl::string_view county_id) {
  SHIDANG_ASSIGN_OR_RETURN(
      std::vector<redis::Reply> replies,
      pool_.Pipeline({{"SET", HomeKey(teacher_id), std::string(county_id)},
                      {"SADD", CountiesKey(), std::string(county_id)}}));
  for (const redis::Reply& r : replies) SHIDANG_RETURN_IF_ERROR(r.ToStatus());
  return absl::OkStatus();
}

absl::Status TrainingStore::PutFacts(const TeacherFactsRecord& f, bool leave,
                                     const WriteContext& write) {
  const std::string& c = f.county_id;
  SHIDANG_ASSIGN_OR_RETURN(MutationRequest request,
                           NewRequest(CountyStreamKey(c), CountyTag(c), write, {}));
  request.keys = {FactsKey(c, f.teacher_id), TeachersKey(c), FactsVersionsKey(c)};
  request.args = {f.teacher_id,   leave ? "1" : "0",
                  "name",         f.name,
                  "school",       f.school_id,
                  "hire",         f.hire_date,
                  "anchor",       f.cycle_anchor,
                  "status",       std::to_string(f.post_status),
                  "left",         f.left_on,
                  "head",         f.head_teacher ? "1" : "0"};
  return RunWrite(pool_, PutFactsScript(), request).status();
}

absl::StatusOr<std::vector<TeacherState>> TrainingStore::GetTeachers(
    absl::string_view c, const std::vector<std::string>& ids) {
  constexpr size_t kPer = 3;
  std::vector<redis::Args> commands;
  for (const std::string& id : ids) {
    commands.push_back({"HGETALL", FactsKey(c, id)});
    commands.push_back({"LRANGE", LedgerKey(c, id), "0", "-1"});
    commands.push_back({"HGETALL", RecordsKey(c, id)});
  }
  std::vector<TeacherState> out;
  if (commands.empty()) return out;
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, pool_.Pipeline(commands));
  for (size_t t = 0; t < ids.size(); ++t) {
    const redis::Reply& facts = replies[kPer * t];
    const redis::Reply& ledger = replies[kPer * t + 1];
    const redis::Reply& records = replies[kPer * t + 2];
    SHIDANG_RETURN_IF_ERROR(facts.ToStatus());
    SHIDANG_RETURN_IF_ERROR(ledger.ToStatus());
    SHIDANG_RETURN_IF_ERROR(records.ToStatus());
    TeacherState state;
    if (facts.size() > 0) {
      TeacherFactsRecord f;
      f.teacher_id = ids[t];
      f.county_id = std::string(c);
      for (size_t i = 0; i + 1 < facts.size(); i += 2) {
        absl::string_view field = facts[i].str();
        std::string value(facts[i + 1].str());
        if (field == "name") f.name = value;
        else if (field == "school") f.school_id = value;
        else if (field == "hire") f.hire_date = value;
        else if (field == "anchor") f.cycle_anchor = value;
        else if (field == "status") f.post_status = static_cast<int>(ToInt(value));
        else if (field == "left") f.left_on = value;
        else if (field == "head") f.head_teacher = value == "1";
        else if (field == "v") f.version = ToInt(value);
      }
      state.facts = std::move(f);
    }
    for (size_t i = 0; i < ledger.size(); ++i) {
      v1::LedgerEntry e;
      SHIDANG_RETURN_IF_ERROR(ParseInto(ledger[i].str(), &e, "ledger entry"));
      state.ledger.push_back(std::move(e));
    }
    for (size_t i = 0; i + 1 < records.size(); i += 2) {
      v1::TrainingRecord r;
      SHIDANG_RETURN_IF_ERROR(ParseInto(records[i + 1].str(), &r, "training record"));
      state.records.push_back(std::move(r));
    }
    out.push_back(std::move(state));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> TrainingStore::TeacherIds(absl::string_view c) {
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply reply,
                           pool_.Command({"ZRANGE", TeachersKey(c), "0", "-1"}));
  std::vector<std::string> out;
  for (size_t i = 0; i < reply.size(); ++i) out.emplace_back(reply[i].str());
  return out;
}

absl::StatusOr<std::vector<std::string>> TrainingStore::Counties() {
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply reply, pool_.Command({"SMEMBERS", CountiesKey()}));
  std::vector<std::string> out;
  for (size_t i = 0; i < reply.size(); ++i) out.emplace_back(reply[i].str());
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::vector<bool>> TrainingStore::AppendLedger(
    absl::string_view c, const std::vector<LedgerAppend>& appends, const WriteContext& write,
    std::vector<common::v1::Event> events) {
  SHIDANG_ASSIGN_OR_RETURN(MutationRequest request,
                           NewRequest(CountyStreamKey(c), CountyTag(c), write, std::move(events)));
  KeyList keys({LengthsKey(c)});
  redis::Args& args = request.args;
  args = {std::to_string(appends.size())};
  for (const LedgerAppend& a : appends) {
    args.push_back(a.teacher_id);
    args.push_back(keys.Ref(LedgerKey(c, a.teacher_id)));
    args.push_back(keys.Ref(MarksKey(c, a.teacher_id)));
    args.push_back(a.mark);
    args.push_back(a.entry.SerializeAsString());
    args.push_back(a.entry.entry_id());
    bool has_record = !a.record_id.empty();
    args.push_back(has_record ? keys.Ref(RecordsKey(c, a.teacher_id)) : "0");
    args.push_back(keys.Ref(RecordStatesKey(c, a.teacher_id)));
    args.push_back(a.record_id);
    args.push_back(std::to_string(a.record_from_state));
    args.push_back(std::to_string(a.record_to_state));
    args.push_back(a.record_bytes);
    args.push_back(a.strict ? "1" : "0");
    args.push_back(a.close_course_id.empty() ? "0"
                                             : keys.Ref(CourseRecordsKey(c, a.teacher_id)));
    args.push_back(a.close_course_id);
    args.push_back(std::to_string(a.event_index + 1));
  }
  request.keys = keys.Take();
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result, RunWrite(pool_, AppendLedgerScript(), request));
  std::vector<bool> applied;
  for (char ch : result.payload) applied.push_back(ch == '1');
  if (applied.size() != appends.size()) {
    return absl::DataLossError("training store: ledger answer does not match the appends");
  }
  return applied;
}

absl::StatusOr<v1::TrainingRecord> TrainingStore::AddRecord(
    const v1::TrainingRecord& record, const WriteContext& write,
    std::vector<common::v1::Event> events) {
  const std::string& c = record.county_id();
  const std::string& t = record.teacher_id();
  SHIDANG_ASSIGN_OR_RETURN(MutationRequest request,
                           NewRequest(CountyStreamKey(c), CountyTag(c), write, std::move(events)));
  request.keys = {RecordsKey(c, t), RecordStatesKey(c, t), CourseRecordsKey(c, t),
                  MarksKey(c, t), RecordTeacherKey(c)};
  request.args = {record.record_id(), record.SerializeAsString(), std::to_string(record.state()),
                  record.course_id(), t};
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result, RunWrite(pool_, AddRecordScript(), request));
  v1::TrainingRecord stored;
  SHIDANG_RETURN_IF_ERROR(ParseInto(result.payload, &stored, "training record"));
  return stored;
}

absl::Status TrainingStore::UpdateRecord(const v1::TrainingRecord& record, int from_state,
                                         const WriteContext& write,
                                         std::vector<common::v1::Event> events) {
  const std::string& c = record.county_id();
  const std::string& t = record.teacher_id();
  SHIDANG_ASSIGN_OR_RETURN(MutationRequest request,
                           NewRequest(CountyStreamKey(c), CountyTag(c), write, std::move(events)));
  request.keys = {RecordsKey(c, t), RecordStatesKey(c, t)};
  request.args = {record.record_id(), record.SerializeAsString(), std::to_string(from_state),
                  std::to_string(record.state())};
  return RunWrite(pool_, UpdateRecordScript(), request).status();
}

absl::StatusOr<std::string> TrainingStore::TeacherOfRecord(absl::string_view record_id) {
  SHIDANG_ASSIGN_OR_RETURN(std::string county, CountyOfRecord(record_id));
  SHIDANG_ASSIGN_OR_RETURN(
      redis::Reply reply,
      pool_.Command({"HGET", RecordTeacherKey(county), std::string(record_id)}));
  if (reply.is_nil()) {
    return absl::NotFoundError(absl::StrCat("training record ", record_id, " not found"));
  }
  return std::string(reply.str());
}

absl::Status TrainingStore::PutSummaries(absl::string_view c,
                                         const std::vector<SummaryWrite>& writes,
                                         std::vector<common::v1::Event> events) {
  if (writes.empty()) return absl::OkStatus();
  SHIDANG_ASSIGN_OR_RETURN(MutationRequest request,
                           NewRequest(CountyStreamKey(c), CountyTag(c), WriteContext{}, std::move(events)));
  request.keys = {SummariesKey(c), SummaryMetaKey(c)};
  request.args = {std::to_string(writes.size())};
  for (const SummaryWrite& w : writes) {
    request.args.push_back(w.teacher_id);
    request.args.push_back(w.summary.SerializeAsString());
    request.args.push_back(w.meta.Encode());
    request.args.push_back(std::to_string(w.meta.ledger_length));
    request.args.push_back(std::to_string(w.event_index + 1));
  }
  return RunWrite(pool_, PutSummariesScript(), request).status();
}

absl::StatusOr<TrainingStore::CachedSummaries> TrainingStore::ReadSummaries(
    absl::string_view c) {
  SHIDANG_ASSIGN_OR_RETURN(
      std::vector<redis::Reply> replies,
      pool_.Pipeline({{"ZRANGE", TeachersKey(c), "0", "-1"},
                      {"HGETALL", SummariesKey(c)},
                      {"HGETALL", SummaryMetaKey(c)},
                      {"HGETALL", LengthsKey(c)},
                      {"HGETALL", FactsVersionsKey(c)}}));
  for (const redis::Reply& r : replies) SHIDANG_RETURN_IF_ERROR(r.ToStatus());
  auto to_map = [](const redis::Reply& hash) {
    std::map<absl::string_view, absl::string_view> m;
    for (size_t i = 0; i + 1 < hash.size(); i += 2) m[hash[i].str()] = hash[i + 1].str();
    return m;
  };
  auto sums = to_map(replies[1]);
  auto metas = to_map(replies[2]);
  auto lens = to_map(replies[3]);
  auto versions = to_map(replies[4]);
  CachedSummaries out;
  const redis::Reply& ids = replies[0];
  for (size_t i = 0; i < ids.size(); ++i) {
    absl::string_view id = ids[i].str();
    out.teacher_ids.emplace_back(id);
    auto s = sums.find(id);
    auto m = metas.find(id);
    if (s != sums.end() && m != metas.end()) {
      v1::TrainingSummary summary;
      SHIDANG_RETURN_IF_ERROR(ParseInto(s->second, &summary, "summary"));
      out.summaries.emplace_back(std::move(summary));
      out.metas.push_back(SummaryMeta::Decode(m->second));
    } else {
      out.summaries.emplace_back(std::nullopt);
      out.metas.push_back(SummaryMeta{-1, "", -1, "", ""});
    }
    auto l = lens.find(id);
    out.ledger_lengths.push_back(l == lens.end() ? 0 : ToInt(l->second));
    auto v = versions.find(id);
    out.facts_versions.push_back(v == versions.end() ? 0 : ToInt(v->second));
  }
  return out;
}

}  // namespace shidang::training
