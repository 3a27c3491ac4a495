#include "services/rotation/facts.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/common/dates.h"
#include "services/common/log.h"
#include "services/common/status.h"

namespace shidang::rotation {
namespace {

namespace pv1 = ::shidang::profile::v1;

std::optional<absl::CivilDay> Day(const std::string& text) {
  if (text.empty()) return std::nullopt;
  absl::StatusOr<absl::CivilDay> day = dates::ParseDate(text);
  if (!day.ok()) return std::nullopt;
  return *day;
}

// The facts UpdateTeacher may change (identity and post attributes). The school, the post
// status and the backbone tier follow their own timeline events, which may be applied in between,
// so a teacher_updated event leaves them as they are.
void CopyUpdatableFacts(const pv1::Teacher& t, v1::TeacherCopy* c) {
  c->set_name(t.name());
  c->set_birth_date(t.birth_date());
  c->set_sex(t.sex());
  c->set_staffed(t.staffed());
  c->clear_leadership_posts();
  for (const pv1::LeadershipPost& p : t.leadership_posts()) {
    v1::LeaderPostCopy* post = c->add_leadership_posts();
    post->set_kind(p.post());
    post->set_school_id(p.school_id());
    post->set_from_date(p.from_date());
    post->set_to_date(p.to_date());
  }
  c->set_stage(t.stage());
  c->clear_subjects();
  for (const std::string& s : t.subjects()) c->add_subjects(s);
  c->set_expected_retirement_date(t.expected_retirement_date());
}

v1::TeacherCopy CopyOf(const pv1::Teacher& t, const common::v1::Event& event) {
  v1::TeacherCopy c;
  c.set_teacher_id(t.teacher_id().empty() ? event.teacher_id() : t.teacher_id());
  c.set_county_id(t.county_id().empty() ? event.county_id() : t.county_id());
  v1::StintCopy* stint = c.add_stints();
  stint->set_school_id(t.school_id());
  stint->set_joined_on(t.school_joined_on().empty() ? t.hire_date() : t.school_joined_on());
  c.set_post_status(t.post_status());
  c.set_created_post_status(t.post_status());
  c.set_backbone_tier(t.backbone_tier());
  c.set_backbone_since(t.backbone_designated_on());
  if (t.backbone_tier() != common::v1::BACKBONE_TIER_UNSPECIFIED) {
    v1::BackboneChangeCopy* change = c.add_backbone_changes();
    change->set_tier(t.backbone_tier());
    change->set_on_date(t.backbone_designated_on());
  }
  CopyUpdatableFacts(t, &c);
  return c;
}

// The post status after the changes left (the latest by day, then by arrival).
void RecomputePostStatus(v1::TeacherCopy* copy) {
  const v1::PostStatusChangeCopy* latest = nullptr;
  for (const v1::PostStatusChangeCopy& change : copy->post_status_changes()) {
    if (latest == nullptr || change.on_date() >= latest->on_date()) latest = &change;
  }
  if (latest != nullptr) {
    copy->set_post_status(latest->to_status());
  } else if (copy->created_post_status() != pv1::POST_STATUS_UNSPECIFIED) {
    copy->set_post_status(copy->created_post_status());
  }  // else a copy stored before it kept the status it was created with: left as it is
}

// Takes back what the timeline entry `entry_id` did to the copy (a move, a post status change),
// and remembers it as retracted. The first school is never taken back.
void Retract(v1::TeacherCopy* copy, const std::string& entry_id) {
  if (entry_id.empty()) return;
  if (std::find(copy->retracted_entry_ids().begin(), copy->retracted_entry_ids().end(), entry_id) ==
      copy->retracted_entry_ids().end()) {
    copy->add_retracted_entry_ids(entry_id);
  }
  auto* stints = copy->mutable_stints();
  for (int i = stints->size() - 1; i > 0; --i) {
    if (stints->Get(i).entry_id() == entry_id) stints->erase(stints->begin() + i);
  }
  auto* changes = copy->mutable_post_status_changes();
  for (int i = changes->size() - 1; i >= 0; --i) {
    if (changes->Get(i).entry_id() == entry_id) changes->erase(changes->begin() + i);
  }
  auto* backbone = copy->mutable_backbone_changes();
  for (int i = backbone->size() - 1; i >= 0; --i) {
    if (backbone->Get(i).entry_id() == entry_id) backbone->erase(backbone->begin() + i);
  }
  RecomputePostStatus(copy);
}

bool IsRetracted(const v1::TeacherCopy& copy, const std::string& entry_id) {
  return !entry_id.empty() &&
         std::find(copy.retracted_entry_ids().begin(), copy.retracted_entry_ids().end(),
                   entry_id) != copy.retracted_entry_ids().end();
}

// Appends a stint unless the copy already ends with it (a re-delivered event).
void AddStint(v1::TeacherCopy* copy, const std::string& school_id, const std::string& day,
              const std::string& entry_id, const std::string& from_county_id = "") {
  if (copy->stints_size() > 0) {
    const v1::StintCopy& last = copy->stints(copy->stints_size() - 1);
    if (last.school_id() == school_id && last.joined_on() == day) return;
  }
  v1::StintCopy* stint = copy->add_stints();
  stint->set_school_id(school_id);
  stint->set_joined_on(day);
  stint->set_entry_id(entry_id);
  stint->set_from_county_id(from_county_id);
}

// The county the transfer `entry_id` brought the teacher of `copy` from; "" when that entry made
// no stint here or was no transfer into this county.
std::string TransferredFrom(const v1::TeacherCopy& copy, const std::string& entry_id) {
  if (entry_id.empty()) return "";
  for (int i = copy.stints_size() - 1; i > 0; --i) {
    const v1::StintCopy& stint = copy.stints(i);
    if (stint.entry_id() == entry_id && !stint.from_county_id().empty() &&
        stint.from_county_id() != copy.county_id()) {
      return stint.from_county_id();
    }
  }
  return "";
}

// A transfer taken back (`copy` already without its stint): the county the teacher left holds
// the copy again, unmarked, the routing index points there, and the county they seemed to have
// gone to forgets them. In that order, so that a failure part way leaves the index pointing at a
// copy, and a retried event finds the work to finish.
absl::Status UndoTransfer(Deps& deps, const std::string& back_to, v1::TeacherCopy* copy) {
  const std::string left = copy->county_id();
  copy->set_county_id(back_to);
  copy->clear_transferred_to_county_id();
  SHIDANG_RETURN_IF_ERROR(deps.store.PutTeacher(*copy));
  SHIDANG_RETURN_IF_ERROR(deps.store.SetTeacherCounty(copy->teacher_id(), back_to));
  return deps.store.DeleteTeacher(left, copy->teacher_id());
}

// Records a post status change unless it is already recorded (a re-delivered event).
void AddPostStatusChange(v1::TeacherCopy* copy, const pv1::TimelineEntry& entry) {
  for (const v1::PostStatusChangeCopy& change : copy->post_status_changes()) {
    if (!entry.entry_id().empty() && change.entry_id() == entry.entry_id()) return;
  }
  v1::PostStatusChangeCopy* change = copy->add_post_status_changes();
  change->set_entry_id(entry.entry_id());
  change->set_to_status(entry.post_status_changed().to_status());
  change->set_on_date(entry.occurred_on());
  RecomputePostStatus(copy);
}

// Records a backbone designation or lapse unless already recorded (a re-delivered event, or the
// designation the teacher was created with). A copy kept before the history was first keeps the
// designation it held as the first change.
void AddBackboneChange(v1::TeacherCopy* copy, const pv1::TimelineEntry& entry) {
  for (v1::BackboneChangeCopy& change : *copy->mutable_backbone_changes()) {
    if (!entry.entry_id().empty() && change.entry_id() == entry.entry_id()) return;
    // The creation's designation, now with its entry (so that a correction can take it back).
    if (change.entry_id().empty() && change.tier() == entry.backbone_designated().tier() &&
        change.on_date() == entry.occurred_on()) {
      change.set_entry_id(entry.entry_id());
      return;
    }
  }
  if (copy->backbone_changes_size() == 0 &&
      copy->backbone_tier() != common::v1::BACKBONE_TIER_UNSPECIFIED) {
    v1::BackboneChangeCopy* held = copy->add_backbone_changes();
    held->set_tier(copy->backbone_tier());
    held->set_on_date(copy->backbone_since());
  }
  v1::BackboneChangeCopy* change = copy->add_backbone_changes();
  change->set_entry_id(entry.entry_id());
  change->set_tier(entry.backbone_designated().tier());
  change->set_on_date(entry.occurred_on());
  copy->set_backbone_tier(entry.backbone_designated().tier());
  copy->set_backbone_since(entry.occurred_on());
}

// A move to another county: both counties' copies gain the new stint, the old one is marked
// transferred (it stays for the school years the teacher spent there), the routing index follows.
absl::Status ApplyTransfer(Deps& deps, v1::TeacherCopy copy, const pv1::TimelineEntry& entry) {
  const pv1::TransferDetail& t = entry.transfer();
  if (t.to_county_id().empty() || t.to_county_id() == copy.county_id()) return absl::OkStatus();
  AddStint(&copy, t.to_school_id(), entry.occurred_on(), entry.entry_id(), copy.county_id());
  v1::TeacherCopy moved = copy;
  moved.set_county_id(t.to_county_id());
  moved.clear_transferred_to_county_id();
  SHIDANG_RETURN_IF_ERROR(deps.store.PutTeacher(moved));
  SHIDANG_RETURN_IF_ERROR(deps.store.SetTeacherCounty(copy.teacher_id(), t.to_county_id()));
  copy.set_transferred_to_county_id(t.to_county_id());
  return deps.store.PutTeacher(copy);
}

// The stored copy of the event's teacher; nullopt (logged) when the teacher is unknown.
absl::StatusOr<std::optional<v1::TeacherCopy>> CopyOfEventTeacher(Deps& deps,
                                                                  const common::v1::Event& event) {
  absl::StatusOr<std::string> county = deps.store.TeacherCounty(event.teacher_id());
  if (absl::IsNotFound(county.status())) {
    LogWarning("event ", event.id(), " (", event.type(), ") names an unknown teacher; skipped");
    return std::optional<v1::TeacherCopy>();
  }
  SHIDANG_RETURN_IF_ERROR(county.status());
  return deps.store.GetTeacher(*county, event.teacher_id());
}

// The teacher as UpdateTeacher left them: the facts it may change.
absl::Status ApplyTeacherUpdated(Deps& deps, const common::v1::Event& event) {
  pv1::Teacher teacher;
  if (!event.payload().UnpackTo(&teacher)) {
    LogWarning("event ", event.id(), ": teacher_updated without a Teacher; skipped");
    return absl::OkStatus();
  }
  SHIDANG_ASSIGN_OR_RETURN(std::optional<v1::TeacherCopy> found, CopyOfEventTeacher(deps, event));
  if (!found.has_value()) return absl::OkStatus();
  v1::TeacherCopy copy = *found;
  CopyUpdatableFacts(teacher, &copy);
  if (google::protobuf::util::MessageDifferencer::Equals(copy, *found)) return absl::OkStatus();
  return deps.store.PutTeacher(copy);
}

// A timeline entry: a move, a transfer, a post status change, a backbone designation, or a
// correction. An entry that supersedes another (a CORRECTION retracts it, any other kind
// replaces it) first takes back what the superseded one did.
absl::Status ApplyTimelineEvent(Deps& deps, const common::v1::Event& event) {
  pv1::TimelineEntry entry;
  if (!event.payload().UnpackTo(&entry)) {
    LogWarning("event ", event.id(), " (", event.type(), ") without a TimelineEntry; skipped");
    return absl::OkStatus();
  }
  SHIDANG_ASSIGN_OR_RETURN(std::optional<v1::TeacherCopy> found, CopyOfEventTeacher(deps, event));
  if (!found.has_value() || IsRetracted(*found, entry.entry_id())) return absl::OkStatus();
  v1::TeacherCopy copy = *found;
  const std::string back_to = TransferredFrom(copy, entry.supersedes_entry_id());
  Retract(&copy, entry.supersedes_entry_id());
  if (!back_to.empty()) SHIDANG_RETURN_IF_ERROR(UndoTransfer(deps, back_to, &copy));
  const std::string& type = event.type();
  if (type == "profile.transferred_county") return ApplyTransfer(deps, copy, entry);
  if (type == "profile.moved_school") {
    AddStint(&copy, entry.school_change().to_school_id(), entry.occurred_on(), entry.entry_id());
  } else if (type == "profile.post_status_changed") {
    AddPostStatusChange(&copy, entry);
  } else if (type == "profile.backbone_designated") {
    AddBackboneChange(&copy, entry);
  }
  if (google::protobuf::util::MessageDifferencer::Equals(copy, *found)) return absl::OkStatus();
  return deps.store.PutTeacher(copy);
}

}  // namespace

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
  if (type == "profile.teacher_created") {
    pv1::Teacher teacher;
    if (!event.payload().UnpackTo(&teacher)) {
      LogWarning("event ", event.id(), ": teacher_created without a Teacher; skipped");
      return absl::OkStatus();
    }
    v1::TeacherCopy copy = CopyOf(teacher, event);
    if (!CheckCountyId(copy.county_id()).ok()) return absl::OkStatus();
    // The routing index first: a crash before the copy leaves a pointer to nothing.
    SHIDANG_RETURN_IF_ERROR(deps.store.SetTeacherCounty(copy.teacher_id(), copy.county_id()));
    SHIDANG_ASSIGN_OR_RETURN(std::optional<v1::TeacherCopy> existing,
                             deps.store.GetTeacher(copy.county_id(), copy.teacher_id()));
    // Created once; a re-delivery must not undo what later events changed.
    if (existing.has_value()) return absl::OkStatus();
    return deps.store.PutTeacher(copy);
  }
  if (event.teacher_id().empty()) return absl::OkStatus();
  if (type == "profile.teacher_updated") return ApplyTeacherUpdated(deps, event);
  if (type == "profile.moved_school" || type == "profile.transferred_county" ||
      type == "profile.post_status_changed" || type == "profile.backbone_designated" ||
      type == "profile.correction") {
    return ApplyTimelineEvent(deps, event);
  }
  return absl::OkStatus();
}

TeacherFacts ToTeacherFacts(const v1::TeacherCopy& copy) {
  TeacherFacts t;
  t.teacher_id = copy.teacher_id();
  t.county_id = copy.county_id();
  t.name = copy.name();
  for (const v1::StintCopy& s : copy.stints()) {
    if (std::optional<absl::CivilDay> day = Day(s.joined_on())) {
      t.stints.push_back(Stint{s.school_id(), *day});
    }
  }
  t.birth_date = Day(copy.birth_date());
  t.retirement_date = Day(copy.expected_retirement_date());
  t.sex = copy.sex();
  t.staffed = copy.staffed();
  t.post_status = copy.post_status();
  t.created_post_status = copy.created_post_status();
  for (const v1::PostStatusChangeCopy& c : copy.post_status_changes()) {
    if (std::optional<absl::CivilDay> on = Day(c.on_date())) {
      t.post_status_changes.emplace_back(*on, c.to_status());
    }
  }
  for (const v1::LeaderPostCopy& p : copy.leadership_posts()) {
    std::optional<absl::CivilDay> from = Day(p.from_date());
    if (!from.has_value()) continue;
    t.leadership_posts.push_back(LeaderPost{p.kind(), p.school_id(), *from, Day(p.to_date())});
  }
  t.backbone_tier = copy.backbone_tier();
  t.backbone_since = Day(copy.backbone_since());
  for (const v1::BackboneChangeCopy& c : copy.backbone_changes()) {
    // A designation without a day (none was given) holds from the start.
    t.backbone_changes.emplace_back(Day(c.on_date()).value_or(absl::CivilDay(1, 1, 1)), c.tier());
  }
  t.stage = copy.stage();
  t.subjects.assign(copy.subjects().begin(), copy.subjects().end());
  return t;
}

SchoolFacts ToSchoolFacts(const profile::v1::School& school) {
  SchoolFacts s;
  s.school_id = school.school_id();
  s.county_id = school.county_id();
  s.name = school.name();
  s.stage = school.stage();
  s.ownership = school.ownership();
  s.location = school.location();
  s.quality = school.quality();
  s.kind = school.kind();
  s.compulsory_education = school.compulsory_education();
  return s;
}

std::vector<DeferralSpan> DeferralsOf(const std::vector<v1::Deferral>& deferrals,
                                      const std::string& teacher_id) {
  std::vector<DeferralSpan> spans;
  for (const v1::Deferral& d : deferrals) {
    if (d.teacher_id() != teacher_id) continue;
    std::optional<absl::CivilDay> from = Day(d.from_date());
    if (!from.has_value()) continue;
    spans.push_back(DeferralSpan{d.deferral_id(), *from, Day(d.to_date())});
  }
  return spans;
}

}  // namespace shidang::rotation
