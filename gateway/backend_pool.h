#pragma once

// The gRPC front's pooled HTTP/2 connections to the backends (grpc_front.h): per --backends entry
// a pool of replicas (one address each: ipv4:/ipv6: lists, unix: paths, or dns:///host:port
// re-resolved every dns_refresh), per replica up to connections_per_replica connections, streams
// spread round-robin over replicas (passing over one whose last connect failed, with backoff) and
// over a replica's connections. A connection PINGs while streams are open and closes when a PING
// goes unanswered; what happens on the streams is reported to the front through BackendEvents.
// Everything here runs on the front's event loop thread.

#include <nghttp2/nghttp2.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gateway/forwarded_call.h"
#include "gateway/h2_connection.h"

namespace shidang::gateway {

class BackendConnection;

// One replica address of a backend and its pooled connections.
struct Replica {
  Endpoint endpoint;
  std::string address;  // host:port or the socket path, for :authority and the log
  std::vector<std::shared_ptr<BackendConnection>> conns;
  size_t next_conn = 0;
  Clock::time_point retry_after;
  int failures = 0;
};

struct BackendPool {
  std::string service;
  std::string target;
  std::vector<std::unique_ptr<Replica>> replicas;
  size_t next_replica = 0;
  // The in-process gRPC server (health, reflection, UNIMPLEMENTED answers): never retried.
  bool internal = false;
  // dns:///host:port targets are resolved on the loop and refreshed every dns_refresh.
  bool dns = false;
  std::string dns_host;
  std::string dns_port;
  bool resolving = false;
  Clock::time_point resolved_at;
  std::unique_ptr<asio::ip::tcp::resolver> resolver;
  std::vector<ForwardedCall*> waiting;
};

// What the backend side reports about the calls on it; the front answers the client.
class BackendEvents {
 public:
  virtual ~BackendEvents() = default;
  // Response headers that do not end the stream: the response begins.
  virtual void OnBackendResponseHeaders(ForwardedCall& call) = 0;
  // Headers that end the stream: a trailers-only answer (call.response_headers).
  virtual void OnBackendTrailersOnly(ForwardedCall& call) = 0;
  // Trailers after the response (call.trailers).
  virtual void OnBackendTrailers(ForwardedCall& call) = 0;
  // The backend stream closed (NGHTTP2_NO_ERROR after an answer, or a reset's code).
  virtual void OnBackendStreamClosed(ForwardedCall& call, uint32_t error_code) = 0;
  // The connection the call was on closed; `reached` when it had been connected.
  virtual void OnBackendLost(ForwardedCall& call, bool reached) = 0;
  // A DNS round of `pool` ended (its replicas may be empty); `waiting` waited for it.
  virtual void OnResolved(BackendPool& pool, std::vector<ForwardedCall*> waiting) = 0;
};

struct BackendPoolOptions {
  // HTTP/2 connections kept per backend replica (streams are spread over them).
  int connections_per_replica = 4;
  // PING every keepalive_time while streams are open; no ACK within keepalive_timeout closes it.
  absl::Duration keepalive_time = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(10);
  absl::Duration dns_refresh = absl::Seconds(30);
};

class BackendPools {
 public:
  // `session_option` and `events` must outlive the pools.
  BackendPools(asio::io_context& io, BackendPoolOptions options, nghttp2_option* session_option,
               BackendEvents* events);
  ~BackendPools();
  BackendPools(const BackendPools&) = delete;
  BackendPools& operator=(const BackendPools&) = delete;

  // Adds the pool of `service` at a gRPC target (ipv4:, ipv6:, dns:, unix:, unix-abstract:);
  // `internal` makes it the in-process server's. INVALID_ARGUMENT naming --backends, the service
  // and what is wrong with the target.
  absl::Status Add(const std::string& service, const std::string& target, bool internal);
  // The pool of a public service, or nullptr.
  BackendPool* Find(absl::string_view service) const;
  BackendPool* internal() const { return internal_.get(); }

  // Starts a DNS round for a dns: pool that has no address yet or whose addresses are older than
  // dns_refresh; its waiting calls go to BackendEvents::OnResolved when it ends.
  void RefreshIfDue(BackendPool& pool, Clock::time_point now);
  // A connection for a new stream: round-robin over the replicas (passing over those whose last
  // connect failed, while another is fine), then over the replica's connections, opening one
  // while fewer than connections_per_replica exist. The pool must have a replica.
  BackendConnection* PickConnection(BackendPool& pool);
  // Closes every connection and cancels DNS rounds (shutdown).
  void CloseAll();

  // For the connections.
  asio::io_context& io() const { return io_; }
  const BackendPoolOptions& options() const { return options_; }
  BackendEvents* events() const { return events_; }
  nghttp2_session_callbacks* callbacks() const { return callbacks_; }
  nghttp2_option* session_option() const { return session_option_; }
  // A connect to `replica` failed: pass it over for a while (backoff doubling to 6.4 s).
  void OnConnectFailed(Replica* replica);

 private:
  void Resolve(BackendPool& pool);
  void ApplyResolved(BackendPool& pool, const asio::ip::tcp::resolver::results_type& results);

  asio::io_context& io_;
  const BackendPoolOptions options_;
  nghttp2_option* const session_option_;
  BackendEvents* const events_;
  nghttp2_session_callbacks* callbacks_ = nullptr;
  std::map<std::string, std::unique_ptr<BackendPool>, std::less<>> pools_;
  std::unique_ptr<BackendPool> internal_;
  uint64_t next_connection_id_ = 0;
};

// One pooled HTTP/2 connection to a backend replica.
class BackendConnection : public H2Connection {
 public:
  BackendConnection(BackendPools* pools, Socket socket, BackendPool* pool, Replica* replica,
                    uint64_t id);

  void Start(const Endpoint& endpoint);

  bool usable() const { return !closed_ && !draining_; }
  size_t active() const { return streams.size(); }

  // Opens the call's backend stream with the headers rebuilt from the call. False when the
  // session takes no more streams.
  bool Submit(ForwardedCall& call, absl::string_view authority);
  // Forgets the call's stream (after the call is answered another way): reset it and give its
  // unread bytes back to the connection window.
  void Forget(ForwardedCall& call);
  // Finishes the streams open, then closes (a replica no longer in DNS).
  void Drain();

  void OnGoaway() { draining_ = true; }
  void OnPingAck() { ping_outstanding_ = false; }
  Replica* replica() const { return replica_; }
  BackendEvents* events() const { return pools_->events(); }

  static ssize_t ReadRequest(nghttp2_session* session, int32_t stream_id, uint8_t* buf,
                             size_t length, uint32_t* data_flags, nghttp2_data_source*, void*);

  absl::flat_hash_map<int32_t, ForwardedCall*> streams;

 private:
  std::shared_ptr<BackendConnection> Self();
  void OnConnected();
  void ArmKeepalive(absl::Duration after);
  void OnIdle() override;
  void OnProtocolError(const char* reason) override;
  void OnClose() override;

  BackendPools* const pools_;
  BackendPool* const pool_;
  Replica* replica_;
  const uint64_t id_;
  asio::steady_timer ping_timer_;
  bool draining_ = false;
  bool reached_ = false;
  bool ping_outstanding_ = false;
};

}  // namespace shidang::gateway
