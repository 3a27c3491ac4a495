#pragma once

// A teacher's timeline: recording an entry (titles, designations, honours, appraisals, ethics
// findings, post status, and corrections of earlier entries) and listing it.

#include "absl/status/status.h"
#include "services/common/server.h"
#include "services/profile/service_deps.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::profile {

class Timeline {
 public:
  explicit Timeline(ServiceDeps& deps) : deps_(deps) {}

  absl::Status AddTimelineEntry(const CallContext& call, const v1::AddTimelineEntryRequest& req,
                                v1::AddTimelineEntryResponse* resp);
  absl::Status ListTimeline(const CallContext& call, const v1::ListTimelineRequest& req,
                            v1::ListTimelineResponse* resp);

 private:
  // The checks that need the teacher's file: the entry it supersedes is in it, and an ethics
  // finding's veto can be dated under the county's policy.
  absl::Status CheckAgainstFile(const StoredTeacher& found, const v1::TimelineEntry& entry);

  ServiceDeps& deps_;
};

}  // namespace shidang::profile
