#include "services/common/jwt.h"

#include <jwt.h>

#include <cstdlib>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace shidang {
namespace {

using common::v1::Principal;

const absl::Time kNow = absl::FromUnixSeconds(1'725'000'000);
const JwtKey kKey{"k1", std::string(32, 's')};

JwtKeySet Keys() {
  JwtKeySet keys;
  EXPECT_TRUE(keys.Add(kKey).ok());
  EXPECT_TRUE(keys.Add(JwtKey{"k2", std::string(40, 't')}).ok());
  return keys;
}

JwtVerifier Verifier() { return JwtVerifier(Keys(), "shidang", "shidang-gateway"); }

Principal Hr() {
  Principal principal;
  principal.set_role(common::v1::ROLE_CITY_HR);
  principal.set_subject("bob");
  principal.set_region("130100");
  return principal;
}

std::string Mint(const JwtKey& key, absl::Time now, absl::string_view iss = "shidang",
                 absl::string_view aud = "shidang-gateway") {
  absl::StatusOr<std::string> token = MintJwt(key, Hr(), iss, aud, absl::Minutes(10), now);
  EXPECT_TRUE(token.ok()) << token.status();
  return token.value_or("");
}

void ExpectRefused(const absl::StatusOr<Principal>& result, absl::string_view why) {
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated) << why;
  EXPECT_NE(result.status().message().find(why), absl::string_view::npos)
      << result.status().message();
}

// A token signed by libjwt itself with any algorithm, for the algorithm-confusion tests.
std::string SignWith(jwt_alg_t alg, const std::string& secret, absl::string_view kid) {
  jwt_t* jwt = nullptr;
  EXPECT_EQ(jwt_new(&jwt), 0);
  jwt_add_header(jwt, "kid", std::string(kid).c_str());
  jwt_add_grant(jwt, "role", "admin");
  jwt_add_grant(jwt, "sub", "mallory");
  jwt_add_grant(jwt, "iss", "shidang");
  jwt_add_grant(jwt, "aud", "shidang-gateway");
  jwt_add_grant_int(jwt, "exp", absl::ToUnixSeconds(kNow) + 600);
  EXPECT_EQ(jwt_set_alg(jwt, alg, reinterpret_cast<const unsigned char*>(secret.data()),
                        static_cast<int>(secret.size())),
            0);
  char* encoded = jwt_encode_str(jwt);
  std::string token = encoded == nullptr ? "" : encoded;
  free(encoded);
  jwt_free(jwt);
  return token;
}

TEST(JwtTest, RoundTrip) {
  const std::string token = Mint(kKey, kNow);
  absl::StatusOr<Principal> principal = Verifier().Verify(token, kNow + absl::Minutes(1));
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->role(), common::v1::ROLE_CITY_HR);
  EXPECT_EQ(principal->subject(), "bob");
  EXPECT_EQ(principal->region(), "130100");
  EXPECT_EQ(principal->school_id(), "");
  // exp plus the 60 s skew.
  EXPECT_EQ(principal->expires_at(), absl::ToUnixSeconds(kNow + absl::Minutes(10)) + 60);

  // The second key verifies its own tokens too (rotation).
  const JwtKey second{"k2", std::string(40, 't')};
  EXPECT_TRUE(Verifier().Verify(Mint(second, kNow), kNow).ok());
}

TEST(JwtTest, AlgNoneIsRefused) {
  const std::string header = absl::WebSafeBase64Escape(R"({"alg":"none","typ":"JWT","kid":"k1"})");
  const std::string payload = absl::WebSafeBase64Escape(absl::StrCat(
      R"({"role":"admin","sub":"mallory","iss":"shidang","aud":"shidang-gateway","exp":)",
      absl::ToUnixSeconds(kNow) + 600, "}"));
  ExpectRefused(Verifier().Verify(absl::StrCat(header, ".", payload, "."), kNow), "");
  ExpectRefused(Verifier().Verify(absl::StrCat(header, ".", payload, ".c2ln"), kNow),
                "algorithm \"none\" is not allowed");
  // No kid at all: still refused for the algorithm.
  const std::string bare = absl::WebSafeBase64Escape(R"({"alg":"none"})");
  ExpectRefused(Verifier().Verify(absl::StrCat(bare, ".", payload, ".c2ln"), kNow),
                "is not allowed");
}

TEST(JwtTest, OtherHmacAlgorithmsWithTheSameSecretAreRefused) {
  // libjwt alone would accept these: the secret is right, only the algorithm differs.
  for (jwt_alg_t alg : {JWT_ALG_HS384, JWT_ALG_HS512}) {
    const std::string token = SignWith(alg, kKey.secret, kKey.kid);
    ASSERT_FALSE(token.empty());
    ExpectRefused(Verifier().Verify(token, kNow), "only HS256");
  }
  // The same construction with HS256 passes, so the refusals above are about the algorithm.
  EXPECT_TRUE(Verifier().Verify(SignWith(JWT_ALG_HS256, kKey.secret, kKey.kid), kNow).ok());
}

TEST(JwtTest, UnknownKidAndBadSignature) {
  ExpectRefused(Verifier().Verify(SignWith(JWT_ALG_HS256, kKey.secret, "k9"), kNow),
                "unknown kid k9");
  // Right kid, wrong secret.
  ExpectRefused(Verifier().Verify(SignWith(JWT_ALG_HS256, std::string(32, 'x'), "k1"), kNow),
                "signature does not verify");
  // A payload swapped under a valid signature.
  const std::string token = Mint(kKey, kNow);
  const std::string other = SignWith(JWT_ALG_HS256, kKey.secret, kKey.kid);
  const size_t dot1 = token.find('.'), dot2 = token.rfind('.');
  const size_t other_dot1 = other.find('.'), other_dot2 = other.rfind('.');
  const std::string spliced = token.substr(0, dot1) +
                              other.substr(other_dot1, other_dot2 - other_dot1) +
                              token.substr(dot2);
  ExpectRefused(Verifier().Verify(spliced, kNow), "signature does not verify");
  ExpectRefused(Verifier().Verify("not-a-token", kNow), "not a signed JWT");
  ExpectRefused(Verifier().Verify("", kNow), "empty");
}

TEST(JwtTest, TimeWindowWithSkew) {
  const std::string token = Mint(kKey, kNow);  // nbf = kNow, exp = kNow + 10 min
  const absl::Time exp = kNow + absl::Minutes(10);
  EXPECT_TRUE(Verifier().Verify(token, exp + absl::Seconds(59)).ok());  // skew tolerated
  ExpectRefused(Verifier().Verify(token, exp + absl::Seconds(61)), "expired");
  EXPECT_TRUE(Verifier().Verify(token, kNow - absl::Seconds(59)).ok());  // clocks differ a bit
  ExpectRefused(Verifier().Verify(token, kNow - absl::Seconds(61)), "not valid yet");
  JwtVerifier strict(Keys(), "shidang", "shidang-gateway", absl::ZeroDuration());
  ExpectRefused(strict.Verify(token, exp + absl::Seconds(1)), "expired");
}

TEST(JwtTest, WrongIssuerOrAudience) {
  ExpectRefused(Verifier().Verify(Mint(kKey, kNow, "someone-else"), kNow), "wrong issuer");
  ExpectRefused(Verifier().Verify(Mint(kKey, kNow, "shidang", "another-app"), kNow),
                "wrong audience");
}

TEST(JwtTest, MessagesNeverEchoTheToken) {
  const std::string token = SignWith(JWT_ALG_HS384, kKey.secret, kKey.kid);
  absl::StatusOr<Principal> result = Verifier().Verify(token, kNow);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message().find(token.substr(token.rfind('.') + 1)),
            absl::string_view::npos);
}

TEST(JwtKeySetTest, ParsesLinesAndRefusesBadOnes) {
  const std::string hex = std::string(64, 'a');
  absl::StatusOr<JwtKeySet> keys =
      JwtKeySet::Parse(absl::StrCat("# keys\n\nk1 ", hex, "\n  k2\t", std::string(66, 'b'), "\n"));
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->size(), 2u);
  ASSERT_NE(keys->Find("k1"), nullptr);
  EXPECT_EQ(keys->Find("k1")->secret, std::string(32, '\xaa'));
  EXPECT_EQ(keys->Find("k3"), nullptr);
  EXPECT_EQ(keys->Single(), nullptr);

  EXPECT_FALSE(JwtKeySet::Parse("").ok());
  EXPECT_FALSE(JwtKeySet::Parse(absl::StrCat("k1 ", std::string(62, 'a'))).ok());  // 31 bytes
  EXPECT_FALSE(JwtKeySet::Parse(absl::StrCat("k1 ", std::string(64, 'g'))).ok());  // not hex
  EXPECT_FALSE(JwtKeySet::Parse(absl::StrCat("k1 ", hex, "\nk1 ", hex)).ok());     // repeated
  EXPECT_FALSE(JwtKeySet::Parse(absl::StrCat("k/1 ", hex)).ok());                  // bad kid
  absl::StatusOr<JwtKeySet> bad_line = JwtKeySet::Parse(absl::StrCat("k1 ", hex, "\nk2\n"));
  ASSERT_FALSE(bad_line.ok());
  EXPECT_NE(bad_line.status().message().find("line 2"), absl::string_view::npos);

  absl::StatusOr<JwtKeySet> formatted = JwtKeySet::Parse(FormatJwtKeyLine(kKey));
  ASSERT_TRUE(formatted.ok());
  ASSERT_NE(formatted->Single(), nullptr);
  EXPECT_EQ(formatted->Single()->secret, kKey.secret);
}

TEST(JwtTest, MintRefusesIncompleteClaims) {
  Principal no_role = Hr();
  no_role.set_role(common::v1::ROLE_UNSPECIFIED);
  EXPECT_FALSE(MintJwt(kKey, no_role, "i", "a", absl::Minutes(1), kNow).ok());
  Principal no_sub = Hr();
  no_sub.clear_subject();
  EXPECT_FALSE(MintJwt(kKey, no_sub, "i", "a", absl::Minutes(1), kNow).ok());
  EXPECT_FALSE(MintJwt(JwtKey{"k1", "short"}, Hr(), "i", "a", absl::Minutes(1), kNow).ok());
}

}  // namespace
}  // namespace shidang
