// The gateway end to end: shidang-gateway as a real process in front of shidang-echo-server (a real
// service on the shared bootstrap) or, where a test must see exactly what a backend receives, a
// recording backend: a real gRPC server in this test process. Tokens are minted with the kit's
// MintJwt; calls go over TCP like a client's.

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <openssl/rand.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "gtest/gtest.h"
#include "kit/testing.grpc.pb.h"  // generated from tests/kit/testing.proto
#include "services/common/jwt.h"
#include "services/common/principal.h"
#include "services/common/status.h"
#include "shidang/common/v1/error.pb.h"
#include "shidang/common/v1/options.pb.h"
#include "tests/kit/descriptor_sets.h"
#include "tests/kit/files.h"
#include "tests/kit/gateway_files.h"
#include "tests/kit/gateway_fixture.h"
#include "tests/kit/health_check.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/reflection_call.h"
#include "tests/kit/service_process.h"

namespace shidang::testing {
namespace {

namespace pb = google::protobuf;
using common::v1::Principal;
using common::v1::Role;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kEchoPath[] = "/shidang.testing.v1.EchoService/Echo";

Principal Claims(Role role, const std::string& subject) {
  Principal principal;
  principal.set_role(role);
  principal.set_subject(subject);
  if (role == common::v1::ROLE_COUNTY_HR) principal.set_region("130104");
  return principal;
}

void AddRoles(pb::MethodDescriptorProto* method, const std::vector<Role>& roles, bool idempotent) {
  for (Role role : roles) method->mutable_options()->AddExtension(common::v1::roles, role);
  if (idempotent) method->mutable_options()->SetExtension(common::v1::idempotent, true);
}

// The public API's descriptor set plus the test service, as a deployment would build it, with the
// roles a real service declares in its proto given to the test service here, and two services
// that exist only to be refused: one internal (no roles), one streaming.
std::string TestDescriptorSet() {
  std::string testing_name;
  pb::FileDescriptorSet set = testing::DescriptorSetWithTestService(
      SHIDANG_DESCRIPTOR_SET, SHIDANG_TESTING_DESCRIPTOR_SET,
      [](const std::string&, pb::MethodDescriptorProto* method) {
        if (method->name() == "Echo") {
          AddRoles(method, {common::v1::ROLE_TEACHER, common::v1::ROLE_COUNTY_HR}, true);
        } else if (method->name() == "Fail") {
          AddRoles(method, {common::v1::ROLE_TEACHER}, false);
        }
      },
      &testing_name);
  EXPECT_FALSE(testing_name.empty());
  pb::FileDescriptorProto* extra = set.add_file();
  extra->set_name("tests/gateway/refused.proto");
  extra->set_package("shidang.testing.v1");
  extra->set_syntax("proto3");
  extra->add_dependency(testing_name);
  extra->add_dependency("shidang/common/v1/options.proto");
  pb::ServiceDescriptorProto* internal = extra->add_service();
  internal->set_name("InternalService");
  pb::MethodDescriptorProto* secret = internal->add_method();
  secret->set_name("Secret");
  secret->set_input_type(".shidang.testing.v1.EchoRequest");
  secret->set_output_type(".shidang.testing.v1.EchoResponse");
  pb::ServiceDescriptorProto* streaming = extra->add_service();
  streaming->set_name("StreamService");
  pb::MethodDescriptorProto* watch = streaming->add_method();
  watch->set_name("Watch");
  watch->set_input_type(".shidang.testing.v1.EchoRequest");
  watch->set_output_type(".shidang.testing.v1.EchoResponse");
  watch->set_server_streaming(true);
  AddRoles(watch, {common::v1::ROLE_TEACHER}, false);
  return set.SerializeAsString();
}

// What a backend saw of one call.
struct Seen {
  std::vector<std::string> principal_bins;
  std::vector<std::string> principal_sigs;
  std::vector<std::string> request_ids;
  std::vector<std::string> traceparents;
  std::vector<std::string> other_keys;
  absl::Duration deadline_left = absl::InfiniteDuration();
};

// A backend that records what it receives and answers like the echo server.
class RecordingEcho final : public v1::EchoService::Service {
 public:
  grpc::Status Echo(grpc::ServerContext* context, const v1::EchoRequest* request,
                    v1::EchoResponse* response) override {
    Seen seen;
    for (const auto& [key, value] : context->client_metadata()) {
      const std::string k(key.data(), key.size());
      const std::string v(value.data(), value.size());
      if (k == kPrincipalMetadataKey) {
        seen.principal_bins.push_back(v);
      } else if (k == kPrincipalSignatureMetadataKey) {
        seen.principal_sigs.push_back(v);
      } else if (k == "x-request-id") {
        seen.request_ids.push_back(v);
      } else if (k == "traceparent") {
        seen.traceparents.push_back(v);
      } else {
        seen.other_keys.push_back(k);
      }
    }
    const auto deadline = context->deadline();
    if (deadline != std::chrono::system_clock::time_point::max()) {
      seen.deadline_left = absl::FromChrono(deadline) - absl::Now();
    }
    absl::MutexLock lock(&mu_);
    seen_.push_back(std::move(seen));
    response->set_text(request->text());
    context->AddTrailingMetadata("x-backend-note", "recorded");
    return grpc::Status::OK;
  }

  std::vector<Seen> seen() {
    absl::MutexLock lock(&mu_);
    return seen_;
  }

 private:
  absl::Mutex mu_;
  std::vector<Seen> seen_ ABSL_GUARDED_BY(mu_);
};

// Error details of hundreds of rows: 6x gRPC's default 8 KiB metadata limit. (nghttp2 refuses a
// single header field over 64 KiB, HPACK-decoded, and closes the connection: see grpc_front.h.)
constexpr size_t kHugeMetadataBytes = 48 << 10;

// A backend whose answers the tests script by the request text, for what the frame-level front
// must pass on: UNAVAILABLE (to be retried or not), a reset, large metadata, a slow handler that
// notices cancellation.
class ScriptedEcho final : public v1::EchoService::Service {
 public:
  grpc::Status Echo(grpc::ServerContext* context, const v1::EchoRequest* request,
                    v1::EchoResponse* response) override {
    ++echo_calls_;
    if (request->text() == "unavailable-once" && echo_calls_ == 1) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "warming up");
    }
    if (request->text() == "reset") {
      context->TryCancel();
      return grpc::Status::CANCELLED;
    }
    if (request->text() == "big-metadata") {
      context->AddInitialMetadata("x-big", std::string(6000, 'm'));
      std::string blob;
      for (int i = 0; i < 1024; ++i) blob.push_back(static_cast<char>(i % 256));
      context->AddTrailingMetadata("x-blob-bin", blob);
    }
    if (request->text() == "huge-details") {
      // Details of an all-or-nothing import with many bad rows.
      context->AddTrailingMetadata("x-huge-bin", std::string(kHugeMetadataBytes, 'd'));
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "many rows are invalid");
    }
    if (request->sleep_ms() > 0) {
      const absl::Time until = absl::Now() + absl::Milliseconds(request->sleep_ms());
      while (absl::Now() < until && !context->IsCancelled()) absl::SleepFor(absl::Milliseconds(5));
      if (context->IsCancelled()) {
        absl::MutexLock lock(&mu_);
        if (!cancelled_.HasBeenNotified()) {
          cancelled_at_ = absl::Now();
          cancelled_.Notify();
        }
        return grpc::Status::CANCELLED;
      }
    }
    response->set_text(request->text());
    return grpc::Status::OK;
  }

  grpc::Status Fail(grpc::ServerContext*, const v1::FailRequest*, v1::FailResponse*) override {
    ++fail_calls_;
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "always unavailable");
  }

  int echo_calls() const { return echo_calls_; }
  int fail_calls() const { return fail_calls_; }
  // When the slow handler saw its call cancelled, or nothing within `timeout`.
  std::optional<absl::Time> CancelledAt(absl::Duration timeout) {
    if (!cancelled_.WaitForNotificationWithTimeout(timeout)) return std::nullopt;
    return cancelled_at_;
  }

 private:
  std::atomic<int> echo_calls_{0};
  std::atomic<int> fail_calls_{0};
  absl::Mutex mu_;
  absl::Notification cancelled_;
  absl::Time cancelled_at_;
};

// A real gRPC server in the test process around one service.
struct TestBackend {
  explicit TestBackend(grpc::Service* service) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service);
    builder.SetMaxReceiveMessageSize(16 << 20);
    server = builder.BuildAndStart();
  }
  ~TestBackend() {
    if (server != nullptr) server->Shutdown(absl::ToChronoTime(absl::Now()));
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port); }
  int port = 0;
  std::unique_ptr<grpc::Server> server;
};

class GatewayTest : public GatewayFixture {
 protected:
  GatewayTest() : GatewayFixture(SHIDANG_GATEWAY, SHIDANG_ECHO_SERVER) {}

  void SetUp() override { WriteFiles(TestDescriptorSet()); }

  void StartRecordingBackend() {
    recording_backend_ = std::make_unique<TestBackend>(&recording_);
    ASSERT_NE(recording_backend_->server, nullptr);
  }

  // Starts the gateway with EchoService (and the refused test services) at `backend`.
  void StartGateway(const std::string& backend, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "--backends=shidang.testing.v1.EchoService=" + backend +
            ";shidang.testing.v1.InternalService=" + backend +
            ";shidang.testing.v1.StreamService=" + backend,
        "--health_interval_ms=100",
        "--shutdown_grace_ms=1000",
    };
    args.insert(args.end(), extra.begin(), extra.end());
    ASSERT_NO_FATAL_FAILURE(LaunchGateway(args));
    stub_ = v1::EchoService::NewStub(channel_);
  }

  std::string Token(Role role, const std::string& subject, absl::Duration ttl = absl::Hours(1),
                    absl::Time now = absl::Now()) {
    return TokenFor(Claims(role, subject), ttl, now);
  }

  std::unique_ptr<grpc::ClientContext> Context(const std::string& token,
                                               absl::Duration timeout = absl::Seconds(5)) {
    auto context = std::make_unique<grpc::ClientContext>();
    if (timeout != absl::InfiniteDuration()) {
      context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    }
    if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
    return context;
  }

  grpc::Status Echo(grpc::ClientContext* context, v1::EchoResponse* response,
                    const std::string& text = "你好", int sleep_ms = 0) {
    v1::EchoRequest request;
    request.set_text(text);
    request.set_sleep_ms(sleep_ms);
    return stub_->Echo(context, request, response);
  }

  grpc::Status EchoAs(const std::string& token) {
    auto context = Context(token);
    v1::EchoResponse response;
    return Echo(context.get(), &response);
  }

  // A call of any path with an EchoRequest body, through a generic stub.
  grpc::Status CallPath(const std::string& path, const std::string& token) {
    grpc::TemplatedGenericStub<v1::EchoRequest, v1::EchoResponse> stub(channel_);
    auto context = Context(token);
    v1::EchoRequest request;
    v1::EchoResponse response;
    grpc::Status status;
    absl::Notification done;
    stub.UnaryCall(context.get(), path, grpc::StubOptions(), &request, &response,
                   [&](grpc::Status s) {
                     status = std::move(s);
                     done.Notify();
                   });
    done.WaitForNotification();
    return status;
  }

  RecordingEcho recording_;
  std::unique_ptr<TestBackend> recording_backend_;
  std::unique_ptr<v1::EchoService::Stub> stub_;
};

TEST_F(GatewayTest, AValidTokenReachesTheBackendWhichSeesThePrincipal) {
  StartEcho();
  StartGateway(echo_->address());
  auto context = Context(Token(common::v1::ROLE_TEACHER, "t-42"));
  context->AddMetadata("x-request-id", "req-gw-1");
  v1::EchoResponse response;
  grpc::Status status = Echo(context.get(), &response, "你好, 师档");
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(response.text(), "你好, 师档");
  EXPECT_EQ(response.actor(), "teacher:t-42");  // what the echo server verified
  EXPECT_EQ(response.request_id(), "req-gw-1");
  // The gateway logs the call without the token.
  absl::SleepFor(absl::Milliseconds(100));
  const std::string log = gateway_->StderrText();
  EXPECT_THAT(log, HasSubstr("request_id=req-gw-1"));
  EXPECT_THAT(log, HasSubstr("actor=teacher:t-42"));
  EXPECT_THAT(log, Not(HasSubstr("eyJ")));  // no JWT (they all start with base64 '{"')
}

TEST_F(GatewayTest, MakesARequestIdWhenTheClientSendsNone) {
  StartEcho();
  StartGateway(echo_->address());
  auto context = Context(Token(common::v1::ROLE_COUNTY_HR, "alice"));
  v1::EchoResponse response;
  ASSERT_TRUE(Echo(context.get(), &response).ok());
  EXPECT_EQ(response.actor(), "county_hr:alice");
  EXPECT_EQ(response.request_id().size(), 32u);
  // The client learns the id the gateway made, for its own logs.
  auto it = context->GetServerInitialMetadata().find("x-request-id");
  ASSERT_NE(it, context->GetServerInitialMetadata().end());
  EXPECT_EQ(std::string(it->second.data(), it->second.size()), response.request_id());
}

TEST_F(GatewayTest, TheBackendGetsOnlyTheSignedPrincipalRequestIdTraceparentAndDeadline) {
  StartRecordingBackend();
  StartGateway(recording_backend_->address());
  // A client trying to speak for someone else: a principal of its own, even correctly signed.
  Principal forged = Claims(common::v1::ROLE_ADMIN, "mallory");
  forged.set_expires_at(absl::ToUnixSeconds(absl::Now() + absl::Hours(1)));
  PrincipalSigner signer(files_.principal_key);
  auto context = Context(Token(common::v1::ROLE_TEACHER, "t-7"), absl::Seconds(3));
  signer.Attach(context.get(), forged);
  context->AddMetadata("x-request-id", "req-trace-1");
  context->AddMetadata("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  context->AddMetadata("x-something-else", "not passed on");
  v1::EchoResponse response;
  grpc::Status status = Echo(context.get(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // The backend's trailing metadata comes back.
  auto note = context->GetServerTrailingMetadata().find("x-backend-note");
  ASSERT_NE(note, context->GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(note->second.data(), note->second.size()), "recorded");

  const std::vector<Seen> seen = recording_.seen();
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_EQ(seen[0].principal_bins.size(), 1u);
  ASSERT_EQ(seen[0].principal_sigs.size(), 1u);
  auto principal =
      signer.VerifyValues(seen[0].principal_bins[0], seen[0].principal_sigs[0], absl::Now());
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->role(), common::v1::ROLE_TEACHER);
  EXPECT_EQ(principal->subject(), "t-7");
  EXPECT_THAT(seen[0].request_ids, ::testing::ElementsAre("req-trace-1"));
  EXPECT_THAT(seen[0].traceparents,
              ::testing::ElementsAre("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
  EXPECT_THAT(seen[0].other_keys, Not(Contains("x-something-else")));
  EXPECT_THAT(seen[0].other_keys, Not(Contains("authorization")));
  // The caller's 3 s deadline, less the time on the way (give or take the clocks' conversion
  // between processes, a few ms, and a loaded machine).
  EXPECT_GT(seen[0].deadline_left, absl::Seconds(2));
  EXPECT_LT(seen[0].deadline_left, absl::Seconds(3.5));
}

TEST_F(GatewayTest, ACallWithoutDeadlineGetsTheDefaultOne) {
  StartRecordingBackend();
  StartGateway(recording_backend_->address(), {"--default_deadline_ms=7000"});
  auto context = Context(Token(common::v1::ROLE_TEACHER, "t-7"), absl::InfiniteDuration());
  v1::EchoResponse response;
  ASSERT_TRUE(Echo(context.get(), &response).ok());
  const std::vector<Seen> seen = recording_.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_GT(seen[0].deadline_left, absl::Seconds(6));
  EXPECT_LT(seen[0].deadline_left, absl::Seconds(7.5));
}

TEST_F(GatewayTest, TheCallersDeadlineEndsASlowBackendCall) {
  StartEcho();
  StartGateway(echo_->address());
  auto context = Context(Token(common::v1::ROLE_TEACHER, "t-1"), absl::Milliseconds(300));
  v1::EchoResponse response;
  const absl::Time start = absl::Now();
  grpc::Status status = Echo(context.get(), &response, "slow", /*sleep_ms=*/2000);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  // The gateway's own call to the backend ended with the caller's deadline too (cancelled with
  // the caller's call, not waiting out the 2 s): its log line says so.
  absl::SleepFor(absl::Milliseconds(200));
  std::string line;
  for (absl::string_view l : absl::StrSplit(gateway_->StderrText(), '\n')) {
    if (absl::StrContains(l, "rpc /shidang.testing.v1.EchoService/Echo")) line = std::string(l);
  }
  ASSERT_FALSE(line.empty()) << gateway_->StderrText();
  EXPECT_THAT(line, Not(HasSubstr("status=OK")));
  double ms = 0;
  ASSERT_TRUE(absl::SimpleAtod(line.substr(line.find("ms=") + 3), &ms)) << line;
  EXPECT_LT(ms, 1000) << line;
}

TEST_F(GatewayTest, RefusesCallersWithoutAValidToken) {
  StartEcho();
  StartGateway(echo_->address());
  const absl::Time now = absl::Now();
  const Principal teacher = Claims(common::v1::ROLE_TEACHER, "t-1");
  JwtKey other_key{"k1", RandomBytes(32)};
  JwtKey unknown_kid{"k9", RandomBytes(32)};
  auto header_none = absl::WebSafeBase64Escape(R"({"alg":"none","typ":"JWT","kid":"k1"})");
  auto claims = absl::WebSafeBase64Escape(absl::StrCat(
      R"({"iss":")", kIssuer, R"(","aud":")", kAudience, R"(","sub":"t-1","role":"teacher","exp":)",
      absl::ToUnixSeconds(now) + 3600, "}"));
  struct Case {
    std::string name;
    std::string token;
  };
  std::vector<Case> cases = {
      {"no token", ""},
      {"garbage", "garbage"},
      {"expired", Token(common::v1::ROLE_TEACHER, "t-1", absl::Minutes(5), now - absl::Hours(1))},
      {"wrong key",
       MintJwt(other_key, teacher, kIssuer, kAudience, absl::Hours(1), now).value_or("")},
      {"unknown kid",
       MintJwt(unknown_kid, teacher, kIssuer, kAudience, absl::Hours(1), now).value_or("")},
      {"alg none", absl::StrCat(header_none, ".", claims, ".")},
      {"wrong aud",
       MintJwt(files_.jwt_key, teacher, kIssuer, "someone-else", absl::Hours(1), now).value_or("")},
      {"wrong iss", MintJwt(files_.jwt_key, teacher, "someone-else", kAudience, absl::Hours(1), now)
                        .value_or("")},
  };
  for (const Case& c : cases) {
    grpc::Status status = EchoAs(c.token);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << c.name;
    if (c.token.size() > 10) {
      EXPECT_THAT(status.error_message(), Not(HasSubstr(c.token))) << c.name;
    }
  }
  // A scheme other than Bearer.
  auto basic = Context("");
  basic->AddMetadata("authorization", "Basic dGVhY2hlcjpwYXNzd29yZA==");
  v1::EchoResponse response;
  EXPECT_EQ(Echo(basic.get(), &response).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // None of them reached the echo server: it logged no call.
  EXPECT_THAT(echo_->StderrText(), Not(HasSubstr("EchoService/Echo")));
}

TEST_F(GatewayTest, RefusesRolesTheMethodDoesNotAllow) {
  StartEcho();
  StartGateway(echo_->address());
  grpc::Status status = EchoAs(Token(common::v1::ROLE_TRAINING_CENTER, "centre-1"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("training_center"));
  EXPECT_THAT(status.error_message(), HasSubstr(kEchoPath));
  // Fail allows teachers only.
  grpc::Status fail =
      CallPath("/shidang.testing.v1.EchoService/Fail", Token(common::v1::ROLE_COUNTY_HR, "alice"));
  EXPECT_EQ(fail.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(fail.error_message(), HasSubstr("county_hr"));
}

TEST_F(GatewayTest, UnknownInternalAndStreamingMethodsAreUnimplemented) {
  StartEcho();
  StartGateway(echo_->address());
  const std::string token = Token(common::v1::ROLE_TEACHER, "t-1");
  for (const char* path :
       {"/shidang.testing.v1.EchoService/Nope", "/shidang.testing.v1.NoSuchService/Echo",
        "/shidang.testing.v1.InternalService/Secret", "/shidang.testing.v1.StreamService/Watch"}) {
    EXPECT_EQ(CallPath(path, token).error_code(), grpc::StatusCode::UNIMPLEMENTED) << path;
    // Without a token too: what does not exist is not a question of who asks.
    EXPECT_EQ(CallPath(path, "").error_code(), grpc::StatusCode::UNIMPLEMENTED) << path;
  }
}

TEST_F(GatewayTest, ErrorDetailsFromTheBackendArriveIntact) {
  StartEcho();
  StartGateway(echo_->address());
  grpc::TemplatedGenericStub<v1::FailRequest, v1::FailResponse> stub(channel_);
  auto context = Context(Token(common::v1::ROLE_TEACHER, "t-1"));
  v1::FailRequest request;
  request.set_field("teacher.birth_date");
  v1::FailResponse response;
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(context.get(), "/shidang.testing.v1.EchoService/Fail", grpc::StubOptions(),
                 &request, &response, [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("teacher.birth_date"));
  const absl::Status inside = FromGrpcStatus(status);
  std::optional<common::v1::BadRequest> bad = BadRequestOf(inside);
  ASSERT_TRUE(bad.has_value()) << "no BadRequest in the details";
  ASSERT_EQ(bad->field_violations_size(), 1);
  EXPECT_EQ(bad->field_violations(0).field(), "teacher.birth_date");
  EXPECT_EQ(bad->field_violations(0).rule(), "always");
}

TEST_F(GatewayTest, RateLimitPerPrincipalWithRetryAfter) {
  StartEcho();
  StartGateway(echo_->address(), {"--rate_per_second=0.5", "--rate_burst=3"});
  const std::string teacher = Token(common::v1::ROLE_TEACHER, "t-1");
  for (int i = 0; i < 3; ++i) {
    grpc::Status status = EchoAs(teacher);
    ASSERT_TRUE(status.ok()) << i << " " << status.error_message();
  }
  auto context = Context(teacher);
  v1::EchoResponse response;
  grpc::Status limited = Echo(context.get(), &response);
  EXPECT_EQ(limited.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(limited.error_message(), HasSubstr("retry after 2 s"));
  auto retry_after = context->GetServerTrailingMetadata().find("retry-after");
  ASSERT_NE(retry_after, context->GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(retry_after->second.data(), retry_after->second.size()), "2");
  // Someone else has a bucket of their own.
  EXPECT_TRUE(EchoAs(Token(common::v1::ROLE_TEACHER, "t-2")).ok());
}

TEST_F(GatewayTest, HealthFollowsTheBackends) {
  StartEcho();
  StartGateway(echo_->address());
  EXPECT_TRUE(AwaitHealth(channel_, "", v1::HealthCheckResponse::SERVING, absl::Seconds(10)));
  EXPECT_TRUE(AwaitHealth(channel_, "shidang.testing.v1.EchoService",
                          v1::HealthCheckResponse::SERVING, absl::Seconds(10)));
  echo_->Kill(SIGKILL);
  echo_->Wait();
  EXPECT_TRUE(AwaitHealth(channel_, "", v1::HealthCheckResponse::NOT_SERVING, absl::Seconds(10)));
  EXPECT_EQ(HealthOf(channel_, "shidang.testing.v1.EchoService"),
            v1::HealthCheckResponse::NOT_SERVING);
  // And a call now fails UNAVAILABLE (retried, as Echo is idempotent, then given up).
  EXPECT_EQ(EchoAs(Token(common::v1::ROLE_TEACHER, "t-1")).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(GatewayTest, ReflectionListsAndDescribesThePublicServices) {
  StartEcho();
  StartGateway(echo_->address());
  v1::ReflectionRequest list;
  list.set_list_services("");
  ReflectionCall list_call(channel_, list);
  ASSERT_TRUE(list_call.Await().ok());
  ASSERT_EQ(list_call.responses().size(), 1u);
  std::vector<std::string> names;
  for (const auto& service : list_call.responses()[0].list_services_response().service()) {
    names.push_back(service.name());
  }
  EXPECT_THAT(names, Contains("shidang.testing.v1.EchoService"));
  EXPECT_THAT(names, Contains("shidang.testing.v1.StreamService"));
  EXPECT_THAT(names, Not(Contains("shidang.testing.v1.InternalService")));

  v1::ReflectionRequest symbol;
  symbol.set_file_containing_symbol("shidang.testing.v1.EchoService.Echo");
  ReflectionCall symbol_call(channel_, symbol);
  ASSERT_TRUE(symbol_call.Await().ok());
  ASSERT_EQ(symbol_call.responses().size(), 1u);
  const v1::ReflectionResponse& described = symbol_call.responses()[0];
  ASSERT_TRUE(described.has_file_descriptor_response()) << described.DebugString();
  bool has_echo = false;
  bool has_options = false;
  for (const std::string& bytes : described.file_descriptor_response().file_descriptor_proto()) {
    pb::FileDescriptorProto file;
    ASSERT_TRUE(file.ParseFromString(bytes));
    for (const auto& service : file.service())
      has_echo = has_echo || service.name() == "EchoService";
    has_options = has_options || file.name() == "shidang/common/v1/options.proto";
  }
  EXPECT_TRUE(has_echo);
  EXPECT_TRUE(has_options);  // imports come along

  v1::ReflectionRequest missing;
  missing.set_file_containing_symbol("shidang.nope.v1.Nothing");
  ReflectionCall missing_call(channel_, missing);
  ASSERT_TRUE(missing_call.Await().ok());
  ASSERT_EQ(missing_call.responses().size(), 1u);
  EXPECT_EQ(missing_call.responses()[0].error_response().error_code(),
            static_cast<int>(grpc::StatusCode::NOT_FOUND));
}

TEST_F(GatewayTest, OnSigtermFinishesCallsInFlightThenExits) {
  StartEcho();
  StartGateway(echo_->address());
  const std::string token = Token(common::v1::ROLE_TEACHER, "t-1");
  ASSERT_TRUE(EchoAs(token).ok());
  grpc::Status in_flight;
  std::thread slow([&] {
    auto context = Context(token);
    v1::EchoResponse response;
    in_flight = Echo(context.get(), &response, "slow", /*sleep_ms=*/400);
  });
  absl::SleepFor(absl::Milliseconds(150));
  gateway_->Kill(SIGTERM);
  slow.join();
  EXPECT_TRUE(in_flight.ok()) << in_flight.error_code() << " " << in_flight.error_message();
  ProcessExit exit = gateway_->Wait(absl::Seconds(5));
  EXPECT_TRUE(exit.exited) << exit.Describe();
  EXPECT_EQ(exit.exit_code, 0) << exit.Describe();
  // And it no longer answers.
  EXPECT_EQ(EchoAs(token).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(GatewayTest, RefusesABackendForAServiceNotInTheDescriptorSet) {
  std::vector<std::string> args = {"--principal_key_file=" + files_.principal_key_path,
                                   "--descriptor_set=" + files_.descriptor_path,
                                   "--jwt_keys_file=" + files_.jwt_keys_path,
                                   "--backends=shidang.testing.v1.EchoServic=127.0.0.1:1"};
  auto gateway = ServiceProcess::Start(SHIDANG_GATEWAY, args);
  ASSERT_FALSE(gateway.ok());
  EXPECT_THAT(gateway.status().message(), HasSubstr("shidang.testing.v1.EchoServic"));
}

TEST_F(GatewayTest, RefusesTheServicesMetricsPortFlag) {
  std::vector<std::string> args = {"--principal_key_file=" + files_.principal_key_path,
                                   "--descriptor_set=" + files_.descriptor_path,
                                   "--jwt_keys_file=" + files_.jwt_keys_path, "--metrics_port=0"};
  auto gateway = ServiceProcess::Start(SHIDANG_GATEWAY, args);
  ASSERT_FALSE(gateway.ok());
  EXPECT_THAT(gateway.status().message(), HasSubstr("--http_port"));
}

// --- the frame-level front (gateway/grpc_front.h) -----------------------------------------------

// Lines of the gateway's log that contain `text`.
int CountLines(const std::string& log, absl::string_view text) {
  int count = 0;
  for (absl::string_view line : absl::StrSplit(log, '\n')) count += absl::StrContains(line, text);
  return count;
}

TEST_F(GatewayTest, ClientsShareTheBackendConnectionsOfThePool) {
  StartRecordingBackend();
  StartGateway(recording_backend_->address(), {"--backend_connections=2"});
  const std::string token = Token(common::v1::ROLE_TEACHER, "t-1");
  for (int client = 0; client < 4; ++client) {
    // A channel of its own: its own TCP connection to the gateway.
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel =
        grpc::CreateCustomChannel(gateway_->address(), grpc::InsecureChannelCredentials(), args);
    auto stub = v1::EchoService::NewStub(channel);
    for (int i = 0; i < 3; ++i) {
      auto context = Context(token);
      v1::EchoRequest request;
      request.set_text(absl::StrCat("client ", client, " call ", i));
      v1::EchoResponse response;
      grpc::Status status = stub->Echo(context.get(), request, &response);
      ASSERT_TRUE(status.ok()) << status.error_message();
      EXPECT_EQ(response.text(), request.text());
    }
  }
  EXPECT_EQ(recording_.seen().size(), 12u);
  absl::SleepFor(absl::Milliseconds(100));
  // Four clients, twelve calls, and only the two connections the pool keeps.
  EXPECT_EQ(CountLines(gateway_->StderrText(), "backend connection"), 2) << gateway_->StderrText();
}

TEST_F(GatewayTest, CallsAreSpreadRoundRobinOverTheReplicas) {
  RecordingEcho first;
  RecordingEcho second;
  TestBackend first_server(&first);
  TestBackend second_server(&second);
  StartGateway(absl::StrCat(first_server.address(), ",", second_server.address()));
  const std::string token = Token(common::v1::ROLE_TEACHER, "t-1");
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(EchoAs(token).ok()) << i;
  EXPECT_EQ(first.seen().size(), 5u);
  EXPECT_EQ(second.seen().size(), 5u);
}

TEST_F(GatewayTest, RetriesUnavailableOnlyForIdempotentMethods) {
  ScriptedEcho scripted;
  TestBackend backend(&scripted);
  StartGateway(backend.address());
  const std::string token = Token(common::v1::ROLE_TEACHER, "t-1");
  // Echo is idempotent: its trailers-only UNAVAILABLE is retried, and the retry answers.
  auto context = Context(token);
  v1::EchoResponse response;
  grpc::Status status = Echo(context.get(), &response, "unavailable-once");
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(response.text(), "unavailable-once");
  EXPECT_EQ(scripted.echo_calls(), 2);
  // Fail is not: its UNAVAILABLE comes straight back, after one attempt.
  grpc::Status fail = CallPath("/shidang.testing.v1.EchoService/Fail", token);
  EXPECT_EQ(fail.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(fail.error_message(), "always unavailable");
  EXPECT_EQ(scripted.fail_calls(), 1);
}

TEST_F(GatewayTest, ACancelledCallIsCancelledAtTheBackend) {
  ScriptedEcho scripted;
  TestBackend backend(&scripted);
  StartGateway(backend.address());
  auto context = Context(Token(common::v1::ROLE_TEACHER, "t-1"), absl::Seconds(20));
  grpc::ClientContext* raw = context.get();
  std::thread canceller([raw] {
    absl::SleepFor(absl::Milliseconds(300));
    raw->TryCancel();
  });
  v1::EchoResponse response;
  const absl::Time start = absl::Now();
  grpc::Status status = Echo(context.get(), &response, "slow", /*sleep_ms=*/10000);
  canceller.join();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  // The backend's handler saw the cancellation long before its 10 s (and the 20 s deadline).
  std::optional<absl::Time> cancelled = scripted.CancelledAt(absl::Seconds(5));
  ASSERT_TRUE(cancelled.has_value());
  EXPECT_LT(*cancelled - start, absl::Seconds(3));
}

TEST_F(GatewayTest, ABackendThatResetsTheStreamCancelsTheCall) {
  ScriptedEcho scripted;
  TestBackend backend(&scripted);
  StartGateway(backend.address());
  auto context = Context(Token(common::v1::ROLE_TEACHER, "t-1"));
  v1::EchoResponse response;
  EXPECT_EQ(Echo(context.get(), &response, "reset").error_code(), grpc::StatusCode::CANCELLED);
  // The connection is still good for the next call.
  auto next = Context(Token(common::v1::ROLE_TEACHER, "t-1"));
  ASSERT_TRUE(Echo(next.get(), &response, "after").ok());
  EXPECT_EQ(response.text(), "after");
}

TEST_F(GatewayTest, TheGatewayEndsACallWithoutDeadlineAtItsDefault) {
  ScriptedEcho scripted;
  TestBackend backend(&scripted);
  StartGateway(backend.address(), {"--default_deadline_ms=300"});
  auto context = Context(Token(common::v1::ROLE_TEACHER, "t-1"), absl::InfiniteDuration());
  v1::EchoResponse response;
  const absl::Time start = absl::Now();
  grpc::Status status = Echo(context.get(), &response, "slow", /*sleep_ms=*/5000);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(CountLines(gateway_->StderrText(), "status=DEADLINE_EXCEEDED"), 1)
      << gateway_->StderrText();
}

TEST_F(GatewayTest, LargeMessagesAndMetadataPassBothWaysIntact) {
  ScriptedEcho scripted;
  TestBackend backend(&scripted);
  StartGateway(backend.address());
  const std::string token = Token(common::v1::ROLE_TEACHER, "t-1");
  // 3 MiB each way: more than the windows the gateway grants, so flow control must move it.
  std::string large(3 << 20, 'x');
  for (size_t i = 0; i < large.size(); i += 997) large[i] = static_cast<char>('a' + i % 26);
  auto context = Context(token);
  v1::EchoResponse response;
  grpc::Status status = Echo(context.get(), &response, large);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(response.text() == large);

  auto metadata = Context(token);
  ASSERT_TRUE(Echo(metadata.get(), &response, "big-metadata").ok());
  auto big = metadata->GetServerInitialMetadata().find("x-big");
  ASSERT_NE(big, metadata->GetServerInitialMetadata().end());
  EXPECT_EQ(std::string(big->second.data(), big->second.size()), std::string(6000, 'm'));
  auto blob = metadata->GetServerTrailingMetadata().find("x-blob-bin");
  ASSERT_NE(blob, metadata->GetServerTrailingMetadata().end());
  std::string expected;
  for (int i = 0; i < 1024; ++i) expected.push_back(static_cast<char>(i % 256));
  EXPECT_EQ(std::string(blob->second.data(), blob->second.size()), expected);
}

TEST_F(GatewayTest, MetadataOfTensOfKibPassesAndTheConnectionStaysUp) {
  ScriptedEcho scripted;
  TestBackend backend(&scripted);
  StartGateway(backend.address(), {"--backend_connections=1"});
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_MAX_METADATA_SIZE, 1 << 20);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto stub = v1::EchoService::NewStub(
      grpc::CreateCustomChannel(gateway_->address(), grpc::InsecureChannelCredentials(), args));
  const std::string token = Token(common::v1::ROLE_TEACHER, "t-1");
  // A slow call in flight on the same pooled backend connection.
  grpc::Status slow_status;
  std::thread slow([&] {
    auto context = Context(token);
    v1::EchoRequest request;
    request.set_text("slow");
    request.set_sleep_ms(500);
    v1::EchoResponse response;
    slow_status = stub->Echo(context.get(), request, &response);
  });
  absl::SleepFor(absl::Milliseconds(100));
  auto context = Context(token);
  v1::EchoRequest request;
  request.set_text("huge-details");
  v1::EchoResponse response;
  grpc::Status status = stub->Echo(context.get(), request, &response);
  slow.join();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  auto huge = context->GetServerTrailingMetadata().find("x-huge-bin");
  ASSERT_NE(huge, context->GetServerTrailingMetadata().end());
  EXPECT_EQ(huge->second.size(), kHugeMetadataBytes);
  EXPECT_TRUE(slow_status.ok()) << slow_status.error_code() << " " << slow_status.error_message();
}

}  // namespace
}  // namespace shidang::testing
