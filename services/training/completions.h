#pragma once

// A training centre's completions of a course (RecordCompletions), in two idempotent steps keyed
// by the same (course, teacher) entry id (DESIGN "One script, one slot"): the provider's slot
// marks who is credited for the course (once, however often the batch comes), then each
// county's slot appends the credits its ledger does not have yet, with each teacher's running
// totals advanced in the same script. A crash between the steps leaves marks without ledger
// entries; the batch's retry appends them. The usual batch (a course of one county, rows no
// earlier call marked, no record to settle) needs none of the script's checks: its credits go as
// plain commands in MULTI ... EXEC transactions, a chunk each, which Redis refuses once any
// teacher of the county was written after the heads were read (store.h LedgerTransaction); the
// scripts write what was refused.
//
// What it reads: one small hash per teacher (facts, totals, the record awaiting this course),
// never a ledger; a teacher whose totals cannot be advanced exactly (a back-dated credit, say)
// is recounted from their ledger after the write.

#include "absl/status/status.h"
#include "services/common/clock.h"
#include "services/common/server.h"
#include "services/training/policy_use.h"
#include "services/training/shared.h"
#include "services/training/store.h"
#include "services/training/totals.h"
#include "shidang/training/v1/training.pb.h"

namespace shidang::training {

class Completions {
 public:
  Completions(TrainingStore& store, const Clock& clock, EventMaker& events, PolicyUse& policy,
              Totals& totals)
      : store_(store), clock_(clock), events_(events), policy_(policy), totals_(totals) {}

  // Good rows are credited (or answered ALREADY_CREDITED), bad ones rejected with their field
  // violation; the whole call fails only when the course cannot be read or a write fails.
  absl::Status Record(const CallContext& call, const v1::RecordCompletionsRequest& req,
                      v1::RecordCompletionsResponse* resp);

 private:
  TrainingStore& store_;
  const Clock& clock_;
  EventMaker& events_;
  PolicyUse& policy_;
  Totals& totals_;
};

}  // namespace shidang::training
