#pragma once

// ID-card numbers at rest (DESIGN "Ids"): sealed with AES-256-GCM, and found through a keyed hash
// (a blind index) so duplicates are detected without storing or comparing the plain number. Both
// keys are derived from one secret read from a file; the number itself is never logged.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shidang::profile {

class IdCardVault {
 public:
  // The file holds at least 32 random bytes (deploy/run.sh makes one with `shidang-mint keygen`).
  static absl::StatusOr<IdCardVault> FromKeyFile(const std::string& path);
  // `secret` must be at least 32 bytes.
  explicit IdCardVault(absl::string_view secret);

  // nonce || ciphertext || tag, as bytes.
  absl::StatusOr<std::string> Seal(absl::string_view id_card_number) const;
  // Seal of each number, in order (a roster's worth at once, cheaper than one by one).
  absl::StatusOr<std::vector<std::string>> SealAll(const std::vector<std::string>& numbers) const;
  // DATA_LOSS when the bytes were not sealed with this key or were changed.
  absl::StatusOr<std::string> Open(absl::string_view sealed) const;
  // Lower-case hex HMAC-SHA256 of the normalised number under the index key.
  std::string BlindIndex(absl::string_view id_card_number) const;

 private:
  // The keyed OpenSSL contexts, set up once: a roster import seals and indexes 10,000 numbers,
  // and setting a key up (cipher fetch, AES key schedule, HMAC pads) cost more than the work
  // itself. Each call works on a copy, so one vault serves many threads.
  struct Keyed;

  std::string encryption_key_;  // 32 bytes
  std::string index_key_;       // 32 bytes
  std::shared_ptr<const Keyed> keyed_;
};

}  // namespace shidang::profile
