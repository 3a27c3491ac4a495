#pragma once

// A pairing's term-by-term activities (DOMAIN §4): logged by its mentor or mentee, and the
// progress they make against the policy's requirements (progress.h).

#include "absl/status/status.h"
#include "services/common/server.h"
#include "services/mentorship/context.h"
#include "shidang/mentorship/v1/mentorship.pb.h"

namespace shidang::mentorship {

absl::Status LogActivity(Deps& deps, const CallContext& call, const v1::LogActivityRequest& req,
                         v1::LogActivityResponse* resp);
absl::Status GetProgress(Deps& deps, const CallContext& call, const v1::GetProgressRequest& req,
                         v1::GetProgressResponse* resp);
absl::Status GetMenteeProgress(Deps& deps, const CallContext& call,
                               const v1::GetMenteeProgressRequest& req,
                               v1::GetMenteeProgressResponse* resp);

}  // namespace shidang::mentorship
