#pragma once

// Growing the Redis budget of the gRPC call running on this thread (redis.h, BeginCallBudget),
// apart from redis.h so that the few callers that need it include only this.

#include "absl/time/time.h"

namespace shidang::redis {

// Adds `more` to what is left of the budget open on this thread (nothing without one; the call's
// deadline still bounds every operation): for a call whose Redis work grows with what its caller
// sent (a roster's 10,000 rows: tens of thousands of commands in a few pipelines), sized by that,
// so that a loaded Redis gives it time in proportion instead of one call's fixed figure.
//
//   redis::ExtendCallBudget(absl::Milliseconds(rows.size()));
void ExtendCallBudget(absl::Duration more);

}  // namespace shidang::redis
