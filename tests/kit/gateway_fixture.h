#pragma once

// Test kit: the fixture of the gateway tested as a real process. It writes the gateway's files
// (keys and a descriptor set) into a temp dir, starts shidang-echo-server or a real service on a
// redis-server as the backend, starts the gateway in front of them (with or without its HTTP
// front), mints tokens it accepts, and prints the gateway's stderr when a test fails.
//
//   class MineTest : public testing::GatewayFixture {
//    protected:
//     MineTest() : GatewayFixture(SHIDANG_GATEWAY, SHIDANG_ECHO_SERVER) {}
//     void SetUp() override { WriteFiles(MineDescriptorSet()); }
//   };

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "services/common/jwt.h"
#include "shidang/common/v1/principal.pb.h"
#include "tests/kit/files.h"
#include "tests/kit/gateway_files.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/service_process.h"

namespace shidang::testing {

class GatewayFixture : public ::testing::Test {
 protected:
  static constexpr char kIssuer[] = "shidang-test";
  static constexpr char kAudience[] = "shidang-api-test";

  GatewayFixture(std::string gateway_binary, std::string echo_binary)
      : gateway_binary_(std::move(gateway_binary)), echo_binary_(std::move(echo_binary)) {}

  void TearDown() override {
    if (HasFailure() && gateway_ != nullptr) {
      std::fprintf(stderr, "--- gateway stderr ---\n%s\n", gateway_->StderrText().c_str());
    }
  }

  // Writes the gateway's keys and `descriptor_set` into dir_ (files_).
  void WriteFiles(const std::string& descriptor_set) {
    files_ = GatewayTestFiles::Write(dir_.path(), descriptor_set);
  }

  // Starts shidang-echo-server (echo_), verifying principals with the gateway's key.
  void StartEcho() {
    auto echo =
        ServiceProcess::Start(echo_binary_, {"--principal_key_file=" + files_.principal_key_path});
    ASSERT_TRUE(echo.ok()) << echo.status();
    echo_ = *std::move(echo);
  }

  // Starts the service `binary` on `redis` with the gateway's principal key, --today=`today` and
  // `more` into *process, as the backend of a gateway started after it.
  void StartBackend(const std::string& binary, const RedisServer& redis, const std::string& today,
                    const std::vector<std::string>& more,
                    std::unique_ptr<ServiceProcess>* process) {
    std::vector<std::string> args = {"--redis=" + redis.address(),
                                     "--principal_key_file=" + files_.principal_key_path};
    args.insert(args.end(), more.begin(), more.end());
    args.push_back("--today=" + today);
    auto started = ServiceProcess::Start(binary, args);
    ASSERT_TRUE(started.ok()) << started.status();
    *process = *std::move(started);
  }

  // The gateway's flags: its files' (kIssuer, kAudience), with `http` an HTTP front on a port of
  // its own choosing (written to HttpPortFile()), then `more`.
  std::vector<std::string> GatewayArgs(const std::vector<std::string>& more, bool http) const {
    std::vector<std::string> args = files_.Flags(kIssuer, kAudience);
    if (http) args.insert(args.end(), {"--http_port=0", "--http_port_file=" + HttpPortFile()});
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }

  // Starts the gateway with GatewayArgs(more, http): channel_ to its gRPC front and, with `http`,
  // http_port_ of its HTTP front.
  void LaunchGateway(const std::vector<std::string>& more, bool http = false) {
    auto gateway = ServiceProcess::Start(gateway_binary_, GatewayArgs(more, http));
    ASSERT_TRUE(gateway.ok()) << gateway.status();
    gateway_ = *std::move(gateway);
    channel_ = grpc::CreateChannel(gateway_->address(), grpc::InsecureChannelCredentials());
    if (!http) return;
    ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(HttpPortFile())), &http_port_))
        << ReadFile(HttpPortFile());
  }

  // A token the gateway accepts for `claims`, valid for `ttl` from `now`.
  std::string TokenFor(const common::v1::Principal& claims, absl::Duration ttl = absl::Hours(1),
                       absl::Time now = absl::Now()) {
    auto token = MintJwt(files_.jwt_key, claims, kIssuer, kAudience, ttl, now);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.value_or("");
  }

  std::string HttpPortFile() const { return dir_.path() + "/http.port"; }

  TempDir dir_;
  GatewayTestFiles files_;
  std::unique_ptr<ServiceProcess> echo_;
  std::unique_ptr<ServiceProcess> gateway_;
  std::shared_ptr<grpc::Channel> channel_;
  int http_port_ = 0;

 private:
  const std::string gateway_binary_, echo_binary_;
};

}  // namespace shidang::testing
