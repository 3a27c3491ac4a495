#include "services/profile/id_card_vault.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"

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
using MacContext = std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)>;

}  // namespace

struct IdCardVault::Keyed {
  // Encryption set up with the key and no nonce yet; nullptr when OpenSSL refused (Seal says so).
  CipherContext seal{nullptr, EVP_CIPHER_CTX_free};
  // HMAC-SHA256 set up with the index key; nullptr when OpenSSL refused (BlindIndex falls back).
  MacContext index{nullptr, EVP_MAC_CTX_free};
};

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
      index_key_(Hmac(secret, "shidang id-card blind index v1")) {
  auto keyed = std::make_shared<Keyed>();
  keyed->seal.reset(EVP_CIPHER_CTX_new());
  if (keyed->seal &&
      EVP_EncryptInit_ex(keyed->seal.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(encryption_key_.data()),
                         nullptr) != 1) {
    keyed->seal.reset();
  }
  std::unique_ptr<EVP_MAC, decltype(&EVP_MAC_free)> hmac(EVP_MAC_fetch(nullptr, "HMAC", nullptr),
                                                         EVP_MAC_free);
  if (hmac) keyed->index.reset(EVP_MAC_CTX_new(hmac.get()));
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_END};
  if (keyed->index &&
      EVP_MAC_init(keyed->index.get(), reinterpret_cast<const unsigned char*>(index_key_.data()),
                   index_key_.size(), params) != 1) {
    keyed->index.reset();
  }
  keyed_ = std::move(keyed);
}

absl::StatusOr<std::string> IdCardVault::Seal(absl::string_view id_card_number) const {
  SHIDANG_ASSIGN_OR_RETURN(std::vector<std::string> sealed, SealAll({std::string(id_card_number)}));
  return std::move(sealed[0]);
}

absl::StatusOr<std::vector<std::string>> IdCardVault::SealAll(
    const std::vector<std::string>& numbers) const {
  // One context for the batch (a copy of the keyed one) takes a fresh nonce per number; the
  // nonces come from one call to the CSPRNG.
  std::string nonces(kNonceBytes * numbers.size(), '\0');
  if (!nonces.empty() && RAND_bytes(reinterpret_cast<unsigned char*>(nonces.data()),
                                    static_cast<int>(nonces.size())) != 1) {
    return absl::InternalError("no randomness for a nonce");
  }
  CipherContext ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  if (!ctx || !keyed_->seal || EVP_CIPHER_CTX_copy(ctx.get(), keyed_->seal.get()) != 1) {
    return absl::InternalError("sealing an ID-card number failed");
  }
  std::vector<std::string> out;
  out.reserve(numbers.size());
  for (size_t i = 0; i < numbers.size(); ++i) {
    const std::string& plain = numbers[i];
    std::string& sealed = out.emplace_back(kNonceBytes + plain.size() + kTagBytes, '\0');
    auto* bytes = reinterpret_cast<unsigned char*>(sealed.data());
    std::memcpy(bytes, nonces.data() + kNonceBytes * i, kNonceBytes);
    int len = 0;
    int tail = 0;
    if (EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, nullptr, bytes) != 1 ||
        EVP_EncryptUpdate(ctx.get(), bytes + kNonceBytes, &len,
                          reinterpret_cast<const unsigned char*>(plain.data()),
                          static_cast<int>(plain.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), bytes + kNonceBytes + len, &tail) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                            bytes + kNonceBytes + plain.size()) != 1) {
      return absl::InternalError("sealing an ID-card number failed");
    }
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
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + len, &len) !=
          1) {
    return absl::DataLossError("sealed ID-card number does not open with this data key");
  }
  return plain;
}

std::string IdCardVault::BlindIndex(absl::string_view number) const {
  if (keyed_->index) {
    MacContext ctx(EVP_MAC_CTX_dup(keyed_->index.get()), EVP_MAC_CTX_free);
    unsigned char out[EVP_MAX_MD_SIZE];
    size_t len = 0;
    if (ctx &&
        EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(number.data()),
                       number.size()) == 1 &&
        EVP_MAC_final(ctx.get(), out, &len, sizeof(out)) == 1) {
      return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(out), len));
    }
  }
  return absl::BytesToHexString(Hmac(index_key_, number));
}

}  // namespace shidang::profile
