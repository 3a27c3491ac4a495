#include "services/mentorship/convert.h"

#include "absl/strings/cord.h"
#include "services/common/dates.h"
#include "services/common/violations.h"
#include "shidang/common/v1/error.pb.h"

namespace shidang::mentorship {

namespace {

// The dated changes of `entries` (`value` reads one's new value; undated ones are left out) and
// what held before them.
template <typename T, typename Value>
History<T> HistoryOf(const google::protobuf::RepeatedPtrField<v1::EntryCopy>& entries,
                     std::optional<T> before, Value value) {
  History<T> history;
  history.before = before;
  if (entries.empty()) return history;
  history.changes.reserve(entries.size());
  for (const v1::EntryCopy& e : entries) {
    absl::StatusOr<absl::CivilDay> day = dates::ParseDate(e.occurred_on());
    if (day.ok()) history.changes.push_back(Dated<T>{*day, value(e)});
  }
  return history;
}

template <typename T>
std::optional<T> Before(bool has, T value) {
  return has ? std::optional<T>(value) : std::nullopt;
}

}  // namespace

TeacherFacts ToTeacherFacts(const v1::TeacherCopy& copy, const Schools& schools) {
  auto school = schools.find(copy.school_id());
  return ToTeacherFacts(copy, school == schools.end() ? profile::v1::SCHOOL_LOCATION_UNSPECIFIED
                                                      : school->second.location());
}

TeacherFacts ToTeacherFacts(const v1::TeacherCopy& copy,
                            profile::v1::SchoolLocation school_location) {
  TeacherFacts t;
  t.teacher_id = copy.teacher_id();
  t.county_id = copy.county_id();
  t.school_id = copy.school_id();
  t.school_location = school_location;
  t.subjects.assign(copy.subjects().begin(), copy.subjects().end());
  if (absl::StatusOr<absl::CivilDay> hire = dates::ParseDate(copy.hire_date()); hire.ok()) {
    t.hire_date = *hire;
  }
  t.title = copy.title();
  t.backbone_tier = copy.backbone_tier();
  for (const v1::EntryCopy& e : copy.ethics_findings()) {
    absl::StatusOr<absl::CivilDay> day = dates::ParseDate(e.occurred_on());
    if (!day.ok()) continue;
    t.ethics_findings.push_back(EthicsFinding{e.severity(), *day, std::nullopt});
  }
  t.post_status = copy.post_status();
  t.title_history = HistoryOf<common::v1::ProfessionalTitle>(
      copy.titles(), Before(copy.has_title_before(), copy.title_before()),
      [](const v1::EntryCopy& e) { return e.title(); });
  t.backbone_history = HistoryOf<common::v1::BackboneTier>(
      copy.backbone_changes(), Before(copy.has_backbone_before(), copy.backbone_before()),
      [](const v1::EntryCopy& e) { return e.tier(); });
  t.post_status_history = HistoryOf<profile::v1::PostStatus>(
      copy.post_status_changes(), Before(copy.has_post_status_before(), copy.post_status_before()),
      [](const v1::EntryCopy& e) { return e.post_status(); });
  return t;
}

std::optional<Pairing> ToRulesPairing(const v1::Pairing& p) {
  absl::StatusOr<absl::CivilDay> start = dates::ParseDate(p.start_date());
  absl::StatusOr<absl::CivilDay> end = dates::ParseDate(p.planned_end_date());
  if (!start.ok() || !end.ok()) return std::nullopt;
  Pairing r;
  r.pairing_id = p.pairing_id();
  r.mentee_id = p.mentee_id();
  r.mentor_id = p.mentor_id();
  r.role = RoleOf(p.kind(), p.role());
  r.start = *start;
  r.planned_end = *end;
  if (p.state() != v1::PAIRING_STATE_ACTIVE) {
    absl::StatusOr<absl::CivilDay> ended = dates::ParseDate(p.ended_on());
    r.ended_on = ended.ok() ? *ended : *end;
  }
  return r;
}

std::vector<Pairing> ToRulesPairings(const std::vector<v1::Pairing>& pairings) {
  std::vector<Pairing> out;
  out.reserve(pairings.size());
  for (const v1::Pairing& p : pairings) {
    if (std::optional<Pairing> r = ToRulesPairing(p)) out.push_back(*std::move(r));
  }
  return out;
}

Role RoleOf(v1::PairingKind kind, v1::PairingRole role) {
  if (kind == v1::PAIRING_KIND_URBAN_RURAL) return Role::kUrbanRural;
  return role == v1::PAIRING_ROLE_SECOND ? Role::kSecond : Role::kTeaching;
}

v1::PairingRole ToProtoRole(Role role) {
  switch (role) {
    case Role::kTeaching:
      return v1::PAIRING_ROLE_TEACHING;
    case Role::kSecond:
      return v1::PAIRING_ROLE_SECOND;
    case Role::kUrbanRural:
      break;
  }
  return v1::PAIRING_ROLE_UNSPECIFIED;
}

v1::RefusalReason ToProtoRefusal(Refusal reason) {
  switch (reason) {
    case Refusal::kSelf:
      return v1::REFUSAL_REASON_SELF;
    case Refusal::kCounty:
      return v1::REFUSAL_REASON_COUNTY;
    case Refusal::kPlannedEnd:
      return v1::REFUSAL_REASON_PLANNED_END;
    case Refusal::kMenteeNotNew:
      return v1::REFUSAL_REASON_MENTEE_NOT_NEW;
    case Refusal::kMenteeNotInService:
      return v1::REFUSAL_REASON_MENTEE_NOT_IN_SERVICE;
    case Refusal::kMentorNotInService:
      return v1::REFUSAL_REASON_MENTOR_NOT_IN_SERVICE;
    case Refusal::kMentorTitle:
      return v1::REFUSAL_REASON_MENTOR_TITLE;
    case Refusal::kMentorYears:
      return v1::REFUSAL_REASON_MENTOR_YEARS;
    case Refusal::kMentorVeto:
      return v1::REFUSAL_REASON_MENTOR_VETO;
    case Refusal::kSchool:
      return v1::REFUSAL_REASON_SCHOOL;
    case Refusal::kSubject:
      return v1::REFUSAL_REASON_SUBJECT;
    case Refusal::kRoleTaken:
      return v1::REFUSAL_REASON_ROLE_TAKEN;
    case Refusal::kMentorHoldsOtherRole:
      return v1::REFUSAL_REASON_MENTOR_HOLDS_OTHER_ROLE;
    case Refusal::kCapacity:
      return v1::REFUSAL_REASON_CAPACITY;
    case Refusal::kUrbanRuralNotUrban:
      return v1::REFUSAL_REASON_URBAN_RURAL_NOT_URBAN;
    case Refusal::kUrbanRuralNotBackbone:
      return v1::REFUSAL_REASON_URBAN_RURAL_NOT_BACKBONE;
    case Refusal::kUrbanRuralNotRural:
      return v1::REFUSAL_REASON_URBAN_RURAL_NOT_RURAL;
  }
  return v1::REFUSAL_REASON_OTHER;
}

v1::RefusalReason RefusalOfStatus(const absl::Status& status) {
  if (absl::IsNotFound(status)) return v1::REFUSAL_REASON_UNKNOWN_TEACHER;
  absl::optional<absl::Cord> payload = status.GetPayload(kBadRequestTypeUrl);
  if (!payload.has_value()) return v1::REFUSAL_REASON_OTHER;
  common::v1::BadRequest details;
  if (!details.ParseFromString(std::string(*payload))) return v1::REFUSAL_REASON_OTHER;
  for (const common::v1::FieldViolation& v : details.field_violations()) {
    v1::RefusalReason reason = v1::REFUSAL_REASON_UNSPECIFIED;
    if (!v.rule().empty() && v1::RefusalReason_Parse("REFUSAL_REASON_" + v.rule(), &reason)) {
      return reason;
    }
  }
  return v1::REFUSAL_REASON_OTHER;
}

absl::Status ProblemStatus(const Problem& problem) {
  absl::Status status = absl::FailedPreconditionError(problem.message);
  common::v1::BadRequest details;
  common::v1::FieldViolation* v = details.add_field_violations();
  v->set_field(problem.field);
  v->set_rule(std::string(RefusalName(problem.reason)));
  v->set_description(problem.message);
  status.SetPayload(kBadRequestTypeUrl, absl::Cord(details.SerializeAsString()));
  return status;
}

ActivityKind ToRulesKind(v1::ActivityKind kind) {
  switch (kind) {
    case v1::ACTIVITY_KIND_LESSON_COACHED:
      return ActivityKind::kLessonCoached;
    case v1::ACTIVITY_KIND_PUBLIC_LESSON:
      return ActivityKind::kPublicLesson;
    case v1::ACTIVITY_KIND_GUIDANCE_SESSION:
      return ActivityKind::kGuidanceSession;
    case v1::ACTIVITY_KIND_TERM_EVALUATION:
      return ActivityKind::kTermEvaluation;
    default:
      return ActivityKind::kLessonObserved;
  }
}

v1::ActivityKind ToProtoKind(ActivityKind kind) {
  switch (kind) {
    case ActivityKind::kLessonObserved:
      return v1::ACTIVITY_KIND_LESSON_OBSERVED;
    case ActivityKind::kLessonCoached:
      return v1::ACTIVITY_KIND_LESSON_COACHED;
    case ActivityKind::kPublicLesson:
      return v1::ACTIVITY_KIND_PUBLIC_LESSON;
    case ActivityKind::kGuidanceSession:
      return v1::ACTIVITY_KIND_GUIDANCE_SESSION;
    case ActivityKind::kTermEvaluation:
      return v1::ACTIVITY_KIND_TERM_EVALUATION;
  }
  return v1::ACTIVITY_KIND_UNSPECIFIED;
}

v1::StageGoal ToProtoStage(Stage stage) {
  switch (stage) {
    case Stage::kYear1:
      return v1::STAGE_GOAL_YEAR_1;
    case Stage::kYears2To3:
      return v1::STAGE_GOAL_YEARS_2_3;
    case Stage::kYears4To5:
      return v1::STAGE_GOAL_YEARS_4_5;
    case Stage::kNone:
      break;
  }
  return v1::STAGE_GOAL_UNSPECIFIED;
}

}  // namespace shidang::mentorship
