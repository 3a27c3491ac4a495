#pragma once

// Status at the gRPC edge. Inside a process everything is absl::Status / absl::StatusOr; a handler
// converts once, with ToGrpcStatus, when it answers. Structured details (which field, which rule,
// which rows; violations.h) travel inside an absl::Status as payloads keyed by their type URL, and
// leave the process as a shidang.common.v1.RpcStatus (wire-compatible with google.rpc.Status) in
// the grpc-status-details-bin trailer, where grpc clients and the gateway find them.

#include "grpcpp/support/status.h"
#include "services/common/violations.h"
#include "shidang/common/v1/error.pb.h"

namespace shidang {

// The one conversion from absl::Status to grpc::Status. The code is kept (absl and gRPC number
// their codes alike), the message is kept, and every payload becomes an Any in the binary error
// details. An OK status gives grpc::Status::OK.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The inverse, for clients and the gateway: code, message and the details (as payloads) are kept,
// so BadRequestOf works on what a remote service answered.
absl::Status FromGrpcStatus(const grpc::Status& status);

// The RpcStatus a grpc::Status carries: code, message and details (empty details when none).
common::v1::RpcStatus RpcStatusOf(const grpc::Status& status);

}  // namespace shidang
