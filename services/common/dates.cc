#include "services/common/dates.h"

#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/plain_violation.h"

namespace shidang::dates {
namespace {

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return !s.empty();
}

absl::Status BadDate(absl::string_view field, absl::string_view text, absl::string_view want) {
  const std::string description = absl::StrCat("'", text, "' is not a date; want ", want);
  return WithPlainFieldViolation(absl::InvalidArgumentError(absl::StrCat(field, ": ", description)),
                                 {std::string(field), "date_format", description});
}

}  // namespace

absl::StatusOr<absl::CivilDay> ParseDate(absl::string_view text, absl::string_view field) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !AllDigits(text.substr(0, 4)) ||
      !AllDigits(text.substr(5, 2)) || !AllDigits(text.substr(8, 2))) {
    return BadDate(field, text, "YYYY-MM-DD");
  }
  int y = 0, m = 0, d = 0;
  (void)absl::SimpleAtoi(text.substr(0, 4), &y);
  (void)absl::SimpleAtoi(text.substr(5, 2), &m);
  (void)absl::SimpleAtoi(text.substr(8, 2), &d);
  absl::CivilDay day(y, m, d);
  // CivilDay normalises 2021-02-30 to 2021-03-02; a real date survives the round trip.
  if (day.year() != y || day.month() != m || day.day() != d || y < 1900 || y > 2199) {
    return BadDate(field, text, "a real calendar day YYYY-MM-DD between 1900 and 2199");
  }
  return day;
}

absl::StatusOr<absl::CivilMonth> ParseMonth(absl::string_view text, absl::string_view field) {
  if (text.size() != 7 || text[4] != '-' || !AllDigits(text.substr(0, 4)) ||
      !AllDigits(text.substr(5, 2))) {
    return BadDate(field, text, "YYYY-MM");
  }
  int y = 0, m = 0;
  (void)absl::SimpleAtoi(text.substr(0, 4), &y);
  (void)absl::SimpleAtoi(text.substr(5, 2), &m);
  if (m < 1 || m > 12 || y < 1900 || y > 2199) return BadDate(field, text, "YYYY-MM");
  return absl::CivilMonth(y, m);
}

std::string FormatDate(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

std::string FormatMonth(absl::CivilMonth month) {
  return absl::StrFormat("%04d-%02d", month.year(), month.month());
}

absl::CivilDay ShiftMonths(absl::CivilDay day, int64_t months) {
  absl::CivilMonth target = absl::CivilMonth(day) + months;
  absl::CivilDay candidate(target.year(), target.month(), day.day());
  // CivilDay normalises an overflowing day into the next month (2021-02-31 -> 2021-03-03); the
  // policy texts want the 1st of that next month instead.
  if (candidate.month() != target.month()) return absl::CivilDay(target + 1);
  return candidate;
}

absl::CivilDay ShiftYears(absl::CivilDay day, int64_t years) {
  return ShiftMonths(day, 12 * years);
}

Period YearsFrom(absl::CivilDay start, int64_t years) {
  return Period{start, ShiftYears(start, years) - 1};
}

Period MonthsFrom(absl::CivilDay start, int64_t months) {
  return Period{start, ShiftMonths(start, months) - 1};
}

Period PeriodHolding(absl::CivilDay anchor, int64_t years, absl::CivilDay day) {
  // Estimate k from the year difference, then step to the period that holds the day.
  int64_t k = (day.year() - anchor.year()) / years;
  if (day.year() < anchor.year() && (day.year() - anchor.year()) % years != 0) --k;
  while (ShiftYears(anchor, k * years) > day) --k;
  while (ShiftYears(anchor, (k + 1) * years) <= day) ++k;
  return Period{ShiftYears(anchor, k * years), ShiftYears(anchor, (k + 1) * years) - 1};
}

bool WholeYearsSince(absl::CivilDay since, int64_t years, absl::CivilDay day) {
  return ShiftYears(since, years) <= day;
}

}  // namespace shidang::dates
