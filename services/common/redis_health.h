#pragma once

// Whether Redis answers, for a service's health: a service whose store is down or stalled says
// NOT_SERVING (so the gateway's /readyz answers 503), and SERVING again once Redis answers, with
// no restart. Calls meanwhile still answer UNAVAILABLE within their Redis budget; this only makes
// the state visible to whoever probes health.
//
//   RedisHealthWatch watch(config, [&](bool up) { server.SetServing(up); });

#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/redis.h"

struct redisContext;  // hiredis's, kept out of this header

namespace shidang::redis {

class RedisHealthWatch {
 public:
  // PINGs the Redis of `config` every `interval` on one connection of its own, outside the
  // process's pools (a pool busy with calls must not look like a Redis that is down, and the
  // pools' metrics stay the calls'), each within config.command_timeout, and calls
  // `on_change(answered)` from its thread whenever the answer changes; it assumes Redis answers
  // at first.
  RedisHealthWatch(Config config, std::function<void(bool)> on_change,
                   absl::Duration interval = absl::Milliseconds(250));
  // Stops the probing (within one PING).
  ~RedisHealthWatch();
  RedisHealthWatch(const RedisHealthWatch&) = delete;
  RedisHealthWatch& operator=(const RedisHealthWatch&) = delete;

 private:
  void Probe();
  // One PING on the probe's connection, (re)connecting first when it has none.
  absl::Status Ping();

  Config config_;
  std::unique_ptr<redisContext, void (*)(redisContext*)> context_;
  std::function<void(bool)> on_change_;
  absl::Duration interval_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace shidang::redis
