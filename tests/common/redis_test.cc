#include "services/common/redis.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/call_budget.h"
#include "tests/kit/redis_server.h"

namespace shidang::redis {
namespace {

using ::testing::ElementsAre;

TEST(RedisConfigTest, ParsesAddresses) {
  auto unix_config = Config::FromAddress("unix:/tmp/r.sock");
  ASSERT_TRUE(unix_config.ok());
  EXPECT_EQ(unix_config->unix_socket, "/tmp/r.sock");
  auto tcp = Config::FromAddress("10.0.0.1:6380");
  ASSERT_TRUE(tcp.ok());
  EXPECT_EQ(tcp->host, "10.0.0.1");
  EXPECT_EQ(tcp->port, 6380);
  EXPECT_EQ(Config::FromAddress("h:notaport").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Config::FromAddress("unix:").status().code(), absl::StatusCode::kInvalidArgument);
}

class RedisPoolTest : public ::testing::Test {
 protected:
  testing::RedisServer server_;
};

TEST_F(RedisPoolTest, ArgumentsAreNeverParsedAsCommands) {
  Pool pool(server_.config());
  // A value that would be two commands if formatted into a command string.
  const std::string hostile = "x\r\nFLUSHALL\r\nSET pwned 1 %s %d";
  ASSERT_TRUE(pool.Command({"SET", "k", hostile}).ok());
  auto got = pool.Command({"GET", "k"});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->str(), hostile);
  auto pwned = pool.Command({"EXISTS", "pwned"});
  ASSERT_TRUE(pwned.ok());
  EXPECT_EQ(pwned->integer(), 0);
}

TEST_F(RedisPoolTest, PipelineReturnsRepliesInOrderWithPerCommandErrors) {
  Pool pool(server_.config());
  auto replies =
      pool.Pipeline({{"SET", "a", "1"}, {"INCR", "a"}, {"HGET", "a", "f"}, {"GET", "a"}});
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 4u);
  EXPECT_EQ((*replies)[1].integer(), 2);
  EXPECT_TRUE((*replies)[2].is_error());  // WRONGTYPE
  EXPECT_EQ((*replies)[2].ToStatus().code(), absl::StatusCode::kInternal);
  EXPECT_EQ((*replies)[3].str(), "2");
}

TEST_F(RedisPoolTest, ErrorReplyBecomesStatus) {
  Pool pool(server_.config());
  auto reply = pool.Command({"NOSUCHCOMMAND"});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kInternal);
}

TEST_F(RedisPoolTest, ScriptLoadsOnNoscriptAndRunsBySha) {
  Pool pool(server_.config());
  Script script("return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}");
  auto first = pool.Eval(script, {"counter"}, {"hello"});
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->size(), 3u);
  EXPECT_EQ((*first)[0].str(), "counter");
  EXPECT_EQ((*first)[1].str(), "hello");
  EXPECT_EQ((*first)[2].integer(), 1);
  // The script is now cached: EVALSHA works directly.
  auto exists = pool.Command({"SCRIPT", "EXISTS", script.sha1()});
  ASSERT_TRUE(exists.ok());
  EXPECT_EQ((*exists)[0].integer(), 1);
  // After the cache is flushed (as after a restart) it is loaded again.
  ASSERT_TRUE(pool.Command({"SCRIPT", "FLUSH"}).ok());
  auto second = pool.Eval(script, {"counter"}, {"again"});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*second)[2].integer(), 2);
}

TEST_F(RedisPoolTest, EvalViewsSendsTheCallersBytesAndLoadsOnNoscript) {
  Pool pool(server_.config());
  Script script(
      "redis.call('RPUSH', KEYS[1], unpack(ARGV)); return redis.call('LRANGE', KEYS[1], 0, -1)");
  const std::string key = "list";
  const std::vector<std::string> values = {"a", std::string("b\0c\r\n", 5), "",
                                           std::string(70000, 'x')};
  const std::vector<absl::string_view> keys = {key};
  const std::vector<absl::string_view> args(values.begin(), values.end());
  ASSERT_TRUE(pool.Command({"SCRIPT", "FLUSH"}).ok());
  for (int run = 1; run <= 2; ++run) {  // the first run meets NOSCRIPT, the second EVALSHA
    auto reply = pool.EvalViews(script, keys, args, absl::ZeroDuration());
    ASSERT_TRUE(reply.ok()) << reply.status();
    ASSERT_EQ(reply->size(), values.size() * run);
    for (size_t i = 0; i < reply->size(); ++i) {
      EXPECT_EQ((*reply)[i].str(), values[i % values.size()]) << i;
    }
  }
  auto wrong =
      pool.EvalViews(Script("return redis.call('INCR', KEYS[1])"), keys, {}, absl::ZeroDuration());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInternal);
}

// Requests of 64 KiB or more bypass hiredis's buffer (redis.cc, WriteDirect): the bytes, their
// order and the connection's step must come out exactly as through hiredis.
TEST_F(RedisPoolTest, LargePipelinesArriveWholeAndInOrder) {
  Pool pool(server_.config());
  const std::string protocol_lookalike = "x\r\n*1\r\n$8\r\nFLUSHALL\r\n";
  std::vector<Args> commands;
  std::vector<std::string> expected;
  // Small arguments (copied beside their headers), large ones (sent from their own buffers),
  // empty ones and protocol look-alikes; more pieces than one writev takes (IOV_MAX) and more
  // bytes than a socket buffer holds.
  for (int i = 0; i < 3000; ++i) {
    std::string value;
    switch (i % 4) {
      case 0:
        value = std::to_string(i);
        break;
      case 1:
        value = std::string(300 + i, static_cast<char>('a' + i % 26));
        break;
      case 2:
        value = "";
        break;
      default:
        value = protocol_lookalike + std::string(i % 7 == 0 ? 5000 : 10, '\0');
        break;
    }
    commands.push_back({"RPUSH", "big", value});
    expected.push_back(std::move(value));
  }
  auto replies = pool.Pipeline(commands);
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), commands.size());
  for (size_t i = 0; i < replies->size(); ++i) {
    ASSERT_EQ((*replies)[i].integer(), static_cast<int64_t>(i + 1)) << i;
  }
  auto stored = pool.Command({"LRANGE", "big", "0", "-1"});
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(stored->size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ((*stored)[i].str(), expected[i]) << i;
  }
  // The same connections answer small commands in step afterwards.
  for (int i = 0; i < 4; ++i) {
    auto length = pool.Command({"LLEN", "big"});
    ASSERT_TRUE(length.ok()) << length.status();
    EXPECT_EQ(length->integer(), 3000);
  }
}

TEST_F(RedisPoolTest, ManyThreadsShareThePool) {
  Config config = server_.config();
  config.pool_size = 3;
  Pool pool(config);
  std::atomic<int> failures{0};
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (!pool.Command({"INCR", "n"}).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto n = pool.Command({"GET", "n"});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->str(), "1600");
  PoolStats stats = pool.Stats();
  EXPECT_EQ(stats.size, 3);
  EXPECT_EQ(stats.in_use, 0);
  EXPECT_GT(stats.waits, 0);
}

TEST_F(RedisPoolTest, ASessionsTransactionIsRefusedWhenAWatchedKeyChangedAndAppliedOtherwise) {
  Config config = server_.config();
  config.pool_size = 2;
  Pool pool(config);
  ASSERT_TRUE(pool.Command({"SET", "balance", "10"}).ok());
  {
    auto session = pool.Hold();
    ASSERT_TRUE(session.ok()) << session.status();
    auto read = (*session)->Pipeline({{"WATCH", "balance"}, {"GET", "balance"}});
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ((*read)[1].str(), "10");
    // Another client changes the watched key between the read and the write.
    ASSERT_TRUE(pool.Command({"SET", "balance", "11"}).ok());
    auto written = (*session)->Pipeline(
        {{"MULTI"}, {"SET", "balance", "9"}, {"RPUSH", "log", "-1"}, {"EXEC"}});
    ASSERT_TRUE(written.ok()) << written.status();
    EXPECT_TRUE(written->back().is_nil());  // refused: nothing of it applied
  }
  auto balance = pool.Command({"GET", "balance"});
  ASSERT_TRUE(balance.ok());
  EXPECT_EQ(balance->str(), "11");
  auto log = pool.Command({"EXISTS", "log"});
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->integer(), 0);
  {
    auto session = pool.Hold();
    ASSERT_TRUE(session.ok()) << session.status();
    ASSERT_TRUE((*session)->Pipeline({{"WATCH", "balance"}, {"GET", "balance"}}).ok());
    auto written = (*session)->Pipeline(
        {{"MULTI"}, {"SET", "balance", "10"}, {"RPUSH", "log", "-1"}, {"EXEC"}});
    ASSERT_TRUE(written.ok()) << written.status();
    ASSERT_TRUE(written->back().is_array());
    EXPECT_EQ(written->back().size(), 2u);
  }
  balance = pool.Command({"GET", "balance"});
  ASSERT_TRUE(balance.ok());
  EXPECT_EQ(balance->str(), "10");
  EXPECT_EQ(pool.Stats().in_use, 0);
}

TEST_F(RedisPoolTest, ASessionThatMustLeaveConnectionsIdleIsRefusedAtOnceWhenTooFewAre) {
  Config config = server_.config();
  config.pool_size = 3;
  Pool pool(config);
  auto first = pool.Hold(1);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = pool.Hold(1);
  ASSERT_TRUE(second.ok()) << second.status();  // two were idle
  const absl::Time start = absl::Now();
  auto third = pool.Hold(1);
  EXPECT_EQ(third.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - start, config.command_timeout);  // not waited for
  // The one left serves everyone else.
  ASSERT_TRUE(pool.Command({"SET", "k", "v"}).ok());
  EXPECT_EQ(pool.Stats().in_use, 2);
}

TEST_F(RedisPoolTest, ASessionLeftInsideATransactionHandsBackAConnectionWithout) {
  Config config = server_.config();
  config.pool_size = 1;  // the next command gets the same connection
  Pool pool(config);
  {
    auto session = pool.Hold();
    ASSERT_TRUE(session.ok()) << session.status();
    // Left open: the queued SET must never run, and no later caller may inherit the MULTI.
    auto queued = (*session)->Pipeline({{"WATCH", "k"}, {"MULTI"}, {"SET", "k", "queued"}});
    ASSERT_TRUE(queued.ok()) << queued.status();
    EXPECT_EQ((*queued)[2].str(), "QUEUED");
  }
  EXPECT_EQ(pool.Stats().in_use, 0);
  auto set = pool.Command({"SET", "other", "1"});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->str(), "OK");  // not "QUEUED": a fresh connection
  auto k = pool.Command({"EXISTS", "k"});
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->integer(), 0);
  // Nor a watch: a transaction on it now is not refused by a change to "k".
  {
    auto session = pool.Hold();
    ASSERT_TRUE(session.ok()) << session.status();
    ASSERT_TRUE((*session)->Pipeline({{"WATCH", "k"}, {"GET", "k"}}).ok());
  }  // left watching
  ASSERT_TRUE(pool.Command({"SET", "k", "changed"}).ok());
  {
    auto session = pool.Hold();
    ASSERT_TRUE(session.ok()) << session.status();
    auto written = (*session)->Pipeline({{"MULTI"}, {"SET", "after", "1"}, {"EXEC"}});
    ASSERT_TRUE(written.ok()) << written.status();
    EXPECT_TRUE(written->back().is_array());  // applied
  }
  EXPECT_EQ(pool.Stats().failures, 0);  // reset, not closed
}

TEST_F(RedisPoolTest, RedisDownFailsFastWithUnavailableAndRecoversByItself) {
  Pool pool(server_.config());
  ASSERT_TRUE(pool.Command({"SET", "k", "v"}).ok());
  server_.Kill();

  for (int i = 0; i < 5; ++i) {
    absl::Time start = absl::Now();
    auto reply = pool.Command({"GET", "k"});
    absl::Duration took = absl::Now() - start;
    EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable) << reply.status();
    EXPECT_LT(took, absl::Seconds(1));
  }

  server_.Start();  // same data dir: the AOF brings "k" back
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  absl::StatusOr<Reply> reply = absl::UnavailableError("not tried");
  while (absl::Now() < deadline) {
    reply = pool.Command({"GET", "k"});
    if (reply.ok()) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->str(), "v");
  EXPECT_GE(pool.Stats().reconnects, 1);
}

TEST_F(RedisPoolTest, ArrayRepliesOutliveTheirParentCopy) {
  Pool pool(server_.config());
  ASSERT_TRUE(pool.Command({"RPUSH", "l", "a", "b", "c"}).ok());
  Reply second;
  {
    auto all = pool.Command({"LRANGE", "l", "0", "-1"});
    ASSERT_TRUE(all.ok());
    second = (*all)[1];
  }
  EXPECT_EQ(second.str(), "b");
  auto all = pool.Command({"LRANGE", "l", "0", "-1"});
  std::vector<std::string> values;
  for (size_t i = 0; i < all->size(); ++i) values.emplace_back((*all)[i].str());
  EXPECT_THAT(values, ElementsAre("a", "b", "c"));
}

// A call's Redis work shares one budget: with Redis stalled, the wait for a free connection and
// the wait for a reply together stay within it (before: each had the command timeout of its own),
// later operations of the call fail at once, and a new call gets a new budget.
TEST_F(RedisPoolTest, ACallsRedisWaitsShareOneBudget) {
  Config config = server_.config();
  config.pool_size = 1;
  Pool pool(config);
  ASSERT_TRUE(pool.Command({"PING"}).ok());
  server_.Pause();
  const absl::Duration budget = absl::Milliseconds(300);
  std::vector<absl::Duration> took(2);
  std::vector<absl::Status> first(2), second(2);
  std::vector<std::thread> calls;
  calls.reserve(took.size());
  for (int i = 0; i < 2; ++i) {
    calls.emplace_back([&, i] {
      BeginCallBudget(absl::InfiniteFuture(), budget);
      const absl::Time start = absl::Now();
      first[i] = pool.Command({"GET", "k"}).status();  // one waits for the reply, one for the slot
      second[i] = pool.Command({"GET", "k"}).status();
      took[i] = absl::Now() - start;
      EndCallBudget();
    });
  }
  for (std::thread& t : calls) t.join();
  server_.Resume();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(first[i].code(), absl::StatusCode::kUnavailable) << first[i];
    EXPECT_EQ(second[i].code(), absl::StatusCode::kUnavailable) << second[i];
    EXPECT_LT(took[i], budget + absl::Milliseconds(150)) << i;
  }
  // A refused call never touches Redis; a call past its deadline is DEADLINE_EXCEEDED.
  BeginCallBudget(absl::InfiniteFuture(), budget, absl::UnavailableError("overloaded"));
  EXPECT_EQ(pool.Command({"PING"}).status().message(), "overloaded");
  EndCallBudget();
  BeginCallBudget(absl::Now() - absl::Milliseconds(1), budget);
  EXPECT_EQ(pool.Command({"PING"}).status().code(), absl::StatusCode::kDeadlineExceeded);
  EndCallBudget();
  // Recovered, without a new pool.
  absl::StatusOr<Reply> pong = pool.Command({"PING"});
  for (int i = 0; i < 20 && !pong.ok(); ++i) {
    absl::SleepFor(absl::Milliseconds(50));
    pong = pool.Command({"PING"});
  }
  EXPECT_TRUE(pong.ok()) << pong.status();
}

// A call whose work grows with its input extends its budget (ExtendCallBudget): with Redis stalled
// past the plain budget, its command waits on and is answered; the extension never takes it past
// the call's deadline, and without an open budget it changes nothing.
TEST_F(RedisPoolTest, AnExtendedBudgetWaitsLongerButNotPastTheDeadline) {
  Pool pool(server_.config());
  ASSERT_TRUE(pool.Command({"PING"}).ok());
  const absl::Duration budget = absl::Milliseconds(200);
  server_.Pause();
  std::thread resume([&] {
    absl::SleepFor(absl::Milliseconds(600));
    server_.Resume();
  });
  BeginCallBudget(absl::InfiniteFuture(), budget);
  ExtendCallBudget(absl::Seconds(5));
  const absl::Status waited = pool.Command({"PING"}).status();
  EndCallBudget();
  resume.join();
  EXPECT_TRUE(waited.ok()) << waited;

  server_.Pause();
  const absl::Time start = absl::Now();
  BeginCallBudget(start + absl::Milliseconds(300), budget);
  ExtendCallBudget(absl::Seconds(5));
  const absl::Status stopped = pool.Command({"PING"}).status();
  EndCallBudget();
  const absl::Duration took = absl::Now() - start;
  server_.Resume();
  EXPECT_FALSE(stopped.ok());
  EXPECT_LT(took, absl::Milliseconds(300) + absl::Milliseconds(250)) << stopped;

  ExtendCallBudget(absl::Seconds(5));  // no budget open: nothing to extend
  EXPECT_TRUE(pool.Command({"PING"}).ok());
}

}  // namespace
}  // namespace shidang::redis
