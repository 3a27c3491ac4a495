#include "gateway/backend_pool.h"

#include <algorithm>
#include <boost/asio/local/stream_protocol.hpp>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/log.h"
#include "services/common/principal.h"

namespace shidang::gateway {
namespace {

ForwardedCall* BackendCall(nghttp2_session* session, int32_t stream_id) {
  return static_cast<ForwardedCall*>(nghttp2_session_get_stream_user_data(session, stream_id));
}

// --- nghttp2 callbacks of the backend sessions -------------------------------------------------

int OnHeader(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
             size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void*) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  ForwardedCall* call = BackendCall(session, frame->hd.stream_id);
  if (call == nullptr) return 0;
  const absl::string_view key = BytesView(name, namelen);
  if (key == kRequestIdKey) return 0;  // ours goes back instead (the same id)
  Headers& into =
      frame->headers.cat == NGHTTP2_HCAT_RESPONSE ? call->response_headers : call->trailers;
  into.push_back(HeaderField{std::string(key), std::string(BytesView(value, valuelen))});
  return 0;
}

int OnFrameRecv(nghttp2_session* session, const nghttp2_frame* frame, void* user_data) {
  auto* conn = static_cast<BackendConnection*>(user_data);
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
  ForwardedCall* call = BackendCall(session, frame->hd.stream_id);
  if (call == nullptr) return 0;
  const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (frame->headers.cat == NGHTTP2_HCAT_RESPONSE) {
    if (end) {
      conn->events()->OnBackendTrailersOnly(*call);
    } else {
      conn->events()->OnBackendResponseHeaders(*call);
    }
  } else if (end) {
    conn->events()->OnBackendTrailers(*call);
  }
  return 0;
}

int OnDataChunk(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data,
                size_t len, void*) {
  ForwardedCall* call = BackendCall(session, stream_id);
  if (call == nullptr || call->finished || !call->response_started) {
    nghttp2_session_consume(session, stream_id, len);
    return 0;
  }
  call->response.append(reinterpret_cast<const char*>(data), len);
  call->response_unconsumed += len;
  nghttp2_session_resume_data(call->conn->session(), call->stream_id);
  call->conn->ScheduleFlush();
  return 0;
}

int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user_data) {
  auto* conn = static_cast<BackendConnection*>(user_data);
  auto it = conn->streams.find(stream_id);
  if (it == conn->streams.end()) return 0;
  ForwardedCall* call = it->second;
  conn->streams.erase(it);
  conn->events()->OnBackendStreamClosed(*call, error_code);
  return 0;
}

// A replica at "host:port" (an IP address; IPv6 in brackets), or nullptr when it is not one.
std::unique_ptr<Replica> TcpReplica(absl::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) return nullptr;
  absl::string_view host = address.substr(0, colon);
  int port = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port) || port <= 0 || port > 65535) {
    return nullptr;
  }
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
    host = host.substr(1, host.size() - 2);
  }
  boost::system::error_code error;
  const asio::ip::address ip = asio::ip::make_address(std::string(host), error);
  if (error) return nullptr;
  auto replica = std::make_unique<Replica>();
  replica->endpoint = Endpoint(asio::ip::tcp::endpoint(ip, static_cast<uint16_t>(port)));
  replica->address = std::string(address);
  return replica;
}

std::unique_ptr<Replica> UnixReplica(const std::string& path) {
  auto replica = std::make_unique<Replica>();
  replica->endpoint = Endpoint(asio::local::stream_protocol::endpoint(path));
  replica->address = "localhost";
  return replica;
}

}  // namespace

// --- the pools ---------------------------------------------------------------------------------

BackendPools::BackendPools(asio::io_context& io, BackendPoolOptions options,
                           nghttp2_option* session_option, BackendEvents* events)
    : io_(io), options_(options), session_option_(session_option), events_(events) {
  nghttp2_session_callbacks_new(&callbacks_);
  nghttp2_session_callbacks_set_on_header_callback(callbacks_, OnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks_, OnFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks_, OnDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks_, OnStreamClose);
}

BackendPools::~BackendPools() {
  pools_.clear();
  internal_.reset();
  nghttp2_session_callbacks_del(callbacks_);
}

absl::Status BackendPools::Add(const std::string& service, const std::string& target,
                               bool internal) {
  auto pool = std::make_unique<BackendPool>();
  pool->service = service;
  pool->target = target;
  pool->internal = internal;
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("--backends: ", service, ": target ", target, " ", why));
  };
  absl::string_view rest = target;
  if (absl::ConsumePrefix(&rest, "ipv4:") || absl::ConsumePrefix(&rest, "ipv6:")) {
    for (absl::string_view address : absl::StrSplit(rest, ',', absl::SkipEmpty())) {
      std::unique_ptr<Replica> replica = TcpReplica(address);
      if (replica == nullptr) return bad(absl::StrCat("has a bad address ", address));
      pool->replicas.push_back(std::move(replica));
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
    pool->replicas.push_back(UnixReplica(std::string(1, '\0') + std::string(rest)));
  } else if (absl::ConsumePrefix(&rest, "unix:")) {
    if (absl::StartsWith(rest, "//")) rest.remove_prefix(2);
    pool->replicas.push_back(UnixReplica(std::string(rest)));
  } else {
    return bad("has no scheme the gateway knows (ipv4:, ipv6:, dns:, unix:)");
  }
  if (internal) {
    internal_ = std::move(pool);
  } else {
    pools_.emplace(service, std::move(pool));
  }
  return absl::OkStatus();
}

BackendPool* BackendPools::Find(absl::string_view service) const {
  auto it = pools_.find(service);
  return it == pools_.end() ? nullptr : it->second.get();
}

void BackendPools::RefreshIfDue(BackendPool& pool, Clock::time_point now) {
  if (pool.dns && !pool.resolving &&
      (pool.replicas.empty() ||
       now - pool.resolved_at > absl::ToChronoNanoseconds(options_.dns_refresh))) {
    Resolve(pool);
  }
}

BackendConnection* BackendPools::PickConnection(BackendPool& pool) {
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
    auto conn = std::make_shared<BackendConnection>(this, Socket(io_), &pool, replica,
                                                    ++next_connection_id_);
    replica->conns.push_back(conn);
    conn->Start(replica->endpoint);
    return conn.get();
  }
  for (size_t i = 0; i < replica->conns.size(); ++i) {
    BackendConnection* conn =
        replica->conns[(replica->next_conn + i) % replica->conns.size()].get();
    if (conn->usable()) {
      replica->next_conn = (replica->next_conn + i + 1) % replica->conns.size();
      return conn;
    }
  }
  return replica->conns.front().get();  // unreachable: usable >= wanted >= 1
}

void BackendPools::OnConnectFailed(Replica* replica) {
  if (replica == nullptr) return;
  ++replica->failures;
  const auto backoff = std::chrono::milliseconds(100) * (1 << std::min(replica->failures, 6));
  replica->retry_after = Clock::now() + backoff;
}

void BackendPools::Resolve(BackendPool& pool) {
  pool.resolving = true;
  pool.resolver->async_resolve(pool.dns_host, pool.dns_port,
                               [this, &pool](const boost::system::error_code& error,
                                             const asio::ip::tcp::resolver::results_type& results) {
                                 pool.resolving = false;
                                 if (error == asio::error::operation_aborted) return;
                                 pool.resolved_at = Clock::now();
                                 if (!error && !results.empty()) {
                                   ApplyResolved(pool, results);
                                 } else {
                                   LogWarning("gateway: cannot resolve ", pool.dns_host, ":",
                                              pool.dns_port, " for ", pool.service, ": ",
                                              error ? error.message() : "no address");
                                 }
                                 std::vector<ForwardedCall*> waiting = std::move(pool.waiting);
                                 pool.waiting.clear();
                                 events_->OnResolved(pool, std::move(waiting));
                               });
}

// The new addresses become the replicas, keeping the connections of those already known;
// replicas no longer in DNS finish their streams, then close.
void BackendPools::ApplyResolved(BackendPool& pool,
                                 const asio::ip::tcp::resolver::results_type& results) {
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
  for (auto& gone : pool.replicas) {
    if (gone == nullptr) continue;
    auto conns = gone->conns;
    for (auto& conn : conns) conn->Drain();
  }
  pool.replicas = std::move(replicas);
}

void BackendPools::CloseAll() {
  std::vector<BackendPool*> pools;
  for (auto& [name, pool] : pools_) pools.push_back(pool.get());
  if (internal_ != nullptr) pools.push_back(internal_.get());
  for (BackendPool* pool : pools) {
    if (pool->resolver != nullptr) pool->resolver->cancel();
    for (auto& replica : pool->replicas) {
      auto conns = replica->conns;
      for (auto& conn : conns) conn->Close();
    }
  }
}

// --- one connection ----------------------------------------------------------------------------

BackendConnection::BackendConnection(BackendPools* pools, Socket socket, BackendPool* pool,
                                     Replica* replica, uint64_t id)
    : H2Connection(pools->io(), std::move(socket)),
      pools_(pools),
      pool_(pool),
      replica_(replica),
      id_(id),
      ping_timer_(pools->io()) {}

std::shared_ptr<BackendConnection> BackendConnection::Self() {
  return std::static_pointer_cast<BackendConnection>(shared_from_this());
}

void BackendConnection::Start(const Endpoint& endpoint) {
  nghttp2_session_client_new2(&session_, pools_->callbacks(), this, pools_->session_option());
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kStreamWindow)},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 2);
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
  socket_.async_connect(endpoint, [self = Self()](const boost::system::error_code& error) {
    if (self->closed_) return;
    if (error) {
      self->pools_->OnConnectFailed(self->replica_);
      self->Close();
      return;
    }
    self->OnConnected();
  });
}

void BackendConnection::OnConnected() {
  SetNoDelay(socket_);
  ready_ = true;
  reached_ = true;
  if (replica_ != nullptr) {
    replica_->failures = 0;
    LogInfo("gateway: backend connection ", id_, " to ", pool_->service, " at ", replica_->address,
            " open");
  }
  StartReading();
  Flush();
  ArmKeepalive(pools_->options().keepalive_time);
}

bool BackendConnection::Submit(ForwardedCall& call, absl::string_view authority) {
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
  // A without_token method's caller has no principal (admission.h): nothing to send.
  if (call.caller != nullptr && !call.caller->principal_bin.empty()) {
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

void BackendConnection::Forget(ForwardedCall& call) {
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

void BackendConnection::Drain() {
  draining_ = true;
  replica_ = nullptr;
  if (streams.empty()) Close();
}

// PINGs only while streams are open (what gRPC's own channel did: an idle connection that pings
// is refused by servers with their default policy); a PING unanswered for keepalive_timeout
// closes the connection, and its calls fail over like any lost connection.
void BackendConnection::ArmKeepalive(absl::Duration after) {
  ping_timer_.expires_after(absl::ToChronoNanoseconds(after));
  ping_timer_.async_wait(
      [weak = std::weak_ptr<BackendConnection>(Self())](const boost::system::error_code& error) {
        auto self = weak.lock();
        if (error || self == nullptr || self->closed_) return;
        const BackendPoolOptions& options = self->pools_->options();
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

void BackendConnection::OnIdle() {
  if (draining_ && streams.empty()) Close();
}

void BackendConnection::OnProtocolError(const char* reason) {
  LogWarning("gateway: backend connection ", id_, " to ", pool_->service,
             " closed on a protocol error: ", reason);
}

void BackendConnection::OnClose() {
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
    events()->OnBackendLost(*call, reached_);
  }
}

// The request body to the backend: what the client has sent so far, then END_STREAM once it ended.
ssize_t BackendConnection::ReadRequest(nghttp2_session* session, int32_t stream_id, uint8_t* buf,
                                       size_t length, uint32_t* data_flags, nghttp2_data_source*,
                                       void*) {
  ForwardedCall* call = BackendCall(session, stream_id);
  if (call == nullptr) return NGHTTP2_ERR_DEFERRED;  // forgotten; its RST_STREAM is queued
  const size_t n =
      static_cast<size_t>(std::min<uint64_t>(length, call->received() - call->request_sent));
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

}  // namespace shidang::gateway
