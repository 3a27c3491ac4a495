#include "gateway/rate_limit.h"

#include <algorithm>
#include <cmath>

#include "absl/hash/hash.h"

namespace shidang::gateway {

RateLimiter::RateLimiter(RateLimitConfig config) : config_(config) {}

RateLimiter::Decision RateLimiter::Take(absl::string_view key, absl::Time now) {
  if (config_.rate_per_second <= 0) return {};
  Shard& shard = shards_[absl::Hash<absl::string_view>{}(key) % kShards];
  absl::MutexLock lock(&shard.mu);
  auto it = shard.buckets.find(key);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= std::max<size_t>(1, config_.max_keys / kShards)) {
      DropFullBuckets(shard, now);
    }
    it = shard.buckets.emplace(std::string(key), Bucket{config_.burst, now}).first;
  }
  Bucket& bucket = it->second;
  const double elapsed = std::max(0.0, absl::ToDoubleSeconds(now - bucket.updated));
  bucket.tokens = std::min(config_.burst, bucket.tokens + elapsed * config_.rate_per_second);
  bucket.updated = std::max(bucket.updated, now);
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return {};
  }
  const double wait = (1.0 - bucket.tokens) / config_.rate_per_second;
  return {false, std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait)))};
}

void RateLimiter::DropFullBuckets(Shard& shard, absl::Time now) {
  const absl::Duration to_fill = absl::Seconds(config_.burst / config_.rate_per_second);
  for (auto it = shard.buckets.begin(); it != shard.buckets.end();) {
    auto current = it++;
    if (now - current->second.updated >= to_fill) shard.buckets.erase(current);
  }
  // Still full of active principals: forget them all rather than grow without bound; at worst a
  // principal gets one extra burst.
  if (shard.buckets.size() >= std::max<size_t>(1, config_.max_keys / kShards))
    shard.buckets.clear();
}

}  // namespace shidang::gateway
