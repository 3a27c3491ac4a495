#pragma once

// One HTTP/2 connection of the gRPC front (grpc_front.h): an nghttp2 session over one socket, on
// the front's single Asio event loop thread (no locks). Reads are fed to the session as they come;
// whatever the session has to send leaves in one write per round (frames queued while a write is
// in flight leave with the next one). The two kinds, a client of the gateway (grpc_front.cc) and a
// pooled connection to a backend (backend_pool.h), add what happens on idle, on a protocol error
// and on close.

#include <nghttp2/nghttp2.h>

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace shidang::gateway {

namespace asio = boost::asio;
using Socket = asio::generic::stream_protocol::socket;
using Endpoint = asio::generic::stream_protocol::endpoint;
using Clock = std::chrono::steady_clock;

// Windows the gateway grants each side. Bytes are given back (WINDOW_UPDATE) only once the other
// side has taken them, so a slow reader holds back its writer and the gateway buffers at most this.
inline constexpr int32_t kStreamWindow = 1 << 20;
inline constexpr int32_t kConnectionWindow = 16 << 20;

inline absl::string_view BytesView(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

// A header field for nghttp2, pointing into `name` and `value` (which must outlive the call that
// takes it).
nghttp2_nv Nv(absl::string_view name, absl::string_view value);

// TCP_NODELAY on a TCP socket (a unix socket has no Nagle to turn off).
void SetNoDelay(Socket& socket);

// The session options both sides use: windows given back by hand (flow control end to end), and
// header blocks as large as a message may be sent. Owned by the front; outlives every session.
nghttp2_option* NewSessionOption(int max_message_bytes);

class H2Connection : public std::enable_shared_from_this<H2Connection> {
 public:
  H2Connection(asio::io_context& io, Socket socket);
  virtual ~H2Connection();
  H2Connection(const H2Connection&) = delete;
  H2Connection& operator=(const H2Connection&) = delete;

  nghttp2_session* session() const { return session_; }
  bool closed() const { return closed_; }

  // Writes what the session has to send after the handlers already queued have run, so frames of
  // several streams leave together.
  void ScheduleFlush();
  // Writes what the session has to send now (unless a write is in flight or not yet connected).
  void Flush();
  // Closes the socket and ends every stream (OnClose).
  void Close();

 protected:
  void StartReading();

  // Nothing to write: a draining connection with nothing left closes here.
  virtual void OnIdle() {}
  // The peer sent what the session cannot take (nghttp2's reason); the connection closes next.
  virtual void OnProtocolError(const char* /*reason*/) {}
  // The socket is closed: end every stream.
  virtual void OnClose() = 0;

  asio::io_context& io_;
  Socket socket_;
  nghttp2_session* session_ = nullptr;
  std::unique_ptr<uint8_t[]> in_;
  std::string out_;
  bool ready_ = false;  // connected (a client connection writes only then)
  bool writing_ = false;
  bool flush_posted_ = false;
  bool closed_ = false;
};

}  // namespace shidang::gateway
