#pragma once

// The principal: who is calling a service, as the gateway (or our own tool) vouches for it. It
// travels in two metadata entries:
//   x-shidang-principal-bin  the serialized shidang.common.v1.Principal
//   x-shidang-principal-sig  lower-case hex HMAC-SHA256 of those bytes, with a key every process
//                            reads from a file
// Services verify it on every call (server.h's HandleCall does) and refuse, UNAUTHENTICATED, what
// they cannot verify. Scope decisions (may this county HR read that teacher?) stay in services;
// RegionCovers is the one shared helper for them.

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "shidang/common/v1/principal.pb.h"

namespace shidang {

inline constexpr char kPrincipalMetadataKey[] = "x-shidang-principal-bin";
inline constexpr char kPrincipalSignatureMetadataKey[] = "x-shidang-principal-sig";
// Keys shorter than this are refused: HMAC-SHA256 wants at least its output size.
inline constexpr size_t kMinPrincipalKeyBytes = 32;

class PrincipalSigner {
 public:
  // Reads the key from a file: its raw bytes, all of them, at least 32.
  static absl::StatusOr<PrincipalSigner> FromKeyFile(const std::string& path);

  // `key` must be at least kMinPrincipalKeyBytes long (checked by FromKeyFile; here the caller's
  // duty, as tests build signers from literal keys).
  explicit PrincipalSigner(std::string key);

  // Lower-case hex HMAC-SHA256 of `serialized`.
  std::string SignBytes(absl::string_view serialized) const;
  // Hex signature of principal.SerializeAsString().
  std::string Sign(const common::v1::Principal& principal) const;

  // Adds both metadata entries to an outgoing call.
  void Attach(grpc::ClientContext* context, const common::v1::Principal& principal) const;

  // Verifies the principal of an incoming call against the current time.
  absl::StatusOr<common::v1::Principal> Verify(const grpc::ServerContext& context) const;

  // Verifies the two metadata values. UNAUTHENTICATED when the principal is missing or not a
  // Principal, the signature is missing, malformed or wrong, the principal has expired
  // (expires_at set and not after `now`), or its role is ROLE_UNSPECIFIED.
  absl::StatusOr<common::v1::Principal> VerifyValues(absl::string_view serialized,
                                                     absl::string_view signature_hex,
                                                     absl::Time now) const;

 private:
  std::string key_;
};

// "role:subject", e.g. "county_hr:alice": how logs and records name who did something.
std::string ActorOf(const common::v1::Principal& principal);

// "teacher", "school_admin", "county_hr", "city_hr", "province_hr", "training_center", "admin",
// "service"; "unspecified" for ROLE_UNSPECIFIED.
std::string RoleName(common::v1::Role role);

// The inverse of RoleName; INVALID_ARGUMENT for anything else (including "unspecified").
absl::StatusOr<common::v1::Role> RoleFromName(absl::string_view name);

// True when `region` (a 6-digit GB/T 2260 code) covers the county `county_id`: a province
// ("110000") covers every code starting with its 2 digits, a city ("110100") every code starting
// with its 4, anything else only itself. False when either is not 6 digits or the region is
// "00xxxx".
bool RegionCovers(absl::string_view region, absl::string_view county_id);

}  // namespace shidang
