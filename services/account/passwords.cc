#include "services/account/passwords.h"

#include <sodium.h>

#include <memory>

#include "services/common/random.h"

namespace shidang::account {
namespace {

constexpr char kInitialAlphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
constexpr size_t kInitialLength = 14;

// Argon2id at OWASP's recommended floor (19 MiB, 2 passes, 1 lane) rather than libsodium's
// "interactive" 64 MiB: a sign-in verifies in ~0.1-0.2 s instead of ~0.7 s on this 2-core machine,
// which the county dashboard's 1 s from the click needs, still memory-hard. Hashes made with
// other limits keep verifying: each stored string carries its own.
constexpr unsigned long long kHashPasses = 2;  // NOLINT(google-runtime-int): libsodium's type
constexpr size_t kHashMemoryBytes = size_t{19} << 20;

bool LooksLikeArgon2id(absl::string_view hash) {
  return hash.size() < crypto_pwhash_STRBYTES && hash.substr(0, 10) == "$argon2id$";
}

}  // namespace

std::string NewInitialPassword() {
  const size_t alphabet = sizeof(kInitialAlphabet) - 1;
  std::string out;
  while (out.size() < kInitialLength) {
    // Rejection sampling keeps every character equally likely.
    for (unsigned char byte : SecureRandomBytes(32)) {
      if (byte >= 256 - 256 % alphabet) continue;
      out.push_back(kInitialAlphabet[byte % alphabet]);
      if (out.size() == kInitialLength) break;
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Passwords>> Passwords::Create(int max_parallel) {
  if (sodium_init() < 0) return absl::InternalError("libsodium failed to initialise");
  std::unique_ptr<Passwords> passwords(new Passwords(max_parallel < 1 ? 1 : max_parallel));
  absl::StatusOr<std::string> dummy = passwords->Hash(SecureRandomHex(16));
  if (!dummy.ok()) return dummy.status();
  passwords->dummy_hash_ = *std::move(dummy);
  return passwords;
}

void Passwords::Acquire() const {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* free) { return *free > 0; }, &free_slots_));
  --free_slots_;
}

void Passwords::Release() const {
  absl::MutexLock lock(&mu_);
  ++free_slots_;
}

absl::StatusOr<std::string> Passwords::Hash(absl::string_view password) const {
  char out[crypto_pwhash_STRBYTES];
  Acquire();
  const int rc =
      crypto_pwhash_str(out, password.data(), password.size(), kHashPasses, kHashMemoryBytes);
  Release();
  if (rc != 0) return absl::ResourceExhaustedError("not enough memory to hash a password");
  return std::string(out);
}

bool Passwords::Verify(absl::string_view password, absl::string_view hash) const {
  const bool real = LooksLikeArgon2id(hash);
  // crypto_pwhash_str_verify wants a NUL-terminated string.
  const std::string stored(real ? hash : absl::string_view(dummy_hash_));
  Acquire();
  const int rc = crypto_pwhash_str_verify(stored.c_str(), password.data(), password.size());
  Release();
  return real && rc == 0;
}

}  // namespace shidang::account
