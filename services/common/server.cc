#include "services/common/server.h"

#include <google/protobuf/descriptor.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/slice.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/impl/server_initializer.h>
#include <grpcpp/impl/service_type.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/common/log.h"
#include "services/common/random.h"
#include "services/common/request_check.h"
#include "services/common/status.h"

namespace shidang {
namespace {

// Trailing metadata of a call refused because the queue is full: seconds after which a retry
// may find room. The gateway sends it on as HTTP Retry-After with its 503 (gateway/grpc_wire.h).
constexpr char kRetryAfterMetadataKey[] = "retry-after";
// Threads of the gRPC quota beyond max_threads: pollers, health checks, reflection, and calls
// being refused (each on a thread of its own until its UNAVAILABLE is sent).
constexpr int kRefusalThreads = 4096;
// Handlers that run at once per Redis connection; the rest of a burst waits its turn.
constexpr int kRunningCallsPerConnection = 2;

// Calls inside HandleCall, process-wide: ServiceServer::Shutdown waits for these to finish.
std::atomic<int> calls_in_flight{0};

class InFlight {
 public:
  InFlight() { calls_in_flight.fetch_add(1); }
  ~InFlight() { calls_in_flight.fetch_sub(1); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
};

bool IsSaneRequestId(absl::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string NewRequestId() { return SecureRandomHex(12); }

std::string RequestIdOf(const grpc::ServerContext& context) {
  auto it = context.client_metadata().find(kRequestIdMetadataKey);
  if (it != context.client_metadata().end()) {
    absl::string_view given(it->second.data(), it->second.size());
    if (IsSaneRequestId(given)) return std::string(given);
  }
  return NewRequestId();
}

// Codes whose message is ours to log (no request content in it) and that an operator needs.
bool LogsMessage(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kDeadlineExceeded:
      return true;
    default:
      return false;
  }
}

// Learns the names of the registered services from the builder (grpc::Service does not tell its
// own), so that health answers for each service by name, as probes and clients ask.
class ServiceNamesPlugin : public grpc::ServerBuilderPlugin {
 public:
  explicit ServiceNamesPlugin(std::vector<std::string>* names) : names_(names) {}
  std::string name() override { return "shidang_service_names"; }
  void InitServer(grpc::ServerInitializer*) override {}
  void Finish(grpc::ServerInitializer* initializer) override {
    *names_ = *initializer->GetServiceList();
  }
  void ChangeArguments(const std::string&, void*) override {}

 private:
  std::vector<std::string>* names_;
};

class ServiceNamesOption : public grpc::ServerBuilderOption {
 public:
  explicit ServiceNamesOption(std::vector<std::string>* names) : names_(names) {}
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->push_back(std::make_unique<ServiceNamesPlugin>(names_));
  }

 private:
  std::vector<std::string>* names_;
};

// The request of the call this thread is serving, set by CheckingHandler around the service's
// handler (the synchronous server runs a handler, and so HandleCall, on the thread that read the
// request), so that HandleCall checks it without every service passing it along.
thread_local const google::protobuf::Message* current_request = nullptr;

class CurrentRequest {
 public:
  explicit CurrentRequest(const google::protobuf::Message* request) : previous_(current_request) {
    current_request = request;
  }
  ~CurrentRequest() { current_request = previous_; }
  CurrentRequest(const CurrentRequest&) = delete;
  CurrentRequest& operator=(const CurrentRequest&) = delete;

 private:
  const google::protobuf::Message* previous_;
};

std::string BytesOf(grpc_byte_buffer* buffer) {
  grpc_byte_buffer_reader reader;
  if (!grpc_byte_buffer_reader_init(&reader, buffer)) return std::string();
  grpc_slice all = grpc_byte_buffer_reader_readall(&reader);
  std::string bytes(reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(all)),
                    GRPC_SLICE_LENGTH(all));
  grpc_slice_unref(all);
  grpc_byte_buffer_reader_destroy(&reader);
  return bytes;
}

// Wraps the generated handler of one unary method: a request that does not parse (a string
// field that is not UTF-8, which gRPC answers INTERNAL with no message before any handler runs)
// is refused INVALID_ARGUMENT naming the field; a request that parses is made the thread's
// current request while the generated handler runs, for HandleCall's checks.
class CheckingHandler : public grpc::internal::MethodHandler {
 public:
  CheckingHandler(std::unique_ptr<grpc::internal::RpcServiceMethod> generated,
                  const google::protobuf::Descriptor* request_type)
      : generated_(std::move(generated)),
        request_type_(request_type),
        method_(absl::StripPrefix(generated_->name(), "/")) {}

  void RunHandler(const HandlerParameter& param) override {
    if (!param.status.ok()) {
      RpcMetrics::Process().ObserveCall(
          method_, static_cast<absl::StatusCode>(param.status.error_code()), 0);
      LogInfo("rpc method=", method_, " status=",
              absl::StatusCodeToString(static_cast<absl::StatusCode>(param.status.error_code())),
              " error=\"", absl::CHexEscape(param.status.error_message()), "\"");
    }
    // Generated requests derive from Message alone, so the handler's pointer is one to Message.
    CurrentRequest current(
        param.status.ok() ? static_cast<const google::protobuf::Message*>(param.request) : nullptr);
    generated_->handler()->RunHandler(param);
  }

  void* Deserialize(grpc_call* call, grpc_byte_buffer* request, grpc::Status* status,
                    void** handler_data) override {
    // The generated handler consumes the buffer; keep a reference to explain a refusal.
    grpc_byte_buffer* kept = request == nullptr ? nullptr : grpc_byte_buffer_copy(request);
    void* parsed = generated_->handler()->Deserialize(call, request, status, handler_data);
    if (parsed == nullptr && kept != nullptr && request_type_ != nullptr) {
      *status = ToGrpcStatus(ExplainUnparsableRequest(BytesOf(kept), *request_type_));
    }
    if (kept != nullptr) grpc_byte_buffer_destroy(kept);
    return parsed;
  }

 private:
  std::unique_ptr<grpc::internal::RpcServiceMethod> generated_;
  const google::protobuf::Descriptor* request_type_;
  std::string method_;
};

// grpc::Service keeps its methods in a private vector, and a subclass can replace a handler only
// while also changing how the method is served (streamed, callback). To wrap each handler and
// keep it a plain synchronous unary method, the vector is reached through an explicit template
// instantiation, which the standard exempts from access checking ([temp.explicit]).
using ServiceMethods = std::vector<std::unique_ptr<grpc::internal::RpcServiceMethod>>;
ServiceMethods& MethodsOf(grpc::Service& service);
template <ServiceMethods grpc::Service::*kMethods>
struct ServiceMethodsAccess {
  friend ServiceMethods& MethodsOf(grpc::Service& service) { return service.*kMethods; }
};
template struct ServiceMethodsAccess<&grpc::Service::methods_>;

// Wraps every synchronous unary method of `service` in a CheckingHandler (once).
void CheckRequestsOf(grpc::Service& service) {
  for (std::unique_ptr<grpc::internal::RpcServiceMethod>& method : MethodsOf(service)) {
    if (method == nullptr || method->handler() == nullptr ||
        method->api_type() != grpc::internal::RpcServiceMethod::ApiType::SYNC ||
        method->method_type() != grpc::internal::RpcMethod::NORMAL_RPC ||
        dynamic_cast<CheckingHandler*>(method->handler()) != nullptr) {
      continue;
    }
    // "/pkg.Service/Method" names the method "pkg.Service.Method" in the descriptor pool.
    std::string dotted(absl::StripPrefix(method->name(), "/"));
    std::replace(dotted.begin(), dotted.end(), '/', '.');
    const google::protobuf::MethodDescriptor* descriptor =
        google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(dotted);
    const char* name = method->name();
    const grpc::internal::RpcMethod::RpcType type = method->method_type();
    auto* checking =
        new CheckingHandler(std::move(method), descriptor ? descriptor->input_type() : nullptr);
    method = std::make_unique<grpc::internal::RpcServiceMethod>(name, type, checking);
  }
}

// The generic checks of the request this thread serves (request_check.h); OK when there is none
// (a call HandleCall runs outside a server, as in unit tests of a handler).
absl::Status CheckCurrentRequest() {
  return current_request == nullptr ? absl::OkStatus() : CheckRequestFields(*current_request);
}

// How many calls may be in a synchronous handler, running or in line (kNoCallLimit until a
// ServiceServer starts); how many run at once; the Redis budget of each.
constexpr int kNoCallLimit = 1 << 30;
std::atomic<int> call_limit{kNoCallLimit};
std::atomic<int> running_limit{16};
std::atomic<int64_t> redis_budget_ms{1000};

// The line in front of Redis: `running_limit` calls run at once and the rest wait their turn,
// first come first served, each until its deadline; past `call_limit` calls in all, the next is
// refused at once. A call that leaves hands its turn straight to the first in line, so a newcomer
// never overtakes a call that waits, and a call's wait is bounded by those ahead of it (an
// absl::Mutex condition wakes waiters in no particular order: at 1,000 callers some waited
// 10 times the median, and every release re-evaluated every waiter's condition).
class CallQueue {
 public:
  struct Turn {
    bool runs = false;
    absl::Status refusal;             // when !runs: UNAVAILABLE (queue full) or DEADLINE_EXCEEDED
    int64_t retry_after_seconds = 0;  // with a queue-full refusal
  };

  Turn Enter(absl::Time deadline) {
    // A max_threads below the running limit (a service without Redis runs 16) caps both.
    const int limit = std::min(running_limit.load(), call_limit.load());
    const int waiting_limit = call_limit.load() - limit;
    absl::MutexLock lock(&mu_);
    if (running_ < limit && line_.empty()) {
      ++running_;
      return Turn{true, absl::OkStatus(), 0};
    }
    if (static_cast<int>(line_.size()) >= waiting_limit) return QueueFull(limit, waiting_limit);
    Waiter waiter;
    const size_t ahead = line_.size();
    const absl::Time start = absl::Now();
    line_.push_back(&waiter);
    while (!waiter.granted) {
      if (waiter.turn.WaitWithDeadline(&mu_, deadline) && !waiter.granted) {
        line_.erase(std::find(line_.begin(), line_.end(), &waiter));
        return Turn{
            false,
            absl::DeadlineExceededError(absl::StrCat(
                "the call's deadline passed after ", absl::ToInt64Milliseconds(absl::Now() - start),
                " ms in line for its turn (", ahead, " calls were ahead of it)")),
            0};
      }
    }
    return Turn{true, absl::OkStatus(), 0};
  }

  // Ends a turn that `ran` this long: the first in line takes it over.
  void Leave(absl::Duration ran) {
    absl::MutexLock lock(&mu_);
    // A slow moving average of how long a turn lasts, for Retry-After.
    mean_turn_ = mean_turn_ + (ran - mean_turn_) / 16;
    if (line_.empty()) {
      --running_;
      return;
    }
    Waiter* next = line_.front();
    line_.pop_front();
    next->granted = true;
    next->turn.Signal();
  }

 private:
  struct Waiter {
    absl::CondVar turn;
    bool granted = false;
  };

  // The refusal past the queue's length, with when a retry may find room: the time the line
  // ahead takes to drain at the current pace, at least a second.
  Turn QueueFull(int running, int waiting) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const absl::Duration drain = mean_turn_ * (waiting + 1) / std::max(1, running);
    const int64_t retry_after =
        std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(drain, absl::Seconds(1))));
    return Turn{false,
                absl::UnavailableError(absl::StrCat(
                    "the service is overloaded: queue full: ", waiting, " calls waiting and ",
                    running, " running (at most ", call_limit.load(),
                    " calls in progress); retry after ", retry_after, " s")),
                retry_after};
  }

  absl::Mutex mu_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<Waiter*> line_ ABSL_GUARDED_BY(mu_);
  absl::Duration mean_turn_ ABSL_GUARDED_BY(mu_) = absl::Milliseconds(10);
};
CallQueue& Queue() {
  static auto* const queue = new CallQueue();
  return *queue;
}

// What CallAdmission decided for the call this thread serves: HandleCall answers a refusal
// before anything else (with a retry-after trailer for the gateway's Retry-After header).
struct ThreadTurn {
  bool runs = false;
  absl::Time started;
  absl::Status refusal;
  int64_t retry_after_seconds = 0;
};
thread_local ThreadTurn this_turn;

// Runs on the thread of every synchronous call, around its handler. A burst queues here
// (CallQueue), so that the time a call spends in line is not taken from its Redis budget, which
// opens when its turn comes (redis::BeginCallBudget: one wait for all of the call's Redis work,
// never past its deadline). A call refused (queue full, or its deadline passed in line) is
// answered by HandleCall before its handler does anything, and any Redis operation it tries
// fails the same way. (gRPC's own refusal past its thread quota is RESOURCE_EXHAUSTED "Server
// Threadpool Exhausted", which reads as a rate limit; the quota is set well above the limit so
// that callers see this one instead.)
class CallAdmission : public grpc::Server::GlobalCallbacks {
 public:
  void PreSynchronousRequest(grpc::ServerContext* context) override {
    const auto chrono_deadline = context->deadline();
    const absl::Time deadline = chrono_deadline == std::chrono::system_clock::time_point::max()
                                    ? absl::InfiniteFuture()
                                    : absl::FromChrono(chrono_deadline);
    CallQueue::Turn turn = Queue().Enter(deadline);
    this_turn = ThreadTurn{turn.runs, absl::Now(), turn.refusal, turn.retry_after_seconds};
    redis::BeginCallBudget(deadline, absl::Milliseconds(redis_budget_ms.load()),
                           std::move(turn.refusal));
  }
  void PostSynchronousRequest(grpc::ServerContext*) override {
    redis::EndCallBudget();
    if (this_turn.runs) Queue().Leave(absl::Now() - this_turn.started);
    this_turn = ThreadTurn();
  }
};

// Installed before main: gRPC takes global callbacks only before the process's first server
// exists, and a test may build another server before any ServiceServer.
[[maybe_unused]] const bool call_admission_installed = [] {
  grpc::Server::SetGlobalCallbacks(new CallAdmission());
  return true;
}();

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

// HandleCall's checks, then `body`: the principal (filling in `call`), the deadline, the request.
absl::Status VerifyAndRun(const grpc::ServerContext& context, const PrincipalSigner& signer,
                          const std::function<absl::Status(const CallContext&)>& body,
                          CallContext& call) {
  absl::StatusOr<common::v1::Principal> principal = signer.Verify(context);
  if (!principal.ok()) return principal.status();
  call.principal = *std::move(principal);
  call.actor = ActorOf(call.principal);
  if (context.deadline() <= std::chrono::system_clock::now()) {
    return absl::DeadlineExceededError("the call's deadline passed before it started");
  }
  SHIDANG_RETURN_IF_ERROR(CheckCurrentRequest());
  return body(call);
}

}  // namespace

std::string ServerConfig::ListenAddress() const {
  if (absl::StrContains(host, ':')) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

void PauseBeforeAttempt(int attempt) {
  thread_local absl::BitGen random;
  const int64_t cap_ms = int64_t{1} << std::min(attempt, 6);
  absl::SleepFor(absl::Microseconds(absl::Uniform<int64_t>(random, 0, cap_ms * 1000)));
}

bool CallerSentEtag(const google::protobuf::Message& request) {
  const google::protobuf::FieldDescriptor* etag = request.GetDescriptor()->FindFieldByName("etag");
  return etag != nullptr && etag->type() == google::protobuf::FieldDescriptor::TYPE_STRING &&
         !etag->is_repeated() && !request.GetReflection()->GetString(request, etag).empty();
}

grpc::Status HandleCall(grpc::ServerContext* context, absl::string_view method,
                        const PrincipalSigner& signer,
                        const std::function<absl::Status(const CallContext&)>& body) {
  const absl::Time start = absl::Now();
  InFlight in_flight;
  CallContext call;
  call.method = std::string(method);
  call.request_id = RequestIdOf(*context);
  context->AddInitialMetadata(kRequestIdMetadataKey, call.request_id);

  absl::Status status;
  if (!this_turn.refusal.ok()) {
    // Refused in line (CallAdmission): nothing of the call runs, not even the principal's check.
    status = this_turn.refusal;
    if (this_turn.retry_after_seconds > 0) {
      context->AddTrailingMetadata(kRetryAfterMetadataKey,
                                   absl::StrCat(this_turn.retry_after_seconds));
    }
  } else {
    status = VerifyAndRun(*context, signer, body, call);
  }
  grpc::Status result = ToGrpcStatus(status);

  const absl::Duration elapsed = absl::Now() - start;
  RpcMetrics::Process().ObserveCall(method, status.code(), absl::ToDoubleSeconds(elapsed));
  const double elapsed_ms = absl::ToDoubleMilliseconds(elapsed);
  std::string line =
      absl::StrCat("rpc method=", method, " request_id=", call.request_id,
                   " actor=", call.actor.empty() ? "-" : absl::CHexEscape(call.actor),
                   " status=", absl::StatusCodeToString(status.code()),
                   " ms=", absl::StrFormat("%.1f", elapsed_ms));
  if (!status.ok() && LogsMessage(status.code())) {
    absl::StrAppend(&line, " error=\"", absl::CHexEscape(status.message()), "\"");
  }
  LogInfo(line);
  return result;
}

grpc::Status HandleCall(grpc::ServerContext* context, absl::string_view method,
                        const PrincipalSigner& signer, const AnswerStore& answers,
                        const google::protobuf::Message& request,
                        google::protobuf::Message* response,
                        const std::function<absl::Status(const CallContext&)>& body) {
  const absl::Time deadline = absl::FromChrono(context->deadline());
  return HandleCall(context, method, signer, [&](const CallContext& call) {
    return answers.Answer(method, call.actor, deadline, request, response,
                          [&] { return body(call); });
  });
}

ServiceServer::ServiceServer(ServerConfig config) : config_(std::move(config)) {}

ServiceServer::~ServiceServer() { Shutdown(); }

void ServiceServer::AddService(grpc::Service* service) { services_.push_back(service); }

absl::Status ServiceServer::Start() {
  if (server_ != nullptr) return absl::FailedPreconditionError("the server has already started");
  if (config_.metrics_port >= 0 && metrics_ == nullptr) {
    absl::StatusOr<std::unique_ptr<MetricsServer>> metrics =
        MetricsServer::Start(config_.host, config_.metrics_port);
    if (!metrics.ok()) return metrics.status();
    metrics_ = *std::move(metrics);
    if (!config_.metrics_port_file.empty()) {
      SHIDANG_RETURN_IF_ERROR(WritePortFile(config_.metrics_port_file, metrics_->port()));
    }
  }
  // Both must happen before the builder exists: the builder picks up plugins when constructed,
  // and Debian's link flags drop the reflection library unless it is referenced (TOOLCHAIN.md).
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  // The synchronous API: our handlers block on Redis, so each call gets a thread of its own, and
  // a burst waits its turn in CallAdmission, a few calls per Redis connection running at once. A
  // thread waiting there costs little (a mostly untouched stack), so max_threads is large: up to
  // it calls are served; past it CallAdmission refuses them with UNAVAILABLE. The quota leaves
  // room for gRPC's pollers and the health service, so that gRPC's own RESOURCE_EXHAUSTED never
  // comes first. (The callback API would need an executor of its own for the same blocking work,
  // and every handler rewritten.)
  call_limit.store(config_.max_threads);
  if (config_.redis.has_value()) {
    redis_budget_ms.store(absl::ToInt64Milliseconds(config_.redis->command_timeout));
    // Enough to keep every connection busy while the calls holding them are in C++.
    running_limit.store(kRunningCallsPerConnection * std::max(1, config_.redis->pool_size));
  }
  grpc::ResourceQuota quota(absl::StrCat("shidang-", config_.ListenAddress()));
  // Far above the limit: a call refused past it holds a thread too, briefly, and a flood of them
  // must meet CallAdmission's UNAVAILABLE, not gRPC's RESOURCE_EXHAUSTED (with max_threads=20 and
  // a quota 64 above it, 200 calls at once got 70 RESOURCE_EXHAUSTED under a loaded machine).
  quota.SetMaxThreads(config_.max_threads + kRefusalThreads);
  builder.SetResourceQuota(quota);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  int selected_port = 0;
  builder.AddListeningPort(config_.ListenAddress(), grpc::InsecureServerCredentials(),
                           &selected_port);
  for (grpc::Service* service : services_) {
    CheckRequestsOf(*service);
    builder.RegisterService(service);
  }
  std::vector<std::string> service_names;
  builder.SetOption(std::make_unique<ServiceNamesOption>(&service_names));
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || selected_port == 0) {
    server_.reset();
    return absl::UnavailableError(absl::StrCat("cannot listen on ", config_.ListenAddress()));
  }
  port_ = selected_port;
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  for (const std::string& name : service_names) {
    if (!absl::StartsWith(name, "grpc.")) health->SetServingStatus(name, true);
  }
  health->SetServingStatus(true);
  if (!config_.port_file.empty()) {
    absl::Status written = WritePortFile(config_.port_file, port_);
    if (!written.ok()) {
      Shutdown();
      return written;
    }
  }
  LogInfo("serving on ", config_.host, ":", port_, " max_threads=", config_.max_threads,
          " today=", config_.today.empty() ? "(Asia/Shanghai)" : config_.today,
          metrics_ == nullptr ? std::string()
                              : absl::StrCat(" metrics=", config_.host, ":", metrics_->port()));
  return absl::OkStatus();
}

absl::Status ServiceServer::Run() {
  // Also blocked here, in case main did not call InitServerProcess (then a signal may still reach
  // another thread and kill the process the default way).
  const sigset_t signals = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  if (server_ == nullptr) {
    absl::Status started = Start();
    if (!started.ok()) return started;
  }
  // Wakes every 100 ms to notice RequestShutdown; signals are taken here, synchronously, so no
  // work happens in a signal handler.
  const timespec tick = {0, 100L * 1000 * 1000};
  while (!shutdown_requested_.load()) {
    const int signal_number = sigtimedwait(&signals, nullptr, &tick);
    if (signal_number > 0) {
      LogInfo("received ", signal_number == SIGTERM ? "SIGTERM" : "SIGINT",
              "; shutting down within ", absl::ToInt64Milliseconds(config_.shutdown_grace), " ms");
      break;
    }
  }
  Shutdown();
  return absl::OkStatus();
}

void ServiceServer::SetServing(bool serving) {
  absl::MutexLock lock(&health_mu_);
  if (server_ == nullptr || draining_) return;
  server_->GetHealthCheckService()->SetServingStatus(serving);
}

void ServiceServer::Shutdown() {
  if (server_ == nullptr || stopped_) return;
  stopped_ = true;
  {
    absl::MutexLock lock(&health_mu_);
    draining_ = true;
    server_->GetHealthCheckService()->SetServingStatus(false);
  }
  const absl::Time deadline = absl::Now() + config_.shutdown_grace;
  // Shutdown stops new calls at once, but returns only when every connection is gone, and an
  // idle client may keep its connection for seconds (until its own poller sees the GOAWAY). So
  // once no call of ours is in flight, cancel what is left: that closes the connections.
  std::thread shutdown([this, deadline] { server_->Shutdown(absl::ToChronoTime(deadline)); });
  // Lets Shutdown begin first: cancelling is only meaningful after it.
  absl::SleepFor(std::min(absl::Milliseconds(50), config_.shutdown_grace));
  while (absl::Now() < deadline) {
    if (calls_in_flight.load() == 0) {
      grpc_server_cancel_all_calls(server_->c_server());
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  shutdown.join();
  server_->Wait();
  LogInfo("stopped");
}

}  // namespace shidang
