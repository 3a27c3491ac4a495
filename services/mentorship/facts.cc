#include "services/mentorship/facts.h"

#include <algorithm>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/common/status.h"

namespace shidang::mentorship {
namespace {

namespace pv1 = ::shidang::profile::v1;

// The title of the latest title entry (dates compare as text: YYYY-MM-DD), else `fallback`.
common::v1::ProfessionalTitle CurrentTitle(const v1::TeacherCopy& copy,
                                           common::v1::ProfessionalTitle fallback) {
  const v1::EntryCopy* latest = nullptr;
  for (const v1::EntryCopy& e : copy.titles()) {
    if (latest == nullptr || e.occurred_on() >= latest->occurred_on()) latest = &e;
  }
  return latest == nullptr ? fallback : latest->title();
}

// Drops the title or ethics entry `entry_id` (a correction superseded it).
void Retract(v1::TeacherCopy* copy, const std::string& entry_id) {
  auto drop = [&](google::protobuf::RepeatedPtrField<v1::EntryCopy>* entries) {
    entries->erase(std::remove_if(entries->begin(), entries->end(),
                                  [&](const v1::EntryCopy& e) { return e.entry_id() == entry_id; }),
                   entries->end());
  };
  drop(copy->mutable_titles());
  drop(copy->mutable_ethics_findings());
}

// Adds the entry unless the copy holds it already (a re-delivered event).
void AddEntry(google::protobuf::RepeatedPtrField<v1::EntryCopy>* entries, v1::EntryCopy entry) {
  for (const v1::EntryCopy& e : *entries) {
    if (e.entry_id() == entry.entry_id()) return;
  }
  *entries->Add() = std::move(entry);
}

// The fields a Teacher message carries in full (created and updated events).
void TakeTeacherFields(const pv1::Teacher& t, v1::TeacherCopy* c) {
  if (!t.name().empty()) c->set_name(t.name());
  if (!t.school_id().empty()) c->set_school_id(t.school_id());
  c->clear_subjects();
  for (const std::string& s : t.subjects()) c->add_subjects(s);
  c->set_hire_date(t.hire_date());
  c->set_post_status(t.post_status());
  c->set_backbone_tier(t.backbone_tier());
  c->set_backbone_since(t.backbone_designated_on());
  // An updated teacher's event may carry no title (it is derived from the timeline, and only a
  // created event from a roster import sets it): keep the one the copy holds.
  const common::v1::ProfessionalTitle carried =
      t.title() != common::v1::PROFESSIONAL_TITLE_UNSPECIFIED ? t.title() : c->title();
  c->set_title(CurrentTitle(*c, carried));
}

absl::Status ApplyTransfer(Deps& deps, v1::TeacherCopy copy, const pv1::TimelineEntry& entry) {
  const pv1::TransferDetail& t = entry.transfer();
  if (t.to_county_id().empty() || t.to_county_id() == copy.county_id()) return absl::OkStatus();
  v1::TeacherCopy moved = copy;
  moved.set_county_id(t.to_county_id());
  moved.set_school_id(t.to_school_id());
  moved.clear_transferred_to_county_id();
  SHIDANG_RETURN_IF_ERROR(deps.store.PutTeacher(moved));
  SHIDANG_RETURN_IF_ERROR(deps.store.SetTeacherCounty(copy.teacher_id(), t.to_county_id()));
  copy.set_transferred_to_county_id(t.to_county_id());
  return deps.store.PutTeacher(copy);
}

// Changes the copy by one timeline entry; false when the entry means nothing to it.
bool ApplyEntry(const std::string& type, const pv1::TimelineEntry& entry, v1::TeacherCopy* copy) {
  bool changed = false;
  if (!entry.supersedes_entry_id().empty()) {
    Retract(copy, entry.supersedes_entry_id());
    changed = true;
  }
  if (type == "profile.moved_school") {
    copy->set_school_id(entry.school_change().to_school_id());
    changed = true;
  } else if (type == "profile.post_status_changed") {
    copy->set_post_status(entry.post_status_changed().to_status());
    changed = true;
  } else if (type == "profile.backbone_designated") {
    copy->set_backbone_tier(entry.backbone_designated().tier());
    copy->set_backbone_since(entry.occurred_on());
    changed = true;
  } else if (type == "profile.title_changed") {
    v1::EntryCopy e;
    e.set_entry_id(entry.entry_id());
    e.set_occurred_on(entry.occurred_on());
    e.set_title(entry.title_conferred().title());
    AddEntry(copy->mutable_titles(), std::move(e));
    changed = true;
  } else if (type == "profile.ethics_finding") {
    v1::EntryCopy e;
    e.set_entry_id(entry.entry_id());
    e.set_occurred_on(entry.occurred_on());
    e.set_severity(entry.ethics_finding().severity());
    AddEntry(copy->mutable_ethics_findings(), std::move(e));
    changed = true;
  }
  if (changed) copy->set_title(CurrentTitle(*copy, copy->title()));
  return changed;
}

absl::Status ApplyTimelineEvent(Deps& deps, const common::v1::Event& event) {
  pv1::TimelineEntry entry;
  if (!event.payload().UnpackTo(&entry)) {
    LogWarning("event ", event.id(), " (", event.type(), ") without a TimelineEntry; skipped");
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> county = deps.store.TeacherCounty(event.teacher_id());
  if (absl::IsNotFound(county.status())) {
    LogWarning("event ", event.id(), " (", event.type(), ") names an unknown teacher; skipped");
    return absl::OkStatus();
  }
  SHIDANG_RETURN_IF_ERROR(county.status());
  SHIDANG_ASSIGN_OR_RETURN(std::optional<v1::TeacherCopy> found,
                           deps.store.GetTeacher(*county, event.teacher_id()));
  if (!found.has_value()) return absl::OkStatus();
  if (event.type() == "profile.transferred_county") return ApplyTransfer(deps, *found, entry);
  v1::TeacherCopy copy = *found;
  if (!ApplyEntry(event.type(), entry, &copy)) return absl::OkStatus();
  return deps.store.PutTeacher(copy);
}

absl::Status ApplyTeacher(Deps& deps, const common::v1::Event& event, bool created) {
  pv1::Teacher teacher;
  if (!event.payload().UnpackTo(&teacher)) {
    LogWarning("event ", event.id(), ": ", event.type(), " without a Teacher; skipped");
    return absl::OkStatus();
  }
  v1::TeacherCopy copy = CopyOfTeacher(teacher, event);
  if (!CheckCountyId(copy.county_id()).ok()) return absl::OkStatus();
  // The routing index first: a crash before the copy leaves a pointer to nothing.
  SHIDANG_RETURN_IF_ERROR(deps.store.SetTeacherCounty(copy.teacher_id(), copy.county_id()));
  SHIDANG_ASSIGN_OR_RETURN(std::optional<v1::TeacherCopy> existing,
                           deps.store.GetTeacher(copy.county_id(), copy.teacher_id()));
  if (existing.has_value()) {
    // Created once: a re-delivery must not undo what later events changed. An update carries
    // the teacher in full, so it replaces what a Teacher holds and keeps the entries.
    if (created) return absl::OkStatus();
    TakeTeacherFields(teacher, &*existing);
    return deps.store.PutTeacher(*existing);
  }
  return deps.store.PutTeacher(copy);
}

}  // namespace

v1::TeacherCopy CopyOfTeacher(const pv1::Teacher& t, const common::v1::Event& event) {
  v1::TeacherCopy c;
  c.set_teacher_id(t.teacher_id().empty() ? event.teacher_id() : t.teacher_id());
  c.set_county_id(t.county_id().empty() ? event.county_id() : t.county_id());
  TakeTeacherFields(t, &c);
  return c;
}

absl::Status ApplyProfileEvent(Deps& deps, const common::v1::Event& event) {
  const std::string& type = event.type();
  if (type == "profile.school_created") {
    pv1::School school;
    if (!event.payload().UnpackTo(&school) || school.school_id().empty()) {
      LogWarning("event ", event.id(), ": school_created without a School; skipped");
      return absl::OkStatus();
    }
    if (school.county_id().empty()) school.set_county_id(event.county_id());
    return deps.store.PutSchool(school);
  }
  if (type == "profile.teacher_created") return ApplyTeacher(deps, event, /*created=*/true);
  if (type == "profile.teacher_updated") return ApplyTeacher(deps, event, /*created=*/false);
  if (event.teacher_id().empty()) return absl::OkStatus();
  if (type == "profile.moved_school" || type == "profile.transferred_county" ||
      type == "profile.post_status_changed" || type == "profile.backbone_designated" ||
      type == "profile.title_changed" || type == "profile.ethics_finding" ||
      type == "profile.correction") {
    return ApplyTimelineEvent(deps, event);
  }
  return absl::OkStatus();
}

}  // namespace shidang::mentorship
