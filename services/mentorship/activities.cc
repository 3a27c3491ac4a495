#include "services/mentorship/activities.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/dates.h"
#include "services/common/events.h"
#include "services/common/status.h"
#include "services/mentorship/convert.h"
#include "services/mentorship/pairings.h"
#include "services/mentorship/policy.h"
#include "services/mentorship/progress.h"

namespace shidang::mentorship {
namespace {

using common::v1::Principal;

constexpr size_t kMaxRemarks = 2000;

const char* GradeLabel(v1::EvaluationGrade grade) {
  switch (grade) {
    case v1::EVALUATION_GRADE_EXCELLENT:
      return "优秀";
    case v1::EVALUATION_GRADE_GOOD:
      return "良好";
    case v1::EVALUATION_GRADE_PASS:
      return "合格";
    case v1::EVALUATION_GRADE_FAIL:
      return "不合格";
    default:
      return "";
  }
}

absl::Status CheckActivityFields(const v1::Activity& a) {
  if (a.kind() == v1::ACTIVITY_KIND_UNSPECIFIED || !v1::ActivityKind_IsValid(a.kind())) {
    return InvalidField("activity.kind", "required",
                        "LESSON_OBSERVED, LESSON_COACHED, PUBLIC_LESSON, GUIDANCE_SESSION or "
                        "TERM_EVALUATION");
  }
  const bool evaluation = a.kind() == v1::ACTIVITY_KIND_TERM_EVALUATION;
  if (evaluation &&
      (a.grade() == v1::EVALUATION_GRADE_UNSPECIFIED || !v1::EvaluationGrade_IsValid(a.grade()))) {
    return InvalidField("activity.grade", "required",
                        "a term evaluation's grade: EXCELLENT, GOOD, PASS or FAIL");
  }
  if (!evaluation && a.grade() != v1::EVALUATION_GRADE_UNSPECIFIED) {
    return InvalidField("activity.grade", "evaluation_only", "only a TERM_EVALUATION has a grade");
  }
  if (a.remarks().size() > kMaxRemarks) {
    return InvalidField("activity.remarks", "length",
                        absl::StrCat("at most ", kMaxRemarks, " bytes"));
  }
  if (a.date().empty()) return InvalidField("activity.date", "required", "a date YYYY-MM-DD");
  return absl::OkStatus();
}

// DOMAIN §4: the end-of-term evaluation grades the mentee, so it is the mentor's to give; a
// mentee grading themself would fill their own growth file.
constexpr char kEvaluationIsTheMentors[] =
    "a TERM_EVALUATION grades the mentee: only the pairing's mentor logs it (the mentee logs "
    "LESSON_OBSERVED, LESSON_COACHED, PUBLIC_LESSON and GUIDANCE_SESSION)";

// Who logs: the calling teacher (who must be the mentor or mentee), or for a trusted caller the
// named by_teacher_id (mentor or mentee); a TERM_EVALUATION only the mentor.
absl::StatusOr<std::string> LoggedBy(const Principal& p, const v1::Pairing& pairing,
                                     const v1::Activity& a) {
  const std::string what = absl::StrCat("log activities of pairing ", pairing.pairing_id());
  const bool evaluation = a.kind() == v1::ACTIVITY_KIND_TERM_EVALUATION;
  std::string by = a.by_teacher_id();
  if (p.role() == common::v1::ROLE_TEACHER) {
    if (p.subject() != pairing.mentee_id() && p.subject() != pairing.mentor_id()) {
      return Denied(p, what);
    }
    if (!by.empty() && by != p.subject()) {
      return InvalidField("activity.by_teacher_id", "self",
                          "a teacher logs their own activities; leave it empty or name yourself");
    }
    if (evaluation && p.subject() != pairing.mentor_id()) {
      absl::Status denied =
          Denied(p, absl::StrCat("log a term evaluation of pairing ", pairing.pairing_id(), " (",
                                 kEvaluationIsTheMentors, ")"));
      AddFieldViolation(
          &denied, "activity.kind", "evaluator_is_mentor",
          absl::StrCat("TERM_EVALUATION is logged by the mentor ", pairing.mentor_id()));
      return denied;
    }
    return p.subject();
  }
  if (!scope::IsTrusted(p.role())) return Denied(p, what);
  if (by != pairing.mentee_id() && by != pairing.mentor_id()) {
    return InvalidField("activity.by_teacher_id", "pairing_member",
                        absl::StrCat("must be the mentor ", pairing.mentor_id(), " or the mentee ",
                                     pairing.mentee_id()));
  }
  if (evaluation && by != pairing.mentor_id()) {
    return InvalidField(
        "activity.by_teacher_id", "evaluator",
        absl::StrCat("must be the mentor ", pairing.mentor_id(), ": ", kEvaluationIsTheMentors));
  }
  return by;
}

absl::StatusOr<TeacherFacts> MenteeFacts(Deps& deps, const v1::Pairing& pairing) {
  SHIDANG_ASSIGN_OR_RETURN(std::optional<v1::TeacherCopy> mentee,
                           deps.store.GetTeacher(pairing.county_id(), pairing.mentee_id()));
  if (!mentee.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("mentee ", pairing.mentee_id(), " is not known here any more"));
  }
  return ToTeacherFacts(*mentee, {});
}

absl::StatusOr<v1::PairingProgress> ProgressOfPairing(Deps& deps, const v1::Pairing& pairing,
                                                      absl::CivilDay as_of) {
  SHIDANG_ASSIGN_OR_RETURN(TeacherFacts mentee, MenteeFacts(deps, pairing));
  SHIDANG_ASSIGN_OR_RETURN(std::vector<v1::Activity> logged,
                           deps.store.Activities(pairing.county_id(), pairing.pairing_id()));
  SHIDANG_ASSIGN_OR_RETURN(MentorshipPolicy policy,
                           LoadMentorshipPolicy(deps.policies, pairing.county_id(), as_of));
  std::vector<Activity> activities;
  for (const v1::Activity& a : logged) {
    absl::StatusOr<absl::CivilDay> day = dates::ParseDate(a.date());
    if (day.ok()) activities.push_back(Activity{ToRulesKind(a.kind()), *day, a.term()});
  }
  std::optional<Pairing> rules_pairing = ToRulesPairing(pairing);
  if (!rules_pairing.has_value()) return absl::DataLossError("stored pairing dates unreadable");
  v1::PairingProgress out;
  *out.mutable_pairing() = pairing;
  const Stage stage = StageOn(mentee, as_of);
  out.set_mentee_year(
      stage == Stage::kNone ? 0 : static_cast<int32_t>(TeachingYears(mentee, as_of) + 1));
  out.set_stage_goal(ToProtoStage(stage));
  out.set_stage_goal_text(std::string(StageGoal(stage)));
  for (const TermProgress& t : ProgressOf(*rules_pairing, mentee, activities, as_of, policy)) {
    v1::TermProgress* term = out.add_terms();
    term->set_term(t.term.Id());
    term->set_first_day(dates::FormatDate(t.term.days.first));
    term->set_last_day(dates::FormatDate(t.term.days.last));
    term->set_window_first_day(dates::FormatDate(t.window.first));
    term->set_window_last_day(dates::FormatDate(t.window.last));
    term->set_elapsed_days(t.elapsed_days);
    term->set_stage_goal(ToProtoStage(t.stage));
    for (const KindProgress& k : t.kinds) {
      v1::KindCount* c = term->add_counts();
      c->set_kind(ToProtoKind(k.kind));
      c->set_count(k.count);
      c->set_required(k.required);
      c->set_expected(k.expected);
      c->set_met(k.count >= k.required);
    }
    term->set_on_track(t.on_track);
    term->set_complete(t.complete);
    for (const v1::Activity& a : logged) {
      if (a.kind() == v1::ACTIVITY_KIND_TERM_EVALUATION && a.term() == term->term()) {
        term->set_grade(a.grade());
        term->set_remarks(a.remarks());
      }
    }
  }
  return out;
}

}  // namespace

absl::Status LogActivity(Deps& deps, const CallContext& call, const v1::LogActivityRequest& req,
                         v1::LogActivityResponse* resp) {
  const Principal& p = call.principal;
  if (p.role() != common::v1::ROLE_TEACHER && !scope::IsTrusted(p.role())) {
    return Denied(p, "log mentorship activities");
  }
  SHIDANG_ASSIGN_OR_RETURN(v1::Pairing pairing, ReadablePairing(deps, p, req.pairing_id()));
  v1::Activity a = req.activity();
  SHIDANG_RETURN_IF_ERROR(CheckActivityFields(a));
  SHIDANG_ASSIGN_OR_RETURN(std::string by, LoggedBy(p, pairing, a));
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay date, DayOrToday(deps.clock, a.date(), "activity.date"));
  SHIDANG_ASSIGN_OR_RETURN(MentorshipPolicy policy,
                           LoadMentorshipPolicy(deps.policies, pairing.county_id(), date));
  Term term = TermOf(date, policy);
  if (!a.term().empty()) {
    SHIDANG_ASSIGN_OR_RETURN(term, ParseTerm(a.term(), policy, "activity.term"));
  }
  std::optional<Pairing> rules_pairing = ToRulesPairing(pairing);
  if (!rules_pairing.has_value()) return absl::DataLossError("stored pairing dates unreadable");
  SHIDANG_RETURN_IF_ERROR(
      CheckActivityDate(*rules_pairing, term, date, deps.clock.Today(), "activity.date"));
  a.set_pairing_id(pairing.pairing_id());
  a.set_term(term.Id());
  a.set_date(dates::FormatDate(date));
  a.set_by_teacher_id(by);
  a.set_actor(call.actor);
  a.set_request_id(req.request_id());
  a.set_activity_id(MakeId("MA", pairing.county_id(), call.actor, "LogActivity", req.request_id()));
  std::optional<common::v1::Event> event;
  if (a.kind() == v1::ACTIVITY_KIND_TERM_EVALUATION) {
    common::v1::Event e = NewEvent(kServiceName, "mentorship.term_evaluated", deps.clock.Now());
    e.set_teacher_id(pairing.mentee_id());
    e.set_county_id(pairing.county_id());
    e.set_occurred_on(a.date());
    e.set_actor(call.actor);
    e.set_request_id(req.request_id());
    e.set_summary(absl::StrCat("师徒结对学期考核（", term.Id(), "）：", GradeLabel(a.grade()),
                               "，导师", pairing.mentor_name()));
    e.mutable_payload()->PackFrom(a);
    event = std::move(e);
  }
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_activity(),
                           deps.store.LogActivity(pairing.county_id(), a, std::move(event),
                                                  WriteContext{call.actor, "LogActivity", &req}));
  return absl::OkStatus();
}

absl::Status GetProgress(Deps& deps, const CallContext& call, const v1::GetProgressRequest& req,
                         v1::GetProgressResponse* resp) {
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay as_of, DayOrToday(deps.clock, req.as_of(), "as_of"));
  SHIDANG_ASSIGN_OR_RETURN(v1::Pairing pairing,
                           ReadablePairing(deps, call.principal, req.pairing_id()));
  resp->set_as_of(dates::FormatDate(as_of));
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_progress(), ProgressOfPairing(deps, pairing, as_of));
  return absl::OkStatus();
}

absl::Status GetMenteeProgress(Deps& deps, const CallContext& call,
                               const v1::GetMenteeProgressRequest& req,
                               v1::GetMenteeProgressResponse* resp) {
  const Principal& p = call.principal;
  const std::string what = absl::StrCat("read the mentorship progress of ", req.mentee_id());
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay as_of, DayOrToday(deps.clock, req.as_of(), "as_of"));
  if (scope::TeacherBeforeLookup(p, req.mentee_id()) == scope::Reach::kDenied) {
    return Denied(p, what);
  }
  absl::StatusOr<LocatedTeacher> mentee = LocateTeacher(deps, req.mentee_id(), "mentee_id");
  if (absl::IsNotFound(mentee.status()) && !scope::IsTrusted(p.role())) return Denied(p, what);
  SHIDANG_RETURN_IF_ERROR(mentee.status());
  if (!scope::CoversTeacher(
          p, {mentee->teacher.teacher_id(), mentee->teacher.school_id(), mentee->county_id})) {
    return Denied(p, what);
  }
  SHIDANG_ASSIGN_OR_RETURN(std::vector<v1::Pairing> pairings,
                           deps.store.TeacherPairings(mentee->county_id, req.mentee_id()));
  std::sort(pairings.begin(), pairings.end(), [](const v1::Pairing& a, const v1::Pairing& b) {
    const bool a_active = a.state() == v1::PAIRING_STATE_ACTIVE;
    const bool b_active = b.state() == v1::PAIRING_STATE_ACTIVE;
    if (a_active != b_active) return a_active;
    return a.start_date() > b.start_date();
  });
  resp->set_as_of(dates::FormatDate(as_of));
  for (const v1::Pairing& pairing : pairings) {
    if (pairing.mentee_id() != req.mentee_id()) continue;
    SHIDANG_ASSIGN_OR_RETURN(*resp->add_pairings(), ProgressOfPairing(deps, pairing, as_of));
  }
  return absl::OkStatus();
}

}  // namespace shidang::mentorship
