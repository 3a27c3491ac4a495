#include "services/profile/external_events.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/any.pb.h"
#include "services/common/log.h"
#include "services/common/principal.h"
#include "services/common/status.h"

namespace shidang::profile {
namespace {

// Keeps the newest summary per source and kind: a ServiceSummary as carried, or any other
// payload as the detail of one.
absl::Status FileSummary(ServiceDeps& deps, const std::string& county,
                         const common::v1::Event& event, const google::protobuf::Any& carried,
                         const v1::AddTimelineEntryRequest& idem) {
  v1::ServiceSummary summary;
  if (carried.Is<v1::ServiceSummary>()) carried.UnpackTo(&summary);
  summary.set_source(event.source());
  if (summary.kind().empty()) summary.set_kind(event.type());
  summary.set_as_of_ms(event.recorded_at_ms());
  summary.set_last_event_id(event.id());
  if (!carried.Is<v1::ServiceSummary>()) *summary.mutable_detail() = carried;
  return deps.store.PutSummary(county, event.teacher_id(), summary,
                               WriteContext{"service:profile", "FileSummary", &idem});
}

v1::TimelineEntry ExternalEntry(const common::v1::Event& event, const std::string& actor) {
  v1::TimelineEntry entry;
  entry.set_entry_id(absl::StrCat("E", event.id().substr(0, 16)));
  entry.set_teacher_id(event.teacher_id());
  entry.set_kind(v1::TIMELINE_ENTRY_KIND_EXTERNAL);
  entry.set_occurred_on(event.occurred_on());
  entry.set_recorded_at_ms(event.recorded_at_ms());
  entry.set_actor(actor);
  entry.set_request_id(event.request_id());
  entry.set_summary(event.summary());
  v1::ExternalEventDetail* detail = entry.mutable_external();
  detail->set_event_id(event.id());
  detail->set_type(event.type());
  detail->set_source(event.source());
  *detail->mutable_payload() = event.payload();
  return entry;
}

}  // namespace

absl::Status FileExternalEvent(ServiceDeps& deps, const common::v1::Event& event) {
  if (event.teacher_id().empty()) return absl::OkStatus();  // not about one teacher
  absl::StatusOr<std::string> county = deps.store.HomeCounty(event.teacher_id());
  if (absl::IsNotFound(county.status())) {
    LogWarning(absl::StrCat("event ", event.id(), " (", event.type(),
                            ") names an unknown teacher; skipped"));
    return absl::OkStatus();
  }
  SHIDANG_RETURN_IF_ERROR(county.status());
  common::v1::Principal source;
  source.set_role(common::v1::ROLE_SERVICE);
  source.set_subject(event.source());
  const std::string actor = event.actor().empty() ? ActorOf(source) : event.actor();
  // Either way the event id is the request id, so a re-delivery changes nothing.
  v1::AddTimelineEntryRequest idem;
  idem.set_teacher_id(event.teacher_id());
  idem.set_request_id(event.id());
  if (absl::EndsWith(event.type(), ".summary")) {
    return FileSummary(deps, *county, event, event.payload(), idem);
  }
  if (event.has_teacher_summary()) {
    SHIDANG_RETURN_IF_ERROR(FileSummary(deps, *county, event, event.teacher_summary(), idem));
  }
  v1::TimelineEntry entry = ExternalEntry(event, actor);
  *idem.mutable_entry() = entry;
  TeacherWrite w;
  w.teacher_id = event.teacher_id();
  w.expect = TeacherWrite::Expect::kPresent;
  w.entries.push_back(entry);
  return deps.store
      .WriteTeachers(*county, {w}, WriteContext{"service:profile", "FileEvent", &idem}, {},
                     entry.entry_id())
      .status();
}

}  // namespace shidang::profile
