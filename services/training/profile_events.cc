#include "services/training/profile_events.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/common/status.h"
#include "services/training/rules.h"

namespace shidang::training {
namespace {

constexpr char kActor[] = "service:training";

// The facts a Teacher carries that its later updates may change (UpdateTeacher's fields).
void CopyUpdatableFacts(const profile::v1::Teacher& t, TeacherFactsRecord* f) {
  f->name = t.name();
  f->hire_date = t.hire_date();
  f->cycle_anchor = t.training_cycle_anchor();
  f->head_teacher = !t.head_teacher_periods().empty();
}

bool SameFacts(const TeacherFactsRecord& a, const TeacherFactsRecord& b) {
  return a.name == b.name && a.school_id == b.school_id && a.county_id == b.county_id &&
         a.hire_date == b.hire_date && a.cycle_anchor == b.cycle_anchor &&
         a.post_status == b.post_status && a.left_on == b.left_on &&
         a.head_teacher == b.head_teacher;
}

// The appends that carry a transferred teacher's ledger into the new county, under the same
// marks as in the old one (so later completions and reviews stay once-only).
std::vector<LedgerAppend> CarriedLedger(const TeacherState& state, const std::string& teacher_id) {
  std::vector<LedgerAppend> appends;
  std::map<std::string, std::string> course_of_entry;  // entry id -> its course
  for (const v1::LedgerEntry& e : state.ledger) {
    LedgerAppend a;
    a.teacher_id = teacher_id;
    if (!e.course_id().empty()) course_of_entry[e.entry_id()] = e.course_id();
    if (e.kind() == v1::LEDGER_ENTRY_KIND_REVERSAL) {
      a.mark = absl::StrCat("x:", e.reverses_entry_id());
      // As ReverseEntry did: the course may be credited again (the re-credit follows).
      auto course = course_of_entry.find(e.reverses_entry_id());
      if (course != course_of_entry.end()) a.release_mark = absl::StrCat("c:", course->second);
    } else if (!e.course_id().empty()) {
      a.mark = absl::StrCat("c:", e.course_id());
    } else if (!e.record_id().empty()) {
      a.mark = absl::StrCat("r:", e.record_id());
    } else {
      a.mark = absl::StrCat("t:", e.entry_id());
    }
    a.entry = e;
    appends.push_back(std::move(a));
  }
  return appends;
}

}  // namespace

absl::Status ProfileFollower::Apply(const common::v1::Event& event) {
  if (event.teacher_id().empty()) return absl::OkStatus();
  // The event id is the request id: a re-delivery replays and changes nothing.
  common::v1::Event idem;
  idem.set_id(event.id());
  idem.set_request_id(event.id());
  WriteContext write{kActor, "ApplyProfileEvent", &idem};
  const std::string& type = event.type();
  if (type == "profile.teacher_created") return Created(event, write);
  if (type == "profile.teacher_updated") return Updated(event, write);
  if (type == "profile.moved_school" || type == "profile.transferred_county" ||
      type == "profile.post_status_changed") {
    return TimelineChange(event, write);
  }
  return absl::OkStatus();
}

absl::Status ProfileFollower::Put(const TeacherFactsRecord& f, const WriteContext& write) {
  SHIDANG_RETURN_IF_ERROR(store_.PutFacts(f, false, write));
  totals_.RecountAfterWrite(f.county_id, {f.teacher_id});
  return absl::OkStatus();
}

absl::Status ProfileFollower::Created(const common::v1::Event& event, const WriteContext& write) {
  profile::v1::Teacher t;
  if (!event.payload().UnpackTo(&t)) {
    LogWarning("event ", event.id(), ": teacher_created without a Teacher; skipped");
    return absl::OkStatus();
  }
  TeacherFactsRecord f;
  f.teacher_id = t.teacher_id().empty() ? event.teacher_id() : t.teacher_id();
  f.county_id = t.county_id().empty() ? event.county_id() : t.county_id();
  f.school_id = t.school_id();
  f.post_status = t.post_status();
  CopyUpdatableFacts(t, &f);
  if (!IsCountyCode(f.county_id)) return absl::OkStatus();
  SHIDANG_RETURN_IF_ERROR(store_.SetHomeCounty(f.teacher_id, f.county_id));
  return Put(f, write);
}

// The teacher after UpdateTeacher: only the facts UpdateTeacher may change are taken (the
// school, county and post status follow their own events, which may be applied in between).
absl::Status ProfileFollower::Updated(const common::v1::Event& event, const WriteContext& write) {
  profile::v1::Teacher t;
  if (!event.payload().UnpackTo(&t)) {
    LogWarning("event ", event.id(), ": teacher_updated without a Teacher; skipped");
    return absl::OkStatus();
  }
  absl::StatusOr<Located> found = Locate(store_, event.teacher_id(), /*with_ledger=*/false);
  if (absl::IsNotFound(found.status())) {
    LogWarning("event ", event.id(), " (teacher_updated) names an unknown teacher; skipped");
    return absl::OkStatus();
  }
  SHIDANG_RETURN_IF_ERROR(found.status());
  TeacherFactsRecord f = found->facts();
  CopyUpdatableFacts(t, &f);
  if (SameFacts(f, found->facts())) return absl::OkStatus();
  return Put(f, write);
}

absl::Status ProfileFollower::TimelineChange(const common::v1::Event& event,
                                             const WriteContext& write) {
  const std::string& type = event.type();
  profile::v1::TimelineEntry entry;
  if (!event.payload().UnpackTo(&entry)) {
    LogWarning("event ", event.id(), " (", type, ") without a TimelineEntry; skipped");
    return absl::OkStatus();
  }
  absl::StatusOr<Located> found = Locate(store_, event.teacher_id());
  if (absl::IsNotFound(found.status())) {
    LogWarning("event ", event.id(), " (", type, ") names an unknown teacher; skipped");
    return absl::OkStatus();
  }
  SHIDANG_RETURN_IF_ERROR(found.status());
  if (type == "profile.transferred_county") return Transfer(*found, entry, event);
  TeacherFactsRecord f = found->facts();
  if (type == "profile.moved_school") {
    f.school_id = entry.school_change().to_school_id();
  } else {
    f.post_status = entry.post_status_changed().to_status();
    f.left_on = Departed(f) ? entry.occurred_on() : "";
  }
  return Put(f, write);
}

// Copied into the new county under the same marks (so a repeat copies nothing twice), then the
// routing index moves, then the old county lets go. Each step is idempotent, so a crash heals on
// re-delivery (the event is acknowledged only after all three).
absl::Status ProfileFollower::Transfer(const Located& found,
                                       const profile::v1::TimelineEntry& entry,
                                       const common::v1::Event& event) {
  const std::string& to = entry.transfer().to_county_id();
  if (!IsCountyCode(to) || found.county_id == to) return absl::OkStatus();
  TeacherFactsRecord f = found.facts();
  f.county_id = to;
  f.school_id = entry.transfer().to_school_id();
  common::v1::Event idem;
  idem.set_request_id(absl::StrCat(event.id(), "-in"));
  SHIDANG_RETURN_IF_ERROR(store_.PutFacts(f, false, WriteContext{kActor, "TransferIn", &idem}));
  std::vector<LedgerAppend> appends = CarriedLedger(found.state, f.teacher_id);
  if (!appends.empty()) {
    SHIDANG_RETURN_IF_ERROR(
        store_.AppendLedger(to, appends, WriteContext{kActor, "", nullptr}, {}).status());
  }
  SHIDANG_RETURN_IF_ERROR(CarryRecords(found, to));
  SHIDANG_RETURN_IF_ERROR(store_.SetHomeCounty(f.teacher_id, to));
  idem.set_request_id(absl::StrCat(event.id(), "-out"));
  SHIDANG_RETURN_IF_ERROR(
      store_.PutFacts(found.facts(), true, WriteContext{kActor, "TransferOut", &idem}));
  totals_.RecountAfterWrite(to, {f.teacher_id});
  return absl::OkStatus();
}

// The records go along; a self-report awaiting review joins the new county's queue at the time
// it was submitted and leaves the old county's, so the new county's HR reviews it and the old
// one's no longer sees it. The old county's index is dropped only after the new one holds them.
absl::Status ProfileFollower::CarryRecords(const Located& found, const std::string& to) {
  std::vector<std::string> awaiting;
  for (const v1::TrainingRecord& r : found.state.records) {
    if (r.state() == v1::TRAINING_RECORD_STATE_AWAITING_REVIEW) awaiting.push_back(r.record_id());
  }
  SHIDANG_ASSIGN_OR_RETURN(std::vector<int64_t> submitted,
                           store_.PendingSubmittedMs(found.county_id, awaiting));
  std::map<std::string, int64_t> submitted_of;
  for (size_t i = 0; i < awaiting.size(); ++i) submitted_of[awaiting[i]] = submitted[i];
  for (const v1::TrainingRecord& r : found.state.records) {
    v1::TrainingRecord moved = r;
    moved.set_county_id(to);
    auto at = submitted_of.find(r.record_id());
    absl::StatusOr<v1::TrainingRecord> added = store_.AddRecord(
        moved, WriteContext{kActor, "", nullptr}, {}, at == submitted_of.end() ? 0 : at->second);
    if (!added.ok() && !absl::IsAlreadyExists(added.status()) &&
        !absl::IsFailedPrecondition(added.status())) {
      return added.status();
    }
  }
  return store_.DropPending(found.county_id, awaiting);
}

}  // namespace shidang::training
