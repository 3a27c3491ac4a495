// A service's health follows its Redis (services/common/redis_health.h): shidang-echo-server as a
// process on the real bootstrap, with a Redis of its own that the test stalls (SIGSTOP) and kills.

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "kit/testing.grpc.pb.h"  // generated from tests/kit/testing.proto
#include "tests/kit/files.h"
#include "tests/kit/health_check.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/service_process.h"

namespace shidang::testing {
namespace {

using HealthStatus = v1::HealthCheckResponse::ServingStatus;

class RedisHealthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_.path() + "/principal.key", RandomBytes(32));
    auto process = ServiceProcess::Start(SHIDANG_ECHO_SERVER,
                                         {"--principal_key_file=" + dir_.path() + "/principal.key",
                                          "--redis=" + redis_.address(), "--today=2024-09-01"});
    ASSERT_TRUE(process.ok()) << process.status();
    process_ = *std::move(process);
    channel_ = grpc::CreateChannel(process_->address(), grpc::InsecureChannelCredentials());
  }

  // Polls the server's health as the gateway asks for it (service "", UNKNOWN when it does not
  // answer) until it is `wanted` (true, with how long that took in *took) or `timeout` passes.
  bool Becomes(HealthStatus wanted, absl::Duration timeout, absl::Duration* took) {
    return AwaitHealth(channel_, "", wanted, timeout, took);
  }

  TempDir dir_;
  RedisServer redis_;
  std::unique_ptr<ServiceProcess> process_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(RedisHealthTest, NotServingWhileRedisIsStalledAndServingAgainWithoutARestart) {
  absl::Duration took;
  ASSERT_TRUE(Becomes(v1::HealthCheckResponse::SERVING, absl::Seconds(5), &took));
  const pid_t pid = process_->pid();

  redis_.Pause();
  const bool stalled_seen = Becomes(v1::HealthCheckResponse::NOT_SERVING, absl::Seconds(5), &took);
  EXPECT_TRUE(stalled_seen) << "still SERVING 5 s into the stall";
  // The probe's PING times out after the pool's command budget (1 s), every 250 ms.
  if (stalled_seen) {
    EXPECT_LE(took, absl::Milliseconds(2000));
  }
  redis_.Resume();
  EXPECT_TRUE(Becomes(v1::HealthCheckResponse::SERVING, absl::Seconds(5), &took));
  EXPECT_LE(took, absl::Milliseconds(1500));

  // Down, then up again: the same.
  redis_.Kill();
  EXPECT_TRUE(Becomes(v1::HealthCheckResponse::NOT_SERVING, absl::Seconds(5), &took));
  redis_.Start();
  EXPECT_TRUE(Becomes(v1::HealthCheckResponse::SERVING, absl::Seconds(5), &took));
  EXPECT_EQ(process_->pid(), pid);
  EXPECT_FALSE(process_->Wait(absl::ZeroDuration()).exited) << "the server exited";
}

}  // namespace
}  // namespace shidang::testing
