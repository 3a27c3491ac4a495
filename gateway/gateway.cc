#include "gateway/gateway.h"

#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/jwt.h"
#include "services/common/log.h"
#include "services/common/status.h"

namespace shidang::gateway {
namespace {

// libgrpc++_reflection (linked through services/common for the services) registers its plugin in
// every ServerBuilder of the process when it loads. That plugin answers from protobuf's generated
// pool, which knows none of the services behind the gateway, and it would take the reflection
// method before our generic handler sees it: take it out, so reflection answers from the
// descriptor set (reflection.h).
class WithoutDefaultReflection : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments* /*args*/) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->erase(std::remove_if(plugins->begin(), plugins->end(),
                                  [](const std::unique_ptr<grpc::ServerBuilderPlugin>& plugin) {
                                    return plugin->name() == "proto_server_reflection";
                                  }),
                   plugins->end());
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Start(GatewayConfig config) {
  if (config.principal_signer == nullptr) {
    return absl::FailedPreconditionError("a principal key is required to sign principals");
  }
  std::unique_ptr<Gateway> gateway(new Gateway());
  gateway->config_ = std::move(config);
  SHIDANG_RETURN_IF_ERROR(gateway->LoadApi());
  SHIDANG_RETURN_IF_ERROR(gateway->StartInternalServer());
  SHIDANG_RETURN_IF_ERROR(gateway->StartGrpcFront());
  // The default health service starts SERVING; nothing is known about the backends yet.
  grpc::HealthCheckServiceInterface* health = gateway->server_->GetHealthCheckService();
  health->SetServingStatus(gateway->backends_->all().empty());
  for (const auto& backend : gateway->backends_->all()) {
    health->SetServingStatus(backend->service, false);
  }
  Gateway* self = gateway.get();
  gateway->poller_ = std::make_unique<HealthPoller>(
      gateway->backends_.get(), gateway->config_.health_interval, gateway->config_.health_timeout,
      [self](const Backend& backend) { self->OnBackendHealth(backend); });
  SHIDANG_RETURN_IF_ERROR(gateway->StartHttpFront());
  LogInfo("gateway listening on ", gateway->config_.host, " port=", gateway->port_,
          " (HTTP/2 frame forwarder) services=", absl::StrJoin(gateway->served_, ","));
  return gateway;
}

// The method table, the backends, and the one admission both fronts use.
absl::Status Gateway::LoadApi() {
  auto methods = MethodTable::FromFile(config_.descriptor_set);
  if (!methods.ok()) return methods.status();
  methods_ = *std::move(methods);
  auto backends = Backends::Create(config_.backends, *methods_, config_.backend);
  if (!backends.ok()) return backends.status();
  backends_ = *std::move(backends);
  for (const std::string& service : methods_->public_services()) {
    if (backends_->Find(service) != nullptr) {
      served_.push_back(service);
    } else {
      LogWarning("public service ", service,
                 " has no backend in --backends; its methods answer UNIMPLEMENTED");
    }
  }
  auto keys = JwtKeySet::FromFile(config_.jwt_keys_file);
  if (!keys.ok()) {
    return absl::Status(keys.status().code(),
                        absl::StrCat("--jwt_keys_file: ", keys.status().message()));
  }
  auth_ = std::make_unique<Authenticator>(
      JwtVerifier(*std::move(keys), config_.jwt_issuer, config_.jwt_audience),
      *config_.principal_signer, config_.token_cache_size);
  rate_limiter_ = std::make_unique<RateLimiter>(config_.rate_limit);
  admission_ = std::make_unique<Admission>(backends_.get(), auth_.get(), rate_limiter_.get());
  metrics_ = std::make_unique<GatewayMetrics>();
  return absl::OkStatus();
}

// The in-process gRPC server behind the front, on an internal loopback port: health, reflection
// from the descriptor set, UNIMPLEMENTED for the rest (local_service.h).
absl::Status Gateway::StartInternalServer() {
  reflection_ = std::make_unique<Reflection>(methods_.get(), served_);
  local_ = std::make_unique<LocalService>();
  const Reflection* reflection = reflection_.get();
  local_->ServeLocally(kReflectionMethodPath, [reflection] { return reflection->NewReactor(); });
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &internal_port_);
  builder.RegisterCallbackGenericService(local_.get());
  builder.SetOption(std::make_unique<WithoutDefaultReflection>());
  builder.SetMaxReceiveMessageSize(config_.backend.max_message_bytes);
  builder.SetMaxSendMessageSize(config_.backend.max_message_bytes);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || internal_port_ == 0) {
    return absl::UnavailableError("cannot listen on 127.0.0.1:0 (internal)");
  }
  return absl::OkStatus();
}

absl::Status Gateway::StartGrpcFront() {
  GrpcFrontOptions front;
  front.host = config_.host;
  front.port = config_.port;
  front.internal_address = absl::StrCat("127.0.0.1:", internal_port_);
  front.default_deadline = config_.default_deadline;
  front.access_log = config_.access_log;
  front.connections_per_replica = config_.backend_connections;
  front.busy_poll = config_.busy_poll;
  front.busy_poll_max_calls = config_.busy_poll_max_calls;
  front.keepalive_time = config_.backend.keepalive_time;
  front.keepalive_timeout = config_.backend.keepalive_timeout;
  front.max_message_bytes = config_.backend.max_message_bytes;
  front.max_header_list_bytes = config_.max_header_bytes;
  GrpcFrontDependencies deps;
  deps.methods = methods_.get();
  deps.backends = backends_.get();
  deps.admission = admission_.get();
  deps.metrics = metrics_.get();
  auto started = GrpcFront::Start(std::move(front), deps);
  if (!started.ok()) return started.status();
  front_ = *std::move(started);
  port_ = front_->port();
  return absl::OkStatus();
}

absl::Status Gateway::StartHttpFront() {
  if (config_.http.port < 0) return absl::OkStatus();
  HttpDependencies deps;
  deps.methods = methods_.get();
  deps.backends = backends_.get();
  deps.admission = admission_.get();
  deps.metrics = metrics_.get();
  HttpOptions http = config_.http;
  if (http.host.empty()) http.host = config_.host;
  http.header_limit = config_.max_header_bytes;
  auto server = HttpServer::Start(std::move(http), deps);
  if (!server.ok()) return server.status();
  http_ = *std::move(server);
  LogInfo("gateway HTTP/JSON front on port ", http_->port(), " with ", http_->route_count(),
          " routes");
  return absl::OkStatus();
}

void Gateway::OnBackendHealth(const Backend& backend) {
  const bool serving = backend.serving.load();
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  health->SetServingStatus(backend.service, serving);
  health->SetServingStatus(backends_->AllServing());
  LogInfo("backend ", backend.service, " at ", backend.target, " is ",
          serving ? "SERVING" : "NOT_SERVING");
}

void Gateway::Shutdown(absl::Duration grace) {
  if (stopped_) return;
  stopped_ = true;
  if (http_ != nullptr) http_->Shutdown(grace);
  // GOAWAY to the clients of the public port; their calls in flight get `grace`, including those
  // it forwards to the in-process server, which stops after it.
  if (front_ != nullptr) front_->Shutdown(grace);
  // Health turns NOT_SERVING first (Server::Shutdown does it), then calls in flight get `grace`.
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  poller_.reset();
  server_->Wait();
}

Gateway::~Gateway() {
  if (server_ != nullptr) Shutdown(absl::ZeroDuration());
}

}  // namespace shidang::gateway
