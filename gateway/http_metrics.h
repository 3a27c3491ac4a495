#pragma once

// The gateway's Prometheus metrics (prometheus-cpp's Registry and TextSerializer; the text is
// served on the HTTP front's /metrics, not by prometheus-cpp's civetweb Exposer, so the process
// runs one HTTP server). Both fronts count into the same families, told apart by a `front` label:
//   shidang_gateway_requests_total{front="grpc|http", method="/pkg.Service/Method", code="OK"}
//   shidang_gateway_errors_total{...same labels, code != OK}
//   shidang_gateway_request_seconds{front, method, code} (histogram, 0.5 ms .. 10 s)
//   shidang_gateway_http_responses_total{status="404"}  (HTTP statuses, incl. gateway-made ones)
// `method` is the RPC's path, or a fixed word for what matched no RPC ("unmatched", "healthz",
// ...), so label values stay bounded.

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace shidang::gateway {

class GatewayMetrics {
 public:
  GatewayMetrics();

  // Records one finished call. `code` is the gRPC code name ("OK", "NOT_FOUND", ...).
  void ObserveCall(absl::string_view front, absl::string_view method, absl::string_view code,
                   double seconds);

  // The series of one (front, method, code), looked up once: Family::Add hashes the labels and
  // takes the family's lock on every call, which a caller that keeps this handle skips. The
  // pointers live as long as this object (series are never removed).
  struct CallSeries {
    prometheus::Counter* requests = nullptr;
    prometheus::Counter* errors = nullptr;  // null when code is OK
    prometheus::Histogram* latency = nullptr;
    void Observe(double seconds) const;
  };
  CallSeries SeriesFor(absl::string_view front, absl::string_view method, absl::string_view code);

  // Records the HTTP status of one HTTP response.
  void ObserveHttpStatus(int status);

  // The Prometheus text exposition of every metric.
  std::string Text() const;

  // An interceptor factory that records every call of the gRPC front (front="grpc"); register
  // with ServerBuilder::experimental().SetInterceptorCreators. `this` must outlive the server.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> GrpcInterceptorFactory();

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& errors_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Family<prometheus::Counter>& http_statuses_;
};

}  // namespace shidang::gateway
