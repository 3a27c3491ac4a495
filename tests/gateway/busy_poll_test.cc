// The forwarder's busy polling (--busy_poll_us, --busy_poll_max_calls; grpc_front.h): while few
// calls are open its loop keeps polling instead of sleeping, for at most busy_poll after its last
// event. What the tests see is what the scheduler gave the gateway's threads while a slow call is
// open (the echo backend sleeps). They measure no speed (that is bench/gateway_bench.sh's job),
// only whether the loop slept, and each with the figure the machine's load cannot move:
// - that it slept: CPU time. A sleeping loop uses a few ms however busy the machine is, while a
//   spinning one gets at least its share of a core (tens of ms even with 16 processes runnable on
//   2 cores). Runnable time would not do here: a sleeping loop's few wakeups each wait in the run
//   queue of a loaded machine, which added up to 90 ms of a 900 ms call.
// - that it polled: runnable time (on a CPU or waiting in the run queue for one). A polling loop is
//   runnable all through its polling, whatever the load; its CPU time is its share of a core, which
//   on a loaded machine fell to 14-19 ms of 250 ms of polling and failed a lower bound on CPU.

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.pb.h"
#include "gtest/gtest.h"
#include "kit/testing.grpc.pb.h"  // generated from tests/kit/testing.proto
#include "services/common/jwt.h"
#include "shidang/common/v1/options.pb.h"
#include "tests/kit/descriptor_sets.h"
#include "tests/kit/files.h"
#include "tests/kit/gateway_files.h"
#include "tests/kit/gateway_fixture.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/service_process.h"

namespace shidang::testing {
namespace {

// What the threads of `pid` have been given so far (/proc/<pid>/task/*/schedstat): time on a CPU,
// time runnable (on a CPU or waiting in the run queue), both in nanoseconds, and wakeups (times
// switched in).
struct SchedTimes {
  int64_t cpu_nanos = 0;
  int64_t runnable_nanos = 0;
  int64_t switched_in = 0;
};

SchedTimes SchedTimesOf(pid_t pid) {
  SchedTimes total;
  std::error_code error;
  for (const auto& task :
       std::filesystem::directory_iterator(absl::StrCat("/proc/", pid, "/task"), error)) {
    std::ifstream schedstat(task.path() / "schedstat");
    int64_t on_cpu = 0, waiting = 0, slices = 0;
    if (!(schedstat >> on_cpu >> waiting >> slices)) continue;  // a thread that just ended
    total.cpu_nanos += on_cpu;
    total.runnable_nanos += on_cpu + waiting;
    total.switched_in += slices;
  }
  EXPECT_FALSE(error) << error.message();
  return total;
}

class GrpcFrontBusyPollTest : public GatewayFixture {
 protected:
  GrpcFrontBusyPollTest() : GatewayFixture(SHIDANG_GATEWAY, SHIDANG_ECHO_SERVER) {}

  void SetUp() override {
    WriteFiles(testing::DescriptorSetWithEchoOpenTo(
        SHIDANG_DESCRIPTOR_SET, SHIDANG_TESTING_DESCRIPTOR_SET, common::v1::ROLE_TEACHER));
    ASSERT_NO_FATAL_FAILURE(StartEcho());
    common::v1::Principal claims;
    claims.set_role(common::v1::ROLE_TEACHER);
    claims.set_subject("t-busy-poll");
    token_ = TokenFor(claims);
    ASSERT_FALSE(token_.empty());
  }

  void StartGateway(std::vector<std::string> busy_poll_flags) {
    std::vector<std::string> args = {
        "--backends=shidang.testing.v1.EchoService=" + echo_->address(),
        "--rate_per_second=0",
        // Quiet while measuring: no health rounds during the calls.
        "--health_interval_ms=60000",
    };
    args.insert(args.end(), busy_poll_flags.begin(), busy_poll_flags.end());
    ASSERT_NO_FATAL_FAILURE(LaunchGateway(args));
    stub_ = v1::EchoService::NewStub(channel_);
    // A first call opens the backend connections and caches the token.
    ASSERT_TRUE(SlowEchoes(1, 0).ok());
  }

  // `calls` concurrent Echo calls through the gateway, each sleeping `sleep_ms` at the backend;
  // the first status that is not OK, else OK.
  grpc::Status SlowEchoes(int calls, int sleep_ms) {
    std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
    std::vector<v1::EchoRequest> requests(calls);
    std::vector<v1::EchoResponse> responses(calls);
    std::vector<grpc::Status> statuses(calls);
    std::vector<absl::Notification> done(calls);
    for (int i = 0; i < calls; ++i) {
      contexts.push_back(std::make_unique<grpc::ClientContext>());
      contexts.back()->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
      contexts.back()->AddMetadata("authorization", "Bearer " + token_);
      requests[i].set_text("slow");
      requests[i].set_sleep_ms(sleep_ms);
      stub_->async()->Echo(contexts[i].get(), &requests[i], &responses[i],
                           [&statuses, &done, i](grpc::Status status) {
                             statuses[i] = std::move(status);
                             done[i].Notify();
                           });
    }
    for (auto& notification : done) notification.WaitForNotification();
    for (const grpc::Status& status : statuses) {
      if (!status.ok()) return status;
    }
    return grpc::Status::OK;
  }

  // What the gateway's threads were given while `calls` calls of `sleep_ms` each are open.
  SchedTimes During(int calls, int sleep_ms) {
    const SchedTimes before = SchedTimesOf(gateway_->pid());
    const grpc::Status status = SlowEchoes(calls, sleep_ms);
    EXPECT_TRUE(status.ok()) << status.error_message();
    const SchedTimes after = SchedTimesOf(gateway_->pid());
    const SchedTimes spent{after.cpu_nanos - before.cpu_nanos,
                           after.runnable_nanos - before.runnable_nanos,
                           after.switched_in - before.switched_in};
    std::fprintf(stderr,
                 "gateway with %d call(s) of %d ms open: on a CPU %s, runnable %s, %lld wakeups\n",
                 calls, sleep_ms, absl::FormatDuration(absl::Nanoseconds(spent.cpu_nanos)).c_str(),
                 absl::FormatDuration(absl::Nanoseconds(spent.runnable_nanos)).c_str(),
                 static_cast<long long>(spent.switched_in));
    return spent;
  }

  std::string token_;
  std::unique_ptr<v1::EchoService::Stub> stub_;
};

// Bounds with a wide margin either way: a sleeping loop uses a few ms of CPU (a sanitized build
// included); a polling one is runnable for all of its 250 ms window, and for the whole 900 ms
// call if it never went back to sleep.
TEST_F(GrpcFrontBusyPollTest, OffTheLoopSleepsWhileACallIsOpen) {
  ASSERT_NO_FATAL_FAILURE(StartGateway({"--busy_poll_us=0"}));
  EXPECT_LT(absl::Nanoseconds(During(1, 900).cpu_nanos), absl::Milliseconds(40));
}

TEST_F(GrpcFrontBusyPollTest, OnTheLoopPollsForAtMostBusyPollAfterItsLastEvent) {
  // 250 ms of polling, then sleep for the rest of the 900 ms call.
  ASSERT_NO_FATAL_FAILURE(StartGateway({"--busy_poll_us=250000", "--busy_poll_max_calls=1"}));
  const absl::Duration runnable = absl::Nanoseconds(During(1, 900).runnable_nanos);
  EXPECT_GT(runnable, absl::Milliseconds(200));
  EXPECT_LT(runnable, absl::Milliseconds(750));
}

TEST_F(GrpcFrontBusyPollTest, NoPollingWhileMoreCallsAreOpenThanBusyPollMaxCalls) {
  ASSERT_NO_FATAL_FAILURE(StartGateway({"--busy_poll_us=250000", "--busy_poll_max_calls=1"}));
  EXPECT_LT(absl::Nanoseconds(During(2, 900).cpu_nanos), absl::Milliseconds(40));
}

}  // namespace
}  // namespace shidang::testing
