#include "gateway/proxy.h"

#include <grpcpp/client_context.h>
#include <grpcpp/support/byte_buffer.h>

#include <chrono>
#include <memory>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "services/common/log.h"
#include "services/common/principal.h"
#include "services/common/status.h"

namespace shidang::gateway {
namespace {

constexpr size_t kMaxRequestIdLength = 128;

absl::string_view ToView(grpc::string_ref ref) { return absl::string_view(ref.data(), ref.size()); }

// The first value of `key` in the client's metadata, or "".
absl::string_view ClientValue(const grpc::ServerContextBase& context, absl::string_view key) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  return it == metadata.end() ? absl::string_view() : ToView(it->second);
}

// Metadata a backend answers with that is the transport's business (or comes back through the
// status, like grpc-status-details-bin), not the caller's.
bool IsReserved(absl::string_view key) {
  return absl::StartsWith(key, "grpc-") || absl::StartsWith(key, ":") || key == "content-type" ||
         key == "te" || key == "user-agent" || key == kRequestIdKey;
}

std::string AllowedRoles(const MethodInfo& method) {
  std::vector<std::string> names;
  for (common::v1::Role role : method.roles) names.push_back(RoleName(role));
  return absl::StrJoin(names, ", ");
}

}  // namespace

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

std::string NewRequestId() {
  thread_local absl::InsecureBitGen gen;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen), absl::Uniform<uint64_t>(gen));
}

// One proxied call. Lives from CreateReactor until OnDone.
class GrpcProxy::Call : public grpc::ServerGenericBidiReactor {
 public:
  Call(GrpcProxy* proxy, grpc::GenericCallbackServerContext* context)
      : proxy_(proxy), context_(context), start_(absl::Now()) {
    absl::string_view id = ClientValue(*context_, kRequestIdKey);
    request_id_ = IsGoodRequestId(id) ? std::string(id) : NewRequestId();
    const grpc::Status refused = Admit();
    if (!refused.ok()) {
      Reply(refused);
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The client went away, or half-closed without sending the one request message.
      Reply(grpc::Status(grpc::StatusCode::CANCELLED, "no request message arrived"));
      return;
    }
    backend_context_ = grpc::ClientContext::FromCallbackServerContext(*context_);
    if (context_->deadline() == std::chrono::system_clock::time_point::max()) {
      backend_context_->set_deadline(
          absl::ToChronoTime(absl::Now() + proxy_->options_.default_deadline));
    }
    backend_context_->AddMetadata(kRequestIdKey, request_id_);
    absl::string_view traceparent = ClientValue(*context_, kTraceparentKey);
    if (!traceparent.empty()) {
      backend_context_->AddMetadata(kTraceparentKey, std::string(traceparent));
    }
    backend_context_->AddMetadata(kPrincipalMetadataKey, caller_->principal_bin);
    backend_context_->AddMetadata(kPrincipalSignatureMetadataKey, caller_->principal_sig);
    backend_->stub->UnaryCall(backend_context_.get(), method_->path, grpc::StubOptions(), &request_,
                              &response_,
                              [this](grpc::Status status) { OnBackendDone(std::move(status)); });
  }

  void OnDone() override {
    if (proxy_->options_.access_log) {
      LogInfo("rpc ", context_->method(), " request_id=", request_id_,
              " actor=", caller_ ? caller_->actor : "-", " status=", StatusName(code_),
              " ms=", absl::StrFormat("%.2f", absl::ToDoubleMilliseconds(absl::Now() - start_)));
    }
    delete this;
  }

 private:
  static std::string StatusName(grpc::StatusCode code) {
    return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  }

  // Decides whether the call may go on; sets method_, backend_ and caller_ when it may.
  grpc::Status Admit() {
    const std::string& path = context_->method();
    method_ = proxy_->methods_->Find(path);
    if (method_ == nullptr || !method_->is_public()) {
      return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                          absl::StrCat("method ", path, " is not served here"));
    }
    if (!method_->is_unary()) {
      return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                          absl::StrCat(path, " is a streaming method; the gateway serves unary "
                                             "methods only"));
    }
    backend_ = proxy_->backends_->Find(method_->service);
    if (backend_ == nullptr) {
      return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                          absl::StrCat("no backend is configured for ", method_->service));
    }
    const absl::Time now = absl::Now();
    auto caller = proxy_->auth_->Authenticate(ClientValue(*context_, "authorization"), now);
    if (!caller.ok()) return ToGrpcStatus(caller.status());
    caller_ = *std::move(caller);
    if (!method_->Allows(caller_->principal.role())) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          absl::StrCat("role ", RoleName(caller_->principal.role()),
                                       " may not call ", path, " (allowed: ",
                                       AllowedRoles(*method_), ")"));
    }
    const RateLimiter::Decision decision = proxy_->rate_limiter_->Take(caller_->actor, now);
    if (!decision.allowed) {
      context_->AddTrailingMetadata(kRetryAfterKey, absl::StrCat(decision.retry_after_seconds));
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          absl::StrCat("rate limit exceeded for ", caller_->actor,
                                       "; retry after ", decision.retry_after_seconds, " s"));
    }
    return grpc::Status::OK;
  }

  void OnBackendDone(grpc::Status status) {
    context_->AddInitialMetadata(kRequestIdKey, request_id_);
    for (const auto& [key, value] : backend_context_->GetServerInitialMetadata()) {
      if (!IsReserved(ToView(key))) {
        context_->AddInitialMetadata(std::string(key.data(), key.size()),
                                     std::string(value.data(), value.size()));
      }
    }
    for (const auto& [key, value] : backend_context_->GetServerTrailingMetadata()) {
      if (!IsReserved(ToView(key))) {
        context_->AddTrailingMetadata(std::string(key.data(), key.size()),
                                      std::string(value.data(), value.size()));
      }
    }
    if (status.ok()) {
      code_ = grpc::StatusCode::OK;
      StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
    } else {
      Reply(status);
    }
  }

  void Reply(const grpc::Status& status) {
    code_ = status.error_code();
    Finish(status);
  }

  GrpcProxy* const proxy_;
  grpc::GenericCallbackServerContext* const context_;
  const absl::Time start_;
  std::string request_id_;
  const MethodInfo* method_ = nullptr;
  Backend* backend_ = nullptr;
  std::shared_ptr<const Caller> caller_;
  std::unique_ptr<grpc::ClientContext> backend_context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  grpc::StatusCode code_ = grpc::StatusCode::UNKNOWN;
};

GrpcProxy::GrpcProxy(const MethodTable* methods, Backends* backends, Authenticator* auth,
                     RateLimiter* rate_limiter, ProxyOptions options)
    : methods_(methods),
      backends_(backends),
      auth_(auth),
      rate_limiter_(rate_limiter),
      options_(options) {}

void GrpcProxy::ServeLocally(std::string path,
                             std::function<grpc::ServerGenericBidiReactor*()> factory) {
  local_.insert_or_assign(std::move(path), std::move(factory));
}

grpc::ServerGenericBidiReactor* GrpcProxy::CreateReactor(
    grpc::GenericCallbackServerContext* context) {
  if (!local_.empty()) {
    auto it = local_.find(context->method());
    if (it != local_.end()) return it->second();
  }
  return new Call(this, context);
}

}  // namespace shidang::gateway
