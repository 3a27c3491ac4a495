// The gRPC front's limit on a request's header list (grpc_front.h, --max_header_bytes): a client
// that sends more gets an answer (INVALID_ARGUMENT naming the field, its connection kept), never
// a hang or a silent close. The clients here are a raw HTTP/2 one on nghttp2, which sends what it
// is told whatever the gateway advertised, and gRPC's own, which reads the advertised limit.

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "gtest/gtest.h"
#include "kit/testing.grpc.pb.h"  // generated from tests/kit/testing.proto
#include "shidang/common/v1/options.pb.h"
#include "tests/kit/descriptor_sets.h"
#include "tests/kit/gateway_fixture.h"

namespace shidang::testing {
namespace {

namespace net = boost::asio;
using ::testing::HasSubstr;

constexpr char kEchoPath[] = "/shidang.testing.v1.EchoService/Echo";

// What the raw client saw of one stream.
struct StreamSeen {
  std::map<std::string, std::string> headers;  // response headers and trailers together
  std::optional<uint32_t> reset;               // RST_STREAM's error code
  bool closed = false;
};

// A bare HTTP/2 client over one TCP connection, driven by hand: it submits what a test gives it
// (no limit of its own) and reads until what a test waits for comes, the connection ends, or a
// timeout passes.
class RawH2Client {
 public:
  explicit RawH2Client(int port) : socket_(io_) {
    boost::system::error_code ec;
    socket_.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"),
                                           static_cast<unsigned short>(port)),
                    ec);
    EXPECT_FALSE(ec) << ec.message();
    nghttp2_session_callbacks* callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, OnHeader);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, OnFrame);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, OnClose);
    // nghttp2 sends at most 64 KiB of header block by default: this client sends what it is told.
    nghttp2_option* option = nullptr;
    nghttp2_option_new(&option);
    nghttp2_option_set_max_send_header_block_length(option, size_t{1} << 20);
    nghttp2_session_client_new2(&session_, callbacks, this, option);
    nghttp2_option_del(option);
    nghttp2_session_callbacks_del(callbacks);
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~RawH2Client() { nghttp2_session_del(session_); }
  RawH2Client(const RawH2Client&) = delete;
  RawH2Client& operator=(const RawH2Client&) = delete;

  // A unary call's request: its headers plus `extra`, then `message` (may be empty) as one gRPC
  // frame. The stream id.
  int32_t Call(const std::string& token,
               const std::vector<std::pair<std::string, std::string>>& extra,
               const std::string& message) {
    std::vector<std::pair<std::string, std::string>> fields = {
        {":method", "POST"},
        {":scheme", "http"},
        {":path", kEchoPath},
        {":authority", "127.0.0.1"},
        {"content-type", "application/grpc"},
        {"te", "trailers"},
        {"authorization", "Bearer " + token}};
    fields.insert(fields.end(), extra.begin(), extra.end());
    std::vector<nghttp2_nv> nva;
    nva.reserve(fields.size());
    for (auto& [name, value] : fields) {
      nva.push_back({reinterpret_cast<uint8_t*>(name.data()),
                     reinterpret_cast<uint8_t*>(value.data()), name.size(), value.size(),
                     NGHTTP2_NV_FLAG_NONE});
    }
    body_ = std::string(5, '\0');
    body_[4] = static_cast<char>(message.size());  // the tests' messages are under 256 bytes
    body_ += message;
    body_sent_ = 0;
    nghttp2_data_provider provider;
    provider.source.ptr = this;
    provider.read_callback = ReadBody;
    return nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), &provider, this);
  }

  // Exchanges frames until `done()` holds, the connection ends, or 10 s pass; whether done() held.
  template <typename Done>
  bool RunUntil(Done done) {
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (!done()) {
      if (!Flush() || ended_ || absl::Now() > give_up) return done();
      pollfd readable{socket_.native_handle(), POLLIN, 0};
      if (::poll(&readable, 1, 50) != 1) continue;
      uint8_t buffer[16384];
      const ssize_t n = ::recv(socket_.native_handle(), buffer, sizeof(buffer), 0);
      if (n <= 0) {
        ended_ = true;
        continue;
      }
      if (nghttp2_session_mem_recv(session_, buffer, static_cast<size_t>(n)) < 0) ended_ = true;
    }
    return true;
  }

  const StreamSeen& stream(int32_t id) { return streams_[id]; }
  // Header `name` of stream `id`'s response, or "" when it has none.
  std::string Header(int32_t id, const std::string& name) {
    auto it = streams_[id].headers.find(name);
    return it == streams_[id].headers.end() ? "" : it->second;
  }
  std::optional<uint32_t> goaway() const { return goaway_; }
  bool ended() const { return ended_; }

 private:
  bool Flush() {
    while (true) {
      const uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) return false;
      if (n == 0) return true;
      boost::system::error_code ec;
      net::write(socket_, net::buffer(data, static_cast<size_t>(n)), ec);
      if (ec) {
        ended_ = true;
        return false;
      }
    }
  }

  static ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                          nghttp2_data_source* source, void*) {
    auto* self = static_cast<RawH2Client*>(source->ptr);
    const size_t n = std::min(length, self->body_.size() - self->body_sent_);
    std::copy_n(self->body_.data() + self->body_sent_, n, buf);
    self->body_sent_ += n;
    if (self->body_sent_ == self->body_.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t,
                      void* user_data) {
    auto* self = static_cast<RawH2Client*>(user_data);
    self->streams_[frame->hd.stream_id]
        .headers[std::string(reinterpret_cast<const char*>(name), namelen)] =
        std::string(reinterpret_cast<const char*>(value), valuelen);
    return 0;
  }
  static int OnFrame(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    auto* self = static_cast<RawH2Client*>(user_data);
    if (frame->hd.type == NGHTTP2_RST_STREAM) {
      self->streams_[frame->hd.stream_id].reset = frame->rst_stream.error_code;
    } else if (frame->hd.type == NGHTTP2_GOAWAY) {
      self->goaway_ = frame->goaway.error_code;
    }
    return 0;
  }
  static int OnClose(nghttp2_session*, int32_t stream_id, uint32_t, void* user_data) {
    static_cast<RawH2Client*>(user_data)->streams_[stream_id].closed = true;
    return 0;
  }

  net::io_context io_;
  net::ip::tcp::socket socket_;
  nghttp2_session* session_ = nullptr;
  std::string body_;
  size_t body_sent_ = 0;
  std::map<int32_t, StreamSeen> streams_;
  std::optional<uint32_t> goaway_;
  bool ended_ = false;
};

class GrpcHeaderLimitTest : public GatewayFixture {
 protected:
  GrpcHeaderLimitTest() : GatewayFixture(SHIDANG_GATEWAY, SHIDANG_ECHO_SERVER) {}

  void SetUp() override {
    WriteFiles(testing::DescriptorSetWithEchoOpenTo(
        SHIDANG_DESCRIPTOR_SET, SHIDANG_TESTING_DESCRIPTOR_SET, common::v1::ROLE_TEACHER));
    ASSERT_NO_FATAL_FAILURE(StartEcho());
    common::v1::Principal claims;
    claims.set_role(common::v1::ROLE_TEACHER);
    claims.set_subject("t-headers");
    token_ = TokenFor(claims);
    ASSERT_NO_FATAL_FAILURE(LaunchGateway(
        {"--backends=shidang.testing.v1.EchoService=" + echo_->address(), "--rate_per_second=0"}));
    v1::EchoRequest request;
    request.set_text("hello");
    echo_bytes_ = request.SerializeAsString();
  }

  // Stream `id`'s grpc-status once it closed (within 10 s), or "" when it never answered.
  std::string StatusOf(RawH2Client& client, int32_t id) {
    client.RunUntil([&] { return client.stream(id).closed; });
    return client.Header(id, "grpc-status");
  }

  std::string token_;
  std::string echo_bytes_;
};

TEST_F(GrpcHeaderLimitTest, OneFieldOverTheLimitIsInvalidArgumentNamingIt) {
  RawH2Client client(gateway_->port());
  const int32_t big = client.Call(token_, {{"x-big", std::string(9000, 'b')}}, echo_bytes_);
  ASSERT_GT(big, 0);
  EXPECT_EQ(StatusOf(client, big), "3");  // INVALID_ARGUMENT
  const std::string message = client.Header(big, "grpc-message");
  EXPECT_THAT(message, HasSubstr("x-big"));
  EXPECT_THAT(message, HasSubstr("8192"));
  EXPECT_THAT(message, ::testing::Not(HasSubstr("bbbb")));  // the value is never echoed
  // A stream's refusal: the connection goes on and serves the next call.
  const int32_t next = client.Call(token_, {}, echo_bytes_);
  EXPECT_EQ(StatusOf(client, next), "0");
  EXPECT_FALSE(client.goaway().has_value());
}

TEST_F(GrpcHeaderLimitTest, ManyFieldsOverTheLimitTogetherAreInvalidArgument) {
  RawH2Client client(gateway_->port());
  std::vector<std::pair<std::string, std::string>> extra;
  extra.reserve(40);
  for (int i = 0; i < 40; ++i) {
    extra.emplace_back(absl::StrCat("x-part-", i), std::string(250, 'p'));
  }
  const int32_t id = client.Call(token_, extra, echo_bytes_);
  EXPECT_EQ(StatusOf(client, id), "3");
  const std::string message = client.Header(id, "grpc-message");
  EXPECT_THAT(message, HasSubstr("metadata"));
  EXPECT_THAT(message, HasSubstr("8192"));
}

TEST_F(GrpcHeaderLimitTest, GrpcClientsAreRefusedWithInvalidArgumentToo) {
  auto stub = v1::EchoService::NewStub(channel_);
  auto call = [&](const std::string& metadata) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    context.AddMetadata("authorization", "Bearer " + token_);
    if (!metadata.empty()) context.AddMetadata("x-big", metadata);
    v1::EchoRequest request;
    request.set_text("hello");
    v1::EchoResponse response;
    return stub->Echo(&context, request, &response);
  };
  ASSERT_TRUE(call("").ok());  // the connection is up, the gateway's SETTINGS read
  grpc::Status refused = call(std::string(9000, 'b'));
  // gRPC's C++ client (1.51) sends it anyway: the gateway's answer, naming the field.
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << refused.error_message();
  EXPECT_THAT(refused.error_message(), HasSubstr("x-big"));
  EXPECT_TRUE(call("").ok());
}

TEST_F(GrpcHeaderLimitTest, TheLimitIsAFlag) {
  ASSERT_NO_FATAL_FAILURE(
      LaunchGateway({"--backends=shidang.testing.v1.EchoService=" + echo_->address(),
                     "--rate_per_second=0", "--max_header_bytes=16384"}));
  RawH2Client client(gateway_->port());
  EXPECT_EQ(StatusOf(client, client.Call(token_, {{"x-big", std::string(9000, 'b')}}, echo_bytes_)),
            "0");
  const int32_t id = client.Call(token_, {{"x-big", std::string(17000, 'b')}}, echo_bytes_);
  EXPECT_EQ(StatusOf(client, id), "3");
  EXPECT_THAT(client.Header(id, "grpc-message"), HasSubstr("16384"));
}

// One field far over the limit (70 KB; nghttp2 1.52's decoder takes it, and before this limit the
// call went on to the backend): refused on its stream like any other, not passed on.
TEST_F(GrpcHeaderLimitTest, AFieldFarOverTheLimitIsRefusedToo) {
  RawH2Client client(gateway_->port());
  const int32_t id = client.Call(token_, {{"x-huge", std::string(70000, 'h')}}, echo_bytes_);
  EXPECT_EQ(StatusOf(client, id), "3");
  EXPECT_THAT(client.Header(id, "grpc-message"), HasSubstr("x-huge"));
}

}  // namespace
}  // namespace shidang::testing
