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

using EntryList = google::protobuf::RepeatedPtrField<v1::EntryCopy>;

// Entry ids the copy makes for the title and backbone tier a teacher_created event carries with
// their dates (a roster import's), so that later events never take them for others.
constexpr char kCreatedTitleId[] = "created/title";
constexpr char kCreatedBackboneId[] = "created/backbone";

// The latest entry by day (dates compare as text: YYYY-MM-DD), of one day the later to arrive.
const v1::EntryCopy* Latest(const EntryList& entries) {
  const v1::EntryCopy* latest = nullptr;
  for (const v1::EntryCopy& e : entries) {
    if (latest == nullptr || e.occurred_on() >= latest->occurred_on()) latest = &e;
  }
  return latest;
}

// Title, backbone tier and post status as they are now: the latest change's, else what held
// before the first (a copy stored before histories were kept, with neither, keeps its own).
void RecomputeNow(v1::TeacherCopy* copy) {
  if (const v1::EntryCopy* e = Latest(copy->titles())) {
    copy->set_title(e->title());
  } else if (copy->has_title_before()) {
    copy->set_title(copy->title_before());
  }
  if (const v1::EntryCopy* e = Latest(copy->backbone_changes())) {
    copy->set_backbone_tier(e->tier());
    copy->set_backbone_since(e->occurred_on());
  } else if (copy->has_backbone_before()) {
    copy->set_backbone_tier(copy->backbone_before());
  }
  if (const v1::EntryCopy* e = Latest(copy->post_status_changes())) {
    copy->set_post_status(e->post_status());
  } else if (copy->has_post_status_before()) {
    copy->set_post_status(copy->post_status_before());
  }
}

bool IsRetracted(const v1::TeacherCopy& copy, const std::string& entry_id) {
  return std::find(copy.retracted_entry_ids().begin(), copy.retracted_entry_ids().end(),
                   entry_id) != copy.retracted_entry_ids().end();
}

// Drops the entry `entry_id` (a correction superseded it) and remembers it, so a re-delivered
// event of it changes nothing.
void Retract(v1::TeacherCopy* copy, const std::string& entry_id) {
  if (!IsRetracted(*copy, entry_id)) copy->add_retracted_entry_ids(entry_id);
  auto drop = [&](EntryList* entries) {
    entries->erase(std::remove_if(entries->begin(), entries->end(),
                                  [&](const v1::EntryCopy& e) { return e.entry_id() == entry_id; }),
                   entries->end());
  };
  drop(copy->mutable_titles());
  drop(copy->mutable_ethics_findings());
  drop(copy->mutable_backbone_changes());
  drop(copy->mutable_post_status_changes());
  RecomputeNow(copy);
}

// Adds the entry unless the copy holds it already (a re-delivered event) or a correction took it
// back; false when nothing changed.
bool AddEntry(const v1::TeacherCopy& copy, EntryList* entries, v1::EntryCopy entry) {
  if (!entry.entry_id().empty() && IsRetracted(copy, entry.entry_id())) return false;
  for (const v1::EntryCopy& e : *entries) {
    if (e.entry_id() == entry.entry_id()) return false;
  }
  *entries->Add() = std::move(entry);
  return true;
}

v1::EntryCopy EntryOf(const std::string& entry_id, const std::string& occurred_on) {
  v1::EntryCopy e;
  e.set_entry_id(entry_id);
  e.set_occurred_on(occurred_on);
  return e;
}

// The fields the profile service's Teacher carries in full on both created and updated events.
// Title, backbone tier and post status follow their own dated timeline events (an updated
// teacher carries them as stored when created, not as they are now), so only a created event
// sets them (CopyOfTeacher).
void TakeTeacherFields(const pv1::Teacher& t, v1::TeacherCopy* c) {
  if (!t.name().empty()) c->set_name(t.name());
  if (!t.school_id().empty()) c->set_school_id(t.school_id());
  c->clear_subjects();
  for (const std::string& s : t.subjects()) c->add_subjects(s);
  c->set_hire_date(t.hire_date());
}

// What a teacher_created event tells of the title and backbone tier: held since its date when
// it carries one (a dated change, nothing before it), else held before any change.
void TakeCreatedHistories(const pv1::Teacher& t, v1::TeacherCopy* c) {
  c->set_title_before(common::v1::PROFESSIONAL_TITLE_UNSPECIFIED);
  if (t.title() != common::v1::PROFESSIONAL_TITLE_UNSPECIFIED) {
    if (t.title_conferred_on().empty()) {
      c->set_title_before(t.title());
    } else {
      v1::EntryCopy e = EntryOf(kCreatedTitleId, t.title_conferred_on());
      e.set_title(t.title());
      AddEntry(*c, c->mutable_titles(), std::move(e));
    }
  }
  c->set_backbone_before(common::v1::BACKBONE_TIER_UNSPECIFIED);
  if (t.backbone_tier() != common::v1::BACKBONE_TIER_UNSPECIFIED) {
    if (t.backbone_designated_on().empty()) {
      c->set_backbone_before(t.backbone_tier());
    } else {
      v1::EntryCopy e = EntryOf(kCreatedBackboneId, t.backbone_designated_on());
      e.set_tier(t.backbone_tier());
      AddEntry(*c, c->mutable_backbone_changes(), std::move(e));
    }
  }
  // A new teacher's post status holds from the hire date until its first change.
  c->set_post_status_before(t.post_status());
  RecomputeNow(c);
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

// A dated change of title, backbone tier or post status. A copy stored before histories were
// kept learns what held before its first change: the value it holds now.
bool AddChange(v1::TeacherCopy* copy, EntryList* changes, v1::EntryCopy entry) {
  if (changes->empty()) {
    if (changes == copy->mutable_titles() && !copy->has_title_before()) {
      copy->set_title_before(copy->title());
    } else if (changes == copy->mutable_backbone_changes() && !copy->has_backbone_before()) {
      copy->set_backbone_before(copy->backbone_tier());
    } else if (changes == copy->mutable_post_status_changes() && !copy->has_post_status_before()) {
      copy->set_post_status_before(copy->post_status());
    }
  }
  return AddEntry(*copy, changes, std::move(entry));
}

// Changes the copy by one timeline entry; false when the entry means nothing to it.
bool ApplyEntry(const std::string& type, const pv1::TimelineEntry& entry, v1::TeacherCopy* copy) {
  bool changed = false;
  if (!entry.supersedes_entry_id().empty()) {
    Retract(copy, entry.supersedes_entry_id());
    changed = true;
  }
  v1::EntryCopy e = EntryOf(entry.entry_id(), entry.occurred_on());
  if (type == "profile.moved_school") {
    copy->set_school_id(entry.school_change().to_school_id());
    changed = true;
  } else if (type == "profile.post_status_changed") {
    e.set_post_status(entry.post_status_changed().to_status());
    changed |= AddChange(copy, copy->mutable_post_status_changes(), std::move(e));
  } else if (type == "profile.backbone_designated") {
    e.set_tier(entry.backbone_designated().tier());
    changed |= AddChange(copy, copy->mutable_backbone_changes(), std::move(e));
  } else if (type == "profile.title_changed") {
    e.set_title(entry.title_conferred().title());
    changed |= AddChange(copy, copy->mutable_titles(), std::move(e));
  } else if (type == "profile.ethics_finding") {
    e.set_severity(entry.ethics_finding().severity());
    changed |= AddEntry(*copy, copy->mutable_ethics_findings(), std::move(e));
  }
  if (changed) RecomputeNow(copy);
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
  TakeCreatedHistories(t, &c);
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
