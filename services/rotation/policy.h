#pragma once

// The rotation section of the policy: where the rules' RotationPolicy comes from, and the
// Set/GetRotationPolicy use cases.

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "services/common/policy.h"
#include "services/common/server.h"
#include "services/rotation/context.h"
#include "services/rotation/rules.h"
#include "shidang/rotation/v1/rotation.pb.h"

namespace shidang::rotation {

// The rotation policy in force for `county_id` on `day`: the shared policy store's resolution
// (county, city, province, national, built-in defaults) turned into the rules' plain struct. The
// one place the service reads policy, so the store behind it can change.
absl::StatusOr<RotationPolicy> LoadRotationPolicy(policy::PolicyStore& policies,
                                                  absl::string_view county_id, absl::CivilDay day);

// The school year a request names ("2025", "2025-2026"; empty: the one holding `day`, the
// request's as-of day or today) and the policy in force on its first day. INVALID_ARGUMENT naming
// `field` for a bad name.
struct YearPolicy {
  RotationPolicy policy;
  SchoolYear year;
};
absl::StatusOr<YearPolicy> PolicyForSchoolYear(Deps& deps, absl::string_view county_id,
                                               absl::string_view school_year, absl::CivilDay day,
                                               absl::string_view field = "school_year");

absl::Status SetRotationPolicy(Deps& deps, const CallContext& call,
                               const v1::SetRotationPolicyRequest& req,
                               v1::SetRotationPolicyResponse* resp);

absl::Status GetRotationPolicy(Deps& deps, const CallContext& call,
                               const v1::GetRotationPolicyRequest& req,
                               v1::GetRotationPolicyResponse* resp);

}  // namespace shidang::rotation
