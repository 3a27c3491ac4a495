#pragma once

// The principal: who is calling a service, as the gateway (or our own tool) vouches for it. It
// travels in two metadata entries:
//   x-shidang-principal-bin  the serialized shidang.common.v1.Principal
//   x-shidang-principal-sig  lower-case hex HMAC-SHA256 of those bytes, with a key every process
//                            reads from a file
// Services verify it on every call (server.h's HandleCall does) and refuse, UNAUTHENTICATED, what
// they cannot verify. What a principal may reach (may this county HR read that teacher?) is
// scope.h's, which also names principals (ActorOf, RoleName) without gRPC.

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/scope.h"
#include "shidang/common/v1/principal.pb.h"

namespace shidang {

inline constexpr char kPrincipalMetadataKey[] = "x-shidang-principal-bin";
inline constexpr char kPrincipalSignatureMetadataKey[] = "x-shidang-principal-sig";
// Keys shorter than this are refused: HMAC-SHA256 wants at least its output size.
inline constexpr size_t kMinPrincipalKeyBytes = 32;
// How long a principal Attach signs without an expiry of its own stays good.
inline constexpr absl::Duration kAttachedPrincipalLifetime = absl::Minutes(5);

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

  // Adds both metadata entries to an outgoing call. A principal without an expiry (a service
  // calling another on its own behalf, a loader, a test) is signed to expire
  // kAttachedPrincipalLifetime from now, since services refuse one without.
  void Attach(grpc::ClientContext* context, const common::v1::Principal& principal) const;

  // Verifies the principal of an incoming call against the current time.
  absl::StatusOr<common::v1::Principal> Verify(const grpc::ServerContext& context) const;

  // Verifies the two metadata values. UNAUTHENTICATED when the principal is missing or not a
  // Principal, the signature is missing, malformed or wrong, the principal has expired
  // (expires_at not after `now`), has no expiry (expires_at 0), or its role is ROLE_UNSPECIFIED.
  absl::StatusOr<common::v1::Principal> VerifyValues(absl::string_view serialized,
                                                     absl::string_view signature_hex,
                                                     absl::Time now) const;

 private:
  std::string key_;
};

}  // namespace shidang
