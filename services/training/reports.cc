#include "services/training/reports.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/csv.h"
#include "services/common/dates.h"
#include "services/common/principal.h"
#include "services/common/status.h"
#include "services/training/shared.h"

namespace shidang::training {
namespace {

using Line = Reports::Line;

void ToRow(const Line& line, v1::ComplianceRow* row) {
  const Standing& s = line.standing;
  row->set_teacher_id(line.teacher_id);
  row->set_teacher_name(line.name);
  row->set_school_id(line.school_id);
  row->set_county_id(line.county_id);
  row->set_status(s.status);
  row->set_cycle_first_day(dates::FormatDate(s.window.first));
  row->set_cycle_last_day(dates::FormatDate(s.window.last));
  row->set_required_hours(HalfHoursToWire(s.required));
  row->set_counted_hours(HalfHoursToWire(s.counted));
  row->set_expected_hours(HalfHoursToWire(s.expected));
  row->set_shortfall_hours(HalfHoursToWire(s.shortfall));
  row->set_days_left(static_cast<int32_t>(s.days_left));
  row->set_counts_credits(s.counts_credits);
  if (s.counts_credits) row->set_credits(RoundTo2(s.credits));
}

// The lines needing attention as a CSV download (with credits where the county counts them).
v1::Download CsvOf(const std::vector<Line>& attention, bool counts_credits,
                   absl::string_view region, absl::CivilDay as_of) {
  std::vector<std::vector<std::string>> rows;
  for (const Line& line : attention) {
    v1::ComplianceRow row;
    ToRow(line, &row);
    rows.push_back({row.teacher_id(), row.teacher_name(), row.school_id(), row.county_id(),
                    csv::EnumLabel(row.status()), row.cycle_first_day(), row.cycle_last_day(),
                    HoursText(row.required_hours()), HoursText(row.counted_hours()),
                    HoursText(row.expected_hours()), HoursText(row.shortfall_hours()),
                    std::to_string(row.days_left())});
    // Where the county counts credits (学分), HR sees them beside the hours.
    if (counts_credits) rows.back().push_back(row.counts_credits() ? HoursText(row.credits()) : "");
  }
  std::vector<std::string> header = {"教师编号", "姓名",           "学校",     "县区",
                                     "状态",     "周期开始",       "周期结束", "应修学时",
                                     "已计学时", "按进度应达学时", "差额学时", "剩余天数"};
  if (counts_credits) header.push_back("已计学分");
  v1::Download d;
  d.set_content(csv::WriteCsv(header, rows));
  d.set_content_type(csv::kCsvContentType);
  d.set_filename(
      absl::StrCat("training-compliance-", region, "-", dates::FormatDate(as_of), ".csv"));
  return d;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> Reports::CountiesOf(absl::string_view region) {
  if (IsCountyCode(region)) return std::vector<std::string>{std::string(region)};
  std::vector<std::string> counties;
  SHIDANG_ASSIGN_OR_RETURN(std::vector<std::string> all, store_.Counties());
  for (std::string& c : all) {
    if (RegionCovers(region, c)) counties.push_back(std::move(c));
  }
  return counties;
}

absl::Status Reports::Compliance(const v1::GetComplianceReportRequest& req,
                                 v1::GetComplianceReportResponse* resp) {
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay as_of, AsOf(clock_, req.as_of()));
  SHIDANG_ASSIGN_OR_RETURN(int page_size, PageSize(req.page()));
  SHIDANG_ASSIGN_OR_RETURN(size_t offset, PageOffset(req.page()));
  SHIDANG_ASSIGN_OR_RETURN(std::vector<std::string> counties, CountiesOf(req.county_id()));
  std::vector<Line> standings;
  for (const std::string& county : counties) {
    SHIDANG_RETURN_IF_ERROR(StandingsOf(county, req.school_id(), as_of, &standings));
  }
  std::map<TrainingStatus, int64_t> counts;
  std::vector<Line> attention;
  bool counts_credits = false;
  for (Line& s : standings) {
    ++counts[s.standing.status];
    counts_credits = counts_credits || s.standing.counts_credits;
    if (NeedsAttention(s.standing.status)) attention.push_back(std::move(s));
  }
  std::sort(attention.begin(), attention.end(), [](const Line& a, const Line& b) {
    return ShortfallOrder({a.standing.shortfall, a.teacher_id},
                          {b.standing.shortfall, b.teacher_id});
  });
  resp->set_county_id(req.county_id());
  resp->set_school_id(req.school_id());
  resp->set_as_of(dates::FormatDate(as_of));
  resp->set_teachers(static_cast<int64_t>(standings.size()));
  for (TrainingStatus status : {v1::TRAINING_STATUS_COMPLETE, v1::TRAINING_STATUS_ON_TRACK,
                                v1::TRAINING_STATUS_AT_RISK, v1::TRAINING_STATUS_BEHIND}) {
    v1::StatusCount* c = resp->add_by_status();
    c->set_status(status);
    c->set_teachers(counts[status]);
  }
  resp->set_completion_percent(RoundTo2(CompletionPercent(counts[v1::TRAINING_STATUS_COMPLETE],
                                                          static_cast<int64_t>(standings.size()))));
  resp->set_counts_credits(counts_credits);
  Paginate(attention, offset, page_size, resp->mutable_page(),
           [&](const Line& s) { ToRow(s, resp->add_rows()); });
  if (req.format() == v1::REPORT_FORMAT_CSV) {
    *resp->mutable_download() = CsvOf(attention, counts_credits, req.county_id(), as_of);
  }
  return absl::OkStatus();
}

absl::Status Reports::StandingsOf(absl::string_view county, absl::string_view school_id,
                                  absl::CivilDay as_of, std::vector<Line>* out) {
  SHIDANG_ASSIGN_OR_RETURN(LoadedPolicy policy, policy_.LoadPolicy(county));
  SHIDANG_ASSIGN_OR_RETURN(std::vector<ReportInput> inputs, store_.ReadReportInputs(county));
  std::vector<std::string> recount;
  out->reserve(out->size() + inputs.size());
  for (ReportInput& in : inputs) {
    if (!school_id.empty() && in.school_id != school_id) continue;
    std::optional<Standing> standing;
    if (!in.row.empty() && in.policy_stamp == policy.stamp) {
      absl::StatusOr<ReportRow> row = DecodeReportRow(in.row);
      if (row.ok()) standing = StandingFromRow(policy.history, *row, as_of);
    }
    if (!standing.has_value()) {
      recount.push_back(std::move(in.teacher_id));
      continue;
    }
    out->push_back(Line{std::move(in.teacher_id), std::move(in.name), std::move(in.school_id),
                        std::string(county), *standing});
  }
  return AddRecounted(county, school_id, as_of, policy, recount, out);
}

absl::Status Reports::AddRecounted(absl::string_view county, absl::string_view school_id,
                                   absl::CivilDay as_of, const LoadedPolicy& policy,
                                   const std::vector<std::string>& recount,
                                   std::vector<Line>* out) {
  constexpr size_t kBatch = 500;
  for (size_t from = 0; from < recount.size(); from += kBatch) {
    std::vector<std::string> ids(recount.begin() + from,
                                 recount.begin() + std::min(recount.size(), from + kBatch));
    SHIDANG_ASSIGN_OR_RETURN(std::vector<Totals::Recounted> recounted,
                             totals_.Recount(county, ids, policy));
    for (size_t i = 0; i < ids.size(); ++i) {
      const TeacherState& state = recounted[i].state;
      if (!state.facts.has_value()) continue;
      const TeacherFactsRecord& f = *state.facts;
      if (!school_id.empty() && f.school_id != school_id) continue;
      SHIDANG_ASSIGN_OR_RETURN(Summary summary, SummaryOfState(policy, state, as_of));
      out->push_back(Line{ids[i], f.name, f.school_id, std::string(county), StandingOf(summary)});
    }
  }
  return absl::OkStatus();
}

}  // namespace shidang::training
