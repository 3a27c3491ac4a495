// The built-in national defaults: DOMAIN's numbers, each traced to its section. Written with the
// generated setters (not a text proto) so a renamed field fails the build instead of a start-up.

#include "services/common/policy_resolver.h"

namespace shidang::policy {
namespace {

using ::shidang::common::v1::CYCLE_KIND_FIXED;
using ::shidang::common::v1::PROFESSIONAL_TITLE_FIRST_GRADE;
using ::shidang::common::v1::RetirementPolicy;
using ::shidang::common::v1::RotationForm;
using ::shidang::common::v1::TRAINING_MODE_BLENDED;
using ::shidang::common::v1::TRAINING_MODE_FACE_TO_FACE;
using ::shidang::common::v1::TRAINING_MODE_ONLINE;
using ::shidang::common::v1::TRAINING_MODE_SCHOOL_BASED;
using ::shidang::common::v1::TrainingMode;

void SetRule(RetirementPolicy::Rule* rule, int base_age, const char* cohort_start, int step,
             int max_delay) {
  rule->set_base_age_years(base_age);
  rule->set_cohort_start_month(cohort_start);
  rule->set_months_per_step(step);
  rule->set_max_delay_months(max_delay);
}

void SetRetirementAndEthics(Policy* p) {
  // §1 法定退休年龄, the rule in force since 2025-01-01: men 60 (to 63), women in professional
  // posts 55 (to 58); one month more per four months of cohort from 1965-01 / 1970-01.
  SetRule(p->mutable_retirement()->mutable_male(), 60, "1965-01", 4, 36);
  SetRule(p->mutable_retirement()->mutable_female(), 55, "1970-01", 4, 36);

  // §1 师德一票否决: 警告 6 months, 记过 12, 降低岗位等级 24, 撤职 24.
  auto* ethics = p->mutable_ethics();
  ethics->set_warning_months(6);
  ethics->set_demerit_months(12);
  ethics->set_demotion_months(24);
  ethics->set_dismissal_months(24);
}

void SetTraining(common::v1::TrainingPolicy* training) {
  // §2, §6: 360 hours per fixed 5-year cycle from 2021-01-01, 120 induction hours, 72 a year,
  // 30 for head teachers, grace and warning 180 days each. No minimums or caps nationally (a
  // province sets e.g. Jiangsu's 180 at county level or above): both are set, as empty lists.
  training->set_cycle_kind(CYCLE_KIND_FIXED);
  training->set_cycle_years(5);
  training->set_fixed_cycle_start("2021-01-01");
  training->set_required_hours(360);
  training->set_induction_hours(120);
  training->set_yearly_minimum_hours(72);
  training->set_head_teacher_hours(30);
  training->set_grace_days(180);
  training->set_warn_days(180);
  training->mutable_minimums();
  training->mutable_caps();
  training->set_counts_credits(false);
  const std::pair<TrainingMode, double> rates[] = {{TRAINING_MODE_FACE_TO_FACE, 6},
                                                   {TRAINING_MODE_ONLINE, 8},
                                                   {TRAINING_MODE_BLENDED, 8},
                                                   {TRAINING_MODE_SCHOOL_BASED, 8}};
  for (const auto& [mode, hours] : rates) {
    auto* rate = training->mutable_credit_rates()->add_rates();
    rate->set_mode(mode);
    rate->set_hours_per_credit(hours);
  }
  auto* degree = training->mutable_credit_caps()->add_caps();
  degree->set_activity("degree_study");
  degree->set_credits(20);
}

void SetRotation(common::v1::RotationPolicy* rotation) {
  // §3, §6 交流轮岗: eligible after 6 years at one school (leaders: 2 terms of 3 years), no
  // retirement exclusion, 10% of the eligible each school year from 09-01, 20% of the greater of
  // those counting and those required backbone, at least one year, only eligible teachers count,
  // in the directions DOMAIN names (no other direction counts), in every form DOMAIN names.
  rotation->set_min_years_at_school(6);
  rotation->set_leader_terms(2);
  rotation->set_leader_term_years(3);
  rotation->set_retirement_exclusion_years(0);
  rotation->set_ratio_percent(10);
  rotation->set_backbone_ratio_percent(20);
  rotation->set_school_year_start("09-01");
  rotation->set_min_duration_years(1);
  rotation->set_count_only_eligible(true);
  const std::pair<const char*, const char*> directions[] = {{"URBAN", "RURAL"},
                                                            {"TOWN", "RURAL"},
                                                            {"STRONG", "WEAK"},
                                                            {"CENTRAL", "VILLAGE"},
                                                            {"CENTRAL", "TEACHING_POINT"}};
  for (const auto& [from, to] : directions) {
    auto* direction = rotation->mutable_counting_directions()->add_directions();
    direction->set_from_kind(from);
    direction->set_to_kind(to);
  }
  rotation->set_backbone_base(common::v1::ROTATION_BACKBONE_BASE_GREATER_OF_COUNTING_AND_REQUIRED);
  rotation->set_other_directions_count(false);
  for (RotationForm form :
       {common::v1::ROTATION_FORM_REGULAR_TRANSFER, common::v1::ROTATION_FORM_SECONDMENT,
        common::v1::ROTATION_FORM_ITINERANT, common::v1::ROTATION_FORM_PAIRED_SUPPORT,
        common::v1::ROTATION_FORM_SCHOOL_GROUP, common::v1::ROTATION_FORM_SCHOOL_DISTRICT}) {
    rotation->mutable_counting_forms()->add_forms(form);
  }
}

void SetMentorship(common::v1::MentorshipPolicy* mentorship) {
  // §4, §6 双导师: new teachers for 5 years; mentors at least 一级 (or backbone) with 5 years of
  // teaching, at most 2 mentees; per term 8 lessons observed, 8 coached, 1 public lesson and an
  // end-of-term evaluation.
  mentorship->set_new_teacher_years(5);
  mentorship->set_mentor_min_title(PROFESSIONAL_TITLE_FIRST_GRADE);
  mentorship->set_mentor_min_teaching_years(5);
  mentorship->set_max_mentees(2);
  mentorship->set_min_lessons_observed_per_term(8);
  mentorship->set_min_lessons_coached_per_term(8);
  mentorship->set_min_public_lessons_per_term(1);
  mentorship->set_backbone_qualifies(true);
  // Guidance sessions: DOMAIN names no number (counted, not required); one end-of-term
  // evaluation; an autumn term from 09-01 and a spring term from 03-01.
  mentorship->set_min_guidance_sessions_per_term(0);
  mentorship->set_evaluations_per_term(1);
  for (const char* start : {"09-01", "03-01"}) {
    mentorship->mutable_terms()->add_terms()->set_start(start);
  }
}

Policy BuildDefaults() {
  Policy p;
  SetRetirementAndEthics(&p);
  SetTraining(p.mutable_training());
  SetRotation(p.mutable_rotation());
  SetMentorship(p.mutable_mentorship());
  return p;
}

}  // namespace

const Policy& NationalDefaults() {
  static const Policy* const kDefaults = new Policy(BuildDefaults());
  return *kDefaults;
}

}  // namespace shidang::policy
