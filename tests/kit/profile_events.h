#pragma once

// Test kit: the profile service's events as a consuming service (rotation, mentorship, ...) reads
// them, published the way the profile service publishes them (the kit's write path, mutation.h),
// and a wait until the consumers have applied them. Lets a test or bench make teachers and
// schools known to a service without running the profile service.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "services/common/redis.h"
#include "shidang/common/v1/event.pb.h"

namespace shidang::testing {

// The profile service's stream of a county: "profile:{c:<county>}:events".
std::string ProfileStreamKey(absl::string_view county_id);

// An event of the profile service: `type` ("profile.teacher_created", ...), its county, its
// teacher (empty for a school's event), the date it happened (may be empty) and `payload`
// (a shidang.profile.v1 message).
common::v1::Event ProfileEvent(absl::string_view type, absl::string_view county_id,
                               absl::string_view teacher_id,
                               const google::protobuf::Message& payload,
                               absl::string_view occurred_on = "");

// Publishes `events` on the county's profile stream (registered first, as the profile service
// does), at most 250 to a script.
absl::Status PublishProfileEvents(redis::Pool& pool, absl::string_view county_id,
                                  const std::vector<common::v1::Event>& events);

// Waits until every consumer group of `stream` (at least one) has read and acknowledged all of
// it; DEADLINE_EXCEEDED after `timeout`.
absl::Status WaitUntilApplied(redis::Pool& pool, const std::string& stream,
                              absl::Duration timeout = absl::Seconds(15));

}  // namespace shidang::testing
