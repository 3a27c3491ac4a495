#pragma once

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace shidang {

// SHA-256 of `bytes`: 32 raw bytes. The digest is fetched from OpenSSL once per process: OpenSSL
// 3's one-shot SHA256() looks the algorithm up in its provider, under a lock, on every call,
// which costs more than hashing a short id seed or a token and makes threads contend.
std::string Sha256(absl::string_view bytes);

// An id's random-looking part: the first `hex_chars` (at most 64) hex digits of SHA-256(seed),
// so a retried request makes the same id; of random bytes when `seed` is empty.
std::string HexId(absl::string_view seed, size_t hex_chars);

}  // namespace shidang
