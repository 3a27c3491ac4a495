#include "services/profile/growth_file.h"

#include <utility>
#include <vector>

#include "services/common/dates.h"
#include "services/common/status.h"
#include "services/profile/access.h"
#include "services/profile/rules.h"
#include "services/profile/teacher_view.h"

namespace shidang::profile {
namespace {

// Each stint's school name and classification (a school that cannot be read keeps its id only).
void DescribeSchools(ProfileStore& store, std::vector<v1::SchoolStint>* history) {
  for (v1::SchoolStint& stint : *history) {
    absl::StatusOr<v1::School> school = store.GetSchool(stint.school_id());
    if (!school.ok()) continue;
    stint.set_school_name(school->name());
    stint.set_county_id(school->county_id());
    stint.set_location(school->location());
    stint.set_quality(school->quality());
    stint.set_kind(school->kind());
  }
}

}  // namespace

absl::Status GrowthFiles::GetGrowthFile(const CallContext& call,
                                        const v1::GetGrowthFileRequest& req,
                                        v1::GetGrowthFileResponse* resp) {
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay as_of, AsOf(deps_.clock, req.as_of()));
  SHIDANG_ASSIGN_OR_RETURN(StoredTeacher found,
                           LocateFor(deps_.store, call, req.teacher_id(), TeacherAccess::kRead));
  v1::GrowthFile* file = resp->mutable_growth_file();
  file->set_as_of(dates::FormatDate(as_of));
  SHIDANG_ASSIGN_OR_RETURN(*file->mutable_teacher(), TeacherView(deps_, found, as_of, call));
  std::vector<v1::TimelineEntry> entries = found.timeline;
  MarkSuperseded(&entries);
  SortByDate(&entries);
  std::vector<v1::SchoolStint> history = SchoolHistoryFromTimeline(entries);
  DescribeSchools(deps_.store, &history);
  // Secondments (a rotation that keeps the home school) count as service where they were served.
  std::vector<v1::SchoolStint> secondments = SecondmentStintsFromTimeline(entries);
  DescribeSchools(deps_.store, &secondments);
  SHIDANG_ASSIGN_OR_RETURN(*file->mutable_rural_or_weak_service(),
                           RuralOrWeakServiceOf(history, secondments, as_of));
  for (v1::SchoolStint& s : history) *file->add_school_history() = std::move(s);
  for (v1::TimelineEntry& e : entries) *file->add_timeline() = std::move(e);
  for (const v1::ServiceSummary& s : found.summaries) *file->add_summaries() = s;
  return absl::OkStatus();
}

}  // namespace shidang::profile
