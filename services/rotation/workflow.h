#pragma once

// Use cases of the rotation workflow: propose, approve (county HR, and the receiving school where
// the personnel relation moves), reject, start, complete, cancel, read and list. Every change is
// a state transition recorded with who and when; an illegal one is FAILED_PRECONDITION naming
// both states; a retried request id is answered with the first answer before any state check.

#include "absl/status/status.h"
#include "services/common/server.h"
#include "services/rotation/context.h"
#include "shidang/rotation/v1/rotation.pb.h"

namespace shidang::rotation {

absl::Status CreateRotation(Deps& deps, const CallContext& call,
                            const v1::CreateRotationRequest& req, v1::CreateRotationResponse* resp);
absl::Status ApproveRotation(Deps& deps, const CallContext& call,
                             const v1::ApproveRotationRequest& req,
                             v1::ApproveRotationResponse* resp);
absl::Status RejectRotation(Deps& deps, const CallContext& call,
                            const v1::RejectRotationRequest& req, v1::RejectRotationResponse* resp);
absl::Status StartRotation(Deps& deps, const CallContext& call, const v1::StartRotationRequest& req,
                           v1::StartRotationResponse* resp);
absl::Status CompleteRotation(Deps& deps, const CallContext& call,
                              const v1::CompleteRotationRequest& req,
                              v1::CompleteRotationResponse* resp);
absl::Status CancelRotation(Deps& deps, const CallContext& call,
                            const v1::CancelRotationRequest& req, v1::CancelRotationResponse* resp);
absl::Status GetRotation(Deps& deps, const CallContext& call, const v1::GetRotationRequest& req,
                         v1::GetRotationResponse* resp);
absl::Status ListRotations(Deps& deps, const CallContext& call, const v1::ListRotationsRequest& req,
                           v1::ListRotationsResponse* resp);
absl::Status ListTeacherRotations(Deps& deps, const CallContext& call,
                                  const v1::ListTeacherRotationsRequest& req,
                                  v1::ListTeacherRotationsResponse* resp);

}  // namespace shidang::rotation
