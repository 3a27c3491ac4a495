#include "services/common/jwt.h"

#include <jwt.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/principal.h"

namespace shidang {
namespace {

using common::v1::Principal;

// Tokens longer than this are refused before any parsing (ours are a few hundred bytes).
constexpr size_t kMaxTokenBytes = 8192;

struct JwtDeleter {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

struct FreeDeleter {
  void operator()(char* p) const { free(p); }
};

bool IsValidKid(absl::string_view kid) {
  if (kid.empty() || kid.size() > 64) return false;
  for (char c : kid) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

absl::Status Unauthenticated(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("bearer token refused: ", why));
}

// The (unverified) JOSE header, read before libjwt so that we pick the key by kid and refuse any
// algorithm but HS256 before the signature is even looked at.
absl::StatusOr<google::protobuf::Struct> ParseHeader(absl::string_view token) {
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[2].empty()) {
    return Unauthenticated("not a signed JWT (header.payload.signature)");
  }
  std::string header_json;
  if (!absl::WebSafeBase64Unescape(parts[0], &header_json)) {
    return Unauthenticated("the header is not base64url");
  }
  google::protobuf::Struct header;
  if (!google::protobuf::util::JsonStringToMessage(header_json, &header).ok()) {
    return Unauthenticated("the header is not a JSON object");
  }
  return header;
}

std::string StringField(const google::protobuf::Struct& object, const std::string& name) {
  auto it = object.fields().find(name);
  if (it == object.fields().end() || !it->second.has_string_value()) return "";
  return it->second.string_value();
}

// The integer claim `name`: nullopt when absent, an error when present but not an integer.
absl::StatusOr<std::optional<int64_t>> IntClaim(jwt_t* jwt, const char* name) {
  errno = 0;
  const long value = jwt_get_grant_int(jwt, name);
  if (errno == ENOENT) return std::optional<int64_t>();
  if (errno != 0) return Unauthenticated(absl::StrCat("claim ", name, " is not an integer"));
  return std::optional<int64_t>(value);
}

std::string StringClaim(jwt_t* jwt, const char* name) {
  const char* value = jwt_get_grant(jwt, name);
  return value == nullptr ? "" : value;
}

}  // namespace

absl::StatusOr<JwtKeySet> JwtKeySet::Parse(absl::string_view text) {
  JwtKeySet keys;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    const std::string where = absl::StrCat("keyset line ", line_number);
    if (fields.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": expected `<kid> <secret in hex>`"));
    }
    const absl::string_view hex = fields[1];
    bool hex_ok = hex.size() % 2 == 0;
    for (char c : hex) hex_ok = hex_ok && absl::ascii_isxdigit(static_cast<unsigned char>(c));
    if (!hex_ok) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": the secret must be hex"));
    }
    absl::Status added = keys.Add(JwtKey{std::string(fields[0]), absl::HexStringToBytes(hex)});
    if (!added.ok()) return absl::InvalidArgumentError(absl::StrCat(where, ": ", added.message()));
  }
  if (keys.empty()) return absl::InvalidArgumentError("the keyset holds no key");
  return keys;
}

absl::StatusOr<JwtKeySet> JwtKeySet::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read the JWT keyset file ", path));
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  absl::StatusOr<JwtKeySet> keys = Parse(text);
  if (!keys.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": ", keys.status().message()));
  }
  return keys;
}

absl::Status JwtKeySet::Add(JwtKey key) {
  if (!IsValidKid(key.kid)) {
    return absl::InvalidArgumentError("a kid is 1 to 64 of A-Z a-z 0-9 . _ -");
  }
  if (key.secret.size() < kMinJwtSecretBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the secret of kid ", key.kid, " has ",
                                                   key.secret.size(), " bytes; at least ",
                                                   kMinJwtSecretBytes, " are required"));
  }
  if (keys_.count(key.kid) > 0) {
    return absl::InvalidArgumentError(absl::StrCat("kid ", key.kid, " appears twice"));
  }
  std::string kid = key.kid;
  keys_.emplace(std::move(kid), std::move(key));
  return absl::OkStatus();
}

const JwtKey* JwtKeySet::Find(absl::string_view kid) const {
  auto it = keys_.find(kid);
  return it == keys_.end() ? nullptr : &it->second;
}

const JwtKey* JwtKeySet::Single() const {
  return keys_.size() == 1 ? &keys_.begin()->second : nullptr;
}

std::string FormatJwtKeyLine(const JwtKey& key) {
  return absl::StrCat(key.kid, " ", absl::BytesToHexString(key.secret), "\n");
}

absl::StatusOr<std::string> MintJwt(const JwtKey& key, const Principal& claims,
                                    absl::string_view issuer, absl::string_view audience,
                                    absl::Duration ttl, absl::Time now) {
  if (!IsValidKid(key.kid) || key.secret.size() < kMinJwtSecretBytes) {
    return absl::InvalidArgumentError("the JWT key needs a valid kid and a secret of 32+ bytes");
  }
  if (claims.role() == common::v1::ROLE_UNSPECIFIED) {
    return absl::InvalidArgumentError("role: required");
  }
  if (claims.subject().empty()) return absl::InvalidArgumentError("sub: required");
  if (ttl <= absl::ZeroDuration()) return absl::InvalidArgumentError("ttl: must be positive");

  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return absl::InternalError("jwt_new failed");
  JwtPtr jwt(raw);
  const int64_t iat = absl::ToUnixSeconds(now);
  const int64_t exp = absl::ToUnixSeconds(now + ttl);
  int rc = 0;
  rc |= jwt_add_header(jwt.get(), "kid", key.kid.c_str());
  rc |= jwt_add_grant(jwt.get(), "role", RoleName(claims.role()).c_str());
  rc |= jwt_add_grant(jwt.get(), "sub", claims.subject().c_str());
  if (!claims.school_id().empty()) {
    rc |= jwt_add_grant(jwt.get(), "school_id", claims.school_id().c_str());
  }
  if (!claims.region().empty()) rc |= jwt_add_grant(jwt.get(), "region", claims.region().c_str());
  if (!claims.provider_id().empty()) {
    rc |= jwt_add_grant(jwt.get(), "provider_id", claims.provider_id().c_str());
  }
  rc |= jwt_add_grant(jwt.get(), "iss", std::string(issuer).c_str());
  rc |= jwt_add_grant(jwt.get(), "aud", std::string(audience).c_str());
  rc |= jwt_add_grant_int(jwt.get(), "iat", static_cast<long>(iat));
  rc |= jwt_add_grant_int(jwt.get(), "nbf", static_cast<long>(iat));
  rc |= jwt_add_grant_int(jwt.get(), "exp", static_cast<long>(exp));
  rc |= jwt_set_alg(jwt.get(), JWT_ALG_HS256,
                    reinterpret_cast<const unsigned char*>(key.secret.data()),
                    static_cast<int>(key.secret.size()));
  if (rc != 0) return absl::InternalError("libjwt refused a claim or the key");
  std::unique_ptr<char, FreeDeleter> encoded(jwt_encode_str(jwt.get()));
  if (encoded == nullptr) return absl::InternalError("jwt_encode_str failed");
  return std::string(encoded.get());
}

JwtVerifier::JwtVerifier(JwtKeySet keys, std::string issuer, std::string audience,
                         absl::Duration skew)
    : keys_(std::move(keys)),
      issuer_(std::move(issuer)),
      audience_(std::move(audience)),
      skew_(skew) {}

absl::StatusOr<Principal> JwtVerifier::Verify(absl::string_view token, absl::Time now) const {
  if (token.empty()) return Unauthenticated("empty");
  if (token.size() > kMaxTokenBytes) return Unauthenticated("longer than 8192 bytes");
  absl::StatusOr<google::protobuf::Struct> header = ParseHeader(token);
  if (!header.ok()) return header.status();
  const std::string alg = StringField(*header, "alg");
  if (alg != "HS256") {
    return Unauthenticated(absl::StrCat("algorithm \"", absl::CHexEscape(alg.substr(0, 16)),
                                        "\" is not allowed; only HS256"));
  }
  const std::string kid = StringField(*header, "kid");
  if (kid.empty()) return Unauthenticated("the header has no kid");
  const JwtKey* key = keys_.Find(kid);
  if (key == nullptr) {
    return Unauthenticated(IsValidKid(kid) ? absl::StrCat("unknown kid ", kid) : "unknown kid");
  }

  // Always pass the key: libjwt 1.10 accepts alg "none" when none is given (TOOLCHAIN.md).
  jwt_t* raw = nullptr;
  const std::string token_text(token);
  const int rc = jwt_decode(&raw, token_text.c_str(),
                            reinterpret_cast<const unsigned char*>(key->secret.data()),
                            static_cast<int>(key->secret.size()));
  JwtPtr jwt(raw);
  if (rc != 0 || jwt == nullptr) return Unauthenticated("the signature does not verify");
  // libjwt verifies with whatever algorithm the header names; insist on the one we issue.
  if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256) return Unauthenticated("only HS256 is allowed");

  if (StringClaim(jwt.get(), "iss") != issuer_) return Unauthenticated("wrong issuer (iss)");
  if (StringClaim(jwt.get(), "aud") != audience_) return Unauthenticated("wrong audience (aud)");

  absl::StatusOr<std::optional<int64_t>> exp = IntClaim(jwt.get(), "exp");
  if (!exp.ok()) return exp.status();
  if (!exp->has_value()) return Unauthenticated("no expiry (exp)");
  if (absl::FromUnixSeconds(**exp) + skew_ < now) return Unauthenticated("expired (exp)");
  absl::StatusOr<std::optional<int64_t>> nbf = IntClaim(jwt.get(), "nbf");
  if (!nbf.ok()) return nbf.status();
  if (nbf->has_value() && absl::FromUnixSeconds(**nbf) - skew_ > now) {
    return Unauthenticated("not valid yet (nbf)");
  }

  Principal principal;
  const std::string role_name = StringClaim(jwt.get(), "role");
  if (role_name.empty()) return Unauthenticated("no role claim");
  absl::StatusOr<common::v1::Role> role = RoleFromName(role_name);
  if (!role.ok()) return Unauthenticated(role.status().message());
  principal.set_role(*role);
  principal.set_subject(StringClaim(jwt.get(), "sub"));
  if (principal.subject().empty()) return Unauthenticated("no subject (sub)");
  principal.set_school_id(StringClaim(jwt.get(), "school_id"));
  principal.set_region(StringClaim(jwt.get(), "region"));
  principal.set_provider_id(StringClaim(jwt.get(), "provider_id"));
  principal.set_expires_at(**exp + absl::ToInt64Seconds(skew_));
  return principal;
}

}  // namespace shidang
