#include "services/common/county_delta.h"

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/kit/redis_server.h"

namespace shidang::county_delta {
namespace {

// A copy of a county of two hashes (kinds "i" and "j"), and how it was made.
struct TestCopy {
  std::map<std::string, std::string> items;   // kind "i"
  std::map<std::string, std::string> others;  // kind "j"
  bool patched = false;
};

absl::StatusOr<std::shared_ptr<const TestCopy>> BuildTestCopy(const CountyRead& read,
                                                              const TestCopy* base) {
  auto copy = base == nullptr ? std::make_shared<TestCopy>() : std::make_shared<TestCopy>(*base);
  copy->patched = base != nullptr;
  for (const auto& [kind, target] : {std::pair{"i", &copy->items}, std::pair{"j", &copy->others}}) {
    for (const Field& f : read.Of(kind)) {
      if (f.bytes.has_value()) {
        (*target)[f.id] = std::string(*f.bytes);
      } else {
        target->erase(f.id);
      }
    }
  }
  return std::shared_ptr<const TestCopy>(std::move(copy));
}

CountyKeys Keys() {
  return CountyKeys{"test:{c:330723}:writes",
                    "test:{c:330723}:changes",
                    "test:{c:330723}:events",
                    {{"i", "test:{c:330723}:items"}, {"j", "test:{c:330723}:others"}}};
}

class CountyDeltaTest : public ::testing::Test {
 protected:
  // Each "instance" has its own pool and cache, as two service processes would.
  struct Instance {
    explicit Instance(const redis::Config& config) : pool(config), cache(pool, BuildTestCopy) {}
    redis::Pool pool;
    Cache<TestCopy> cache;
  };

  std::shared_ptr<const TestCopy> Read(Instance& instance) {
    absl::StatusOr<std::shared_ptr<const TestCopy>> copy = instance.cache.Read("330723", Keys());
    EXPECT_TRUE(copy.ok()) << copy.status();
    return copy.ok() ? *copy : std::make_shared<const TestCopy>();
  }

  void Write(Instance& instance, const std::string& kind, const std::string& id,
             std::optional<std::string> bytes) {
    absl::Status s = WriteFact(instance.pool, Keys(), kind, id, std::move(bytes));
    ASSERT_TRUE(s.ok()) << s;
  }

  std::map<std::string, std::string> Stored(const std::string& key) {
    std::map<std::string, std::string> out;
    absl::StatusOr<redis::Reply> all = server_.pool().Command({"HGETALL", key});
    EXPECT_TRUE(all.ok());
    for (size_t i = 0; all.ok() && i + 1 < all->size(); i += 2) {
      out[std::string((*all)[i].str())] = std::string((*all)[i + 1].str());
    }
    return out;
  }

  testing::RedisServer server_;
  Instance a_{server_.config()};
  Instance b_{server_.config()};
};

TEST_F(CountyDeltaTest, AWriteIsSeenAtOnceByAnotherInstanceWhichPatchesItsCopy) {
  Write(a_, "i", "T1", "one");
  Write(a_, "i", "T2", "two");
  EXPECT_FALSE(Read(b_)->patched);  // nothing held yet: read whole
  const std::shared_ptr<const TestCopy> held = Read(b_);
  EXPECT_EQ(held, Read(b_));  // unchanged: the same copy

  Write(a_, "i", "T1", "uno");
  Write(a_, "i", "T2", std::nullopt);
  Write(a_, "j", "S1", "school");
  const std::shared_ptr<const TestCopy> after = Read(b_);
  EXPECT_TRUE(after->patched);
  EXPECT_EQ(after->items, (std::map<std::string, std::string>{{"T1", "uno"}}));
  EXPECT_EQ(after->others, (std::map<std::string, std::string>{{"S1", "school"}}));
  // The copy held before is untouched: readers still using it see what they saw.
  EXPECT_EQ(held->items, (std::map<std::string, std::string>{{"T1", "one"}, {"T2", "two"}}));
}

TEST_F(CountyDeltaTest, ALogTrimmedPastTheHeldVersionFallsBackToAWholeRead) {
  Write(a_, "i", "T0", "first");
  ASSERT_FALSE(Read(b_)->patched);
  for (int i = 0; i < kLogBound + 3; ++i) Write(a_, "i", absl::StrCat("T", i % 7), "x");
  absl::StatusOr<redis::Reply> kept = server_.pool().Command({"ZCARD", Keys().log});
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->integer(), kLogBound);  // the log is bounded

  const std::shared_ptr<const TestCopy> after = Read(b_);
  EXPECT_FALSE(after->patched);
  EXPECT_EQ(after->items, Stored(Keys().hashes[0].key));
  // Within the bound it patches again.
  Write(a_, "i", "T0", "again");
  EXPECT_TRUE(Read(b_)->patched);
  EXPECT_EQ(Read(b_)->items.at("T0"), "again");
}

TEST_F(CountyDeltaTest, ACounterBumpWithoutARecordFallsBackToAWholeRead) {
  Write(a_, "i", "T1", "one");
  ASSERT_FALSE(Read(b_)->patched);
  // A writer that bumps the counter but records nothing (a script written without the log).
  ASSERT_TRUE(server_.pool()
                  .Pipeline({{"MULTI"},
                             {"HSET", Keys().hashes[0].key, "T9", "unrecorded"},
                             {"INCR", Keys().counter},
                             {"EXEC"}})
                  .ok());
  Write(a_, "i", "T1", "uno");  // recorded, but one version is missing below it
  const std::shared_ptr<const TestCopy> after = Read(b_);
  EXPECT_FALSE(after->patched);
  EXPECT_EQ(after->items,
            (std::map<std::string, std::string>{{"T1", "uno"}, {"T9", "unrecorded"}}));

  // The unrecorded write the last one: the records stop short of the counter.
  ASSERT_TRUE(
      server_.pool()
          .Pipeline(
              {{"MULTI"}, {"HDEL", Keys().hashes[0].key, "T9"}, {"INCR", Keys().counter}, {"EXEC"}})
          .ok());
  const std::shared_ptr<const TestCopy> last = Read(b_);
  EXPECT_FALSE(last->patched);
  EXPECT_EQ(last->items, (std::map<std::string, std::string>{{"T1", "uno"}}));
}

TEST_F(CountyDeltaTest, ACounterThatWentBackIsReadWhole) {
  Write(a_, "i", "T1", "one");
  ASSERT_FALSE(Read(b_)->patched);
  // The county's keys deleted and written again (a restored backup of another history).
  ASSERT_TRUE(
      server_.pool().Command({"DEL", Keys().counter, Keys().log, Keys().hashes[0].key}).ok());
  ASSERT_TRUE(server_.pool().Command({"SET", Keys().counter, "5"}).ok());
  Write(a_, "i", "T2", "two");
  const std::shared_ptr<const TestCopy> after = Read(b_);
  EXPECT_FALSE(after->patched);
  EXPECT_EQ(after->items, (std::map<std::string, std::string>{{"T2", "two"}}));
}

// Writers keep writing while readers refresh: every read holds at least what each writer had
// acknowledged before the read began, and the last read holds exactly what is stored.
TEST_F(CountyDeltaTest, ConcurrentWritersDuringRefreshesAreNeverLost) {
  constexpr int kWriters = 4;
  constexpr int kWritesEach = 150;
  Write(a_, "i", "seed", "0");
  ASSERT_FALSE(Read(b_)->patched);
  std::atomic<int> acked[kWriters];
  for (auto& a : acked) a = 0;
  std::atomic<int> writers_done{0};
  std::vector<std::thread> writers;
  writers.reserve(kWriters);
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      redis::Pool pool(server_.config());
      for (int n = 1; n <= kWritesEach; ++n) {
        const std::string kind = n % 5 == 0 ? "j" : "i";
        absl::Status s = WriteFact(pool, Keys(), kind, absl::StrCat("w", w), absl::StrCat(n));
        ASSERT_TRUE(s.ok()) << s;
        if (kind == "i") acked[w] = n;
      }
      ++writers_done;
    });
  }
  std::atomic<int> patched{0};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (Instance* instance : {&a_, &b_}) {
    readers.emplace_back([&, instance] {
      while (writers_done < kWriters) {
        int before[kWriters];
        for (int w = 0; w < kWriters; ++w) before[w] = acked[w];
        const std::shared_ptr<const TestCopy> copy = Read(*instance);
        ++reads;
        if (copy->patched) ++patched;
        for (int w = 0; w < kWriters; ++w) {
          if (before[w] == 0) continue;
          auto found = copy->items.find(absl::StrCat("w", w));
          int seen = 0;
          ASSERT_TRUE(found != copy->items.end() && absl::SimpleAtoi(found->second, &seen));
          ASSERT_GE(seen, before[w]) << "writer " << w << " acknowledged " << before[w];
        }
      }
    });
  }
  for (std::thread& t : writers) t.join();
  for (std::thread& t : readers) t.join();
  for (Instance* instance : {&a_, &b_}) {
    const std::shared_ptr<const TestCopy> last = Read(*instance);
    EXPECT_EQ(last->items, Stored(Keys().hashes[0].key));
    EXPECT_EQ(last->others, Stored(Keys().hashes[1].key));
  }
  EXPECT_GT(reads.load(), 0);
  EXPECT_GT(patched.load(), 0) << "no refresh was a patch: the test did not test patching";
}

}  // namespace
}  // namespace shidang::county_delta
