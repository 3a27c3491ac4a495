#include "services/common/digest.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "services/common/random.h"

namespace shidang {

std::string Sha256(absl::string_view bytes) {
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  auto* out = reinterpret_cast<unsigned char*>(digest.data());
  if (sha256 == nullptr ||
      EVP_Digest(bytes.data(), bytes.size(), out, nullptr, sha256, nullptr) != 1) {
    SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), out);
  }
  return digest;
}

std::string HexId(absl::string_view seed, size_t hex_chars) {
  std::string digest;
  if (seed.empty()) {
    digest = SecureRandomBytes(SHA256_DIGEST_LENGTH);
  } else {
    digest = Sha256(seed);
  }
  const size_t chars = std::min<size_t>(hex_chars, size_t{2} * SHA256_DIGEST_LENGTH);
  return absl::BytesToHexString(absl::string_view(digest).substr(0, (chars + 1) / 2))
      .substr(0, chars);
}

}  // namespace shidang
