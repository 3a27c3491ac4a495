#pragma once

// The gateway process minus its flags: loads the descriptor set, makes the backend channels, and
// serves the public gRPC port (grpc_front.h: every public method forwarded, the rest relayed to an
// in-process gRPC server on an internal loopback port that answers grpc.health.v1, reflecting the
// backends' health, server reflection for the public API, and UNIMPLEMENTED) and the HTTP/JSON
// front (http_server.h). main.cc only reads flags into a GatewayConfig and calls Start. Both
// fronts share the MethodTable, Backends, Admission and metrics made here.

#include <grpcpp/server.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/admission.h"
#include "gateway/auth.h"
#include "gateway/backends.h"
#include "gateway/grpc_front.h"
#include "gateway/http_metrics.h"
#include "gateway/http_server.h"
#include "gateway/local_service.h"
#include "gateway/method_table.h"
#include "gateway/rate_limit.h"
#include "gateway/reflection.h"
#include "services/common/principal.h"

namespace shidang::gateway {

struct GatewayConfig {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: the kernel picks; see Gateway::port()
  std::string descriptor_set;
  BackendAddresses backends;
  std::string jwt_keys_file;
  std::string jwt_issuer;
  std::string jwt_audience;
  std::shared_ptr<const PrincipalSigner> principal_signer;
  size_t token_cache_size = 65536;
  RateLimitConfig rate_limit;
  // Deadline of a forwarded call when the caller set none (both fronts).
  absl::Duration default_deadline = absl::Seconds(10);
  // One line per call on stderr: method, request id, actor, status, milliseconds.
  bool access_log = true;
  BackendOptions backend;
  absl::Duration health_interval = absl::Seconds(2);
  absl::Duration health_timeout = absl::Seconds(1);
  // The HTTP/JSON front (part 2); off while http.port < 0.
  HttpOptions http;
  // HTTP/2 connections the forwarder keeps per backend replica. A gRPC server handles one
  // connection's streams largely in sequence: with 128 streams in flight, four connections served
  // 1.6x what one did (bench/gateway_bench.sh, echo backend).
  int backend_connections = 4;
  // The forwarder's busy polling (GrpcFrontOptions::busy_poll, busy_poll_max_calls).
  absl::Duration busy_poll = absl::Milliseconds(1);
  int busy_poll_max_calls = 2;
  // The largest request head either front takes (--max_header_bytes): HTTP/1.1's request line and
  // headers as sent (HttpOptions::header_limit), HTTP/2's header list as HPACK counts it
  // (GrpcFrontOptions::max_header_list_bytes).
  uint32_t max_header_bytes = 8192;
};

class Gateway {
 public:
  // Loads everything and starts serving. INVALID_ARGUMENT / NOT_FOUND / FAILED_PRECONDITION naming
  // the setting that is wrong (descriptor set, backends, JWT keys); UNAVAILABLE when the port
  // cannot be bound. The gateway reports NOT_SERVING until the first health round has seen every
  // backend SERVING.
  static absl::StatusOr<std::unique_ptr<Gateway>> Start(GatewayConfig config);

  ~Gateway();  // Shutdown(0) if not yet shut down
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  int port() const { return port_; }
  // The HTTP/JSON front's port, or 0 when it is off.
  int http_port() const { return http_ == nullptr ? 0 : http_->port(); }
  const MethodTable& methods() const { return *methods_; }

  // Stops taking calls, lets calls in flight finish within `grace`, then cancels the rest.
  void Shutdown(absl::Duration grace);

 private:
  Gateway() = default;
  absl::Status LoadApi();
  absl::Status StartInternalServer();
  absl::Status StartGrpcFront();
  absl::Status StartHttpFront();
  void OnBackendHealth(const Backend& backend);

  GatewayConfig config_;
  std::unique_ptr<MethodTable> methods_;
  std::unique_ptr<Backends> backends_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<RateLimiter> rate_limiter_;
  std::unique_ptr<Admission> admission_;
  // Public services with a backend.
  std::vector<std::string> served_;
  std::unique_ptr<Reflection> reflection_;
  std::unique_ptr<LocalService> local_;
  std::unique_ptr<GatewayMetrics> metrics_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<HealthPoller> poller_;
  std::unique_ptr<HttpServer> http_;
  // The public gRPC port; server_ listens on an internal loopback port behind it.
  std::unique_ptr<GrpcFront> front_;
  int internal_port_ = 0;
  int port_ = 0;
  bool stopped_ = false;
};

}  // namespace shidang::gateway
