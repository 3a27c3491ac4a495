#include "services/mentorship/store.h"

#include <optional>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/events.h"
#include "services/common/keys.h"
#include "services/common/status.h"
#include "services/mentorship/lua_scripts.h"

namespace shidang::mentorship {
namespace {

constexpr char kPrefix[] = "mentorship:";
// Counties whose parsed copies ReadCounty keeps (the least recently read is dropped first).
constexpr size_t kCachedCounties = 16;

// The writes counter's first value, written only when the counter is missing: the time in
// microseconds, so that a county whose keys were deleted and written again (a flushed test
// database, a restored backup of another history) does not count up through versions a service
// still holds copies of.
std::string FirstWritesValue() { return absl::StrCat(absl::ToUnixMicros(absl::Now())); }

const Mutation& CreatePairingScript() {
  static const Mutation* script = new Mutation(lua::kCreatePairing);
  return *script;
}
const Mutation& EndPairingScript() {
  static const Mutation* script = new Mutation(lua::kEndPairing);
  return *script;
}
const Mutation& LogActivityScript() {
  static const Mutation* script = new Mutation(lua::kLogActivity);
  return *script;
}

bool IsCountyCode(absl::string_view code) {
  return code.size() == 6 && code.find_first_not_of("0123456789") == absl::string_view::npos &&
         !absl::EndsWith(code, "00");
}

template <typename T>
absl::StatusOr<T> Parse(absl::string_view bytes, absl::string_view what) {
  T message;
  if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(absl::StrCat("stored ", what, " unreadable"));
  }
  return message;
}

// The script names the refused field; the rule it broke follows from which check it was, so the
// violation carries the RefusalReason's short name (what CreatePairings' rows report).
absl::Status WithRefusalRule(absl::Status status) {
  if (!absl::IsFailedPrecondition(status)) return status;
  absl::optional<absl::Cord> payload = status.GetPayload(kBadRequestTypeUrl);
  if (!payload.has_value()) return status;
  common::v1::BadRequest details;
  if (!details.ParseFromString(std::string(*payload)) || details.field_violations_size() != 1) {
    return status;
  }
  common::v1::FieldViolation* v = details.mutable_field_violations(0);
  if (v->field() == "mentor_id") v->set_rule("CAPACITY");
  if (v->field() == "role") v->set_rule("ROLE_TAKEN");
  status.SetPayload(kBadRequestTypeUrl, absl::Cord(details.SerializeAsString()));
  return status;
}

}  // namespace

MentorshipStore::MentorshipStore(redis::Pool& pool) : pool_(pool) {}

std::string MentorshipStore::CountyTag(absl::string_view c) { return keys::HashTag("c", c); }
std::string MentorshipStore::TeachersKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":teachers");
}
std::string MentorshipStore::SchoolsKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":schools");
}
std::string MentorshipStore::PairingsKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":pairings");
}
std::string MentorshipStore::LoadKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":load");
}
std::string MentorshipStore::SlotsKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":slots");
}
std::string MentorshipStore::TeacherPairingsKey(absl::string_view c, absl::string_view t) {
  return absl::StrCat(kPrefix, CountyTag(c), ":teacher:", t);
}
std::string MentorshipStore::ActivitiesKey(absl::string_view c, absl::string_view p) {
  return absl::StrCat(kPrefix, CountyTag(c), ":activities:", p);
}
std::string MentorshipStore::EvaluationsKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":evaluations");
}
std::string MentorshipStore::StreamKey(absl::string_view c) {
  return keys::StreamKey(kServiceName, CountyTag(c));
}
std::string MentorshipStore::WritesKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":writes");
}
std::string MentorshipStore::TeacherCountyKey() { return "mentorship:teacher-county"; }

std::string MentorshipStore::SlotOf(const v1::Pairing& p) {
  if (p.kind() == v1::PAIRING_KIND_URBAN_RURAL) return absl::StrCat(p.mentee_id(), "|URBAN_RURAL");
  return absl::StrCat(p.mentee_id(),
                      p.role() == v1::PAIRING_ROLE_TEACHING ? "|TEACHING" : "|SECOND");
}

std::string MentorshipStore::LoadFieldOf(const v1::Pairing& p) {
  if (p.kind() == v1::PAIRING_KIND_URBAN_RURAL) return absl::StrCat(p.mentor_id(), "|URBAN_RURAL");
  return p.mentor_id();
}

absl::StatusOr<std::string> MentorshipStore::CountyOfPairingId(absl::string_view id,
                                                               absl::string_view field) {
  for (absl::string_view prefix : {"MP", "MA"}) {
    if (absl::StartsWith(id, prefix) && id.size() > 9 && id[8] == '-') {
      absl::string_view county = id.substr(2, 6);
      if (IsCountyCode(county)) return std::string(county);
    }
  }
  return InvalidField(field, "id_format",
                      absl::StrCat("'", id, "' is not a pairing id (MP<county>-<hex>)"));
}

// ---- facts

absl::Status MentorshipStore::PutFact(absl::string_view county_id, std::string key,
                                      std::string field, std::string bytes) {
  const std::string writes = WritesKey(county_id);
  SHIDANG_ASSIGN_OR_RETURN(
      std::vector<redis::Reply> replies,
      pool_.Pipeline({{"MULTI"},
                      {"HSET", std::move(key), std::move(field), std::move(bytes)},
                      {"SET", writes, FirstWritesValue(), "NX"},
                      {"INCR", writes},
                      {"EXEC"}}));
  for (const redis::Reply& reply : replies) SHIDANG_RETURN_IF_ERROR(reply.ToStatus());
  if (replies.back().is_nil()) return absl::UnavailableError("the county's write was aborted");
  for (size_t i = 0; i < replies.back().size(); ++i) {
    SHIDANG_RETURN_IF_ERROR(replies.back()[i].ToStatus());
  }
  return absl::OkStatus();
}

absl::Status MentorshipStore::PutSchool(const profile::v1::School& school) {
  return PutFact(school.county_id(), SchoolsKey(school.county_id()), school.school_id(),
                 school.SerializeAsString());
}

absl::Status MentorshipStore::PutTeacher(const v1::TeacherCopy& teacher) {
  return PutFact(teacher.county_id(), TeachersKey(teacher.county_id()), teacher.teacher_id(),
                 teacher.SerializeAsString());
}

absl::StatusOr<std::optional<v1::TeacherCopy>> MentorshipStore::GetTeacher(
    absl::string_view county_id, absl::string_view teacher_id) {
  SHIDANG_ASSIGN_OR_RETURN(
      redis::Reply reply, pool_.Command({"HGET", TeachersKey(county_id), std::string(teacher_id)}));
  if (reply.is_nil()) return std::nullopt;
  SHIDANG_ASSIGN_OR_RETURN(v1::TeacherCopy t, Parse<v1::TeacherCopy>(reply.str(), "teacher"));
  return t;
}

absl::StatusOr<std::optional<profile::v1::School>> MentorshipStore::GetSchool(
    absl::string_view county_id, absl::string_view school_id) {
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply reply,
                           pool_.Command({"HGET", SchoolsKey(county_id), std::string(school_id)}));
  if (reply.is_nil()) return std::nullopt;
  SHIDANG_ASSIGN_OR_RETURN(profile::v1::School s,
                           Parse<profile::v1::School>(reply.str(), "school"));
  return s;
}

absl::Status MentorshipStore::SetTeacherCounty(absl::string_view teacher_id,
                                               absl::string_view county_id) {
  return pool_
      .Command({"HSET", TeacherCountyKey(), std::string(teacher_id), std::string(county_id)})
      .status();
}

absl::StatusOr<std::string> MentorshipStore::TeacherCounty(absl::string_view teacher_id) {
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply reply,
                           pool_.Command({"HGET", TeacherCountyKey(), std::string(teacher_id)}));
  if (reply.is_nil()) return absl::NotFoundError(absl::StrCat("no teacher ", teacher_id));
  return std::string(reply.str());
}

absl::StatusOr<std::shared_ptr<const CountyData>> MentorshipStore::ReadCounty(
    absl::string_view county_id) {
  const std::string county(county_id);
  const std::string writes = WritesKey(county);
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply counter, pool_.Command({"GET", writes}));
  if (!counter.is_nil()) {
    std::shared_ptr<const CountyData> cached = Cached(county, std::string(counter.str()));
    if (cached != nullptr) return cached;
  }
  // The counter with the keys in one transaction: the copies are exactly those of its value.
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies,
                           pool_.Pipeline({{"MULTI"},
                                           {"GET", writes},
                                           {"HGETALL", TeachersKey(county)},
                                           {"HGETALL", SchoolsKey(county)},
                                           {"HVALS", PairingsKey(county)},
                                           {"EXEC"}}));
  for (const redis::Reply& reply : replies) SHIDANG_RETURN_IF_ERROR(reply.ToStatus());
  const redis::Reply read = replies.back();
  if (read.size() != 4) return absl::UnavailableError("the county's read was aborted");
  for (size_t i = 0; i < read.size(); ++i) SHIDANG_RETURN_IF_ERROR(read[i].ToStatus());
  auto data = std::make_shared<CountyData>();
  const redis::Reply teachers = read[1], schools = read[2], pairings = read[3];
  for (size_t i = 0; i + 1 < teachers.size(); i += 2) {
    SHIDANG_ASSIGN_OR_RETURN(v1::TeacherCopy t,
                             Parse<v1::TeacherCopy>(teachers[i + 1].str(), "teacher"));
    data->teachers.emplace(std::string(teachers[i].str()), std::move(t));
  }
  for (size_t i = 0; i + 1 < schools.size(); i += 2) {
    SHIDANG_ASSIGN_OR_RETURN(profile::v1::School s,
                             Parse<profile::v1::School>(schools[i + 1].str(), "school"));
    data->schools.emplace(std::string(schools[i].str()), std::move(s));
  }
  data->pairings.reserve(pairings.size());
  for (size_t i = 0; i < pairings.size(); ++i) {
    SHIDANG_ASSIGN_OR_RETURN(v1::Pairing p, Parse<v1::Pairing>(pairings[i].str(), "pairing"));
    data->pairings.push_back(std::move(p));
  }
  // A county never written has no counter: nothing to know a later change by, so not kept.
  if (!read[0].is_nil()) Keep(county, std::string(read[0].str()), data);
  return std::shared_ptr<const CountyData>(std::move(data));
}

std::shared_ptr<const CountyData> MentorshipStore::Cached(const std::string& county_id,
                                                          const std::string& version) {
  absl::MutexLock lock(&cache_mutex_);
  auto found = cache_.find(county_id);
  if (found == cache_.end() || found->second.version != version) return nullptr;
  found->second.last_used = ++cache_clock_;
  return found->second.data;
}

void MentorshipStore::Keep(const std::string& county_id, const std::string& version,
                           std::shared_ptr<const CountyData> data) {
  absl::MutexLock lock(&cache_mutex_);
  if (!cache_.contains(county_id) && cache_.size() >= kCachedCounties) {
    auto oldest = cache_.begin();
    for (auto it = cache_.begin(); it != cache_.end(); ++it) {
      if (it->second.last_used < oldest->second.last_used) oldest = it;
    }
    cache_.erase(oldest);
  }
  cache_[county_id] = CachedCounty{version, std::move(data), ++cache_clock_};
}

absl::StatusOr<std::optional<std::string>> MentorshipStore::FirstAnswer(absl::string_view county_id,
                                                                        const WriteContext& write) {
  if (write.request == nullptr) return std::nullopt;
  MutationRequest m;
  SHIDANG_RETURN_IF_ERROR(AttachIdempotency(m, kServiceName, CountyTag(county_id), write.actor,
                                            write.method, *write.request));
  if (m.idempotency_key.empty()) return std::nullopt;
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply reply, pool_.Command({"GET", m.idempotency_key}));
  if (reply.is_nil()) return std::nullopt;
  // The record is "<fingerprint>\n<payload>" (mutation.h).
  const absl::string_view record = reply.str();
  const size_t newline = record.find('\n');
  if (newline == absl::string_view::npos || record.substr(0, newline) != m.fingerprint) {
    return std::nullopt;
  }
  return std::string(record.substr(newline + 1));
}

// ---- pairings

absl::StatusOr<v1::Pairing> MentorshipStore::GetPairing(absl::string_view county_id,
                                                        absl::string_view pairing_id) {
  SHIDANG_ASSIGN_OR_RETURN(
      redis::Reply reply, pool_.Command({"HGET", PairingsKey(county_id), std::string(pairing_id)}));
  if (reply.is_nil()) return absl::NotFoundError(absl::StrCat("no pairing ", pairing_id));
  return Parse<v1::Pairing>(reply.str(), "pairing");
}

absl::StatusOr<std::vector<v1::Pairing>> MentorshipStore::TeacherPairings(
    absl::string_view county_id, absl::string_view teacher_id) {
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply ids,
                           pool_.Command({"SMEMBERS", TeacherPairingsKey(county_id, teacher_id)}));
  std::vector<v1::Pairing> pairings;
  if (ids.size() == 0) return pairings;
  redis::Args command = {"HMGET", PairingsKey(county_id)};
  for (size_t i = 0; i < ids.size(); ++i) command.push_back(std::string(ids[i].str()));
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply found, pool_.Command(command));
  for (size_t i = 0; i < found.size(); ++i) {
    if (found[i].is_nil()) continue;
    SHIDANG_ASSIGN_OR_RETURN(v1::Pairing p, Parse<v1::Pairing>(found[i].str(), "pairing"));
    pairings.push_back(std::move(p));
  }
  return pairings;
}

absl::StatusOr<v1::Pairing> MentorshipStore::CreatePairing(NewPairing create,
                                                           const WriteContext& write) {
  const v1::Pairing& p = create.pairing;
  const std::string& county = p.county_id();
  const char* slot_name = p.kind() == v1::PAIRING_KIND_URBAN_RURAL ? "urban-rural pair"
                          : p.role() == v1::PAIRING_ROLE_TEACHING  ? "TEACHING mentor"
                                                                   : "SECOND mentor";
  MutationRequest m;
  m.events.push_back(std::move(create.mentee_event));
  m.events.push_back(std::move(create.mentor_event));
  m.keys = {PairingsKey(county),
            LoadKey(county),
            SlotsKey(county),
            TeacherPairingsKey(county, p.mentee_id()),
            TeacherPairingsKey(county, p.mentor_id()),
            WritesKey(county)};
  m.args = {p.pairing_id(),
            p.SerializeAsString(),
            LoadFieldOf(p),
            SlotOf(p),
            absl::StrCat(create.capacity),
            slot_name,
            p.mentor_id(),
            FirstWritesValue()};
  absl::StatusOr<MutationResult> result = Run(CreatePairingScript(), county, std::move(m), write);
  if (!result.ok()) return WithRefusalRule(result.status());
  return Parse<v1::Pairing>(result->payload, "pairing");
}

absl::StatusOr<v1::Pairing> MentorshipStore::EndPairing(const v1::Pairing& read,
                                                        const v1::Pairing& ended,
                                                        std::vector<common::v1::Event> events,
                                                        const WriteContext& write) {
  const std::string& county = read.county_id();
  MutationRequest m;
  m.events = std::move(events);
  m.keys = {PairingsKey(county), LoadKey(county), SlotsKey(county), WritesKey(county)};
  m.args = {
      read.pairing_id(), read.SerializeAsString(), ended.SerializeAsString(), LoadFieldOf(read),
      SlotOf(read),      FirstWritesValue()};
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result,
                           Run(EndPairingScript(), county, std::move(m), write));
  return Parse<v1::Pairing>(result.payload, "pairing");
}

// ---- activities

absl::StatusOr<std::vector<v1::Activity>> MentorshipStore::Activities(
    absl::string_view county_id, absl::string_view pairing_id) {
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply reply,
                           pool_.Command({"HVALS", ActivitiesKey(county_id, pairing_id)}));
  std::vector<v1::Activity> activities;
  for (size_t i = 0; i < reply.size(); ++i) {
    SHIDANG_ASSIGN_OR_RETURN(v1::Activity a, Parse<v1::Activity>(reply[i].str(), "activity"));
    activities.push_back(std::move(a));
  }
  return activities;
}

absl::StatusOr<v1::Activity> MentorshipStore::LogActivity(absl::string_view county_id,
                                                          const v1::Activity& activity,
                                                          std::optional<common::v1::Event> event,
                                                          const WriteContext& write) {
  MutationRequest m;
  if (event.has_value()) m.events.push_back(std::move(*event));
  m.keys = {ActivitiesKey(county_id, activity.pairing_id()), EvaluationsKey(county_id),
            PairingsKey(county_id)};
  const bool evaluation = activity.kind() == v1::ACTIVITY_KIND_TERM_EVALUATION;
  m.args = {activity.activity_id(), activity.SerializeAsString(), activity.pairing_id(),
            evaluation ? absl::StrCat(activity.pairing_id(), "|", activity.term()) : ""};
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result,
                           Run(LogActivityScript(), county_id, std::move(m), write));
  return Parse<v1::Activity>(result.payload, "activity");
}

absl::StatusOr<MutationResult> MentorshipStore::Run(const Mutation& script,
                                                    absl::string_view county_id, MutationRequest m,
                                                    const WriteContext& write) {
  m.stream_key = StreamKey(county_id);
  if (write.request != nullptr) {
    SHIDANG_RETURN_IF_ERROR(AttachIdempotency(m, kServiceName, CountyTag(county_id), write.actor,
                                              write.method, *write.request));
  }
  // Consumers find the stream through the index; registering is idempotent and comes before the
  // first write under the tag (events.h).
  SHIDANG_RETURN_IF_ERROR(RegisterStream(pool_, kServiceName, m.stream_key));
  return script.Run(pool_, m);
}

}  // namespace shidang::mentorship
