#include "services/mentorship/service.h"

#include "services/common/policy.h"
#include "services/common/server.h"
#include "services/mentorship/activities.h"
#include "services/mentorship/context.h"
#include "services/mentorship/facts.h"
#include "services/mentorship/pairings.h"
#include "services/mentorship/policy.h"
#include "services/mentorship/store.h"
#include "services/mentorship/suggestions.h"

namespace shidang::mentorship {

struct MentorshipServiceImpl::State {
  State(redis::Pool& pool, const Clock& clock)
      : answers(pool),
        store(pool),
        policies(pool, policy::PolicyStoreOptions{.clock = &clock}),
        deps{pool, store, policies, clock} {}

  AnswerStore answers;
  MentorshipStore store;
  policy::PolicyStore policies;
  Deps deps;
};

MentorshipServiceImpl::MentorshipServiceImpl(redis::Pool& pool, const PrincipalSigner& signer,
                                             const Clock& clock)
    : state_(std::make_unique<State>(pool, clock)), signer_(signer) {}

MentorshipServiceImpl::~MentorshipServiceImpl() = default;

absl::Status MentorshipServiceImpl::ApplyProfileEvent(const common::v1::Event& event) {
  return mentorship::ApplyProfileEvent(state_->deps, event);
}

#define SHIDANG_MENTORSHIP_METHOD(Name)                                                            \
  grpc::Status MentorshipServiceImpl::Name(grpc::ServerContext* ctx, const v1::Name##Request* req, \
                                           v1::Name##Response* resp) {                             \
    return HandleCall(ctx, "shidang.mentorship.v1.MentorshipService/" #Name, signer_,              \
                      state_->answers, *req, resp, [&](const CallContext& call) {                  \
                        return RunOnFreshReads(*req, resp, [&] {                                   \
                          return mentorship::Name(state_->deps, call, *req, resp);                 \
                        });                                                                        \
                      });                                                                          \
  }

SHIDANG_MENTORSHIP_METHOD(CreatePairing)
SHIDANG_MENTORSHIP_METHOD(CreatePairings)
SHIDANG_MENTORSHIP_METHOD(EndPairing)
SHIDANG_MENTORSHIP_METHOD(GetPairing)
SHIDANG_MENTORSHIP_METHOD(ListPairings)
SHIDANG_MENTORSHIP_METHOD(ListTeacherPairings)
SHIDANG_MENTORSHIP_METHOD(LogActivity)
SHIDANG_MENTORSHIP_METHOD(GetProgress)
SHIDANG_MENTORSHIP_METHOD(GetMenteeProgress)
SHIDANG_MENTORSHIP_METHOD(ListUnpaired)
SHIDANG_MENTORSHIP_METHOD(SuggestMentors)
SHIDANG_MENTORSHIP_METHOD(SuggestPairings)
SHIDANG_MENTORSHIP_METHOD(SetMentorshipPolicy)
SHIDANG_MENTORSHIP_METHOD(GetMentorshipPolicy)

#undef SHIDANG_MENTORSHIP_METHOD

}  // namespace shidang::mentorship
