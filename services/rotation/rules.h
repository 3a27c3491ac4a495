#pragma once

// The rotation service's domain rules (DOMAIN §3, §6) as pure functions over plain values: no
// Redis, no gRPC, no clock. Eligibility on the school year's first day, which rotations count,
// the quota arithmetic (exact integers), the state machine of a rotation. Pinned down by
// tests/rotation/rules_test.cc.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "services/common/dates.h"
#include "shidang/common/v1/policy.pb.h"
#include "shidang/common/v1/types.pb.h"
#include "shidang/profile/v1/profile.pb.h"
#include "shidang/rotation/v1/rotation.pb.h"

namespace shidang::rotation {

// ---------------------------------------------------------------------------------------------
// Policy.

// A direction that counts toward the quota: a sending school of kind `from` to a receiving school
// of kind `to`, kinds as policy.h's kSchoolKinds ("URBAN", "WEAK", "CENTRAL", ...).
struct Direction {
  std::string from;
  std::string to;
};

// The rotation section of the policy as the rules use it, with DOMAIN's defaults.
struct RotationPolicy {
  int min_years_at_school = 6;
  int leader_terms = 2;
  int leader_term_years = 3;
  int retirement_exclusion_years = 0;
  int ratio_percent = 10;
  int backbone_ratio_percent = 20;
  // First day of the school year, month and day.
  int school_year_start_month = 9;
  int school_year_start_day = 1;
  int min_duration_years = 1;
  // Only rotations of teachers eligible on the first day count.
  bool count_only_eligible = true;
  std::vector<Direction> counting_directions = {{"URBAN", "RURAL"},
                                                {"TOWN", "RURAL"},
                                                {"STRONG", "WEAK"},
                                                {"CENTRAL", "VILLAGE"},
                                                {"CENTRAL", "TEACHING_POINT"}};
  // Rotations in other directions count too (some counties say so).
  bool count_other_directions = false;
  // Forms that count; empty means every form.
  std::vector<v1::RotationForm> counting_forms;
  // What the backbone share is taken of (DOMAIN §6: the greater of counting and required).
  common::v1::RotationBackboneBase backbone_base =
      common::v1::ROTATION_BACKBONE_BASE_GREATER_OF_COUNTING_AND_REQUIRED;
  // For teachers whose retirement date is not given: DOMAIN §1's rule.
  common::v1::RetirementPolicy retirement;
};

// DOMAIN's defaults, the retirement rule included.
RotationPolicy DefaultRotationPolicy();

// The rules' policy from a resolved policy (common::v1::Policy): each set field of its rotation
// and retirement sections overrides the default. FAILED_PRECONDITION naming the field for a value
// the rules cannot use (a school year start that is not MM-DD).
absl::StatusOr<RotationPolicy> RotationPolicyFrom(const common::v1::Policy& resolved);

// ---------------------------------------------------------------------------------------------
// School years.

// A school year: named by the calendar year it starts in.
struct SchoolYear {
  int start_year = 0;
  dates::Period days;  // its first day through the day before the next one's first day

  std::string Name() const;  // "2025-2026"
};

// The school year starting in `start_year` (a start day the month lacks gives the 1st of the next
// month, as dates::ShiftYears does).
SchoolYear SchoolYearStarting(int start_year, const RotationPolicy& policy);

// The school year holding `day`.
SchoolYear SchoolYearOf(absl::CivilDay day, const RotationPolicy& policy);

// "2025" or "2025-2026" (the second year one after the first) -> 2025. INVALID_ARGUMENT naming
// `field` otherwise.
absl::StatusOr<int> ParseSchoolYear(absl::string_view text, absl::string_view field);

// The largest n >= 0 with ShiftYears(since, n) <= day (0 when day is before since).
int64_t WholeYears(absl::CivilDay since, absl::CivilDay day);

// ---------------------------------------------------------------------------------------------
// The facts the rules read (the service's copy of the profile service's teachers and schools).

struct SchoolFacts {
  std::string school_id;
  std::string county_id;
  std::string name;
  common::v1::Stage stage = common::v1::STAGE_UNSPECIFIED;
  profile::v1::SchoolOwnership ownership = profile::v1::SCHOOL_OWNERSHIP_UNSPECIFIED;
  profile::v1::SchoolLocation location = profile::v1::SCHOOL_LOCATION_UNSPECIFIED;
  profile::v1::SchoolQuality quality = profile::v1::SCHOOL_QUALITY_UNSPECIFIED;
  profile::v1::SchoolKind kind = profile::v1::SCHOOL_KIND_UNSPECIFIED;
  bool compulsory_education = false;
};

// One stay at one school: from `joined_on` until the next stint's day.
struct Stint {
  std::string school_id;
  absl::CivilDay joined_on;
};

struct LeaderPost {
  profile::v1::LeadershipPostKind kind = profile::v1::LEADERSHIP_POST_KIND_UNSPECIFIED;
  std::string school_id;
  absl::CivilDay from;
  std::optional<absl::CivilDay> to;  // nullopt: still held
};

struct TeacherFacts {
  std::string teacher_id;
  std::string county_id;
  std::string name;
  // Schools in the order joined (the last is the current one).
  std::vector<Stint> stints;
  std::optional<absl::CivilDay> birth_date;
  common::v1::Sex sex = common::v1::SEX_UNSPECIFIED;
  // When known from the profile service; otherwise computed from birth date and sex.
  std::optional<absl::CivilDay> retirement_date;
  bool staffed = false;
  // The status now; the rules judge a day by PostStatusOn.
  profile::v1::PostStatus post_status = profile::v1::POST_STATUS_UNSPECIFIED;
  // The status the teacher was created with (UNSPECIFIED: not known), and the dated changes
  // since, in the order they arrived.
  profile::v1::PostStatus created_post_status = profile::v1::POST_STATUS_UNSPECIFIED;
  std::vector<std::pair<absl::CivilDay, profile::v1::PostStatus>> post_status_changes;
  std::vector<LeaderPost> leadership_posts;
  common::v1::BackboneTier backbone_tier = common::v1::BACKBONE_TIER_UNSPECIFIED;
  std::optional<absl::CivilDay> backbone_since;
  // Every designation (a lapse: UNSPECIFIED) by the day it took effect, in the order recorded;
  // IsBackbone reads backbone_tier / backbone_since only when empty (a copy kept before).
  std::vector<std::pair<absl::CivilDay, common::v1::BackboneTier>> backbone_changes;
  common::v1::Stage stage = common::v1::STAGE_UNSPECIFIED;
  std::vector<std::string> subjects;

  const std::string& CurrentSchool() const;
};

// An HR-recorded deferral: from `from` through `to` (nullopt: open-ended).
struct DeferralSpan {
  std::string deferral_id;
  absl::CivilDay from;
  std::optional<absl::CivilDay> to;
};

// ---------------------------------------------------------------------------------------------
// Eligibility (DOMAIN §3, §6).

// The school a teacher is judged at on `first_day`: the one they were at as the day began (the
// stint holding first_day - 1), so a move that takes effect on the first day itself (a rotation
// starting then) leaves them judged at the school they leave. A teacher who joined their first
// school on first_day is judged there. nullptr when they joined no school by then.
const Stint* StintOnFirstDay(const TeacherFacts& teacher, absl::CivilDay first_day);

// The post status on `day`: the latest change dated on or before it (of two on one day, the
// later to arrive), else the status the teacher was created with, else the status now (a copy
// that keeps no history).
profile::v1::PostStatus PostStatusOn(const TeacherFacts& teacher, absl::CivilDay day);

// The retirement date: the given one, or DOMAIN §1's from birth date and sex; nullopt when
// neither can be had.
std::optional<absl::CivilDay> RetirementDateOf(const TeacherFacts& teacher,
                                               const RotationPolicy& policy);

struct Eligibility {
  v1::EligibilityReason reason = v1::ELIGIBILITY_REASON_UNSPECIFIED;
  // The school judged at (StintOnFirstDay); empty when none.
  std::string school_id;
  // Whole years since counted_from on the first day.
  int64_t years = 0;
  std::optional<absl::CivilDay> counted_from;
  int64_t required_years = 0;
  // ShiftYears(counted_from, required_years).
  std::optional<absl::CivilDay> eligible_from;
  std::optional<absl::CivilDay> retirement_date;
  // The deferral covering the first day (DEFERRED).
  std::string deferral_id;
  // Judged by the leaders' rule (a principal's or vice-principal's post at that school held on
  // the first day; years count from taking that post).
  bool leader = false;

  bool eligible() const { return reason == v1::ELIGIBILITY_REASON_ELIGIBLE; }
};

// Judges `teacher` on `first_day` (the school year's first day). `school` is the facts of the
// school StintOnFirstDay names (nullptr when unknown). The first reason that applies:
//   NOT_PUBLIC_COMPULSORY  no school, or not 公办 and 义务教育;
//   NOT_IN_SERVICE         not 在编, or post status on first_day (PostStatusOn) not 在岗, so
//                          a later leave or retirement leaves a past year's judgement as it was;
//   TOO_FEW_YEARS          ShiftYears(counted_from, required) > first_day; counted_from is the day
//                          they joined the school, or for a principal / vice-principal holding the
//                          post there on the first day the day they took it (required = terms x
//                          term years instead of min_years_at_school);
//   NEAR_RETIREMENT        retirement date <= first_day, or < ShiftYears(first_day, N) for the
//                          exclusion years N;
//   DEFERRED               a deferral with from <= first_day <= to;
//   ELIGIBLE.
Eligibility JudgeEligibility(const TeacherFacts& teacher, const SchoolFacts* school,
                             const std::vector<DeferralSpan>& deferrals, absl::CivilDay first_day,
                             const RotationPolicy& policy);

// ---------------------------------------------------------------------------------------------
// Which rotations count.

// The kinds of a school a direction can name: its location (URBAN, TOWN, RURAL), quality
// (STRONG, ORDINARY, WEAK) and place in a township (CENTRAL, VILLAGE, TEACHING_POINT).
std::vector<std::string> KindsOf(const SchoolFacts& school);

// The first counting direction from `sending` to `receiving` ("URBAN->RURAL"), or nullopt.
std::optional<std::string> CountingDirection(const SchoolFacts& sending,
                                             const SchoolFacts& receiving,
                                             const RotationPolicy& policy);
// The same from the schools' kinds (KindsOf), for callers that pair many schools.
std::optional<std::string> CountingDirection(const std::vector<std::string>& from,
                                             const std::vector<std::string>& to,
                                             const RotationPolicy& policy);

// A planned stay from `start` through `planned_end` reaches `years` years: planned_end is on or
// after the last day of the period of `years` years from start (ShiftYears(start, years) - 1).
bool DurationReaches(absl::CivilDay start, absl::CivilDay planned_end, int years);

// What the counting judgement reads of a rotation.
struct RotationFacts {
  std::string rotation_id;
  std::string teacher_id;
  v1::RotationState state = v1::ROTATION_STATE_UNSPECIFIED;
  v1::RotationForm form = v1::ROTATION_FORM_UNSPECIFIED;
  std::string sending_school_id;
  std::string receiving_school_id;
  absl::CivilDay start;
  absl::CivilDay planned_end;
};

// Whether `rotation` counts toward `year`'s quota; the first reason that applies:
// OTHER_SCHOOL_YEAR (start outside the year), CANCELLED, NOT_APPROVED (proposed or rejected),
// FORM_NOT_COUNTED, NOT_ELIGIBLE (when policy counts only eligible teachers and
// `teacher_eligible` is false), WRONG_DIRECTION (no counting direction, or a school unknown),
// TOO_SHORT (planned duration under min_duration_years), else COUNTS.
v1::CountingReason JudgeRotation(const RotationFacts& rotation, const SchoolYear& year,
                                 bool teacher_eligible, const SchoolFacts* sending,
                                 const SchoolFacts* receiving, const RotationPolicy& policy);

// A rotation's state as of `day` from its history (state changes and the day each happened, in
// order): the last change on or before `day`; UNSPECIFIED when none (not yet proposed).
v1::RotationState StateAsOf(
    const std::vector<std::pair<absl::CivilDay, v1::RotationState>>& changes, absl::CivilDay day);

// Backbone (骨干) for the quota: the designation in force on `day` (the latest dated on or before
// it, the last recorded of a day) has a tier; a lapse has none, and a later designation or lapse
// does not change what `day` was (README: backbone is judged on the rotation's start day).
bool IsBackbone(const TeacherFacts& teacher, absl::CivilDay day);

// ---------------------------------------------------------------------------------------------
// The quota (exact integers).

// ceil(percent x n / 100) for percent in 0..100 and n >= 0.
int64_t CeilPercent(int64_t percent, int64_t n);

struct Quota {
  int64_t eligible = 0;
  int64_t counting = 0;
  int64_t required = 0;
  int64_t backbone_counting = 0;
  int64_t backbone_required = 0;
  int64_t shortfall = 0;
  int64_t backbone_shortfall = 0;
  bool passes = false;
  // counting x 100 / eligible rounded half up to 2 decimals, as an integer of hundredths of a
  // percent (0 when nobody is eligible). For display only; passes is decided on the integers.
  int64_t percent_hundredths = 0;
};

// required = ceil(ratio x eligible); backbone_required = ceil(backbone_ratio x base), the base
// as policy.backbone_base says (by default max(counting, required)); shortfalls never below 0;
// passes when both are 0.
Quota ComputeQuota(int64_t eligible, int64_t counting, int64_t backbone_counting,
                   const RotationPolicy& policy);

// ---------------------------------------------------------------------------------------------
// The rotation's state machine.

// OK when `from` may become `to` (see RotationState in rotation.proto); FAILED_PRECONDITION
// naming both states otherwise ("rotation is ROTATION_STATE_CANCELLED; cannot become
// ROTATION_STATE_APPROVED").
absl::Status CheckTransition(v1::RotationState from, v1::RotationState to);

// A rotation in this state still occupies its teacher (at most one such rotation per teacher):
// PROPOSED, APPROVED or STARTED.
bool IsActive(v1::RotationState state);

}  // namespace shidang::rotation
