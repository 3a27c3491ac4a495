#include "tests/kit/http_client.h"

#include <poll.h>

#include <algorithm>
#include <boost/asio/write.hpp>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace shidang::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

std::string HttpReply::Header(absl::string_view name) const {
  auto it = raw.find(beast::string_view(name.data(), name.size()));
  return it == raw.end() ? "" : std::string(it->value());
}

HttpClient::HttpClient(int port) : socket_(ioc_) {
  beast::error_code ec;
  socket_.connect(
      net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)),
      ec);
  EXPECT_FALSE(ec) << "connecting to 127.0.0.1:" << port << ": " << ec.message();
}

HttpReply HttpClient::Send(http::verb verb, const std::string& target, const std::string& body,
                           const HttpHeaders& headers) {
  http::request<http::string_body> request(verb, target, 11);
  request.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) request.set(name, value);
  if (!body.empty()) {
    if (request.find(http::field::content_type) == request.end()) {
      request.set(http::field::content_type, "application/json");
    }
    request.body() = body;
  }
  request.prepare_payload();
  beast::error_code ec;
  http::write(socket_, request, ec);
  EXPECT_FALSE(ec) << "writing " << target << ": " << ec.message();
  return Receive();
}

HttpReply HttpClient::SendRaw(const std::string& bytes) {
  beast::error_code ec;
  net::write(socket_, net::buffer(bytes), ec);
  EXPECT_FALSE(ec) << "writing: " << ec.message();
  return Receive();
}

HttpReply HttpClient::SendRawInPieces(const std::string& bytes, size_t piece,
                                      absl::Duration pause) {
  for (size_t at = 0; at < bytes.size(); at += piece) {
    if (at > 0) absl::SleepFor(pause);
    beast::error_code ec;
    net::write(socket_, net::buffer(bytes.data() + at, std::min(piece, bytes.size() - at)), ec);
    EXPECT_FALSE(ec) << "writing at byte " << at << ": " << ec.message();
    if (ec) return HttpReply();
  }
  return Receive();
}

bool HttpClient::ReadsEndOfStream(int timeout_ms) {
  if (buffer_.size() > 0) return false;  // more was sent after the reply
  pollfd readable{socket_.native_handle(), POLLIN, 0};
  if (::poll(&readable, 1, timeout_ms) != 1) return false;
  char byte = 0;
  beast::error_code ec;
  const size_t n = socket_.read_some(net::buffer(&byte, 1), ec);
  return n == 0 && ec == net::error::eof;
}

HttpReply HttpClient::Receive() {
  HttpReply reply;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);  // the tests download CSVs and read large error bodies
  beast::error_code ec;
  http::read(socket_, buffer_, parser, ec);
  EXPECT_FALSE(ec) << "reading a response: " << ec.message();
  if (ec) return reply;
  reply.raw = parser.release();
  reply.status = reply.raw.result_int();
  reply.body = reply.raw.body();
  return reply;
}

}  // namespace shidang::testing
