#pragma once

// Passwords: argon2id hashes (libsodium's crypto_pwhash_str at OWASP's floor: 19 MiB and 2
// passes, see passwords.cc) and initial passwords. What a new password must be is a rule
// (rules.h's NewPasswordProblem).
//
// Hashing costs memory, so at most `max_parallel` hashes run at once (the rest wait): sixteen
// sign-ins at once would otherwise want 304 MiB. A verification against a username that does not
// exist runs against a dummy hash made at start, so that it takes the time a real one takes.

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace shidang::account {

// 14 characters from an alphabet without look-alikes (no 0/O, 1/l/I): about 80 bits.
std::string NewInitialPassword();

class Passwords {
 public:
  // Initialises libsodium (INTERNAL if it cannot) and makes the dummy hash.
  static absl::StatusOr<std::unique_ptr<Passwords>> Create(int max_parallel = 4);

  // The argon2id hash string ("$argon2id$v=19$m=65536,t=2,p=1$...").
  absl::StatusOr<std::string> Hash(absl::string_view password) const;

  // True when `password` matches `hash`. An empty or malformed hash is checked against the dummy
  // hash instead (and gives false), so every call costs one verification.
  bool Verify(absl::string_view password, absl::string_view hash) const;

 private:
  explicit Passwords(int max_parallel) : free_slots_(max_parallel) {}
  void Acquire() const;
  void Release() const;

  std::string dummy_hash_;
  mutable absl::Mutex mu_;
  mutable int free_slots_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shidang::account
