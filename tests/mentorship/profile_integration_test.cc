// The mentorship service beside the real profile service on one redis-server: teachers, schools
// and their titles and ethics findings reach it through the profile service's events, and the
// profile service files a pairing's events into both teachers' growth files.

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/principal.h"
#include "services/profile/rules.h"
#include "shidang/common/v1/error.pb.h"
#include "shidang/mentorship/v1/mentorship.grpc.pb.h"
#include "shidang/profile/v1/profile.grpc.pb.h"
#include "tests/kit/files.h"
#include "tests/kit/principals.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/service_process.h"

namespace shidang::mentorship {
namespace {

using common::v1::Principal;
namespace pv1 = ::shidang::profile::v1;

constexpr char kCounty[] = "330723";
constexpr char kToday[] = "2025-10-15";

using testing::Who;

std::string IdCard(const std::string& birth_yyyymmdd, int serial) {
  std::string first17 = absl::StrCat(kCounty, birth_yyyymmdd, absl::StrFormat("%02d", serial), "2");
  return first17 + profile::IdCardCheckCharacter(first17);
}

// Whether a refusal names `rule` among its field violations.
bool NamesRule(const grpc::Status& s, const std::string& rule) {
  common::v1::RpcStatus rpc;
  rpc.ParseFromString(s.error_details());
  for (const google::protobuf::Any& any : rpc.details()) {
    common::v1::BadRequest bad;
    if (!any.UnpackTo(&bad)) continue;
    for (const auto& v : bad.field_violations()) {
      if (v.rule() == rule) return true;
    }
  }
  return false;
}

// Polls `done` every 50 ms for up to 15 s.
bool Eventually(const std::function<bool()>& done) {
  absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

class MentorshipWithProfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string key = keys_.path() + "/principal.key";
    testing::WriteFile(key, std::string(40, 'k'));
    testing::WriteFile(keys_.path() + "/data.key", std::string(48, 'd'));
    auto profile = testing::ServiceProcess::Start(
        SHIDANG_PROFILE_BINARY,
        {"--redis=" + redis_.address(), "--principal_key_file=" + key,
         "--data_key_file=" + keys_.path() + "/data.key", std::string("--today=") + kToday});
    ASSERT_TRUE(profile.ok()) << profile.status();
    profile_ = std::move(*profile);
    auto mentorship = testing::ServiceProcess::Start(
        SHIDANG_MENTORSHIP_BINARY, {"--redis=" + redis_.address(), "--principal_key_file=" + key,
                                    std::string("--today=") + kToday});
    ASSERT_TRUE(mentorship.ok()) << mentorship.status();
    mentorship_ = std::move(*mentorship);
    profile_stub_ = pv1::ProfileService::NewStub(
        grpc::CreateChannel(profile_->address(), grpc::InsecureChannelCredentials()));
    stub_ = v1::MentorshipService::NewStub(
        grpc::CreateChannel(mentorship_->address(), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (HasFailure()) {
      std::fprintf(stderr, "--- shidang-profile ---\n%s\n--- shidang-mentorship ---\n%s\n",
                   profile_ ? profile_->StderrText().c_str() : "",
                   mentorship_ ? mentorship_->StderrText().c_str() : "");
    }
  }

  template <typename Stub, typename Req, typename Resp>
  grpc::Status Call(Stub* stub,
                    grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                    const Principal& who, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    signer_.Attach(&ctx, who);
    return (stub->*method)(&ctx, req, resp);
  }

  void CreateCounty() {
    pv1::CreateCountyRequest county;
    county.set_county_id(kCounty);
    county.set_name("武义县");
    county.set_city_code("330700");
    county.set_city_name("金华市");
    county.set_province_code("330000");
    county.set_province_name("浙江省");
    county.set_request_id("county");
    pv1::CreateCountyResponse resp;
    grpc::Status s =
        Call(profile_stub_.get(), &pv1::ProfileService::Stub::CreateCounty, admin_, county, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  std::string CreateSchool(const std::string& name) {
    pv1::CreateSchoolRequest req;
    req.set_county_id(kCounty);
    req.set_name(name);
    req.set_stage(common::v1::STAGE_PRIMARY);
    req.set_ownership(pv1::SCHOOL_OWNERSHIP_PUBLIC);
    req.set_location(pv1::SCHOOL_LOCATION_URBAN);
    req.set_quality(pv1::SCHOOL_QUALITY_ORDINARY);
    req.set_kind(pv1::SCHOOL_KIND_REGULAR);
    req.set_compulsory_education(true);
    req.set_request_id(absl::StrCat("school-", name));
    pv1::CreateSchoolResponse resp;
    grpc::Status s =
        Call(profile_stub_.get(), &pv1::ProfileService::Stub::CreateSchool, hr_, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.school().school_id();
  }

  std::string CreateTeacher(const std::string& name, const std::string& hire,
                            const std::string& school, int serial) {
    pv1::CreateTeacherRequest req;
    req.set_county_id(kCounty);
    req.set_request_id(absl::StrCat("teacher-", serial));
    pv1::Teacher* t = req.mutable_teacher();
    t->set_name(name);
    t->set_sex(common::v1::SEX_FEMALE);
    t->set_birth_date("1985-03-10");
    t->set_id_card_number(IdCard("19850310", serial));
    t->set_hire_date(hire);
    t->set_school_id(school);
    t->set_school_joined_on(hire);
    t->set_stage(common::v1::STAGE_PRIMARY);
    t->add_subjects("数学");
    t->set_staffed(true);
    t->set_post_status(pv1::POST_STATUS_ON_DUTY);
    pv1::CreateTeacherResponse resp;
    grpc::Status s =
        Call(profile_stub_.get(), &pv1::ProfileService::Stub::CreateTeacher, hr_, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.teacher().teacher_id();
  }

  void AddEntry(const std::string& teacher, const pv1::TimelineEntry& entry,
                const std::string& request_id) {
    pv1::AddTimelineEntryRequest req;
    req.set_teacher_id(teacher);
    req.set_request_id(request_id);
    *req.mutable_entry() = entry;
    pv1::AddTimelineEntryResponse resp;
    grpc::Status s =
        Call(profile_stub_.get(), &pv1::ProfileService::Stub::AddTimelineEntry, hr_, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  grpc::Status Pair(const std::string& mentee, const std::string& mentor,
                    const std::string& request_id, v1::Pairing* out) {
    v1::CreatePairingRequest req;
    req.set_request_id(request_id);
    req.set_mentee_id(mentee);
    req.set_mentor_id(mentor);
    req.set_role(v1::PAIRING_ROLE_TEACHING);
    req.set_start_date("2025-09-01");
    v1::CreatePairingResponse resp;
    grpc::Status s =
        Call(stub_.get(), &v1::MentorshipService::Stub::CreatePairing, hr_, req, &resp);
    *out = resp.pairing();
    return s;
  }

  // Whether the service suggests `mentor` as `mentee`'s teaching mentor: how a test sees that a
  // profile change has reached the service without writing anything (a pairing attempted too
  // early would succeed, and its request id would answer that success ever after).
  bool Suggested(const std::string& mentee, const std::string& mentor) {
    v1::SuggestMentorsRequest req;
    req.set_mentee_id(mentee);
    req.set_role(v1::PAIRING_ROLE_TEACHING);
    req.set_start_date("2025-09-01");
    req.set_limit(100);
    v1::SuggestMentorsResponse resp;
    EXPECT_TRUE(
        Call(stub_.get(), &v1::MentorshipService::Stub::SuggestMentors, hr_, req, &resp).ok());
    for (const v1::MentorSuggestion& m : resp.mentors()) {
      if (m.mentor_id() == mentor) return true;
    }
    return false;
  }

  int MentorshipEntries(const std::string& teacher, const std::string& type) {
    pv1::ListTimelineRequest req;
    req.set_teacher_id(teacher);
    pv1::ListTimelineResponse resp;
    if (!Call(profile_stub_.get(), &pv1::ProfileService::Stub::ListTimeline, hr_, req, &resp)
             .ok()) {
      return -1;
    }
    int n = 0;
    for (const pv1::TimelineEntry& e : resp.entries()) {
      if (e.kind() == pv1::TIMELINE_ENTRY_KIND_EXTERNAL && e.external().source() == "mentorship" &&
          e.external().type() == type) {
        ++n;
      }
    }
    return n;
  }

  testing::RedisServer redis_;
  testing::TempDir keys_;
  std::unique_ptr<testing::ServiceProcess> profile_, mentorship_;
  std::unique_ptr<pv1::ProfileService::Stub> profile_stub_;
  std::unique_ptr<v1::MentorshipService::Stub> stub_;
  PrincipalSigner signer_{std::string(40, 'k')};
  Principal hr_ = Who(common::v1::ROLE_COUNTY_HR, "hr", kCounty);
  Principal admin_ = Who(common::v1::ROLE_ADMIN, "root");
};

TEST_F(MentorshipWithProfileTest, TitlesAndVetoesFromTheProfileAndPairingsInBothFiles) {
  CreateCounty();
  const std::string school = CreateSchool("城关小学");
  const std::string mentor = CreateTeacher("李老师", "2008-09-01", school, 1);
  const std::string mentee = CreateTeacher("张老师", "2024-09-01", school, 2);
  const std::string second_mentee = CreateTeacher("赵老师", "2024-09-01", school, 3);

  // Before its title reaches the service, the mentor does not qualify.
  v1::Pairing pairing;
  ASSERT_TRUE(Eventually(
      [&] { return NamesRule(Pair(mentee, mentor, "early", &pairing), "MENTOR_TITLE"); }));
  pv1::TimelineEntry title;
  title.set_kind(pv1::TIMELINE_ENTRY_KIND_TITLE_CONFERRED);
  title.set_occurred_on("2016-12-01");
  title.set_summary("评为一级教师");
  title.mutable_title_conferred()->set_title(common::v1::PROFESSIONAL_TITLE_FIRST_GRADE);
  AddEntry(mentor, title, "title-1");
  grpc::Status s;
  ASSERT_TRUE(Eventually([&] { return (s = Pair(mentee, mentor, "p-1", &pairing)).ok(); }))
      << s.error_message();

  // The profile service files the pairing into both growth files.
  EXPECT_TRUE(Eventually([&] {
    return MentorshipEntries(mentee, "mentorship.pairing_created") == 1 &&
           MentorshipEntries(mentor, "mentorship.pairing_created") == 1;
  }));

  // An ethics finding through the profile service vetoes the mentor for the next pairing.
  pv1::TimelineEntry finding;
  finding.set_kind(pv1::TIMELINE_ENTRY_KIND_ETHICS_FINDING);
  finding.set_occurred_on("2025-08-20");
  finding.set_summary("师德考核：警告");
  finding.mutable_ethics_finding()->set_severity(common::v1::ETHICS_SEVERITY_WARNING);
  ASSERT_TRUE(Suggested(second_mentee, mentor)) << "qualified before the finding";
  AddEntry(mentor, finding, "veto-1");
  ASSERT_TRUE(Eventually([&] { return !Suggested(second_mentee, mentor); }));
  s = Pair(second_mentee, mentor, "p-2", &pairing);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_TRUE(NamesRule(s, "MENTOR_VETO")) << s.error_message();
}

}  // namespace
}  // namespace shidang::mentorship
