#pragma once

// Rate limits per principal: one token bucket per key ("role:subject"), refilled continuously at
// `rate_per_second` up to `burst`. Buckets live in a few mutex-guarded shards so concurrent calls
// of different principals rarely contend; a shard that grows past its share of `max_keys` drops the
// buckets that have refilled completely (forgetting them changes nothing).

#include <array>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace shidang::gateway {

struct RateLimitConfig {
  // Tokens added per second; 0 or less disables the limit.
  double rate_per_second = 50;
  // Bucket size: how many calls may come at once after a quiet spell.
  double burst = 100;
  // Upper bound on remembered keys (memory bound under many principals).
  size_t max_keys = 100000;
};

class RateLimiter {
 public:
  explicit RateLimiter(RateLimitConfig config);

  struct Decision {
    bool allowed = true;
    // When refused: whole seconds until one token is back (at least 1), for `retry-after`.
    int64_t retry_after_seconds = 0;
  };

  // Takes one token from `key`'s bucket at time `now`.
  Decision Take(absl::string_view key, absl::Time now);

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time updated;
  };
  struct Shard {
    absl::Mutex mu;
    absl::flat_hash_map<std::string, Bucket> buckets ABSL_GUARDED_BY(mu);
  };
  static constexpr size_t kShards = 16;

  void DropFullBuckets(Shard& shard, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);

  const RateLimitConfig config_;
  std::array<Shard, kShards> shards_;
};

}  // namespace shidang::gateway
