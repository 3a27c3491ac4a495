// The mentorship service beside the real profile service on one redis-server: teachers, schools
// and their titles and ethics findings reach it through the profile service's events, and the
// profile service files a pairing's events into both teachers' growth files.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shidang/common/v1/error.pb.h"
#include "shidang/mentorship/v1/mentorship.grpc.pb.h"
#include "shidang/profile/v1/profile.grpc.pb.h"
#include "tests/kit/beside_profile.h"
#include "tests/kit/error_details.h"

namespace shidang::mentorship {
namespace {

namespace pv1 = ::shidang::profile::v1;

using testing::Eventually;

// Whether a refusal names `rule` among its field violations.
bool NamesRule(const grpc::Status& s, const std::string& rule) {
  const std::vector<std::string> rules = testing::RulesOf(s);
  return std::find(rules.begin(), rules.end(), rule) != rules.end();
}

class MentorshipWithProfileTest : public testing::BesideProfileTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StartBesideProfile(SHIDANG_MENTORSHIP_BINARY, "shidang-mentorship"));
    stub_ = v1::MentorshipService::NewStub(ServiceChannel());
  }

  // A teacher at `school` since `hire`.
  std::string CreateTeacher(const std::string& name, const std::string& hire,
                            const std::string& school, int serial) {
    return BesideProfileTest::CreateTeacher(name, hire, hire, school, serial);
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

  std::unique_ptr<v1::MentorshipService::Stub> stub_;
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
