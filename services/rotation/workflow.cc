#include "services/rotation/workflow.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/common/dates.h"
#include "services/common/mutation.h"
#include "services/common/status.h"
#include "services/common/violations.h"
#include "services/rotation/facts.h"
#include "services/rotation/policy.h"
#include "services/rotation/rules.h"

namespace shidang::rotation {
namespace {

using common::v1::Principal;

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;
constexpr size_t kMaxText = 500;

const char* FormLabel(v1::RotationForm form) {
  switch (form) {
    case v1::ROTATION_FORM_REGULAR_TRANSFER:
      return "定期交流";
    case v1::ROTATION_FORM_SUPPORT_TEACHING:
      return "支教";
    case v1::ROTATION_FORM_ITINERANT:
      return "走教";
    case v1::ROTATION_FORM_PAIRED_SUPPORT:
      return "对口支援";
    case v1::ROTATION_FORM_SCHOOL_GROUP:
      return "集团化";
    case v1::ROTATION_FORM_SCHOOL_DISTRICT:
      return "学区一体化";
    default:
      return "交流";
  }
}

bool IsSchoolAdminOf(const Principal& p, absl::string_view school_id) {
  return p.role() == common::v1::ROLE_SCHOOL_ADMIN && !p.school_id().empty() &&
         p.school_id() == school_id;
}

absl::Status RequireRotationRead(const Principal& p, const v1::Rotation& r) {
  if (CoversCounty(p, r.county_id()) || IsSchoolAdminOf(p, r.sending_school_id()) ||
      IsSchoolAdminOf(p, r.receiving_school_id())) {
    return absl::OkStatus();
  }
  if (p.role() == common::v1::ROLE_TEACHER && p.subject() == r.teacher_id()) {
    return absl::OkStatus();
  }
  return Denied(p, absl::StrCat("read rotation ", r.rotation_id()));
}

common::v1::Event RotationEvent(const Deps& deps, const CallContext& call, absl::string_view type,
                                const v1::Rotation& r, absl::string_view request_id,
                                absl::string_view on, std::string summary) {
  common::v1::Event e = NewEvent(kServiceName, type, deps.clock.Now());
  e.set_teacher_id(r.teacher_id());
  e.set_county_id(r.county_id());
  e.set_occurred_on(std::string(on));
  e.set_actor(call.actor);
  e.set_request_id(std::string(request_id));
  e.set_summary(std::move(summary));
  e.mutable_payload()->PackFrom(r);
  return e;
}

void AddHistory(const Deps& deps, const CallContext& call, v1::RotationState from,
                v1::RotationState to, absl::string_view request_id, absl::string_view reason,
                v1::Rotation* r) {
  v1::StateChange* c = r->add_history();
  c->set_from_state(from);
  c->set_to_state(to);
  c->set_actor(call.actor);
  c->set_request_id(std::string(request_id));
  c->set_on_date(dates::FormatDate(deps.clock.Today()));
  c->set_recorded_at_ms(absl::ToUnixMillis(deps.clock.Now()));
  c->set_reason(std::string(reason));
}

absl::StatusOr<absl::CivilDay> RequiredDate(absl::string_view text, absl::string_view field) {
  if (text.empty()) return InvalidField(field, "required", "a date YYYY-MM-DD");
  absl::StatusOr<absl::CivilDay> day = dates::ParseDate(text, field);
  if (!day.ok()) return InvalidField(field, "date_format", "must be a date YYYY-MM-DD");
  return *day;
}

absl::Status CheckProposal(const v1::CreateRotationRequest& req) {
  if (req.teacher_id().empty()) return InvalidField("teacher_id", "required", "a teacher id");
  if (req.receiving_school_id().empty()) {
    return InvalidField("receiving_school_id", "required", "a school of the teacher's county");
  }
  if (req.form() == v1::ROTATION_FORM_UNSPECIFIED || !v1::RotationForm_IsValid(req.form())) {
    return InvalidField("form", "required",
                        "REGULAR_TRANSFER, SUPPORT_TEACHING, ITINERANT, PAIRED_SUPPORT, "
                        "SCHOOL_GROUP or SCHOOL_DISTRICT");
  }
  if (req.note().size() > kMaxText) {
    return InvalidField("note", "length", absl::StrCat("at most ", kMaxText, " bytes"));
  }
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay start, RequiredDate(req.start_date(), "start_date"));
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay end,
                           RequiredDate(req.planned_end_date(), "planned_end_date"));
  if (end < start) {
    return InvalidField("planned_end_date", "order", "must be on or after start_date");
  }
  return absl::OkStatus();
}

// The teacher's copy and its county; the schools checked against it (both in the county,
// different, the sending one the teacher's current school).
struct Proposal {
  std::string county;
  v1::TeacherCopy teacher;
  std::string sending;
};

std::string ProposeWhat(const v1::CreateRotationRequest& req) {
  return absl::StrCat("propose a rotation of teacher ", req.teacher_id());
}

absl::StatusOr<Proposal> LocateProposal(Deps& deps, const Principal& caller,
                                        const v1::CreateRotationRequest& req) {
  absl::StatusOr<std::string> county = deps.store.TeacherCounty(req.teacher_id());
  if (absl::IsNotFound(county.status())) {
    return UnknownTeacher(caller, req.teacher_id(), ProposeWhat(req));
  }
  SHIDANG_RETURN_IF_ERROR(county.status());
  SHIDANG_ASSIGN_OR_RETURN(std::optional<v1::TeacherCopy> teacher,
                           deps.store.GetTeacher(*county, req.teacher_id()));
  if (!teacher.has_value() || teacher->stints().empty()) {
    return UnknownTeacher(caller, req.teacher_id(), ProposeWhat(req));
  }
  Proposal p{*county, *teacher, teacher->stints(teacher->stints_size() - 1).school_id()};
  if (!req.sending_school_id().empty() && req.sending_school_id() != p.sending) {
    return InvalidField("sending_school_id", "current_school",
                        absl::StrCat("must be the teacher's current school ", p.sending));
  }
  if (req.receiving_school_id() == p.sending) {
    return InvalidField("receiving_school_id", "same_school",
                        "must differ from the sending school");
  }
  SHIDANG_ASSIGN_OR_RETURN(std::optional<profile::v1::School> receiving,
                           deps.store.GetSchool(p.county, req.receiving_school_id()));
  if (!receiving.has_value()) {
    return InvalidField("receiving_school_id", "county",
                        absl::StrCat("must be a school of the teacher's county ", p.county));
  }
  return p;
}

// One state change of a rotation the caller names by id.
struct Change {
  std::string method;
  const google::protobuf::Message* request = nullptr;
  std::string request_id;
  std::string rotation_id;
  std::vector<v1::RotationState> allowed_from;
  v1::RotationState target = v1::ROTATION_STATE_UNSPECIFIED;
  std::string reason;
  // Checks the caller may make it (scope) and picks the approval flag; may refuse.
  std::function<absl::Status(const StoredRotation&, std::string* flag)> authorize;
  // Fills the new rotation (its state set to `to`) and the event's type, day and summary.
  std::function<absl::Status(const StoredRotation&, const std::string& flag, v1::Rotation* r,
                             std::string* type, std::string* on, std::string* summary)>
      apply;
  // Runs after authorize and before the write when the stored state is the one expected.
  std::function<absl::Status(const StoredRotation&)> before_write;
};

// The answer for a rotation id that names no rotation (AIP-211): whoever could not act on a
// rotation of that county gets what `authorize` answers for one out of their reach, so an
// unknown id and another county's rotation look alike; the others get `not_found`.
absl::Status UnknownRotation(const Change& c, absl::string_view county,
                             const absl::Status& not_found) {
  StoredRotation nothing;
  nothing.rotation.set_rotation_id(c.rotation_id);
  nothing.rotation.set_county_id(std::string(county));
  std::string flag;
  absl::Status refused = c.authorize(nothing, &flag);
  return refused.ok() ? not_found : refused;
}

absl::StatusOr<v1::Rotation> RunChange(Deps& deps, const CallContext& call, const Change& c) {
  SHIDANG_ASSIGN_OR_RETURN(std::string county,
                           RotationStore::CountyOfRotationId(c.rotation_id, "rotation_id"));
  absl::StatusOr<StoredRotation> found = deps.store.GetRotation(county, c.rotation_id);
  if (absl::IsNotFound(found.status())) return UnknownRotation(c, county, found.status());
  SHIDANG_ASSIGN_OR_RETURN(StoredRotation read, std::move(found));
  std::string flag;
  SHIDANG_RETURN_IF_ERROR(c.authorize(read, &flag));
  TransitionWrite w;
  w.county_id = county;
  w.read = &read;
  w.allowed_from = c.allowed_from;
  w.target = c.target;
  w.flag = flag;
  w.updated = read.rotation;
  std::string type, on, summary;
  SHIDANG_RETURN_IF_ERROR(c.apply(read, flag, &w.updated, &type, &on, &summary));
  AddHistory(deps, call, read.rotation.state(), w.updated.state(), c.request_id, c.reason,
             &w.updated);
  if (c.before_write) SHIDANG_RETURN_IF_ERROR(c.before_write(read));
  w.event = RotationEvent(deps, call, type, w.updated, c.request_id, on, summary);
  return deps.store.Transition(w, WriteContext{call.actor, c.method, c.request});
}

// The county code an id of the form "<letters><county>-..." names (schools', rotations'), or "".
std::string CountyInId(absl::string_view id) {
  const size_t digits = id.find_first_of("0123456789");
  if (digits == absl::string_view::npos || id.size() < digits + 6) return "";
  const absl::string_view county = id.substr(digits, 6);
  return CheckCountyId(county).ok() ? std::string(county) : "";
}

// The counties a CreateRotation may have answered this request in: the teacher's county now,
// and those the request's schools and the caller's scope name (the teacher may have moved to
// another county since the first answer).
std::vector<std::string> CountiesOfProposal(Deps& deps, const CallContext& call,
                                            const v1::CreateRotationRequest& req) {
  std::vector<std::string> counties;
  auto add = [&counties](std::string county) {
    if (!county.empty() && std::find(counties.begin(), counties.end(), county) == counties.end()) {
      counties.push_back(std::move(county));
    }
  };
  absl::StatusOr<std::string> now = deps.store.TeacherCounty(req.teacher_id());
  if (now.ok()) add(*now);
  if (CheckCountyId(call.principal.region()).ok()) add(call.principal.region());
  for (const std::string* school :
       {&call.principal.school_id(), &req.sending_school_id(), &req.receiving_school_id()}) {
    add(CountyInId(*school));
  }
  return counties;
}

// The first answer to this request when it is a retry (before any check of the state, which
// may have changed since: the teacher moved, or holds the rotation it created).
absl::StatusOr<std::optional<v1::Rotation>> FirstAnswer(Deps& deps, const CallContext& call,
                                                        const v1::CreateRotationRequest& req) {
  if (req.request_id().empty()) return std::nullopt;
  for (const std::string& county : CountiesOfProposal(deps, call, req)) {
    SHIDANG_ASSIGN_OR_RETURN(
        std::optional<v1::Rotation> answer,
        deps.store.CreatedBefore(county, WriteContext{call.actor, "CreateRotation", &req}));
    if (answer.has_value()) return answer;
  }
  return std::nullopt;
}

// County HR (or trusted) acts on rotations of its county.
std::function<absl::Status(const StoredRotation&, std::string*)> HrOnly(const Principal& p,
                                                                        absl::string_view what) {
  return [&p, what = std::string(what)](const StoredRotation& r, std::string* flag) {
    if (!CoversCounty(p, r.rotation.county_id())) {
      return Denied(p, absl::StrCat(what, " rotation ", r.rotation.rotation_id()));
    }
    *flag = "";
    return absl::OkStatus();
  };
}

std::string Today(const Deps& deps) { return dates::FormatDate(deps.clock.Today()); }

// A teacher who has retired or left (退休, 离职) by the start day is sent nowhere. Other statuses
// (leave, secondment) only keep a teacher out of the quota's eligible (rules.h): HR may still
// plan a rotation for after them.
absl::Status CheckServing(const v1::TeacherCopy& teacher, absl::CivilDay start) {
  const profile::v1::PostStatus status = PostStatusOn(ToTeacherFacts(teacher), start);
  if (status != profile::v1::POST_STATUS_RETIRED && status != profile::v1::POST_STATUS_LEFT) {
    return absl::OkStatus();
  }
  absl::Status refused = absl::FailedPreconditionError(
      absl::StrCat("teacher ", teacher.teacher_id(), " has ",
                   status == profile::v1::POST_STATUS_RETIRED ? "retired (退休)" : "left (离职)",
                   " by the start day ", dates::FormatDate(start)));
  AddFieldViolation(&refused, "teacher_id", "teacher_not_serving",
                    "must be a teacher still in service (not retired or left) on start_date");
  return refused;
}

}  // namespace

absl::Status CreateRotation(Deps& deps, const CallContext& call,
                            const v1::CreateRotationRequest& req,
                            v1::CreateRotationResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(CheckProposal(req));
  SHIDANG_ASSIGN_OR_RETURN(std::optional<v1::Rotation> first, FirstAnswer(deps, call, req));
  if (first.has_value()) {
    *resp->mutable_rotation() = *std::move(first);
    return absl::OkStatus();
  }
  SHIDANG_ASSIGN_OR_RETURN(Proposal p, LocateProposal(deps, call.principal, req));
  if (!CoversCounty(call.principal, p.county) && !IsSchoolAdminOf(call.principal, p.sending)) {
    return Denied(call.principal, ProposeWhat(req));
  }
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay start, dates::ParseDate(req.start_date()));
  SHIDANG_RETURN_IF_ERROR(CheckServing(p.teacher, start));
  SHIDANG_ASSIGN_OR_RETURN(RotationPolicy policy,
                           LoadRotationPolicy(deps.policies, p.county, start));
  v1::Rotation r;
  r.set_rotation_id(MakeId("RT", p.county, call.actor, "CreateRotation", req.request_id()));
  r.set_teacher_id(req.teacher_id());
  r.set_county_id(p.county);
  r.set_sending_school_id(p.sending);
  r.set_receiving_school_id(req.receiving_school_id());
  r.set_form(req.form());
  r.set_relation_moves(req.relation_moves());
  r.set_start_date(req.start_date());
  r.set_planned_end_date(req.planned_end_date());
  r.set_state(v1::ROTATION_STATE_PROPOSED);
  r.set_school_year(SchoolYearOf(start, policy).Name());
  r.set_proposed_by(call.actor);
  r.set_note(req.note());
  AddHistory(deps, call, v1::ROTATION_STATE_UNSPECIFIED, v1::ROTATION_STATE_PROPOSED,
             req.request_id(), "", &r);
  common::v1::Event event = RotationEvent(
      deps, call, "rotation.proposed", r, req.request_id(), Today(deps),
      absl::StrCat("拟交流轮岗（", FormLabel(req.form()), "），", req.start_date(), "起"));
  SHIDANG_ASSIGN_OR_RETURN(
      *resp->mutable_rotation(),
      deps.store.CreateRotation(r, std::move(event),
                                WriteContext{call.actor, "CreateRotation", &req}));
  return absl::OkStatus();
}

std::string ApproverCounty(const Principal& p) {
  if (p.role() == common::v1::ROLE_COUNTY_HR && CheckCountyId(p.region()).ok()) return p.region();
  if (p.role() == common::v1::ROLE_SCHOOL_ADMIN) return CountyInId(p.school_id());
  return "";
}

namespace {

// A caller whose writes all land in one county (ApproverCounty) keeps the records of their request
// ids there: asking for another county's rotation, a retry is answered (and a reused id refused)
// from it. nullopt when there is no such answer.
absl::StatusOr<std::optional<v1::Rotation>> AnsweredAtHome(Deps& deps, const Principal& p,
                                                           absl::string_view county,
                                                           const WriteContext& write) {
  const std::string home = ApproverCounty(p);
  if (home.empty() || home == county) return std::nullopt;
  return deps.store.AnsweredBefore(home, write);
}

// A change's event before its script adds the teacher and the rotation (approve_rotation.lua,
// change_rotation.lua).
common::v1::Event ScriptEvent(const Deps& deps, const CallContext& call, absl::string_view type,
                              absl::string_view county, absl::string_view request_id,
                              absl::string_view on, std::string summary) {
  common::v1::Event e = NewEvent(kServiceName, type, deps.clock.Now());
  e.set_county_id(std::string(county));
  e.set_occurred_on(std::string(on));
  e.set_actor(call.actor);
  e.set_request_id(std::string(request_id));
  e.set_summary(std::move(summary));
  return e;
}

// What `flag`'s approval adds to a rotation: its state, the flag, the history entry.
v1::Rotation ApprovalAdds(const Deps& deps, const CallContext& call, absl::string_view flag,
                          v1::RotationState to, absl::string_view request_id) {
  v1::Rotation adds;
  adds.set_state(to);
  if (flag == "hr") adds.set_hr_approved(true);
  if (flag == "rc") adds.set_receiving_confirmed(true);
  AddHistory(deps, call, v1::ROTATION_STATE_PROPOSED, to, request_id, "", &adds);
  return adds;
}

}  // namespace

absl::Status ApproveRotation(Deps& deps, const CallContext& call,
                             const v1::ApproveRotationRequest& req,
                             v1::ApproveRotationResponse* resp) {
  const Principal& p = call.principal;
  SHIDANG_ASSIGN_OR_RETURN(std::string county,
                           RotationStore::CountyOfRotationId(req.rotation_id(), "rotation_id"));
  const WriteContext write{call.actor, "ApproveRotation", &req};
  SHIDANG_ASSIGN_OR_RETURN(std::optional<v1::Rotation> first,
                           AnsweredAtHome(deps, p, county, write));
  if (first.has_value()) {
    *resp->mutable_rotation() = *std::move(first);
    return absl::OkStatus();
  }
  ApprovalWrite a;
  a.county_id = county;
  a.rotation_id = req.rotation_id();
  std::string flag;
  if (CoversCounty(p, county)) {
    a.approver = flag = "hr";
  } else if (p.role() == common::v1::ROLE_SCHOOL_ADMIN && !p.school_id().empty()) {
    // Only the receiving school of a rotation that moves the relation: the script checks.
    a.approver = "school";
    a.school_id = p.school_id();
    flag = "rc";
  } else {
    a.approver = "none";
  }
  a.completes = ApprovalAdds(deps, call, flag, v1::ROTATION_STATE_APPROVED, req.request_id());
  a.waits = ApprovalAdds(deps, call, flag, v1::ROTATION_STATE_PROPOSED, req.request_id());
  a.approved_event = ScriptEvent(deps, call, "rotation.approved", county, req.request_id(),
                                 Today(deps), "交流轮岗获批准");
  a.confirmed_event =
      ScriptEvent(deps, call, "rotation.confirmed", county, req.request_id(), Today(deps),
                  flag == "hr" ? "交流轮岗：县教育局同意，待接收学校确认"
                               : "交流轮岗：接收学校确认，待县教育局批准");
  absl::StatusOr<v1::Rotation> approved = deps.store.Approve(a, write);
  if (absl::IsPermissionDenied(approved.status())) {
    // The same words for every rotation, so that they tell nothing of it (nor of whether it
    // exists: the script refuses an unknown id alike to all but county HR).
    return Denied(p, absl::StrCat("approve rotation ", req.rotation_id(),
                                  " (county HR approves; where the personnel relation moves, "
                                  "the receiving school too)"));
  }
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_rotation(), std::move(approved));
  return absl::OkStatus();
}

namespace {

// A rejection, cancellation or completion, made by change_rotation.lua in one round trip.
struct ScriptChange {
  const char* method = "";
  const google::protobuf::Message* request = nullptr;
  std::string request_id;
  std::string rotation_id;
  const char* verb = "";        // the refusal's words: "reject", "cancel", "complete"
  const char* school_may = "";  // which school of the rotation may act besides HR (A[4])
  std::vector<v1::RotationState> from;
  v1::RotationState target = v1::ROTATION_STATE_UNSPECIFIED;
  std::string reason;        // the history entry's
  std::string completed_on;  // a completion's day: set, and checked against the start
  std::string event_type, on, summary;
};

// The change `method` makes to the rotation `req` names; `verb` words its refusal.
template <typename Request>
ScriptChange ChangeOf(const char* method, const Request& req, const char* verb) {
  ScriptChange c;
  c.method = method;
  c.request = &req;
  c.request_id = req.request_id();
  c.rotation_id = req.rotation_id();
  c.verb = verb;
  return c;
}

// A rejection's or cancellation's reason: required, and short.
absl::Status CheckReason(const std::string& reason) {
  if (reason.empty() || reason.size() > kMaxText) {
    return InvalidField("reason", "required",
                        absl::StrCat("say why, in 1 to ", kMaxText, " bytes"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Rotation> RunScriptChange(Deps& deps, const CallContext& call,
                                             const ScriptChange& c) {
  const Principal& p = call.principal;
  SHIDANG_ASSIGN_OR_RETURN(std::string county,
                           RotationStore::CountyOfRotationId(c.rotation_id, "rotation_id"));
  const WriteContext write{call.actor, c.method, c.request};
  SHIDANG_ASSIGN_OR_RETURN(std::optional<v1::Rotation> first,
                           AnsweredAtHome(deps, p, county, write));
  if (first.has_value()) return *std::move(first);
  ChangeWrite w;
  w.county_id = county;
  w.rotation_id = c.rotation_id;
  w.covers_county = CoversCounty(p, county);
  if (p.role() == common::v1::ROLE_SCHOOL_ADMIN) w.school_id = p.school_id();
  w.school_may = c.school_may;
  w.target = c.target;
  w.not_before_start = c.completed_on;
  for (v1::RotationState from : c.from) {
    v1::Rotation adds;
    adds.set_state(c.target);
    if (!c.completed_on.empty()) adds.set_completed_on(c.completed_on);
    AddHistory(deps, call, from, c.target, c.request_id, c.reason, &adds);
    w.adds.emplace_back(from, std::move(adds));
  }
  w.event = ScriptEvent(deps, call, c.event_type, county, c.request_id, c.on, c.summary);
  absl::StatusOr<v1::Rotation> changed = deps.store.Change(w, write);
  if (absl::IsPermissionDenied(changed.status())) {
    // The same words for every rotation, and for an id that names none.
    return Denied(p, absl::StrCat(c.verb, " rotation ", c.rotation_id));
  }
  if (absl::IsOutOfRange(changed.status())) {
    return InvalidField("completed_on", "order",
                        absl::StrCat("must be on or after the start ", changed.status().message()));
  }
  return changed;
}

}  // namespace

absl::Status RejectRotation(Deps& deps, const CallContext& call,
                            const v1::RejectRotationRequest& req,
                            v1::RejectRotationResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(CheckReason(req.reason()));
  ScriptChange c = ChangeOf("RejectRotation", req, "reject");
  c.school_may = "receiving";  // where the personnel relation moves
  c.from = {v1::ROTATION_STATE_PROPOSED};
  c.target = v1::ROTATION_STATE_REJECTED;
  c.reason = req.reason();
  c.event_type = "rotation.rejected";
  c.on = Today(deps);
  c.summary = absl::StrCat("交流轮岗未获批准：", req.reason());
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_rotation(), RunScriptChange(deps, call, c));
  return absl::OkStatus();
}

absl::Status StartRotation(Deps& deps, const CallContext& call, const v1::StartRotationRequest& req,
                           v1::StartRotationResponse* resp) {
  std::optional<absl::CivilDay> started;
  if (!req.started_on().empty()) {
    SHIDANG_ASSIGN_OR_RETURN(started, RequiredDate(req.started_on(), "started_on"));
  }
  Change c{"StartRotation",
           &req,
           req.request_id(),
           req.rotation_id(),
           {v1::ROTATION_STATE_APPROVED},
           v1::ROTATION_STATE_STARTED,
           "",
           {},
           {},
           {}};
  c.authorize = HrOnly(call.principal, "start");
  std::string day;
  c.apply = [&](const StoredRotation& read, const std::string&, v1::Rotation* r, std::string* type,
                std::string* on, std::string* summary) {
    day = started ? dates::FormatDate(*started) : read.rotation.start_date();
    // A start is a fact: the teacher is at the receiving school from that day (and moved there
    // in the profile service), so the day cannot lie ahead, given or planned.
    if (day > Today(deps)) {
      return InvalidField(
          "started_on", "not_future",
          absl::StrCat(started ? "" : "empty means the planned start date; ", day,
                       " is after today; must be on or before today, ", Today(deps)));
    }
    r->set_state(v1::ROTATION_STATE_STARTED);
    r->set_started_on(day);
    *type = "rotation.started";
    *on = day;
    *summary =
        absl::StrCat("开始交流轮岗（", FormLabel(r->form()), "）",
                     r->relation_moves() ? "，人事关系转入接收学校" : "，人事关系保留在原校");
    return absl::OkStatus();
  };
  // The move goes first: a crash after it leaves the rotation APPROVED, and the retry moves
  // again (the profile service answers an already-made move) and then starts it. Only an
  // APPROVED rotation moves anyone; any other state is refused (or replayed) by the script.
  c.before_write = [&](const StoredRotation& read) {
    if (!read.rotation.relation_moves() || read.state != "ROTATION_STATE_APPROVED") {
      return absl::OkStatus();
    }
    if (!deps.move_teacher) {
      return absl::FailedPreconditionError(
          "this rotation moves the personnel relation, and the service runs without the profile "
          "service (--profile)");
    }
    SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay on, dates::ParseDate(day));
    return deps.move_teacher(read.rotation.teacher_id(), read.rotation.receiving_school_id(), on,
                             absl::StrCat("rotation-", read.rotation.rotation_id()));
  };
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_rotation(), RunChange(deps, call, c));
  return absl::OkStatus();
}

absl::Status CompleteRotation(Deps& deps, const CallContext& call,
                              const v1::CompleteRotationRequest& req,
                              v1::CompleteRotationResponse* resp) {
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay done,
                           DayOrToday(deps.clock, req.completed_on(), "completed_on"));
  // A completion is a fact: it happened, so its day cannot lie ahead (the report would count a
  // rotation complete that may yet be cancelled).
  if (done > deps.clock.Today()) {
    return InvalidField("completed_on", "not_future",
                        absl::StrCat(dates::FormatDate(done),
                                     " is after today; must be on or before today, ", Today(deps)));
  }
  ScriptChange c = ChangeOf("CompleteRotation", req, "complete");
  c.from = {v1::ROTATION_STATE_STARTED};
  c.target = v1::ROTATION_STATE_COMPLETED;
  c.completed_on = dates::FormatDate(done);
  c.event_type = "rotation.completed";
  c.on = c.completed_on;
  c.summary = "交流轮岗期满";
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_rotation(), RunScriptChange(deps, call, c));
  return absl::OkStatus();
}

absl::Status CancelRotation(Deps& deps, const CallContext& call,
                            const v1::CancelRotationRequest& req,
                            v1::CancelRotationResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(CheckReason(req.reason()));
  ScriptChange c = ChangeOf("CancelRotation", req, "cancel");
  // The school that proposed may withdraw its proposal; anything further is HR's.
  c.school_may = "sending";
  c.from = {v1::ROTATION_STATE_PROPOSED, v1::ROTATION_STATE_APPROVED, v1::ROTATION_STATE_STARTED};
  c.target = v1::ROTATION_STATE_CANCELLED;
  c.reason = req.reason();
  c.event_type = "rotation.cancelled";
  c.on = Today(deps);
  c.summary = absl::StrCat("交流轮岗取消：", req.reason());
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_rotation(), RunScriptChange(deps, call, c));
  return absl::OkStatus();
}

absl::Status GetRotation(Deps& deps, const CallContext& call, const v1::GetRotationRequest& req,
                         v1::GetRotationResponse* resp) {
  SHIDANG_ASSIGN_OR_RETURN(std::string county,
                           RotationStore::CountyOfRotationId(req.rotation_id(), "rotation_id"));
  absl::StatusOr<StoredRotation> found = deps.store.GetRotation(county, req.rotation_id());
  if (absl::IsNotFound(found.status())) {
    // Out of reach wherever it might be: the same refusal as for another county's (AIP-211).
    v1::Rotation nothing;
    nothing.set_rotation_id(req.rotation_id());
    nothing.set_county_id(county);
    absl::Status refused = RequireRotationRead(call.principal, nothing);
    return refused.ok() ? found.status() : refused;
  }
  SHIDANG_ASSIGN_OR_RETURN(StoredRotation read, std::move(found));
  SHIDANG_RETURN_IF_ERROR(RequireRotationRead(call.principal, read.rotation));
  *resp->mutable_rotation() = read.rotation;
  return absl::OkStatus();
}

namespace {

// Newest start first, then id; one page of them.
template <typename Response>
absl::Status PageOfRotations(std::vector<v1::Rotation> rotations,
                             const common::v1::PageRequest& page, Response* resp) {
  SHIDANG_ASSIGN_OR_RETURN(int page_size, PageSize(page, kDefaultPageSize, kMaxPageSize));
  SHIDANG_ASSIGN_OR_RETURN(size_t offset, PageOffset(page));
  std::sort(rotations.begin(), rotations.end(), [](const v1::Rotation& a, const v1::Rotation& b) {
    if (a.start_date() != b.start_date()) return a.start_date() > b.start_date();
    return a.rotation_id() < b.rotation_id();
  });
  for (size_t i = offset; i < rotations.size() && i < offset + page_size; ++i) {
    *resp->add_rotations() = rotations[i];
  }
  if (offset + page_size < rotations.size()) {
    resp->mutable_page()->set_next_page_token(std::to_string(offset + page_size));
  }
  resp->mutable_page()->set_total_size(static_cast<int64_t>(rotations.size()));
  return absl::OkStatus();
}

// The names of the schools the page's rotations name, from the county's copy (a school the copy
// does not hold yet is left out: the page shows its id).
template <typename Response>
void NameSchools(const CountySnapshot& county, Response* resp) {
  auto& names = *resp->mutable_school_names();
  for (const v1::Rotation& r : resp->rotations()) {
    for (const std::string& id : {r.sending_school_id(), r.receiving_school_id()}) {
      auto school = county.schools.find(id);
      if (school != county.schools.end()) names[id] = school->second.name;
    }
  }
}

}  // namespace

absl::Status ListRotations(Deps& deps, const CallContext& call, const v1::ListRotationsRequest& req,
                           v1::ListRotationsResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(CheckCountyId(req.county_id()));
  if (!v1::RotationState_IsValid(req.state())) {
    return InvalidField("state", "enum", "a RotationState, or UNSPECIFIED for any");
  }
  std::string year;
  if (!req.school_year().empty()) {
    SHIDANG_ASSIGN_OR_RETURN(
        YearPolicy yp,
        PolicyForSchoolYear(deps, req.county_id(), req.school_year(), deps.clock.Today()));
    year = yp.year.Name();
  }
  SHIDANG_RETURN_IF_ERROR(RequireCountyRead(call.principal, req.county_id(), req.school_id()));
  SHIDANG_ASSIGN_OR_RETURN(std::shared_ptr<const CountySnapshot> county,
                           deps.counties.Read(req.county_id()));
  std::vector<v1::Rotation> picked;
  for (const v1::Rotation& r : county->data.rotations) {
    if (!req.school_id().empty() && r.sending_school_id() != req.school_id() &&
        r.receiving_school_id() != req.school_id()) {
      continue;
    }
    if (!year.empty() && r.school_year() != year) continue;
    if (req.state() != v1::ROTATION_STATE_UNSPECIFIED && r.state() != req.state()) continue;
    picked.push_back(r);
  }
  SHIDANG_RETURN_IF_ERROR(PageOfRotations(std::move(picked), req.page(), resp));
  NameSchools(*county, resp);
  return absl::OkStatus();
}

absl::Status ListTeacherRotations(Deps& deps, const CallContext& call,
                                  const v1::ListTeacherRotationsRequest& req,
                                  v1::ListTeacherRotationsResponse* resp) {
  if (req.teacher_id().empty()) return InvalidField("teacher_id", "required", "a teacher id");
  const std::string what = absl::StrCat("read the rotations of teacher ", req.teacher_id());
  absl::StatusOr<std::string> county = deps.store.TeacherCounty(req.teacher_id());
  if (absl::IsNotFound(county.status())) {
    return UnknownTeacher(call.principal, req.teacher_id(), what);
  }
  SHIDANG_RETURN_IF_ERROR(county.status());
  SHIDANG_ASSIGN_OR_RETURN(std::optional<v1::TeacherCopy> teacher,
                           deps.store.GetTeacher(*county, req.teacher_id()));
  const Principal& p = call.principal;
  const bool own = p.role() == common::v1::ROLE_TEACHER && p.subject() == req.teacher_id();
  const bool school = teacher.has_value() && teacher->stints_size() > 0 &&
                      IsSchoolAdminOf(p, teacher->stints(teacher->stints_size() - 1).school_id());
  if (!own && !school && !CoversCounty(p, *county)) return Denied(p, what);
  SHIDANG_ASSIGN_OR_RETURN(std::shared_ptr<const CountySnapshot> snapshot,
                           deps.counties.Read(*county));
  std::vector<v1::Rotation> picked;
  for (const v1::Rotation& r : snapshot->data.rotations) {
    if (r.teacher_id() == req.teacher_id()) picked.push_back(r);
  }
  SHIDANG_RETURN_IF_ERROR(PageOfRotations(std::move(picked), req.page(), resp));
  NameSchools(*snapshot, resp);
  return absl::OkStatus();
}

}  // namespace shidang::rotation
