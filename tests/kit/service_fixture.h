#pragma once

// Test kit: the fixture of a service tested as a real process. It starts the service's binary on
// the fixture's own redis-server with a principal key and a pinned today, keeps a stub to it, and
// calls it as any principal, and publishes the profile service's events for it to apply; when a
// test fails, it prints the process's stderr.
//
//   class MineServiceTest : public testing::ServiceFixture<v1::MineService> {
//    protected:
//     void SetUp() override {
//       ASSERT_NO_FATAL_FAILURE(StartService(SHIDANG_MINE_BINARY, "shidang-mine", "2025-10-15"));
//     }
//   };

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "gtest/gtest.h"
#include "services/common/principal.h"
#include "shidang/common/v1/principal.pb.h"
#include "tests/kit/files.h"
#include "tests/kit/profile_events.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/service_process.h"

namespace shidang::testing {

template <typename Service>
class ServiceFixture : public ::testing::Test {
 protected:
  using Stub = typename Service::Stub;

  explicit ServiceFixture(RedisServerOptions redis_options = {},
                          absl::Duration call_timeout = absl::Seconds(30))
      : redis_(std::move(redis_options)), call_timeout_(call_timeout) {}

  // Stops the process started before (if any), starts `binary` (`name` in failure output) with
  // --redis, --principal_key_file, --today=`today` and `more_args`, and points stub_ at it; a
  // fatal failure when it does not start. The stub takes trailers of up to 1 MiB (a refusal's
  // details, such as a rejected roster's rows).
  void StartService(const std::string& binary, const std::string& name, const std::string& today,
                    const std::vector<std::string>& more_args = {}) {
    process_.reset();
    name_ = name;
    today_ = today;
    WriteFile(KeyFile(), std::string(40, 'k'));
    std::vector<std::string> args = CommonArgs();
    args.insert(args.end(), more_args.begin(), more_args.end());
    auto process = ServiceProcess::Start(binary, args);
    ASSERT_TRUE(process.ok()) << process.status();
    process_ = std::move(*process);
    grpc::ChannelArguments channel_args;
    channel_args.SetInt(GRPC_ARG_MAX_METADATA_SIZE, 1 << 20);
    stub_ = Service::NewStub(grpc::CreateCustomChannel(
        process_->address(), grpc::InsecureChannelCredentials(), channel_args));
  }

  void TearDown() override {
    if (HasFailure() && process_ != nullptr) {
      std::fprintf(stderr, "%s stderr:\n%s\n", name_.c_str(), process_->StderrText().c_str());
    }
  }

  // Calls `method` of the service as `who`, with the fixture's call timeout (30 s unless given).
  template <typename Req, typename Resp>
  grpc::Status Call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                    const common::v1::Principal& who, const Req& req, Resp* resp) {
    return CallVia(*stub_, method, who, req, resp);
  }

  // The same through `stub` (another process of the service).
  template <typename Req, typename Resp>
  grpc::Status CallVia(Stub& stub,
                       grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                       const common::v1::Principal& who, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + call_timeout_));
    signer_.Attach(&ctx, who);
    return (stub.*method)(&ctx, req, resp);
  }

  // Publishes `payload` as the profile service's event `type` of `county` (about `teacher`, which
  // happened on `occurred_on`; both may be empty), twice: delivered twice, it must be applied
  // once. Then waits until every consumer group has applied it; a fatal failure otherwise.
  void Publish(const std::string& county, const std::string& type, const std::string& teacher,
               const google::protobuf::Message& payload, const std::string& occurred_on = "") {
    const common::v1::Event e = ProfileEvent(type, county, teacher, payload, occurred_on);
    ASSERT_TRUE(PublishProfileEvents(redis_.pool(), county, {e, e}).ok());
    absl::Status applied = WaitUntilApplied(redis_.pool(), ProfileStreamKey(county));
    ASSERT_TRUE(applied.ok()) << applied;
  }

  // The file holding the principal key the service verifies with.
  std::string KeyFile() const { return keys_.path() + "/principal.key"; }

  // What every process of the service is started with: --redis, --principal_key_file, --today.
  std::vector<std::string> CommonArgs() const {
    return {"--redis=" + redis_.address(), "--principal_key_file=" + KeyFile(),
            "--today=" + today_};
  }

  RedisServer redis_;
  TempDir keys_;
  std::unique_ptr<ServiceProcess> process_;
  std::unique_ptr<Stub> stub_;
  PrincipalSigner signer_{std::string(40, 'k')};

 private:
  const absl::Duration call_timeout_;
  std::string name_, today_;
};

}  // namespace shidang::testing
