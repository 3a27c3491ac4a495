#include "services/rotation/rules.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/policy.h"

namespace shidang::rotation {
namespace {

using ::testing::HasSubstr;

namespace cv1 = ::shidang::common::v1;
namespace pv1 = ::shidang::profile::v1;

absl::CivilDay D(int y, int m, int d) { return absl::CivilDay(y, m, d); }

const absl::CivilDay kFirstDay = D(2025, 9, 1);

SchoolFacts PublicSchool(const std::string& id = "S1") {
  SchoolFacts s;
  s.school_id = id;
  s.county_id = "110101";
  s.ownership = pv1::SCHOOL_OWNERSHIP_PUBLIC;
  s.compulsory_education = true;
  s.location = pv1::SCHOOL_LOCATION_URBAN;
  s.quality = pv1::SCHOOL_QUALITY_STRONG;
  s.kind = pv1::SCHOOL_KIND_REGULAR;
  return s;
}

// A staffed, on-duty man born 1980 (retiring in the 2040s) who joined S1 on `joined`.
TeacherFacts Teacher(absl::CivilDay joined, const std::string& school = "S1") {
  TeacherFacts t;
  t.teacher_id = "T1";
  t.county_id = "110101";
  t.stints.push_back(Stint{school, joined});
  t.birth_date = D(1980, 5, 10);
  t.sex = cv1::SEX_MALE;
  t.staffed = true;
  t.post_status = pv1::POST_STATUS_ON_DUTY;
  return t;
}

Eligibility Judge(const TeacherFacts& t, const std::vector<DeferralSpan>& deferrals = {},
                  const RotationPolicy& policy = DefaultRotationPolicy()) {
  SchoolFacts school = PublicSchool(t.stints.empty() ? "S1" : t.stints.back().school_id);
  return JudgeEligibility(t, &school, deferrals, kFirstDay, policy);
}

// ---------------------------------------------------------------------------------------------
// Policy and school years.

TEST(RotationPolicyTest, DefaultsAreDomains) {
  RotationPolicy p = DefaultRotationPolicy();
  EXPECT_EQ(p.min_years_at_school, 6);
  EXPECT_EQ(p.leader_terms, 2);
  EXPECT_EQ(p.leader_term_years, 3);
  EXPECT_EQ(p.retirement_exclusion_years, 0);
  EXPECT_EQ(p.ratio_percent, 10);
  EXPECT_EQ(p.backbone_ratio_percent, 20);
  EXPECT_EQ(p.school_year_start_month, 9);
  EXPECT_EQ(p.school_year_start_day, 1);
  EXPECT_EQ(p.min_duration_years, 1);
  EXPECT_TRUE(p.count_only_eligible);
  EXPECT_FALSE(p.count_other_directions);
  EXPECT_EQ(p.retirement.male().base_age_years(), 60);
}

TEST(RotationPolicyTest, ResolvedNationalDefaultsGiveTheSameRules) {
  absl::StatusOr<RotationPolicy> p = RotationPolicyFrom(policy::NationalDefaults());
  ASSERT_TRUE(p.ok()) << p.status();
  RotationPolicy d = DefaultRotationPolicy();
  EXPECT_EQ(p->min_years_at_school, d.min_years_at_school);
  EXPECT_EQ(p->ratio_percent, d.ratio_percent);
  EXPECT_EQ(p->counting_directions.size(), d.counting_directions.size());
}

// Every field of the protos' RotationPolicy reaches the rules: which forms count, whether other
// directions count, and the backbone base.
TEST(RotationPolicyTest, ResolvedFormsDirectionsAndBackboneBaseReachTheRules) {
  cv1::Policy resolved;
  cv1::RotationPolicy* r = resolved.mutable_rotation();
  r->mutable_counting_forms()->add_forms(cv1::ROTATION_FORM_SECONDMENT);
  r->set_other_directions_count(true);
  r->set_backbone_base(cv1::ROTATION_BACKBONE_BASE_REQUIRED);
  absl::StatusOr<RotationPolicy> p = RotationPolicyFrom(resolved);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->counting_forms, std::vector<v1::RotationForm>{v1::ROTATION_FORM_SUPPORT_TEACHING});
  EXPECT_TRUE(p->count_other_directions);
  EXPECT_EQ(p->backbone_base, cv1::ROTATION_BACKBONE_BASE_REQUIRED);
  // 12 counting of 40 eligible: 4 required; 20% of the 4 required is 1 backbone (not 3 of 12).
  EXPECT_EQ(ComputeQuota(40, 12, 0, *p).backbone_required, 1);
  // 3 counting of 100 eligible (10 required): 20% of the 3 counting is 1 backbone (not 2 of 10).
  p->backbone_base = cv1::ROTATION_BACKBONE_BASE_COUNTING;
  EXPECT_EQ(ComputeQuota(100, 3, 0, *p).backbone_required, 1);
  // The national defaults name every form and the greater base.
  absl::StatusOr<RotationPolicy> national = RotationPolicyFrom(policy::NationalDefaults());
  ASSERT_TRUE(national.ok()) << national.status();
  EXPECT_EQ(national->counting_forms.size(), 6u);
  EXPECT_EQ(national->backbone_base, cv1::ROTATION_BACKBONE_BASE_GREATER_OF_COUNTING_AND_REQUIRED);
}

TEST(RotationPolicyTest, ResolvedValuesOverrideDefaults) {
  cv1::Policy resolved;
  resolved.mutable_rotation()->set_retirement_exclusion_years(5);
  resolved.mutable_rotation()->set_school_year_start("08-15");
  resolved.mutable_rotation()->mutable_counting_directions();  // set to an empty list
  absl::StatusOr<RotationPolicy> p = RotationPolicyFrom(resolved);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->retirement_exclusion_years, 5);
  EXPECT_EQ(p->school_year_start_month, 8);
  EXPECT_EQ(p->school_year_start_day, 15);
  EXPECT_TRUE(p->counting_directions.empty());
  resolved.mutable_rotation()->set_school_year_start("9-1");
  EXPECT_TRUE(absl::IsFailedPrecondition(RotationPolicyFrom(resolved).status()));
}

TEST(SchoolYearTest, RunsFromFirstSeptemberThroughThirtyFirstAugust) {
  RotationPolicy p = DefaultRotationPolicy();
  SchoolYear y = SchoolYearStarting(2025, p);
  EXPECT_EQ(y.days.first, D(2025, 9, 1));
  EXPECT_EQ(y.days.last, D(2026, 8, 31));
  EXPECT_EQ(y.Name(), "2025-2026");
  EXPECT_EQ(SchoolYearOf(D(2025, 9, 1), p).start_year, 2025);
  EXPECT_EQ(SchoolYearOf(D(2025, 8, 31), p).start_year, 2024);
  EXPECT_EQ(SchoolYearOf(D(2026, 8, 31), p).start_year, 2025);
  EXPECT_EQ(SchoolYearOf(D(2026, 1, 1), p).start_year, 2025);
}

TEST(SchoolYearTest, StartDayTheMonthLacksRollsToTheFirst) {
  RotationPolicy p = DefaultRotationPolicy();
  p.school_year_start_month = 2;
  p.school_year_start_day = 29;
  SchoolYear y = SchoolYearStarting(2023, p);
  EXPECT_EQ(y.days.first, D(2023, 3, 1));
  EXPECT_EQ(y.days.last, D(2024, 2, 28));
  EXPECT_EQ(SchoolYearStarting(2024, p).days.first, D(2024, 2, 29));
}

TEST(SchoolYearTest, ParsesBothSpellings) {
  EXPECT_EQ(*ParseSchoolYear("2025", "school_year"), 2025);
  EXPECT_EQ(*ParseSchoolYear("2025-2026", "school_year"), 2025);
  for (const char* bad : {"", "25", "2025-2027", "2025/2026", "abcd", "2025-26"}) {
    absl::StatusOr<int> y = ParseSchoolYear(bad, "school_year");
    EXPECT_TRUE(absl::IsInvalidArgument(y.status())) << bad;
    EXPECT_THAT(std::string(y.status().message()), HasSubstr("school_year")) << bad;
  }
}

TEST(WholeYearsTest, CountsOnlyWholeYears) {
  EXPECT_EQ(WholeYears(D(2019, 9, 1), D(2025, 9, 1)), 6);
  EXPECT_EQ(WholeYears(D(2019, 9, 2), D(2025, 9, 1)), 5);
  EXPECT_EQ(WholeYears(D(2025, 9, 2), D(2025, 9, 1)), 0);
  EXPECT_EQ(WholeYears(D(2020, 2, 29), D(2025, 2, 28)), 4);
  EXPECT_EQ(WholeYears(D(2020, 2, 29), D(2025, 3, 1)), 5);
}

// ---------------------------------------------------------------------------------------------
// Eligibility.

TEST(EligibilityTest, ExactlySixYearsOnTheFirstDayIsEligible) {
  Eligibility e = Judge(Teacher(D(2019, 9, 1)));
  EXPECT_EQ(e.reason, v1::ELIGIBILITY_REASON_ELIGIBLE);
  EXPECT_TRUE(e.eligible());
  EXPECT_EQ(e.years, 6);
  EXPECT_EQ(e.required_years, 6);
  EXPECT_EQ(e.counted_from, D(2019, 9, 1));
  EXPECT_EQ(e.eligible_from, D(2025, 9, 1));
  EXPECT_EQ(e.school_id, "S1");
}

TEST(EligibilityTest, OneDayShortIsTooFewYears) {
  Eligibility e = Judge(Teacher(D(2019, 9, 2)));
  EXPECT_EQ(e.reason, v1::ELIGIBILITY_REASON_TOO_FEW_YEARS);
  EXPECT_EQ(e.years, 5);
  EXPECT_EQ(e.eligible_from, D(2025, 9, 2));
}

TEST(EligibilityTest, JoinedOnTwentyNinthFebruaryCountsFromTheFirstOfMarch) {
  RotationPolicy p = DefaultRotationPolicy();
  p.school_year_start_month = 3;
  p.school_year_start_day = 1;
  SchoolFacts school = PublicSchool();
  // shift(2020-02-29, 6 years) is 2026-03-01.
  Eligibility e = JudgeEligibility(Teacher(D(2020, 2, 29)), &school, {}, D(2026, 3, 1), p);
  EXPECT_EQ(e.reason, v1::ELIGIBILITY_REASON_ELIGIBLE);
  EXPECT_EQ(e.eligible_from, D(2026, 3, 1));
  e = JudgeEligibility(Teacher(D(2020, 2, 29)), &school, {}, D(2026, 2, 28), p);
  EXPECT_EQ(e.reason, v1::ELIGIBILITY_REASON_TOO_FEW_YEARS);
}

TEST(EligibilityTest, YearsCountAtTheCurrentSchoolOnly) {
  TeacherFacts t = Teacher(D(2010, 9, 1), "S0");
  t.stints.push_back(Stint{"S1", D(2022, 9, 1)});
  Eligibility e = Judge(t);
  EXPECT_EQ(e.school_id, "S1");
  EXPECT_EQ(e.years, 3);
  EXPECT_EQ(e.reason, v1::ELIGIBILITY_REASON_TOO_FEW_YEARS);
}

TEST(EligibilityTest, AMoveOnTheFirstDayIsJudgedAtTheSchoolLeft) {
  // A rotation that moves the teacher on 1 September: judged where they were as the day began.
  TeacherFacts t = Teacher(D(2019, 9, 1), "S1");
  t.stints.push_back(Stint{"S2", kFirstDay});
  SchoolFacts s1 = PublicSchool("S1");
  Eligibility e = JudgeEligibility(t, &s1, {}, kFirstDay, DefaultRotationPolicy());
  EXPECT_EQ(e.school_id, "S1");
  EXPECT_EQ(e.reason, v1::ELIGIBILITY_REASON_ELIGIBLE);
  // A teacher whose first school starts that day is judged there.
  TeacherFacts fresh = Teacher(kFirstDay, "S1");
  e = JudgeEligibility(fresh, &s1, {}, kFirstDay, DefaultRotationPolicy());
  EXPECT_EQ(e.school_id, "S1");
  EXPECT_EQ(e.reason, v1::ELIGIBILITY_REASON_TOO_FEW_YEARS);
  EXPECT_EQ(e.years, 0);
}

TEST(EligibilityTest, PrincipalNeedsTwoTermsInThePost) {
  // At the school since 2010, principal there since 2019-09-01: the second term ends 2025-08-31.
  TeacherFacts t = Teacher(D(2010, 9, 1));
  t.leadership_posts.push_back(
      LeaderPost{pv1::LEADERSHIP_POST_KIND_PRINCIPAL, "S1", D(2019, 9, 1), std::nullopt});
  Eligibility e = Judge(t);
  EXPECT_TRUE(e.leader);
  EXPECT_EQ(e.counted_from, D(2019, 9, 1));
  EXPECT_EQ(e.required_years, 6);
  EXPECT_EQ(e.reason, v1::ELIGIBILITY_REASON_ELIGIBLE);
  // Taking the post a day later: the second term is not complete on the first day, although
  // they have been at the school for 15 years.
  t.leadership_posts[0].from = D(2019, 9, 2);
  e = Judge(t);
  EXPECT_EQ(e.reason, v1::ELIGIBILITY_REASON_TOO_FEW_YEARS);
  EXPECT_EQ(e.years, 5);
}

TEST(EligibilityTest, ViceThenPrincipalCountsFromThePostHeldNow) {
  TeacherFacts t = Teacher(D(2010, 9, 1));
  t.leadership_posts.push_back(
      LeaderPost{pv1::LEADERSHIP_POST_KIND_VICE_PRINCIPAL, "S1", D(2014, 9, 1), D(2021, 8, 31)});
  t.leadership_posts.push_back(
      LeaderPost{pv1::LEADERSHIP_POST_KIND_PRINCIPAL, "S1", D(2021, 9, 1), std::nullopt});
  Eligibility e = Judge(t);
  EXPECT_TRUE(e.leader);
  EXPECT_EQ(e.counted_from, D(2021, 9, 1));
  EXPECT_EQ(e.reason, v1::ELIGIBILITY_REASON_TOO_FEW_YEARS);
}

TEST(EligibilityTest, LeadersTermsComeFromPolicy) {
  RotationPolicy p = DefaultRotationPolicy();
  p.leader_term_years = 4;  // two terms of 4 years
  TeacherFacts t = Teacher(D(2010, 9, 1));
  t.leadership_posts.push_back(
      LeaderPost{pv1::LEADERSHIP_POST_KIND_VICE_PRINCIPAL, "S1", D(2017, 9, 1), std::nullopt});
  EXPECT_EQ(Judge(t, {}, p).reason, v1::ELIGIBILITY_REASON_ELIGIBLE);
  EXPECT_EQ(Judge(t, {}, p).required_years, 8);
  t.leadership_posts[0].from = D(2017, 9, 2);
  EXPECT_EQ(Judge(t, {}, p).reason, v1::ELIGIBILITY_REASON_TOO_FEW_YEARS);
}

TEST(EligibilityTest, PostAtAnotherSchoolOrEndedIsNotALeadersRule) {
  TeacherFacts t = Teacher(D(2019, 9, 1));
  t.leadership_posts.push_back(
      LeaderPost{pv1::LEADERSHIP_POST_KIND_PRINCIPAL, "S0", D(2024, 9, 1), std::nullopt});
  t.leadership_posts.push_back(
      LeaderPost{pv1::LEADERSHIP_POST_KIND_PRINCIPAL, "S1", D(2023, 9, 1), D(2024, 8, 31)});
  Eligibility e = Judge(t);
  EXPECT_FALSE(e.leader);
  EXPECT_EQ(e.reason, v1::ELIGIBILITY_REASON_ELIGIBLE);
}

TEST(EligibilityTest, RetirementOnOrBeforeTheFirstDayExcludesWhateverN) {
  TeacherFacts t = Teacher(D(2010, 9, 1));
  t.retirement_date = kFirstDay;
  EXPECT_EQ(Judge(t).reason, v1::ELIGIBILITY_REASON_NEAR_RETIREMENT);
  t.retirement_date = D(2025, 3, 1);
  EXPECT_EQ(Judge(t).reason, v1::ELIGIBILITY_REASON_NEAR_RETIREMENT);
  t.retirement_date = D(2025, 9, 2);  // N = 0: retiring the day after still rotates
  EXPECT_EQ(Judge(t).reason, v1::ELIGIBILITY_REASON_ELIGIBLE);
}

TEST(EligibilityTest, RetirementCrossingTheExclusion) {
  RotationPolicy p = DefaultRotationPolicy();
  p.retirement_exclusion_years = 5;  // Beijing: retiring before 2030-09-01 is excluded
  TeacherFacts t = Teacher(D(2010, 9, 1));
  t.retirement_date = D(2030, 8, 1);
  EXPECT_EQ(Judge(t, {}, p).reason, v1::ELIGIBILITY_REASON_NEAR_RETIREMENT);
  t.retirement_date = D(2030, 8, 31);
  EXPECT_EQ(Judge(t, {}, p).reason, v1::ELIGIBILITY_REASON_NEAR_RETIREMENT);
  t.retirement_date = D(2030, 9, 1);
  EXPECT_EQ(Judge(t, {}, p).reason, v1::ELIGIBILITY_REASON_ELIGIBLE);
}

TEST(EligibilityTest, RetirementComputedFromBirthDateAndSex) {
  RotationPolicy p = DefaultRotationPolicy();
  p.retirement_exclusion_years = 5;
  // A woman born 1971-01-15: cohort k = 12 -> 4 months of delay; 55 years 4 months in 2026-05,
  // retiring 2026-06-01, before 2030-09-01.
  TeacherFacts t = Teacher(D(2010, 9, 1));
  t.sex = cv1::SEX_FEMALE;
  t.birth_date = D(1971, 1, 15);
  Eligibility e = Judge(t, {}, p);
  EXPECT_EQ(e.retirement_date, D(2026, 6, 1));
  EXPECT_EQ(e.reason, v1::ELIGIBILITY_REASON_NEAR_RETIREMENT);
  // A man born 1965-01-20: 60 years + 1 month in 2025-02, retired 2025-03-01, before the year.
  t.sex = cv1::SEX_MALE;
  t.birth_date = D(1965, 1, 20);
  e = Judge(t);
  EXPECT_EQ(e.retirement_date, D(2025, 3, 1));
  EXPECT_EQ(e.reason, v1::ELIGIBILITY_REASON_NEAR_RETIREMENT);
}

TEST(EligibilityTest, DeferralCoveringTheFirstDayExcludes) {
  TeacherFacts t = Teacher(D(2010, 9, 1));
  Eligibility e = Judge(t, {DeferralSpan{"DF1", D(2025, 3, 1), D(2025, 9, 1)}});
  EXPECT_EQ(e.reason, v1::ELIGIBILITY_REASON_DEFERRED);
  EXPECT_EQ(e.deferral_id, "DF1");
  EXPECT_EQ(Judge(t, {DeferralSpan{"DF2", kFirstDay, std::nullopt}}).reason,
            v1::ELIGIBILITY_REASON_DEFERRED);
}

TEST(EligibilityTest, DeferralEndingBeforeOrStartingAfterTheFirstDayDoesNot) {
  TeacherFacts t = Teacher(D(2010, 9, 1));
  EXPECT_EQ(Judge(t, {DeferralSpan{"DF1", D(2025, 3, 1), D(2025, 8, 31)}}).reason,
            v1::ELIGIBILITY_REASON_ELIGIBLE);
  EXPECT_EQ(Judge(t, {DeferralSpan{"DF2", D(2025, 9, 2), std::nullopt}}).reason,
            v1::ELIGIBILITY_REASON_ELIGIBLE);
}

TEST(EligibilityTest, OnlyPublicCompulsorySchools) {
  TeacherFacts t = Teacher(D(2010, 9, 1));
  SchoolFacts school = PublicSchool();
  school.compulsory_education = false;
  EXPECT_EQ(JudgeEligibility(t, &school, {}, kFirstDay, DefaultRotationPolicy()).reason,
            v1::ELIGIBILITY_REASON_NOT_PUBLIC_COMPULSORY);
  school = PublicSchool();
  school.ownership = pv1::SCHOOL_OWNERSHIP_PRIVATE;
  EXPECT_EQ(JudgeEligibility(t, &school, {}, kFirstDay, DefaultRotationPolicy()).reason,
            v1::ELIGIBILITY_REASON_NOT_PUBLIC_COMPULSORY);
  EXPECT_EQ(JudgeEligibility(t, nullptr, {}, kFirstDay, DefaultRotationPolicy()).reason,
            v1::ELIGIBILITY_REASON_NOT_PUBLIC_COMPULSORY);
}

TEST(EligibilityTest, OnlyStaffedTeachersOnDuty) {
  TeacherFacts t = Teacher(D(2010, 9, 1));
  t.staffed = false;
  EXPECT_EQ(Judge(t).reason, v1::ELIGIBILITY_REASON_NOT_IN_SERVICE);
  t.staffed = true;
  for (pv1::PostStatus s :
       {pv1::POST_STATUS_SECONDED, pv1::POST_STATUS_SICK_LEAVE, pv1::POST_STATUS_MATERNITY_LEAVE,
        pv1::POST_STATUS_RETIRED, pv1::POST_STATUS_LEFT}) {
    t.post_status = s;
    EXPECT_EQ(Judge(t).reason, v1::ELIGIBILITY_REASON_NOT_IN_SERVICE) << s;
  }
}

// DOMAIN §6: eligibility is judged on the school year's first day, the post status too: a leave
// that begins the day after leaves the teacher eligible for that year (and a retirement years
// later does not change a past year's judgement); one that begins on the first day does not.
TEST(EligibilityTest, PostStatusIsTheOneOnTheFirstDay) {
  TeacherFacts t = Teacher(D(2010, 9, 1));
  t.created_post_status = pv1::POST_STATUS_ON_DUTY;
  t.post_status = pv1::POST_STATUS_SICK_LEAVE;  // as it is now
  t.post_status_changes = {{D(2025, 9, 2), pv1::POST_STATUS_SICK_LEAVE}};
  EXPECT_EQ(Judge(t).reason, v1::ELIGIBILITY_REASON_ELIGIBLE);
  t.post_status_changes = {{kFirstDay, pv1::POST_STATUS_SICK_LEAVE}};
  EXPECT_EQ(Judge(t).reason, v1::ELIGIBILITY_REASON_NOT_IN_SERVICE);
  t.post_status_changes = {{D(2025, 8, 31), pv1::POST_STATUS_SICK_LEAVE}};
  EXPECT_EQ(Judge(t).reason, v1::ELIGIBILITY_REASON_NOT_IN_SERVICE);

  // Back on duty on the first day itself, after a maternity leave: eligible.
  t.post_status = pv1::POST_STATUS_ON_DUTY;
  t.post_status_changes = {{D(2025, 3, 1), pv1::POST_STATUS_MATERNITY_LEAVE},
                           {kFirstDay, pv1::POST_STATUS_ON_DUTY}};
  EXPECT_EQ(Judge(t).reason, v1::ELIGIBILITY_REASON_ELIGIBLE);
  t.post_status_changes[1].first = D(2025, 9, 2);
  EXPECT_EQ(Judge(t).reason, v1::ELIGIBILITY_REASON_NOT_IN_SERVICE);

  // Created on leave, no change by the first day: the status it was created with.
  t.created_post_status = pv1::POST_STATUS_MATERNITY_LEAVE;
  t.post_status_changes = {{D(2025, 10, 1), pv1::POST_STATUS_ON_DUTY}};
  EXPECT_EQ(Judge(t).reason, v1::ELIGIBILITY_REASON_NOT_IN_SERVICE);
}

TEST(EligibilityTest, PostStatusOnADay) {
  TeacherFacts t = Teacher(D(2010, 9, 1));
  t.post_status = pv1::POST_STATUS_RETIRED;
  // No history kept: the status now.
  EXPECT_EQ(PostStatusOn(t, D(2020, 1, 1)), pv1::POST_STATUS_RETIRED);
  t.created_post_status = pv1::POST_STATUS_ON_DUTY;
  t.post_status_changes = {{D(2030, 6, 1), pv1::POST_STATUS_RETIRED},
                           {D(2028, 1, 1), pv1::POST_STATUS_SICK_LEAVE},
                           {D(2028, 1, 1), pv1::POST_STATUS_ON_DUTY}};
  EXPECT_EQ(PostStatusOn(t, D(2027, 12, 31)), pv1::POST_STATUS_ON_DUTY);
  // Two changes on one day: the later to arrive.
  EXPECT_EQ(PostStatusOn(t, D(2028, 1, 1)), pv1::POST_STATUS_ON_DUTY);
  EXPECT_EQ(PostStatusOn(t, D(2030, 5, 31)), pv1::POST_STATUS_ON_DUTY);
  EXPECT_EQ(PostStatusOn(t, D(2030, 6, 1)), pv1::POST_STATUS_RETIRED);
}

TEST(EligibilityTest, FiguresAreGivenWhateverTheReason) {
  TeacherFacts t = Teacher(D(2012, 9, 1));
  t.staffed = false;
  Eligibility e = Judge(t);
  EXPECT_EQ(e.reason, v1::ELIGIBILITY_REASON_NOT_IN_SERVICE);
  EXPECT_EQ(e.years, 13);
  EXPECT_EQ(e.eligible_from, D(2018, 9, 1));
}

// ---------------------------------------------------------------------------------------------
// Which rotations count.

SchoolFacts Rural(const std::string& id = "R1") {
  SchoolFacts s = PublicSchool(id);
  s.location = pv1::SCHOOL_LOCATION_RURAL;
  s.quality = pv1::SCHOOL_QUALITY_ORDINARY;
  return s;
}

RotationFacts ApprovedRotation() {
  RotationFacts r;
  r.rotation_id = "RT1";
  r.teacher_id = "T1";
  r.state = v1::ROTATION_STATE_APPROVED;
  r.form = v1::ROTATION_FORM_SUPPORT_TEACHING;
  r.sending_school_id = "S1";
  r.receiving_school_id = "R1";
  r.start = kFirstDay;
  r.planned_end = D(2026, 8, 31);
  return r;
}

v1::CountingReason Count(const RotationFacts& r, bool eligible = true,
                         const RotationPolicy& p = DefaultRotationPolicy()) {
  SchoolFacts sending = PublicSchool("S1");
  SchoolFacts receiving = Rural("R1");
  return JudgeRotation(r, SchoolYearStarting(2025, p), eligible, &sending, &receiving, p);
}

TEST(CountingTest, ApprovedStartedCompletedCount) {
  RotationFacts r = ApprovedRotation();
  for (v1::RotationState s :
       {v1::ROTATION_STATE_APPROVED, v1::ROTATION_STATE_STARTED, v1::ROTATION_STATE_COMPLETED}) {
    r.state = s;
    EXPECT_EQ(Count(r), v1::COUNTING_REASON_COUNTS) << s;
  }
  r.state = v1::ROTATION_STATE_PROPOSED;
  EXPECT_EQ(Count(r), v1::COUNTING_REASON_NOT_APPROVED);
  r.state = v1::ROTATION_STATE_REJECTED;
  EXPECT_EQ(Count(r), v1::COUNTING_REASON_NOT_APPROVED);
  r.state = v1::ROTATION_STATE_CANCELLED;
  EXPECT_EQ(Count(r), v1::COUNTING_REASON_CANCELLED);
}

TEST(CountingTest, BelongsToTheSchoolYearOfItsStart) {
  RotationFacts r = ApprovedRotation();
  r.start = D(2025, 8, 31);
  r.planned_end = D(2026, 8, 31);
  EXPECT_EQ(Count(r), v1::COUNTING_REASON_OTHER_SCHOOL_YEAR);
  r.start = D(2026, 8, 31);
  r.planned_end = D(2027, 8, 31);
  EXPECT_EQ(Count(r), v1::COUNTING_REASON_COUNTS);
  r.start = D(2026, 9, 1);
  EXPECT_EQ(Count(r), v1::COUNTING_REASON_OTHER_SCHOOL_YEAR);
}

TEST(CountingTest, PlannedDurationMustReachTheMinimum) {
  RotationFacts r = ApprovedRotation();
  r.planned_end = D(2026, 8, 30);
  EXPECT_EQ(Count(r), v1::COUNTING_REASON_TOO_SHORT);
  r.planned_end = D(2026, 8, 31);  // exactly one year: 2025-09-01 .. 2026-08-31
  EXPECT_EQ(Count(r), v1::COUNTING_REASON_COUNTS);
  RotationPolicy p = DefaultRotationPolicy();
  p.min_duration_years = 2;
  EXPECT_EQ(Count(r, true, p), v1::COUNTING_REASON_TOO_SHORT);
  r.planned_end = D(2027, 8, 31);
  EXPECT_EQ(Count(r, true, p), v1::COUNTING_REASON_COUNTS);
}

TEST(CountingTest, OnlyEligibleTeachersByDefault) {
  RotationFacts r = ApprovedRotation();
  EXPECT_EQ(Count(r, false), v1::COUNTING_REASON_NOT_ELIGIBLE);
  RotationPolicy p = DefaultRotationPolicy();
  p.count_only_eligible = false;
  EXPECT_EQ(Count(r, false, p), v1::COUNTING_REASON_COUNTS);
}

TEST(CountingTest, Directions) {
  RotationPolicy p = DefaultRotationPolicy();
  SchoolYear year = SchoolYearStarting(2025, p);
  RotationFacts r = ApprovedRotation();
  auto judge = [&](const SchoolFacts& from, const SchoolFacts& to) {
    return JudgeRotation(r, year, true, &from, &to, p);
  };
  SchoolFacts urban = PublicSchool("U");
  urban.quality = pv1::SCHOOL_QUALITY_ORDINARY;
  SchoolFacts town = urban;
  town.location = pv1::SCHOOL_LOCATION_TOWN;
  SchoolFacts rural = Rural();
  SchoolFacts strong = urban;
  strong.quality = pv1::SCHOOL_QUALITY_STRONG;
  SchoolFacts weak = urban;
  weak.quality = pv1::SCHOOL_QUALITY_WEAK;
  SchoolFacts central = rural;
  central.kind = pv1::SCHOOL_KIND_CENTRAL_SCHOOL;
  SchoolFacts village = rural;
  village.kind = pv1::SCHOOL_KIND_VILLAGE_SCHOOL;
  SchoolFacts point = rural;
  point.kind = pv1::SCHOOL_KIND_TEACHING_POINT;
  EXPECT_EQ(judge(urban, rural), v1::COUNTING_REASON_COUNTS);
  EXPECT_EQ(judge(town, rural), v1::COUNTING_REASON_COUNTS);
  EXPECT_EQ(judge(strong, weak), v1::COUNTING_REASON_COUNTS);
  EXPECT_EQ(judge(central, village), v1::COUNTING_REASON_COUNTS);
  EXPECT_EQ(judge(central, point), v1::COUNTING_REASON_COUNTS);
  EXPECT_EQ(judge(rural, urban), v1::COUNTING_REASON_WRONG_DIRECTION);
  EXPECT_EQ(judge(urban, town), v1::COUNTING_REASON_WRONG_DIRECTION);
  EXPECT_EQ(judge(weak, strong), v1::COUNTING_REASON_WRONG_DIRECTION);
  EXPECT_EQ(judge(urban, weak), v1::COUNTING_REASON_WRONG_DIRECTION);  // 普通 -> 薄弱
  EXPECT_EQ(judge(village, central), v1::COUNTING_REASON_WRONG_DIRECTION);
  EXPECT_EQ(JudgeRotation(r, year, true, &urban, nullptr, p), v1::COUNTING_REASON_WRONG_DIRECTION);
  EXPECT_EQ(CountingDirection(town, rural, p), "TOWN->RURAL");
  p.count_other_directions = true;
  EXPECT_EQ(judge(rural, urban), v1::COUNTING_REASON_COUNTS);
  p = DefaultRotationPolicy();
  p.counting_directions.push_back(Direction{"ORDINARY", "WEAK"});
  EXPECT_EQ(judge(urban, weak), v1::COUNTING_REASON_COUNTS);
}

TEST(CountingTest, FormsThePolicyCounts) {
  RotationPolicy p = DefaultRotationPolicy();
  p.counting_forms = {v1::ROTATION_FORM_REGULAR_TRANSFER};
  RotationFacts r = ApprovedRotation();
  EXPECT_EQ(Count(r, true, p), v1::COUNTING_REASON_FORM_NOT_COUNTED);
  r.form = v1::ROTATION_FORM_REGULAR_TRANSFER;
  EXPECT_EQ(Count(r, true, p), v1::COUNTING_REASON_COUNTS);
}

TEST(CountingTest, ReasonsComeInTheirOrder) {
  RotationFacts r = ApprovedRotation();
  r.state = v1::ROTATION_STATE_CANCELLED;
  r.planned_end = D(2025, 10, 1);
  EXPECT_EQ(Count(r, false), v1::COUNTING_REASON_CANCELLED);
  r.state = v1::ROTATION_STATE_APPROVED;
  EXPECT_EQ(Count(r, false), v1::COUNTING_REASON_NOT_ELIGIBLE);
  EXPECT_EQ(Count(r, true), v1::COUNTING_REASON_TOO_SHORT);
}

TEST(CountingTest, StateAsOfADay) {
  std::vector<std::pair<absl::CivilDay, v1::RotationState>> changes = {
      {D(2025, 6, 1), v1::ROTATION_STATE_PROPOSED},
      {D(2025, 7, 1), v1::ROTATION_STATE_APPROVED},
      {D(2025, 12, 1), v1::ROTATION_STATE_CANCELLED}};
  EXPECT_EQ(StateAsOf(changes, D(2025, 5, 31)), v1::ROTATION_STATE_UNSPECIFIED);
  EXPECT_EQ(StateAsOf(changes, D(2025, 6, 30)), v1::ROTATION_STATE_PROPOSED);
  EXPECT_EQ(StateAsOf(changes, D(2025, 7, 1)), v1::ROTATION_STATE_APPROVED);
  EXPECT_EQ(StateAsOf(changes, D(2025, 11, 30)), v1::ROTATION_STATE_APPROVED);
  EXPECT_EQ(StateAsOf(changes, D(2025, 12, 1)), v1::ROTATION_STATE_CANCELLED);
}

TEST(CountingTest, BackboneByDesignationDay) {
  TeacherFacts t = Teacher(D(2010, 9, 1));
  EXPECT_FALSE(IsBackbone(t, kFirstDay));
  t.backbone_tier = cv1::BACKBONE_TIER_COUNTY;
  t.backbone_since = D(2025, 9, 2);
  EXPECT_FALSE(IsBackbone(t, kFirstDay));
  EXPECT_TRUE(IsBackbone(t, D(2025, 9, 2)));
}

// A teacher designated again at a higher tier, or lapsed, after a rotation's start day was a
// backbone teacher on that day (README: backbone is judged on the rotation's start day).
TEST(CountingTest, BackboneOnTheStartDayWhateverCameAfter) {
  TeacherFacts t = Teacher(D(2010, 9, 1));
  t.backbone_tier = cv1::BACKBONE_TIER_CITY;
  t.backbone_since = D(2026, 1, 15);
  t.backbone_changes = {{D(2022, 6, 1), cv1::BACKBONE_TIER_COUNTY},
                        {D(2026, 1, 15), cv1::BACKBONE_TIER_CITY}};
  EXPECT_FALSE(IsBackbone(t, D(2022, 5, 31)));
  EXPECT_TRUE(IsBackbone(t, D(2022, 6, 1)));
  EXPECT_TRUE(IsBackbone(t, kFirstDay));
  EXPECT_TRUE(IsBackbone(t, D(2026, 1, 15)));

  t.backbone_tier = cv1::BACKBONE_TIER_UNSPECIFIED;
  t.backbone_since = D(2026, 3, 1);
  t.backbone_changes = {{D(2022, 6, 1), cv1::BACKBONE_TIER_COUNTY},
                        {D(2026, 3, 1), cv1::BACKBONE_TIER_UNSPECIFIED}};
  EXPECT_TRUE(IsBackbone(t, kFirstDay));
  EXPECT_TRUE(IsBackbone(t, D(2026, 2, 28)));
  EXPECT_FALSE(IsBackbone(t, D(2026, 3, 1)));

  // Recorded out of date order: the day decides, not the order of arrival.
  t.backbone_changes = {{D(2026, 3, 1), cv1::BACKBONE_TIER_UNSPECIFIED},
                        {D(2022, 6, 1), cv1::BACKBONE_TIER_COUNTY}};
  EXPECT_TRUE(IsBackbone(t, kFirstDay));
  EXPECT_FALSE(IsBackbone(t, D(2026, 3, 1)));
}

// ---------------------------------------------------------------------------------------------
// The quota.

TEST(QuotaTest, RequiredRoundsUp) {
  EXPECT_EQ(CeilPercent(10, 31), 4);
  EXPECT_EQ(CeilPercent(10, 30), 3);
  EXPECT_EQ(CeilPercent(7, 100), 7);
  EXPECT_EQ(CeilPercent(7, 101), 8);
  EXPECT_EQ(CeilPercent(10, 1), 1);
  EXPECT_EQ(CeilPercent(10, 0), 0);
  EXPECT_EQ(CeilPercent(0, 50), 0);
  EXPECT_EQ(CeilPercent(100, 50), 50);
  EXPECT_EQ(CeilPercent(20, 5), 1);
  EXPECT_EQ(CeilPercent(20, 6), 2);
}

TEST(QuotaTest, ThirtyOneEligibleNeedFour) {
  Quota q = ComputeQuota(31, 3, 1, DefaultRotationPolicy());
  EXPECT_EQ(q.required, 4);
  EXPECT_EQ(q.shortfall, 1);
  EXPECT_EQ(q.backbone_required, 1);  // ceil(20% x max(3, 4)) = 1
  EXPECT_EQ(q.backbone_shortfall, 0);
  EXPECT_FALSE(q.passes);
  EXPECT_EQ(q.percent_hundredths, 968);  // 3 / 31 = 9.677...%
}

TEST(QuotaTest, SevenPercentOfAHundredIsSeven) {
  RotationPolicy p = DefaultRotationPolicy();
  p.ratio_percent = 7;
  Quota q = ComputeQuota(100, 7, 2, p);
  EXPECT_EQ(q.required, 7);
  EXPECT_EQ(q.shortfall, 0);
  EXPECT_EQ(q.backbone_required, 2);  // ceil(20% x 7) = 2
  EXPECT_TRUE(q.passes);
}

TEST(QuotaTest, BackboneBaseIsTheLargerOfCountingAndRequired) {
  RotationPolicy p = DefaultRotationPolicy();
  // More rotated than required: the base is those who rotated. 40 eligible -> 4 required; 11
  // counting -> ceil(2.2) = 3 backbone.
  Quota q = ComputeQuota(40, 11, 2, p);
  EXPECT_EQ(q.required, 4);
  EXPECT_EQ(q.backbone_required, 3);
  EXPECT_EQ(q.backbone_shortfall, 1);
  EXPECT_EQ(q.shortfall, 0);
  EXPECT_FALSE(q.passes);
  // Fewer rotated than required: the base is the required count. 60 eligible -> 6; ceil(1.2) = 2.
  q = ComputeQuota(60, 1, 1, p);
  EXPECT_EQ(q.required, 6);
  EXPECT_EQ(q.backbone_required, 2);
  EXPECT_EQ(q.shortfall, 5);
  EXPECT_EQ(q.backbone_shortfall, 1);
  // Exactly five rotated: 20% of 5 is exactly 1.
  q = ComputeQuota(50, 5, 1, p);
  EXPECT_EQ(q.backbone_required, 1);
  EXPECT_TRUE(q.passes);
}

TEST(QuotaTest, NobodyEligiblePassesWithNothingRequired) {
  Quota q = ComputeQuota(0, 0, 0, DefaultRotationPolicy());
  EXPECT_EQ(q.required, 0);
  EXPECT_EQ(q.backbone_required, 0);
  EXPECT_EQ(q.shortfall, 0);
  EXPECT_EQ(q.backbone_shortfall, 0);
  EXPECT_EQ(q.percent_hundredths, 0);
  EXPECT_TRUE(q.passes);
}

TEST(QuotaTest, PercentRoundsHalfUp) {
  EXPECT_EQ(ComputeQuota(8, 1, 0, DefaultRotationPolicy()).percent_hundredths, 1250);
  EXPECT_EQ(ComputeQuota(3, 1, 0, DefaultRotationPolicy()).percent_hundredths, 3333);
  EXPECT_EQ(ComputeQuota(3, 2, 0, DefaultRotationPolicy()).percent_hundredths, 6667);
  EXPECT_EQ(ComputeQuota(10, 1, 0, DefaultRotationPolicy()).percent_hundredths, 1000);
}

// ---------------------------------------------------------------------------------------------
// The state machine.

TEST(TransitionTest, LegalChanges) {
  using S = v1::RotationState;
  const std::vector<std::pair<S, S>> legal = {
      {v1::ROTATION_STATE_PROPOSED, v1::ROTATION_STATE_APPROVED},
      {v1::ROTATION_STATE_PROPOSED, v1::ROTATION_STATE_REJECTED},
      {v1::ROTATION_STATE_PROPOSED, v1::ROTATION_STATE_CANCELLED},
      {v1::ROTATION_STATE_APPROVED, v1::ROTATION_STATE_STARTED},
      {v1::ROTATION_STATE_APPROVED, v1::ROTATION_STATE_CANCELLED},
      {v1::ROTATION_STATE_STARTED, v1::ROTATION_STATE_COMPLETED},
      {v1::ROTATION_STATE_STARTED, v1::ROTATION_STATE_CANCELLED}};
  for (int from = 0; from <= 6; ++from) {
    for (int to = 0; to <= 6; ++to) {
      const bool want =
          std::find(legal.begin(), legal.end(), std::make_pair(S(from), S(to))) != legal.end();
      EXPECT_EQ(CheckTransition(S(from), S(to)).ok(), want) << from << " -> " << to;
    }
  }
}

TEST(TransitionTest, IllegalChangeNamesBothStates) {
  absl::Status s = CheckTransition(v1::ROTATION_STATE_PROPOSED, v1::ROTATION_STATE_COMPLETED);
  EXPECT_TRUE(absl::IsFailedPrecondition(s));
  EXPECT_THAT(std::string(s.message()), HasSubstr("ROTATION_STATE_PROPOSED"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("ROTATION_STATE_COMPLETED"));
  s = CheckTransition(v1::ROTATION_STATE_CANCELLED, v1::ROTATION_STATE_APPROVED);
  EXPECT_THAT(std::string(s.message()), HasSubstr("ROTATION_STATE_CANCELLED"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("ROTATION_STATE_APPROVED"));
}

TEST(TransitionTest, ActiveStates) {
  EXPECT_TRUE(IsActive(v1::ROTATION_STATE_PROPOSED));
  EXPECT_TRUE(IsActive(v1::ROTATION_STATE_APPROVED));
  EXPECT_TRUE(IsActive(v1::ROTATION_STATE_STARTED));
  EXPECT_FALSE(IsActive(v1::ROTATION_STATE_REJECTED));
  EXPECT_FALSE(IsActive(v1::ROTATION_STATE_COMPLETED));
  EXPECT_FALSE(IsActive(v1::ROTATION_STATE_CANCELLED));
}

}  // namespace
}  // namespace shidang::rotation
