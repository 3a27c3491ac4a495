#pragma once

// The gRPC front: one generic service that receives every call the server has no registered
// handler for (health and reflection are registered; everything else lands here), and forwards it
// to the owning backend as raw bytes, never decoding the message.
//
// Per call, in order: the method must be in the descriptor set and public (roles declared), else
// UNIMPLEMENTED — internal methods look exactly like methods that do not exist; it must be unary
// (every Shidang RPC is unary; streaming ones are refused UNIMPLEMENTED); its service must have a
// backend; the bearer token must verify (UNAUTHENTICATED); the caller's role must be among the
// method's roles (PERMISSION_DENIED naming both); the caller's token bucket must have a token
// (RESOURCE_EXHAUSTED with `retry-after` seconds in the trailers). Only then is the request read and
// sent on with: the caller's deadline (or the default), cancellation, `x-request-id` (made when
// absent), `traceparent`, and the verified principal, signed. Nothing else the client sent is
// passed on, so a client can never send a principal of its own. The backend's status, message,
// error details and metadata come back unchanged.
//
// Why the callback API (CallbackGenericService) rather than AsyncGenericService with our own
// completion-queue threads: no thread of ours ever blocks in a call (the token check is CPU only,
// the backend call is itself a callback), so gRPC's own executor serves both sides of the proxy
// without a hand-written polling loop, and on this 2-core machine extra CQ threads would only add
// context switches. bench/gateway_bench.sh measures the result.

#include <grpcpp/generic/async_generic_service.h>

#include <functional>
#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gateway/auth.h"
#include "gateway/backends.h"
#include "gateway/method_table.h"
#include "gateway/rate_limit.h"

namespace shidang::gateway {

inline constexpr char kRequestIdKey[] = "x-request-id";
inline constexpr char kTraceparentKey[] = "traceparent";
inline constexpr char kRetryAfterKey[] = "retry-after";

struct ProxyOptions {
  // Deadline of a forwarded call when the caller set none.
  absl::Duration default_deadline = absl::Seconds(10);
  // One line per call on stderr: method, request id, actor, status, milliseconds.
  bool access_log = true;
};

class GrpcProxy : public grpc::CallbackGenericService {
 public:
  // Every pointer must outlive the proxy (and the server it is registered with).
  GrpcProxy(const MethodTable* methods, Backends* backends, Authenticator* auth,
            RateLimiter* rate_limiter, ProxyOptions options);

  // Serves `path` in the gateway itself (no token needed, nothing forwarded), e.g. reflection.
  // Call before the server starts.
  void ServeLocally(std::string path, std::function<grpc::ServerGenericBidiReactor*()> factory);

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* context) override;

 private:
  class Call;

  std::map<std::string, std::function<grpc::ServerGenericBidiReactor*()>, std::less<>> local_;

  const MethodTable* const methods_;
  Backends* const backends_;
  Authenticator* const auth_;
  RateLimiter* const rate_limiter_;
  const ProxyOptions options_;
};

// A fresh request id: 32 lower-case hex digits.
std::string NewRequestId();

// Whether a client's x-request-id may be passed on: 1..128 of [A-Za-z0-9._:-], the rule the
// services apply (services/common/server.cc), so the id the gateway passes on is the one they log.
bool IsGoodRequestId(absl::string_view id);

}  // namespace shidang::gateway
