#include "services/rotation/county_cache.h"

#include <utility>

#include "services/common/status.h"
#include "services/rotation/facts.h"

namespace shidang::rotation {

std::shared_ptr<const CountySnapshot> MakeSnapshot(CountyData data) {
  auto snapshot = std::make_shared<CountySnapshot>();
  snapshot->data = std::move(data);
  for (const auto& [id, copy] : snapshot->data.teachers) {
    snapshot->teachers.emplace_hint(snapshot->teachers.end(), id,
                                    CountyTeacher{&copy, ToTeacherFacts(copy)});
  }
  for (const auto& [id, school] : snapshot->data.schools) {
    snapshot->schools.emplace(id, ToSchoolFacts(school));
  }
  for (const v1::Deferral& d : snapshot->data.deferrals) {
    std::vector<DeferralSpan> spans = DeferralsOf({d}, d.teacher_id());
    auto& of_teacher = snapshot->deferrals[d.teacher_id()];
    of_teacher.insert(of_teacher.end(), spans.begin(), spans.end());
  }
  return snapshot;
}

CountyCache::CountyCache(RotationStore& store, size_t max_counties)
    : store_(store), max_counties_(max_counties < 1 ? 1 : max_counties) {}

std::shared_ptr<const CountySnapshot> CountyCache::Cached(const std::string& county_id) {
  absl::MutexLock lock(&mu_);
  auto found = entries_.find(county_id);
  if (found == entries_.end()) return nullptr;
  found->second.last_read = ++reads_;
  return found->second.snapshot;
}

void CountyCache::Keep(const std::string& county_id,
                       std::shared_ptr<const CountySnapshot> snapshot) {
  absl::MutexLock lock(&mu_);
  entries_[county_id] = Entry{std::move(snapshot), ++reads_};
  while (entries_.size() > max_counties_) {
    auto oldest = entries_.begin();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->second.last_read < oldest->second.last_read) oldest = it;
    }
    entries_.erase(oldest);
  }
}

absl::StatusOr<std::shared_ptr<const CountySnapshot>> CountyCache::Read(
    absl::string_view county_id) {
  const std::string county(county_id);
  std::shared_ptr<const CountySnapshot> cached = Cached(county);
  if (cached != nullptr) {
    SHIDANG_ASSIGN_OR_RETURN(std::string version, store_.CountyVersion(county));
    if (!version.empty() && version == cached->data.version) return cached;
  }
  SHIDANG_ASSIGN_OR_RETURN(CountyData data, store_.ReadCounty(county));
  // A county never written has no counter to tell a later change by: not cached.
  const bool cacheable = !data.version.empty();
  std::shared_ptr<const CountySnapshot> snapshot = MakeSnapshot(std::move(data));
  if (cacheable) Keep(county, snapshot);
  return snapshot;
}

}  // namespace shidang::rotation
