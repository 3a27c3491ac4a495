#include "services/common/principal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fstream>
#include <iterator>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace shidang {
namespace {

using common::v1::Principal;

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &out_len);
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

bool IsLowerHex(absl::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The single value of `key` in the client metadata; NOT_FOUND when absent, UNAUTHENTICATED when
// repeated (two principals on one call would be ambiguous).
absl::StatusOr<absl::string_view> SingleMetadata(const grpc::ServerContext& context,
                                                 absl::string_view key) {
  const auto& metadata = context.client_metadata();
  auto range = metadata.equal_range(grpc::string_ref(key.data(), key.size()));
  if (range.first == range.second) return absl::NotFoundError(key);
  auto next = range.first;
  if (++next != range.second) {
    return absl::UnauthenticatedError(absl::StrCat("metadata ", key, " is repeated"));
  }
  return absl::string_view(range.first->second.data(), range.first->second.size());
}

}  // namespace

absl::StatusOr<PrincipalSigner> PrincipalSigner::FromKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read the principal key file ", path));
  }
  std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (key.size() < kMinPrincipalKeyBytes) {
    return absl::FailedPreconditionError(absl::StrCat("principal key file ", path, " holds ",
                                                      key.size(), " bytes; at least ",
                                                      kMinPrincipalKeyBytes, " are required"));
  }
  return PrincipalSigner(std::move(key));
}

PrincipalSigner::PrincipalSigner(std::string key) : key_(std::move(key)) {}

std::string PrincipalSigner::SignBytes(absl::string_view serialized) const {
  return absl::BytesToHexString(HmacSha256(key_, serialized));
}

std::string PrincipalSigner::Sign(const Principal& principal) const {
  return SignBytes(principal.SerializeAsString());
}

void PrincipalSigner::Attach(grpc::ClientContext* context, const Principal& principal) const {
  std::string serialized;
  if (principal.expires_at() == 0) {
    Principal expiring = principal;
    expiring.set_expires_at(absl::ToUnixSeconds(absl::Now() + kAttachedPrincipalLifetime));
    serialized = expiring.SerializeAsString();
  } else {
    serialized = principal.SerializeAsString();
  }
  context->AddMetadata(kPrincipalMetadataKey, serialized);
  context->AddMetadata(kPrincipalSignatureMetadataKey, SignBytes(serialized));
}

absl::StatusOr<Principal> PrincipalSigner::Verify(const grpc::ServerContext& context) const {
  absl::StatusOr<absl::string_view> serialized = SingleMetadata(context, kPrincipalMetadataKey);
  if (absl::IsNotFound(serialized.status())) {
    return absl::UnauthenticatedError("no principal: the call must come through the gateway");
  }
  if (!serialized.ok()) return serialized.status();
  absl::StatusOr<absl::string_view> signature =
      SingleMetadata(context, kPrincipalSignatureMetadataKey);
  if (absl::IsNotFound(signature.status())) {
    return absl::UnauthenticatedError("the principal is not signed");
  }
  if (!signature.ok()) return signature.status();
  return VerifyValues(*serialized, *signature, absl::Now());
}

absl::StatusOr<Principal> PrincipalSigner::VerifyValues(absl::string_view serialized,
                                                        absl::string_view signature_hex,
                                                        absl::Time now) const {
  if (serialized.empty()) return absl::UnauthenticatedError("the principal is empty");
  // 32 bytes of HMAC-SHA256 in lower-case hex.
  if (signature_hex.size() != 64 || !IsLowerHex(signature_hex)) {
    return absl::UnauthenticatedError("the principal signature is malformed");
  }
  const std::string expected = HmacSha256(key_, serialized);
  const std::string given = absl::HexStringToBytes(signature_hex);
  if (given.size() != expected.size() ||
      CRYPTO_memcmp(given.data(), expected.data(), expected.size()) != 0) {
    return absl::UnauthenticatedError("the principal signature does not verify");
  }
  Principal principal;
  if (!principal.ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
    return absl::UnauthenticatedError("the principal is not a shidang.common.v1.Principal");
  }
  if (principal.role() == common::v1::ROLE_UNSPECIFIED ||
      !common::v1::Role_IsValid(principal.role())) {
    return absl::UnauthenticatedError("the principal has no known role");
  }
  // One without an expiry would be good forever to whoever copied it off the wire.
  if (principal.expires_at() == 0) {
    return absl::UnauthenticatedError("the principal has no expiry");
  }
  if (absl::FromUnixSeconds(principal.expires_at()) <= now) {
    return absl::UnauthenticatedError("the principal has expired");
  }
  return principal;
}

}  // namespace shidang
