#include "gateway/grpc_wire.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/status.h"

namespace shidang::gateway {
namespace {

constexpr size_t kMaxRequestIdLength = 128;
constexpr size_t kMaxTimeoutDigits = 8;

// Units of grpc-timeout, each at most kMaxGrpcTimeout.
std::chrono::nanoseconds TimeoutOf(int64_t amount, std::chrono::nanoseconds max_amount,
                                   std::chrono::nanoseconds unit) {
  if (amount > max_amount / unit) return kMaxGrpcTimeout;
  return amount * unit;
}

}  // namespace

std::string NewRequestId() {
  thread_local absl::InsecureBitGen gen;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen), absl::Uniform<uint64_t>(gen));
}

bool IsGoodRequestId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != ':' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

std::optional<std::chrono::nanoseconds> ParseGrpcTimeout(absl::string_view value) {
  if (value.size() < 2 || value.size() > kMaxTimeoutDigits + 1) return std::nullopt;
  const absl::string_view digits = value.substr(0, value.size() - 1);
  // absl::SimpleAtoi alone would also take "+5", " 5" and "5 ".
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  int64_t amount = 0;
  if (!absl::SimpleAtoi(digits, &amount)) return std::nullopt;
  const std::chrono::nanoseconds max = kMaxGrpcTimeout;
  switch (value.back()) {
    case 'H':
      return TimeoutOf(amount, max, std::chrono::hours(1));
    case 'M':
      return TimeoutOf(amount, max, std::chrono::minutes(1));
    case 'S':
      return TimeoutOf(amount, max, std::chrono::seconds(1));
    case 'm':
      return TimeoutOf(amount, max, std::chrono::milliseconds(1));
    case 'u':
      return TimeoutOf(amount, max, std::chrono::microseconds(1));
    case 'n':
      return TimeoutOf(amount, max, std::chrono::nanoseconds(1));
    default:
      return std::nullopt;
  }
}

std::string FormatGrpcTimeout(std::chrono::nanoseconds left) {
  const int64_t us =
      std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::microseconds>(left).count());
  if (us < 100000000) return absl::StrCat(us, "u");
  const int64_t ms = us / 1000;
  if (ms < 100000000) return absl::StrCat(ms, "m");
  return absl::StrCat(std::min<int64_t>(ms / 1000, 99999999), "S");
}

std::string PercentEncodeGrpcMessage(absl::string_view message) {
  std::string out;
  out.reserve(message.size());
  for (char c : message) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e || u == '%') {
      absl::StrAppendFormat(&out, "%%%02X", u);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

int GrpcStatusOf(const Headers& headers) {
  for (const HeaderField& header : headers) {
    if (header.name == "grpc-status") {
      int code = -1;
      return absl::SimpleAtoi(header.value, &code) ? code : -1;
    }
  }
  return -1;
}

int GrpcCodeIndex(int code) { return code < 0 || code > 16 ? 2 : code; }

absl::string_view GrpcCodeName(int code) {
  static const auto* const names = [] {
    auto* all = new std::array<std::string, 17>;
    for (int i = 0; i < 17; ++i) {
      (*all)[i] = absl::StatusCodeToString(static_cast<absl::StatusCode>(i));
    }
    return all;
  }();
  return (*names)[GrpcCodeIndex(code)];
}

Headers TrailersOnly(const grpc::Status& status, Headers extra) {
  Headers headers = {{":status", "200"},
                     {"content-type", "application/grpc"},
                     {"grpc-status", absl::StrCat(static_cast<int>(status.error_code()))},
                     {"grpc-message", PercentEncodeGrpcMessage(status.error_message())}};
  if (!status.error_details().empty()) {
    headers.push_back({"grpc-status-details-bin", absl::Base64Escape(status.error_details())});
  }
  for (HeaderField& header : extra) headers.push_back(std::move(header));
  return headers;
}

Headers Trailers(grpc::StatusCode code, absl::string_view message) {
  return {{"grpc-status", absl::StrCat(static_cast<int>(code))},
          {"grpc-message", PercentEncodeGrpcMessage(message)}};
}

size_t HeaderListSize(const Headers& headers) {
  size_t bytes = 0;
  for (const HeaderField& h : headers) bytes += h.name.size() + h.value.size() + 32;
  return bytes;
}

Headers FitHeaderListSize(Headers headers, size_t max_bytes, size_t reserve) {
  const size_t size = HeaderListSize(headers) + reserve;
  if (size <= max_bytes) return headers;
  auto details = std::find_if(headers.begin(), headers.end(), [](const HeaderField& h) {
    return h.name == "grpc-status-details-bin";
  });
  if (details == headers.end()) return headers;  // nothing of ours to cut
  const size_t others = size - details->value.size();
  std::string binary;
  std::optional<std::string> fitted;
  // Base64 takes 4 bytes for 3; peers may send it with or without padding.
  if (others < max_bytes && absl::Base64Unescape(details->value, &binary)) {
    fitted = FitRpcStatus(binary, (max_bytes - others) / 4 * 3);
  }
  if (fitted.has_value()) {
    details->value = absl::Base64Escape(*fitted);
  } else {
    headers.erase(details);
  }
  return headers;
}

}  // namespace shidang::gateway
