// The bootstrap as every service gets it: shidang-echo-server (tests/kit/echo_server_main.cc) runs
// on services/common/server.h as a real process, and these tests call it over gRPC.

#include "services/common/server.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "google/protobuf/descriptor.pb.h"
#include "gtest/gtest.h"
#include "kit/testing.grpc.pb.h"  // generated from tests/kit/testing.proto
#include "services/common/jwt.h"
#include "services/common/principal.h"
#include "services/common/status.h"
#include "tests/kit/files.h"
#include "tests/kit/health_check.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/reflection_call.h"
#include "tests/kit/service_process.h"

namespace shidang::testing {
namespace {

using common::v1::Principal;

// Runs shidang-mint with `args` (no shell quoting needed: tests pass plain words); returns its
// exit code, stdout in *out.
int RunMint(const TempDir& dir, const std::string& args, std::string* out) {
  const std::string out_path = dir.path() + "/mint.out";
  const int rc = std::system(
      absl::StrCat(SHIDANG_MINT, " ", args, " >", out_path, " 2>", dir.path(), "/mint.err")
          .c_str());
  *out = ReadFile(out_path);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

Principal CountyHr() {
  Principal principal;
  principal.set_role(common::v1::ROLE_COUNTY_HR);
  principal.set_subject("alice");
  principal.set_region("130104");
  principal.set_expires_at(absl::ToUnixSeconds(absl::Now() + absl::Hours(1)));
  return principal;
}

class EchoServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_path_ = dir_.path() + "/principal.key";
    std::string out;
    // The key comes from our tool, as in the demo.
    ASSERT_EQ(RunMint(dir_, "keygen --out=" + key_path_, &out), 0);
    absl::StatusOr<PrincipalSigner> signer = PrincipalSigner::FromKeyFile(key_path_);
    ASSERT_TRUE(signer.ok()) << signer.status();
    signer_ = std::make_unique<PrincipalSigner>(*std::move(signer));
    StartServer({});
  }

  void StartServer(std::vector<std::string> extra) {
    std::vector<std::string> args = {"--principal_key_file=" + key_path_, "--today=2024-09-01",
                                     "--shutdown_grace_ms=3000"};
    args.insert(args.end(), extra.begin(), extra.end());
    absl::StatusOr<std::unique_ptr<ServiceProcess>> process =
        ServiceProcess::Start(SHIDANG_ECHO_SERVER, args);
    ASSERT_TRUE(process.ok()) << process.status();
    process_ = *std::move(process);
    channel_ = grpc::CreateChannel(process_->address(), grpc::InsecureChannelCredentials());
    stub_ = v1::EchoService::NewStub(channel_);
  }

  std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout = absl::Seconds(5)) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout)));
    return context;
  }

  grpc::Status Echo(grpc::ClientContext* context, const std::string& text,
                    v1::EchoResponse* response, int sleep_ms = 0) {
    v1::EchoRequest request;
    request.set_text(text);
    request.set_sleep_ms(sleep_ms);
    return stub_->Echo(context, request, response);
  }

  TempDir dir_;
  std::string key_path_;
  std::unique_ptr<PrincipalSigner> signer_;
  std::unique_ptr<ServiceProcess> process_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::EchoService::Stub> stub_;
};

TEST_F(EchoServerTest, EchoWithSignedPrincipal) {
  auto context = Context();
  signer_->Attach(context.get(), CountyHr());
  context->AddMetadata("x-request-id", "req-echo-1");
  v1::EchoResponse response;
  grpc::Status status = Echo(context.get(), "你好", &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.text(), "你好");
  EXPECT_EQ(response.actor(), "county_hr:alice");
  EXPECT_EQ(response.request_id(), "req-echo-1");
  EXPECT_EQ(response.today(), "2024-09-01");
  auto echoed = context->GetServerInitialMetadata().find("x-request-id");
  ASSERT_NE(echoed, context->GetServerInitialMetadata().end());
  EXPECT_EQ(std::string(echoed->second.data(), echoed->second.size()), "req-echo-1");

  // Without x-request-id the server makes one up.
  auto second = Context();
  signer_->Attach(second.get(), CountyHr());
  ASSERT_TRUE(Echo(second.get(), "again", &response).ok());
  EXPECT_FALSE(response.request_id().empty());
  EXPECT_NE(response.request_id(), "req-echo-1");
}

TEST_F(EchoServerTest, UnverifiablePrincipalsAreRefused) {
  v1::EchoResponse response;
  {
    auto context = Context();  // no principal at all
    grpc::Status status = Echo(context.get(), "x", &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  }
  {
    auto context = Context();  // signed with another key
    PrincipalSigner forger(std::string(32, 'f'));
    forger.Attach(context.get(), CountyHr());
    EXPECT_EQ(Echo(context.get(), "x", &response).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    auto context = Context();  // a valid signature over other bytes
    Principal admin = CountyHr();
    admin.set_role(common::v1::ROLE_ADMIN);
    context->AddMetadata(kPrincipalMetadataKey, admin.SerializeAsString());
    context->AddMetadata(kPrincipalSignatureMetadataKey, signer_->Sign(CountyHr()));
    EXPECT_EQ(Echo(context.get(), "x", &response).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    auto context = Context();  // principal without a signature
    context->AddMetadata(kPrincipalMetadataKey, CountyHr().SerializeAsString());
    EXPECT_EQ(Echo(context.get(), "x", &response).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    auto context = Context();  // expired
    Principal expired = CountyHr();
    expired.set_expires_at(absl::ToUnixSeconds(absl::Now() - absl::Minutes(1)));
    signer_->Attach(context.get(), expired);
    grpc::Status status = Echo(context.get(), "x", &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_TRUE(absl::StrContains(status.error_message(), "expired")) << status.error_message();
  }
}

TEST_F(EchoServerTest, FieldViolationArrivesWithDetails) {
  auto context = Context();
  signer_->Attach(context.get(), CountyHr());
  v1::FailRequest request;
  request.set_field("teacher.id_card");
  v1::FailResponse response;
  grpc::Status status = stub_->Fail(context.get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "teacher.id_card: is never accepted by this test method");
  absl::Status inside = FromGrpcStatus(status);
  std::optional<common::v1::BadRequest> bad = BadRequestOf(inside);
  ASSERT_TRUE(bad.has_value()) << "no details arrived";
  ASSERT_EQ(bad->field_violations_size(), 1);
  EXPECT_EQ(bad->field_violations(0).field(), "teacher.id_card");
  EXPECT_EQ(bad->field_violations(0).rule(), "always");
}

TEST_F(EchoServerTest, HealthSaysServing) {
  for (const char* service : {"", "shidang.testing.v1.EchoService"}) {
    const HealthAnswer answer = CheckHealth(channel_, service, absl::InfiniteDuration());
    ASSERT_TRUE(answer.status.ok()) << service << ": " << answer.status.error_message();
    EXPECT_EQ(answer.response.status(), v1::HealthCheckResponse::SERVING) << service;
  }
  // A service it does not serve is not reported SERVING.
  EXPECT_EQ(CheckHealth(channel_, "shidang.testing.v1.NoSuchService", absl::InfiniteDuration())
                .status.error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// One ServerReflectionInfo exchange: one request, all responses until the server closes.

TEST_F(EchoServerTest, ReflectionListsAndDescribesTheService) {
  v1::ReflectionRequest list;
  list.set_list_services("");
  ReflectionCall list_call(channel_, list);
  grpc::Status status = list_call.Await();
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(list_call.responses().size(), 1u);
  ASSERT_TRUE(list_call.responses()[0].has_list_services_response())
      << list_call.responses()[0].DebugString();
  std::vector<std::string> names;
  for (const auto& service : list_call.responses()[0].list_services_response().service()) {
    names.push_back(service.name());
  }
  EXPECT_NE(std::find(names.begin(), names.end(), "shidang.testing.v1.EchoService"), names.end())
      << absl::StrJoin(names, ",");

  v1::ReflectionRequest symbol;
  symbol.set_file_containing_symbol("shidang.testing.v1.EchoService");
  ReflectionCall symbol_call(channel_, symbol);
  ASSERT_TRUE(symbol_call.Await().ok());
  ASSERT_EQ(symbol_call.responses().size(), 1u);
  const v1::ReflectionResponse& described = symbol_call.responses()[0];
  ASSERT_TRUE(described.has_file_descriptor_response()) << described.DebugString();
  bool found = false;
  for (const std::string& bytes : described.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    ASSERT_TRUE(file.ParseFromString(bytes));
    for (const auto& service : file.service()) {
      if (service.name() == "EchoService") {
        found = true;
        ASSERT_EQ(service.method_size(), 2);
        EXPECT_EQ(service.method(0).name(), "Echo");
      }
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(EchoServerTest, SigtermLetsTheCallInFlightFinishAndExitsZero) {
  v1::EchoResponse response;
  grpc::Status slow_status;
  {
    // Connect first, so the slow call below is in its handler well before the signal (a sanitized
    // build can take longer than the wait below just to set up a channel).
    auto warm = Context();
    signer_->Attach(warm.get(), CountyHr());
    v1::EchoResponse ignored;
    ASSERT_TRUE(Echo(warm.get(), "warm", &ignored, /*sleep_ms=*/0).ok());
  }
  std::thread slow([&] {
    auto context = Context();
    signer_->Attach(context.get(), CountyHr());
    slow_status = Echo(context.get(), "slow", &response, /*sleep_ms=*/1200);
  });
  // Wait until the call is in the handler (its sleep is far longer than this).
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const absl::Time signalled = absl::Now();
  process_->Kill(SIGTERM);
  ProcessExit exit = process_->Wait(absl::Seconds(4));
  slow.join();
  EXPECT_TRUE(exit.exited) << exit.Describe() << "\n" << process_->StderrText();
  EXPECT_EQ(exit.exit_code, 0) << process_->StderrText();
  EXPECT_LT(absl::Now() - signalled, absl::Seconds(3) + absl::Milliseconds(500));
  EXPECT_TRUE(slow_status.ok()) << slow_status.error_message();
  EXPECT_EQ(response.text(), "slow");
  EXPECT_TRUE(absl::StrContains(process_->StderrText(), "received SIGTERM"));
}

TEST_F(EchoServerTest, CallsBeyondTheGraceAreCancelled) {
  process_.reset();
  StartServer({"--shutdown_grace_ms=300"});
  v1::EchoResponse response;
  grpc::Status slow_status;
  absl::Time answered;
  std::thread slow([&] {
    auto context = Context(absl::Seconds(10));
    signer_->Attach(context.get(), CountyHr());
    slow_status = Echo(context.get(), "slow", &response, /*sleep_ms=*/2500);
    answered = absl::Now();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  const absl::Time signalled = absl::Now();
  process_->Kill(SIGTERM);
  slow.join();
  EXPECT_FALSE(slow_status.ok());
  EXPECT_LT(answered - signalled, absl::Seconds(1)) << slow_status.error_message();
  // The handler's thread cannot be stopped mid-call, so the process ends when it returns.
  ProcessExit exit = process_->Wait(absl::Seconds(5));
  EXPECT_TRUE(exit.exited && exit.exit_code == 0) << exit.Describe();
}

TEST_F(EchoServerTest, SigintAlsoStopsCleanly) {
  process_->Kill(SIGINT);
  ProcessExit exit = process_->Wait(absl::Seconds(4));
  EXPECT_TRUE(exit.exited && exit.exit_code == 0) << exit.Describe();
}

TEST_F(EchoServerTest, OneLogLinePerRequestWithoutSecrets) {
  const Principal principal = CountyHr();
  const std::string signature = signer_->Sign(principal);
  v1::EchoResponse response;
  {
    auto context = Context();
    signer_->Attach(context.get(), principal);
    context->AddMetadata("x-request-id", "req-log-ok");
    ASSERT_TRUE(Echo(context.get(), "x", &response).ok());
  }
  {
    auto context = Context();
    context->AddMetadata("x-request-id", "req-log-anon");
    ASSERT_FALSE(Echo(context.get(), "x", &response).ok());
  }
  {
    auto context = Context();
    signer_->Attach(context.get(), principal);
    context->AddMetadata("x-request-id", "req-log-fail");
    v1::FailResponse fail_response;
    ASSERT_FALSE(stub_->Fail(context.get(), v1::FailRequest(), &fail_response).ok());
  }
  // Stop the server so every line is written. With nothing in flight it stops at once, even
  // though this client still holds its (idle) connection.
  const absl::Time signalled = absl::Now();
  process_->Kill(SIGTERM);
  ASSERT_EQ(process_->Wait().exit_code, 0);
  EXPECT_LT(absl::Now() - signalled, absl::Seconds(1));
  const std::string log = process_->StderrText();

  std::vector<std::string> ok_lines, anon_lines, fail_lines;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (absl::StrContains(line, "request_id=req-log-ok")) ok_lines.emplace_back(line);
    if (absl::StrContains(line, "request_id=req-log-anon")) anon_lines.emplace_back(line);
    if (absl::StrContains(line, "request_id=req-log-fail")) fail_lines.emplace_back(line);
  }
  ASSERT_EQ(ok_lines.size(), 1u) << log;
  ASSERT_EQ(anon_lines.size(), 1u) << log;
  ASSERT_EQ(fail_lines.size(), 1u) << log;
  EXPECT_TRUE(absl::StrContains(ok_lines[0], "method=shidang.testing.v1.EchoService/Echo"));
  EXPECT_TRUE(absl::StrContains(ok_lines[0], "actor=county_hr:alice"));
  EXPECT_TRUE(absl::StrContains(ok_lines[0], "status=OK"));
  EXPECT_TRUE(absl::StrContains(ok_lines[0], " ms="));
  EXPECT_TRUE(absl::StrContains(anon_lines[0], "actor=-"));
  EXPECT_TRUE(absl::StrContains(anon_lines[0], "status=UNAUTHENTICATED"));
  EXPECT_TRUE(absl::StrContains(fail_lines[0], "method=shidang.testing.v1.EchoService/Fail"));
  EXPECT_TRUE(absl::StrContains(fail_lines[0], "status=INVALID_ARGUMENT"));

  // Neither the signature nor the principal bytes (raw or as gRPC sends them, base64) are logged.
  EXPECT_FALSE(absl::StrContains(log, signature));
  EXPECT_FALSE(absl::StrContains(log, absl::Base64Escape(principal.SerializeAsString())));
  EXPECT_FALSE(absl::StrContains(log, principal.SerializeAsString()));
}

TEST_F(EchoServerTest, MintPrincipalIsAcceptedByTheServer) {
  std::string out;
  ASSERT_EQ(RunMint(dir_,
                    absl::StrCat("principal --principal_key_file=", key_path_,
                                 " --role=school_admin --sub=carol --school_id=s1 --ttl=5m"),
                    &out),
            0);
  std::string bin, sig;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    if (absl::ConsumePrefix(&line, absl::StrCat(kPrincipalMetadataKey, ": "))) {
      ASSERT_TRUE(absl::Base64Unescape(line, &bin));
    } else if (absl::ConsumePrefix(&line, absl::StrCat(kPrincipalSignatureMetadataKey, ": "))) {
      sig = std::string(line);
    }
  }
  ASSERT_FALSE(bin.empty()) << out;
  ASSERT_FALSE(sig.empty()) << out;
  auto context = Context();
  context->AddMetadata(kPrincipalMetadataKey, bin);
  context->AddMetadata(kPrincipalSignatureMetadataKey, sig);
  v1::EchoResponse response;
  grpc::Status status = Echo(context.get(), "x", &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.actor(), "school_admin:carol");
}

TEST(MintTest, KeygenAndJwt) {
  TempDir dir;
  std::string out;
  const std::string keys = dir.path() + "/jwt.keys";
  ASSERT_EQ(RunMint(dir, "keygen --kid=k1 --out=" + keys, &out), 0);
  struct stat info;
  ASSERT_EQ(stat(keys.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  // Never overwrites a key.
  EXPECT_NE(RunMint(dir, "keygen --kid=k1 --out=" + keys, &out), 0);

  ASSERT_EQ(RunMint(dir,
                    absl::StrCat("jwt --jwt_keys_file=", keys,
                                 " --role=teacher --sub=t-001 --iss=shidang --aud=gw"),
                    &out),
            0);
  const std::string token(absl::StripAsciiWhitespace(out));
  absl::StatusOr<JwtKeySet> keyset = JwtKeySet::FromFile(keys);
  ASSERT_TRUE(keyset.ok()) << keyset.status();
  JwtVerifier verifier(*std::move(keyset), "shidang", "gw");
  absl::StatusOr<Principal> principal = verifier.Verify(token, absl::Now());
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->role(), common::v1::ROLE_TEACHER);
  EXPECT_EQ(principal->subject(), "t-001");

  const std::string raw_key = dir.path() + "/raw.key";
  ASSERT_EQ(RunMint(dir, "keygen --out=" + raw_key, &out), 0);
  EXPECT_EQ(ReadFile(raw_key).size(), 32u);
  EXPECT_NE(RunMint(dir, "jwt --jwt_keys_file=" + keys + " --role=nobody --sub=x", &out), 0);
}

TEST(EchoServerConfigTest, BadFlagsStopTheProcessWithAMessage) {
  TempDir dir;
  const std::string short_key = dir.path() + "/short.key";
  std::ofstream(short_key, std::ios::binary) << std::string(16, 'k');
  absl::StatusOr<std::unique_ptr<ServiceProcess>> started =
      ServiceProcess::Start(SHIDANG_ECHO_SERVER, {"--principal_key_file=" + short_key});
  ASSERT_FALSE(started.ok());
  EXPECT_TRUE(absl::StrContains(started.status().message(), "at least 32")) << started.status();

  const std::string good_key = dir.path() + "/good.key";
  std::ofstream(good_key, std::ios::binary) << std::string(32, 'k');
  started = ServiceProcess::Start(SHIDANG_ECHO_SERVER,
                                  {"--principal_key_file=" + good_key, "--today=2023-02-30"});
  ASSERT_FALSE(started.ok());
  EXPECT_TRUE(absl::StrContains(started.status().message(), "--today")) << started.status();

  started = ServiceProcess::Start(SHIDANG_ECHO_SERVER, {});
  ASSERT_FALSE(started.ok());
  EXPECT_TRUE(absl::StrContains(started.status().message(), "--principal_key_file"))
      << started.status();
}

}  // namespace
}  // namespace shidang::testing
