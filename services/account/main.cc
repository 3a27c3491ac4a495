// shidang-account: accounts, passwords and sign-in. Flags and wiring only.

#include <memory>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "services/account/profile_client.h"
#include "services/account/service.h"
#include "services/common/service_flags.h"
#include "services/common/service_main.h"

ABSL_FLAG(std::string, jwt_keys_file, "",
          "The gateway's JWT keyset (lines `<kid> <hex secret>`); the key named by --jwt_kid "
          "signs the access tokens. Required.");
ABSL_FLAG(std::string, jwt_kid, "", "The key of the keyset that signs; empty: the only one.");
ABSL_FLAG(std::string, jwt_issuer, "shidang", "`iss` of the tokens (the gateway's --jwt_issuer).");
ABSL_FLAG(std::string, jwt_audience, "shidang-gateway",
          "`aud` of the tokens (the gateway's --jwt_audience).");
ABSL_FLAG(absl::Duration, access_ttl, absl::Minutes(15), "Life of an access token (1m to 1h).");
ABSL_FLAG(absl::Duration, refresh_ttl, absl::Hours(12), "Life of a refresh token (1m to 30d).");
ABSL_FLAG(std::string, profile, "",
          "host:port of the profile service, which tells a teacher's school and a county's "
          "roster; empty: teachers' accounts cannot be made.");
ABSL_FLAG(std::string, now, "",
          "RFC 3339 instant pinning the clock (tests: lockouts, expiry); empty: the real clock "
          "(or --today's).");
ABSL_FLAG(int, hash_parallelism, 4,
          "Password hashes computed at once (each takes 64 MiB); 1 to 64.");

namespace shidang::account {
namespace {

absl::StatusOr<TokenSettings> TokenSettingsFromFlags() {
  const std::string file = absl::GetFlag(FLAGS_jwt_keys_file);
  if (file.empty()) return absl::InvalidArgumentError("--jwt_keys_file: required");
  absl::StatusOr<JwtKeySet> keys = JwtKeySet::FromFile(file);
  if (!keys.ok()) {
    return absl::Status(keys.status().code(),
                        absl::StrCat("--jwt_keys_file: ", keys.status().message()));
  }
  const std::string kid = absl::GetFlag(FLAGS_jwt_kid);
  const JwtKey* key = kid.empty() ? keys->Single() : keys->Find(kid);
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        kid.empty() ? "--jwt_kid: required when the keyset holds several keys"
                    : absl::StrCat("--jwt_kid: no key '", kid, "' in --jwt_keys_file"));
  }
  TokenSettings settings;
  settings.key = *key;
  settings.issuer = absl::GetFlag(FLAGS_jwt_issuer);
  settings.audience = absl::GetFlag(FLAGS_jwt_audience);
  settings.access_ttl = absl::GetFlag(FLAGS_access_ttl);
  settings.refresh_ttl = absl::GetFlag(FLAGS_refresh_ttl);
  if (settings.access_ttl < absl::Minutes(1) || settings.access_ttl > absl::Hours(1)) {
    return absl::InvalidArgumentError("--access_ttl: must be 1m to 1h");
  }
  if (settings.refresh_ttl < absl::Minutes(1) || settings.refresh_ttl > absl::Hours(24 * 30)) {
    return absl::InvalidArgumentError("--refresh_ttl: must be 1m to 720h");
  }
  return settings;
}

absl::StatusOr<ServiceParts> Wire(const ServiceKit& kit) {
  ServiceParts parts;
  absl::StatusOr<TokenSettings> tokens = TokenSettingsFromFlags();
  if (!tokens.ok()) return tokens.status();
  auto token_settings = std::make_shared<TokenSettings>(*std::move(tokens));
  const int parallelism = absl::GetFlag(FLAGS_hash_parallelism);
  if (parallelism < 1 || parallelism > 64) {
    return absl::InvalidArgumentError("--hash_parallelism: must be 1 to 64");
  }
  absl::StatusOr<std::unique_ptr<Passwords>> passwords = Passwords::Create(parallelism);
  if (!passwords.ok()) return passwords.status();
  std::shared_ptr<Passwords> hasher = *std::move(passwords);

  const Clock* clock = &kit.clock;
  const std::string now = absl::GetFlag(FLAGS_now);
  if (!now.empty()) {
    absl::Time pinned;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, now, &pinned, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--now: must be an RFC 3339 instant (", error, ")"));
    }
    auto fixed = std::make_shared<FixedClock>(pinned);
    clock = fixed.get();
    parts.resources.push_back(fixed);
  }

  ProfileReader profile;
  const std::string profile_address = absl::GetFlag(FLAGS_profile);
  if (!profile_address.empty()) {
    // One channel for the process, shared by every call (STYLE: stubs made once).
    std::shared_ptr<profile::v1::ProfileService::StubInterface> stub =
        profile::v1::ProfileService::NewStub(
            grpc::CreateChannel(profile_address, grpc::InsecureChannelCredentials()));
    profile = ReaderOverGrpc(std::move(stub), kit.signer);
  }
  parts.resources.push_back(token_settings);
  parts.resources.push_back(hasher);
  parts.services.push_back(std::make_unique<AccountServiceImpl>(
      *kit.pool, kit.signer, *clock, *hasher, *token_settings, std::move(profile)));
  return parts;
}

}  // namespace
}  // namespace shidang::account

int main(int argc, char** argv) {
  return shidang::ServiceMain(
      argc, argv, "shidang-account: accounts, passwords and sign-in; --helpfull lists its flags",
      shidang::account::Wire);
}
