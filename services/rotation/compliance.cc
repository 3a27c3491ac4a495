#include "services/rotation/compliance.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/csv.h"
#include "services/common/dates.h"
#include "services/common/status.h"
#include "services/rotation/evaluation.h"
#include "services/rotation/policy.h"

namespace shidang::rotation {
namespace {

void FillFigures(const Quota& q, v1::QuotaFigures* f) {
  f->set_eligible(q.eligible);
  f->set_counting(q.counting);
  f->set_percent(static_cast<double>(q.percent_hundredths) / 100.0);
  f->set_required(q.required);
  f->set_backbone_counting(q.backbone_counting);
  f->set_backbone_required(q.backbone_required);
  f->set_shortfall(q.shortfall);
  f->set_backbone_shortfall(q.backbone_shortfall);
  f->set_passes(q.passes);
}

std::string PercentText(const Quota& q) {
  return absl::StrFormat("%d.%02d", q.percent_hundredths / 100, q.percent_hundredths % 100);
}

std::vector<std::string> CsvRow(absl::string_view id, absl::string_view name, const Quota& q) {
  return {std::string(id),
          std::string(name),
          std::to_string(q.eligible),
          std::to_string(q.counting),
          PercentText(q),
          std::to_string(q.required),
          std::to_string(q.shortfall),
          std::to_string(q.backbone_counting),
          std::to_string(q.backbone_required),
          std::to_string(q.backbone_shortfall),
          q.passes ? "达标" : "未达标"};
}

void FillCsv(const v1::GetRotationComplianceRequest& req, const CountyEvaluation& eval,
             bool with_county, v1::GetRotationComplianceResponse* resp) {
  std::vector<std::vector<std::string>> rows;
  if (with_county) rows.push_back(CsvRow(req.county_id(), "全县", eval.county));
  for (const v1::SchoolCompliance& s : resp->schools()) {
    rows.push_back(CsvRow(s.school_id(), s.school_name(), eval.by_school.at(s.school_id())));
  }
  const std::vector<std::string> header = {
      "编号",     "名称",         "符合交流条件人数", "计入交流人数", "交流比例(%)", "应交流人数",
      "尚缺人数", "计入骨干人数", "应交流骨干人数",   "尚缺骨干人数", "是否达标"};
  v1::Download* d = resp->mutable_download();
  d->set_content(csv::WriteCsv(header, rows));
  d->set_content_type(csv::kCsvContentType);
  d->set_filename(
      absl::StrCat("rotation-compliance-", req.county_id(), "-", eval.year.Name(), ".csv"));
}

}  // namespace

absl::Status GetRotationCompliance(Deps& deps, const CallContext& call,
                                   const v1::GetRotationComplianceRequest& req,
                                   v1::GetRotationComplianceResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(CheckCountyId(req.county_id()));
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay as_of, DayOrToday(deps.clock, req.as_of(), "as_of"));
  if (!v1::ReportFormat_IsValid(req.format())) {
    return InvalidField("format", "enum", "REPORT_FORMAT_UNSPECIFIED or REPORT_FORMAT_CSV");
  }
  if (!CoversCounty(call.principal, req.county_id()) &&
      call.principal.role() != common::v1::ROLE_SCHOOL_ADMIN) {
    return Denied(call.principal, absl::StrCat("read the rotation report of ", req.county_id()));
  }
  SHIDANG_ASSIGN_OR_RETURN(YearPolicy yp,
                           PolicyForSchoolYear(deps, req.county_id(), req.school_year(), as_of));
  SHIDANG_ASSIGN_OR_RETURN(std::shared_ptr<const CountySnapshot> county,
                           deps.counties.Read(req.county_id()));
  CountyEvaluation eval = EvaluateCounty(*county, yp.policy, yp.year, as_of);
  // A school admin sees their own school's line only (the county's figures are HR's).
  const bool school_only = !CoversCounty(call.principal, req.county_id());
  const std::string& own = call.principal.school_id();
  if (school_only && (own.empty() || eval.schools->count(own) == 0)) {
    return Denied(call.principal, absl::StrCat("read the rotation report of ", req.county_id()));
  }
  resp->set_county_id(req.county_id());
  resp->set_school_year(yp.year.Name());
  resp->set_judged_on(dates::FormatDate(yp.year.days.first));
  resp->set_as_of(dates::FormatDate(as_of));
  if (!school_only) FillFigures(eval.county, resp->mutable_county());
  for (const auto& [school_id, quota] : eval.by_school) {
    if (school_only && school_id != own) continue;
    v1::SchoolCompliance* s = resp->add_schools();
    s->set_school_id(school_id);
    auto facts = eval.schools->find(school_id);
    if (facts != eval.schools->end()) s->set_school_name(facts->second.name);
    FillFigures(quota, s->mutable_figures());
  }
  for (const JudgedRotation& r : eval.rotations) {
    if (r.reason == v1::COUNTING_REASON_COUNTS) continue;
    if (school_only && r.rotation->sending_school_id() != own) continue;
    v1::RotationVerdict* v = resp->add_not_counting();
    v->set_rotation_id(r.rotation->rotation_id());
    v->set_teacher_id(r.rotation->teacher_id());
    v->set_sending_school_id(r.rotation->sending_school_id());
    v->set_receiving_school_id(r.rotation->receiving_school_id());
    v->set_state(r.state);
    v->set_reason(r.reason);
    v->set_backbone(r.backbone);
  }
  if (req.format() == v1::REPORT_FORMAT_CSV) FillCsv(req, eval, !school_only, resp);
  return absl::OkStatus();
}

}  // namespace shidang::rotation
