#pragma once

// A teacher's running totals (rules.h Tally) and what the growth file shows of them: advanced
// with an append when that is exact, recounted from the ledger when it is not (a reversal, a
// back-dated credit, changed facts, a policy version added, a transfer).

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "services/common/clock.h"
#include "services/training/policy_use.h"
#include "services/training/rules.h"
#include "services/training/shared.h"
#include "services/training/store.h"
#include "shidang/common/v1/event.pb.h"
#include "shidang/training/v1/training.pb.h"

namespace shidang::training {

// The rules' view of stored facts, ledger entries and pending records.
TeacherFacts FactsForRules(const TeacherFactsRecord& facts);
LedgerEntry ToRulesEntry(const v1::LedgerEntry& entry);
std::vector<PendingRecord> PendingOf(const TeacherState& state);
// A teacher's summary as of a day, counted from their whole ledger.
absl::StatusOr<Summary> SummaryOfState(const LoadedPolicy& policy, const TeacherState& state,
                                       absl::CivilDay as_of);

class Totals {
 public:
  Totals(TrainingStore& store, const Clock& clock, EventMaker& events, PolicyUse& policy)
      : store_(store), clock_(clock), events_(events), policy_(policy) {}

  // The running totals after appending `entry` to a teacher whose stored totals are `state`'s,
  // when they can be advanced exactly (rules.h AdvanceTally): filled into `a` with the summary
  // its event carries, so the append's script stores them. Otherwise `a` drops them and the
  // caller recounts.
  void Advance(const LoadedPolicy& policy, const TeacherState& state, const v1::LedgerEntry& entry,
               absl::CivilDay today, LedgerAppend* a) const;

  // Recounts the running totals of these teachers of one county from their ledgers as of today
  // and stores them (unless an append came in between), each with its summary event. Returns
  // each teacher's full state and tally (nullopt where the ledger could not be counted).
  struct Recounted {
    TeacherState state;
    std::optional<Tally> tally;
  };
  absl::StatusOr<std::vector<Recounted>> Recount(absl::string_view county_id,
                                                 const std::vector<std::string>& teacher_ids,
                                                 const LoadedPolicy& policy);

  // After a write that left totals to recount: the write has happened, so a failed recount is
  // logged, not returned (readers find no totals and count the ledger themselves).
  void RecountAfterWrite(absl::string_view county_id, const std::vector<std::string>& ids);

 private:
  common::v1::Event SummaryEvent(absl::string_view teacher_id, absl::string_view county_id,
                                 const Summary& summary);
  // One teacher's recount (nullopt tally when it could not be counted); appends its totals'
  // write and event when it could.
  Recounted RecountOne(const std::string& teacher_id, absl::string_view county_id,
                       TeacherState state, const LoadedPolicy& policy, absl::CivilDay today,
                       std::vector<TallyWrite>* writes, std::vector<common::v1::Event>* events);

  TrainingStore& store_;
  const Clock& clock_;
  EventMaker& events_;
  PolicyUse& policy_;
};

}  // namespace shidang::training
