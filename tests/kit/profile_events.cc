#include "tests/kit/profile_events.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/events.h"
#include "services/common/keys.h"
#include "services/common/mutation.h"

namespace shidang::testing {

std::string ProfileStreamKey(absl::string_view county_id) {
  return keys::StreamKey("profile", keys::HashTag("c", county_id));
}

common::v1::Event ProfileEvent(absl::string_view type, absl::string_view county_id,
                               absl::string_view teacher_id,
                               const google::protobuf::Message& payload,
                               absl::string_view occurred_on) {
  common::v1::Event e = NewEvent("profile", type, absl::Now());
  e.set_teacher_id(std::string(teacher_id));
  e.set_county_id(std::string(county_id));
  e.set_occurred_on(std::string(occurred_on));
  e.mutable_payload()->PackFrom(payload);
  return e;
}

absl::Status PublishProfileEvents(redis::Pool& pool, absl::string_view county_id,
                                  const std::vector<common::v1::Event>& events) {
  const std::string stream = ProfileStreamKey(county_id);
  absl::Status registered = RegisterStream(pool, "profile", stream);
  if (!registered.ok()) return registered;
  static const Mutation* const publish = new Mutation("emit_all() return {ok = ''}");
  constexpr size_t kPerScript = 250;
  for (size_t first = 0; first < events.size(); first += kPerScript) {
    MutationRequest m;
    m.stream_key = stream;
    const size_t last = std::min(events.size(), first + kPerScript);
    m.events.assign(events.begin() + static_cast<std::ptrdiff_t>(first),
                    events.begin() + static_cast<std::ptrdiff_t>(last));
    absl::Status s = publish->Run(pool, m).status();
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

namespace {

// A stream entry id "<ms>-<seq>" as a pair that orders as the ids do; nullopt when unreadable.
std::optional<std::pair<uint64_t, uint64_t>> EntryId(absl::string_view id) {
  const size_t dash = id.find('-');
  std::pair<uint64_t, uint64_t> parsed;
  if (dash == absl::string_view::npos || !absl::SimpleAtoi(id.substr(0, dash), &parsed.first) ||
      !absl::SimpleAtoi(id.substr(dash + 1), &parsed.second)) {
    return std::nullopt;
  }
  return parsed;
}

// Field `name` of a flat XINFO reply.
redis::Reply FieldOf(const redis::Reply& reply, absl::string_view name) {
  for (size_t f = 0; f + 1 < reply.size(); f += 2) {
    if (reply[f].str() == name) return reply[f + 1];
  }
  return redis::Reply();
}

// Whether every group of `stream` has been delivered its last entry and has none pending. (Not the
// group's entries-read against XLEN: consumers trim what every group has passed, so the length
// shrinks while entries-read only grows, and a stream trimmed to nothing looked applied before its
// new entries were even read.)
absl::StatusOr<bool> AllApplied(redis::Pool& pool, const std::string& stream) {
  absl::StatusOr<redis::Reply> info = pool.Command({"XINFO", "STREAM", stream});
  if (!info.ok()) return info.status();
  absl::StatusOr<redis::Reply> groups = pool.Command({"XINFO", "GROUPS", stream});
  if (!groups.ok()) return groups.status();
  const auto last = EntryId(FieldOf(*info, "last-generated-id").str());
  if (!last.has_value()) return absl::InternalError("XINFO STREAM: no last-generated-id");
  bool idle = groups->size() > 0;
  for (size_t g = 0; g < groups->size(); ++g) {
    const redis::Reply& group = (*groups)[g];
    const auto delivered = EntryId(FieldOf(group, "last-delivered-id").str());
    idle = idle && FieldOf(group, "pending").integer() == 0 && delivered.has_value() &&
           *delivered >= *last;
  }
  return idle;
}

}  // namespace

absl::Status WaitUntilApplied(redis::Pool& pool, const std::string& stream,
                              absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    absl::StatusOr<bool> applied = AllApplied(pool, stream);
    if (!applied.ok()) return applied.status();
    if (*applied) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat(stream, " never all acknowledged"));
}

}  // namespace shidang::testing
