#pragma once

// Test kit: bearer tokens for the gateway's unit tests (auth, admission), signed with one key "k1"
// for issuer "shidang" and audience "shidang-api", at a fixed now.

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "services/common/jwt.h"
#include "shidang/common/v1/principal.pb.h"

namespace shidang::testing {

// The tests' now: 2024-09-01 00:00 UTC.
inline const absl::Time kTokenNow = absl::FromUnixSeconds(1725148800);
inline const JwtKey kTokenKey{"k1", std::string(32, 'j')};

// The verifier of the tokens below (kTokenKey, "shidang", "shidang-api").
inline JwtVerifier TokenVerifier() {
  JwtKeySet keys;
  EXPECT_TRUE(keys.Add(kTokenKey).ok());
  return JwtVerifier(std::move(keys), "shidang", "shidang-api");
}

// "Bearer <token>" for `claims`, valid for `ttl` from `now`.
inline std::string BearerToken(const common::v1::Principal& claims,
                               absl::Duration ttl = absl::Hours(1), absl::Time now = kTokenNow) {
  auto token = MintJwt(kTokenKey, claims, "shidang", "shidang-api", ttl, now);
  EXPECT_TRUE(token.ok()) << token.status();
  return absl::StrCat("Bearer ", *token);
}

}  // namespace shidang::testing
