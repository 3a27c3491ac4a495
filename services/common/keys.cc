#include "services/common/keys.h"

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace shidang::keys {
namespace {

// CRC16/XMODEM (poly 0x1021, init 0), the checksum Redis Cluster uses for slots.
uint16_t Crc16(absl::string_view data) {
  uint16_t crc = 0;
  for (unsigned char byte : data) {
    crc ^= static_cast<uint16_t>(byte) << 8;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc;
}

}  // namespace

std::string HashTag(absl::string_view kind, absl::string_view id) {
  return absl::StrCat("{", kind, ":", id, "}");
}

absl::string_view HashedPart(absl::string_view key) {
  size_t open = key.find('{');
  if (open == absl::string_view::npos) return key;
  size_t close = key.find('}', open + 1);
  if (close == absl::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

int KeySlot(absl::string_view key) { return Crc16(HashedPart(key)) & 16383; }

std::string StreamKey(absl::string_view service, absl::string_view hash_tag) {
  return absl::StrCat(service, ":", hash_tag, ":events");
}

std::string StreamIndexKey(absl::string_view service) { return absl::StrCat(service, ":streams"); }

}  // namespace shidang::keys
