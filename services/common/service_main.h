#pragma once

// The one main of every service. A service's main.cc reads its flags and says what it serves;
// RunService does the rest, the same way for each: validate the configuration, make the clock and
// the Redis pool, build the service, run its event consumers, serve until SIGTERM/SIGINT, stop.
//
//   int main(int argc, char** argv) {
//     return shidang::ServiceMain(  // service_flags.h
//         argc, argv, "shidang-my: what it keeps; --helpfull lists its flags",
//         [](const shidang::ServiceKit& kit) -> absl::StatusOr<shidang::ServiceParts> {
//           auto service = std::make_unique<MyServiceImpl>(*kit.pool, kit.signer, kit.clock);
//           return shidang::FollowingProfile(std::move(service), "my", /*follow=*/true);
//         });
//   }

#include <grpcpp/impl/service_type.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/clock.h"
#include "services/common/events.h"
#include "services/common/principal.h"
#include "services/common/redis.h"
#include "services/common/server.h"

namespace shidang {

// What a service's main read from its flags (service_flags.h names each flag after its field).
struct ServiceConfig {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: the kernel picks; the bound port goes to port_file
  std::string port_file;
  std::string redis;  // unix:/path or host:port
  // A service that keeps no data (a test service) may run without --redis.
  bool redis_required = true;
  std::string principal_key_file;
  int shutdown_grace_ms = 5000;
  // Calls served at once (each on a thread of its own, most waiting for Redis); more get
  // UNAVAILABLE.
  int max_threads = 2048;
  std::string today;      // YYYY-MM-DD pinning "today" (tests), or empty for the Asia/Shanghai date
  int metrics_port = -1;  // -1: no /metrics; 0: the kernel picks (see metrics_port_file)
  std::string metrics_port_file;
};

// Checks `config` and loads the principal key: INVALID_ARGUMENT naming the flag and what it allows
// (port 0..65535, metrics_port -1..65535, max_threads 2..16384, shutdown_grace_ms 0..600000, today
// a real YYYY-MM-DD date, redis "unix:/path" or "host:port"), FAILED_PRECONDITION when the
// principal key file is missing, short or unreadable. Every service verifies principals, so
// --principal_key_file is always required.
absl::StatusOr<ServerConfig> ValidateServiceConfig(const ServiceConfig& config);

// What RunService gives the service's wiring; all of it outlives the service.
struct ServiceKit {
  const ServerConfig& server;
  const PrincipalSigner& signer;
  const Clock& clock;  // from --today
  redis::Pool* pool;   // null only when no --redis was given and none was required
};

// Other services' events a service applies while it serves (events.h): one consumer in group
// `options.group` over the streams the services in `sources` list in their indexes.
// options.consumer defaults to "<hostname>-<pid>", unique among live processes.
struct EventSubscription {
  EventConsumerOptions options;
  std::vector<std::string> sources;
  EventApplier apply;
};

// What a service serves: its gRPC services (registered in this order) and its subscriptions.
struct ServiceParts {
  // What the services refer to and RunService must keep (a key, a store): destroyed after them.
  std::vector<std::shared_ptr<const void>> resources;
  std::vector<std::unique_ptr<grpc::Service>> services;
  std::vector<EventSubscription> subscriptions;
};

using ServiceWiring = std::function<absl::StatusOr<ServiceParts>(const ServiceKit& kit)>;

// The parts of a service that keeps its own copy of teachers' facts: `service` and, when `follow`,
// one consumer in group `group` over the profile service's streams that hands each event to
// `service->ApplyProfileEvent` (which returns an absl::Status).
template <typename Service>
ServiceParts FollowingProfile(std::unique_ptr<Service> service, std::string group, bool follow) {
  ServiceParts parts;
  if (follow) {
    EventSubscription profile_events;
    profile_events.options.group = std::move(group);
    profile_events.sources = {"profile"};
    profile_events.apply = [s = service.get()](const common::v1::Event& event, absl::string_view) {
      return s->ApplyProfileEvent(event);
    };
    parts.subscriptions.push_back(std::move(profile_events));
  }
  parts.services.push_back(std::move(service));
  return parts;
}

// Validates `config`, makes the clock and (when configured) the Redis pool, calls `wire`, starts
// the subscriptions' consumers, serves (ServiceServer::Run) until SIGTERM or SIGINT, then stops
// the consumers. Returns the process's exit code: 0 after a clean stop; 2 when the configuration
// or the wiring was refused (its status logged: name the flag in it); 1 when serving failed.
int RunService(const ServiceConfig& config, const ServiceWiring& wire);

}  // namespace shidang
