#pragma once

// 法定退休年龄 (DOMAIN §1): the retirement date rule every service shares (the profile service
// shows it in the growth file; the rotation service excludes teachers near retirement). Pure.

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "shidang/common/v1/policy.pb.h"
#include "shidang/common/v1/types.pb.h"

namespace shidang::retirement {

// Months of delay for someone born in `birth_month`: with k = months from the cohort start to the
// birth month, k >= 0 ? min(max_delay, k / step + 1) : 0.
int64_t RetirementDelayMonths(absl::CivilMonth birth_month, absl::CivilMonth cohort_start,
                              int64_t months_per_step, int64_t max_delay_months);

// The first day of the month after the one in which the teacher reaches base age + delay.
// FAILED_PRECONDITION naming the rule's field when the rule leaves one unset or invalid.
absl::StatusOr<absl::CivilDay> RetirementDate(absl::CivilDay birth_date,
                                              const common::v1::RetirementPolicy::Rule& rule);

// Picks the rule for `sex` (INVALID_ARGUMENT for SEX_UNSPECIFIED).
absl::StatusOr<absl::CivilDay> RetirementDate(absl::CivilDay birth_date, common::v1::Sex sex,
                                              const common::v1::RetirementPolicy& policy);

}  // namespace shidang::retirement
