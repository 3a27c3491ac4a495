#include "gateway/h2_connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <utility>

namespace shidang::gateway {
namespace {

constexpr size_t kReadBufferBytes = size_t{64} * 1024;

}  // namespace

nghttp2_nv Nv(absl::string_view name, absl::string_view value) {
  return nghttp2_nv{const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(name.data())),
                    const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(value.data())),
                    name.size(), value.size(), NGHTTP2_NV_FLAG_NONE};
}

void SetNoDelay(Socket& socket) {
  boost::system::error_code error;
  const int family = socket.local_endpoint(error).protocol().family();
  if (error) return;
  if (family != AF_INET && family != AF_INET6) return;
  int one = 1;
  setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

nghttp2_option* NewSessionOption(int max_message_bytes) {
  nghttp2_option* option = nullptr;
  nghttp2_option_new(&option);
  // Windows are given back by hand, when the other side has taken the bytes (flow control
  // end to end rather than an unbounded buffer in the gateway).
  nghttp2_option_set_no_auto_window_update(option, 1);
  // Metadata as large as a message may pass (error details naming hundreds of rows); nghttp2's
  // default send limit is 64 KiB per header block. (Its HPACK decoder still refuses one field over
  // 64 KiB, which ends the connection: what no gRPC client with default limits would take anyway.)
  nghttp2_option_set_max_send_header_block_length(
      option, static_cast<size_t>(std::max(max_message_bytes, 64 << 10)));
  return option;
}

H2Connection::H2Connection(asio::io_context& io, Socket socket)
    : io_(io), socket_(std::move(socket)), in_(new uint8_t[kReadBufferBytes]) {}

H2Connection::~H2Connection() {
  if (session_ != nullptr) nghttp2_session_del(session_);
}

void H2Connection::ScheduleFlush() {
  if (flush_posted_ || closed_) return;
  flush_posted_ = true;
  asio::post(io_, [self = shared_from_this()] {
    self->flush_posted_ = false;
    self->Flush();
  });
}

void H2Connection::Flush() {
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

void H2Connection::Close() {
  if (closed_) return;
  auto keep = shared_from_this();
  closed_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
  OnClose();
}

void H2Connection::StartReading() {
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

}  // namespace shidang::gateway
