#pragma once

// Prometheus metrics of a service process, served on a port of their own (--metrics_port) by
// prometheus-cpp's Exposer (civetweb), so a scrape never competes with gRPC calls for threads:
//   shidang_rpc_requests_total{method="shidang.x.v1.XService/Get", code="OK"}
//   shidang_rpc_errors_total{method, code}            (code != OK)
//   shidang_rpc_request_seconds{method, code}         (histogram, 0.5 ms .. 10 s)
// recorded by HandleCall (server.h) for every call, and the Redis pools of the process, read when
// scraped (redis::LivePoolStats):
//   shidang_redis_pool_connections{redis="unix:/path"}  (gauge: pool size)
//   shidang_redis_pool_in_use{redis}                    (gauge: connections lent out now)
//   shidang_redis_pool_waits_total{redis}               (callers that waited for a connection)
//   shidang_redis_pool_reconnects_total{redis}
//   shidang_redis_pool_errors_total{redis}              (connects and commands failed on the wire)
// `method` is the name the handler passes to HandleCall, so label values stay bounded.

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace prometheus {
class Exposer;
}  // namespace prometheus

namespace shidang {

// The latency buckets every Shidang process uses (seconds), so dashboards compare like with like.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

// The RPC figures of this process.
class RpcMetrics {
 public:
  // The process's instance, the one HandleCall records into and MetricsServer serves.
  static RpcMetrics& Process();

  RpcMetrics();
  RpcMetrics(const RpcMetrics&) = delete;
  RpcMetrics& operator=(const RpcMetrics&) = delete;

  // Records one finished call.
  void ObserveCall(absl::string_view method, absl::StatusCode code, double seconds);

  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& errors_;
  prometheus::Family<prometheus::Histogram>& latency_;
};

// /metrics in the Prometheus text format: the process's RpcMetrics and its Redis pools.
class MetricsServer {
 public:
  // Listens on host:port (0: the kernel picks; see port()). UNAVAILABLE when it cannot listen.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& host, int port);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const { return port_; }

 private:
  MetricsServer() = default;

  std::shared_ptr<prometheus::Collectable> redis_pools_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

}  // namespace shidang
