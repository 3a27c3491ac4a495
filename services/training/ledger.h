#pragma once

// A teacher's ledger and where it leaves them: HR reverses a wrong credit, those who may read
// the teacher's data list the ledger and read the cycle summary. The principal-only checks ran
// at the edge (access.h); the rest needs the teacher's data and is checked here.

#include "absl/status/status.h"
#include "services/common/clock.h"
#include "services/common/server.h"
#include "services/training/policy_use.h"
#include "services/training/shared.h"
#include "services/training/store.h"
#include "services/training/totals.h"
#include "shidang/training/v1/training.pb.h"

namespace shidang::training {

class Ledger {
 public:
  Ledger(TrainingStore& store, const Clock& clock, EventMaker& events, PolicyUse& policy,
         Totals& totals)
      : store_(store), clock_(clock), events_(events), policy_(policy), totals_(totals) {}

  absl::Status Reverse(const CallContext& call, const v1::ReverseEntryRequest& req,
                       v1::ReverseEntryResponse* resp);
  absl::Status List(const CallContext& call, const v1::ListLedgerRequest& req,
                    v1::ListLedgerResponse* resp);
  // From the running totals (facts, totals and records: a few small reads) when they hold for
  // as_of; from the whole ledger otherwise (another cycle, a day before the latest entry, totals
  // dropped for a recount).
  absl::Status ReadSummary(const CallContext& call, const v1::GetTrainingSummaryRequest& req,
                           v1::GetTrainingSummaryResponse* resp);

 private:
  // The teacher, when the caller may read their data (access.h CheckTeacher).
  absl::StatusOr<Located> Visible(const CallContext& call, absl::string_view teacher_id,
                                  bool with_ledger);
  // A retry of a reversal already stored: its answer, with step 2 run again.
  absl::Status AnswerStoredReversal(const v1::ReverseEntryRequest& req,
                                    const v1::LedgerEntry& stored, const v1::LedgerEntry* credit,
                                    v1::ReverseEntryResponse* resp);

  TrainingStore& store_;
  const Clock& clock_;
  EventMaker& events_;
  PolicyUse& policy_;
  Totals& totals_;
};

}  // namespace shidang::training
