#include "services/rotation/eligibility.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/dates.h"
#include "services/common/mutation.h"
#include "services/common/status.h"
#include "services/rotation/evaluation.h"
#include "services/rotation/policy.h"

namespace shidang::rotation {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
constexpr size_t kMaxDescription = 500;

std::string DateOrEmpty(const std::optional<absl::CivilDay>& day) {
  return day.has_value() ? dates::FormatDate(*day) : "";
}

void FillRow(const JudgedTeacher& t, v1::EligibilityRow* row) {
  const Eligibility& e = t.eligibility;
  row->set_teacher_id(t.copy->teacher_id());
  row->set_teacher_name(t.copy->name());
  row->set_school_id(e.school_id);
  row->set_reason(e.reason);
  row->set_eligible(e.eligible());
  row->set_years_at_school(static_cast<int32_t>(e.years));
  row->set_counted_from(DateOrEmpty(e.counted_from));
  row->set_required_years(static_cast<int32_t>(e.required_years));
  row->set_eligible_from(DateOrEmpty(e.eligible_from));
  row->set_retirement_date(DateOrEmpty(e.retirement_date));
  row->set_deferral_id(e.deferral_id);
  row->set_leader(e.leader);
  row->set_backbone_tier(t.copy->backbone_tier());
}

const char* DeferralLabel(v1::DeferralReason reason) {
  switch (reason) {
    case v1::DEFERRAL_REASON_PREGNANCY:
      return "孕期";
    case v1::DEFERRAL_REASON_NURSING:
      return "哺乳期";
    case v1::DEFERRAL_REASON_SERIOUS_ILLNESS:
      return "重病";
    default:
      return "其他";
  }
}

common::v1::Event DeferralEvent(const Deps& deps, const CallContext& call, absl::string_view type,
                                const v1::Deferral& d, absl::string_view request_id,
                                absl::string_view on, absl::string_view summary) {
  common::v1::Event e = NewEvent(kServiceName, type, deps.clock.Now());
  e.set_teacher_id(d.teacher_id());
  e.set_county_id(d.county_id());
  e.set_occurred_on(std::string(on));
  e.set_actor(call.actor);
  e.set_request_id(std::string(request_id));
  e.set_summary(std::string(summary));
  e.mutable_payload()->PackFrom(d);
  return e;
}

// from <= to when both given; INVALID_ARGUMENT naming the fields.
absl::Status CheckSpan(absl::string_view from, absl::string_view to) {
  if (from.empty()) return InvalidField("from_date", "required", "the first day, YYYY-MM-DD");
  absl::StatusOr<absl::CivilDay> first = dates::ParseDate(from, "from_date");
  if (!first.ok()) return InvalidField("from_date", "date_format", "must be a date YYYY-MM-DD");
  if (to.empty()) return absl::OkStatus();
  absl::StatusOr<absl::CivilDay> last = dates::ParseDate(to, "to_date");
  if (!last.ok()) {
    return InvalidField("to_date", "date_format", "must be a date YYYY-MM-DD, or empty (open)");
  }
  if (*last < *first) return InvalidField("to_date", "order", "must be on or after from_date");
  return absl::OkStatus();
}

}  // namespace

absl::Status ListEligible(Deps& deps, const CallContext& call, const v1::ListEligibleRequest& req,
                          v1::ListEligibleResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(CheckCountyId(req.county_id()));
  SHIDANG_ASSIGN_OR_RETURN(int page_size, PageSize(req.page(), kDefaultPageSize, kMaxPageSize));
  SHIDANG_ASSIGN_OR_RETURN(size_t offset, PageOffset(req.page()));
  SHIDANG_RETURN_IF_ERROR(RequireCountyRead(call.principal, req.county_id(), req.school_id()));
  SHIDANG_ASSIGN_OR_RETURN(
      YearPolicy yp,
      PolicyForSchoolYear(deps, req.county_id(), req.school_year(), deps.clock.Today()));
  SHIDANG_ASSIGN_OR_RETURN(std::shared_ptr<const CountySnapshot> county,
                           deps.counties.Read(req.county_id()));
  CountyEvaluation eval = EvaluateCounty(*county, yp.policy, yp.year, yp.year.days.first);
  std::vector<const JudgedTeacher*> rows;
  for (const auto& [id, t] : eval.teachers) {
    if (!req.school_id().empty() && t.eligibility.school_id != req.school_id()) continue;
    if (req.eligible_only() && !t.eligibility.eligible()) continue;
    rows.push_back(&t);
    if (t.eligibility.eligible()) resp->set_eligible(resp->eligible() + 1);
  }
  std::stable_sort(rows.begin(), rows.end(), [](const JudgedTeacher* a, const JudgedTeacher* b) {
    return a->eligibility.school_id < b->eligibility.school_id;
  });
  for (size_t i = offset; i < rows.size() && i < offset + page_size; ++i) {
    FillRow(*rows[i], resp->add_rows());
  }
  if (offset + page_size < rows.size()) {
    resp->mutable_page()->set_next_page_token(std::to_string(offset + page_size));
  }
  resp->mutable_page()->set_total_size(static_cast<int64_t>(rows.size()));
  resp->set_county_id(req.county_id());
  resp->set_school_year(yp.year.Name());
  resp->set_judged_on(dates::FormatDate(yp.year.days.first));
  return absl::OkStatus();
}

absl::Status RecordDeferral(Deps& deps, const CallContext& call,
                            const v1::RecordDeferralRequest& req,
                            v1::RecordDeferralResponse* resp) {
  if (req.teacher_id().empty()) return InvalidField("teacher_id", "required", "a teacher id");
  if (req.reason() == v1::DEFERRAL_REASON_UNSPECIFIED ||
      !v1::DeferralReason_IsValid(req.reason())) {
    return InvalidField("reason", "required",
                        "PREGNANCY, NURSING, SERIOUS_ILLNESS or OTHER (with a description)");
  }
  if (req.reason() == v1::DEFERRAL_REASON_OTHER && req.description().empty()) {
    return InvalidField("description", "required", "say why, for reason OTHER");
  }
  if (req.description().size() > kMaxDescription) {
    return InvalidField("description", "length",
                        absl::StrCat("at most ", kMaxDescription, " bytes"));
  }
  SHIDANG_RETURN_IF_ERROR(CheckSpan(req.from_date(), req.to_date()));
  // The refusal names the teacher, not their county: the same words whether they exist or not.
  const std::string what = absl::StrCat("record deferrals for teacher ", req.teacher_id());
  absl::StatusOr<std::string> county = deps.store.TeacherCounty(req.teacher_id());
  if (absl::IsNotFound(county.status())) {
    return UnknownTeacher(call.principal, req.teacher_id(), what);
  }
  SHIDANG_RETURN_IF_ERROR(county.status());
  if (!CoversCounty(call.principal, *county)) return Denied(call.principal, what);
  v1::Deferral d;
  d.set_deferral_id(MakeId("DF", *county, call.actor, "RecordDeferral", req.request_id()));
  d.set_teacher_id(req.teacher_id());
  d.set_county_id(*county);
  d.set_reason(req.reason());
  d.set_description(req.description());
  d.set_from_date(req.from_date());
  d.set_to_date(req.to_date());
  d.set_recorded_by(call.actor);
  d.set_recorded_request_id(req.request_id());
  common::v1::Event event =
      DeferralEvent(deps, call, "rotation.deferral_recorded", d, req.request_id(), req.from_date(),
                    absl::StrCat("暂缓交流轮岗（", DeferralLabel(req.reason()), "）"));
  SHIDANG_ASSIGN_OR_RETURN(
      *resp->mutable_deferral(),
      deps.store.PutDeferral(d, nullptr, std::move(event),
                             WriteContext{call.actor, "RecordDeferral", &req}));
  return absl::OkStatus();
}

absl::Status EndDeferral(Deps& deps, const CallContext& call, const v1::EndDeferralRequest& req,
                         v1::EndDeferralResponse* resp) {
  SHIDANG_ASSIGN_OR_RETURN(std::string county,
                           RotationStore::CountyOfDeferralId(req.deferral_id(), "deferral_id"));
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay to, DayOrToday(deps.clock, req.to_date(), "to_date"));
  if (!CoversCounty(call.principal, county)) {
    return Denied(call.principal, absl::StrCat("end deferrals in county ", county));
  }
  SHIDANG_ASSIGN_OR_RETURN(v1::Deferral read, deps.store.GetDeferral(county, req.deferral_id()));
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay from, dates::ParseDate(read.from_date()));
  if (to < from) {
    return InvalidField(
        "to_date", "order",
        absl::StrCat("must be on or after the deferral's from_date ", read.from_date()));
  }
  // Ending on the day it already ends is allowed, so a retry of this request reaches the
  // script's replay; ending later than that would lengthen it.
  if (!read.to_date().empty() && dates::FormatDate(to) > read.to_date()) {
    return InvalidField("to_date", "order",
                        absl::StrCat("the deferral already ends on ", read.to_date(),
                                     "; it can end earlier, not later"));
  }
  v1::Deferral ended = read;
  ended.set_to_date(dates::FormatDate(to));
  ended.set_ended_by(call.actor);
  ended.set_ended_request_id(req.request_id());
  common::v1::Event event = DeferralEvent(deps, call, "rotation.deferral_ended", ended,
                                          req.request_id(), ended.to_date(), "暂缓交流轮岗结束");
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_deferral(),
                           deps.store.PutDeferral(ended, &read, std::move(event),
                                                  WriteContext{call.actor, "EndDeferral", &req}));
  return absl::OkStatus();
}

}  // namespace shidang::rotation
