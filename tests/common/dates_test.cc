#include "services/common/dates.h"

#include "gtest/gtest.h"

namespace shidang::dates {
namespace {

absl::CivilDay D(int y, int m, int d) { return absl::CivilDay(y, m, d); }

TEST(ParseDateTest, AcceptsRealDaysOnly) {
  EXPECT_EQ(*ParseDate("2024-02-29"), D(2024, 2, 29));
  EXPECT_FALSE(ParseDate("2023-02-29").ok());
  EXPECT_FALSE(ParseDate("2023-13-01").ok());
  EXPECT_FALSE(ParseDate("2023-1-01").ok());
  EXPECT_FALSE(ParseDate("2023/01/01").ok());
  EXPECT_FALSE(ParseDate("").ok());
  EXPECT_FALSE(ParseDate("+023-01-01").ok());
  auto bad = ParseDate("2023-02-30", "hire_date");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("hire_date"), absl::string_view::npos);
  EXPECT_EQ(FormatDate(D(2021, 1, 5)), "2021-01-05");
  EXPECT_EQ(*ParseMonth("1965-01"), absl::CivilMonth(1965, 1));
  EXPECT_FALSE(ParseMonth("1965-00").ok());
}

TEST(ShiftTest, MissingDayGoesToFirstOfNextMonth) {
  EXPECT_EQ(ShiftYears(D(2020, 2, 29), 5), D(2025, 3, 1));
  EXPECT_EQ(ShiftYears(D(2020, 2, 29), 4), D(2024, 2, 29));
  EXPECT_EQ(ShiftMonths(D(2021, 1, 31), 1), D(2021, 3, 1));
  EXPECT_EQ(ShiftMonths(D(2021, 3, 31), 1), D(2021, 5, 1));
  EXPECT_EQ(ShiftMonths(D(2021, 3, 30), 1), D(2021, 4, 30));
  EXPECT_EQ(ShiftMonths(D(2021, 12, 15), 1), D(2022, 1, 15));
  EXPECT_EQ(ShiftMonths(D(2021, 3, 31), -1), D(2021, 3, 1));
}

TEST(PeriodTest, FiveYearCyclesPerDomain) {
  Period p = YearsFrom(D(2021, 1, 1), 5);
  EXPECT_EQ(p.first, D(2021, 1, 1));
  EXPECT_EQ(p.last, D(2025, 12, 31));
  EXPECT_EQ(p.Days(), 1826);
  Period leap = YearsFrom(D(2020, 2, 29), 5);
  EXPECT_EQ(leap.last, D(2025, 2, 28));
}

TEST(PeriodTest, PeriodHoldingCountsFromTheAnchor) {
  absl::CivilDay anchor = D(2020, 2, 29);
  Period p0 = PeriodHolding(anchor, 5, D(2025, 2, 28));
  EXPECT_EQ(p0.first, D(2020, 2, 29));
  EXPECT_EQ(p0.last, D(2025, 2, 28));
  Period p1 = PeriodHolding(anchor, 5, D(2025, 3, 1));
  EXPECT_EQ(p1.first, D(2025, 3, 1));
  // Cycle 2 is counted from the anchor (2030-03-01), not chained from cycle 1's end.
  Period p2 = PeriodHolding(anchor, 5, D(2031, 1, 1));
  EXPECT_EQ(p2.first, D(2030, 3, 1));
  EXPECT_EQ(p2.last, D(2035, 2, 28));
  Period before = PeriodHolding(D(2021, 1, 1), 5, D(2020, 12, 31));
  EXPECT_EQ(before.first, D(2016, 1, 1));
  EXPECT_EQ(before.last, D(2020, 12, 31));
  Period far_before = PeriodHolding(D(2021, 1, 1), 5, D(2009, 6, 1));
  EXPECT_EQ(far_before.first, D(2006, 1, 1));
  // Every day of several cycles lies in exactly the period that claims it.
  for (absl::CivilDay day = D(2014, 1, 1); day < D(2036, 1, 1); day += 17) {
    Period p = PeriodHolding(anchor, 5, day);
    EXPECT_TRUE(p.Contains(day)) << FormatDate(day);
  }
}

TEST(WholeYearsSinceTest, ExactlyNYearsCounts) {
  EXPECT_TRUE(WholeYearsSince(D(2019, 9, 1), 6, D(2025, 9, 1)));
  EXPECT_FALSE(WholeYearsSince(D(2019, 9, 2), 6, D(2025, 9, 1)));
}

}  // namespace
}  // namespace shidang::dates
