#pragma once

// Who still lacks a mentor (ListUnpaired), and mentors who could take them: ranked for one mentee
// (SuggestMentors), and a county's assignment pairing as many as capacity allows (SuggestPairings:
// a maximum b-matching, matching.h). Reads only; suggestions write nothing.

#include "absl/status/status.h"
#include "services/common/server.h"
#include "services/mentorship/context.h"
#include "shidang/mentorship/v1/mentorship.pb.h"

namespace shidang::mentorship {

absl::Status ListUnpaired(Deps& deps, const CallContext& call, const v1::ListUnpairedRequest& req,
                          v1::ListUnpairedResponse* resp);
absl::Status SuggestMentors(Deps& deps, const CallContext& call,
                            const v1::SuggestMentorsRequest& req, v1::SuggestMentorsResponse* resp);
absl::Status SuggestPairings(Deps& deps, const CallContext& call,
                             const v1::SuggestPairingsRequest& req,
                             v1::SuggestPairingsResponse* resp);

}  // namespace shidang::mentorship
