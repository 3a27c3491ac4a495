#include "services/profile/entries_and_events.h"

#include "absl/strings/str_cat.h"
#include "services/common/csv.h"
#include "services/common/mutation.h"
#include "services/profile/teacher_input.h"

namespace shidang::profile {

WriteContext WriteOf(const CallContext& call, absl::string_view method,
                     const google::protobuf::Message& request) {
  return WriteContext{call.actor, std::string(method), &request};
}

common::v1::Event ProfileEvent(const Clock& clock, absl::string_view type, const EventFacts& facts,
                               const CallContext& call, const google::protobuf::Message& payload) {
  common::v1::Event e = NewEvent(kServiceName, type, clock.Now());
  e.set_teacher_id(std::string(facts.teacher_id));
  e.set_county_id(std::string(facts.county_id));
  e.set_occurred_on(std::string(facts.occurred_on));
  e.set_actor(call.actor);
  e.set_request_id(std::string(facts.request_id));
  e.set_summary(std::string(facts.summary));
  e.mutable_payload()->PackFrom(payload);
  return e;
}

v1::TimelineEntry StampedEntry(const Clock& clock, v1::TimelineEntryKind kind,
                               absl::string_view teacher_id, absl::string_view occurred_on,
                               const CallContext& call, absl::string_view request_id,
                               absl::string_view seed) {
  v1::TimelineEntry e;
  e.set_entry_id(MakeEntryId(seed));
  e.set_teacher_id(std::string(teacher_id));
  e.set_kind(kind);
  e.set_occurred_on(std::string(occurred_on));
  e.set_recorded_at_ms(absl::ToUnixMillis(clock.Now()));
  e.set_actor(call.actor);
  e.set_request_id(std::string(request_id));
  return e;
}

std::string EventTypeOf(v1::TimelineEntryKind kind) {
  switch (kind) {
    case v1::TIMELINE_ENTRY_KIND_TITLE_CONFERRED:
      return "profile.title_changed";
    case v1::TIMELINE_ENTRY_KIND_BACKBONE_DESIGNATED:
      return "profile.backbone_designated";
    case v1::TIMELINE_ENTRY_KIND_DESIGNATION:
      return "profile.designation";
    case v1::TIMELINE_ENTRY_KIND_HONOUR:
      return "profile.honour";
    case v1::TIMELINE_ENTRY_KIND_APPRAISAL:
      return "profile.appraisal";
    case v1::TIMELINE_ENTRY_KIND_ETHICS_FINDING:
      return "profile.ethics_finding";
    case v1::TIMELINE_ENTRY_KIND_POST_STATUS_CHANGED:
      return "profile.post_status_changed";
    case v1::TIMELINE_ENTRY_KIND_SCHOOL_JOINED:
      return "profile.school_joined";
    case v1::TIMELINE_ENTRY_KIND_SCHOOL_MOVED:
      return "profile.moved_school";
    case v1::TIMELINE_ENTRY_KIND_TRANSFERRED:
      return "profile.transferred_county";
    case v1::TIMELINE_ENTRY_KIND_PROFILE_UPDATED:
      return "profile.profile_updated";
    case v1::TIMELINE_ENTRY_KIND_CORRECTION:
      return "profile.correction";
    default:
      return "profile.timeline_entry";
  }
}

std::string DefaultSummary(const v1::TimelineEntry& entry) {
  switch (entry.kind()) {
    case v1::TIMELINE_ENTRY_KIND_SCHOOL_JOINED:
      return "入职 / 建立档案";
    case v1::TIMELINE_ENTRY_KIND_SCHOOL_MOVED:
      return "校际调动";
    case v1::TIMELINE_ENTRY_KIND_TRANSFERRED:
      return "跨县调动";
    case v1::TIMELINE_ENTRY_KIND_TITLE_CONFERRED:
      return "职称评定";
    case v1::TIMELINE_ENTRY_KIND_BACKBONE_DESIGNATED:
      return "骨干教师认定";
    case v1::TIMELINE_ENTRY_KIND_PROFILE_UPDATED:
      return "档案信息修改";
    default:
      return "档案记录";
  }
}

std::string LabelOf(const google::protobuf::EnumDescriptor* descriptor, int value) {
  // The timeline's summaries are read by people (the growth file): the Chinese label first.
  std::string label = csv::EnumLabel(descriptor, value);
  if (!label.empty()) return label;
  const auto* v = descriptor->FindValueByNumber(value);
  return v ? v->name() : std::to_string(value);
}

std::vector<common::v1::Event> TeacherEvents(const Clock& clock, const TeacherWrite& write,
                                             const CallContext& call, absl::string_view request_id,
                                             bool created) {
  std::vector<common::v1::Event> events;
  const v1::Teacher& t = *write.teacher;
  if (created) {
    v1::Teacher payload = t;
    payload.clear_id_card_number();
    payload.clear_phone();
    payload.clear_email();
    const std::string summary = absl::StrCat("建立档案：", t.name());
    events.push_back(ProfileEvent(
        clock, "profile.teacher_created",
        {t.teacher_id(), t.county_id(), t.school_joined_on(), request_id, summary}, call, payload));
  }
  for (const v1::TimelineEntry& e : write.entries) {
    if (created && e.kind() == v1::TIMELINE_ENTRY_KIND_SCHOOL_JOINED) continue;
    events.push_back(ProfileEvent(
        clock, EventTypeOf(e.kind()),
        {t.teacher_id(), t.county_id(), e.occurred_on(), request_id, e.summary()}, call, e));
  }
  return events;
}

}  // namespace shidang::profile
