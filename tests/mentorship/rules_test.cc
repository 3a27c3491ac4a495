// The mentorship rules (services/mentorship/rules.h) at their boundaries: new teacher, mentor
// years, veto periods' first and last days, each refusal with its field and figures.

#include "services/mentorship/rules.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/policy.h"

namespace shidang::mentorship {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

absl::CivilDay D(int y, int m, int d) { return absl::CivilDay(y, m, d); }

const MentorshipPolicy& P() { return DefaultMentorshipPolicy(); }

// A qualified mentor at school S1 (城区) teaching 数学: 一级, hired 2010-09-01, on duty.
TeacherFacts Mentor(const std::string& id) {
  TeacherFacts t;
  t.teacher_id = id;
  t.county_id = "440305";
  t.school_id = "S1";
  t.school_location = profile::v1::SCHOOL_LOCATION_URBAN;
  t.subjects = {"数学"};
  t.hire_date = D(2010, 9, 1);
  t.title = common::v1::PROFESSIONAL_TITLE_FIRST_GRADE;
  return t;
}

// A new teacher at S1 teaching 数学, hired 2024-09-01, 三级.
TeacherFacts Mentee(const std::string& id) {
  TeacherFacts t = Mentor(id);
  t.hire_date = D(2024, 9, 1);
  t.title = common::v1::PROFESSIONAL_TITLE_THIRD_GRADE;
  return t;
}

PairingRequest Request(const TeacherFacts& mentee, const TeacherFacts& mentor, Role role,
                       absl::CivilDay start = D(2025, 9, 1)) {
  return PairingRequest{mentee.teacher_id, mentor.teacher_id, role, start,
                        dates::ShiftYears(start, 1) - 1};
}

Pairing Active(const std::string& id, const std::string& mentee, const std::string& mentor,
               Role role) {
  Pairing p;
  p.pairing_id = id;
  p.mentee_id = mentee;
  p.mentor_id = mentor;
  p.role = role;
  p.start = D(2025, 3, 1);
  p.planned_end = D(2026, 2, 28);
  return p;
}

std::vector<Refusal> Reasons(const std::vector<Problem>& problems) {
  std::vector<Refusal> out;
  out.reserve(problems.size());
  for (const Problem& p : problems) out.push_back(p.reason);
  return out;
}

std::vector<Problem> Check(const TeacherFacts& mentee, const TeacherFacts& mentor, Role role,
                           absl::CivilDay start = D(2025, 9, 1),
                           const std::vector<Pairing>& pairings = {},
                           const MentorshipPolicy& policy = P()) {
  return CheckPairing(Request(mentee, mentor, role, start), mentee, mentor, pairings, policy);
}

// ---------------------------------------------------------------------------------------------
// Policy.

TEST(MentorshipPolicyTest, DefaultsAreDomains) {
  const MentorshipPolicy& p = P();
  EXPECT_EQ(p.new_teacher_years, 5);
  EXPECT_EQ(p.mentor_min_title, common::v1::PROFESSIONAL_TITLE_FIRST_GRADE);
  EXPECT_TRUE(p.backbone_qualifies);
  EXPECT_EQ(p.mentor_min_teaching_years, 5);
  EXPECT_EQ(p.max_mentees, 2);
  EXPECT_EQ(p.lessons_observed_per_term, 8);
  EXPECT_EQ(p.lessons_coached_per_term, 8);
  EXPECT_EQ(p.public_lessons_per_term, 1);
  EXPECT_EQ(p.guidance_sessions_per_term, 0);
  EXPECT_EQ(p.evaluations_per_term, 1);
  EXPECT_THAT(p.term_starts, ElementsAre(MonthDay{9, 1}, MonthDay{3, 1}));
  EXPECT_EQ(p.warning_veto_months, 6);
  EXPECT_EQ(p.demerit_veto_months, 12);
  EXPECT_EQ(p.demotion_veto_months, 24);
  EXPECT_EQ(p.dismissal_veto_months, 24);
}

TEST(MentorshipPolicyTest, ResolvedFieldsOverrideAndListsReplaceWhole) {
  common::v1::Policy resolved;
  resolved.mutable_mentorship()->set_max_mentees(3);
  resolved.mutable_mentorship()->set_backbone_qualifies(false);
  resolved.mutable_ethics()->set_warning_months(3);
  auto* terms = resolved.mutable_mentorship()->mutable_terms();
  terms->add_terms()->set_start("08-25");
  terms->add_terms()->set_start("02-20");
  absl::StatusOr<MentorshipPolicy> p = MentorshipPolicyFrom(resolved);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->max_mentees, 3);
  EXPECT_FALSE(p->backbone_qualifies);
  EXPECT_EQ(p->warning_veto_months, 3);
  EXPECT_EQ(p->demerit_veto_months, 12);
  EXPECT_EQ(p->lessons_observed_per_term, 8);
  EXPECT_THAT(p->term_starts, ElementsAre(MonthDay{8, 25}, MonthDay{2, 20}));
}

TEST(MentorshipPolicyTest, TermsTheRulesCannotUseAreRefused) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{}, "no terms"},
      {{"09-01", "09-01"}, "terms[1].start: '09-01' starts another term already"},
      {{"09-01", "02-29"}, "terms[1].start: '02-29' is not MM-DD"},
      {{"9-1"}, "terms[0].start: '9-1' is not MM-DD"},
      {{"09-01", "03-01", "01-15"}, "terms[2].start: '01-15' does not follow"},
  };
  for (const auto& [starts, message] : cases) {
    common::v1::Policy resolved;
    auto* terms = resolved.mutable_mentorship()->mutable_terms();
    for (const std::string& s : starts) terms->add_terms()->set_start(s);
    absl::StatusOr<MentorshipPolicy> p = MentorshipPolicyFrom(resolved);
    ASSERT_FALSE(p.ok()) << message;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(p.status().message()), HasSubstr(message));
  }
  // Wrapping into the next calendar year once, in order, is fine.
  common::v1::Policy resolved;
  for (const char* s : {"03-01", "09-01", "01-10"}) {
    resolved.mutable_mentorship()->mutable_terms()->add_terms()->set_start(s);
  }
  EXPECT_TRUE(MentorshipPolicyFrom(resolved).ok());
}

// ---------------------------------------------------------------------------------------------
// New teacher, years, stage.

TEST(IsNewTeacherTest, FromTheHireDayThroughTheDayBeforeFiveYears) {
  TeacherFacts t = Mentee("T1");
  t.hire_date = D(2020, 9, 1);
  EXPECT_FALSE(IsNewTeacher(t, D(2020, 8, 31), P()));
  EXPECT_TRUE(IsNewTeacher(t, D(2020, 9, 1), P()));
  EXPECT_TRUE(IsNewTeacher(t, D(2025, 8, 31), P()));
  EXPECT_FALSE(IsNewTeacher(t, D(2025, 9, 1), P()));

  // 29 February: five years later is 2025-03-01 (DOMAIN §6's shift).
  t.hire_date = D(2020, 2, 29);
  EXPECT_TRUE(IsNewTeacher(t, D(2025, 2, 28), P()));
  EXPECT_FALSE(IsNewTeacher(t, D(2025, 3, 1), P()));

  MentorshipPolicy three = P();
  three.new_teacher_years = 3;
  t.hire_date = D(2020, 9, 1);
  EXPECT_TRUE(IsNewTeacher(t, D(2023, 8, 31), three));
  EXPECT_FALSE(IsNewTeacher(t, D(2023, 9, 1), three));
}

TEST(TeachingYearsTest, WholeYearsOnTheDay) {
  TeacherFacts t = Mentor("M1");
  t.hire_date = D(2020, 9, 1);
  EXPECT_EQ(TeachingYears(t, D(2020, 8, 31)), 0);
  EXPECT_EQ(TeachingYears(t, D(2020, 9, 1)), 0);
  EXPECT_EQ(TeachingYears(t, D(2025, 8, 31)), 4);
  EXPECT_EQ(TeachingYears(t, D(2025, 9, 1)), 5);
  t.hire_date = D(2016, 2, 29);
  EXPECT_EQ(TeachingYears(t, D(2021, 2, 28)), 4);
  EXPECT_EQ(TeachingYears(t, D(2021, 3, 1)), 5);
}

TEST(StageOnTest, YearOneThenTwoToThreeThenFourToFive) {
  TeacherFacts t = Mentee("T1");
  t.hire_date = D(2020, 9, 1);
  EXPECT_EQ(StageOn(t, D(2020, 8, 31)), Stage::kNone);
  EXPECT_EQ(StageOn(t, D(2020, 9, 1)), Stage::kYear1);
  EXPECT_EQ(StageOn(t, D(2021, 8, 31)), Stage::kYear1);
  EXPECT_EQ(StageOn(t, D(2021, 9, 1)), Stage::kYears2To3);
  EXPECT_EQ(StageOn(t, D(2023, 8, 31)), Stage::kYears2To3);
  EXPECT_EQ(StageOn(t, D(2023, 9, 1)), Stage::kYears4To5);
  EXPECT_EQ(StageOn(t, D(2025, 8, 31)), Stage::kYears4To5);
  EXPECT_EQ(StageOn(t, D(2025, 9, 1)), Stage::kNone);
  EXPECT_EQ(StageName(Stage::kYears2To3), "YEARS_2_3");
  EXPECT_EQ(StageGoal(Stage::kYear1), "上好一节完整、规范的课");
  EXPECT_EQ(StageGoal(Stage::kNone), "");
}

// ---------------------------------------------------------------------------------------------
// Vetoes.

TEST(VetoTest, ActiveFromTheFindingThroughTheDayBeforeShiftedMonths) {
  TeacherFacts t = Mentor("M1");
  t.ethics_findings.push_back({common::v1::ETHICS_SEVERITY_WARNING, D(2025, 3, 15), {}});
  EXPECT_EQ(ActiveVeto(t, D(2025, 3, 14), P()), nullptr);
  EXPECT_NE(ActiveVeto(t, D(2025, 3, 15), P()), nullptr);
  EXPECT_NE(ActiveVeto(t, D(2025, 9, 14), P()), nullptr);
  EXPECT_EQ(ActiveVeto(t, D(2025, 9, 15), P()), nullptr);

  // A day the target month lacks: 2025-08-31 + 6 months is 2026-03-01, so the last day is
  // 2026-02-28.
  t.ethics_findings = {{common::v1::ETHICS_SEVERITY_WARNING, D(2025, 8, 31), {}}};
  std::optional<dates::Period> period = VetoPeriod(t.ethics_findings[0], P());
  ASSERT_TRUE(period.has_value());
  EXPECT_EQ(period->first, D(2025, 8, 31));
  EXPECT_EQ(period->last, D(2026, 2, 28));
  EXPECT_NE(ActiveVeto(t, D(2026, 2, 28), P()), nullptr);
  EXPECT_EQ(ActiveVeto(t, D(2026, 3, 1), P()), nullptr);
}

TEST(VetoTest, MonthsBySeverityOrAsRecorded) {
  const auto months = [](common::v1::EthicsSeverity s, std::optional<int> own = {}) {
    return VetoMonths(EthicsFinding{s, D(2025, 1, 1), own}, P());
  };
  EXPECT_EQ(months(common::v1::ETHICS_SEVERITY_WARNING), 6);
  EXPECT_EQ(months(common::v1::ETHICS_SEVERITY_DEMERIT), 12);
  EXPECT_EQ(months(common::v1::ETHICS_SEVERITY_DEMOTION), 24);
  EXPECT_EQ(months(common::v1::ETHICS_SEVERITY_DISMISSAL), 24);
  EXPECT_EQ(months(common::v1::ETHICS_SEVERITY_UNSPECIFIED), 0);
  EXPECT_EQ(months(common::v1::ETHICS_SEVERITY_WARNING, 9), 9);
  EXPECT_FALSE(
      VetoPeriod(EthicsFinding{common::v1::ETHICS_SEVERITY_UNSPECIFIED, D(2025, 1, 1), {}}, P())
          .has_value());
  EXPECT_FALSE(VetoPeriod(EthicsFinding{common::v1::ETHICS_SEVERITY_DEMERIT, D(2025, 1, 1), 0}, P())
                   .has_value());
}

TEST(VetoTest, TheVetoEndingLastIsReported) {
  TeacherFacts t = Mentor("M1");
  t.ethics_findings = {{common::v1::ETHICS_SEVERITY_DEMERIT, D(2024, 6, 1), {}},
                       {common::v1::ETHICS_SEVERITY_WARNING, D(2025, 1, 1), {}}};
  const EthicsFinding* veto = ActiveVeto(t, D(2025, 3, 1), P());
  ASSERT_NE(veto, nullptr);
  EXPECT_EQ(veto->date, D(2025, 1, 1));  // through 2025-06-30, the demerit through 2025-05-31
  veto = ActiveVeto(t, D(2025, 6, 1), P());
  ASSERT_NE(veto, nullptr);
  EXPECT_EQ(veto->severity, common::v1::ETHICS_SEVERITY_WARNING);
}

// ---------------------------------------------------------------------------------------------
// CheckPairing.

TEST(CheckPairingTest, AQualifiedPairPasses) {
  EXPECT_THAT(Check(Mentee("T1"), Mentor("M1"), Role::kTeaching), IsEmpty());
  TeacherFacts outside = Mentor("M2");
  outside.school_id = "S9";
  outside.subjects = {"物理"};
  EXPECT_THAT(Check(Mentee("T1"), outside, Role::kSecond), IsEmpty());
  // A SECOND mentor may also be at the mentee's school.
  EXPECT_THAT(Check(Mentee("T1"), Mentor("M1"), Role::kSecond), IsEmpty());
}

TEST(CheckPairingTest, SelfCountyAndPlannedEnd) {
  TeacherFacts t = Mentor("M1");
  t.hire_date = D(2024, 9, 1);
  std::vector<Problem> problems = Check(t, t, Role::kSecond);
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems[0].reason, Refusal::kSelf);
  EXPECT_EQ(problems[0].field, kFieldMentorId);

  TeacherFacts other_county = Mentor("M2");
  other_county.county_id = "440306";
  problems = Check(Mentee("T1"), other_county, Role::kSecond);
  EXPECT_THAT(Reasons(problems), ElementsAre(Refusal::kCounty));
  EXPECT_THAT(problems[0].message, HasSubstr("county 440306"));

  PairingRequest r = Request(Mentee("T1"), Mentor("M1"), Role::kTeaching);
  r.planned_end = r.start - 1;
  problems = CheckPairing(r, Mentee("T1"), Mentor("M1"), {}, P());
  EXPECT_THAT(Reasons(problems), ElementsAre(Refusal::kPlannedEnd));
  EXPECT_EQ(problems[0].field, kFieldPlannedEnd);
  r.planned_end = r.start;
  EXPECT_THAT(CheckPairing(r, Mentee("T1"), Mentor("M1"), {}, P()), IsEmpty());
}

TEST(CheckPairingTest, MenteeIsNewOnTheStartDay) {
  TeacherFacts mentee = Mentee("T1");
  mentee.hire_date = D(2020, 9, 1);
  EXPECT_THAT(Check(mentee, Mentor("M1"), Role::kTeaching, D(2025, 8, 31)), IsEmpty());
  std::vector<Problem> problems = Check(mentee, Mentor("M1"), Role::kTeaching, D(2025, 9, 1));
  ASSERT_THAT(Reasons(problems), ElementsAre(Refusal::kMenteeNotNew));
  EXPECT_EQ(problems[0].field, kFieldMenteeId);
  EXPECT_EQ(problems[0].message,
            "mentee T1 was hired on 2020-09-01 and is a new teacher (first 5 years) from then "
            "through 2025-08-31, not on the start 2025-09-01");
  // Hired after the start.
  mentee.hire_date = D(2025, 9, 2);
  EXPECT_THAT(Reasons(Check(mentee, Mentor("M1"), Role::kTeaching, D(2025, 9, 1))),
              ElementsAre(Refusal::kMenteeNotNew));
}

TEST(CheckPairingTest, InService) {
  TeacherFacts mentee = Mentee("T1");
  TeacherFacts mentor = Mentor("M1");
  for (auto status : {profile::v1::POST_STATUS_SICK_LEAVE, profile::v1::POST_STATUS_MATERNITY_LEAVE,
                      profile::v1::POST_STATUS_SECONDED}) {
    mentee.post_status = status;
    EXPECT_THAT(Check(mentee, mentor, Role::kTeaching), IsEmpty()) << status;
  }
  for (auto status : {profile::v1::POST_STATUS_RETIRED, profile::v1::POST_STATUS_LEFT,
                      profile::v1::POST_STATUS_UNSPECIFIED}) {
    mentee.post_status = status;
    EXPECT_THAT(Reasons(Check(mentee, mentor, Role::kTeaching)),
                ElementsAre(Refusal::kMenteeNotInService))
        << status;
  }
  mentee.post_status = profile::v1::POST_STATUS_ON_DUTY;
  mentor.post_status = profile::v1::POST_STATUS_SECONDED;
  EXPECT_THAT(Check(mentee, mentor, Role::kTeaching), IsEmpty());
  for (auto status : {profile::v1::POST_STATUS_SICK_LEAVE, profile::v1::POST_STATUS_MATERNITY_LEAVE,
                      profile::v1::POST_STATUS_RETIRED, profile::v1::POST_STATUS_LEFT,
                      profile::v1::POST_STATUS_UNSPECIFIED}) {
    mentor.post_status = status;
    std::vector<Problem> problems = Check(mentee, mentor, Role::kTeaching);
    EXPECT_THAT(Reasons(problems), ElementsAre(Refusal::kMentorNotInService)) << status;
    EXPECT_THAT(problems[0].message, HasSubstr(profile::v1::PostStatus_Name(status)));
  }
}

TEST(CheckPairingTest, MentorTitleOrBackbone) {
  TeacherFacts mentor = Mentor("M1");
  mentor.title = common::v1::PROFESSIONAL_TITLE_SECOND_GRADE;
  std::vector<Problem> problems = Check(Mentee("T1"), mentor, Role::kTeaching);
  ASSERT_THAT(Reasons(problems), ElementsAre(Refusal::kMentorTitle));
  EXPECT_EQ(problems[0].message,
            "mentor M1 holds title 二级 and no backbone designation; a mentor needs at least 一级 "
            "or a backbone designation");
  mentor.backbone_tier = common::v1::BACKBONE_TIER_COUNTY;
  EXPECT_THAT(Check(Mentee("T1"), mentor, Role::kTeaching), IsEmpty());
  MentorshipPolicy strict = P();
  strict.backbone_qualifies = false;
  EXPECT_THAT(Reasons(Check(Mentee("T1"), mentor, Role::kTeaching, D(2025, 9, 1), {}, strict)),
              ElementsAre(Refusal::kMentorTitle));
  mentor.title = common::v1::PROFESSIONAL_TITLE_SENIOR;
  EXPECT_THAT(Check(Mentee("T1"), mentor, Role::kTeaching, D(2025, 9, 1), {}, strict), IsEmpty());
}

TEST(CheckPairingTest, MentorYearsExactly) {
  TeacherFacts mentor = Mentor("M1");
  mentor.hire_date = D(2020, 9, 1);
  TeacherFacts mentee = Mentee("T1");
  EXPECT_THAT(Check(mentee, mentor, Role::kTeaching, D(2025, 9, 1)), IsEmpty());
  std::vector<Problem> problems = Check(mentee, mentor, Role::kTeaching, D(2025, 8, 31));
  ASSERT_THAT(Reasons(problems), ElementsAre(Refusal::kMentorYears));
  EXPECT_EQ(problems[0].message,
            "mentor M1 has 4 whole years of teaching on 2025-08-31 (hired 2020-09-01); a mentor "
            "needs 5");
}

TEST(CheckPairingTest, MentorVetoOnItsFirstAndLastDays) {
  TeacherFacts mentor = Mentor("M1");
  mentor.ethics_findings = {{common::v1::ETHICS_SEVERITY_DEMERIT, D(2024, 9, 2), {}}};
  const TeacherFacts mentee = Mentee("T1");
  // 12 months from 2024-09-02: through 2025-09-01.
  std::vector<Problem> problems = Check(mentee, mentor, Role::kTeaching, D(2025, 9, 1));
  ASSERT_THAT(Reasons(problems), ElementsAre(Refusal::kMentorVeto));
  EXPECT_EQ(problems[0].message,
            "mentor M1 is under an ethics veto (ETHICS_SEVERITY_DEMERIT of 2024-09-02, 12 months) "
            "from 2024-09-02 through 2025-09-01, covering the start 2025-09-01");
  EXPECT_THAT(Check(mentee, mentor, Role::kTeaching, D(2025, 9, 2)), IsEmpty());
  EXPECT_THAT(Check(mentee, mentor, Role::kTeaching, D(2024, 9, 1)), IsEmpty());
  EXPECT_THAT(Reasons(Check(mentee, mentor, Role::kTeaching, D(2024, 9, 2))),
              ElementsAre(Refusal::kMentorVeto));
}

TEST(CheckPairingTest, TeachingMentorAtTheSchoolSharingASubject) {
  TeacherFacts mentor = Mentor("M1");
  mentor.school_id = "S2";
  std::vector<Problem> problems = Check(Mentee("T1"), mentor, Role::kTeaching);
  ASSERT_THAT(Reasons(problems), ElementsAre(Refusal::kSchool));
  EXPECT_EQ(problems[0].message,
            "mentor M1 is at school S2, mentee T1 at S1; a TEACHING mentor is at the mentee's "
            "school");
  mentor.school_id = "S1";
  mentor.subjects = {"语文", "英语"};
  TeacherFacts mentee = Mentee("T1");
  mentee.subjects = {"数学", "物理"};
  problems = Check(mentee, mentor, Role::kTeaching);
  ASSERT_THAT(Reasons(problems), ElementsAre(Refusal::kSubject));
  EXPECT_EQ(problems[0].message,
            "mentor M1 teaches 语文、英语, mentee T1 teaches 数学、物理; a TEACHING pairing shares "
            "a subject");
  mentor.subjects = {"语文", "物理"};
  EXPECT_THAT(Check(mentee, mentor, Role::kTeaching), IsEmpty());
}

TEST(CheckPairingTest, OneActiveMentorPerRoleAndTwoDifferentMentors) {
  const TeacherFacts mentee = Mentee("T1");
  const std::vector<Pairing> pairings = {Active("P1", "T1", "M9", Role::kTeaching)};
  std::vector<Problem> problems =
      Check(mentee, Mentor("M1"), Role::kTeaching, D(2025, 9, 1), pairings);
  ASSERT_THAT(Reasons(problems), ElementsAre(Refusal::kRoleTaken));
  EXPECT_EQ(problems[0].field, kFieldMenteeId);
  EXPECT_THAT(problems[0].message, HasSubstr("already has M9 as TEACHING mentor (pairing P1"));
  // The SECOND role is free; but not for M9, who is already the TEACHING mentor.
  EXPECT_THAT(Check(mentee, Mentor("M1"), Role::kSecond, D(2025, 9, 1), pairings), IsEmpty());
  problems = Check(mentee, Mentor("M9"), Role::kSecond, D(2025, 9, 1), pairings);
  EXPECT_THAT(Reasons(problems), ElementsAre(Refusal::kMentorHoldsOtherRole));
  // An ended pairing frees the role.
  std::vector<Pairing> ended = pairings;
  ended[0].ended_on = D(2025, 8, 31);
  EXPECT_THAT(Check(mentee, Mentor("M1"), Role::kTeaching, D(2025, 9, 1), ended), IsEmpty());
}

TEST(CheckPairingTest, CapacityCountsBothRolesAndNamesTheFigures) {
  const TeacherFacts mentor = Mentor("T123");
  std::vector<Pairing> pairings = {Active("P1", "A", "T123", Role::kTeaching)};
  EXPECT_THAT(Check(Mentee("T1"), mentor, Role::kTeaching, D(2025, 9, 1), pairings), IsEmpty());
  pairings.push_back(Active("P2", "B", "T123", Role::kSecond));
  std::vector<Problem> problems =
      Check(Mentee("T1"), mentor, Role::kTeaching, D(2025, 9, 1), pairings);
  ASSERT_THAT(Reasons(problems), ElementsAre(Refusal::kCapacity));
  EXPECT_EQ(problems[0].field, kFieldMentorId);
  EXPECT_EQ(problems[0].message, "mentor T123 already has 2 active mentees; capacity is 2");
  // An ended pairing frees its place; an urban-rural pair is counted apart.
  pairings[1].ended_on = D(2025, 6, 30);
  pairings.push_back(Active("P3", "C", "T123", Role::kUrbanRural));
  pairings.push_back(Active("P4", "D", "T123", Role::kUrbanRural));
  EXPECT_THAT(Check(Mentee("T1"), mentor, Role::kTeaching, D(2025, 9, 1), pairings), IsEmpty());
  EXPECT_EQ(ActiveCountFor("T123", Role::kSecond, pairings), 1);
  EXPECT_EQ(ActiveCountFor("T123", Role::kUrbanRural, pairings), 2);
  MentorshipPolicy three = P();
  three.max_mentees = 3;
  EXPECT_FALSE(CapacityProblem("T123", Role::kTeaching, 2, three).has_value());
  std::optional<Problem> full = CapacityProblem("T123", Role::kUrbanRural, 3, three);
  ASSERT_TRUE(full.has_value());
  EXPECT_EQ(full->message, "mentor T123 already has 3 active urban-rural partners; capacity is 3");
}

TEST(CheckPairingTest, UrbanRuralPairs) {
  TeacherFacts urban = Mentor("M1");
  urban.backbone_tier = common::v1::BACKBONE_TIER_CITY;
  TeacherFacts rural = Mentee("T1");
  rural.school_id = "S7";
  rural.school_location = profile::v1::SCHOOL_LOCATION_RURAL;
  rural.hire_date = D(2005, 9, 1);  // not new: urban-rural pairs are for any rural teacher
  EXPECT_THAT(Check(rural, urban, Role::kUrbanRural), IsEmpty());
  // The mentor's title and years do not matter; backbone and 城区 do.
  TeacherFacts young = urban;
  young.title = common::v1::PROFESSIONAL_TITLE_SECOND_GRADE;
  young.hire_date = D(2022, 9, 1);
  EXPECT_THAT(Check(rural, young, Role::kUrbanRural), IsEmpty());

  TeacherFacts town = urban;
  town.school_location = profile::v1::SCHOOL_LOCATION_TOWN;
  town.backbone_tier = common::v1::BACKBONE_TIER_UNSPECIFIED;
  std::vector<Problem> problems = Check(rural, town, Role::kUrbanRural);
  EXPECT_THAT(Reasons(problems),
              ElementsAre(Refusal::kUrbanRuralNotUrban, Refusal::kUrbanRuralNotBackbone));
  EXPECT_THAT(problems[0].message, HasSubstr("is 镇区"));

  TeacherFacts townee = rural;
  townee.school_location = profile::v1::SCHOOL_LOCATION_TOWN;
  townee.subjects = {"语文"};
  problems = Check(townee, urban, Role::kUrbanRural);
  EXPECT_THAT(Reasons(problems), ElementsAre(Refusal::kSubject, Refusal::kUrbanRuralNotRural));
  EXPECT_EQ(problems[1].field, kFieldMenteeId);

  urban.ethics_findings = {{common::v1::ETHICS_SEVERITY_WARNING, D(2025, 8, 1), {}}};
  EXPECT_THAT(Reasons(Check(rural, urban, Role::kUrbanRural)), ElementsAre(Refusal::kMentorVeto));
}

TEST(CheckPairingTest, EveryProblemIsReportedInOrder) {
  TeacherFacts mentor = Mentor("M1");
  mentor.school_id = "S2";
  mentor.subjects = {"音乐"};
  mentor.title = common::v1::PROFESSIONAL_TITLE_THIRD_GRADE;
  mentor.hire_date = D(2023, 9, 1);
  mentor.ethics_findings = {{common::v1::ETHICS_SEVERITY_DISMISSAL, D(2025, 1, 1), {}}};
  TeacherFacts mentee = Mentee("T1");
  mentee.hire_date = D(2015, 9, 1);
  const std::vector<Pairing> pairings = {Active("P1", "T1", "M8", Role::kTeaching),
                                         Active("P2", "X", "M1", Role::kSecond),
                                         Active("P3", "Y", "M1", Role::kSecond)};
  const std::vector<Problem> problems =
      Check(mentee, mentor, Role::kTeaching, D(2025, 9, 1), pairings);
  EXPECT_THAT(Reasons(problems),
              ElementsAre(Refusal::kMenteeNotNew, Refusal::kMentorTitle, Refusal::kMentorYears,
                          Refusal::kMentorVeto, Refusal::kSchool, Refusal::kSubject,
                          Refusal::kRoleTaken, Refusal::kCapacity));
  for (const Problem& p : problems) EXPECT_FALSE(p.message.empty()) << RefusalName(p.reason);
}

TEST(RefusalNameTest, TheProtosSuffixes) {
  EXPECT_EQ(RefusalName(Refusal::kMenteeNotNew), "MENTEE_NOT_NEW");
  EXPECT_EQ(RefusalName(Refusal::kMentorTitle), "MENTOR_TITLE");
  EXPECT_EQ(RefusalName(Refusal::kMentorYears), "MENTOR_YEARS");
  EXPECT_EQ(RefusalName(Refusal::kMentorVeto), "MENTOR_VETO");
  EXPECT_EQ(RefusalName(Refusal::kSubject), "SUBJECT");
  EXPECT_EQ(RefusalName(Refusal::kSchool), "SCHOOL");
  EXPECT_EQ(RefusalName(Refusal::kSelf), "SELF");
  EXPECT_EQ(RefusalName(Refusal::kCapacity), "CAPACITY");
  EXPECT_EQ(RefusalName(Refusal::kRoleTaken), "ROLE_TAKEN");
  EXPECT_EQ(RefusalName(Refusal::kUrbanRuralNotRural), "URBAN_RURAL_NOT_RURAL");
  EXPECT_EQ(RoleName(Role::kUrbanRural), "URBAN_RURAL");
}

// ---------------------------------------------------------------------------------------------
// Who lacks a mentor.

TEST(FindUnpairedTest, NewTeachersInServiceLackingOneOrBothMentors) {
  TeacherFacts both = Mentee("A");
  TeacherFacts teaching_only = Mentee("B");
  TeacherFacts neither = Mentee("C");
  TeacherFacts veteran = Mentor("D");
  TeacherFacts left = Mentee("E");
  left.post_status = profile::v1::POST_STATUS_LEFT;
  TeacherFacts second_ended = Mentee("F");
  std::vector<Pairing> pairings = {
      Active("P1", "A", "M1", Role::kTeaching), Active("P2", "A", "M2", Role::kSecond),
      Active("P3", "B", "M1", Role::kTeaching), Active("P4", "F", "M3", Role::kSecond),
      Active("P5", "F", "M4", Role::kTeaching), Active("P6", "C", "M5", Role::kUrbanRural)};
  pairings[3].ended_on = D(2025, 7, 1);
  const std::vector<Unpaired> unpaired = FindUnpaired(
      {both, teaching_only, neither, veteran, left, second_ended}, pairings, D(2025, 9, 1), P());
  ASSERT_EQ(unpaired.size(), 3u);
  EXPECT_EQ(unpaired[0].teacher_id, "B");
  EXPECT_FALSE(unpaired[0].lacks_teaching);
  EXPECT_TRUE(unpaired[0].lacks_second);
  EXPECT_EQ(unpaired[1].teacher_id, "C");
  EXPECT_TRUE(unpaired[1].lacks_teaching);
  EXPECT_TRUE(unpaired[1].lacks_second);
  EXPECT_EQ(unpaired[2].teacher_id, "F");
  EXPECT_FALSE(unpaired[2].lacks_teaching);
  EXPECT_TRUE(unpaired[2].lacks_second);
  // Hired after the as-of day: not yet a new teacher.
  EXPECT_THAT(FindUnpaired({neither}, {}, D(2024, 8, 31), P()), IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// Judged on the start day: dated histories of title, backbone tier and post status, and the
// pairings running on a day.

TEST(HistoryTest, TheLatestChangeOnOrBeforeTheDayElseWhatHeldBeforeElseNow) {
  History<int> h;
  h.changes = {{D(2025, 9, 2), 3}, {D(2025, 3, 1), 2}, {D(2025, 9, 2), 4}};
  // No value known before the changes (a copy from before histories were kept): read as now.
  EXPECT_EQ(ValueOn(h, 9, D(2025, 2, 28)), 9);
  EXPECT_EQ(ValueOn(h, 9, D(2025, 3, 1)), 2);
  EXPECT_EQ(ValueOn(h, 9, D(2025, 9, 1)), 2);
  EXPECT_EQ(ValueOn(h, 9, D(2025, 9, 2)), 4);  // of two changes on one day, the later to arrive
  h.before = 1;
  EXPECT_EQ(ValueOn(h, 9, D(2025, 2, 28)), 1);
  EXPECT_EQ(ValueOn(History<int>{}, 9, D(2025, 2, 28)), 9);
}

TEST(OnTheStartDayTest, ATitleGainedTheDayAfterTheStartDoesNotQualify) {
  // The copy holds 一级 now; the title was conferred on 2025-09-02, the day after the start.
  TeacherFacts mentor = Mentor("M1");
  mentor.title_history.before = common::v1::PROFESSIONAL_TITLE_SECOND_GRADE;
  mentor.title_history.changes = {{D(2025, 9, 2), common::v1::PROFESSIONAL_TITLE_FIRST_GRADE}};
  std::vector<Problem> problems = Check(Mentee("T1"), mentor, Role::kTeaching, D(2025, 9, 1));
  ASSERT_THAT(Reasons(problems), ElementsAre(Refusal::kMentorTitle));
  EXPECT_THAT(problems[0].message, HasSubstr("held title 二级 and no backbone designation on the "
                                             "start 2025-09-01;"));
  EXPECT_THAT(Check(Mentee("T1"), mentor, Role::kTeaching, D(2025, 9, 2)), IsEmpty());
  // A backbone designation qualifies from its day, not before; one that lapses on the start
  // day no longer does.
  mentor.backbone_history.before = common::v1::BACKBONE_TIER_UNSPECIFIED;
  mentor.backbone_history.changes = {{D(2025, 9, 1), common::v1::BACKBONE_TIER_COUNTY}};
  EXPECT_THAT(Check(Mentee("T1"), mentor, Role::kTeaching, D(2025, 8, 31)),
              ElementsAre(::testing::Field(&Problem::reason, Refusal::kMentorTitle)));
  EXPECT_THAT(Check(Mentee("T1"), mentor, Role::kTeaching, D(2025, 9, 1)), IsEmpty());
  mentor.backbone_history.changes.push_back({D(2025, 9, 2), common::v1::BACKBONE_TIER_UNSPECIFIED});
  mentor.title_history.changes.clear();
  mentor.title = common::v1::PROFESSIONAL_TITLE_SECOND_GRADE;
  EXPECT_THAT(Check(Mentee("T1"), mentor, Role::kTeaching, D(2025, 9, 1)), IsEmpty());
  EXPECT_THAT(Reasons(Check(Mentee("T1"), mentor, Role::kTeaching, D(2025, 9, 2))),
              ElementsAre(Refusal::kMentorTitle));
  // An urban-rural partner is a backbone teacher on the start day.
  TeacherFacts rural = Mentee("T2");
  rural.school_location = profile::v1::SCHOOL_LOCATION_RURAL;
  EXPECT_THAT(Check(rural, mentor, Role::kUrbanRural, D(2025, 9, 1)), IsEmpty());
  EXPECT_THAT(Reasons(Check(rural, mentor, Role::kUrbanRural, D(2025, 8, 31))),
              ElementsAre(Refusal::kUrbanRuralNotBackbone));
}

TEST(OnTheStartDayTest, APostStatusChangingOnTheStartDayCounts) {
  // Retired on the start day: not in service that day; retired the day after: still was.
  TeacherFacts mentor = Mentor("M1");
  mentor.post_status = profile::v1::POST_STATUS_RETIRED;  // as the copy holds it now
  mentor.post_status_history.before = profile::v1::POST_STATUS_ON_DUTY;
  mentor.post_status_history.changes = {{D(2025, 9, 1), profile::v1::POST_STATUS_RETIRED}};
  std::vector<Problem> problems = Check(Mentee("T1"), mentor, Role::kTeaching, D(2025, 9, 1));
  ASSERT_THAT(Reasons(problems), ElementsAre(Refusal::kMentorNotInService));
  EXPECT_THAT(problems[0].message, HasSubstr("is POST_STATUS_RETIRED on the start 2025-09-01"));
  EXPECT_THAT(Check(Mentee("T1"), mentor, Role::kTeaching, D(2025, 8, 31)), IsEmpty());
  // Back from sick leave on the start day: a mentor again that day, not the day before.
  TeacherFacts back = Mentor("M2");
  back.post_status_history.before = profile::v1::POST_STATUS_ON_DUTY;
  back.post_status_history.changes = {{D(2025, 3, 1), profile::v1::POST_STATUS_SICK_LEAVE},
                                      {D(2025, 9, 1), profile::v1::POST_STATUS_ON_DUTY}};
  EXPECT_THAT(Check(Mentee("T1"), back, Role::kTeaching, D(2025, 9, 1)), IsEmpty());
  EXPECT_THAT(Reasons(Check(Mentee("T1"), back, Role::kTeaching, D(2025, 8, 31))),
              ElementsAre(Refusal::kMentorNotInService));
  // A mentee who leaves on the start day is refused; the day before, not.
  TeacherFacts leaving = Mentee("T2");
  leaving.post_status_history.before = profile::v1::POST_STATUS_ON_DUTY;
  leaving.post_status_history.changes = {{D(2025, 9, 1), profile::v1::POST_STATUS_LEFT}};
  EXPECT_THAT(Reasons(Check(leaving, Mentor("M1"), Role::kTeaching, D(2025, 9, 1))),
              ElementsAre(Refusal::kMenteeNotInService));
  EXPECT_THAT(Check(leaving, Mentor("M1"), Role::kTeaching, D(2025, 8, 31)), IsEmpty());
}

TEST(OnTheStartDayTest, AVetoEndingTheDayBeforeTheStartIsOver) {
  // A warning (6 months) of 2025-03-01 vetoes through 2025-08-31; a demerit (12 months) of
  // 2024-08-31 through 2025-08-30 (shift(2024-08-31, 12 months) = 2025-08-31).
  for (const EthicsFinding& f :
       {EthicsFinding{common::v1::ETHICS_SEVERITY_WARNING, D(2025, 3, 1), {}},
        EthicsFinding{common::v1::ETHICS_SEVERITY_DEMERIT, D(2024, 8, 31), {}},
        EthicsFinding{common::v1::ETHICS_SEVERITY_WARNING, D(2025, 3, 1), 6}}) {
    TeacherFacts mentor = Mentor("M1");
    mentor.ethics_findings = {f};
    const absl::CivilDay last = VetoPeriod(f, P())->last;
    SCOPED_TRACE(dates::FormatDate(last));
    EXPECT_THAT(Check(Mentee("T1"), mentor, Role::kTeaching, last + 1), IsEmpty());
    std::vector<Problem> problems = Check(Mentee("T1"), mentor, Role::kTeaching, last);
    ASSERT_THAT(Reasons(problems), ElementsAre(Refusal::kMentorVeto));
    EXPECT_THAT(problems[0].message, HasSubstr(absl::StrCat("through ", dates::FormatDate(last),
                                                            ", covering the start")));
  }
  // A veto of the 31st: 6 months of 2025-03-31 run through 2025-09-30 (2025-09-31 is no day).
  TeacherFacts mentor = Mentor("M1");
  mentor.ethics_findings = {{common::v1::ETHICS_SEVERITY_WARNING, D(2025, 3, 31), {}}};
  EXPECT_THAT(Reasons(Check(Mentee("T1"), mentor, Role::kTeaching, D(2025, 9, 30))),
              ElementsAre(Refusal::kMentorVeto));
  EXPECT_THAT(Check(Mentee("T1"), mentor, Role::kTeaching, D(2025, 10, 1)), IsEmpty());
}

TEST(OnTheStartDayTest, AMenteeWhoseFifthAnniversaryIsTheStartIsNotNew) {
  TeacherFacts mentee = Mentee("T1");
  mentee.hire_date = D(2020, 9, 1);
  std::vector<Problem> problems = Check(mentee, Mentor("M1"), Role::kTeaching, D(2025, 9, 1));
  ASSERT_THAT(Reasons(problems), ElementsAre(Refusal::kMenteeNotNew));
  EXPECT_THAT(problems[0].message, HasSubstr("from then through 2025-08-31, not on the start "
                                             "2025-09-01"));
  EXPECT_THAT(Check(mentee, Mentor("M1"), Role::kSecond, D(2025, 8, 31)), IsEmpty());
  // Hired on 29 February: the fifth anniversary falls on 1 March.
  mentee.hire_date = D(2020, 2, 29);
  EXPECT_THAT(Check(mentee, Mentor("M1"), Role::kTeaching, D(2025, 2, 28)), IsEmpty());
  EXPECT_THAT(Reasons(Check(mentee, Mentor("M1"), Role::kTeaching, D(2025, 3, 1))),
              ElementsAre(Refusal::kMenteeNotNew));
  // Nor is such a teacher listed as lacking mentors on that day.
  EXPECT_THAT(FindUnpaired({mentee}, {}, D(2025, 3, 1), P()), IsEmpty());
  EXPECT_THAT(FindUnpaired({mentee}, {}, D(2025, 2, 28), P()), ::testing::SizeIs(1));
}

TEST(FindUnpairedTest, PairingsRunningOnTheAsOfDay) {
  // A TEACHING pairing from 2025-09-01 ended on 2025-10-31 (its last day), and a SECOND one
  // from 2025-09-01 still running.
  Pairing teaching = Active("P1", "T1", "M1", Role::kTeaching);
  teaching.start = D(2025, 9, 1);
  teaching.ended_on = D(2025, 10, 31);
  Pairing second = Active("P2", "T1", "M2", Role::kSecond);
  second.start = D(2025, 9, 1);
  const std::vector<Pairing> pairings = {teaching, second};
  auto lacks = [&](absl::CivilDay day) {
    std::vector<Unpaired> u = FindUnpaired({Mentee("T1")}, pairings, day, P());
    if (u.empty()) return std::string("none");
    return std::string(u[0].lacks_teaching ? "T" : "") + (u[0].lacks_second ? "S" : "");
  };
  EXPECT_EQ(lacks(D(2025, 8, 31)), "TS");  // before either started
  EXPECT_EQ(lacks(D(2025, 9, 1)), "none");
  EXPECT_EQ(lacks(D(2025, 10, 31)), "none");  // on its end day the pairing still ran
  EXPECT_EQ(lacks(D(2025, 11, 1)), "T");
  // A teacher who left after the as-of day was in service on it.
  TeacherFacts leaving = Mentee("T2");
  leaving.post_status = profile::v1::POST_STATUS_LEFT;
  leaving.post_status_history.before = profile::v1::POST_STATUS_ON_DUTY;
  leaving.post_status_history.changes = {{D(2025, 10, 1), profile::v1::POST_STATUS_LEFT}};
  EXPECT_THAT(FindUnpaired({leaving}, {}, D(2025, 9, 30), P()), ::testing::SizeIs(1));
  EXPECT_THAT(FindUnpaired({leaving}, {}, D(2025, 10, 1), P()), IsEmpty());
}

TEST(CheckPairingTest, RolesAndCapacityCountPairingsNotEndedWhateverTheirStart) {
  const TeacherFacts mentee = Mentee("T1");
  // The mentee's TEACHING pairing not ended but starting only on 2026-03-01 takes the role for a
  // pairing from 2025-09-01 (both would run from 2026-03-01 on), and so does one from before.
  std::vector<Pairing> mine = {Active("P1", "T1", "M9", Role::kTeaching)};
  mine[0].start = D(2026, 3, 1);
  EXPECT_THAT(Reasons(Check(mentee, Mentor("M1"), Role::kTeaching, D(2025, 9, 1), mine)),
              ElementsAre(Refusal::kRoleTaken));
  mine[0].start = D(2025, 3, 1);
  EXPECT_THAT(Reasons(Check(mentee, Mentor("M1"), Role::kTeaching, D(2025, 9, 1), mine)),
              ElementsAre(Refusal::kRoleTaken));
  // Ended on 2025-09-30, it has freed the role, also for a pairing backdated to 2025-09-01.
  mine[0].ended_on = D(2025, 9, 30);
  EXPECT_THAT(Check(mentee, Mentor("M1"), Role::kTeaching, D(2025, 9, 1), mine), IsEmpty());

  // Mentor T123: B running since 2025-03-01 and C starting 2026-03-01 fill both places for a
  // pairing from 2025-09-01; with C ended (the day it started), one place is free.
  const TeacherFacts mentor = Mentor("T123");
  std::vector<Pairing> theirs = {Active("B", "Y", "T123", Role::kSecond),
                                 Active("C", "Z", "T123", Role::kTeaching)};
  theirs[1].start = D(2026, 3, 1);
  std::vector<Problem> problems = Check(mentee, mentor, Role::kTeaching, D(2025, 9, 1), theirs);
  ASSERT_THAT(Reasons(problems), ElementsAre(Refusal::kCapacity));
  EXPECT_EQ(problems[0].message, "mentor T123 already has 2 active mentees; capacity is 2");
  theirs[1].ended_on = D(2026, 3, 1);
  EXPECT_THAT(Check(mentee, mentor, Role::kTeaching, D(2025, 9, 1), theirs), IsEmpty());
}

}  // namespace
}  // namespace shidang::mentorship
