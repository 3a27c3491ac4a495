#include "services/profile/moves_and_transfers.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/dates.h"
#include "services/common/status.h"
#include "services/profile/access.h"
#include "services/profile/entries_and_events.h"
#include "services/profile/request_checks.h"
#include "services/profile/schools_and_counties.h"
#include "services/profile/teacher_input.h"
#include "services/profile/teacher_view.h"

namespace shidang::profile {
namespace {

// INVALID_ARGUMENT naming `field` unless `day` is after the day the teacher joined their school.
absl::Status CheckAfterJoined(const v1::Teacher& teacher, absl::CivilDay day,
                              absl::string_view field) {
  absl::StatusOr<absl::CivilDay> joined = dates::ParseDate(teacher.school_joined_on());
  if (joined.ok() && day <= *joined) {
    return InvalidField(field, "after_joined",
                        absl::StrCat("must be after the day they joined their current school (",
                                     teacher.school_joined_on(), ")"));
  }
  return absl::OkStatus();
}

// The entry the new timeline entry's id names, from a fresh read of the teacher.
void CopyEntry(const StoredTeacher& stored, absl::string_view entry_id, v1::TimelineEntry* out) {
  for (const v1::TimelineEntry& e : stored.timeline) {
    if (e.entry_id() == entry_id) *out = e;
  }
}

}  // namespace

absl::Status MovesAndTransfers::MoveTeacher(const CallContext& call,
                                            const v1::MoveTeacherRequest& req,
                                            v1::MoveTeacherResponse* resp) {
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay moved_on, dates::ParseDate(req.moved_on(), "moved_on"));
  SHIDANG_ASSIGN_OR_RETURN(StoredTeacher found,
                           LocateFor(deps_.store, call, req.teacher_id(), TeacherAccess::kChange));
  const v1::Teacher& teacher = found.teacher;
  const std::string& county = teacher.county_id();
  SHIDANG_RETURN_IF_ERROR(
      CheckSchoolOfCounty(deps_.store, req.to_school_id(), county, "to_school_id"));
  if (req.to_school_id() == teacher.school_id()) {
    return InvalidField("to_school_id", "same_school", "the teacher is already at this school");
  }
  SHIDANG_RETURN_IF_ERROR(CheckAfterJoined(teacher, moved_on, "moved_on"));
  std::string seed = IdSeed(call.actor, "MoveTeacher", req.request_id(), req.teacher_id());
  TeacherWrite w;
  w.teacher_id = teacher.teacher_id();
  w.expect = TeacherWrite::Expect::kVersion;
  w.expected_version = found.version;
  v1::TimelineEntry entry =
      StampedEntry(deps_.clock, v1::TIMELINE_ENTRY_KIND_SCHOOL_MOVED, w.teacher_id, req.moved_on(),
                   call, req.request_id(), seed);
  entry.mutable_school_change()->set_from_school_id(teacher.school_id());
  entry.mutable_school_change()->set_to_school_id(req.to_school_id());
  entry.set_summary(req.reason().empty() ? DefaultSummary(entry)
                                         : absl::StrCat("校际调动：", req.reason()));
  w.entries.push_back(entry);
  v1::Teacher updated = teacher;
  updated.set_school_id(req.to_school_id());
  updated.set_school_joined_on(req.moved_on());
  w.teacher = updated;
  w.remove_from_sets.push_back(ProfileStore::SchoolIndexKey(county, teacher.school_id()));
  w.add_to_sets.push_back(ProfileStore::SchoolIndexKey(county, req.to_school_id()));
  std::vector<common::v1::Event> events =
      TeacherEvents(deps_.clock, w, call, req.request_id(), /*created=*/false);
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result,
                           deps_.store.WriteTeachers(county, {w}, WriteOf(call, "MoveTeacher", req),
                                                     std::move(events), entry.entry_id()));
  SHIDANG_ASSIGN_OR_RETURN(StoredTeacher stored,
                           deps_.store.GetTeacher(county, teacher.teacher_id()));
  CopyEntry(stored, result.payload, resp->mutable_entry());
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_teacher(),
                           TeacherView(deps_, stored, deps_.clock.Today(), call));
  return absl::OkStatus();
}

// Two idempotent steps, each one script on one county's slot (DESIGN "One script, one slot"): the
// receiving county takes the file in (keyed by the transfer id, so a retry finds it there), then
// the sending county records the departure and drops the teacher from its indexes. A crash
// between them leaves the teacher in both counties' keys with the routing index still at the
// sender; the retry with the same request_id completes it.
absl::Status MovesAndTransfers::TransferTeacher(const CallContext& call,
                                                const v1::TransferTeacherRequest& req,
                                                v1::TransferTeacherResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(CheckCountyId(req.to_county_id(), "to_county_id"));
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay day,
                           dates::ParseDate(req.transferred_on(), "transferred_on"));
  // The receiving county is in the request: decided before the teacher is looked up.
  SHIDANG_RETURN_IF_ERROR(RequireCountyWrite(call.principal, req.to_county_id()));
  SHIDANG_ASSIGN_OR_RETURN(StoredTeacher stored,
                           LocateFor(deps_.store, call, req.teacher_id(), TeacherAccess::kChange));
  const v1::Teacher& teacher = stored.teacher;
  if (teacher.county_id() == req.to_county_id()) {
    return AnswerCompletedTransfer(call, req, stored, resp);
  }
  SHIDANG_RETURN_IF_ERROR(
      CheckSchoolOfCounty(deps_.store, req.to_school_id(), req.to_county_id(), "to_school_id"));
  SHIDANG_RETURN_IF_ERROR(CheckAfterJoined(teacher, day, "transferred_on"));
  std::string seed = IdSeed(call.actor, "TransferTeacher", req.request_id(), req.teacher_id());
  v1::TimelineEntry entry =
      StampedEntry(deps_.clock, v1::TIMELINE_ENTRY_KIND_TRANSFERRED, teacher.teacher_id(),
                   req.transferred_on(), call, req.request_id(), seed);
  v1::TransferDetail* detail = entry.mutable_transfer();
  detail->set_transfer_id(absl::StrCat("X", MakeEntryId(seed).substr(1)));
  detail->set_from_county_id(teacher.county_id());
  detail->set_from_school_id(teacher.school_id());
  detail->set_to_county_id(req.to_county_id());
  detail->set_to_school_id(req.to_school_id());
  entry.set_summary(req.reason().empty() ? DefaultSummary(entry)
                                         : absl::StrCat("跨县调动：", req.reason()));
  std::string number;
  if (!stored.sealed_id_card.empty()) {
    SHIDANG_ASSIGN_OR_RETURN(number, deps_.vault.Open(stored.sealed_id_card));
  }
  SHIDANG_ASSIGN_OR_RETURN(std::string transfer_id, TransferIn(call, req, stored, entry, number));
  SHIDANG_RETURN_IF_ERROR(TransferOut(call, req, stored, entry, number));
  SHIDANG_RETURN_IF_ERROR(deps_.store.SetHomeCounty(teacher.teacher_id(), req.to_county_id()));
  SHIDANG_ASSIGN_OR_RETURN(StoredTeacher now,
                           deps_.store.GetTeacher(req.to_county_id(), teacher.teacher_id()));
  resp->set_transfer_id(transfer_id);
  resp->set_state(v1::TRANSFER_STATE_COMPLETED);
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_teacher(),
                           TeacherView(deps_, now, deps_.clock.Today(), call));
  return absl::OkStatus();
}

absl::Status MovesAndTransfers::AnswerCompletedTransfer(const CallContext& call,
                                                        const v1::TransferTeacherRequest& req,
                                                        const StoredTeacher& stored,
                                                        v1::TransferTeacherResponse* resp) {
  for (const v1::TimelineEntry& e : stored.timeline) {
    if (e.kind() == v1::TIMELINE_ENTRY_KIND_TRANSFERRED && !req.request_id().empty() &&
        e.request_id() == req.request_id() && e.actor() == call.actor) {
      resp->set_transfer_id(e.transfer().transfer_id());
      resp->set_state(v1::TRANSFER_STATE_COMPLETED);
      SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_teacher(),
                               TeacherView(deps_, stored, deps_.clock.Today(), call));
      return absl::OkStatus();
    }
  }
  return InvalidField("to_county_id", "same_county",
                      "the teacher is already in this county: use MoveTeacher");
}

absl::StatusOr<std::string> MovesAndTransfers::TransferIn(const CallContext& call,
                                                          const v1::TransferTeacherRequest& req,
                                                          const StoredTeacher& stored,
                                                          const v1::TimelineEntry& entry,
                                                          const std::string& number) {
  const v1::Teacher& teacher = stored.teacher;
  const std::string& to_county = req.to_county_id();
  TeacherWrite in;
  in.teacher_id = teacher.teacher_id();
  in.expect = TeacherWrite::Expect::kAbsent;
  v1::Teacher moved = teacher;
  moved.set_county_id(to_county);
  moved.set_school_id(req.to_school_id());
  moved.set_school_joined_on(req.transferred_on());
  in.teacher = moved;
  in.sealed_id_card = stored.sealed_id_card;
  // The whole timeline goes with the teacher.
  for (v1::TimelineEntry e : stored.timeline) {
    e.clear_sequence();
    in.entries.push_back(std::move(e));
  }
  in.entries.push_back(entry);
  if (!number.empty()) {
    in.claims.push_back({ProfileStore::IdCardIndexKey(to_county, deps_.vault.BlindIndex(number)),
                         "id_card_number"});
  }
  in.add_to_sets = {ProfileStore::TeachersKey(to_county),
                    ProfileStore::SchoolIndexKey(to_county, req.to_school_id())};
  std::vector<common::v1::Event> events = {ProfileEvent(
      deps_.clock, "profile.transferred_county",
      {teacher.teacher_id(), to_county, req.transferred_on(), req.request_id(), entry.summary()},
      call, entry)};
  SHIDANG_ASSIGN_OR_RETURN(
      MutationResult result,
      deps_.store.WriteTeachers(to_county, {in}, WriteOf(call, "TransferTeacherIn", req),
                                std::move(events), entry.transfer().transfer_id()));
  return std::move(result.payload);
}

absl::Status MovesAndTransfers::TransferOut(const CallContext& call,
                                            const v1::TransferTeacherRequest& req,
                                            const StoredTeacher& stored,
                                            const v1::TimelineEntry& entry,
                                            const std::string& number) {
  const v1::Teacher& teacher = stored.teacher;
  const std::string& from_county = teacher.county_id();
  TeacherWrite out;
  out.teacher_id = teacher.teacher_id();
  out.expect = TeacherWrite::Expect::kPresent;
  out.entries.push_back(entry);
  out.remove_from_sets = {ProfileStore::TeachersKey(from_county),
                          ProfileStore::SchoolIndexKey(from_county, teacher.school_id())};
  if (!number.empty()) {
    out.release_claims.push_back(
        ProfileStore::IdCardIndexKey(from_county, deps_.vault.BlindIndex(number)));
  }
  if (!teacher.national_teacher_id().empty()) {
    out.release_claims.push_back(
        ProfileStore::NationalIdKey(from_county, teacher.national_teacher_id()));
  }
  std::vector<common::v1::Event> events = {ProfileEvent(
      deps_.clock, "profile.transferred_county",
      {teacher.teacher_id(), from_county, req.transferred_on(), req.request_id(), entry.summary()},
      call, entry)};
  return deps_.store
      .WriteTeachers(from_county, {out}, WriteOf(call, "TransferTeacherOut", req),
                     std::move(events), entry.transfer().transfer_id())
      .status();
}

}  // namespace shidang::profile
