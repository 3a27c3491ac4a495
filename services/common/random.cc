#include "services/common/random.h"

#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/escaping.h"

namespace shidang {

std::string SecureRandomBytes(size_t n) {
  std::string bytes(n, '\0');
  auto* out = reinterpret_cast<unsigned char*>(bytes.data());
  // RAND_bytes takes an int; larger requests go in pieces.
  for (size_t done = 0; done < n;) {
    const int piece = static_cast<int>(std::min<size_t>(n - done, INT_MAX));
    if (RAND_bytes(out + done, piece) != 1) {
      std::fprintf(stderr, "shidang: RAND_bytes failed; no random ids can be made, aborting\n");
      std::abort();
    }
    done += static_cast<size_t>(piece);
  }
  return bytes;
}

std::string SecureRandomHex(size_t n) { return absl::BytesToHexString(SecureRandomBytes(n)); }

}  // namespace shidang
