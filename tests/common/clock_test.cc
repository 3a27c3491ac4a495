#include "services/common/clock.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace shidang {
namespace {

absl::Time Utc(int y, int mo, int d, int h, int mi, int s) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

TEST(ClockTest, TodayIsTheShanghaiDate) {
  // 16:00 UTC is midnight in Shanghai: the date turns eight hours before it does in UTC.
  FixedClock clock(Utc(2024, 12, 31, 15, 59, 59));
  EXPECT_EQ(clock.Today(), absl::CivilDay(2024, 12, 31));
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(clock.Today(), absl::CivilDay(2025, 1, 1));
  // Summer too: no daylight saving time.
  clock.SetNow(Utc(2025, 7, 1, 15, 59, 59));
  EXPECT_EQ(clock.Today(), absl::CivilDay(2025, 7, 1));
  clock.SetNow(Utc(2025, 7, 1, 16, 0, 0));
  EXPECT_EQ(clock.Today(), absl::CivilDay(2025, 7, 2));
}

TEST(ClockTest, SystemClockFollowsNow) {
  Clock clock;
  const absl::Time before = absl::Now();
  const absl::Time now = clock.Now();
  const absl::CivilDay today = clock.Today();
  const absl::Time after = absl::Now();
  EXPECT_LE(before, now);
  EXPECT_LE(now, after);
  // The date in UTC+8 at some instant between before and after (a midnight may pass between).
  const absl::CivilDay first = absl::ToCivilDay(before + absl::Hours(8), absl::UTCTimeZone());
  const absl::CivilDay last = absl::ToCivilDay(after + absl::Hours(8), absl::UTCTimeZone());
  EXPECT_TRUE(today == first || today == last) << today;
}

TEST(FixedClockTest, SetTodayIsShanghaiMidnightAndAdvanceMovesIt) {
  FixedClock clock(absl::CivilDay(2025, 9, 1));
  EXPECT_EQ(clock.Now(), Utc(2025, 8, 31, 16, 0, 0));
  EXPECT_EQ(clock.Today(), absl::CivilDay(2025, 9, 1));
  clock.Advance(absl::Hours(23) + absl::Minutes(59));
  EXPECT_EQ(clock.Today(), absl::CivilDay(2025, 9, 1));
  clock.Advance(absl::Minutes(1));
  EXPECT_EQ(clock.Today(), absl::CivilDay(2025, 9, 2));
  clock.Advance(-absl::Hours(48));
  EXPECT_EQ(clock.Today(), absl::CivilDay(2025, 8, 31));
  clock.SetToday(absl::CivilDay(2024, 2, 29));
  EXPECT_EQ(clock.Today(), absl::CivilDay(2024, 2, 29));
  EXPECT_EQ(clock.Now(), Utc(2024, 2, 28, 16, 0, 0));
  // It stands still.
  const absl::Time pinned = clock.Now();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(clock.Now(), pinned);
}

TEST(FixedClockTest, AdvancesFromManyThreadsAddUp) {
  FixedClock clock(absl::CivilDay(2025, 1, 1));
  const absl::Time start = clock.Now();
  constexpr int kThreads = 4;
  constexpr int kSteps = 2000;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&clock] {
      for (int i = 0; i < kSteps; ++i) {
        clock.Advance(absl::Seconds(1));
        (void)clock.Today();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(clock.Now(), start + absl::Seconds(kThreads * kSteps));
}

TEST(ClockFromFlagValueTest, EmptyIsTheSystemClockADateIsPinned) {
  auto system = ClockFromFlagValue("");
  ASSERT_TRUE(system.ok()) << system.status();
  EXPECT_EQ(dynamic_cast<FixedClock*>(system->get()), nullptr);
  EXPECT_LE(absl::AbsDuration((*system)->Now() - absl::Now()), absl::Seconds(5));

  auto pinned = ClockFromFlagValue("2025-09-01");
  ASSERT_TRUE(pinned.ok()) << pinned.status();
  EXPECT_NE(dynamic_cast<FixedClock*>(pinned->get()), nullptr);
  EXPECT_EQ((*pinned)->Today(), absl::CivilDay(2025, 9, 1));

  for (const char* bad : {"2025-02-30", "2025-9-1", "today", "2025-09-01 "}) {
    auto clock = ClockFromFlagValue(bad);
    EXPECT_EQ(clock.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(clock.status().message().find("--today"), absl::string_view::npos) << clock.status();
  }
}

}  // namespace
}  // namespace shidang
