#pragma once

// The compliance report of a county's school year, as JSON and as CSV.

#include "absl/status/status.h"
#include "services/common/server.h"
#include "services/rotation/context.h"
#include "shidang/rotation/v1/rotation.pb.h"

namespace shidang::rotation {

absl::Status GetRotationCompliance(Deps& deps, const CallContext& call,
                                   const v1::GetRotationComplianceRequest& req,
                                   v1::GetRotationComplianceResponse* resp);

}  // namespace shidang::rotation
