#pragma once

// The gRPC edge of the mentorship service (师徒结对, 双导师, 城乡结对): each method verifies the
// principal, runs its use case (pairings.h, activities.h, suggestions.h, policy.h) and converts
// the status once (server.h's HandleCall).
//
// Events to the growth file (stream mentorship:{c:<county>}:events, filed by the profile
// service): "mentorship.pairing_created" and "mentorship.pairing_ended" on both the mentee's and
// the mentor's file (payload Pairing), "mentorship.term_evaluated" on the mentee's (payload
// Activity).

#include <memory>

#include "absl/status/status.h"
#include "services/common/clock.h"
#include "services/common/principal.h"
#include "services/common/redis.h"
#include "shidang/common/v1/event.pb.h"
#include "shidang/mentorship/v1/mentorship.grpc.pb.h"

namespace shidang::mentorship {

class MentorshipServiceImpl final : public v1::MentorshipService::Service {
 public:
  MentorshipServiceImpl(redis::Pool& pool, const PrincipalSigner& signer, const Clock& clock);
  ~MentorshipServiceImpl() override;

#define SHIDANG_MENTORSHIP_DECLARE(Name) \
  grpc::Status Name(grpc::ServerContext*, const v1::Name##Request*, v1::Name##Response*) override;
  SHIDANG_MENTORSHIP_DECLARE(CreatePairing)
  SHIDANG_MENTORSHIP_DECLARE(CreatePairings)
  SHIDANG_MENTORSHIP_DECLARE(EndPairing)
  SHIDANG_MENTORSHIP_DECLARE(GetPairing)
  SHIDANG_MENTORSHIP_DECLARE(ListPairings)
  SHIDANG_MENTORSHIP_DECLARE(ListTeacherPairings)
  SHIDANG_MENTORSHIP_DECLARE(LogActivity)
  SHIDANG_MENTORSHIP_DECLARE(GetProgress)
  SHIDANG_MENTORSHIP_DECLARE(GetMenteeProgress)
  SHIDANG_MENTORSHIP_DECLARE(ListUnpaired)
  SHIDANG_MENTORSHIP_DECLARE(SuggestMentors)
  SHIDANG_MENTORSHIP_DECLARE(SuggestPairings)
  SHIDANG_MENTORSHIP_DECLARE(SetMentorshipPolicy)
  SHIDANG_MENTORSHIP_DECLARE(GetMentorshipPolicy)
#undef SHIDANG_MENTORSHIP_DECLARE

  // Keeps the copy of teachers and schools from the profile service's events (facts.h). Used by
  // the event consumer (consumer group "mentorship" on "profile:streams").
  absl::Status ApplyProfileEvent(const common::v1::Event& event);

 private:
  struct State;
  std::unique_ptr<State> state_;
  const PrincipalSigner& signer_;
};

}  // namespace shidang::mentorship
