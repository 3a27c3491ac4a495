// The run command's demo data (deploy/run.sh): shidang-demo-load's county, then
// shidang-training-demo-load's training history, each run as a process against the real services.

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/e2e/platform.h"
#include "tests/kit/files.h"

namespace shidang::e2e {
namespace {

using ::testing::HasSubstr;

constexpr char kDemoCounty[] = "330723";

// Runs `command` with its output in `out`; returns its exit code (-1 if it did not exit).
int RunTool(const std::string& command, const std::string& out) {
  const int rc = std::system(absl::StrCat(command, " > ", out, " 2>&1 < /dev/null").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST(DemoDataTest, TheTrainingHistoryGivesEveryStatusButOnTrackAndLoadsOnce) {
  absl::StatusOr<std::unique_ptr<Platform>> started = Platform::Start();
  ASSERT_TRUE(started.ok()) << started.status();
  Platform& platform = **started;
  testing::TempDir dir;
  const std::string key = " --principal_key_file=" + platform.principal_key_path();
  const std::string today = absl::StrCat(" --today=", kToday);
  ASSERT_EQ(RunTool(absl::StrCat(SHIDANG_DEMO_LOAD, " --profile=", platform.profile().address(),
                                 key, today, " --schools=12 --teachers=300"),
                    dir.path() + "/profile.txt"),
            0)
      << ReadFile(dir.path() + "/profile.txt") << platform.Logs();
  const std::string training_load =
      absl::StrCat(SHIDANG_TRAINING_DEMO_LOAD, " --profile=", platform.profile().address(),
                   " --training=", platform.training().address(), key, today);
  ASSERT_EQ(RunTool(training_load, dir.path() + "/first.txt"), 0)
      << ReadFile(dir.path() + "/first.txt") << platform.Logs();
  const std::string first = ReadFile(dir.path() + "/first.txt");
  EXPECT_THAT(first, HasSubstr("8 self-reports waiting for HR"));

  // The county's report as HR reads it through the gateway; its rows (the teachers at risk or
  // behind, by shortfall) would move if any credit were added twice.
  auto report = [&] {
    training::v1::GetComplianceReportRequest req;
    req.set_county_id(kDemoCounty);
    req.set_as_of(kToday);
    req.mutable_page()->set_page_size(500);
    training::v1::GetComplianceReportResponse resp;
    grpc::Status s = CallWith(
        platform.training_stub(), &training::v1::TrainingService::Stub::GetComplianceReport,
        platform.Token(HrP(common::v1::ROLE_COUNTY_HR, kDemoCounty)), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  };
  const training::v1::GetComplianceReportResponse before = report();
  std::map<int, int64_t> by_status;
  int64_t counted = 0;
  for (const auto& row : before.by_status()) {
    by_status[row.status()] = row.teachers();
    counted += row.teachers();
  }
  EXPECT_GT(before.teachers(), 250);  // 300 generated, less those who retired or left
  EXPECT_EQ(counted, before.teachers());
  // 36 days before the fixed cycle 2021..2025 closes (kToday): habits from 10% to 95% of the
  // courses give teachers who are done, teachers on pace but still owing, and teachers behind.
  EXPECT_GT(by_status[training::v1::TRAINING_STATUS_COMPLETE], 0) << first;
  EXPECT_GT(by_status[training::v1::TRAINING_STATUS_AT_RISK], 0) << first;
  EXPECT_GT(by_status[training::v1::TRAINING_STATUS_BEHIND], 0) << first;

  // Again: every write carries its first request id, so each answer is the first one replayed
  // and nothing is credited twice.
  ASSERT_EQ(RunTool(training_load, dir.path() + "/second.txt"), 0)
      << ReadFile(dir.path() + "/second.txt") << platform.Logs();
  EXPECT_EQ(ReadFile(dir.path() + "/second.txt"), first);
  const training::v1::GetComplianceReportResponse after = report();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(before, after))
      << before.DebugString() << "\n---\n"
      << after.DebugString();
}

}  // namespace
}  // namespace shidang::e2e
