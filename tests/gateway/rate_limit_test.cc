#include "gateway/rate_limit.h"

#include <gtest/gtest.h>

namespace shidang::gateway {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1725148800);

TEST(RateLimiterTest, AllowsTheBurstThenRefusesWithRetryAfter) {
  RateLimiter limiter({/*rate_per_second=*/2, /*burst=*/3});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Take("teacher:t1", kStart).allowed) << i;
  const RateLimiter::Decision refused = limiter.Take("teacher:t1", kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_seconds, 1);  // half a second to the next token, rounded up
}

TEST(RateLimiterTest, RefillsAtTheRate) {
  RateLimiter limiter({/*rate_per_second=*/2, /*burst=*/2});
  EXPECT_TRUE(limiter.Take("k", kStart).allowed);
  EXPECT_TRUE(limiter.Take("k", kStart).allowed);
  EXPECT_FALSE(limiter.Take("k", kStart).allowed);
  EXPECT_FALSE(limiter.Take("k", kStart + absl::Milliseconds(400)).allowed);
  EXPECT_TRUE(limiter.Take("k", kStart + absl::Milliseconds(1000)).allowed);
  // Long quiet spells refill only up to the burst.
  const absl::Time later = kStart + absl::Hours(1);
  EXPECT_TRUE(limiter.Take("k", later).allowed);
  EXPECT_TRUE(limiter.Take("k", later).allowed);
  EXPECT_FALSE(limiter.Take("k", later).allowed);
}

TEST(RateLimiterTest, SlowRatesAskForLongerWaits) {
  RateLimiter limiter({/*rate_per_second=*/0.1, /*burst=*/1});
  EXPECT_TRUE(limiter.Take("k", kStart).allowed);
  const RateLimiter::Decision refused = limiter.Take("k", kStart + absl::Seconds(1));
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_seconds, 9);
}

TEST(RateLimiterTest, PrincipalsHaveTheirOwnBuckets) {
  RateLimiter limiter({/*rate_per_second=*/1, /*burst=*/1});
  EXPECT_TRUE(limiter.Take("teacher:t1", kStart).allowed);
  EXPECT_FALSE(limiter.Take("teacher:t1", kStart).allowed);
  EXPECT_TRUE(limiter.Take("teacher:t2", kStart).allowed);
  EXPECT_TRUE(limiter.Take("county_hr:t1", kStart).allowed);
}

TEST(RateLimiterTest, ZeroRateTurnsTheLimitOff) {
  RateLimiter limiter({/*rate_per_second=*/0, /*burst=*/1});
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.Take("k", kStart).allowed);
}

TEST(RateLimiterTest, StaysBoundedUnderManyPrincipalsAndStillLimitsTheActiveOne) {
  RateLimiter limiter({/*rate_per_second=*/1, /*burst=*/1, /*max_keys=*/64});
  EXPECT_TRUE(limiter.Take("hot", kStart).allowed);
  for (int i = 0; i < 10000; ++i) limiter.Take("cold" + std::to_string(i), kStart);
  // "hot" may have been forgotten under this flood (a fresh burst), but never more than that.
  limiter.Take("hot", kStart);
  EXPECT_FALSE(limiter.Take("hot", kStart).allowed);
}

}  // namespace
}  // namespace shidang::gateway
