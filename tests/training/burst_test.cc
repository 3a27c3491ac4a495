// Bursts queue, a stalled Redis costs a call one budget, and overload is UNAVAILABLE: the training
// service as a real process with its default threading (services/common/server.h) on a real
// redis-server, called over gRPC by many calls at once.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/common/principal.h"
#include "shidang/training/v1/training.grpc.pb.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/service_process.h"
#include "tests/training/centre_courses.h"

namespace shidang::training {
namespace {

using common::v1::Principal;

const std::string kPrincipalKey(40, 'k');

// The retry-after trailer of a finished call, in seconds; 0 when missing or not a number.
int RetryAfterOf(const grpc::ClientContext& context) {
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find("retry-after");
  int seconds = 0;
  if (it == trailers.end() ||
      !absl::SimpleAtoi(absl::string_view(it->second.data(), it->second.size()), &seconds)) {
    return 0;
  }
  return seconds;
}

// What a burst of calls answered.
struct BurstResult {
  std::map<grpc::StatusCode, int> codes;
  std::set<std::string> course_ids;
  std::vector<std::string> messages;  // of the calls that failed, in the order they answered
  // The retry-after trailer of each call that failed with "queue full" (0: none).
  std::vector<int> queue_full_retry_after;
  absl::Duration slowest;
};

class BurstTest : public ::testing::Test {
 protected:
  void StartService(std::vector<std::string> extra = {}) {
    std::ofstream(keys_.path() + "/principal.key", std::ios::binary) << kPrincipalKey;
    std::vector<std::string> args = {"--redis=" + redis_.address(),
                                     "--principal_key_file=" + keys_.path() + "/principal.key",
                                     "--today=2025-11-25"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto process = testing::ServiceProcess::Start(SHIDANG_TRAINING_BINARY, args);
    ASSERT_TRUE(process.ok()) << process.status();
    process_ = std::move(*process);
    stub_ = v1::TrainingService::NewStub(
        grpc::CreateChannel(process_->address(), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    redis_.Resume();
    if (HasFailure() && process_ != nullptr) {
      const std::string text = process_->StderrText();
      std::fprintf(stderr, "shidang-training stderr (tail):\n%s\n",
                   text.substr(text.size() > 4000 ? text.size() - 4000 : 0).c_str());
    }
  }

  // Sends `count` RegisterCourse calls at once (ids "<prefix>-<i>"), each with `deadline`, and
  // waits for every answer.
  BurstResult Burst(int count, const std::string& prefix, absl::Duration deadline) {
    struct Call {
      grpc::ClientContext context;
      v1::RegisterCourseRequest request;
      v1::RegisterCourseResponse response;
    };
    std::vector<std::unique_ptr<Call>> calls;
    BurstResult result;
    absl::Mutex mu;
    int done = 0;
    const absl::Time start = absl::Now();
    for (int i = 0; i < count; ++i) {
      calls.push_back(std::make_unique<Call>());
      Call& call = *calls.back();
      const std::string id = absl::StrCat(prefix, "-", i);
      call.request = NewCourse(id, absl::StrCat("课程 ", id));
      call.context.set_deadline(absl::ToChronoTime(start + deadline));
      signer_.Attach(&call.context, Centre());
    }
    for (auto& owned : calls) {
      Call* call = owned.get();
      stub_->async()->RegisterCourse(
          &call->context, &call->request, &call->response, [&, call](const grpc::Status& status) {
            absl::MutexLock lock(&mu);
            ++result.codes[status.error_code()];
            if (status.ok()) {
              result.course_ids.insert(call->response.course().course_id());
            } else {
              result.messages.push_back(status.error_message());
              if (status.error_message().find("queue full") != std::string::npos) {
                result.queue_full_retry_after.push_back(RetryAfterOf(call->context));
              }
            }
            result.slowest = std::max(result.slowest, absl::Now() - start);
            ++done;
          });
    }
    const auto all_answered = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return done == count; };
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(&all_answered));
    return result;
  }

  testing::RedisServer redis_;
  testing::TempDir keys_;
  PrincipalSigner signer_{kPrincipalKey};
  std::unique_ptr<testing::ServiceProcess> process_;
  std::unique_ptr<v1::TrainingService::Stub> stub_;
};

int Count(const BurstResult& r, grpc::StatusCode code) {
  auto it = r.codes.find(code);
  return it == r.codes.end() ? 0 : it->second;
}

std::string Describe(const BurstResult& r) {
  std::string out;
  for (const auto& [code, n] : r.codes) absl::StrAppend(&out, "code ", code, ": ", n, "; ");
  // The first few messages, and the last (the kinds differ by when they answered).
  for (size_t i = 0; i < r.messages.size(); ++i) {
    if (i < 5 || i + 1 == r.messages.size()) absl::StrAppend(&out, "\n  ", r.messages[i]);
  }
  return out;
}

// Before: 16 threads, and the 17th call at once got RESOURCE_EXHAUSTED "Server Threadpool
// Exhausted". Now a thousand at once queue and are all served, each written once.
TEST_F(BurstTest, AThousandConcurrentWritesAreAllServed) {
  StartService();
  const BurstResult result = Burst(1000, "burst", absl::Seconds(60));
  EXPECT_EQ(Count(result, grpc::StatusCode::OK), 1000) << Describe(result);
  EXPECT_EQ(result.course_ids.size(), 1000u);
  EXPECT_EQ(result.codes.count(grpc::StatusCode::RESOURCE_EXHAUSTED), 0u) << Describe(result);
}

// With Redis stalled, a call answers UNAVAILABLE within its one Redis budget (1 s, not a 0.8 s
// wait for a connection and then 0.8 s for the command), and once Redis runs again the same
// process serves again. (Calls beyond the few that run at once wait their turn first, within
// their deadlines; their Redis budget opens when it comes.)
TEST_F(BurstTest, AStalledRedisIsUnavailableWithinASecondAndRecoversWithoutRestart) {
  StartService();
  ASSERT_EQ(Count(Burst(20, "warm", absl::Seconds(30)), grpc::StatusCode::OK), 20);

  redis_.Pause();
  // More calls than connections (8), so that some wait for a connection and some for a reply,
  // and no more than run at once (16).
  const BurstResult stalled = Burst(14, "stalled", absl::Seconds(30));
  EXPECT_EQ(Count(stalled, grpc::StatusCode::UNAVAILABLE), 14) << Describe(stalled);
  // The budget is 1 s; the rest is the sanitized build's and the scheduler's slack.
  EXPECT_LT(stalled.slowest, absl::Milliseconds(1500)) << Describe(stalled);

  redis_.Resume();
  absl::Time until = absl::Now() + absl::Seconds(10);
  BurstResult after;
  do {
    after = Burst(20, absl::StrCat("after-", absl::ToUnixMillis(absl::Now())), absl::Seconds(10));
  } while (Count(after, grpc::StatusCode::OK) < 20 && absl::Now() < until);
  EXPECT_EQ(Count(after, grpc::StatusCode::OK), 20) << Describe(after);
}

// Past --max_threads calls in progress, a call is refused with UNAVAILABLE "queue full" and a
// retry-after trailer (which the gateway sends as 503 with Retry-After), never
// RESOURCE_EXHAUSTED, which is the rate limiter's alone.
//
// It flaked once in a full ctest -j2 run: refusals ran on threads of a gRPC quota only 64 above
// the limit, and each ran the handler (principal, request checks, the use case up to its first
// Redis call), so on a loaded machine more than 64 were being refused at once and gRPC answered
// the rest RESOURCE_EXHAUSTED "Server Threadpool Exhausted" itself (reproduced: 70 of 200 with
// the quota at twice the limit plus 64). Refusals now answer before the handler runs, the quota
// is 4,096 above the limit, and the overload is looked for in every failure's message, not in
// the first five to answer (under load those could all be calls whose Redis budget ran out).
TEST_F(BurstTest, OverloadPastTheLimitIsUnavailableNotResourceExhausted) {
  StartService({"--max_threads=20"});
  redis_.Pause();  // the first calls hold their threads, waiting for Redis, for a second
  const BurstResult result = Burst(200, "over", absl::Seconds(30));
  redis_.Resume();
  EXPECT_EQ(result.codes.count(grpc::StatusCode::RESOURCE_EXHAUSTED), 0u) << Describe(result);
  EXPECT_EQ(Count(result, grpc::StatusCode::UNAVAILABLE), 200) << Describe(result);
  int overloaded = 0;
  for (const std::string& m : result.messages) {
    overloaded += m.find("overloaded") != std::string::npos ? 1 : 0;
  }
  EXPECT_GT(overloaded, 0) << Describe(result);
  // Each of those says why and when to come back.
  EXPECT_EQ(result.queue_full_retry_after.size(), static_cast<size_t>(overloaded));
  for (int seconds : result.queue_full_retry_after) EXPECT_GE(seconds, 1) << Describe(result);
}

}  // namespace
}  // namespace shidang::training
