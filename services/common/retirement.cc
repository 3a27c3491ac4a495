#include "services/common/retirement.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/common/dates.h"

namespace shidang::retirement {
namespace {

absl::Status PolicyUnset(absl::string_view field, absl::string_view what) {
  return absl::FailedPreconditionError(absl::StrCat("policy ", field, ": ", what));
}

}  // namespace

int64_t RetirementDelayMonths(absl::CivilMonth birth_month, absl::CivilMonth cohort_start,
                              int64_t months_per_step, int64_t max_delay_months) {
  const int64_t k = birth_month - cohort_start;
  if (k < 0 || months_per_step <= 0) return 0;
  return std::min(max_delay_months, k / months_per_step + 1);
}

absl::StatusOr<absl::CivilDay> RetirementDate(absl::CivilDay birth_date,
                                              const common::v1::RetirementPolicy::Rule& rule) {
  if (!rule.has_base_age_years() || rule.base_age_years() <= 0) {
    return PolicyUnset("retirement.base_age_years", "must be set and positive");
  }
  if (!rule.has_cohort_start_month()) {
    return PolicyUnset("retirement.cohort_start_month", "must be set (YYYY-MM)");
  }
  absl::StatusOr<absl::CivilMonth> cohort =
      dates::ParseMonth(rule.cohort_start_month(), "retirement.cohort_start_month");
  if (!cohort.ok()) return absl::FailedPreconditionError(cohort.status().message());
  if (!rule.has_months_per_step() || rule.months_per_step() <= 0) {
    return PolicyUnset("retirement.months_per_step", "must be set and positive");
  }
  if (!rule.has_max_delay_months() || rule.max_delay_months() < 0) {
    return PolicyUnset("retirement.max_delay_months", "must be set and >= 0");
  }
  const absl::CivilMonth born(birth_date);
  const int64_t delay =
      RetirementDelayMonths(born, *cohort, rule.months_per_step(), rule.max_delay_months());
  // The month in which they reach the age, then the first day of the month after it.
  const absl::CivilMonth reached =
      born + (12 * static_cast<int64_t>(rule.base_age_years()) + delay);
  return absl::CivilDay(reached + 1);
}

absl::StatusOr<absl::CivilDay> RetirementDate(absl::CivilDay birth_date, common::v1::Sex sex,
                                              const common::v1::RetirementPolicy& policy) {
  switch (sex) {
    case common::v1::SEX_MALE:
      if (!policy.has_male()) return PolicyUnset("retirement.male", "not set");
      return RetirementDate(birth_date, policy.male());
    case common::v1::SEX_FEMALE:
      if (!policy.has_female()) return PolicyUnset("retirement.female", "not set");
      return RetirementDate(birth_date, policy.female());
    default:
      return absl::InvalidArgumentError(
          "sex: must be SEX_MALE or SEX_FEMALE to compute a retirement date");
  }
}

}  // namespace shidang::retirement
