// The run command's demo data (deploy/run.sh): shidang-demo-load's county, then
// shidang-training-demo-load's training history and shidang-rotation-demo-load's rotation
// history, each run as a process against the real services.

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
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

// Runs `command` with its output in `path`, and that output in *output; a fatal failure (with the
// output and the platform's logs) unless it exits 0.
void RunLoader(Platform& platform, const std::string& command, const std::string& path,
               std::string* output) {
  ASSERT_EQ(RunTool(command, path), 0) << ReadFile(path) << platform.Logs();
  *output = ReadFile(path);
}

// The flags every loader takes here: the platform's principal key and kToday.
std::string LoaderFlags(Platform& platform) {
  return absl::StrCat(" --principal_key_file=", platform.principal_key_path(), " --today=", kToday);
}

// The demo county, 12 schools and 300 teachers, loaded into the platform's profile service.
void LoadCounty(Platform& platform, const testing::TempDir& dir) {
  std::string output;
  RunLoader(platform,
            absl::StrCat(SHIDANG_DEMO_LOAD, " --profile=", platform.profile().address(),
                         LoaderFlags(platform), " --schools=12 --teachers=300"),
            dir.path() + "/profile.txt", &output);
}

// Every demo course's state fits its dates: one begun is closed, with its class's completions;
// one still to come is open for enrolment, with teachers enrolled and nobody credited yet.
void ExpectCourseStatesFitTheirDates(Platform& platform) {
  training::v1::ListCoursesRequest req;
  req.set_open_to_county_id(kDemoCounty);
  req.mutable_page()->set_page_size(200);
  training::v1::ListCoursesResponse resp;
  grpc::Status s =
      CallWith(platform.training_stub(), &training::v1::TrainingService::Stub::ListCourses,
               platform.Token(HrP(common::v1::ROLE_COUNTY_HR, kDemoCounty)), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  int begun = 0, to_come = 0;
  for (const training::v1::Course& c : resp.courses()) {
    SCOPED_TRACE(absl::StrCat(c.title(), " ", c.start_date()));
    if (c.start_date() <= std::string(kToday)) {
      ++begun;
      EXPECT_EQ(c.state(), training::v1::COURSE_STATE_CLOSED);
      EXPECT_GT(c.completed(), 0);
    } else {
      ++to_come;
      EXPECT_EQ(c.state(), training::v1::COURSE_STATE_PUBLISHED);
      EXPECT_GT(c.enrolled(), 0);
      EXPECT_LE(c.enrolled(), c.capacity());
      EXPECT_EQ(c.completed(), 0);
    }
  }
  EXPECT_GT(begun, 20);
  EXPECT_GT(to_come, 0);
}

TEST(DemoDataTest, TheTrainingHistoryGivesEveryStatusInTheCycleOfTodayAndLoadsOnce) {
  absl::StatusOr<std::unique_ptr<Platform>> started = Platform::Start();
  ASSERT_TRUE(started.ok()) << started.status();
  Platform& platform = **started;
  testing::TempDir dir;
  ASSERT_NO_FATAL_FAILURE(LoadCounty(platform, dir));
  const std::string training_load =
      absl::StrCat(SHIDANG_TRAINING_DEMO_LOAD, " --profile=", platform.profile().address(),
                   " --training=", platform.training().address(), LoaderFlags(platform));
  std::string first, second;
  ASSERT_NO_FATAL_FAILURE(RunLoader(platform, training_load, dir.path() + "/first.txt", &first));
  EXPECT_THAT(first, HasSubstr("8 self-reports waiting for HR"));
  ExpectCourseStatesFitTheirDates(platform);

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
  // Each teacher's cycle runs from their anchor, a day of the five years before today, so today
  // falls early in some cycles and late in others; habits from 10% to 95% of the courses, and
  // teachers who keep just to the pace, give every status. (With one fixed county cycle every
  // teacher stood at the same point of it: never on track and at risk at once, and right after a
  // cycle turned, as in December 2026, every teacher at 0 hours.)
  EXPECT_GT(by_status[training::v1::TRAINING_STATUS_COMPLETE], 0) << first;
  EXPECT_GT(by_status[training::v1::TRAINING_STATUS_ON_TRACK], 0) << first;
  EXPECT_GT(by_status[training::v1::TRAINING_STATUS_AT_RISK], 0) << first;
  EXPECT_GT(by_status[training::v1::TRAINING_STATUS_BEHIND], 0) << first;

  // Again: every write carries its first request id, so each answer is the first one replayed
  // and nothing is credited twice.
  ASSERT_NO_FATAL_FAILURE(RunLoader(platform, training_load, dir.path() + "/second.txt", &second));
  EXPECT_EQ(second, first);
  const training::v1::GetComplianceReportResponse after = report();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(before, after))
      << before.DebugString() << "\n---\n"
      << after.DebugString();
}

// The county's rotation compliance for `year` as HR reads it through the gateway.
rotation::v1::GetRotationComplianceResponse RotationReport(Platform& platform,
                                                           const std::string& year) {
  rotation::v1::GetRotationComplianceRequest req;
  req.set_county_id(kDemoCounty);
  req.set_school_year(year);
  rotation::v1::GetRotationComplianceResponse resp;
  grpc::Status s = CallWith(
      platform.rotation_stub(), &rotation::v1::RotationService::Stub::GetRotationCompliance,
      platform.Token(HrP(common::v1::ROLE_COUNTY_HR, kDemoCounty)), req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp;
}

// Schools whose quota passes with a rotation counted, and schools that fail.
std::pair<int, int> PassingAndFailing(const rotation::v1::GetRotationComplianceResponse& report) {
  int passing = 0, failing = 0;
  for (const rotation::v1::SchoolCompliance& s : report.schools()) {
    if (s.figures().passes() && s.figures().counting() > 0) ++passing;
    if (!s.figures().passes()) ++failing;
  }
  return {passing, failing};
}

TEST(DemoDataTest, TheRotationHistoryGivesPassingAndFailingSchoolsAndLoadsOnce) {
  absl::StatusOr<std::unique_ptr<Platform>> started = Platform::Start();
  ASSERT_TRUE(started.ok()) << started.status();
  Platform& platform = **started;
  testing::TempDir dir;
  ASSERT_NO_FATAL_FAILURE(LoadCounty(platform, dir));
  const std::string rotation_load =
      absl::StrCat(SHIDANG_ROTATION_DEMO_LOAD, " --profile=", platform.profile().address(),
                   " --rotation=", platform.rotation().address(), LoaderFlags(platform));
  std::string first, second;
  ASSERT_NO_FATAL_FAILURE(RunLoader(platform, rotation_load, dir.path() + "/first.txt", &first));

  // Today (kToday, 2025-11-25) is in school year 2025; the history's last year is 2024.
  const rotation::v1::GetRotationComplianceResponse now = RotationReport(platform, "2025");
  const rotation::v1::GetRotationComplianceResponse last = RotationReport(platform, "2024");
  for (const auto* report : {&now, &last}) {
    const auto [passing, failing] = PassingAndFailing(*report);
    EXPECT_GT(passing, 0) << report->school_year() << "\n" << first << report->DebugString();
    EXPECT_GT(failing, 0) << report->school_year() << "\n" << first << report->DebugString();
  }
  EXPECT_GT(last.county().backbone_counting(), 0) << last.DebugString();
  // Last year's rotations that do not count, each for a reason of its own.
  std::set<int> reasons;
  for (const auto& verdict : last.not_counting()) reasons.insert(verdict.reason());
  EXPECT_EQ(reasons, (std::set<int>{rotation::v1::COUNTING_REASON_NOT_APPROVED,
                                    rotation::v1::COUNTING_REASON_CANCELLED,
                                    rotation::v1::COUNTING_REASON_WRONG_DIRECTION,
                                    rotation::v1::COUNTING_REASON_TOO_SHORT,
                                    rotation::v1::COUNTING_REASON_NOT_ELIGIBLE}))
      << last.DebugString();
  // This year's proposals wait for HR.
  std::set<int> this_year;
  for (const auto& verdict : now.not_counting()) this_year.insert(verdict.reason());
  EXPECT_EQ(this_year, std::set<int>{rotation::v1::COUNTING_REASON_NOT_APPROVED})
      << now.DebugString();

  // Again: every write replays its first answer, and nothing is added.
  ASSERT_NO_FATAL_FAILURE(RunLoader(platform, rotation_load, dir.path() + "/second.txt", &second));
  EXPECT_EQ(second, first);
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(now, RotationReport(platform, "2025")));
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(last, RotationReport(platform, "2024")));
}

}  // namespace
}  // namespace shidang::e2e
