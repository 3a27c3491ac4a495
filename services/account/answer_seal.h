#pragma once

// What the account service keeps of a request it answered, for its retries (DESIGN "Requests
// that change state"), without keeping a secret in the clear. An answer holding an initial
// password is stored sealed (XSalsa20-Poly1305, libsodium's secretbox): a retry by its caller gets
// the password again, byte for byte, while Redis, its append-only file and its backups hold only
// ciphertext. A ChangePassword is recognised by keyed digests of its passwords, so the stored
// fingerprint cannot be guessed against offline the way a plain SHA-256 could.
//
// The keys are derived from the secret that signs the access tokens (each under a label of its
// own), so the service needs no key file more. Answers sealed under a key that has since been
// rotated out no longer open: their retries are DATA_LOSS, "send a new request_id".

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/replay.h"
#include "shidang/account/v1/account.pb.h"

namespace shidang::account {

class AnswerSealer {
 public:
  // `secret`: the token signing secret (any length; JwtKeySet refuses short ones).
  explicit AnswerSealer(absl::string_view secret);

  // A fresh random nonce, then the ciphertext with its tag.
  std::string Seal(absl::string_view plain) const;
  // DATA_LOSS when `sealed` was not sealed with this key or was changed.
  absl::StatusOr<std::string> Open(absl::string_view sealed) const;
  // HMAC-SHA256 (lower-case hex) of `secret` under a key of its own.
  std::string Digest(absl::string_view secret) const;

  // For the kit's AnswerStore (replay.h): every stored answer sealed.
  AnswerSeal ForAnswerStore() const;

 private:
  std::string box_key_;     // crypto_secretbox_KEYBYTES
  std::string digest_key_;  // 32 bytes
};

// What ChangePassword's retries are compared by: the request with each password replaced by its
// keyed digest (request_id kept), so equal requests stay equal and no password is fingerprinted.
v1::ChangePasswordRequest FingerprintView(const AnswerSealer& sealer,
                                          const v1::ChangePasswordRequest& request);

}  // namespace shidang::account
