#pragma once

// The gRPC bootstrap every service runs on (service_main.h's RunService builds and runs it), and
// the wrapper every handler runs in:
//
//   grpc::Status MyService::GetThing(grpc::ServerContext* ctx, const Req* req, Resp* resp) {
//     return shidang::HandleCall(ctx, "shidang.my.v1.MyService/GetThing", signer_,
//                                [&](const shidang::CallContext& call) -> absl::Status { ... });
//   }
//
// With metrics_port >= 0 the server also serves /metrics (Prometheus text,
// services/common/metrics.h) on that port: every HandleCall per method and code, and the
// process's Redis pools. No flags here: service_flags.h reads them, in service executables only.

#include <google/protobuf/message.h>
#include <grpcpp/server.h>
#include <grpcpp/server_context.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/metrics.h"
#include "services/common/principal.h"
#include "services/common/process.h"
#include "services/common/redis.h"
#include "services/common/replay.h"
#include "shidang/common/v1/principal.pb.h"

namespace shidang {

inline constexpr int kMaxMessageBytes = 16 * 1024 * 1024;
inline constexpr char kRequestIdMetadataKey[] = "x-request-id";

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: let the kernel pick; the bound port goes to port_file
  std::string port_file;
  // The Redis the service's pool connects to; nullopt for a service that keeps no data.
  std::optional<redis::Config> redis;
  std::string principal_key_file;
  // Loaded from principal_key_file; never null in a config ValidateServiceConfig returned.
  std::shared_ptr<const PrincipalSigner> principal_signer;
  absl::Duration shutdown_grace = absl::Milliseconds(5000);
  // Calls served at once (each on a thread of its own, most waiting for Redis); more get
  // UNAVAILABLE.
  int max_threads = 2048;
  // YYYY-MM-DD pinning "today" for tests, or empty for the real Asia/Shanghai date.
  std::string today;
  // Port of /metrics on `host`: -1 none, 0 the kernel picks (written to metrics_port_file).
  int metrics_port = -1;
  std::string metrics_port_file;

  // "host:port" ("[host]:port" for an IPv6 host).
  std::string ListenAddress() const;
};

// What a handler's body knows about its call.
struct CallContext {
  common::v1::Principal principal;  // verified
  // The x-request-id metadata when it is sane (1..128 of [A-Za-z0-9._:-]), else generated. For
  // correlating logs only; idempotency uses the request's own request_id field.
  std::string request_id;
  std::string actor;  // ActorOf(principal), e.g. "county_hr:alice"
  // The method HandleCall was given, e.g. "shidang.profile.v1.ProfileService/GetTeacher": for
  // records that name the call (the profile service's audit of unmasked ID-card reads).
  std::string method;
};

// Runs one call: records it in RpcMetrics::Process() (method, code, seconds), verifies the
// principal (UNAUTHENTICATED, body not run), refuses a call whose deadline has already passed
// (DEADLINE_EXCEEDED, body not run), runs `body`, converts its status with ToGrpcStatus, sends
// x-request-id back in the initial metadata, and logs exactly one line:
//   <time> INFO rpc method=<method> request_id=<id> actor=<role:subject or -> status=<CODE> ms=<ms>
// (plus error="<message>" for UNAUTHENTICATED and server-side failures). Never logs tokens, the
// signed principal or request contents.
grpc::Status HandleCall(grpc::ServerContext* context, absl::string_view method,
                        const PrincipalSigner& signer,
                        const std::function<absl::Status(const CallContext&)>& body);

// The same for a call that may change state: when `request` carries a request_id, `answers`
// answers a retry with the first call's response before `body` runs (replay.h), and stores what
// `body` put in `response` when it succeeded. Every service's methods go through this one, reads
// included (a request with no request_id field runs as above):
//
//   return shidang::HandleCall(ctx, "shidang.my.v1.MyService/SetThing", signer_, answers_, *req,
//                              resp, [&](const shidang::CallContext& call) { ... });
grpc::Status HandleCall(grpc::ServerContext* context, absl::string_view method,
                        const PrincipalSigner& signer, const AnswerStore& answers,
                        const google::protobuf::Message& request,
                        google::protobuf::Message* response,
                        const std::function<absl::Status(const CallContext&)>& body);

// A write reads, decides, and writes only if what it read is unchanged (its script compares a
// version or the stored state), answering ABORTED when something changed in between: an event
// from another service, a concurrent call. A caller that sent no etag never read anything
// itself, so the use case runs again on a fresh read, after a short random pause that grows
// (so that writers of one hot record take turns rather than starve each other), up to
// kAttemptsOnConcurrentChange times; a caller's own stale etag (a string field named etag, set)
// is theirs to redo. `run` must be safe to run again after ABORTED: it wrote nothing (scripts
// check before they write).
inline constexpr int kAttemptsOnConcurrentChange = 30;

bool CallerSentEtag(const google::protobuf::Message& request);
// Sleeps a random time in [0, min(2^attempt, 64)) milliseconds.
void PauseBeforeAttempt(int attempt);

template <typename Response, typename Run>
absl::Status RunOnFreshReads(const google::protobuf::Message& request, Response* response,
                             const Run& run) {
  absl::Status status = run();
  for (int attempt = 1;
       attempt < kAttemptsOnConcurrentChange && absl::IsAborted(status) && !CallerSentEtag(request);
       ++attempt) {
    response->Clear();
    PauseBeforeAttempt(attempt);
    status = run();
  }
  return status;
}

class ServiceServer {
 public:
  explicit ServiceServer(ServerConfig config);
  ~ServiceServer();
  ServiceServer(const ServiceServer&) = delete;
  ServiceServer& operator=(const ServiceServer&) = delete;

  // Registers a service; not owned, must outlive this server. Call before Start.
  void AddService(grpc::Service* service);

  // Builds and starts the server (health and reflection included), starts /metrics when
  // metrics_port >= 0 (writing its port to metrics_port_file first), marks it SERVING and writes
  // the bound port to port_file (atomically: a temp file renamed into place), so a reader that
  // saw the port file finds the metrics port file too. UNAVAILABLE when it cannot listen.
  absl::Status Start();

  // The bound port, once started.
  int port() const { return port_; }
  // The port of /metrics, once started; 0 when metrics_port is -1.
  int metrics_port() const { return metrics_ == nullptr ? 0 : metrics_->port(); }

  // Starts (if not started), waits for SIGTERM, SIGINT or RequestShutdown, then marks the health
  // NOT_SERVING, lets calls in flight finish within shutdown_grace (cancelling the rest) and
  // returns.
  absl::Status Run();

  // Makes Run return (after the same graceful shutdown). Thread-safe.
  void RequestShutdown() { shutdown_requested_.store(true); }

  // Marks every service of the server SERVING or NOT_SERVING in its health service, as a watch
  // of what it depends on sees it (redis_health.h); ignored before Start and once it shuts down.
  // Thread-safe.
  void SetServing(bool serving);

 private:
  void Shutdown();

  ServerConfig config_;
  std::vector<grpc::Service*> services_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<MetricsServer> metrics_;
  int port_ = 0;
  std::atomic<bool> shutdown_requested_{false};
  bool stopped_ = false;
  absl::Mutex health_mu_;
  bool draining_ ABSL_GUARDED_BY(health_mu_) = false;
};

}  // namespace shidang
