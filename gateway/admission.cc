#include "gateway/admission.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/principal.h"
#include "services/common/status.h"

namespace shidang::gateway {
namespace {

std::string AllowedRoles(const MethodInfo& method) {
  std::vector<std::string> names;
  for (common::v1::Role role : method.roles) names.push_back(RoleName(role));
  return absl::StrJoin(names, ", ");
}

}  // namespace

const std::shared_ptr<const Caller>& AnonymousCaller() {
  static const auto* anonymous = new std::shared_ptr<const Caller>([] {
    auto caller = std::make_shared<Caller>();
    caller->actor = "anonymous";
    caller->expires_at = absl::InfiniteFuture();
    return caller;
  }());
  return *anonymous;
}

Admission::Decision Admission::Admit(const MethodInfo& method, absl::string_view authorization,
                                     absl::string_view call_name, absl::Time now) const {
  Decision decision;
  if (!method.is_unary()) {
    decision.status = grpc::Status(
        grpc::StatusCode::UNIMPLEMENTED,
        absl::StrCat(method.path, " is a streaming method; the gateway serves unary methods only"));
    return decision;
  }
  if (backends_->Find(method.service) == nullptr) {
    decision.status = grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                   absl::StrCat("no backend is configured for ", method.service));
    return decision;
  }
  if (method.without_token) {
    decision.caller = AnonymousCaller();
  } else {
    auto caller = auth_->Authenticate(authorization, now);
    if (!caller.ok()) {
      decision.status = ToGrpcStatus(caller.status());
      return decision;
    }
    decision.caller = *std::move(caller);
  }
  const common::v1::Role role = decision.caller->principal.role();
  if (!method.without_token && !method.Allows(role)) {
    decision.status =
        grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                     absl::StrCat("role ", RoleName(role), " may not call ", call_name,
                                  " (allowed: ", AllowedRoles(method), ")"));
    return decision;
  }
  const RateLimiter::Decision taken = rate_limiter_->Take(decision.caller->actor, now);
  if (!taken.allowed) {
    decision.retry_after_seconds = taken.retry_after_seconds;
    decision.status = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                   absl::StrCat("rate limit exceeded for ", decision.caller->actor,
                                                "; retry after ", taken.retry_after_seconds, " s"));
  }
  return decision;
}

}  // namespace shidang::gateway
