#include "gateway/auth.h"

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
const JwtKey& kKey = testing::kTokenKey;
const std::string kPrincipalKey(32, 'p');

common::v1::Principal Teacher(const std::string& id) {
  common::v1::Principal principal;
  principal.set_role(common::v1::ROLE_TEACHER);
  principal.set_subject(id);
  principal.set_school_id("s1");
  return principal;
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  Authenticator auth_{testing::TokenVerifier(), PrincipalSigner(kPrincipalKey),
                      /*max_cached=*/64};
  PrincipalSigner verifier_{kPrincipalKey};
};

TEST_F(AuthenticatorTest, AValidTokenGivesASignedPrincipalTheServicesAccept) {
  auto caller = auth_.Authenticate(BearerToken(Teacher("t-1")), kNow);
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ((*caller)->principal.role(), common::v1::ROLE_TEACHER);
  EXPECT_EQ((*caller)->principal.subject(), "t-1");
  EXPECT_EQ((*caller)->principal.school_id(), "s1");
  EXPECT_EQ((*caller)->actor, "teacher:t-1");
  // exp, plus the verifier's clock skew (60 s by default).
  EXPECT_EQ((*caller)->expires_at, kNow + absl::Hours(1) + absl::Seconds(60));
  // What a service does with the two metadata values.
  auto seen = verifier_.VerifyValues((*caller)->principal_bin, (*caller)->principal_sig, kNow);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->subject(), "t-1");
  EXPECT_EQ(seen->expires_at(), absl::ToUnixSeconds((*caller)->expires_at));
}

TEST_F(AuthenticatorTest, CachesVerifiedTokensUntilTheyExpire) {
  const std::string token = BearerToken(Teacher("t-1"), absl::Minutes(10));
  auto first = auth_.Authenticate(token, kNow);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(auth_.cached(), 1u);
  auto again = auth_.Authenticate(token, kNow + absl::Minutes(5));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), first->get());  // the very same cached caller
  // After exp (and the verifier's skew) the cache does not vouch for it any more.
  auto late = auth_.Authenticate(token, kNow + absl::Minutes(12));
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth_.cached(), 0u);
}

TEST_F(AuthenticatorTest, TheCacheIsBounded) {
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(auth_.Authenticate(BearerToken(Teacher(absl::StrCat("t-", i))), kNow).ok());
  }
  EXPECT_LE(auth_.cached(), 64u);
  EXPECT_GT(auth_.cached(), 0u);
}

TEST_F(AuthenticatorTest, RefusesMissingMalformedAndForeignTokens) {
  const std::string good = BearerToken(Teacher("t-1"));
  JwtKey other{"k1", std::string(32, 'x')};
  auto forged = MintJwt(other, Teacher("t-1"), "shidang", "shidang-api", absl::Hours(1), kNow);
  ASSERT_TRUE(forged.ok());
  auto wrong_audience = MintJwt(kKey, Teacher("t-1"), "shidang", "elsewhere", absl::Hours(1), kNow);
  ASSERT_TRUE(wrong_audience.ok());
  const std::string cases[] = {
      "",
      "Bearer",
      "Bearer ",
      "Basic dXNlcjpwYXNz",
      good.substr(7),  // the token without the scheme
      "Bearer not.a.jwt",
      absl::StrCat("Bearer ", *forged),
      absl::StrCat("Bearer ", *wrong_audience),
      BearerToken(Teacher("t-1"), absl::Hours(1), kNow - absl::Hours(3)),  // expired
  };
  for (const std::string& authorization : cases) {
    auto caller = auth_.Authenticate(authorization, kNow);
    ASSERT_FALSE(caller.ok()) << authorization;
    EXPECT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated) << authorization;
    if (authorization.size() > 20) {
      // Never repeats the token.
      EXPECT_THAT(caller.status().message(), Not(HasSubstr(authorization.substr(7))));
    }
  }
  EXPECT_EQ(auth_.cached(), 0u);
  EXPECT_TRUE(auth_.Authenticate(good, kNow).ok());
  // The scheme is case-insensitive (RFC 7235).
  EXPECT_TRUE(auth_.Authenticate(absl::StrCat("bearer ", good.substr(7)), kNow).ok());
}

}  // namespace
}  // namespace shidang::gateway
