#include "gateway/http_metrics.h"

#include <chrono>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "prometheus/text_serializer.h"

namespace shidang::gateway {
namespace {

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *buckets;
}

// Times one call of the gRPC front: from its initial metadata to the status it sends.
class TimingInterceptor : public grpc::experimental::Interceptor {
 public:
  TimingInterceptor(GatewayMetrics* metrics, const char* method)
      : metrics_(metrics),
        method_(method == nullptr ? "" : method),
        start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      metrics_->ObserveCall(
          "grpc", method_,
          absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())), seconds);
    }
    methods->Proceed();
  }

 private:
  GatewayMetrics* const metrics_;
  const std::string method_;
  const std::chrono::steady_clock::time_point start_;
};

class TimingInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit TimingInterceptorFactory(GatewayMetrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new TimingInterceptor(metrics_, info->method());
  }

 private:
  GatewayMetrics* const metrics_;
};

}  // namespace

GatewayMetrics::GatewayMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("shidang_gateway_requests_total")
                    .Help("Calls finished by the gateway, per front, method and gRPC code.")
                    .Register(*registry_)),
      errors_(prometheus::BuildCounter()
                  .Name("shidang_gateway_errors_total")
                  .Help("Calls that finished with a code other than OK.")
                  .Register(*registry_)),
      latency_(prometheus::BuildHistogram()
                   .Name("shidang_gateway_request_seconds")
                   .Help("Time from a call's arrival to its answer, per front, method and code.")
                   .Register(*registry_)),
      http_statuses_(prometheus::BuildCounter()
                         .Name("shidang_gateway_http_responses_total")
                         .Help("HTTP responses of the HTTP/JSON front, per status.")
                         .Register(*registry_)) {}

void GatewayMetrics::ObserveCall(absl::string_view front, absl::string_view method,
                                 absl::string_view code, double seconds) {
  SeriesFor(front, method, code).Observe(seconds);
}

GatewayMetrics::CallSeries GatewayMetrics::SeriesFor(absl::string_view front,
                                                     absl::string_view method,
                                                     absl::string_view code) {
  const prometheus::Labels labels = {
      {"front", std::string(front)}, {"method", std::string(method)}, {"code", std::string(code)}};
  CallSeries series;
  series.requests = &requests_.Add(labels);
  if (code != "OK") series.errors = &errors_.Add(labels);
  series.latency = &latency_.Add(labels, LatencyBuckets());
  return series;
}

void GatewayMetrics::CallSeries::Observe(double seconds) const {
  requests->Increment();
  if (errors != nullptr) errors->Increment();
  latency->Observe(seconds);
}

void GatewayMetrics::ObserveHttpStatus(int status) {
  http_statuses_.Add({{"status", absl::StrCat(status)}}).Increment();
}

std::string GatewayMetrics::Text() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
GatewayMetrics::GrpcInterceptorFactory() {
  return std::make_unique<TimingInterceptorFactory>(this);
}

}  // namespace shidang::gateway
