#pragma once

// The one admission path of the gateway's two fronts (gRPC, grpc_front.h; HTTP/JSON,
// http_server.h): whether a call to a public method may go on to its backend, decided in this
// order, the first refusal winning:
//   1. the method is unary (every Shidang RPC is; a streaming one is UNIMPLEMENTED),
//   2. its service has a backend (else UNIMPLEMENTED naming the service),
//   3. the bearer token verifies (UNAUTHENTICATED, the verifier's reason, never the token),
//   4. the caller's role is among the method's roles (PERMISSION_DENIED naming the role, the call
//      and the roles allowed),
//   5. the caller's token bucket has a token (RESOURCE_EXHAUSTED with the seconds to wait).
// A method declared without_token (signing in, refreshing a session) skips 3 and 4: it is admitted
// with the anonymous caller (AnonymousCaller: no principal, actor "anonymous"), whatever the
// client's authorization says, and its calls share one token bucket, so that password guessing
// from everywhere together is bounded. The fronts send no principal for it.
// Checks 1, 2 and 4 need no data and no scope; what depends on the scope (a teacher reading only
// their own records) is the services' to decide. Which methods are public, and so reach here, is
// each front's business: the gRPC front sends the others to the in-process server, the HTTP front
// has routes only for public methods.

#include <grpcpp/support/status.h>

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gateway/auth.h"
#include "gateway/backends.h"
#include "gateway/method_table.h"
#include "gateway/rate_limit.h"

namespace shidang::gateway {

// The caller of a without_token method: empty principal_bin (nothing is sent to the backend).
const std::shared_ptr<const Caller>& AnonymousCaller();

class Admission {
 public:
  struct Decision {
    // OK when the call may go on.
    grpc::Status status;
    // The verified caller: set whenever the token verified, also when a later check refused
    // (the access log names the actor).
    std::shared_ptr<const Caller> caller;
    // Seconds until the caller's next token, with RESOURCE_EXHAUSTED; 0 otherwise.
    int64_t retry_after_seconds = 0;

    bool admitted() const { return status.ok(); }
  };

  // Every pointer must outlive the admission.
  Admission(const Backends* backends, Authenticator* auth, RateLimiter* rate_limiter)
      : backends_(backends), auth_(auth), rate_limiter_(rate_limiter) {}

  // Decides a call to the public `method` with the client's `authorization` value at `now`.
  // `call_name` is how a PERMISSION_DENIED message names the call: the gRPC path, or the HTTP
  // method and route ("GET /v1/teachers/{teacher_id}").
  Decision Admit(const MethodInfo& method, absl::string_view authorization,
                 absl::string_view call_name, absl::Time now) const;

 private:
  const Backends* const backends_;
  Authenticator* const auth_;
  RateLimiter* const rate_limiter_;
};

}  // namespace shidang::gateway
