// The gateway's one admission path (gateway/admission.h), which both fronts call: the order of
// its checks, what each refusal says, and what it leaves untouched.

#include "gateway/admission.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/kit/gateway_tokens.h"

namespace shidang::gateway {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using testing::BearerToken;
const absl::Time kNow = testing::kTokenNow;
constexpr char kProfile[] = "shidang.profile.v1.ProfileService";
constexpr char kGetCounty[] = "/shidang.profile.v1.ProfileService/GetCounty";
constexpr char kCreateCounty[] = "/shidang.profile.v1.ProfileService/CreateCounty";
constexpr char kGetCourse[] = "/shidang.training.v1.TrainingService/GetCourse";
constexpr char kAccount[] = "shidang.account.v1.AccountService";
constexpr char kSignIn[] = "/shidang.account.v1.AccountService/SignIn";
constexpr char kRefreshSession[] = "/shidang.account.v1.AccountService/RefreshSession";
constexpr char kSignOut[] = "/shidang.account.v1.AccountService/SignOut";

std::string Bearer(common::v1::Role role, const std::string& subject) {
  common::v1::Principal claims;
  claims.set_role(role);
  claims.set_subject(subject);
  if (role == common::v1::ROLE_TEACHER) claims.set_school_id("s1");
  return BearerToken(claims);
}

// The public API's descriptor set, with a backend for the profile service only.
class AdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto methods = MethodTable::FromFile(SHIDANG_DESCRIPTOR_SET);
    ASSERT_TRUE(methods.ok()) << methods.status();
    methods_ = *std::move(methods);
    auto backends =
        Backends::Create({{kProfile, {"127.0.0.1:1"}}, {kAccount, {"127.0.0.1:2"}}}, *methods_);
    ASSERT_TRUE(backends.ok()) << backends.status();
    backends_ = *std::move(backends);
    admission_ = std::make_unique<Admission>(backends_.get(), &auth_, &limiter_);
  }

  const MethodInfo& Method(absl::string_view path) {
    const MethodInfo* method = methods_->Find(path);
    EXPECT_NE(method, nullptr) << path;
    return *method;
  }

  // `call_name` defaults to the gRPC path, as the gRPC front passes it.
  Admission::Decision Admit(absl::string_view path, absl::string_view authorization,
                            absl::string_view call_name = "") {
    return admission_->Admit(Method(path), authorization, call_name.empty() ? path : call_name,
                             kNow);
  }

  std::unique_ptr<MethodTable> methods_;
  std::unique_ptr<Backends> backends_;
  Authenticator auth_{testing::TokenVerifier(), PrincipalSigner(std::string(32, 'p')),
                      /*max_cached=*/64};
  RateLimiter limiter_{{/*rate_per_second=*/1, /*burst=*/2}};
  std::unique_ptr<Admission> admission_;
};

TEST_F(AdmissionTest, AdmitsAnAllowedRoleWithTheVerifiedCaller) {
  const Admission::Decision decision = Admit(kGetCounty, Bearer(common::v1::ROLE_TEACHER, "t-1"));
  ASSERT_TRUE(decision.admitted()) << decision.status.error_message();
  ASSERT_NE(decision.caller, nullptr);
  EXPECT_EQ(decision.caller->actor, "teacher:t-1");
  EXPECT_FALSE(decision.caller->principal_sig.empty());
  EXPECT_EQ(decision.retry_after_seconds, 0);
}

TEST_F(AdmissionTest, AStreamingMethodIsUnimplementedBeforeAnyToken) {
  MethodInfo streaming = Method(kGetCounty);
  streaming.server_streaming = true;
  const Admission::Decision decision = admission_->Admit(streaming, "", kGetCounty, kNow);
  EXPECT_EQ(decision.status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(decision.status.error_message(), HasSubstr("streaming"));
  EXPECT_EQ(decision.caller, nullptr);
}

TEST_F(AdmissionTest, NoBackendIsUnimplementedNamingTheServiceBeforeAnyToken) {
  const Admission::Decision decision = Admit(kGetCourse, "");
  EXPECT_EQ(decision.status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(decision.status.error_message(),
              HasSubstr("no backend is configured for shidang.training.v1.TrainingService"));
}

TEST_F(AdmissionTest, ABadTokenIsUnauthenticatedAndNeverRepeated) {
  const std::string forged = Bearer(common::v1::ROLE_ADMIN, "a-1") + "x";
  for (const std::string& authorization : {std::string(), std::string("Basic abc"), forged}) {
    const Admission::Decision decision = Admit(kGetCounty, authorization);
    EXPECT_EQ(decision.status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << authorization;
    EXPECT_EQ(decision.caller, nullptr);
  }
  const std::string token = forged.substr(std::string("Bearer ").size());
  EXPECT_THAT(Admit(kGetCounty, forged).status.error_message(), Not(HasSubstr(token)));
}

TEST_F(AdmissionTest, AWrongRoleIsPermissionDeniedNamingRoleCallAndAllowedRoles) {
  const Admission::Decision decision =
      Admit(kCreateCounty, Bearer(common::v1::ROLE_TEACHER, "t-1"), "POST /v1/counties");
  EXPECT_EQ(decision.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(decision.status.error_message(), HasSubstr("role teacher may not call"));
  EXPECT_THAT(decision.status.error_message(), HasSubstr("POST /v1/counties"));
  EXPECT_THAT(decision.status.error_message(), HasSubstr("province_hr"));
  EXPECT_THAT(decision.status.error_message(), HasSubstr("admin"));
  // The access log still names who was refused.
  ASSERT_NE(decision.caller, nullptr);
  EXPECT_EQ(decision.caller->actor, "teacher:t-1");
}

TEST_F(AdmissionTest, TheRateLimitComesLastWithTheSecondsToWait) {
  const std::string teacher = Bearer(common::v1::ROLE_TEACHER, "t-1");
  // Refused calls take no token: a forbidden method twice, then the burst of 2 is still there.
  EXPECT_FALSE(Admit(kCreateCounty, teacher).admitted());
  EXPECT_FALSE(Admit(kCreateCounty, teacher).admitted());
  EXPECT_TRUE(Admit(kGetCounty, teacher).admitted());
  EXPECT_TRUE(Admit(kGetCounty, teacher).admitted());
  const Admission::Decision limited = Admit(kGetCounty, teacher);
  EXPECT_EQ(limited.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(limited.retry_after_seconds, 1);
  EXPECT_THAT(limited.status.error_message(),
              HasSubstr("rate limit exceeded for teacher:t-1; retry after 1 s"));
  // Another principal has its own bucket.
  EXPECT_TRUE(Admit(kGetCounty, Bearer(common::v1::ROLE_TEACHER, "t-2")).admitted());
}

}  // namespace
}  // namespace shidang::gateway

namespace shidang::gateway {
namespace {

// Signing in and refreshing (declared without_token in the proto) need no token and carry no
// principal, whatever the client sends; every other method of the same service still needs one.
TEST_F(AdmissionTest, WithoutTokenMethodsAreAdmittedAnonymouslyAndNothingElseIs) {
  RateLimiter roomy{{/*rate_per_second=*/1, /*burst=*/1000}};
  const Admission admission(backends_.get(), &auth_, &roomy);
  for (const char* path : {kSignIn, kRefreshSession}) {
    ASSERT_TRUE(Method(path).without_token) << path;
    for (const std::string& authorization : {std::string(), std::string("Bearer not-a-token"),
                                             Bearer(common::v1::ROLE_ADMIN, "root")}) {
      const Admission::Decision decision = admission.Admit(Method(path), authorization, path, kNow);
      EXPECT_TRUE(decision.admitted()) << path << ": " << decision.status.error_message();
      ASSERT_NE(decision.caller, nullptr);
      // No principal to forward: a client's token (even a valid one) is not turned into one.
      EXPECT_TRUE(decision.caller->principal_bin.empty());
      EXPECT_TRUE(decision.caller->principal_sig.empty());
      EXPECT_EQ(decision.caller->principal.role(), common::v1::ROLE_UNSPECIFIED);
      EXPECT_EQ(decision.caller->actor, "anonymous");
    }
  }
  EXPECT_FALSE(Method(kSignOut).without_token);
  const Admission::Decision no_token = admission.Admit(Method(kSignOut), "", kSignOut, kNow);
  EXPECT_EQ(no_token.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(no_token.caller, nullptr);
  EXPECT_TRUE(
      admission.Admit(Method(kSignOut), Bearer(common::v1::ROLE_TEACHER, "t-1"), kSignOut, kNow)
          .admitted());
  // Every other public method of the API needs a token.
  for (const auto& method : methods_->methods()) {
    if (!method->is_public() || method->without_token || !method->is_unary()) continue;
    if (backends_->Find(method->service) == nullptr) continue;
    EXPECT_EQ(admission.Admit(*method, "", method->path, kNow).status.error_code(),
              grpc::StatusCode::UNAUTHENTICATED)
        << method->path;
  }
}

// Anonymous calls share one token bucket: password guessing is bounded however it is spread.
TEST_F(AdmissionTest, WithoutTokenCallsShareOneRateLimit) {
  EXPECT_TRUE(Admit(kSignIn, "").admitted());
  EXPECT_TRUE(Admit(kRefreshSession, "").admitted());
  const Admission::Decision limited = Admit(kSignIn, "Bearer whatever");
  EXPECT_EQ(limited.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // A signed-in caller has a bucket of their own.
  EXPECT_TRUE(Admit(kGetCounty, Bearer(common::v1::ROLE_TEACHER, "t-1")).admitted());
}

}  // namespace
}  // namespace shidang::gateway
