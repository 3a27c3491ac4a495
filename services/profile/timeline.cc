#include "services/profile/timeline.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/dates.h"
#include "services/common/status.h"
#include "services/profile/access.h"
#include "services/profile/entries_and_events.h"
#include "services/profile/request_checks.h"
#include "services/profile/rules.h"
#include "services/profile/teacher_input.h"
#include "services/profile/teacher_view.h"

namespace shidang::profile {
namespace {

// Kinds with methods of their own, or that only other services' events write.
bool HasItsOwnWriter(v1::TimelineEntryKind kind) {
  return kind == v1::TIMELINE_ENTRY_KIND_SCHOOL_JOINED ||
         kind == v1::TIMELINE_ENTRY_KIND_SCHOOL_MOVED ||
         kind == v1::TIMELINE_ENTRY_KIND_TRANSFERRED ||
         kind == v1::TIMELINE_ENTRY_KIND_PROFILE_UPDATED ||
         kind == v1::TIMELINE_ENTRY_KIND_EXTERNAL;
}

}  // namespace

absl::Status Timeline::CheckAgainstFile(const StoredTeacher& found,
                                        const v1::TimelineEntry& entry) {
  if (!entry.supersedes_entry_id().empty()) {
    bool present = std::any_of(
        found.timeline.begin(), found.timeline.end(),
        [&](const v1::TimelineEntry& e) { return e.entry_id() == entry.supersedes_entry_id(); });
    if (!present) {
      return InvalidField(
          "entry.supersedes_entry_id", "unknown_entry",
          absl::StrCat("no entry ", entry.supersedes_entry_id(), " in this teacher's timeline"));
    }
  }
  // The ethics policy must be able to date a finding's veto before it is recorded.
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay occurred,
                           dates::ParseDate(entry.occurred_on(), "entry.occurred_on"));
  SHIDANG_ASSIGN_OR_RETURN(common::v1::ResolvedPolicy policy,
                           deps_.policies.Resolve(found.teacher.county_id(), occurred));
  if (entry.kind() == v1::TIMELINE_ENTRY_KIND_ETHICS_FINDING) {
    SHIDANG_RETURN_IF_ERROR(
        VetoOf(occurred, entry.ethics_finding().severity(), policy.policy().ethics()).status());
  }
  // DOMAIN §1: no promotion, designation or excellence rating while a veto is active that day.
  return CheckEthicsVeto(entry, found.timeline, policy.policy().ethics());
}

absl::Status Timeline::AddTimelineEntry(const CallContext& call,
                                        const v1::AddTimelineEntryRequest& req,
                                        v1::AddTimelineEntryResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(ValidateNewTimelineEntry(req.entry()));
  SHIDANG_RETURN_IF_ERROR(CheckEntryHappened(req.entry(), deps_.clock.Today()));
  const v1::TimelineEntryKind kind = req.entry().kind();
  if (HasItsOwnWriter(kind)) {
    return InvalidField("entry.kind", "kind_not_allowed",
                        "school moves, transfers and profile updates have their own methods; "
                        "external entries come from other services' events");
  }
  SHIDANG_ASSIGN_OR_RETURN(StoredTeacher found,
                           LocateFor(deps_.store, call, req.teacher_id(), TeacherAccess::kRecord));
  const v1::Teacher& teacher = found.teacher;
  SHIDANG_RETURN_IF_ERROR(CheckAgainstFile(found, req.entry()));
  v1::TimelineEntry entry = req.entry();
  std::string seed = IdSeed(call.actor, "AddTimelineEntry", req.request_id(), req.teacher_id());
  v1::TimelineEntry stamped = StampedEntry(deps_.clock, kind, teacher.teacher_id(),
                                           entry.occurred_on(), call, req.request_id(), seed);
  entry.set_entry_id(stamped.entry_id());
  entry.set_teacher_id(stamped.teacher_id());
  entry.set_recorded_at_ms(stamped.recorded_at_ms());
  entry.set_actor(stamped.actor());
  entry.set_request_id(stamped.request_id());
  if (entry.summary().empty()) entry.set_summary(DefaultSummary(entry));

  TeacherWrite w;
  w.teacher_id = teacher.teacher_id();
  w.expect = TeacherWrite::Expect::kVersion;
  w.expected_version = found.version;
  w.entries.push_back(entry);
  w.teacher = teacher;  // unchanged; the events need it
  std::vector<common::v1::Event> events =
      TeacherEvents(deps_.clock, w, call, req.request_id(), /*created=*/false);
  w.teacher.reset();
  SHIDANG_ASSIGN_OR_RETURN(
      MutationResult result,
      deps_.store.WriteTeachers(teacher.county_id(), {w}, WriteOf(call, "AddTimelineEntry", req),
                                std::move(events), entry.entry_id()));
  SHIDANG_ASSIGN_OR_RETURN(StoredTeacher stored,
                           deps_.store.GetTeacher(teacher.county_id(), teacher.teacher_id()));
  for (const v1::TimelineEntry& e : stored.timeline) {
    if (e.entry_id() == result.payload) *resp->mutable_entry() = e;
  }
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_teacher(),
                           TeacherView(deps_, stored, deps_.clock.Today(), call));
  return absl::OkStatus();
}

absl::Status Timeline::ListTimeline(const CallContext& call, const v1::ListTimelineRequest& req,
                                    v1::ListTimelineResponse* resp) {
  SHIDANG_ASSIGN_OR_RETURN(int page_size, PageSize(req.page()));
  int64_t offset = 0;
  if (!req.page().page_token().empty() &&
      (!absl::SimpleAtoi(req.page().page_token(), &offset) || offset < 0)) {
    return InvalidField("page.page_token", "token", "not a token this method returned");
  }
  SHIDANG_ASSIGN_OR_RETURN(StoredTeacher found,
                           LocateFor(deps_.store, call, req.teacher_id(), TeacherAccess::kRead));
  std::vector<v1::TimelineEntry> entries = std::move(found.timeline);
  MarkSuperseded(&entries);
  SortByDate(&entries);
  std::set<int> kinds(req.kinds().begin(), req.kinds().end());
  int64_t index = 0;
  for (v1::TimelineEntry& e : entries) {
    if (!req.include_superseded() && !e.superseded_by_entry_id().empty()) continue;
    if (!kinds.empty() && !kinds.count(e.kind())) continue;
    if (index++ < offset) continue;
    if (resp->entries_size() == page_size) {
      resp->mutable_page()->set_next_page_token(std::to_string(offset + page_size));
      break;
    }
    *resp->add_entries() = std::move(e);
  }
  return absl::OkStatus();
}

}  // namespace shidang::profile
