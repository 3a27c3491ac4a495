#include "gateway/gateway.h"

#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/server_builder.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/jwt.h"
#include "services/common/log.h"

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
  auto methods = MethodTable::FromFile(config.descriptor_set);
  if (!methods.ok()) return methods.status();
  gateway->methods_ = *std::move(methods);

  auto backends = Backends::Create(config.backends, *gateway->methods_, config.backend);
  if (!backends.ok()) return backends.status();
  gateway->backends_ = *std::move(backends);
  std::vector<std::string> served;
  for (const std::string& service : gateway->methods_->public_services()) {
    if (gateway->backends_->Find(service) != nullptr) {
      served.push_back(service);
    } else {
      LogWarning("public service ", service,
                 " has no backend in --backends; its methods answer UNIMPLEMENTED");
    }
  }

  auto keys = JwtKeySet::FromFile(config.jwt_keys_file);
  if (!keys.ok()) {
    return absl::Status(keys.status().code(),
                        absl::StrCat("--jwt_keys_file: ", keys.status().message()));
  }
  gateway->auth_ = std::make_unique<Authenticator>(
      JwtVerifier(*std::move(keys), config.jwt_issuer, config.jwt_audience),
      *config.principal_signer, config.token_cache_size);
  gateway->rate_limiter_ = std::make_unique<RateLimiter>(config.rate_limit);
  gateway->reflection_ = std::make_unique<Reflection>(gateway->methods_.get(), served);
  ProxyOptions proxy_options = config.proxy;
  // Behind the forwarder the in-process server only answers what is not a public method; the
  // forwarder logs those calls itself.
  if (config.frame_forwarder) proxy_options.access_log = false;
  gateway->proxy_ =
      std::make_unique<GrpcProxy>(gateway->methods_.get(), gateway->backends_.get(),
                                  gateway->auth_.get(), gateway->rate_limiter_.get(), proxy_options);
  const Reflection* reflection = gateway->reflection_.get();
  gateway->proxy_->ServeLocally(kReflectionMethodPath,
                                [reflection] { return reflection->NewReactor(); });

  gateway->metrics_ = std::make_unique<GatewayMetrics>();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  const std::string address = absl::StrContains(config.host, ':')
                                  ? absl::StrCat("[", config.host, "]:", config.port)
                                  : absl::StrCat(config.host, ":", config.port);
  int server_port = 0;
  if (config.frame_forwarder) {
    // The forwarder records every call of the public port, these included.
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &server_port);
  } else {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors;
    interceptors.push_back(gateway->metrics_->GrpcInterceptorFactory());
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
    builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &server_port);
  }
  builder.RegisterCallbackGenericService(gateway->proxy_.get());
  builder.SetOption(std::make_unique<WithoutDefaultReflection>());
  builder.SetMaxReceiveMessageSize(config.backend.max_message_bytes);
  builder.SetMaxSendMessageSize(config.backend.max_message_bytes);
  gateway->server_ = builder.BuildAndStart();
  if (gateway->server_ == nullptr || server_port == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", config.frame_forwarder ? "127.0.0.1:0 (internal)" : address));
  }
  gateway->port_ = server_port;
  if (config.frame_forwarder) {
    GrpcFrontOptions front;
    front.host = config.host;
    front.port = config.port;
    front.internal_address = absl::StrCat("127.0.0.1:", server_port);
    front.default_deadline = config.proxy.default_deadline;
    front.access_log = config.proxy.access_log;
    front.connections_per_replica = config.backend_connections;
    front.busy_poll = config.busy_poll;
    front.busy_poll_max_calls = config.busy_poll_max_calls;
    front.keepalive_time = config.backend.keepalive_time;
    front.keepalive_timeout = config.backend.keepalive_timeout;
    front.max_message_bytes = config.backend.max_message_bytes;
    GrpcFrontDependencies deps;
    deps.methods = gateway->methods_.get();
    deps.backends = gateway->backends_.get();
    deps.auth = gateway->auth_.get();
    deps.rate_limiter = gateway->rate_limiter_.get();
    deps.metrics = gateway->metrics_.get();
    auto started = GrpcFront::Start(std::move(front), deps);
    if (!started.ok()) return started.status();
    gateway->front_ = *std::move(started);
    gateway->port_ = gateway->front_->port();
  }
  // The default health service starts SERVING; nothing is known about the backends yet.
  grpc::HealthCheckServiceInterface* health = gateway->server_->GetHealthCheckService();
  health->SetServingStatus(gateway->backends_->all().empty());
  for (const auto& backend : gateway->backends_->all()) {
    health->SetServingStatus(backend->service, false);
  }
  gateway->config_ = std::move(config);
  Gateway* self = gateway.get();
  gateway->poller_ = std::make_unique<HealthPoller>(
      gateway->backends_.get(), gateway->config_.health_interval, gateway->config_.health_timeout,
      [self](const Backend& backend) { self->OnBackendHealth(backend); });
  if (gateway->config_.http.port >= 0) {
    HttpDependencies deps;
    deps.methods = gateway->methods_.get();
    deps.backends = gateway->backends_.get();
    deps.auth = gateway->auth_.get();
    deps.rate_limiter = gateway->rate_limiter_.get();
    deps.metrics = gateway->metrics_.get();
    HttpOptions http = gateway->config_.http;
    if (http.host.empty()) http.host = gateway->config_.host;
    auto server = HttpServer::Start(std::move(http), deps);
    if (!server.ok()) return server.status();
    gateway->http_ = *std::move(server);
    LogInfo("gateway HTTP/JSON front on port ", gateway->http_->port(), " with ",
            gateway->http_->route_count(), " routes");
  }
  LogInfo("gateway listening on ", address, " port=", gateway->port_,
          gateway->config_.frame_forwarder ? " (HTTP/2 frame forwarder)" : " (gRPC proxy)",
          " services=",
          absl::StrJoin(served, ","));
  return gateway;
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
