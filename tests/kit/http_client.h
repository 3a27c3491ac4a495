#pragma once

// Test kit: one keep-alive HTTP/1.1 connection to a local port, as curl would use it (Boost.Beast),
// for the tests of the gateway's HTTP/JSON front. Transport errors fail the test (EXPECT) and the
// reply then has status 0.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace shidang::testing {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpReply {
  int status = 0;
  std::string body;
  boost::beast::http::response<boost::beast::http::string_body> raw;
  // The header's value, or "" when absent.
  std::string Header(absl::string_view name) const;
};

class HttpClient {
 public:
  // Connects to 127.0.0.1:port.
  explicit HttpClient(int port);
  // Sends one request (a body defaults to Content-Type: application/json) and reads the reply.
  HttpReply Send(boost::beast::http::verb verb, const std::string& target,
                 const std::string& body = "", const HttpHeaders& headers = {});
  // Writes raw bytes (a request Beast would not build) and reads one reply.
  HttpReply SendRaw(const std::string& bytes);
  // The same in pieces of `piece` bytes `pause` apart, as a slow client sends (a server that
  // answers before the last piece must still read the rest, or the writes fail the test).
  HttpReply SendRawInPieces(const std::string& bytes, size_t piece, absl::Duration pause);
  // Whether the server ends the connection (after a refusal, say) within `timeout_ms`, with
  // nothing more to read.
  bool ReadsEndOfStream(int timeout_ms = 5000);

 private:
  HttpReply Receive();

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace shidang::testing
