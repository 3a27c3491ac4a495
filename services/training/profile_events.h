#pragma once

// The training service's copy of each teacher's facts (name, school, county, hire date, cycle
// anchor, post status, head teacher), kept from the profile service's events. Each fact follows
// every event that changes it:
//   "profile.teacher_created"      all of them (payload: the Teacher);
//   "profile.teacher_updated"      name, hire date, cycle anchor and head teacher, as UpdateTeacher
//                                  left them (payload: the Teacher after the change);
//   "profile.moved_school"         the school (payload: TimelineEntry.school_change);
//   "profile.transferred_county"   the county and school, with the ledger and records carried
//                                  over (TimelineEntry.transfer);
//   "profile.post_status_changed"  the post status and the day a departure took effect.
// Other events are ignored. Each is applied idempotently per event id.

#include <string>

#include "absl/status/status.h"
#include "services/training/shared.h"
#include "services/training/store.h"
#include "services/training/totals.h"
#include "shidang/common/v1/event.pb.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::training {

class ProfileFollower {
 public:
  ProfileFollower(TrainingStore& store, Totals& totals) : store_(store), totals_(totals) {}

  absl::Status Apply(const common::v1::Event& event);

 private:
  absl::Status Created(const common::v1::Event& event, const WriteContext& write);
  absl::Status Updated(const common::v1::Event& event, const WriteContext& write);
  absl::Status TimelineChange(const common::v1::Event& event, const WriteContext& write);
  // A teacher who moved county takes their ledger and records along.
  absl::Status Transfer(const Located& found, const profile::v1::TimelineEntry& entry,
                        const common::v1::Event& event);
  // Step of Transfer: the records into county `to`, with the review queue's entries.
  absl::Status CarryRecords(const Located& found, const std::string& to);
  // Writes the changed facts and recounts the teacher's totals under them.
  absl::Status Put(const TeacherFactsRecord& facts, const WriteContext& write);

  TrainingStore& store_;
  Totals& totals_;
};

}  // namespace shidang::training
