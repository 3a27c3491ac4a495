#include "gateway/auth.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "services/common/digest.h"

namespace shidang::gateway {
namespace {

std::string TokenKey(absl::string_view token) { return Sha256(token); }

}  // namespace

Authenticator::Authenticator(JwtVerifier verifier, PrincipalSigner signer, size_t max_cached)
    : verifier_(std::move(verifier)),
      signer_(std::move(signer)),
      max_per_shard_(max_cached == 0 ? 0 : std::max<size_t>(1, max_cached / kShards)) {}

absl::StatusOr<std::shared_ptr<const Caller>> Authenticator::Authenticate(
    absl::string_view authorization, absl::Time now) {
  if (authorization.empty()) {
    return absl::UnauthenticatedError(
        "missing bearer token: send metadata `authorization: Bearer <token>`");
  }
  absl::string_view token = absl::StripAsciiWhitespace(authorization);
  if (!absl::StartsWithIgnoreCase(token, "bearer ")) {
    return absl::UnauthenticatedError(
        "authorization metadata must be `Bearer <token>` (no other scheme is accepted)");
  }
  token = absl::StripLeadingAsciiWhitespace(token.substr(7));
  if (token.empty()) return absl::UnauthenticatedError("authorization: Bearer with no token");

  const std::string key = TokenKey(token);
  if (std::shared_ptr<const Caller> cached = Lookup(key, now)) return cached;

  absl::StatusOr<common::v1::Principal> principal = verifier_.Verify(token, now);
  if (!principal.ok()) return principal.status();
  auto caller = std::make_shared<Caller>();
  caller->principal = *std::move(principal);
  caller->principal_bin = caller->principal.SerializeAsString();
  caller->principal_sig = signer_.SignBytes(caller->principal_bin);
  caller->principal_bin_base64 = absl::Base64Escape(caller->principal_bin);
  caller->actor = ActorOf(caller->principal);
  caller->expires_at = absl::FromUnixSeconds(caller->principal.expires_at());
  // expires_at is the token's exp plus the verifier's clock skew: the last moment the verifier
  // itself would accept the token, and when the backends stop accepting the principal. The cache
  // keeps the caller no longer than that.
  if (caller->expires_at > now) Remember(key, caller);
  return caller;
}

std::shared_ptr<const Caller> Authenticator::Lookup(const std::string& key, absl::Time now) {
  if (max_per_shard_ == 0) return nullptr;
  Shard& shard = shards_[static_cast<unsigned char>(key[0]) % kShards];
  absl::MutexLock lock(&shard.mu);
  auto it = shard.callers.find(key);
  if (it == shard.callers.end()) return nullptr;
  if (it->second->expires_at <= now) {
    // Its key stays in `order` until it reaches the front; erasing it there is then a no-op.
    shard.callers.erase(it);
    return nullptr;
  }
  return it->second;
}

void Authenticator::Remember(const std::string& key, std::shared_ptr<const Caller> caller) {
  if (max_per_shard_ == 0) return;
  Shard& shard = shards_[static_cast<unsigned char>(key[0]) % kShards];
  absl::MutexLock lock(&shard.mu);
  if (!shard.callers.insert_or_assign(key, std::move(caller)).second) return;
  shard.order.push_back(key);
  while (shard.callers.size() > max_per_shard_ || shard.order.size() > 2 * max_per_shard_) {
    // Oldest first: the likeliest to have expired, and O(1). A key may appear twice in `order`
    // (expired, then cached again); erasing it early only costs one more verification.
    shard.callers.erase(shard.order.front());
    shard.order.pop_front();
  }
}

size_t Authenticator::cached() const {
  size_t total = 0;
  for (const Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    total += shard.callers.size();
  }
  return total;
}

}  // namespace shidang::gateway
