#pragma once

// Bearer tokens: JWTs signed with HS256 (libjwt), naming their key by `kid`. The gateway verifies
// them with JwtVerifier and turns them into a Principal; shidang-mint makes them for tests and the
// demo. Only HS256 is accepted: a token whose header says any other algorithm (alg "none",
// HS384/HS512 made with the same secret, RS256...) is refused before and after libjwt looks at it.
//
// The keyset file has one key per line, `<kid> <secret in hex>`; blank lines and lines starting
// with '#' are ignored. A kid is 1..64 of [A-Za-z0-9._-]; a secret is at least 32 bytes. Example:
//   # rotated 2024-09
//   k2024-09 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
// Several keys may be live at once, so keys can be rotated without a flag day.

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "shidang/common/v1/principal.pb.h"

namespace shidang {

inline constexpr size_t kMinJwtSecretBytes = 32;

struct JwtKey {
  std::string kid;
  std::string secret;  // raw bytes
};

class JwtKeySet {
 public:
  // Parses the text of a keyset file (format above). INVALID_ARGUMENT naming the line when a line
  // is malformed, a secret is short, or a kid repeats; an empty keyset is refused too.
  static absl::StatusOr<JwtKeySet> Parse(absl::string_view text);
  static absl::StatusOr<JwtKeySet> FromFile(const std::string& path);

  // INVALID_ARGUMENT for a bad kid, a short secret or a kid already present.
  absl::Status Add(JwtKey key);
  // The key named `kid`, or nullptr.
  const JwtKey* Find(absl::string_view kid) const;
  size_t size() const { return keys_.size(); }
  bool empty() const { return keys_.empty(); }
  // The only key, when there is exactly one (for shidang-mint without --kid); else nullptr.
  const JwtKey* Single() const;

 private:
  std::map<std::string, JwtKey, std::less<>> keys_;
};

// The line of a keyset file for `key`: "<kid> <hex secret>\n".
std::string FormatJwtKeyLine(const JwtKey& key);

// An HS256 JWT with header {alg, typ, kid} and claims role (RoleName), sub, school_id, region,
// provider_id (each only when set), iss, aud, iat = nbf = now, exp = now + ttl. The principal's
// expires_at is ignored (exp comes from ttl).
absl::StatusOr<std::string> MintJwt(const JwtKey& key, const common::v1::Principal& claims,
                                    absl::string_view issuer, absl::string_view audience,
                                    absl::Duration ttl, absl::Time now);

class JwtVerifier {
 public:
  JwtVerifier(JwtKeySet keys, std::string issuer, std::string audience,
              absl::Duration skew = absl::Seconds(60));

  // The principal a token vouches for. Its expires_at is exp + skew, so that a service does not
  // refuse a moment later a principal the gateway accepted inside the skew. UNAUTHENTICATED, with
  // a message that says what was wrong and never repeats the token, when: the token is malformed;
  // alg is not HS256; kid is missing or unknown; the signature does not verify; iss or aud
  // differ; exp is missing or more than `skew` before now; nbf (when present) is more than `skew`
  // after now; role is missing or unknown; sub is missing. `aud` must be a single string.
  absl::StatusOr<common::v1::Principal> Verify(absl::string_view token, absl::Time now) const;

 private:
  JwtKeySet keys_;
  std::string issuer_;
  std::string audience_;
  absl::Duration skew_;
};

}  // namespace shidang
