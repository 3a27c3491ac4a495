#pragma once

// Authentication at the gateway: `authorization: Bearer <jwt>` is verified by the kit's JwtVerifier
// and turned into the caller the backends will see: the Principal, already serialized and signed
// with the principal key, ready to attach to the outgoing call. Verified tokens are cached until
// they expire, keyed by the SHA-256 of the token (a cryptographic hash, so a forged token cannot
// collide with a cached one; the token itself is not kept), so a client that reuses its token pays
// for neither the JWT check nor the HMAC of the principal again.

#include <array>
#include <deque>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/jwt.h"
#include "services/common/principal.h"
#include "shidang/common/v1/principal.pb.h"

namespace shidang::gateway {

// A verified caller, shared read-only between the calls that present the same token.
struct Caller {
  common::v1::Principal principal;
  // principal.SerializeAsString() and its hex HMAC: the x-shidang-principal-bin / -sig values.
  std::string principal_bin;
  std::string principal_sig;
  // principal_bin in base64: the value on the wire of a `-bin` header, for the frame-level front.
  std::string principal_bin_base64;
  // "role:subject": for logs and for the rate limit.
  std::string actor;
  // principal.expires_at (the token's exp plus the verifier's skew); the cache forgets it then.
  absl::Time expires_at;
};

class Authenticator {
 public:
  // `max_cached` bounds the cache (entries, about 300 bytes each); 0 disables caching.
  Authenticator(JwtVerifier verifier, PrincipalSigner signer, size_t max_cached = 65536);

  // The caller an `authorization` metadata value vouches for at `now`. UNAUTHENTICATED when the
  // value is empty, not "Bearer <token>", or the token does not verify (the verifier's message says
  // why; the token is never repeated).
  absl::StatusOr<std::shared_ptr<const Caller>> Authenticate(absl::string_view authorization,
                                                             absl::Time now);

  // Number of cached callers (for tests and metrics).
  size_t cached() const;

 private:
  struct Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<std::string, std::shared_ptr<const Caller>> callers ABSL_GUARDED_BY(mu);
    // Insertion order, oldest first: when the shard is full the oldest entry goes (LRU-ish: a hot
    // token evicted this way is simply verified and cached again).
    std::deque<std::string> order ABSL_GUARDED_BY(mu);
  };
  static constexpr size_t kShards = 8;

  std::shared_ptr<const Caller> Lookup(const std::string& key, absl::Time now);
  void Remember(const std::string& key, std::shared_ptr<const Caller> caller);

  const JwtVerifier verifier_;
  const PrincipalSigner signer_;
  const size_t max_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace shidang::gateway
