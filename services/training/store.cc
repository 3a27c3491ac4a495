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
#include "services/training/lua_scripts.h"

namespace shidang::training {
namespace {

constexpr char kPrefix[] = "training:";

// The scripts are in scripts/, one file each (what they take and answer in their headers).

// K = [course, courses zset]; A = [bytes, course id, capacity, state].
const Mutation& CreateCourseScript() {
  static const Mutation* script = new Mutation(lua::kCreateCourse);
  return *script;
}

// K = [course]; A = [bytes, new state, allowed from-states...].
const Mutation& ChangeCourseStateScript() {
  static const Mutation* script = new Mutation(lua::kChangeCourseState);
  return *script;
}

// K = [course, enrollments, enrollment states]; A = [teacher, bytes, published state].
const Mutation& EnrollScript() {
  static const Mutation* script = new Mutation(lua::kEnroll);
  return *script;
}

// K = [course, enrollments, enrollment states]; A = [teacher, bytes].
const Mutation& WithdrawScript() {
  static const Mutation* script = new Mutation(lua::kWithdraw);
  return *script;
}

// K = [done, gen]; A = [n, first answer, then per row: teacher, entry id, county]. Answers
// "<length of the first answer>:<first answer>" and then per row "+<mark>" (marked now) or
// "=<mark>" (marked before), a line each. HSETNX: one command per row in the usual case.
const Mutation& MarkCompletedScript() {
  static const Mutation* script = new Mutation(lua::kMarkCompleted);
  return *script;
}

// K = [done, gen]; A = [teacher, entry id]. Releases the mark when it names the entry.
const Mutation& ReleaseCompletionScript() {
  static const Mutation* script = new Mutation(lua::kReleaseCompletion);
  return *script;
}

// K = [writes, pending (a settled record leaves it), then keys referenced by index]; A = [n,
// strict (1: an append is a strict review), then per append: head, mark, entry bytes, entry id,
// tally, row, policy stamp, the summary to attach to the event when the totals are stored
// (Event.teacher_summary encoded; "" none), then 0 or 9 extra args: records idx, states idx, record
// id, from state, to state, record bytes, strict, course id whose "w:" to drop ("" none), release
// mark ("" none)]. The head packs five numbers, 3 bytes each, big-endian: teacher hash idx, ledger
// idx, event index (0 none), expected ledger length + 1 (0: drop the totals), number of extra args.
// The extras are rare (a settled record, a reversal), so a completion row sends 8 args, not 17.
// Answers per append '0' (not applied), '1' (applied with its totals) or '2' (applied, totals
// dropped: recount).
//
// The appends apply in order, each seeing what the ones before it wrote (a transfer's re-credit
// after a reversal), reading the args in place: a completion batch runs this for 500 rows, where a
// Lua table per row, or an argument and a tonumber() per number, cost more than the row's Redis
// commands. Only a strict review can refuse, and it checks first (mutation.h: no refusal after a
// write).
const Mutation& AppendLedgerScript() {
  static const Mutation* script = new Mutation(lua::kAppendLedger);
  return *script;
}

// K = [records, states, teacher hash, rec-teacher, writes, pending]; A = [record id, bytes, state,
// course id, teacher, submission ms ("" unless it awaits review)].
const Mutation& AddRecordScript() {
  static const Mutation* script = new Mutation(lua::kAddRecord);
  return *script;
}

// K = [records, states, pending]; A = [record id, bytes, from state, to state].
const Mutation& UpdateRecordScript() {
  static const Mutation* script = new Mutation(lua::kUpdateRecord);
  return *script;
}

// K = [facts, teachers, writes]; A = [teacher, leave, field, value, ...]. The running totals were
// counted under the old facts (the cycle anchor): dropped here, recounted by the caller.
const Mutation& PutFactsScript() {
  static const Mutation* script = new Mutation(lua::kPutFacts);
  return *script;
}

// K = [writes, then keys referenced by index]; A = [n, then per write: teacher hash idx, ledger
// idx, ledger length, tally, row, policy stamp, event index (0 none)]. Stores the totals only
// when the ledger still has the length they were counted from.
const Mutation& PutTalliesScript() {
  static const Mutation* script = new Mutation(lua::kPutTallies);
  return *script;
}

// Keys referenced by index from the script's arguments: each distinct key once.
class KeyList {
 public:
  explicit KeyList(std::vector<std::string> fixed) : keys_(std::move(fixed)) {
    for (size_t i = 0; i < keys_.size(); ++i) index_[keys_[i]] = i + 1;
  }
  // The key's 1-based position in K, added when new.
  size_t Index(const std::string& key) {
    auto [it, inserted] = index_.emplace(key, keys_.size() + 1);
    if (inserted) keys_.push_back(key);
    return it->second;
  }
  std::string Ref(const std::string& key) { return std::to_string(Index(key)); }
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
    SHIDANG_RETURN_IF_ERROR(
        AttachIdempotency(request, kServiceName, tag, write.actor, write.method, *write.request));
  }
  return request;
}

int64_t ToInt(absl::string_view text) {
  int64_t value = 0;
  return absl::SimpleAtoi(text, &value) ? value : 0;
}

// `completed`: the HLEN of the course's done hash.
absl::StatusOr<StoredCourse> CourseFromHash(const redis::Reply& hash,
                                            const redis::Reply& completed) {
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
  out.course.set_completed(static_cast<int32_t>(completed.integer()));
  out.course.set_state(out.state);
  return out;
}

}  // namespace

TrainingStore::TrainingStore(redis::Pool& pool) : pool_(pool) {}

absl::Status TrainingStore::EnsureRegistered(const std::string& stream_key) {
  // Consumers find the stream through the index; registering is idempotent and comes before the
  // first write under the tag (events.h). Once per stream and process: a batch writes several
  // scripts to one stream, and each registration is a round trip.
  {
    absl::MutexLock lock(&registered_mu_);
    if (registered_streams_.count(stream_key) > 0) return absl::OkStatus();
  }
  SHIDANG_RETURN_IF_ERROR(RegisterStream(pool_, kServiceName, stream_key));
  absl::MutexLock lock(&registered_mu_);
  registered_streams_.insert(stream_key);
  return absl::OkStatus();
}

absl::StatusOr<MutationResult> TrainingStore::RunWrite(const Mutation& script,
                                                       const MutationRequest& request) {
  SHIDANG_RETURN_IF_ERROR(EnsureRegistered(request.stream_key));
  return script.Run(pool_, request);
}

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
std::string TrainingStore::GenerationsKey(absl::string_view p, absl::string_view id) {
  return absl::StrCat(kPrefix, ProviderTag(p), ":gen:", id);
}
std::string TrainingStore::FactsKey(absl::string_view c, absl::string_view t) {
  return absl::StrCat(kPrefix, CountyTag(c), ":t:", t);
}
std::string TrainingStore::TeachersKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":teachers");
}
std::string TrainingStore::LedgerKey(absl::string_view c, absl::string_view t) {
  return absl::StrCat(kPrefix, CountyTag(c), ":ledger:", t);
}
std::string TrainingStore::RecordsKey(absl::string_view c, absl::string_view t) {
  return absl::StrCat(kPrefix, CountyTag(c), ":recs:", t);
}
std::string TrainingStore::RecordStatesKey(absl::string_view c, absl::string_view t) {
  return absl::StrCat(kPrefix, CountyTag(c), ":rs:", t);
}
std::string TrainingStore::RecordTeacherKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":rec-teacher");
}
std::string TrainingStore::WritesKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":writes");
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
  SHIDANG_ASSIGN_OR_RETURN(MutationRequest request, NewRequest(ProviderStreamKey(p), ProviderTag(p),
                                                               write, std::move(events)));
  SHIDANG_RETURN_IF_ERROR(pool_.Command({"SADD", ProvidersKey(), p}).status());
  request.keys = {CourseKey(p, course.course_id()), CoursesKey(p)};
  request.args = {course.SerializeAsString(), course.course_id(), std::to_string(course.capacity()),
                  std::to_string(course.state())};
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result, RunWrite(CreateCourseScript(), request));
  v1::Course stored;
  SHIDANG_RETURN_IF_ERROR(ParseInto(result.payload, &stored, "course"));
  return stored;
}

absl::StatusOr<StoredCourse> TrainingStore::GetCourse(absl::string_view course_id) {
  SHIDANG_ASSIGN_OR_RETURN(std::string provider, ProviderOfCourse(course_id));
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies,
                           pool_.Pipeline({{"HGETALL", CourseKey(provider, course_id)},
                                           {"HLEN", DoneKey(provider, course_id)}}));
  for (const redis::Reply& r : replies) SHIDANG_RETURN_IF_ERROR(r.ToStatus());
  if (replies[0].size() == 0)
    return absl::NotFoundError(absl::StrCat("course ", course_id, " not found"));
  return CourseFromHash(replies[0], replies[1]);
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
  ranges.reserve(providers.size());
  for (const std::string& p : providers) ranges.push_back({"ZRANGE", CoursesKey(p), "0", "-1"});
  if (ranges.empty()) return std::vector<StoredCourse>{};
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> ids, pool_.Pipeline(ranges));
  std::vector<redis::Args> gets;
  for (size_t i = 0; i < ids.size(); ++i) {
    SHIDANG_RETURN_IF_ERROR(ids[i].ToStatus());
    for (size_t j = 0; j < ids[i].size(); ++j) {
      gets.push_back({"HGETALL", CourseKey(providers[i], ids[i][j].str())});
      gets.push_back({"HLEN", DoneKey(providers[i], ids[i][j].str())});
    }
  }
  std::vector<StoredCourse> out;
  if (gets.empty()) return out;
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, pool_.Pipeline(gets));
  for (size_t i = 0; i + 1 < replies.size(); i += 2) {
    SHIDANG_RETURN_IF_ERROR(replies[i].ToStatus());
    SHIDANG_RETURN_IF_ERROR(replies[i + 1].ToStatus());
    if (replies[i].size() == 0) continue;
    SHIDANG_ASSIGN_OR_RETURN(StoredCourse course, CourseFromHash(replies[i], replies[i + 1]));
    out.push_back(std::move(course));
  }
  std::sort(out.begin(), out.end(), [](const StoredCourse& a, const StoredCourse& b) {
    return a.course.course_id() < b.course.course_id();
  });
  return out;
}

absl::StatusOr<v1::Course> TrainingStore::ChangeCourseState(
    const v1::Course& updated, const std::vector<v1::CourseState>& from, const WriteContext& write,
    std::vector<common::v1::Event> events) {
  const std::string& p = updated.provider_id();
  SHIDANG_ASSIGN_OR_RETURN(MutationRequest request, NewRequest(ProviderStreamKey(p), ProviderTag(p),
                                                               write, std::move(events)));
  v1::Course bytes = updated;
  bytes.clear_enrolled();
  bytes.clear_completed();
  request.keys = {CourseKey(p, updated.course_id())};
  request.args = {bytes.SerializeAsString(), std::to_string(updated.state())};
  for (v1::CourseState s : from) request.args.push_back(std::to_string(s));
  SHIDANG_RETURN_IF_ERROR(RunWrite(ChangeCourseStateScript(), request).status());
  SHIDANG_ASSIGN_OR_RETURN(StoredCourse stored, GetCourse(updated.course_id()));
  return stored.course;
}

absl::StatusOr<std::pair<v1::Enrollment, int>> TrainingStore::Enroll(
    absl::string_view course_id, const v1::Enrollment& enrollment, const WriteContext& write,
    std::vector<common::v1::Event> events) {
  SHIDANG_ASSIGN_OR_RETURN(std::string p, ProviderOfCourse(course_id));
  SHIDANG_ASSIGN_OR_RETURN(MutationRequest request, NewRequest(ProviderStreamKey(p), ProviderTag(p),
                                                               write, std::move(events)));
  request.keys = {CourseKey(p, course_id), EnrollmentsKey(p, course_id),
                  EnrollmentStatesKey(p, course_id)};
  request.args = {enrollment.teacher_id(), enrollment.SerializeAsString(),
                  std::to_string(v1::COURSE_STATE_PUBLISHED)};
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result, RunWrite(EnrollScript(), request));
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
  SHIDANG_ASSIGN_OR_RETURN(MutationRequest request, NewRequest(ProviderStreamKey(p), ProviderTag(p),
                                                               write, std::move(events)));
  request.keys = {CourseKey(p, course_id), EnrollmentsKey(p, course_id),
                  EnrollmentStatesKey(p, course_id)};
  request.args = {withdrawn.teacher_id(), withdrawn.SerializeAsString()};
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result, RunWrite(WithdrawScript(), request));
  v1::Enrollment out;
  SHIDANG_RETURN_IF_ERROR(ParseInto(result.payload, &out, "enrollment"));
  return out;
}

absl::StatusOr<std::optional<v1::Enrollment>> TrainingStore::GetEnrollment(
    absl::string_view course_id, absl::string_view teacher_id) {
  SHIDANG_ASSIGN_OR_RETURN(std::string p, ProviderOfCourse(course_id));
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply reply, pool_.Command({"HGET", EnrollmentsKey(p, course_id),
                                                              std::string(teacher_id)}));
  if (reply.is_nil()) return std::optional<v1::Enrollment>();
  v1::Enrollment e;
  SHIDANG_RETURN_IF_ERROR(ParseInto(reply.str(), &e, "enrollment"));
  return std::optional<v1::Enrollment>(std::move(e));
}

absl::StatusOr<TrainingStore::CompletionMarks> TrainingStore::MarkCompleted(
    absl::string_view course_id, const std::vector<std::string>& teachers,
    const std::vector<std::string>& entry_ids, const std::vector<std::string>& counties,
    absl::string_view first_answer, const WriteContext& write) {
  SHIDANG_ASSIGN_OR_RETURN(std::string p, ProviderOfCourse(course_id));
  SHIDANG_ASSIGN_OR_RETURN(MutationRequest request,
                           NewRequest(ProviderStreamKey(p), ProviderTag(p), write, {}));
  request.keys = {DoneKey(p, course_id), GenerationsKey(p, course_id)};
  request.args.reserve(2 + 3 * teachers.size());
  request.args.push_back(std::to_string(teachers.size()));
  request.args.push_back(std::string(first_answer));
  for (size_t i = 0; i < teachers.size(); ++i) {
    request.args.push_back(teachers[i]);
    request.args.push_back(entry_ids[i]);
    request.args.push_back(counties[i]);
  }
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result, RunWrite(MarkCompletedScript(), request));
  CompletionMarks out;
  out.replayed = result.replayed;
  absl::string_view payload = result.payload;
  auto parse_marks = [&](absl::string_view marks) -> absl::Status {
    if (marks.empty()) return absl::OkStatus();
    for (absl::string_view line : absl::StrSplit(marks, '\n')) {
      if (line.empty()) return absl::DataLossError("training store: bad completion answer");
      out.marks.emplace_back(line[0] == '+', std::string(line.substr(1)));
    }
    return absl::OkStatus();
  };
  if (payload.empty() || payload[0] == '+' || payload[0] == '=') {
    // Stored before the first answer was kept with the marks: marks only, for the same rows.
    SHIDANG_RETURN_IF_ERROR(parse_marks(payload));
    if (out.marks.size() != teachers.size()) {
      return absl::DataLossError("training store: completion answer does not match the rows");
    }
    return out;
  }
  const size_t colon = payload.find(':');
  size_t length = 0;
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(payload.substr(0, colon), &length) ||
      payload.size() - colon - 1 < length) {
    return absl::DataLossError("training store: bad completion answer");
  }
  out.first_answer = std::string(payload.substr(colon + 1, length));
  SHIDANG_RETURN_IF_ERROR(parse_marks(payload.substr(colon + 1 + length)));
  if (!out.replayed && out.marks.size() != teachers.size()) {
    return absl::DataLossError("training store: completion answer does not match the rows");
  }
  return out;
}

absl::Status TrainingStore::ReleaseCompletion(absl::string_view course_id,
                                              absl::string_view teacher_id,
                                              absl::string_view entry_id) {
  SHIDANG_ASSIGN_OR_RETURN(std::string p, ProviderOfCourse(course_id));
  MutationRequest request;
  request.stream_key = ProviderStreamKey(p);
  request.keys = {DoneKey(p, course_id), GenerationsKey(p, course_id)};
  request.args = {std::string(teacher_id), std::string(entry_id)};
  return RunWrite(ReleaseCompletionScript(), request).status();
}

absl::StatusOr<std::string> TrainingStore::HomeCounty(absl::string_view teacher_id) {
  SHIDANG_ASSIGN_OR_RETURN(std::vector<std::string> homes, HomeCounties({std::string(teacher_id)}));
  if (homes[0].empty()) {
    return absl::NotFoundError(absl::StrCat("teacher ", teacher_id, " not found"));
  }
  return homes[0];
}

absl::StatusOr<std::vector<std::string>> TrainingStore::HomeCounties(
    const std::vector<std::string>& ids) {
  std::vector<redis::Args> gets;
  gets.reserve(ids.size());
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
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies,
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
  request.keys = {FactsKey(c, f.teacher_id), TeachersKey(c), WritesKey(c)};
  request.args = {f.teacher_id, leave ? "1" : "0", "name",   f.name,
                  "school",     f.school_id,       "hire",   f.hire_date,
                  "anchor",     f.cycle_anchor,    "status", std::to_string(f.post_status),
                  "left",       f.left_on,         "head",   f.head_teacher ? "1" : "0"};
  return RunWrite(PutFactsScript(), request).status();
}

namespace {

// The fields of the teacher hash read for the rules (never its marks).
const std::vector<std::string>& HeadFields() {
  static const std::vector<std::string>* fields = new std::vector<std::string>{
      "name", "school", "hire", "anchor", "status", "left", "head", "v", "tally", "ps"};
  return *fields;
}

// HeadFields() without the name and school, which a completion does not need.
constexpr size_t kUnnamed = 2;

// Facts and totals from an HMGET of HeadFields() (+ anything after), or from `kUnnamed` on
// when not `named` (name and school left empty): nullopt facts when the teacher hash does not
// exist.
TeacherState StateFromHead(const redis::Reply& head, absl::string_view county,
                           const std::string& teacher_id, bool named = true) {
  TeacherState state;
  const size_t skip = named ? 0 : kUnnamed;
  auto at = [&](size_t i) -> std::string {
    if (i < skip) return std::string();
    i -= skip;
    return i < head.size() && !head[i].is_nil() ? std::string(head[i].str()) : std::string();
  };
  if (head.size() + skip < 8 || head[7 - skip].is_nil()) return state;  // no "v": no such teacher
  TeacherFactsRecord f;
  f.teacher_id = teacher_id;
  f.county_id = std::string(county);
  f.name = at(0);
  f.school_id = at(1);
  f.hire_date = at(2);
  f.cycle_anchor = at(3);
  f.post_status = static_cast<int>(ToInt(at(4)));
  f.left_on = at(5);
  f.head_teacher = at(6) == "1";
  f.version = ToInt(at(7));
  state.facts = std::move(f);
  state.tally = at(8);
  state.policy_stamp = at(9);
  state.waiting_record_id = at(10);
  return state;
}

}  // namespace

absl::StatusOr<std::vector<TeacherState>> TrainingStore::GetTeachers(
    absl::string_view c, const std::vector<std::string>& ids, bool with_ledger) {
  const size_t per = with_ledger ? 3 : 2;
  std::vector<redis::Args> commands;
  for (const std::string& id : ids) {
    redis::Args head = {"HMGET", FactsKey(c, id)};
    head.insert(head.end(), HeadFields().begin(), HeadFields().end());
    commands.push_back(std::move(head));
    commands.push_back({"HGETALL", RecordsKey(c, id)});
    if (with_ledger) commands.push_back({"LRANGE", LedgerKey(c, id), "0", "-1"});
  }
  std::vector<TeacherState> out;
  if (commands.empty()) return out;
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, pool_.Pipeline(commands));
  for (const redis::Reply& r : replies) SHIDANG_RETURN_IF_ERROR(r.ToStatus());
  for (size_t t = 0; t < ids.size(); ++t) {
    TeacherState state = StateFromHead(replies[per * t], c, ids[t]);
    const redis::Reply& records = replies[per * t + 1];
    for (size_t i = 0; i + 1 < records.size(); i += 2) {
      v1::TrainingRecord r;
      SHIDANG_RETURN_IF_ERROR(ParseInto(records[i + 1].str(), &r, "training record"));
      state.records.push_back(std::move(r));
    }
    if (with_ledger) {
      const redis::Reply& ledger = replies[per * t + 2];
      for (size_t i = 0; i < ledger.size(); ++i) {
        v1::LedgerEntry e;
        SHIDANG_RETURN_IF_ERROR(ParseInto(ledger[i].str(), &e, "ledger entry"));
        state.ledger.push_back(std::move(e));
      }
    }
    out.push_back(std::move(state));
  }
  return out;
}

absl::StatusOr<std::vector<TeacherState>> TrainingStore::ReadHeads(
    absl::string_view c, const std::vector<std::string>& ids, absl::string_view course_id,
    std::vector<std::string>* homes, redis::Pool::Session* watch) {
  const size_t per = homes != nullptr ? 2 : 1;
  std::vector<redis::Args> commands;
  commands.reserve(per * ids.size() + 1);
  if (watch != nullptr && !ids.empty()) commands.push_back({"WATCH", WritesKey(c)});
  const size_t first = commands.size();
  const std::string waiting = absl::StrCat("w:", course_id);
  for (const std::string& id : ids) {
    if (homes != nullptr) commands.push_back({"GET", HomeKey(id)});
    redis::Args head = {"HMGET", FactsKey(c, id)};
    head.insert(head.end(), HeadFields().begin() + kUnnamed, HeadFields().end());
    head.push_back(waiting);
    commands.push_back(std::move(head));
  }
  std::vector<TeacherState> out;
  if (commands.empty()) return out;
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies,
                           watch != nullptr ? watch->Pipeline(commands) : pool_.Pipeline(commands));
  if (first > 0) SHIDANG_RETURN_IF_ERROR(replies[0].ToStatus());
  out.reserve(ids.size());
  if (homes != nullptr) homes->clear();
  for (size_t t = 0; t < ids.size(); ++t) {
    const size_t at = first + per * t;
    for (size_t k = 0; k < per; ++k) SHIDANG_RETURN_IF_ERROR(replies[at + k].ToStatus());
    if (homes != nullptr) {
      const redis::Reply& home = replies[at];
      homes->emplace_back(home.is_nil() ? "" : home.str());
      // Facts left behind in a county the teacher has since left are not theirs.
      if (homes->back() != c) {
        out.emplace_back();
        continue;
      }
    }
    out.push_back(StateFromHead(replies[at + per - 1], c, ids[t], /*named=*/false));
  }
  // The few records awaiting this course's confirmation, to settle them with the credit.
  std::vector<redis::Args> gets;
  std::vector<size_t> who;
  for (size_t t = 0; t < out.size(); ++t) {
    if (out[t].waiting_record_id.empty()) continue;
    gets.push_back({"HGET", RecordsKey(c, ids[t]), out[t].waiting_record_id});
    who.push_back(t);
  }
  if (gets.empty()) return out;
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> records, pool_.Pipeline(gets));
  for (size_t k = 0; k < who.size(); ++k) {
    SHIDANG_RETURN_IF_ERROR(records[k].ToStatus());
    if (records[k].is_nil()) continue;
    v1::TrainingRecord r;
    SHIDANG_RETURN_IF_ERROR(ParseInto(records[k].str(), &r, "training record"));
    out[who[k]].records.push_back(std::move(r));
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

namespace {

// AppendLedgerScript's keys and args for `appends` of county `c`.
void AppendLedgerArgs(absl::string_view c, const std::vector<LedgerAppend>& appends,
                      MutationRequest* request) {
  KeyList keys({TrainingStore::WritesKey(c), TrainingStore::PendingKey(c)});
  redis::Args& args = request->args;
  args.reserve(2 + 8 * appends.size());
  args.push_back(std::to_string(appends.size()));
  const bool strict =
      std::any_of(appends.begin(), appends.end(), [](const LedgerAppend& a) { return a.strict; });
  args.push_back(strict ? "1" : "0");
  for (const LedgerAppend& a : appends) {
    const bool has_record = !a.record_id.empty();
    const bool extras =
        has_record || !a.close_course_id.empty() || !a.release_mark.empty() || a.strict;
    // The head: five numbers of 3 bytes each (AppendLedgerScript).
    std::string& head = args.emplace_back();
    for (int64_t number :
         {static_cast<int64_t>(keys.Index(TrainingStore::FactsKey(c, a.teacher_id))),
          static_cast<int64_t>(keys.Index(TrainingStore::LedgerKey(c, a.teacher_id))),
          static_cast<int64_t>(a.event_index + 1), a.expected_length + 1,
          static_cast<int64_t>(extras ? 9 : 0)}) {
      head.push_back(static_cast<char>((number >> 16) & 0xff));
      head.push_back(static_cast<char>((number >> 8) & 0xff));
      head.push_back(static_cast<char>(number & 0xff));
    }
    args.push_back(a.mark);
    args.push_back(a.entry_bytes.empty() ? a.entry.SerializeAsString() : a.entry_bytes);
    args.push_back(a.entry.entry_id());
    args.push_back(a.tally);
    args.push_back(a.row);
    args.push_back(a.policy_stamp);
    args.push_back(a.summary_attachment);
    if (!extras) continue;
    args.push_back(has_record ? keys.Ref(TrainingStore::RecordsKey(c, a.teacher_id)) : "0");
    args.push_back(has_record ? keys.Ref(TrainingStore::RecordStatesKey(c, a.teacher_id)) : "1");
    args.push_back(a.record_id);
    args.push_back(std::to_string(a.record_from_state));
    args.push_back(std::to_string(a.record_to_state));
    args.push_back(a.record_bytes);
    args.push_back(a.strict ? "1" : "0");
    args.push_back(a.close_course_id);
    args.push_back(a.release_mark);
  }
  request->keys = keys.Take();
}

absl::Status AppendOutcomesOf(absl::string_view payload, size_t expected,
                              std::vector<AppendOutcome>* out) {
  if (payload.size() != expected) {
    return absl::DataLossError("training store: ledger answer does not match the appends");
  }
  for (char ch : payload) {
    out->push_back(ch == '1'   ? AppendOutcome::kApplied
                   : ch == '2' ? AppendOutcome::kAppliedStale
                               : AppendOutcome::kAlreadyApplied);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<AppendOutcome>> TrainingStore::AppendLedger(
    absl::string_view c, const std::vector<LedgerAppend>& appends, const WriteContext& write,
    std::vector<common::v1::Event> events) {
  // The script's head numbers are 3 bytes each.
  constexpr int64_t kHeadLimit = int64_t{1} << 24;
  for (const LedgerAppend& a : appends) {
    if (a.expected_length + 1 >= kHeadLimit || a.event_index + 1 >= kHeadLimit ||
        static_cast<int64_t>(2 * appends.size()) >= kHeadLimit) {
      return absl::InternalError(
          "training store: too many appends or ledger entries for one script");
    }
  }
  SHIDANG_ASSIGN_OR_RETURN(MutationRequest request,
                           NewRequest(CountyStreamKey(c), CountyTag(c), write, std::move(events)));
  AppendLedgerArgs(c, appends, &request);
  // A completion chunk credits hundreds of teachers: their events go out as one stream entry.
  request.one_stream_entry = request.events.size() > 1;
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result, RunWrite(AppendLedgerScript(), request));
  std::vector<AppendOutcome> out;
  out.reserve(appends.size());
  SHIDANG_RETURN_IF_ERROR(AppendOutcomesOf(result.payload, appends.size(), &out));
  return out;
}

absl::StatusOr<v1::TrainingRecord> TrainingStore::AddRecord(const v1::TrainingRecord& record,
                                                            const WriteContext& write,
                                                            std::vector<common::v1::Event> events,
                                                            int64_t submitted_ms) {
  const std::string& c = record.county_id();
  const std::string& t = record.teacher_id();
  SHIDANG_ASSIGN_OR_RETURN(MutationRequest request,
                           NewRequest(CountyStreamKey(c), CountyTag(c), write, std::move(events)));
  request.keys = {RecordsKey(c, t),    RecordStatesKey(c, t), FactsKey(c, t),
                  RecordTeacherKey(c), WritesKey(c),          PendingKey(c)};
  const bool pending = record.state() == v1::TRAINING_RECORD_STATE_AWAITING_REVIEW;
  const int64_t since = submitted_ms > 0 ? submitted_ms : LoggedOnMillis(record);
  request.args = {record.record_id(),
                  record.SerializeAsString(),
                  std::to_string(record.state()),
                  record.course_id(),
                  t,
                  pending ? std::to_string(since) : ""};
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result, RunWrite(AddRecordScript(), request));
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
  request.keys = {RecordsKey(c, t), RecordStatesKey(c, t), PendingKey(c)};
  request.args = {record.record_id(), record.SerializeAsString(), std::to_string(from_state),
                  std::to_string(record.state())};
  return RunWrite(UpdateRecordScript(), request).status();
}

absl::StatusOr<std::string> TrainingStore::TeacherOfRecord(absl::string_view record_id) {
  SHIDANG_ASSIGN_OR_RETURN(std::string county, CountyOfRecord(record_id));
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply reply, pool_.Command({"HGET", RecordTeacherKey(county),
                                                              std::string(record_id)}));
  if (reply.is_nil()) {
    return absl::NotFoundError(absl::StrCat("training record ", record_id, " not found"));
  }
  return std::string(reply.str());
}

absl::StatusOr<int> TrainingStore::PutTallies(absl::string_view c,
                                              const std::vector<TallyWrite>& writes,
                                              std::vector<common::v1::Event> events) {
  if (writes.empty()) return 0;
  SHIDANG_ASSIGN_OR_RETURN(MutationRequest request, NewRequest(CountyStreamKey(c), CountyTag(c),
                                                               WriteContext{}, std::move(events)));
  KeyList keys({WritesKey(c)});
  request.args = {std::to_string(writes.size())};
  for (const TallyWrite& w : writes) {
    request.args.push_back(keys.Ref(FactsKey(c, w.teacher_id)));
    request.args.push_back(keys.Ref(LedgerKey(c, w.teacher_id)));
    request.args.push_back(std::to_string(w.ledger_length));
    request.args.push_back(w.tally);
    request.args.push_back(w.row);
    request.args.push_back(w.policy_stamp);
    request.args.push_back(std::to_string(w.event_index + 1));
  }
  request.keys = keys.Take();
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result, RunWrite(PutTalliesScript(), request));
  return static_cast<int>(ToInt(result.payload));
}

absl::StatusOr<std::vector<ReportInput>> TrainingStore::ReadReportInputs(absl::string_view c) {
  SHIDANG_ASSIGN_OR_RETURN(std::vector<std::string> ids, TeacherIds(c));
  std::vector<ReportInput> out;
  out.reserve(ids.size());
  constexpr size_t kPerRoundTrip = 2000;
  for (size_t from = 0; from < ids.size(); from += kPerRoundTrip) {
    const size_t to = std::min(ids.size(), from + kPerRoundTrip);
    std::vector<redis::Args> reads;
    reads.reserve(to - from);
    for (size_t i = from; i < to; ++i) {
      reads.push_back({"HMGET", FactsKey(c, ids[i]), "name", "school", "row", "ps"});
    }
    SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, pool_.Pipeline(reads));
    for (size_t i = from; i < to; ++i) {
      const redis::Reply& r = replies[i - from];
      SHIDANG_RETURN_IF_ERROR(r.ToStatus());
      auto at = [&](size_t k) {
        return r.size() > k && !r[k].is_nil() ? std::string(r[k].str()) : std::string();
      };
      out.push_back(ReportInput{std::move(ids[i]), at(0), at(1), at(2), at(3)});
    }
  }
  return out;
}

namespace {

// A LedgerTransaction's commands, MULTI to EXEC, and per command inside it (from INCR on) the
// append whose RPUSH it is (-1: another command).
struct LedgerCommands {
  std::vector<redis::Args> commands;
  std::vector<int> rpush_of;
};

absl::StatusOr<LedgerCommands> BuildLedgerCommands(const std::string& county_id,
                                                   const std::vector<LedgerAppend>& appends,
                                                   const std::vector<common::v1::Event>& events) {
  LedgerCommands out;
  std::vector<redis::Args>& commands = out.commands;
  commands.reserve(3 * appends.size() + 4);
  commands.push_back({"MULTI"});
  commands.push_back({"INCR", TrainingStore::WritesKey(county_id)});
  out.rpush_of = {-1};
  std::vector<std::string> envelopes(events.size());
  std::vector<BatchedEvent> published;
  for (size_t j = 0; j < appends.size(); ++j) {
    const LedgerAppend& a = appends[j];
    const std::string facts = TrainingStore::FactsKey(county_id, a.teacher_id);
    out.rpush_of.resize(commands.size() - 1, -1);
    out.rpush_of.push_back(static_cast<int>(j));
    commands.push_back({"RPUSH", TrainingStore::LedgerKey(county_id, a.teacher_id),
                        a.entry_bytes.empty() ? a.entry.SerializeAsString() : a.entry_bytes});
    const bool totals = a.expected_length >= 0;
    if (totals) {
      commands.push_back({"HSET", facts, a.mark, a.entry.entry_id(), "tally", a.tally, "row", a.row,
                          "ps", a.policy_stamp});
    } else {
      commands.push_back({"HSET", facts, a.mark, a.entry.entry_id()});
      commands.push_back({"HDEL", facts, "tally", "row", "ps"});
    }
    if (a.event_index >= 0) {
      if (static_cast<size_t>(a.event_index) >= events.size()) {
        return absl::InternalError("training store: an append names an event it was not given");
      }
      std::string& envelope = envelopes[a.event_index];
      envelope = events[a.event_index].SerializeAsString();
      published.push_back({envelope, totals ? absl::string_view(a.summary_attachment) : ""});
    }
  }
  if (!published.empty()) {
    commands.push_back(BatchStreamEntry(TrainingStore::CountyStreamKey(county_id), 0, published));
  }
  out.rpush_of.resize(commands.size() - 1, -1);
  commands.push_back({"EXEC"});
  return out;
}

// Per append, what EXEC's answer `done` (one reply per command from INCR on) says of it.
absl::StatusOr<std::vector<AppendOutcome>> AppendOutcomes(
    const redis::Reply& done, const std::vector<int>& rpush_of,
    const std::vector<LedgerAppend>& appends) {
  if (done.size() != rpush_of.size()) {
    return absl::DataLossError("training store: the ledger transaction's answer does not match");
  }
  std::vector<AppendOutcome> out(appends.size(), AppendOutcome::kAppliedStale);
  for (size_t i = 0; i < rpush_of.size(); ++i) {
    // A command that failed inside EXEC (a key of the wrong type) does not undo the others.
    SHIDANG_RETURN_IF_ERROR(done[i].ToStatus());
    const int append = rpush_of[i];
    if (append < 0) continue;
    const int64_t expected = appends[append].expected_length;
    if (expected >= 0 && done[i].integer() == expected + 1) out[append] = AppendOutcome::kApplied;
  }
  return out;
}

}  // namespace

absl::StatusOr<std::optional<std::vector<AppendOutcome>>> LedgerTransaction::Write(
    const std::vector<LedgerAppend>& appends, const std::vector<common::v1::Event>& events) {
  if (refused_) return std::nullopt;
  if (!writes_after_last_.empty()) {
    // Watch again, and check that nothing was written since the last EXEC.
    const std::string writes = TrainingStore::WritesKey(county_id_);
    SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> watched,
                             session_.Pipeline({{"WATCH", writes}, {"GET", writes}}));
    SHIDANG_RETURN_IF_ERROR(watched[0].ToStatus());
    SHIDANG_RETURN_IF_ERROR(watched[1].ToStatus());
    if (watched[1].is_nil() || watched[1].str() != writes_after_last_) {
      refused_ = true;
      SHIDANG_RETURN_IF_ERROR(session_.Pipeline({{"UNWATCH"}}).status());
      return std::nullopt;
    }
  }
  SHIDANG_ASSIGN_OR_RETURN(LedgerCommands transaction,
                           BuildLedgerCommands(county_id_, appends, events));
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies,
                           session_.Pipeline(transaction.commands));
  for (size_t i = 0; i + 1 < replies.size(); ++i) {
    if (replies[i].is_error()) {
      // Redis discards the transaction (EXECABORT): nothing was written.
      return absl::InternalError(
          absl::StrCat("training store: a ledger command was refused: ", replies[i].str()));
    }
  }
  const redis::Reply& done = replies.back();
  SHIDANG_RETURN_IF_ERROR(done.ToStatus());
  if (done.is_nil()) {
    refused_ = true;
    return std::nullopt;
  }
  SHIDANG_ASSIGN_OR_RETURN(std::vector<AppendOutcome> out,
                           AppendOutcomes(done, transaction.rpush_of, appends));
  writes_after_last_ = std::to_string(done[0].integer());
  return out;
}

}  // namespace shidang::training
