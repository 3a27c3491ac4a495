#pragma once

// The services behind the gateway, by configuration:
//   --backends="shidang.profile.v1.ProfileService=127.0.0.1:7101,127.0.0.2:7101;
//               shidang.training.v1.TrainingService=dns:///localhost:7102"
// One channel per service, made once at start: a list of IPv4 (or [IPv6]) host:port literals
// becomes an ipv4:/ipv6: target with every address, a single host name becomes dns:///host:port,
// and a target with a scheme (dns:///, ipv4:, ipv6:, unix:) is taken as written. Every channel
// balances round_robin over what its target resolves to, keeps connections alive with HTTP/2 pings,
// and retries UNAVAILABLE only for the service's methods marked `idempotent` in the protos (a
// retried write could be applied twice by a service that had not finished recording its request
// id).

#include <grpcpp/channel.h>
#include <grpcpp/generic/generic_stub.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gateway/method_table.h"

namespace shidang::gateway {

// Service name -> the addresses as configured (one element when it has a scheme).
using BackendAddresses = std::map<std::string, std::vector<std::string>>;

// Parses the --backends value. INVALID_ARGUMENT naming the entry when an entry is not
// "<service>=<addresses>", a service repeats, an address is not host:port, or a scheme target is
// mixed with other addresses.
absl::StatusOr<BackendAddresses> ParseBackends(absl::string_view flag);

// The channel target for one service's addresses (see the header comment). INVALID_ARGUMENT when
// several addresses are not all IP literals of one family (one target cannot mix them, and a name
// list would need a resolver of our own: use one DNS name that resolves to every replica).
absl::StatusOr<std::string> ChannelTarget(const std::vector<std::string>& addresses);

// The service config JSON for one service: round_robin, and a retry policy for UNAVAILABLE on
// `idempotent_methods` (none when the list is empty).
std::string ServiceConfigJson(absl::string_view service,
                              const std::vector<std::string>& idempotent_methods);

struct BackendOptions {
  absl::Duration keepalive_time = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(10);
  int max_message_bytes = 16 << 20;
};

// One backend service: its channel and generic stub, and whether its health check last answered
// SERVING.
struct Backend {
  std::string service;
  std::string target;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<grpc::GenericStub> stub;
  std::atomic<bool> serving{false};
};

class Backends {
 public:
  // Makes one channel per configured service. INVALID_ARGUMENT when a configured service is not in
  // the descriptor set (a typo would otherwise leave a service silently unreachable).
  static absl::StatusOr<std::unique_ptr<Backends>> Create(const BackendAddresses& addresses,
                                                          const MethodTable& methods,
                                                          const BackendOptions& options = {});

  // The backend serving `service`, or nullptr.
  Backend* Find(absl::string_view service) const;
  const std::vector<std::unique_ptr<Backend>>& all() const { return backends_; }
  // True when every backend's last health check answered SERVING.
  bool AllServing() const;

 private:
  Backends() = default;
  std::vector<std::unique_ptr<Backend>> backends_;
  std::map<std::string, Backend*, std::less<>> by_service_;
};

// Polls grpc.health.v1.Health/Check ("" = the whole server) on every backend, each `interval`,
// each check with `timeout` as deadline, and calls `on_change(backend)` when a backend's serving
// flag changes (and once per backend after the first round).
class HealthPoller {
 public:
  HealthPoller(Backends* backends, absl::Duration interval, absl::Duration timeout,
               std::function<void(const Backend&)> on_change);
  ~HealthPoller();  // stops and joins
  HealthPoller(const HealthPoller&) = delete;
  HealthPoller& operator=(const HealthPoller&) = delete;

  // Checks every backend once, now (also what the thread does each interval).
  void CheckAll(bool report_all);

 private:
  void Run();
  bool Check(Backend& backend);

  Backends* const backends_;
  const absl::Duration interval_;
  const absl::Duration timeout_;
  const std::function<void(const Backend&)> on_change_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace shidang::gateway
