#include "services/common/events.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/keys.h"
#include "services/common/mutation.h"
#include "tests/kit/profile_events.h"
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

  // Publishes `count` events in `county`, one stream entry each, with MutationRequest::stream_cap
  // `cap`, many scripts per round trip; returns their entry ids in order.
  std::vector<std::string> PublishMany(const std::string& county, int count, int64_t cap) {
    std::vector<std::string> ids;
    EXPECT_TRUE(RegisterStream(pool(), "training", Stream(county)).ok());
    EXPECT_TRUE(pool().Command({"SCRIPT", "LOAD", publish_.script().source()}).ok());
    constexpr size_t kPerRoundTrip = 500;
    for (int done = 0; done < count;) {
      std::vector<redis::Args> commands;
      for (; done < count && commands.size() < kPerRoundTrip; ++done) {
        MutationRequest m;
        m.stream_key = Stream(county);
        m.stream_cap = cap;
        common::v1::Event event = NewEvent("training", "training.credited", absl::Now());
        event.set_county_id(county);
        event.set_teacher_id(absl::StrCat("t", done));
        m.events.push_back(event);
        absl::StatusOr<MutationCall> call = Mutation::Prepare(m);
        EXPECT_TRUE(call.ok()) << call.status();
        if (!call.ok()) return ids;
        redis::Args evalsha = {"EVALSHA", publish_.script().sha1(),
                               std::to_string(call->keys.size())};
        evalsha.insert(evalsha.end(), call->keys.begin(), call->keys.end());
        evalsha.insert(evalsha.end(), call->args.begin(), call->args.end());
        commands.push_back(std::move(evalsha));
      }
      auto replies = pool().Pipeline(commands);
      EXPECT_TRUE(replies.ok()) << replies.status();
      if (!replies.ok()) return ids;
      for (const redis::Reply& r : *replies) {
        EXPECT_TRUE(r.ToStatus().ok()) << r.ToStatus();
        if (r.size() == 3) ids.emplace_back(r[2].str());  // {'ok', payload, entry id}
      }
    }
    return ids;
  }

  std::string FirstId(const std::string& stream) {
    auto reply = pool().Command({"XRANGE", stream, "-", "+", "COUNT", "1"});
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() && reply->size() > 0 ? std::string((*reply)[0][0].str()) : "";
  }

  // The consumers of `group` holding pending entries of `stream`.
  std::vector<std::string> PendingOwners(const std::string& stream, const std::string& group) {
    std::vector<std::string> owners;
    auto reply = pool().Command({"XPENDING", stream, group});
    EXPECT_TRUE(reply.ok()) << reply.status();
    if (!reply.ok() || reply->size() < 4) return owners;
    for (size_t i = 0; i < (*reply)[3].size(); ++i) owners.emplace_back((*reply)[3][i][0].str());
    return owners;
  }

  // Waits up to `limit` for `done`; returns whether it came.
  static bool WaitFor(const std::function<bool()>& done, absl::Duration limit) {
    const absl::Time deadline = absl::Now() + limit;
    while (!done()) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return true;
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

  EventConsumer b(
      pool(), Options("B"), StreamsFromIndex(pool(), {"training"}),
      [&](const common::v1::Event& event, absl::string_view) { return CountOnProfile(event); });
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
  ids.reserve(6);
  for (int i = 0; i < 6; ++i) ids.push_back(Publish("110105", absl::StrCat("t", i)));
  for (const char* group : {"fast", "slow"}) {
    ASSERT_TRUE(pool().Command({"XGROUP", "CREATE", stream, group, "0"}).ok());
  }
  auto read = [&](const std::string& group, int count) {
    auto reply = pool().Command({"XREADGROUP", "GROUP", group, "c", "COUNT", std::to_string(count),
                                 "STREAMS", stream, ">"});
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

// Issue 13: the consumers trim, so 100,000 events written and consumed leave a stream of at most
// trim_every entries, not every event ever written.
TEST_F(EventsTest, AHundredThousandEventsConsumedLeaveTheStreamWithinTheBound) {
  constexpr int kEvents = 100000;
  const std::string stream = Stream("110105");
  EventConsumerOptions options = Options("c1");
  options.trim_interval = absl::Milliseconds(100);
  std::atomic<int64_t> applied{0};
  EventConsumer consumer(pool(), options, StreamsFromIndex(pool(), {"training"}),
                         [&](const common::v1::Event&, absl::string_view) {
                           ++applied;
                           return absl::OkStatus();
                         });
  // The group exists before the first event, as once the profile service has run.
  ASSERT_TRUE(RegisterStream(pool(), "training", stream).ok());
  ASSERT_TRUE(consumer.PollOnce().ok());
  consumer.Start();
  int64_t longest = 0;
  for (int written = 0; written < kEvents; written += 10000) {
    ASSERT_EQ(PublishMany("110105", 10000, kDefaultStreamCap).size(), 10000u);
    longest = std::max(longest, Length(stream));
  }
  EXPECT_TRUE(WaitFor([&] { return applied.load() >= kEvents; }, absl::Seconds(120)))
      << applied.load();
  EXPECT_TRUE(WaitFor([&] { return Length(stream) <= options.trim_every; }, absl::Seconds(5)));
  consumer.Stop();
  EXPECT_EQ(applied.load(), kEvents);
  EXPECT_LE(Length(stream), options.trim_every);
  // The consumer trimmed; the writers' cap took its share while the consumer lagged.
  EXPECT_GT(consumer.Stats().trimmed, 0);
  std::printf("longest stream while writing: %lld entries\n", static_cast<long long>(longest));
}

// Issue 13: neither the consumers' trimming nor a writer's cap removes what a group that is down
// has not read; when it comes back it gets every one of them.
TEST_F(EventsTest, AGroupThatIsDownKeepsEveryEntryItHasNotRead) {
  constexpr int kEvents = 5000;
  constexpr int64_t kCap = 1000;  // far below what the down group needs kept
  const std::string stream = Stream("110105");
  ASSERT_TRUE(RegisterStream(pool(), "training", stream).ok());
  ASSERT_TRUE(pool().Command({"XGROUP", "CREATE", stream, "audit", "0", "MKSTREAM"}).ok());
  EventConsumerOptions options = Options("p1");
  options.trim_every = 100;
  options.trim_interval = absl::Milliseconds(50);
  std::atomic<int64_t> profile_applied{0};
  EventConsumer profile(pool(), options, StreamsFromIndex(pool(), {"training"}),
                        [&](const common::v1::Event&, absl::string_view) {
                          ++profile_applied;
                          return absl::OkStatus();
                        });
  ASSERT_TRUE(profile.PollOnce().ok());  // its group, before the first event
  profile.Start();

  // The audit group reads ten, acknowledges five, and goes down (its process dies).
  std::vector<std::string> ids = PublishMany("110105", 20, kCap);
  auto taken =
      pool().Command({"XREADGROUP", "GROUP", "audit", "a1", "COUNT", "10", "STREAMS", stream, ">"});
  ASSERT_TRUE(taken.ok()) << taken.status();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(pool().Command({"XACK", stream, "audit", ids[i]}).ok());
  std::vector<std::string> more = PublishMany("110105", kEvents - 20, kCap);
  ids.insert(ids.end(), more.begin(), more.end());
  ASSERT_EQ(ids.size(), static_cast<size_t>(kEvents));

  EXPECT_TRUE(WaitFor([&] { return profile_applied.load() >= kEvents; }, absl::Seconds(60)));
  // The five audit acknowledged go once the profile consumer has trimmed; nothing after them.
  EXPECT_TRUE(WaitFor([&] { return FirstId(stream) == ids[5]; }, absl::Seconds(5)));
  profile.Stop();
  EXPECT_EQ(Length(stream), kEvents - 5);
  EXPECT_EQ(FirstId(stream), ids[5]);

  // Audit comes back under another name and gets all the rest, its dead consumer's included.
  std::vector<std::string> seen;
  EventConsumerOptions audit_options = Options("a2");
  audit_options.group = "audit";
  EventConsumer audit(pool(), audit_options, StreamsFromIndex(pool(), {"training"}),
                      [&](const common::v1::Event&, absl::string_view entry_id) {
                        seen.emplace_back(entry_id);
                        return absl::OkStatus();
                      });
  EXPECT_EQ(PollUntil(audit, kEvents - 5), kEvents - 5);
  std::set<std::string> want(ids.begin() + 5, ids.end());
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), want);
  EXPECT_EQ(seen.size(), want.size());
}

// Issue 13: a stream that appears while its reading service is down (a new county) gets the
// reader's group before its first entry, so no writer's cap cuts what the reader has not read.
TEST_F(EventsTest, ANewStreamKeepsItsEntriesForAReaderThatIsDown) {
  Publish("110105", "t1");
  {
    EventConsumer profile(
        pool(), Options("p1"), StreamsFromIndex(pool(), {"training"}),
        [&](const common::v1::Event&, absl::string_view) { return absl::OkStatus(); });
    EXPECT_EQ(PollUntil(profile, 1), 1);
  }  // the profile service goes down

  constexpr int kEvents = 3000;
  const std::string stream = Stream("110106");
  std::vector<std::string> ids = PublishMany("110106", kEvents, /*cap=*/500);
  EXPECT_EQ(Length(stream), kEvents);
  EXPECT_EQ(FirstId(stream), ids.front());

  std::set<std::string> seen;
  EventConsumer back(pool(), Options("p2"), StreamsFromIndex(pool(), {"training"}),
                     [&](const common::v1::Event& event, absl::string_view) {
                       if (event.county_id() == "110106") seen.insert(event.id());
                       return absl::OkStatus();
                     });
  EXPECT_EQ(PollUntil(back, kEvents), kEvents);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kEvents));
}

// A group whose consumer started before the writer made any stream (a fresh platform: the county
// is imported after every service started) is on each new stream from its first entry, so the
// other groups' trimming cannot remove what it has not read before it first lists the stream.
TEST_F(EventsTest, AGroupStartedBeforeAnyStreamExistsKeepsANewStreamsEntries) {
  for (const char* group : {"profile", "rotation"}) {
    EventConsumerOptions options = Options(absl::StrCat(group, "-1"));
    options.group = group;
    options.reads = {"training"};
    EventConsumer consumer(
        pool(), options, StreamsFromIndex(pool(), {"training"}),
        [&](const common::v1::Event&, absl::string_view) { return absl::OkStatus(); });
    consumer.Start();
    consumer.Stop();
  }
  constexpr int kEvents = 2000;
  const std::string stream = Stream("110107");
  PublishMany("110107", kEvents, /*cap=*/500);

  EventConsumer profile(
      pool(), Options("p-2"), StreamsFromIndex(pool(), {"training"}),
      [&](const common::v1::Event&, absl::string_view) { return absl::OkStatus(); });
  EXPECT_EQ(PollUntil(profile, kEvents), kEvents);
  ASSERT_TRUE(TrimPassed(pool(), stream).ok());

  EventConsumerOptions late = Options("r-2");
  late.group = "rotation";
  int seen = 0;
  EventConsumer rotation(pool(), late, StreamsFromIndex(pool(), {"training"}),
                         [&](const common::v1::Event& event, absl::string_view) {
                           if (event.county_id() == "110107") ++seen;
                           return absl::OkStatus();
                         });
  EXPECT_EQ(PollUntil(rotation, kEvents), kEvents);
  EXPECT_EQ(seen, kEvents);
}

// Issue 14: a consumer killed without a goodbye keeps its entries while its lease lasts (it may
// be alive), and they are taken over as soon as the lease lapses, not after claim_idle.
TEST_F(EventsTest, AKilledConsumersEntriesAreTakenOverOnceItsLeaseLapses) {
  const std::string stream = Stream("110105");
  for (const char* teacher : {"t1", "t2", "t3"}) Publish("110105", teacher);
  ASSERT_TRUE(pool().Command({"XGROUP", "CREATE", stream, "profile", "0"}).ok());
  // "old" read everything, held a lease, and was SIGKILLed: the lease runs out in 400 ms.
  ASSERT_TRUE(
      pool()
          .Command({"XREADGROUP", "GROUP", "profile", "old", "COUNT", "10", "STREAMS", stream, ">"})
          .ok());
  ASSERT_TRUE(pool().Command({"SET", ConsumerLeaseKey("profile", "old"), "1", "PX", "400"}).ok());
  const absl::Time lease_end = absl::Now() + absl::Milliseconds(400);

  EventConsumerOptions options = Options("new");
  options.claim_idle = absl::Seconds(30);  // as in production
  EventConsumer fresh(
      pool(), options, StreamsFromIndex(pool(), {"training"}),
      [&](const common::v1::Event& event, absl::string_view) { return CountOnProfile(event); });
  while (absl::Now() < lease_end - absl::Milliseconds(100)) {
    auto applied = fresh.PollOnce();
    ASSERT_TRUE(applied.ok()) << applied.status();
    ASSERT_EQ(*applied, 0) << "taken from a consumer whose lease was still held";
  }
  EXPECT_THAT(PendingOwners(stream, "profile"), ElementsAre("old"));

  EXPECT_EQ(PollUntil(fresh, 3), 3);
  EXPECT_LT(absl::Now() - lease_end, absl::Seconds(2));
  for (const char* teacher : {"t1", "t2", "t3"}) EXPECT_EQ(Counted("110105", teacher), 1);
  EXPECT_EQ(Pending(stream, "profile"), 0);
  EXPECT_EQ(fresh.Stats().claimed, 3);
}

// Issue 14: a live consumer keeps its lease while an Apply takes long, so a peer does not take
// its entries (before claim_idle).
TEST_F(EventsTest, ALivePeersEntriesAreNotTakenWhileItsApplyIsSlow) {
  const std::string stream = Stream("110105");
  for (const char* teacher : {"t1", "t2", "t3"}) Publish("110105", teacher);
  EventConsumerOptions slow_options = Options("slow");
  slow_options.lease_ttl = absl::Milliseconds(300);
  std::atomic<bool> release{false};
  std::atomic<int> started{0};
  EventConsumer slow(pool(), slow_options, StreamsFromIndex(pool(), {"training"}),
                     [&](const common::v1::Event& event, absl::string_view) {
                       ++started;
                       while (!release) absl::SleepFor(absl::Milliseconds(5));
                       return CountOnProfile(event);
                     });
  slow.Start();
  ASSERT_TRUE(WaitFor([&] { return started.load() > 0; }, absl::Seconds(5)));

  EventConsumerOptions peer_options = Options("peer");
  peer_options.claim_idle = absl::Seconds(30);
  EventConsumer peer(
      pool(), peer_options, StreamsFromIndex(pool(), {"training"}),
      [&](const common::v1::Event& event, absl::string_view) { return CountOnProfile(event); });
  // Several lease lifetimes: only the renewals keep it.
  const absl::Time until = absl::Now() + absl::Milliseconds(1500);
  while (absl::Now() < until) {
    auto applied = peer.PollOnce();
    ASSERT_TRUE(applied.ok()) << applied.status();
    EXPECT_EQ(*applied, 0);
  }
  EXPECT_EQ(peer.Stats().claimed, 0);
  EXPECT_THAT(PendingOwners(stream, "profile"), ElementsAre("slow"));

  release = true;
  EXPECT_TRUE(WaitFor([&] { return Pending(stream, "profile") == 0; }, absl::Seconds(5)));
  slow.Stop();
  EXPECT_EQ(started.load(), 3);
  for (const char* teacher : {"t1", "t2", "t3"}) EXPECT_EQ(Counted("110105", teacher), 1);
}

// Issue 14: Stop returns after the event being applied, with 10,000 queued (100 entries of 100
// events, as roster imports publish); a successor under another name takes over the rest at once.
TEST_F(EventsTest, StopIsPromptWithTenThousandEventsQueued) {
  const std::string stream = Stream("110105");
  ASSERT_TRUE(RegisterStream(pool(), "training", stream).ok());
  std::set<std::string> published;
  for (int entry = 0; entry < 100; ++entry) {
    MutationRequest m;
    m.stream_key = stream;
    m.one_stream_entry = true;
    for (int i = 0; i < 100; ++i) {
      common::v1::Event event = NewEvent("training", "training.credited", absl::Now());
      event.set_county_id("110105");
      event.set_teacher_id(absl::StrCat("t", entry, "-", i));
      published.insert(event.id());
      m.events.push_back(event);
    }
    ASSERT_TRUE(publish_.Run(pool(), m).ok());
  }
  absl::Mutex mu;
  std::set<std::string> applied;  // event ids, by either consumer
  std::atomic<bool> slow{true};
  auto apply = [&](const common::v1::Event& event, absl::string_view) {
    // A write per event, as FileExternalEvent does; the successor is quick, to keep the test so.
    if (slow) absl::SleepFor(absl::Milliseconds(1));
    absl::MutexLock lock(&mu);
    applied.insert(event.id());
    return absl::OkStatus();
  };
  auto applied_count = [&] {
    absl::MutexLock lock(&mu);
    return applied.size();
  };
  EventConsumer first(pool(), Options("first"), StreamsFromIndex(pool(), {"training"}), apply);
  first.Start();
  ASSERT_TRUE(WaitFor([&] { return applied_count() >= 50; }, absl::Seconds(5)));
  const absl::Time stop_called = absl::Now();
  first.Stop();
  const absl::Duration stopping = absl::Now() - stop_called;
  EXPECT_LT(stopping, absl::Milliseconds(500));
  EXPECT_LT(applied_count(), published.size());
  EXPECT_EQ(pool().Command({"EXISTS", ConsumerLeaseKey("profile", "first")})->integer(), 0);

  slow = false;
  EventConsumer second(pool(), Options("second"), StreamsFromIndex(pool(), {"training"}), apply);
  second.Start();
  EXPECT_TRUE(WaitFor([&] { return applied_count() == published.size(); }, absl::Seconds(60)));
  EXPECT_TRUE(WaitFor([&] { return Pending(stream, "profile") == 0; }, absl::Seconds(5)));
  second.Stop();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(applied, published);
}

// The kit's wait for consumers (tests and benches rely on it to read a settled copy) must not
// return while entries are unread because the stream was trimmed below what was added.
TEST_F(EventsTest, TheKitsWaitForConsumersIsNotFooledByTrimming) {
  const std::string stream = "kit-wait-stream";
  ASSERT_TRUE(pool().Command({"XGROUP", "CREATE", stream, "g", "$", "MKSTREAM"}).ok());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(pool().Command({"XADD", stream, "*", "n", std::to_string(i)}).ok());
  }
  auto read_and_ack = [&](int count) {
    auto read = pool().Command(
        {"XREADGROUP", "GROUP", "g", "c", "COUNT", std::to_string(count), "STREAMS", stream, ">"});
    ASSERT_TRUE(read.ok()) << read.status();
    const redis::Reply entries = (*read)[0][1];
    ASSERT_EQ(entries.size(), static_cast<size_t>(count));
    for (size_t e = 0; e < entries.size(); ++e) {
      ASSERT_TRUE(pool().Command({"XACK", stream, "g", std::string(entries[e][0].str())}).ok());
    }
  };
  read_and_ack(5);
  // What every group passed goes: five left, five read, but five of them never delivered.
  ASSERT_TRUE(pool().Command({"XTRIM", stream, "MAXLEN", "5"}).ok());
  EXPECT_EQ(testing::WaitUntilApplied(pool(), stream, absl::Milliseconds(200)).code(),
            absl::StatusCode::kDeadlineExceeded);
  read_and_ack(5);
  EXPECT_TRUE(testing::WaitUntilApplied(pool(), stream, absl::Seconds(5)).ok());
}

}  // namespace
}  // namespace shidang
