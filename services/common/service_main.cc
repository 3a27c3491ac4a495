#include "services/common/service_main.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/dates.h"
#include "services/common/log.h"
#include "services/common/redis_health.h"

namespace shidang {
namespace {

// Host and port checks: the listening address of the gRPC server and of /metrics.
absl::Status ValidateAddress(const ServiceConfig& config) {
  if (config.host.empty()) {
    return absl::InvalidArgumentError("--host: required (an address such as 127.0.0.1)");
  }
  if (config.port < 0 || config.port > 65535) {
    return absl::InvalidArgumentError("--port: must be 0..65535 (0 picks a free port)");
  }
  if (config.metrics_port < -1 || config.metrics_port > 65535) {
    return absl::InvalidArgumentError(
        "--metrics_port: must be -1 (no /metrics), 0 (a free port) or 1..65535");
  }
  return absl::OkStatus();
}

absl::Status ValidateRedis(const ServiceConfig& config, ServerConfig* server) {
  if (config.redis.empty()) {
    if (!config.redis_required) return absl::OkStatus();
    return absl::InvalidArgumentError("--redis: required (unix:/path or host:port)");
  }
  absl::StatusOr<redis::Config> redis = redis::Config::FromAddress(config.redis);
  if (!redis.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--redis: ", redis.status().message(), " (allowed: unix:/path or host:port)"));
  }
  server->redis = *std::move(redis);
  return absl::OkStatus();
}

absl::Status ValidateLimits(const ServiceConfig& config) {
  if (config.shutdown_grace_ms < 0 || config.shutdown_grace_ms > 600000) {
    return absl::InvalidArgumentError("--shutdown_grace_ms: must be 0..600000");
  }
  if (config.max_threads < 2 || config.max_threads > 16384) {
    return absl::InvalidArgumentError("--max_threads: must be 2..16384");
  }
  if (!config.today.empty()) {
    absl::StatusOr<absl::CivilDay> day = dates::ParseDate(config.today, "--today");
    if (!day.ok()) return day.status();
  }
  return absl::OkStatus();
}

std::string ThisProcess() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, "-", getpid());
}

// Consumers of the subscriptions, started; stopped and destroyed before the service they feed.
absl::StatusOr<std::vector<std::unique_ptr<EventConsumer>>> StartConsumers(
    std::vector<EventSubscription>& subscriptions, redis::Pool* pool) {
  std::vector<std::unique_ptr<EventConsumer>> consumers;
  if (!subscriptions.empty() && pool == nullptr) {
    return absl::InvalidArgumentError("--redis: required to consume other services' events");
  }
  for (EventSubscription& subscription : subscriptions) {
    EventConsumerOptions options = subscription.options;
    if (options.consumer.empty()) options.consumer = ThisProcess();
    options.reads = subscription.sources;
    consumers.push_back(std::make_unique<EventConsumer>(
        *pool, std::move(options), StreamsFromIndex(*pool, std::move(subscription.sources)),
        std::move(subscription.apply)));
    consumers.back()->Start();
  }
  return consumers;
}

}  // namespace

absl::StatusOr<ServerConfig> ValidateServiceConfig(const ServiceConfig& config) {
  ServerConfig server;
  if (absl::Status address = ValidateAddress(config); !address.ok()) return address;
  server.host = config.host;
  server.port = config.port;
  server.port_file = config.port_file;
  server.metrics_port = config.metrics_port;
  server.metrics_port_file = config.metrics_port_file;
  if (absl::Status redis = ValidateRedis(config, &server); !redis.ok()) return redis;

  server.principal_key_file = config.principal_key_file;
  if (server.principal_key_file.empty()) {
    return absl::InvalidArgumentError(
        "--principal_key_file: required (a file of at least 32 random bytes; see shidang-mint "
        "keygen)");
  }
  absl::StatusOr<PrincipalSigner> signer = PrincipalSigner::FromKeyFile(server.principal_key_file);
  if (!signer.ok()) return signer.status();
  server.principal_signer = std::make_shared<const PrincipalSigner>(*std::move(signer));

  if (absl::Status limits = ValidateLimits(config); !limits.ok()) return limits;
  server.shutdown_grace = absl::Milliseconds(config.shutdown_grace_ms);
  server.max_threads = config.max_threads;
  server.today = config.today;
  return server;
}

int RunService(const ServiceConfig& config, const ServiceWiring& wire) {
  absl::StatusOr<ServerConfig> server = ValidateServiceConfig(config);
  if (!server.ok()) {
    LogError(server.status().ToString());
    return 2;
  }
  absl::StatusOr<std::unique_ptr<Clock>> clock = ClockFromFlagValue(server->today);
  if (!clock.ok()) {
    LogError(clock.status().ToString());
    return 2;
  }
  std::unique_ptr<redis::Pool> pool;
  if (server->redis.has_value()) pool = std::make_unique<redis::Pool>(*server->redis);
  const ServiceKit kit{*server, *server->principal_signer, **clock, pool.get()};
  absl::StatusOr<ServiceParts> parts = wire(kit);
  if (!parts.ok()) {
    LogError(parts.status().ToString());
    return 2;
  }
  absl::StatusOr<std::vector<std::unique_ptr<EventConsumer>>> consumers =
      StartConsumers(parts->subscriptions, pool.get());
  if (!consumers.ok()) {
    LogError(consumers.status().ToString());
    return 2;
  }
  absl::Status run;
  {
    ServiceServer service_server(*server);
    for (const std::unique_ptr<grpc::Service>& service : parts->services) {
      service_server.AddService(service.get());
    }
    run = service_server.Start();
    // Health follows Redis (NOT_SERVING while it does not answer), from Start until Run returns.
    std::unique_ptr<redis::RedisHealthWatch> watch;
    if (run.ok() && server->redis.has_value()) {
      watch = std::make_unique<redis::RedisHealthWatch>(
          *server->redis, [&service_server](bool up) { service_server.SetServing(up); });
    }
    if (run.ok()) run = service_server.Run();
  }
  for (const std::unique_ptr<EventConsumer>& consumer : *consumers) consumer->Stop();
  if (!run.ok()) {
    LogError(run.ToString());
    return 1;
  }
  return 0;
}

}  // namespace shidang
