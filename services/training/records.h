#pragma once

// Teachers' own records: a teacher logs training (a registered course awaits the centre's
// confirmation; anything else awaits HR's review), HR reviews, and those who may read the
// teacher's data list the records. The principal-only checks ran at the edge (access.h).

#include "absl/status/status.h"
#include "services/common/clock.h"
#include "services/common/server.h"
#include "services/training/policy_use.h"
#include "services/training/shared.h"
#include "services/training/store.h"
#include "services/training/totals.h"
#include "shidang/training/v1/training.pb.h"

namespace shidang::training {

class Records {
 public:
  Records(TrainingStore& store, const Clock& clock, EventMaker& events, PolicyUse& policy,
          Totals& totals)
      : store_(store), clock_(clock), events_(events), policy_(policy), totals_(totals) {}

  absl::Status Log(const CallContext& call, const v1::LogTrainingRequest& req,
                   v1::LogTrainingResponse* resp);
  // Reviews the record in `county`, the one holding it (TrainingStore::CountyHoldingRecord).
  absl::Status Review(const CallContext& call, const v1::ReviewTrainingRecordRequest& req,
                      const std::string& county, v1::ReviewTrainingRecordResponse* resp);
  absl::Status List(const CallContext& call, const v1::ListTrainingRecordsRequest& req,
                    v1::ListTrainingRecordsResponse* resp);

 private:
  // The record as logged (not yet validated), from the request and the course it names.
  v1::TrainingRecord NewRecord(const v1::LogTrainingRequest& req, const Located& found,
                               const v1::Course* course) const;
  absl::Status Reject(const CallContext& call, const v1::ReviewTrainingRecordRequest& req,
                      v1::TrainingRecord record, absl::string_view county,
                      v1::ReviewTrainingRecordResponse* resp);
  absl::Status Approve(const CallContext& call, const v1::ReviewTrainingRecordRequest& req,
                       v1::TrainingRecord record, absl::string_view county,
                       const TeacherState& state, v1::ReviewTrainingRecordResponse* resp);

  TrainingStore& store_;
  const Clock& clock_;
  EventMaker& events_;
  PolicyUse& policy_;
  Totals& totals_;
};

}  // namespace shidang::training
