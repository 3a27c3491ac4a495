// The user stories of issue #7 over HTTP/JSON through the gateway's HTTP front, as curl would
// send them (a plain Beast client): JSON in and out (lowerCamelCase, defaults present, enums by
// name), the CSV download of the compliance report, and every error class with its HTTP status
// and JSON body {"code", "message", "details"}.

#include <signal.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/platform.h"
#include "tests/e2e/stories.h"

namespace shidang::e2e {
namespace {

namespace http = boost::beast::http;
namespace pb = google::protobuf;
namespace pv1 = profile::v1;
namespace tv1 = training::v1;
using common::v1::Principal;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Base64(const std::string& bytes) { return absl::Base64Escape(bytes); }

// A CSV of `n` valid teachers of one school, for a call slow enough to pass a tiny deadline.
std::string ManyTeachersCsv(const std::string& county, const std::string& school_code, int n) {
  std::string csv =
      "姓名,性别,出生日期,身份证号,参加工作时间,学校,调入本校时间,学段,任教学科,是否在编,"
      "任职状态\n";
  for (int i = 0; i < n; ++i) {
    const std::string birth =
        absl::StrFormat("%04d%02d%02d", 1965 + i % 30, 1 + (i / 30) % 12, 1 + (i / 360) % 28);
    absl::StrAppend(&csv, "教师", i, ",女,", birth.substr(0, 4), "-", birth.substr(4, 2), "-",
                    birth.substr(6, 2), ",", IdCard(county, birth, false, 7), ",2012-09-01,",
                    school_code, ",2015-09-01,小学,语文,是,在岗\n");
  }
  return csv;
}

class HttpStoriesTest : public PlatformTest {
 protected:
  void SetUp() override {
    PlatformTest::SetUp();
    if (HasFatalFailure()) return;
    client_ = std::make_unique<HttpClient>(platform().gateway().http_port);
  }

  HttpReply Send(http::verb verb, const std::string& target, const Principal& who,
                 const std::string& body = "", Headers headers = {}) {
    headers.emplace_back("Authorization", "Bearer " + platform().Token(who));
    return client_->Send(verb, target, body, headers);
  }

  // The error body every failure carries: {"code", "message", "details"}; returns it parsed.
  pb::Struct ExpectErrorBody(const HttpReply& reply, grpc::StatusCode code) {
    EXPECT_THAT(reply.Header("Content-Type"), StartsWith("application/json")) << reply.body;
    pb::Struct body = ParseJson(reply.body);
    const pb::Value* c = Member(body, "code");
    EXPECT_NE(c, nullptr) << reply.body;
    if (c != nullptr) {
      // The gRPC code, as its number (google.rpc.Status) or its name.
      EXPECT_TRUE(c->number_value() == static_cast<int>(code) ||
                  c->string_value() ==
                      absl::StatusCodeToString(static_cast<absl::StatusCode>(code)))
          << reply.body;
    }
    const pb::Value* message = Member(body, "message");
    EXPECT_TRUE(message != nullptr && !message->string_value().empty()) << reply.body;
    const pb::Value* details = Member(body, "details");
    EXPECT_TRUE(details != nullptr && details->has_list_value()) << reply.body;
    return body;
  }

  // Creates county 330784 as the admin (defaults present in the answer) and imports its two
  // schools as its HR.
  void CreateCountyAndSchoolsOverJson(const std::string& county, const Principal& hr) {
    HttpReply reply = Send(
        http::verb::post, "/v1/counties", AdminP(),
        R"({"countyId":"330784","name":"永康市","cityCode":"330700","provinceCode":"330000"})");
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_THAT(reply.Header("Content-Type"), StartsWith("application/json"));
    pb::Struct created = ParseJson(reply.body);
    ASSERT_NE(Member(created, "county.countyId"), nullptr) << reply.body;
    EXPECT_EQ(Member(created, "county.countyId")->string_value(), county);
    // Defaults are present: the city's name was not given.
    ASSERT_NE(Member(created, "county.cityName"), nullptr) << reply.body;
    EXPECT_EQ(Member(created, "county.cityName")->string_value(), "");

    std::vector<RosterSchool> schools = {{"3307840001", "永康市实验小学", "城区"},
                                         {"3307840002", "芝英镇中心小学", "镇区"}};
    reply = Send(http::verb::post, "/v1/rosters:import", hr,
                 absl::StrCat(R"({"countyId":"330784","kind":"ROSTER_KIND_SCHOOLS","csv":")",
                              Base64(SchoolsCsv(schools)), R"(","requestId":"http-schools"})"));
    ASSERT_EQ(reply.status, 200) << reply.body;
    pv1::ImportRosterResponse imported;
    ASSERT_TRUE(JsonTo(reply.body, &imported));
    EXPECT_EQ(imported.kind(), pv1::ROSTER_KIND_SCHOOLS);
    EXPECT_EQ(imported.created(), 2);
    pb::Struct counts = ParseJson(reply.body);
    ASSERT_NE(Member(counts, "updated"), nullptr) << "a zero count is still shown: " << reply.body;
    EXPECT_EQ(Member(counts, "kind")->string_value(), "ROSTER_KIND_SCHOOLS");
  }

  // 周敏 reads her own growth file: lowerCamelCase, enums by name, defaults shown.
  void ExpectZhousGrowthFileOverJson(const std::string& zhou) {
    HttpReply reply =
        Send(http::verb::get, "/v1/teachers/" + zhou + "/growth-file", TeacherP(zhou));
    ASSERT_EQ(reply.status, 200) << reply.body;
    pb::Struct file = ParseJson(reply.body);
    ASSERT_NE(Member(file, "growthFile.teacher"), nullptr) << reply.body;
    EXPECT_EQ(Member(file, "growthFile.teacher.name")->string_value(), "周敏");
    EXPECT_EQ(Member(file, "growthFile.teacher.title")->string_value(),
              "PROFESSIONAL_TITLE_FIRST_GRADE");
    EXPECT_EQ(Member(file, "growthFile.teacher.sex")->string_value(), "SEX_FEMALE");
    EXPECT_EQ(Member(file, "growthFile.teacher.postStatus")->string_value(), "POST_STATUS_ON_DUTY");
    EXPECT_TRUE(Member(file, "growthFile.teacher.staffed")->bool_value());
    ASSERT_NE(Member(file, "growthFile.teacher.phone"), nullptr) << "defaults are shown";
    ASSERT_NE(Member(file, "growthFile.ruralOrWeakService.served"), nullptr) << reply.body;
    EXPECT_FALSE(Member(file, "growthFile.ruralOrWeakService.served")->bool_value());
    EXPECT_EQ(Member(file, "growthFile.asOf")->string_value(), kToday);
    EXPECT_THAT(reply.body, ::testing::Not(HasSubstr("growth_file")));
    pv1::GetGrowthFileResponse typed;
    ASSERT_TRUE(JsonTo(reply.body, &typed));
    ASSERT_EQ(typed.growth_file().school_history_size(), 1);
    EXPECT_EQ(typed.growth_file().school_history(0).school_name(), "永康市实验小学");
  }

  // The centre registers a 40 h course over JSON (0 and false shown) and publishes it; teacher
  // a sees it published.
  void CreateAndPublishCourseOverJson(const Principal& centre, const std::string& a,
                                      std::string* course_id_out) {
    HttpReply reply = Send(
        http::verb::post, "/v1/courses", centre,
        R"({"requestId":"http-course","course":{"providerId":"P330726","title":"信息技术应用能力提升",
          "level":"TRAINING_LEVEL_CITY","mode":"TRAINING_MODE_BLENDED","hours":40,
          "startDate":"2025-09-01","endDate":"2025-09-30","capacity":30,
          "openRegions":["330726"]}})");
    ASSERT_EQ(reply.status, 200) << reply.body;
    pb::Struct course = ParseJson(reply.body);
    ASSERT_NE(Member(course, "course.courseId"), nullptr) << reply.body;
    const std::string course_id = Member(course, "course.courseId")->string_value();
    *course_id_out = course_id;
    EXPECT_EQ(Member(course, "course.state")->string_value(), "COURSE_STATE_DRAFT");
    ASSERT_NE(Member(course, "course.enrolled"), nullptr) << "0 is shown: " << reply.body;
    EXPECT_EQ(Member(course, "course.enrolled")->number_value(), 0);
    EXPECT_EQ(Member(course, "course.induction")->bool_value(), false);
    reply = Send(http::verb::post, "/v1/courses/" + course_id + ":publish", centre,
                 R"({"requestId":"http-publish"})");
    ASSERT_EQ(reply.status, 200) << reply.body;
    reply = Send(http::verb::get, "/v1/courses/" + course_id, TeacherP(a));
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(Member(ParseJson(reply.body), "course.state")->string_value(),
              "COURSE_STATE_PUBLISHED");
  }

  // Completions for a and b (b's 40.5 h rejected by field) under an Idempotency-Key: the same
  // key gives the same answer, a new one finds the rows already credited.
  void ConfirmCompletionsOverJson(const Principal& centre, const std::string& course_id,
                                  const std::string& a, const std::string& b) {
    const std::string rows = absl::StrCat(
        R"({"rows":[{"teacherId":")", a, R"(","hours":40,"completedOn":"2025-09-30"},)",
        R"({"teacherId":")", b, R"(","hours":40.5,"completedOn":"2025-09-30"},)",
        R"({"teacherId":")", b, R"(","hours":20,"completedOn":"2025-09-20"}]})");
    HttpReply batch = Send(http::verb::post, "/v1/courses/" + course_id + "/completions", centre,
                           rows, {{"Idempotency-Key", "http-batch-1"}});
    ASSERT_EQ(batch.status, 200) << batch.body;
    tv1::RecordCompletionsResponse completions;
    ASSERT_TRUE(JsonTo(batch.body, &completions));
    EXPECT_EQ(completions.credited(), 2);
    EXPECT_EQ(completions.rejected(), 1);
    pb::Struct batch_json = ParseJson(batch.body);
    ASSERT_NE(Member(batch_json, "alreadyCredited"), nullptr) << batch.body;
    EXPECT_EQ(Member(batch_json, "alreadyCredited")->number_value(), 0);
    EXPECT_THAT(batch.body, HasSubstr(R"("outcome":"COMPLETION_OUTCOME_REJECTED")"));
    EXPECT_THAT(batch.body, HasSubstr(R"("field":"rows[1].hours")"));
    HttpReply same = Send(http::verb::post, "/v1/courses/" + course_id + "/completions", centre,
                          rows, {{"Idempotency-Key", "http-batch-1"}});
    EXPECT_EQ(same.body, batch.body);
    HttpReply again = Send(http::verb::post, "/v1/courses/" + course_id + "/completions", centre,
                           rows, {{"Idempotency-Key", "http-batch-2"}});
    ASSERT_TRUE(JsonTo(again.body, &completions));
    EXPECT_EQ(completions.credited(), 0);
    EXPECT_EQ(completions.already_credited(), 2);
  }

  // The compliance report, as JSON and as the CSV download.
  void ExpectComplianceReportJsonAndCsv(const Principal& hr, const County& county,
                                        const std::string& b, const std::string& c) {
    HttpReply reply =
        Send(http::verb::get, "/v1/counties/330726/training-compliance?asOf=2025-11-25", hr);
    ASSERT_EQ(reply.status, 200) << reply.body;
    tv1::GetComplianceReportResponse report;
    ASSERT_TRUE(JsonTo(reply.body, &report));
    EXPECT_EQ(report.teachers(), 3);
    EXPECT_EQ(report.completion_percent(), 33.33);
    ASSERT_EQ(report.rows_size(), 2);
    EXPECT_EQ(report.rows(0).teacher_id(), c);
    EXPECT_EQ(report.rows(1).teacher_id(), b);
    EXPECT_EQ(report.rows(1).counted_hours(), 20);
    EXPECT_FALSE(report.has_download()) << "no CSV unless asked for";

    HttpReply csv = Send(http::verb::get, "/v1/counties/330726/training-compliance?asOf=2025-11-25",
                         hr, "", {{"Accept", "text/csv"}});
    ASSERT_EQ(csv.status, 200) << csv.body;
    EXPECT_THAT(csv.Header("Content-Type"), StartsWith("text/csv"));
    ASSERT_TRUE(absl::StartsWith(csv.body, "\xEF\xBB\xBF")) << "UTF-8 with a BOM, for Excel";
    std::vector<std::string> lines =
        absl::StrSplit(csv.body.substr(3), absl::ByAnyChar("\r\n"), absl::SkipEmpty());
    ASSERT_EQ(lines.size(), 3u) << csv.body;  // the header and a row per listed teacher
    EXPECT_THAT(lines[0], StartsWith("教师编号,姓名,学校,县区,状态"));
    EXPECT_THAT(lines[1],
                StartsWith(c + ",陈静," + county.school_ids.at("3307260002") + ",330726,"));
    EXPECT_THAT(lines[2], StartsWith(b + ",李强,"));
    EXPECT_THAT(lines[1], HasSubstr("360"));
  }

  // HR accepts every suggestion (the body of pairing-suggestions) in one call; the three then
  // lack only a second mentor.
  void AcceptEverySuggestion(const Principal& hr, const pb::Struct& body) {
    HttpReply reply;
    std::string rows;
    for (const pb::Value& v : Member(body, "suggestions")->list_value().values()) {
      const pb::Struct& s = v.struct_value();
      absl::StrAppend(&rows, rows.empty() ? "" : ",",
                      R"({"role":"PAIRING_ROLE_TEACHING","menteeId":")",
                      Member(s, "menteeId")->string_value(), R"(","mentorId":")",
                      Member(s, "mentorId")->string_value(), R"(","startDate":"2025-09-01"})");
    }
    reply = Send(http::verb::post, "/v1/pairings:batchCreate", hr,
                 absl::StrCat(R"({"pairings":[)", rows, "]}"),
                 {{"Idempotency-Key", "http-pairings-1"}});
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(Member(ParseJson(reply.body), "created")->number_value(), 3) << reply.body;
    reply = Send(http::verb::get, "/v1/counties/330729/unpaired-teachers", hr);
    EXPECT_EQ(Member(ParseJson(reply.body), "lackingTeaching")->string_value(), "0") << reply.body;
    EXPECT_EQ(Member(ParseJson(reply.body), "lackingSecond")->string_value(), "3") << reply.body;
  }

  // The mentee reads the pairing's progress: two lessons observed, one coached, this term.
  void ExpectMenteeProgress(const std::string& id, const std::string& mentee) {
    HttpReply reply = Send(http::verb::get, "/v1/pairings/" + id + "/progress", TeacherP(mentee));
    ASSERT_EQ(reply.status, 200) << reply.body;
    const pb::Struct body = ParseJson(reply.body);
    EXPECT_EQ(Member(body, "progress.stageGoal")->string_value(), "STAGE_GOAL_YEARS_2_3");
    const pb::Value* terms = Member(body, "progress.terms");
    ASSERT_TRUE(terms != nullptr && terms->list_value().values_size() == 1) << reply.body;
    const pb::Struct& term = terms->list_value().values(0).struct_value();
    EXPECT_EQ(Member(term, "term")->string_value(), "2025-2026-1");
    std::map<std::string, double> counts;
    for (const pb::Value& c : Member(term, "counts")->list_value().values()) {
      counts[Member(c.struct_value(), "kind")->string_value()] =
          Member(c.struct_value(), "count")->number_value();
    }
    EXPECT_EQ(counts["ACTIVITY_KIND_LESSON_OBSERVED"], 2) << reply.body;
    EXPECT_EQ(counts["ACTIVITY_KIND_LESSON_COACHED"], 1) << reply.body;
  }

  // 401 with WWW-Authenticate: Bearer, without a token or with a bad one.
  void ExpectUnauthenticatedIs401(const std::string& a) {
    HttpReply reply = client_->Send(http::verb::get, "/v1/teachers/" + a + "/training-summary");
    EXPECT_EQ(reply.status, 401);
    EXPECT_THAT(reply.Header("WWW-Authenticate"), StartsWith("Bearer"));
    ExpectErrorBody(reply, grpc::StatusCode::UNAUTHENTICATED);
    reply = client_->Send(http::verb::get, "/v1/teachers/" + a + "/training-summary", "",
                          {{"Authorization", "Bearer not.a.token"}});
    EXPECT_EQ(reply.status, 401);
    EXPECT_THAT(reply.Header("WWW-Authenticate"), StartsWith("Bearer"));
    reply = client_->Send(
        http::verb::get, "/v1/teachers/" + a + "/training-summary", "",
        {{"Authorization", "Bearer " + platform().Token(TeacherP(a), absl::Hours(1),
                                                        absl::Now() - absl::Hours(3))}});
    EXPECT_EQ(reply.status, 401) << "expired";
  }

  // 403 for an id HR may not know exists; 404 for what does not exist where the caller could
  // see it; 409 for a duplicate or a stale etag; 405 with Allow.
  void ExpectNotFoundConflictAndMethodErrors(const Principal& hr, const std::string& a) {
    // A teacher id that does not exist is, for HR, as forbidden as another county's (AIP-211).
    HttpReply reply = Send(http::verb::get, "/v1/teachers/T-does-not-exist", hr);
    EXPECT_EQ(reply.status, 403);
    ExpectErrorBody(reply, grpc::StatusCode::PERMISSION_DENIED);
    // 404: an id that does not exist where the caller could see it, and a route that does not.
    reply = Send(http::verb::get, "/v1/courses/C-does-not-exist", hr);
    EXPECT_EQ(reply.status, 404);
    reply = Send(http::verb::get, "/v1/no/such/route", hr);
    EXPECT_EQ(reply.status, 404);
    ExpectErrorBody(reply, grpc::StatusCode::NOT_FOUND);

    // 409: the county again, without an idempotency key.
    reply = Send(
        http::verb::post, "/v1/counties", AdminP(),
        R"({"countyId":"330727","name":"磐安县","cityCode":"330700","provinceCode":"330000"})");
    EXPECT_EQ(reply.status, 409) << reply.body;
    ExpectErrorBody(reply, grpc::StatusCode::ALREADY_EXISTS);
    // 409 ABORTED: an update with a stale etag.
    reply = Send(http::verb::patch, "/v1/teachers/" + a, hr,
                 R"({"teacher":{"phone":"13800000000"},"updateMask":"phone","etag":"stale"})");
    EXPECT_EQ(reply.status, 409) << reply.body;
    ExpectErrorBody(reply, grpc::StatusCode::ABORTED);

    // 405 with Allow.
    reply = Send(http::verb::delete_, "/v1/courses", hr);
    EXPECT_EQ(reply.status, 405);
    EXPECT_THAT(reply.Header("Allow"), HasSubstr("GET"));
    EXPECT_THAT(reply.Header("Allow"), HasSubstr("POST"));
  }

  // 504: a 3,000-teacher roster import cannot finish in 30 ms.
  void ExpectSlowImportIs504() {
    HttpReply created = Send(
        http::verb::post, "/v1/counties", AdminP(),
        R"({"countyId":"330702","name":"婺城区","cityCode":"330700","provinceCode":"330000"})");
    ASSERT_EQ(created.status, 200) << created.body;
    const Principal slow_hr = HrP(common::v1::ROLE_COUNTY_HR, "330702");
    HttpReply school =
        Send(http::verb::post, "/v1/rosters:import", slow_hr,
             absl::StrCat(R"({"countyId":"330702","kind":"ROSTER_KIND_SCHOOLS","csv":")",
                          Base64(SchoolsCsv({{"3307020001", "婺城区实验小学", "城区"}})), R"("})"));
    ASSERT_EQ(school.status, 200) << school.body;
    const std::string body =
        absl::StrCat(R"({"countyId":"330702","kind":"ROSTER_KIND_TEACHERS","csv":")",
                     Base64(ManyTeachersCsv("330702", "3307020001", 3000)), R"("})");
    HttpReply reply =
        Send(http::verb::post, "/v1/rosters:import", slow_hr, body, {{"X-Timeout-Ms", "30"}});
    EXPECT_EQ(reply.status, 504) << reply.body.substr(0, 500);
    ExpectErrorBody(reply, grpc::StatusCode::DEADLINE_EXCEEDED);
    // Over gRPC, the caller's deadline is passed on the same way.
    pv1::ImportRosterRequest req;
    req.set_county_id("330702");
    req.set_kind(pv1::ROSTER_KIND_TEACHERS);
    req.set_csv(ManyTeachersCsv("330702", "3307020001", 3000));
    req.set_request_id("slow-grpc");
    pv1::ImportRosterResponse resp;
    std::unique_ptr<grpc::ClientContext> context =
        BearerContext(platform().Token(slow_hr), "", absl::Milliseconds(30));
    grpc::Status s = platform().profile_stub().ImportRoster(context.get(), req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  }

  std::unique_ptr<HttpClient> client_;
};

TEST_F(HttpStoriesTest, HrImportsARosterAndReadsAGrowthFileOverJson) {
  const std::string county = "330784";
  const Principal hr = HrP(common::v1::ROLE_COUNTY_HR, county);
  ASSERT_NO_FATAL_FAILURE(CreateCountyAndSchoolsOverJson(county, hr));
  HttpReply reply;
  pv1::ImportRosterResponse imported;

  // Teachers, with the request id from Idempotency-Key (and snake_case accepted in).
  std::vector<RosterTeacher> teachers = {
      {"N330784-1", "周敏", false, "1992-04-18", "3307840001", "一级", "2020-12-01"},
      {"N330784-2", "吴刚", true, "1980-08-08", "3307840002", "高级", "2015-12-01"}};
  const std::string teachers_body =
      absl::StrCat(R"({"county_id":"330784","kind":"ROSTER_KIND_TEACHERS","csv":")",
                   Base64(TeachersCsv(county, teachers)), R"("})");
  HttpReply first = Send(http::verb::post, "/v1/rosters:import", hr, teachers_body,
                         {{"Idempotency-Key", "http-teachers-1"}});
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_TRUE(JsonTo(first.body, &imported));
  EXPECT_EQ(imported.created(), 2);
  HttpReply replay = Send(http::verb::post, "/v1/rosters:import", hr, teachers_body,
                          {{"Idempotency-Key", "http-teachers-1"}});
  EXPECT_EQ(replay.status, 200);
  EXPECT_EQ(replay.body, first.body);
  HttpReply resent = Send(http::verb::post, "/v1/rosters:import", hr, teachers_body,
                          {{"Idempotency-Key", "http-teachers-2"}});
  ASSERT_TRUE(JsonTo(resent.body, &imported));
  EXPECT_EQ(imported.created(), 0);
  EXPECT_EQ(imported.unchanged(), 2);

  // The school's teachers, through the query string.
  reply = Send(http::verb::get, "/v1/counties/330784/schools", hr);
  pv1::ListSchoolsResponse listed_schools;
  ASSERT_TRUE(JsonTo(reply.body, &listed_schools));
  std::string first_school;
  for (const pv1::School& s : listed_schools.schools()) {
    if (s.school_code() == "3307840001") first_school = s.school_id();
  }
  ASSERT_FALSE(first_school.empty()) << reply.body;
  reply = Send(http::verb::get,
               absl::StrCat("/v1/counties/330784/teachers?schoolId=", first_school, "&pageSize=10"),
               hr);
  ASSERT_EQ(reply.status, 200) << reply.body;
  pv1::ListTeachersResponse listed;
  ASSERT_TRUE(JsonTo(reply.body, &listed));
  ASSERT_EQ(listed.teachers_size(), 1);
  const std::string zhou = listed.teachers(0).teacher_id();
  EXPECT_EQ(listed.teachers(0).name(), "周敏");

  ExpectZhousGrowthFileOverJson(zhou);
}

TEST_F(HttpStoriesTest, TrainingStoryOverJsonWithTheCsvReport) {
  County county;
  ImportCounty(platform(), "330726", &county);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(AwaitTrainingKnows(platform(), county));
  const std::string a = county.teacher_ids.at("N330726-1");
  const std::string b = county.teacher_ids.at("N330726-2");
  const std::string c = county.teacher_ids.at("N330726-3");
  const Principal hr = HrP(common::v1::ROLE_COUNTY_HR, "330726");
  const Principal centre = CentreP("P330726");

  std::string course_id;
  ASSERT_NO_FATAL_FAILURE(CreateAndPublishCourseOverJson(centre, a, &course_id));

  ASSERT_NO_FATAL_FAILURE(ConfirmCompletionsOverJson(centre, course_id, a, b));

  HttpReply reply;
  // A teacher logs training with evidence; another reads a summary with nothing credited.
  reply = Send(http::verb::post, "/v1/teachers/" + a + "/training-records", TeacherP(a),
               R"({"activity":"TRAINING_ACTIVITY_DEGREE_STUDY","title":"教育硕士课程",
                   "level":"TRAINING_LEVEL_PROVINCE","mode":"TRAINING_MODE_ONLINE","hours":320,
                   "completedOn":"2025-07-01","evidence":{"description":"成绩单",
                   "fileRef":"uploads/transcript.pdf"}})",
               {{"Idempotency-Key", "http-log-a"}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  pb::Struct record = ParseJson(reply.body);
  EXPECT_EQ(Member(record, "record.state")->string_value(),
            "TRAINING_RECORD_STATE_AWAITING_REVIEW");
  const std::string record_id = Member(record, "record.recordId")->string_value();
  reply = Send(http::verb::get, "/v1/teachers/" + c + "/training-summary", TeacherP(c));
  ASSERT_EQ(reply.status, 200) << reply.body;
  pb::Struct nothing = ParseJson(reply.body);
  ASSERT_NE(Member(nothing, "summary.countedHours"), nullptr) << "0 hours is shown: " << reply.body;
  EXPECT_EQ(Member(nothing, "summary.countedHours")->number_value(), 0);
  EXPECT_EQ(Member(nothing, "summary.requiredHours")->number_value(), 360);
  EXPECT_EQ(Member(nothing, "summary.status")->string_value(), "TRAINING_STATUS_BEHIND");

  reply = Send(http::verb::post, "/v1/training-records/" + record_id + ":review", hr,
               R"({"decision":"REVIEW_DECISION_APPROVE"})", {{"Idempotency-Key", "http-review-a"}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(Member(ParseJson(reply.body), "record.state")->string_value(),
            "TRAINING_RECORD_STATE_CREDITED");
  reply = Send(http::verb::get, "/v1/teachers/" + a + "/training-summary", TeacherP(a));
  pb::Struct done = ParseJson(reply.body);
  EXPECT_EQ(Member(done, "summary.countedHours")->number_value(), 360);
  EXPECT_EQ(Member(done, "summary.status")->string_value(), "TRAINING_STATUS_COMPLETE");

  ExpectComplianceReportJsonAndCsv(hr, county, b, c);
}

// ---- Every error class of issue #7.

// HR's rotation story over JSON: propose (the personnel relation moves), approve by HR and the
// receiving school, start; the report counts it (also as CSV); the growth file shows the move.
TEST_F(HttpStoriesTest, RotationStoryOverJson) {
  County county;
  ImportCounty(platform(), "330728", &county);
  ASSERT_FALSE(HasFatalFailure());
  const Principal hr = HrP(common::v1::ROLE_COUNTY_HR, "330728");
  const std::string a = county.teacher_ids.at("N330728-1");
  const std::string urban = county.school_ids.at("3307280001");
  const std::string rural = county.school_ids.at("3307280002");
  // The rotation service learns the teachers from the profile service's events: all three have
  // been at their school since 2015-09-01.
  HttpReply reply;
  ASSERT_TRUE(Eventually(
      [&] {
        reply =
            Send(http::verb::get,
                 "/v1/counties/330728/rotation-eligibility?schoolYear=2025&eligibleOnly=true", hr);
        const pb::Struct body = ParseJson(reply.body);
        const pb::Value* n = Member(body, "eligible");
        // int64 fields are JSON strings (proto3 JSON).
        return reply.status == 200 && n != nullptr && n->string_value() == "3";
      },
      absl::Seconds(15)))
      << reply.body;

  reply = Send(http::verb::post, "/v1/rotations", SchoolAdminP(urban),
               absl::StrCat(R"({"teacherId":")", a, R"(","receivingSchoolId":")", rural,
                            R"(","form":"ROTATION_FORM_REGULAR_TRANSFER","relationMoves":true,)",
                            R"("startDate":"2025-09-01","plannedEndDate":"2027-08-31"})"),
               {{"Idempotency-Key", "http-rotation-1"}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  const std::string id = Member(ParseJson(reply.body), "rotation.rotationId")->string_value();
  reply = Send(http::verb::post, "/v1/rotations/" + id + ":approve", hr, "{}",
               {{"Idempotency-Key", "http-approve-hr"}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(Member(ParseJson(reply.body), "rotation.state")->string_value(),
            "ROTATION_STATE_PROPOSED");
  reply = Send(http::verb::post, "/v1/rotations/" + id + ":approve", SchoolAdminP(rural), "{}",
               {{"Idempotency-Key", "http-approve-rc"}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(Member(ParseJson(reply.body), "rotation.state")->string_value(),
            "ROTATION_STATE_APPROVED");
  // Completing an approved rotation is refused, naming both states.
  reply = Send(http::verb::post, "/v1/rotations/" + id + ":complete", hr, "{}",
               {{"Idempotency-Key", "http-complete-early"}});
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_THAT(reply.body, HasSubstr("ROTATION_STATE_APPROVED"));
  reply = Send(http::verb::post, "/v1/rotations/" + id + ":start", hr, "{}",
               {{"Idempotency-Key", "http-start"}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(Member(ParseJson(reply.body), "rotation.state")->string_value(),
            "ROTATION_STATE_STARTED");

  reply = Send(http::verb::get, "/v1/counties/330728/rotation-compliance?schoolYear=2025-2026", hr);
  ASSERT_EQ(reply.status, 200) << reply.body;
  pb::Struct report = ParseJson(reply.body);
  EXPECT_EQ(Member(report, "county.counting")->string_value(), "1") << reply.body;
  EXPECT_EQ(Member(report, "county.required")->string_value(), "1") << reply.body;
  reply = Send(http::verb::get, "/v1/counties/330728/rotation-compliance?schoolYear=2025", hr, "",
               {{"Accept", "text/csv"}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_THAT(reply.body, StartsWith("\xEF\xBB\xBF"));
  EXPECT_THAT(reply.body, HasSubstr("符合交流条件人数"));

  // The teacher reads their own rotations; the growth file shows the move to the rural school.
  reply = Send(http::verb::get, "/v1/teachers/" + a + "/rotations", TeacherP(a));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_THAT(reply.body, HasSubstr(id));
  ASSERT_TRUE(Eventually(
      [&] {
        reply = Send(http::verb::get, "/v1/teachers/" + a + "/growth-file", hr);
        const pb::Struct body = ParseJson(reply.body);
        const pb::Value* served = Member(body, "growthFile.ruralOrWeakService.served");
        return reply.status == 200 && served != nullptr && served->bool_value() &&
               absl::StrContains(reply.body, "rotation.started");
      },
      absl::Seconds(15)))
      << reply.body;
}

// HR's mentorship story over JSON: the new teachers lacking mentors, the service's suggested
// pairings, accepted in one batch; the mentee and mentor log activities and the mentee reads
// their progress; a teacher outside the pairing sees nothing; the growth files show the pairing.
TEST_F(HttpStoriesTest, MentorshipStoryOverJson) {
  County county;
  ImportCounty(platform(), "330729", &county, MentorshipTeachers("330729"));
  ASSERT_FALSE(HasFatalFailure());
  const Principal hr = HrP(common::v1::ROLE_COUNTY_HR, "330729");
  const std::string mentor = county.teacher_ids.at("N330729-1");
  const std::string mentee = county.teacher_ids.at("N330729-3");
  const std::string classmate = county.teacher_ids.at("N330729-4");
  HttpReply reply;
  // The service learns teachers and titles from the profile service's events: three new
  // teachers lack both mentors, and each school has a qualified mentor for its own.
  pb::Struct body;
  ASSERT_TRUE(Eventually(
      [&] {
        reply = Send(http::verb::get,
                     "/v1/counties/330729/pairing-suggestions?role=PAIRING_ROLE_TEACHING"
                     "&startDate=2025-09-01",
                     hr);
        body = ParseJson(reply.body);
        const pb::Value* s = Member(body, "suggestions");
        return reply.status == 200 && s != nullptr && s->list_value().values_size() == 3;
      },
      absl::Seconds(15)))
      << reply.body;
  reply = Send(http::verb::get, "/v1/counties/330729/unpaired-teachers", hr);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(Member(ParseJson(reply.body), "lackingTeaching")->string_value(), "3") << reply.body;
  EXPECT_EQ(Member(ParseJson(reply.body), "lackingSecond")->string_value(), "3") << reply.body;

  ASSERT_NO_FATAL_FAILURE(AcceptEverySuggestion(hr, body));

  // The mentee finds their pairing, logs two observed lessons; the mentor logs a coached one.
  reply = Send(http::verb::get, "/v1/teachers/" + mentee + "/pairings", TeacherP(mentee));
  ASSERT_EQ(reply.status, 200) << reply.body;
  const pb::Struct listed = ParseJson(reply.body);
  const pb::Value* pairings = Member(listed, "pairings");
  ASSERT_TRUE(pairings != nullptr && pairings->list_value().values_size() == 1) << reply.body;
  const pb::Struct& pairing = pairings->list_value().values(0).struct_value();
  const std::string id = Member(pairing, "pairingId")->string_value();
  EXPECT_EQ(Member(pairing, "mentorId")->string_value(), mentor);
  for (const char* day : {"2025-09-20", "2025-10-10"}) {
    reply = Send(http::verb::post, "/v1/pairings/" + id + "/activities", TeacherP(mentee),
                 absl::StrCat(R"({"activity":{"kind":"ACTIVITY_KIND_LESSON_OBSERVED","date":")",
                              day, R"("}})"),
                 {{"Idempotency-Key", absl::StrCat("http-observed-", day)}});
    ASSERT_EQ(reply.status, 200) << reply.body;
  }
  reply = Send(http::verb::post, "/v1/pairings/" + id + "/activities", TeacherP(mentor),
               R"({"activity":{"kind":"ACTIVITY_KIND_LESSON_COACHED","date":"2025-10-11"}})",
               {{"Idempotency-Key", "http-coached-1"}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  // Another new teacher of the school may neither log on it nor read it.
  reply = Send(http::verb::post, "/v1/pairings/" + id + "/activities", TeacherP(classmate),
               R"({"activity":{"kind":"ACTIVITY_KIND_LESSON_OBSERVED","date":"2025-10-11"}})",
               {{"Idempotency-Key", "http-intruder"}});
  EXPECT_EQ(reply.status, 403) << reply.body;
  reply = Send(http::verb::get, "/v1/pairings/" + id, TeacherP(classmate));
  EXPECT_EQ(reply.status, 403) << reply.body;

  ASSERT_NO_FATAL_FAILURE(ExpectMenteeProgress(id, mentee));

  // Both growth files show the pairing.
  for (const std::string& teacher : {mentee, mentor}) {
    ASSERT_TRUE(Eventually(
        [&] {
          reply = Send(http::verb::get, "/v1/teachers/" + teacher + "/growth-file", hr);
          return reply.status == 200 && absl::StrContains(reply.body, "mentorship.pairing_created");
        },
        absl::Seconds(15)))
        << teacher << ": " << reply.body;
  }
}

TEST_F(HttpStoriesTest, EveryErrorClassHasItsStatusAndBody) {
  County county;
  ImportCounty(platform(), "330727", &county);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(AwaitTrainingKnows(platform(), county));
  const std::string a = county.teacher_ids.at("N330727-1");
  const std::string b = county.teacher_ids.at("N330727-2");
  const Principal hr = HrP(common::v1::ROLE_COUNTY_HR, "330727");

  // 400 INVALID_ARGUMENT, naming the fields and what is allowed; nothing is written.
  HttpReply reply = Send(http::verb::post, "/v1/teachers/" + a + "/training-records", TeacherP(a),
                         R"({"activity":"TRAINING_ACTIVITY_CONFERENCE","hours":-2,
                             "completedOn":"2030-01-01"})");
  EXPECT_EQ(reply.status, 400);
  pb::Struct bad = ExpectErrorBody(reply, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(reply.body, HasSubstr(R"("field":"hours")"));
  EXPECT_THAT(reply.body, HasSubstr(R"("field":"completed_on")"));
  EXPECT_THAT(reply.body, HasSubstr(R"("field":"evidence.description")"));
  reply = Send(http::verb::get, "/v1/teachers/" + a + "/training-records", TeacherP(a));
  EXPECT_EQ(ParseJson(reply.body).fields().count("records") == 0 ||
                Member(ParseJson(reply.body), "records")->list_value().values_size() == 0,
            true)
      << reply.body;
  // 400 for JSON that does not parse, naming where.
  reply = Send(http::verb::post, "/v1/teachers/" + a + "/training-records", TeacherP(a),
               "{\"hours\": 2,\n \"title\" \"x\"}");
  EXPECT_EQ(reply.status, 400);
  ExpectErrorBody(reply, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(reply.body, HasSubstr("column")) << reply.body;
  // 400 FAILED_PRECONDITION: reviewing a record twice.
  reply = Send(http::verb::post, "/v1/teachers/" + b + "/training-records", TeacherP(b),
               R"({"activity":"TRAINING_ACTIVITY_PUBLIC_LESSON","title":"县级公开课",
                   "level":"TRAINING_LEVEL_COUNTY","mode":"TRAINING_MODE_SCHOOL_BASED","hours":4,
                   "completedOn":"2025-10-09","evidence":{"description":"听课记录",
                   "fileRef":"uploads/lesson.pdf"}})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const std::string record_id = Member(ParseJson(reply.body), "record.recordId")->string_value();
  const std::string review = R"({"decision":"REVIEW_DECISION_APPROVE"})";
  reply = Send(http::verb::post, "/v1/training-records/" + record_id + ":review", hr, review);
  ASSERT_EQ(reply.status, 200) << reply.body;
  reply = Send(http::verb::post, "/v1/training-records/" + record_id + ":review", hr, review);
  EXPECT_EQ(reply.status, 400) << reply.body;
  ExpectErrorBody(reply, grpc::StatusCode::FAILED_PRECONDITION);

  ExpectUnauthenticatedIs401(a);

  // 403: by the gateway (role) and by the service (scope).
  reply =
      Send(http::verb::post, "/v1/training-records/" + record_id + ":review", TeacherP(b), review);
  EXPECT_EQ(reply.status, 403);
  ExpectErrorBody(reply, grpc::StatusCode::PERMISSION_DENIED);
  reply = Send(http::verb::get, "/v1/teachers/" + b + "/training-summary", TeacherP(a));
  EXPECT_EQ(reply.status, 403);
  ExpectErrorBody(reply, grpc::StatusCode::PERMISSION_DENIED);
  reply = Send(http::verb::get, "/v1/counties/330727/training-compliance",
               HrP(common::v1::ROLE_COUNTY_HR, "330781"));
  EXPECT_EQ(reply.status, 403);
  reply = Send(http::verb::get, "/v1/teachers/" + b + "/growth-file",
               SchoolAdminP(county.school_ids.at("3307270002")));
  EXPECT_EQ(reply.status, 403);

  ExpectNotFoundConflictAndMethodErrors(hr, a);

  // 413 over 8 MiB (announced; the gateway answers before reading it).
  {
    HttpClient raw(platform().gateway().http_port);
    reply = raw.SendRaw(absl::StrCat(
        "POST /v1/rosters:import HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Authorization: Bearer ",
        platform().Token(hr), "\r\nContent-Length: ", (8 << 20) + 1, "\r\n\r\n"));
    EXPECT_EQ(reply.status, 413);
  }

  ExpectSlowImportIs504();
}

TEST_F(HttpStoriesTest, RateLimitIs429AndAMissingBackendIs501) {
  // A gateway of its own: one call per principal, then 100 s to wait; no training backend.
  auto gateway = platform().StartGateway(
      absl::StrCat("shidang.profile.v1.ProfileService=", platform().profile().address()),
      {"--rate_per_second=0.01", "--rate_burst=1"});
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  HttpClient client(gateway->http_port);
  const Headers auth = {
      {"Authorization", "Bearer " + platform().Token(HrP(common::v1::ROLE_COUNTY_HR, "330799"))}};
  HttpReply reply = client.Send(http::verb::get, "/v1/counties/330799", "", auth);
  EXPECT_EQ(reply.status, 404) << "the first call passes: " << reply.body;
  reply = client.Send(http::verb::get, "/v1/counties/330799", "", auth);
  EXPECT_EQ(reply.status, 429) << reply.body;
  int retry_after = 0;
  EXPECT_TRUE(absl::SimpleAtoi(reply.Header("Retry-After"), &retry_after))
      << "Retry-After: " << reply.Header("Retry-After");
  EXPECT_GE(retry_after, 1);
  ExpectErrorBody(reply, grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Another principal has a bucket of its own.
  const Headers other = {
      {"Authorization", "Bearer " + platform().Token(HrP(common::v1::ROLE_COUNTY_HR, "330798"))}};
  EXPECT_EQ(client.Send(http::verb::get, "/v1/counties/330798", "", other).status, 404);
  // Over gRPC too, with the hint in the trailers.
  auto stub = pv1::ProfileService::NewStub(Channel(gateway->grpc_address()));
  pv1::GetCountyRequest req;
  req.set_county_id("330799");
  pv1::GetCountyResponse resp;
  std::unique_ptr<grpc::ClientContext> context =
      BearerContext(platform().Token(HrP(common::v1::ROLE_COUNTY_HR, "330799")));
  EXPECT_EQ(stub->GetCounty(context.get(), req, &resp).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(context->GetServerTrailingMetadata().count("retry-after"), 1u);

  // A route whose service has no backend in this deployment: 501.
  const Headers teacher = {{"Authorization", "Bearer " + platform().Token(TeacherP("T-501"))}};
  reply = client.Send(http::verb::get, "/v1/courses/C-any", "", teacher);
  EXPECT_EQ(reply.status, 501) << reply.body;
  ExpectErrorBody(reply, grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(HttpStoriesTest, ABackendDownIs503) {
  auto training = platform().StartExtraTraining();
  ASSERT_TRUE(training.ok()) << training.status();
  auto gateway = platform().StartGateway(
      absl::StrCat("shidang.profile.v1.ProfileService=", platform().profile().address(),
                   ";shidang.training.v1.TrainingService=", (*training)->address()),
      {"--rate_per_second=0"});
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  HttpClient client(gateway->http_port);
  const Headers teacher = {{"Authorization", "Bearer " + platform().Token(TeacherP("T-503"))}};
  // Up: the service answers (no such course).
  EXPECT_TRUE(Eventually([&] {
    return client.Send(http::verb::get, "/v1/courses/C-any", "", teacher).status == 404;
  }));
  (*training)->Kill(SIGKILL);
  (*training)->Wait();
  HttpReply reply = client.Send(http::verb::get, "/v1/courses/C-any", "", teacher);
  EXPECT_EQ(reply.status, 503) << reply.body;
  ExpectErrorBody(reply, grpc::StatusCode::UNAVAILABLE);
  reply = client.Send(http::verb::post, "/v1/courses/C-any/enrollments", R"({"teacherId":"T-503"})",
                      teacher);
  EXPECT_EQ(reply.status, 503) << reply.body;
  // The other service still answers, and readiness says what is down.
  EXPECT_EQ(client.Send(http::verb::get, "/v1/counties/330799", "", teacher).status, 404);
  EXPECT_TRUE(Eventually([&] { return client.Send(http::verb::get, "/readyz").status == 503; },
                         absl::Seconds(10)));
  // Over gRPC: UNAVAILABLE.
  auto stub = tv1::TrainingService::NewStub(Channel(gateway->grpc_address()));
  tv1::GetCourseRequest req;
  req.set_course_id("C-any");
  tv1::GetCourseResponse resp;
  std::unique_ptr<grpc::ClientContext> context = BearerContext(platform().Token(TeacherP("T-503")));
  EXPECT_EQ(stub->GetCourse(context.get(), req, &resp).error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace shidang::e2e
