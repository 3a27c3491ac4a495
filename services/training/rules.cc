#include "services/training/rules.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#include <unordered_map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/policy_resolver.h"
#include "services/common/violations.h"

namespace shidang::training {
namespace {

using Int128 = __int128;

constexpr double kMaxWireHours = 100000;
// Far beyond any policy; keeps every shifted date inside the civil calendar's comfortable range.
constexpr int32_t kMaxCycleYears = 100;

Int128 Gcd(Int128 a, Int128 b) {
  if (a < 0) a = -a;
  if (b < 0) b = -b;
  while (b != 0) {
    Int128 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

Fraction Reduce(Int128 num, Int128 den) {
  if (den < 0) {
    num = -num;
    den = -den;
  }
  Int128 g = Gcd(num, den);
  if (g > 1) {
    num /= g;
    den /= g;
  }
  if (num == 0) den = 1;
  return Fraction{static_cast<int64_t>(num), static_cast<int64_t>(den)};
}

Fraction Min(Fraction a, Fraction b) { return Compare(a, b) <= 0 ? a : b; }

// INVALID_ARGUMENT naming `field` and the rule it breaks, in the message and the details.
absl::Status Invalid(absl::string_view field, absl::string_view rule, absl::string_view what) {
  return InvalidField(field, rule, what);
}

std::string Field(absl::string_view prefix, absl::string_view name) {
  return prefix.empty() ? std::string(name) : absl::StrCat(prefix, ".", name);
}

bool ValidLevel(int level) {
  return level >= common::v1::TRAINING_LEVEL_NATIONAL && level <= common::v1::TRAINING_LEVEL_SCHOOL;
}

bool ValidMode(int mode) {
  return mode >= common::v1::TRAINING_MODE_FACE_TO_FACE &&
         mode <= common::v1::TRAINING_MODE_SCHOOL_BASED;
}

constexpr char kActivityNames[] =
    "one of course, degree_study, conference, public_lesson, research_activity, other, or empty "
    "for any";

// `strict` also refuses activity names the platform does not know (for a policy being set);
// a stored policy is read leniently: a rule naming an unknown activity matches nothing.
absl::Status ValidateHourRules(const common::v1::HourRuleList& list, absl::string_view field,
                               bool strict) {
  std::set<std::string> names;
  for (int i = 0; i < list.rules_size(); ++i) {
    const common::v1::HourRule& rule = list.rules(i);
    const std::string at = absl::StrCat(field, ".rules[", i, "]");
    if (rule.name().empty())
      return Invalid(Field(at, "name"), "required", "required, a name for reports");
    if (!names.insert(rule.name()).second) {
      return Invalid(Field(at, "name"), "duplicate",
                     absl::StrCat("'", rule.name(), "' is used twice"));
    }
    for (int j = 0; j < rule.levels_size(); ++j) {
      if (!ValidLevel(rule.levels(j))) {
        return Invalid(absl::StrCat(at, ".levels[", j, "]"), "enum",
                       "must be a training level (NATIONAL, PROVINCE, CITY, COUNTY or SCHOOL)");
      }
    }
    for (int j = 0; j < rule.modes_size(); ++j) {
      if (!ValidMode(rule.modes(j))) {
        return Invalid(absl::StrCat(at, ".modes[", j, "]"), "enum",
                       "must be a training mode (FACE_TO_FACE, ONLINE, BLENDED or SCHOOL_BASED)");
      }
    }
    if (strict && !rule.activity().empty() && !ActivityFromName(rule.activity()).has_value()) {
      return Invalid(
          Field(at, "activity"), "enum",
          absl::StrCat("'", rule.activity(), "' is not an activity; want ", kActivityNames));
    }
    absl::StatusOr<HalfHours> hours = HalfHoursFromWire(rule.hours(), Field(at, "hours"),
                                                        /*allow_zero=*/true);
    if (!hours.ok()) return hours.status();
  }
  return absl::OkStatus();
}

HourRule ToHourRule(const common::v1::HourRule& rule) {
  HourRule out;
  out.name = rule.name();
  for (int level : rule.levels()) out.levels.push_back(static_cast<TrainingLevel>(level));
  for (int mode : rule.modes()) out.modes.push_back(static_cast<TrainingMode>(mode));
  out.activity = rule.activity();
  out.half_hours = static_cast<HalfHours>(std::llround(rule.hours() * 2));
  return out;
}

// The rate for `mode` in `rates`: its own, else the UNSPECIFIED one; nullptr when neither.
const CreditRate* RateFor(const std::vector<CreditRate>& rates, TrainingMode mode) {
  const CreditRate* fallback = nullptr;
  for (const CreditRate& rate : rates) {
    if (rate.mode == mode) return &rate;
    if (rate.mode == common::v1::TRAINING_MODE_UNSPECIFIED) fallback = &rate;
  }
  return fallback;
}

std::string ModeName(TrainingMode mode) { return common::v1::TrainingMode_Name(mode); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Exact numbers.

Fraction MakeFraction(int64_t num, int64_t den) { return Reduce(num, den); }

Fraction Add(Fraction a, Fraction b) {
  return Reduce(static_cast<Int128>(a.num) * b.den + static_cast<Int128>(b.num) * a.den,
                static_cast<Int128>(a.den) * b.den);
}

Fraction Sub(Fraction a, Fraction b) { return Add(a, Fraction{-b.num, b.den}); }

int Compare(Fraction a, Fraction b) {
  Int128 left = static_cast<Int128>(a.num) * b.den;
  Int128 right = static_cast<Int128>(b.num) * a.den;
  return left < right ? -1 : (left > right ? 1 : 0);
}

double RoundTo2(Fraction value) {
  Int128 scaled = static_cast<Int128>(value.num) * 100;
  Int128 magnitude = scaled < 0 ? -scaled : scaled;
  // Half away from zero: floor((2|x| + den) / (2 den)).
  Int128 cents = (2 * magnitude + value.den) / (2 * static_cast<Int128>(value.den));
  if (scaled < 0) cents = -cents;
  return static_cast<double>(static_cast<int64_t>(cents)) / 100.0;
}

std::optional<FieldProblem> WireHoursProblem(double hours, absl::string_view field,
                                             bool allow_zero) {
  const char* allowed = allow_zero ? "want a number >= 0 in steps of 0.5, at most 100000"
                                   : "want a number > 0 in steps of 0.5, at most 100000";
  auto problem = [&](std::string message) {
    return FieldProblem{std::string(field), "hours", std::move(message)};
  };
  if (!std::isfinite(hours) || hours < 0 || hours > kMaxWireHours) {
    return problem(absl::StrCat(hours, " is out of range; ", allowed));
  }
  double doubled = hours * 2;  // exact for every value in range
  if (doubled != std::floor(doubled)) {
    return problem(absl::StrCat(hours, " is not a whole number of half hours; ", allowed));
  }
  if (doubled == 0 && !allow_zero) return problem(absl::StrCat("0 is not allowed; ", allowed));
  return std::nullopt;
}

absl::StatusOr<HalfHours> HalfHoursFromWire(double hours, absl::string_view field,
                                            bool allow_zero) {
  std::optional<FieldProblem> problem = WireHoursProblem(hours, field, allow_zero);
  if (problem.has_value()) return Invalid(problem->field, problem->rule, problem->message);
  return static_cast<HalfHours>(hours * 2);
}

double HalfHoursToWire(HalfHours half_hours) { return static_cast<double>(half_hours) / 2.0; }

double HalfHoursToWire(Fraction half_hours) {
  return RoundTo2(Reduce(half_hours.num, static_cast<Int128>(half_hours.den) * 2));
}

// ---------------------------------------------------------------------------------------------
// Activities.

std::string ActivityName(TrainingActivity activity) {
  switch (activity) {
    case v1::TRAINING_ACTIVITY_COURSE:
      return "course";
    case v1::TRAINING_ACTIVITY_DEGREE_STUDY:
      return "degree_study";
    case v1::TRAINING_ACTIVITY_CONFERENCE:
      return "conference";
    case v1::TRAINING_ACTIVITY_PUBLIC_LESSON:
      return "public_lesson";
    case v1::TRAINING_ACTIVITY_RESEARCH_ACTIVITY:
      return "research_activity";
    case v1::TRAINING_ACTIVITY_OTHER:
      return "other";
    default:
      return "";
  }
}

std::optional<TrainingActivity> ActivityFromName(absl::string_view name) {
  for (int a = v1::TRAINING_ACTIVITY_COURSE; a <= v1::TRAINING_ACTIVITY_OTHER; ++a) {
    auto activity = static_cast<TrainingActivity>(a);
    if (ActivityName(activity) == name) return activity;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Policy.

bool HourRule::Matches(TrainingLevel level, TrainingMode mode,
                       absl::string_view entry_activity) const {
  if (!levels.empty() && std::find(levels.begin(), levels.end(), level) == levels.end()) {
    return false;
  }
  if (!modes.empty() && std::find(modes.begin(), modes.end(), mode) == modes.end()) return false;
  return activity.empty() || activity == entry_activity;
}

namespace {

// One rate per mode (UNSPECIFIED: every mode not listed), each in hours per credit.
absl::Status ValidateCreditRates(const common::v1::CreditRateList& rates, absl::string_view field) {
  std::set<int> modes;
  for (int i = 0; i < rates.rates_size(); ++i) {
    const common::v1::CreditRate& rate = rates.rates(i);
    const std::string at = absl::StrCat(field, ".rates[", i, "]");
    if (rate.mode() != common::v1::TRAINING_MODE_UNSPECIFIED && !ValidMode(rate.mode())) {
      return Invalid(Field(at, "mode"), "enum",
                     "want a training mode, or TRAINING_MODE_UNSPECIFIED for every other mode");
    }
    if (!modes.insert(rate.mode()).second) {
      return Invalid(Field(at, "mode"), "duplicate",
                     "this mode has a rate already; one rate per mode");
    }
    absl::StatusOr<HalfHours> v =
        HalfHoursFromWire(rate.hours_per_credit(), Field(at, "hours_per_credit"));
    if (!v.ok()) return v.status();
  }
  return absl::OkStatus();
}

// One cap per activity (a known one when strict), each in credits on the half-step grid.
absl::Status ValidateCreditCaps(const common::v1::CreditCapList& caps, absl::string_view field,
                                bool strict) {
  std::set<std::string> activities;
  for (int i = 0; i < caps.caps_size(); ++i) {
    const common::v1::CreditCap& cap = caps.caps(i);
    const std::string at = absl::StrCat(field, ".caps[", i, "]");
    if (strict && !cap.activity().empty() && !ActivityFromName(cap.activity()).has_value()) {
      return Invalid(
          Field(at, "activity"), "enum",
          absl::StrCat("'", cap.activity(), "' is not an activity; want ", kActivityNames));
    }
    if (!activities.insert(cap.activity()).second) {
      return Invalid(Field(at, "activity"), "duplicate",
                     "this activity has a cap already; one per activity");
    }
    // Credits share the half-step grid of hours.
    absl::StatusOr<HalfHours> v = HalfHoursFromWire(cap.credits(), Field(at, "credits"), true);
    if (!v.ok())
      return Invalid(Field(at, "credits"), "hours", "want a number >= 0 in steps of 0.5");
  }
  return absl::OkStatus();
}

// The ranges mirror what the policy store accepts (services/common/policy.cc), so a version it
// stored is never unreadable here.
absl::Status ValidateImpl(const common::v1::TrainingPolicy& p, absl::string_view prefix,
                          bool strict) {
  if (p.has_cycle_kind() && p.cycle_kind() != common::v1::CYCLE_KIND_FIXED &&
      p.cycle_kind() != common::v1::CYCLE_KIND_PER_TEACHER) {
    return Invalid(Field(prefix, "cycle_kind"), "enum",
                   "want CYCLE_KIND_FIXED or CYCLE_KIND_PER_TEACHER");
  }
  if (p.has_cycle_years() && (p.cycle_years() < 1 || p.cycle_years() > kMaxCycleYears)) {
    return Invalid(Field(prefix, "cycle_years"), "range",
                   absl::StrCat(p.cycle_years(), " is out of range; want 1..", kMaxCycleYears));
  }
  if (p.has_fixed_cycle_start()) {
    absl::StatusOr<absl::CivilDay> day =
        dates::ParseDate(p.fixed_cycle_start(), Field(prefix, "fixed_cycle_start"));
    if (!day.ok()) return day.status();
  }
  struct NamedHours {
    bool set;
    double value;
    const char* name;
    bool allow_zero;
  };
  const NamedHours hours[] = {
      {p.has_required_hours(), p.required_hours(), "required_hours", true},
      {p.has_induction_hours(), p.induction_hours(), "induction_hours", true},
      {p.has_yearly_minimum_hours(), p.yearly_minimum_hours(), "yearly_minimum_hours", true},
      {p.has_head_teacher_hours(), p.head_teacher_hours(), "head_teacher_hours", true},
  };
  for (const NamedHours& h : hours) {
    if (!h.set) continue;
    absl::StatusOr<HalfHours> v = HalfHoursFromWire(h.value, Field(prefix, h.name), h.allow_zero);
    if (!v.ok()) return v.status();
  }
  if (p.has_grace_days() && p.grace_days() < 0) {
    return Invalid(Field(prefix, "grace_days"), "range",
                   absl::StrCat(p.grace_days(), " is out of range; want a number of days >= 0"));
  }
  if (p.has_warn_days() && p.warn_days() < 0) {
    return Invalid(Field(prefix, "warn_days"), "range",
                   absl::StrCat(p.warn_days(), " is out of range; want a number of days >= 0"));
  }
  if (p.has_minimums()) {
    absl::Status s = ValidateHourRules(p.minimums(), Field(prefix, "minimums"), strict);
    if (!s.ok()) return s;
  }
  if (p.has_caps()) {
    absl::Status s = ValidateHourRules(p.caps(), Field(prefix, "caps"), strict);
    if (!s.ok()) return s;
  }
  if (p.has_credit_rates()) {
    absl::Status s = ValidateCreditRates(p.credit_rates(), Field(prefix, "credit_rates"));
    if (!s.ok()) return s;
  }
  if (p.has_credit_caps()) {
    absl::Status s = ValidateCreditCaps(p.credit_caps(), Field(prefix, "credit_caps"), strict);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateTrainingPolicy(const common::v1::TrainingPolicy& p, absl::string_view prefix) {
  return ValidateImpl(p, prefix, /*strict=*/true);
}

absl::StatusOr<TrainingRules> RulesFromPolicy(const common::v1::TrainingPolicy& p,
                                              absl::string_view prefix) {
  absl::Status valid = ValidateImpl(p, prefix, /*strict=*/false);
  if (!valid.ok()) return valid;
  auto missing = [&](absl::string_view name) {
    return absl::FailedPreconditionError(absl::StrCat(
        Field(prefix, name), ": not set at any level of the policy; the rules need it"));
  };
  if (!p.has_cycle_kind()) return missing("cycle_kind");
  if (!p.has_cycle_years()) return missing("cycle_years");
  if (!p.has_required_hours()) return missing("required_hours");
  if (!p.has_grace_days()) return missing("grace_days");
  if (!p.has_warn_days()) return missing("warn_days");
  TrainingRules rules;
  rules.cycle_kind = p.cycle_kind();
  rules.cycle_years = p.cycle_years();
  if (p.cycle_kind() == common::v1::CYCLE_KIND_FIXED) {
    if (!p.has_fixed_cycle_start()) return missing("fixed_cycle_start");
    rules.fixed_cycle_start = *dates::ParseDate(p.fixed_cycle_start());
  }
  // Validated above: every hour value is an exact multiple of 0.5.
  rules.required = static_cast<HalfHours>(std::llround(p.required_hours() * 2));
  rules.induction = static_cast<HalfHours>(std::llround(p.induction_hours() * 2));
  rules.yearly_minimum = static_cast<HalfHours>(std::llround(p.yearly_minimum_hours() * 2));
  rules.head_teacher = static_cast<HalfHours>(std::llround(p.head_teacher_hours() * 2));
  rules.grace_days = p.grace_days();
  rules.warn_days = p.warn_days();
  for (const auto& rule : p.minimums().rules()) rules.minimums.push_back(ToHourRule(rule));
  for (const auto& rule : p.caps().rules()) rules.caps.push_back(ToHourRule(rule));
  rules.counts_credits = p.counts_credits();
  for (const auto& rate : p.credit_rates().rates()) {
    rules.credit_rates.push_back(
        CreditRate{rate.mode(), static_cast<HalfHours>(std::llround(rate.hours_per_credit() * 2))});
  }
  for (const auto& cap : p.credit_caps().caps()) {
    rules.credit_caps.push_back(
        CreditCap{cap.activity(), static_cast<int64_t>(std::llround(cap.credits() * 2))});
  }
  if (rules.counts_credits) {
    for (int mode = common::v1::TRAINING_MODE_FACE_TO_FACE;
         mode <= common::v1::TRAINING_MODE_SCHOOL_BASED; ++mode) {
      if (RateFor(rules.credit_rates, static_cast<TrainingMode>(mode)) == nullptr) {
        return absl::FailedPreconditionError(absl::StrCat(
            Field(prefix, "credit_rates"), ": counts_credits is set but ",
            ModeName(static_cast<TrainingMode>(mode)),
            " has no rate (and there is no TRAINING_MODE_UNSPECIFIED rate for other modes)"));
      }
    }
  }
  return rules;
}

absl::StatusOr<PolicyHistory> PolicyHistory::Create(std::vector<PolicyVersionRules> versions) {
  if (versions.empty()) {
    return absl::InvalidArgumentError("versions: at least one policy version is needed");
  }
  std::stable_sort(versions.begin(), versions.end(),
                   [](const PolicyVersionRules& a, const PolicyVersionRules& b) {
                     return a.effective_from < b.effective_from;
                   });
  for (size_t i = 1; i < versions.size(); ++i) {
    if (versions[i].effective_from == versions[i - 1].effective_from) {
      return absl::InvalidArgumentError(absl::StrCat("versions: two versions are effective from ",
                                                     dates::FormatDate(versions[i].effective_from),
                                                     "; one per day"));
    }
  }
  return PolicyHistory(std::move(versions));
}

absl::StatusOr<PolicyHistory> PolicyHistory::FromResolved(
    const std::vector<ResolvedTrainingPolicy>& versions) {
  std::vector<PolicyVersionRules> rules;
  rules.reserve(versions.size());
  for (size_t i = 0; i < versions.size(); ++i) {
    absl::StatusOr<TrainingRules> r =
        RulesFromPolicy(versions[i].policy, absl::StrCat("versions[", i, "].training"));
    if (!r.ok()) return r.status();
    rules.push_back(PolicyVersionRules{versions[i].effective_from, *std::move(r)});
  }
  return Create(std::move(rules));
}

absl::StatusOr<PolicyHistory> PolicyHistory::ForCounty(
    absl::string_view county_id, const std::vector<common::v1::PolicyVersion>& versions) {
  std::set<absl::CivilDay> change_days = {absl::CivilDay(1900, 1, 1)};
  for (size_t i = 0; i < versions.size(); ++i) {
    if (!versions[i].policy().has_training()) continue;
    absl::StatusOr<absl::CivilDay> day = dates::ParseDate(
        versions[i].effective_from(), absl::StrCat("versions[", i, "].effective_from"));
    if (!day.ok()) return day.status();
    change_days.insert(*day);
  }
  std::vector<ResolvedTrainingPolicy> resolved;
  for (absl::CivilDay day : change_days) {
    absl::StatusOr<common::v1::ResolvedPolicy> r = policy::ResolvePolicy(county_id, versions, day);
    if (!r.ok()) return r.status();
    resolved.push_back(ResolvedTrainingPolicy{day, r->policy().training()});
  }
  return FromResolved(resolved);
}

const TrainingRules& PolicyHistory::InForceOn(absl::CivilDay day) const {
  // First version effective after `day`; the one before it is in force.
  auto after = std::upper_bound(
      versions_.begin(), versions_.end(), day,
      [](absl::CivilDay d, const PolicyVersionRules& v) { return d < v.effective_from; });
  if (after == versions_.begin()) return versions_.front().rules;
  return std::prev(after)->rules;
}

// ---------------------------------------------------------------------------------------------
// Cycles.

Cycle CycleOf(CycleKind kind, absl::CivilDay anchor, int32_t years, absl::CivilDay day) {
  Cycle cycle;
  cycle.window = dates::PeriodHolding(anchor, years, day);
  // Shifting by whole years keeps the year (29 Feb -> 1 Mar stays in it), so the year difference
  // is exactly k * years.
  cycle.index = (cycle.window.first.year() - anchor.year()) / years;
  cycle.kind = kind;
  cycle.anchor = anchor;
  cycle.years = years;
  return cycle;
}

absl::StatusOr<Cycle> CycleHolding(const PolicyHistory& policy, const TeacherFacts& teacher,
                                   absl::CivilDay day) {
  const TrainingRules& shape = policy.InForceOn(day);
  if (shape.cycle_kind == common::v1::CYCLE_KIND_FIXED) {
    return CycleOf(shape.cycle_kind, *shape.fixed_cycle_start, shape.cycle_years, day);
  }
  if (!teacher.cycle_anchor.has_value()) {
    return absl::FailedPreconditionError(
        "cycle_anchor: the county uses per-teacher cycles and this teacher has no cycle anchor "
        "(hire date or registration date)");
  }
  return CycleOf(shape.cycle_kind, *teacher.cycle_anchor, shape.cycle_years, day);
}

dates::Period CycleYear(const Cycle& cycle, int32_t i) {
  const int64_t base = cycle.index * cycle.years;
  return dates::Period{dates::ShiftYears(cycle.anchor, base + i - 1),
                       dates::ShiftYears(cycle.anchor, base + i) - 1};
}

// ---------------------------------------------------------------------------------------------
// Pace and status.

Fraction ExpectedByPace(HalfHours required, int64_t elapsed, int64_t cycle_days) {
  return Reduce(static_cast<Int128>(required) * elapsed, cycle_days);
}

bool BelowPace(HalfHours counted, HalfHours required, int64_t elapsed, int64_t cycle_days) {
  return static_cast<Int128>(counted) * cycle_days < static_cast<Int128>(required) * elapsed;
}

TrainingStatus DecideStatus(const StatusInputs& in) {
  if (in.counted >= in.required && in.minimums_met) return v1::TRAINING_STATUS_COMPLETE;
  if (in.elapsed > in.grace_days &&
      (BelowPace(in.counted, in.required, in.elapsed, in.cycle_days) || in.minimum_behind_pace)) {
    return v1::TRAINING_STATUS_BEHIND;
  }
  if (in.days_left <= in.warn_days) return v1::TRAINING_STATUS_AT_RISK;
  return v1::TRAINING_STATUS_ON_TRACK;
}

// ---------------------------------------------------------------------------------------------
// The ledger.

absl::Status ValidateLedger(const std::vector<LedgerEntry>& ledger) {
  std::unordered_map<std::string, const LedgerEntry*> by_id;
  for (const LedgerEntry& e : ledger) {
    if (e.id.empty()) return Invalid("ledger", "required", "an entry has no id");
    if (!by_id.emplace(e.id, &e).second) {
      return Invalid(absl::StrCat("ledger[", e.id, "]"), "duplicate", "the id is used twice");
    }
  }
  std::set<std::string> reversed;
  for (const LedgerEntry& e : ledger) {
    const std::string at = absl::StrCat("ledger[", e.id, "]");
    if (e.half_hours > 0) {
      if (!e.reverses.empty())
        return Invalid(at, "credit_reverses", "a credit (hours > 0) cannot reverse an entry");
      if (!ValidLevel(e.level))
        return Invalid(at + ".level", "enum", "a credit needs a training level");
      if (!ValidMode(e.mode))
        return Invalid(at + ".mode", "enum", "a credit needs a training mode");
      continue;
    }
    if (e.half_hours == 0)
      return Invalid(at + ".hours", "hours", "0 hours; want > 0, or < 0 to reverse");
    auto target = by_id.find(e.reverses);
    if (e.reverses.empty() || target == by_id.end()) {
      return Invalid(at + ".reverses", "unknown_entry",
                     absl::StrCat("'", e.reverses, "' is not an entry"));
    }
    if (target->second->half_hours <= 0) {
      return Invalid(at + ".reverses", "reverses_credit", "a reversal can only cancel a credit");
    }
    if (target->second->half_hours != -e.half_hours) {
      return Invalid(at + ".hours", "whole_credit",
                     "a reversal cancels the whole credit: want minus its hours");
    }
    if (!reversed.insert(e.reverses).second) {
      return Invalid(at + ".reverses", "reversed_twice",
                     absl::StrCat("'", e.reverses, "' is reversed twice"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<LedgerEntry> MakeReversal(const std::vector<LedgerEntry>& ledger,
                                         absl::string_view entry_id, std::string reversal_id) {
  const LedgerEntry* target = nullptr;
  for (const LedgerEntry& e : ledger) {
    if (e.id == entry_id) target = &e;
  }
  if (target == nullptr) {
    return absl::NotFoundError(absl::StrCat("entry_id: no ledger entry '", entry_id, "'"));
  }
  if (target->half_hours <= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("entry_id: '", entry_id, "' is a reversal; only a credit can be reversed"));
  }
  for (const LedgerEntry& e : ledger) {
    if (e.half_hours < 0 && e.reverses == entry_id) {
      return absl::FailedPreconditionError(
          absl::StrCat("entry_id: '", entry_id, "' is already reversed by '", e.id, "'"));
    }
  }
  LedgerEntry reversal = *target;
  reversal.id = std::move(reversal_id);
  reversal.half_hours = -target->half_hours;
  reversal.reverses = std::string(entry_id);
  return reversal;
}

// ---------------------------------------------------------------------------------------------
// The summary.

namespace {

bool SameKind(const TallyBucket& b, const LedgerEntry& e, int32_t year) {
  return b.level == e.level && b.mode == e.mode && b.activity == e.activity &&
         b.head_teacher == e.head_teacher && b.year == year;
}

// The 1-based year of the cycle holding `day` (0 when none does, which a day in the window never
// is).
int32_t YearOf(const Cycle& cycle, absl::CivilDay day) {
  for (int32_t i = 1; i <= cycle.years; ++i) {
    if (CycleYear(cycle, i).Contains(day)) return i;
  }
  return 0;
}

// One step of the scan: credit `e` (in the window, dated on or after every credit taken) takes
// what the caps of the version in force on its date leave, measured by what each cap's rule
// matches among the hours counted so far; then its credits, under the credit caps likewise.
absl::StatusOr<CountedEntry> CountCredit(const PolicyHistory& policy,
                                         const TrainingRules& first_day, const Cycle& cycle,
                                         const LedgerEntry& e, Tally* tally) {
  const TrainingRules& in_force = policy.InForceOn(e.date);
  CountedEntry c;
  c.id = e.id;
  c.credited = e.half_hours;
  HalfHours allowed = e.half_hours;
  for (const HourRule& cap : in_force.caps) {
    if (!cap.Matches(e.level, e.mode, e.activity)) continue;
    HalfHours used = 0;
    for (const TallyBucket& b : tally->buckets) {
      if (cap.Matches(b.level, b.mode, b.activity)) used += b.counted;
    }
    allowed = std::min(allowed, std::max<HalfHours>(0, cap.half_hours - used));
  }
  c.counted = allowed;
  if (first_day.counts_credits) {
    const CreditRate* rate = RateFor(in_force.credit_rates, e.mode);
    if (rate == nullptr) rate = RateFor(first_day.credit_rates, e.mode);
    if (rate == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("training.credit_rates: no rate for ", ModeName(e.mode), " in force on ",
                       dates::FormatDate(e.date), " (entry ", e.id, ")"));
    }
    Fraction credits = MakeFraction(c.counted, rate->half_hours_per_credit);
    for (const CreditCap& cap : in_force.credit_caps) {
      if (!cap.activity.empty() && cap.activity != e.activity) continue;
      Fraction used;
      for (const TallyBucket& b : tally->buckets) {
        if (cap.activity.empty() || b.activity == cap.activity) used = Add(used, b.credits);
      }
      Fraction room = Sub(MakeFraction(cap.half_credits, 2), used);
      if (room < Fraction{}) room = Fraction{};
      credits = Min(credits, room);
    }
    c.credits = credits;
  }
  const int32_t year = YearOf(cycle, e.date);
  TallyBucket* bucket = nullptr;
  for (TallyBucket& b : tally->buckets) {
    if (SameKind(b, e, year)) bucket = &b;
  }
  if (bucket == nullptr) {
    TallyBucket fresh;
    fresh.level = e.level;
    fresh.mode = e.mode;
    fresh.activity = e.activity;
    fresh.head_teacher = e.head_teacher;
    fresh.year = year;
    tally->buckets.push_back(std::move(fresh));
    bucket = &tally->buckets.back();
  }
  bucket->credited += c.credited;
  bucket->counted += c.counted;
  bucket->credits = Add(bucket->credits, c.credits);
  tally->latest_counted = e.date;
  return c;
}

// Each year of the summary's cycle, and whether every finished one met the yearly minimum.
void AddYears(const Tally& tally, absl::CivilDay as_of, Summary* s) {
  for (int32_t i = 1; i <= s->cycle.years; ++i) {
    YearProgress year;
    year.index = i;
    year.window = CycleYear(s->cycle, i);
    for (const TallyBucket& b : tally.buckets) {
      if (b.year != i) continue;
      year.credited += b.credited;
      year.counted += b.counted;
    }
    year.finished = year.window.last <= as_of;
    year.minimum_met = year.counted >= s->yearly_minimum;
    if (year.finished && !year.minimum_met) s->yearly_minimum_met = false;
    s->years.push_back(year);
  }
}

// Everything of the summary that follows from the scan's totals.
Summary FinishSummary(const PolicyHistory& policy, const TeacherFacts& teacher, const Cycle& cycle,
                      const Tally& tally, const std::vector<PendingRecord>& pending,
                      absl::CivilDay as_of) {
  Summary s;
  s.cycle = cycle;
  s.as_of = as_of;
  const dates::Period& window = s.cycle.window;
  s.cycle_days = window.Days();
  s.elapsed = as_of - window.first + 1;
  s.days_left = window.last - as_of;

  const TrainingRules& first_day = policy.InForceOn(window.first);
  s.required = first_day.required;
  s.yearly_minimum = first_day.yearly_minimum;
  s.head_teacher = teacher.head_teacher;
  s.head_teacher_required = first_day.head_teacher;
  s.counts_credits = first_day.counts_credits;

  s.induction = tally.induction;
  if (teacher.hire_date.has_value()) {
    s.induction_required = policy.InForceOn(*teacher.hire_date).induction;
  }
  s.induction_met = s.induction >= s.induction_required;

  for (const PendingRecord& p : pending) {
    if (!p.induction && window.Contains(p.date) && p.date <= as_of) s.pending += p.half_hours;
  }

  for (const TallyBucket& b : tally.buckets) {
    s.credited += b.credited;
    s.credited_by_level[b.level] += b.credited;
    s.credited_by_mode[b.mode] += b.credited;
    s.counted += b.counted;
    if (b.head_teacher) s.head_teacher_counted += b.counted;
    s.credits = Add(s.credits, b.credits);
  }
  s.head_teacher_met = s.head_teacher_counted >= s.head_teacher_required;

  AddYears(tally, as_of, &s);

  // Minimums of the version in force on the cycle's first day, over counted hours.
  bool minimums_met = true;
  bool minimum_behind_pace = false;
  for (const HourRule& rule : first_day.minimums) {
    MinimumProgress m;
    m.name = rule.name;
    m.required = rule.half_hours;
    for (const TallyBucket& b : tally.buckets) {
      if (rule.Matches(b.level, b.mode, b.activity)) m.counted += b.counted;
    }
    m.expected = ExpectedByPace(m.required, s.elapsed, s.cycle_days);
    m.met = m.counted >= m.required;
    m.behind_pace = BelowPace(m.counted, m.required, s.elapsed, s.cycle_days);
    minimums_met = minimums_met && m.met;
    minimum_behind_pace = minimum_behind_pace || m.behind_pace;
    s.minimums.push_back(std::move(m));
  }

  s.expected = ExpectedByPace(s.required, s.elapsed, s.cycle_days);
  s.remaining = std::max<HalfHours>(0, s.required - s.counted);
  StatusInputs in;
  in.counted = s.counted;
  in.required = s.required;
  in.minimums_met = minimums_met;
  in.minimum_behind_pace = minimum_behind_pace;
  in.elapsed = s.elapsed;
  in.cycle_days = s.cycle_days;
  in.days_left = s.days_left;
  in.grace_days = first_day.grace_days;
  in.warn_days = first_day.warn_days;
  s.status = DecideStatus(in);
  s.shortfall = s.status == v1::TRAINING_STATUS_COMPLETE ? 0 : s.remaining;
  return s;
}

// The scan over a whole ledger: the summary on `as_of` and the tally it counted.
absl::StatusOr<std::pair<Summary, Tally>> Count(const PolicyHistory& policy,
                                                const TeacherFacts& teacher,
                                                const std::vector<LedgerEntry>& ledger,
                                                const std::vector<PendingRecord>& pending,
                                                absl::CivilDay as_of) {
  absl::Status valid = ValidateLedger(ledger);
  if (!valid.ok()) return valid;
  absl::StatusOr<Cycle> cycle = CycleHolding(policy, teacher, as_of);
  if (!cycle.ok()) return cycle.status();
  const TrainingRules& first_day = policy.InForceOn(cycle->window.first);

  Tally tally;
  tally.window = cycle->window;
  tally.ledger_length = static_cast<int64_t>(ledger.size());
  std::set<std::string> reversed;
  for (const LedgerEntry& e : ledger) {
    if (e.half_hours < 0) reversed.insert(e.reverses);
    if (!tally.latest.has_value() || *tally.latest < e.date) tally.latest = e.date;
  }
  // Induction, apart from the cycle.
  for (const LedgerEntry& e : ledger) {
    if (e.half_hours > 0 && e.induction && e.date <= as_of && reversed.count(e.id) == 0) {
      tally.induction += e.half_hours;
    }
  }
  // The credits that count in this cycle, in date order (ledger order within a day).
  std::vector<const LedgerEntry*> taken;
  for (const LedgerEntry& e : ledger) {
    if (e.half_hours > 0 && !e.induction && cycle->window.Contains(e.date) && e.date <= as_of &&
        reversed.count(e.id) == 0) {
      taken.push_back(&e);
    }
  }
  std::stable_sort(taken.begin(), taken.end(),
                   [](const LedgerEntry* a, const LedgerEntry* b) { return a->date < b->date; });
  std::vector<CountedEntry> counted;
  for (const LedgerEntry* e : taken) {
    absl::StatusOr<CountedEntry> c = CountCredit(policy, first_day, *cycle, *e, &tally);
    if (!c.ok()) return c.status();
    counted.push_back(*std::move(c));
  }
  Summary s = FinishSummary(policy, teacher, *cycle, tally, pending, as_of);
  s.entries = std::move(counted);
  return std::make_pair(std::move(s), std::move(tally));
}

int64_t DayNumber(absl::CivilDay day) { return day - absl::CivilDay(1970, 1, 1); }
absl::CivilDay FromDayNumber(int64_t n) { return absl::CivilDay(1970, 1, 1) + n; }
std::string OptionalDay(const std::optional<absl::CivilDay>& day) {
  return day.has_value() ? std::to_string(DayNumber(*day)) : "-";
}

absl::Status BadText(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("stored ", what, " is unreadable"));
}

bool ParseInt(absl::string_view text, int64_t* out) { return absl::SimpleAtoi(text, out); }

bool ParseOptionalDay(absl::string_view text, std::optional<absl::CivilDay>* out) {
  if (text == "-") {
    out->reset();
    return true;
  }
  int64_t n = 0;
  if (!ParseInt(text, &n)) return false;
  *out = FromDayNumber(n);
  return true;
}

bool ParseFraction(absl::string_view num, absl::string_view den, Fraction* out) {
  int64_t n = 0, d = 0;
  if (!ParseInt(num, &n) || !ParseInt(den, &d) || d <= 0) return false;
  *out = MakeFraction(n, d);
  return true;
}

}  // namespace

absl::StatusOr<Summary> ComputeSummary(const PolicyHistory& policy, const TeacherFacts& teacher,
                                       const std::vector<LedgerEntry>& ledger,
                                       const std::vector<PendingRecord>& pending,
                                       absl::CivilDay as_of) {
  absl::StatusOr<std::pair<Summary, Tally>> counted =
      Count(policy, teacher, ledger, pending, as_of);
  if (!counted.ok()) return counted.status();
  return std::move(counted->first);
}

absl::StatusOr<Tally> TallyFromLedger(const PolicyHistory& policy, const TeacherFacts& teacher,
                                      const std::vector<LedgerEntry>& ledger,
                                      absl::CivilDay as_of) {
  absl::StatusOr<std::pair<Summary, Tally>> counted = Count(policy, teacher, ledger, {}, as_of);
  if (!counted.ok()) return counted.status();
  return std::move(counted->second);
}

absl::StatusOr<std::optional<Tally>> AdvanceTally(const PolicyHistory& policy,
                                                  const TeacherFacts& teacher, const Tally& before,
                                                  const LedgerEntry& entry, absl::CivilDay today) {
  using Out = std::optional<Tally>;
  if (entry.half_hours <= 0 || entry.date > today ||
      (before.latest.has_value() && *before.latest > today)) {
    return Out();  // a reversal, or dated after the day counted: recount
  }
  if (!ValidLevel(entry.level) || !ValidMode(entry.mode)) {
    return Invalid(absl::StrCat("ledger[", entry.id, "]"), "enum",
                   "a credit needs a level and a mode");
  }
  absl::StatusOr<Cycle> cycle = CycleHolding(policy, teacher, today);
  if (!cycle.ok()) return cycle.status();
  Tally t = before;
  if (t.window.first != cycle->window.first || t.window.last != cycle->window.last) {
    // A new cycle (or a new shape): nothing taken yet when every entry is dated before it.
    if (t.latest.has_value() && *t.latest >= cycle->window.first) return Out();
    t.window = cycle->window;
    t.buckets.clear();
    t.latest_counted.reset();
  }
  t.ledger_length += 1;
  if (!t.latest.has_value() || *t.latest < entry.date) t.latest = entry.date;
  if (entry.induction) {
    t.induction += entry.half_hours;
    return Out(std::move(t));
  }
  if (!t.window.Contains(entry.date)) return Out(std::move(t));
  if (t.latest_counted.has_value() && entry.date < *t.latest_counted) return Out();
  const TrainingRules& first_day = policy.InForceOn(t.window.first);
  absl::StatusOr<CountedEntry> c = CountCredit(policy, first_day, *cycle, entry, &t);
  if (!c.ok()) return c.status();
  return Out(std::move(t));
}

absl::StatusOr<std::optional<Summary>> SummaryFromTally(const PolicyHistory& policy,
                                                        const TeacherFacts& teacher,
                                                        const Tally& tally,
                                                        const std::vector<PendingRecord>& pending,
                                                        absl::CivilDay as_of) {
  absl::StatusOr<Cycle> cycle = CycleHolding(policy, teacher, as_of);
  if (!cycle.ok()) return cycle.status();
  if (cycle->window.first != tally.window.first || cycle->window.last != tally.window.last ||
      (tally.latest.has_value() && *tally.latest > as_of)) {
    return std::optional<Summary>();
  }
  return std::optional<Summary>(FinishSummary(policy, teacher, *cycle, tally, pending, as_of));
}

// "w,<first>,<last>;n,<length>;x,<latest>;c,<latest counted>;i,<induction>" then per bucket
// ";b,<level>,<mode>,<activity>,<head>,<year>,<credited>,<counted>,<credits num>,<den>"; days as
// numbers since 1970-01-01, "-" for none.
std::string EncodeTally(const Tally& t) {
  std::string out = absl::StrCat("w,", DayNumber(t.window.first), ",", DayNumber(t.window.last),
                                 ";n,", t.ledger_length, ";x,", OptionalDay(t.latest), ";c,",
                                 OptionalDay(t.latest_counted), ";i,", t.induction);
  for (const TallyBucket& b : t.buckets) {
    absl::StrAppend(&out, ";b,", static_cast<int>(b.level), ",", static_cast<int>(b.mode), ",",
                    b.activity, ",", b.head_teacher ? 1 : 0, ",", b.year, ",", b.credited, ",",
                    b.counted, ",", b.credits.num, ",", b.credits.den);
  }
  return out;
}

absl::StatusOr<Tally> DecodeTally(absl::string_view text) {
  Tally t;
  bool has_window = false;
  // A part's fields in place (a batch decodes a tally per credited row: no vector per part).
  struct Fields {
    std::array<absl::string_view, 10> at;
    size_t count = 0;
    size_t size() const { return count; }
    absl::string_view operator[](size_t i) const { return at[i]; }
  };
  for (absl::string_view part : absl::StrSplit(text, ';')) {
    Fields f;
    for (absl::string_view field : absl::StrSplit(part, ',')) {
      if (f.count == f.at.size()) return BadText("tally");
      f.at[f.count++] = field;
    }
    const absl::string_view kind = f[0];
    int64_t a = 0, b = 0;
    if (kind == "w" && f.size() == 3 && ParseInt(f[1], &a) && ParseInt(f[2], &b)) {
      t.window = dates::Period{FromDayNumber(a), FromDayNumber(b)};
      has_window = true;
    } else if ((kind == "n" && f.size() == 2 && ParseInt(f[1], &t.ledger_length)) ||
               (kind == "x" && f.size() == 2 && ParseOptionalDay(f[1], &t.latest)) ||
               (kind == "c" && f.size() == 2 && ParseOptionalDay(f[1], &t.latest_counted)) ||
               (kind == "i" && f.size() == 2 && ParseInt(f[1], &t.induction))) {
      // One value, parsed into its field by the condition.
    } else if (kind == "b" && f.size() == 10) {
      TallyBucket bucket;
      int64_t level = 0, mode = 0, head = 0, year = 0;
      if (!ParseInt(f[1], &level) || !ParseInt(f[2], &mode) || !ParseInt(f[4], &head) ||
          !ParseInt(f[5], &year) || !ParseInt(f[6], &bucket.credited) ||
          !ParseInt(f[7], &bucket.counted) || !ParseFraction(f[8], f[9], &bucket.credits)) {
        return BadText("tally");
      }
      bucket.level = static_cast<TrainingLevel>(level);
      bucket.mode = static_cast<TrainingMode>(mode);
      bucket.activity = std::string(f[3]);
      bucket.head_teacher = head == 1;
      bucket.year = static_cast<int32_t>(year);
      t.buckets.push_back(std::move(bucket));
    } else {
      return BadText("tally");
    }
  }
  if (!has_window) return BadText("tally");
  return t;
}

ReportRow ReportRowOf(const Summary& s, const Tally& tally, const TeacherFacts& teacher) {
  ReportRow row;
  row.window = s.cycle.window;
  row.cycle_anchor = teacher.cycle_anchor;
  row.latest = tally.latest;
  row.counted = s.counted;
  row.credits = s.credits;
  for (const MinimumProgress& m : s.minimums) row.minimums.push_back(m.counted);
  return row;
}

// "<first>|<last>|<anchor>|<latest>|<counted>|<credits num>|<den>|<minimum>,<minimum>...".
std::string EncodeReportRow(const ReportRow& r) {
  std::string out = absl::StrCat(DayNumber(r.window.first), "|", DayNumber(r.window.last), "|",
                                 OptionalDay(r.cycle_anchor), "|", OptionalDay(r.latest), "|",
                                 r.counted, "|", r.credits.num, "|", r.credits.den, "|");
  for (size_t i = 0; i < r.minimums.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "" : ",", r.minimums[i]);
  }
  return out;
}

absl::StatusOr<ReportRow> DecodeReportRow(absl::string_view text) {
  std::vector<absl::string_view> f = absl::StrSplit(text, '|');
  ReportRow r;
  int64_t first = 0, last = 0;
  if (f.size() != 8 || !ParseInt(f[0], &first) || !ParseInt(f[1], &last) ||
      !ParseOptionalDay(f[2], &r.cycle_anchor) || !ParseOptionalDay(f[3], &r.latest) ||
      !ParseInt(f[4], &r.counted) || !ParseFraction(f[5], f[6], &r.credits)) {
    return BadText("report row");
  }
  r.window = dates::Period{FromDayNumber(first), FromDayNumber(last)};
  if (!f[7].empty()) {
    for (absl::string_view m : absl::StrSplit(f[7], ',')) {
      int64_t v = 0;
      if (!ParseInt(m, &v)) return BadText("report row");
      r.minimums.push_back(v);
    }
  }
  return r;
}

Standing StandingOf(const Summary& s) {
  Standing out;
  out.window = s.cycle.window;
  out.status = s.status;
  out.required = s.required;
  out.counted = s.counted;
  out.expected = s.expected;
  out.shortfall = s.shortfall;
  out.days_left = s.days_left;
  out.counts_credits = s.counts_credits;
  out.credits = s.counts_credits ? s.credits : Fraction{};
  return out;
}

std::optional<Standing> StandingFromRow(const PolicyHistory& policy, const ReportRow& row,
                                        absl::CivilDay as_of) {
  TeacherFacts facts;
  facts.cycle_anchor = row.cycle_anchor;
  absl::StatusOr<Cycle> cycle = CycleHolding(policy, facts, as_of);
  if (!cycle.ok() || cycle->window.first != row.window.first ||
      cycle->window.last != row.window.last || (row.latest.has_value() && *row.latest > as_of)) {
    return std::nullopt;
  }
  const TrainingRules& first_day = policy.InForceOn(row.window.first);
  if (first_day.minimums.size() != row.minimums.size()) return std::nullopt;
  StatusInputs in;
  in.counted = row.counted;
  in.required = first_day.required;
  in.elapsed = as_of - row.window.first + 1;
  in.cycle_days = row.window.Days();
  in.days_left = row.window.last - as_of;
  in.grace_days = first_day.grace_days;
  in.warn_days = first_day.warn_days;
  for (size_t i = 0; i < row.minimums.size(); ++i) {
    const HalfHours required = first_day.minimums[i].half_hours;
    in.minimums_met = in.minimums_met && row.minimums[i] >= required;
    in.minimum_behind_pace =
        in.minimum_behind_pace || BelowPace(row.minimums[i], required, in.elapsed, in.cycle_days);
  }
  Standing out;
  out.window = row.window;
  out.status = DecideStatus(in);
  out.required = in.required;
  out.counted = row.counted;
  out.expected = ExpectedByPace(in.required, in.elapsed, in.cycle_days);
  const HalfHours remaining = std::max<HalfHours>(0, in.required - in.counted);
  out.shortfall = out.status == v1::TRAINING_STATUS_COMPLETE ? 0 : remaining;
  out.days_left = in.days_left;
  out.counts_credits = first_day.counts_credits;
  out.credits = first_day.counts_credits ? row.credits : Fraction{};
  return out;
}

void SummaryToProto(const Summary& s, absl::string_view teacher_id, v1::TrainingSummary* out) {
  out->Clear();
  out->set_teacher_id(std::string(teacher_id));
  out->set_as_of(dates::FormatDate(s.as_of));
  v1::CycleWindow* cycle = out->mutable_cycle();
  cycle->set_first_day(dates::FormatDate(s.cycle.window.first));
  cycle->set_last_day(dates::FormatDate(s.cycle.window.last));
  cycle->set_index(s.cycle.index);
  cycle->set_kind(s.cycle.kind);
  cycle->set_days(static_cast<int32_t>(s.cycle_days));
  cycle->set_elapsed_days(static_cast<int32_t>(s.elapsed));
  cycle->set_days_left(static_cast<int32_t>(s.days_left));

  out->set_credited_hours(HalfHoursToWire(s.credited));
  for (const auto& [level, hh] : s.credited_by_level) {
    v1::LevelHours* l = out->add_credited_by_level();
    l->set_level(level);
    l->set_hours(HalfHoursToWire(hh));
  }
  for (const auto& [mode, hh] : s.credited_by_mode) {
    v1::ModeHours* m = out->add_credited_by_mode();
    m->set_mode(mode);
    m->set_hours(HalfHoursToWire(hh));
  }
  for (const YearProgress& y : s.years) {
    v1::CycleYear* year = out->add_years();
    year->set_index(y.index);
    year->set_first_day(dates::FormatDate(y.window.first));
    year->set_last_day(dates::FormatDate(y.window.last));
    year->set_credited_hours(HalfHoursToWire(y.credited));
    year->set_counted_hours(HalfHoursToWire(y.counted));
    year->set_finished(y.finished);
    year->set_minimum_met(y.minimum_met);
  }
  out->set_counted_hours(HalfHoursToWire(s.counted));
  out->set_pending_hours(HalfHoursToWire(s.pending));
  out->set_induction_hours(HalfHoursToWire(s.induction));
  out->set_induction_required_hours(HalfHoursToWire(s.induction_required));
  out->set_induction_met(s.induction_met);
  out->set_required_hours(HalfHoursToWire(s.required));
  out->set_remaining_hours(HalfHoursToWire(s.remaining));
  out->set_expected_hours(HalfHoursToWire(s.expected));
  for (const MinimumProgress& m : s.minimums) {
    v1::MinimumProgress* p = out->add_minimums();
    p->set_name(m.name);
    p->set_required_hours(HalfHoursToWire(m.required));
    p->set_counted_hours(HalfHoursToWire(m.counted));
    p->set_expected_hours(HalfHoursToWire(m.expected));
    p->set_met(m.met);
    p->set_behind_pace(m.behind_pace);
  }
  out->set_status(s.status);
  out->set_days_left(static_cast<int32_t>(s.days_left));
  out->set_yearly_minimum_hours(HalfHoursToWire(s.yearly_minimum));
  out->set_yearly_minimum_met(s.yearly_minimum_met);
  out->set_head_teacher(s.head_teacher);
  out->set_head_teacher_required_hours(HalfHoursToWire(s.head_teacher_required));
  out->set_head_teacher_hours(HalfHoursToWire(s.head_teacher_counted));
  out->set_head_teacher_met(s.head_teacher_met);
  out->set_counts_credits(s.counts_credits);
  if (s.counts_credits) out->set_credits(RoundTo2(s.credits));
  out->set_shortfall_hours(HalfHoursToWire(s.shortfall));
}

// ---------------------------------------------------------------------------------------------
// Completions and the compliance report.

std::optional<FieldProblem> CompletionProblem(HalfHours course_hours, absl::CivilDay course_start,
                                              absl::CivilDay course_end, HalfHours awarded,
                                              absl::CivilDay completed_on,
                                              absl::string_view field_prefix) {
  if (awarded <= 0 || awarded > course_hours) {
    return FieldProblem{
        Field(field_prefix, "hours"), "within_course",
        absl::StrCat(HalfHoursToWire(awarded), " hours; want > 0 and at most the course's ",
                     HalfHoursToWire(course_hours), ", in steps of 0.5")};
  }
  if (completed_on < course_start || completed_on > course_end) {
    return FieldProblem{
        Field(field_prefix, "completed_on"), "within_course",
        absl::StrCat(dates::FormatDate(completed_on), " is outside the course; want a day from ",
                     dates::FormatDate(course_start), " to ", dates::FormatDate(course_end))};
  }
  return std::nullopt;
}

absl::Status CheckCompletion(HalfHours course_hours, absl::CivilDay course_start,
                             absl::CivilDay course_end, HalfHours awarded,
                             absl::CivilDay completed_on, absl::string_view field_prefix) {
  std::optional<FieldProblem> problem = CompletionProblem(course_hours, course_start, course_end,
                                                          awarded, completed_on, field_prefix);
  if (problem.has_value()) return Invalid(problem->field, problem->rule, problem->message);
  return absl::OkStatus();
}

bool NeedsAttention(TrainingStatus status) {
  return status == v1::TRAINING_STATUS_AT_RISK || status == v1::TRAINING_STATUS_BEHIND;
}

bool ShortfallOrder(const ShortfallKey& a, const ShortfallKey& b) {
  if (a.shortfall != b.shortfall) return a.shortfall > b.shortfall;
  return a.teacher_id < b.teacher_id;
}

Fraction CompletionPercent(int64_t complete, int64_t total) {
  if (total <= 0) return Fraction{};
  return Reduce(static_cast<Int128>(complete) * 100, total);
}

// ---------------------------------------------------------------------------------------------
// Field checks of requests.

bool TitleLengthOk(absl::string_view title) {
  size_t characters = 0;
  for (unsigned char c : title) {
    if ((c & 0xC0) != 0x80) ++characters;  // every byte but a continuation starts a character
  }
  return characters >= 1 && characters <= 200;
}

bool IsRegionCode(absl::string_view code) {
  return code.size() == 6 && code.find_first_not_of("0123456789") == absl::string_view::npos;
}

bool IsCountyCode(absl::string_view code) { return IsRegionCode(code) && code.substr(4) != "00"; }

bool IsProviderId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      return false;
    }
  }
  return true;
}

namespace {

constexpr char kDateFormat[] = "must be a date YYYY-MM-DD";
constexpr char kLevels[] = "国家, 省, 市, 县 or 校本";
constexpr char kModes[] = "集中, 网络, 混合 or 校本研修";

bool LevelSet(int level) { return level != 0 && common::v1::TrainingLevel_IsValid(level); }
bool ModeSet(int mode) { return mode != 0 && common::v1::TrainingMode_IsValid(mode); }

// The course's dates (start on or before end), each checked once.
void CheckCourseDates(const v1::Course& c, FieldProblems* out) {
  absl::StatusOr<absl::CivilDay> start = dates::ParseDate(c.start_date());
  absl::StatusOr<absl::CivilDay> end = dates::ParseDate(c.end_date());
  if (!start.ok()) out->push_back({"course.start_date", "date_format", kDateFormat});
  if (!end.ok()) out->push_back({"course.end_date", "date_format", kDateFormat});
  if (start.ok() && end.ok() && *end < *start) {
    out->push_back({"course.end_date", "after_start", "must be on or after start_date"});
  }
}

}  // namespace

FieldProblems CourseProblems(const v1::Course& c) {
  FieldProblems out;
  if (!TitleLengthOk(c.title())) {
    out.push_back({"course.title", "length", "required: 1 to 200 characters"});
  }
  if (!IsProviderId(c.provider_id())) {
    out.push_back({"course.provider_id", "provider_id", "required: 1 to 64 of A-Z a-z 0-9 _ - ."});
  }
  if (!v1::CourseState_IsValid(c.state()) || !LevelSet(c.level())) {
    out.push_back({"course.level", "required", kLevels});
  }
  if (!ModeSet(c.mode())) out.push_back({"course.mode", "required", kModes});
  if (WireHoursProblem(c.hours(), "course.hours").has_value()) {
    out.push_back({"course.hours", "hours", "> 0 in steps of 0.5"});
  }
  CheckCourseDates(c, &out);
  if (c.capacity() < 1 || c.capacity() > 100000) {
    out.push_back({"course.capacity", "range", "must be 1 to 100000 seats"});
  }
  if (c.open_regions().empty()) {
    out.push_back({"course.open_regions", "required",
                   "at least one county, city or province code it is open to"});
  }
  for (int i = 0; i < c.open_regions_size(); ++i) {
    if (!IsRegionCode(c.open_regions(i))) {
      out.push_back({absl::StrCat("course.open_regions[", i, "]"), "region_code",
                     "must be a 6-digit GB/T 2260 code"});
    }
  }
  for (int i = 0; i < c.target_stages_size(); ++i) {
    if (c.target_stages(i) == 0 || !common::v1::Stage_IsValid(c.target_stages(i))) {
      out.push_back({absl::StrCat("course.target_stages[", i, "]"), "enum", "must be a stage"});
    }
  }
  return out;
}

namespace {

// What a record of a registered course must also satisfy: no other activity, a course open to
// the teacher, hours and day within the course.
void CheckLoggedCourse(const v1::LogTrainingRequest& req, const v1::Course& c, bool course_open,
                       absl::string_view county_id, std::optional<HalfHours> hours,
                       std::optional<absl::CivilDay> done, FieldProblems* out) {
  if (req.activity() != 0 && req.activity() != v1::TRAINING_ACTIVITY_COURSE) {
    out->push_back(
        {"activity", "course_activity", "leave unset (or COURSE) for a registered course"});
  }
  if (!course_open) {
    out->push_back(
        {"course_id", "not_open", absl::StrCat("the course is not open to county ", county_id)});
  }
  if (!hours.has_value() || !done.has_value()) return;
  absl::StatusOr<HalfHours> course_hours = HalfHoursFromWire(c.hours(), "course.hours");
  absl::StatusOr<absl::CivilDay> start = dates::ParseDate(c.start_date());
  absl::StatusOr<absl::CivilDay> end = dates::ParseDate(c.end_date());
  if (!course_hours.ok() || !start.ok() || !end.ok()) return;
  std::optional<FieldProblem> within =
      CompletionProblem(*course_hours, *start, *end, *hours, *done, "");
  if (within.has_value()) out->push_back(*std::move(within));
}

// What a record of anything else must carry: its activity, title, level, mode and evidence.
void CheckLoggedOther(const v1::LogTrainingRequest& req, FieldProblems* out) {
  if (req.activity() == 0 || req.activity() == v1::TRAINING_ACTIVITY_COURSE ||
      !v1::TrainingActivity_IsValid(req.activity())) {
    out->push_back({"activity", "required",
                    "degree_study, conference, public_lesson, research_activity or other "
                    "(a registered course is named by course_id)"});
  }
  if (!TitleLengthOk(req.title())) {
    out->push_back({"title", "length", "required: 1 to 200 characters"});
  }
  if (!LevelSet(req.level())) out->push_back({"level", "required", kLevels});
  if (!ModeSet(req.mode())) out->push_back({"mode", "required", kModes});
  if (req.evidence().description().empty()) {
    out->push_back({"evidence.description", "required",
                    "required for training other than a registered course"});
  }
  if (req.evidence().file_ref().empty()) {
    out->push_back(
        {"evidence.file_ref", "required", "required: a reference to the uploaded evidence file"});
  }
}

}  // namespace

FieldProblems LoggedTrainingProblems(const v1::LogTrainingRequest& req, const v1::Course* course,
                                     bool course_open, absl::string_view county_id,
                                     absl::CivilDay today) {
  FieldProblems out;
  std::optional<HalfHours> hours;
  if (WireHoursProblem(req.hours(), "hours").has_value()) {
    out.push_back({"hours", "hours", "> 0 in steps of 0.5"});
  } else {
    hours = static_cast<HalfHours>(req.hours() * 2);
  }
  absl::StatusOr<absl::CivilDay> completed = dates::ParseDate(req.completed_on());
  if (!completed.ok()) {
    out.push_back({"completed_on", "date_format", kDateFormat});
  } else if (*completed > today) {
    out.push_back({"completed_on", "not_future",
                   absl::StrCat("must not be after today (", dates::FormatDate(today), ")")});
  }
  if (!req.started_on().empty()) {
    absl::StatusOr<absl::CivilDay> started = dates::ParseDate(req.started_on());
    if (!started.ok()) {
      out.push_back({"started_on", "date_format", kDateFormat});
    } else if (completed.ok() && *started > *completed) {
      out.push_back({"started_on", "before_completed", "must be on or before completed_on"});
    }
  }
  if (course != nullptr) {
    std::optional<absl::CivilDay> done;
    if (completed.ok()) done = *completed;
    CheckLoggedCourse(req, *course, course_open, county_id, hours, done, &out);
  } else {
    CheckLoggedOther(req, &out);
  }
  return out;
}

}  // namespace shidang::training
