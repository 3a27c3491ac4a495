#pragma once

// SuggestCandidates: eligible teachers who would close each sending school's shortfall.

#include "absl/status/status.h"
#include "services/common/server.h"
#include "services/rotation/context.h"
#include "shidang/rotation/v1/rotation.pb.h"

namespace shidang::rotation {

// Per school short of its quota, the fewest eligible teachers not yet rotating that make it pass:
// a backbone teacher while the backbone share is short, otherwise (and then) the longest at the
// school; each with the receiving schools of the county in a counting direction whose stage is
// theirs, those teaching one of their subjects first. Ranked over the county: picks that close a
// backbone shortfall first, then years at the school, then teacher id.
absl::Status SuggestCandidates(Deps& deps, const CallContext& call,
                               const v1::SuggestCandidatesRequest& req,
                               v1::SuggestCandidatesResponse* resp);

}  // namespace shidang::rotation
