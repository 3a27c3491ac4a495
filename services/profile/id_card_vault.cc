#include "services/profile/id_card_vault.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace shidang::profile {
namespace {

constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;

std::string Hmac(absl::string_view key, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

}  // namespace

absl::StatusOr<IdCardVault> IdCardVault::FromKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::FailedPreconditionError(absl::StrCat("cannot read data key file ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string secret = buffer.str();
  if (secret.size() < 32) {
    return absl::FailedPreconditionError(
        absl::StrCat("data key file ", path, " holds ", secret.size(),
                     " bytes; at least 32 random bytes are needed"));
  }
  return IdCardVault(secret);
}

IdCardVault::IdCardVault(absl::string_view secret)
    : encryption_key_(Hmac(secret, "shidang id-card encryption v1")),
      index_key_(Hmac(secret, "shidang id-card blind index v1")) {}

absl::StatusOr<std::string> IdCardVault::Seal(absl::string_view plain) const {
  std::string out(kNonceBytes + plain.size() + kTagBytes, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  if (RAND_bytes(bytes, kNonceBytes) != 1) return absl::InternalError("no randomness for a nonce");
  CipherContext ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(encryption_key_.data()),
                         bytes) != 1 ||
      EVP_EncryptUpdate(ctx.get(), bytes + kNonceBytes, &len,
                        reinterpret_cast<const unsigned char*>(plain.data()),
                        static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), bytes + kNonceBytes + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          bytes + kNonceBytes + plain.size()) != 1) {
    return absl::InternalError("sealing an ID-card number failed");
  }
  return out;
}

absl::StatusOr<std::string> IdCardVault::Open(absl::string_view sealed) const {
  if (sealed.size() < kNonceBytes + kTagBytes) {
    return absl::DataLossError("sealed ID-card number is truncated");
  }
  size_t text_len = sealed.size() - kNonceBytes - kTagBytes;
  const auto* bytes = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string plain(text_len, '\0');
  std::string tag(sealed.substr(kNonceBytes + text_len));
  CipherContext ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(encryption_key_.data()),
                         bytes) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len,
                        bytes + kNonceBytes, static_cast<int>(text_len)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + len,
                          &len) != 1) {
    return absl::DataLossError("sealed ID-card number does not open with this data key");
  }
  return plain;
}

std::string IdCardVault::BlindIndex(absl::string_view number) const {
  return absl::BytesToHexString(Hmac(index_key_, number));
}

}  // namespace shidang::profile
