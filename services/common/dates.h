#pragma once

// Calendar dates as the policy texts count them (DOMAIN §6). Dates are ISO YYYY-MM-DD on the wire
// and absl::CivilDay inside.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace shidang::dates {

// Parses exactly YYYY-MM-DD (a real calendar day, years 1900..2199). `field` names the request
// field in the INVALID_ARGUMENT message.
absl::StatusOr<absl::CivilDay> ParseDate(absl::string_view text, absl::string_view field = "date");

// Parses YYYY-MM.
absl::StatusOr<absl::CivilMonth> ParseMonth(absl::string_view text,
                                            absl::string_view field = "month");

std::string FormatDate(absl::CivilDay day);
std::string FormatMonth(absl::CivilMonth month);

// The same day `months` months later (or earlier, when negative). A day the target month lacks
// (the 31st, 29 February) gives the 1st of the month after: ShiftMonths(2020-01-31, 1) is
// 2020-03-01, ShiftYears(2020-02-29, 5) is 2025-03-01.
absl::CivilDay ShiftMonths(absl::CivilDay day, int64_t months);
absl::CivilDay ShiftYears(absl::CivilDay day, int64_t years);

// A closed range of days [first, last].
struct Period {
  absl::CivilDay first;
  absl::CivilDay last;

  bool Contains(absl::CivilDay day) const { return first <= day && day <= last; }
  // Number of days, both ends included.
  int64_t Days() const { return last - first + 1; }
};

// A period of `years` years starting on `start`: start through the day before
// ShiftYears(start, years).
Period YearsFrom(absl::CivilDay start, int64_t years);
Period MonthsFrom(absl::CivilDay start, int64_t months);

// The k-th period of `years` years counted from `anchor` that holds `day` (k may be negative):
// period k runs from ShiftYears(anchor, k*years) through ShiftYears(anchor, (k+1)*years) - 1.
Period PeriodHolding(absl::CivilDay anchor, int64_t years, absl::CivilDay day);

// True when `years` whole years have passed since `since` on `day`: ShiftYears(since, years) <=
// day.
bool WholeYearsSince(absl::CivilDay since, int64_t years, absl::CivilDay day);

}  // namespace shidang::dates
