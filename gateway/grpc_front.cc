#include "gateway/grpc_front.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "gateway/proxy.h"
#include "gateway/reflection.h"
#include "services/common/log.h"
#include "services/common/principal.h"
#include "services/common/status.h"

namespace shidang::gateway {
namespace {

namespace asio = boost::asio;
using Socket = asio::generic::stream_protocol::socket;
using Endpoint = asio::generic::stream_protocol::endpoint;
using Clock = std::chrono::steady_clock;

constexpr int kMaxAttempts = 3;
constexpr size_t kReadBufferBytes = 64 * 1024;
// Windows the gateway grants each side. Bytes are given back (WINDOW_UPDATE) only once the other
// side has taken them, so a slow reader holds back its writer and the gateway buffers at most this.
constexpr int32_t kStreamWindow = 1 << 20;
constexpr int32_t kConnectionWindow = 16 << 20;
constexpr uint32_t kMaxConcurrentStreams = 4096;
constexpr auto kFirstBackoff = std::chrono::milliseconds(50);
// How long an access log line may wait to be written with others.
constexpr auto kLogDelay = std::chrono::milliseconds(20);
constexpr absl::string_view kUnmatched = "unmatched";  // the metrics label of no public method

struct Header {
  std::string name;
  std::string value;
};
using Headers = std::vector<Header>;

absl::string_view View(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

nghttp2_nv Nv(absl::string_view name, absl::string_view value) {
  return nghttp2_nv{const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(name.data())),
                    const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(value.data())),
                    name.size(), value.size(), NGHTTP2_NV_FLAG_NONE};
}

// grpc-message is percent-encoded: bytes outside printable ASCII, and '%' itself.
std::string PercentEncode(absl::string_view message) {
  std::string out;
  out.reserve(message.size());
  for (char c : message) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e || u == '%') {
      absl::StrAppend(&out, absl::StrFormat("%%%02X", u));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// "<1..8 digits><H|M|S|m|u|n>", the gRPC wire format of a timeout.
std::optional<Clock::duration> ParseGrpcTimeout(absl::string_view value) {
  if (value.size() < 2 || value.size() > 9) return std::nullopt;
  int64_t amount = 0;
  if (!absl::SimpleAtoi(value.substr(0, value.size() - 1), &amount) || amount < 0) {
    return std::nullopt;
  }
  switch (value.back()) {
    case 'H': return std::chrono::hours(amount);
    case 'M': return std::chrono::minutes(amount);
    case 'S': return std::chrono::seconds(amount);
    case 'm': return std::chrono::milliseconds(amount);
    case 'u': return std::chrono::microseconds(amount);
    case 'n': return std::chrono::nanoseconds(amount);
    default: return std::nullopt;
  }
}

std::string FormatGrpcTimeout(Clock::duration left) {
  const int64_t us = std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::microseconds>(left).count());
  if (us < 100000000) return absl::StrCat(us, "u");
  const int64_t ms = us / 1000;
  if (ms < 100000000) return absl::StrCat(ms, "m");
  return absl::StrCat(std::min<int64_t>(ms / 1000, 99999999), "S");
}

// 0..16 for a gRPC code; what is not one counts as UNKNOWN (2).
int CodeIndex(int code) { return code < 0 || code > 16 ? 2 : code; }

absl::string_view CodeName(int code) {
  static const auto* const names = [] {
    auto* all = new std::array<std::string, 17>;
    for (int i = 0; i < 17; ++i) {
      (*all)[i] = absl::StatusCodeToString(static_cast<absl::StatusCode>(i));
    }
    return all;
  }();
  return (*names)[CodeIndex(code)];
}

int GrpcStatusOf(const Headers& headers) {
  for (const Header& header : headers) {
    if (header.name == "grpc-status") {
      int code = -1;
      return absl::SimpleAtoi(header.value, &code) ? code : -1;
    }
  }
  return -1;
}

// Paths the in-process server answers that get a metrics label of their own; anything else that
// is not a public method is "unmatched", so label values stay bounded.
bool IsLocalPath(absl::string_view path) {
  return absl::StartsWith(path, "/grpc.health.v1.Health/") || path == kReflectionMethodPath;
}

void SetNoDelay(Socket& socket) {
  boost::system::error_code error;
  const int family = socket.local_endpoint(error).protocol().family();
  if (error) return;
  if (family != AF_INET && family != AF_INET6) return;
  int one = 1;
  setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

}  // namespace

class Connection;
class ServerConnection;
class ClientConnection;
struct BackendPool;

// One call: a client stream, and the backend stream it is forwarded on (none while refused,
// waiting for DNS or between attempts). Owned by its ServerConnection until the client stream
// closes; timers hold it weakly.
struct Call : public std::enable_shared_from_this<Call> {
  ServerConnection* conn = nullptr;
  int32_t stream_id = 0;
  Clock::time_point start;
  // The request headers the gateway reads; nothing else the client sent is kept.
  std::string path;
  std::string authorization;
  std::string timeout;
  std::string client_request_id;
  std::string traceparent;
  std::string content_type;
  std::string grpc_encoding;
  std::string grpc_accept_encoding;
  std::string user_agent;

  std::string request_id;
  std::string metric_method;
  const MethodInfo* method = nullptr;
  BackendPool* pool = nullptr;
  std::shared_ptr<const Caller> caller;
  bool admitted = false;
  Clock::time_point deadline;
  // Its entry in Impl::deadlines_ while admitted and open (end() otherwise).
  std::multimap<Clock::time_point, Call*>::iterator deadline_entry;
  bool has_deadline_entry = false;
  std::unique_ptr<asio::steady_timer> retry_timer;
  bool waiting = false;  // in pool->waiting for DNS

  // Request bytes from the client. `request` holds [request_base, received); the backend stream
  // has taken up to request_sent; the client's window was given back up to request_consumed.
  std::string request;
  uint64_t request_base = 0;
  uint64_t request_sent = 0;
  uint64_t request_consumed = 0;
  bool request_ended = false;
  // Kept from byte 0 for a retry until the response headers arrive.
  bool keep_request = true;

  std::shared_ptr<ClientConnection> backend;
  int32_t backend_stream = 0;
  int attempts = 0;

  Headers response_headers;
  bool response_started = false;
  std::string response;  // backend DATA not yet sent to the client, from response_sent
  size_t response_sent = 0;
  uint64_t response_unconsumed = 0;  // received from the backend, window not yet given back
  Headers trailers;
  bool have_trailers = false;
  // The final answer (status, RST or trailers) is decided; `code` is what the log says.
  bool finished = false;
  int code = -1;

  uint64_t received() const { return request_base + request.size(); }
};

// One replica address of a backend and its pooled connections.
struct Replica {
  Endpoint endpoint;
  std::string address;  // host:port or the socket path, for :authority and the log
  std::vector<std::shared_ptr<ClientConnection>> conns;
  size_t next_conn = 0;
  Clock::time_point retry_after;
  int failures = 0;
};

struct BackendPool {
  std::string service;
  std::string target;
  std::vector<std::unique_ptr<Replica>> replicas;
  size_t next_replica = 0;
  bool internal = false;
  // dns:///host:port targets are resolved on the loop and refreshed every dns_refresh.
  bool dns = false;
  std::string dns_host;
  std::string dns_port;
  bool resolving = false;
  Clock::time_point resolved_at;
  std::unique_ptr<asio::ip::tcp::resolver> resolver;
  std::vector<Call*> waiting;
};

class GrpcFront::Impl {
 public:
  Impl(GrpcFrontOptions options, GrpcFrontDependencies deps);
  ~Impl();

  absl::Status Init();
  int port() const { return port_; }
  void Shutdown(absl::Duration grace);

  asio::io_context& io() { return io_; }
  const GrpcFrontOptions& options() const { return options_; }
  nghttp2_session_callbacks* server_callbacks() const { return server_callbacks_; }
  nghttp2_session_callbacks* client_callbacks() const { return client_callbacks_; }
  nghttp2_option* session_option() const { return session_option_; }

  // Server side events.
  void Admit(Call& call);
  void OnRequestProgress(Call& call);
  void OnClientStreamClosed(Call& call);
  void RemoveServerConnection(ServerConnection* conn);

  // Backend side events.
  void OnBackendResponseHeaders(Call& call);
  void OnBackendTrailersOnly(Call& call);
  void OnBackendTrailers(Call& call);
  void OnBackendStreamClosed(Call& call, uint32_t error_code);
  void OnBackendLost(Call& call, bool reached);
  void OnConnectFailed(Replica* replica);

 private:
  void Accept();
  absl::Status AddPool(const std::string& service, const std::string& target, bool internal);
  BackendPool* FindPool(absl::string_view service);
  void Refuse(Call& call, const grpc::Status& status, Headers extra = {});
  void Forward(Call& call, BackendPool* pool);
  void Dispatch(Call& call);
  ClientConnection* PickConnection(BackendPool& pool);
  void Resolve(BackendPool& pool);
  bool Retryable(const Call& call, bool never_reached) const;
  void ScheduleRetry(Call& call, Clock::duration delay);
  void Detach(Call& call);
  void FinishWithStatus(Call& call, grpc::StatusCode code, absl::string_view message);
  void SubmitTrailersOnly(Call& call, const Headers& headers);
  void ResetClientStream(Call& call, uint32_t error_code);
  void AppendAccessLog(const Call& call, double seconds);
  void FlushAccessLog();
  void TrackDeadline(Call& call);
  void ForgetDeadline(Call& call);
  void ArmDeadlineTimer();
  void OnDeadlineTimer();
  void RunLoop();

  const GrpcFrontOptions options_;
  const GrpcFrontDependencies deps_;
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::ip::tcp::acceptor acceptor_;
  nghttp2_session_callbacks* server_callbacks_ = nullptr;
  nghttp2_session_callbacks* client_callbacks_ = nullptr;
  nghttp2_option* session_option_ = nullptr;
  int port_ = 0;

  std::map<std::string, std::unique_ptr<BackendPool>, std::less<>> pools_;
  std::unique_ptr<BackendPool> internal_pool_;
  std::set<std::shared_ptr<ServerConnection>> server_conns_;
  uint64_t next_connection_id_ = 0;

  // Every open call's deadline, earliest first, and one timer for the earliest. The timer is
  // re-armed only when a call's deadline is earlier than the one it is set for, and left as it is
  // when a call ends (it then fires early and re-arms): with most calls ending well before their
  // deadlines, this is no timer system call per call (a timer per call cost one or two).
  std::multimap<Clock::time_point, Call*> deadlines_;
  asio::steady_timer deadline_timer_{io_};
  std::optional<Clock::time_point> deadline_armed_;

  // The metric series of each (method label, code), found once (loop thread only; the labels
  // are bounded: public methods, health, reflection, "unmatched").
  absl::flat_hash_map<std::string, std::array<GatewayMetrics::CallSeries, 17>> call_series_;

  // Access log lines not yet written; written by log_timer_ at most kLogDelay after the first.
  std::string log_buffer_;
  asio::steady_timer log_timer_{io_};
  int64_t log_second_ = -1;
  std::string log_second_text_;

  bool draining_ = false;
  absl::Notification drained_;
  absl::Notification loop_done_;
  std::thread thread_;
  bool stopped_ = false;
};

// ---------------------------------------------------------------------------------------------
// Connections: one nghttp2 session over one socket. Reads are fed to the session as they come;
// whatever the session has to send is written in one write per round (frames queued while a write
// is in flight leave with the next one).

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(GrpcFront::Impl* front, Socket socket)
      : front_(front), socket_(std::move(socket)), in_(new uint8_t[kReadBufferBytes]) {}
  virtual ~Connection() {
    if (session_ != nullptr) nghttp2_session_del(session_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  nghttp2_session* session() const { return session_; }
  bool closed() const { return closed_; }
  GrpcFront::Impl* front() const { return front_; }

  // Writes what the session has to send after the handlers already queued have run, so frames of
  // several streams leave together.
  void ScheduleFlush() {
    if (flush_posted_ || closed_) return;
    flush_posted_ = true;
    asio::post(front_->io(), [self = shared_from_this()] {
      self->flush_posted_ = false;
      self->Flush();
    });
  }

  void Flush() {
    if (closed_ || writing_ || !ready_) return;
    while (true) {
      const uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) {
        Close();
        return;
      }
      if (n == 0) break;
      out_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    if (out_.empty()) {
      if (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0) {
        Close();
      } else {
        OnIdle();
      }
      return;
    }
    writing_ = true;
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](const boost::system::error_code& error, size_t) {
                        self->writing_ = false;
                        self->out_.clear();
                        if (self->closed_) return;
                        if (error) {
                          self->Close();
                          return;
                        }
                        self->Flush();
                      });
  }

  void Close() {
    if (closed_) return;
    auto keep = shared_from_this();
    closed_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
    OnClose();
  }

 protected:
  void StartReading() {
    socket_.async_read_some(
        asio::buffer(in_.get(), kReadBufferBytes),
        [self = shared_from_this()](const boost::system::error_code& error, size_t n) {
          if (self->closed_) return;
          if (error) {
            self->Close();
            return;
          }
          const ssize_t consumed = nghttp2_session_mem_recv(self->session_, self->in_.get(), n);
          if (consumed < 0) {
            self->OnProtocolError(nghttp2_strerror(static_cast<int>(consumed)));
            self->Close();
            return;
          }
          self->Flush();
          if (!self->closed_) self->StartReading();
        });
  }

  // Nothing to write: a draining connection with nothing left closes here.
  virtual void OnIdle() {}
  // The peer sent what the session cannot take (nghttp2's reason); the connection closes next.
  virtual void OnProtocolError(const char* /*reason*/) {}
  // The socket is closed: end every stream.
  virtual void OnClose() = 0;

  GrpcFront::Impl* const front_;
  Socket socket_;
  nghttp2_session* session_ = nullptr;
  std::unique_ptr<uint8_t[]> in_;
  std::string out_;
  bool ready_ = false;  // connected (a client connection writes only then)
  bool writing_ = false;
  bool flush_posted_ = false;
  bool closed_ = false;
};

// A client of the gateway.
class ServerConnection : public Connection {
 public:
  ServerConnection(GrpcFront::Impl* front, Socket socket) : Connection(front, std::move(socket)) {}

  void Start() {
    nghttp2_session_server_new2(&session_, front_->server_callbacks(), this,
                                front_->session_option());
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, kMaxConcurrentStreams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kStreamWindow)},
    };
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 2);
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
    SetNoDelay(socket_);
    ready_ = true;
    StartReading();
    Flush();
  }

  // Graceful shutdown: streams already begun go on; new ones are refused.
  void Goaway() {
    if (closed_) return;
    draining_ = true;
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                          nullptr, 0);
    Flush();
  }

  Call* FindCall(int32_t stream_id) {
    return static_cast<Call*>(nghttp2_session_get_stream_user_data(session_, stream_id));
  }

  absl::flat_hash_map<int32_t, std::shared_ptr<Call>> calls;

 private:
  void OnIdle() override {
    if (draining_ && calls.empty()) Close();
  }
  void OnClose() override {
    auto remaining = std::move(calls);
    calls.clear();
    for (auto& [id, call] : remaining) front_->OnClientStreamClosed(*call);
    front_->RemoveServerConnection(this);
  }

  bool draining_ = false;
};

// One pooled HTTP/2 connection to a backend replica.
class ClientConnection : public Connection {
 public:
  ClientConnection(GrpcFront::Impl* front, Socket socket, BackendPool* pool, Replica* replica,
                   uint64_t id)
      : Connection(front, std::move(socket)),
        pool_(pool),
        replica_(replica),
        id_(id),
        ping_timer_(front->io()) {}

  void Start(const Endpoint& endpoint) {
    nghttp2_session_client_new2(&session_, front_->client_callbacks(), this,
                                front_->session_option());
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kStreamWindow)},
    };
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 2);
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
    socket_.async_connect(endpoint, [self = Self()](const boost::system::error_code& error) {
      if (self->closed_) return;
      if (error) {
        self->front_->OnConnectFailed(self->replica_);
        self->Close();
        return;
      }
      SetNoDelay(self->socket_);
      self->ready_ = true;
      self->reached_ = true;
      if (self->replica_ != nullptr) {
        self->replica_->failures = 0;
        LogInfo("gateway: backend connection ", self->id_, " to ", self->pool_->service, " at ",
                self->replica_->address, " open");
      }
      self->StartReading();
      self->Flush();
      self->ArmKeepalive(self->front_->options().keepalive_time);
    });
  }

  bool usable() const { return !closed_ && !draining_; }
  size_t active() const { return streams.size(); }

  // Opens the call's backend stream. False when the session takes no more streams.
  bool Submit(Call& call, absl::string_view authority) {
    const std::string timeout = FormatGrpcTimeout(call.deadline - Clock::now());
    std::vector<nghttp2_nv> nva;
    nva.reserve(14);
    nva.push_back(Nv(":method", "POST"));
    nva.push_back(Nv(":scheme", "http"));
    nva.push_back(Nv(":path", call.path));
    nva.push_back(Nv(":authority", authority));
    const absl::string_view content_type = call.content_type.empty()
                                               ? absl::string_view("application/grpc")
                                               : absl::string_view(call.content_type);
    nva.push_back(Nv("content-type", content_type));
    nva.push_back(Nv("te", "trailers"));
    nva.push_back(Nv("grpc-timeout", timeout));
    if (!call.grpc_encoding.empty()) nva.push_back(Nv("grpc-encoding", call.grpc_encoding));
    if (!call.grpc_accept_encoding.empty()) {
      nva.push_back(Nv("grpc-accept-encoding", call.grpc_accept_encoding));
    }
    if (!call.user_agent.empty()) nva.push_back(Nv("user-agent", call.user_agent));
    nva.push_back(Nv(kRequestIdKey, call.request_id));
    if (!call.traceparent.empty()) nva.push_back(Nv(kTraceparentKey, call.traceparent));
    if (call.caller != nullptr) {
      nva.push_back(Nv(kPrincipalMetadataKey, call.caller->principal_bin_base64));
      nva.push_back(Nv(kPrincipalSignatureMetadataKey, call.caller->principal_sig));
    }
    nghttp2_data_provider provider;
    provider.source.ptr = nullptr;
    provider.read_callback = &ReadRequest;
    const int32_t id =
        nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), &provider, &call);
    if (id < 0) {
      draining_ = true;
      return false;
    }
    call.backend = Self();
    call.backend_stream = id;
    streams.emplace(id, &call);
    ScheduleFlush();
    return true;
  }

  // Forgets the call's stream (after the call is answered another way): reset it and give its
  // unread bytes back to the connection window.
  void Forget(Call& call) {
    streams.erase(call.backend_stream);
    if (closed_) return;
    nghttp2_session_set_stream_user_data(session_, call.backend_stream, nullptr);
    if (call.response_unconsumed > 0) {
      nghttp2_session_consume_connection(session_, call.response_unconsumed);
      call.response_unconsumed = 0;
    }
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, call.backend_stream, NGHTTP2_CANCEL);
    ScheduleFlush();
  }

  void Drain() {
    draining_ = true;
    replica_ = nullptr;
    if (streams.empty()) Close();
  }

  void OnGoaway() { draining_ = true; }
  void OnPingAck() { ping_outstanding_ = false; }
  Replica* replica() const { return replica_; }

  static ssize_t ReadRequest(nghttp2_session* session, int32_t stream_id, uint8_t* buf,
                             size_t length, uint32_t* data_flags, nghttp2_data_source*,
                             void*);

  absl::flat_hash_map<int32_t, Call*> streams;

 private:
  std::shared_ptr<ClientConnection> Self() {
    return std::static_pointer_cast<ClientConnection>(shared_from_this());
  }

  // PINGs only while streams are open (what gRPC's own channel did: an idle connection that pings
  // is refused by servers with their default policy); a PING unanswered for keepalive_timeout
  // closes the connection, and its calls fail over like any lost connection.
  void ArmKeepalive(absl::Duration after) {
    ping_timer_.expires_after(absl::ToChronoNanoseconds(after));
    ping_timer_.async_wait([weak = std::weak_ptr<ClientConnection>(Self())](
                               const boost::system::error_code& error) {
      auto self = weak.lock();
      if (error || self == nullptr || self->closed_) return;
      const GrpcFrontOptions& options = self->front_->options();
      if (self->ping_outstanding_) {
        LogWarning("gateway: backend connection ", self->id_, " to ", self->pool_->service,
                   " did not answer a keepalive PING; closing it");
        self->Close();
        return;
      }
      if (!self->streams.empty()) {
        nghttp2_submit_ping(self->session_, NGHTTP2_FLAG_NONE, nullptr);
        self->ping_outstanding_ = true;
        self->Flush();
        self->ArmKeepalive(options.keepalive_timeout);
        return;
      }
      self->ArmKeepalive(options.keepalive_time);
    });
  }

  void OnIdle() override {
    if (draining_ && streams.empty()) Close();
  }
  void OnProtocolError(const char* reason) override {
    LogWarning("gateway: backend connection ", id_, " to ", pool_->service,
               " closed on a protocol error: ", reason);
  }

  void OnClose() override {
    boost::system::error_code ignored;
    ping_timer_.cancel();
    if (replica_ != nullptr) {
      auto& conns = replica_->conns;
      for (auto it = conns.begin(); it != conns.end(); ++it) {
        if (it->get() == this) {
          conns.erase(it);
          break;
        }
      }
    }
    auto remaining = std::move(streams);
    streams.clear();
    for (auto& [id, call] : remaining) {
      call->backend.reset();
      call->response_unconsumed = 0;
      front_->OnBackendLost(*call, reached_);
    }
  }

  BackendPool* const pool_;
  Replica* replica_;
  const uint64_t id_;
  asio::steady_timer ping_timer_;
  bool draining_ = false;
  bool reached_ = false;
  bool ping_outstanding_ = false;
};

namespace {

// --- nghttp2 callbacks of the client-facing sessions -------------------------------------------

int ServerOnBeginHeaders(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  auto* conn = static_cast<ServerConnection*>(user_data);
  auto call = std::make_shared<Call>();
  call->conn = conn;
  call->stream_id = frame->hd.stream_id;
  call->start = Clock::now();
  nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, call.get());
  conn->calls.emplace(frame->hd.stream_id, std::move(call));
  return 0;
}

int ServerOnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                   size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                   void* user_data) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  Call* call = static_cast<ServerConnection*>(user_data)->FindCall(frame->hd.stream_id);
  if (call == nullptr) return 0;
  const absl::string_view key = View(name, namelen);
  std::string* slot = nullptr;
  if (key == ":path") {
    slot = &call->path;
  } else if (key == "authorization") {
    slot = &call->authorization;
  } else if (key == "grpc-timeout") {
    slot = &call->timeout;
  } else if (key == kRequestIdKey) {
    slot = &call->client_request_id;
  } else if (key == kTraceparentKey) {
    slot = &call->traceparent;
  } else if (key == "content-type") {
    slot = &call->content_type;
  } else if (key == "grpc-encoding") {
    slot = &call->grpc_encoding;
  } else if (key == "grpc-accept-encoding") {
    slot = &call->grpc_accept_encoding;
  } else if (key == "user-agent") {
    slot = &call->user_agent;
  }
  // The first value wins, as GrpcProxy's ClientValue did.
  if (slot != nullptr && slot->empty()) slot->assign(reinterpret_cast<const char*>(value), valuelen);
  return 0;
}

int ServerOnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  auto* conn = static_cast<ServerConnection*>(user_data);
  if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
  Call* call = conn->FindCall(frame->hd.stream_id);
  if (call == nullptr) return 0;
  const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (end) call->request_ended = true;
  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    conn->front()->Admit(*call);
  } else if (end) {
    conn->front()->OnRequestProgress(*call);
  }
  return 0;
}

int ServerOnDataChunk(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data,
                      size_t len, void* user_data) {
  auto* conn = static_cast<ServerConnection*>(user_data);
  Call* call = conn->FindCall(stream_id);
  if (call == nullptr || !call->admitted || call->finished) {
    nghttp2_session_consume(session, stream_id, len);
    return 0;
  }
  call->request.append(reinterpret_cast<const char*>(data), len);
  conn->front()->OnRequestProgress(*call);
  return 0;
}

int ServerOnFrameSend(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
  if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) return 0;
  if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
  Call* call = static_cast<ServerConnection*>(user_data)->FindCall(frame->hd.stream_id);
  // Answered before the client finished sending: as gRPC servers do, end its half too.
  if (call != nullptr && !call->request_ended) {
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR);
  }
  return 0;
}

// A response or trailers nghttp2 could not send (too large, say): reset the stream rather than
// leave the client waiting for its deadline.
int ServerOnFrameNotSend(nghttp2_session* session, const nghttp2_frame* frame, int error,
                         void*) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  LogWarning("gateway: could not send headers on stream ", frame->hd.stream_id, ": ",
             nghttp2_strerror(error));
  nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                            NGHTTP2_INTERNAL_ERROR);
  return 0;
}

int ServerOnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t, void* user_data) {
  auto* conn = static_cast<ServerConnection*>(user_data);
  auto it = conn->calls.find(stream_id);
  if (it == conn->calls.end()) return 0;
  std::shared_ptr<Call> call = std::move(it->second);
  conn->calls.erase(it);
  conn->front()->OnClientStreamClosed(*call);
  return 0;
}

// The response body to the client: what the backend sent, then its trailers.
ssize_t ReadResponse(nghttp2_session* session, int32_t stream_id, uint8_t* buf, size_t length,
                     uint32_t* data_flags, nghttp2_data_source*, void*) {
  auto* call = static_cast<Call*>(nghttp2_session_get_stream_user_data(session, stream_id));
  if (call == nullptr) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return 0;
  }
  const size_t n = std::min(length, call->response.size() - call->response_sent);
  if (n > 0) {
    std::memcpy(buf, call->response.data() + call->response_sent, n);
    call->response_sent += n;
    if (call->response_sent == call->response.size()) {
      call->response.clear();
      call->response_sent = 0;
    }
    // Give the backend its window back now that the client has the bytes.
    const uint64_t back = std::min<uint64_t>(n, call->response_unconsumed);
    if (back > 0 && call->backend != nullptr && !call->backend->closed()) {
      nghttp2_session_consume(call->backend->session(), call->backend_stream, back);
      call->response_unconsumed -= back;
      call->backend->ScheduleFlush();
    }
  }
  if (call->response.empty() && call->have_trailers) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!call->trailers.empty()) {
      *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      std::vector<nghttp2_nv> nva;
      nva.reserve(call->trailers.size());
      for (const Header& h : call->trailers) nva.push_back(Nv(h.name, h.value));
      nghttp2_submit_trailer(session, stream_id, nva.data(), nva.size());
    }
    return static_cast<ssize_t>(n);
  }
  if (n == 0) return NGHTTP2_ERR_DEFERRED;
  return static_cast<ssize_t>(n);
}

// --- nghttp2 callbacks of the backend sessions -------------------------------------------------

Call* BackendCall(nghttp2_session* session, int32_t stream_id) {
  return static_cast<Call*>(nghttp2_session_get_stream_user_data(session, stream_id));
}

int ClientOnHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                   size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void*) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  Call* call = BackendCall(session, frame->hd.stream_id);
  if (call == nullptr) return 0;
  const absl::string_view key = View(name, namelen);
  if (key == kRequestIdKey) return 0;  // ours goes back instead (the same id)
  Headers& into =
      frame->headers.cat == NGHTTP2_HCAT_RESPONSE ? call->response_headers : call->trailers;
  into.push_back(Header{std::string(key), std::string(View(value, valuelen))});
  return 0;
}

int ClientOnFrameRecv(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
  auto* conn = static_cast<ClientConnection*>(user_data);
  switch (frame->hd.type) {
    case NGHTTP2_GOAWAY:
      conn->OnGoaway();
      return 0;
    case NGHTTP2_PING:
      if ((frame->hd.flags & NGHTTP2_FLAG_ACK) != 0) conn->OnPingAck();
      return 0;
    case NGHTTP2_HEADERS:
      break;
    default:
      return 0;
  }
  Call* call = BackendCall(session, frame->hd.stream_id);
  if (call == nullptr) return 0;
  const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (frame->headers.cat == NGHTTP2_HCAT_RESPONSE) {
    if (end) {
      conn->front()->OnBackendTrailersOnly(*call);
    } else {
      conn->front()->OnBackendResponseHeaders(*call);
    }
  } else if (end) {
    conn->front()->OnBackendTrailers(*call);
  }
  return 0;
}

int ClientOnDataChunk(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data,
                      size_t len, void*) {
  Call* call = BackendCall(session, stream_id);
  if (call == nullptr || call->finished || !call->response_started) {
    nghttp2_session_consume(session, stream_id, len);
    return 0;
  }
  call->response.append(reinterpret_cast<const char*>(data), len);
  call->response_unconsumed += len;
  nghttp2_session* client_side = call->conn->session();
  nghttp2_session_resume_data(client_side, call->stream_id);
  call->conn->ScheduleFlush();
  return 0;
}

int ClientOnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                        void* user_data) {
  auto* conn = static_cast<ClientConnection*>(user_data);
  auto it = conn->streams.find(stream_id);
  if (it == conn->streams.end()) return 0;
  Call* call = it->second;
  conn->streams.erase(it);
  conn->front()->OnBackendStreamClosed(*call, error_code);
  return 0;
}

}  // namespace

// The request body to the backend: what the client has sent so far, then END_STREAM once it ended.
ssize_t ClientConnection::ReadRequest(nghttp2_session* session, int32_t stream_id, uint8_t* buf,
                                      size_t length, uint32_t* data_flags, nghttp2_data_source*,
                                      void*) {
  Call* call = BackendCall(session, stream_id);
  if (call == nullptr) return NGHTTP2_ERR_DEFERRED;  // forgotten; its RST_STREAM is queued
  const size_t n = static_cast<size_t>(std::min<uint64_t>(length, call->received() - call->request_sent));
  if (n > 0) {
    std::memcpy(buf, call->request.data() + (call->request_sent - call->request_base), n);
    call->request_sent += n;
    // The backend has the bytes: the client may send as many more.
    if (call->request_sent > call->request_consumed) {
      nghttp2_session_consume(call->conn->session(), call->stream_id,
                              call->request_sent - call->request_consumed);
      call->request_consumed = call->request_sent;
      call->conn->ScheduleFlush();
    }
    if (!call->keep_request && call->request_sent == call->received()) {
      call->request_base = call->request_sent;
      call->request.clear();
    }
  }
  if (call->request_ended && call->request_sent == call->received()) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  if (n == 0) return NGHTTP2_ERR_DEFERRED;
  return static_cast<ssize_t>(n);
}

// ---------------------------------------------------------------------------------------------

GrpcFront::Impl::Impl(GrpcFrontOptions options, GrpcFrontDependencies deps)
    : options_(std::move(options)),
      deps_(deps),
      work_(asio::make_work_guard(io_)),
      acceptor_(io_) {
  nghttp2_session_callbacks_new(&server_callbacks_);
  nghttp2_session_callbacks_set_on_begin_headers_callback(server_callbacks_, ServerOnBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(server_callbacks_, ServerOnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(server_callbacks_, ServerOnFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(server_callbacks_, ServerOnDataChunk);
  nghttp2_session_callbacks_set_on_frame_send_callback(server_callbacks_, ServerOnFrameSend);
  nghttp2_session_callbacks_set_on_stream_close_callback(server_callbacks_, ServerOnStreamClose);
  nghttp2_session_callbacks_set_on_frame_not_send_callback(server_callbacks_, ServerOnFrameNotSend);

  nghttp2_session_callbacks_new(&client_callbacks_);
  nghttp2_session_callbacks_set_on_header_callback(client_callbacks_, ClientOnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(client_callbacks_, ClientOnFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(client_callbacks_, ClientOnDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(client_callbacks_, ClientOnStreamClose);

  nghttp2_option_new(&session_option_);
  // Windows are given back by hand, when the other side has taken the bytes (flow control
  // end to end rather than an unbounded buffer in the gateway).
  nghttp2_option_set_no_auto_window_update(session_option_, 1);
  // Metadata as large as a message may pass (error details naming hundreds of rows); nghttp2's
  // default send limit is 64 KiB per header block. (Its HPACK decoder still refuses one field over
  // 64 KiB, which ends the connection: what no gRPC client with default limits would take anyway.)
  nghttp2_option_set_max_send_header_block_length(
      session_option_, static_cast<size_t>(std::max(options_.max_message_bytes, 64 << 10)));
}

GrpcFront::Impl::~Impl() {
  Shutdown(absl::ZeroDuration());
  server_conns_.clear();
  pools_.clear();
  internal_pool_.reset();
  nghttp2_session_callbacks_del(server_callbacks_);
  nghttp2_session_callbacks_del(client_callbacks_);
  nghttp2_option_del(session_option_);
}

absl::Status GrpcFront::Impl::Init() {
  for (const auto& backend : deps_.backends->all()) {
    absl::Status added = AddPool(backend->service, backend->target, /*internal=*/false);
    if (!added.ok()) return added;
  }
  absl::Status internal =
      AddPool("gateway", absl::StrCat("ipv4:", options_.internal_address), /*internal=*/true);
  if (!internal.ok()) return internal;

  boost::system::error_code error;
  asio::ip::address address = asio::ip::make_address(options_.host, error);
  if (error) {
    asio::ip::tcp::resolver resolver(io_);
    auto results = resolver.resolve(options_.host, "", error);
    if (error || results.empty()) {
      return absl::UnavailableError(absl::StrCat("cannot resolve --host ", options_.host));
    }
    address = results.begin()->endpoint().address();
  }
  const asio::ip::tcp::endpoint endpoint(address, static_cast<uint16_t>(options_.port));
  acceptor_.open(endpoint.protocol(), error);
  if (!error) acceptor_.set_option(asio::socket_base::reuse_address(true), error);
  if (!error) acceptor_.bind(endpoint, error);
  if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.host, ":", options_.port, ": ", error.message()));
  }
  port_ = acceptor_.local_endpoint().port();
  Accept();
  thread_ = std::thread([this] {
    RunLoop();
    loop_done_.Notify();
  });
  return absl::OkStatus();
}

absl::Status GrpcFront::Impl::AddPool(const std::string& service, const std::string& target,
                                      bool internal) {
  auto pool = std::make_unique<BackendPool>();
  pool->service = service;
  pool->target = target;
  pool->internal = internal;
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("--backends: ", service, ": target ", target, " ", why));
  };
  auto add_tcp = [&](absl::string_view address) -> bool {
    const size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos) return false;
    absl::string_view host = address.substr(0, colon);
    int port = 0;
    if (!absl::SimpleAtoi(address.substr(colon + 1), &port) || port <= 0 || port > 65535) {
      return false;
    }
    if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
      host = host.substr(1, host.size() - 2);
    }
    boost::system::error_code error;
    const asio::ip::address ip = asio::ip::make_address(std::string(host), error);
    if (error) return false;
    auto replica = std::make_unique<Replica>();
    replica->endpoint = Endpoint(asio::ip::tcp::endpoint(ip, static_cast<uint16_t>(port)));
    replica->address = std::string(address);
    pool->replicas.push_back(std::move(replica));
    return true;
  };
  absl::string_view rest = target;
  if (absl::ConsumePrefix(&rest, "ipv4:") || absl::ConsumePrefix(&rest, "ipv6:")) {
    for (absl::string_view address : absl::StrSplit(rest, ',', absl::SkipEmpty())) {
      if (!add_tcp(address)) return bad(absl::StrCat("has a bad address ", address));
    }
  } else if (absl::ConsumePrefix(&rest, "dns:")) {
    if (absl::ConsumePrefix(&rest, "//")) {
      const size_t slash = rest.find('/');  // dns://<dns server>/host:port: the server is ignored
      if (slash == absl::string_view::npos) return bad("is not dns:///host:port");
      rest = rest.substr(slash + 1);
    }
    const size_t colon = rest.rfind(':');
    if (colon == absl::string_view::npos || colon == 0) return bad("is not dns:///host:port");
    pool->dns = true;
    pool->dns_host = std::string(rest.substr(0, colon));
    pool->dns_port = std::string(rest.substr(colon + 1));
    pool->resolver = std::make_unique<asio::ip::tcp::resolver>(io_);
  } else if (absl::ConsumePrefix(&rest, "unix-abstract:")) {
    auto replica = std::make_unique<Replica>();
    replica->endpoint = Endpoint(asio::local::stream_protocol::endpoint(
        std::string(1, '\0') + std::string(rest)));
    replica->address = "localhost";
    pool->replicas.push_back(std::move(replica));
  } else if (absl::ConsumePrefix(&rest, "unix:")) {
    if (absl::StartsWith(rest, "//")) rest.remove_prefix(2);
    auto replica = std::make_unique<Replica>();
    replica->endpoint = Endpoint(asio::local::stream_protocol::endpoint(std::string(rest)));
    replica->address = "localhost";
    pool->replicas.push_back(std::move(replica));
  } else {
    return bad("has no scheme the gateway knows (ipv4:, ipv6:, dns:, unix:)");
  }
  if (internal) {
    internal_pool_ = std::move(pool);
  } else {
    pools_.emplace(service, std::move(pool));
  }
  return absl::OkStatus();
}

BackendPool* GrpcFront::Impl::FindPool(absl::string_view service) {
  auto it = pools_.find(service);
  return it == pools_.end() ? nullptr : it->second.get();
}

void GrpcFront::Impl::Accept() {
  auto socket = std::make_shared<Socket>(io_);
  acceptor_.async_accept(*socket, [this, socket](const boost::system::error_code& error) {
    if (error == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!error) {
      auto conn = std::make_shared<ServerConnection>(this, std::move(*socket));
      server_conns_.insert(conn);
      conn->Start();
    }
    Accept();
  });
}

void GrpcFront::Impl::RemoveServerConnection(ServerConnection* conn) {
  for (auto it = server_conns_.begin(); it != server_conns_.end(); ++it) {
    if (it->get() == conn) {
      server_conns_.erase(it);
      break;
    }
  }
  if (draining_ && server_conns_.empty()) drained_.Notify();
}

// GrpcProxy::Call::Admit, on headers instead of a gRPC server context.
void GrpcFront::Impl::Admit(Call& call) {
  call.request_id =
      IsGoodRequestId(call.client_request_id) ? call.client_request_id : NewRequestId();
  const MethodInfo* method = deps_.methods->Find(call.path);
  if (method == nullptr || !method->is_public()) {
    // Health, reflection, and the UNIMPLEMENTED answers for everything else that is not a public
    // method: the in-process server answers exactly as before, with no token needed.
    call.metric_method = IsLocalPath(call.path) ? call.path : std::string(kUnmatched);
    call.keep_request = false;
    Forward(call, internal_pool_.get());
    return;
  }
  call.method = method;
  call.metric_method = method->path;
  if (!method->is_unary()) {
    Refuse(call, grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                              absl::StrCat(call.path, " is a streaming method; the gateway serves "
                                                      "unary methods only")));
    return;
  }
  BackendPool* pool = FindPool(method->service);
  if (pool == nullptr) {
    Refuse(call, grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                              absl::StrCat("no backend is configured for ", method->service)));
    return;
  }
  const absl::Time now = absl::Now();
  auto caller = deps_.auth->Authenticate(call.authorization, now);
  if (!caller.ok()) {
    Refuse(call, ToGrpcStatus(caller.status()));
    return;
  }
  call.caller = *std::move(caller);
  if (!method->Allows(call.caller->principal.role())) {
    std::vector<std::string> names;
    for (common::v1::Role role : method->roles) names.push_back(RoleName(role));
    Refuse(call, grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                              absl::StrCat("role ", RoleName(call.caller->principal.role()),
                                           " may not call ", call.path, " (allowed: ",
                                           absl::StrJoin(names, ", "), ")")));
    return;
  }
  const RateLimiter::Decision decision = deps_.rate_limiter->Take(call.caller->actor, now);
  if (!decision.allowed) {
    Refuse(call,
           grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        absl::StrCat("rate limit exceeded for ", call.caller->actor,
                                     "; retry after ", decision.retry_after_seconds, " s")),
           {Header{kRetryAfterKey, absl::StrCat(decision.retry_after_seconds)}});
    return;
  }
  Forward(call, pool);
}

void GrpcFront::Impl::Refuse(Call& call, const grpc::Status& status, Headers extra) {
  Headers headers = {{":status", "200"},
                     {"content-type", "application/grpc"},
                     {"grpc-status", absl::StrCat(static_cast<int>(status.error_code()))},
                     {"grpc-message", PercentEncode(status.error_message())}};
  if (!status.error_details().empty()) {
    headers.push_back({"grpc-status-details-bin", absl::Base64Escape(status.error_details())});
  }
  for (Header& header : extra) headers.push_back(std::move(header));
  call.code = static_cast<int>(status.error_code());
  SubmitTrailersOnly(call, headers);
}

void GrpcFront::Impl::SubmitTrailersOnly(Call& call, const Headers& headers) {
  call.finished = true;
  std::vector<nghttp2_nv> nva;
  nva.reserve(headers.size() + 1);
  for (const Header& h : headers) nva.push_back(Nv(h.name, h.value));
  nva.push_back(Nv(kRequestIdKey, call.request_id));
  nghttp2_submit_response(call.conn->session(), call.stream_id, nva.data(), nva.size(), nullptr);
  call.conn->ScheduleFlush();
}

void GrpcFront::Impl::Forward(Call& call, BackendPool* pool) {
  call.admitted = true;
  call.pool = pool;
  Clock::duration budget = absl::ToChronoNanoseconds(options_.default_deadline);
  if (!call.timeout.empty()) {
    if (auto timeout = ParseGrpcTimeout(call.timeout)) budget = *timeout;
  }
  call.deadline = call.start + budget;
  TrackDeadline(call);
  Dispatch(call);
}

void GrpcFront::Impl::Dispatch(Call& call) {
  if (call.finished) return;
  BackendPool& pool = *call.pool;
  const Clock::time_point now = Clock::now();
  if (now >= call.deadline) {
    FinishWithStatus(call, grpc::StatusCode::DEADLINE_EXCEEDED,
                     absl::StrCat("deadline exceeded before ", pool.service, " answered"));
    return;
  }
  if (pool.dns && !pool.resolving &&
      (pool.replicas.empty() ||
       now - pool.resolved_at > absl::ToChronoNanoseconds(options_.dns_refresh))) {
    Resolve(pool);
  }
  if (pool.replicas.empty()) {
    if (pool.resolving) {
      call.waiting = true;
      pool.waiting.push_back(&call);
      return;
    }
    FinishWithStatus(call, grpc::StatusCode::UNAVAILABLE,
                     absl::StrCat("no address of ", pool.service, " resolves (", pool.target, ")"));
    return;
  }
  for (int tries = 0; tries < 2; ++tries) {
    ClientConnection* conn = PickConnection(pool);
    Replica* replica = conn->replica();
    if (conn->Submit(call, replica != nullptr ? replica->address : pool.target)) {
      ++call.attempts;
      return;
    }
  }
  FinishWithStatus(call, grpc::StatusCode::UNAVAILABLE,
                   absl::StrCat("no connection to ", pool.service, " takes new streams"));
}

// Round-robin over the replicas (passing over those whose last connect failed, while another is
// fine), then over the replica's connections, opening one while fewer than
// connections_per_replica exist.
ClientConnection* GrpcFront::Impl::PickConnection(BackendPool& pool) {
  const Clock::time_point now = Clock::now();
  Replica* replica = nullptr;
  for (size_t i = 0; i < pool.replicas.size(); ++i) {
    Replica* candidate = pool.replicas[(pool.next_replica + i) % pool.replicas.size()].get();
    if (candidate->retry_after <= now) {
      replica = candidate;
      pool.next_replica = (pool.next_replica + i + 1) % pool.replicas.size();
      break;
    }
  }
  if (replica == nullptr) {
    replica = pool.replicas[pool.next_replica % pool.replicas.size()].get();
    pool.next_replica = (pool.next_replica + 1) % pool.replicas.size();
  }
  const size_t wanted = static_cast<size_t>(std::max(1, options_.connections_per_replica));
  size_t usable = 0;
  for (const auto& conn : replica->conns) usable += conn->usable() ? 1 : 0;
  if (usable < wanted) {
    auto conn = std::make_shared<ClientConnection>(this, Socket(io_), &pool, replica,
                                                   ++next_connection_id_);
    replica->conns.push_back(conn);
    conn->Start(replica->endpoint);
    return conn.get();
  }
  for (size_t i = 0; i < replica->conns.size(); ++i) {
    ClientConnection* conn = replica->conns[(replica->next_conn + i) % replica->conns.size()].get();
    if (conn->usable()) {
      replica->next_conn = (replica->next_conn + i + 1) % replica->conns.size();
      return conn;
    }
  }
  return replica->conns.front().get();  // unreachable: usable >= wanted >= 1
}

void GrpcFront::Impl::OnConnectFailed(Replica* replica) {
  if (replica == nullptr) return;
  ++replica->failures;
  const auto backoff = std::chrono::milliseconds(100) * (1 << std::min(replica->failures, 6));
  replica->retry_after = Clock::now() + backoff;
}

void GrpcFront::Impl::Resolve(BackendPool& pool) {
  pool.resolving = true;
  pool.resolver->async_resolve(
      pool.dns_host, pool.dns_port,
      [this, &pool](const boost::system::error_code& error,
                    asio::ip::tcp::resolver::results_type results) {
        pool.resolving = false;
        if (error == asio::error::operation_aborted) return;
        pool.resolved_at = Clock::now();
        if (!error && !results.empty()) {
          std::vector<std::unique_ptr<Replica>> replicas;
          for (const auto& entry : results) {
            const Endpoint endpoint(entry.endpoint());
            std::unique_ptr<Replica> kept;
            for (auto& old : pool.replicas) {
              if (old != nullptr && old->endpoint == endpoint) kept = std::move(old);
            }
            if (kept == nullptr) {
              kept = std::make_unique<Replica>();
              kept->endpoint = endpoint;
              kept->address = absl::StrCat(pool.dns_host, ":", pool.dns_port);
            }
            bool duplicate = false;
            for (const auto& r : replicas) duplicate = duplicate || r->endpoint == endpoint;
            if (!duplicate) replicas.push_back(std::move(kept));
          }
          // Replicas no longer in DNS finish their streams, then close.
          for (auto& gone : pool.replicas) {
            if (gone == nullptr) continue;
            auto conns = gone->conns;
            for (auto& conn : conns) conn->Drain();
          }
          pool.replicas = std::move(replicas);
        } else {
          LogWarning("gateway: cannot resolve ", pool.dns_host, ":", pool.dns_port, " for ",
                     pool.service, ": ", error ? error.message() : "no address");
        }
        std::vector<Call*> waiting = std::move(pool.waiting);
        pool.waiting.clear();
        for (Call* call : waiting) {
          call->waiting = false;
          if (pool.replicas.empty()) {
            FinishWithStatus(*call, grpc::StatusCode::UNAVAILABLE,
                             absl::StrCat("no address of ", pool.service, " resolves (",
                                          pool.target, ")"));
          } else {
            Dispatch(*call);
          }
        }
      });
}

void GrpcFront::Impl::OnRequestProgress(Call& call) {
  if (call.keep_request && call.received() > static_cast<uint64_t>(options_.max_message_bytes) + 5) {
    call.keep_request = false;  // too large to keep for a retry
  }
  if (call.backend != nullptr && !call.backend->closed()) {
    nghttp2_session_resume_data(call.backend->session(), call.backend_stream);
    call.backend->ScheduleFlush();
  }
}

void GrpcFront::Impl::OnBackendResponseHeaders(Call& call) {
  call.response_started = true;
  call.keep_request = false;
  if (call.request_sent > call.request_base) {
    call.request.erase(0, call.request_sent - call.request_base);
    call.request_base = call.request_sent;
  }
  std::vector<nghttp2_nv> nva;
  nva.reserve(call.response_headers.size() + 1);
  for (const Header& h : call.response_headers) nva.push_back(Nv(h.name, h.value));
  nva.push_back(Nv(kRequestIdKey, call.request_id));
  nghttp2_data_provider provider;
  provider.source.ptr = nullptr;
  provider.read_callback = &ReadResponse;
  nghttp2_submit_response(call.conn->session(), call.stream_id, nva.data(), nva.size(), &provider);
  call.conn->ScheduleFlush();
}

void GrpcFront::Impl::OnBackendTrailersOnly(Call& call) {
  const int code = GrpcStatusOf(call.response_headers);
  if (code == static_cast<int>(grpc::StatusCode::UNAVAILABLE) &&
      Retryable(call, /*never_reached=*/false)) {
    ScheduleRetry(call, kFirstBackoff * (1 << (call.attempts - 1)));
    return;
  }
  call.code = code;
  SubmitTrailersOnly(call, call.response_headers);
}

void GrpcFront::Impl::OnBackendTrailers(Call& call) {
  if (call.finished) return;
  call.code = GrpcStatusOf(call.trailers);
  call.have_trailers = true;
  call.finished = true;
  nghttp2_session_resume_data(call.conn->session(), call.stream_id);
  call.conn->ScheduleFlush();
}

void GrpcFront::Impl::OnBackendStreamClosed(Call& call, uint32_t error_code) {
  if (call.response_unconsumed > 0 && call.backend != nullptr && !call.backend->closed()) {
    nghttp2_session_consume_connection(call.backend->session(), call.response_unconsumed);
  }
  call.response_unconsumed = 0;
  call.backend.reset();
  if (call.finished) return;
  if (!call.response_started) {
    const bool never_reached = error_code == NGHTTP2_REFUSED_STREAM;
    if (Retryable(call, never_reached)) {
      ScheduleRetry(call, never_reached ? Clock::duration::zero()
                                        : kFirstBackoff * (1 << (call.attempts - 1)));
      return;
    }
    if (never_reached) {
      FinishWithStatus(call, grpc::StatusCode::UNAVAILABLE,
                       absl::StrCat(call.pool->service, " refused the call"));
      return;
    }
  }
  // The backend reset the stream: so does the gateway, with the same code.
  ResetClientStream(call, error_code == NGHTTP2_NO_ERROR
                              ? static_cast<uint32_t>(NGHTTP2_INTERNAL_ERROR)
                              : error_code);
}

void GrpcFront::Impl::OnBackendLost(Call& call, bool reached) {
  if (call.finished) return;
  if (!call.response_started && Retryable(call, /*never_reached=*/!reached)) {
    ScheduleRetry(call, kFirstBackoff * (1 << std::max(0, call.attempts - 1)));
    return;
  }
  FinishWithStatus(call, grpc::StatusCode::UNAVAILABLE,
                   reached ? absl::StrCat("the connection to ", call.pool->service, " was lost")
                           : absl::StrCat("cannot connect to ", call.pool->service));
}

bool GrpcFront::Impl::Retryable(const Call& call, bool never_reached) const {
  if (call.pool->internal || !call.keep_request || call.attempts >= kMaxAttempts) return false;
  if (Clock::now() >= call.deadline) return false;
  return never_reached || (call.method != nullptr && call.method->idempotent);
}

void GrpcFront::Impl::ScheduleRetry(Call& call, Clock::duration delay) {
  Detach(call);
  call.response_headers.clear();
  call.trailers.clear();
  call.request_sent = call.request_base;  // == 0: the whole request is kept
  auto retry = [this, weak = std::weak_ptr<Call>(call.shared_from_this())](
                   const boost::system::error_code& error) {
    auto call = weak.lock();
    if (error || call == nullptr || call->finished) return;
    Dispatch(*call);
  };
  if (delay <= Clock::duration::zero()) {
    asio::post(io_, [retry] { retry(boost::system::error_code()); });
    return;
  }
  if (call.retry_timer == nullptr) call.retry_timer = std::make_unique<asio::steady_timer>(io_);
  call.retry_timer->expires_after(delay);
  call.retry_timer->async_wait(retry);
}

void GrpcFront::Impl::Detach(Call& call) {
  if (call.backend != nullptr) {
    std::shared_ptr<ClientConnection> backend = std::move(call.backend);
    call.backend.reset();
    backend->Forget(call);
  }
  call.response_unconsumed = 0;
  if (call.waiting) {
    auto& waiting = call.pool->waiting;
    waiting.erase(std::remove(waiting.begin(), waiting.end(), &call), waiting.end());
    call.waiting = false;
  }
}

void GrpcFront::Impl::FinishWithStatus(Call& call, grpc::StatusCode code,
                                       absl::string_view message) {
  if (call.finished) return;
  Detach(call);
  if (!call.response_started) {
    Refuse(call, grpc::Status(code, std::string(message)));
    return;
  }
  call.trailers = {{"grpc-status", absl::StrCat(static_cast<int>(code))},
                   {"grpc-message", PercentEncode(message)}};
  call.have_trailers = true;
  call.finished = true;
  call.code = static_cast<int>(code);
  nghttp2_session_resume_data(call.conn->session(), call.stream_id);
  call.conn->ScheduleFlush();
}

void GrpcFront::Impl::ResetClientStream(Call& call, uint32_t error_code) {
  Detach(call);
  call.finished = true;
  call.code = static_cast<int>(error_code == NGHTTP2_CANCEL           ? grpc::StatusCode::CANCELLED
                               : error_code == NGHTTP2_REFUSED_STREAM ? grpc::StatusCode::UNAVAILABLE
                                                                      : grpc::StatusCode::INTERNAL);
  nghttp2_submit_rst_stream(call.conn->session(), NGHTTP2_FLAG_NONE, call.stream_id, error_code);
  call.conn->ScheduleFlush();
}

void GrpcFront::Impl::OnClientStreamClosed(Call& call) {
  if (!call.finished) {
    call.finished = true;
    call.code = static_cast<int>(grpc::StatusCode::CANCELLED);  // the client went away
  }
  Detach(call);
  // Bytes of the client this call never gave back go back to the connection window.
  if (call.received() > call.request_consumed && !call.conn->closed()) {
    nghttp2_session_consume_connection(call.conn->session(),
                                       call.received() - call.request_consumed);
  }
  ForgetDeadline(call);
  call.retry_timer.reset();
  const double seconds = std::chrono::duration<double>(Clock::now() - call.start).count();
  if (options_.access_log) AppendAccessLog(call, seconds);
  if (deps_.metrics != nullptr) {
    const absl::string_view method =
        call.metric_method.empty() ? kUnmatched : absl::string_view(call.metric_method);
    GatewayMetrics::CallSeries& series = call_series_[method][CodeIndex(call.code)];
    if (series.requests == nullptr) {
      series = deps_.metrics->SeriesFor("grpc", method, CodeName(call.code));
    }
    series.Observe(seconds);
  }
}

// The line GrpcProxy logged (services/common/log.h's format), built here and written in batches:
// one write per loop round instead of one locked, flushed write per call.
void GrpcFront::Impl::AppendAccessLog(const Call& call, double seconds) {
  const absl::Time now = absl::Now();
  const int64_t second = absl::ToUnixSeconds(now);
  if (second != log_second_) {
    log_second_ = second;
    log_second_text_ = absl::FormatTime("%Y-%m-%dT%H:%M:%S", now, absl::UTCTimeZone());
  }
  const int64_t millis = absl::ToUnixMillis(now) - second * 1000;
  const bool first = log_buffer_.empty();
  const size_t line_start = log_buffer_.size();
  absl::StrAppend(&log_buffer_, log_second_text_, absl::StrFormat(".%03dZ", millis), " INFO rpc ",
                  call.path.empty() ? "-" : call.path, " request_id=", call.request_id,
                  " actor=", call.caller != nullptr ? call.caller->actor : "-",
                  " status=", CodeName(call.code), absl::StrFormat(" ms=%.2f", seconds * 1000));
  for (size_t i = line_start; i < log_buffer_.size(); ++i) {
    const unsigned char u = static_cast<unsigned char>(log_buffer_[i]);
    if (u < 0x20 || u == 0x7f) log_buffer_[i] = '?';
  }
  log_buffer_.push_back('\n');
  if (first) {
    log_timer_.expires_after(kLogDelay);
    log_timer_.async_wait([this](const boost::system::error_code& error) {
      if (!error) FlushAccessLog();
    });
  }
}

void GrpcFront::Impl::FlushAccessLog() {
  if (log_buffer_.empty()) return;
  // One fwrite: stdio locks stderr for it, so lines of other threads never land inside ours.
  fwrite(log_buffer_.data(), 1, log_buffer_.size(), stderr);
  fflush(stderr);
  log_buffer_.clear();
}

void GrpcFront::Impl::TrackDeadline(Call& call) {
  call.deadline_entry = deadlines_.emplace(call.deadline, &call);
  call.has_deadline_entry = true;
  if (!deadline_armed_.has_value() || call.deadline < *deadline_armed_) ArmDeadlineTimer();
}

void GrpcFront::Impl::ForgetDeadline(Call& call) {
  if (!call.has_deadline_entry) return;
  deadlines_.erase(call.deadline_entry);
  call.has_deadline_entry = false;
}

void GrpcFront::Impl::ArmDeadlineTimer() {
  if (deadlines_.empty()) {
    deadline_armed_.reset();
    deadline_timer_.cancel();
    return;
  }
  deadline_armed_ = deadlines_.begin()->first;
  deadline_timer_.expires_at(*deadline_armed_);
  deadline_timer_.async_wait([this](const boost::system::error_code& error) {
    if (!error) OnDeadlineTimer();
  });
}

void GrpcFront::Impl::OnDeadlineTimer() {
  deadline_armed_.reset();
  const Clock::time_point now = Clock::now();
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    Call* call = deadlines_.begin()->second;
    ForgetDeadline(*call);
    if (call->finished) continue;
    FinishWithStatus(*call, grpc::StatusCode::DEADLINE_EXCEEDED,
                     absl::StrCat("deadline exceeded before ",
                                  call->pool->internal ? "the gateway" : call->pool->service,
                                  " answered"));
  }
  ArmDeadlineTimer();
}

// The event loop thread. Without busy polling, io_.run(). With it, the loop runs what is ready
// (poll: epoll_wait with a zero timeout, then the handlers), and while few calls are open and the
// last event is recent it polls again rather than sleeping: on this kind of machine (a VM whose
// idle vCPUs halt) waking a thread blocked in epoll_wait costs tens of microseconds on each of
// the two hops a call adds, which is most of what the gateway adds at one call in flight.
void GrpcFront::Impl::RunLoop() {
  if (options_.busy_poll <= absl::ZeroDuration() || options_.busy_poll_max_calls < 1) {
    io_.run();
    return;
  }
  const Clock::duration spin = absl::ToChronoNanoseconds(options_.busy_poll);
  const size_t max_calls = static_cast<size_t>(options_.busy_poll_max_calls);
  Clock::time_point last_event = Clock::now();
  while (true) {
    if (io_.poll() > 0) {
      last_event = Clock::now();
      continue;
    }
    if (io_.stopped()) return;
    // deadlines_ holds the calls admitted and not yet closed: those waiting for an answer.
    const size_t open = deadlines_.size();
    if (open > 0 && open <= max_calls && Clock::now() - last_event < spin) continue;
    if (io_.run_one() == 0) return;  // stopped
    last_event = Clock::now();
  }
}

void GrpcFront::Impl::Shutdown(absl::Duration grace) {
  if (stopped_ || !thread_.joinable()) return;
  stopped_ = true;
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    draining_ = true;
    auto conns = server_conns_;
    for (const auto& conn : conns) conn->Goaway();
    if (server_conns_.empty()) drained_.Notify();
  });
  drained_.WaitForNotificationWithTimeout(grace);
  asio::post(io_, [this] {
    auto conns = server_conns_;
    for (const auto& conn : conns) conn->Close();
    std::vector<BackendPool*> pools;
    for (auto& [name, pool] : pools_) pools.push_back(pool.get());
    pools.push_back(internal_pool_.get());
    for (BackendPool* pool : pools) {
      if (pool->resolver != nullptr) pool->resolver->cancel();
      for (auto& replica : pool->replicas) {
        auto client_conns = replica->conns;
        for (auto& conn : client_conns) conn->Close();
      }
    }
    FlushAccessLog();
    deadline_timer_.cancel();
    log_timer_.cancel();
    work_.reset();
  });
  // Everything is closed: the loop runs out of work. Should a handler linger, stop it.
  if (!loop_done_.WaitForNotificationWithTimeout(absl::Seconds(2))) io_.stop();
  thread_.join();
  FlushAccessLog();
}

// ---------------------------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<GrpcFront>> GrpcFront::Start(GrpcFrontOptions options,
                                                            GrpcFrontDependencies deps) {
  auto impl = std::make_unique<Impl>(std::move(options), deps);
  absl::Status started = impl->Init();
  if (!started.ok()) return started;
  return std::unique_ptr<GrpcFront>(new GrpcFront(std::move(impl)));
}

GrpcFront::GrpcFront(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

GrpcFront::~GrpcFront() = default;

int GrpcFront::port() const { return impl_->port(); }

void GrpcFront::Shutdown(absl::Duration grace) { impl_->Shutdown(grace); }

}  // namespace shidang::gateway
