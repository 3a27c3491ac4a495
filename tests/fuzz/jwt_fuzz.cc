// Bearer-token verification over arbitrary tokens, and the key-set file reader over arbitrary
// text: refused or accepted, never a crash, a leak or a read out of bounds. Half the inputs are
// turned into a well-formed HS256 token (header and claims from the input) signed with the right
// key, so the fuzzer reaches the claim checks past the signature.

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/time/clock.h"
#include "services/common/jwt.h"

namespace {

const shidang::JwtKeySet& Keys() {
  static const auto* keys =
      new shidang::JwtKeySet(*shidang::JwtKeySet::Parse("k1 " + std::string(64, 'a') + "\n"));
  return *keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* verifier = new shidang::JwtVerifier(Keys(), "shidang", "shidang-api");
  const std::string input(reinterpret_cast<const char*>(data), size);
  const absl::Time now = absl::FromUnixSeconds(1'760'000'000);
  (void)verifier->Verify(input, now);
  (void)shidang::JwtKeySet::Parse(input);
  // Claims from the input, signed: "<header json>\n<claims json>".
  const size_t split = input.find('\n');
  if (split != std::string::npos) {
    const std::string unsigned_part = absl::WebSafeBase64Escape(input.substr(0, split)) + "." +
                                      absl::WebSafeBase64Escape(input.substr(split + 1));
    const shidang::JwtKey* key = Keys().Single();
    if (key != nullptr) {
      unsigned char mac[EVP_MAX_MD_SIZE];
      unsigned int mac_size = 0;
      HMAC(EVP_sha256(), key->secret.data(), static_cast<int>(key->secret.size()),
           reinterpret_cast<const unsigned char*>(unsigned_part.data()), unsigned_part.size(), mac,
           &mac_size);
      const std::string signature(reinterpret_cast<const char*>(mac), mac_size);
      (void)verifier->Verify(unsigned_part + "." + absl::WebSafeBase64Escape(signature), now);
    }
  }
  return 0;
}
