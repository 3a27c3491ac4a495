#pragma once

// A per-county copy of the parsed teachers, schools, deferrals and rotations and the rules' facts
// derived from them, so that a report on a county costs one small read (its writes counter and
// change log, services/common/county_delta.h) and the computation, not megabytes read and parsed:
// after a write only what the write changed is read, parsed and derived again.
//
// Never stale: every write of a county bumps its counter and records the change in the same
// script, and a read takes the counter first (county_delta.h), so a call sees every write
// acknowledged before it started, whichever service instance made it.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/county_delta.h"
#include "services/rotation/rules.h"
#include "services/rotation/store.h"

namespace shidang::rotation {

// A teacher's stored copy and the rules' facts of it (facts.h).
struct CountyTeacher {
  std::shared_ptr<const v1::TeacherCopy> copy;
  TeacherFacts facts;
};

// The deferrals as stored (by id) and as the rules read them (by teacher).
struct CountyDeferrals {
  std::map<std::string, v1::Deferral> stored;
  std::map<std::string, std::vector<DeferralSpan>> spans;
};

// The rotations, in no particular order.
struct CountyRotations {
  std::vector<v1::Rotation> rotations;
};

// One county at one value of its writes counter. Each part is shared with the snapshots before
// and after it that the writes between them left alone, so a rotation approved costs the
// rotations part, not the 10,000 teachers.
struct CountyParts {
  std::shared_ptr<const std::map<std::string, CountyTeacher>> teachers;  // by teacher id
  std::shared_ptr<const std::map<std::string, SchoolFacts>> schools;     // by school id
  std::shared_ptr<const CountyDeferrals> deferrals;
  std::shared_ptr<const CountyRotations> rotations;
};

class CountySnapshot {
 public:
  explicit CountySnapshot(CountyParts parts);
  CountySnapshot(const CountySnapshot&) = delete;
  CountySnapshot& operator=(const CountySnapshot&) = delete;

  const CountyParts parts;
  // What the use cases read: views of the parts.
  const std::map<std::string, CountyTeacher>& teachers;
  const std::map<std::string, SchoolFacts>& schools;
  const std::map<std::string, std::vector<DeferralSpan>>& deferrals;  // by teacher id
  const CountyRotations& data;                                        // data.rotations
};

// A snapshot of `read` (a whole read), or `base` patched with `read`'s changes.
absl::StatusOr<std::shared_ptr<const CountySnapshot>> BuildSnapshot(
    const county_delta::CountyRead& read, const CountySnapshot* base);

class CountyCache {
 public:
  // Holds at most `max_counties` counties, dropping the one least recently read.
  explicit CountyCache(redis::Pool& pool, size_t max_counties = 16);

  // The county with every write acknowledged before this call. Thread-safe; the snapshot is
  // shared and never changes.
  absl::StatusOr<std::shared_ptr<const CountySnapshot>> Read(absl::string_view county_id);

 private:
  county_delta::Cache<CountySnapshot> cache_;
};

}  // namespace shidang::rotation
