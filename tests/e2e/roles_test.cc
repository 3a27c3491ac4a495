// Who may call what, through the gateway: a role x method table WRITTEN BY HAND here from what
// DOMAIN.md says each user does (not derived from the proto options it checks), every cell
// tested over gRPC and over HTTP/JSON.
//
// A refused cell gets PERMISSION_DENIED (HTTP 403) from the gateway, naming the role and the
// method, and the backend never sees the call. An allowed cell gets past the gateway: whatever
// the service then answers (the requests are empty, so mostly INVALID_ARGUMENT, NOT_FOUND or a
// scope refusal), the service logged the call's request id (services log one line per call with
// the x-request-id the gateway passed on). That tells the gateway's refusal from the service's
// scope refusal without reading either's message format.

#include <grpcpp/generic/generic_stub.h>

#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/platform.h"

namespace shidang::e2e {
namespace {

namespace http = boost::beast::http;
using common::v1::Role;

// The column order of the table.
constexpr Role kRoles[] = {common::v1::ROLE_TEACHER,     common::v1::ROLE_SCHOOL_ADMIN,
                           common::v1::ROLE_COUNTY_HR,   common::v1::ROLE_CITY_HR,
                           common::v1::ROLE_PROVINCE_HR, common::v1::ROLE_TRAINING_CENTER,
                           common::v1::ROLE_ADMIN,       common::v1::ROLE_SERVICE};

struct Cell {
  const char* service;  // "profile", "training", "rotation" or "mentorship"
  const char* method;
  http::verb verb;
  // The HTTP route's path template (the HTTP front names a refused method by its route).
  const char* route;
  // One character per role of kRoles: 'x' may call, '.' may not.
  const char* allowed;
};

constexpr char kProfile[] = "profile";
constexpr char kTraining[] = "training";
constexpr char kRotation[] = "rotation";
constexpr char kMentorship[] = "mentorship";

// Columns:                          teacher, school_admin, county_hr, city_hr, province_hr,
//                                   training_center, admin, service
// Notes on choices that are not obvious from DOMAIN.md (see the report of this test's author):
// - admin may call everything (operators); service accounts only what another service of ours
//   reads or files into the growth file (profile reads, AddTimelineEntry), no training method.
// - Creating a county is for admin and province HR; city HR manages the counties under it but
//   does not create them.
// - School admins "see their own school": they read, enrol their teachers and withdraw them,
//   list and report on their school, and add timeline entries (appraisals are a school's);
//   they never create or change teachers, import rosters, review or reverse training.
// - Training centres read counties, courses and the policy; never teachers' files or ledgers.
const Cell kTable[] = {
    // ProfileService
    {kProfile, "CreateCounty", http::verb::post, "/v1/counties", "....x.x."},
    {kProfile, "GetCounty", http::verb::get, "/v1/counties/{county_id}", "xxxxxxxx"},
    {kProfile, "CreateSchool", http::verb::post, "/v1/counties/{county_id}/schools", "..xxx.x."},
    {kProfile, "GetSchool", http::verb::get, "/v1/schools/{school_id}", "xxxxx.xx"},
    {kProfile, "ListSchools", http::verb::get, "/v1/counties/{county_id}/schools", ".xxxx.xx"},
    {kProfile, "CreateTeacher", http::verb::post, "/v1/counties/{county_id}/teachers", "..xxx.x."},
    {kProfile, "GetTeacher", http::verb::get, "/v1/teachers/{teacher_id}", "xxxxx.xx"},
    {kProfile, "UpdateTeacher", http::verb::patch, "/v1/teachers/{teacher_id}", "..xxx.x."},
    {kProfile, "ListTeachers", http::verb::get, "/v1/counties/{county_id}/teachers", ".xxxx.xx"},
    {kProfile, "AddTimelineEntry", http::verb::post, "/v1/teachers/{teacher_id}/timeline",
     ".xxxx.xx"},
    {kProfile, "ListTimeline", http::verb::get, "/v1/teachers/{teacher_id}/timeline", "xxxxx.xx"},
    {kProfile, "MoveTeacher", http::verb::post, "/v1/teachers/{teacher_id}:move", "..xxx.x."},
    {kProfile, "TransferTeacher", http::verb::post, "/v1/teachers/{teacher_id}:transfer",
     "..xxx.x."},
    {kProfile, "GetGrowthFile", http::verb::get, "/v1/teachers/{teacher_id}/growth-file",
     "xxxxx.x."},
    {kProfile, "ImportRoster", http::verb::post, "/v1/rosters:import", "..xxx.x."},
    {kProfile, "CheckRoster", http::verb::post, "/v1/rosters:check", "..xxx.x."},
    // The audit trail of unmasked ID-card reads: HR of the region and admins, no service.
    {kProfile, "ListIdCardReads", http::verb::get, "/v1/counties/{county_id}/id-card-reads",
     "..xxx.x."},
    // TrainingService
    {kTraining, "RegisterCourse", http::verb::post, "/v1/courses", ".....xx."},
    {kTraining, "GetCourse", http::verb::get, "/v1/courses/{course_id}", "xxxxxxx."},
    {kTraining, "ListCourses", http::verb::get, "/v1/courses", "xxxxxxx."},
    {kTraining, "PublishCourse", http::verb::post, "/v1/courses/{course_id}:publish", ".....xx."},
    {kTraining, "CloseCourse", http::verb::post, "/v1/courses/{course_id}:close", ".....xx."},
    {kTraining, "Enroll", http::verb::post, "/v1/courses/{course_id}/enrollments", "xx....x."},
    {kTraining, "Withdraw", http::verb::post,
     "/v1/courses/{course_id}/enrollments/{teacher_id}:withdraw", "xx....x."},
    {kTraining, "RecordCompletions", http::verb::post, "/v1/courses/{course_id}/completions",
     ".....xx."},
    {kTraining, "LogTraining", http::verb::post, "/v1/teachers/{teacher_id}/training-records",
     "x.....x."},
    {kTraining, "ReviewTrainingRecord", http::verb::post, "/v1/training-records/{record_id}:review",
     "..xxx.x."},
    {kTraining, "ListTrainingRecords", http::verb::get,
     "/v1/teachers/{teacher_id}/training-records", "xxxxx.x."},
    {kTraining, "ReverseEntry", http::verb::post,
     "/v1/teachers/{teacher_id}/ledger/{entry_id}:reverse", "..xxx.x."},
    {kTraining, "ListLedger", http::verb::get, "/v1/teachers/{teacher_id}/ledger", "xxxxx.x."},
    {kTraining, "SetTrainingPolicy", http::verb::post, "/v1/training-policies", "..xxx.x."},
    {kTraining, "GetTrainingPolicy", http::verb::get, "/v1/counties/{county_id}/training-policy",
     "xxxxxxx."},
    {kTraining, "GetTrainingSummary", http::verb::get, "/v1/teachers/{teacher_id}/training-summary",
     "xxxxx.x."},
    {kTraining, "GetComplianceReport", http::verb::get,
     "/v1/counties/{county_id}/training-compliance", ".xxxx.x."},
    // HR's review queue: who reviews (HR of the region, admin), and a school admin for their own
    // school (the service checks which school).
    {kTraining, "ListPendingSelfReports", http::verb::get,
     "/v1/counties/{county_id}/pending-self-reports", ".xxxx.x."},
    // RotationService. Schools propose (and, where the personnel relation moves, the receiving
    // school confirms, reject or withdraw); HR approves, starts, completes, records deferrals and
    // sets policy; teachers read their own rotations; training centres see nothing here.
    {kRotation, "ListEligible", http::verb::get, "/v1/counties/{county_id}/rotation-eligibility",
     ".xxxx.x."},
    {kRotation, "RecordDeferral", http::verb::post, "/v1/teachers/{teacher_id}/rotation-deferrals",
     "..xxx.x."},
    {kRotation, "EndDeferral", http::verb::post, "/v1/rotation-deferrals/{deferral_id}:end",
     "..xxx.x."},
    {kRotation, "CreateRotation", http::verb::post, "/v1/rotations", ".xxxx.x."},
    {kRotation, "ApproveRotation", http::verb::post, "/v1/rotations/{rotation_id}:approve",
     ".xxxx.x."},
    {kRotation, "RejectRotation", http::verb::post, "/v1/rotations/{rotation_id}:reject",
     ".xxxx.x."},
    {kRotation, "StartRotation", http::verb::post, "/v1/rotations/{rotation_id}:start", "..xxx.x."},
    {kRotation, "CompleteRotation", http::verb::post, "/v1/rotations/{rotation_id}:complete",
     "..xxx.x."},
    {kRotation, "CancelRotation", http::verb::post, "/v1/rotations/{rotation_id}:cancel",
     ".xxxx.x."},
    {kRotation, "GetRotation", http::verb::get, "/v1/rotations/{rotation_id}", "xxxxx.x."},
    {kRotation, "ListRotations", http::verb::get, "/v1/counties/{county_id}/rotations", ".xxxx.x."},
    {kRotation, "ListTeacherRotations", http::verb::get, "/v1/teachers/{teacher_id}/rotations",
     "xxxxx.x."},
    {kRotation, "GetRotationCompliance", http::verb::get,
     "/v1/counties/{county_id}/rotation-compliance", ".xxxx.x."},
    {kRotation, "SuggestCandidates", http::verb::get,
     "/v1/counties/{county_id}/rotation-candidates", ".xxxx.x."},
    {kRotation, "SetRotationPolicy", http::verb::post, "/v1/rotation-policies", "..xxx.x."},
    {kRotation, "GetRotationPolicy", http::verb::get, "/v1/counties/{county_id}/rotation-policy",
     "xxxxx.x."},
    // MentorshipService. School admins pair TEACHING mentors in their school (the service checks
    // the role and school); HR pairs any role; mentors and mentees read their own pairings and
    // log their own activities (no one logs for them but admin); training centres see nothing.
    {kMentorship, "CreatePairing", http::verb::post, "/v1/pairings", ".xxxx.x."},
    {kMentorship, "CreatePairings", http::verb::post, "/v1/pairings:batchCreate", ".xxxx.x."},
    {kMentorship, "EndPairing", http::verb::post, "/v1/pairings/{pairing_id}:end", ".xxxx.x."},
    {kMentorship, "GetPairing", http::verb::get, "/v1/pairings/{pairing_id}", "xxxxx.x."},
    {kMentorship, "ListPairings", http::verb::get, "/v1/counties/{county_id}/pairings", ".xxxx.x."},
    {kMentorship, "ListTeacherPairings", http::verb::get, "/v1/teachers/{teacher_id}/pairings",
     "xxxxx.x."},
    {kMentorship, "LogActivity", http::verb::post, "/v1/pairings/{pairing_id}/activities",
     "x.....x."},
    {kMentorship, "GetProgress", http::verb::get, "/v1/pairings/{pairing_id}/progress", "xxxxx.x."},
    {kMentorship, "GetMenteeProgress", http::verb::get,
     "/v1/teachers/{mentee_id}/mentorship-progress", "xxxxx.x."},
    {kMentorship, "ListUnpaired", http::verb::get, "/v1/counties/{county_id}/unpaired-teachers",
     ".xxxx.x."},
    {kMentorship, "SuggestMentors", http::verb::get, "/v1/teachers/{mentee_id}/mentor-suggestions",
     ".xxxx.x."},
    {kMentorship, "SuggestPairings", http::verb::get,
     "/v1/counties/{county_id}/pairing-suggestions", ".xxxx.x."},
    {kMentorship, "SetMentorshipPolicy", http::verb::post, "/v1/mentorship-policies", "..xxx.x."},
    {kMentorship, "GetMentorshipPolicy", http::verb::get,
     "/v1/counties/{county_id}/mentorship-policy", "xxxxx.x."},
};

// The route with its fields filled with ids that exist nowhere.
std::string Target(const Cell& cell) {
  return absl::StrReplaceAll(cell.route, {{"{county_id}", "330799"},
                                          {"{school_id}", "S-none"},
                                          {"{teacher_id}", "T-none"},
                                          {"{course_id}", "C-none"},
                                          {"{record_id}", "R-none"},
                                          {"{entry_id}", "E-none"},
                                          {"{rotation_id}", "RT330799-none"},
                                          {"{deferral_id}", "DF330799-none"},
                                          {"{pairing_id}", "MP330799-none"},
                                          {"{mentee_id}", "T-none"}});
}

std::string FullMethod(const Cell& cell) {
  if (cell.service == kProfile) {
    return absl::StrCat("/shidang.profile.v1.ProfileService/", cell.method);
  }
  if (cell.service == kRotation) {
    return absl::StrCat("/shidang.rotation.v1.RotationService/", cell.method);
  }
  if (cell.service == kMentorship) {
    return absl::StrCat("/shidang.mentorship.v1.MentorshipService/", cell.method);
  }
  return absl::StrCat("/shidang.training.v1.TrainingService/", cell.method);
}

// A request id per cell and front ([A-Za-z0-9.-], as services accept it).
std::string RequestId(const std::string& front, const Cell& cell, Role role) {
  return absl::StrReplaceAll(absl::StrCat("e2e-roles-", front, "-", cell.method, "-",
                                          RoleName(role), "-", absl::ToUnixMicros(absl::Now())),
                             {{"_", "."}});
}

struct Outcome {
  const Cell* cell;
  Role role;
  bool allowed;
  std::string request_id;
  int code = 0;         // gRPC code, or HTTP status
  std::string message;  // error message or HTTP body
};

class RoleTableTest : public PlatformTest {
 protected:
  // What the two services logged so far.
  std::string BackendLogs() {
    return platform().profile().StderrText() + platform().training().StderrText() +
           platform().rotation().StderrText() + platform().mentorship().StderrText();
  }

  // Checks every outcome against the table.
  void Check(const std::vector<Outcome>& outcomes, bool over_http) {
    // Allowed calls were logged by their service (give the last lines a moment to land).
    Eventually(
        [&] {
          const std::string logs = BackendLogs();
          for (const Outcome& o : outcomes) {
            if (o.allowed && !absl::StrContains(logs, "request_id=" + o.request_id)) return false;
          }
          return true;
        },
        absl::Seconds(5));
    const std::string logs = BackendLogs();
    for (const Outcome& o : outcomes) {
      const std::string role = RoleName(o.role);
      const bool reached = absl::StrContains(logs, "request_id=" + o.request_id);
      SCOPED_TRACE(absl::StrCat(over_http ? "HTTP " : "gRPC ", o.cell->method, " as ", role, " -> ",
                                o.code, " ", o.message));
      if (o.allowed) {
        EXPECT_TRUE(reached) << "an allowed call never reached the service";
        if (over_http) {
          EXPECT_NE(o.code, 401);
        } else {
          EXPECT_NE(o.code, static_cast<int>(grpc::StatusCode::UNAUTHENTICATED));
        }
      } else {
        EXPECT_FALSE(reached) << "a refused call reached the service";
        if (over_http) {
          EXPECT_EQ(o.code, 403);
          google::protobuf::Struct body = ParseJson(o.message);
          const google::protobuf::Value* message = Member(body, "message");
          ASSERT_NE(message, nullptr);
          EXPECT_THAT(message->string_value(), ::testing::HasSubstr(role));
          // It names the method by its RPC or by its route.
          EXPECT_THAT(message->string_value(),
                      ::testing::AnyOf(::testing::HasSubstr(o.cell->method),
                                       ::testing::HasSubstr(o.cell->route)));
          EXPECT_NE(Member(body, "code"), nullptr);
          EXPECT_NE(Member(body, "details"), nullptr);
        } else {
          EXPECT_EQ(o.code, static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
          EXPECT_THAT(o.message, ::testing::HasSubstr(role));
          EXPECT_THAT(o.message, ::testing::HasSubstr(o.cell->method));
        }
      }
    }
  }
};

TEST_F(RoleTableTest, TheTableNamesEveryPublicMethodOnce) {
  std::set<std::string> in_table;
  for (const Cell& cell : kTable) {
    EXPECT_TRUE(in_table.insert(FullMethod(cell)).second) << "twice: " << cell.method;
    EXPECT_EQ(std::string(cell.allowed).size(), std::size(kRoles)) << cell.method;
  }
  std::set<std::string> declared;
  for (const char* name :
       {"shidang.profile.v1.ProfileService", "shidang.training.v1.TrainingService",
        "shidang.rotation.v1.RotationService", "shidang.mentorship.v1.MentorshipService"}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      declared.insert(absl::StrCat("/", service->full_name(), "/", service->method(i)->name()));
    }
  }
  EXPECT_EQ(in_table, declared);
}

TEST_F(RoleTableTest, EveryCellOverGrpc) {
  grpc::GenericStub stub(platform().GatewayChannel());
  std::vector<Outcome> outcomes;
  for (const Cell& cell : kTable) {
    for (size_t r = 0; r < std::size(kRoles); ++r) {
      Outcome o{&cell, kRoles[r], cell.allowed[r] == 'x', RequestId("grpc", cell, kRoles[r]),
                0,     ""};
      std::unique_ptr<grpc::ClientContext> context =
          BearerContext(platform().Token(AnyOf(kRoles[r])), o.request_id, absl::Seconds(10));
      grpc::Slice empty("");
      grpc::ByteBuffer request(&empty, 1);
      grpc::ByteBuffer response;
      absl::Notification done;
      grpc::Status status;
      stub.UnaryCall(context.get(), FullMethod(cell), grpc::StubOptions(), &request, &response,
                     [&](grpc::Status s) {
                       status = std::move(s);
                       done.Notify();
                     });
      done.WaitForNotification();
      o.code = static_cast<int>(status.error_code());
      o.message = status.error_message();
      outcomes.push_back(std::move(o));
    }
  }
  Check(outcomes, /*over_http=*/false);
}

TEST_F(RoleTableTest, EveryCellOverHttp) {
  HttpClient client(platform().gateway().http_port);
  std::vector<Outcome> outcomes;
  for (const Cell& cell : kTable) {
    for (size_t r = 0; r < std::size(kRoles); ++r) {
      Outcome o{&cell, kRoles[r], cell.allowed[r] == 'x', RequestId("http", cell, kRoles[r]),
                0,     ""};
      Headers headers = {{"Authorization", "Bearer " + platform().Token(AnyOf(kRoles[r]))},
                         {"X-Request-Id", o.request_id}};
      HttpReply reply =
          client.Send(cell.verb, Target(cell), cell.verb == http::verb::get ? "" : "{}", headers);
      o.code = reply.status;
      o.message = reply.body;
      outcomes.push_back(std::move(o));
    }
  }
  Check(outcomes, /*over_http=*/true);
}

}  // namespace
}  // namespace shidang::e2e
