#pragma once

// The public gRPC port: an h2c forwarder that works on HTTP/2 frames (nghttp2) instead of running a
// gRPC server and a gRPC client per call. The generic gRPC proxy it replaced (two gRPC stacks per
// call, removed since; see the README) reached 0.64 / 0.73 / 0.76 of direct at 1 x 1, 32 x 1 and
// 4 x 32 and added 0.26 ms to the p50 at 1 x 1 (bench/gateway_bench.sh, profile GetTeacher); the
// targets are 1 x 1 within +0.05 ms p50, 32 x 1 >= 0.65, 4 x 32 >= 0.75.
//
// Files: this one (client connections, admission, forwarding, retries, deadlines, access log),
// h2_connection.h (one nghttp2 session over one socket), backend_pool.h (the pooled connections to
// the backends), forwarded_call.h (one call's state), grpc_wire.h (grpc-timeout, grpc-message,
// trailers).
//
// Per incoming stream only these request headers are read: :path, authorization, grpc-timeout,
// x-request-id, traceparent, content-type, te, grpc-encoding, grpc-accept-encoding, user-agent.
// A public method of the MethodTable goes through the gateway's one admission (admission.h: unary,
// backend configured, token, role, rate limit with `retry-after`), the same as on the HTTP/JSON
// front; a refusal is a trailers-only answer. Paths that are not public methods (grpc.health.v1,
// reflection, unknown and internal methods) are forwarded unchanged to the in-process gRPC server
// on an internal loopback port (local_service.h), which answers them (health, reflection,
// UNIMPLEMENTED).
//
// An admitted call becomes one stream on a pooled HTTP/2 client connection to the owning backend
// (round-robin over the replicas of its --backends entry; DNS names re-resolved every 30 s), with
// the headers rebuilt: content-type, te, the compression headers and user-agent as the client sent
// them, grpc-timeout (the caller's deadline, or the default), x-request-id (made when absent or
// malformed), traceparent and the signed principal. The client's own authorization and principal
// never go on. DATA is relayed both ways with flow control (a window is given back to one side only
// when the other side has taken the bytes), then the backend's headers (with our x-request-id),
// data and trailers, unchanged. RST_STREAM goes on both ways; the gateway's own timer ends a call
// at its deadline (DEADLINE_EXCEEDED) and cancels the backend stream.
//
// Retries: a stream the backend refused (REFUSED_STREAM, GOAWAY, connection not made) never
// reached a handler and is retried for any method; a trailers-only UNAVAILABLE or a connection lost
// before the response headers is retried only for methods marked `idempotent`. At most 3 attempts,
// 50 ms then 100 ms apart, within the deadline; the request is kept until response headers arrive.
//
// Threads: one Asio event loop thread runs every connection of both sides, with no locks; the
// frames one round of reads produces leave in one write per connection (a flush posted behind the
// reads already queued: against flushing at the end of each read, in one A/B run on the echo
// backend, it served 27-40% more at 32 x 1, 0-28% more at 4 x 32, and no clear difference at
// 1 x 1). On this 2-core machine, shared with the backends and the load generator, a second loop
// thread was not tried: the gateway used 64-80 us of CPU per call at
// 32 x 1 and 52-72 at 4 x 32 (bench/gateway_bench.sh), most of it in the kernel's loopback TCP.
//
// Busy polling (busy_poll, default 1 ms; busy_poll_max_calls, default 2): at 1 x 1 what the
// gateway added to p50 was mostly wakeups, not work: perf showed the loop thread's time in the
// scheduler (switching back in after epoll_wait, waking the peer in send) far more than in
// nghttp2 or our code, on a VM whose idle vCPUs halt (cpuidle haltpoll, guest polling off). So
// while 1 or 2 calls are open the loop polls (io_context::poll, epoll_wait with a zero timeout)
// for up to busy_poll after its last event, and the backend's answer is read without a wakeup.
// bench/gateway_bench.sh (profile GetTeacher, medians of 3 rounds, shared 2-core machine):
// without, 1 x 1 p50 added +0.088 ms, ratios 0.90 at 32 x 1 and 1.02 at 4 x 32; with, in three
// runs, +0.008 / +0.040 / -0.007 ms, 0.96 / 0.91 / 0.88 and 0.90 / 1.00 / 0.89 (with more calls
// open the loop sleeps as before; the spread is this machine's noise). The price is CPU: at
// 1 x 1 the gateway used 400-513 us per call instead of 133-210. Polling also for a while after
// the last call closed (to catch the next request) made the gateway path faster than direct in A/B
// runs, by keeping a vCPU out of halt for every process on the machine: an effect of this VM, not
// of the gateway; not done. Smaller savings per call: metric series looked up once per (method,
// code) instead of through prometheus-cpp's labelled Add, and the token cache's SHA-256 without
// OpenSSL 3's per-call fetch.
//
// Limits: a request's header list over max_header_list_bytes (8 KiB, --max_header_bytes) is
// refused with INVALID_ARGUMENT before admission, whatever the size of its fields.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/admission.h"
#include "gateway/backends.h"
#include "gateway/http_metrics.h"
#include "gateway/method_table.h"

namespace shidang::gateway {

struct GrpcFrontOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: the kernel picks; see GrpcFront::port()
  // host:port of the in-process gRPC server (health, reflection, UNIMPLEMENTED answers).
  std::string internal_address;
  // Deadline of a forwarded call when the caller set none.
  absl::Duration default_deadline = absl::Seconds(10);
  // One line per call on stderr (method, request id, actor, status, ms), written in batches.
  bool access_log = true;
  // HTTP/2 connections kept per backend replica (streams are spread over them).
  int connections_per_replica = 4;
  // PING every keepalive_time while streams are open; no ACK within keepalive_timeout closes it.
  absl::Duration keepalive_time = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(10);
  absl::Duration dns_refresh = absl::Seconds(30);
  // A request larger than this is not kept for a retry.
  int max_message_bytes = 16 << 20;
  // The largest request header list (HEADERS and CONTINUATION frames) as HPACK counts it: name +
  // value + 32 per field. Advertised as SETTINGS_MAX_HEADER_LIST_SIZE; a client that sends more
  // (gRPC's C++ client 1.51 does) gets INVALID_ARGUMENT naming the field that crossed it, in a
  // trailers-only answer: its connection and other streams go on. gRPC's own servers take 8 KiB by
  // default. (nghttp2 1.52 itself took a 70 KB field and, before this limit, the call went on.)
  uint32_t max_header_list_bytes = 8192;
  // Busy polling: while 1 to busy_poll_max_calls calls are open, the loop keeps polling its
  // sockets (epoll_wait with a zero timeout) for up to busy_poll after its last event instead of
  // sleeping, so the backend's answer is picked up without the wakeup of a sleeping thread. Zero
  // turns it off. See "Busy polling" above for the figures behind the defaults.
  absl::Duration busy_poll = absl::Milliseconds(1);
  int busy_poll_max_calls = 2;
};

struct GrpcFrontDependencies {
  const MethodTable* methods = nullptr;
  Backends* backends = nullptr;
  const Admission* admission = nullptr;
  GatewayMetrics* metrics = nullptr;  // may be null
};

class GrpcFront {
 public:
  // Binds the port and starts the event loop thread. Every dependency must outlive the front.
  // UNAVAILABLE when the port cannot be bound; INVALID_ARGUMENT when a backend target cannot be
  // parsed.
  static absl::StatusOr<std::unique_ptr<GrpcFront>> Start(GrpcFrontOptions options,
                                                          GrpcFrontDependencies deps);
  ~GrpcFront();  // Shutdown(0) if not yet shut down
  GrpcFront(const GrpcFront&) = delete;
  GrpcFront& operator=(const GrpcFront&) = delete;

  int port() const;

  // Stops accepting, sends GOAWAY on every client connection, lets calls in flight finish within
  // `grace`, then resets the rest and stops the loop.
  void Shutdown(absl::Duration grace);

  class Impl;

 private:
  explicit GrpcFront(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace shidang::gateway
