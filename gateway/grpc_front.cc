#include "gateway/grpc_front.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "gateway/backend_pool.h"
#include "gateway/forwarded_call.h"
#include "gateway/grpc_wire.h"
#include "gateway/h2_connection.h"
#include "gateway/reflection.h"
#include "services/common/log.h"
#include "services/common/status.h"

namespace shidang::gateway {
namespace {

constexpr int kMaxAttempts = 3;
constexpr uint32_t kMaxConcurrentStreams = 4096;
constexpr auto kFirstBackoff = std::chrono::milliseconds(50);
// How long an access log line may wait to be written with others.
constexpr auto kLogDelay = std::chrono::milliseconds(20);
constexpr absl::string_view kUnmatched = "unmatched";  // the metrics label of no public method

// Paths the in-process server answers that get a metrics label of their own; anything else that
// is not a public method is "unmatched", so label values stay bounded.
bool IsLocalPath(absl::string_view path) {
  return absl::StartsWith(path, "/grpc.health.v1.Health/") || path == kReflectionMethodPath;
}

}  // namespace

class ServerConnection;

class GrpcFront::Impl : public BackendEvents {
 public:
  Impl(GrpcFrontOptions options, GrpcFrontDependencies deps);
  ~Impl() override;

  absl::Status Init();
  int port() const { return port_; }
  void Shutdown(absl::Duration grace);

  asio::io_context& io() { return io_; }
  nghttp2_session_callbacks* server_callbacks() const { return server_callbacks_; }
  nghttp2_option* session_option() const { return session_option_; }
  uint32_t max_header_list_bytes() const { return options_.max_header_list_bytes; }

  // Server side events.
  void Admit(ForwardedCall& call);
  void OnRequestProgress(ForwardedCall& call);
  void OnClientStreamClosed(ForwardedCall& call);
  void RemoveServerConnection(ServerConnection* conn);

  // Backend side events.
  void OnBackendResponseHeaders(ForwardedCall& call) override;
  void OnBackendTrailersOnly(ForwardedCall& call) override;
  void OnBackendTrailers(ForwardedCall& call) override;
  void OnBackendStreamClosed(ForwardedCall& call, uint32_t error_code) override;
  void OnBackendLost(ForwardedCall& call, bool reached) override;
  void OnResolved(BackendPool& pool, std::vector<ForwardedCall*> waiting) override;

 private:
  absl::Status Listen();
  void Accept();
  void Refuse(ForwardedCall& call, const grpc::Status& status, Headers extra = {});
  grpc::Status HeaderListTooLarge(const ForwardedCall& call) const;
  void Forward(ForwardedCall& call, BackendPool* pool);
  void Dispatch(ForwardedCall& call);
  bool Retryable(const ForwardedCall& call, bool never_reached) const;
  void ScheduleRetry(ForwardedCall& call, Clock::duration delay);
  void Detach(ForwardedCall& call);
  void FinishWithStatus(ForwardedCall& call, grpc::StatusCode code, absl::string_view message);
  void SubmitTrailersOnly(ForwardedCall& call, const Headers& headers);
  Headers FitToClient(ForwardedCall& call, Headers headers);
  void ResetClientStream(ForwardedCall& call, uint32_t error_code);
  void Observe(const ForwardedCall& call, double seconds);
  void AppendAccessLog(const ForwardedCall& call, double seconds);
  void FlushAccessLog();
  void TrackDeadline(ForwardedCall& call);
  void ForgetDeadline(ForwardedCall& call);
  void ArmDeadlineTimer();
  void OnDeadlineTimer();
  void RunLoop();
  void CloseEverything();

  const GrpcFrontOptions options_;
  const GrpcFrontDependencies deps_;
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::ip::tcp::acceptor acceptor_;
  nghttp2_session_callbacks* server_callbacks_ = nullptr;
  nghttp2_option* const session_option_;
  int port_ = 0;

  BackendPools pools_;
  std::set<std::shared_ptr<ServerConnection>> server_conns_;

  // Every open call's deadline, earliest first, and one timer for the earliest. The timer is
  // re-armed only when a call's deadline is earlier than the one it is set for, and left as it is
  // when a call ends (it then fires early and re-arms): with most calls ending well before their
  // deadlines, this is no timer system call per call (a timer per call cost one or two).
  std::multimap<Clock::time_point, ForwardedCall*> deadlines_;
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
// A client of the gateway.
class ServerConnection : public H2Connection {
 public:
  ServerConnection(GrpcFront::Impl* front, Socket socket)
      : H2Connection(front->io(), std::move(socket)), front_(front) {}

  GrpcFront::Impl* front() const { return front_; }

  void Start() {
    nghttp2_session_server_new2(&session_, front_->server_callbacks(), this,
                                front_->session_option());
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, kMaxConcurrentStreams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kStreamWindow)},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, front_->max_header_list_bytes()},
    };
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 3);
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

  ForwardedCall* FindCall(int32_t stream_id) {
    return static_cast<ForwardedCall*>(nghttp2_session_get_stream_user_data(session_, stream_id));
  }

  absl::flat_hash_map<int32_t, std::shared_ptr<ForwardedCall>> calls;

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

  GrpcFront::Impl* const front_;
  bool draining_ = false;
};

namespace {

// --- nghttp2 callbacks of the client-facing sessions -------------------------------------------

// A header name fit to be named in an answer (never its value: a token may be in it).
bool IsHeaderName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != ':') {
      return false;
    }
  }
  return true;
}

int ServerOnBeginHeaders(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  auto* conn = static_cast<ServerConnection*>(user_data);
  auto call = std::make_shared<ForwardedCall>();
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
  ForwardedCall* call = static_cast<ServerConnection*>(user_data)->FindCall(frame->hd.stream_id);
  if (call == nullptr) return 0;
  const absl::string_view key = BytesView(name, namelen);
  // Counted as SETTINGS_MAX_HEADER_LIST_SIZE counts; past the limit nothing more is kept, and the
  // call is refused when its headers end (Admit).
  const size_t field_bytes = namelen + valuelen + 32;
  call->header_list_bytes += field_bytes;
  const uint32_t limit =
      static_cast<ServerConnection*>(user_data)->front()->max_header_list_bytes();
  if (call->header_list_bytes > limit) {
    if (call->over_limit_at.empty()) {
      call->over_limit_at = IsHeaderName(key) ? std::string(key) : "a header";
      call->over_limit_alone = field_bytes > limit;
    }
    return 0;
  }
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
  // The first value wins, as gRPC's own servers read metadata.
  if (slot != nullptr && slot->empty()) {
    slot->assign(reinterpret_cast<const char*>(value), valuelen);
  }
  return 0;
}

int ServerOnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  auto* conn = static_cast<ServerConnection*>(user_data);
  if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
  ForwardedCall* call = conn->FindCall(frame->hd.stream_id);
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
  ForwardedCall* call = conn->FindCall(stream_id);
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
  ForwardedCall* call = static_cast<ServerConnection*>(user_data)->FindCall(frame->hd.stream_id);
  // Answered before the client finished sending: as gRPC servers do, end its half too.
  if (call != nullptr && !call->request_ended) {
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR);
  }
  return 0;
}

// A response or trailers nghttp2 could not send (too large, say): reset the stream rather than
// leave the client waiting for its deadline.
int ServerOnFrameNotSend(nghttp2_session* session, const nghttp2_frame* frame, int error, void*) {
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
  std::shared_ptr<ForwardedCall> call = std::move(it->second);
  conn->calls.erase(it);
  conn->front()->OnClientStreamClosed(*call);
  return 0;
}

// The response body to the client: what the backend sent, then its trailers.
ssize_t ReadResponse(nghttp2_session* session, int32_t stream_id, uint8_t* buf, size_t length,
                     uint32_t* data_flags, nghttp2_data_source*, void*) {
  auto* call =
      static_cast<ForwardedCall*>(nghttp2_session_get_stream_user_data(session, stream_id));
  if (call == nullptr) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return 0;
  }
  const size_t n = std::min(length, call->response.size() - call->response_sent);
  if (n > 0) {
    std::copy_n(call->response.data() + call->response_sent, n, buf);
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
      for (const HeaderField& h : call->trailers) nva.push_back(Nv(h.name, h.value));
      nghttp2_submit_trailer(session, stream_id, nva.data(), nva.size());
    }
    return static_cast<ssize_t>(n);
  }
  if (n == 0) return NGHTTP2_ERR_DEFERRED;
  return static_cast<ssize_t>(n);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

GrpcFront::Impl::Impl(GrpcFrontOptions options, GrpcFrontDependencies deps)
    : options_(std::move(options)),
      deps_(deps),
      work_(asio::make_work_guard(io_)),
      acceptor_(io_),
      session_option_(NewSessionOption(options_.max_message_bytes)),
      pools_(io_,
             BackendPoolOptions{options_.connections_per_replica, options_.keepalive_time,
                                options_.keepalive_timeout, options_.dns_refresh},
             session_option_, this) {
  nghttp2_session_callbacks_new(&server_callbacks_);
  nghttp2_session_callbacks_set_on_begin_headers_callback(server_callbacks_, ServerOnBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(server_callbacks_, ServerOnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(server_callbacks_, ServerOnFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(server_callbacks_, ServerOnDataChunk);
  nghttp2_session_callbacks_set_on_frame_send_callback(server_callbacks_, ServerOnFrameSend);
  nghttp2_session_callbacks_set_on_stream_close_callback(server_callbacks_, ServerOnStreamClose);
  nghttp2_session_callbacks_set_on_frame_not_send_callback(server_callbacks_, ServerOnFrameNotSend);
}

GrpcFront::Impl::~Impl() {
  Shutdown(absl::ZeroDuration());
  server_conns_.clear();
  nghttp2_session_callbacks_del(server_callbacks_);
  nghttp2_option_del(session_option_);
}

absl::Status GrpcFront::Impl::Init() {
  for (const auto& backend : deps_.backends->all()) {
    absl::Status added = pools_.Add(backend->service, backend->target, /*internal=*/false);
    if (!added.ok()) return added;
  }
  absl::Status internal =
      pools_.Add("gateway", absl::StrCat("ipv4:", options_.internal_address), /*internal=*/true);
  if (!internal.ok()) return internal;
  absl::Status listening = Listen();
  if (!listening.ok()) return listening;
  Accept();
  thread_ = std::thread([this] {
    RunLoop();
    loop_done_.Notify();
  });
  return absl::OkStatus();
}

absl::Status GrpcFront::Impl::Listen() {
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
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.host, ":",
                                               options_.port, ": ", error.message()));
  }
  port_ = acceptor_.local_endpoint().port();
  return absl::OkStatus();
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

// On the request headers: a public method goes through the gateway's admission (admission.h), the
// same as on the HTTP/JSON front; anything else goes to the in-process server.
void GrpcFront::Impl::Admit(ForwardedCall& call) {
  call.request_id =
      IsGoodRequestId(call.client_request_id) ? call.client_request_id : NewRequestId();
  if (!call.over_limit_at.empty()) {
    call.metric_method = std::string(kUnmatched);
    Refuse(call, HeaderListTooLarge(call));
    return;
  }
  const MethodInfo* method = deps_.methods->Find(call.path);
  if (method == nullptr || !method->is_public()) {
    // Health, reflection, and the UNIMPLEMENTED answers for everything else that is not a public
    // method: the in-process server answers exactly as before, with no token needed.
    call.metric_method = IsLocalPath(call.path) ? call.path : std::string(kUnmatched);
    call.keep_request = false;
    Forward(call, pools_.internal());
    return;
  }
  call.method = method;
  call.metric_method = method->path;
  Admission::Decision decision =
      deps_.admission->Admit(*method, call.authorization, call.path, absl::Now());
  call.caller = std::move(decision.caller);
  if (!decision.admitted()) {
    Headers extra;
    if (decision.retry_after_seconds > 0) {
      extra.push_back({kRetryAfterKey, absl::StrCat(decision.retry_after_seconds)});
    }
    Refuse(call, decision.status, std::move(extra));
    return;
  }
  Forward(call, pools_.Find(method->service));
}

// INVALID_ARGUMENT naming the field that took the request's header list over the limit, as the HTTP
// front's 431 does: the request itself is too large, whatever the server's state (not
// RESOURCE_EXHAUSTED, which on this front means the caller's rate limit).
grpc::Status GrpcFront::Impl::HeaderListTooLarge(const ForwardedCall& call) const {
  const std::string allowed =
      absl::StrCat("a request's header list may take ", options_.max_header_list_bytes,
                   " bytes (name + value + 32 per field)");
  if (call.over_limit_alone) {
    return ToGrpcStatus(
        InvalidField(call.over_limit_at, "max_size", absl::StrCat("is too large: ", allowed)));
  }
  return ToGrpcStatus(
      InvalidField("metadata", "max_size",
                   absl::StrCat("is over the limit at ", call.over_limit_at, ": ", allowed)));
}

void GrpcFront::Impl::Refuse(ForwardedCall& call, const grpc::Status& status, Headers extra) {
  call.code = static_cast<int>(status.error_code());
  SubmitTrailersOnly(call, TrailersOnly(status, std::move(extra)));
}

void GrpcFront::Impl::SubmitTrailersOnly(ForwardedCall& call, const Headers& headers) {
  call.finished = true;
  std::vector<nghttp2_nv> nva;
  nva.reserve(headers.size() + 1);
  for (const HeaderField& h : headers) nva.push_back(Nv(h.name, h.value));
  nva.push_back(Nv(kRequestIdKey, call.request_id));
  nghttp2_submit_response(call.conn->session(), call.stream_id, nva.data(), nva.size(), nullptr);
  call.conn->ScheduleFlush();
}

void GrpcFront::Impl::Forward(ForwardedCall& call, BackendPool* pool) {
  call.admitted = true;
  call.pool = pool;
  // A malformed grpc-timeout counts as none, as gRPC's own servers take it.
  Clock::duration budget = absl::ToChronoNanoseconds(options_.default_deadline);
  if (!call.timeout.empty()) {
    if (auto timeout = ParseGrpcTimeout(call.timeout)) budget = *timeout;
  }
  call.deadline = call.start + budget;
  TrackDeadline(call);
  Dispatch(call);
}

void GrpcFront::Impl::Dispatch(ForwardedCall& call) {
  if (call.finished) return;
  BackendPool& pool = *call.pool;
  const Clock::time_point now = Clock::now();
  if (now >= call.deadline) {
    FinishWithStatus(call, grpc::StatusCode::DEADLINE_EXCEEDED,
                     absl::StrCat("deadline exceeded before ", pool.service, " answered"));
    return;
  }
  pools_.RefreshIfDue(pool, now);
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
    BackendConnection* conn = pools_.PickConnection(pool);
    Replica* replica = conn->replica();
    if (conn->Submit(call, replica != nullptr ? replica->address : pool.target)) {
      ++call.attempts;
      return;
    }
  }
  FinishWithStatus(call, grpc::StatusCode::UNAVAILABLE,
                   absl::StrCat("no connection to ", pool.service, " takes new streams"));
}

void GrpcFront::Impl::OnResolved(BackendPool& pool, std::vector<ForwardedCall*> waiting) {
  for (ForwardedCall* call : waiting) {
    call->waiting = false;
    if (pool.replicas.empty()) {
      FinishWithStatus(
          *call, grpc::StatusCode::UNAVAILABLE,
          absl::StrCat("no address of ", pool.service, " resolves (", pool.target, ")"));
    } else {
      Dispatch(*call);
    }
  }
}

void GrpcFront::Impl::OnRequestProgress(ForwardedCall& call) {
  if (call.keep_request &&
      call.received() > static_cast<uint64_t>(options_.max_message_bytes) + 5) {
    call.keep_request = false;  // too large to keep for a retry
  }
  if (call.backend != nullptr && !call.backend->closed()) {
    nghttp2_session_resume_data(call.backend->session(), call.backend_stream);
    call.backend->ScheduleFlush();
  }
}

void GrpcFront::Impl::OnBackendResponseHeaders(ForwardedCall& call) {
  call.response_started = true;
  call.keep_request = false;
  if (call.request_sent > call.request_base) {
    call.request.erase(0, call.request_sent - call.request_base);
    call.request_base = call.request_sent;
  }
  std::vector<nghttp2_nv> nva;
  nva.reserve(call.response_headers.size() + 1);
  for (const HeaderField& h : call.response_headers) nva.push_back(Nv(h.name, h.value));
  nva.push_back(Nv(kRequestIdKey, call.request_id));
  nghttp2_data_provider provider;
  provider.source.ptr = nullptr;
  provider.read_callback = &ReadResponse;
  nghttp2_submit_response(call.conn->session(), call.stream_id, nva.data(), nva.size(), &provider);
  call.conn->ScheduleFlush();
}

void GrpcFront::Impl::OnBackendTrailersOnly(ForwardedCall& call) {
  const int code = GrpcStatusOf(call.response_headers);
  if (code == static_cast<int>(grpc::StatusCode::UNAVAILABLE) &&
      Retryable(call, /*never_reached=*/false)) {
    ScheduleRetry(call, kFirstBackoff * (1 << (call.attempts - 1)));
    return;
  }
  call.code = code;
  SubmitTrailersOnly(call, FitToClient(call, call.response_headers));
}

// An error's details as large as the service may send them (status.h) can be more than the
// client takes (SETTINGS_MAX_HEADER_LIST_SIZE; gRPC's C-core and Java clients take 8 KiB): cut
// to what it takes, room left for the x-request-id we add.
Headers GrpcFront::Impl::FitToClient(ForwardedCall& call, Headers headers) {
  const uint32_t client_takes = nghttp2_session_get_remote_settings(
      call.conn->session(), NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE);
  return FitHeaderListSize(std::move(headers), client_takes, /*reserve=*/256);
}

void GrpcFront::Impl::OnBackendTrailers(ForwardedCall& call) {
  if (call.finished) return;
  call.trailers = FitToClient(call, std::move(call.trailers));
  call.code = GrpcStatusOf(call.trailers);
  call.have_trailers = true;
  call.finished = true;
  nghttp2_session_resume_data(call.conn->session(), call.stream_id);
  call.conn->ScheduleFlush();
}

void GrpcFront::Impl::OnBackendStreamClosed(ForwardedCall& call, uint32_t error_code) {
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

void GrpcFront::Impl::OnBackendLost(ForwardedCall& call, bool reached) {
  if (call.finished) return;
  if (!call.response_started && Retryable(call, /*never_reached=*/!reached)) {
    ScheduleRetry(call, kFirstBackoff * (1 << std::max(0, call.attempts - 1)));
    return;
  }
  FinishWithStatus(call, grpc::StatusCode::UNAVAILABLE,
                   reached ? absl::StrCat("the connection to ", call.pool->service, " was lost")
                           : absl::StrCat("cannot connect to ", call.pool->service));
}

bool GrpcFront::Impl::Retryable(const ForwardedCall& call, bool never_reached) const {
  if (call.pool->internal || !call.keep_request || call.attempts >= kMaxAttempts) return false;
  if (Clock::now() >= call.deadline) return false;
  return never_reached || (call.method != nullptr && call.method->idempotent);
}

void GrpcFront::Impl::ScheduleRetry(ForwardedCall& call, Clock::duration delay) {
  Detach(call);
  call.response_headers.clear();
  call.trailers.clear();
  call.request_sent = call.request_base;  // == 0: the whole request is kept
  auto retry = [this, weak = std::weak_ptr<ForwardedCall>(call.shared_from_this())](
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

void GrpcFront::Impl::Detach(ForwardedCall& call) {
  if (call.backend != nullptr) {
    std::shared_ptr<BackendConnection> backend = std::move(call.backend);
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

void GrpcFront::Impl::FinishWithStatus(ForwardedCall& call, grpc::StatusCode code,
                                       absl::string_view message) {
  if (call.finished) return;
  Detach(call);
  if (!call.response_started) {
    Refuse(call, grpc::Status(code, std::string(message)));
    return;
  }
  call.trailers = Trailers(code, message);
  call.have_trailers = true;
  call.finished = true;
  call.code = static_cast<int>(code);
  nghttp2_session_resume_data(call.conn->session(), call.stream_id);
  call.conn->ScheduleFlush();
}

void GrpcFront::Impl::ResetClientStream(ForwardedCall& call, uint32_t error_code) {
  Detach(call);
  call.finished = true;
  call.code =
      static_cast<int>(error_code == NGHTTP2_CANCEL           ? grpc::StatusCode::CANCELLED
                       : error_code == NGHTTP2_REFUSED_STREAM ? grpc::StatusCode::UNAVAILABLE
                                                              : grpc::StatusCode::INTERNAL);
  nghttp2_submit_rst_stream(call.conn->session(), NGHTTP2_FLAG_NONE, call.stream_id, error_code);
  call.conn->ScheduleFlush();
}

void GrpcFront::Impl::OnClientStreamClosed(ForwardedCall& call) {
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
  if (deps_.metrics != nullptr) Observe(call, seconds);
}

void GrpcFront::Impl::Observe(const ForwardedCall& call, double seconds) {
  const absl::string_view method =
      call.metric_method.empty() ? kUnmatched : absl::string_view(call.metric_method);
  GatewayMetrics::CallSeries& series = call_series_[method][GrpcCodeIndex(call.code)];
  if (series.requests == nullptr) {
    series = deps_.metrics->SeriesFor("grpc", method, GrpcCodeName(call.code));
  }
  series.Observe(seconds);
}

// The line services/common/log.h would write, built here and written in batches:
// one write per loop round instead of one locked, flushed write per call.
void GrpcFront::Impl::AppendAccessLog(const ForwardedCall& call, double seconds) {
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
                  " status=", GrpcCodeName(call.code), absl::StrFormat(" ms=%.2f", seconds * 1000));
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

void GrpcFront::Impl::TrackDeadline(ForwardedCall& call) {
  call.deadline_entry = deadlines_.emplace(call.deadline, &call);
  call.has_deadline_entry = true;
  if (!deadline_armed_.has_value() || call.deadline < *deadline_armed_) ArmDeadlineTimer();
}

void GrpcFront::Impl::ForgetDeadline(ForwardedCall& call) {
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
    ForwardedCall* call = deadlines_.begin()->second;
    ForgetDeadline(*call);
    if (call->finished) continue;
    FinishWithStatus(
        *call, grpc::StatusCode::DEADLINE_EXCEEDED,
        absl::StrCat("deadline exceeded before ",
                     call->pool->internal ? "the gateway" : call->pool->service, " answered"));
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

// On the loop: ends every connection of both sides and lets the loop run out of work.
void GrpcFront::Impl::CloseEverything() {
  auto conns = server_conns_;
  for (const auto& conn : conns) conn->Close();
  pools_.CloseAll();
  FlushAccessLog();
  deadline_timer_.cancel();
  log_timer_.cancel();
  work_.reset();
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
  asio::post(io_, [this] { CloseEverything(); });
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
