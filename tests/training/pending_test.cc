// HR's review queue (ListPendingSelfReports): the training service as a real process on a real
// redis-server, called over gRPC with signed principals. The queue is a per-county index kept by
// the scripts that write records; these tests check it agrees with the records through logging,
// approval and rejection, that a county whose records predate the index is indexed on its first
// read, and who may read it.

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/keys.h"
#include "services/common/principal.h"
#include "shidang/profile/v1/profile.pb.h"
#include "shidang/training/v1/training.grpc.pb.h"
#include "tests/kit/principals.h"
#include "tests/kit/redis_server.h"
#include "tests/training/training_fixture.h"

namespace shidang::training {
namespace {

using common::v1::Principal;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr char kOtherSchool[] = "S330723-bbbbbbbbbb";

using testing::Who;

class PendingSelfReportsTest : public TrainingFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StartService(SHIDANG_TRAINING_BINARY, "shidang-training", kToday));
  }

  // Teacher `id` at `school`, as the profile service creates them.
  void AddTeacher(const std::string& id, const std::string& school) {
    MakeKnown(id, kCounty, school, /*deliveries=*/1);
  }

  // A self-report of the teacher: awaits HR's review.
  std::string Log(const std::string& teacher, const std::string& title) {
    v1::LogTrainingRequest req;
    req.set_request_id(absl::StrCat("log-", teacher, "-", title));
    req.set_teacher_id(teacher);
    req.set_activity(v1::TRAINING_ACTIVITY_CONFERENCE);
    req.set_title(title);
    req.set_level(common::v1::TRAINING_LEVEL_PROVINCE);
    req.set_mode(common::v1::TRAINING_MODE_FACE_TO_FACE);
    req.set_hours(8);
    req.set_completed_on("2025-10-01");
    req.mutable_evidence()->set_description("参会证明");
    req.mutable_evidence()->set_file_ref("files/abc.pdf");
    v1::LogTrainingResponse resp;
    grpc::Status s = Call(&v1::TrainingService::Stub::LogTraining,
                          Who(common::v1::ROLE_TEACHER, teacher), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.record().state(), v1::TRAINING_RECORD_STATE_AWAITING_REVIEW);
    return resp.record().record_id();
  }

  void Review(const std::string& record_id, v1::ReviewDecision decision) {
    v1::ReviewTrainingRecordRequest req;
    req.set_record_id(record_id);
    req.set_decision(decision);
    req.set_reason("证明材料不全");
    v1::ReviewTrainingRecordResponse resp;
    grpc::Status s = Call(&v1::TrainingService::Stub::ReviewTrainingRecord, hr_, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  grpc::Status List(const Principal& who, const std::string& county, const std::string& school,
                    int page_size, const std::string& token,
                    v1::ListPendingSelfReportsResponse* resp) {
    v1::ListPendingSelfReportsRequest req;
    req.set_county_id(county);
    req.set_school_id(school);
    req.mutable_page()->set_page_size(page_size);
    req.mutable_page()->set_page_token(token);
    return Call(&v1::TrainingService::Stub::ListPendingSelfReports, who, req, resp);
  }

  // Publishes "profile.transferred_county" for the teacher (kCounty to `to`, its school
  // `to_school`) as the profile service does.
  void Transfer(const std::string& teacher, const std::string& to, const std::string& to_school) {
    profile::v1::TimelineEntry entry;
    entry.set_occurred_on(kToday);
    entry.mutable_transfer()->set_from_county_id(kCounty);
    entry.mutable_transfer()->set_to_county_id(to);
    entry.mutable_transfer()->set_to_school_id(to_school);
    PublishProfileEvent("profile.transferred_county", teacher, entry);
  }

  // Every page of the queue as `who` sees it: record ids in order.
  std::vector<std::string> Queue(const Principal& who, const std::string& school = "",
                                 int page_size = 0, const std::string& county = kCounty) {
    std::vector<std::string> ids;
    std::string token;
    do {
      v1::ListPendingSelfReportsResponse resp;
      grpc::Status s = List(who, county, school, page_size, token, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      for (const v1::PendingSelfReport& r : resp.reports()) ids.push_back(r.record().record_id());
      token = resp.page().next_page_token();
    } while (!token.empty());
    return ids;
  }

  Principal hr_ = Who(common::v1::ROLE_COUNTY_HR, "hr1", kCounty);
};

TEST_F(PendingSelfReportsTest, ListsEveryTeachersSelfReportsOldestFirstInPages) {
  AddTeacher("T1", kSchool);
  AddTeacher("T2", kOtherSchool);
  std::vector<std::string> t1 = {Log("T1", "a"), Log("T1", "b"), Log("T1", "c")};
  std::vector<std::string> t2 = {Log("T2", "d"), Log("T2", "e")};

  v1::ListPendingSelfReportsResponse all;
  grpc::Status s = List(hr_, kCounty, "", 0, "", &all);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(all.reports_size(), 5);
  EXPECT_EQ(all.page().total_size(), 5);
  EXPECT_TRUE(all.page().next_page_token().empty());
  std::vector<std::string> ids;
  for (int i = 0; i < all.reports_size(); ++i) {
    const v1::PendingSelfReport& r = all.reports(i);
    ids.push_back(r.record().record_id());
    EXPECT_EQ(r.record().state(), v1::TRAINING_RECORD_STATE_AWAITING_REVIEW);
    EXPECT_EQ(r.teacher_id(), r.record().teacher_id());
    EXPECT_EQ(r.teacher_name(), absl::StrCat("教师", r.teacher_id()));
    EXPECT_EQ(r.school_id(), r.teacher_id() == "T1" ? kSchool : kOtherSchool);
    EXPECT_EQ(r.record().evidence().description(), "参会证明");
    EXPECT_GT(r.submitted_at_ms(), 0);
    if (i > 0) {
      const v1::PendingSelfReport& before = all.reports(i - 1);
      EXPECT_LE(std::make_tuple(before.submitted_at_ms(), before.record().record_id()),
                std::make_tuple(r.submitted_at_ms(), r.record().record_id()));
    }
  }
  EXPECT_THAT(ids, UnorderedElementsAre(t1[0], t1[1], t1[2], t2[0], t2[1]));

  // Pages of two give the same queue in the same order.
  EXPECT_EQ(Queue(hr_, "", 2), ids);
  v1::ListPendingSelfReportsResponse first;
  ASSERT_TRUE(List(hr_, kCounty, "", 2, "", &first).ok());
  EXPECT_EQ(first.reports_size(), 2);
  EXPECT_EQ(first.page().next_page_token(), "2");

  // The school filter: only that school's teachers.
  EXPECT_THAT(Queue(hr_, kSchool), UnorderedElementsAre(t1[0], t1[1], t1[2]));
  EXPECT_THAT(Queue(hr_, kOtherSchool), UnorderedElementsAre(t2[0], t2[1]));

  // Bad paging is named.
  v1::ListPendingSelfReportsResponse bad;
  s = List(hr_, kCounty, "", 501, "", &bad);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("page_size"));
  s = List(hr_, kCounty, "", 0, "x", &bad);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("page_token"));
  s = List(hr_, "33072", "", 0, "", &bad);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("county_id"));
}

TEST_F(PendingSelfReportsTest, ApprovedAndRejectedRecordsLeaveTheQueue) {
  AddTeacher("T1", kSchool);
  std::string a = Log("T1", "a");
  std::string b = Log("T1", "b");
  std::string c = Log("T1", "c");
  ASSERT_THAT(Queue(hr_), UnorderedElementsAre(a, b, c));
  Review(a, v1::REVIEW_DECISION_APPROVE);
  EXPECT_THAT(Queue(hr_), UnorderedElementsAre(b, c));
  Review(c, v1::REVIEW_DECISION_REJECT);
  EXPECT_THAT(Queue(hr_), ElementsAre(b));
  Review(b, v1::REVIEW_DECISION_APPROVE);
  EXPECT_THAT(Queue(hr_), ElementsAre());
}

// Records logged before the index existed (here: the index and its mark deleted, which leaves
// the records as an older release wrote them) are indexed on the county's first read; a record
// reviewed before is not.
TEST_F(PendingSelfReportsTest, RecordsWrittenBeforeTheIndexAreListedOnTheFirstRead) {
  AddTeacher("T1", kSchool);
  AddTeacher("T2", kOtherSchool);
  std::string a = Log("T1", "a");
  std::string b = Log("T2", "b");
  std::string reviewed = Log("T1", "c");
  Review(reviewed, v1::REVIEW_DECISION_REJECT);
  ASSERT_THAT(Queue(hr_), UnorderedElementsAre(a, b));  // marks the index built
  const std::string tag = keys::HashTag("c", kCounty);
  const std::string pending = absl::StrCat("training:", tag, ":pending");
  const std::string built = absl::StrCat("training:", tag, ":pending-built");
  auto dropped = redis_.pool().Command({"DEL", pending, built});
  ASSERT_TRUE(dropped.ok()) << dropped.status();
  ASSERT_EQ(dropped->integer(), 2);  // both existed: the scripts and the first read wrote them

  v1::ListPendingSelfReportsResponse resp;
  grpc::Status s = List(hr_, kCounty, "", 0, "", &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::vector<std::string> ids;
  for (const v1::PendingSelfReport& r : resp.reports()) {
    ids.push_back(r.record().record_id());
    // Submitted: the start of its logged_on day, all it said then.
    EXPECT_EQ(r.submitted_at_ms(), absl::ToUnixMillis(absl::FromCivil(absl::CivilDay(2025, 11, 25),
                                                                      absl::UTCTimeZone())));
  }
  EXPECT_THAT(ids, UnorderedElementsAre(a, b));
  auto mark = redis_.pool().Command({"EXISTS", built});
  ASSERT_TRUE(mark.ok());
  EXPECT_EQ(mark->integer(), 1);
  // Kept from then on by the scripts.
  Review(a, v1::REVIEW_DECISION_APPROVE);
  EXPECT_THAT(Queue(hr_), ElementsAre(b));
}

// A teacher who transfers takes their self-reports awaiting review to the new county's queue,
// at the time they were submitted: the new county's HR sees and reviews them, the old county's
// no longer sees them and may not review them; other teachers' reports stay where they were.
TEST_F(PendingSelfReportsTest, ATransferMovesTheTeachersReportsToTheNewCountysQueue) {
  AddTeacher("T1", kSchool);
  AddTeacher("T2", kOtherSchool);
  const std::string a = Log("T1", "a");
  const std::string b = Log("T1", "b");
  const std::string rejected = Log("T1", "c");
  const std::string stays = Log("T2", "d");
  Review(rejected, v1::REVIEW_DECISION_REJECT);
  v1::ListPendingSelfReportsResponse before;
  ASSERT_TRUE(List(hr_, kCounty, "", 0, "", &before).ok());
  std::map<std::string, int64_t> submitted;
  for (const v1::PendingSelfReport& r : before.reports()) {
    submitted[r.record().record_id()] = r.submitted_at_ms();
  }
  ASSERT_THAT(Queue(hr_), UnorderedElementsAre(a, b, stays));

  const std::string new_school = "S330781-cccccccccc";
  Transfer("T1", kOtherCounty, new_school);
  const Principal new_hr = Who(common::v1::ROLE_COUNTY_HR, "hr2", kOtherCounty);
  v1::ListPendingSelfReportsResponse moved;
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (absl::Now() < deadline) {
    moved.Clear();
    if (List(new_hr, kOtherCounty, "", 0, "", &moved).ok() && moved.reports_size() == 2) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_EQ(moved.reports_size(), 2) << "the transfer never reached the new county's queue";
  for (const v1::PendingSelfReport& r : moved.reports()) {
    EXPECT_EQ(r.teacher_id(), "T1");
    EXPECT_EQ(r.school_id(), new_school);
    EXPECT_EQ(r.submitted_at_ms(), submitted[r.record().record_id()]);
    EXPECT_EQ(r.record().county_id(), kOtherCounty);
  }
  EXPECT_THAT(Queue(new_hr, "", 0, kOtherCounty), UnorderedElementsAre(a, b));
  EXPECT_THAT(Queue(hr_), ElementsAre(stays));
  EXPECT_THAT(Queue(hr_, kSchool), ElementsAre());

  // The old county's HR may no longer review them; the new county's does, in the new county.
  v1::GetTrainingSummaryRequest get;
  get.set_teacher_id("T1");
  v1::GetTrainingSummaryResponse summary;
  grpc::Status s = Call(&v1::TrainingService::Stub::GetTrainingSummary, new_hr, get, &summary);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const double counted_before = summary.summary().counted_hours();
  v1::ReviewTrainingRecordRequest req;
  req.set_record_id(a);
  req.set_decision(v1::REVIEW_DECISION_APPROVE);
  v1::ReviewTrainingRecordResponse resp;
  EXPECT_EQ(Call(&v1::TrainingService::Stub::ReviewTrainingRecord, hr_, req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  s = Call(&v1::TrainingService::Stub::ReviewTrainingRecord, new_hr, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.record().state(), v1::TRAINING_RECORD_STATE_CREDITED);
  EXPECT_THAT(Queue(new_hr, "", 0, kOtherCounty), ElementsAre(b));
  s = Call(&v1::TrainingService::Stub::GetTrainingSummary, new_hr, get, &summary);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_GT(summary.summary().counted_hours(), counted_before) << "credited in the new county";
}

// Scope is decided from the principal before anything is read; an unknown county answers as
// one out of scope.
TEST_F(PendingSelfReportsTest, OnlyHrOfTheRegionAdminsAndTheSchoolsOwnAdminMayRead) {
  AddTeacher("T1", kSchool);
  AddTeacher("T2", kOtherSchool);
  std::string mine = Log("T1", "a");
  std::string theirs = Log("T2", "b");
  const Principal school_admin = Who(common::v1::ROLE_SCHOOL_ADMIN, "sa1", kCounty, kSchool);
  struct Row {
    Principal who;
    std::string county;
    std::string school;
    grpc::StatusCode code;
  };
  const std::vector<Row> rows = {
      {hr_, kCounty, "", grpc::StatusCode::OK},
      {admin_, kCounty, "", grpc::StatusCode::OK},
      {Who(common::v1::ROLE_CITY_HR, "city", "330700"), kCounty, "", grpc::StatusCode::OK},
      {Who(common::v1::ROLE_PROVINCE_HR, "prov", "330000"), kCounty, "", grpc::StatusCode::OK},
      {school_admin, kCounty, kSchool, grpc::StatusCode::OK},
      {Who(common::v1::ROLE_TEACHER, "T1"), kCounty, "", grpc::StatusCode::PERMISSION_DENIED},
      {Who(common::v1::ROLE_TEACHER, "T1"), kCounty, kSchool, grpc::StatusCode::PERMISSION_DENIED},
      {Who(common::v1::ROLE_TRAINING_CENTER, "c1", "", "", "P1"), kCounty, "",
       grpc::StatusCode::PERMISSION_DENIED},
      {Who(common::v1::ROLE_COUNTY_HR, "hr2", kOtherCounty), kCounty, "",
       grpc::StatusCode::PERMISSION_DENIED},
      {Who(common::v1::ROLE_CITY_HR, "city2", "330100"), kCounty, "",
       grpc::StatusCode::PERMISSION_DENIED},
      // A school admin: their own school only, named.
      {school_admin, kCounty, "", grpc::StatusCode::PERMISSION_DENIED},
      {school_admin, kCounty, kOtherSchool, grpc::StatusCode::PERMISSION_DENIED},
      {Who(common::v1::ROLE_SCHOOL_ADMIN, "sa2", kCounty, kOtherSchool), kCounty, kSchool,
       grpc::StatusCode::PERMISSION_DENIED},
      // A county without teachers: as one out of scope, even to HR whose region holds it; the
      // trusted learn it is unknown.
      {Who(common::v1::ROLE_CITY_HR, "city", "330700"), "330727", "",
       grpc::StatusCode::PERMISSION_DENIED},
      {Who(common::v1::ROLE_COUNTY_HR, "hr2", kOtherCounty), kOtherCounty, "",
       grpc::StatusCode::PERMISSION_DENIED},
      {admin_, "330727", "", grpc::StatusCode::NOT_FOUND},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(absl::StrCat(common::v1::Role_Name(row.who.role()), " ", row.who.subject(), " ",
                              row.county, " ", row.school));
    v1::ListPendingSelfReportsResponse resp;
    grpc::Status s = List(row.who, row.county, row.school, 0, "", &resp);
    EXPECT_EQ(s.error_code(), row.code) << s.error_message();
    if (s.ok()) {
      EXPECT_GE(resp.reports_size(), 1);
    } else {
      EXPECT_EQ(resp.reports_size(), 0);
    }
  }
  std::vector<std::string> own = Queue(school_admin, kSchool);
  EXPECT_THAT(own, ElementsAre(mine));
  EXPECT_THAT(Queue(hr_), UnorderedElementsAre(mine, theirs));
}

}  // namespace
}  // namespace shidang::training
