// The user stories of issue #6 over gRPC through the gateway, with generated stubs, plus scope
// (each service keeps callers to their own records), bad bearer tokens at the gateway, and
// principals sent straight to a service that the service must refuse.

#include <map>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/platform.h"
#include "tests/e2e/stories.h"

namespace shidang::e2e {
namespace {

namespace pv1 = profile::v1;
namespace tv1 = training::v1;
using common::v1::Principal;
using ::testing::HasSubstr;
using PStub = pv1::ProfileService::Stub;
using TStub = tv1::TrainingService::Stub;

class GrpcStoriesTest : public PlatformTest {
 protected:
  PStub& profile() { return platform().profile_stub(); }
  TStub& training() { return platform().training_stub(); }
  std::string Token(const Principal& p) { return platform().Token(p); }

  tv1::TrainingSummary Summary(const std::string& token, const std::string& teacher_id) {
    tv1::GetTrainingSummaryRequest req;
    req.set_teacher_id(teacher_id);
    tv1::GetTrainingSummaryResponse resp;
    grpc::Status s = CallWith(training(), &TStub::GetTrainingSummary, token, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.summary();
  }

  tv1::GetComplianceReportResponse Report(const std::string& token, const std::string& county) {
    tv1::GetComplianceReportRequest req;
    req.set_county_id(county);
    tv1::GetComplianceReportResponse resp;
    grpc::Status s = CallWith(training(), &TStub::GetComplianceReport, token, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  static std::map<tv1::TrainingStatus, int64_t> Counts(const tv1::GetComplianceReportResponse& r) {
    std::map<tv1::TrainingStatus, int64_t> counts;
    for (const tv1::StatusCount& c : r.by_status()) counts[c.status()] = c.teachers();
    return counts;
  }

  tv1::Course RegisterAndPublish(const Principal& centre, const std::string& county) {
    tv1::RegisterCourseRequest req;
    req.set_request_id("course-" + county);
    tv1::Course* c = req.mutable_course();
    c->set_provider_id(centre.provider_id());
    c->set_title("新课标解读与课堂实践");
    c->set_level(common::v1::TRAINING_LEVEL_COUNTY);
    c->set_mode(common::v1::TRAINING_MODE_FACE_TO_FACE);
    c->set_hours(24);
    c->set_start_date("2025-10-01");
    c->set_end_date("2025-10-20");
    c->set_capacity(50);
    c->add_open_regions(county);
    tv1::RegisterCourseResponse registered;
    const std::string token = Token(centre);
    grpc::Status s = CallWith(training(), &TStub::RegisterCourse, token, req, &registered);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(registered.course().state(), tv1::COURSE_STATE_DRAFT);
    EXPECT_EQ(registered.course().provider_id(), centre.provider_id());
    EXPECT_EQ(registered.course().hours(), 24);
    tv1::PublishCourseRequest publish;
    publish.set_request_id("publish-" + county);
    publish.set_course_id(registered.course().course_id());
    tv1::PublishCourseResponse published;
    s = CallWith(training(), &TStub::PublishCourse, token, publish, &published);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(published.course().state(), tv1::COURSE_STATE_PUBLISHED);
    return published.course();
  }

  static tv1::CompletionRow Row(const std::string& teacher, double hours, const std::string& day) {
    tv1::CompletionRow row;
    row.set_teacher_id(teacher);
    row.set_hours(hours);
    row.set_completed_on(day);
    return row;
  }

  tv1::TrainingRecord LogConference(const std::string& teacher, double hours,
                                    const std::string& request_id) {
    tv1::LogTrainingRequest req;
    req.set_request_id(request_id);
    req.set_teacher_id(teacher);
    req.set_activity(tv1::TRAINING_ACTIVITY_CONFERENCE);
    req.set_title("省级课堂教学研讨会");
    req.set_level(common::v1::TRAINING_LEVEL_PROVINCE);
    req.set_mode(common::v1::TRAINING_MODE_FACE_TO_FACE);
    req.set_hours(hours);
    req.set_started_on("2025-05-28");
    req.set_completed_on("2025-06-01");
    req.mutable_evidence()->set_description("参会证明及学时证明");
    req.mutable_evidence()->set_file_ref("uploads/" + request_id + ".pdf");
    tv1::LogTrainingResponse resp;
    grpc::Status s =
        CallWith(training(), &TStub::LogTraining, Token(TeacherP(teacher)), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.record();
  }

  // 王芳's growth file as HR of her county reads it, fresh from the roster import.
  static void ExpectWangsFileAsHrSeesIt(const County& county, const pv1::GrowthFile& g) {
    EXPECT_EQ(g.as_of(), kToday);
    EXPECT_EQ(g.teacher().name(), "王芳");
    EXPECT_EQ(g.teacher().county_id(), "330781");
    EXPECT_EQ(g.teacher().school_id(), county.school_ids.at("3307810001"));
    EXPECT_EQ(g.teacher().title(), common::v1::PROFESSIONAL_TITLE_FIRST_GRADE);
    EXPECT_EQ(g.teacher().title_conferred_on(), "2018-12-01");
    EXPECT_EQ(g.teacher().post_status(), pv1::POST_STATUS_ON_DUTY);
    EXPECT_THAT(g.teacher().subjects(), ::testing::ElementsAre("数学", "科学"));
    // HR of the teacher's county sees the ID-card number (DESIGN: logged as such a read).
    EXPECT_EQ(g.teacher().id_card_number(), IdCard("330781", "19900307", false, 1));
    ASSERT_EQ(g.school_history_size(), 1);
    EXPECT_EQ(g.school_history(0).school_name(), "城关第一小学");
    EXPECT_EQ(g.school_history(0).from_date(), "2015-09-01");
    EXPECT_EQ(g.school_history(0).to_date(), "");
    EXPECT_FALSE(g.rural_or_weak_service().served());
    std::map<pv1::TimelineEntryKind, int> kinds;
    for (const pv1::TimelineEntry& e : g.timeline()) ++kinds[e.kind()];
    EXPECT_EQ(kinds[pv1::TIMELINE_ENTRY_KIND_SCHOOL_JOINED], 1);
    EXPECT_EQ(kinds[pv1::TIMELINE_ENTRY_KIND_TITLE_CONFERRED], 1);
  }

  size_t LedgerSize(const std::string& token, const std::string& teacher) {
    tv1::ListLedgerRequest req;
    req.set_teacher_id(teacher);
    tv1::ListLedgerResponse resp;
    grpc::Status s = CallWith(training(), &TStub::ListLedger, token, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return static_cast<size_t>(resp.entries_size());
  }
  // Centre's completions for course in county 330782: a result per row, good rows credited, bad
  // rows rejected with the field; re-sent, the same entries and one ledger entry each.
  void ConfirmCompletionsTwice(const Principal& centre, const tv1::Course& course,
                               const std::string& hr, const std::vector<std::string>& abc) {
    const std::string& a = abc[0];
    const std::string& b = abc[1];
    const std::string& c = abc[2];
    tv1::RecordCompletionsRequest batch;
    batch.set_request_id("batch-330782");
    batch.set_course_id(course.course_id());
    *batch.add_rows() = Row(a, 24, "2025-10-20");
    *batch.add_rows() = Row(b, 30, "2025-10-15");  // more than the course's 24 h
    *batch.add_rows() = Row(b, 12.5, "2025-10-15");
    *batch.add_rows() = Row("T-nobody", 8, "2025-10-15");
    tv1::RecordCompletionsResponse first;
    const std::string centre_token = Token(centre);
    grpc::Status s = CallWith(training(), &TStub::RecordCompletions, centre_token, batch, &first);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(first.credited(), 2);
    EXPECT_EQ(first.already_credited(), 0);
    EXPECT_EQ(first.rejected(), 2);
    ASSERT_EQ(first.results_size(), 4);
    EXPECT_EQ(first.results(0).outcome(), tv1::COMPLETION_OUTCOME_CREDITED);
    EXPECT_EQ(first.results(1).outcome(), tv1::COMPLETION_OUTCOME_REJECTED);
    EXPECT_EQ(first.results(1).violation().field(), "rows[1].hours");
    EXPECT_EQ(first.results(2).outcome(), tv1::COMPLETION_OUTCOME_CREDITED);
    EXPECT_EQ(first.results(3).outcome(), tv1::COMPLETION_OUTCOME_REJECTED);
    EXPECT_EQ(first.results(3).violation().field(), "rows[3].teacher_id");
    // The same batch re-sent (same request id): the first answer. Re-sent as a new request: the
    // credited rows are ALREADY_CREDITED with the same entries. One ledger entry each.
    tv1::RecordCompletionsResponse replay;
    ASSERT_TRUE(CallWith(training(), &TStub::RecordCompletions, centre_token, batch, &replay).ok());
    EXPECT_EQ(replay.credited(), 2);
    EXPECT_EQ(replay.results(0).entry_id(), first.results(0).entry_id());
    batch.set_request_id("batch-330782-resent");
    ASSERT_TRUE(CallWith(training(), &TStub::RecordCompletions, centre_token, batch, &replay).ok());
    EXPECT_EQ(replay.credited(), 0);
    EXPECT_EQ(replay.already_credited(), 2);
    EXPECT_EQ(replay.rejected(), 2);
    EXPECT_EQ(replay.results(0).outcome(), tv1::COMPLETION_OUTCOME_ALREADY_CREDITED);
    EXPECT_EQ(replay.results(0).entry_id(), first.results(0).entry_id());
    EXPECT_EQ(replay.results(2).entry_id(), first.results(2).entry_id());
    EXPECT_EQ(LedgerSize(hr, a), 1u);
    EXPECT_EQ(LedgerSize(hr, b), 1u);
    EXPECT_EQ(LedgerSize(hr, c), 0u);
  }

  // Before HR reviews the self-reports: a's summary counts only the credit, and the county report
  // has everyone behind, largest shortfall first.
  void ExpectEveryoneBehindBeforeReview(const std::string& hr,
                                        const std::vector<std::string>& abc) {
    const std::string& a = abc[0];
    const std::string& b = abc[1];
    const std::string& c = abc[2];
    tv1::TrainingSummary mine = Summary(Token(TeacherP(a)), a);
    EXPECT_EQ(mine.teacher_id(), a);
    EXPECT_EQ(mine.cycle().first_day(), "2021-01-01");
    EXPECT_EQ(mine.cycle().last_day(), "2025-12-31");
    EXPECT_EQ(mine.days_left(), 36);
    EXPECT_EQ(mine.required_hours(), 360);
    EXPECT_EQ(mine.credited_hours(), 24);
    EXPECT_EQ(mine.counted_hours(), 24);
    EXPECT_EQ(mine.pending_hours(), 336);
    EXPECT_EQ(mine.remaining_hours(), 336);
    EXPECT_NEAR(mine.expected_hours(), 352.9, 0.011);  // 360 x 1790 / 1826
    EXPECT_EQ(mine.status(), tv1::TRAINING_STATUS_BEHIND);

    tv1::GetComplianceReportResponse before = Report(hr, "330782");
    EXPECT_EQ(before.teachers(), 3);
    EXPECT_EQ(Counts(before)[tv1::TRAINING_STATUS_BEHIND], 3);
    EXPECT_EQ(before.completion_percent(), 0);
    ASSERT_EQ(before.rows_size(), 3);
    EXPECT_EQ(before.rows(0).teacher_id(), c);
    EXPECT_EQ(before.rows(0).shortfall_hours(), 360);
    EXPECT_EQ(before.rows(1).teacher_id(), b);
    EXPECT_EQ(before.rows(1).shortfall_hours(), 347.5);
    EXPECT_EQ(before.rows(2).teacher_id(), a);
    EXPECT_EQ(before.rows(2).shortfall_hours(), 336);
  }

  void ApproveSelfReport(const std::string& hr, const tv1::TrainingRecord& record) {
    tv1::ReviewTrainingRecordRequest review;
    review.set_request_id("review-" + record.record_id());
    review.set_record_id(record.record_id());
    review.set_decision(tv1::REVIEW_DECISION_APPROVE);
    tv1::ReviewTrainingRecordResponse reviewed;
    grpc::Status s = CallWith(training(), &TStub::ReviewTrainingRecord, hr, review, &reviewed);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(reviewed.record().state(), tv1::TRAINING_RECORD_STATE_CREDITED);
    EXPECT_EQ(reviewed.entry().hours(), record.hours());
    EXPECT_EQ(reviewed.entry().source(), tv1::CREDIT_SOURCE_SELF_REPORT);
  }

  // DOMAIN §6: 24 + 336 = 360 is COMPLETE; 12.5 + 341 = 353.5 is on pace (>= 352.9) but owes
  // 6.5 h with 36 <= 180 days left: AT_RISK; nothing at all is BEHIND.
  void ExpectStandingAfterReview(const std::string& hr, const std::vector<std::string>& abc) {
    const std::string& a = abc[0];
    const std::string& b = abc[1];
    const std::string& c = abc[2];
    tv1::TrainingSummary mine = Summary(Token(TeacherP(a)), a);
    EXPECT_EQ(mine.counted_hours(), 360);
    EXPECT_EQ(mine.pending_hours(), 0);
    EXPECT_EQ(mine.remaining_hours(), 0);
    EXPECT_EQ(mine.shortfall_hours(), 0);
    EXPECT_EQ(mine.status(), tv1::TRAINING_STATUS_COMPLETE);
    tv1::TrainingSummary bs = Summary(hr, b);
    EXPECT_EQ(bs.counted_hours(), 353.5);
    EXPECT_EQ(bs.status(), tv1::TRAINING_STATUS_AT_RISK);

    tv1::GetComplianceReportResponse after = Report(hr, "330782");
    EXPECT_EQ(after.teachers(), 3);
    auto counts = Counts(after);
    EXPECT_EQ(counts[tv1::TRAINING_STATUS_COMPLETE], 1);
    EXPECT_EQ(counts[tv1::TRAINING_STATUS_AT_RISK], 1);
    EXPECT_EQ(counts[tv1::TRAINING_STATUS_BEHIND], 1);
    EXPECT_EQ(counts[tv1::TRAINING_STATUS_ON_TRACK], 0);
    EXPECT_EQ(after.completion_percent(), 33.33);
    ASSERT_EQ(after.rows_size(), 2);
    EXPECT_EQ(after.rows(0).teacher_id(), c);
    EXPECT_EQ(after.rows(0).status(), tv1::TRAINING_STATUS_BEHIND);
    EXPECT_EQ(after.rows(0).teacher_name(), "陈静");
    EXPECT_EQ(after.rows(1).teacher_id(), b);
    EXPECT_EQ(after.rows(1).status(), tv1::TRAINING_STATUS_AT_RISK);
    EXPECT_EQ(after.rows(1).shortfall_hours(), 6.5);
  }

  // The growth file files the training service's events: the credits on the timeline and the
  // latest summary (asynchronously, from the event stream).
  void ExpectTrainingOnGrowthFile(const std::string& a) {
    const std::string a_token = Token(TeacherP(a));
    pv1::GetGrowthFileRequest get;
    get.set_teacher_id(a);
    pv1::GetGrowthFileResponse file;
    std::string last_seen;
    EXPECT_TRUE(Eventually([&] {
      if (!CallWith(profile(), &PStub::GetGrowthFile, a_token, get, &file).ok()) return false;
      for (const pv1::ServiceSummary& summary : file.growth_file().summaries()) {
        if (summary.source() != "training") continue;
        last_seen = summary.DebugString();
        auto status = summary.values().find("status");
        return status != summary.values().end() && status->second == "TRAINING_STATUS_COMPLETE";
      }
      return false;
    })) << last_seen;
    int external = 0;
    for (const pv1::TimelineEntry& e : file.growth_file().timeline()) {
      if (e.kind() == pv1::TIMELINE_ENTRY_KIND_EXTERNAL && e.external().source() == "training") {
        ++external;
      }
    }
    EXPECT_GE(external, 2) << "both credits of teacher " << a << " on the timeline";
  }
  // Teacher a reading teacher b's file, record and summary, or logging training for b: refused;
  // a's own: allowed.
  void ExpectTeacherKeptToOwnRecords(const std::string& a, const std::string& b) {
    const std::string a_token = Token(TeacherP(a));
    pv1::GetGrowthFileRequest file_of;
    pv1::GetGrowthFileResponse file;
    file_of.set_teacher_id(b);
    EXPECT_EQ(CallWith(profile(), &PStub::GetGrowthFile, a_token, file_of, &file).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    pv1::GetTeacherRequest teacher_of;
    pv1::GetTeacherResponse teacher;
    teacher_of.set_teacher_id(b);
    EXPECT_EQ(CallWith(profile(), &PStub::GetTeacher, a_token, teacher_of, &teacher).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    tv1::GetTrainingSummaryRequest summary_of;
    tv1::GetTrainingSummaryResponse summary;
    summary_of.set_teacher_id(b);
    EXPECT_EQ(CallWith(training(), &TStub::GetTrainingSummary, a_token, summary_of, &summary)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    // ... and logging training for them.
    tv1::LogTrainingRequest log;
    log.set_teacher_id(b);
    log.set_activity(tv1::TRAINING_ACTIVITY_PUBLIC_LESSON);
    log.set_title("公开课");
    log.set_level(common::v1::TRAINING_LEVEL_SCHOOL);
    log.set_mode(common::v1::TRAINING_MODE_SCHOOL_BASED);
    log.set_hours(4);
    log.set_completed_on("2025-10-09");
    log.mutable_evidence()->set_description("听课记录");
    log.mutable_evidence()->set_file_ref("uploads/x.pdf");
    tv1::LogTrainingResponse logged;
    EXPECT_EQ(CallWith(training(), &TStub::LogTraining, a_token, log, &logged).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    // Their own: allowed.
    file_of.set_teacher_id(a);
    EXPECT_TRUE(CallWith(profile(), &PStub::GetGrowthFile, a_token, file_of, &file).ok());
    summary_of.set_teacher_id(a);
    EXPECT_TRUE(
        CallWith(training(), &TStub::GetTrainingSummary, a_token, summary_of, &summary).ok());
  }

  // HR of another county (or province): not county 330783's compliance report nor teacher a;
  // HR of the city above both may read the report.
  void ExpectHrKeptToTheirRegion(const std::string& a) {
    tv1::GetComplianceReportRequest report_of;
    report_of.set_county_id("330783");
    tv1::GetComplianceReportResponse report;
    const std::string other_hr = Token(HrP(common::v1::ROLE_COUNTY_HR, "330784"));
    EXPECT_EQ(CallWith(training(), &TStub::GetComplianceReport, other_hr, report_of, &report)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    pv1::GetGrowthFileRequest file_of;
    pv1::GetGrowthFileResponse file;
    file_of.set_teacher_id(a);
    EXPECT_EQ(CallWith(profile(), &PStub::GetGrowthFile, other_hr, file_of, &file).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    const std::string other_province = Token(HrP(common::v1::ROLE_PROVINCE_HR, "320000"));
    EXPECT_EQ(CallWith(training(), &TStub::GetComplianceReport, other_province, report_of, &report)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    const std::string city_hr = Token(HrP(common::v1::ROLE_CITY_HR, "330700"));
    grpc::Status s = CallWith(training(), &TStub::GetComplianceReport, city_hr, report_of, &report);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(report.teachers(), 3);
  }

  // A training centre confirming completions on another centre's course, closing it, or
  // registering a course for another provider: refused, and nothing changes; the owner may.
  void ExpectCentreKeptToOwnCourses(const std::string& a) {
    tv1::Course course = RegisterAndPublish(CentreP("P330783"), "330783");
    const std::string other_centre = Token(CentreP("P-elsewhere"));
    tv1::RecordCompletionsRequest batch;
    batch.set_request_id("foreign-batch");
    batch.set_course_id(course.course_id());
    *batch.add_rows() = Row(a, 24, "2025-10-20");
    tv1::RecordCompletionsResponse completions;
    EXPECT_EQ(CallWith(training(), &TStub::RecordCompletions, other_centre, batch, &completions)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    tv1::CloseCourseRequest close;
    close.set_request_id("foreign-close");
    close.set_course_id(course.course_id());
    tv1::CloseCourseResponse closed;
    EXPECT_EQ(CallWith(training(), &TStub::CloseCourse, other_centre, close, &closed).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    const std::string hr = Token(HrP(common::v1::ROLE_COUNTY_HR, "330783"));
    EXPECT_EQ(LedgerSize(hr, a), 0u) << "nothing was credited by the foreign centre";
    tv1::GetCourseRequest get_course;
    get_course.set_course_id(course.course_id());
    tv1::GetCourseResponse got;
    ASSERT_TRUE(CallWith(training(), &TStub::GetCourse, hr, get_course, &got).ok());
    EXPECT_EQ(got.course().state(), tv1::COURSE_STATE_PUBLISHED);
    // A centre registering a course for another provider.
    tv1::RegisterCourseRequest foreign;
    foreign.set_request_id("foreign-course");
    *foreign.mutable_course() = got.course();
    foreign.mutable_course()->clear_course_id();
    foreign.mutable_course()->clear_state();
    foreign.mutable_course()->clear_enrolled();
    foreign.mutable_course()->clear_created_by();
    tv1::RegisterCourseResponse registered;
    EXPECT_EQ(CallWith(training(), &TStub::RegisterCourse, other_centre, foreign, &registered)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    // The owner may.
    grpc::Status s = CallWith(training(), &TStub::RecordCompletions, Token(CentreP("P330783")),
                              batch, &completions);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(completions.credited(), 1);
  }
};

TEST_F(GrpcStoriesTest, HrImportsARosterAndReadsAGrowthFile) {
  County county;
  ImportCounty(platform(), "330781", &county);
  ASSERT_FALSE(HasFatalFailure());
  const std::string hr = Token(HrP(common::v1::ROLE_COUNTY_HR, "330781"));

  // The same teachers file again: with the same request id the first answer, with a new one
  // every row is already there. Either way still three teachers.
  pv1::ImportRosterRequest again;
  again.set_county_id("330781");
  again.set_kind(pv1::ROSTER_KIND_TEACHERS);
  again.set_csv(TeachersCsv("330781", county.teachers));
  again.set_request_id("teachers-330781");
  pv1::ImportRosterResponse replay;
  ASSERT_TRUE(CallWith(profile(), &PStub::ImportRoster, hr, again, &replay).ok());
  EXPECT_EQ(replay.rows(), 3);
  EXPECT_EQ(replay.created(), 3);
  again.set_request_id("teachers-330781-again");
  ASSERT_TRUE(CallWith(profile(), &PStub::ImportRoster, hr, again, &replay).ok());
  EXPECT_EQ(replay.created(), 0);
  EXPECT_EQ(replay.unchanged(), 3);
  pv1::ListTeachersRequest list;
  list.set_county_id("330781");
  pv1::ListTeachersResponse listed;
  ASSERT_TRUE(CallWith(profile(), &PStub::ListTeachers, hr, list, &listed).ok());
  EXPECT_EQ(listed.teachers_size(), 3);

  // A bad row makes the whole file INVALID_ARGUMENT, naming the row, and writes nothing.
  std::vector<RosterTeacher> bad = county.teachers;
  bad.push_back({"N330781-4", "赵磊", true, "1988-02-30",
                 "330781"
                 "0001"});
  again.set_csv(TeachersCsv("330781", bad));
  again.set_request_id("teachers-330781-bad");
  grpc::Status s = CallWith(profile(), &PStub::ImportRoster, hr, again, &replay);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  ASSERT_TRUE(CallWith(profile(), &PStub::ListTeachers, hr, list, &listed).ok());
  EXPECT_EQ(listed.teachers_size(), 3);

  const std::string wang = county.teacher_ids.at("N330781-1");
  pv1::GetGrowthFileRequest get;
  get.set_teacher_id(wang);
  pv1::GetGrowthFileResponse file;
  s = CallWith(profile(), &PStub::GetGrowthFile, hr, get, &file);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_NO_FATAL_FAILURE(ExpectWangsFileAsHrSeesIt(county, file.growth_file()));

  // The teacher at the rural school has served rurally since she joined it.
  get.set_teacher_id(county.teacher_ids.at("N330781-3"));
  ASSERT_TRUE(CallWith(profile(), &PStub::GetGrowthFile, hr, get, &file).ok());
  EXPECT_TRUE(file.growth_file().rural_or_weak_service().served());
  EXPECT_EQ(file.growth_file().rural_or_weak_service().whole_years(), 10);

  // The teacher reads her own file; the school admin of her school sees the number masked.
  get.set_teacher_id(wang);
  ASSERT_TRUE(CallWith(profile(), &PStub::GetGrowthFile, Token(TeacherP(wang)), get, &file).ok());
  EXPECT_EQ(file.growth_file().teacher().name(), "王芳");
  s = CallWith(profile(), &PStub::GetGrowthFile,
               Token(SchoolAdminP(county.school_ids.at("3307810001"))), get, &file);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(file.growth_file().teacher().id_card_number(), "");
  EXPECT_THAT(file.growth_file().teacher().id_card_masked(), HasSubstr("**********"));
}

TEST_F(GrpcStoriesTest, CentreConfirmsTeacherLogsHrApprovesAndTheReportFollows) {
  County county;
  ImportCounty(platform(), "330782", &county);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(AwaitTrainingKnows(platform(), county));
  const std::string a = county.teacher_ids.at("N330782-1");
  const std::string b = county.teacher_ids.at("N330782-2");
  const std::string c = county.teacher_ids.at("N330782-3");
  const std::vector<std::string> abc = {a, b, c};
  const std::string hr = Token(HrP(common::v1::ROLE_COUNTY_HR, "330782"));

  // A training centre registers a course and publishes it; a teacher sees it.
  const Principal centre = CentreP("P330782");
  tv1::Course course = RegisterAndPublish(centre, "330782");
  ASSERT_FALSE(course.course_id().empty());
  tv1::GetCourseRequest get_course;
  get_course.set_course_id(course.course_id());
  tv1::GetCourseResponse got_course;
  ASSERT_TRUE(
      CallWith(training(), &TStub::GetCourse, Token(TeacherP(a)), get_course, &got_course).ok());
  EXPECT_EQ(got_course.course().title(), "新课标解读与课堂实践");
  EXPECT_EQ(got_course.course().state(), tv1::COURSE_STATE_PUBLISHED);

  ASSERT_NO_FATAL_FAILURE(ConfirmCompletionsTwice(centre, course, hr, abc));

  // Teachers log training they did elsewhere, with evidence; it waits for HR.
  tv1::TrainingRecord a_record = LogConference(a, 336, "log-330782-a");
  EXPECT_EQ(a_record.state(), tv1::TRAINING_RECORD_STATE_AWAITING_REVIEW);
  tv1::TrainingRecord b_record = LogConference(b, 341, "log-330782-b");
  ASSERT_NO_FATAL_FAILURE(ExpectEveryoneBehindBeforeReview(hr, abc));

  // HR approves both self-reports.
  for (const tv1::TrainingRecord& record : {a_record, b_record}) {
    ASSERT_NO_FATAL_FAILURE(ApproveSelfReport(hr, record));
  }
  ASSERT_NO_FATAL_FAILURE(ExpectStandingAfterReview(hr, abc));
  ExpectTrainingOnGrowthFile(a);
}

// ---- Scope: the gateway lets the role in; the service keeps it to its own records.

TEST_F(GrpcStoriesTest, EachCallerSeesOnlyTheirOwnScope) {
  County county;
  ImportCounty(platform(), "330783", &county);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(AwaitTrainingKnows(platform(), county));
  const std::string a = county.teacher_ids.at("N330783-1");
  const std::string b = county.teacher_ids.at("N330783-2");
  const std::string c = county.teacher_ids.at("N330783-3");  // the other school

  ExpectTeacherKeptToOwnRecords(a, b);

  // A school admin reading another school's teacher; their own school's teacher is fine.
  const std::string admin_token = Token(SchoolAdminP(county.school_ids.at("3307830001")));
  pv1::GetGrowthFileRequest file_of;
  pv1::GetGrowthFileResponse file;
  file_of.set_teacher_id(c);
  EXPECT_EQ(CallWith(profile(), &PStub::GetGrowthFile, admin_token, file_of, &file).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  tv1::GetTrainingSummaryRequest summary_of;
  tv1::GetTrainingSummaryResponse summary;
  summary_of.set_teacher_id(c);
  EXPECT_EQ(CallWith(training(), &TStub::GetTrainingSummary, admin_token, summary_of, &summary)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  file_of.set_teacher_id(b);
  EXPECT_TRUE(CallWith(profile(), &PStub::GetGrowthFile, admin_token, file_of, &file).ok());

  ASSERT_NO_FATAL_FAILURE(ExpectHrKeptToTheirRegion(a));
  ExpectCentreKeptToOwnCourses(a);
}

// ---- Tokens the gateway must refuse, UNAUTHENTICATED, before any backend sees the call.

std::string Base64Url(absl::string_view bytes) { return absl::WebSafeBase64Escape(bytes); }

// name -> token, every one of them invalid.
std::vector<std::pair<std::string, std::string>> BadTokens(const Platform& platform) {
  const Principal who = HrP(common::v1::ROLE_COUNTY_HR, "330784");
  const absl::Time now = absl::Now();
  std::vector<std::pair<std::string, std::string>> tokens;
  JwtKey forged{platform.jwt_key().kid, std::string(32, 'f')};
  tokens.emplace_back("forged (same kid, another key)",
                      MintJwt(forged, who, kIssuer, kAudience, absl::Hours(1), now).value());
  JwtKey unknown_kid{"no-such-kid", platform.jwt_key().secret};
  tokens.emplace_back("unknown kid",
                      MintJwt(unknown_kid, who, kIssuer, kAudience, absl::Hours(1), now).value());
  tokens.emplace_back("expired an hour ago",
                      platform.Token(who, absl::Hours(1), now - absl::Hours(2)));
  tokens.emplace_back("not valid for another hour",
                      platform.Token(who, absl::Hours(2), now + absl::Hours(1)));
  tokens.emplace_back(
      "wrong issuer",
      MintJwt(platform.jwt_key(), who, "someone-else", kAudience, absl::Hours(1), now).value());
  tokens.emplace_back(
      "wrong audience",
      MintJwt(platform.jwt_key(), who, kIssuer, "another-api", absl::Hours(1), now).value());
  const std::string good = platform.Token(who);
  std::vector<std::string> parts = absl::StrSplit(good, '.');
  const std::string none_header = Base64Url(
      absl::StrCat(R"({"alg":"none","typ":"JWT","kid":")", platform.jwt_key().kid, R"("})"));
  tokens.emplace_back("alg none, no signature", absl::StrCat(none_header, ".", parts[1], "."));
  tokens.emplace_back("alg none, the real signature",
                      absl::StrCat(none_header, ".", parts[1], ".", parts[2]));
  tokens.emplace_back("unsigned (signature removed)", absl::StrCat(parts[0], ".", parts[1], "."));
  tokens.emplace_back("two parts", absl::StrCat(parts[0], ".", parts[1]));
  // The claims changed (another role) under the original signature.
  std::string payload;
  EXPECT_TRUE(absl::WebSafeBase64Unescape(parts[1], &payload));
  const std::string admin_payload = absl::StrReplaceAll(payload, {{"\"county_hr\"", "\"admin\""}});
  EXPECT_NE(admin_payload, payload);
  tokens.emplace_back("claims tampered",
                      absl::StrCat(parts[0], ".", Base64Url(admin_payload), ".", parts[2]));
  tokens.emplace_back("garbage", "garbage");
  tokens.emplace_back("garbage with dots", "a.b.c");
  return tokens;
}

TEST_F(GrpcStoriesTest, TheGatewayRefusesBadTokens) {
  pv1::GetCountyRequest req;
  req.set_county_id("330784");
  pv1::GetCountyResponse resp;
  // A valid token gets past the gateway (the county does not exist: NOT_FOUND from the service).
  const Principal who = HrP(common::v1::ROLE_COUNTY_HR, "330784");
  grpc::Status s = CallWith(profile(), &PStub::GetCounty, platform().Token(who), req, &resp);
  EXPECT_NE(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  for (const auto& [what, token] : BadTokens(platform())) {
    s = CallWith(profile(), &PStub::GetCounty, token, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << what << ": " << s.error_message();
    // The message says what was wrong and never repeats the token.
    EXPECT_THAT(s.error_message(), ::testing::Not(HasSubstr(token))) << what;
  }
  // No token, and another scheme.
  std::unique_ptr<grpc::ClientContext> none = BearerContext("");
  EXPECT_EQ(profile().GetCounty(none.get(), req, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext basic;
  basic.AddMetadata("authorization", "Basic dXNlcjpwYXNz");
  basic.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  EXPECT_EQ(profile().GetCounty(&basic, req, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

// ---- Principals sent straight to a service, bypassing the gateway.

// Calls GetCounty on the profile service and GetTrainingPolicy on the training service directly,
// with the metadata a caller chose; returns both statuses.
std::pair<grpc::Status, grpc::Status> CallDirect(
    Platform& platform, const std::vector<std::pair<std::string, std::string>>& metadata) {
  auto profile_stub = pv1::ProfileService::NewStub(Channel(platform.profile().address()));
  auto training_stub = tv1::TrainingService::NewStub(Channel(platform.training().address()));
  grpc::ClientContext profile_context, training_context;
  for (grpc::ClientContext* context : {&profile_context, &training_context}) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    for (const auto& [key, value] : metadata) context->AddMetadata(key, value);
  }
  pv1::GetCountyRequest county;
  county.set_county_id("330784");
  pv1::GetCountyResponse county_resp;
  tv1::GetTrainingPolicyRequest policy;
  policy.set_county_id("330784");
  tv1::GetTrainingPolicyResponse policy_resp;
  return {profile_stub->GetCounty(&profile_context, county, &county_resp),
          training_stub->GetTrainingPolicy(&training_context, policy, &policy_resp)};
}

TEST_F(GrpcStoriesTest, ServicesRefuseAPrincipalTheyCannotVerify) {
  Principal teacher = TeacherP("T-direct");
  teacher.set_expires_at(absl::ToUnixSeconds(absl::Now() + absl::Hours(1)));
  const std::string bytes = teacher.SerializeAsString();
  const std::string signature = platform().signer().SignBytes(bytes);

  // Control: the principal as the gateway sends it is accepted by both services.
  auto [profile_ok, training_ok] = CallDirect(
      platform(), {{kPrincipalMetadataKey, bytes}, {kPrincipalSignatureMetadataKey, signature}});
  EXPECT_NE(profile_ok.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << profile_ok.error_message();
  EXPECT_TRUE(training_ok.ok()) << training_ok.error_message();

  Principal admin = AdminP();
  Principal widened = teacher;
  widened.set_region("330000");
  Principal expired = teacher;
  expired.set_expires_at(absl::ToUnixSeconds(absl::Now() - absl::Minutes(5)));
  const PrincipalSigner wrong_key(std::string(32, 'w'));
  const std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>>
      cases = {
          {"no principal", {}},
          {"no signature", {{kPrincipalMetadataKey, bytes}}},
          {"signature only", {{kPrincipalSignatureMetadataKey, signature}}},
          {"signed with another key",
           {{kPrincipalMetadataKey, bytes},
            {kPrincipalSignatureMetadataKey, wrong_key.SignBytes(bytes)}}},
          {"garbage signature",
           {{kPrincipalMetadataKey, bytes}, {kPrincipalSignatureMetadataKey, "00ff"}}},
          {"role tampered under a valid signature",
           {{kPrincipalMetadataKey, admin.SerializeAsString()},
            {kPrincipalSignatureMetadataKey, signature}}},
          {"scope widened under a valid signature",
           {{kPrincipalMetadataKey, widened.SerializeAsString()},
            {kPrincipalSignatureMetadataKey, signature}}},
          {"validly signed but expired",
           {{kPrincipalMetadataKey, expired.SerializeAsString()},
            {kPrincipalSignatureMetadataKey, platform().signer().Sign(expired)}}},
          {"a bearer token instead of a principal",
           {{"authorization", "Bearer " + platform().Token(AdminP())}}},
      };
  for (const auto& [what, metadata] : cases) {
    auto [profile_status, training_status] = CallDirect(platform(), metadata);
    EXPECT_EQ(profile_status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << "profile, " << what << ": " << profile_status.error_message();
    EXPECT_EQ(training_status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << "training, " << what << ": " << training_status.error_message();
  }
}

// Issue #13: every fact the training service copies follows every change to it in the profile
// service. HR sets a teacher's cycle anchor after the roster import, corrects the hire date, and
// adds a head-teacher period; the teacher's training cycle (per-teacher cycles in this county)
// follows each.
TEST_F(GrpcStoriesTest, LaterProfileChangesReachTheTrainingCycle) {
  County county;
  ImportCounty(platform(), "330784", &county);
  ASSERT_TRUE(AwaitTrainingKnows(platform(), county));
  const std::string hr = Token(HrP(common::v1::ROLE_COUNTY_HR, "330784"));
  const std::string a = county.teacher_ids.at("N330784-1");

  tv1::SetTrainingPolicyRequest per_teacher;
  per_teacher.set_request_id("per-teacher-cycles");
  per_teacher.set_level(common::v1::POLICY_LEVEL_COUNTY);
  per_teacher.set_region("330784");
  per_teacher.set_effective_from("2000-01-01");
  per_teacher.mutable_training()->set_cycle_kind(common::v1::CYCLE_KIND_PER_TEACHER);
  tv1::SetTrainingPolicyResponse version;
  grpc::Status s = CallWith(training(), &TStub::SetTrainingPolicy, hr, per_teacher, &version);
  ASSERT_TRUE(s.ok()) << s.error_message();
  // Hired 2012-09-01 (the roster), no anchor: 5-year cycles from the hire date.
  ASSERT_EQ(Summary(hr, a).cycle().first_day(), "2022-09-01");
  ASSERT_FALSE(Summary(hr, a).head_teacher());

  auto update = [&](const std::string& request_id, const pv1::Teacher& fields,
                    const std::vector<std::string>& paths) {
    pv1::UpdateTeacherRequest req;
    req.set_request_id(request_id);
    req.set_teacher_id(a);
    *req.mutable_teacher() = fields;
    for (const std::string& path : paths) req.mutable_update_mask()->add_paths(path);
    pv1::UpdateTeacherResponse resp;
    grpc::Status s = CallWith(profile(), &PStub::UpdateTeacher, hr, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  };
  pv1::Teacher fields;
  fields.set_training_cycle_anchor("2021-03-01");
  update("anchor", fields, {"training_cycle_anchor"});
  EXPECT_TRUE(Eventually([&] { return Summary(hr, a).cycle().first_day() == "2021-03-01"; }))
      << platform().Logs();

  fields.clear_training_cycle_anchor();
  fields.set_hire_date("2013-01-01");
  update("hire-date", fields, {"training_cycle_anchor", "hire_date"});
  EXPECT_TRUE(Eventually([&] { return Summary(hr, a).cycle().first_day() == "2023-01-01"; }));

  pv1::Teacher periods;
  periods.add_head_teacher_periods()->set_from_date("2024-09-01");
  update("head-teacher", periods, {"head_teacher_periods"});
  EXPECT_TRUE(Eventually([&] { return Summary(hr, a).head_teacher(); }));
  EXPECT_EQ(Summary(hr, a).cycle().first_day(), "2023-01-01");
}

}  // namespace
}  // namespace shidang::e2e
