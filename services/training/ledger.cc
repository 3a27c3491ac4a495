#include "services/training/ledger.h"

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/dates.h"
#include "services/common/status.h"
#include "services/training/access.h"
#include "services/training/rules.h"

namespace shidang::training {
namespace {

// A credit from a centre's completion: its reversal releases the (course, teacher) mark.
bool IsCourseCredit(const v1::LedgerEntry& credit) {
  return !credit.course_id().empty() && credit.source() == v1::CREDIT_SOURCE_COURSE_COMPLETION;
}

v1::LedgerEntry ReversalOf(const v1::LedgerEntry& credit, const std::string& reversal_id,
                           const CallContext& call, const v1::ReverseEntryRequest& req,
                           absl::Time now) {
  v1::LedgerEntry reversal = credit;
  reversal.set_entry_id(reversal_id);
  reversal.set_kind(v1::LEDGER_ENTRY_KIND_REVERSAL);
  reversal.set_hours(-credit.hours());
  reversal.set_reverses_entry_id(credit.entry_id());
  reversal.set_reason(req.reason());
  reversal.clear_reversed_by_entry_id();
  reversal.set_actor(call.actor);
  reversal.set_request_id(req.request_id());
  reversal.set_recorded_at_ms(absl::ToUnixMillis(now));
  return reversal;
}

}  // namespace

absl::StatusOr<Located> Ledger::Visible(const CallContext& call, absl::string_view teacher_id,
                                        bool with_ledger) {
  absl::StatusOr<Located> found = Locate(store_, teacher_id, with_ledger);
  if (absl::IsInvalidArgument(found.status())) return found.status();
  SHIDANG_RETURN_IF_ERROR(access::CheckTeacher(call.principal, access::TeacherAction::kRead,
                                               teacher_id, found.status(),
                                               found.ok() ? &found->facts() : nullptr));
  return found;
}

absl::Status Ledger::AnswerStoredReversal(const v1::ReverseEntryRequest& req,
                                          const v1::LedgerEntry& stored,
                                          const v1::LedgerEntry* credit,
                                          v1::ReverseEntryResponse* resp) {
  // Step 2 again: the first attempt may have stopped before it.
  if (credit != nullptr && IsCourseCredit(*credit)) {
    SHIDANG_RETURN_IF_ERROR(
        store_.ReleaseCompletion(credit->course_id(), req.teacher_id(), credit->entry_id()));
  }
  *resp->mutable_reversal() = stored;
  return absl::OkStatus();
}

absl::Status Ledger::Reverse(const CallContext& call, const v1::ReverseEntryRequest& req,
                             v1::ReverseEntryResponse* resp) {
  absl::StatusOr<Located> located = Locate(store_, req.teacher_id());
  if (absl::IsInvalidArgument(located.status())) return located.status();
  SHIDANG_RETURN_IF_ERROR(access::CheckTeacher(call.principal, access::TeacherAction::kCorrect,
                                               req.teacher_id(), located.status(),
                                               located.ok() ? &located->facts() : nullptr));
  const Located& found = *located;
  std::vector<LedgerEntry> ledger;
  const v1::LedgerEntry* credit = nullptr;
  for (const v1::LedgerEntry& e : found.state.ledger) {
    ledger.push_back(ToRulesEntry(e));
    if (e.entry_id() == req.entry_id()) credit = &e;
  }
  const std::string reversal_id = ReversalId(req.entry_id());
  absl::StatusOr<LedgerEntry> made = MakeReversal(ledger, req.entry_id(), reversal_id);
  if (!made.ok()) {
    // A retry of the same reversal answers the reversal stored first.
    for (const v1::LedgerEntry& e : found.state.ledger) {
      if (e.entry_id() == reversal_id && e.request_id() == req.request_id() &&
          !req.request_id().empty() && e.actor() == call.actor) {
        return AnswerStoredReversal(req, e, credit, resp);
      }
    }
    return absl::Status(made.status().code(), absl::StrCat("entry_id: ", made.status().message()));
  }
  v1::LedgerEntry reversal = ReversalOf(*credit, reversal_id, call, req, clock_.Now());
  LedgerAppend a;
  a.teacher_id = req.teacher_id();
  a.mark = absl::StrCat("x:", credit->entry_id());
  a.entry = reversal;
  a.event_index = 0;
  // A reversed course credit releases the (course, teacher) mark on both slots, so the centre
  // can confirm the corrected completion (a new entry with its own id). Without this a wrong
  // row could never be put right: every later batch would answer ALREADY_CREDITED. Released
  // only by a reversal, so a retried or concurrent batch still credits once; the reversed
  // credit's own "x:" mark keeps a retry of its original batch from appending it again.
  const bool course_credit = IsCourseCredit(*credit);
  if (course_credit) a.release_mark = absl::StrCat("c:", credit->course_id());
  std::vector<common::v1::Event> events = {
      events_.Make("training.reversed", req.teacher_id(), found.county_id,
                   dates::FormatDate(clock_.Today()), call.actor, req.request_id(),
                   absl::StrCat("撤销培训学时《", credit->title(), "》", HoursText(credit->hours()),
                                " 学时：", req.reason()),
                   reversal)};
  // The reversal frees room under caps for later entries: always a recount.
  SHIDANG_RETURN_IF_ERROR(
      store_
          .AppendLedger(found.county_id, {a}, WriteOf(call, "ReverseEntry", req), std::move(events))
          .status());
  // Step 2 on the provider's slot; idempotent, so a retry of this request heals a crash here.
  if (course_credit) {
    SHIDANG_RETURN_IF_ERROR(
        store_.ReleaseCompletion(credit->course_id(), req.teacher_id(), credit->entry_id()));
  }
  totals_.RecountAfterWrite(found.county_id, {req.teacher_id()});
  *resp->mutable_reversal() = std::move(reversal);
  return absl::OkStatus();
}

absl::Status Ledger::List(const CallContext& call, const v1::ListLedgerRequest& req,
                          v1::ListLedgerResponse* resp) {
  SHIDANG_ASSIGN_OR_RETURN(int page_size, PageSize(req.page()));
  SHIDANG_ASSIGN_OR_RETURN(size_t offset, PageOffset(req.page()));
  SHIDANG_ASSIGN_OR_RETURN(DateFilter period, ParseDateFilter(req.from_date(), req.to_date()));
  SHIDANG_ASSIGN_OR_RETURN(Located found, Visible(call, req.teacher_id(), /*with_ledger=*/true));
  std::map<std::string, std::string> reversed_by;
  for (const v1::LedgerEntry& e : found.state.ledger) {
    if (!e.reverses_entry_id().empty()) reversed_by[e.reverses_entry_id()] = e.entry_id();
  }
  std::vector<v1::LedgerEntry> entries;
  for (v1::LedgerEntry e : found.state.ledger) {
    absl::StatusOr<absl::CivilDay> day = dates::ParseDate(e.date());
    if (day.ok() && ((period.from && *day < *period.from) || (period.to && *day > *period.to))) {
      continue;
    }
    auto r = reversed_by.find(e.entry_id());
    if (r != reversed_by.end()) e.set_reversed_by_entry_id(r->second);
    entries.push_back(std::move(e));
  }
  Paginate(entries, offset, page_size, resp->mutable_page(),
           [&](const v1::LedgerEntry& e) { *resp->add_entries() = e; });
  return absl::OkStatus();
}

absl::Status Ledger::ReadSummary(const CallContext& call, const v1::GetTrainingSummaryRequest& req,
                                 v1::GetTrainingSummaryResponse* resp) {
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay as_of, AsOf(clock_, req.as_of()));
  SHIDANG_ASSIGN_OR_RETURN(Located head, Visible(call, req.teacher_id(), /*with_ledger=*/false));
  SHIDANG_ASSIGN_OR_RETURN(LoadedPolicy policy, policy_.LoadPolicy(head.county_id));
  const TeacherState& state = head.state;
  if (!state.tally.empty() && state.policy_stamp == policy.stamp) {
    absl::StatusOr<Tally> tally = DecodeTally(state.tally);
    if (tally.ok()) {
      SHIDANG_ASSIGN_OR_RETURN(std::optional<Summary> summary,
                               SummaryFromTally(policy.history, FactsForRules(*state.facts), *tally,
                                                PendingOf(state), as_of));
      if (summary.has_value()) {
        SummaryToProto(*summary, req.teacher_id(), resp->mutable_summary());
        return absl::OkStatus();
      }
    }
  }
  SHIDANG_ASSIGN_OR_RETURN(Located found, Locate(store_, req.teacher_id()));
  SHIDANG_ASSIGN_OR_RETURN(Summary summary, SummaryOfState(policy, found.state, as_of));
  SummaryToProto(summary, req.teacher_id(), resp->mutable_summary());
  return absl::OkStatus();
}

}  // namespace shidang::training
