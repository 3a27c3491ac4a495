// The training service as a real process on a real redis-server, called over gRPC with signed
// principals. Teachers become known to it the way they do in production: through the profile
// service's events (published here with the kit's write path, as the profile service does).

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "services/common/events.h"
#include "services/common/keys.h"
#include "services/common/mutation.h"
#include "services/common/principal.h"
#include "services/common/status.h"
#include "shidang/profile/v1/profile.pb.h"
#include "shidang/training/v1/training.grpc.pb.h"
#include "tests/kit/principals.h"
#include "tests/kit/profile_events.h"
#include "tests/kit/redis_server.h"
#include "tests/training/training_fixture.h"

namespace shidang::training {
namespace {

using common::v1::Principal;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

using testing::Who;

class TrainingServiceTest : public TrainingFixture {
 protected:
  void SetUp() override {
    // Enough handler threads for the racing enrolments (one call each, all at once).
    ASSERT_NO_FATAL_FAILURE(
        StartService(SHIDANG_TRAINING_BINARY, "shidang-training", kToday, {"--max_threads=64"}));
  }

  // Teacher `id` at `school` of `county`, as the profile service creates them: delivered twice,
  // applied once.
  void AddTeacher(const std::string& id, const std::string& county = kCounty,
                  const std::string& school = kSchool) {
    MakeKnown(id, county, school, /*deliveries=*/2);
  }

  // Teacher T1 (added here) and `unknown` (not known to the service) completing a new course
  // in one batch with `request_id`, sent once: the request, and its answer in `first` (T1
  // credited, `unknown` rejected).
  v1::RecordCompletionsRequest SendKnownAndUnknown(const std::string& request_id,
                                                   const std::string& unknown,
                                                   v1::RecordCompletionsResponse* first) {
    AddTeacher("T1");
    v1::Course course = RegisterCourse(centre_, "c-1");
    v1::RecordCompletionsRequest req;
    req.set_request_id(request_id);
    req.set_course_id(course.course_id());
    *req.add_rows() = Row("T1", 24, "2025-10-20");
    *req.add_rows() = Row(unknown, 12, "2025-10-10");
    grpc::Status s = Call(&v1::TrainingService::Stub::RecordCompletions, centre_, req, first);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(first->credited(), 1);
    EXPECT_EQ(first->rejected(), 1);
    return req;
  }

  // Sends `req` again and expects `first`, unchanged.
  void ExpectTheFirstAnswerAgain(const v1::RecordCompletionsRequest& req,
                                 const v1::RecordCompletionsResponse& first) {
    v1::RecordCompletionsResponse retry;
    grpc::Status s = Call(&v1::TrainingService::Stub::RecordCompletions, centre_, req, &retry);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(first, retry))
        << first.DebugString() << "---\n"
        << retry.DebugString();
  }

  // Every key in Redis.
  std::set<std::string> Keys() {
    std::set<std::string> out;
    auto keys = redis_.pool().Command({"KEYS", "*"});
    EXPECT_TRUE(keys.ok()) << keys.status();
    for (size_t i = 0; keys.ok() && i < keys->size(); ++i) out.emplace((*keys)[i].str());
    return out;
  }

  // Waits until the training service has read and acknowledged every profile event published
  // (AddTeacher's second delivery included), so that nothing it still writes for them lands in
  // a test's before-and-after comparison.
  void WaitUntilProfileEventsAreAcknowledged(const std::string& county = kCounty) {
    absl::Status applied =
        testing::WaitUntilApplied(redis_.pool(), testing::ProfileStreamKey(county));
    ASSERT_TRUE(applied.ok()) << applied;
  }

  // Publishes "profile.teacher_created" for many teachers of kCounty in one script and waits
  // until the training service knows them all.
  void AddTeachers(const std::vector<std::string>& ids) {
    std::string stream = keys::StreamKey("profile", keys::HashTag("c", kCounty));
    ASSERT_TRUE(RegisterStream(redis_.pool(), "profile", stream).ok());
    Mutation publish("emit_all() return {ok = ''}");
    MutationRequest m;
    m.stream_key = stream;
    for (const std::string& id : ids) m.events.push_back(TeacherCreated(id, kCounty, kSchool));
    ASSERT_TRUE(publish.Run(redis_.pool(), m).ok());
    ASSERT_TRUE(Eventually([&] {
      auto known = redis_.pool().Command({"ZCARD", "training:{c:330723}:teachers"});
      return known.ok() && known->integer() >= static_cast<int64_t>(ids.size());
    })) << "the training service never learned every teacher";
  }

  // Waits until `done` holds (the service applies profile events asynchronously).
  template <typename Done>
  bool Eventually(Done done) {
    absl::Time deadline = absl::Now() + absl::Seconds(15);
    while (absl::Now() < deadline) {
      if (done()) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  v1::Course RegisterCourse(const Principal& centre, const std::string& request_id,
                            int capacity = 100) {
    v1::RegisterCourseRequest req;
    req.set_request_id(request_id);
    v1::Course* c = req.mutable_course();
    c->set_provider_id(centre.provider_id());
    c->set_title("新课标解读");
    c->set_level(common::v1::TRAINING_LEVEL_COUNTY);
    c->set_mode(common::v1::TRAINING_MODE_FACE_TO_FACE);
    c->set_hours(24);
    c->set_start_date("2025-10-01");
    c->set_end_date("2025-10-20");
    c->set_capacity(capacity);
    c->add_open_regions(kCounty);
    v1::RegisterCourseResponse resp;
    grpc::Status s = Call(&v1::TrainingService::Stub::RegisterCourse, centre, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    v1::PublishCourseRequest publish;
    publish.set_course_id(resp.course().course_id());
    publish.set_request_id(request_id + "-publish");
    v1::PublishCourseResponse published;
    s = Call(&v1::TrainingService::Stub::PublishCourse, centre, publish, &published);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return published.course();
  }

  static v1::CompletionRow Row(const std::string& teacher, double hours, const std::string& day) {
    v1::CompletionRow row;
    row.set_teacher_id(teacher);
    row.set_hours(hours);
    row.set_completed_on(day);
    return row;
  }

  v1::TrainingSummary Summary(const std::string& teacher, const std::string& as_of = "") {
    v1::GetTrainingSummaryRequest req;
    req.set_teacher_id(teacher);
    req.set_as_of(as_of);
    v1::GetTrainingSummaryResponse resp;
    grpc::Status s = Call(&v1::TrainingService::Stub::GetTrainingSummary, hr_, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.summary();
  }

  // The county's stream as the growth file reads it.
  std::vector<common::v1::Event> CountyEvents() {
    std::vector<common::v1::Event> out;
    auto entries = redis_.pool().Command({"XRANGE", "training:{c:330723}:events", "-", "+"});
    EXPECT_TRUE(entries.ok());
    if (!entries.ok()) return out;
    for (size_t i = 0; i < entries->size(); ++i) {
      absl::StatusOr<std::vector<common::v1::Event>> events = EventsOfEntry((*entries)[i][1]);
      EXPECT_TRUE(events.ok()) << events.status();
      if (events.ok()) out.insert(out.end(), events->begin(), events->end());
    }
    return out;
  }

  std::vector<v1::LedgerEntry> Ledger(const std::string& teacher) {
    v1::ListLedgerRequest req;
    req.set_teacher_id(teacher);
    v1::ListLedgerResponse resp;
    grpc::Status s = Call(&v1::TrainingService::Stub::ListLedger, hr_, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {resp.entries().begin(), resp.entries().end()};
  }

  // A self-reported record of `hours`, approved by HR.
  v1::TrainingRecord LogOther(const std::string& teacher, double hours, const std::string& day,
                              const std::string& request_id) {
    v1::LogTrainingRequest req;
    req.set_request_id(request_id);
    req.set_teacher_id(teacher);
    req.set_activity(v1::TRAINING_ACTIVITY_CONFERENCE);
    req.set_title("省级学术年会");
    req.set_level(common::v1::TRAINING_LEVEL_PROVINCE);
    req.set_mode(common::v1::TRAINING_MODE_FACE_TO_FACE);
    req.set_hours(hours);
    req.set_completed_on(day);
    req.mutable_evidence()->set_description("参会证明");
    req.mutable_evidence()->set_file_ref("files/abc.pdf");
    v1::LogTrainingResponse resp;
    grpc::Status s = Call(&v1::TrainingService::Stub::LogTraining,
                          Who(common::v1::ROLE_TEACHER, teacher), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.record();
  }

  void Approve(const std::string& record_id) {
    v1::ReviewTrainingRecordRequest req;
    req.set_record_id(record_id);
    req.set_decision(v1::REVIEW_DECISION_APPROVE);
    v1::ReviewTrainingRecordResponse resp;
    grpc::Status s = Call(&v1::TrainingService::Stub::ReviewTrainingRecord, hr_, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.record().state(), v1::TRAINING_RECORD_STATE_CREDITED);
  }

  // Registers an 8-hour course `id` of the centre open to `region`, published if asked.
  std::string AddCourse(const Principal& centre, const std::string& id,
                        common::v1::TrainingLevel level, common::v1::TrainingMode mode,
                        const std::string& start, const std::string& end, const std::string& region,
                        bool publish) {
    v1::RegisterCourseRequest req;
    req.set_request_id(id);
    v1::Course* c = req.mutable_course();
    c->set_provider_id(centre.provider_id());
    c->set_title(id);
    c->set_level(level);
    c->set_mode(mode);
    c->set_hours(8);
    c->set_start_date(start);
    c->set_end_date(end);
    c->set_capacity(10);
    c->add_open_regions(region);
    v1::RegisterCourseResponse resp;
    EXPECT_TRUE(Call(&v1::TrainingService::Stub::RegisterCourse, centre, req, &resp).ok());
    if (publish) {
      v1::PublishCourseRequest p;
      p.set_course_id(resp.course().course_id());
      v1::PublishCourseResponse published;
      EXPECT_TRUE(Call(&v1::TrainingService::Stub::PublishCourse, centre, p, &published).ok());
    }
    return resp.course().course_id();
  }

  // The ids of the courses `who` lists with `req`, and the page.
  std::pair<std::set<std::string>, common::v1::PageInfo> ListCourseIds(
      const Principal& who, const v1::ListCoursesRequest& req) {
    v1::ListCoursesResponse resp;
    grpc::Status s = Call(&v1::TrainingService::Stub::ListCourses, who, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::set<std::string> ids;
    for (const v1::Course& course : resp.courses()) ids.insert(course.course_id());
    return std::make_pair(ids, resp.page());
  }

  // T1 moved school: the new school's admin sees the teacher; the old one no longer does.
  void ExpectMovedTeacherFollowsTheirSchool() {
    const std::string new_school = "S330723-dddddddddd";
    profile::v1::TimelineEntry moved;
    moved.set_occurred_on("2025-09-01");
    moved.mutable_school_change()->set_from_school_id(kSchool);
    moved.mutable_school_change()->set_to_school_id(new_school);
    PublishProfileEvent("profile.moved_school", "T1", moved);
    v1::GetTrainingSummaryRequest get;
    get.set_teacher_id("T1");
    v1::GetTrainingSummaryResponse summary;
    EXPECT_TRUE(Eventually([&] {
      return Call(&v1::TrainingService::Stub::GetTrainingSummary,
                  Who(common::v1::ROLE_SCHOOL_ADMIN, "sa2", "", new_school), get, &summary)
          .ok();
    }));
    EXPECT_EQ(Call(&v1::TrainingService::Stub::GetTrainingSummary,
                   Who(common::v1::ROLE_SCHOOL_ADMIN, "sa", "", kSchool), get, &summary)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::GetComplianceReportRequest by_school;
    by_school.set_county_id(kCounty);
    by_school.set_school_id(new_school);
    v1::GetComplianceReportResponse report;
    ASSERT_TRUE(
        Call(&v1::TrainingService::Stub::GetComplianceReport, hr_, by_school, &report).ok());
    EXPECT_EQ(report.teachers(), 1);
  }

  // T2 retired on 2025-10-15: a completion of `course` before that day is credited, one on or
  // after it is not.
  void ExpectNoCreditFromRetirement(const v1::Course& course) {
    profile::v1::TimelineEntry retired;
    retired.set_occurred_on("2025-10-15");
    retired.mutable_post_status_changed()->set_from_status(profile::v1::POST_STATUS_ON_DUTY);
    retired.mutable_post_status_changed()->set_to_status(profile::v1::POST_STATUS_RETIRED);
    PublishProfileEvent("profile.post_status_changed", "T2", retired);
    // Nor may a retired teacher enrol (which also tells when the event was applied).
    v1::Course other = RegisterCourse(centre_, "c-2");
    v1::EnrollRequest enroll;
    enroll.set_course_id(other.course_id());
    enroll.set_teacher_id("T2");
    v1::EnrollResponse enrolled;
    EXPECT_TRUE(Eventually([&] {
      return Call(&v1::TrainingService::Stub::Enroll, admin_, enroll, &enrolled).error_code() ==
             grpc::StatusCode::INVALID_ARGUMENT;
    }));
    v1::RecordCompletionsRequest late;
    late.set_course_id(course.course_id());
    *late.add_rows() = Row("T2", 24, "2025-10-15");
    v1::RecordCompletionsResponse refused;
    ASSERT_TRUE(Call(&v1::TrainingService::Stub::RecordCompletions, centre_, late, &refused).ok());
    EXPECT_EQ(refused.rejected(), 1);
    EXPECT_EQ(refused.results(0).violation().field(), "rows[0].completed_on");
    EXPECT_THAT(refused.results(0).violation().description(), HasSubstr("2025-10-15"));
    late.mutable_rows(0)->set_completed_on("2025-10-14");
    ASSERT_TRUE(Call(&v1::TrainingService::Stub::RecordCompletions, centre_, late, &refused).ok());
    EXPECT_EQ(refused.credited(), 1);
  }

  // T3 transferred to another county: the ledger goes along (the credit, its reversal and the
  // corrected credit of `completions`), the new county's HR reports on the teacher and the old
  // county's no longer counts them.
  void ExpectTransferTakesTheLedgerAlong(const v1::RecordCompletionsRequest& completions) {
    const v1::RecordCompletionsRequest& req = completions;
    profile::v1::TimelineEntry transfer;
    transfer.set_occurred_on("2025-11-01");
    transfer.mutable_transfer()->set_from_county_id(kCounty);
    transfer.mutable_transfer()->set_to_county_id(kOtherCounty);
    transfer.mutable_transfer()->set_to_school_id("S330781-bbbbbbbbbb");
    PublishProfileEvent("profile.transferred_county", "T3", transfer);
    const Principal other_hr = Who(common::v1::ROLE_COUNTY_HR, "hr2", kOtherCounty);
    v1::GetTrainingSummaryRequest get;
    get.set_teacher_id("T3");
    v1::GetTrainingSummaryResponse summary;
    EXPECT_TRUE(Eventually([&] {
      return Call(&v1::TrainingService::Stub::GetTrainingSummary, other_hr, get, &summary).ok();
    }));
    EXPECT_EQ(summary.summary().counted_hours(), 20);
    v1::GetComplianceReportResponse report;
    v1::GetComplianceReportRequest county;
    county.set_county_id(kOtherCounty);
    ASSERT_TRUE(
        Call(&v1::TrainingService::Stub::GetComplianceReport, other_hr, county, &report).ok());
    EXPECT_EQ(report.teachers(), 1);
    county.set_county_id(kCounty);
    ASSERT_TRUE(Call(&v1::TrainingService::Stub::GetComplianceReport, hr_, county, &report).ok());
    EXPECT_EQ(report.teachers(), 2);
    // The course is open to the old county only: no new credit from it in the new one.
    v1::RecordCompletionsResponse again;
    ASSERT_TRUE(Call(&v1::TrainingService::Stub::RecordCompletions, centre_, req, &again).ok());
    EXPECT_EQ(again.rejected(), 1);
    EXPECT_EQ(again.results(0).violation().rule(), "not_open");
    // The ledger is the new county's HR's to read now, not the old one's.
    v1::ListLedgerRequest ledger;
    ledger.set_teacher_id("T3");
    v1::ListLedgerResponse entries;
    ASSERT_TRUE(Call(&v1::TrainingService::Stub::ListLedger, other_hr, ledger, &entries).ok());
    ASSERT_EQ(entries.entries_size(), 3);
    EXPECT_EQ(entries.entries(0).hours(), 24);
    EXPECT_EQ(entries.entries(1).hours(), -24);
    EXPECT_EQ(entries.entries(2).hours(), 20);
    EXPECT_EQ(Call(&v1::TrainingService::Stub::ListLedger, hr_, ledger, &entries).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }

  // A call's code and message, with the id asked about blanked in the message.
  struct Answer {
    grpc::StatusCode code;
    std::string message;
  };

  // The answer to `who` for teacher `id` by `method` (LogTraining and Enroll of `course_id`).
  Answer AskAboutTeacher(const Principal& who, const std::string& id, const std::string& method,
                         const std::string& course_id) {
    grpc::Status s;
    if (method == "GetTrainingSummary") {
      v1::GetTrainingSummaryRequest req;
      req.set_teacher_id(id);
      v1::GetTrainingSummaryResponse resp;
      s = Call(&v1::TrainingService::Stub::GetTrainingSummary, who, req, &resp);
    } else if (method == "ListLedger") {
      v1::ListLedgerRequest req;
      req.set_teacher_id(id);
      v1::ListLedgerResponse resp;
      s = Call(&v1::TrainingService::Stub::ListLedger, who, req, &resp);
    } else if (method == "ListTrainingRecords") {
      v1::ListTrainingRecordsRequest req;
      req.set_teacher_id(id);
      v1::ListTrainingRecordsResponse resp;
      s = Call(&v1::TrainingService::Stub::ListTrainingRecords, who, req, &resp);
    } else if (method == "LogTraining") {
      v1::LogTrainingRequest req;
      req.set_teacher_id(id);
      req.set_course_id(course_id);
      req.set_hours(24);
      req.set_completed_on("2025-10-20");
      v1::LogTrainingResponse resp;
      s = Call(&v1::TrainingService::Stub::LogTraining, who, req, &resp);
    } else if (method == "Enroll") {
      v1::EnrollRequest req;
      req.set_course_id(course_id);
      req.set_teacher_id(id);
      v1::EnrollResponse resp;
      s = Call(&v1::TrainingService::Stub::Enroll, who, req, &resp);
    } else {
      v1::ReverseEntryRequest req;
      req.set_teacher_id(id);
      req.set_entry_id("E0000000000000000");
      req.set_reason("学时有误");
      v1::ReverseEntryResponse resp;
      s = Call(&v1::TrainingService::Stub::ReverseEntry, who, req, &resp);
    }
    return Answer{s.error_code(), absl::StrReplaceAll(s.error_message(), {{id, "<id>"}})};
  }

  // The answer to the other centre getting (or closing) course `id`.
  Answer AskAboutCourse(const std::string& id, bool close) {
    grpc::Status s;
    if (close) {
      v1::CloseCourseRequest req;
      req.set_course_id(id);
      v1::CloseCourseResponse resp;
      s = Call(&v1::TrainingService::Stub::CloseCourse, other_centre_, req, &resp);
    } else {
      v1::GetCourseRequest req;
      req.set_course_id(id);
      v1::GetCourseResponse resp;
      s = Call(&v1::TrainingService::Stub::GetCourse, other_centre_, req, &resp);
    }
    return Answer{s.error_code(), absl::StrReplaceAll(s.error_message(), {{id, "<id>"}})};
  }

  Principal hr_ = Who(common::v1::ROLE_COUNTY_HR, "hr1", kCounty);
  Principal centre_ = Who(common::v1::ROLE_TRAINING_CENTER, "c1", "", "", "P1");
  Principal other_centre_ = Who(common::v1::ROLE_TRAINING_CENTER, "c2", "", "", "P2");
};

TEST_F(TrainingServiceTest, CompletionsCreditGoodRowsRejectBadOnesAndNeverTwice) {
  AddTeacher("T1");
  AddTeacher("T2");
  AddTeacher("T9", kOtherCounty, "S330781-bbbbbbbbbb");
  v1::Course course = RegisterCourse(centre_, "c-1");
  ASSERT_EQ(course.state(), v1::COURSE_STATE_PUBLISHED);
  ASSERT_THAT(course.course_id(), HasSubstr("P1"));

  v1::RecordCompletionsRequest req;
  req.set_request_id("batch-1");
  req.set_course_id(course.course_id());
  *req.add_rows() = Row("T1", 24, "2025-10-20");    // good, the course's last day
  *req.add_rows() = Row("T2", 24.5, "2025-10-10");  // more than the course's hours
  *req.add_rows() = Row("T2", 12, "2025-09-30");    // before the course
  *req.add_rows() = Row("T404", 12, "2025-10-10");  // unknown teacher
  *req.add_rows() = Row("T9", 12, "2025-10-10");    // a county the course is not open to
  *req.add_rows() = Row("T2", 12.5, "2025-10-10");  // good
  v1::RecordCompletionsResponse resp;
  grpc::Status s = Call(&v1::TrainingService::Stub::RecordCompletions, centre_, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.credited(), 2);
  EXPECT_EQ(resp.rejected(), 4);
  ASSERT_EQ(resp.results_size(), 6);
  EXPECT_EQ(resp.results(0).outcome(), v1::COMPLETION_OUTCOME_CREDITED);
  EXPECT_EQ(resp.results(1).violation().field(), "rows[1].hours");
  EXPECT_EQ(resp.results(2).violation().field(), "rows[2].completed_on");
  EXPECT_EQ(resp.results(3).violation().field(), "rows[3].teacher_id");
  EXPECT_EQ(resp.results(4).violation().rule(), "not_open");
  EXPECT_EQ(resp.results(5).outcome(), v1::COMPLETION_OUTCOME_CREDITED);
  EXPECT_EQ(Summary("T1").counted_hours(), 24);
  EXPECT_EQ(Summary("T2").counted_hours(), 12.5);

  // The same request again: the first answer. Another request with the same rows:
  // ALREADY_CREDITED. Either way one ledger entry each.
  v1::RecordCompletionsResponse replay;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::RecordCompletions, centre_, req, &replay).ok());
  EXPECT_EQ(replay.credited(), 2);
  req.set_request_id("batch-2");
  v1::RecordCompletionsResponse again;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::RecordCompletions, centre_, req, &again).ok());
  EXPECT_EQ(again.credited(), 0);
  EXPECT_EQ(again.already_credited(), 2);
  EXPECT_EQ(again.results(0).outcome(), v1::COMPLETION_OUTCOME_ALREADY_CREDITED);
  EXPECT_EQ(again.results(0).entry_id(), resp.results(0).entry_id());
  EXPECT_EQ(Ledger("T1").size(), 1u);
  EXPECT_EQ(Ledger("T2").size(), 1u);
  EXPECT_EQ(Summary("T1").counted_hours(), 24);

  // The credit went to the growth file's stream, each with the teacher's summary after it.
  std::map<std::string, std::string> counted_after_credit;  // teacher -> counted hours
  for (const common::v1::Event& e : CountyEvents()) {
    if (e.type() != "training.credited") continue;
    profile::v1::ServiceSummary carried;
    ASSERT_TRUE(e.teacher_summary().UnpackTo(&carried)) << e.teacher_id();
    EXPECT_EQ(carried.source(), "training");
    EXPECT_EQ(carried.kind(), "training_cycle");
    // What GetTrainingSummary answers now (nothing was credited since).
    const v1::TrainingSummary now = Summary(e.teacher_id());
    EXPECT_THAT(carried.values(),
                UnorderedElementsAre(Pair("counted_hours", ::testing::_),
                                     Pair("required_hours", absl::StrCat(now.required_hours())),
                                     Pair("status", v1::TrainingStatus_Name(now.status())),
                                     Pair("cycle_first", now.cycle().first_day()),
                                     Pair("cycle_last", now.cycle().last_day())));
    counted_after_credit[e.teacher_id()] = carried.values().at("counted_hours");
  }
  EXPECT_THAT(counted_after_credit, ElementsAre(Pair("T1", "24"), Pair("T2", "12.5")));
}

// A retry whose rows would be judged otherwise now (here a teacher the service learned of in
// between) answers the first call again: the row rejected then stays rejected, nothing more is
// credited, and no INTERNAL error comes of the stored marks no longer matching the rows.
TEST_F(TrainingServiceTest, ARetryAfterATeacherBecameKnownAnswersTheFirstCallAgain) {
  v1::RecordCompletionsResponse first;
  v1::RecordCompletionsRequest req = SendKnownAndUnknown("batch-early", "T2", &first);
  ASSERT_EQ(first.results(1).violation().rule(), "unknown_teacher");

  AddTeacher("T2");
  ExpectTheFirstAnswerAgain(req, first);
  EXPECT_EQ(Ledger("T1").size(), 1u);
  EXPECT_EQ(Ledger("T2").size(), 0u);

  // A new request credits the teacher now known, and T1 once only.
  req.set_request_id("batch-later");
  v1::RecordCompletionsResponse later;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::RecordCompletions, centre_, req, &later).ok());
  EXPECT_EQ(later.already_credited(), 1);
  EXPECT_EQ(later.credited(), 1);
  EXPECT_EQ(Ledger("T1").size(), 1u);
  EXPECT_EQ(Ledger("T2").size(), 1u);
}

// Step 1's records written before first answers were kept hold marks only; a retry within their
// lifetime still answers from them.
TEST_F(TrainingServiceTest, ARetryFindingAnOlderStepOneRecordAnswersFromItsMarks) {
  v1::RecordCompletionsResponse first;
  v1::RecordCompletionsRequest req = SendKnownAndUnknown("batch-old", "T404", &first);

  // Rewrite the record as the older version stored it: "<fingerprint>\n<marks>".
  auto keys = redis_.pool().Command({"KEYS", "*idem:RecordCompletions:*batch-old"});
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  const std::string key((*keys)[0].str());
  auto record = redis_.pool().Command({"GET", key});
  ASSERT_TRUE(record.ok());
  const std::string value(record->str());
  const size_t newline = value.find('\n');
  const size_t colon = value.find(':', newline);
  ASSERT_NE(colon, std::string::npos);
  const size_t length = std::stoul(value.substr(newline + 1, colon - newline - 1));
  const std::string old_value = value.substr(0, newline + 1) + value.substr(colon + 1 + length);
  ASSERT_EQ(old_value[newline + 1], '+') << old_value;
  ASSERT_TRUE(redis_.pool().Command({"SET", key, old_value, "KEEPTTL"}).ok());

  ExpectTheFirstAnswerAgain(req, first);
  EXPECT_EQ(Ledger("T1").size(), 1u);
}

// The call whose marks come first writes its credits in one transaction; the other's scripts
// heal the same rows, and whichever writes first makes the other's a no-op (the transaction is
// refused when a script wrote to the county after its read). Several courses, so both orders
// happen.
TEST_F(TrainingServiceTest, TheSameBatchSentTwiceAtOnceCreditsOnce) {
  std::vector<std::string> ids;
  for (int i = 0; i < 60; ++i) {
    ids.push_back(absl::StrCat("T", i));
    AddTeacher(ids.back());
  }
  constexpr int kCourses = 4;
  for (int c = 0; c < kCourses; ++c) {
    v1::Course course = RegisterCourse(centre_, absl::StrCat("c-", c));
    std::atomic<int> credited{0}, already{0};
    std::vector<std::thread> threads;
    threads.reserve(2);
    for (int k = 0; k < 2; ++k) {
      threads.emplace_back([&, k] {
        v1::RecordCompletionsRequest req;
        req.set_request_id(absl::StrCat("parallel-", c, "-", k));
        req.set_course_id(course.course_id());
        for (const std::string& id : ids) *req.add_rows() = Row(id, 24, "2025-10-15");
        v1::RecordCompletionsResponse resp;
        grpc::Status s = Call(&v1::TrainingService::Stub::RecordCompletions, centre_, req, &resp);
        EXPECT_TRUE(s.ok()) << s.error_message();
        credited += resp.credited();
        already += resp.already_credited();
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(credited.load(), 60);
    EXPECT_EQ(already.load(), 60);
  }
  for (const std::string& id : ids) {
    EXPECT_EQ(Ledger(id).size(), static_cast<size_t>(kCourses)) << id;
    EXPECT_EQ(Summary(id).counted_hours(), 24 * kCourses) << id;
  }
}

// Teachers of the county logging training while a batch is credited: each write to one of them
// makes the batch's transaction refused, and its scripts credit every row once instead.
TEST_F(TrainingServiceTest, ABatchRacingOtherWritesInTheCountyCreditsEachRowOnce) {
  std::vector<std::string> ids;
  ids.reserve(300);
  for (int i = 0; i < 300; ++i) ids.push_back(absl::StrFormat("T%03d", i));
  AddTeachers(ids);
  std::atomic<bool> done{false};
  std::thread logging([&] {
    for (int i = 0; !done.load(); ++i) {
      const std::string& id = ids[static_cast<size_t>(i) % ids.size()];
      v1::LogTrainingRequest req;
      req.set_request_id(absl::StrCat("log-", i));
      req.set_teacher_id(id);
      req.set_hours(2);
      req.set_completed_on("2025-09-01");
      req.set_activity(v1::TRAINING_ACTIVITY_CONFERENCE);
      req.set_title("县教研活动");
      req.set_level(common::v1::TRAINING_LEVEL_COUNTY);
      req.set_mode(common::v1::TRAINING_MODE_FACE_TO_FACE);
      req.mutable_evidence()->set_description("参会证明");
      req.mutable_evidence()->set_file_ref(absl::StrCat("files/", i, ".pdf"));
      v1::LogTrainingResponse resp;  // awaits HR: no ledger entry
      grpc::Status s = Call(&v1::TrainingService::Stub::LogTraining,
                            Who(common::v1::ROLE_TEACHER, id), req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
  });
  // Joined however the test ends (an ASSERT below returns early).
  struct Stop {
    std::atomic<bool>& done;
    std::thread& thread;
    ~Stop() {
      done = true;
      thread.join();
    }
  } stop{done, logging};
  constexpr int kCourses = 3;
  for (int c = 0; c < kCourses; ++c) {
    v1::Course course = RegisterCourse(centre_, absl::StrCat("c-", c), 300);
    v1::RecordCompletionsRequest req;
    req.set_request_id(absl::StrCat("batch-", c));
    req.set_course_id(course.course_id());
    for (const std::string& id : ids) *req.add_rows() = Row(id, 24, "2025-10-15");
    v1::RecordCompletionsResponse resp;
    grpc::Status s = Call(&v1::TrainingService::Stub::RecordCompletions, centre_, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.credited(), 300);
    // Credited when the call answers, not by a later call.
    for (const std::string& id : ids) ASSERT_EQ(Ledger(id).size(), c + 1u) << id;
  }
  for (const std::string& id : ids) {
    EXPECT_EQ(Summary(id).counted_hours(), 24 * kCourses) << id;
  }
}

// A batch larger than one ledger script: every chunk is credited, and a teacher whose credit of
// the course was reversed is credited again under a new entry id, whichever chunk they are in
// (the first chunk is prepared before the provider's marks answer, later ones after).
TEST_F(TrainingServiceTest, ALargeBatchCreditsEveryChunkAndReCreditsReversedTeachersOnce) {
  constexpr int kTeachers = 1001;  // three ledger scripts: 500, 500 and 1 rows
  std::vector<std::string> ids;
  ids.reserve(kTeachers);
  for (int i = 0; i < kTeachers; ++i) ids.push_back(absl::StrFormat("T%04d", i));
  AddTeachers(ids);
  v1::Course course = RegisterCourse(centre_, "c-1", kTeachers);
  v1::RecordCompletionsRequest req;
  req.set_request_id("batch-1");
  req.set_course_id(course.course_id());
  for (int i = 0; i < kTeachers; ++i) {
    *req.add_rows() = Row(ids[i], i % 2 == 0 ? 24 : 12.5, "2025-10-20");
  }
  v1::RecordCompletionsResponse first;
  grpc::Status s = Call(&v1::TrainingService::Stub::RecordCompletions, centre_, req, &first);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(first.credited(), kTeachers);
  EXPECT_EQ(Summary("T0000").counted_hours(), 24);
  EXPECT_EQ(Summary("T0999").counted_hours(), 12.5);
  EXPECT_EQ(Summary("T1000").counted_hours(), 24);
  ASSERT_EQ(Ledger("T1000").size(), 1u);

  // HR reverses the credits of one teacher of the first chunk and one of the second.
  for (const std::string& t : {std::string("T0000"), std::string("T0700")}) {
    v1::ReverseEntryRequest reverse;
    reverse.set_request_id("rev-" + t);
    reverse.set_teacher_id(t);
    reverse.set_entry_id(Ledger(t).at(0).entry_id());
    reverse.set_reason("学时有误");
    v1::ReverseEntryResponse reversed;
    s = Call(&v1::TrainingService::Stub::ReverseEntry, hr_, reverse, &reversed);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(Summary(t).counted_hours(), 0);
  }

  // The centre sends the corrected batch: only the two reversed teachers are credited again.
  req.set_request_id("batch-2");
  v1::RecordCompletionsResponse second;
  s = Call(&v1::TrainingService::Stub::RecordCompletions, centre_, req, &second);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(second.credited(), 2);
  EXPECT_EQ(second.already_credited(), kTeachers - 2);
  for (int i : {0, 700}) {
    const v1::CompletionResult& r = second.results(i);
    EXPECT_EQ(r.outcome(), v1::COMPLETION_OUTCOME_CREDITED) << ids[i];
    EXPECT_EQ(r.entry_id(), first.results(i).entry_id() + "-1") << ids[i];
    std::vector<v1::LedgerEntry> ledger = Ledger(ids[i]);
    ASSERT_EQ(ledger.size(), 3u) << ids[i];  // credit, reversal, credit again
    EXPECT_EQ(ledger[2].entry_id(), r.entry_id());
    EXPECT_EQ(ledger[2].hours(), 24);
    EXPECT_EQ(Summary(ids[i]).counted_hours(), 24) << ids[i];
  }
  EXPECT_EQ(second.results(1).entry_id(), first.results(1).entry_id());
  EXPECT_EQ(Ledger("T0001").size(), 1u);
  EXPECT_EQ(Summary("T0001").counted_hours(), 12.5);

  // One credit event per credit, none for the rows credited before.
  std::map<std::string, int> by_type;
  int carrying_a_summary = 0;
  for (const common::v1::Event& e : CountyEvents()) {
    ++by_type[e.type()];
    if (e.has_teacher_summary()) ++carrying_a_summary;
  }
  EXPECT_EQ(by_type["training.credited"], kTeachers + 2);
  // Summaries: an event when each teacher became known and after each reversal (a recount); every
  // credit carries its own.
  EXPECT_EQ(by_type["training.summary"], kTeachers + 2);
  EXPECT_EQ(carrying_a_summary, kTeachers + 2);
}

TEST_F(TrainingServiceTest, ACentreActsOnlyOnItsOwnCoursesAndATeacherOnlyReadsThemself) {
  AddTeacher("T1");
  AddTeacher("T2");
  v1::Course course = RegisterCourse(centre_, "c-1");
  v1::RecordCompletionsRequest req;
  req.set_course_id(course.course_id());
  *req.add_rows() = Row("T1", 24, "2025-10-20");
  v1::RecordCompletionsResponse resp;
  grpc::Status s = Call(&v1::TrainingService::Stub::RecordCompletions, other_centre_, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Ledger("T1").size(), 0u);

  v1::GetTrainingSummaryRequest get;
  get.set_teacher_id("T2");
  v1::GetTrainingSummaryResponse summary;
  s = Call(&v1::TrainingService::Stub::GetTrainingSummary, Who(common::v1::ROLE_TEACHER, "T1"), get,
           &summary);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  get.set_teacher_id("T1");
  s = Call(&v1::TrainingService::Stub::GetTrainingSummary, Who(common::v1::ROLE_TEACHER, "T1"), get,
           &summary);
  EXPECT_TRUE(s.ok()) << s.error_message();
  // HR of another county may not read it; a school admin of the teacher's school may.
  s = Call(&v1::TrainingService::Stub::GetTrainingSummary,
           Who(common::v1::ROLE_COUNTY_HR, "hr2", kOtherCounty), get, &summary);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s = Call(&v1::TrainingService::Stub::GetTrainingSummary,
           Who(common::v1::ROLE_SCHOOL_ADMIN, "sa", "", kSchool), get, &summary);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(TrainingServiceTest, SelfReportWaitsForHrThenCountsAndCanBeReversed) {
  AddTeacher("T1");
  v1::TrainingRecord record = LogOther("T1", 40, "2025-06-01", "log-1");
  EXPECT_EQ(record.state(), v1::TRAINING_RECORD_STATE_AWAITING_REVIEW);
  v1::TrainingSummary pending = Summary("T1");
  EXPECT_EQ(pending.pending_hours(), 40);
  EXPECT_EQ(pending.counted_hours(), 0);

  // Rejecting needs a reason; nothing changes without one.
  v1::ReviewTrainingRecordRequest reject;
  reject.set_record_id(record.record_id());
  reject.set_decision(v1::REVIEW_DECISION_REJECT);
  v1::ReviewTrainingRecordResponse reviewed;
  grpc::Status s = Call(&v1::TrainingService::Stub::ReviewTrainingRecord, hr_, reject, &reviewed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("reason"));
  // A teacher cannot review.
  v1::ReviewTrainingRecordRequest approve;
  approve.set_record_id(record.record_id());
  approve.set_decision(v1::REVIEW_DECISION_APPROVE);
  s = Call(&v1::TrainingService::Stub::ReviewTrainingRecord, Who(common::v1::ROLE_TEACHER, "T1"),
           approve, &reviewed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  Approve(record.record_id());
  v1::TrainingSummary approved = Summary("T1");
  EXPECT_EQ(approved.counted_hours(), 40);
  EXPECT_EQ(approved.pending_hours(), 0);
  // Approving twice is refused and credits nothing more.
  s = Call(&v1::TrainingService::Stub::ReviewTrainingRecord, hr_, approve, &reviewed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  std::vector<v1::LedgerEntry> ledger = Ledger("T1");
  ASSERT_EQ(ledger.size(), 1u);

  // A rejected record never counts.
  v1::TrainingRecord second = LogOther("T1", 8, "2025-07-01", "log-2");
  reject.set_record_id(second.record_id());
  reject.set_reason("证明材料不全");
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::ReviewTrainingRecord, hr_, reject, &reviewed).ok());
  EXPECT_EQ(reviewed.record().state(), v1::TRAINING_RECORD_STATE_REJECTED);
  EXPECT_EQ(Summary("T1").counted_hours(), 40);
  EXPECT_EQ(Summary("T1").pending_hours(), 0);

  // Reversal: a new entry, the credit stays (marked), the hours no longer count.
  v1::ReverseEntryRequest reverse;
  reverse.set_request_id("rev-1");
  reverse.set_teacher_id("T1");
  reverse.set_entry_id(ledger[0].entry_id());
  reverse.set_reason("重复登记");
  v1::ReverseEntryResponse reversed;
  s = Call(&v1::TrainingService::Stub::ReverseEntry, hr_, reverse, &reversed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reversed.reversal().hours(), -40);
  EXPECT_EQ(Summary("T1").counted_hours(), 0);
  ledger = Ledger("T1");
  ASSERT_EQ(ledger.size(), 2u);
  EXPECT_EQ(ledger[0].reversed_by_entry_id(), reversed.reversal().entry_id());
  // The same request again answers the same reversal; a new one is refused.
  v1::ReverseEntryResponse again;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::ReverseEntry, hr_, reverse, &again).ok());
  EXPECT_EQ(again.reversal().entry_id(), reversed.reversal().entry_id());
  reverse.set_request_id("rev-2");
  s = Call(&v1::TrainingService::Stub::ReverseEntry, hr_, reverse, &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Ledger("T1").size(), 2u);
}

TEST_F(TrainingServiceTest, ACompletionClosesThePendingLogInsteadOfCreditingTwice) {
  AddTeacher("T1");
  v1::Course course = RegisterCourse(centre_, "c-1");
  v1::LogTrainingRequest log;
  log.set_teacher_id("T1");
  log.set_course_id(course.course_id());
  log.set_hours(24);
  log.set_completed_on("2025-10-20");
  v1::LogTrainingResponse logged;
  grpc::Status s = Call(&v1::TrainingService::Stub::LogTraining,
                        Who(common::v1::ROLE_TEACHER, "T1"), log, &logged);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(logged.record().state(), v1::TRAINING_RECORD_STATE_AWAITING_CONFIRMATION);
  EXPECT_EQ(Summary("T1").pending_hours(), 24);

  v1::RecordCompletionsRequest req;
  req.set_course_id(course.course_id());
  *req.add_rows() = Row("T1", 24, "2025-10-20");
  v1::RecordCompletionsResponse resp;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::RecordCompletions, centre_, req, &resp).ok());
  EXPECT_EQ(resp.results(0).closed_record_id(), logged.record().record_id());
  v1::TrainingSummary summary = Summary("T1");
  EXPECT_EQ(summary.counted_hours(), 24);
  EXPECT_EQ(summary.pending_hours(), 0);
  v1::ListTrainingRecordsRequest list;
  list.set_teacher_id("T1");
  v1::ListTrainingRecordsResponse records;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::ListTrainingRecords, hr_, list, &records).ok());
  ASSERT_EQ(records.records_size(), 1);
  EXPECT_EQ(records.records(0).state(), v1::TRAINING_RECORD_STATE_CREDITED);
  EXPECT_EQ(records.records(0).entry_id(), resp.results(0).entry_id());
  // Logging the credited course again is refused.
  s = Call(&v1::TrainingService::Stub::LogTraining, Who(common::v1::ROLE_TEACHER, "T1"), log,
           &logged);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

// Default policy: a fixed cycle 2021-01-01..2025-12-31 (1826 days), 360 h, grace and warning
// 180 days. Today is 2025-11-25: elapsed 1790, 36 days left, expected 352.89 h.
TEST_F(TrainingServiceTest, StatusFollowsDomainDefinitionsAndTheReportSortsByShortfall) {
  for (const char* id : {"TA", "TB", "TC", "TD"}) AddTeacher(id);
  Approve(LogOther("TA", 360, "2024-05-01", "a").record_id());  // complete
  Approve(LogOther("TB", 355, "2024-05-01", "b").record_id());  // on pace, still owing: at risk
  Approve(LogOther("TC", 100, "2024-05-01", "c").record_id());  // behind
  // TD: nothing at all: behind, the largest shortfall.
  EXPECT_EQ(Summary("TA").status(), v1::TRAINING_STATUS_COMPLETE);
  EXPECT_EQ(Summary("TB").status(), v1::TRAINING_STATUS_AT_RISK);
  EXPECT_EQ(Summary("TC").status(), v1::TRAINING_STATUS_BEHIND);
  EXPECT_EQ(Summary("TD").status(), v1::TRAINING_STATUS_BEHIND);
  // As of 2024-06-01 (elapsed 1248, expected 246.05 h): 100 h is behind, 355 h on track; as of
  // 2021-03-01 (inside the 180 grace days) nothing is behind yet.
  EXPECT_EQ(Summary("TB", "2024-06-01").status(), v1::TRAINING_STATUS_ON_TRACK);
  EXPECT_EQ(Summary("TC", "2024-06-01").status(), v1::TRAINING_STATUS_BEHIND);
  v1::TrainingSummary early = Summary("TD", "2021-03-01");
  EXPECT_EQ(early.status(), v1::TRAINING_STATUS_ON_TRACK);
  EXPECT_EQ(early.cycle().first_day(), "2021-01-01");
  EXPECT_EQ(early.cycle().last_day(), "2025-12-31");
  // The record dated 2024-05-01 is not yet done on 2024-04-30.
  EXPECT_EQ(Summary("TB", "2024-04-30").counted_hours(), 0);

  for (const char* as_of : {"", "2024-06-01"}) {
    v1::GetComplianceReportRequest req;
    req.set_county_id(kCounty);
    req.set_as_of(as_of);
    req.set_format(v1::REPORT_FORMAT_CSV);
    req.mutable_page()->set_page_size(2);
    v1::GetComplianceReportResponse report;
    grpc::Status s = Call(&v1::TrainingService::Stub::GetComplianceReport, hr_, req, &report);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(report.teachers(), 4);
    std::map<v1::TrainingStatus, int64_t> counts;
    for (const v1::StatusCount& c : report.by_status()) counts[c.status()] = c.teachers();
    if (std::string(as_of).empty()) {
      EXPECT_EQ(counts[v1::TRAINING_STATUS_COMPLETE], 1);
      EXPECT_EQ(counts[v1::TRAINING_STATUS_AT_RISK], 1);
      EXPECT_EQ(counts[v1::TRAINING_STATUS_BEHIND], 2);
      EXPECT_EQ(report.completion_percent(), 25);
      ASSERT_EQ(report.rows_size(), 2);
      EXPECT_EQ(report.rows(0).teacher_id(), "TD");
      EXPECT_EQ(report.rows(0).shortfall_hours(), 360);
      EXPECT_EQ(report.rows(1).teacher_id(), "TC");
      EXPECT_EQ(report.rows(1).shortfall_hours(), 260);
      ASSERT_FALSE(report.page().next_page_token().empty());
      const std::string& csv = report.download().content();
      EXPECT_TRUE(absl::StartsWith(csv, "\xEF\xBB\xBF")) << "no BOM";
      EXPECT_THAT(csv, HasSubstr("教师编号,姓名,学校"));
      EXPECT_THAT(csv, HasSubstr("进度落后"));
      EXPECT_THAT(csv, HasSubstr("有风险"));
      // Every listed teacher is in the CSV, not only this page.
      EXPECT_THAT(csv, HasSubstr("TB"));
      req.mutable_page()->set_page_token(report.page().next_page_token());
      req.set_format(v1::REPORT_FORMAT_UNSPECIFIED);
      v1::GetComplianceReportResponse next;
      ASSERT_TRUE(Call(&v1::TrainingService::Stub::GetComplianceReport, hr_, req, &next).ok());
      ASSERT_EQ(next.rows_size(), 1);
      EXPECT_EQ(next.rows(0).teacher_id(), "TB");
      EXPECT_EQ(next.rows(0).status(), v1::TRAINING_STATUS_AT_RISK);
      EXPECT_EQ(next.rows(0).shortfall_hours(), 5);
    } else {
      // Recomputed from the ledgers for a past day: TB is on track then.
      EXPECT_EQ(counts[v1::TRAINING_STATUS_COMPLETE], 1);
      EXPECT_EQ(counts[v1::TRAINING_STATUS_ON_TRACK], 1);
      EXPECT_EQ(counts[v1::TRAINING_STATUS_AT_RISK], 0);
      EXPECT_EQ(counts[v1::TRAINING_STATUS_BEHIND], 2);
      ASSERT_EQ(report.rows_size(), 2);
      EXPECT_EQ(report.rows(0).teacher_id(), "TD");
    }
  }
  // HR of another county may not see it.
  v1::GetComplianceReportRequest req;
  req.set_county_id(kCounty);
  v1::GetComplianceReportResponse report;
  EXPECT_EQ(Call(&v1::TrainingService::Stub::GetComplianceReport,
                 Who(common::v1::ROLE_COUNTY_HR, "hr2", kOtherCounty), req, &report)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(TrainingServiceTest, ConcurrentEnrolmentNeverOverbooks) {
  constexpr int kTeachers = 40;
  constexpr int kSeats = 5;
  for (int i = 0; i < kTeachers; ++i) AddTeacher(absl::StrCat("T", i));
  v1::Course course = RegisterCourse(centre_, "c-1", kSeats);
  std::atomic<int> ok{0}, full{0};
  std::vector<std::thread> threads;
  threads.reserve(kTeachers);
  for (int i = 0; i < kTeachers; ++i) {
    threads.emplace_back([&, i] {
      std::string id = absl::StrCat("T", i);
      v1::EnrollRequest req;
      req.set_request_id("enrol");
      req.set_course_id(course.course_id());
      req.set_teacher_id(id);
      v1::EnrollResponse resp;
      grpc::Status s =
          Call(&v1::TrainingService::Stub::Enroll, Who(common::v1::ROLE_TEACHER, id), req, &resp);
      if (s.ok()) {
        ++ok;
      } else if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
        ++full;
      } else {
        ADD_FAILURE() << s.error_message();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), kSeats);
  EXPECT_EQ(full.load(), kTeachers - kSeats);
  v1::GetCourseRequest get;
  get.set_course_id(course.course_id());
  v1::GetCourseResponse got;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::GetCourse, hr_, get, &got).ok());
  EXPECT_EQ(got.course().enrolled(), kSeats);
}

TEST_F(TrainingServiceTest, BadInputNamesTheFieldsAndWritesNothing) {
  AddTeacher("T1");
  WaitUntilProfileEventsAreAcknowledged();
  const std::set<std::string> before = Keys();
  v1::RegisterCourseRequest req;
  req.set_request_id("bad-1");
  req.mutable_course()->set_provider_id("P1");
  req.mutable_course()->set_hours(10.3);
  req.mutable_course()->set_start_date("2025-10-20");
  req.mutable_course()->set_end_date("2025-10-01");
  v1::RegisterCourseResponse resp;
  grpc::Status s = Call(&v1::TrainingService::Stub::RegisterCourse, centre_, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  for (const char* field : {"course.title", "course.level", "course.mode", "course.hours",
                            "course.end_date", "course.capacity", "course.open_regions"}) {
    EXPECT_THAT(s.error_message(), HasSubstr(field));
  }
  auto bad = BadRequestOf(FromGrpcStatus(s));
  ASSERT_TRUE(bad.has_value());
  EXPECT_GE(bad->field_violations_size(), 7);

  v1::LogTrainingRequest log;
  log.set_teacher_id("T1");
  log.set_activity(v1::TRAINING_ACTIVITY_DEGREE_STUDY);
  log.set_hours(-2);
  log.set_completed_on("2030-01-01");
  v1::LogTrainingResponse logged;
  s = Call(&v1::TrainingService::Stub::LogTraining, Who(common::v1::ROLE_TEACHER, "T1"), log,
           &logged);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  for (const char* field : {"hours", "completed_on", "title", "level", "mode",
                            "evidence.description", "evidence.file_ref"}) {
    EXPECT_THAT(s.error_message(), HasSubstr(field));
  }
  // A centre registering for another provider is refused.
  v1::RegisterCourseRequest foreign;
  foreign.mutable_course()->set_provider_id("P2");
  foreign.mutable_course()->set_title("x");
  foreign.mutable_course()->set_level(common::v1::TRAINING_LEVEL_COUNTY);
  foreign.mutable_course()->set_mode(common::v1::TRAINING_MODE_ONLINE);
  foreign.mutable_course()->set_hours(8);
  foreign.mutable_course()->set_start_date("2025-10-01");
  foreign.mutable_course()->set_end_date("2025-10-01");
  foreign.mutable_course()->set_capacity(3);
  foreign.mutable_course()->add_open_regions(kCounty);
  s = Call(&v1::TrainingService::Stub::RegisterCourse, centre_, foreign, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(Keys(), ::testing::ContainerEq(before));
}

TEST_F(TrainingServiceTest, RetriesWithTheSameRequestIdAnswerTheFirstTime) {
  v1::RegisterCourseRequest req;
  req.set_request_id("same");
  v1::Course* c = req.mutable_course();
  c->set_title("班主任专项培训");
  c->set_level(common::v1::TRAINING_LEVEL_CITY);
  c->set_mode(common::v1::TRAINING_MODE_BLENDED);
  c->set_hours(30);
  c->set_start_date("2025-09-01");
  c->set_end_date("2025-09-30");
  c->set_capacity(40);
  c->add_open_regions("330700");  // the whole city
  v1::RegisterCourseResponse first, second;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::RegisterCourse, centre_, req, &first).ok());
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::RegisterCourse, centre_, req, &second).ok());
  EXPECT_EQ(first.course().course_id(), second.course().course_id());
  EXPECT_EQ(first.course().provider_id(), "P1");
  v1::ListCoursesRequest list;
  list.set_open_to_county_id(kCounty);
  v1::ListCoursesResponse listed;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::ListCourses, hr_, list, &listed).ok());
  EXPECT_EQ(listed.courses_size(), 1);
  // The same id for a different request is refused.
  c->set_hours(31);
  grpc::Status s = Call(&v1::TrainingService::Stub::RegisterCourse, centre_, req, &second);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("request_id"));
}

// A page token no listing gave is refused; one past the end of size_t once wrapped around to a
// next page token near the start, so a client paging on never stopped.
TEST_F(TrainingServiceTest, APageTokenNoListingGaveIsRefused) {
  RegisterCourse(centre_, "c-1", /*capacity=*/1);
  for (const char* token : {"18446744073709551615", "9223372036854775808", "-1", "x"}) {
    v1::ListCoursesRequest list;
    list.set_open_to_county_id(kCounty);
    list.mutable_page()->set_page_token(token);
    v1::ListCoursesResponse listed;
    grpc::Status s = Call(&v1::TrainingService::Stub::ListCourses, hr_, list, &listed);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << token;
    EXPECT_THAT(s.error_message(), HasSubstr("page.page_token")) << token;
  }
}

TEST_F(TrainingServiceTest, WithdrawGivesTheSeatBackOnlyToWhoMayAct) {
  AddTeacher("T1");
  AddTeacher("T2");
  AddTeacher("T3", kCounty, "S330723-cccccccccc");
  v1::Course course = RegisterCourse(centre_, "c-1", /*capacity=*/1);
  v1::EnrollRequest enroll;
  enroll.set_course_id(course.course_id());
  enroll.set_teacher_id("T1");
  v1::EnrollResponse enrolled;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::Enroll, Who(common::v1::ROLE_TEACHER, "T1"), enroll,
                   &enrolled)
                  .ok());
  EXPECT_EQ(enrolled.seats_left(), 0);
  enroll.set_teacher_id("T2");
  EXPECT_EQ(Call(&v1::TrainingService::Stub::Enroll, Who(common::v1::ROLE_TEACHER, "T2"), enroll,
                 &enrolled)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);  // full

  v1::WithdrawRequest withdraw;
  withdraw.set_course_id(course.course_id());
  withdraw.set_teacher_id("T1");
  withdraw.set_reason("工作冲突");
  v1::WithdrawResponse withdrawn;
  // Another teacher, or the admin of another school, may not withdraw T1.
  EXPECT_EQ(Call(&v1::TrainingService::Stub::Withdraw, Who(common::v1::ROLE_TEACHER, "T2"),
                 withdraw, &withdrawn)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Call(&v1::TrainingService::Stub::Withdraw,
                 Who(common::v1::ROLE_SCHOOL_ADMIN, "sa3", "", "S330723-cccccccccc"), withdraw,
                 &withdrawn)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // T1's school admin may.
  grpc::Status s =
      Call(&v1::TrainingService::Stub::Withdraw,
           Who(common::v1::ROLE_SCHOOL_ADMIN, "sa", "", kSchool), withdraw, &withdrawn);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(withdrawn.enrollment().state(), v1::ENROLLMENT_STATE_WITHDRAWN);
  EXPECT_EQ(withdrawn.enrollment().withdraw_reason(), "工作冲突");
  EXPECT_EQ(withdrawn.enrollment().withdrawn_on(), kToday);
  // Not enrolled any more: a second withdrawal is refused and gives no seat back twice.
  EXPECT_EQ(Call(&v1::TrainingService::Stub::Withdraw, admin_, withdraw, &withdrawn).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::GetCourseRequest get;
  get.set_course_id(course.course_id());
  v1::GetCourseResponse got;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::GetCourse, hr_, get, &got).ok());
  EXPECT_EQ(got.course().enrolled(), 0);
  // The seat is free again.
  s = Call(&v1::TrainingService::Stub::Enroll, Who(common::v1::ROLE_TEACHER, "T2"), enroll,
           &enrolled);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(enrolled.seats_left(), 0);
}

// A course says how many teachers were credited with it, apart from who enrolled: a centre
// confirms the class it taught, enrolled or not.
TEST_F(TrainingServiceTest, ACourseCountsTheTeachersCreditedWithIt) {
  AddTeacher("T1");
  AddTeacher("T2");
  v1::Course course = RegisterCourse(centre_, "c-1");
  EXPECT_EQ(course.completed(), 0);
  v1::EnrollRequest enroll;
  enroll.set_request_id("enrol-1");
  enroll.set_course_id(course.course_id());
  enroll.set_teacher_id("T1");
  v1::EnrollResponse enrolled;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::Enroll, Who(common::v1::ROLE_TEACHER, "T1"), enroll,
                   &enrolled)
                  .ok());
  v1::RecordCompletionsRequest req;
  req.set_request_id("batch-1");
  req.set_course_id(course.course_id());
  *req.add_rows() = Row("T1", 24, "2025-10-20");
  *req.add_rows() = Row("T2", 24, "2025-10-20");
  *req.add_rows() = Row("T404", 24, "2025-10-20");  // unknown: not credited, not counted
  v1::RecordCompletionsResponse resp;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::RecordCompletions, centre_, req, &resp).ok());
  ASSERT_EQ(resp.credited(), 2);
  // Confirmed twice, counted once.
  req.set_request_id("batch-2");
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::RecordCompletions, centre_, req, &resp).ok());
  v1::GetCourseRequest get;
  get.set_course_id(course.course_id());
  v1::GetCourseResponse got;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::GetCourse, hr_, get, &got).ok());
  EXPECT_EQ(got.course().enrolled(), 1);
  EXPECT_EQ(got.course().completed(), 2);
  v1::ListCoursesRequest list;
  list.set_open_to_county_id(kCounty);
  v1::ListCoursesResponse listed;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::ListCourses, hr_, list, &listed).ok());
  ASSERT_EQ(listed.courses_size(), 1);
  EXPECT_EQ(listed.courses(0).completed(), 2);
  // The service sets it: a registration naming it is refused.
  v1::RegisterCourseRequest reg;
  reg.set_request_id("c-2");
  *reg.mutable_course() = course;
  reg.mutable_course()->clear_course_id();
  reg.mutable_course()->clear_state();
  reg.mutable_course()->clear_created_by();
  reg.mutable_course()->clear_enrolled();
  reg.mutable_course()->set_completed(5);
  v1::RegisterCourseResponse registered;
  EXPECT_EQ(
      Call(&v1::TrainingService::Stub::RegisterCourse, centre_, reg, &registered).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(TrainingServiceTest, ClosingACourseEndsEnrolmentButNotItsCompletions) {
  AddTeacher("T1");
  AddTeacher("T2");
  v1::Course course = RegisterCourse(centre_, "c-1");
  v1::CloseCourseRequest close;
  close.set_course_id(course.course_id());
  close.set_request_id("close-1");
  v1::CloseCourseResponse closed;
  // Only the course's own centre closes it.
  EXPECT_EQ(
      Call(&v1::TrainingService::Stub::CloseCourse, other_centre_, close, &closed).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::CloseCourse, centre_, close, &closed).ok());
  EXPECT_EQ(closed.course().state(), v1::COURSE_STATE_CLOSED);
  close.set_request_id("close-2");
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::CloseCourse, centre_, close, &closed).ok());
  // No enrolment, no re-publishing.
  v1::EnrollRequest enroll;
  enroll.set_course_id(course.course_id());
  enroll.set_teacher_id("T1");
  v1::EnrollResponse enrolled;
  grpc::Status s = Call(&v1::TrainingService::Stub::Enroll, Who(common::v1::ROLE_TEACHER, "T1"),
                        enroll, &enrolled);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("closed"));
  v1::PublishCourseRequest publish;
  publish.set_course_id(course.course_id());
  v1::PublishCourseResponse published;
  EXPECT_EQ(
      Call(&v1::TrainingService::Stub::PublishCourse, centre_, publish, &published).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);
  // Who completed it is still confirmed after it closed.
  v1::RecordCompletionsRequest req;
  req.set_course_id(course.course_id());
  *req.add_rows() = Row("T2", 24, "2025-10-20");
  v1::RecordCompletionsResponse resp;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::RecordCompletions, centre_, req, &resp).ok());
  EXPECT_EQ(resp.credited(), 1);
}

TEST_F(TrainingServiceTest, ListCoursesFiltersAndPages) {
  using common::v1::TRAINING_LEVEL_COUNTY;
  using common::v1::TRAINING_LEVEL_PROVINCE;
  using common::v1::TRAINING_MODE_FACE_TO_FACE;
  using common::v1::TRAINING_MODE_ONLINE;
  const std::string a = AddCourse(centre_, "a", TRAINING_LEVEL_COUNTY, TRAINING_MODE_FACE_TO_FACE,
                                  "2025-01-10", "2025-01-20", kCounty, true);
  const std::string b =
      AddCourse(centre_, "b", TRAINING_LEVEL_PROVINCE, TRAINING_MODE_ONLINE, "2025-03-01",
                "2025-03-31", "330700", true);  // the city: covers kCounty
  const std::string c = AddCourse(centre_, "c", TRAINING_LEVEL_COUNTY, TRAINING_MODE_ONLINE,
                                  "2025-06-01", "2025-06-02", kOtherCounty, false);
  const std::string d =
      AddCourse(other_centre_, "d", TRAINING_LEVEL_COUNTY, TRAINING_MODE_FACE_TO_FACE, "2025-09-01",
                "2025-09-05", kCounty, true);
  v1::ListCoursesRequest req;
  EXPECT_EQ(ListCourseIds(hr_, req).first, (std::set<std::string>{a, b, c, d}));
  req.set_level(TRAINING_LEVEL_COUNTY);
  EXPECT_EQ(ListCourseIds(hr_, req).first, (std::set<std::string>{a, c, d}));
  req.set_mode(TRAINING_MODE_ONLINE);
  EXPECT_EQ(ListCourseIds(hr_, req).first, (std::set<std::string>{c}));
  req = {};
  req.set_state(v1::COURSE_STATE_PUBLISHED);
  req.set_open_to_county_id(kCounty);
  EXPECT_EQ(ListCourseIds(hr_, req).first, (std::set<std::string>{a, b, d}));
  req = {};
  req.set_from_date("2025-01-21");  // ends before: a out
  req.set_to_date("2025-08-31");    // starts after: d out
  EXPECT_EQ(ListCourseIds(hr_, req).first, (std::set<std::string>{b, c}));
  req = {};
  req.set_provider_id("P2");
  EXPECT_EQ(ListCourseIds(hr_, req).first, (std::set<std::string>{d}));
  // A centre sees only its own courses, and may not ask for another's.
  EXPECT_EQ(ListCourseIds(centre_, v1::ListCoursesRequest{}).first,
            (std::set<std::string>{a, b, c}));
  v1::ListCoursesResponse denied;
  EXPECT_EQ(Call(&v1::TrainingService::Stub::ListCourses, centre_, req, &denied).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Pages of 3: every course once, then no token.
  req = {};
  req.mutable_page()->set_page_size(3);
  auto [first, page1] = ListCourseIds(hr_, req);
  EXPECT_EQ(first.size(), 3u);
  EXPECT_EQ(page1.total_size(), 4);
  ASSERT_FALSE(page1.next_page_token().empty());
  req.mutable_page()->set_page_token(page1.next_page_token());
  auto [second, page2] = ListCourseIds(hr_, req);
  EXPECT_EQ(second.size(), 1u);
  EXPECT_TRUE(page2.next_page_token().empty());
  for (const std::string& id : second) EXPECT_EQ(first.count(id), 0u);
  // Bad filters name the field.
  req = {};
  req.set_open_to_county_id("330700");
  grpc::Status s = Call(&v1::TrainingService::Stub::ListCourses, hr_, req, &denied);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("open_to_county_id"));
  req = {};
  req.mutable_page()->set_page_size(501);
  s = Call(&v1::TrainingService::Stub::ListCourses, hr_, req, &denied);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("page.page_size"));
}

TEST_F(TrainingServiceTest, PolicyVersionsSayWhereEachValueCameFromAndRecountTotals) {
  AddTeacher("T1");
  Approve(LogOther("T1", 100, "2025-03-01", "log-1").record_id());
  EXPECT_EQ(Summary("T1").counted_hours(), 100);
  EXPECT_EQ(Summary("T1").required_hours(), 360);

  v1::SetTrainingPolicyRequest set;
  set.set_request_id("p-1");
  set.set_level(common::v1::POLICY_LEVEL_COUNTY);
  set.set_region(kCounty);
  set.set_effective_from("2021-01-01");
  set.mutable_training()->set_required_hours(300);
  common::v1::HourRule* cap = set.mutable_training()->mutable_caps()->add_rules();
  cap->set_name("conference");
  cap->set_hours(60);
  cap->set_activity("conference");
  v1::SetTrainingPolicyResponse version;
  // HR of another county may not set this county's policy; a bad value names the field.
  EXPECT_EQ(Call(&v1::TrainingService::Stub::SetTrainingPolicy,
                 Who(common::v1::ROLE_COUNTY_HR, "hr2", kOtherCounty), set, &version)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::SetTrainingPolicyRequest bad = set;
  bad.mutable_training()->set_required_hours(-1);
  grpc::Status s = Call(&v1::TrainingService::Stub::SetTrainingPolicy, hr_, bad, &version);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("training.required_hours"));
  s = Call(&v1::TrainingService::Stub::SetTrainingPolicy, hr_, set, &version);
  ASSERT_TRUE(s.ok()) << s.error_message();

  v1::GetTrainingPolicyRequest get;
  get.set_county_id(kCounty);
  get.set_as_of("2025-06-01");
  v1::GetTrainingPolicyResponse policy;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::GetTrainingPolicy,
                   Who(common::v1::ROLE_TEACHER, "T1"), get, &policy)
                  .ok());
  const common::v1::TrainingPolicy& training = policy.resolved().policy().training();
  EXPECT_EQ(training.required_hours(), 300);
  EXPECT_EQ(training.cycle_years(), 5);
  std::map<std::string, common::v1::PolicySource> sources;
  for (const common::v1::PolicySource& src : policy.resolved().sources())
    sources[src.field()] = src;
  ASSERT_TRUE(sources.count("training.required_hours"));
  EXPECT_EQ(sources["training.required_hours"].level(), common::v1::POLICY_LEVEL_COUNTY);
  EXPECT_EQ(sources["training.required_hours"].region(), kCounty);
  EXPECT_EQ(sources["training.required_hours"].effective_from(), "2021-01-01");
  ASSERT_TRUE(sources.count("training.cycle_years"));
  EXPECT_NE(sources["training.cycle_years"].level(), common::v1::POLICY_LEVEL_COUNTY);
  // Before the version took effect the default applies.
  get.set_as_of("2020-06-01");
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::GetTrainingPolicy, hr_, get, &policy).ok());
  EXPECT_EQ(policy.resolved().policy().training().required_hours(), 360);

  // The stored totals were counted under the old versions: the summary and the report follow
  // the new one at once (required 300, conference hours capped at 60).
  v1::TrainingSummary summary = Summary("T1");
  EXPECT_EQ(summary.required_hours(), 300);
  EXPECT_EQ(summary.counted_hours(), 60);
  EXPECT_EQ(summary.credited_hours(), 100);
  v1::GetComplianceReportRequest report_req;
  report_req.set_county_id(kCounty);
  v1::GetComplianceReportResponse report;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::GetComplianceReport, hr_, report_req, &report).ok());
  ASSERT_EQ(report.rows_size(), 1);
  EXPECT_EQ(report.rows(0).counted_hours(), 60);
  EXPECT_EQ(report.rows(0).shortfall_hours(), 240);
  // A later credit adds under the cap from the new totals.
  Approve(LogOther("T1", 30, "2025-04-01", "log-2").record_id());
  EXPECT_EQ(Summary("T1").counted_hours(), 60);
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::GetComplianceReport, hr_, report_req, &report).ok());
  EXPECT_EQ(report.rows(0).counted_hours(), 60);
}

TEST_F(TrainingServiceTest, ReportShowsCreditsWhereTheCountyCountsThem) {
  AddTeacher("T1");
  AddTeacher("T2");
  v1::SetTrainingPolicyRequest set;
  set.set_level(common::v1::POLICY_LEVEL_COUNTY);
  set.set_region(kCounty);
  set.set_effective_from("2021-01-01");
  set.mutable_training()->set_counts_credits(true);
  auto* f2f = set.mutable_training()->mutable_credit_rates()->add_rates();
  f2f->set_mode(common::v1::TRAINING_MODE_FACE_TO_FACE);
  f2f->set_hours_per_credit(6);
  for (auto mode : {common::v1::TRAINING_MODE_ONLINE, common::v1::TRAINING_MODE_BLENDED,
                    common::v1::TRAINING_MODE_SCHOOL_BASED}) {
    auto* other = set.mutable_training()->mutable_credit_rates()->add_rates();
    other->set_mode(mode);
    other->set_hours_per_credit(8);
  }
  v1::SetTrainingPolicyResponse version;
  grpc::Status s = Call(&v1::TrainingService::Stub::SetTrainingPolicy, hr_, set, &version);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::Course course = RegisterCourse(centre_, "c-1");  // face to face, 24 h
  v1::RecordCompletionsRequest req;
  req.set_course_id(course.course_id());
  *req.add_rows() = Row("T1", 20, "2025-10-20");
  v1::RecordCompletionsResponse resp;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::RecordCompletions, centre_, req, &resp).ok());
  EXPECT_EQ(Summary("T1").credits(), 3.33);  // 20 / 6, exact inside, rounded on the wire

  v1::GetComplianceReportRequest report_req;
  report_req.set_county_id(kCounty);
  report_req.set_format(v1::REPORT_FORMAT_CSV);
  v1::GetComplianceReportResponse report;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::GetComplianceReport, hr_, report_req, &report).ok());
  EXPECT_TRUE(report.counts_credits());
  ASSERT_EQ(report.rows_size(), 2);
  std::map<std::string, v1::ComplianceRow> rows;
  for (const v1::ComplianceRow& row : report.rows()) rows[row.teacher_id()] = row;
  EXPECT_TRUE(rows["T1"].counts_credits());
  EXPECT_EQ(rows["T1"].credits(), 3.33);
  EXPECT_EQ(rows["T1"].counted_hours(), 20);
  EXPECT_EQ(rows["T2"].credits(), 0);
  EXPECT_THAT(report.download().content(), HasSubstr("已计学分"));
  EXPECT_THAT(report.download().content(), HasSubstr(",3.33"));
}

TEST_F(TrainingServiceTest, AReversedCourseCreditCanBeCreditedAgainCorrected) {
  AddTeacher("T1");
  v1::Course course = RegisterCourse(centre_, "c-1");
  v1::RecordCompletionsRequest req;
  req.set_request_id("batch-1");
  req.set_course_id(course.course_id());
  *req.add_rows() = Row("T1", 12, "2025-10-20");  // wrong: the teacher did 24 hours
  v1::RecordCompletionsResponse first;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::RecordCompletions, centre_, req, &first).ok());
  ASSERT_EQ(first.credited(), 1);

  v1::ReverseEntryRequest reverse;
  reverse.set_request_id("rev-1");
  reverse.set_teacher_id("T1");
  reverse.set_entry_id(first.results(0).entry_id());
  reverse.set_reason("学时登记错误");
  v1::ReverseEntryResponse reversed;
  grpc::Status s = Call(&v1::TrainingService::Stub::ReverseEntry, hr_, reverse, &reversed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(Summary("T1").counted_hours(), 0);

  // The original batch retried changes nothing (same answer, no second credit of 12 h).
  v1::RecordCompletionsResponse replay;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::RecordCompletions, centre_, req, &replay).ok());
  EXPECT_EQ(replay.results(0).entry_id(), first.results(0).entry_id());
  EXPECT_EQ(Ledger("T1").size(), 2u);
  EXPECT_EQ(Summary("T1").counted_hours(), 0);

  // The corrected row in a new batch is credited, under an id of its own, once.
  v1::RecordCompletionsRequest fixed = req;
  fixed.set_request_id("batch-2");
  fixed.mutable_rows(0)->set_hours(24);
  v1::RecordCompletionsResponse corrected;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::RecordCompletions, centre_, fixed, &corrected).ok());
  EXPECT_EQ(corrected.credited(), 1);
  EXPECT_NE(corrected.results(0).entry_id(), first.results(0).entry_id());
  fixed.set_request_id("batch-3");
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::RecordCompletions, centre_, fixed, &corrected).ok());
  EXPECT_EQ(corrected.already_credited(), 1);
  EXPECT_EQ(Ledger("T1").size(), 3u);
  EXPECT_EQ(Summary("T1").counted_hours(), 24);
  // Retrying the reversal (e.g. after a crash) changes nothing more.
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::ReverseEntry, hr_, reverse, &reversed).ok());
  fixed.set_request_id("batch-4");
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::RecordCompletions, centre_, fixed, &corrected).ok());
  EXPECT_EQ(corrected.already_credited(), 1);
  EXPECT_EQ(Summary("T1").counted_hours(), 24);
}

TEST_F(TrainingServiceTest, ProfileEventsMoveRetireAndTransferTeachers) {
  AddTeacher("T1");
  AddTeacher("T2");
  AddTeacher("T3");
  v1::Course course = RegisterCourse(centre_, "c-1");
  v1::RecordCompletionsRequest req;
  req.set_course_id(course.course_id());
  *req.add_rows() = Row("T3", 24, "2025-10-10");
  v1::RecordCompletionsResponse resp;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::RecordCompletions, centre_, req, &resp).ok());

  ASSERT_NO_FATAL_FAILURE(ExpectMovedTeacherFollowsTheirSchool());

  ASSERT_NO_FATAL_FAILURE(ExpectNoCreditFromRetirement(course));

  // T3's credit was wrong: HR reverses it and the centre credits the corrected hours.
  v1::ReverseEntryRequest reverse;
  reverse.set_request_id("rev-T3");
  reverse.set_teacher_id("T3");
  reverse.set_entry_id(resp.results(0).entry_id());
  reverse.set_reason("学时有误");
  v1::ReverseEntryResponse reversed;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::ReverseEntry, hr_, reverse, &reversed).ok());
  req.mutable_rows(0)->set_hours(20);
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::RecordCompletions, centre_, req, &resp).ok());
  ASSERT_EQ(resp.credited(), 1);
  ASSERT_EQ(Summary("T3").counted_hours(), 20);

  ExpectTransferTakesTheLedgerAlong(req);
}

// Later profile changes reach the teacher's copy of facts: HR setting the cycle anchor after the
// teacher was created, a corrected hire date, new head-teacher periods (each published as the
// profile service's UpdateTeacher does: "profile.teacher_updated" with the teacher as updated).
TEST_F(TrainingServiceTest, LaterProfileChangesReachTheTeachersCycle) {
  v1::SetTrainingPolicyRequest set;
  set.set_request_id("per-teacher-cycles");
  set.set_level(common::v1::POLICY_LEVEL_COUNTY);
  set.set_region(kCounty);
  set.set_effective_from("2000-01-01");
  set.mutable_training()->set_cycle_kind(common::v1::CYCLE_KIND_PER_TEACHER);
  v1::SetTrainingPolicyResponse version;
  grpc::Status s = Call(&v1::TrainingService::Stub::SetTrainingPolicy, hr_, set, &version);
  ASSERT_TRUE(s.ok()) << s.error_message();
  AddTeacher("T1");  // hired 2012-09-01, no anchor: 5-year cycles from the hire date
  ASSERT_EQ(Summary("T1").cycle().first_day(), "2022-09-01");
  ASSERT_FALSE(Summary("T1").head_teacher());

  profile::v1::Teacher t;
  t.set_teacher_id("T1");
  t.set_name("教师T1");
  t.set_county_id(kCounty);
  t.set_school_id(kSchool);
  t.set_hire_date("2012-09-01");
  t.set_post_status(profile::v1::POST_STATUS_ON_DUTY);
  auto publish_updated = [&] {
    std::string stream = keys::StreamKey("profile", keys::HashTag("c", kCounty));
    common::v1::Event e = NewEvent("profile", "profile.teacher_updated", absl::Now());
    e.set_teacher_id("T1");
    e.set_county_id(kCounty);
    e.mutable_payload()->PackFrom(t);
    Mutation publish("emit_all() return {ok = ''}");
    MutationRequest m;
    m.stream_key = stream;
    m.events = {e, e};  // delivered twice: applied once
    ASSERT_TRUE(publish.Run(redis_.pool(), m).ok());
  };

  // HR sets the anchor afterwards (DOMAIN §6: "HR may set it").
  t.set_training_cycle_anchor("2021-03-01");
  publish_updated();
  EXPECT_TRUE(Eventually([&] { return Summary("T1").cycle().first_day() == "2021-03-01"; }));
  EXPECT_EQ(Summary("T1").cycle().last_day(), "2026-02-28");

  // The anchor cleared and the hire date corrected: the cycle follows the new hire date.
  t.clear_training_cycle_anchor();
  t.set_hire_date("2013-01-01");
  publish_updated();
  EXPECT_TRUE(Eventually([&] { return Summary("T1").cycle().first_day() == "2023-01-01"; }));

  // A head-teacher period added: the summary counts head-teacher hours for them now.
  profile::v1::DatePeriod* period = t.add_head_teacher_periods();
  period->set_from_date("2024-09-01");
  publish_updated();
  EXPECT_TRUE(Eventually([&] { return Summary("T1").head_teacher(); }));
  EXPECT_EQ(Summary("T1").cycle().first_day(), "2023-01-01");

  // The report (from the stored totals) agrees with the summary, and the school is unchanged.
  v1::GetComplianceReportRequest report_of;
  report_of.set_county_id(kCounty);
  report_of.set_school_id(kSchool);
  v1::GetComplianceReportResponse report;
  ASSERT_TRUE(Call(&v1::TrainingService::Stub::GetComplianceReport, hr_, report_of, &report).ok());
  EXPECT_EQ(report.teachers(), 1);
}

// A caller never learns whether a teacher (or course) they may not see exists: what the principal
// alone decides is decided before any lookup, and where the data is needed a missing id and one
// out of scope get the same code and the same message (but for the id itself).
TEST_F(TrainingServiceTest, ACallerNeverLearnsWhetherAnIdOutOfTheirScopeExists) {
  AddTeacher("T1");
  AddTeacher("T2", kCounty, "S330723-bbbbbbbbbb");
  v1::Course course = RegisterCourse(centre_, "c-1");
  auto ask = [&](const Principal& who, const std::string& id, const std::string& method) {
    return AskAboutTeacher(who, id, method, course.course_id());
  };
  const Principal teacher = Who(common::v1::ROLE_TEACHER, "T2");
  const Principal school_admin =
      Who(common::v1::ROLE_SCHOOL_ADMIN, "sa2", "", "S330723-bbbbbbbbbb");
  // HR of another county cannot tell either (AIP-211: PERMISSION_DENIED for both).
  const Principal other_hr = Who(common::v1::ROLE_COUNTY_HR, "hr9", "330781");
  const std::vector<std::pair<Principal, std::vector<std::string>>> cases = {
      {other_hr, {"GetTrainingSummary", "ListLedger", "ListTrainingRecords", "ReverseEntry"}},
      {teacher,
       {"GetTrainingSummary", "ListLedger", "ListTrainingRecords", "LogTraining", "Enroll",
        "ReverseEntry"}},
      {school_admin,
       {"GetTrainingSummary", "ListLedger", "ListTrainingRecords", "Enroll", "ReverseEntry"}}};
  for (const auto& [who, methods] : cases) {
    for (const std::string& method : methods) {
      SCOPED_TRACE(absl::StrCat(RoleName(who.role()), " ", who.subject(), " ", method));
      Answer existing = ask(who, "T1", method);
      Answer missing = ask(who, "T-nobody", method);
      EXPECT_NE(existing.code, grpc::StatusCode::OK);
      EXPECT_EQ(existing.code, missing.code);
      EXPECT_EQ(existing.message, missing.message);
    }
  }
  // A teacher is refused before any lookup: PERMISSION_DENIED for both.
  EXPECT_EQ(ask(teacher, "T-nobody", "GetTrainingSummary").code,
            grpc::StatusCode::PERMISSION_DENIED);
  // The callers still reach what is theirs.
  EXPECT_EQ(ask(teacher, "T2", "GetTrainingSummary").code, grpc::StatusCode::OK);
  EXPECT_EQ(ask(school_admin, "T2", "ListLedger").code, grpc::StatusCode::OK);

  // Another centre asking for a course of P1: an existing one and a missing one look alike.
  const std::string missing_course = absl::StrCat("C000000000000-", centre_.provider_id());
  ASSERT_EQ(missing_course.size(), course.course_id().size());
  for (bool close : {false, true}) {
    SCOPED_TRACE(close ? "CloseCourse" : "GetCourse");
    Answer existing = AskAboutCourse(course.course_id(), close);
    Answer missing = AskAboutCourse(missing_course, close);
    EXPECT_EQ(existing.code, grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(existing.code, missing.code);
    EXPECT_EQ(existing.message, missing.message);
  }
}

}  // namespace
}  // namespace shidang::training
