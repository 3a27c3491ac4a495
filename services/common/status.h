#pragma once

// Status at the gRPC edge. Inside a process everything is absl::Status / absl::StatusOr; a handler
// converts once, with ToGrpcStatus, when it answers. Structured details (which field, which rule,
// which rows; violations.h) travel inside an absl::Status as payloads keyed by their type URL, and
// leave the process as a shidang.common.v1.RpcStatus (wire-compatible with google.rpc.Status) in
// the grpc-status-details-bin trailer, where grpc clients and the gateway find them.

#include <cstddef>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"
#include "services/common/violations.h"
#include "shidang/common/v1/error.pb.h"

namespace shidang {

// What one error may carry, so that it reaches its caller through every hop: nghttp2 (the
// gateway's gRPC front) refuses a header field over 64 KiB and ends the whole connection, so an
// import refused for thousands of rows would arrive as "connection lost" with none of them. The
// message is kept to kMaxErrorMessageBytes, each text of a violation to kMaxViolationTextBytes
// (a 10 KB header cell is not echoed whole), and the details to the first kMaxRowViolations rows
// and kMaxErrorDetailsBytes in all; what is left out is counted in one more field violation
// (rule "more_violations", field "rows" or "fields"): "<n> of <total> ... are not listed".
inline constexpr size_t kMaxErrorMessageBytes = 1024;
inline constexpr size_t kMaxViolationTextBytes = 256;
inline constexpr int kMaxRowViolations = 100;
inline constexpr size_t kMaxErrorDetailsBytes = size_t{32} * 1024;

// `text` cut to at most `max_bytes` at a UTF-8 character boundary, saying how long it was.
std::string BoundedText(absl::string_view text, size_t max_bytes);

// The one conversion from absl::Status to grpc::Status. The code is kept (absl and gRPC number
// their codes alike), the message is kept, and every payload becomes an Any in the binary error
// details, all within the bounds above. An OK status gives grpc::Status::OK.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The inverse, for clients and the gateway: code, message and the details (as payloads) are kept,
// so BadRequestOf works on what a remote service answered.
absl::Status FromGrpcStatus(const grpc::Status& status);

// The RpcStatus `serialized` cut to at most `max_bytes` serialized: code and message kept, a
// BadRequest listing the first violations that fit and counting the rest (as ToGrpcStatus does),
// other details dropped when they do not fit; nullopt when it does not parse or the message alone
// is too long. For the gateway's gRPC front, whose clients may accept less metadata than an error
// carries (gRPC's C-core and Java clients take 8 KiB by default).
std::optional<std::string> FitRpcStatus(absl::string_view serialized, size_t max_bytes);

// The RpcStatus a grpc::Status carries: code, message and details (empty details when none).
common::v1::RpcStatus RpcStatusOf(const grpc::Status& status);

}  // namespace shidang
