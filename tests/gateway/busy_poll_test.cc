// The forwarder's busy polling (--busy_poll_us, --busy_poll_max_calls; grpc_front.h): while few
// calls are open its loop keeps polling instead of sleeping, for at most busy_poll after its last
// event. What the tests see is the gateway's CPU time while a slow call is open (the echo backend
// sleeps): a polling loop uses CPU, a sleeping one almost none. They measure no speed (that is
// bench/gateway_bench.sh's job), only whether the loop slept.

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

namespace pb = google::protobuf;

// The public API's descriptor set plus the test service, its Echo open to teachers.
std::string EchoDescriptorSet() {
  pb::FileDescriptorSet set = testing::DescriptorSetWithTestService(
      SHIDANG_DESCRIPTOR_SET, SHIDANG_TESTING_DESCRIPTOR_SET,
      [](const std::string&, pb::MethodDescriptorProto* method) {
        if (method->name() == "Echo") {
          method->mutable_options()->AddExtension(common::v1::roles, common::v1::ROLE_TEACHER);
        }
      });
  return set.SerializeAsString();
}

// CPU time of every thread of `pid` so far (/proc/<pid>/task/*/schedstat, in nanoseconds).
int64_t CpuNanos(pid_t pid) {
  int64_t total = 0;
  std::error_code error;
  for (const auto& task :
       std::filesystem::directory_iterator(absl::StrCat("/proc/", pid, "/task"), error)) {
    std::ifstream schedstat(task.path() / "schedstat");
    int64_t nanos = 0;
    if (schedstat >> nanos) total += nanos;
  }
  EXPECT_FALSE(error) << error.message();
  return total;
}

class GrpcFrontBusyPollTest : public GatewayFixture {
 protected:
  GrpcFrontBusyPollTest() : GatewayFixture(SHIDANG_GATEWAY, SHIDANG_ECHO_SERVER) {}

  void SetUp() override {
    WriteFiles(EchoDescriptorSet());
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

  // The gateway's CPU time while `calls` calls of `sleep_ms` each are open.
  absl::Duration CpuDuring(int calls, int sleep_ms) {
    const int64_t before = CpuNanos(gateway_->pid());
    const grpc::Status status = SlowEchoes(calls, sleep_ms);
    EXPECT_TRUE(status.ok()) << status.error_message();
    const absl::Duration cpu = absl::Nanoseconds(CpuNanos(gateway_->pid()) - before);
    std::fprintf(stderr, "gateway CPU with %d call(s) of %d ms open: %s\n", calls, sleep_ms,
                 absl::FormatDuration(cpu).c_str());
    return cpu;
  }

  std::string token_;
  std::unique_ptr<v1::EchoService::Stub> stub_;
};

// Bounds with a wide margin either way: a sleeping loop uses a few ms (a sanitized build
// included); a polling one all it is given of a core, at least a quarter on a busy 2-core machine.
TEST_F(GrpcFrontBusyPollTest, OffTheLoopSleepsWhileACallIsOpen) {
  ASSERT_NO_FATAL_FAILURE(StartGateway({"--busy_poll_us=0"}));
  EXPECT_LT(CpuDuring(1, 900), absl::Milliseconds(40));
}

TEST_F(GrpcFrontBusyPollTest, OnTheLoopPollsForAtMostBusyPollAfterItsLastEvent) {
  // 250 ms of polling, then sleep for the rest of the 900 ms call.
  ASSERT_NO_FATAL_FAILURE(StartGateway({"--busy_poll_us=250000", "--busy_poll_max_calls=1"}));
  const absl::Duration cpu = CpuDuring(1, 900);
  EXPECT_GT(cpu, absl::Milliseconds(60));
  EXPECT_LT(cpu, absl::Milliseconds(500));
}

TEST_F(GrpcFrontBusyPollTest, NoPollingWhileMoreCallsAreOpenThanBusyPollMaxCalls) {
  ASSERT_NO_FATAL_FAILURE(StartGateway({"--busy_poll_us=250000", "--busy_poll_max_calls=1"}));
  EXPECT_LT(CpuDuring(2, 900), absl::Milliseconds(40));
}

}  // namespace
}  // namespace shidang::testing
