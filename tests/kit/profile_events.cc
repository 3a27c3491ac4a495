#include "tests/kit/profile_events.h"

#include <algorithm>

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

// Whether every group of `stream` has read its `length` entries and has none pending.
absl::StatusOr<bool> AllApplied(redis::Pool& pool, const std::string& stream) {
  absl::StatusOr<redis::Reply> length = pool.Command({"XLEN", stream});
  if (!length.ok()) return length.status();
  absl::StatusOr<redis::Reply> groups = pool.Command({"XINFO", "GROUPS", stream});
  if (!groups.ok()) return groups.status();
  bool idle = groups->size() > 0;
  for (size_t g = 0; g < groups->size(); ++g) {
    const redis::Reply& group = (*groups)[g];
    int64_t pending = -1, entries_read = -1;
    for (size_t f = 0; f + 1 < group.size(); f += 2) {
      if (group[f].str() == "pending") pending = group[f + 1].integer();
      if (group[f].str() == "entries-read" && !group[f + 1].is_nil()) {
        entries_read = group[f + 1].integer();
      }
    }
    idle = idle && pending == 0 && entries_read >= length->integer();
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
