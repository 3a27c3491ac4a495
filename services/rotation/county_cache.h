#pragma once

// A per-county cache of the parsed copies (teachers, schools, deferrals, rotations) and the
// rules' facts derived from them, so that a report on a county nobody wrote to since costs one
// small read (its writes counter, store.h) and the computation, not megabytes read and parsed.
//
// Never stale: every write of a county bumps its counter after (or atomically with) the write,
// and a read takes the counter first. A call that finds the counter where its cached copy was
// read therefore sees every write acknowledged before the call started, whichever service
// instance made it; a counter that moved makes it read the county again.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "services/rotation/rules.h"
#include "services/rotation/store.h"

namespace shidang::rotation {

// A teacher's stored copy and the rules' facts of it (facts.h).
struct CountyTeacher {
  const v1::TeacherCopy* copy = nullptr;  // in CountySnapshot::data
  TeacherFacts facts;
};

// One county as read at one value of its writes counter (data.version). Not copyable: it points
// into itself.
struct CountySnapshot {
  CountySnapshot() = default;
  CountySnapshot(const CountySnapshot&) = delete;
  CountySnapshot& operator=(const CountySnapshot&) = delete;

  CountyData data;
  // Derived once per version.
  std::map<std::string, CountyTeacher> teachers;               // by teacher id
  std::map<std::string, SchoolFacts> schools;                  // by school id
  std::map<std::string, std::vector<DeferralSpan>> deferrals;  // by teacher id
};

// Parses and derives a snapshot of `data`.
std::shared_ptr<const CountySnapshot> MakeSnapshot(CountyData data);

class CountyCache {
 public:
  // Holds at most `max_counties` counties, dropping the one least recently read.
  explicit CountyCache(RotationStore& store, size_t max_counties = 16);

  // The county with every write acknowledged before this call: one GET of its counter when the
  // cached snapshot is current, else one pipelined read of all of it (cached when the county has
  // a counter). Thread-safe; the snapshot is shared and never changes.
  absl::StatusOr<std::shared_ptr<const CountySnapshot>> Read(absl::string_view county_id);

 private:
  struct Entry {
    std::shared_ptr<const CountySnapshot> snapshot;
    uint64_t last_read = 0;
  };
  std::shared_ptr<const CountySnapshot> Cached(const std::string& county_id);
  void Keep(const std::string& county_id, std::shared_ptr<const CountySnapshot> snapshot);

  RotationStore& store_;
  const size_t max_counties_;
  absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  uint64_t reads_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace shidang::rotation
