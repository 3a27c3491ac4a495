#pragma once

// What the benches share: medians, timing, dying with a message, and a service under bench (a
// real process on its own redis-server, called as one principal).

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/principal.h"
#include "shidang/common/v1/principal.pb.h"
#include "tests/kit/files.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/service_process.h"

namespace shidang::bench {

inline double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Prints `what` and ends the bench: a bench that cannot measure what it says stops.
[[noreturn]] inline void Die(const std::string& what) {
  std::fprintf(stderr, "%s\n", what.c_str());
  std::exit(1);
}

// Times `call` `repeats` times, each after an untimed `before`; the median in seconds.
template <typename Before, typename F>
double TimeMedianAfter(int repeats, Before&& before, F&& call) {
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    before();
    const absl::Time start = absl::Now();
    call();
    times.push_back(absl::ToDoubleSeconds(absl::Now() - start));
  }
  return Median(times);
}

// Times `call` `repeats` times; the median in seconds.
template <typename F>
double TimeMedian(int repeats, F&& call) {
  return TimeMedianAfter(
      repeats, [] {}, std::forward<F>(call));
}

// `binary` started with --today=`today` on a redis-server of its own, and a stub to it that
// takes answers of up to 64 MiB; calls go as `caller`.
template <typename Service>
class ServiceUnderBench {
 public:
  ServiceUnderBench(const std::string& binary, const std::string& today,
                    common::v1::Principal caller)
      : caller_(std::move(caller)) {
    testing::WriteFile(keys_.path() + "/principal.key", std::string(40, 'k'));
    auto process = testing::ServiceProcess::Start(
        binary, {"--redis=" + redis_.address(),
                 "--principal_key_file=" + keys_.path() + "/principal.key", "--today=" + today});
    if (!process.ok()) Die(absl::StrCat("cannot start the service: ", process.status().ToString()));
    process_ = std::move(*process);
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    stub_ = Service::NewStub(
        grpc::CreateCustomChannel(process_->address(), grpc::InsecureChannelCredentials(), args));
  }

  testing::RedisServer& redis() { return redis_; }
  const common::v1::Principal& caller() const { return caller_; }

  // Calls `method` as the caller with a 300 s deadline; a failed call ends the bench with the
  // service's stderr.
  template <typename Req, typename Resp>
  void Call(grpc::Status (Service::Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
            const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    Sign(&ctx, std::chrono::seconds(300));
    grpc::Status s = ((*stub_).*method)(&ctx, req, resp);
    if (!s.ok()) Die(absl::StrCat("rpc failed: ", s.error_message(), "\n", process_->StderrText()));
  }

 protected:
  // Gives `ctx` a deadline `timeout` from now and the caller's signed principal.
  void Sign(grpc::ClientContext* ctx, std::chrono::seconds timeout) const {
    ctx->set_deadline(std::chrono::system_clock::now() + timeout);
    signer_.Attach(ctx, caller_);
  }

  typename Service::Stub& stub() { return *stub_; }

 private:
  testing::RedisServer redis_;
  testing::TempDir keys_;
  std::unique_ptr<testing::ServiceProcess> process_;
  std::unique_ptr<typename Service::Stub> stub_;
  PrincipalSigner signer_{std::string(40, 'k')};
  common::v1::Principal caller_;
};

}  // namespace shidang::bench
