#include "services/training/rules.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/common/violations.h"

namespace shidang::training {
namespace {

using common::v1::CYCLE_KIND_FIXED;
using common::v1::CYCLE_KIND_PER_TEACHER;
using common::v1::TRAINING_LEVEL_CITY;
using common::v1::TRAINING_LEVEL_COUNTY;
using common::v1::TRAINING_LEVEL_NATIONAL;
using common::v1::TRAINING_LEVEL_PROVINCE;
using common::v1::TRAINING_LEVEL_SCHOOL;
using common::v1::TRAINING_MODE_BLENDED;
using common::v1::TRAINING_MODE_FACE_TO_FACE;
using common::v1::TRAINING_MODE_ONLINE;
using common::v1::TRAINING_MODE_SCHOOL_BASED;
using common::v1::TrainingPolicy;

absl::CivilDay D(int y, int m, int d) { return absl::CivilDay(y, m, d); }

// Hours as the tests write them -> half hours.
HalfHours H(double hours) { return static_cast<HalfHours>(std::llround(hours * 2)); }

// The national defaults of DOMAIN §2/§6 on a fixed 2021-01-01 cycle.
TrainingPolicy BasePolicy() {
  TrainingPolicy p;
  p.set_cycle_kind(CYCLE_KIND_FIXED);
  p.set_cycle_years(5);
  p.set_fixed_cycle_start("2021-01-01");
  p.set_required_hours(360);
  p.set_induction_hours(120);
  p.set_yearly_minimum_hours(72);
  p.set_head_teacher_hours(30);
  p.set_grace_days(180);
  p.set_warn_days(180);
  p.mutable_minimums();
  p.mutable_caps();
  p.set_counts_credits(false);
  return p;
}

TrainingPolicy PerTeacherPolicy() {
  TrainingPolicy p = BasePolicy();
  p.set_cycle_kind(CYCLE_KIND_PER_TEACHER);
  p.clear_fixed_cycle_start();
  return p;
}

void AddCap(TrainingPolicy* p, const std::string& name, double hours,
            const std::vector<common::v1::TrainingMode>& modes = {},
            const std::string& activity = "") {
  common::v1::HourRule* rule = p->mutable_caps()->add_rules();
  rule->set_name(name);
  rule->set_hours(hours);
  for (auto m : modes) rule->add_modes(m);
  rule->set_activity(activity);
}

void AddCountyOrAboveMinimum(TrainingPolicy* p, double hours) {
  common::v1::HourRule* rule = p->mutable_minimums()->add_rules();
  rule->set_name("county_or_above");
  rule->set_hours(hours);
  for (auto level : {TRAINING_LEVEL_NATIONAL, TRAINING_LEVEL_PROVINCE, TRAINING_LEVEL_CITY,
                     TRAINING_LEVEL_COUNTY}) {
    rule->add_levels(level);
  }
}

void UseCredits(TrainingPolicy* p) {
  p->set_counts_credits(true);
  auto* f2f = p->mutable_credit_rates()->add_rates();
  f2f->set_mode(TRAINING_MODE_FACE_TO_FACE);
  f2f->set_hours_per_credit(6);
  for (auto mode : {TRAINING_MODE_ONLINE, TRAINING_MODE_BLENDED, TRAINING_MODE_SCHOOL_BASED}) {
    auto* rate = p->mutable_credit_rates()->add_rates();
    rate->set_mode(mode);
    rate->set_hours_per_credit(8);
  }
  auto* degree = p->mutable_credit_caps()->add_caps();
  degree->set_activity("degree_study");
  degree->set_credits(20);
}

PolicyHistory History(const std::vector<std::pair<absl::CivilDay, TrainingPolicy>>& versions) {
  std::vector<ResolvedTrainingPolicy> resolved;
  resolved.reserve(versions.size());
  for (const auto& [day, policy] : versions) resolved.push_back({day, policy});
  absl::StatusOr<PolicyHistory> history = PolicyHistory::FromResolved(resolved);
  EXPECT_TRUE(history.ok()) << history.status();
  return *std::move(history);
}

PolicyHistory Base() { return History({{D(2021, 1, 1), BasePolicy()}}); }

LedgerEntry Credit(std::string id, absl::CivilDay date, double hours,
                   TrainingLevel level = TRAINING_LEVEL_SCHOOL,
                   TrainingMode mode = TRAINING_MODE_FACE_TO_FACE,
                   std::string activity = "course") {
  LedgerEntry e;
  e.id = std::move(id);
  e.date = date;
  e.half_hours = H(hours);
  e.level = level;
  e.mode = mode;
  e.activity = std::move(activity);
  e.source = v1::CREDIT_SOURCE_COURSE_COMPLETION;
  return e;
}

Summary Summarize(const PolicyHistory& policy, const std::vector<LedgerEntry>& ledger,
                  absl::CivilDay as_of, const TeacherFacts& teacher = {},
                  const std::vector<PendingRecord>& pending = {}) {
  absl::StatusOr<Summary> s = ComputeSummary(policy, teacher, ledger, pending, as_of);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : Summary{};
}

bool Mentions(const absl::Status& status, absl::string_view text) {
  return status.message().find(text) != absl::string_view::npos;
}

// ---------------------------------------------------------------------------------------------
// Exact numbers and the wire.

TEST(FractionTest, ExactArithmeticAndRounding) {
  EXPECT_EQ(MakeFraction(14, 12).num, 7);
  EXPECT_EQ(MakeFraction(14, 12).den, 6);
  EXPECT_EQ(MakeFraction(3, -6).num, -1);
  EXPECT_EQ(MakeFraction(3, -6).den, 2);
  EXPECT_EQ(MakeFraction(0, 7).den, 1);
  EXPECT_TRUE(Add(MakeFraction(1, 6), MakeFraction(1, 3)) == MakeFraction(1, 2));
  EXPECT_TRUE(Sub(MakeFraction(1, 2), MakeFraction(1, 3)) == MakeFraction(1, 6));
  // 1/3 is not 0.333...: compared exactly.
  EXPECT_TRUE(MakeFraction(333, 1000) < MakeFraction(1, 3));
  EXPECT_FALSE(MakeFraction(1, 3) < MakeFraction(1, 3));
  // Cross products beyond 64 bits.
  const int64_t big = std::numeric_limits<int64_t>::max() / 2;
  EXPECT_TRUE(MakeFraction(big - 1, big) < MakeFraction(big, big + 1));

  EXPECT_EQ(RoundTo2(MakeFraction(7, 6)), 1.17);
  EXPECT_EQ(RoundTo2(MakeFraction(1, 3)), 0.33);
  EXPECT_EQ(RoundTo2(MakeFraction(2, 3)), 0.67);
  EXPECT_EQ(RoundTo2(MakeFraction(1, 8)), 0.13);  // 0.125: half away from zero
  EXPECT_EQ(RoundTo2(MakeFraction(-1, 8)), -0.13);
  EXPECT_EQ(RoundTo2(MakeFraction(1, 200)), 0.01);
  EXPECT_EQ(RoundTo2(MakeFraction(1, 201)), 0.0);
  EXPECT_EQ(RoundTo2(MakeFraction(360, 1)), 360.0);
}

TEST(WireHoursTest, HalfHourStepsOnly) {
  EXPECT_EQ(*HalfHoursFromWire(1.5, "hours"), 3);
  EXPECT_EQ(*HalfHoursFromWire(0.5, "hours"), 1);
  EXPECT_EQ(*HalfHoursFromWire(100000, "hours"), 200000);
  EXPECT_EQ(*HalfHoursFromWire(0, "hours", /*allow_zero=*/true), 0);
  for (double bad :
       {0.0, 0.25, 1.2, -0.5, 100000.5, std::nan(""), std::numeric_limits<double>::infinity()}) {
    absl::StatusOr<HalfHours> r = HalfHoursFromWire(bad, "rows[3].hours");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(Mentions(r.status(), "rows[3].hours")) << r.status();
    EXPECT_TRUE(Mentions(r.status(), "steps of 0.5")) << r.status();
  }
  EXPECT_EQ(HalfHoursToWire(H(7.5)), 7.5);
  EXPECT_EQ(HalfHoursToWire(MakeFraction(720, 1826)), 0.2);  // 0.19715... h
}

TEST(ActivityTest, NamesRoundTrip) {
  for (int a = v1::TRAINING_ACTIVITY_COURSE; a <= v1::TRAINING_ACTIVITY_OTHER; ++a) {
    auto activity = static_cast<TrainingActivity>(a);
    ASSERT_TRUE(ActivityFromName(ActivityName(activity)).has_value());
    EXPECT_EQ(*ActivityFromName(ActivityName(activity)), activity);
  }
  EXPECT_EQ(ActivityName(v1::TRAINING_ACTIVITY_DEGREE_STUDY), "degree_study");
  EXPECT_FALSE(ActivityFromName("degree").has_value());
}

// ---------------------------------------------------------------------------------------------
// Policy.

TEST(PolicyTest, ValidationNamesTheFieldAndWhatIsAllowed) {
  TrainingPolicy p = BasePolicy();
  p.set_required_hours(359.3);
  absl::Status s = ValidateTrainingPolicy(p);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(s, "training.required_hours")) << s;

  p = BasePolicy();
  p.set_cycle_years(0);
  EXPECT_TRUE(Mentions(ValidateTrainingPolicy(p), "training.cycle_years"));

  p = BasePolicy();
  p.set_fixed_cycle_start("2021-02-30");
  EXPECT_TRUE(Mentions(ValidateTrainingPolicy(p), "training.fixed_cycle_start"));

  p = BasePolicy();
  p.set_warn_days(-1);
  EXPECT_TRUE(Mentions(ValidateTrainingPolicy(p), "training.warn_days"));

  p = BasePolicy();
  AddCap(&p, "online", 100.25, {TRAINING_MODE_ONLINE});
  EXPECT_TRUE(Mentions(ValidateTrainingPolicy(p), "training.caps.rules[0].hours"));

  // A typo in an activity is refused when setting a policy, and read leniently once stored
  // (the cap then matches nothing).
  p = BasePolicy();
  AddCap(&p, "degree", 50, {}, "degree_studies");
  s = ValidateTrainingPolicy(p);
  EXPECT_TRUE(Mentions(s, "training.caps.rules[0].activity")) << s;
  EXPECT_TRUE(Mentions(s, "degree_study")) << s;
  EXPECT_TRUE(RulesFromPolicy(p).ok());

  p = BasePolicy();
  auto* rate = p.mutable_credit_rates()->add_rates();
  rate->set_mode(TRAINING_MODE_ONLINE);
  rate->set_hours_per_credit(0);
  EXPECT_TRUE(
      Mentions(ValidateTrainingPolicy(p), "training.credit_rates.rates[0].hours_per_credit"));

  // Partial policies (as set at one level) are fine.
  TrainingPolicy partial;
  partial.set_required_hours(300);
  EXPECT_TRUE(ValidateTrainingPolicy(partial).ok());
}

// Every refusal of a policy names its field and the rule it breaks in the error's details, not
// only in the text.
TEST(PolicyTest, ValidationCarriesTheFieldAndRuleInItsDetails) {
  auto violation = [](const absl::Status& s) {
    std::optional<common::v1::BadRequest> bad = BadRequestOf(s);
    if (!bad.has_value() || bad->field_violations_size() != 1) return std::string("none");
    return absl::StrCat(bad->field_violations(0).field(), " ", bad->field_violations(0).rule());
  };
  TrainingPolicy p = BasePolicy();
  p.set_cycle_years(0);
  EXPECT_EQ(violation(ValidateTrainingPolicy(p)), "training.cycle_years range");
  p = BasePolicy();
  p.set_required_hours(359.3);
  EXPECT_EQ(violation(ValidateTrainingPolicy(p)), "training.required_hours hours");
  p = BasePolicy();
  AddCap(&p, "degree", 50, {}, "degree_studies");
  EXPECT_EQ(violation(ValidateTrainingPolicy(p)), "training.caps.rules[0].activity enum");
  p = BasePolicy();
  AddCap(&p, "twice", 50, {TRAINING_MODE_ONLINE});
  AddCap(&p, "twice", 60, {TRAINING_MODE_ONLINE});
  EXPECT_EQ(violation(ValidateTrainingPolicy(p)), "training.caps.rules[1].name duplicate");
}

TEST(PolicyTest, RulesNeedEveryValueTheyUse) {
  TrainingPolicy p = BasePolicy();
  p.clear_required_hours();
  absl::StatusOr<TrainingRules> r = RulesFromPolicy(p);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Mentions(r.status(), "training.required_hours"));

  p = BasePolicy();
  p.clear_fixed_cycle_start();
  EXPECT_TRUE(Mentions(RulesFromPolicy(p).status(), "fixed_cycle_start"));
  // A per-teacher cycle needs no county start.
  EXPECT_TRUE(RulesFromPolicy(PerTeacherPolicy()).ok());

  // Counting credits needs a rate for every mode (its own or the UNSPECIFIED one).
  p = BasePolicy();
  p.set_counts_credits(true);
  auto* f2f = p.mutable_credit_rates()->add_rates();
  f2f->set_mode(TRAINING_MODE_FACE_TO_FACE);
  f2f->set_hours_per_credit(6);
  r = RulesFromPolicy(p);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Mentions(r.status(), "TRAINING_MODE_ONLINE")) << r.status();
  auto* others = p.mutable_credit_rates()->add_rates();
  others->set_hours_per_credit(8);
  r = RulesFromPolicy(p);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->required, 720);
  EXPECT_EQ(r->credit_rates.size(), 2u);
}

TEST(PolicyTest, HistoryPicksTheVersionInForce) {
  TrainingPolicy v2 = BasePolicy();
  v2.set_required_hours(300);
  PolicyHistory h = History({{D(2023, 1, 1), v2}, {D(2021, 1, 1), BasePolicy()}});
  EXPECT_EQ(h.InForceOn(D(2020, 6, 1)).required, H(360));  // before all: the earliest
  EXPECT_EQ(h.InForceOn(D(2022, 12, 31)).required, H(360));
  EXPECT_EQ(h.InForceOn(D(2023, 1, 1)).required, H(300));
  EXPECT_EQ(h.InForceOn(D(2030, 1, 1)).required, H(300));

  EXPECT_FALSE(PolicyHistory::Create({}).ok());
  TrainingRules rules = *RulesFromPolicy(BasePolicy());
  absl::StatusOr<PolicyHistory> twice =
      PolicyHistory::Create({{D(2021, 1, 1), rules}, {D(2021, 1, 1), rules}});
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PolicyTest, HistoryForCountyFromStoredVersions) {
  // The built-in national defaults, then the county's own version from 2023-01-01 and a province
  // version of 2022 that sets a cap.
  common::v1::PolicyVersion county;
  county.set_level(common::v1::POLICY_LEVEL_COUNTY);
  county.set_region("320102");
  county.set_effective_from("2023-01-01");
  county.mutable_policy()->mutable_training()->set_required_hours(300);
  common::v1::PolicyVersion province;
  province.set_level(common::v1::POLICY_LEVEL_PROVINCE);
  province.set_region("320000");
  province.set_effective_from("2022-07-01");
  AddCap(province.mutable_policy()->mutable_training(), "online", 100, {TRAINING_MODE_ONLINE});
  // Another county's version takes no part.
  common::v1::PolicyVersion other = county;
  other.set_region("320104");
  other.mutable_policy()->mutable_training()->set_required_hours(10);

  absl::StatusOr<PolicyHistory> h = PolicyHistory::ForCounty("320102", {county, province, other});
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->InForceOn(D(2021, 5, 1)).required, H(360));
  EXPECT_TRUE(h->InForceOn(D(2021, 5, 1)).caps.empty());
  EXPECT_EQ(h->InForceOn(D(2022, 7, 1)).caps.size(), 1u);
  EXPECT_EQ(h->InForceOn(D(2022, 12, 31)).required, H(360));
  EXPECT_EQ(h->InForceOn(D(2023, 1, 1)).required, H(300));
  EXPECT_EQ(h->InForceOn(D(2023, 1, 1)).caps.size(), 1u);
  EXPECT_FALSE(PolicyHistory::ForCounty("32010", {}).ok());
}

// ---------------------------------------------------------------------------------------------
// Cycles.

TEST(CycleTest, FixedCycleBoundariesInclusive) {
  PolicyHistory h = Base();
  for (absl::CivilDay day : {D(2021, 1, 1), D(2023, 7, 15), D(2025, 12, 31)}) {
    Cycle c = *CycleHolding(h, {}, day);
    EXPECT_EQ(c.window.first, D(2021, 1, 1));
    EXPECT_EQ(c.window.last, D(2025, 12, 31));
    EXPECT_EQ(c.index, 0);
    EXPECT_EQ(c.kind, CYCLE_KIND_FIXED);
  }
  Cycle next = *CycleHolding(h, {}, D(2026, 1, 1));
  EXPECT_EQ(next.window.first, D(2026, 1, 1));
  EXPECT_EQ(next.window.last, D(2030, 12, 31));
  EXPECT_EQ(next.index, 1);
  Cycle before = *CycleHolding(h, {}, D(2020, 12, 31));
  EXPECT_EQ(before.window.first, D(2016, 1, 1));
  EXPECT_EQ(before.window.last, D(2020, 12, 31));
  EXPECT_EQ(before.index, -1);
}

TEST(CycleTest, PerTeacherFromLeapDayAnchor) {
  PolicyHistory h = History({{D(2000, 1, 1), PerTeacherPolicy()}});
  TeacherFacts t;
  t.cycle_anchor = D(2020, 2, 29);
  Cycle c0 = *CycleHolding(h, t, D(2025, 2, 28));
  EXPECT_EQ(c0.window.first, D(2020, 2, 29));
  EXPECT_EQ(c0.window.last, D(2025, 2, 28));
  EXPECT_EQ(c0.index, 0);
  Cycle c1 = *CycleHolding(h, t, D(2025, 3, 1));
  EXPECT_EQ(c1.window.first, D(2025, 3, 1));
  EXPECT_EQ(c1.window.last, D(2030, 2, 28));
  EXPECT_EQ(c1.index, 1);
  // Counted from the anchor, not chained: cycle 4 starts on 29 February again.
  Cycle c3 = *CycleHolding(h, t, D(2040, 2, 28));
  EXPECT_EQ(c3.window.first, D(2035, 3, 1));
  EXPECT_EQ(c3.window.last, D(2040, 2, 28));
  EXPECT_EQ(c3.index, 3);
  Cycle c4 = *CycleHolding(h, t, D(2040, 2, 29));
  EXPECT_EQ(c4.window.first, D(2040, 2, 29));
  EXPECT_EQ(c4.index, 4);

  absl::StatusOr<Cycle> no_anchor = CycleHolding(h, TeacherFacts{}, D(2025, 1, 1));
  EXPECT_EQ(no_anchor.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Mentions(no_anchor.status(), "cycle_anchor"));
}

TEST(CycleTest, YearsTileEveryCycleExactly) {
  for (absl::CivilDay anchor : {D(2020, 2, 29), D(2021, 1, 1), D(2019, 8, 31), D(2021, 3, 31)}) {
    for (int64_t k = -2; k <= 6; ++k) {
      absl::CivilDay inside = dates::ShiftYears(anchor, k * 5);
      Cycle c = CycleOf(CYCLE_KIND_PER_TEACHER, anchor, 5, inside);
      ASSERT_EQ(c.index, k);
      EXPECT_EQ(CycleYear(c, 1).first, c.window.first);
      EXPECT_EQ(CycleYear(c, 5).last, c.window.last);
      for (int i = 2; i <= 5; ++i) {
        EXPECT_EQ(CycleYear(c, i).first, CycleYear(c, i - 1).last + 1)
            << dates::FormatDate(anchor) << " k=" << k << " i=" << i;
      }
    }
  }
  // From a 29 February anchor: cycle 0's year 5 starts on the next 29 February; cycle 3's last
  // year ends the day before cycle 4 starts.
  Cycle c0 = CycleOf(CYCLE_KIND_PER_TEACHER, D(2020, 2, 29), 5, D(2021, 1, 1));
  EXPECT_EQ(CycleYear(c0, 1).last, D(2021, 2, 28));
  EXPECT_EQ(CycleYear(c0, 2).first, D(2021, 3, 1));
  EXPECT_EQ(CycleYear(c0, 5).first, D(2024, 2, 29));
  Cycle c3 = CycleOf(CYCLE_KIND_PER_TEACHER, D(2020, 2, 29), 5, D(2036, 1, 1));
  EXPECT_EQ(CycleYear(c3, 5).first, D(2039, 3, 1));
  EXPECT_EQ(CycleYear(c3, 5).last, D(2040, 2, 28));
}

TEST(CycleTest, ShapeFromAsOfVersionRequiredFromFirstDayVersion) {
  // From 2023-01-01 the county moves to a new fixed cycle starting that day, with 300 hours.
  TrainingPolicy v2 = BasePolicy();
  v2.set_fixed_cycle_start("2023-01-01");
  v2.set_required_hours(300);
  v2.set_grace_days(0);
  // From 2024-01-01 the requirement changes again, mid-cycle.
  TrainingPolicy v3 = v2;
  v3.set_required_hours(400);
  PolicyHistory h =
      History({{D(2021, 1, 1), BasePolicy()}, {D(2023, 1, 1), v2}, {D(2024, 1, 1), v3}});

  Summary old = Summarize(h, {}, D(2022, 12, 31));
  EXPECT_EQ(old.cycle.window.first, D(2021, 1, 1));
  EXPECT_EQ(old.required, H(360));

  Summary now = Summarize(h, {}, D(2024, 6, 1));
  EXPECT_EQ(now.cycle.window.first, D(2023, 1, 1));
  EXPECT_EQ(now.cycle.window.last, D(2027, 12, 31));
  EXPECT_EQ(now.required, H(300));  // v2 was in force on 2023-01-01, not v3
  // grace_days 0 from v2: behind at once with nothing counted.
  EXPECT_EQ(now.status, v1::TRAINING_STATUS_BEHIND);
}

// ---------------------------------------------------------------------------------------------
// Pace and status.

TEST(PaceTest, ElapsedCountsTheAsOfDay) {
  PolicyHistory h = Base();
  Summary first = Summarize(h, {}, D(2021, 1, 1));
  EXPECT_EQ(first.cycle_days, 1826);
  EXPECT_EQ(first.elapsed, 1);
  EXPECT_EQ(first.days_left, 1825);
  EXPECT_TRUE(first.expected == MakeFraction(720, 1826));

  Summary last = Summarize(h, {}, D(2025, 12, 31));
  EXPECT_EQ(last.elapsed, 1826);
  EXPECT_EQ(last.days_left, 0);
  EXPECT_TRUE(last.expected == MakeFraction(720, 1));

  // Leap-day anchored cycle: 2020-02-29..2025-02-28 has 1827 days.
  PolicyHistory per = History({{D(2000, 1, 1), PerTeacherPolicy()}});
  TeacherFacts t;
  t.cycle_anchor = D(2020, 2, 29);
  Summary leap = Summarize(per, {}, D(2025, 2, 28), t);
  EXPECT_EQ(leap.cycle_days, 1827);
  EXPECT_EQ(leap.elapsed, 1827);
  EXPECT_EQ(leap.days_left, 0);
}

TEST(PaceTest, ExactComparisonAtThePaceLine) {
  // 720 half hours over 1826 days: on day 913 exactly 360 half hours (180 h) are expected.
  EXPECT_TRUE(ExpectedByPace(720, 913, 1826) == MakeFraction(360, 1));
  EXPECT_FALSE(BelowPace(360, 720, 913, 1826));
  EXPECT_TRUE(BelowPace(359, 720, 913, 1826));
  // On day 914 the expectation is 360.39... half hours: 180 h is below.
  EXPECT_TRUE(BelowPace(360, 720, 914, 1826));

  PolicyHistory h = Base();
  absl::CivilDay day913 = D(2021, 1, 1) + 912;
  Summary on_pace = Summarize(h, {Credit("a", D(2021, 3, 1), 180)}, day913);
  EXPECT_EQ(on_pace.elapsed, 913);
  EXPECT_EQ(on_pace.status, v1::TRAINING_STATUS_ON_TRACK);
  Summary behind = Summarize(h, {Credit("a", D(2021, 3, 1), 179.5)}, day913);
  EXPECT_EQ(behind.status, v1::TRAINING_STATUS_BEHIND);
  Summary next_day = Summarize(h, {Credit("a", D(2021, 3, 1), 180)}, day913 + 1);
  EXPECT_EQ(next_day.status, v1::TRAINING_STATUS_BEHIND);
}

TEST(StatusTest, GraceDaysBoundary) {
  PolicyHistory h = Base();
  // Nothing counted: not BEHIND while elapsed <= 180, BEHIND from elapsed 181.
  Summary day180 = Summarize(h, {}, D(2021, 1, 1) + 179);
  EXPECT_EQ(day180.elapsed, 180);
  EXPECT_EQ(day180.status, v1::TRAINING_STATUS_ON_TRACK);
  Summary day181 = Summarize(h, {}, D(2021, 1, 1) + 180);
  EXPECT_EQ(day181.elapsed, 181);
  EXPECT_EQ(day181.status, v1::TRAINING_STATUS_BEHIND);
}

TEST(StatusTest, WarnDaysBoundary) {
  PolicyHistory h = Base();
  // 330 h is above the pace late in the cycle but short of 360.
  std::vector<LedgerEntry> ledger = {Credit("a", D(2021, 6, 1), 330)};
  Summary left181 = Summarize(h, ledger, D(2025, 12, 31) - 181);
  EXPECT_EQ(left181.days_left, 181);
  EXPECT_EQ(left181.status, v1::TRAINING_STATUS_ON_TRACK);
  Summary left180 = Summarize(h, ledger, D(2025, 12, 31) - 180);
  EXPECT_EQ(left180.days_left, 180);
  EXPECT_EQ(left180.status, v1::TRAINING_STATUS_AT_RISK);
  Summary last_day = Summarize(h, ledger, D(2025, 12, 31));
  // On the last day the expectation is the whole 360: behind, which comes before at risk.
  EXPECT_EQ(last_day.status, v1::TRAINING_STATUS_BEHIND);
  EXPECT_EQ(last_day.shortfall, H(30));
}

TEST(StatusTest, FirstThatAppliesWins) {
  StatusInputs in;
  in.required = 720;
  in.cycle_days = 1826;
  in.grace_days = 180;
  in.warn_days = 180;
  // COMPLETE even on day 1 and inside the warning window.
  in.counted = 720;
  in.elapsed = 1;
  in.days_left = 10;
  EXPECT_EQ(DecideStatus(in), v1::TRAINING_STATUS_COMPLETE);
  // Enough hours but a minimum unmet: not complete.
  in.minimums_met = false;
  EXPECT_NE(DecideStatus(in), v1::TRAINING_STATUS_COMPLETE);
  in.minimums_met = true;
  // BEHIND before AT_RISK.
  in.counted = 0;
  in.elapsed = 1816;
  EXPECT_EQ(DecideStatus(in), v1::TRAINING_STATUS_BEHIND);
  // Inside the grace period and the warning window (a short cycle): AT_RISK.
  in.elapsed = 100;
  in.days_left = 100;
  in.cycle_days = 200;
  EXPECT_EQ(DecideStatus(in), v1::TRAINING_STATUS_AT_RISK);
  in.days_left = 181;
  EXPECT_EQ(DecideStatus(in), v1::TRAINING_STATUS_ON_TRACK);
  // A minimum behind its pace makes BEHIND only after the grace days.
  in.counted = 720 * 100 / 200;
  in.minimum_behind_pace = true;
  in.minimums_met = false;
  EXPECT_EQ(DecideStatus(in), v1::TRAINING_STATUS_ON_TRACK);
  in.elapsed = 181;
  in.counted = 720;
  EXPECT_EQ(DecideStatus(in), v1::TRAINING_STATUS_BEHIND);
}

TEST(StatusTest, MinimumBehindPaceMakesBehind) {
  TrainingPolicy p = BasePolicy();
  AddCountyOrAboveMinimum(&p, 180);
  PolicyHistory h = History({{D(2021, 1, 1), p}});
  // Plenty of school-based hours (well above the total pace), nothing at county level or above.
  std::vector<LedgerEntry> ledger = {Credit("a", D(2021, 2, 1), 200, TRAINING_LEVEL_SCHOOL)};
  Summary s = Summarize(h, ledger, D(2022, 1, 1));
  EXPECT_FALSE(BelowPace(s.counted, s.required, s.elapsed, s.cycle_days));
  ASSERT_EQ(s.minimums.size(), 1u);
  EXPECT_EQ(s.minimums[0].name, "county_or_above");
  EXPECT_EQ(s.minimums[0].counted, 0);
  EXPECT_TRUE(s.minimums[0].behind_pace);
  EXPECT_FALSE(s.minimums[0].met);
  EXPECT_TRUE(s.minimums[0].expected == MakeFraction(int64_t{360} * 366, 1826));
  EXPECT_EQ(s.status, v1::TRAINING_STATUS_BEHIND);

  // With county hours on the minimum's own pace: ON_TRACK.
  ledger.push_back(Credit("b", D(2021, 3, 1), 40, TRAINING_LEVEL_COUNTY));
  s = Summarize(h, ledger, D(2022, 1, 1));
  EXPECT_FALSE(s.minimums[0].behind_pace);  // 80 hh * 1826 >= 360 hh * 366
  EXPECT_EQ(s.status, v1::TRAINING_STATUS_ON_TRACK);

  // All 360 hours, but only 40 at county level or above: not complete, shortfall 0.
  ledger.push_back(Credit("c", D(2021, 4, 1), 120, TRAINING_LEVEL_SCHOOL));
  s = Summarize(h, ledger, D(2022, 1, 1));
  EXPECT_EQ(s.counted, H(360));
  EXPECT_NE(s.status, v1::TRAINING_STATUS_COMPLETE);
  EXPECT_EQ(s.shortfall, 0);
  EXPECT_EQ(s.remaining, 0);
  // Meeting the minimum completes the cycle.
  ledger.push_back(Credit("d", D(2021, 5, 1), 140, TRAINING_LEVEL_PROVINCE));
  s = Summarize(h, ledger, D(2022, 1, 1));
  EXPECT_TRUE(s.minimums[0].met);
  EXPECT_EQ(s.status, v1::TRAINING_STATUS_COMPLETE);
}

// ---------------------------------------------------------------------------------------------
// What counts.

TEST(CountingTest, EntriesOnCycleBoundaries) {
  PolicyHistory h = Base();
  std::vector<LedgerEntry> ledger = {
      Credit("before", D(2020, 12, 31), 10), Credit("first", D(2021, 1, 1), 20),
      Credit("last", D(2025, 12, 31), 40), Credit("after", D(2026, 1, 1), 80)};
  Summary s = Summarize(h, ledger, D(2025, 12, 31));
  EXPECT_EQ(s.credited, H(60));
  EXPECT_EQ(s.counted, H(60));
  Summary prev = Summarize(h, ledger, D(2020, 12, 31));
  EXPECT_EQ(prev.counted, H(10));
  Summary next = Summarize(h, ledger, D(2026, 1, 1));
  EXPECT_EQ(next.counted, H(80));

  // Leap-day anchored teacher: 2025-02-28 is cycle 0's last day, 2025-03-01 cycle 1's first.
  PolicyHistory per = History({{D(2000, 1, 1), PerTeacherPolicy()}});
  TeacherFacts t;
  t.cycle_anchor = D(2020, 2, 29);
  std::vector<LedgerEntry> leap = {Credit("a", D(2020, 2, 29), 1), Credit("b", D(2025, 2, 28), 2),
                                   Credit("c", D(2025, 3, 1), 4)};
  EXPECT_EQ(Summarize(per, leap, D(2025, 2, 28), t).counted, H(3));
  EXPECT_EQ(Summarize(per, leap, D(2025, 3, 1), t).counted, H(4));
}

TEST(CountingTest, EntriesAfterAsOfDoNotCountYet) {
  PolicyHistory h = Base();
  std::vector<LedgerEntry> ledger = {Credit("a", D(2022, 1, 1), 10), Credit("b", D(2022, 1, 2), 5)};
  EXPECT_EQ(Summarize(h, ledger, D(2022, 1, 1)).counted, H(10));
  EXPECT_EQ(Summarize(h, ledger, D(2022, 1, 2)).counted, H(15));
}

TEST(CountingTest, HalfHourSteps) {
  PolicyHistory h = Base();
  std::vector<LedgerEntry> ledger;
  ledger.reserve(5);
  for (int i = 0; i < 5; ++i)
    ledger.push_back(Credit(absl::StrCat("e", i), D(2021, 2, 1 + i), 0.5));
  Summary s = Summarize(h, ledger, D(2021, 3, 1));
  EXPECT_EQ(s.counted, 5);
  v1::TrainingSummary wire;
  SummaryToProto(s, "t1", &wire);
  EXPECT_EQ(wire.counted_hours(), 2.5);
  EXPECT_EQ(wire.remaining_hours(), 357.5);
}

TEST(CountingTest, CreditedByLevelModeAndYear) {
  PolicyHistory h = Base();
  std::vector<LedgerEntry> ledger = {
      Credit("a", D(2021, 3, 1), 24, TRAINING_LEVEL_PROVINCE, TRAINING_MODE_FACE_TO_FACE),
      Credit("b", D(2021, 12, 31), 10, TRAINING_LEVEL_SCHOOL, TRAINING_MODE_SCHOOL_BASED),
      Credit("c", D(2022, 1, 1), 30.5, TRAINING_LEVEL_PROVINCE, TRAINING_MODE_ONLINE)};
  Summary s = Summarize(h, ledger, D(2022, 6, 1));
  EXPECT_EQ(s.credited, H(64.5));
  EXPECT_EQ(s.credited_by_level[TRAINING_LEVEL_PROVINCE], H(54.5));
  EXPECT_EQ(s.credited_by_level[TRAINING_LEVEL_SCHOOL], H(10));
  EXPECT_EQ(s.credited_by_mode[TRAINING_MODE_ONLINE], H(30.5));
  ASSERT_EQ(s.years.size(), 5u);
  EXPECT_EQ(s.years[0].window.first, D(2021, 1, 1));
  EXPECT_EQ(s.years[0].window.last, D(2021, 12, 31));
  EXPECT_EQ(s.years[0].credited, H(34));
  EXPECT_EQ(s.years[1].credited, H(30.5));
  EXPECT_TRUE(s.years[0].finished);
  EXPECT_FALSE(s.years[1].finished);
}

TEST(CountingTest, YearlyMinimumFlags) {
  PolicyHistory h = Base();
  std::vector<LedgerEntry> ledger = {Credit("y1", D(2021, 12, 31), 72),
                                     Credit("y2", D(2022, 5, 1), 71.5)};
  // During year 2 its shortfall is not yet a failure.
  Summary during = Summarize(h, ledger, D(2022, 12, 30));
  EXPECT_TRUE(during.years[0].minimum_met);
  EXPECT_FALSE(during.years[1].minimum_met);
  EXPECT_FALSE(during.years[1].finished);
  EXPECT_TRUE(during.yearly_minimum_met);
  // On year 2's last day it is finished and short by half an hour.
  Summary end = Summarize(h, ledger, D(2022, 12, 31));
  EXPECT_TRUE(end.years[1].finished);
  EXPECT_FALSE(end.yearly_minimum_met);
  // The flag sits beside the status, not in it.
  EXPECT_EQ(end.status, Summarize(h, ledger, D(2022, 12, 30)).status);

  // Per-teacher years count from the anchor: for a 2020-02-29 anchor, year 1 ends 2021-02-28.
  PolicyHistory per = History({{D(2000, 1, 1), PerTeacherPolicy()}});
  TeacherFacts t;
  t.cycle_anchor = D(2020, 2, 29);
  Summary leap = Summarize(per, {Credit("a", D(2021, 2, 28), 72), Credit("b", D(2021, 3, 1), 1)},
                           D(2021, 3, 1), t);
  EXPECT_EQ(leap.years[0].counted, H(72));
  EXPECT_EQ(leap.years[1].counted, H(1));
  EXPECT_TRUE(leap.years[0].finished);
  EXPECT_TRUE(leap.yearly_minimum_met);
}

TEST(CountingTest, HeadTeacherFlag) {
  PolicyHistory h = Base();
  LedgerEntry ht = Credit("ht", D(2021, 4, 1), 29.5);
  ht.head_teacher = true;
  TeacherFacts t;
  t.head_teacher = true;
  Summary s = Summarize(h, {ht, Credit("other", D(2021, 4, 2), 50)}, D(2021, 6, 1), t);
  EXPECT_TRUE(s.head_teacher);
  EXPECT_EQ(s.head_teacher_required, H(30));
  EXPECT_EQ(s.head_teacher_counted, H(29.5));
  EXPECT_FALSE(s.head_teacher_met);
  EXPECT_EQ(s.counted, H(79.5));  // head teacher training counts toward the cycle too
  ht.half_hours = H(30);
  EXPECT_TRUE(Summarize(h, {ht}, D(2021, 6, 1), t).head_teacher_met);
}

TEST(CountingTest, PendingAndInductionApart) {
  PolicyHistory h = Base();
  LedgerEntry induction = Credit("ind", D(2021, 8, 20), 100);
  induction.induction = true;
  LedgerEntry induction_old = Credit("ind0", D(2020, 8, 20), 20);
  induction_old.induction = true;
  TeacherFacts t;
  t.hire_date = D(2020, 8, 1);
  std::vector<PendingRecord> pending = {{D(2021, 9, 1), H(12), false},
                                        {D(2020, 12, 31), H(6), false},  // previous cycle
                                        {D(2021, 9, 2), H(8), true}};    // induction
  Summary s = Summarize(h, {induction, induction_old, Credit("a", D(2021, 9, 3), 10)},
                        D(2021, 10, 1), t, pending);
  EXPECT_EQ(s.counted, H(10));
  EXPECT_EQ(s.credited, H(10));
  EXPECT_EQ(s.pending, H(12));
  EXPECT_EQ(s.induction, H(120));
  EXPECT_EQ(s.induction_required, H(120));
  EXPECT_TRUE(s.induction_met);

  // Induction required from the version in force on the hire date.
  TrainingPolicy old = BasePolicy();
  old.set_induction_hours(100);
  PolicyHistory h2 = History({{D(2019, 1, 1), old}, {D(2021, 1, 1), BasePolicy()}});
  EXPECT_EQ(Summarize(h2, {}, D(2021, 10, 1), t).induction_required, H(100));
  EXPECT_EQ(Summarize(h2, {}, D(2021, 10, 1)).induction_required, 0);  // hire date unknown
}

// ---------------------------------------------------------------------------------------------
// Caps across versions.

TEST(CapsTest, LoweredCapNeverTakesHoursBack) {
  TrainingPolicy v1p = BasePolicy();
  AddCap(&v1p, "online", 100, {TRAINING_MODE_ONLINE});
  TrainingPolicy v2p = BasePolicy();
  AddCap(&v2p, "online", 50, {TRAINING_MODE_ONLINE});
  PolicyHistory h = History({{D(2021, 1, 1), v1p}, {D(2022, 1, 1), v2p}});
  std::vector<LedgerEntry> ledger = {
      // Listed out of date order: the rules take them by date.
      Credit("late", D(2022, 6, 1), 20, TRAINING_LEVEL_COUNTY, TRAINING_MODE_ONLINE),
      Credit("early", D(2021, 6, 1), 80, TRAINING_LEVEL_COUNTY, TRAINING_MODE_ONLINE),
      Credit("f2f", D(2022, 7, 1), 20, TRAINING_LEVEL_COUNTY, TRAINING_MODE_FACE_TO_FACE)};
  Summary s = Summarize(h, ledger, D(2023, 1, 1));
  ASSERT_EQ(s.entries.size(), 3u);
  EXPECT_EQ(s.entries[0].id, "early");
  EXPECT_EQ(s.entries[0].counted, H(80));  // counted under v1, kept under v2
  EXPECT_EQ(s.entries[1].id, "late");
  EXPECT_EQ(s.entries[1].counted, 0);      // no room left under v2's 50
  EXPECT_EQ(s.entries[2].counted, H(20));  // other modes unaffected
  EXPECT_EQ(s.counted, H(100));
  EXPECT_EQ(s.credited, H(120));
}

TEST(CapsTest, RaisedCapGivesRoomOnlyFromItsDate) {
  TrainingPolicy v1p = BasePolicy();
  AddCap(&v1p, "online", 50, {TRAINING_MODE_ONLINE});
  TrainingPolicy v2p = BasePolicy();
  AddCap(&v2p, "online", 120, {TRAINING_MODE_ONLINE});
  PolicyHistory h = History({{D(2021, 1, 1), v1p}, {D(2022, 1, 1), v2p}});
  std::vector<LedgerEntry> ledger = {
      Credit("a", D(2021, 6, 1), 80, TRAINING_LEVEL_COUNTY, TRAINING_MODE_ONLINE),
      Credit("b", D(2022, 1, 1), 80, TRAINING_LEVEL_COUNTY, TRAINING_MODE_ONLINE)};
  Summary s = Summarize(h, ledger, D(2023, 1, 1));
  EXPECT_EQ(s.entries[0].counted, H(50));  // cut under v1; not restored by v2
  EXPECT_EQ(s.entries[1].counted, H(70));  // 120 - 50 on v2's first day
  EXPECT_EQ(s.counted, H(120));
  // Year 1 holds what counted then.
  EXPECT_EQ(s.years[0].counted, H(50));
  EXPECT_EQ(s.years[0].credited, H(80));
}

TEST(CapsTest, ActivityCapAndSameDayLedgerOrder) {
  TrainingPolicy p = BasePolicy();
  AddCap(&p, "degree", 100, {}, "degree_study");
  PolicyHistory h = History({{D(2021, 1, 1), p}});
  std::vector<LedgerEntry> ledger = {
      Credit("d1", D(2021, 6, 1), 60, TRAINING_LEVEL_PROVINCE, TRAINING_MODE_BLENDED,
             "degree_study"),
      Credit("d2", D(2021, 6, 1), 60, TRAINING_LEVEL_PROVINCE, TRAINING_MODE_BLENDED,
             "degree_study"),
      Credit("c", D(2021, 6, 1), 60, TRAINING_LEVEL_PROVINCE, TRAINING_MODE_BLENDED, "course")};
  Summary s = Summarize(h, ledger, D(2021, 7, 1));
  EXPECT_EQ(s.entries[0].id, "d1");
  EXPECT_EQ(s.entries[0].counted, H(60));
  EXPECT_EQ(s.entries[1].id, "d2");
  EXPECT_EQ(s.entries[1].counted, H(40));
  EXPECT_EQ(s.entries[2].counted, H(60));
  EXPECT_EQ(s.counted, H(160));
}

TEST(CapsTest, MinimumsCountHoursAfterCaps) {
  TrainingPolicy p = BasePolicy();
  AddCap(&p, "online", 100, {TRAINING_MODE_ONLINE});
  AddCountyOrAboveMinimum(&p, 180);
  PolicyHistory h = History({{D(2021, 1, 1), p}});
  Summary s =
      Summarize(h, {Credit("a", D(2021, 6, 1), 200, TRAINING_LEVEL_NATIONAL, TRAINING_MODE_ONLINE)},
                D(2021, 7, 1));
  EXPECT_EQ(s.minimums[0].counted, H(100));
  EXPECT_FALSE(s.minimums[0].met);
}

// ---------------------------------------------------------------------------------------------
// Credits.

TEST(CreditsTest, ExactNotRoundedPerEntry) {
  TrainingPolicy p = BasePolicy();
  UseCredits(&p);
  PolicyHistory h = History({{D(2021, 1, 1), p}});
  Summary seven = Summarize(h, {Credit("a", D(2021, 3, 1), 7)}, D(2021, 4, 1));
  EXPECT_TRUE(seven.counts_credits);
  EXPECT_TRUE(seven.credits == MakeFraction(7, 6));
  v1::TrainingSummary wire;
  SummaryToProto(seven, "t", &wire);
  EXPECT_EQ(wire.credits(), 1.17);

  // Three 1-hour face-to-face entries are exactly half a credit (0.17 × 3 would be 0.51).
  std::vector<LedgerEntry> ledger = {Credit("a", D(2021, 3, 1), 1), Credit("b", D(2021, 3, 2), 1),
                                     Credit("c", D(2021, 3, 3), 1)};
  Summary s = Summarize(h, ledger, D(2021, 4, 1));
  EXPECT_TRUE(s.credits == MakeFraction(1, 2));
  SummaryToProto(s, "t", &wire);
  EXPECT_EQ(wire.credits(), 0.5);

  // 7 h face-to-face + 8.5 h online = 7/6 + 17/16 = 107/48.
  Summary mixed =
      Summarize(h,
                {Credit("a", D(2021, 3, 1), 7),
                 Credit("b", D(2021, 3, 2), 8.5, TRAINING_LEVEL_SCHOOL, TRAINING_MODE_ONLINE)},
                D(2021, 4, 1));
  EXPECT_TRUE(mixed.credits == MakeFraction(107, 48));

  // Not counting credits: none reported.
  Summary none = Summarize(Base(), {Credit("a", D(2021, 3, 1), 7)}, D(2021, 4, 1));
  EXPECT_FALSE(none.counts_credits);
  EXPECT_EQ(none.credits.num, 0);
}

TEST(CreditsTest, DegreeStudyCapInDateOrder) {
  TrainingPolicy p = BasePolicy();
  UseCredits(&p);
  PolicyHistory h = History({{D(2021, 1, 1), p}});
  // 100 h online degree study = 12.5 credits each; the cap of 20 leaves 7.5 for the second.
  std::vector<LedgerEntry> ledger = {Credit("d2", D(2022, 3, 1), 100, TRAINING_LEVEL_PROVINCE,
                                            TRAINING_MODE_ONLINE, "degree_study"),
                                     Credit("d1", D(2021, 3, 1), 100, TRAINING_LEVEL_PROVINCE,
                                            TRAINING_MODE_ONLINE, "degree_study"),
                                     Credit("c", D(2022, 4, 1), 12, TRAINING_LEVEL_PROVINCE,
                                            TRAINING_MODE_FACE_TO_FACE, "course")};
  Summary s = Summarize(h, ledger, D(2022, 6, 1));
  EXPECT_EQ(s.entries[0].id, "d1");
  EXPECT_TRUE(s.entries[0].credits == MakeFraction(25, 2));
  EXPECT_TRUE(s.entries[1].credits == MakeFraction(15, 2));
  EXPECT_TRUE(s.entries[2].credits == MakeFraction(2, 1));
  EXPECT_TRUE(s.credits == MakeFraction(22, 1));
  // Hours are not capped by the credit cap.
  EXPECT_EQ(s.counted, H(212));
}

TEST(CreditsTest, CreditsFollowHourCaps) {
  TrainingPolicy p = BasePolicy();
  UseCredits(&p);
  AddCap(&p, "online", 4, {TRAINING_MODE_ONLINE});
  PolicyHistory h = History({{D(2021, 1, 1), p}});
  Summary s =
      Summarize(h, {Credit("a", D(2021, 3, 1), 10, TRAINING_LEVEL_SCHOOL, TRAINING_MODE_ONLINE)},
                D(2021, 4, 1));
  EXPECT_EQ(s.counted, H(4));
  EXPECT_TRUE(s.credits == MakeFraction(1, 2));
}

// ---------------------------------------------------------------------------------------------
// Reversal.

TEST(ReversalTest, RemovesTheCreditAndFreesItsRoom) {
  TrainingPolicy p = BasePolicy();
  AddCap(&p, "online", 100, {TRAINING_MODE_ONLINE});
  PolicyHistory h = History({{D(2021, 1, 1), p}});
  std::vector<LedgerEntry> ledger = {
      Credit("e1", D(2021, 3, 1), 80, TRAINING_LEVEL_COUNTY, TRAINING_MODE_ONLINE),
      Credit("e2", D(2021, 4, 1), 40, TRAINING_LEVEL_COUNTY, TRAINING_MODE_ONLINE)};
  Summary before = Summarize(h, ledger, D(2021, 6, 1));
  EXPECT_EQ(before.counted, H(100));
  EXPECT_EQ(before.credited, H(120));

  absl::StatusOr<LedgerEntry> rev = MakeReversal(ledger, "e1", "r1");
  ASSERT_TRUE(rev.ok()) << rev.status();
  EXPECT_EQ(rev->half_hours, -H(80));
  EXPECT_EQ(rev->reverses, "e1");
  EXPECT_EQ(rev->date, D(2021, 3, 1));
  EXPECT_EQ(rev->mode, TRAINING_MODE_ONLINE);
  ledger.push_back(*rev);

  Summary after = Summarize(h, ledger, D(2021, 6, 1));
  EXPECT_EQ(after.credited, H(40));
  EXPECT_EQ(after.counted, H(40));  // e2 now has the room e1 took
  ASSERT_EQ(after.entries.size(), 1u);
  EXPECT_EQ(after.entries[0].id, "e2");
  EXPECT_EQ(after.years[0].credited, H(40));

  // The reversal of a credit in the previous cycle leaves this cycle alone, whatever its date.
  ledger.push_back(Credit("old", D(2020, 6, 1), 30));
  LedgerEntry old_rev = *MakeReversal(ledger, "old", "r2");
  old_rev.date = D(2021, 5, 1);
  ledger.push_back(old_rev);
  EXPECT_EQ(Summarize(h, ledger, D(2021, 6, 1)).counted, H(40));
  EXPECT_EQ(Summarize(h, ledger, D(2020, 12, 31)).counted, 0);
}

TEST(ReversalTest, OnlyOnceOnlyCreditsWhole) {
  std::vector<LedgerEntry> ledger = {Credit("e1", D(2021, 3, 1), 8)};
  EXPECT_EQ(MakeReversal(ledger, "nope", "r").status().code(), absl::StatusCode::kNotFound);
  ledger.push_back(*MakeReversal(ledger, "e1", "r1"));
  absl::StatusOr<LedgerEntry> again = MakeReversal(ledger, "e1", "r2");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Mentions(again.status(), "r1"));
  EXPECT_EQ(MakeReversal(ledger, "r1", "r3").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(ValidateLedger(ledger).ok());

  // A ledger that breaks the rules is refused, naming the entry.
  std::vector<LedgerEntry> partial = {Credit("e1", D(2021, 3, 1), 8)};
  LedgerEntry half = *MakeReversal(partial, "e1", "r1");
  half.half_hours = -H(4);
  partial.push_back(half);
  absl::Status s = ValidateLedger(partial);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(s, "ledger[r1]"));
  EXPECT_FALSE(ComputeSummary(Base(), {}, partial, {}, D(2021, 6, 1)).ok());

  std::vector<LedgerEntry> twice = ledger;
  LedgerEntry second = ledger[1];
  second.id = "r2";
  twice.push_back(second);
  EXPECT_TRUE(Mentions(ValidateLedger(twice), "reversed twice"));

  std::vector<LedgerEntry> dup = {Credit("e1", D(2021, 3, 1), 8), Credit("e1", D(2021, 3, 2), 8)};
  EXPECT_TRUE(Mentions(ValidateLedger(dup), "used twice"));

  std::vector<LedgerEntry> dangling = {*MakeReversal({Credit("x", D(2021, 1, 1), 1)}, "x", "r")};
  EXPECT_TRUE(Mentions(ValidateLedger(dangling), "ledger[r].reverses"));

  std::vector<LedgerEntry> no_mode = {Credit("e1", D(2021, 3, 1), 8)};
  no_mode[0].mode = common::v1::TRAINING_MODE_UNSPECIFIED;
  EXPECT_TRUE(Mentions(ValidateLedger(no_mode), "ledger[e1].mode"));
}

// ---------------------------------------------------------------------------------------------
// The wire, completions and the report.

TEST(WireTest, SummaryToProto) {
  TrainingPolicy p = BasePolicy();
  AddCountyOrAboveMinimum(&p, 180);
  PolicyHistory h = History({{D(2021, 1, 1), p}});
  Summary s =
      Summarize(h,
                {Credit("a", D(2021, 2, 1), 100, TRAINING_LEVEL_COUNTY),
                 Credit("b", D(2021, 2, 2), 0.5, TRAINING_LEVEL_SCHOOL, TRAINING_MODE_ONLINE)},
                D(2021, 12, 31));
  v1::TrainingSummary w;
  SummaryToProto(s, "t42", &w);
  EXPECT_EQ(w.teacher_id(), "t42");
  EXPECT_EQ(w.as_of(), "2021-12-31");
  EXPECT_EQ(w.cycle().first_day(), "2021-01-01");
  EXPECT_EQ(w.cycle().last_day(), "2025-12-31");
  EXPECT_EQ(w.cycle().days(), 1826);
  EXPECT_EQ(w.cycle().elapsed_days(), 365);
  EXPECT_EQ(w.cycle().days_left(), 1461);
  EXPECT_EQ(w.cycle().kind(), CYCLE_KIND_FIXED);
  EXPECT_EQ(w.credited_hours(), 100.5);
  EXPECT_EQ(w.counted_hours(), 100.5);
  EXPECT_EQ(w.required_hours(), 360);
  EXPECT_EQ(w.remaining_hours(), 259.5);
  EXPECT_EQ(w.expected_hours(), 71.96);  // 360 × 365 / 1826 = 71.960...
  ASSERT_EQ(w.minimums_size(), 1);
  EXPECT_EQ(w.minimums(0).expected_hours(), 35.98);  // 180 × 365 / 1826 = 35.980...
  EXPECT_EQ(w.minimums(0).counted_hours(), 100);
  EXPECT_EQ(w.status(), v1::TRAINING_STATUS_ON_TRACK);
  EXPECT_EQ(w.years_size(), 5);
  EXPECT_TRUE(w.years(0).finished());
  EXPECT_TRUE(w.years(0).minimum_met());
  EXPECT_EQ(w.credited_by_level_size(), 2);
  EXPECT_EQ(w.shortfall_hours(), 259.5);
  EXPECT_FALSE(w.counts_credits());
}

TEST(CompletionTest, HoursAndDatesWithinTheCourse) {
  const absl::CivilDay start = D(2024, 7, 1), end = D(2024, 7, 5);
  EXPECT_TRUE(CheckCompletion(H(24), start, end, H(24), end, "rows[0]").ok());
  EXPECT_TRUE(CheckCompletion(H(24), start, end, H(0.5), start, "rows[0]").ok());
  absl::Status over = CheckCompletion(H(24), start, end, H(24.5), end, "rows[7]");
  EXPECT_EQ(over.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(over, "rows[7].hours"));
  EXPECT_TRUE(Mentions(over, "24"));
  EXPECT_TRUE(Mentions(CheckCompletion(H(24), start, end, 0, end, "rows[1]"), "rows[1].hours"));
  absl::Status early = CheckCompletion(H(24), start, end, H(8), start - 1, "rows[2]");
  EXPECT_TRUE(Mentions(early, "rows[2].completed_on"));
  EXPECT_TRUE(Mentions(early, "2024-07-01"));
  EXPECT_TRUE(Mentions(CheckCompletion(H(24), start, end, H(8), end + 1, "rows[2]"),
                       "rows[2].completed_on"));
}

TEST(ReportTest, ShortfallOrderAndCompletion) {
  std::vector<ShortfallKey> keys = {{H(10), "t3"}, {H(200), "t9"}, {H(10), "t1"}, {0, "t0"}};
  std::sort(keys.begin(), keys.end(), ShortfallOrder);
  EXPECT_EQ(keys[0].teacher_id, "t9");
  EXPECT_EQ(keys[1].teacher_id, "t1");
  EXPECT_EQ(keys[2].teacher_id, "t3");
  EXPECT_EQ(keys[3].teacher_id, "t0");
  EXPECT_TRUE(NeedsAttention(v1::TRAINING_STATUS_AT_RISK));
  EXPECT_TRUE(NeedsAttention(v1::TRAINING_STATUS_BEHIND));
  EXPECT_FALSE(NeedsAttention(v1::TRAINING_STATUS_ON_TRACK));
  EXPECT_FALSE(NeedsAttention(v1::TRAINING_STATUS_COMPLETE));
  EXPECT_EQ(RoundTo2(CompletionPercent(1, 3)), 33.33);
  EXPECT_EQ(RoundTo2(CompletionPercent(2, 3)), 66.67);
  EXPECT_EQ(RoundTo2(CompletionPercent(0, 0)), 0);
  EXPECT_TRUE(CompletionPercent(10000, 10000) == MakeFraction(100, 1));
}

// ---------------------------------------------------------------------------------------------
// Running totals: the tally kept at write time counts exactly what the whole ledger counts.

namespace tally_kit {

// A small deterministic generator (the same ledgers on every run).
struct Lcg {
  uint64_t state;
  int Next(int n) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<int>((state >> 33) % static_cast<uint64_t>(n));
  }
};

// Overlapping caps that bind (so order matters), a cap lowered mid-cycle, a minimum, credits with
// an activity cap: everything the scan's order decides.
PolicyHistory CappedHistory() {
  TrainingPolicy v1p = PerTeacherPolicy();
  AddCap(&v1p, "online", 60, {TRAINING_MODE_ONLINE});
  AddCap(&v1p, "degree", 50, {}, "degree_study");
  AddCountyOrAboveMinimum(&v1p, 180);
  UseCredits(&v1p);
  TrainingPolicy v2p = v1p;
  v2p.mutable_caps()->mutable_rules(0)->set_hours(40);
  common::v1::HourRule* school = v2p.mutable_caps()->add_rules();
  school->set_name("school");
  school->set_hours(70);
  school->add_levels(TRAINING_LEVEL_SCHOOL);
  return History({{D(2000, 1, 1), v1p}, {D(2023, 3, 15), v2p}});
}

LedgerEntry RandomCredit(Lcg& rng, int i, absl::CivilDay date) {
  const TrainingLevel levels[] = {TRAINING_LEVEL_NATIONAL, TRAINING_LEVEL_COUNTY,
                                  TRAINING_LEVEL_SCHOOL};
  const TrainingMode modes[] = {TRAINING_MODE_FACE_TO_FACE, TRAINING_MODE_ONLINE,
                                TRAINING_MODE_BLENDED};
  const char* activities[] = {"course", "degree_study", "conference"};
  LedgerEntry e = Credit(absl::StrCat("e", i), date, 0.5 * (1 + rng.Next(60)), levels[rng.Next(3)],
                         modes[rng.Next(3)], activities[rng.Next(3)]);
  e.induction = rng.Next(10) == 0;
  e.head_teacher = rng.Next(4) == 0;
  return e;
}

void ExpectSameSummary(const Summary& a, const Summary& b, const std::string& where) {
  v1::TrainingSummary pa, pb;
  SummaryToProto(a, "T", &pa);
  SummaryToProto(b, "T", &pb);
  EXPECT_EQ(pa.SerializeAsString(), pb.SerializeAsString())
      << where << "\nfrom tally:  " << pa.DebugString() << "\nfrom ledger: " << pb.DebugString();
}

}  // namespace tally_kit

TEST(TallyTest, AdvancingMatchesCountingTheWholeLedger) {
  using namespace tally_kit;  // NOLINT
  PolicyHistory h = CappedHistory();
  TeacherFacts teacher;
  teacher.cycle_anchor = D(2020, 2, 29);  // cycles 2020-02-29..2025-02-28, 2025-03-01..
  teacher.hire_date = D(2020, 2, 29);
  teacher.head_teacher = true;
  int fast = 0, recounts = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    Lcg rng{seed};
    std::vector<LedgerEntry> ledger;
    absl::CivilDay today = D(2019, 6, 1);
    absl::StatusOr<Tally> tally = TallyFromLedger(h, teacher, ledger, today);
    ASSERT_TRUE(tally.ok()) << tally.status();
    for (int i = 0; i < 60; ++i) {
      today += rng.Next(60);  // the write day moves on, across cycle boundaries
      // Mostly in date order, sometimes back-dated (a late confirmation).
      absl::CivilDay date = today - (rng.Next(5) == 0 ? rng.Next(400) : rng.Next(3));
      LedgerEntry e = RandomCredit(rng, i, date);
      absl::StatusOr<std::optional<Tally>> next = AdvanceTally(h, teacher, *tally, e, today);
      ASSERT_TRUE(next.ok()) << next.status();
      ledger.push_back(e);
      absl::StatusOr<Tally> recount = TallyFromLedger(h, teacher, ledger, today);
      ASSERT_TRUE(recount.ok()) << recount.status();
      if (next->has_value()) {
        ++fast;
        tally = **next;
        EXPECT_EQ(EncodeTally(*tally), EncodeTally(*recount)) << "seed " << seed << " entry " << i;
      } else {
        ++recounts;
        tally = *recount;
      }
      // Any later as-of in the same cycle: the summary from the tally is the ledger's.
      for (int later : {0, 1, 200}) {
        absl::CivilDay as_of = today + later;
        absl::StatusOr<std::optional<Summary>> from_tally =
            SummaryFromTally(h, teacher, *tally, {}, as_of);
        ASSERT_TRUE(from_tally.ok()) << from_tally.status();
        Summary from_ledger = Summarize(h, ledger, as_of, teacher);
        if (!from_tally->has_value()) {
          EXPECT_NE(from_ledger.cycle.window.first, tally->window.first);  // only a new cycle
          continue;
        }
        ExpectSameSummary(**from_tally, from_ledger,
                          absl::StrCat("seed ", seed, " entry ", i, " +", later));
        // And the report's row gives the same standing.
        ReportRow row = ReportRowOf(**from_tally, *tally, teacher);
        absl::StatusOr<ReportRow> decoded = DecodeReportRow(EncodeReportRow(row));
        ASSERT_TRUE(decoded.ok()) << decoded.status();
        std::optional<Standing> standing = StandingFromRow(h, *decoded, as_of);
        ASSERT_TRUE(standing.has_value());
        Standing want = StandingOf(from_ledger);
        EXPECT_EQ(standing->status, want.status);
        EXPECT_EQ(standing->counted, want.counted);
        EXPECT_EQ(standing->shortfall, want.shortfall);
        EXPECT_TRUE(standing->expected == want.expected);
        EXPECT_TRUE(standing->credits == want.credits);
        EXPECT_EQ(standing->days_left, want.days_left);
      }
    }
  }
  // Both paths were exercised, the fast one most of the time.
  EXPECT_GT(fast, recounts);
  EXPECT_GT(recounts, 0);
}

TEST(TallyTest, WhatNeedsARecount) {
  using namespace tally_kit;  // NOLINT
  PolicyHistory h = CappedHistory();
  TeacherFacts teacher;
  teacher.cycle_anchor = D(2021, 1, 1);
  std::vector<LedgerEntry> ledger = {Credit("a", D(2022, 5, 1), 10)};
  absl::StatusOr<Tally> t = TallyFromLedger(h, teacher, ledger, D(2022, 6, 1));
  ASSERT_TRUE(t.ok());
  // Back-dated before a credit already taken: the caps' order may change.
  auto back = AdvanceTally(h, teacher, *t, Credit("b", D(2022, 4, 30), 10), D(2022, 6, 1));
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->has_value());
  // The same day as the latest is fine (ledger order within a day).
  auto same = AdvanceTally(h, teacher, *t, Credit("c", D(2022, 5, 1), 10), D(2022, 6, 1));
  ASSERT_TRUE(same.ok() && same->has_value());
  EXPECT_EQ((*same)->ledger_length, 2);
  // A reversal.
  LedgerEntry reversal = Credit("x", D(2022, 5, 1), 10);
  reversal.half_hours = -reversal.half_hours;
  reversal.reverses = "a";
  auto reversed = AdvanceTally(h, teacher, *t, reversal, D(2022, 6, 1));
  ASSERT_TRUE(reversed.ok());
  EXPECT_FALSE(reversed->has_value());
  // A credit before the cycle only moves the latest date.
  auto before = AdvanceTally(h, teacher, *t, Credit("d", D(2020, 5, 1), 10), D(2022, 6, 1));
  ASSERT_TRUE(before.ok() && before->has_value());
  EXPECT_EQ(EncodeTally(**before).find("b,"), EncodeTally(*t).find("b,"));
  // A row from an unknown text is refused, not misread.
  EXPECT_FALSE(DecodeTally("w,1").ok());
  EXPECT_FALSE(DecodeTally("w,1,2;b,1,1,course,0,2025,48,48,1,1,9").ok());  // a field too many
  EXPECT_FALSE(DecodeReportRow("1|2|3").ok());
  absl::StatusOr<Tally> round = DecodeTally(EncodeTally(**same));
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(EncodeTally(*round), EncodeTally(**same));
}

// Field checks give each bad field as it is: field, rule and what is allowed.
TEST(FieldProblemTest, CompletionRowsNameTheirFieldAndRule) {
  const absl::CivilDay start = D(2024, 7, 1), end = D(2024, 7, 5);
  EXPECT_FALSE(CompletionProblem(H(24), start, end, H(24), end, "rows[0]").has_value());
  std::optional<FieldProblem> over = CompletionProblem(H(24), start, end, H(24.5), end, "rows[7]");
  ASSERT_TRUE(over.has_value());
  EXPECT_EQ(over->field, "rows[7].hours");
  EXPECT_EQ(over->rule, "within_course");
  EXPECT_NE(over->message.find("24"), std::string::npos);
  std::optional<FieldProblem> late = CompletionProblem(H(24), start, end, H(8), end + 1, "rows[2]");
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->field, "rows[2].completed_on");
  std::optional<FieldProblem> hours = WireHoursProblem(0.25, "rows[3].hours");
  ASSERT_TRUE(hours.has_value());
  EXPECT_EQ(hours->field, "rows[3].hours");
  EXPECT_EQ(hours->rule, "hours");
  EXPECT_FALSE(WireHoursProblem(1.5, "rows[3].hours").has_value());
}

TEST(FieldProblemTest, TitlesCountCharactersNotBytes) {
  std::string chinese;
  for (int i = 0; i < 200; ++i) chinese += "课";  // 3 bytes each
  EXPECT_TRUE(TitleLengthOk(chinese));
  EXPECT_FALSE(TitleLengthOk(chinese + "课"));
  EXPECT_TRUE(TitleLengthOk(std::string(200, 'a')));
  EXPECT_FALSE(TitleLengthOk(std::string(201, 'a')));
  EXPECT_FALSE(TitleLengthOk(""));
}

TEST(FieldProblemTest, CourseAndLoggedTrainingListEveryBadField) {
  v1::Course course;
  course.set_title("新课标解读");
  course.set_provider_id("P1");
  course.set_level(TRAINING_LEVEL_COUNTY);
  course.set_mode(TRAINING_MODE_FACE_TO_FACE);
  course.set_hours(24);
  course.set_start_date("2025-10-01");
  course.set_end_date("2025-10-20");
  course.set_capacity(30);
  course.add_open_regions("330723");
  EXPECT_TRUE(CourseProblems(course).empty());
  course.set_end_date("2025-09-30");
  course.add_open_regions("33072");
  FieldProblems bad = CourseProblems(course);
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad[0].field, "course.end_date");
  EXPECT_EQ(bad[0].rule, "after_start");
  EXPECT_EQ(bad[1].field, "course.open_regions[1]");
  EXPECT_EQ(bad[1].rule, "region_code");

  v1::LogTrainingRequest log;
  log.set_hours(30);
  log.set_completed_on("2025-10-10");
  course.set_end_date("2025-10-20");
  FieldProblems logged = LoggedTrainingProblems(log, &course, false, "330781", D(2025, 11, 25));
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_EQ(logged[0].field, "course_id");
  EXPECT_EQ(logged[0].rule, "not_open");
  EXPECT_NE(logged[0].message.find("330781"), std::string::npos);
  EXPECT_EQ(logged[1].field, "hours");
  EXPECT_EQ(logged[1].rule, "within_course");
  log.set_completed_on("2025-12-01");
  logged = LoggedTrainingProblems(log, nullptr, false, "330781", D(2025, 11, 25));
  std::vector<std::string> fields;
  for (const FieldProblem& p : logged) fields.push_back(p.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"completed_on", "activity", "title", "level", "mode",
                                              "evidence.description", "evidence.file_ref"}));
}

}  // namespace
}  // namespace shidang::training
