// The mentorship service as a real process on a real redis-server, called over gRPC with signed
// principals. Teachers and schools become known to it the way they do in production: through the
// profile service's events (published here with the kit's write path, as the profile service
// does), and each test waits until they are applied.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/principal.h"
#include "shidang/common/v1/error.pb.h"
#include "shidang/mentorship/v1/mentorship.grpc.pb.h"
#include "shidang/profile/v1/profile.pb.h"
#include "tests/kit/error_details.h"
#include "tests/kit/principals.h"
#include "tests/kit/service_fixture.h"

namespace shidang::mentorship {
namespace {

using common::v1::Principal;
using ::testing::HasSubstr;
namespace pv1 = ::shidang::profile::v1;

constexpr char kCounty[] = "330723";
constexpr char kSchool[] = "S330723-a";
constexpr char kOtherSchool[] = "S330723-b";
constexpr char kRuralSchool[] = "S330723-r";
constexpr char kToday[] = "2025-10-15";

using testing::RulesOf;
using testing::ViolationsOf;
using testing::Who;

class MentorshipServiceTest : public testing::ServiceFixture<v1::MentorshipService> {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StartService(SHIDANG_MENTORSHIP_BINARY, "shidang-mentorship", kToday,
                                         {"--max_threads=32"}));
    AddSchool(kSchool, pv1::SCHOOL_LOCATION_URBAN);
    AddSchool(kOtherSchool, pv1::SCHOOL_LOCATION_TOWN);
    AddSchool(kRuralSchool, pv1::SCHOOL_LOCATION_RURAL);
  }

  void AddSchool(const std::string& id, pv1::SchoolLocation location) {
    pv1::School s;
    s.set_school_id(id);
    s.set_county_id(kCounty);
    s.set_name(absl::StrCat("学校", id));
    s.set_location(location);
    Publish(kCounty, "profile.school_created", "", s);
  }

  // A teacher hired on `hire` at `school`, teaching 数学, holding `title`.
  void AddTeacher(const std::string& id, const std::string& hire, const std::string& school,
                  common::v1::ProfessionalTitle title, const std::string& subject = "数学") {
    pv1::Teacher t;
    t.set_teacher_id(id);
    t.set_name(absl::StrCat("教师", id));
    t.set_county_id(kCounty);
    t.set_school_id(school);
    t.set_school_joined_on(hire);
    t.set_hire_date(hire);
    t.set_post_status(pv1::POST_STATUS_ON_DUTY);
    t.add_subjects(subject);
    t.set_title(title);
    Publish(kCounty, "profile.teacher_created", id, t, hire);
  }
  void AddNewTeacher(const std::string& id, const std::string& school = kSchool) {
    AddTeacher(id, "2023-09-01", school, common::v1::PROFESSIONAL_TITLE_SECOND_GRADE);
  }
  void AddMentor(const std::string& id, const std::string& school = kSchool) {
    AddTeacher(id, "2005-09-01", school, common::v1::PROFESSIONAL_TITLE_FIRST_GRADE);
  }

  v1::CreatePairingRequest Pair(const std::string& mentee, const std::string& mentor,
                                v1::PairingRole role, const std::string& request_id) {
    v1::CreatePairingRequest req;
    req.set_request_id(request_id);
    req.set_mentee_id(mentee);
    req.set_mentor_id(mentor);
    req.set_role(role);
    req.set_start_date("2025-09-01");
    return req;
  }

  grpc::Status Create(const v1::CreatePairingRequest& req, v1::Pairing* out = nullptr,
                      const Principal* who = nullptr) {
    v1::CreatePairingResponse resp;
    grpc::Status s =
        Call(&v1::MentorshipService::Stub::CreatePairing, who ? *who : hr_, req, &resp);
    if (out != nullptr) *out = resp.pairing();
    return s;
  }

  int64_t Count(const std::vector<std::string>& command) {
    auto n = redis_.pool().Command(command);
    EXPECT_TRUE(n.ok());
    return n.ok() ? n->integer() : -1;
  }
  int64_t StreamLength() { return Count({"XLEN", "mentorship:{c:330723}:events"}); }
  int64_t Pairings() { return Count({"HLEN", "mentorship:{c:330723}:pairings"}); }

  // Whether ListUnpaired as of `as_of` says `teacher` lacks a TEACHING mentor (false when the
  // teacher is not listed).
  bool LacksTeachingOn(const std::string& as_of, const std::string& teacher) {
    v1::ListUnpairedRequest req;
    req.set_county_id(kCounty);
    req.set_as_of(as_of);
    v1::ListUnpairedResponse resp;
    grpc::Status st = Call(&v1::MentorshipService::Stub::ListUnpaired, hr_, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    for (const v1::UnpairedTeacher& t : resp.teachers()) {
      if (t.teacher_id() == teacher) return t.lacks_teaching();
    }
    return false;
  }

  // The county's listings as `stub`'s instance answers them: every unpaired teacher and the
  // suggestions of both roles, as text.
  std::string ListingsVia(v1::MentorshipService::Stub& stub) {
    v1::ListUnpairedRequest unpaired;
    unpaired.set_county_id(kCounty);
    unpaired.mutable_page()->set_page_size(1000);
    v1::ListUnpairedResponse listed;
    grpc::Status s =
        CallVia(stub, &v1::MentorshipService::Stub::ListUnpaired, hr_, unpaired, &listed);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::string text = listed.DebugString();
    for (v1::PairingRole role : {v1::PAIRING_ROLE_TEACHING, v1::PAIRING_ROLE_SECOND}) {
      v1::SuggestPairingsRequest suggest;
      suggest.set_county_id(kCounty);
      suggest.set_role(role);
      v1::SuggestPairingsResponse suggested;
      s = CallVia(stub, &v1::MentorshipService::Stub::SuggestPairings, hr_, suggest, &suggested);
      EXPECT_TRUE(s.ok()) << s.error_message();
      text += suggested.DebugString();
    }
    return text;
  }

  // Stores `teacher`'s copy as a service from before dated histories wrote it: 一级 and on duty,
  // no *_before fields.
  void StoreCopyWithoutHistories(const std::string& teacher) {
    v1::TeacherCopy old;
    old.set_teacher_id(teacher);
    old.set_county_id(kCounty);
    old.set_name("教师" + teacher);
    old.set_school_id(kSchool);
    old.add_subjects("数学");
    old.set_hire_date("2005-09-01");
    old.set_title(common::v1::PROFESSIONAL_TITLE_FIRST_GRADE);
    old.set_post_status(pv1::POST_STATUS_ON_DUTY);
    ASSERT_TRUE(
        redis_.pool()
            .Command({"HSET", "mentorship:{c:330723}:teachers", teacher, old.SerializeAsString()})
            .ok());
    ASSERT_TRUE(
        redis_.pool().Command({"HSET", "mentorship:teacher-county", teacher, kCounty}).ok());
  }

  Principal hr_ = Who(common::v1::ROLE_COUNTY_HR, "hr", kCounty);
  Principal admin_ = Who(common::v1::ROLE_ADMIN, "root");
};

TEST_F(MentorshipServiceTest, CreatesAPairingWithEventsForBothFilesAndAnswersARetry) {
  AddNewTeacher("N1");
  AddMentor("M1");
  v1::Pairing pairing;
  grpc::Status s = Create(Pair("N1", "M1", v1::PAIRING_ROLE_TEACHING, "p-1"), &pairing);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(pairing.state(), v1::PAIRING_STATE_ACTIVE);
  EXPECT_EQ(pairing.kind(), v1::PAIRING_KIND_NEW_TEACHER);
  EXPECT_EQ(pairing.mentee_school_id(), kSchool);
  EXPECT_THAT(pairing.shared_subjects(), ::testing::ElementsAre("数学"));
  // Planned end: the last day N1 counts as new (hired 2023-09-01, new for 5 years).
  EXPECT_EQ(pairing.planned_end_date(), "2028-08-31");
  EXPECT_EQ(StreamLength(), 2);  // one event for each teacher's growth file
  v1::Pairing again;
  ASSERT_TRUE(Create(Pair("N1", "M1", v1::PAIRING_ROLE_TEACHING, "p-1"), &again).ok());
  EXPECT_EQ(again.pairing_id(), pairing.pairing_id());
  EXPECT_EQ(StreamLength(), 2);
  EXPECT_EQ(Pairings(), 1);
}

// The kit's AnswerStore (replay.h) answers a retry from the answer it stored after the call. A
// process that dies after its write's script and before that answer is stored leaves only the
// write's own idempotency record: the retry must still get the first answer, not the refusal the
// rules now give (ROLE_TAKEN; "only an active pairing ends"). Lost answers are simulated by
// deleting the AnswerStore's keys ("mentorship:{rq:<digest>}:answer" and ":claim").
TEST_F(MentorshipServiceTest, ARetryWhoseStoredAnswerWasLostGetsTheFirstAnswer) {
  AddNewTeacher("N1");
  AddMentor("M1");
  v1::Pairing created;
  ASSERT_TRUE(Create(Pair("N1", "M1", v1::PAIRING_ROLE_TEACHING, "p-1"), &created).ok());
  v1::EndPairingRequest end;
  end.set_request_id("e-1");
  end.set_pairing_id(created.pairing_id());
  end.set_outcome(v1::PAIRING_STATE_ENDED_EARLY);
  end.set_reason("导师调动");
  end.set_ended_on("2025-10-01");
  v1::EndPairingResponse ended;
  grpc::Status s = Call(&v1::MentorshipService::Stub::EndPairing, hr_, end, &ended);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const int64_t events = StreamLength();

  auto answers = redis_.pool().Command({"KEYS", "mentorship:{rq:*"});
  ASSERT_TRUE(answers.ok());
  ASSERT_GE(answers->size(), 2u);
  for (size_t i = 0; i < answers->size(); ++i) {
    ASSERT_TRUE(redis_.pool().Command({"DEL", std::string((*answers)[i].str())}).ok());
  }
  v1::Pairing again;
  s = Create(Pair("N1", "M1", v1::PAIRING_ROLE_TEACHING, "p-1"), &again);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(again.SerializeAsString(), created.SerializeAsString());
  v1::EndPairingResponse ended_again;
  s = Call(&v1::MentorshipService::Stub::EndPairing, hr_, end, &ended_again);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ended_again.SerializeAsString(), ended.SerializeAsString());
  EXPECT_EQ(StreamLength(), events);
  EXPECT_EQ(Pairings(), 1);

  // The same id for a different request, its AnswerStore record lost again: refused as such,
  // before the state check that would say the pairing is no longer active.
  answers = redis_.pool().Command({"KEYS", "mentorship:{rq:*"});
  ASSERT_TRUE(answers.ok());
  for (size_t i = 0; i < answers->size(); ++i) {
    ASSERT_TRUE(redis_.pool().Command({"DEL", std::string((*answers)[i].str())}).ok());
  }
  end.set_reason("另一个原因");
  s = Call(&v1::MentorshipService::Stub::EndPairing, hr_, end, &ended_again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("request_id"));
  EXPECT_EQ(StreamLength(), events);
}

TEST_F(MentorshipServiceTest, EachRefusalNamesItsReasonAndWritesNothing) {
  AddNewTeacher("N1");
  AddTeacher("OLD", "2010-09-01", kSchool, common::v1::PROFESSIONAL_TITLE_FIRST_GRADE);
  AddTeacher("LOW", "2005-09-01", kSchool, common::v1::PROFESSIONAL_TITLE_SECOND_GRADE);
  AddTeacher("YOUNG", "2022-09-01", kSchool, common::v1::PROFESSIONAL_TITLE_FIRST_GRADE);
  AddMentor("ELSEWHERE", kOtherSchool);
  AddTeacher("ART", "2005-09-01", kSchool, common::v1::PROFESSIONAL_TITLE_FIRST_GRADE, "美术");
  struct Case {
    std::string mentee, mentor;
    std::string rule;
  };
  const std::vector<Case> cases = {
      {"OLD", "ELSEWHERE", "MENTEE_NOT_NEW"},
      {"N1", "LOW", "MENTOR_TITLE"},
      {"N1", "YOUNG", "MENTOR_YEARS"},
      {"N1", "ELSEWHERE", "SCHOOL"},
      {"N1", "ART", "SUBJECT"},
      {"N1", "N1", "SELF"},
  };
  for (const Case& c : cases) {
    grpc::Status s = Create(Pair(c.mentee, c.mentor, v1::PAIRING_ROLE_TEACHING, "bad"));
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << c.rule;
    EXPECT_THAT(RulesOf(s), ::testing::Contains(c.rule)) << s.error_message();
  }
  // A SECOND mentor may be at another school.
  EXPECT_TRUE(Create(Pair("N1", "ELSEWHERE", v1::PAIRING_ROLE_SECOND, "ok")).ok());
  EXPECT_EQ(Pairings(), 1);
  EXPECT_EQ(StreamLength(), 2);
  // Bad input names the field.
  v1::CreatePairingRequest bad = Pair("N1", "OLD", v1::PAIRING_ROLE_UNSPECIFIED, "x");
  grpc::Status s = Create(bad);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("role"));
  bad = Pair("N1", "OLD", v1::PAIRING_ROLE_SECOND, "y");
  bad.set_start_date("2025-02-30");
  EXPECT_THAT(Create(bad).error_message(), HasSubstr("start_date"));
}

TEST_F(MentorshipServiceTest, OneMentorPerRoleUntilThePairingEnds) {
  AddNewTeacher("N1");
  AddMentor("M1");
  AddMentor("M2");
  v1::Pairing first;
  ASSERT_TRUE(Create(Pair("N1", "M1", v1::PAIRING_ROLE_TEACHING, "p-1"), &first).ok());
  grpc::Status s = Create(Pair("N1", "M2", v1::PAIRING_ROLE_TEACHING, "p-2"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(RulesOf(s), ::testing::Contains("ROLE_TAKEN"));
  v1::EndPairingRequest end;
  end.set_request_id("e-1");
  end.set_pairing_id(first.pairing_id());
  end.set_outcome(v1::PAIRING_STATE_ENDED_EARLY);
  v1::EndPairingResponse ended;
  // Ending early needs a reason.
  EXPECT_EQ(Call(&v1::MentorshipService::Stub::EndPairing, hr_, end, &ended).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  end.set_reason("导师调离");
  s = Call(&v1::MentorshipService::Stub::EndPairing, hr_, end, &ended);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ended.pairing().state(), v1::PAIRING_STATE_ENDED_EARLY);
  EXPECT_EQ(ended.pairing().ended_on(), kToday);
  EXPECT_EQ(Count({"HGET", "mentorship:{c:330723}:load", "M1"}), 0);
  s = Create(Pair("N1", "M2", v1::PAIRING_ROLE_TEACHING, "p-3"));
  EXPECT_TRUE(s.ok()) << s.error_message();
  // Ending it again is refused.
  end.set_request_id("e-2");
  EXPECT_EQ(Call(&v1::MentorshipService::Stub::EndPairing, hr_, end, &ended).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

// A pairing's place is free once it is ended, so it cannot end on a day still ahead: the mentee
// would count as paired (ListUnpaired) on days the mentor's place went to another.
TEST_F(MentorshipServiceTest, APairingEndsNoLaterThanToday) {
  AddNewTeacher("N1");
  AddMentor("M1");
  v1::Pairing pairing;
  ASSERT_TRUE(Create(Pair("N1", "M1", v1::PAIRING_ROLE_TEACHING, "p-1"), &pairing).ok());
  const int64_t events = StreamLength();
  v1::EndPairingRequest end;
  end.set_request_id("e-1");
  end.set_pairing_id(pairing.pairing_id());
  end.set_outcome(v1::PAIRING_STATE_COMPLETED);
  end.set_ended_on("2025-10-16");  // the day after kToday
  v1::EndPairingResponse ended;
  grpc::Status s = Call(&v1::MentorshipService::Stub::EndPairing, hr_, end, &ended);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolationsOf(s), ::testing::ElementsAre("ended_on not_future"));
  EXPECT_EQ(StreamLength(), events);
  end.set_request_id("e-2");
  end.set_ended_on(kToday);
  s = Call(&v1::MentorshipService::Stub::EndPairing, hr_, end, &ended);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ended.pairing().ended_on(), kToday);
}

// DESIGN: every state change records the actor and the request id.
TEST_F(MentorshipServiceTest, APairingKeepsTheRequestsThatCreatedAndEndedIt) {
  AddNewTeacher("N1");
  AddMentor("M1");
  v1::Pairing pairing;
  ASSERT_TRUE(Create(Pair("N1", "M1", v1::PAIRING_ROLE_TEACHING, "p-1"), &pairing).ok());
  EXPECT_EQ(pairing.created_by(), "county_hr:hr");
  EXPECT_EQ(pairing.created_request_id(), "p-1");
  v1::EndPairingRequest end;
  end.set_request_id("e-1");
  end.set_pairing_id(pairing.pairing_id());
  end.set_outcome(v1::PAIRING_STATE_COMPLETED);
  v1::EndPairingResponse ended;
  grpc::Status s = Call(&v1::MentorshipService::Stub::EndPairing, hr_, end, &ended);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ended.pairing().ended_by(), "county_hr:hr");
  EXPECT_EQ(ended.pairing().ended_request_id(), "e-1");
  EXPECT_EQ(ended.pairing().created_request_id(), "p-1");
}

TEST_F(MentorshipServiceTest, TwentyRacersForAMentorsLastPlaceExactlyOneWins) {
  AddMentor("M1", kOtherSchool);
  AddNewTeacher("FIRST");
  ASSERT_TRUE(Create(Pair("FIRST", "M1", v1::PAIRING_ROLE_SECOND, "first")).ok());
  constexpr int kRacers = 20;
  for (int i = 0; i < kRacers; ++i) AddNewTeacher(absl::StrCat("R", i));
  std::atomic<int> ok{0}, capacity{0};
  std::vector<std::thread> threads;
  threads.reserve(kRacers);
  for (int i = 0; i < kRacers; ++i) {
    threads.emplace_back([&, i] {
      grpc::Status s = Create(
          Pair(absl::StrCat("R", i), "M1", v1::PAIRING_ROLE_SECOND, absl::StrCat("race-", i)));
      if (s.ok()) ++ok;
      std::vector<std::string> rules = RulesOf(s);
      if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
          std::find(rules.begin(), rules.end(), "CAPACITY") != rules.end()) {
        ++capacity;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(capacity.load(), kRacers - 1);
  EXPECT_EQ(Pairings(), 2);
  EXPECT_EQ(Count({"HGET", "mentorship:{c:330723}:load", "M1"}), 2);
  // The message names the figures.
  grpc::Status s = Create(Pair("R0", "M1", v1::PAIRING_ROLE_SECOND, "late"));
  if (s.ok()) s = Create(Pair("R1", "M1", v1::PAIRING_ROLE_SECOND, "late-2"));
  EXPECT_THAT(s.error_message(),
              HasSubstr("mentor M1 already has 2 active mentees; capacity is 2"));
}

TEST_F(MentorshipServiceTest, TheCopyFollowsTitlesVetoesAndCorrections) {
  AddNewTeacher("N1");
  AddTeacher("M1", "2005-09-01", kSchool, common::v1::PROFESSIONAL_TITLE_SECOND_GRADE);
  EXPECT_THAT(RulesOf(Create(Pair("N1", "M1", v1::PAIRING_ROLE_TEACHING, "a"))),
              ::testing::Contains("MENTOR_TITLE"));
  pv1::TimelineEntry title;
  title.set_entry_id("E-title");
  title.set_teacher_id("M1");
  title.set_occurred_on("2024-12-01");
  title.mutable_title_conferred()->set_title(common::v1::PROFESSIONAL_TITLE_FIRST_GRADE);
  Publish(kCounty, "profile.title_changed", "M1", title, "2024-12-01");
  pv1::TimelineEntry finding;
  finding.set_entry_id("E-veto");
  finding.set_teacher_id("M1");
  finding.set_occurred_on("2025-06-01");
  finding.mutable_ethics_finding()->set_severity(common::v1::ETHICS_SEVERITY_DEMERIT);
  Publish(kCounty, "profile.ethics_finding", "M1", finding, "2025-06-01");
  grpc::Status s = Create(Pair("N1", "M1", v1::PAIRING_ROLE_TEACHING, "b"));
  EXPECT_THAT(RulesOf(s), ::testing::ElementsAre("MENTOR_VETO")) << s.error_message();
  pv1::TimelineEntry correction;
  correction.set_entry_id("E-fix");
  correction.set_teacher_id("M1");
  correction.set_occurred_on("2025-07-01");
  correction.set_supersedes_entry_id("E-veto");
  correction.set_correction_reason("复核撤销");
  Publish(kCounty, "profile.correction", "M1", correction, "2025-07-01");
  s = Create(Pair("N1", "M1", v1::PAIRING_ROLE_TEACHING, "c"));
  EXPECT_TRUE(s.ok()) << s.error_message();
}

// The copy keeps title and post status changes with their days, so a mentor is judged on the
// pairing's start day, not as the copy holds them now; a correction's retraction survives a
// re-delivery of the retracted entry; a copy stored before histories were kept (no *_before)
// reads as it is now until its first change, which records what held before it.
TEST_F(MentorshipServiceTest, MentorsAreJudgedOnTheStartDayByTheCopysDatedHistories) {
  AddNewTeacher("N1");
  AddNewTeacher("N2");
  AddNewTeacher("N3");
  AddTeacher("M1", "2005-09-01", kSchool, common::v1::PROFESSIONAL_TITLE_SECOND_GRADE);
  pv1::TimelineEntry title;
  title.set_entry_id("E-title");
  title.set_teacher_id("M1");
  title.set_occurred_on("2025-09-02");
  title.mutable_title_conferred()->set_title(common::v1::PROFESSIONAL_TITLE_FIRST_GRADE);
  Publish(kCounty, "profile.title_changed", "M1", title, "2025-09-02");
  pv1::TimelineEntry retired;
  retired.set_entry_id("E-retired");
  retired.set_teacher_id("M1");
  retired.set_occurred_on("2025-10-01");
  retired.mutable_post_status_changed()->set_from_status(pv1::POST_STATUS_ON_DUTY);
  retired.mutable_post_status_changed()->set_to_status(pv1::POST_STATUS_RETIRED);
  Publish(kCounty, "profile.post_status_changed", "M1", retired, "2025-10-01");

  auto pair = [&](const std::string& mentee, const std::string& start, v1::PairingRole role,
                  const std::string& id) {
    v1::CreatePairingRequest req = Pair(mentee, "M1", role, id);
    req.set_start_date(start);
    return Create(req);
  };
  // The copy holds 一级 and RETIRED now; on 2025-09-01 M1 was 二级, on 2025-10-01 retired.
  grpc::Status s = pair("N1", "2025-09-01", v1::PAIRING_ROLE_TEACHING, "a");
  EXPECT_THAT(RulesOf(s), ::testing::ElementsAre("MENTOR_TITLE")) << s.error_message();
  s = pair("N1", "2025-10-01", v1::PAIRING_ROLE_TEACHING, "b");
  EXPECT_THAT(RulesOf(s), ::testing::ElementsAre("MENTOR_NOT_IN_SERVICE")) << s.error_message();
  s = pair("N1", "2025-09-02", v1::PAIRING_ROLE_TEACHING, "c");
  ASSERT_TRUE(s.ok()) << s.error_message();

  // Unpaired on 2025-09-01 (the pairing starts the day after), paired on 2025-09-02.
  EXPECT_TRUE(LacksTeachingOn("2025-09-01", "N1"));
  EXPECT_FALSE(LacksTeachingOn("2025-09-02", "N1"));

  // The retirement is corrected away; delivered again, it stays retracted.
  pv1::TimelineEntry correction;
  correction.set_entry_id("E-fix");
  correction.set_teacher_id("M1");
  correction.set_occurred_on("2025-10-05");
  correction.set_supersedes_entry_id("E-retired");
  correction.set_correction_reason("误录");
  Publish(kCounty, "profile.correction", "M1", correction, "2025-10-05");
  Publish(kCounty, "profile.post_status_changed", "M1", retired, "2025-10-01");
  s = pair("N2", "2025-10-01", v1::PAIRING_ROLE_SECOND, "d");
  EXPECT_TRUE(s.ok()) << s.error_message();

  // M2's copy was stored before histories were kept: 一级 and on duty, no *_before.
  ASSERT_NO_FATAL_FAILURE(StoreCopyWithoutHistories("M2"));
  // Its first post status change (on leave from 2025-10-10) records what held before it.
  pv1::TimelineEntry leave = retired;
  leave.set_entry_id("E-leave");
  leave.set_teacher_id("M2");
  leave.set_occurred_on("2025-10-10");
  leave.mutable_post_status_changed()->set_to_status(pv1::POST_STATUS_SICK_LEAVE);
  Publish(kCounty, "profile.post_status_changed", "M2", leave, "2025-10-10");
  v1::CreatePairingRequest req = Pair("N3", "M2", v1::PAIRING_ROLE_TEACHING, "e");
  req.set_start_date("2025-10-10");
  s = Create(req);
  EXPECT_THAT(RulesOf(s), ::testing::ElementsAre("MENTOR_NOT_IN_SERVICE")) << s.error_message();
  req.set_request_id("f");
  req.set_start_date("2025-10-09");
  s = Create(req);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(MentorshipServiceTest, ScopeOfSchoolAdminsMentorsAndOtherTeachers) {
  AddNewTeacher("N1");
  AddMentor("M1");
  AddMentor("M2", kOtherSchool);
  AddMentor("STRANGER", kOtherSchool);
  const Principal own_admin = Who(common::v1::ROLE_SCHOOL_ADMIN, "a", "", kSchool);
  const Principal other_admin = Who(common::v1::ROLE_SCHOOL_ADMIN, "b", "", kOtherSchool);
  v1::Pairing teaching;
  ASSERT_TRUE(Create(Pair("N1", "M1", v1::PAIRING_ROLE_TEACHING, "t"), &teaching, &own_admin).ok());
  EXPECT_EQ(
      Create(Pair("N1", "M2", v1::PAIRING_ROLE_SECOND, "s"), nullptr, &own_admin).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
      Create(Pair("N1", "M2", v1::PAIRING_ROLE_SECOND, "s"), nullptr, &other_admin).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  const Principal teacher = Who(common::v1::ROLE_TEACHER, "N1");
  EXPECT_EQ(Create(Pair("N1", "M2", v1::PAIRING_ROLE_SECOND, "s"), nullptr, &teacher).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Pairings(), 1);
  v1::GetPairingRequest get;
  get.set_pairing_id(teaching.pairing_id());
  v1::GetPairingResponse got;
  for (const Principal& may :
       {Who(common::v1::ROLE_TEACHER, "N1"), Who(common::v1::ROLE_TEACHER, "M1"), own_admin, hr_}) {
    EXPECT_TRUE(Call(&v1::MentorshipService::Stub::GetPairing, may, get, &got).ok())
        << may.subject();
  }
  for (const Principal& may_not : {Who(common::v1::ROLE_TEACHER, "STRANGER"), other_admin,
                                   Who(common::v1::ROLE_COUNTY_HR, "far", "330781")}) {
    EXPECT_EQ(Call(&v1::MentorshipService::Stub::GetPairing, may_not, get, &got).error_code(),
              grpc::StatusCode::PERMISSION_DENIED)
        << may_not.subject();
  }
  v1::ListTeacherPairingsRequest mine;
  mine.set_teacher_id("M1");
  v1::ListTeacherPairingsResponse listed;
  ASSERT_TRUE(Call(&v1::MentorshipService::Stub::ListTeacherPairings,
                   Who(common::v1::ROLE_TEACHER, "M1"), mine, &listed)
                  .ok());
  EXPECT_EQ(listed.pairings_size(), 1);
  EXPECT_EQ(Call(&v1::MentorshipService::Stub::ListTeacherPairings,
                 Who(common::v1::ROLE_TEACHER, "STRANGER"), mine, &listed)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// DESIGN: an error names the field (in its details, as every other refusal of LogActivity does),
// also when the date is well formed but outside the pairing, the term or the past.
TEST_F(MentorshipServiceTest, ActivityDatesRefusedNameTheirField) {
  AddNewTeacher("N1");
  AddMentor("M1");
  v1::CreatePairingRequest pair = Pair("N1", "M1", v1::PAIRING_ROLE_TEACHING, "p");
  pair.set_start_date("2025-09-10");
  v1::Pairing pairing;
  ASSERT_TRUE(Create(pair, &pairing).ok());
  auto log = [&](const std::string& date, const std::string& term) {
    v1::LogActivityRequest req;
    req.set_request_id(absl::StrCat("a-", date, term));
    req.set_pairing_id(pairing.pairing_id());
    req.mutable_activity()->set_kind(v1::ACTIVITY_KIND_LESSON_OBSERVED);
    req.mutable_activity()->set_date(date);
    req.mutable_activity()->set_term(term);
    v1::LogActivityResponse resp;
    return Call(&v1::MentorshipService::Stub::LogActivity, Who(common::v1::ROLE_TEACHER, "N1"), req,
                &resp);
  };
  const int64_t events = StreamLength();
  const std::vector<std::tuple<std::string, std::string, std::string>> bad = {
      {"2025-09-09", "", "activity.date in_pairing"},
      {"2025-10-16", "", "activity.date not_future"},
      {"2025-10-01", "2025-2026-2", "activity.date in_term"},
      {"2025-10-01", "2025-2027-1", "activity.term term_format"},
  };
  for (const auto& [date, term, violation] : bad) {
    grpc::Status s = log(date, term);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << date << " " << term;
    EXPECT_THAT(ViolationsOf(s), ::testing::ElementsAre(violation)) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr(violation.substr(0, violation.find(' '))));
  }
  EXPECT_EQ(StreamLength(), events);
}

// DOMAIN §4: the end-of-term evaluation grades the mentee, so only the mentor gives it; a mentee
// grading themself is refused naming the kind and who logs it, and writes nothing. The kinds a
// mentee logs stay theirs.
TEST_F(MentorshipServiceTest, OnlyTheMentorLogsATermEvaluation) {
  AddNewTeacher("N1");
  AddMentor("M1");
  v1::Pairing pairing;
  ASSERT_TRUE(Create(Pair("N1", "M1", v1::PAIRING_ROLE_TEACHING, "p"), &pairing).ok());
  auto log = [&](const Principal& who, v1::ActivityKind kind, const std::string& request_id,
                 const std::string& by = "") {
    v1::LogActivityRequest req;
    req.set_request_id(request_id);
    req.set_pairing_id(pairing.pairing_id());
    req.mutable_activity()->set_kind(kind);
    req.mutable_activity()->set_date("2025-10-14");
    req.mutable_activity()->set_by_teacher_id(by);
    if (kind == v1::ACTIVITY_KIND_TERM_EVALUATION) {
      req.mutable_activity()->set_grade(v1::EVALUATION_GRADE_EXCELLENT);
      req.mutable_activity()->set_remarks("本人表现优秀");
    }
    v1::LogActivityResponse resp;
    return Call(&v1::MentorshipService::Stub::LogActivity, who, req, &resp);
  };
  const Principal mentee = Who(common::v1::ROLE_TEACHER, "N1");
  const int64_t events = StreamLength();
  grpc::Status s = log(mentee, v1::ACTIVITY_KIND_TERM_EVALUATION, "self-1");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("TERM_EVALUATION"));
  EXPECT_THAT(s.error_message(), HasSubstr("mentor"));
  EXPECT_THAT(ViolationsOf(s), ::testing::ElementsAre("activity.kind evaluator_is_mentor"));
  // A trusted caller naming the mentee as the evaluator: the same rule, as a bad field.
  s = log(admin_, v1::ACTIVITY_KIND_TERM_EVALUATION, "self-2", "N1");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(ViolationsOf(s), ::testing::ElementsAre("activity.by_teacher_id evaluator"));
  EXPECT_EQ(StreamLength(), events);
  auto logged = redis_.pool().Command({"KEYS", "mentorship:*activit*"});
  ASSERT_TRUE(logged.ok());
  EXPECT_EQ(logged->size(), 0u);

  // The mentee's own kinds, and the mentor's evaluation, are logged.
  for (v1::ActivityKind kind :
       {v1::ACTIVITY_KIND_LESSON_OBSERVED, v1::ACTIVITY_KIND_PUBLIC_LESSON,
        v1::ACTIVITY_KIND_LESSON_COACHED, v1::ACTIVITY_KIND_GUIDANCE_SESSION}) {
    s = log(mentee, kind, absl::StrCat("own-", kind));
    EXPECT_TRUE(s.ok()) << v1::ActivityKind_Name(kind) << ": " << s.error_message();
  }
  s = log(Who(common::v1::ROLE_TEACHER, "M1"), v1::ACTIVITY_KIND_TERM_EVALUATION, "ev-1");
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(MentorshipServiceTest, ActivitiesCountInTheirTermWithOneEvaluationPerTerm) {
  AddNewTeacher("N1");
  AddMentor("M1");
  AddMentor("STRANGER");
  v1::Pairing pairing;
  ASSERT_TRUE(Create(Pair("N1", "M1", v1::PAIRING_ROLE_TEACHING, "p"), &pairing).ok());
  const Principal mentee = Who(common::v1::ROLE_TEACHER, "N1");
  const Principal mentor = Who(common::v1::ROLE_TEACHER, "M1");
  auto log = [&](const Principal& who, v1::ActivityKind kind, const std::string& date,
                 const std::string& request_id,
                 v1::EvaluationGrade grade = v1::EVALUATION_GRADE_UNSPECIFIED) {
    v1::LogActivityRequest req;
    req.set_request_id(request_id);
    req.set_pairing_id(pairing.pairing_id());
    req.mutable_activity()->set_kind(kind);
    req.mutable_activity()->set_date(date);
    req.mutable_activity()->set_grade(grade);
    v1::LogActivityResponse resp;
    return Call(&v1::MentorshipService::Stub::LogActivity, who, req, &resp);
  };
  ASSERT_TRUE(log(mentee, v1::ACTIVITY_KIND_LESSON_OBSERVED, "2025-09-10", "a1").ok());
  ASSERT_TRUE(log(mentee, v1::ACTIVITY_KIND_LESSON_OBSERVED, "2025-09-20", "a2").ok());
  ASSERT_TRUE(log(mentee, v1::ACTIVITY_KIND_LESSON_OBSERVED, "2025-09-20", "a2").ok());  // retry
  ASSERT_TRUE(log(mentor, v1::ACTIVITY_KIND_LESSON_COACHED, "2025-09-15", "a3").ok());
  const int64_t events = StreamLength();
  EXPECT_EQ(log(Who(common::v1::ROLE_TEACHER, "STRANGER"), v1::ACTIVITY_KIND_LESSON_OBSERVED,
                "2025-09-21", "x1")
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(log(mentee, v1::ACTIVITY_KIND_LESSON_OBSERVED, "2025-08-20", "x2").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // before the pairing (and its term)
  EXPECT_EQ(log(mentee, v1::ACTIVITY_KIND_LESSON_OBSERVED, "2025-10-20", "x3").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // after today
  EXPECT_EQ(log(mentor, v1::ACTIVITY_KIND_TERM_EVALUATION, "2025-10-14", "x4").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // no grade
  ASSERT_TRUE(log(mentor, v1::ACTIVITY_KIND_TERM_EVALUATION, "2025-10-14", "ev1",
                  v1::EVALUATION_GRADE_EXCELLENT)
                  .ok());
  EXPECT_EQ(StreamLength(), events + 1);  // mentorship.term_evaluated for the mentee's file
  EXPECT_EQ(
      log(mentor, v1::ACTIVITY_KIND_TERM_EVALUATION, "2025-10-15", "ev2", v1::EVALUATION_GRADE_GOOD)
          .error_code(),
      grpc::StatusCode::ALREADY_EXISTS);

  v1::GetProgressRequest req;
  req.set_pairing_id(pairing.pairing_id());
  v1::GetProgressResponse resp;
  grpc::Status s = Call(&v1::MentorshipService::Stub::GetProgress, mentee, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.as_of(), kToday);
  EXPECT_EQ(resp.progress().mentee_year(), 3);  // hired 2023-09-01
  EXPECT_EQ(resp.progress().stage_goal(), v1::STAGE_GOAL_YEARS_2_3);
  ASSERT_EQ(resp.progress().terms_size(), 1);
  const v1::TermProgress& term = resp.progress().terms(0);
  EXPECT_EQ(term.term(), "2025-2026-1");
  EXPECT_EQ(term.grade(), v1::EVALUATION_GRADE_EXCELLENT);
  std::map<v1::ActivityKind, v1::KindCount> counts;
  for (const v1::KindCount& c : term.counts()) counts[c.kind()] = c;
  EXPECT_EQ(counts[v1::ACTIVITY_KIND_LESSON_OBSERVED].count(), 2);
  EXPECT_EQ(counts[v1::ACTIVITY_KIND_LESSON_OBSERVED].required(), 8);
  EXPECT_EQ(counts[v1::ACTIVITY_KIND_LESSON_COACHED].count(), 1);
  EXPECT_FALSE(term.complete());
}

// A page token no listing gave is refused; one past the end of size_t once wrapped around to a
// next page token near the start, so a client paging on never stopped.
TEST_F(MentorshipServiceTest, APageTokenNoListingGaveIsRefused) {
  AddNewTeacher("N1");
  AddMentor("M1");
  ASSERT_TRUE(Create(Pair("N1", "M1", v1::PAIRING_ROLE_TEACHING, "p-1")).ok());
  for (const char* token : {"18446744073709551615", "9223372036854775808", "-1", "x"}) {
    v1::ListPairingsRequest req;
    req.set_county_id(kCounty);
    req.mutable_page()->set_page_token(token);
    v1::ListPairingsResponse resp;
    grpc::Status s = Call(&v1::MentorshipService::Stub::ListPairings, hr_, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << token;
    EXPECT_THAT(s.error_message(), HasSubstr("page.page_token")) << token;
  }
}

// The county listings reuse parsed copies while the county's writes counter is unchanged
// (MentorshipStore::ReadCounty). Each kind of write (a pairing created, one ended, a teacher
// learned from the profile service, a title changed) shows in the very next listing after it is
// acknowledged, also while another caller keeps reading the county.
TEST_F(MentorshipServiceTest, ListingsNeverAnswerFromBeforeAnAcknowledgedWrite) {
  AddNewTeacher("N1");
  AddNewTeacher("N2");
  AddMentor("M1");
  AddMentor("M2");
  auto lacking_teaching = [&] {
    v1::ListUnpairedRequest req;
    req.set_county_id(kCounty);
    v1::ListUnpairedResponse resp;
    grpc::Status s = Call(&v1::MentorshipService::Stub::ListUnpaired, hr_, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.lacking_teaching();
  };
  auto active_pairings = [&] {
    v1::ListPairingsRequest req;
    req.set_county_id(kCounty);
    v1::ListPairingsResponse resp;
    grpc::Status s = Call(&v1::MentorshipService::Stub::ListPairings, hr_, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.pairings_size();
  };
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done) lacking_teaching();
  });
  // Joined however the test ends (a failed ASSERT returns early).
  absl::Cleanup stop_reader = [&] {
    done = true;
    reader.join();
  };
  EXPECT_EQ(lacking_teaching(), 2);
  EXPECT_EQ(active_pairings(), 0);

  v1::Pairing first;
  ASSERT_TRUE(Create(Pair("N1", "M1", v1::PAIRING_ROLE_TEACHING, "p-1"), &first).ok());
  EXPECT_EQ(lacking_teaching(), 1);
  EXPECT_EQ(active_pairings(), 1);
  ASSERT_TRUE(Create(Pair("N2", "M2", v1::PAIRING_ROLE_TEACHING, "p-2")).ok());
  EXPECT_EQ(lacking_teaching(), 0);
  EXPECT_EQ(active_pairings(), 2);

  v1::EndPairingRequest end;
  end.set_request_id("e-1");
  end.set_pairing_id(first.pairing_id());
  end.set_outcome(v1::PAIRING_STATE_ENDED_EARLY);
  end.set_reason("导师调动");
  end.set_ended_on("2025-10-01");
  v1::EndPairingResponse ended;
  ASSERT_TRUE(Call(&v1::MentorshipService::Stub::EndPairing, hr_, end, &ended).ok());
  EXPECT_EQ(lacking_teaching(), 1);
  EXPECT_EQ(active_pairings(), 1);

  AddNewTeacher("N3");  // returns once the service has applied (acknowledged) the event
  EXPECT_EQ(lacking_teaching(), 2);
  // N1 and N3 lack a TEACHING mentor: M1 (free again) and M2 (one place left) take them. Then
  // M1's title falls below the policy's: only M2 is left.
  v1::SuggestPairingsRequest suggest;
  suggest.set_county_id(kCounty);
  suggest.set_role(v1::PAIRING_ROLE_TEACHING);
  v1::SuggestPairingsResponse suggested;
  grpc::Status s = Call(&v1::MentorshipService::Stub::SuggestPairings, hr_, suggest, &suggested);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(suggested.suggestions_size(), 2) << suggested.DebugString();
  pv1::TimelineEntry title;
  title.set_entry_id("E-title");
  title.set_teacher_id("M1");
  title.set_occurred_on("2025-10-01");
  title.mutable_title_conferred()->set_title(common::v1::PROFESSIONAL_TITLE_THIRD_GRADE);
  Publish(kCounty, "profile.title_changed", "M1", title, "2025-10-01");
  suggested.Clear();
  s = Call(&v1::MentorshipService::Stub::SuggestPairings, hr_, suggest, &suggested);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(suggested.suggestions_size(), 1) << suggested.DebugString();
  EXPECT_EQ(suggested.suggestions(0).mentor_id(), "M2");
}

// Two instances of the service, each with its own copy of the county (patched from the county's
// change log after a write, services/common/county_delta.h): a pairing created or ended through
// one is in the other's very next listing; a log trimmed past a copy's version, or a write with
// no record, makes the copy read whole again, still never stale; pairings created concurrently
// through one while the other keeps refreshing are all in its last listing.
TEST_F(MentorshipServiceTest, AnotherInstanceSeesEveryWriteRightAfterItIsAcknowledged) {
  for (int i = 1; i <= 12; ++i) AddNewTeacher(absl::StrCat("N", i));
  for (int i = 1; i <= 6; ++i) AddMentor(absl::StrCat("M", i));
  auto process = testing::ServiceProcess::Start(
      SHIDANG_MENTORSHIP_BINARY,
      {"--redis=" + redis_.address(), "--principal_key_file=" + keys_.path() + "/principal.key",
       std::string("--today=") + kToday});
  ASSERT_TRUE(process.ok()) << process.status();
  std::unique_ptr<testing::ServiceProcess> second = std::move(*process);
  auto other = v1::MentorshipService::NewStub(
      grpc::CreateChannel(second->address(), grpc::InsecureChannelCredentials()));
  auto lacking_teaching_at = [&](v1::MentorshipService::Stub& stub) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    signer_.Attach(&ctx, hr_);
    v1::ListUnpairedRequest req;
    req.set_county_id(kCounty);
    v1::ListUnpairedResponse resp;
    grpc::Status s = stub.ListUnpaired(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.lacking_teaching();
  };
  EXPECT_EQ(lacking_teaching_at(*other), 12);  // the other instance holds a copy now
  v1::Pairing first;
  ASSERT_TRUE(Create(Pair("N1", "M1", v1::PAIRING_ROLE_TEACHING, "p-1"), &first).ok());
  EXPECT_EQ(lacking_teaching_at(*other), 11);
  AddNewTeacher("N13");  // learned from the profile service by either instance
  EXPECT_EQ(lacking_teaching_at(*other), 12);

  // The log trimmed past the other's copy, then a write: the copy is read whole.
  ASSERT_GE(Count({"ZREMRANGEBYRANK", "mentorship:{c:330723}:changes", "0", "-1"}), 1);
  ASSERT_TRUE(Create(Pair("N2", "M1", v1::PAIRING_ROLE_TEACHING, "p-2")).ok());
  EXPECT_EQ(lacking_teaching_at(*other), 11);
  // A write the log never heard of (the counter moved with no record) is not patched over.
  ASSERT_TRUE(redis_.pool().Command({"HDEL", "mentorship:{c:330723}:teachers", "N13"}).ok());
  ASSERT_GE(Count({"INCR", "mentorship:{c:330723}:writes"}), 1);
  ASSERT_TRUE(Create(Pair("N3", "M2", v1::PAIRING_ROLE_TEACHING, "p-3")).ok());
  EXPECT_EQ(lacking_teaching_at(*other), 9);

  // Concurrent writers through this instance while the other refreshes: none is lost.
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done) lacking_teaching_at(*other);
  });
  std::vector<std::thread> writers;
  for (int i = 4; i <= 11; ++i) {
    writers.emplace_back([&, i] {
      grpc::Status s = Create(Pair(absl::StrCat("N", i), absl::StrCat("M", 3 + i % 4),
                                   v1::PAIRING_ROLE_TEACHING, absl::StrCat("p-", i)));
      EXPECT_TRUE(s.ok()) << s.error_message();
    });
  }
  for (std::thread& t : writers) t.join();
  EXPECT_EQ(lacking_teaching_at(*other), 1);  // N12 alone
  done = true;
  reader.join();
}

// A copy patched from the change log holds what a copy read whole holds: after a teacher learned,
// one who moved school, one who left the county, a school learned after its teacher and a pairing,
// an instance that kept patching its copy and one started afterwards (which reads the county whole)
// give the same listings, which leave out the teacher who left and place the one who moved.
TEST_F(MentorshipServiceTest, APatchedCopyAnswersAsACopyReadWhole) {
  for (int i = 1; i <= 4; ++i) AddNewTeacher(absl::StrCat("N", i));
  AddNewTeacher("N5", kOtherSchool);
  for (int i = 1; i <= 3; ++i) AddMentor(absl::StrCat("M", i));
  AddMentor("M4", kOtherSchool);
  const std::string before = ListingsVia(*stub_);  // this instance holds a copy now

  AddNewTeacher("N6", kRuralSchool);
  AddMentor("M5", "S330723-new");  // a school the copy learns of after its teacher
  AddSchool("S330723-new", pv1::SCHOOL_LOCATION_URBAN);
  pv1::TimelineEntry moved;
  moved.set_entry_id("E-move");
  moved.set_teacher_id("N2");
  moved.set_occurred_on("2025-10-01");
  moved.mutable_school_change()->set_from_school_id(kSchool);
  moved.mutable_school_change()->set_to_school_id(kOtherSchool);
  Publish(kCounty, "profile.moved_school", "N2", moved, "2025-10-01");
  pv1::TimelineEntry left;
  left.set_entry_id("E-transfer");
  left.set_teacher_id("N3");
  left.set_occurred_on("2025-10-01");
  left.mutable_transfer()->set_from_county_id(kCounty);
  left.mutable_transfer()->set_to_county_id("330724");
  left.mutable_transfer()->set_to_school_id("S330724-a");
  Publish(kCounty, "profile.transferred_county", "N3", left, "2025-10-01");
  ASSERT_TRUE(Create(Pair("N1", "M1", v1::PAIRING_ROLE_TEACHING, "p-1")).ok());

  const std::string patched = ListingsVia(*stub_);
  EXPECT_NE(patched, before);
  EXPECT_THAT(patched, HasSubstr("\"N6\""));
  EXPECT_THAT(patched, ::testing::Not(HasSubstr("\"N3\"")));
  v1::ListUnpairedRequest req;
  req.set_county_id(kCounty);
  req.set_school_id(kOtherSchool);
  v1::ListUnpairedResponse of_school;
  ASSERT_TRUE(Call(&v1::MentorshipService::Stub::ListUnpaired, hr_, req, &of_school).ok());
  std::vector<std::string> listed;
  for (const v1::UnpairedTeacher& t : of_school.teachers()) listed.push_back(t.teacher_id());
  EXPECT_THAT(listed, ::testing::ElementsAre("N2", "N5"));
  auto process = testing::ServiceProcess::Start(SHIDANG_MENTORSHIP_BINARY, CommonArgs());
  ASSERT_TRUE(process.ok()) << process.status();
  std::unique_ptr<testing::ServiceProcess> second = std::move(*process);
  auto fresh = v1::MentorshipService::NewStub(
      grpc::CreateChannel(second->address(), grpc::InsecureChannelCredentials()));
  EXPECT_EQ(ListingsVia(*fresh), patched);
}

// A stored teacher copy that does not parse fails the county's listings with DATA_LOSS, garbled
// or naming a teacher who left the county: the listings leave that teacher out, but a copy is
// placed by its school and id before it is decoded, and one left out is still read whole. Once it
// is gone the listings answer as before.
TEST_F(MentorshipServiceTest, AnUnreadableStoredTeacherFailsTheListingsThoughTheyLeaveItOut) {
  AddNewTeacher("N1");
  AddMentor("M1");
  const std::string before = ListingsVia(*stub_);
  v1::TeacherCopy left;
  left.set_teacher_id("X1");
  left.set_county_id(kCounty);
  left.set_school_id(kSchool);
  left.set_transferred_to_county_id("330724");
  left.set_name("\xe6\x95");  // a character cut short: not UTF-8, which protobuf refuses to parse
  const std::string teachers = "mentorship:{c:330723}:teachers";
  for (const std::string& bytes : {std::string("\x0a\xff\xff", 3), left.SerializeAsString()}) {
    ASSERT_TRUE(redis_.pool().Command({"HSET", teachers, "X1", bytes}).ok());
    // A write the change log missed: the county is read whole.
    ASSERT_GE(Count({"INCR", "mentorship:{c:330723}:writes"}), 1);
    v1::ListUnpairedRequest req;
    req.set_county_id(kCounty);
    v1::ListUnpairedResponse resp;
    grpc::Status s = Call(&v1::MentorshipService::Stub::ListUnpaired, hr_, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::DATA_LOSS) << s.error_message();
    ASSERT_EQ(Count({"HDEL", teachers, "X1"}), 1);
    ASSERT_GE(Count({"INCR", "mentorship:{c:330723}:writes"}), 1);
    EXPECT_EQ(ListingsVia(*stub_), before);
  }
}

// The listings walk the county by school, then teacher id in byte order, whatever the ids' lengths
// and however many leading characters they share, in a copy read whole and in one patched.
TEST_F(MentorshipServiceTest, ListingsWalkTheCountyBySchoolThenId) {
  for (const auto& [id, school] :
       std::vector<std::pair<std::string, std::string>>{{"N20240000012", kOtherSchool},
                                                        {"N2", kSchool},
                                                        {"N20240000003", kSchool},
                                                        {"N10", kOtherSchool},
                                                        {"N202400001", kSchool},
                                                        {"N1", kSchool},
                                                        {"N2024000", kSchool}}) {
    AddNewTeacher(id, school);
  }
  auto listed = [&] {
    v1::ListUnpairedRequest req;
    req.set_county_id(kCounty);
    v1::ListUnpairedResponse resp;
    grpc::Status s = Call(&v1::MentorshipService::Stub::ListUnpaired, hr_, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> ids;
    for (const v1::UnpairedTeacher& t : resp.teachers()) ids.push_back(t.teacher_id());
    return ids;
  };
  EXPECT_THAT(listed(), ::testing::ElementsAre("N1", "N2", "N2024000", "N20240000003", "N202400001",
                                               "N10", "N20240000012"));
  AddNewTeacher("N20240000005");  // patched in
  EXPECT_THAT(listed(),
              ::testing::ElementsAre("N1", "N2", "N2024000", "N20240000003", "N20240000005",
                                     "N202400001", "N10", "N20240000012"));
}

TEST_F(MentorshipServiceTest, UnpairedSuggestionsAndABatchOfThem) {
  AddNewTeacher("N1");
  AddNewTeacher("N2");
  AddNewTeacher("N3", kOtherSchool);
  AddMentor("M1");
  AddMentor("M2", kOtherSchool);
  v1::ListUnpairedRequest unpaired;
  unpaired.set_county_id(kCounty);
  v1::ListUnpairedResponse lacking;
  ASSERT_TRUE(Call(&v1::MentorshipService::Stub::ListUnpaired, hr_, unpaired, &lacking).ok());
  EXPECT_EQ(lacking.teachers_size(), 3);
  EXPECT_EQ(lacking.lacking_teaching(), 3);
  EXPECT_EQ(lacking.lacking_second(), 3);

  v1::SuggestPairingsRequest suggest;
  suggest.set_county_id(kCounty);
  suggest.set_role(v1::PAIRING_ROLE_TEACHING);
  suggest.set_start_date("2025-09-01");
  v1::SuggestPairingsResponse suggested;
  grpc::Status s = Call(&v1::MentorshipService::Stub::SuggestPairings, hr_, suggest, &suggested);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(suggested.suggestions_size(), 3);
  EXPECT_EQ(Pairings(), 0);  // suggestions write nothing
  v1::CreatePairingsRequest batch;
  batch.set_request_id("batch-1");
  for (const v1::PairingSuggestion& x : suggested.suggestions()) {
    EXPECT_EQ(x.mentor_id(), x.mentee_school_id() == kSchool ? "M1" : "M2") << x.mentee_id();
    v1::PairingInput* in = batch.add_pairings();
    in->set_role(x.role());
    in->set_mentee_id(x.mentee_id());
    in->set_mentor_id(x.mentor_id());
    in->set_start_date("2025-09-01");
  }
  v1::PairingInput* bad = batch.add_pairings();
  bad->set_role(v1::PAIRING_ROLE_TEACHING);
  bad->set_mentee_id("N3");
  bad->set_mentor_id("M1");
  v1::CreatePairingsResponse made;
  s = Call(&v1::MentorshipService::Stub::CreatePairings, hr_, batch, &made);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(made.created(), 3);
  EXPECT_EQ(made.refused(), 1);
  ASSERT_EQ(made.rows_size(), 4);
  EXPECT_EQ(made.rows(3).refusal().reason(), v1::REFUSAL_REASON_SCHOOL) << made.DebugString();
  // A retried batch answers every row as before and creates nothing twice.
  v1::CreatePairingsResponse again;
  ASSERT_TRUE(Call(&v1::MentorshipService::Stub::CreatePairings, hr_, batch, &again).ok());
  EXPECT_EQ(again.rows(0).pairing().pairing_id(), made.rows(0).pairing().pairing_id());
  EXPECT_EQ(Pairings(), 3);

  ASSERT_TRUE(Call(&v1::MentorshipService::Stub::ListUnpaired, hr_, unpaired, &lacking).ok());
  EXPECT_EQ(lacking.lacking_teaching(), 0);
  EXPECT_EQ(lacking.lacking_second(), 3);
  // M1 is full (N1, N2); M2 has a free place for N1 as SECOND mentor.
  v1::SuggestMentorsRequest mentors;
  mentors.set_mentee_id("N1");
  mentors.set_role(v1::PAIRING_ROLE_SECOND);
  v1::SuggestMentorsResponse ranked;
  s = Call(&v1::MentorshipService::Stub::SuggestMentors, hr_, mentors, &ranked);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(ranked.mentors_size(), 1);
  EXPECT_EQ(ranked.mentors(0).mentor_id(), "M2");
  EXPECT_EQ(ranked.mentors(0).active_mentees(), 1);
  EXPECT_EQ(ranked.mentors(0).capacity(), 2);
}

TEST_F(MentorshipServiceTest, TheCountysPolicyVersionSetsTheCapacity) {
  AddNewTeacher("N1");
  AddNewTeacher("N2");
  AddMentor("M1");
  v1::SetMentorshipPolicyRequest set;
  set.set_request_id("policy-1");
  set.set_level(common::v1::POLICY_LEVEL_COUNTY);
  set.set_region(kCounty);
  set.set_effective_from("2025-01-01");
  set.mutable_mentorship()->set_max_mentees(1);
  v1::SetMentorshipPolicyResponse version;
  EXPECT_EQ(Call(&v1::MentorshipService::Stub::SetMentorshipPolicy,
                 Who(common::v1::ROLE_COUNTY_HR, "far", "330781"), set, &version)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status s = Call(&v1::MentorshipService::Stub::SetMentorshipPolicy, hr_, set, &version);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::GetMentorshipPolicyRequest get;
  get.set_county_id(kCounty);
  v1::GetMentorshipPolicyResponse policy;
  ASSERT_TRUE(Call(&v1::MentorshipService::Stub::GetMentorshipPolicy,
                   Who(common::v1::ROLE_TEACHER, "N1"), get, &policy)
                  .ok());
  EXPECT_EQ(policy.resolved().policy().mentorship().max_mentees(), 1);
  bool from_county = false;
  for (const common::v1::PolicySource& source : policy.resolved().sources()) {
    if (source.field() == "mentorship.max_mentees") {
      from_county = source.level() == common::v1::POLICY_LEVEL_COUNTY;
    }
  }
  EXPECT_TRUE(from_county) << policy.DebugString();
  ASSERT_TRUE(Create(Pair("N1", "M1", v1::PAIRING_ROLE_TEACHING, "p-1")).ok());
  s = Create(Pair("N2", "M1", v1::PAIRING_ROLE_TEACHING, "p-2"));
  EXPECT_THAT(RulesOf(s), ::testing::Contains("CAPACITY")) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("capacity is 1"));
}

}  // namespace
}  // namespace shidang::mentorship
