// AnswerStore (services/common/replay.h) against a real redis-server: a retry gets the first
// answer without running the use case, concurrent identical calls run it once, a changed request
// under the same request_id is INVALID_ARGUMENT, an error stores nothing, a claim whose holder
// died is taken over, and sealed answers are stored sealed.

#include "services/common/replay.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shidang/common/v1/event.pb.h"
#include "tests/kit/redis_server.h"

namespace shidang {
namespace {

using ::testing::HasSubstr;

constexpr char kMethod[] = "shidang.training.v1.TrainingService/LogTraining";
constexpr char kActor[] = "teacher:t1";

// Stands in for a request with a request_id and its response.
common::v1::Event Request(const std::string& request_id, const std::string& summary = "学时") {
  common::v1::Event request;
  request.set_request_id(request_id);
  request.set_summary(summary);
  return request;
}

class AnswerStoreTest : public ::testing::Test {
 protected:
  // Runs `request` through `store`; the use case counts its runs and answers with a fresh value.
  absl::Status Answer(const AnswerStore& store, const common::v1::Event& request,
                      common::v1::Event* response, absl::Status outcome = absl::OkStatus(),
                      absl::Time deadline = absl::Now() + absl::Seconds(10)) {
    return store.Answer(kMethod, kActor, deadline, request, response, [&] {
      const int run = ++runs_;
      absl::SleepFor(absl::Milliseconds(20));  // long enough for concurrent calls to meet
      response->set_id(std::to_string(run));
      response->set_recorded_at_ms(absl::ToUnixMicros(absl::Now()));
      return outcome;
    });
  }

  // A claim on `request` (request id "r-1") as `holder` left it, living `px_ms` more.
  void Claim(const common::v1::Event& request, const std::string& holder,
             const std::string& px_ms) {
    ASSERT_TRUE(redis_.pool()
                    .Command({"SET", AnswerStore::ClaimKey(kMethod, kActor, "r-1"),
                              holder + "\n" + Fingerprint(request), "PX", px_ms})
                    .ok());
  }

  testing::RedisServer redis_;
  std::atomic<int> runs_{0};
};

TEST_F(AnswerStoreTest, ARetryGetsTheFirstAnswerWithoutRunningAgain) {
  AnswerStore store(redis_.pool());
  common::v1::Event first, retry;
  ASSERT_TRUE(Answer(store, Request("r-1"), &first).ok());
  ASSERT_TRUE(Answer(store, Request("r-1"), &retry).ok());
  EXPECT_EQ(runs_.load(), 1);
  EXPECT_EQ(retry.SerializeAsString(), first.SerializeAsString());
  // No claim is left behind; the answer is kept with the TTL.
  auto claim = redis_.pool().Command({"EXISTS", AnswerStore::ClaimKey(kMethod, kActor, "r-1")});
  auto ttl = redis_.pool().Command({"TTL", AnswerStore::AnswerKey(kMethod, kActor, "r-1")});
  ASSERT_TRUE(claim.ok() && ttl.ok());
  EXPECT_EQ(claim->integer(), 0);
  EXPECT_GT(ttl->integer(), 6 * 24 * 3600);
}

TEST_F(AnswerStoreTest, TheSameRequestIdForAnotherRequestIsInvalidArgument) {
  AnswerStore store(redis_.pool());
  common::v1::Event first, other;
  ASSERT_TRUE(Answer(store, Request("r-1"), &first).ok());
  absl::Status reused = Answer(store, Request("r-1", "另一个"), &other);
  EXPECT_EQ(reused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(reused.message(), HasSubstr("request_id"));
  EXPECT_EQ(runs_.load(), 1);
  // Another principal's request_id of the same text is its own.
  common::v1::Event theirs;
  ASSERT_TRUE(store
                  .Answer(kMethod, "teacher:t2", absl::Now() + absl::Seconds(5),
                          Request("r-1", "另一个"), &theirs, [] { return absl::OkStatus(); })
                  .ok());
}

TEST_F(AnswerStoreTest, ConcurrentIdenticalCallsRunOnceAndAnswerAlike) {
  AnswerStore store(redis_.pool());
  std::vector<common::v1::Event> responses(20);
  std::vector<absl::Status> statuses(20);
  std::vector<std::thread> threads;
  threads.reserve(statuses.size());
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back(
        [&, i] { statuses[i] = Answer(store, Request("r-burst"), &responses[i]); });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(runs_.load(), 1);
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(statuses[i].ok()) << statuses[i];
    EXPECT_EQ(responses[i].SerializeAsString(), responses[0].SerializeAsString());
  }
}

TEST_F(AnswerStoreTest, AnErrorStoresNothingSoARetryRunsAgain) {
  AnswerStore store(redis_.pool());
  common::v1::Event response;
  EXPECT_EQ(
      Answer(store, Request("r-1"), &response, absl::FailedPreconditionError("not yet")).code(),
      absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Answer(store, Request("r-1"), &response).ok());
  EXPECT_EQ(runs_.load(), 2);
  auto keys = redis_.pool().Command({"DBSIZE"});
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->integer(), 1);  // the answer; no claim
}

// The use case's change is made but its answer cannot be stored (here Redis refuses writes for
// lack of memory as the answer is settled; in the fault bench, redis-server killed between the
// two): the call must not answer OK, or a retry, running the use case again, answers other bytes
// than the answer the caller was given (found by bench/fault_bench.sh at 50,000 writes).
TEST_F(AnswerStoreTest, AnAnswerThatCannotBeStoredIsNotGivenAsOk) {
  AnswerStore store(redis_.pool());
  common::v1::Event first, retry;
  const absl::Status answered =
      store.Answer(kMethod, kActor, absl::Now() + absl::Seconds(10), Request("r-1"), &first, [&] {
        ++runs_;
        first.set_id("first");
        // Settling the answer will now be refused (OOM: maxmemory below what Redis holds).
        EXPECT_TRUE(redis_.pool().Command({"CONFIG", "SET", "maxmemory", "1"}).ok());
        return absl::OkStatus();
      });
  ASSERT_TRUE(redis_.pool().Command({"CONFIG", "SET", "maxmemory", "0"}).ok());
  EXPECT_EQ(answered.code(), absl::StatusCode::kUnavailable) << answered;
  EXPECT_THAT(answered.message(), HasSubstr("request_id"));
  // The retry runs again and its answer is the one kept from then on.
  ASSERT_TRUE(Answer(store, Request("r-1"), &retry).ok());
  common::v1::Event again;
  ASSERT_TRUE(Answer(store, Request("r-1"), &again).ok());
  EXPECT_EQ(again.SerializeAsString(), retry.SerializeAsString());
  EXPECT_EQ(runs_.load(), 2);
}

TEST_F(AnswerStoreTest, AClaimWhoseHolderDiedIsTakenOverWhenItExpires) {
  AnswerStore store(redis_.pool());
  common::v1::Event request = Request("r-1");
  // A holder that claimed the request and died: its claim lives 300 ms more.
  ASSERT_NO_FATAL_FAILURE(Claim(request, "dead", "300"));
  common::v1::Event response;
  const absl::Time start = absl::Now();
  ASSERT_TRUE(Answer(store, request, &response).ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(250));
  EXPECT_EQ(runs_.load(), 1);
}

TEST_F(AnswerStoreTest, AClaimHeldPastTheDeadlineIsUnavailable) {
  AnswerStore store(redis_.pool());
  common::v1::Event request = Request("r-1");
  ASSERT_NO_FATAL_FAILURE(Claim(request, "busy", "60000"));
  common::v1::Event response;
  absl::Status waited =
      Answer(store, request, &response, absl::OkStatus(), absl::Now() + absl::Milliseconds(200));
  EXPECT_EQ(waited.code(), absl::StatusCode::kUnavailable) << waited;
  EXPECT_THAT(waited.message(), HasSubstr("r-1"));
  // Held for a different request: refused at once.
  absl::Status other = Answer(store, Request("r-1", "另一个"), &response);
  EXPECT_EQ(other.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(runs_.load(), 0);
}

TEST_F(AnswerStoreTest, SealedAnswersAreStoredSealed) {
  AnswerStoreOptions options;
  options.seal.seal = [](absl::string_view bytes) -> absl::StatusOr<std::string> {
    return "sealed:" + absl::Base64Escape(bytes);
  };
  options.seal.open = [](absl::string_view bytes) -> absl::StatusOr<std::string> {
    std::string plain;
    if (!absl::ConsumePrefix(&bytes, "sealed:") || !absl::Base64Unescape(bytes, &plain)) {
      return absl::DataLossError("not sealed here");
    }
    return plain;
  };
  AnswerStore store(redis_.pool(), options);
  common::v1::Event first, retry;
  ASSERT_TRUE(store
                  .Answer(kMethod, kActor, absl::Now() + absl::Seconds(5), Request("r-1"), &first,
                          [&] {
                            first.set_summary("110105199003071234");
                            return absl::OkStatus();
                          })
                  .ok());
  auto stored = redis_.pool().Command({"GET", AnswerStore::AnswerKey(kMethod, kActor, "r-1")});
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(absl::StrContains(stored->str(), "110105199003071234"));
  ASSERT_TRUE(Answer(store, Request("r-1"), &retry).ok());
  EXPECT_EQ(retry.summary(), "110105199003071234");
  EXPECT_EQ(runs_.load(), 0);
}

TEST_F(AnswerStoreTest, ARequestWithoutRequestIdRunsEveryTime) {
  AnswerStore store(redis_.pool());
  common::v1::Event response;
  ASSERT_TRUE(Answer(store, Request(""), &response).ok());
  ASSERT_TRUE(Answer(store, Request(""), &response).ok());
  EXPECT_EQ(runs_.load(), 2);
  EXPECT_EQ(Answer(store, Request(std::string(129, 'x')), &response).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace shidang
