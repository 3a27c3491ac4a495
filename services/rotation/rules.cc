#include "services/rotation/rules.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/policy_resolver.h"
#include "services/common/retirement.h"

namespace shidang::rotation {
namespace {

namespace pv1 = ::shidang::profile::v1;

absl::Status BadSchoolYear(absl::string_view field, absl::string_view text) {
  return absl::InvalidArgumentError(absl::StrCat(
      field, ": '", text, "' is not a school year; want YYYY (the year it starts) or YYYY-YYYY"));
}

bool ParseYear(absl::string_view text, int* year) {
  if (text.size() != 4) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return absl::SimpleAtoi(text, year) && *year >= 1900 && *year <= 2198;
}

// The leadership post at `school_id` held on `day` that the leaders' rule counts from: of those
// held that day, the one taken last.
const LeaderPost* LeaderPostOn(const TeacherFacts& teacher, absl::string_view school_id,
                               absl::CivilDay day) {
  const LeaderPost* found = nullptr;
  for (const LeaderPost& post : teacher.leadership_posts) {
    if (post.school_id != school_id) continue;
    if (post.kind != pv1::LEADERSHIP_POST_KIND_PRINCIPAL &&
        post.kind != pv1::LEADERSHIP_POST_KIND_VICE_PRINCIPAL) {
      continue;
    }
    if (post.from > day || (post.to.has_value() && *post.to < day)) continue;
    if (found == nullptr || post.from > found->from) found = &post;
  }
  return found;
}

bool Contains(const std::vector<std::string>& kinds, absl::string_view kind) {
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Policy.

RotationPolicy DefaultRotationPolicy() {
  RotationPolicy p;
  p.retirement = policy::NationalDefaults().retirement();
  return p;
}

absl::StatusOr<RotationPolicy> RotationPolicyFrom(const common::v1::Policy& resolved) {
  RotationPolicy p = DefaultRotationPolicy();
  const common::v1::RotationPolicy& r = resolved.rotation();
  if (r.has_min_years_at_school()) p.min_years_at_school = r.min_years_at_school();
  if (r.has_leader_terms()) p.leader_terms = r.leader_terms();
  if (r.has_leader_term_years()) p.leader_term_years = r.leader_term_years();
  if (r.has_retirement_exclusion_years()) {
    p.retirement_exclusion_years = r.retirement_exclusion_years();
  }
  if (r.has_ratio_percent()) p.ratio_percent = r.ratio_percent();
  if (r.has_backbone_ratio_percent()) p.backbone_ratio_percent = r.backbone_ratio_percent();
  if (r.has_school_year_start()) {
    const std::string& text = r.school_year_start();
    int month = 0, day = 0;
    if (text.size() != 5 || text[2] != '-' || !absl::SimpleAtoi(text.substr(0, 2), &month) ||
        !absl::SimpleAtoi(text.substr(3, 2), &day) || month < 1 || month > 12 || day < 1 ||
        day > 31) {
      return absl::FailedPreconditionError(
          absl::StrCat("policy rotation.school_year_start: '", text, "' is not MM-DD"));
    }
    p.school_year_start_month = month;
    p.school_year_start_day = day;
  }
  if (r.has_min_duration_years()) p.min_duration_years = r.min_duration_years();
  if (r.has_count_only_eligible()) p.count_only_eligible = r.count_only_eligible();
  if (r.has_counting_directions()) {
    p.counting_directions.clear();
    for (const auto& d : r.counting_directions().directions()) {
      p.counting_directions.push_back(Direction{d.from_kind(), d.to_kind()});
    }
  }
  if (r.has_other_directions_count()) p.count_other_directions = r.other_directions_count();
  if (r.has_counting_forms()) {
    // The policy's forms and the rotation's are numbered alike (1 定期交流 ... 6 学区一体化).
    p.counting_forms.clear();
    for (int form : r.counting_forms().forms()) {
      p.counting_forms.push_back(static_cast<v1::RotationForm>(form));
    }
  }
  if (r.has_backbone_base() &&
      r.backbone_base() != common::v1::ROTATION_BACKBONE_BASE_UNSPECIFIED) {
    p.backbone_base = r.backbone_base();
  }
  if (resolved.has_retirement()) p.retirement = resolved.retirement();
  return p;
}

// ---------------------------------------------------------------------------------------------
// School years.

std::string SchoolYear::Name() const { return absl::StrCat(start_year, "-", start_year + 1); }

SchoolYear SchoolYearStarting(int start_year, const RotationPolicy& policy) {
  // A start day the month lacks (29 February) gives the 1st of the next month, as ShiftYears does.
  auto start_of = [&](int year) {
    absl::CivilDay day(year, policy.school_year_start_month, policy.school_year_start_day);
    if (day.month() != policy.school_year_start_month) {
      return absl::CivilDay(absl::CivilMonth(year, policy.school_year_start_month) + 1);
    }
    return day;
  };
  return SchoolYear{start_year, dates::Period{start_of(start_year), start_of(start_year + 1) - 1}};
}

SchoolYear SchoolYearOf(absl::CivilDay day, const RotationPolicy& policy) {
  SchoolYear year = SchoolYearStarting(static_cast<int>(day.year()), policy);
  if (day < year.days.first) year = SchoolYearStarting(static_cast<int>(day.year()) - 1, policy);
  return year;
}

absl::StatusOr<int> ParseSchoolYear(absl::string_view text, absl::string_view field) {
  int first = 0, second = 0;
  if (text.size() == 4 && ParseYear(text, &first)) return first;
  if (text.size() == 9 && text[4] == '-' && ParseYear(text.substr(0, 4), &first) &&
      ParseYear(text.substr(5, 4), &second)) {
    if (second != first + 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": '", text, "' spans more than one year; want e.g. 2025-2026"));
    }
    return first;
  }
  return BadSchoolYear(field, text);
}

int64_t WholeYears(absl::CivilDay since, absl::CivilDay day) {
  if (day < since) return 0;
  int64_t n = day.year() - since.year();
  while (n > 0 && dates::ShiftYears(since, n) > day) --n;
  return n;
}

const std::string& TeacherFacts::CurrentSchool() const {
  static const std::string kNone;
  return stints.empty() ? kNone : stints.back().school_id;
}

// ---------------------------------------------------------------------------------------------
// Eligibility.

const Stint* StintOnFirstDay(const TeacherFacts& teacher, absl::CivilDay first_day) {
  const Stint* before = nullptr;  // holding first_day - 1
  const Stint* on = nullptr;      // holding first_day
  for (const Stint& stint : teacher.stints) {
    if (stint.joined_on < first_day) before = &stint;
    if (stint.joined_on <= first_day) on = &stint;
  }
  return before != nullptr ? before : on;
}

profile::v1::PostStatus PostStatusOn(const TeacherFacts& teacher, absl::CivilDay day) {
  const std::pair<absl::CivilDay, pv1::PostStatus>* latest = nullptr;
  for (const auto& change : teacher.post_status_changes) {
    if (change.first <= day && (latest == nullptr || change.first >= latest->first)) {
      latest = &change;
    }
  }
  if (latest != nullptr) return latest->second;
  if (teacher.created_post_status != pv1::POST_STATUS_UNSPECIFIED) {
    return teacher.created_post_status;
  }
  return teacher.post_status;
}

std::optional<absl::CivilDay> RetirementDateOf(const TeacherFacts& teacher,
                                               const RotationPolicy& policy) {
  if (teacher.retirement_date.has_value()) return teacher.retirement_date;
  if (!teacher.birth_date.has_value()) return std::nullopt;
  absl::StatusOr<absl::CivilDay> date =
      retirement::RetirementDate(*teacher.birth_date, teacher.sex, policy.retirement);
  if (!date.ok()) return std::nullopt;
  return *date;
}

Eligibility JudgeEligibility(const TeacherFacts& teacher, const SchoolFacts* school,
                             const std::vector<DeferralSpan>& deferrals, absl::CivilDay first_day,
                             const RotationPolicy& policy) {
  Eligibility e;
  e.retirement_date = RetirementDateOf(teacher, policy);
  const Stint* stint = StintOnFirstDay(teacher, first_day);
  if (stint != nullptr) e.school_id = stint->school_id;
  // The figures first, so every row says how far the teacher is whatever the reason.
  if (stint != nullptr) {
    const LeaderPost* post = LeaderPostOn(teacher, stint->school_id, first_day);
    e.leader = post != nullptr;
    e.counted_from = e.leader ? post->from : stint->joined_on;
    e.required_years = e.leader ? int64_t{policy.leader_terms} * policy.leader_term_years
                                : policy.min_years_at_school;
    e.years = WholeYears(*e.counted_from, first_day);
    e.eligible_from = dates::ShiftYears(*e.counted_from, e.required_years);
  }
  const bool public_compulsory =
      school != nullptr && stint != nullptr && school->school_id == stint->school_id &&
      school->ownership == pv1::SCHOOL_OWNERSHIP_PUBLIC && school->compulsory_education;
  if (!public_compulsory) {
    e.reason = v1::ELIGIBILITY_REASON_NOT_PUBLIC_COMPULSORY;
  } else if (!teacher.staffed || PostStatusOn(teacher, first_day) != pv1::POST_STATUS_ON_DUTY) {
    e.reason = v1::ELIGIBILITY_REASON_NOT_IN_SERVICE;
  } else if (*e.eligible_from > first_day) {
    e.reason = v1::ELIGIBILITY_REASON_TOO_FEW_YEARS;
  } else if (e.retirement_date.has_value() &&
             (*e.retirement_date <= first_day ||
              *e.retirement_date <
                  dates::ShiftYears(first_day, policy.retirement_exclusion_years))) {
    e.reason = v1::ELIGIBILITY_REASON_NEAR_RETIREMENT;
  } else {
    e.reason = v1::ELIGIBILITY_REASON_ELIGIBLE;
    for (const DeferralSpan& d : deferrals) {
      if (d.from <= first_day && (!d.to.has_value() || first_day <= *d.to)) {
        e.reason = v1::ELIGIBILITY_REASON_DEFERRED;
        e.deferral_id = d.deferral_id;
        break;
      }
    }
  }
  return e;
}

// ---------------------------------------------------------------------------------------------
// Which rotations count.

std::vector<std::string> KindsOf(const SchoolFacts& school) {
  std::vector<std::string> kinds;
  switch (school.location) {
    case pv1::SCHOOL_LOCATION_URBAN:
      kinds.push_back("URBAN");
      break;
    case pv1::SCHOOL_LOCATION_TOWN:
      kinds.push_back("TOWN");
      break;
    case pv1::SCHOOL_LOCATION_RURAL:
      kinds.push_back("RURAL");
      break;
    default:
      break;
  }
  switch (school.quality) {
    case pv1::SCHOOL_QUALITY_STRONG:
      kinds.push_back("STRONG");
      break;
    case pv1::SCHOOL_QUALITY_ORDINARY:
      kinds.push_back("ORDINARY");
      break;
    case pv1::SCHOOL_QUALITY_WEAK:
      kinds.push_back("WEAK");
      break;
    default:
      break;
  }
  switch (school.kind) {
    case pv1::SCHOOL_KIND_CENTRAL_SCHOOL:
      kinds.push_back("CENTRAL");
      break;
    case pv1::SCHOOL_KIND_VILLAGE_SCHOOL:
      kinds.push_back("VILLAGE");
      break;
    case pv1::SCHOOL_KIND_TEACHING_POINT:
      kinds.push_back("TEACHING_POINT");
      break;
    default:
      break;
  }
  return kinds;
}

std::optional<std::string> CountingDirection(const SchoolFacts& sending,
                                             const SchoolFacts& receiving,
                                             const RotationPolicy& policy) {
  return CountingDirection(KindsOf(sending), KindsOf(receiving), policy);
}

std::optional<std::string> CountingDirection(const std::vector<std::string>& from,
                                             const std::vector<std::string>& to,
                                             const RotationPolicy& policy) {
  for (const Direction& d : policy.counting_directions) {
    if (Contains(from, d.from) && Contains(to, d.to)) return absl::StrCat(d.from, "->", d.to);
  }
  return std::nullopt;
}

bool DurationReaches(absl::CivilDay start, absl::CivilDay planned_end, int years) {
  return planned_end >= dates::ShiftYears(start, years) - 1;
}

v1::CountingReason JudgeRotation(const RotationFacts& rotation, const SchoolYear& year,
                                 bool teacher_eligible, const SchoolFacts* sending,
                                 const SchoolFacts* receiving, const RotationPolicy& policy) {
  if (!year.days.Contains(rotation.start)) return v1::COUNTING_REASON_OTHER_SCHOOL_YEAR;
  switch (rotation.state) {
    case v1::ROTATION_STATE_APPROVED:
    case v1::ROTATION_STATE_STARTED:
    case v1::ROTATION_STATE_COMPLETED:
      break;
    case v1::ROTATION_STATE_CANCELLED:
      return v1::COUNTING_REASON_CANCELLED;
    default:
      return v1::COUNTING_REASON_NOT_APPROVED;
  }
  if (!policy.counting_forms.empty() &&
      std::find(policy.counting_forms.begin(), policy.counting_forms.end(), rotation.form) ==
          policy.counting_forms.end()) {
    return v1::COUNTING_REASON_FORM_NOT_COUNTED;
  }
  if (policy.count_only_eligible && !teacher_eligible) return v1::COUNTING_REASON_NOT_ELIGIBLE;
  if (!policy.count_other_directions &&
      (sending == nullptr || receiving == nullptr ||
       !CountingDirection(*sending, *receiving, policy).has_value())) {
    return v1::COUNTING_REASON_WRONG_DIRECTION;
  }
  if (!DurationReaches(rotation.start, rotation.planned_end, policy.min_duration_years)) {
    return v1::COUNTING_REASON_TOO_SHORT;
  }
  return v1::COUNTING_REASON_COUNTS;
}

v1::RotationState StateAsOf(
    const std::vector<std::pair<absl::CivilDay, v1::RotationState>>& changes, absl::CivilDay day) {
  v1::RotationState state = v1::ROTATION_STATE_UNSPECIFIED;
  for (const auto& [on, to] : changes) {
    if (on <= day) state = to;
  }
  return state;
}

bool IsBackbone(const TeacherFacts& teacher, absl::CivilDay day) {
  if (!teacher.backbone_changes.empty()) {
    const std::pair<absl::CivilDay, common::v1::BackboneTier>* in_force = nullptr;
    for (const auto& change : teacher.backbone_changes) {
      if (change.first <= day && (in_force == nullptr || change.first >= in_force->first)) {
        in_force = &change;
      }
    }
    return in_force != nullptr && in_force->second != common::v1::BACKBONE_TIER_UNSPECIFIED;
  }
  if (teacher.backbone_tier == common::v1::BACKBONE_TIER_UNSPECIFIED) return false;
  return !teacher.backbone_since.has_value() || *teacher.backbone_since <= day;
}

// ---------------------------------------------------------------------------------------------
// The quota.

int64_t CeilPercent(int64_t percent, int64_t n) { return (percent * n + 99) / 100; }

Quota ComputeQuota(int64_t eligible, int64_t counting, int64_t backbone_counting,
                   const RotationPolicy& policy) {
  Quota q;
  q.eligible = eligible;
  q.counting = counting;
  q.backbone_counting = backbone_counting;
  q.required = CeilPercent(policy.ratio_percent, eligible);
  int64_t base = std::max(counting, q.required);
  if (policy.backbone_base == common::v1::ROTATION_BACKBONE_BASE_COUNTING) base = counting;
  if (policy.backbone_base == common::v1::ROTATION_BACKBONE_BASE_REQUIRED) base = q.required;
  q.backbone_required = CeilPercent(policy.backbone_ratio_percent, base);
  q.shortfall = std::max<int64_t>(0, q.required - counting);
  q.backbone_shortfall = std::max<int64_t>(0, q.backbone_required - backbone_counting);
  q.passes = q.shortfall == 0 && q.backbone_shortfall == 0;
  // counting / eligible in hundredths of a percent, rounded half up: (2 * 10000 c + e) / (2 e).
  q.percent_hundredths = eligible == 0 ? 0 : (20000 * counting + eligible) / (2 * eligible);
  return q;
}

// ---------------------------------------------------------------------------------------------
// The state machine.

absl::Status CheckTransition(v1::RotationState from, v1::RotationState to) {
  bool allowed = false;
  switch (from) {
    case v1::ROTATION_STATE_PROPOSED:
      allowed = to == v1::ROTATION_STATE_APPROVED || to == v1::ROTATION_STATE_REJECTED ||
                to == v1::ROTATION_STATE_CANCELLED;
      break;
    case v1::ROTATION_STATE_APPROVED:
      allowed = to == v1::ROTATION_STATE_STARTED || to == v1::ROTATION_STATE_CANCELLED;
      break;
    case v1::ROTATION_STATE_STARTED:
      allowed = to == v1::ROTATION_STATE_COMPLETED || to == v1::ROTATION_STATE_CANCELLED;
      break;
    default:
      break;
  }
  if (allowed) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("rotation is ", v1::RotationState_Name(from),
                                                    "; cannot become ",
                                                    v1::RotationState_Name(to)));
}

bool IsActive(v1::RotationState state) {
  return state == v1::ROTATION_STATE_PROPOSED || state == v1::ROTATION_STATE_APPROVED ||
         state == v1::ROTATION_STATE_STARTED;
}

}  // namespace shidang::rotation
