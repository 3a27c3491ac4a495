#include "services/common/events.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/keys.h"
#include "services/common/mutation.h"
#include "tests/kit/redis_server.h"

namespace shidang {
namespace {

using ::testing::ElementsAre;

// The publishing side: a training write that publishes its prepared events.
constexpr char kPublishBody[] = "emit_all() return {ok = ''}";
// The consuming side, as the profile service would apply an event: count it on the teacher,
// through Mutation with request_id = event id, so a second delivery is a replay.
constexpr char kCountBody[] = R"lua(
  return {ok = tostring(redis.call('HINCRBY', K[1], A[1], 1))}
)lua";

class EventsTest : public ::testing::Test {
 protected:
  EventsTest() : publish_(kPublishBody), count_(kCountBody) {}

  static std::string Stream(const std::string& county) {
    return keys::StreamKey("training", keys::HashTag("c", county));
  }

  // Publishes one event for `teacher` in `county`; returns its stream entry id.
  std::string Publish(const std::string& county, const std::string& teacher) {
    EXPECT_TRUE(RegisterStream(pool(), "training", Stream(county)).ok());
    MutationRequest m;
    m.stream_key = Stream(county);
    common::v1::Event event = NewEvent("training", "training.credited", absl::Now());
    event.set_county_id(county);
    event.set_teacher_id(teacher);
    m.events.push_back(event);
    auto result = publish_.Run(pool(), m);
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok() || result->stream_entry_ids.size() != 1) return "";
    return result->stream_entry_ids[0];
  }

  // What a consumer does with an event: idempotently count it on the teacher's profile.
  absl::Status CountOnProfile(const common::v1::Event& event) {
    const std::string tag = keys::HashTag("c", event.county_id());
    MutationRequest m;
    auto key = IdempotencyKey("profile", tag, "service:profile", "ApplyEvent", event.id());
    if (!key.ok()) return key.status();
    m.idempotency_key = *key;
    m.fingerprint = Fingerprint(event);
    m.request_id = event.id();
    m.stream_key = keys::StreamKey("profile", tag);
    m.keys = {ProfileKey(event.county_id(), event.teacher_id())};
    m.args = {event.type()};
    return count_.Run(pool(), m).status();
  }

  static std::string ProfileKey(const std::string& county, const std::string& teacher) {
    return absl::StrCat("profile:", keys::HashTag("c", county), ":teacher:", teacher);
  }

  int64_t Counted(const std::string& county, const std::string& teacher) {
    auto reply = pool().Command({"HGET", ProfileKey(county, teacher), "training.credited"});
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? reply->integer() : -1;
  }

  int64_t Pending(const std::string& stream, const std::string& group) {
    auto reply = pool().Command({"XPENDING", stream, group});
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? (*reply)[0].integer() : -1;
  }

  int64_t Length(const std::string& stream) {
    auto reply = pool().Command({"XLEN", stream});
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? reply->integer() : -1;
  }

  EventConsumerOptions Options(const std::string& consumer) {
    EventConsumerOptions options;
    options.group = "profile";
    options.consumer = consumer;
    options.block = absl::Milliseconds(10);
    options.retry_delay = absl::Milliseconds(100);
    options.claim_idle = absl::Milliseconds(300);
    return options;
  }

  // Polls until `want` events were applied in total, or 5 s pass; returns the total.
  static int PollUntil(EventConsumer& consumer, int want) {
    int total = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (total < want && std::chrono::steady_clock::now() < deadline) {
      auto applied = consumer.PollOnce();
      EXPECT_TRUE(applied.ok()) << applied.status();
      if (!applied.ok()) break;
      total += *applied;
    }
    return total;
  }

  redis::Pool& pool() { return server_.pool(); }

  testing::RedisServer server_;
  const Mutation publish_;
  const Mutation count_;
};

TEST_F(EventsTest, AppliesEachEventOnceAndAcknowledgesIt) {
  for (const char* teacher : {"t1", "t1", "t2"}) Publish("110105", teacher);
  for (const char* teacher : {"t3", "t3"}) Publish("110106", teacher);
  std::atomic<int> calls{0};
  EventConsumer consumer(pool(), Options("c1"), StreamsFromIndex(pool(), {"training"}),
                         [&](const common::v1::Event& event, absl::string_view) {
                           ++calls;
                           return CountOnProfile(event);
                         });
  EXPECT_EQ(PollUntil(consumer, 5), 5);
  EXPECT_EQ(Counted("110105", "t1"), 2);
  EXPECT_EQ(Counted("110105", "t2"), 1);
  EXPECT_EQ(Counted("110106", "t3"), 2);
  EXPECT_EQ(Pending(Stream("110105"), "profile"), 0);
  EXPECT_EQ(Pending(Stream("110106"), "profile"), 0);

  // Nothing new: nothing applied again.
  auto again = consumer.PollOnce();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, 0);
  EXPECT_EQ(calls.load(), 5);
  EXPECT_EQ(consumer.Stats().applied, 5);
}

// A write that publishes many events as one entry (MutationRequest::one_stream_entry): the
// consumer applies them one by one, in order, and acknowledges the entry once all are applied;
// when one fails the entry comes back whole, and the events applied before are replays.
TEST_F(EventsTest, ABatchEntryIsAppliedEventByEventAndAcknowledgedWhenAllAre) {
  ASSERT_TRUE(RegisterStream(pool(), "training", Stream("110105")).ok());
  MutationRequest m;
  m.stream_key = Stream("110105");
  m.one_stream_entry = true;
  for (const char* teacher : {"t1", "t2", "t1"}) {
    common::v1::Event event = NewEvent("training", "training.credited", absl::Now());
    event.set_county_id("110105");
    event.set_teacher_id(teacher);
    m.events.push_back(event);
  }
  auto published = publish_.Run(pool(), m);
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(published->stream_entry_ids.size(), 1u);
  EXPECT_EQ(Length(Stream("110105")), 1);

  std::vector<std::string> seen;  // event ids in the order applied
  std::atomic<bool> fail_third{true};
  EventConsumer consumer(pool(), Options("c1"), StreamsFromIndex(pool(), {"training"}),
                         [&](const common::v1::Event& event, absl::string_view) {
                           seen.push_back(event.id());
                           if (seen.size() == 3 && fail_third) {
                             return absl::UnavailableError("profile store is down");
                           }
                           return CountOnProfile(event);
                         });
  auto first = consumer.PollOnce();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, 2);
  EXPECT_EQ(Pending(Stream("110105"), "profile"), 1);
  fail_third = false;
  EXPECT_EQ(PollUntil(consumer, 3), 3);  // the whole entry again, after retry_delay
  EXPECT_EQ(Pending(Stream("110105"), "profile"), 0);
  ASSERT_EQ(seen.size(), 6u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(seen[i], m.events[i].id());
    EXPECT_EQ(seen[i + 3], m.events[i].id());
  }
  // Each event counted once, the first two's second delivery being replays.
  EXPECT_EQ(Counted("110105", "t1"), 2);
  EXPECT_EQ(Counted("110105", "t2"), 1);
}

TEST_F(EventsTest, FailedApplyStaysPendingAndIsRetried) {
  const std::string entry_id = Publish("110105", "t1");
  std::atomic<bool> failing{true};
  std::atomic<int> calls{0};
  EventConsumer consumer(pool(), Options("c1"), StreamsFromIndex(pool(), {"training"}),
                         [&](const common::v1::Event& event, absl::string_view) {
                           ++calls;
                           if (failing) return absl::UnavailableError("profile store is down");
                           return CountOnProfile(event);
                         });
  auto first = consumer.PollOnce();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, 0);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(Counted("110105", "t1"), 0);
  auto pending = pool().Command({"XPENDING", Stream("110105"), "profile", "-", "+", "10"});
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0][0].str(), entry_id);
  EXPECT_EQ((*pending)[0][1].str(), "c1");

  failing = false;
  EXPECT_EQ(PollUntil(consumer, 1), 1);
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(Counted("110105", "t1"), 1);
  EXPECT_EQ(Pending(Stream("110105"), "profile"), 0);
  EXPECT_EQ(consumer.Stats().failed, 1);
}

TEST_F(EventsTest, RedeliveryAfterApplyWithoutAckChangesNothingTwice) {
  Publish("110105", "t1");
  std::atomic<int> calls{0};
  // The first Apply writes and then fails, as a consumer that crashed before XACK would.
  EventConsumer consumer(pool(), Options("c1"), StreamsFromIndex(pool(), {"training"}),
                         [&](const common::v1::Event& event, absl::string_view) {
                           absl::Status written = CountOnProfile(event);
                           if (++calls == 1) return absl::UnavailableError("crashed before ack");
                           return written;
                         });
  auto first = consumer.PollOnce();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(Counted("110105", "t1"), 1);
  ASSERT_EQ(Pending(Stream("110105"), "profile"), 1);

  EXPECT_EQ(PollUntil(consumer, 1), 1);
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(Counted("110105", "t1"), 1);  // the second delivery was a replay
  EXPECT_EQ(Pending(Stream("110105"), "profile"), 0);
}

TEST_F(EventsTest, EntriesOfADeadConsumerAreClaimedAfterTheIdleTime) {
  const std::string stream = Stream("110105");
  for (const char* teacher : {"t1", "t2", "t3"}) Publish("110105", teacher);
  // Consumer A reads everything and dies without acknowledging.
  ASSERT_TRUE(pool().Command({"XGROUP", "CREATE", stream, "profile", "0", "MKSTREAM"}).ok());
  auto taken = pool().Command(
      {"XREADGROUP", "GROUP", "profile", "A", "COUNT", "10", "STREAMS", stream, ">"});
  ASSERT_TRUE(taken.ok()) << taken.status();
  ASSERT_EQ((*taken)[0][1].size(), 3u);

  EventConsumer b(pool(), Options("B"), StreamsFromIndex(pool(), {"training"}),
                  [&](const common::v1::Event& event, absl::string_view) {
                    return CountOnProfile(event);
                  });
  // Not yet idle for claim_idle (300 ms): A may still be working on them.
  auto early = b.PollOnce();
  ASSERT_TRUE(early.ok()) << early.status();
  EXPECT_EQ(*early, 0);
  EXPECT_EQ(Counted("110105", "t1"), 0);
  auto owners = pool().Command({"XPENDING", stream, "profile"});
  ASSERT_TRUE(owners.ok());
  ASSERT_EQ((*owners)[3].size(), 1u);
  EXPECT_EQ((*owners)[3][0][0].str(), "A");

  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(PollUntil(b, 3), 3);
  EXPECT_EQ(Counted("110105", "t1"), 1);
  EXPECT_EQ(Counted("110105", "t2"), 1);
  EXPECT_EQ(Counted("110105", "t3"), 1);
  EXPECT_EQ(Pending(stream, "profile"), 0);
  EXPECT_EQ(b.Stats().claimed, 3);
}

TEST_F(EventsTest, MalformedEntriesAreAcknowledgedAndSkipped) {
  const std::string stream = Stream("110105");
  ASSERT_TRUE(RegisterStream(pool(), "training", stream).ok());
  ASSERT_TRUE(pool().Command({"XADD", stream, "*", "e", "garbage", "t", "x"}).ok());
  ASSERT_TRUE(pool().Command({"XADD", stream, "*", "other", "field"}).ok());
  Publish("110105", "t1");
  std::atomic<int> calls{0};
  EventConsumer consumer(pool(), Options("c1"), StreamsFromIndex(pool(), {"training"}),
                         [&](const common::v1::Event& event, absl::string_view) {
                           ++calls;
                           return CountOnProfile(event);
                         });
  EXPECT_EQ(PollUntil(consumer, 1), 1);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(consumer.Stats().malformed, 2);
  EXPECT_EQ(Pending(stream, "profile"), 0);
}

TEST_F(EventsTest, TrimRemovesOnlyEntriesEveryGroupHasPassed) {
  const std::string stream = Stream("110105");
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(Publish("110105", absl::StrCat("t", i)));
  for (const char* group : {"fast", "slow"}) {
    ASSERT_TRUE(pool().Command({"XGROUP", "CREATE", stream, group, "0"}).ok());
  }
  auto read = [&](const std::string& group, int count) {
    auto reply = pool().Command({"XREADGROUP", "GROUP", group, "c", "COUNT",
                                 std::to_string(count), "STREAMS", stream, ">"});
    EXPECT_TRUE(reply.ok()) << reply.status();
  };
  auto ack = [&](const std::string& group, const std::string& id) {
    EXPECT_TRUE(pool().Command({"XACK", stream, group, id}).ok());
  };
  auto first_id = [&]() -> std::string {
    auto reply = pool().Command({"XRANGE", stream, "-", "+", "COUNT", "1"});
    EXPECT_TRUE(reply.ok());
    return reply.ok() && reply->size() > 0 ? std::string((*reply)[0][0].str()) : "";
  };
  auto trim = [&]() -> int64_t {
    auto removed = TrimPassed(pool(), stream);
    EXPECT_TRUE(removed.ok()) << removed.status();
    return removed.ok() ? *removed : -1;
  };

  read("fast", 10);
  for (const std::string& id : ids) ack("fast", id);
  read("slow", 2);
  ack("slow", ids[0]);
  ack("slow", ids[1]);
  // slow has passed ids[0..1]; fast has passed all.
  EXPECT_EQ(trim(), 2);
  EXPECT_EQ(first_id(), ids[2]);

  // slow reads two more and has not acknowledged them: they must stay.
  read("slow", 2);
  EXPECT_EQ(trim(), 0);
  ack("slow", ids[3]);
  EXPECT_EQ(trim(), 0);  // ids[2] is still pending, so nothing before it may go either
  ack("slow", ids[2]);
  EXPECT_EQ(trim(), 2);
  EXPECT_EQ(first_id(), ids[4]);

  // Now fast is the one behind: two new entries it has not read.
  ids.push_back(Publish("110105", "t6"));
  ids.push_back(Publish("110105", "t7"));
  read("slow", 10);
  for (size_t i = 4; i < ids.size(); ++i) ack("slow", ids[i]);
  EXPECT_EQ(trim(), 2);  // ids[4], ids[5]: fast passed them, slow too
  EXPECT_EQ(first_id(), ids[6]);
  EXPECT_EQ(Length(stream), 2);

  // A stream nobody reads yet, and a stream that does not exist, are left alone.
  const std::string unread = Stream("110106");
  Publish("110106", "t1");
  EXPECT_EQ(*TrimPassed(pool(), unread), 0);
  EXPECT_EQ(Length(unread), 1);
  EXPECT_EQ(*TrimPassed(pool(), Stream("999999")), 0);
}

TEST_F(EventsTest, BackgroundConsumerFindsNewStreams) {
  std::atomic<int> applied{0};
  std::vector<std::string> seen;
  absl::Mutex seen_mu;
  EventConsumer consumer(pool(), Options("bg"), StreamsFromIndex(pool(), {"training"}),
                         [&](const common::v1::Event& event, absl::string_view) {
                           absl::Status s = CountOnProfile(event);
                           if (s.ok()) {
                             absl::MutexLock lock(&seen_mu);
                             seen.push_back(event.county_id());
                             ++applied;
                           }
                           return s;
                         });
  consumer.Start();
  auto wait_for = [&](int n) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (applied.load() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return applied.load();
  };
  Publish("110105", "t1");
  EXPECT_EQ(wait_for(1), 1);
  // A county the consumer has never seen: registered, then written to.
  Publish("110106", "t2");
  EXPECT_EQ(wait_for(2), 2);
  consumer.Stop();
  absl::MutexLock lock(&seen_mu);
  EXPECT_THAT(seen, ElementsAre("110105", "110106"));
  EXPECT_EQ(Pending(Stream("110106"), "profile"), 0);
}

}  // namespace
}  // namespace shidang
