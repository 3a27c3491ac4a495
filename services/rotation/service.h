#pragma once

// The gRPC edge of the rotation service (交流轮岗): each method verifies the principal, runs its
// use case (eligibility.h, workflow.h, compliance.h, candidates.h, policy.h) and converts the
// status once (server.h's HandleCall).

#include <memory>

#include "absl/status/status.h"
#include "services/common/clock.h"
#include "services/common/principal.h"
#include "services/common/redis.h"
#include "services/rotation/context.h"
#include "shidang/common/v1/event.pb.h"
#include "shidang/rotation/v1/rotation.grpc.pb.h"

namespace shidang::rotation {

class RotationServiceImpl final : public v1::RotationService::Service {
 public:
  // `move_teacher` may be empty (see Deps).
  RotationServiceImpl(redis::Pool& pool, const PrincipalSigner& signer, const Clock& clock,
                      ProfileMover move_teacher);
  ~RotationServiceImpl() override;

#define SHIDANG_ROTATION_DECLARE(Name) \
  grpc::Status Name(grpc::ServerContext*, const v1::Name##Request*, v1::Name##Response*) override;
  SHIDANG_ROTATION_DECLARE(ListEligible)
  SHIDANG_ROTATION_DECLARE(RecordDeferral)
  SHIDANG_ROTATION_DECLARE(EndDeferral)
  SHIDANG_ROTATION_DECLARE(CreateRotation)
  SHIDANG_ROTATION_DECLARE(ApproveRotation)
  SHIDANG_ROTATION_DECLARE(RejectRotation)
  SHIDANG_ROTATION_DECLARE(StartRotation)
  SHIDANG_ROTATION_DECLARE(CompleteRotation)
  SHIDANG_ROTATION_DECLARE(CancelRotation)
  SHIDANG_ROTATION_DECLARE(GetRotation)
  SHIDANG_ROTATION_DECLARE(ListRotations)
  SHIDANG_ROTATION_DECLARE(ListTeacherRotations)
  SHIDANG_ROTATION_DECLARE(GetRotationCompliance)
  SHIDANG_ROTATION_DECLARE(SuggestCandidates)
  SHIDANG_ROTATION_DECLARE(SetRotationPolicy)
  SHIDANG_ROTATION_DECLARE(GetRotationPolicy)
#undef SHIDANG_ROTATION_DECLARE

  // Keeps the copy of teachers and schools from the profile service's events (facts.h). Used by
  // the event consumer (consumer group "rotation" on "profile:streams").
  absl::Status ApplyProfileEvent(const common::v1::Event& event);

 private:
  struct State;
  std::unique_ptr<State> state_;
  const PrincipalSigner& signer_;
};

}  // namespace shidang::rotation
