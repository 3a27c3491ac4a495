// shidang-mint: makes the credentials tests, the demo and operators need, from key files (never
// from secrets on the command line, which `ps` shows).
//
//   shidang-mint keygen --out=FILE [--kid=KID]
//       A new random 32-byte key, mode 0600: raw bytes (a principal key), or with --kid a keyset
//       line "<kid> <hex>" (a JWT keyset file; append more lines to rotate).
//   shidang-mint jwt --jwt_keys_file=FILE [--kid=KID] --role=county_hr --sub=alice --region=...
//       Prints an HS256 bearer token (--kid may be left out when the keyset has one key).
//   shidang-mint principal --principal_key_file=FILE --role=... --sub=...
//       Prints the two metadata entries services verify, ready for grpcurl -H:
//         x-shidang-principal-bin: <base64>
//         x-shidang-principal-sig: <hex>
//
// Common flags: --role, --sub, --school_id, --region, --provider_id, --ttl (default 1h), and for
// jwt --iss / --aud.

#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/jwt.h"
#include "services/common/principal.h"

ABSL_FLAG(std::string, jwt_keys_file, "", "JWT keyset file (lines `<kid> <hex secret>`).");
ABSL_FLAG(std::string, kid, "", "Key id: which JWT key signs; for keygen, write a keyset line.");
ABSL_FLAG(std::string, role, "", "Role name: teacher, school_admin, county_hr, city_hr, ...");
ABSL_FLAG(std::string, sub, "", "Subject: the teacher id for a teacher, an account otherwise.");
ABSL_FLAG(std::string, school_id, "", "School of a school admin.");
ABSL_FLAG(std::string, region, "", "GB/T 2260 code an HR role covers.");
ABSL_FLAG(std::string, provider_id, "", "Provider of a training centre.");
ABSL_FLAG(absl::Duration, ttl, absl::Hours(1), "How long the token or principal is valid.");
ABSL_FLAG(std::string, iss, "shidang", "JWT issuer.");
ABSL_FLAG(std::string, aud, "shidang-gateway", "JWT audience.");
ABSL_FLAG(std::string, out, "", "keygen: the file to create.");
ABSL_FLAG(std::string, principal_key_file, "",
          "principal: the key the services verify principals with (their --principal_key_file).");

namespace shidang {
namespace {

int Fail(absl::string_view message) {
  fprintf(stderr, "shidang-mint: %s\n", std::string(message).c_str());
  return 2;
}

absl::StatusOr<common::v1::Principal> PrincipalFromFlags() {
  absl::StatusOr<common::v1::Role> role = RoleFromName(absl::GetFlag(FLAGS_role));
  if (!role.ok())
    return absl::InvalidArgumentError(absl::StrCat("--role: ", role.status().message()));
  common::v1::Principal principal;
  principal.set_role(*role);
  principal.set_subject(absl::GetFlag(FLAGS_sub));
  if (principal.subject().empty()) return absl::InvalidArgumentError("--sub: required");
  principal.set_school_id(absl::GetFlag(FLAGS_school_id));
  principal.set_region(absl::GetFlag(FLAGS_region));
  principal.set_provider_id(absl::GetFlag(FLAGS_provider_id));
  if (absl::GetFlag(FLAGS_ttl) <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--ttl: must be positive");
  }
  return principal;
}

int Keygen() {
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) return Fail("keygen: --out=FILE is required");
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return Fail("keygen: no random bytes from OpenSSL");
  std::string key(reinterpret_cast<const char*>(bytes), sizeof(bytes));
  const std::string kid = absl::GetFlag(FLAGS_kid);
  std::string content = key;
  if (!kid.empty()) {
    JwtKeySet check;
    absl::Status valid = check.Add(JwtKey{kid, key});
    if (!valid.ok()) return Fail(absl::StrCat("keygen: --kid: ", valid.message()));
    content = FormatJwtKeyLine(JwtKey{kid, key});
  }
  // O_EXCL: never overwrite a key by accident; 0600: only its owner reads it.
  const int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return Fail(absl::StrCat("keygen: cannot create ", out, " (does it exist?)"));
  const ssize_t written = write(fd, content.data(), content.size());
  const bool closed = close(fd) == 0;
  if (written != static_cast<ssize_t>(content.size()) || !closed) {
    unlink(out.c_str());
    return Fail(absl::StrCat("keygen: cannot write ", out));
  }
  return 0;
}

int PrintJwt() {
  const std::string keys_file = absl::GetFlag(FLAGS_jwt_keys_file);
  if (keys_file.empty()) return Fail("jwt: --jwt_keys_file is required");
  absl::StatusOr<JwtKeySet> keys = JwtKeySet::FromFile(keys_file);
  if (!keys.ok()) return Fail(keys.status().message());
  const std::string kid = absl::GetFlag(FLAGS_kid);
  const JwtKey* key = kid.empty() ? keys->Single() : keys->Find(kid);
  if (key == nullptr) {
    return Fail(kid.empty() ? "jwt: the keyset has several keys; pick one with --kid"
                            : "jwt: --kid names no key of the keyset");
  }
  absl::StatusOr<common::v1::Principal> principal = PrincipalFromFlags();
  if (!principal.ok()) return Fail(principal.status().message());
  absl::StatusOr<std::string> token =
      MintJwt(*key, *principal, absl::GetFlag(FLAGS_iss), absl::GetFlag(FLAGS_aud),
              absl::GetFlag(FLAGS_ttl), absl::Now());
  if (!token.ok()) return Fail(token.status().message());
  printf("%s\n", token->c_str());
  return 0;
}

int PrintPrincipal() {
  const std::string key_file = absl::GetFlag(FLAGS_principal_key_file);
  if (key_file.empty()) return Fail("principal: --principal_key_file is required");
  absl::StatusOr<PrincipalSigner> signer = PrincipalSigner::FromKeyFile(key_file);
  if (!signer.ok()) return Fail(signer.status().message());
  absl::StatusOr<common::v1::Principal> principal = PrincipalFromFlags();
  if (!principal.ok()) return Fail(principal.status().message());
  principal->set_expires_at(absl::ToUnixSeconds(absl::Now() + absl::GetFlag(FLAGS_ttl)));
  const std::string serialized = principal->SerializeAsString();
  printf("%s: %s\n", kPrincipalMetadataKey, absl::Base64Escape(serialized).c_str());
  printf("%s: %s\n", kPrincipalSignatureMetadataKey, signer->SignBytes(serialized).c_str());
  return 0;
}

}  // namespace
}  // namespace shidang

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "shidang-mint keygen --out=FILE [--kid=KID] | jwt --jwt_keys_file=FILE ... | "
      "principal --principal_key_file=FILE ...");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    return shidang::Fail("usage: shidang-mint keygen|jwt|principal [flags]; see --help");
  }
  const std::string command = args[1];
  if (command == "keygen") return shidang::Keygen();
  if (command == "jwt") return shidang::PrintJwt();
  if (command == "principal") return shidang::PrintPrincipal();
  return shidang::Fail(absl::StrCat("unknown command ", command, "; use keygen, jwt or principal"));
}
