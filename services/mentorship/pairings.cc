#include "services/mentorship/pairings.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/dates.h"
#include "services/common/events.h"
#include "services/common/status.h"
#include "services/mentorship/convert.h"
#include "services/mentorship/policy.h"
#include "services/mentorship/rules.h"

namespace shidang::mentorship {
namespace {

using common::v1::Principal;

constexpr size_t kMaxText = 500;
constexpr int kMaxBatch = 500;
constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;

const char* RoleLabel(const v1::Pairing& p) {
  if (p.kind() == v1::PAIRING_KIND_URBAN_RURAL) return "城乡结对";
  return p.role() == v1::PAIRING_ROLE_TEACHING ? "校内教学导师" : "第二导师";
}

common::v1::Event PairingEvent(const Deps& deps, const CallContext& call, absl::string_view type,
                               const v1::Pairing& p, absl::string_view teacher_id,
                               absl::string_view on, absl::string_view request_id,
                               std::string summary) {
  common::v1::Event e = NewEvent(kServiceName, type, deps.clock.Now());
  e.set_teacher_id(std::string(teacher_id));
  e.set_county_id(p.county_id());
  e.set_occurred_on(std::string(on));
  e.set_actor(call.actor);
  e.set_request_id(std::string(request_id));
  e.set_summary(std::move(summary));
  e.mutable_payload()->PackFrom(p);
  return e;
}

absl::StatusOr<v1::Pairing> ParsePairing(const std::string& bytes) {
  v1::Pairing p;
  if (!p.ParseFromString(bytes)) return absl::DataLossError("stored answer unreadable");
  return p;
}

// Roles that may ever create or end a pairing; others are refused before any lookup.
bool MayManageAny(const Principal& p) {
  return scope::IsTrusted(p.role()) || scope::IsHr(p.role()) ||
         p.role() == common::v1::ROLE_SCHOOL_ADMIN;
}

absl::StatusOr<absl::CivilDay> OptionalDate(absl::string_view text, absl::string_view field) {
  absl::StatusOr<absl::CivilDay> day = dates::ParseDate(text, field);
  if (!day.ok()) return InvalidField(field, "date_format", "must be a date YYYY-MM-DD");
  return *day;
}

absl::Status CheckInput(const v1::PairingInput& in) {
  if (in.mentee_id().empty()) return InvalidField("mentee_id", "required", "a teacher id");
  if (in.mentor_id().empty()) return InvalidField("mentor_id", "required", "a teacher id");
  if (!v1::PairingKind_IsValid(in.kind())) {
    return InvalidField("kind", "enum", "NEW_TEACHER (default) or URBAN_RURAL");
  }
  const bool urban_rural = in.kind() == v1::PAIRING_KIND_URBAN_RURAL;
  if (urban_rural && in.role() != v1::PAIRING_ROLE_UNSPECIFIED) {
    return InvalidField("role", "urban_rural", "an urban-rural pair has no role; leave it empty");
  }
  if (!urban_rural &&
      (in.role() != v1::PAIRING_ROLE_TEACHING && in.role() != v1::PAIRING_ROLE_SECOND)) {
    return InvalidField("role", "required", "TEACHING or SECOND");
  }
  if (in.note().size() > kMaxText) {
    return InvalidField("note", "length", absl::StrCat("at most ", kMaxText, " bytes"));
  }
  return absl::OkStatus();
}

// The pairing the request asks for, filled from both teachers' copies; the rules' request.
struct Planned {
  v1::Pairing pairing;
  PairingRequest request;
  std::string county;
  TeacherFacts mentee;
  TeacherFacts mentor;
};

absl::StatusOr<Planned> Plan(Deps& deps, const v1::PairingInput& in) {
  SHIDANG_RETURN_IF_ERROR(CheckInput(in));
  SHIDANG_ASSIGN_OR_RETURN(LocatedTeacher mentee, LocateTeacher(deps, in.mentee_id(), "mentee_id"));
  SHIDANG_ASSIGN_OR_RETURN(LocatedTeacher mentor, LocateTeacher(deps, in.mentor_id(), "mentor_id"));
  Schools schools;
  for (const LocatedTeacher* t : {&mentee, &mentor}) {
    SHIDANG_ASSIGN_OR_RETURN(std::optional<profile::v1::School> s,
                             deps.store.GetSchool(t->county_id, t->teacher.school_id()));
    if (!s.has_value()) continue;
    std::string school_id = s->school_id();  // named first: the School itself is moved in
    schools.emplace(std::move(school_id), *std::move(s));
  }
  Planned plan;
  plan.county = mentee.county_id;
  plan.mentee = ToTeacherFacts(mentee.teacher, schools);
  plan.mentor = ToTeacherFacts(mentor.teacher, schools);
  const v1::PairingKind kind =
      in.kind() == v1::PAIRING_KIND_UNSPECIFIED ? v1::PAIRING_KIND_NEW_TEACHER : in.kind();
  PairingRequest& r = plan.request;
  r.mentee_id = in.mentee_id();
  r.mentor_id = in.mentor_id();
  r.role = RoleOf(kind, in.role());
  v1::Pairing& p = plan.pairing;
  p.set_county_id(mentee.county_id);
  p.set_kind(kind);
  p.set_role(kind == v1::PAIRING_KIND_URBAN_RURAL ? v1::PAIRING_ROLE_UNSPECIFIED : in.role());
  p.set_mentee_id(in.mentee_id());
  p.set_mentor_id(in.mentor_id());
  p.set_mentee_school_id(mentee.teacher.school_id());
  p.set_mentor_school_id(mentor.teacher.school_id());
  p.set_mentee_name(mentee.teacher.name());
  p.set_mentor_name(mentor.teacher.name());
  for (const std::string& s : plan.mentee.subjects) {
    if (std::find(plan.mentor.subjects.begin(), plan.mentor.subjects.end(), s) !=
        plan.mentor.subjects.end()) {
      p.add_shared_subjects(s);
    }
  }
  p.set_note(in.note());
  p.set_state(v1::PAIRING_STATE_ACTIVE);
  return plan;
}

// Start and planned end: given, or today and the last day the mentee counts as new (an
// urban-rural pair: one year).
absl::Status FillDates(const v1::PairingInput& in, absl::CivilDay start,
                       const MentorshipPolicy& policy, Planned* plan) {
  absl::CivilDay end;
  if (!in.planned_end_date().empty()) {
    SHIDANG_ASSIGN_OR_RETURN(end, OptionalDate(in.planned_end_date(), "planned_end_date"));
  } else if (plan->request.role == Role::kUrbanRural) {
    end = dates::ShiftYears(start, 1) - 1;
  } else {
    end = dates::ShiftYears(plan->mentee.hire_date, policy.new_teacher_years) - 1;
    if (end < start) end = start;  // the rules refuse a mentee who is not new anyway
  }
  plan->request.start = start;
  plan->request.planned_end = end;
  plan->pairing.set_start_date(dates::FormatDate(start));
  plan->pairing.set_planned_end_date(dates::FormatDate(end));
  return absl::OkStatus();
}

// Every problem the rules find, as one FAILED_PRECONDITION: the message joins them, each a
// violation whose rule is its reason.
absl::Status Refuse(const std::vector<Problem>& problems) {
  absl::Status status = ProblemStatus(problems.front());
  std::vector<std::string> messages;
  messages.reserve(problems.size());
  for (const Problem& p : problems) messages.push_back(p.message);
  absl::Status joined(status.code(), absl::StrJoin(messages, "; "));
  common::v1::BadRequest details;
  for (const Problem& p : problems) {
    common::v1::FieldViolation* v = details.add_field_violations();
    v->set_field(p.field);
    v->set_rule(std::string(RefusalName(p.reason)));
    v->set_description(p.message);
  }
  joined.SetPayload(kBadRequestTypeUrl, absl::Cord(details.SerializeAsString()));
  return joined;
}

absl::StatusOr<v1::Pairing> CreateOne(Deps& deps, const CallContext& call,
                                      const v1::PairingInput& in,
                                      const google::protobuf::Message& request,
                                      const std::string& request_id) {
  if (!MayManageAny(call.principal)) return Denied(call.principal, "create pairings");
  SHIDANG_ASSIGN_OR_RETURN(Planned plan, Plan(deps, in));
  SHIDANG_RETURN_IF_ERROR(RequireManage(call.principal, plan.county, plan.pairing.kind(),
                                        plan.pairing.role(), plan.pairing.mentee_school_id(),
                                        absl::StrCat("pair teacher ", in.mentee_id())));
  const WriteContext write{call.actor, "CreatePairing", &request};
  SHIDANG_ASSIGN_OR_RETURN(std::optional<std::string> first,
                           deps.store.FirstAnswer(plan.county, write));
  if (first.has_value()) return ParsePairing(*first);
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay start,
                           DayOrToday(deps.clock, in.start_date(), "start_date"));
  SHIDANG_ASSIGN_OR_RETURN(MentorshipPolicy policy,
                           LoadMentorshipPolicy(deps.policies, plan.county, start));
  SHIDANG_RETURN_IF_ERROR(FillDates(in, start, policy, &plan));
  // Each pairing once: one of the mentee with this mentor is in both teachers' sets.
  std::map<std::string, v1::Pairing> stored;
  for (const std::string& t : {in.mentee_id(), in.mentor_id()}) {
    SHIDANG_ASSIGN_OR_RETURN(std::vector<v1::Pairing> of,
                             deps.store.TeacherPairings(plan.county, t));
    for (v1::Pairing& p : of) stored.emplace(p.pairing_id(), std::move(p));
  }
  std::vector<v1::Pairing> known;
  known.reserve(stored.size());
  for (auto& [id, p] : stored) known.push_back(std::move(p));

  std::vector<Problem> problems =
      CheckPairing(plan.request, plan.mentee, plan.mentor, ToRulesPairings(known), policy);
  if (!problems.empty()) return Refuse(problems);
  v1::Pairing& p = plan.pairing;
  p.set_pairing_id(MakeId("MP", plan.county, call.actor, "CreatePairing", request_id));
  p.set_created_by(call.actor);
  p.set_created_request_id(request_id);
  NewPairing create;
  create.pairing = p;
  create.capacity = policy.max_mentees;
  create.mentee_event =
      PairingEvent(deps, call, "mentorship.pairing_created", p, p.mentee_id(), p.start_date(),
                   request_id, absl::StrCat("师徒结对：", p.mentor_name(), "任", RoleLabel(p)));
  create.mentor_event = PairingEvent(
      deps, call, "mentorship.pairing_created", p, p.mentor_id(), p.start_date(), request_id,
      absl::StrCat("师徒结对：指导", p.mentee_name(), "（", RoleLabel(p), "）"));
  return deps.store.CreatePairing(std::move(create), write);
}

v1::PairingInput InputOf(const v1::CreatePairingRequest& req) {
  v1::PairingInput in;
  in.set_kind(req.kind());
  in.set_role(req.role());
  in.set_mentee_id(req.mentee_id());
  in.set_mentor_id(req.mentor_id());
  in.set_start_date(req.start_date());
  in.set_planned_end_date(req.planned_end_date());
  in.set_note(req.note());
  return in;
}

// Active first, then newest start, then id.
void SortPairings(std::vector<v1::Pairing>* pairings) {
  std::sort(pairings->begin(), pairings->end(), [](const v1::Pairing& a, const v1::Pairing& b) {
    const bool a_active = a.state() == v1::PAIRING_STATE_ACTIVE;
    const bool b_active = b.state() == v1::PAIRING_STATE_ACTIVE;
    if (a_active != b_active) return a_active;
    if (a.start_date() != b.start_date()) return a.start_date() > b.start_date();
    return a.pairing_id() < b.pairing_id();
  });
}

template <typename Response>
absl::Status PageOut(std::vector<v1::Pairing> pairings, const common::v1::PageRequest& page,
                     Response* resp) {
  SHIDANG_ASSIGN_OR_RETURN(int size, PageSize(page, kDefaultPageSize, kMaxPageSize));
  SHIDANG_ASSIGN_OR_RETURN(size_t offset, PageOffset(page));
  SortPairings(&pairings);
  for (size_t i = offset; i < pairings.size() && i < offset + static_cast<size_t>(size); ++i) {
    *resp->add_pairings() = std::move(pairings[i]);
  }
  FillPage(offset, size, pairings.size(), resp->mutable_page());
  return absl::OkStatus();
}

}  // namespace

absl::Status CreatePairing(Deps& deps, const CallContext& call, const v1::CreatePairingRequest& req,
                           v1::CreatePairingResponse* resp) {
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_pairing(),
                           CreateOne(deps, call, InputOf(req), req, req.request_id()));
  return absl::OkStatus();
}

absl::Status CreatePairings(Deps& deps, const CallContext& call,
                            const v1::CreatePairingsRequest& req,
                            v1::CreatePairingsResponse* resp) {
  if (!MayManageAny(call.principal)) return Denied(call.principal, "create pairings");
  if (req.pairings_size() == 0 || req.pairings_size() > kMaxBatch) {
    return InvalidField("pairings", "count", absl::StrCat("1 to ", kMaxBatch, " pairings"));
  }
  for (int i = 0; i < req.pairings_size(); ++i) {
    // Each row is its own idempotent write ("<request_id>/<i>"), so a retried batch answers
    // every row as the first time did and creates nothing twice.
    v1::CreatePairingRequest row;
    row.set_request_id(req.request_id().empty() ? "" : absl::StrCat(req.request_id(), "/", i));
    const v1::PairingInput& in = req.pairings(i);
    row.set_kind(in.kind());
    row.set_role(in.role());
    row.set_mentee_id(in.mentee_id());
    row.set_mentor_id(in.mentor_id());
    row.set_start_date(in.start_date());
    row.set_planned_end_date(in.planned_end_date());
    row.set_note(in.note());
    absl::StatusOr<v1::Pairing> made = CreateOne(deps, call, in, row, row.request_id());
    v1::PairingRow* out = resp->add_rows();
    out->set_index(i);
    if (made.ok()) {
      *out->mutable_pairing() = *std::move(made);
      resp->set_created(resp->created() + 1);
      continue;
    }
    // Redis down, or a bug: the whole call fails (rows done so far stay, and a retry with the
    // same request id answers them as before).
    if (absl::IsUnavailable(made.status()) || absl::IsInternal(made.status()) ||
        absl::IsDeadlineExceeded(made.status())) {
      return made.status();
    }
    v1::Refusal* refusal = out->mutable_refusal();
    refusal->set_reason(RefusalOfStatus(made.status()));
    refusal->set_message(std::string(made.status().message()));
    resp->set_refused(resp->refused() + 1);
  }
  return absl::OkStatus();
}

absl::Status EndPairing(Deps& deps, const CallContext& call, const v1::EndPairingRequest& req,
                        v1::EndPairingResponse* resp) {
  if (!MayManageAny(call.principal)) return Denied(call.principal, "end pairings");
  if (req.outcome() != v1::PAIRING_STATE_COMPLETED &&
      req.outcome() != v1::PAIRING_STATE_ENDED_EARLY) {
    return InvalidField("outcome", "required", "COMPLETED or ENDED_EARLY");
  }
  if (req.outcome() == v1::PAIRING_STATE_ENDED_EARLY && req.reason().empty()) {
    return InvalidField("reason", "required", "why the pairing ends early");
  }
  if (req.reason().size() > kMaxText) {
    return InvalidField("reason", "length", absl::StrCat("at most ", kMaxText, " bytes"));
  }
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay on, DayOrToday(deps.clock, req.ended_on(), "ended_on"));
  SHIDANG_ASSIGN_OR_RETURN(std::string county,
                           MentorshipStore::CountyOfPairingId(req.pairing_id(), "pairing_id"));
  SHIDANG_ASSIGN_OR_RETURN(v1::Pairing read, deps.store.GetPairing(county, req.pairing_id()));
  SHIDANG_RETURN_IF_ERROR(RequireManage(call.principal, county, read.kind(), read.role(),
                                        read.mentee_school_id(),
                                        absl::StrCat("end pairing ", req.pairing_id())));
  const WriteContext write{call.actor, "EndPairing", &req};
  SHIDANG_ASSIGN_OR_RETURN(std::optional<std::string> first, deps.store.FirstAnswer(county, write));
  if (first.has_value()) {
    SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_pairing(), ParsePairing(*first));
    return absl::OkStatus();
  }
  if (read.state() != v1::PAIRING_STATE_ACTIVE) {
    return absl::FailedPreconditionError(
        absl::StrCat("pairing ", read.pairing_id(), " is ", v1::PairingState_Name(read.state()),
                     " since ", read.ended_on(), "; only an active pairing ends"));
  }
  if (dates::FormatDate(on) < read.start_date()) {
    return InvalidField("ended_on", "order",
                        absl::StrCat("must be on or after the start date ", read.start_date()));
  }
  // Its place is free from now on, so its last day cannot lie ahead (ListUnpaired would count
  // the mentee paired on days the mentor's place was given to another).
  if (on > deps.clock.Today()) {
    return InvalidField(
        "ended_on", "not_future",
        absl::StrCat("must be on or before today, ", dates::FormatDate(deps.clock.Today())));
  }
  v1::Pairing ended = read;
  ended.set_state(req.outcome());
  ended.set_ended_on(dates::FormatDate(on));
  ended.set_end_reason(req.reason());
  ended.set_ended_by(call.actor);
  ended.set_ended_request_id(req.request_id());
  const std::string how = req.outcome() == v1::PAIRING_STATE_COMPLETED ? "期满结业" : "提前结束";
  std::vector<common::v1::Event> events = {
      PairingEvent(
          deps, call, "mentorship.pairing_ended", ended, ended.mentee_id(), ended.ended_on(),
          req.request_id(),
          absl::StrCat("师徒结对", how, "：", ended.mentor_name(), "（", RoleLabel(ended), "）")),
      PairingEvent(
          deps, call, "mentorship.pairing_ended", ended, ended.mentor_id(), ended.ended_on(),
          req.request_id(),
          absl::StrCat("指导新教师", ended.mentee_name(), how, "（", RoleLabel(ended), "）"))};
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_pairing(),
                           deps.store.EndPairing(read, ended, std::move(events), write));
  return absl::OkStatus();
}

absl::StatusOr<v1::Pairing> ReadablePairing(Deps& deps, const Principal& p,
                                            absl::string_view pairing_id) {
  const std::string what = absl::StrCat("read pairing ", pairing_id);
  if (p.role() == common::v1::ROLE_TRAINING_CENTER) return Denied(p, what);
  SHIDANG_ASSIGN_OR_RETURN(std::string county,
                           MentorshipStore::CountyOfPairingId(pairing_id, "pairing_id"));
  absl::StatusOr<v1::Pairing> pairing = deps.store.GetPairing(county, pairing_id);
  // Who may not read it learns nothing, not even that it is missing.
  if (absl::IsNotFound(pairing.status()) && !CoversCounty(p, county)) return Denied(p, what);
  SHIDANG_RETURN_IF_ERROR(pairing.status());
  if (!MayReadPairing(p, *pairing)) return Denied(p, what);
  return pairing;
}

absl::Status GetPairing(Deps& deps, const CallContext& call, const v1::GetPairingRequest& req,
                        v1::GetPairingResponse* resp) {
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_pairing(),
                           ReadablePairing(deps, call.principal, req.pairing_id()));
  return absl::OkStatus();
}

absl::Status ListPairings(Deps& deps, const CallContext& call, const v1::ListPairingsRequest& req,
                          v1::ListPairingsResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(CheckCountyId(req.county_id()));
  SHIDANG_RETURN_IF_ERROR(
      RequireCountyRead(call.principal, req.county_id(), req.school_id(), "list the pairings"));
  SHIDANG_ASSIGN_OR_RETURN(std::shared_ptr<const CountyData> read,
                           deps.store.ReadCounty(req.county_id()));
  const CountyData& data = *read;
  std::vector<v1::Pairing> chosen;
  for (const v1::Pairing& p : *data.pairings) {
    if (!req.include_ended() && p.state() != v1::PAIRING_STATE_ACTIVE) continue;
    if (!req.school_id().empty() && p.mentee_school_id() != req.school_id() &&
        p.mentor_school_id() != req.school_id()) {
      continue;
    }
    if (!req.mentor_id().empty() && p.mentor_id() != req.mentor_id()) continue;
    if (!req.mentee_id().empty() && p.mentee_id() != req.mentee_id()) continue;
    chosen.push_back(p);
  }
  return PageOut(std::move(chosen), req.page(), resp);
}

absl::Status ListTeacherPairings(Deps& deps, const CallContext& call,
                                 const v1::ListTeacherPairingsRequest& req,
                                 v1::ListTeacherPairingsResponse* resp) {
  const Principal& p = call.principal;
  const std::string what = absl::StrCat("read the pairings of teacher ", req.teacher_id());
  if (scope::TeacherBeforeLookup(p, req.teacher_id()) == scope::Reach::kDenied) {
    return Denied(p, what);
  }
  absl::StatusOr<LocatedTeacher> teacher = LocateTeacher(deps, req.teacher_id(), "teacher_id");
  if (absl::IsNotFound(teacher.status()) && !scope::IsTrusted(p.role())) return Denied(p, what);
  SHIDANG_RETURN_IF_ERROR(teacher.status());
  if (!scope::CoversTeacher(
          p, {teacher->teacher.teacher_id(), teacher->teacher.school_id(), teacher->county_id})) {
    return Denied(p, what);
  }
  SHIDANG_ASSIGN_OR_RETURN(std::vector<v1::Pairing> pairings,
                           deps.store.TeacherPairings(teacher->county_id, req.teacher_id()));
  if (!req.include_ended()) {
    pairings.erase(
        std::remove_if(pairings.begin(), pairings.end(),
                       [](const v1::Pairing& x) { return x.state() != v1::PAIRING_STATE_ACTIVE; }),
        pairings.end());
  }
  return PageOut(std::move(pairings), req.page(), resp);
}

}  // namespace shidang::mentorship
