#pragma once

// One call of the gRPC front (grpc_front.h): a client stream, and the backend stream it is
// forwarded on (none while refused, waiting for DNS or between attempts). Shared by the front,
// which owns it through its client connection until the client stream closes (timers hold it
// weakly), and the backend pool (backend_pool.h), whose connection streams point at it.

#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "gateway/auth.h"
#include "gateway/grpc_wire.h"
#include "gateway/h2_connection.h"
#include "gateway/method_table.h"

namespace shidang::gateway {

struct BackendPool;
class BackendConnection;

struct ForwardedCall : public std::enable_shared_from_this<ForwardedCall> {
  // The client's connection and stream.
  H2Connection* conn = nullptr;
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
  // The request's header list as HPACK counts it, and the field that took it over the front's limit
  // (empty while within it).
  size_t header_list_bytes = 0;
  std::string over_limit_at;
  bool over_limit_alone = false;  // that field alone is over the limit

  std::string request_id;
  std::string metric_method;
  const MethodInfo* method = nullptr;
  BackendPool* pool = nullptr;
  std::shared_ptr<const Caller> caller;
  bool admitted = false;
  Clock::time_point deadline;
  // Its entry in the front's deadlines while admitted and open.
  std::multimap<Clock::time_point, ForwardedCall*>::iterator deadline_entry;
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

  std::shared_ptr<BackendConnection> backend;
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

}  // namespace shidang::gateway
