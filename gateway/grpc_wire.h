#pragma once

// The gRPC-over-HTTP/2 wire details the gateway's fronts read and write, kept apart from any
// connection so they are tested on their own (tests/gateway/grpc_wire_test.cc): the metadata keys
// the gateway reads or sets, request ids, grpc-timeout values, the percent-encoding of
// grpc-message, and trailers. The formats are those of gRPC's PROTOCOL-HTTP2.md.

#include <grpcpp/support/status.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace shidang::gateway {

inline constexpr char kRequestIdKey[] = "x-request-id";
inline constexpr char kTraceparentKey[] = "traceparent";
inline constexpr char kRetryAfterKey[] = "retry-after";

// One HTTP/2 header field, as the fronts keep them.
struct HeaderField {
  std::string name;
  std::string value;
};
using Headers = std::vector<HeaderField>;

// A fresh request id: 32 lower-case hex digits.
std::string NewRequestId();

// Whether a client's x-request-id may be passed on: 1..128 of [A-Za-z0-9._:-], the rule the
// services apply (services/common/server.cc), so the id the gateway passes on is the one they log.
bool IsGoodRequestId(absl::string_view id);

// The longest timeout a grpc-timeout value is taken for: 99,999,999 seconds (about 3 years), so a
// deadline computed from it never overflows a steady_clock time point, whatever the unit
// ("99999999H" would be 3.6e20 ns).
inline constexpr std::chrono::seconds kMaxGrpcTimeout{99999999};

// Parses a grpc-timeout value: 1 to 8 ASCII digits, then the unit H, M, S, m, u or n. nullopt for
// anything else (signs, spaces, nine digits, an unknown unit); values above kMaxGrpcTimeout are
// taken as kMaxGrpcTimeout.
std::optional<std::chrono::nanoseconds> ParseGrpcTimeout(absl::string_view value);

// The grpc-timeout value for the time `left`: microseconds while they fit in 8 digits, then
// milliseconds, then seconds (at most 99999999S); at least "1u", so a deadline already reached
// still goes on as the smallest timeout rather than none.
std::string FormatGrpcTimeout(std::chrono::nanoseconds left);

// grpc-message is percent-encoded: every byte outside printable ASCII (0x20..0x7E) and '%' itself
// becomes %XX (upper-case hex), so UTF-8 text goes byte by byte.
std::string PercentEncodeGrpcMessage(absl::string_view message);

// The value of grpc-status among `headers` (the first one), or -1 when absent or not a number.
int GrpcStatusOf(const Headers& headers);

// The name of a gRPC code ("OK", "NOT_FOUND", ...); a number that is no code is UNKNOWN.
absl::string_view GrpcCodeName(int code);
// 0..16 for a gRPC code; what is not one counts as UNKNOWN (2).
int GrpcCodeIndex(int code);

// The header block of a trailers-only answer with `status`: :status 200, content-type,
// grpc-status, grpc-message (percent-encoded), grpc-status-details-bin (base64) when the status
// has details, then `extra` in order.
Headers TrailersOnly(const grpc::Status& status, Headers extra = {});

// The trailers that end a call whose response headers were already sent: grpc-status and
// grpc-message (percent-encoded).
Headers Trailers(grpc::StatusCode code, absl::string_view message);

// The size of `headers` as HTTP/2 counts it against SETTINGS_MAX_HEADER_LIST_SIZE: name + value
// + 32 per field (values as on the wire: base64 for -bin, percent-encoded grpc-message).
size_t HeaderListSize(const Headers& headers);

// `headers` (a trailers-only answer, or trailers) fitted to a client that accepts at most
// `max_bytes` of them, with `reserve` bytes left for fields added after (x-request-id). When they
// are larger, grpc-status-details-bin is cut to what fits (status.h FitRpcStatus: the first
// violations and the count of all), or dropped when nothing does. gRPC's C-core and Java clients
// take 8 KiB by default, and an error's details may be up to 32 KiB; a client past its limit
// would see the call fail with none of them.
Headers FitHeaderListSize(Headers headers, size_t max_bytes, size_t reserve);

}  // namespace shidang::gateway
