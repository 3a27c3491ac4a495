// shidang-gateway: the one public gRPC entry. Flags and wiring only; see gateway.h.
//
//   shidang-gateway --port=8443 --port_file=/run/gw.port --principal_key_file=principal.key
//     --descriptor_set=build/shidang.desc --jwt_keys_file=jwt.keys --jwt_issuer=shidang
//     --jwt_audience=shidang-gateway
//     --backends="shidang.profile.v1.ProfileService=127.0.0.1:7101;..." --http_port=8080

#include <signal.h>
#include <time.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gateway/gateway.h"
#include "services/common/log.h"
#include "services/common/principal.h"
#include "services/common/process.h"

// The gateway's flags, all of them: it takes no service's flags (no --redis, no --metrics_port:
// its /metrics are on its HTTP front), and absl's parser refuses any flag not defined here.
ABSL_FLAG(std::string, host, "127.0.0.1", "Address both fronts listen on.");
ABSL_FLAG(int, port, 0, "Port of the public gRPC front; 0 lets the kernel pick (see --port_file).");
ABSL_FLAG(std::string, port_file, "",
          "If set, the bound gRPC port is written here (atomically) once the gateway serves.");
ABSL_FLAG(std::string, principal_key_file, "",
          "File holding the key (raw bytes, at least 32) that signs principals for the services.");
ABSL_FLAG(int, shutdown_grace_ms, 5000,
          "On SIGTERM/SIGINT, how long calls in flight may take before they are cancelled.");
ABSL_FLAG(std::string, descriptor_set, "",
          "FileDescriptorSet of the public API (with imports), e.g. build/shidang.desc.");
ABSL_FLAG(std::string, backends, "",
          "service=host:port[,host:port...] or service=dns:///name:port, separated by ';'.");
ABSL_FLAG(std::string, jwt_keys_file, "", "JWT keyset: one '<kid> <hex secret>' per line.");
ABSL_FLAG(std::string, jwt_issuer, "shidang", "Required `iss` of bearer tokens.");
ABSL_FLAG(std::string, jwt_audience, "shidang-gateway",
          "Required `aud` of bearer tokens (shidang-mint's default).");
ABSL_FLAG(double, rate_per_second, 50, "Calls per second per principal (token bucket); 0 = off.");
ABSL_FLAG(double, rate_burst, 100, "Token bucket size per principal.");
ABSL_FLAG(int, token_cache_size, 65536, "Verified tokens kept until they expire; 0 = no cache.");
ABSL_FLAG(int, default_deadline_ms, 10000, "Deadline of a forwarded call the caller gave none.");
ABSL_FLAG(int, health_interval_ms, 2000, "How often each backend's health is checked.");
ABSL_FLAG(int, health_timeout_ms, 1000, "Deadline of one backend health check.");
ABSL_FLAG(bool, access_log, true, "One log line per call (method, request id, actor, status, ms).");
ABSL_FLAG(int, backend_connections, 4,
          "HTTP/2 connections the forwarder keeps per backend replica (1..64).");
ABSL_FLAG(int, busy_poll_us, 1000,
          "The forwarder polls for up to this long after its last event instead of sleeping, "
          "while 1 to --busy_poll_max_calls calls are open (lower latency for CPU); 0 = off.");
ABSL_FLAG(int, busy_poll_max_calls, 2,
          "Busy polling only while at most this many calls are open (1..1024).");
ABSL_FLAG(int, http_port, -1,
          "Port of the HTTP/JSON front (same --host); 0 = the kernel picks; -1 = no HTTP front.");
ABSL_FLAG(std::string, http_port_file, "", "Where to write the HTTP port once bound.");
ABSL_FLAG(std::string, web_root, "",
          "Folder of the web page (index.html and its assets), served on the HTTP front outside "
          "/v1/; empty = no page.");
ABSL_FLAG(int, http_threads, 2, "Threads of the HTTP/JSON front (reading, routing, JSON).");
ABSL_FLAG(int, max_header_bytes, 8192,
          "Largest request head either front takes: over HTTP/1.1 the request line and headers "
          "(431 over it), over HTTP/2 (gRPC) the header list as HPACK counts it (name + value + 32 "
          "per field; INVALID_ARGUMENT over it). 1024 to 1048576.");
ABSL_FLAG(std::vector<std::string>, cors_origins, {},
          "Origins allowed to call the HTTP API from a browser, comma separated "
          "(e.g. https://hr.example.cn).");

namespace {

using shidang::LogError;
using shidang::LogInfo;

// The process flags every front shares: where to listen, the principal key, the grace period.
absl::Status ProcessFlags(shidang::gateway::GatewayConfig* config) {
  config->host = absl::GetFlag(FLAGS_host);
  if (config->host.empty()) {
    return absl::InvalidArgumentError("--host: required (an address such as 127.0.0.1)");
  }
  config->port = absl::GetFlag(FLAGS_port);
  if (config->port < 0 || config->port > 65535) {
    return absl::InvalidArgumentError("--port: must be 0..65535 (0 picks a free port)");
  }
  const std::string key_file = absl::GetFlag(FLAGS_principal_key_file);
  if (key_file.empty()) {
    return absl::InvalidArgumentError(
        "--principal_key_file: required (a file of at least 32 random bytes; see shidang-mint "
        "keygen)");
  }
  absl::StatusOr<shidang::PrincipalSigner> signer = shidang::PrincipalSigner::FromKeyFile(key_file);
  if (!signer.ok()) return signer.status();
  config->principal_signer = std::make_shared<const shidang::PrincipalSigner>(*std::move(signer));
  const int grace_ms = absl::GetFlag(FLAGS_shutdown_grace_ms);
  if (grace_ms < 0 || grace_ms > 600000) {
    return absl::InvalidArgumentError("--shutdown_grace_ms: must be 0..600000");
  }
  return absl::OkStatus();
}

// The limits both fronts apply to what a request may send.
absl::Status RequestLimitFlags(shidang::gateway::GatewayConfig* config) {
  const int header_bytes = absl::GetFlag(FLAGS_max_header_bytes);
  if (header_bytes < static_cast<int>(shidang::gateway::kMinHeaderLimit) ||
      header_bytes > static_cast<int>(shidang::gateway::kMaxHeaderLimit)) {
    return absl::InvalidArgumentError(absl::StrCat("--max_header_bytes: must be ",
                                                   shidang::gateway::kMinHeaderLimit, " to ",
                                                   shidang::gateway::kMaxHeaderLimit));
  }
  config->max_header_bytes = static_cast<uint32_t>(header_bytes);
  return absl::OkStatus();
}

absl::StatusOr<shidang::gateway::GatewayConfig> ConfigFromFlags() {
  shidang::gateway::GatewayConfig config;
  if (absl::Status process = ProcessFlags(&config); !process.ok()) return process;
  config.descriptor_set = absl::GetFlag(FLAGS_descriptor_set);
  if (config.descriptor_set.empty()) {
    return absl::InvalidArgumentError("--descriptor_set is required (build/shidang.desc)");
  }
  auto backends = shidang::gateway::ParseBackends(absl::GetFlag(FLAGS_backends));
  if (!backends.ok()) return backends.status();
  config.backends = *std::move(backends);
  config.jwt_keys_file = absl::GetFlag(FLAGS_jwt_keys_file);
  if (config.jwt_keys_file.empty())
    return absl::InvalidArgumentError("--jwt_keys_file is required");
  config.jwt_issuer = absl::GetFlag(FLAGS_jwt_issuer);
  config.jwt_audience = absl::GetFlag(FLAGS_jwt_audience);
  if (config.jwt_issuer.empty() || config.jwt_audience.empty()) {
    return absl::InvalidArgumentError("--jwt_issuer and --jwt_audience must not be empty");
  }
  config.rate_limit.rate_per_second = absl::GetFlag(FLAGS_rate_per_second);
  config.rate_limit.burst = absl::GetFlag(FLAGS_rate_burst);
  if (config.rate_limit.rate_per_second < 0 ||
      (config.rate_limit.rate_per_second > 0 && config.rate_limit.burst < 1)) {
    return absl::InvalidArgumentError(
        "--rate_per_second must be >= 0 (0 turns the limit off) and --rate_burst >= 1");
  }
  const int cache = absl::GetFlag(FLAGS_token_cache_size);
  if (cache < 0) return absl::InvalidArgumentError("--token_cache_size must be >= 0");
  config.token_cache_size = static_cast<size_t>(cache);
  const int deadline_ms = absl::GetFlag(FLAGS_default_deadline_ms);
  const int interval_ms = absl::GetFlag(FLAGS_health_interval_ms);
  const int timeout_ms = absl::GetFlag(FLAGS_health_timeout_ms);
  if (deadline_ms < 1 || interval_ms < 10 || timeout_ms < 1) {
    return absl::InvalidArgumentError(
        "--default_deadline_ms >= 1, --health_interval_ms >= 10 and --health_timeout_ms >= 1");
  }
  config.default_deadline = absl::Milliseconds(deadline_ms);
  config.access_log = absl::GetFlag(FLAGS_access_log);
  config.backend_connections = absl::GetFlag(FLAGS_backend_connections);
  if (config.backend_connections < 1 || config.backend_connections > 64) {
    return absl::InvalidArgumentError("--backend_connections must be 1 to 64");
  }
  const int busy_poll_us = absl::GetFlag(FLAGS_busy_poll_us);
  config.busy_poll_max_calls = absl::GetFlag(FLAGS_busy_poll_max_calls);
  if (busy_poll_us < 0 || busy_poll_us > 1000000 || config.busy_poll_max_calls < 1 ||
      config.busy_poll_max_calls > 1024) {
    return absl::InvalidArgumentError(
        "--busy_poll_us must be 0 (off) to 1000000 and --busy_poll_max_calls 1 to 1024");
  }
  config.busy_poll = absl::Microseconds(busy_poll_us);
  config.health_interval = absl::Milliseconds(interval_ms);
  config.health_timeout = absl::Milliseconds(timeout_ms);
  config.http.host = config.host;
  config.http.port = absl::GetFlag(FLAGS_http_port);
  if (config.http.port < -1 || config.http.port > 65535) {
    return absl::InvalidArgumentError("--http_port must be -1 (off) or 0 to 65535");
  }
  config.http.threads = absl::GetFlag(FLAGS_http_threads);
  if (config.http.threads < 1 || config.http.threads > 64) {
    return absl::InvalidArgumentError("--http_threads must be 1 to 64");
  }
  for (const std::string& origin : absl::GetFlag(FLAGS_cors_origins)) {
    if (origin.empty()) continue;
    if (!absl::StartsWith(origin, "http://") && !absl::StartsWith(origin, "https://")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--cors_origins: \"", origin, "\" must be an origin like https://hr.example.cn"));
    }
    config.http.cors_origins.push_back(origin);
  }
  config.http.default_deadline = config.default_deadline;
  config.http.access_log = config.access_log;
  config.http.web_root = absl::GetFlag(FLAGS_web_root);
  if (absl::Status limits = RequestLimitFlags(&config); !limits.ok()) return limits;
  return config;
}

// Waits for SIGTERM or SIGINT (blocked in every thread by InitServerProcess).
int WaitForTermination() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  while (true) {
    const int signal_number = sigwaitinfo(&signals, nullptr);
    if (signal_number > 0) return signal_number;
    if (errno != EINTR) return -1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "shidang-gateway: Shidang's public front: gRPC on --port, HTTP/JSON (and /metrics) on "
      "--http_port; --helpfull lists its flags");
  shidang::InitServerProcess(argc, argv);
  absl::StatusOr<shidang::gateway::GatewayConfig> config = ConfigFromFlags();
  if (!config.ok()) {
    LogError(config.status().ToString());
    return 2;
  }
  auto gateway = shidang::gateway::Gateway::Start(*std::move(config));
  if (!gateway.ok()) {
    LogError(gateway.status().ToString());
    return 1;
  }
  // Before --port_file: tests and scripts wait for that one, then read this one.
  const std::string http_port_file = absl::GetFlag(FLAGS_http_port_file);
  if (!http_port_file.empty()) {
    if ((*gateway)->http_port() == 0) {
      LogError("--http_port_file needs the HTTP front (--http_port >= 0)");
      return 2;
    }
    absl::Status written = shidang::WritePortFile(http_port_file, (*gateway)->http_port());
    if (!written.ok()) {
      LogError(written.ToString());
      return 1;
    }
  }
  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  if (!port_file.empty()) {
    absl::Status written = shidang::WritePortFile(port_file, (*gateway)->port());
    if (!written.ok()) {
      LogError(written.ToString());
      return 1;
    }
  }
  const int signal_number = WaitForTermination();
  LogInfo("gateway: signal ", signal_number, ", shutting down");
  (*gateway)->Shutdown(absl::Milliseconds(absl::GetFlag(FLAGS_shutdown_grace_ms)));
  LogInfo("gateway: stopped");
  return 0;
}
