#include "services/account/answer_seal.h"

#include <sodium.h>

#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"

namespace shidang::account {
namespace {

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  std::string out(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(data.data()),
                                data.size());
  crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

}  // namespace

AnswerSealer::AnswerSealer(absl::string_view secret) {
  // Idempotent and thread-safe; needed before randombytes_buf.
  if (sodium_init() < 0) std::abort();
  static_assert(crypto_secretbox_KEYBYTES == crypto_auth_hmacsha256_BYTES);
  box_key_ = HmacSha256(secret, "shidang account stored answers v1");
  digest_key_ = HmacSha256(secret, "shidang account request digests v1");
}

std::string AnswerSealer::Seal(absl::string_view plain) const {
  std::string sealed(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plain.size(), '\0');
  auto* out = reinterpret_cast<unsigned char*>(sealed.data());
  randombytes_buf(out, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plain.data()), plain.size(), out,
                        reinterpret_cast<const unsigned char*>(box_key_.data()));
  return sealed;
}

absl::StatusOr<std::string> AnswerSealer::Open(absl::string_view sealed) const {
  constexpr size_t kOverhead = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
  if (sealed.size() < kOverhead) return absl::DataLossError("sealed answer is truncated");
  std::string plain(sealed.size() - kOverhead, '\0');
  const auto* in = reinterpret_cast<const unsigned char*>(sealed.data());
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()),
                                 in + crypto_secretbox_NONCEBYTES,
                                 sealed.size() - crypto_secretbox_NONCEBYTES, in,
                                 reinterpret_cast<const unsigned char*>(box_key_.data())) != 0) {
    return absl::DataLossError("sealed answer does not open with this key");
  }
  return plain;
}

std::string AnswerSealer::Digest(absl::string_view secret) const {
  return absl::BytesToHexString(HmacSha256(digest_key_, secret));
}

AnswerSeal AnswerSealer::ForAnswerStore() const {
  AnswerSeal seal;
  seal.seal = [this](absl::string_view bytes) -> absl::StatusOr<std::string> {
    return Seal(bytes);
  };
  seal.open = [this](absl::string_view bytes) { return Open(bytes); };
  return seal;
}

v1::ChangePasswordRequest FingerprintView(const AnswerSealer& sealer,
                                          const v1::ChangePasswordRequest& request) {
  v1::ChangePasswordRequest view = request;
  view.set_old_password(sealer.Digest(request.old_password()));
  view.set_new_password(sealer.Digest(request.new_password()));
  return view;
}

}  // namespace shidang::account
