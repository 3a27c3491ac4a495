#include "services/common/redis_health.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"

namespace shidang::redis {
RedisHealthWatch::RedisHealthWatch(Config config, std::function<void(bool)> on_change,
                                   absl::Duration interval)
    : config_(std::move(config)),
      context_(nullptr, redisFree),
      on_change_(std::move(on_change)),
      interval_(interval),
      thread_([this] { Probe(); }) {}

RedisHealthWatch::~RedisHealthWatch() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

absl::Status RedisHealthWatch::Ping() {
  if (context_ == nullptr) {
    const timeval connect = absl::ToTimeval(config_.connect_timeout);
    context_.reset(config_.unix_socket.empty()
                       ? redisConnectWithTimeout(config_.host.c_str(), config_.port, connect)
                       : redisConnectUnixWithTimeout(config_.unix_socket.c_str(), connect));
    if (context_ == nullptr || context_->err != 0) {
      const std::string why = context_ == nullptr ? "no memory" : context_->errstr;
      context_.reset();
      return absl::UnavailableError(absl::StrCat("cannot connect: ", why));
    }
    redisSetTimeout(context_.get(), absl::ToTimeval(config_.command_timeout));
  }
  const char* argv[] = {"PING"};
  const size_t lengths[] = {4};
  auto* reply = static_cast<redisReply*>(redisCommandArgv(context_.get(), 1, argv, lengths));
  if (reply == nullptr) {
    // A context that saw an error is discarded; the next probe connects again.
    const std::string why = context_->errstr;
    context_.reset();
    return absl::UnavailableError(absl::StrCat("no answer: ", why));
  }
  const bool pong = reply->type == REDIS_REPLY_STATUS;
  freeReplyObject(reply);
  return pong ? absl::OkStatus() : absl::UnavailableError("PING answered an error");
}

void RedisHealthWatch::Probe() {
  bool answered = true;
  while (true) {
    const absl::Status pong = Ping();
    if (pong.ok() != answered) {
      answered = pong.ok();
      if (answered) {
        LogInfo("Redis answers again: SERVING");
      } else {
        LogError("Redis does not answer (", pong.ToString(), "): NOT_SERVING");
      }
      on_change_(answered);
    }
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stop_), interval_)) return;
  }
}

}  // namespace shidang::redis
