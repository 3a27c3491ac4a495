#include "services/rotation/evaluation.h"

#include <optional>
#include <utility>

#include "services/common/dates.h"

namespace shidang::rotation {
namespace {

std::optional<absl::CivilDay> Day(const std::string& text) {
  absl::StatusOr<absl::CivilDay> day = dates::ParseDate(text);
  if (!day.ok()) return std::nullopt;
  return *day;
}

// The teachers judged at this county's schools on the first day.
void JudgeTeachers(const CountySnapshot& county, const RotationPolicy& policy,
                   CountyEvaluation* out) {
  const std::vector<DeferralSpan> none;
  const absl::CivilDay first_day = out->year.days.first;
  for (const auto& [id, teacher] : county.teachers) {
    const TeacherFacts& facts = teacher.facts;
    const Stint* stint = StintOnFirstDay(facts, first_day);
    if (stint == nullptr) continue;
    auto school = county.schools.find(stint->school_id);
    // A school of another county (before a transfer in, after one out) is not judged here; one
    // unknown here is, as long as the teacher has not left the county.
    if (school == county.schools.end() && !teacher.copy->transferred_to_county_id().empty()) {
      continue;
    }
    auto deferrals = county.deferrals.find(id);
    JudgedTeacher judged;
    judged.copy = teacher.copy.get();
    judged.facts = &facts;
    judged.eligibility = JudgeEligibility(
        facts, school == county.schools.end() ? nullptr : &school->second,
        deferrals == county.deferrals.end() ? none : deferrals->second, first_day, policy);
    out->teachers.emplace_hint(out->teachers.end(), id, std::move(judged));
  }
}

std::vector<std::pair<absl::CivilDay, v1::RotationState>> ChangesOf(const v1::Rotation& r) {
  std::vector<std::pair<absl::CivilDay, v1::RotationState>> changes;
  for (const v1::StateChange& c : r.history()) {
    if (std::optional<absl::CivilDay> on = Day(c.on_date()))
      changes.emplace_back(*on, c.to_state());
  }
  return changes;
}

void JudgeRotations(const CountySnapshot& county, const RotationPolicy& policy,
                    absl::CivilDay as_of, CountyEvaluation* out) {
  const std::map<std::string, SchoolFacts>& schools = county.schools;
  for (const v1::Rotation& r : county.data.rotations) {
    std::optional<absl::CivilDay> start = Day(r.start_date());
    std::optional<absl::CivilDay> end = Day(r.planned_end_date());
    if (!start.has_value() || !end.has_value() || !out->year.days.Contains(*start)) continue;
    JudgedRotation judged;
    judged.rotation = &r;
    judged.state = StateAsOf(ChangesOf(r), as_of);
    if (judged.state == v1::ROTATION_STATE_UNSPECIFIED) continue;  // proposed after as_of
    RotationFacts facts{r.rotation_id(),       r.teacher_id(),          judged.state, r.form(),
                        r.sending_school_id(), r.receiving_school_id(), *start,       *end};
    auto teacher = out->teachers.find(r.teacher_id());
    const bool eligible = teacher != out->teachers.end() &&
                          teacher->second.eligibility.eligible() &&
                          teacher->second.eligibility.school_id == r.sending_school_id();
    auto sending = schools.find(r.sending_school_id());
    auto receiving = schools.find(r.receiving_school_id());
    judged.reason = JudgeRotation(
        facts, out->year, eligible, sending == schools.end() ? nullptr : &sending->second,
        receiving == schools.end() ? nullptr : &receiving->second, policy);
    auto of_teacher = county.teachers.find(r.teacher_id());
    judged.backbone =
        of_teacher != county.teachers.end() && IsBackbone(of_teacher->second.facts, *start);
    if (judged.reason == v1::COUNTING_REASON_COUNTS || IsActive(judged.state)) {
      out->rotating.insert(r.teacher_id());
    }
    out->rotations.push_back(judged);
  }
}

// Distinct counting teachers (and backbone ones) per sending school, then the quotas.
void ComputeQuotas(const RotationPolicy& policy, CountyEvaluation* out) {
  std::map<std::string, int64_t> eligible;
  for (const auto& [id, t] : out->teachers) {
    if (t.eligibility.eligible()) ++eligible[t.eligibility.school_id];
  }
  std::map<std::string, std::set<std::string>> counting, backbone;
  for (const JudgedRotation& r : out->rotations) {
    const std::string& school = r.rotation->sending_school_id();
    if (r.reason != v1::COUNTING_REASON_COUNTS) {
      counting[school];  // the school shows in the report all the same
      continue;
    }
    counting[school].insert(r.rotation->teacher_id());
    if (r.backbone) backbone[school].insert(r.rotation->teacher_id());
  }
  int64_t all_eligible = 0;
  std::set<std::string> all_counting, all_backbone;  // a teacher counts once in the county
  std::set<std::string> schools;
  // Every public compulsory-education school of the county has a line, so one with nobody
  // eligible shows that it passes with nothing required (DOMAIN §6: required = ceil(10% x 0)).
  for (const auto& [id, school] : *out->schools) {
    if (school.ownership == profile::v1::SCHOOL_OWNERSHIP_PUBLIC && school.compulsory_education) {
      schools.insert(id);
    }
  }
  for (const auto& [school, n] : eligible) schools.insert(school);
  for (const auto& [school, teachers] : counting) schools.insert(school);
  for (const std::string& school : schools) {
    const int64_t e = eligible[school];
    const int64_t c = static_cast<int64_t>(counting[school].size());
    const int64_t b = static_cast<int64_t>(backbone[school].size());
    out->by_school[school] = ComputeQuota(e, c, b, policy);
    all_eligible += e;
    all_counting.insert(counting[school].begin(), counting[school].end());
    all_backbone.insert(backbone[school].begin(), backbone[school].end());
  }
  out->county = ComputeQuota(all_eligible, static_cast<int64_t>(all_counting.size()),
                             static_cast<int64_t>(all_backbone.size()), policy);
}

}  // namespace

CountyEvaluation EvaluateCounty(const CountySnapshot& county, const RotationPolicy& policy,
                                const SchoolYear& year, absl::CivilDay as_of) {
  CountyEvaluation out;
  out.year = year;
  out.schools = &county.schools;
  JudgeTeachers(county, policy, &out);
  JudgeRotations(county, policy, as_of, &out);
  ComputeQuotas(policy, &out);
  return out;
}

}  // namespace shidang::rotation
