#include "services/rotation/service.h"

#include <utility>

#include "services/common/policy.h"
#include "services/common/server.h"
#include "services/rotation/candidates.h"
#include "services/rotation/compliance.h"
#include "services/rotation/eligibility.h"
#include "services/rotation/facts.h"
#include "services/rotation/policy.h"
#include "services/rotation/store.h"
#include "services/rotation/workflow.h"

namespace shidang::rotation {

struct RotationServiceImpl::State {
  State(redis::Pool& pool, const Clock& clock, ProfileMover move_teacher)
      : answers(pool),
        store(pool),
        counties(pool),
        policies(pool, policy::PolicyStoreOptions{.clock = &clock}),
        deps{pool, store, counties, policies, clock, std::move(move_teacher)} {}

  AnswerStore answers;
  RotationStore store;
  CountyCache counties;
  policy::PolicyStore policies;
  Deps deps;
};

RotationServiceImpl::RotationServiceImpl(redis::Pool& pool, const PrincipalSigner& signer,
                                         const Clock& clock, ProfileMover move_teacher)
    : state_(std::make_unique<State>(pool, clock, std::move(move_teacher))), signer_(signer) {}

RotationServiceImpl::~RotationServiceImpl() = default;

absl::Status RotationServiceImpl::ApplyProfileEvent(const common::v1::Event& event) {
  return rotation::ApplyProfileEvent(state_->deps, event);
}

#define SHIDANG_ROTATION_METHOD(Name)                                                              \
  grpc::Status RotationServiceImpl::Name(grpc::ServerContext* ctx, const v1::Name##Request* req,   \
                                         v1::Name##Response* resp) {                               \
    return HandleCall(ctx, "shidang.rotation.v1.RotationService/" #Name, signer_, state_->answers, \
                      *req, resp, [&](const CallContext& call) {                                   \
                        return RunOnFreshReads(*req, resp, [&] {                                   \
                          return rotation::Name(state_->deps, call, *req, resp);                   \
                        });                                                                        \
                      });                                                                          \
  }

SHIDANG_ROTATION_METHOD(ListEligible)
SHIDANG_ROTATION_METHOD(RecordDeferral)
SHIDANG_ROTATION_METHOD(EndDeferral)
SHIDANG_ROTATION_METHOD(CreateRotation)
SHIDANG_ROTATION_METHOD(StartRotation)
SHIDANG_ROTATION_METHOD(GetRotation)
SHIDANG_ROTATION_METHOD(ListRotations)
SHIDANG_ROTATION_METHOD(ListTeacherRotations)
SHIDANG_ROTATION_METHOD(GetRotationCompliance)
SHIDANG_ROTATION_METHOD(SuggestCandidates)
SHIDANG_ROTATION_METHOD(SetRotationPolicy)
SHIDANG_ROTATION_METHOD(GetRotationPolicy)

#undef SHIDANG_ROTATION_METHOD

// An approval, a rejection, a cancellation and a completion are one round trip each: their
// script answers a retried request id before any check (workflow.h). Only for a caller whose
// writes span counties does the kit's AnswerStore go in front (two round trips more), since a
// request id reused in another county is refused only there.
#define SHIDANG_ROTATION_ONE_SCRIPT_METHOD(Name)                                                 \
  grpc::Status RotationServiceImpl::Name(grpc::ServerContext* ctx, const v1::Name##Request* req, \
                                         v1::Name##Response* resp) {                             \
    static constexpr char kMethod[] = "shidang.rotation.v1.RotationService/" #Name;              \
    const absl::Time deadline = absl::FromChrono(ctx->deadline());                               \
    return HandleCall(ctx, kMethod, signer_, [&](const CallContext& call) {                      \
      auto run = [&] { return rotation::Name(state_->deps, call, *req, resp); };                 \
      if (!ApproverCounty(call.principal).empty()) return run();                                 \
      return state_->answers.Answer(kMethod, call.actor, deadline, *req, resp, run);             \
    });                                                                                          \
  }

SHIDANG_ROTATION_ONE_SCRIPT_METHOD(ApproveRotation)
SHIDANG_ROTATION_ONE_SCRIPT_METHOD(RejectRotation)
SHIDANG_ROTATION_ONE_SCRIPT_METHOD(CompleteRotation)
SHIDANG_ROTATION_ONE_SCRIPT_METHOD(CancelRotation)

#undef SHIDANG_ROTATION_ONE_SCRIPT_METHOD

}  // namespace shidang::rotation
