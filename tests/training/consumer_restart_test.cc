// Issue 14: a restarted service takes over the events its predecessor left pending soon (not after
// the 30 s claim idle time), and SIGTERM returns within the grace period with 10,000 events
// queued. The training service as a real process, following the profile service's teachers
// (consumer group "training", services/common/events.h), on a real redis-server.

#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/common/events.h"
#include "services/common/keys.h"
#include "services/common/mutation.h"
#include "shidang/profile/v1/profile.pb.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/service_process.h"

namespace shidang::training {
namespace {

constexpr char kCounty[] = "330723";
constexpr char kGroup[] = "training";
constexpr absl::Duration kGrace = absl::Seconds(2);

class ConsumerRestartTest : public ::testing::Test {
 protected:
  ConsumerRestartTest() : publish_("emit_all() return {ok = ''}") {
    std::ofstream(keys_.path() + "/principal.key", std::ios::binary) << std::string(40, 'k');
  }

  static std::string Stream() { return keys::StreamKey("profile", keys::HashTag("c", kCounty)); }

  // 10,000 teacher_created events, as a roster import publishes them: 100 entries of 100. Each
  // is a write for the training service (its copy of the teacher's facts).
  void PublishTeachers() {
    ASSERT_TRUE(RegisterStream(redis_.pool(), "profile", Stream()).ok());
    for (int entry = 0; entry < 100; ++entry) {
      MutationRequest m;
      m.stream_key = Stream();
      m.one_stream_entry = true;
      for (int i = 0; i < 100; ++i) {
        profile::v1::Teacher teacher;
        teacher.set_teacher_id(absl::StrCat("T", entry, "-", i));
        teacher.set_county_id(kCounty);
        teacher.set_school_id("S1");
        common::v1::Event event = NewEvent("profile", "profile.teacher_created", absl::Now());
        event.set_teacher_id(teacher.teacher_id());
        event.set_county_id(kCounty);
        event.mutable_payload()->PackFrom(teacher);
        m.events.push_back(std::move(event));
      }
      absl::StatusOr<MutationResult> published = publish_.Run(redis_.pool(), m);
      ASSERT_TRUE(published.ok()) << published.status();
      ASSERT_EQ(published->stream_entry_ids.size(), 1u);
      last_entry_ = published->stream_entry_ids[0];
    }
  }

  std::unique_ptr<testing::ServiceProcess> StartTraining() {
    auto process = testing::ServiceProcess::Start(
        SHIDANG_TRAINING_BINARY,
        {"--redis=" + redis_.address(), "--principal_key_file=" + keys_.path() + "/principal.key",
         "--today=2025-11-25",
         absl::StrCat("--shutdown_grace_ms=", absl::ToInt64Milliseconds(kGrace))});
    EXPECT_TRUE(process.ok()) << process.status();
    return process.ok() ? *std::move(process) : nullptr;
  }

  // The group's entries delivered and not yet acknowledged, by consumer.
  std::map<std::string, int64_t> PendingByConsumer() {
    std::map<std::string, int64_t> pending;
    absl::StatusOr<redis::Reply> reply = redis_.pool().Command({"XPENDING", Stream(), kGroup});
    if (!reply.ok() || reply->size() < 4) return pending;
    const redis::Reply consumers = (*reply)[3];
    for (size_t i = 0; i < consumers.size(); ++i) {
      int64_t count = 0;
      if (absl::SimpleAtoi(consumers[i][1].str(), &count)) {
        pending[std::string(consumers[i][0].str())] = count;
      }
    }
    return pending;
  }

  // Every entry delivered to the group (its last-delivered-id is the last entry published) and
  // acknowledged.
  bool AllApplied() {
    if (!PendingByConsumer().empty()) return false;
    absl::StatusOr<redis::Reply> groups = redis_.pool().Command({"XINFO", "GROUPS", Stream()});
    if (!groups.ok()) return false;
    for (size_t g = 0; g < groups->size(); ++g) {
      const redis::Reply fields = (*groups)[g];
      std::map<std::string, std::string> named;
      for (size_t i = 0; i + 1 < fields.size(); i += 2) {
        if (fields[i + 1].is_string())
          named[std::string(fields[i].str())] = std::string(fields[i + 1].str());
      }
      if (named["name"] == kGroup) return named["last-delivered-id"] == last_entry_;
    }
    return false;
  }

  // Polls until the group has entries pending (the service is applying them).
  bool AwaitPending() {
    const absl::Time until = absl::Now() + absl::Seconds(20);
    while (absl::Now() < until) {
      if (!PendingByConsumer().empty()) return true;
      absl::SleepFor(absl::Milliseconds(2));
    }
    return false;
  }

  template <typename Predicate>
  static bool WaitFor(Predicate done, absl::Duration timeout) {
    const absl::Time until = absl::Now() + timeout;
    while (absl::Now() < until) {
      if (done()) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return done();
  }

  testing::RedisServer redis_;
  testing::TempDir keys_;
  Mutation publish_;
  std::string last_entry_;
};

// Stopping leaves what is not applied pending and gives up the lease: the process exits within
// its grace period however much is queued, and its successor carries on at once.
TEST_F(ConsumerRestartTest, SigtermReturnsWithinTheGraceWithTenThousandEventsQueued) {
  PublishTeachers();
  std::unique_ptr<testing::ServiceProcess> first = StartTraining();
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(AwaitPending());
  const absl::Time signalled = absl::Now();
  first->Kill(SIGTERM);
  const testing::ProcessExit exit = first->Wait(absl::Seconds(10));
  const absl::Duration stopping = absl::Now() - signalled;
  EXPECT_TRUE(exit.exited && exit.exit_code == 0) << exit.Describe();
  EXPECT_LT(stopping, kGrace);
  std::printf("SIGTERM to exit: %s\n", absl::FormatDuration(stopping).c_str());
  ASSERT_FALSE(AllApplied()) << "everything was applied before SIGTERM: nothing was queued";

  std::unique_ptr<testing::ServiceProcess> second = StartTraining();
  ASSERT_NE(second, nullptr);
  EXPECT_TRUE(WaitFor([&] { return AllApplied(); }, absl::Seconds(120)));
}

// SIGKILLed, the service leaves entries pending under its consumer name; the next process (a new
// name) takes them over once the dead one's lease lapses (2 s) and they have waited retry_delay
// (1 s), not after claim_idle (30 s): before leases, 12 to 28 s of lag.
TEST_F(ConsumerRestartTest, ARestartedServiceTakesOverWhatItsKilledPredecessorLeftPending) {
  PublishTeachers();
  std::unique_ptr<testing::ServiceProcess> first = StartTraining();
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(AwaitPending());
  first->Kill(SIGKILL);
  first->Wait();
  const std::map<std::string, int64_t> left = PendingByConsumer();
  ASSERT_EQ(left.size(), 1u);
  const std::string predecessor = left.begin()->first;

  const absl::Time restarted = absl::Now();
  std::unique_ptr<testing::ServiceProcess> second = StartTraining();
  ASSERT_NE(second, nullptr);
  EXPECT_TRUE(
      WaitFor([&] { return PendingByConsumer().count(predecessor) == 0; }, absl::Seconds(30)));
  const absl::Duration lag = absl::Now() - restarted;
  // Lease (2 s) + retry_delay (1 s) + the sanitized build's slack; claim_idle is 30 s.
  EXPECT_LT(lag, absl::Seconds(6));
  std::printf("predecessor's pending entries taken over and applied %s after the restart\n",
              absl::FormatDuration(lag).c_str());
  EXPECT_TRUE(WaitFor([&] { return AllApplied(); }, absl::Seconds(120)));
}

}  // namespace
}  // namespace shidang::training
