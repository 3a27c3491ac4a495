#pragma once

// Use cases of the rotation workflow: propose, approve (county HR, and the receiving school where
// the personnel relation moves), reject, start, complete, cancel, read and list. Every change is
// a state transition recorded with who and when; an illegal one is FAILED_PRECONDITION naming
// both states; a retried request id is answered with the first answer before any state check.

#include <string>

#include "absl/status/status.h"
#include "services/common/server.h"
#include "services/rotation/context.h"
#include "shidang/rotation/v1/rotation.pb.h"

namespace shidang::rotation {

absl::Status CreateRotation(Deps& deps, const CallContext& call,
                            const v1::CreateRotationRequest& req, v1::CreateRotationResponse* resp);
// One party's approval in one round trip (approve_rotation.lua): the retry's replay, the checks,
// the write and the event in one script, answered from the kit's idempotency record of the
// rotation's county.
absl::Status ApproveRotation(Deps& deps, const CallContext& call,
                             const v1::ApproveRotationRequest& req,
                             v1::ApproveRotationResponse* resp);
// The one county every approval (rejection, cancellation, completion) `p` may make lands in
// (county HR of a county; a school admin, whose school id names its county), else "". For such a
// caller the use case alone answers every retry and refuses every reused request id (the records
// are that county's); the service puts the kit's AnswerStore (replay.h) in front of the others'
// (service.cc).
std::string ApproverCounty(const common::v1::Principal& p);

// Rejection, completion and cancellation take the approval's shape: one round trip
// (change_rotation.lua), answered from the rotation's county's idempotency record. A start reads
// the rotation first: it moves the teacher in the profile service before its script runs
// (transition_rotation.lua), and only when the rotation read is APPROVED.
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
