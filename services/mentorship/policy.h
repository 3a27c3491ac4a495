#pragma once

// The mentorship section of the shared policy store: where the rules' MentorshipPolicy comes
// from, and the Set/GetMentorshipPolicy use cases.

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "services/common/policy.h"
#include "services/common/server.h"
#include "services/mentorship/context.h"
#include "services/mentorship/rules.h"
#include "shidang/mentorship/v1/mentorship.pb.h"

namespace shidang::mentorship {

// The mentorship policy (and the ethics section's veto months) in force for `county_id` on
// `day`: the shared store's resolution (county, city, province, national, built-in defaults) as
// the rules' plain struct. The one place the service reads policy.
absl::StatusOr<MentorshipPolicy> LoadMentorshipPolicy(policy::PolicyStore& policies,
                                                      absl::string_view county_id,
                                                      absl::CivilDay day);

absl::Status SetMentorshipPolicy(Deps& deps, const CallContext& call,
                                 const v1::SetMentorshipPolicyRequest& req,
                                 v1::SetMentorshipPolicyResponse* resp);

absl::Status GetMentorshipPolicy(Deps& deps, const CallContext& call,
                                 const v1::GetMentorshipPolicyRequest& req,
                                 v1::GetMentorshipPolicyResponse* resp);

}  // namespace shidang::mentorship
