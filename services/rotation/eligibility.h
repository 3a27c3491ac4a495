#pragma once

// Use cases of eligibility: who may rotate in a school year (ListEligible) and HR's deferrals.

#include "absl/status/status.h"
#include "services/common/server.h"
#include "services/rotation/context.h"
#include "shidang/rotation/v1/rotation.pb.h"

namespace shidang::rotation {

absl::Status ListEligible(Deps& deps, const CallContext& call, const v1::ListEligibleRequest& req,
                          v1::ListEligibleResponse* resp);

absl::Status RecordDeferral(Deps& deps, const CallContext& call,
                            const v1::RecordDeferralRequest& req, v1::RecordDeferralResponse* resp);

absl::Status EndDeferral(Deps& deps, const CallContext& call, const v1::EndDeferralRequest& req,
                         v1::EndDeferralResponse* resp);

}  // namespace shidang::rotation
