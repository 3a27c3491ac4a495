#pragma once

// ID-card numbers at rest (DESIGN "Ids"): sealed with AES-256-GCM, and found through a keyed hash
// (a blind index) so duplicates are detected without storing or comparing the plain number. Both
// keys are derived from one secret read from a file; the number itself is never logged.

#include <string>

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
  // DATA_LOSS when the bytes were not sealed with this key or were changed.
  absl::StatusOr<std::string> Open(absl::string_view sealed) const;
  // Lower-case hex HMAC-SHA256 of the normalised number under the index key.
  std::string BlindIndex(absl::string_view id_card_number) const;

 private:
  std::string encryption_key_;  // 32 bytes
  std::string index_key_;       // 32 bytes
};

}  // namespace shidang::profile
