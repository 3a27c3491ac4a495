#include "services/common/service_flags.h"

#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "services/common/process.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "Address to listen on.");
ABSL_FLAG(int, port, 0, "Port to listen on; 0 lets the kernel pick (see --port_file).");
ABSL_FLAG(std::string, port_file, "",
          "If set, the bound port is written here (atomically) once the server is serving.");
ABSL_FLAG(std::string, redis, "", "Redis address: unix:/path/to/socket or host:port.");
ABSL_FLAG(std::string, principal_key_file, "",
          "File holding the key (raw bytes, at least 32) that signs principals in metadata.");
ABSL_FLAG(int, shutdown_grace_ms, 5000,
          "On SIGTERM/SIGINT, how long calls in flight may take before they are cancelled.");
ABSL_FLAG(int, max_threads, 2048,
          "Calls served at once, each on a thread of its own (most wait for Redis); past it a "
          "call gets UNAVAILABLE.");
ABSL_FLAG(std::string, today, "",
          "Pins today's date (YYYY-MM-DD) for tests; empty uses the Asia/Shanghai date.");
ABSL_FLAG(int, metrics_port, -1,
          "Port of /metrics (Prometheus text) on --host: -1 none, 0 lets the kernel pick (see "
          "--metrics_port_file).");
ABSL_FLAG(std::string, metrics_port_file, "",
          "If set, the bound /metrics port is written here (atomically) before --port_file.");

namespace shidang {

ServiceConfig ServiceConfigFromFlags() {
  ServiceConfig config;
  config.host = absl::GetFlag(FLAGS_host);
  config.port = absl::GetFlag(FLAGS_port);
  config.port_file = absl::GetFlag(FLAGS_port_file);
  config.redis = absl::GetFlag(FLAGS_redis);
  config.principal_key_file = absl::GetFlag(FLAGS_principal_key_file);
  config.shutdown_grace_ms = absl::GetFlag(FLAGS_shutdown_grace_ms);
  config.max_threads = absl::GetFlag(FLAGS_max_threads);
  config.today = absl::GetFlag(FLAGS_today);
  config.metrics_port = absl::GetFlag(FLAGS_metrics_port);
  config.metrics_port_file = absl::GetFlag(FLAGS_metrics_port_file);
  return config;
}

int ServiceMain(int argc, char** argv, const char* usage, const ServiceWiring& wire) {
  absl::SetProgramUsageMessage(usage);
  InitServerProcess(argc, argv);
  return RunService(ServiceConfigFromFlags(), wire);
}

}  // namespace shidang
