#include "services/rotation/candidates.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/dates.h"
#include "services/common/status.h"
#include "services/rotation/evaluation.h"
#include "services/rotation/policy.h"

namespace shidang::rotation {
namespace {

constexpr int kDefaultLimit = 100;
constexpr int kMaxLimit = 1000;
constexpr size_t kMaxOptions = 5;

namespace pv1 = ::shidang::profile::v1;

// A teacher picked, with the school's shortfalls before the pick: the "why" is written only for
// the picks returned (a county may have thousands).
struct Pick {
  const JudgedTeacher* teacher = nullptr;
  bool backbone = false;
  bool for_backbone = false;  // picked to close a backbone shortfall
  int64_t shortfall = 0;
  int64_t backbone_shortfall = 0;
};

std::string WhyOf(const Pick& p) {
  return absl::StrCat(p.backbone ? "骨干教师；" : "", "本校已满", p.teacher->eligibility.years,
                      "年；学校尚缺交流", p.shortfall, "人、骨干", p.backbone_shortfall, "人");
}

bool StageFits(common::v1::Stage teacher, common::v1::Stage school) {
  if (teacher == common::v1::STAGE_UNSPECIFIED || school == common::v1::STAGE_UNSPECIFIED) {
    return true;
  }
  if (school == common::v1::STAGE_NINE_YEAR) {
    return teacher == common::v1::STAGE_PRIMARY || teacher == common::v1::STAGE_JUNIOR_SECONDARY ||
           teacher == common::v1::STAGE_NINE_YEAR;
  }
  return teacher == school;
}

// Longest at the school first: the earliest day the years count from (whole years alone would
// tie two teachers who joined months apart), then teacher id.
bool LongerAtSchool(const JudgedTeacher* a, const JudgedTeacher* b) {
  const std::optional<absl::CivilDay>& from_a = a->eligibility.counted_from;
  const std::optional<absl::CivilDay>& from_b = b->eligibility.counted_from;
  if (from_a != from_b) return from_a.has_value() && (!from_b.has_value() || *from_a < *from_b);
  return a->copy->teacher_id() < b->copy->teacher_id();
}

// The fewest teachers of one school's pool that make its quota pass, greedily.
std::vector<Pick> PickForSchool(std::vector<const JudgedTeacher*> pool, const Quota& quota,
                                const RotationPolicy& policy, absl::CivilDay first_day) {
  std::sort(pool.begin(), pool.end(), LongerAtSchool);
  std::vector<Pick> picks;
  std::vector<bool> taken(pool.size(), false);
  std::vector<bool> backbone_at(pool.size());  // judged once, not once per pick
  for (size_t i = 0; i < pool.size(); ++i) backbone_at[i] = IsBackbone(*pool[i]->facts, first_day);
  int64_t counting = quota.counting, backbone = quota.backbone_counting;
  Quota now = quota;
  while (!now.passes && picks.size() < pool.size()) {
    const bool backbone_short = now.backbone_shortfall > 0;
    size_t best = pool.size();
    for (size_t i = 0; i < pool.size() && best == pool.size(); ++i) {
      if (!taken[i] && (!backbone_short || backbone_at[i])) best = i;
    }
    for (size_t i = 0; i < pool.size() && best == pool.size(); ++i) {
      if (!taken[i]) best = i;
    }
    taken[best] = true;
    Pick p{pool[best], backbone_at[best], false, now.shortfall, now.backbone_shortfall};
    p.for_backbone = backbone_short && p.backbone;
    ++counting;
    if (p.backbone) ++backbone;
    now = ComputeQuota(quota.eligible, counting, backbone, policy);
    picks.push_back(std::move(p));
  }
  return picks;
}

// What each school's teachers teach, by school id. Views into the county snapshot, which
// outlives the call: no string is copied per teacher.
using Subjects = std::unordered_set<std::string_view>;
using SubjectsAt = std::unordered_map<std::string_view, Subjects>;

// A public school a sending school's teacher may go to in a counting direction.
struct Destination {
  const SchoolFacts* school = nullptr;
  std::string direction;
  const Subjects* taught = nullptr;  // subjects its teachers teach (may be null)
};

// The destinations of each sending school, found once per school per call (each school's kinds
// once per call).
class Destinations {
 public:
  Destinations(const std::map<std::string, SchoolFacts>& schools, const SubjectsAt& subjects_at,
               const RotationPolicy& policy)
      : schools_(schools), subjects_at_(subjects_at), policy_(policy) {}

  const std::vector<Destination>& Of(const SchoolFacts& sending) {
    auto [it, fresh] = found_.try_emplace(sending.school_id);
    if (!fresh) return it->second;
    const std::vector<std::string> from = KindsOf(sending);
    for (const Receiving& to : Receivers()) {
      if (to.school->school_id == sending.school_id) continue;
      std::optional<std::string> direction = CountingDirection(from, to.kinds, policy_);
      if (!direction.has_value()) continue;
      auto taught = subjects_at_.find(to.school->school_id);
      it->second.push_back(Destination{to.school, std::move(*direction),
                                       taught == subjects_at_.end() ? nullptr : &taught->second});
    }
    return it->second;
  }

 private:
  struct Receiving {
    const SchoolFacts* school;
    std::vector<std::string> kinds;  // KindsOf it
  };
  // The public schools in id order with their kinds, found on first use.
  const std::vector<Receiving>& Receivers() {
    if (receivers_.empty()) {
      for (const auto& [id, school] : schools_) {
        if (school.ownership == pv1::SCHOOL_OWNERSHIP_PUBLIC) {
          receivers_.push_back(Receiving{&school, KindsOf(school)});
        }
      }
    }
    return receivers_;
  }

  const std::map<std::string, SchoolFacts>& schools_;
  const SubjectsAt& subjects_at_;
  const RotationPolicy& policy_;
  std::vector<Receiving> receivers_;
  std::map<std::string, std::vector<Destination>> found_;
};

void AddOption(const Destination& d, const std::vector<std::string>& shared, v1::Candidate* c) {
  v1::ReceivingSchoolOption* o = c->add_receiving_schools();
  o->set_school_id(d.school->school_id);
  o->set_school_name(d.school->name);
  o->set_direction(d.direction);
  o->set_stage_matches(true);
  for (const std::string& subject : shared) o->add_shared_subjects(subject);
}

// Up to kMaxOptions receiving schools whose stage fits: those where the teacher's subjects are
// taught first, then the others, each in school id order. Only those shown are built.
void AddOptions(const CountyEvaluation& eval, Destinations& destinations, const Pick& pick,
                v1::Candidate* c) {
  const SchoolFacts& sending = eval.schools->at(pick.teacher->eligibility.school_id);
  const TeacherFacts& teacher = *pick.teacher->facts;
  std::vector<std::pair<const Destination*, std::vector<std::string>>> with_subject;
  std::vector<const Destination*> without;
  for (const Destination& d : destinations.Of(sending)) {
    if (with_subject.size() >= kMaxOptions) break;
    if (!StageFits(teacher.stage, d.school->stage)) continue;
    std::vector<std::string> shared;
    for (const std::string& subject : teacher.subjects) {
      if (d.taught != nullptr && d.taught->count(subject) > 0) shared.push_back(subject);
    }
    if (!shared.empty()) {
      with_subject.emplace_back(&d, std::move(shared));
    } else if (without.size() < kMaxOptions) {
      without.push_back(&d);
    }
  }
  for (const auto& [d, shared] : with_subject) AddOption(*d, shared, c);
  for (const Destination* d : without) {
    if (static_cast<size_t>(c->receiving_schools_size()) >= kMaxOptions) break;
    AddOption(*d, {}, c);
  }
}

}  // namespace

absl::Status SuggestCandidates(Deps& deps, const CallContext& call,
                               const v1::SuggestCandidatesRequest& req,
                               v1::SuggestCandidatesResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(CheckCountyId(req.county_id()));
  if (req.limit() < 0 || req.limit() > kMaxLimit) {
    return InvalidField("limit", "range",
                        absl::StrCat("0 (default ", kDefaultLimit, ") to ", kMaxLimit));
  }
  const bool hr = CoversCounty(call.principal, req.county_id());
  const std::string own = hr ? "" : call.principal.school_id();
  if (!hr && (call.principal.role() != common::v1::ROLE_SCHOOL_ADMIN || own.empty())) {
    return Denied(call.principal, absl::StrCat("read rotation candidates of ", req.county_id()));
  }
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay as_of, DayOrToday(deps.clock, req.as_of(), "as_of"));
  SHIDANG_ASSIGN_OR_RETURN(YearPolicy yp,
                           PolicyForSchoolYear(deps, req.county_id(), req.school_year(), as_of));
  SHIDANG_ASSIGN_OR_RETURN(std::shared_ptr<const CountySnapshot> county,
                           deps.counties.Read(req.county_id()));
  // Rotations by their state as recorded up to `as_of`, as the compliance report judges them.
  CountyEvaluation eval = EvaluateCounty(*county, yp.policy, yp.year, as_of);
  // Eligible teachers not yet rotating, by the school they are judged at (views into `eval`).
  std::unordered_map<std::string_view, std::vector<const JudgedTeacher*>> pools;
  SubjectsAt subjects_at;
  for (const auto& [id, t] : eval.teachers) {
    if (!t.facts->subjects.empty()) {
      Subjects& taught = subjects_at[t.facts->CurrentSchool()];
      for (const std::string& s : t.facts->subjects) taught.insert(s);
    }
    if (t.eligibility.eligible() && eval.rotating.count(id) == 0) {
      pools[t.eligibility.school_id].push_back(&t);
    }
  }
  std::vector<Pick> picks;
  for (const auto& [school, quota] : eval.by_school) {
    if (quota.passes || (!own.empty() && school != own)) continue;
    auto pool = pools.find(school);
    if (pool == pools.end()) continue;  // nobody to pick
    std::vector<Pick> more =
        PickForSchool(std::move(pool->second), quota, yp.policy, yp.year.days.first);
    picks.insert(picks.end(), more.begin(), more.end());
  }
  // Only the picks returned are ranked (teacher ids make the order total, so the first `limit`
  // are those a full sort would give).
  const size_t limit =
      std::min<size_t>(req.limit() == 0 ? kDefaultLimit : req.limit(), picks.size());
  std::partial_sort(picks.begin(), picks.begin() + limit, picks.end(),
                    [](const Pick& a, const Pick& b) {
                      if (a.for_backbone != b.for_backbone) return a.for_backbone;
                      return LongerAtSchool(a.teacher, b.teacher);
                    });
  Destinations destinations(*eval.schools, subjects_at, yp.policy);
  for (size_t i = 0; i < limit; ++i) {
    v1::Candidate* c = resp->add_candidates();
    c->set_rank(static_cast<int32_t>(i + 1));
    c->set_teacher_id(picks[i].teacher->copy->teacher_id());
    c->set_teacher_name(picks[i].teacher->copy->name());
    c->set_school_id(picks[i].teacher->eligibility.school_id);
    c->set_backbone(picks[i].backbone);
    c->set_years_at_school(static_cast<int32_t>(picks[i].teacher->eligibility.years));
    c->set_why(WhyOf(picks[i]));
    AddOptions(eval, destinations, picks[i], c);
  }
  resp->set_county_id(req.county_id());
  resp->set_school_year(yp.year.Name());
  resp->set_as_of(dates::FormatDate(as_of));
  return absl::OkStatus();
}

}  // namespace shidang::rotation
