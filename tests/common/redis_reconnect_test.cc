// The pool after its connections die under it (services/common/redis.h): a restarted
// redis-server leaves every pooled connection closed by the peer, and a connection that breaks
// after a command was sent leaves the caller without its reply. Reads go on without a failure;
// a write that may have run is never sent twice.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/common/redis.h"
#include "tests/kit/redis_server.h"

namespace shidang::redis {
namespace {

// A port on the loopback interface nobody listens on now.
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ADD_FAILURE() << "no free port: " << std::strerror(errno);
  }
  close(fd);
  return ntohs(addr.sin_port);
}

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// A TCP front for the test's redis-server that loses replies when told to: it closes the client's
// connection when Redis answers instead of passing the answer on. Redis has run the command; the
// client hears nothing but EOF, as when a connection breaks between request and reply.
class ReplyLosingProxy {
 public:
  explicit ReplyLosingProxy(std::string redis_socket) : redis_socket_(std::move(redis_socket)) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(listener_, 16) ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "proxy: " << std::strerror(errno);
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~ReplyLosingProxy() {
    stopping_ = true;
    shutdown(listener_, SHUT_RDWR);  // wakes accept
    acceptor_.join();
    close(listener_);
    for (std::thread& pipe : pipes_) pipe.join();
  }

  Config config() const {
    Config config;
    config.host = "127.0.0.1";
    config.port = port_;
    return config;
  }
  // The next `count` replies from Redis are dropped with their connections.
  void LoseReplies(int count) { to_lose_ = count; }

 private:
  void Accept() {
    for (;;) {
      const int client = accept(listener_, nullptr, nullptr);
      if (client < 0) return;
      pipes_.emplace_back([this, client] { Pipe(client); });
    }
  }

  void Pipe(int client) {
    const int server = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, redis_socket_.c_str(), sizeof(addr.sun_path) - 1);
    if (connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      char buffer[64 * 1024];
      while (!stopping_) {
        if (poll(fds, 2, 50) <= 0) continue;
        if (fds[0].revents != 0) {
          const ssize_t n = read(client, buffer, sizeof(buffer));
          if (n <= 0 || !WriteAll(server, buffer, static_cast<size_t>(n))) break;
        }
        if (fds[1].revents != 0) {
          const ssize_t n = read(server, buffer, sizeof(buffer));
          if (n <= 0 || TakeOneLoss() || !WriteAll(client, buffer, static_cast<size_t>(n))) break;
        }
      }
    }
    close(server);
    close(client);
  }

  bool TakeOneLoss() {
    int left = to_lose_.load();
    while (left > 0 && !to_lose_.compare_exchange_weak(left, left - 1)) {
    }
    return left > 0;
  }

  const std::string redis_socket_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> to_lose_{0};
  std::thread acceptor_;
  std::vector<std::thread> pipes_;  // touched by the acceptor only, until it is joined
};

// Runs `command` once on each of the pool's connections (sessions held at once each take their
// own): what each answered, or why it failed.
std::vector<absl::Status> OnEveryConnection(Pool& pool, const Args& command) {
  std::vector<absl::Status> outcomes;
  std::vector<std::unique_ptr<Pool::Session>> held;
  for (int i = 0; i < pool.config().pool_size; ++i) {
    absl::StatusOr<std::unique_ptr<Pool::Session>> session = pool.Hold();
    if (!session.ok()) {
      outcomes.push_back(session.status());
      continue;
    }
    absl::StatusOr<std::vector<Reply>> replies = (*session)->Pipeline({command});
    outcomes.push_back(replies.ok() ? (*replies)[0].ToStatus() : replies.status());
    held.push_back(std::move(*session));
  }
  return outcomes;
}

// Listening on the loopback port as well as on its socket.
testing::RedisServerOptions OnPort(int port) {
  testing::RedisServerOptions options;
  options.extra_args = {"--port", std::to_string(port), "--bind", "127.0.0.1"};
  return options;
}

class RedisRestartTest : public ::testing::TestWithParam<bool> {
 protected:
  RedisRestartTest() : port_(FreePort()), server_(OnPort(port_)) {}
  bool over_tcp() const { return GetParam(); }

  Config PoolConfig() const {
    Config config = server_.config();
    if (over_tcp()) {
      config = Config();
      config.port = port_;
    }
    config.pool_size = 4;
    return config;
  }

  const int port_;
  testing::RedisServer server_;
};

// Before: the first command on each of the pool's connections after the restart failed
// ("Broken pipe" on the socket, EOF over TCP) although Redis was back.
TEST_P(RedisRestartTest, TheFirstCommandsAfterARestartSucceed) {
  Pool pool(PoolConfig());
  const int size = PoolConfig().pool_size;
  ASSERT_TRUE(pool.Command({"SET", "k", "v"}).ok());
  for (const absl::Status& opened : OnEveryConnection(pool, {"PING"})) ASSERT_TRUE(opened.ok());
  server_.Kill();
  server_.Start();  // same socket and port; the AOF brings "k" back

  for (const absl::Status& read : OnEveryConnection(pool, {"GET", "k"})) {
    EXPECT_TRUE(read.ok()) << read;
  }
  for (int i = 0; i < size; ++i) {
    absl::StatusOr<Reply> got = pool.Command({"GET", "k"});
    ASSERT_TRUE(got.ok()) << "read " << i << ": " << got.status();
    EXPECT_EQ(got->str(), "v");
  }
  // Writes too, each applied once.
  server_.Kill();
  server_.Start();
  for (const absl::Status& write : OnEveryConnection(pool, {"INCR", "n"})) {
    EXPECT_TRUE(write.ok()) << write;
  }
  absl::StatusOr<Reply> counted = pool.Command({"INCR", "n"});
  ASSERT_TRUE(counted.ok()) << counted.status();
  EXPECT_EQ(counted->integer(), size + 1);
  // Each dead connection was found before anything was sent on it: replaced, nothing resent.
  EXPECT_EQ(pool.Stats().resends, 0);
  EXPECT_GE(pool.Stats().reconnects, 2 * size);
}

INSTANTIATE_TEST_SUITE_P(UnixAndTcp, RedisRestartTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Tcp" : "UnixSocket";
                         });

class RedisLostReplyTest : public ::testing::Test {
 protected:
  testing::RedisServer server_;
  ReplyLosingProxy proxy_{server_.socket_path()};
};

// A read whose reply was lost is sent again on another connection and answers.
TEST_F(RedisLostReplyTest, AReadWhoseReplyWasLostIsSentAgain) {
  Pool pool(proxy_.config());
  ASSERT_TRUE(server_.pool().Command({"SET", "k", "v"}).ok());
  ASSERT_TRUE(pool.Command({"PING"}).ok());
  proxy_.LoseReplies(1);
  absl::StatusOr<Reply> got = pool.Command({"GET", "k"});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->str(), "v");
  proxy_.LoseReplies(1);
  absl::StatusOr<std::vector<Reply>> both = pool.Pipeline({{"GET", "k"}, {"EXISTS", "k"}});
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ((*both)[0].str(), "v");
  EXPECT_EQ((*both)[1].integer(), 1);
  EXPECT_EQ(pool.Stats().resends, 2);
  // Twice lost: sent again once only, then UNAVAILABLE.
  proxy_.LoseReplies(2);
  EXPECT_EQ(pool.Command({"GET", "k"}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(pool.Stats().resends, 3);
}

// A write whose reply was lost has run in Redis: sending it again would apply it twice. It
// answers UNAVAILABLE (the caller retries with its request id) and was applied exactly once.
TEST_F(RedisLostReplyTest, AWriteWhoseReplyWasLostIsNotAppliedTwice) {
  Pool pool(proxy_.config());
  const Script add("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  ASSERT_TRUE(pool.Eval(add, {"by_script"}, {"0"}).ok());  // loaded
  ASSERT_TRUE(pool.Command({"HSET", "h", "f", "1"}).ok());

  proxy_.LoseReplies(1);
  EXPECT_EQ(pool.Command({"INCR", "n"}).status().code(), absl::StatusCode::kUnavailable);
  proxy_.LoseReplies(1);
  EXPECT_EQ(pool.Eval(add, {"by_script"}, {"5"}).status().code(), absl::StatusCode::kUnavailable);
  proxy_.LoseReplies(1);
  EXPECT_EQ(pool.Pipeline({{"GET", "n"}, {"HINCRBY", "h", "f", "1"}}).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(pool.Stats().resends, 0);

  absl::StatusOr<std::vector<Reply>> now =
      server_.pool().Pipeline({{"GET", "n"}, {"GET", "by_script"}, {"HGET", "h", "f"}});
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_EQ((*now)[0].str(), "1");
  EXPECT_EQ((*now)[1].str(), "5");
  EXPECT_EQ((*now)[2].str(), "2");
}

}  // namespace
}  // namespace shidang::redis
