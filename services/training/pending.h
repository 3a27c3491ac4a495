#pragma once

// HR's review queue: every self-report of a county awaiting review, in one call, read from the
// county's pending index (store.h) rather than from each teacher's records. The principal-only
// check ran at the edge (access::RequireReport).

#include "absl/status/status.h"
#include "services/common/server.h"
#include "services/training/store.h"
#include "shidang/training/v1/training.pb.h"

namespace shidang::training {

class PendingReports {
 public:
  explicit PendingReports(TrainingStore& store) : store_(store) {}

  // A county the service has no teachers of answers as one out of the caller's scope
  // (PERMISSION_DENIED, AIP-211), but NOT_FOUND for the trusted, who may see any.
  absl::Status List(const CallContext& call, const v1::ListPendingSelfReportsRequest& req,
                    v1::ListPendingSelfReportsResponse* resp);

 private:
  TrainingStore& store_;
};

}  // namespace shidang::training
