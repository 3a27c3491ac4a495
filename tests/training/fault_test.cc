// Crashes under load: writers register and publish courses through the training service while
// the service and redis-server (appendfsync always) are SIGKILLed and started again. Each writer
// retries a call with the same request id until it is acknowledged and logs every acknowledged
// write; afterwards every logged write is there, once.

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

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
constexpr int kWriters = 6;

class FaultTest : public ::testing::Test {
 protected:
  FaultTest()
      : redis_([] {
          testing::RedisServerOptions options;
          options.appendfsync = "always";
          return options;
        }()) {}

  void SetUp() override {
    std::ofstream(keys_.path() + "/principal.key", std::ios::binary) << kPrincipalKey;
    StartService();
  }

  void StartService() {
    auto process = testing::ServiceProcess::Start(
        SHIDANG_TRAINING_BINARY,
        {"--redis=" + redis_.address(), "--principal_key_file=" + keys_.path() + "/principal.key",
         "--today=2025-11-25"});
    ASSERT_TRUE(process.ok()) << process.status();
    auto stub = std::shared_ptr<v1::TrainingService::Stub>(v1::TrainingService::NewStub(
        grpc::CreateChannel((*process)->address(), grpc::InsecureChannelCredentials())));
    absl::MutexLock lock(&mu_);
    process_ = std::move(*process);
    stub_ = std::move(stub);
  }

  void KillService() {
    absl::MutexLock lock(&mu_);
    process_->Kill(SIGKILL);
    process_->Wait();
  }

  std::shared_ptr<v1::TrainingService::Stub> Stub() {
    absl::MutexLock lock(&mu_);
    return stub_;
  }

  // Sends `request` with `method` until it is acknowledged (or the test's time is up).
  template <typename Req, typename Resp>
  grpc::Status UntilAcknowledged(
      grpc::Status (v1::TrainingService::Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
      const Req& request, Resp* response) {
    grpc::Status status;
    const absl::Time give_up = absl::Now() + absl::Seconds(60);
    while (absl::Now() < give_up) {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
      signer_.Attach(&context, Centre());
      status = (Stub().get()->*method)(&context, request, response);
      if (status.ok() || status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) return status;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return status;
  }

  // One writer: registers courses "<writer>-<n>", publishes every other one, and logs each
  // acknowledged write; every fifth registration is sent once more after its acknowledgement
  // and must answer the same course.
  void Write(int writer, std::atomic<bool>* stop) {
    for (int n = 0; !stop->load(); ++n) {
      // One title per request id: a doubled write shows as two courses.
      const std::string id = absl::StrCat("w", writer, "-", n);
      const v1::RegisterCourseRequest request = NewCourse(id, id);
      v1::RegisterCourseResponse registered;
      grpc::Status status =
          UntilAcknowledged(&v1::TrainingService::Stub::RegisterCourse, request, &registered);
      if (!status.ok()) {
        ADD_FAILURE() << request.request_id() << ": " << status.error_message();
        return;
      }
      const std::string course_id = registered.course().course_id();
      if (n % 5 == 0) {
        v1::RegisterCourseResponse again;
        status = UntilAcknowledged(&v1::TrainingService::Stub::RegisterCourse, request, &again);
        EXPECT_TRUE(status.ok()) << status.error_message();
        EXPECT_EQ(again.course().course_id(), course_id) << request.request_id();
      }
      bool published = false;
      if (n % 2 == 0) {
        v1::PublishCourseRequest publish;
        publish.set_request_id(absl::StrCat(request.request_id(), "-publish"));
        publish.set_course_id(course_id);
        v1::PublishCourseResponse answer;
        status = UntilAcknowledged(&v1::TrainingService::Stub::PublishCourse, publish, &answer);
        EXPECT_TRUE(status.ok()) << status.error_message();
        published = status.ok();
      }
      absl::MutexLock lock(&mu_);
      acknowledged_[request.request_id()] = {course_id, published};
    }
  }

  // Every course of provider P1, by title.
  std::multimap<std::string, v1::Course> ListAll() {
    std::multimap<std::string, v1::Course> by_title;
    std::string token;
    do {
      v1::ListCoursesRequest list;
      list.set_provider_id("P1");
      list.mutable_page()->set_page_size(100);
      list.mutable_page()->set_page_token(token);
      v1::ListCoursesResponse page;
      grpc::Status status = UntilAcknowledged(&v1::TrainingService::Stub::ListCourses, list, &page);
      if (!status.ok()) {
        ADD_FAILURE() << status.error_message();
        break;
      }
      for (const v1::Course& c : page.courses()) by_title.emplace(c.title(), c);
      token = page.page().next_page_token();
    } while (!token.empty());
    return by_title;
  }

  struct Acknowledged {
    std::string course_id;
    bool published = false;
  };

  testing::RedisServer redis_;
  testing::TempDir keys_;
  PrincipalSigner signer_{kPrincipalKey};
  absl::Mutex mu_;
  std::unique_ptr<testing::ServiceProcess> process_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<v1::TrainingService::Stub> stub_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Acknowledged> acknowledged_ ABSL_GUARDED_BY(mu_);
};

TEST_F(FaultTest, KillsOfTheServiceAndOfRedisLoseNoAcknowledgedWriteAndDoubleNone) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  writers.reserve(kWriters);
  for (int i = 0; i < kWriters; ++i) writers.emplace_back([this, i, &stop] { Write(i, &stop); });

  absl::SleepFor(absl::Seconds(1));
  KillService();
  StartService();
  absl::SleepFor(absl::Seconds(1));
  redis_.Kill();
  absl::SleepFor(absl::Milliseconds(300));
  redis_.Start();
  absl::SleepFor(absl::Seconds(1));
  KillService();
  redis_.Kill();
  redis_.Start();
  StartService();
  absl::SleepFor(absl::Seconds(1));
  stop.store(true);
  for (std::thread& t : writers) t.join();

  std::map<std::string, Acknowledged> acknowledged;
  {
    absl::MutexLock lock(&mu_);
    acknowledged = acknowledged_;
  }
  ASSERT_GT(acknowledged.size(), 20u) << "too little load to mean anything";
  const std::multimap<std::string, v1::Course> stored = ListAll();
  int lost = 0, doubled = 0;
  for (const auto& [request_id, ack] : acknowledged) {
    const auto [first, last] = stored.equal_range(request_id);
    const auto count = std::distance(first, last);
    if (count == 0) {
      ++lost;
      ADD_FAILURE() << "lost: " << request_id;
      continue;
    }
    if (count > 1) {
      ++doubled;
      ADD_FAILURE() << "doubled: " << request_id << " x" << count;
    }
    EXPECT_EQ(first->second.course_id(), ack.course_id) << request_id;
    if (ack.published) {
      EXPECT_EQ(first->second.state(), v1::COURSE_STATE_PUBLISHED) << request_id;
    }
  }
  // Nothing stored that no writer sent either: at most the calls in flight when the writers
  // stopped, which were acknowledged before they returned.
  EXPECT_EQ(stored.size(), acknowledged.size());
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(doubled, 0);
  std::printf("fault: %zu acknowledged writes, %d lost, %d doubled\n", acknowledged.size(), lost,
              doubled);
}

}  // namespace
}  // namespace shidang::training
