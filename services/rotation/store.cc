#include "services/rotation/store.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/any.pb.h"
#include "services/common/county_delta.h"
#include "services/common/events.h"
#include "services/common/keys.h"
#include "services/common/status.h"
#include "services/rotation/lua_scripts.h"

namespace shidang::rotation {
namespace {

constexpr char kPrefix[] = "rotation:";

const Mutation& CreateRotationScript() {
  static const Mutation* script = new Mutation(lua::kCreateRotation);
  return *script;
}
const Mutation& TransitionRotationScript() {
  static const Mutation* script = new Mutation(lua::kTransitionRotation);
  return *script;
}
const Mutation& ApproveRotationScript() {
  static const Mutation* script = new Mutation(lua::kApproveRotation);
  return *script;
}
const Mutation& ChangeRotationScript() {
  static const Mutation* script = new Mutation(lua::kChangeRotation);
  return *script;
}
const Mutation& PutDeferralScript() {
  static const Mutation* script = new Mutation(lua::kPutDeferral);
  return *script;
}

bool IsCountyCode(absl::string_view code) {
  return code.size() == 6 && code.find_first_not_of("0123456789") == absl::string_view::npos &&
         !absl::EndsWith(code, "00");
}

// "<prefix><county>-<hex>" -> county.
absl::StatusOr<std::string> CountyOfId(absl::string_view id, absl::string_view prefix,
                                       absl::string_view field, absl::string_view what) {
  if (absl::StartsWith(id, prefix) && id.size() > prefix.size() + 7 &&
      id[prefix.size() + 6] == '-') {
    absl::string_view county = id.substr(prefix.size(), 6);
    if (IsCountyCode(county)) return std::string(county);
  }
  return InvalidField(
      field, "id_format",
      absl::StrCat("'", id, "' is not a ", what, " id (", prefix, "<county>-<hex>)"));
}

template <typename T>
absl::StatusOr<T> Parse(absl::string_view bytes, absl::string_view what) {
  return county_delta::ParseStored<T>(bytes, what);
}

// The payload Any up to its value (field 1, the type URL), as PackFrom writes it.
std::string RotationAnyHead() {
  google::protobuf::Any any;
  any.PackFrom(v1::Rotation());
  return any.SerializeAsString();
}

}  // namespace

RotationStore::RotationStore(redis::Pool& pool) : pool_(pool) {}

std::string RotationStore::CountyTag(absl::string_view c) { return keys::HashTag("c", c); }
std::string RotationStore::TeachersKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":teachers");
}
std::string RotationStore::SchoolsKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":schools");
}
std::string RotationStore::RotationsKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":rot");
}
std::string RotationStore::StatesKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":state");
}
std::string RotationStore::ActiveKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":active");
}
std::string RotationStore::DeferralsKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":deferrals");
}
std::string RotationStore::StreamKey(absl::string_view c) {
  return keys::StreamKey(kServiceName, CountyTag(c));
}
std::string RotationStore::WritesKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":writes");
}
std::string RotationStore::ChangesKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":changes");
}
std::string RotationStore::TeacherCountyKey() { return "rotation:teacher-county"; }

county_delta::CountyKeys RotationStore::CountyKeysOf(absl::string_view c) {
  return county_delta::CountyKeys{WritesKey(c),
                                  ChangesKey(c),
                                  StreamKey(c),
                                  {{kTeacherKind, TeachersKey(c)},
                                   {kSchoolKind, SchoolsKey(c)},
                                   {kDeferralKind, DeferralsKey(c)},
                                   {kRotationKind, RotationsKey(c)}}};
}

absl::StatusOr<std::string> RotationStore::CountyOfRotationId(absl::string_view id,
                                                              absl::string_view field) {
  return CountyOfId(id, "RT", field, "rotation");
}
absl::StatusOr<std::string> RotationStore::CountyOfDeferralId(absl::string_view id,
                                                              absl::string_view field) {
  return CountyOfId(id, "DF", field, "deferral");
}

// ---- facts

absl::Status RotationStore::PutSchool(const profile::v1::School& school) {
  return county_delta::WriteFact(pool_, CountyKeysOf(school.county_id()), kSchoolKind,
                                 school.school_id(), school.SerializeAsString());
}

absl::Status RotationStore::PutTeacher(const v1::TeacherCopy& teacher) {
  return county_delta::WriteFact(pool_, CountyKeysOf(teacher.county_id()), kTeacherKind,
                                 teacher.teacher_id(), teacher.SerializeAsString());
}

absl::Status RotationStore::DeleteTeacher(absl::string_view county_id,
                                          absl::string_view teacher_id) {
  return county_delta::WriteFact(pool_, CountyKeysOf(county_id), kTeacherKind, teacher_id,
                                 std::nullopt);
}

absl::StatusOr<std::optional<v1::TeacherCopy>> RotationStore::GetTeacher(
    absl::string_view county_id, absl::string_view teacher_id) {
  return county_delta::ReadStored<v1::TeacherCopy>(pool_, TeachersKey(county_id), teacher_id,
                                                   "teacher");
}

absl::StatusOr<std::optional<profile::v1::School>> RotationStore::GetSchool(
    absl::string_view county_id, absl::string_view school_id) {
  return county_delta::ReadStored<profile::v1::School>(pool_, SchoolsKey(county_id), school_id,
                                                       "school");
}

absl::Status RotationStore::SetTeacherCounty(absl::string_view teacher_id,
                                             absl::string_view county_id) {
  return pool_
      .Command({"HSET", TeacherCountyKey(), std::string(teacher_id), std::string(county_id)})
      .status();
}

absl::StatusOr<std::string> RotationStore::TeacherCounty(absl::string_view teacher_id) {
  SHIDANG_ASSIGN_OR_RETURN(std::optional<std::string> county,
                           county_delta::ReadField(pool_, TeacherCountyKey(), teacher_id));
  if (!county.has_value()) return absl::NotFoundError(absl::StrCat("no teacher ", teacher_id));
  return *std::move(county);
}

// ---- rotations

absl::StatusOr<StoredRotation> RotationStore::GetRotation(absl::string_view county_id,
                                                          absl::string_view rotation_id) {
  const std::string id(rotation_id);
  SHIDANG_ASSIGN_OR_RETURN(
      std::vector<redis::Reply> replies,
      pool_.Pipeline({{"HGET", RotationsKey(county_id), id},
                      {"HMGET", StatesKey(county_id), id, id + ":hr", id + ":rc"}}));
  if (replies[0].is_nil()) return absl::NotFoundError(absl::StrCat("no rotation ", rotation_id));
  StoredRotation stored;
  SHIDANG_ASSIGN_OR_RETURN(stored.rotation, Parse<v1::Rotation>(replies[0].str(), "rotation"));
  const redis::Reply& flags = replies[1];
  if (flags.size() == 3) {
    if (!flags[0].is_nil()) stored.state = std::string(flags[0].str());
    if (!flags[1].is_nil()) stored.hr_flag = std::string(flags[1].str());
    if (!flags[2].is_nil()) stored.rc_flag = std::string(flags[2].str());
  }
  return stored;
}

absl::StatusOr<v1::Rotation> RotationStore::CreateRotation(const v1::Rotation& rotation,
                                                           common::v1::Event event,
                                                           const WriteContext& write) {
  const std::string& county = rotation.county_id();
  MutationRequest m;
  m.events.push_back(std::move(event));
  m.keys = {RotationsKey(county), StatesKey(county), ActiveKey(county), WritesKey(county),
            ChangesKey(county)};
  m.args = {rotation.rotation_id(), rotation.teacher_id(), rotation.SerializeAsString(),
            v1::RotationState_Name(rotation.state()), absl::StrCat(county_delta::kLogBound)};
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result,
                           Run(CreateRotationScript(), county, std::move(m), write));
  return Parse<v1::Rotation>(result.payload, "rotation");
}

absl::StatusOr<std::optional<v1::Rotation>> RotationStore::CreatedBefore(
    absl::string_view county_id, const WriteContext& write) {
  return AnsweredBefore(county_id, write);
}

absl::StatusOr<v1::Rotation> RotationStore::Transition(const TransitionWrite& change,
                                                       const WriteContext& write) {
  const std::string& county = change.county_id;
  std::vector<std::string> allowed;
  for (v1::RotationState s : change.allowed_from) allowed.push_back(v1::RotationState_Name(s));
  const v1::RotationState to = change.updated.state();
  const bool releases = to == v1::ROTATION_STATE_REJECTED || to == v1::ROTATION_STATE_COMPLETED ||
                        to == v1::ROTATION_STATE_CANCELLED;
  MutationRequest m;
  m.events.push_back(change.event);
  m.keys = {RotationsKey(county), StatesKey(county), ActiveKey(county), WritesKey(county),
            ChangesKey(county)};
  m.args = {change.updated.rotation_id(),
            change.updated.teacher_id(),
            absl::StrJoin(allowed, ","),
            v1::RotationState_Name(change.target),
            change.read->state,
            v1::RotationState_Name(to),
            change.updated.SerializeAsString(),
            change.flag,
            change.read->hr_flag,
            change.read->rc_flag,
            releases ? "1" : "0",
            absl::StrCat(county_delta::kLogBound)};
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result,
                           Run(TransitionRotationScript(), county, std::move(m), write));
  return Parse<v1::Rotation>(result.payload, "rotation");
}

absl::StatusOr<v1::Rotation> RotationStore::Change(const ChangeWrite& change,
                                                   const WriteContext& write) {
  const std::string& county = change.county_id;
  MutationRequest m;
  m.events = {change.event};
  m.keys = {RotationsKey(county), StatesKey(county), ActiveKey(county), WritesKey(county),
            ChangesKey(county)};
  m.args = {change.rotation_id, change.covers_county ? "1" : "",       change.school_id,
            change.school_may,  v1::RotationState_Name(change.target), change.not_before_start,
            RotationAnyHead(),  absl::StrCat(county_delta::kLogBound)};
  for (const auto& [from, adds] : change.adds) {
    m.args.push_back(v1::RotationState_Name(from));
    m.args.push_back(adds.SerializeAsString());
  }
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result,
                           Run(ChangeRotationScript(), county, std::move(m), write));
  return Parse<v1::Rotation>(result.payload, "rotation");
}

absl::StatusOr<v1::Rotation> RotationStore::Approve(const ApprovalWrite& approval,
                                                    const WriteContext& write) {
  const std::string& county = approval.county_id;
  MutationRequest m;
  m.events = {approval.approved_event, approval.confirmed_event};
  m.keys = {RotationsKey(county), StatesKey(county), ActiveKey(county), WritesKey(county),
            ChangesKey(county)};
  m.args = {approval.rotation_id,
            approval.approver,
            approval.school_id,
            approval.completes.SerializeAsString(),
            approval.waits.SerializeAsString(),
            RotationAnyHead(),
            absl::StrCat(county_delta::kLogBound)};
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result,
                           Run(ApproveRotationScript(), county, std::move(m), write));
  return Parse<v1::Rotation>(result.payload, "rotation");
}

absl::StatusOr<std::optional<v1::Rotation>> RotationStore::AnsweredBefore(
    absl::string_view county_id, const WriteContext& write) {
  if (write.request == nullptr) return std::nullopt;
  MutationRequest m;
  SHIDANG_RETURN_IF_ERROR(AttachIdempotency(m, kServiceName, CountyTag(county_id), write.actor,
                                            write.method, *write.request));
  SHIDANG_ASSIGN_OR_RETURN(std::optional<std::string> answer, StoredAnswer(pool_, m));
  if (!answer.has_value()) return std::nullopt;
  return Parse<v1::Rotation>(*answer, "rotation");
}

// ---- deferrals

absl::StatusOr<v1::Deferral> RotationStore::GetDeferral(absl::string_view county_id,
                                                        absl::string_view deferral_id) {
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply reply, pool_.Command({"HGET", DeferralsKey(county_id),
                                                              std::string(deferral_id)}));
  if (reply.is_nil()) return absl::NotFoundError(absl::StrCat("no deferral ", deferral_id));
  return Parse<v1::Deferral>(reply.str(), "deferral");
}

absl::StatusOr<v1::Deferral> RotationStore::PutDeferral(const v1::Deferral& deferral,
                                                        const v1::Deferral* read,
                                                        common::v1::Event event,
                                                        const WriteContext& write) {
  MutationRequest m;
  m.events.push_back(std::move(event));
  m.keys = {DeferralsKey(deferral.county_id()), WritesKey(deferral.county_id()),
            ChangesKey(deferral.county_id())};
  m.args = {deferral.deferral_id(), deferral.SerializeAsString(),
            read == nullptr ? std::string() : read->SerializeAsString(),
            absl::StrCat(county_delta::kLogBound)};
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result,
                           Run(PutDeferralScript(), deferral.county_id(), std::move(m), write));
  return Parse<v1::Deferral>(result.payload, "deferral");
}

absl::StatusOr<MutationResult> RotationStore::Run(const Mutation& script,
                                                  absl::string_view county_id, MutationRequest m,
                                                  const WriteContext& write) {
  m.stream_key = StreamKey(county_id);
  if (write.request != nullptr) {
    SHIDANG_RETURN_IF_ERROR(AttachIdempotency(m, kServiceName, CountyTag(county_id), write.actor,
                                              write.method, *write.request));
  }
  // Consumers find the stream through the index; registering is idempotent and comes before the
  // first write under the tag (events.h), so once per county per process is enough.
  bool registered = false;
  {
    absl::MutexLock lock(&registered_mu_);
    registered = registered_.count(m.stream_key) > 0;
  }
  if (!registered) {
    SHIDANG_RETURN_IF_ERROR(RegisterStream(pool_, kServiceName, m.stream_key));
    absl::MutexLock lock(&registered_mu_);
    registered_.insert(m.stream_key);
  }
  return script.Run(pool_, m);
}

}  // namespace shidang::rotation
