#pragma once

// Random bytes from OpenSSL's CSPRNG, with one behaviour for every caller: a CSPRNG that fails
// (RAND_bytes != 1: an unseeded or broken generator) ends the process with a line on stderr. Ids,
// nonces and event ids made from anything less would collide or be guessable, and no caller can
// carry on without them, so none is left to choose between ignoring the failure and aborting.

#include <cstddef>
#include <string>

namespace shidang {

// `n` random bytes.
std::string SecureRandomBytes(size_t n);

// `n` random bytes as 2 * n lower-case hex digits.
std::string SecureRandomHex(size_t n);

}  // namespace shidang
