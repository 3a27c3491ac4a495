#pragma once

// What the account service's use cases share: the store, the clock, the password hasher, how
// tokens are made, and the profile service (for teachers' accounts).

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/account/passwords.h"
#include "services/account/store.h"
#include "services/common/clock.h"
#include "services/common/jwt.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::account {

// Five wrong passwords in a row lock an account for 15 minutes (issue 17).
inline constexpr int kMaxWrongPasswords = 5;
inline constexpr absl::Duration kLockDuration = absl::Minutes(15);

// How tokens are made: the gateway's keyset (the key that signs), its issuer and audience.
struct TokenSettings {
  JwtKey key;
  std::string issuer = "shidang";
  std::string audience = "shidang-gateway";
  absl::Duration access_ttl = absl::Minutes(15);
  absl::Duration refresh_ttl = absl::Hours(12);
};

// The profile service as this service reads it (profile_client.h): one teacher, or a county's
// (or one school's) teachers. Empty when no profile service is configured: teachers' accounts are
// then refused with FAILED_PRECONDITION.
struct ProfileReader {
  std::function<absl::StatusOr<profile::v1::Teacher>(const std::string& teacher_id)> teacher;
  std::function<absl::StatusOr<std::vector<profile::v1::Teacher>>(const std::string& county_id,
                                                                  const std::string& school_id)>
      roster;
};

struct Deps {
  AccountStore& store;
  const Clock& clock;
  const Passwords& passwords;
  const TokenSettings& tokens;
  ProfileReader profile;
};

}  // namespace shidang::account
