#pragma once

// The records a profile write leaves besides its state: timeline entries stamped with who, when
// and which request, the events that tell other services, and the write's idempotency context.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "services/common/clock.h"
#include "services/common/server.h"
#include "services/profile/store.h"
#include "shidang/common/v1/event.pb.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::profile {

// The idempotency context of a write: the caller, the method and the request.
WriteContext WriteOf(const CallContext& call, absl::string_view method,
                     const google::protobuf::Message& request);

// What a profile event says besides its type and payload.
struct EventFacts {
  absl::string_view teacher_id;  // "" for events about a county or school
  absl::string_view county_id;
  absl::string_view occurred_on;
  absl::string_view request_id;
  absl::string_view summary;  // one line in Chinese, for the timeline
};

// A profile event recorded now by the caller, carrying `payload`.
common::v1::Event ProfileEvent(const Clock& clock, absl::string_view type, const EventFacts& facts,
                               const CallContext& call, const google::protobuf::Message& payload);

// A timeline entry of `kind` recorded now by the caller; its id derives from `seed` (random when
// the seed is empty). The caller fills the detail and the summary.
v1::TimelineEntry StampedEntry(const Clock& clock, v1::TimelineEntryKind kind,
                               absl::string_view teacher_id, absl::string_view occurred_on,
                               const CallContext& call, absl::string_view request_id,
                               absl::string_view seed);

// The event type of an entry of `kind` ("profile.title_changed", ...).
std::string EventTypeOf(v1::TimelineEntryKind kind);

// A one-line Chinese summary for entries the service writes itself (callers write their own).
std::string DefaultSummary(const v1::TimelineEntry& entry);

// The Chinese label of an enum value (csv::EnumLabel), else its name, or its number when the
// descriptor does not know it.
std::string LabelOf(const google::protobuf::EnumDescriptor* descriptor, int value);

// The events of a teacher write: "profile.teacher_created" (without ID-card number, phone and
// email) when `created`, then one per timeline entry (the joined entry of a new teacher travels in
// the created event).
std::vector<common::v1::Event> TeacherEvents(const Clock& clock, const TeacherWrite& write,
                                             const CallContext& call, absl::string_view request_id,
                                             bool created);

}  // namespace shidang::profile
