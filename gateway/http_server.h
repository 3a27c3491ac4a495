#pragma once

// The HTTP/JSON front (issue 7): HTTP/1.1 with keep-alive on Boost.Beast over Asio, in the gateway
// process beside the gRPC front, sharing its MethodTable, Backends, Authenticator and RateLimiter.
// Every route comes from the protos (http_routes.h); nothing is written per service.
//
// Per request, in order:
//   /healthz (200 while the process lives), /readyz (200 when every backend's last health check
//   answered SERVING, else 503) and /metrics (Prometheus text) are answered locally, no token.
//   With --web_root, a GET of any other path outside /v1/ is the web page's (static_files.h):
//   the file, or index.html for the app's routes, with ETag, If-None-Match (304) and caching.
//   OPTIONS is a CORS preflight: 204 with the allowed methods and headers for an origin in
//   --cors_origins, 403 for any other origin. Other requests from an allowed origin get
//   Access-Control-Allow-Origin; from any other origin they get no CORS headers (the browser then
//   refuses to hand the answer to the page).
//   The route: unknown path 404; known path with another method 405 with `Allow`.
//   `Authorization: Bearer <jwt>`: 401 with `WWW-Authenticate: Bearer` when missing or bad; the
//   caller's role must be among the RPC's roles (403); the caller's token bucket must have a token
//   (429 with `Retry-After`, seconds).
//   The request message: the JSON body (body "*" = the request, or one field of it; unknown fields
//   refused; bad JSON is 400 naming line, column and byte), then the path bindings, then the query
//   parameters (lowerCamelCase or snake_case, a.b for nested fields, repeated fields as repeated
//   parameters, enums by name). A body over 8 MiB is 413; a request line and headers over
//   --max_header_bytes (8 KiB) together, however they arrive, are 431 naming what was too large.
//   `Idempotency-Key` on POST / PATCH fills the request's `request_id` unless the body set it.
//   `Accept: text/csv` on a route that produces text/csv sets the request's `format` enum to its
//   *_CSV value, and a response `download` is then sent as the body with its content type and
//   `Content-Disposition: attachment`.
//   The call goes to the backend with the signed principal, `x-request-id` (from `X-Request-Id`
//   when it is 1..128 of [A-Za-z0-9._:-], else made), `traceparent`, and a deadline from
//   `X-Timeout-Ms` (1..300000 ms; chosen over grpc-timeout's unit syntax because it is one
//   integer a browser or curl user can write) or the default.
//   The answer: the response as JSON (lowerCamelCase, fields at defaults included, enums by
//   name), or an error with the gRPC -> HTTP table of http_transcode.h and the body of ErrorJson.
//   `X-Request-Id` is echoed on every answer and logged in the access line.
//
// Threads: a small Asio pool (--http_threads) reads, routes and transcodes; the backend call is
// asynchronous (GenericStub callback), and its answer is posted back to the connection's strand,
// so no thread ever waits for a backend.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/admission.h"
#include "gateway/backends.h"
#include "gateway/http_metrics.h"
#include "gateway/method_table.h"

namespace shidang::gateway {

// Bounds of HttpOptions::header_limit (and of the gRPC front's header list, grpc_front.h).
inline constexpr uint32_t kMinHeaderLimit = 1024;
inline constexpr uint32_t kMaxHeaderLimit = 1 << 20;

struct HttpOptions {
  std::string host = "127.0.0.1";
  // < 0: no HTTP front; 0: the kernel picks (see HttpServer::port()).
  int port = -1;
  int threads = 2;
  // Origins ("https://hr.example.cn") whose pages may call the API from a browser.
  std::vector<std::string> cors_origins;
  size_t body_limit = 8 << 20;
  // The request line and headers together, in bytes as sent; over it: 431 naming the part that
  // was too large (the line, one header, or the headers together), and the connection closes.
  uint32_t header_limit = 8192;
  absl::Duration default_deadline = absl::Seconds(10);
  absl::Duration max_deadline = absl::Minutes(5);
  // A keep-alive connection idle this long is closed.
  absl::Duration idle_timeout = absl::Seconds(60);
  bool access_log = true;
  // The web page's folder (static_files.h); empty: no page.
  std::string web_root;
};

// What the HTTP front shares with the rest of the gateway; every pointer must outlive the server.
struct HttpDependencies {
  const MethodTable* methods = nullptr;
  Backends* backends = nullptr;
  const Admission* admission = nullptr;  // the same as the gRPC front's (admission.h)
  GatewayMetrics* metrics = nullptr;
};

class HttpServer {
 public:
  // Builds the routes and starts listening. INVALID_ARGUMENT for a malformed route (naming the
  // RPC) or bad options; UNAVAILABLE when the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(HttpOptions options,
                                                           HttpDependencies deps);
  ~HttpServer();  // Shutdown(0) if not yet shut down
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  // Number of routes built from the protos.
  size_t route_count() const;

  // Stops accepting, lets backend calls in flight finish within `grace` (then cancels them),
  // closes every connection and joins the threads.
  void Shutdown(absl::Duration grace);

  class Impl;

 private:
  explicit HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace shidang::gateway
