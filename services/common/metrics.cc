#include "services/common/metrics.h"

#include <exception>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "prometheus/client_metric.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"
#include "prometheus/metric_family.h"
#include "services/common/redis.h"

namespace shidang {
namespace {

// Reads the process's Redis pools when scraped, so the figures are current without a thread
// copying them into gauges.
class RedisPoolCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily connections =
        Family("shidang_redis_pool_connections", "Connections the Redis pool may hold.",
               prometheus::MetricType::Gauge);
    prometheus::MetricFamily in_use =
        Family("shidang_redis_pool_in_use", "Redis connections lent out to callers now.",
               prometheus::MetricType::Gauge);
    prometheus::MetricFamily waits = Family("shidang_redis_pool_waits_total",
                                            "Times a caller waited for a free Redis connection.",
                                            prometheus::MetricType::Counter);
    prometheus::MetricFamily reconnects =
        Family("shidang_redis_pool_reconnects_total",
               "Successful Redis connects after a slot's first (a connection was lost and remade).",
               prometheus::MetricType::Counter);
    prometheus::MetricFamily errors =
        Family("shidang_redis_pool_errors_total",
               "Redis connects or commands that failed on the transport.",
               prometheus::MetricType::Counter);
    for (const redis::AddressPoolStats& pool : redis::LivePoolStats()) {
      const std::vector<prometheus::ClientMetric::Label> labels = {{"redis", pool.address}};
      Gauge(&connections, labels, pool.stats.size);
      Gauge(&in_use, labels, pool.stats.in_use);
      Counter(&waits, labels, static_cast<double>(pool.stats.waits));
      Counter(&reconnects, labels, static_cast<double>(pool.stats.reconnects));
      Counter(&errors, labels, static_cast<double>(pool.stats.failures));
    }
    return {std::move(connections), std::move(in_use), std::move(waits), std::move(reconnects),
            std::move(errors)};
  }

 private:
  static prometheus::MetricFamily Family(std::string name, std::string help,
                                         prometheus::MetricType type) {
    prometheus::MetricFamily family;
    family.name = std::move(name);
    family.help = std::move(help);
    family.type = type;
    return family;
  }
  static void Gauge(prometheus::MetricFamily* family,
                    const std::vector<prometheus::ClientMetric::Label>& labels, double value) {
    prometheus::ClientMetric metric;
    metric.label = labels;
    metric.gauge.value = value;
    family->metric.push_back(std::move(metric));
  }
  static void Counter(prometheus::MetricFamily* family,
                      const std::vector<prometheus::ClientMetric::Label>& labels, double value) {
    prometheus::ClientMetric metric;
    metric.label = labels;
    metric.counter.value = value;
    family->metric.push_back(std::move(metric));
  }
};

}  // namespace

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *buckets;
}

RpcMetrics& RpcMetrics::Process() {
  // Leaked: calls may still finish while static destructors run.
  static RpcMetrics* const metrics = new RpcMetrics();
  return *metrics;
}

RpcMetrics::RpcMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("shidang_rpc_requests_total")
                    .Help("Calls finished by this service, per method and gRPC code.")
                    .Register(*registry_)),
      errors_(prometheus::BuildCounter()
                  .Name("shidang_rpc_errors_total")
                  .Help("Calls that finished with a code other than OK.")
                  .Register(*registry_)),
      latency_(prometheus::BuildHistogram()
                   .Name("shidang_rpc_request_seconds")
                   .Help("Time from a call's start in its handler to its status, per method and "
                         "code.")
                   .Register(*registry_)) {}

void RpcMetrics::ObserveCall(absl::string_view method, absl::StatusCode code, double seconds) {
  const prometheus::Labels labels = {{"method", std::string(method)},
                                     {"code", absl::StatusCodeToString(code)}};
  requests_.Add(labels).Increment();
  if (code != absl::StatusCode::kOk) errors_.Add(labels).Increment();
  latency_.Add(labels, LatencyBuckets()).Observe(seconds);
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& host,
                                                                    int port) {
  // civetweb wants "[v6]:port" for an IPv6 host.
  const std::string address = host.find(':') == std::string::npos
                                  ? absl::StrCat(host, ":", port)
                                  : absl::StrCat("[", host, "]:", port);
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  try {
    // One thread: scrapes come every few seconds from one or two Prometheus servers.
    server->exposer_ = std::make_unique<prometheus::Exposer>(address, /*num_threads=*/1);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("--metrics_port: cannot listen on ", address, ": ", e.what()));
  }
  const std::vector<int> ports = server->exposer_->GetListeningPorts();
  if (ports.empty() || ports.front() <= 0) {
    return absl::UnavailableError(absl::StrCat("--metrics_port: no port bound on ", address));
  }
  server->port_ = ports.front();
  server->redis_pools_ = std::make_shared<RedisPoolCollector>();
  server->exposer_->RegisterCollectable(RpcMetrics::Process().registry());
  server->exposer_->RegisterCollectable(server->redis_pools_);
  return server;
}

MetricsServer::~MetricsServer() = default;

}  // namespace shidang
