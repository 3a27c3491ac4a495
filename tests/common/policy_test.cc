#include "services/common/policy.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/dates.h"
#include "services/common/violations.h"
#include "shidang/common/v1/event.pb.h"
#include "tests/kit/redis_server.h"

namespace shidang::policy {
namespace {

namespace pb = ::google::protobuf;
namespace v1 = ::shidang::common::v1;
using ::testing::HasSubstr;
using v1::POLICY_LEVEL_CITY;
using v1::POLICY_LEVEL_COUNTY;
using v1::POLICY_LEVEL_NATIONAL;
using v1::POLICY_LEVEL_PROVINCE;

absl::CivilDay D(int y, int m, int d) { return absl::CivilDay(y, m, d); }

PolicyVersion Version(PolicyLevel level, const std::string& region, const std::string& from,
                      const std::function<void(Policy&)>& fill) {
  PolicyVersion v;
  v.set_level(level);
  v.set_region(region);
  v.set_effective_from(from);
  fill(*v.mutable_policy());
  return v;
}

ResolvedPolicy MustResolve(absl::string_view county, const std::vector<PolicyVersion>& versions,
                           absl::CivilDay date) {
  absl::StatusOr<ResolvedPolicy> resolved = ResolvePolicy(county, versions, date);
  EXPECT_TRUE(resolved.ok()) << resolved.status();
  return resolved.ok() ? *resolved : ResolvedPolicy();
}

const PolicySource* SourceOf(const ResolvedPolicy& resolved, absl::string_view field) {
  for (const PolicySource& source : resolved.sources()) {
    if (source.field() == field) return &source;
  }
  return nullptr;
}

// Asserts where `field` came from.
void ExpectSource(const ResolvedPolicy& resolved, absl::string_view field, PolicyLevel level,
                  absl::string_view region, absl::string_view effective_from) {
  const PolicySource* source = SourceOf(resolved, field);
  ASSERT_NE(source, nullptr) << "no source for " << field;
  EXPECT_EQ(source->level(), level) << field;
  EXPECT_EQ(source->region(), region) << field;
  EXPECT_EQ(source->effective_from(), effective_from) << field;
}

bool Same(const pb::Message& a, const pb::Message& b) {
  return pb::util::MessageDifferencer::Equals(a, b);
}

// ---------------------------------------------------------------------------------------------
// National defaults

// The national retirement and ethics defaults (DOMAIN §1, §5).
void ExpectNationalRetirementAndEthics(const Policy& p) {
  const auto& male = p.retirement().male();
  EXPECT_EQ(male.base_age_years(), 60);
  EXPECT_EQ(male.cohort_start_month(), "1965-01");
  EXPECT_EQ(male.months_per_step(), 4);
  EXPECT_EQ(male.max_delay_months(), 36);
  const auto& female = p.retirement().female();
  EXPECT_EQ(female.base_age_years(), 55);
  EXPECT_EQ(female.cohort_start_month(), "1970-01");
  EXPECT_EQ(female.months_per_step(), 4);
  EXPECT_EQ(female.max_delay_months(), 36);

  EXPECT_EQ(p.ethics().warning_months(), 6);
  EXPECT_EQ(p.ethics().demerit_months(), 12);
  EXPECT_EQ(p.ethics().demotion_months(), 24);
  EXPECT_EQ(p.ethics().dismissal_months(), 24);
}

// The national training defaults (DOMAIN §6).
void ExpectNationalTraining(const Policy& p) {
  const auto& t = p.training();
  EXPECT_EQ(t.cycle_kind(), v1::CYCLE_KIND_FIXED);
  EXPECT_EQ(t.cycle_years(), 5);
  EXPECT_EQ(t.fixed_cycle_start(), "2021-01-01");
  EXPECT_EQ(t.required_hours(), 360);
  EXPECT_EQ(t.induction_hours(), 120);
  EXPECT_EQ(t.yearly_minimum_hours(), 72);
  EXPECT_EQ(t.head_teacher_hours(), 30);
  EXPECT_EQ(t.grace_days(), 180);
  EXPECT_EQ(t.warn_days(), 180);
  // No minimums or caps nationally, but both set (as empty lists), so they resolve as "none".
  EXPECT_TRUE(t.has_minimums());
  EXPECT_EQ(t.minimums().rules_size(), 0);
  EXPECT_TRUE(t.has_caps());
  EXPECT_EQ(t.caps().rules_size(), 0);
  EXPECT_TRUE(t.has_counts_credits());
  EXPECT_FALSE(t.counts_credits());
  ASSERT_EQ(t.credit_rates().rates_size(), 4);
  std::map<int, double> rates;
  for (const auto& rate : t.credit_rates().rates()) rates[rate.mode()] = rate.hours_per_credit();
  EXPECT_EQ(rates[v1::TRAINING_MODE_FACE_TO_FACE], 6);
  EXPECT_EQ(rates[v1::TRAINING_MODE_ONLINE], 8);
  EXPECT_EQ(rates[v1::TRAINING_MODE_BLENDED], 8);
  EXPECT_EQ(rates[v1::TRAINING_MODE_SCHOOL_BASED], 8);
  ASSERT_EQ(t.credit_caps().caps_size(), 1);
  EXPECT_EQ(t.credit_caps().caps(0).activity(), "degree_study");
  EXPECT_EQ(t.credit_caps().caps(0).credits(), 20);
}

// The national rotation defaults.
void ExpectNationalRotation(const Policy& p) {
  const auto& r = p.rotation();
  EXPECT_EQ(r.min_years_at_school(), 6);
  EXPECT_EQ(r.leader_terms(), 2);
  EXPECT_EQ(r.leader_term_years(), 3);
  EXPECT_TRUE(r.has_retirement_exclusion_years());
  EXPECT_EQ(r.retirement_exclusion_years(), 0);
  EXPECT_EQ(r.ratio_percent(), 10);
  EXPECT_EQ(r.backbone_ratio_percent(), 20);
  EXPECT_EQ(r.school_year_start(), "09-01");
  EXPECT_EQ(r.min_duration_years(), 1);
  EXPECT_TRUE(r.count_only_eligible());
  std::vector<std::pair<std::string, std::string>> directions;
  for (const auto& d : r.counting_directions().directions()) {
    directions.emplace_back(d.from_kind(), d.to_kind());
  }
  EXPECT_THAT(
      directions,
      ::testing::ElementsAre(std::make_pair("URBAN", "RURAL"), std::make_pair("TOWN", "RURAL"),
                             std::make_pair("STRONG", "WEAK"), std::make_pair("CENTRAL", "VILLAGE"),
                             std::make_pair("CENTRAL", "TEACHING_POINT")));

  EXPECT_EQ(r.backbone_base(), v1::ROTATION_BACKBONE_BASE_GREATER_OF_COUNTING_AND_REQUIRED);
  EXPECT_TRUE(r.has_other_directions_count());
  EXPECT_FALSE(r.other_directions_count());
  EXPECT_THAT(
      r.counting_forms().forms(),
      ::testing::ElementsAre(v1::ROTATION_FORM_REGULAR_TRANSFER, v1::ROTATION_FORM_SECONDMENT,
                             v1::ROTATION_FORM_ITINERANT, v1::ROTATION_FORM_PAIRED_SUPPORT,
                             v1::ROTATION_FORM_SCHOOL_GROUP, v1::ROTATION_FORM_SCHOOL_DISTRICT));
}

// The national mentorship defaults.
void ExpectNationalMentorship(const Policy& p) {
  const auto& m = p.mentorship();
  EXPECT_EQ(m.new_teacher_years(), 5);
  EXPECT_EQ(m.mentor_min_title(), v1::PROFESSIONAL_TITLE_FIRST_GRADE);
  EXPECT_EQ(m.mentor_min_teaching_years(), 5);
  EXPECT_EQ(m.max_mentees(), 2);
  EXPECT_EQ(m.min_lessons_observed_per_term(), 8);
  EXPECT_EQ(m.min_lessons_coached_per_term(), 8);
  EXPECT_EQ(m.min_public_lessons_per_term(), 1);
  EXPECT_TRUE(m.has_backbone_qualifies());
  EXPECT_TRUE(m.backbone_qualifies());
  EXPECT_TRUE(m.has_min_guidance_sessions_per_term());
  EXPECT_EQ(m.min_guidance_sessions_per_term(), 0);
  EXPECT_EQ(m.evaluations_per_term(), 1);
  std::vector<std::string> term_starts;
  for (const auto& term : m.terms().terms()) term_starts.push_back(term.start());
  EXPECT_THAT(term_starts, ::testing::ElementsAre("09-01", "03-01"));
}

TEST(NationalDefaultsTest, EqualDomainNumbers) {
  const Policy& p = NationalDefaults();
  ExpectNationalRetirementAndEthics(p);
  ASSERT_NO_FATAL_FAILURE(ExpectNationalTraining(p));
  ExpectNationalRotation(p);
  ExpectNationalMentorship(p);
}

TEST(NationalDefaultsTest, SetEveryLeafAndPassValidation) {
  // A field added to policy.proto without a default would resolve to nothing.
  ResolvedPolicy resolved = MustResolve("440305", {}, D(2025, 6, 1));
  const std::vector<std::string> leaves = LeafFieldPaths();
  ASSERT_EQ(resolved.sources_size(), static_cast<int>(leaves.size()));
  for (int i = 0; i < resolved.sources_size(); ++i) {
    EXPECT_EQ(resolved.sources(i).field(), leaves[i]);
    EXPECT_EQ(resolved.sources(i).level(), POLICY_LEVEL_NATIONAL);
    EXPECT_EQ(resolved.sources(i).region(), "");
    EXPECT_EQ(resolved.sources(i).effective_from(), "");
    EXPECT_TRUE(resolved.sources(i).built_in()) << leaves[i];
  }
  EXPECT_TRUE(Same(resolved.policy(), NationalDefaults()));

  PolicyVersion national;
  national.set_level(POLICY_LEVEL_NATIONAL);
  national.set_effective_from("2025-01-01");
  *national.mutable_policy() = NationalDefaults();
  EXPECT_TRUE(ValidateVersion(national).ok()) << ValidateVersion(national);
}

TEST(LeafFieldPathsTest, ListsAreLeavesAndNestedRulesAreWalkedInto) {
  const std::vector<std::string> leaves = LeafFieldPaths();
  auto has = [&](const std::string& path) {
    return std::find(leaves.begin(), leaves.end(), path) != leaves.end();
  };
  EXPECT_TRUE(has("retirement.male.base_age_years"));
  EXPECT_TRUE(has("retirement.female.max_delay_months"));
  EXPECT_FALSE(has("retirement.male"));
  EXPECT_TRUE(has("training.minimums"));
  EXPECT_TRUE(has("training.credit_rates"));
  EXPECT_TRUE(has("rotation.counting_directions"));
  EXPECT_FALSE(has("training.minimums.rules"));
  EXPECT_TRUE(has("mentorship.mentor_min_title"));
  EXPECT_TRUE(has("rotation.counting_forms"));
  EXPECT_TRUE(has("mentorship.backbone_qualifies"));
  EXPECT_TRUE(has("mentorship.terms"));
  EXPECT_FALSE(has("mentorship.terms.terms"));
  EXPECT_EQ(leaves.size(), 8u + 4u + 14u + 13u + 11u);
}

// ---------------------------------------------------------------------------------------------
// Resolution (pure)

TEST(ResolvePolicyTest, MostLocalLevelWinsPerField) {
  const std::vector<PolicyVersion> versions = {
      Version(POLICY_LEVEL_PROVINCE, "440000", "2022-01-01",
              [](Policy& p) {
                p.mutable_training()->set_required_hours(400);
                p.mutable_training()->set_cycle_years(4);
              }),
      Version(POLICY_LEVEL_CITY, "440300", "2023-01-01",
              [](Policy& p) { p.mutable_training()->set_required_hours(380); }),
      Version(POLICY_LEVEL_COUNTY, "440305", "2023-06-01",
              [](Policy& p) { p.mutable_training()->set_grace_days(90); }),
      // Other regions never take part.
      Version(POLICY_LEVEL_COUNTY, "440306", "2020-01-01",
              [](Policy& p) { p.mutable_training()->set_warn_days(1); }),
      Version(POLICY_LEVEL_CITY, "440400", "2020-01-01",
              [](Policy& p) { p.mutable_training()->set_warn_days(2); }),
      Version(POLICY_LEVEL_PROVINCE, "320000", "2020-01-01",
              [](Policy& p) { p.mutable_training()->set_warn_days(3); }),
  };
  ResolvedPolicy r = MustResolve("440305", versions, D(2024, 1, 1));
  EXPECT_EQ(r.policy().training().required_hours(), 380);
  EXPECT_EQ(r.policy().training().cycle_years(), 4);
  EXPECT_EQ(r.policy().training().grace_days(), 90);
  EXPECT_EQ(r.policy().training().warn_days(), 180);
  ExpectSource(r, "training.required_hours", POLICY_LEVEL_CITY, "440300", "2023-01-01");
  ExpectSource(r, "training.cycle_years", POLICY_LEVEL_PROVINCE, "440000", "2022-01-01");
  ExpectSource(r, "training.grace_days", POLICY_LEVEL_COUNTY, "440305", "2023-06-01");
  ExpectSource(r, "training.warn_days", POLICY_LEVEL_NATIONAL, "", "");

  // A sibling county of the same city gets the city's and province's values, not 440305's.
  ResolvedPolicy sibling = MustResolve("440306", versions, D(2024, 1, 1));
  EXPECT_EQ(sibling.policy().training().required_hours(), 380);
  EXPECT_EQ(sibling.policy().training().grace_days(), 180);
  EXPECT_EQ(sibling.policy().training().warn_days(), 1);
  // A county of another city in the province gets that city's value and the province's hours.
  ResolvedPolicy other_city = MustResolve("440402", versions, D(2024, 1, 1));
  EXPECT_EQ(other_city.policy().training().required_hours(), 400);
  EXPECT_EQ(other_city.policy().training().warn_days(), 2);
}

TEST(ResolvePolicyTest, LatestVersionOnOrBeforeTheDateWinsAndLaterOnesAreIgnored) {
  auto hours = [](const char* from, double h) {
    return Version(POLICY_LEVEL_PROVINCE, "440000", from,
                   [h](Policy& p) { p.mutable_training()->set_required_hours(h); });
  };
  // Deliberately out of order.
  const std::vector<PolicyVersion> versions = {hours("2024-01-01", 420), hours("2026-01-01", 500),
                                               hours("2022-01-01", 400)};
  struct Case {
    absl::CivilDay date;
    double want;
    const char* from;
  };
  for (const Case& c :
       {Case{D(2021, 12, 31), 360, ""}, Case{D(2022, 1, 1), 400, "2022-01-01"},
        Case{D(2023, 12, 31), 400, "2022-01-01"}, Case{D(2024, 1, 1), 420, "2024-01-01"},
        Case{D(2025, 12, 31), 420, "2024-01-01"}, Case{D(2026, 1, 1), 500, "2026-01-01"}}) {
    ResolvedPolicy r = MustResolve("440305", versions, c.date);
    EXPECT_EQ(r.policy().training().required_hours(), c.want) << c.date;
    const PolicySource* source = SourceOf(r, "training.required_hours");
    ASSERT_NE(source, nullptr);
    EXPECT_EQ(source->effective_from(), c.from) << c.date;
    EXPECT_EQ(source->level(), c.from[0] ? POLICY_LEVEL_PROVINCE : POLICY_LEVEL_NATIONAL) << c.date;
  }
}

TEST(ResolvePolicyTest, AFutureLocalVersionLeavesTheUpperLevelInForce) {
  const std::vector<PolicyVersion> versions = {
      Version(POLICY_LEVEL_PROVINCE, "440000", "2021-01-01",
              [](Policy& p) { p.mutable_rotation()->set_ratio_percent(12); }),
      Version(POLICY_LEVEL_COUNTY, "440305", "2026-09-01",
              [](Policy& p) { p.mutable_rotation()->set_ratio_percent(15); }),
  };
  ResolvedPolicy before = MustResolve("440305", versions, D(2026, 8, 31));
  EXPECT_EQ(before.policy().rotation().ratio_percent(), 12);
  ExpectSource(before, "rotation.ratio_percent", POLICY_LEVEL_PROVINCE, "440000", "2021-01-01");
  ResolvedPolicy after = MustResolve("440305", versions, D(2026, 9, 1));
  EXPECT_EQ(after.policy().rotation().ratio_percent(), 15);
  ExpectSource(after, "rotation.ratio_percent", POLICY_LEVEL_COUNTY, "440305", "2026-09-01");
}

TEST(ResolvePolicyTest, AListIsReplacedWholeNeverMerged) {
  const std::vector<PolicyVersion> versions = {
      // Jiangsu-style: at least 180 hours at county level or above.
      Version(POLICY_LEVEL_PROVINCE, "320000", "2021-01-01",
              [](Policy& p) {
                auto* rule = p.mutable_training()->mutable_minimums()->add_rules();
                rule->set_name("county_or_above");
                rule->add_levels(v1::TRAINING_LEVEL_NATIONAL);
                rule->add_levels(v1::TRAINING_LEVEL_PROVINCE);
                rule->add_levels(v1::TRAINING_LEVEL_CITY);
                rule->add_levels(v1::TRAINING_LEVEL_COUNTY);
                rule->set_hours(180);
                auto* rate = p.mutable_training()->mutable_credit_rates()->add_rates();
                rate->set_mode(v1::TRAINING_MODE_ONLINE);
                rate->set_hours_per_credit(10);
              }),
      // One county sets its minimums to an explicit empty list: "none here".
      Version(POLICY_LEVEL_COUNTY, "320583", "2023-01-01",
              [](Policy& p) { p.mutable_training()->mutable_minimums(); }),
  };
  ResolvedPolicy r = MustResolve("320582", versions, D(2024, 1, 1));
  // The province's one rate replaces the four national ones, not merged into them.
  ASSERT_EQ(r.policy().training().credit_rates().rates_size(), 1);
  EXPECT_EQ(r.policy().training().credit_rates().rates(0).mode(), v1::TRAINING_MODE_ONLINE);
  EXPECT_EQ(r.policy().training().credit_rates().rates(0).hours_per_credit(), 10);
  ExpectSource(r, "training.credit_rates", POLICY_LEVEL_PROVINCE, "320000", "2021-01-01");
  ASSERT_EQ(r.policy().training().minimums().rules_size(), 1);
  EXPECT_EQ(r.policy().training().minimums().rules(0).hours(), 180);
  EXPECT_EQ(r.policy().training().minimums().rules(0).levels_size(), 4);
  // Lists the province did not set stay national.
  EXPECT_EQ(r.policy().training().credit_caps().caps_size(), 1);
  ExpectSource(r, "training.credit_caps", POLICY_LEVEL_NATIONAL, "", "");

  ResolvedPolicy none = MustResolve("320583", versions, D(2024, 1, 1));
  EXPECT_TRUE(none.policy().training().has_minimums());
  EXPECT_EQ(none.policy().training().minimums().rules_size(), 0);
  ExpectSource(none, "training.minimums", POLICY_LEVEL_COUNTY, "320583", "2023-01-01");
}

// DESIGN "Policy": a value resolves per field from the latest version of the most local level
// that has set it. (Before, each level took part with its latest version only, so a county's
// newest version that set only warn_days sent its older values up to the city and province.)
TEST(ResolvePolicyTest, AFieldTheLatestLocalVersionOmitsComesFromThatLevelsOlderVersion) {
  const std::vector<PolicyVersion> versions = {
      Version(POLICY_LEVEL_PROVINCE, "440000", "2021-01-01",
              [](Policy& p) {
                p.mutable_training()->set_required_hours(400);
                p.mutable_training()->set_cycle_years(4);
              }),
      Version(POLICY_LEVEL_CITY, "440300", "2021-01-01",
              [](Policy& p) { p.mutable_training()->set_head_teacher_hours(40); }),
      Version(POLICY_LEVEL_COUNTY, "440305", "2022-01-01",
              [](Policy& p) {
                p.mutable_training()->set_required_hours(450);
                p.mutable_training()->set_head_teacher_hours(50);
              }),
      Version(POLICY_LEVEL_COUNTY, "440305", "2024-01-01",
              [](Policy& p) { p.mutable_training()->set_warn_days(120); }),
  };
  ResolvedPolicy mid = MustResolve("440305", versions, D(2023, 1, 1));
  EXPECT_EQ(mid.policy().training().required_hours(), 450);
  EXPECT_EQ(mid.policy().training().head_teacher_hours(), 50);
  EXPECT_EQ(mid.policy().training().warn_days(), 180);

  ResolvedPolicy late = MustResolve("440305", versions, D(2024, 1, 1));
  EXPECT_EQ(late.policy().training().warn_days(), 120);
  ExpectSource(late, "training.warn_days", POLICY_LEVEL_COUNTY, "440305", "2024-01-01");
  EXPECT_EQ(late.policy().training().head_teacher_hours(), 50);
  ExpectSource(late, "training.head_teacher_hours", POLICY_LEVEL_COUNTY, "440305", "2022-01-01");
  EXPECT_EQ(late.policy().training().required_hours(), 450);
  ExpectSource(late, "training.required_hours", POLICY_LEVEL_COUNTY, "440305", "2022-01-01");
  // A field no county version ever set comes from the level above.
  EXPECT_EQ(late.policy().training().cycle_years(), 4);
  ExpectSource(late, "training.cycle_years", POLICY_LEVEL_PROVINCE, "440000", "2021-01-01");
  // A section the county never mentions comes whole from the defaults.
  EXPECT_TRUE(Same(late.policy().mentorship(), NationalDefaults().mentorship()));
}

// DESIGN "Policy": per field, the most local level that has set it, and there the latest of its
// versions in force that sets it; the DESIGN's example is a county's 2025 version that changes only
// warn_days, which leaves its 2023 online cap in force.
TEST(ResolvePolicyTest, EachFieldFromTheLatestVersionOfTheMostLocalLevelThatSetIt) {
  auto online_cap = [](double hours) {
    return [hours](Policy& p) {
      auto* cap = p.mutable_training()->mutable_caps()->add_rules();
      cap->set_name("online");
      cap->add_modes(v1::TRAINING_MODE_ONLINE);
      cap->set_hours(hours);
    };
  };
  const std::vector<PolicyVersion> versions = {
      Version(POLICY_LEVEL_COUNTY, "440305", "2025-01-01",
              [](Policy& p) { p.mutable_training()->set_warn_days(90); }),
      Version(POLICY_LEVEL_COUNTY, "440305", "2023-01-01", online_cap(100)),
      Version(POLICY_LEVEL_PROVINCE, "440000", "2024-01-01", online_cap(120)),
      Version(POLICY_LEVEL_PROVINCE, "440000", "2021-01-01",
              [](Policy& p) { p.mutable_training()->set_warn_days(150); }),
      // Two county versions of one date (different fields) both take part.
      Version(POLICY_LEVEL_COUNTY, "440305", "2025-01-01",
              [](Policy& p) { p.mutable_rotation()->set_ratio_percent(15); }),
  };
  ResolvedPolicy r = MustResolve("440305", versions, D(2025, 6, 1));
  ASSERT_EQ(r.policy().training().caps().rules_size(), 1);
  EXPECT_EQ(r.policy().training().caps().rules(0).hours(), 100);
  ExpectSource(r, "training.caps", POLICY_LEVEL_COUNTY, "440305", "2023-01-01");
  EXPECT_EQ(r.policy().training().warn_days(), 90);
  ExpectSource(r, "training.warn_days", POLICY_LEVEL_COUNTY, "440305", "2025-01-01");
  EXPECT_EQ(r.policy().rotation().ratio_percent(), 15);
  ExpectSource(r, "rotation.ratio_percent", POLICY_LEVEL_COUNTY, "440305", "2025-01-01");

  // Before the county's 2025 version, its warn_days is the province's.
  ResolvedPolicy before = MustResolve("440305", versions, D(2024, 12, 31));
  EXPECT_EQ(before.policy().training().warn_days(), 150);
  ExpectSource(before, "training.warn_days", POLICY_LEVEL_PROVINCE, "440000", "2021-01-01");
  EXPECT_EQ(before.policy().training().caps().rules(0).hours(), 100);
  // Before the county ever set a cap, the province's is in force from its date.
  ResolvedPolicy early = MustResolve("440305", versions, D(2022, 6, 1));
  EXPECT_EQ(early.policy().training().caps().rules_size(), 0);
  ExpectSource(early, "training.caps", POLICY_LEVEL_NATIONAL, "", "");
  // A sibling county has no county versions: the province's cap.
  ResolvedPolicy sibling = MustResolve("440306", versions, D(2025, 6, 1));
  EXPECT_EQ(sibling.policy().training().caps().rules(0).hours(), 120);
  EXPECT_EQ(sibling.policy().training().warn_days(), 150);
}

TEST(ResolvePolicyTest, AListFromAnOlderVersionOfALevelIsStillReplacedWhole) {
  auto caps = [](const std::vector<std::pair<const char*, double>>& rules) {
    return [rules](Policy& p) {
      auto* list = p.mutable_training()->mutable_caps();
      for (const auto& [name, hours] : rules) {
        auto* rule = list->add_rules();
        rule->set_name(name);
        rule->set_hours(hours);
      }
    };
  };
  const std::vector<PolicyVersion> versions = {
      Version(POLICY_LEVEL_PROVINCE, "440000", "2021-01-01", caps({{"province_only", 50}})),
      Version(POLICY_LEVEL_COUNTY, "440305", "2023-01-01",
              caps({{"online", 100}, {"conference", 60}})),
      Version(POLICY_LEVEL_COUNTY, "440305", "2025-01-01",
              [](Policy& p) { p.mutable_training()->set_warn_days(90); }),
      Version(POLICY_LEVEL_COUNTY, "440305", "2026-01-01", caps({{"online", 80}})),
  };
  auto names = [](const ResolvedPolicy& r) {
    std::vector<std::string> out;
    for (const auto& rule : r.policy().training().caps().rules()) {
      out.push_back(absl::StrCat(rule.name(), "=", rule.hours()));
    }
    return out;
  };
  // The county's 2023 list, whole: not merged with the province's.
  EXPECT_THAT(names(MustResolve("440305", versions, D(2025, 6, 1))),
              ::testing::ElementsAre("online=100", "conference=60"));
  // Its 2026 list replaces the 2023 one whole: conference is gone.
  EXPECT_THAT(names(MustResolve("440305", versions, D(2026, 6, 1))),
              ::testing::ElementsAre("online=80"));
}

// Every leaf has one source: the version that set it, or the built-in defaults.
TEST(ResolvePolicyTest, EverySourceSaysWhereItsValueCameFrom) {
  const std::vector<PolicyVersion> versions = {
      Version(POLICY_LEVEL_NATIONAL, "", "2024-01-01",
              [](Policy& p) { p.mutable_ethics()->set_warning_months(9); }),
      Version(POLICY_LEVEL_COUNTY, "440305", "2023-01-01",
              [](Policy& p) { p.mutable_mentorship()->set_max_mentees(3); }),
      Version(POLICY_LEVEL_COUNTY, "440305", "2025-01-01",
              [](Policy& p) { p.mutable_training()->set_warn_days(90); }),
  };
  ResolvedPolicy r = MustResolve("440305", versions, D(2025, 6, 1));
  const std::vector<std::string> leaves = LeafFieldPaths();
  ASSERT_EQ(r.sources_size(), static_cast<int>(leaves.size()));
  struct Want {
    PolicyLevel level;
    const char* region;
    const char* from;
  };
  const std::map<std::string, Want> set_by_versions = {
      {"ethics.warning_months", {POLICY_LEVEL_NATIONAL, "", "2024-01-01"}},
      {"mentorship.max_mentees", {POLICY_LEVEL_COUNTY, "440305", "2023-01-01"}},
      {"training.warn_days", {POLICY_LEVEL_COUNTY, "440305", "2025-01-01"}},
  };
  for (int i = 0; i < r.sources_size(); ++i) {
    const PolicySource& source = r.sources(i);
    EXPECT_EQ(source.field(), leaves[i]);
    auto it = set_by_versions.find(source.field());
    if (it == set_by_versions.end()) {
      EXPECT_TRUE(source.built_in()) << source.field();
      EXPECT_EQ(source.level(), POLICY_LEVEL_NATIONAL) << source.field();
      EXPECT_EQ(source.effective_from(), "") << source.field();
    } else {
      EXPECT_FALSE(source.built_in()) << source.field();
      EXPECT_EQ(source.level(), it->second.level) << source.field();
      EXPECT_EQ(source.region(), it->second.region) << source.field();
      EXPECT_EQ(source.effective_from(), it->second.from) << source.field();
    }
  }
}

TEST(ResolvePolicyTest, NestedRetirementRuleFieldsResolveIndependently) {
  const std::vector<PolicyVersion> versions = {
      Version(POLICY_LEVEL_PROVINCE, "110000", "2025-01-01",
              [](Policy& p) { p.mutable_retirement()->mutable_male()->set_base_age_years(62); }),
      Version(POLICY_LEVEL_COUNTY, "110105", "2025-03-01",
              [](Policy& p) {
                p.mutable_retirement()->mutable_male()->set_max_delay_months(24);
                p.mutable_retirement()->mutable_female()->set_cohort_start_month("1971-01");
              }),
  };
  ResolvedPolicy r = MustResolve("110105", versions, D(2025, 6, 1));
  const auto& male = r.policy().retirement().male();
  EXPECT_EQ(male.base_age_years(), 62);
  EXPECT_EQ(male.cohort_start_month(), "1965-01");
  EXPECT_EQ(male.months_per_step(), 4);
  EXPECT_EQ(male.max_delay_months(), 24);
  const auto& female = r.policy().retirement().female();
  EXPECT_EQ(female.base_age_years(), 55);
  EXPECT_EQ(female.cohort_start_month(), "1971-01");
  EXPECT_EQ(female.max_delay_months(), 36);
  ExpectSource(r, "retirement.male.base_age_years", POLICY_LEVEL_PROVINCE, "110000", "2025-01-01");
  ExpectSource(r, "retirement.male.cohort_start_month", POLICY_LEVEL_NATIONAL, "", "");
  ExpectSource(r, "retirement.male.max_delay_months", POLICY_LEVEL_COUNTY, "110105", "2025-03-01");
  ExpectSource(r, "retirement.female.cohort_start_month", POLICY_LEVEL_COUNTY, "110105",
               "2025-03-01");
  ExpectSource(r, "retirement.female.base_age_years", POLICY_LEVEL_NATIONAL, "", "");
}

TEST(ResolvePolicyTest, NationalVersionsOverrideTheBuiltInDefaults) {
  const std::vector<PolicyVersion> versions = {
      Version(POLICY_LEVEL_NATIONAL, "", "2025-01-01",
              [](Policy& p) {
                p.mutable_ethics()->set_warning_months(9);
                p.mutable_training()->set_required_hours(300);
              }),
      Version(POLICY_LEVEL_PROVINCE, "440000", "2024-01-01",
              [](Policy& p) { p.mutable_training()->set_required_hours(400); }),
  };
  ResolvedPolicy before = MustResolve("440305", versions, D(2024, 12, 31));
  EXPECT_EQ(before.policy().ethics().warning_months(), 6);
  ExpectSource(before, "ethics.warning_months", POLICY_LEVEL_NATIONAL, "", "");
  ResolvedPolicy after = MustResolve("440305", versions, D(2025, 1, 1));
  EXPECT_EQ(after.policy().ethics().warning_months(), 9);
  ExpectSource(after, "ethics.warning_months", POLICY_LEVEL_NATIONAL, "", "2025-01-01");
  // The province still wins over a national version.
  EXPECT_EQ(after.policy().training().required_hours(), 400);
}

TEST(ResolvePolicyTest, MunicipalityChainsAndBadCounties) {
  auto chain = ChainOf("110105");
  ASSERT_TRUE(chain.ok());
  EXPECT_EQ(chain->county, "110105");
  EXPECT_EQ(chain->city, "110100");
  EXPECT_EQ(chain->province, "110000");
  auto direct = ChainOf("419001");  // a county-level city directly under Henan province
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(direct->city, "419000");
  EXPECT_EQ(direct->province, "410000");
  auto no_city = ChainOf("110001");
  ASSERT_TRUE(no_city.ok());
  EXPECT_EQ(no_city->city, "");

  for (const char* bad : {"", "44030", "4403050", "440300", "440000", "44a305", "000001"}) {
    auto r = ResolvePolicy(bad, {}, D(2025, 1, 1));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("county_id")) << bad;
  }
}

// ---------------------------------------------------------------------------------------------
// Validation

void ExpectInvalid(const PolicyVersion& version, absl::string_view field,
                   absl::string_view allowed) {
  absl::Status status = ValidateVersion(version);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << version.DebugString();
  EXPECT_THAT(std::string(status.message()), HasSubstr(std::string(field))) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(std::string(allowed))) << status;
}

PolicyVersion ProvinceVersion(const std::function<void(Policy&)>& fill) {
  return Version(POLICY_LEVEL_PROVINCE, "320000", "2025-01-01", fill);
}

TEST(ValidateVersionTest, RegionShapeMatchesTheLevel) {
  auto with = [](PolicyLevel level, const char* region) {
    return Version(level, region, "2025-01-01",
                   [](Policy& p) { p.mutable_ethics()->set_warning_months(6); });
  };
  EXPECT_TRUE(ValidateVersion(with(POLICY_LEVEL_NATIONAL, "")).ok());
  EXPECT_TRUE(ValidateVersion(with(POLICY_LEVEL_PROVINCE, "440000")).ok());
  EXPECT_TRUE(ValidateVersion(with(POLICY_LEVEL_CITY, "440300")).ok());
  EXPECT_TRUE(ValidateVersion(with(POLICY_LEVEL_COUNTY, "440305")).ok());
  ExpectInvalid(with(POLICY_LEVEL_NATIONAL, "440000"), "region", "NATIONAL");
  ExpectInvalid(with(POLICY_LEVEL_PROVINCE, "440300"), "region", "ending 0000");
  ExpectInvalid(with(POLICY_LEVEL_PROVINCE, "000000"), "region", "province");
  ExpectInvalid(with(POLICY_LEVEL_CITY, "440000"), "region", "not 0000");
  ExpectInvalid(with(POLICY_LEVEL_CITY, "440305"), "region", "ending 00");
  ExpectInvalid(with(POLICY_LEVEL_COUNTY, "440300"), "region", "not ending 00");
  ExpectInvalid(with(POLICY_LEVEL_COUNTY, "44030"), "region", "6-digit");
  ExpectInvalid(with(POLICY_LEVEL_COUNTY, "44030x"), "region", "6-digit");
  ExpectInvalid(with(v1::POLICY_LEVEL_UNSPECIFIED, ""), "level", "POLICY_LEVEL_COUNTY");
  ExpectInvalid(with(static_cast<PolicyLevel>(9), "440305"), "level", "POLICY_LEVEL_PROVINCE");
}

TEST(ValidateVersionTest, EffectiveFromMustBeARealDate) {
  for (const char* bad : {"", "2025-02-29", "2025-13-01", "2025/01/01", "25-01-01"}) {
    PolicyVersion v = ProvinceVersion([](Policy& p) { p.mutable_ethics()->set_warning_months(6); });
    v.set_effective_from(bad);
    ExpectInvalid(v, "effective_from", "YYYY-MM-DD");
  }
}

// A policy field set to what its rule refuses: the field's path, and a word of what is allowed.
struct FieldRuleCase {
  std::function<void(Policy&)> fill;
  const char* field;
  const char* allowed;
};

// The training scalars' and the rotation fields' cases.
std::vector<FieldRuleCase> TrainingAndRotationFieldCases() {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  return {
      {[](Policy& p) { p.mutable_training()->set_required_hours(360.3); },
       "policy.training.required_hours", "steps of 0.5"},
      {[](Policy& p) { p.mutable_training()->set_induction_hours(-0.5); },
       "policy.training.induction_hours", "steps of 0.5"},
      {[nan](Policy& p) { p.mutable_training()->set_yearly_minimum_hours(nan); },
       "policy.training.yearly_minimum_hours", "steps of 0.5"},
      {[](Policy& p) { p.mutable_training()->set_cycle_years(0); }, "policy.training.cycle_years",
       "at least 1"},
      {[](Policy& p) { p.mutable_training()->set_grace_days(-1); }, "policy.training.grace_days",
       "at least 0"},
      {[](Policy& p) { p.mutable_training()->set_fixed_cycle_start("2021-02-30"); },
       "policy.training.fixed_cycle_start", "YYYY-MM-DD"},
      {[](Policy& p) { p.mutable_training()->set_cycle_kind(static_cast<v1::CycleKind>(7)); },
       "policy.training.cycle_kind", "CYCLE_KIND_PER_TEACHER"},
      {[](Policy& p) { p.mutable_training()->set_cycle_kind(v1::CYCLE_KIND_UNSPECIFIED); },
       "policy.training.cycle_kind", "CYCLE_KIND_FIXED"},
      {[](Policy& p) { p.mutable_rotation()->set_ratio_percent(101); },
       "policy.rotation.ratio_percent", "0 to 100"},
      {[](Policy& p) { p.mutable_rotation()->set_backbone_ratio_percent(-1); },
       "policy.rotation.backbone_ratio_percent", "0 to 100"},
      {[](Policy& p) { p.mutable_rotation()->set_school_year_start("13-01"); },
       "policy.rotation.school_year_start", "MM-DD"},
      {[](Policy& p) { p.mutable_rotation()->set_school_year_start("02-29"); },
       "policy.rotation.school_year_start", "every year has"},
      {[](Policy& p) { p.mutable_rotation()->set_school_year_start("9-01"); },
       "policy.rotation.school_year_start", "MM-DD"},
      {[](Policy& p) {
         auto* d = p.mutable_rotation()->mutable_counting_directions()->add_directions();
         d->set_from_kind("URBAN");
         d->set_to_kind("RURAL");
         d = p.mutable_rotation()->mutable_counting_directions()->add_directions();
         d->set_from_kind("CITY");
         d->set_to_kind("RURAL");
       },
       "policy.rotation.counting_directions.directions[1].from_kind", "TEACHING_POINT"},
  };
}

// The mentorship, retirement and ethics fields', and the training lists' cases.
std::vector<FieldRuleCase> OtherFieldCases() {
  return {
      {[](Policy& p) {
         p.mutable_mentorship()->set_mentor_min_title(static_cast<v1::ProfessionalTitle>(9));
       },
       "policy.mentorship.mentor_min_title", "PROFESSIONAL_TITLE_FIRST_GRADE"},
      {[](Policy& p) { p.mutable_mentorship()->set_max_mentees(0); },
       "policy.mentorship.max_mentees", "at least 1"},
      {[](Policy& p) { p.mutable_mentorship()->set_evaluations_per_term(-1); },
       "policy.mentorship.evaluations_per_term", "at least 0"},
      {[](Policy& p) { p.mutable_mentorship()->set_min_guidance_sessions_per_term(-2); },
       "policy.mentorship.min_guidance_sessions_per_term", "at least 0"},
      {[](Policy& p) { p.mutable_mentorship()->mutable_terms()->add_terms()->set_start("02-29"); },
       "policy.mentorship.terms.terms[0].start", "every year has"},
      {[](Policy& p) {
         auto* terms = p.mutable_mentorship()->mutable_terms();
         terms->add_terms()->set_start("09-01");
         terms->add_terms()->set_start("09-01");
       },
       "policy.mentorship.terms.terms[1].start", "one item per start"},
      {[](Policy& p) {
         p.mutable_retirement()->mutable_female()->set_cohort_start_month("1970-13");
       },
       "policy.retirement.female.cohort_start_month", "YYYY-MM"},
      {[](Policy& p) { p.mutable_retirement()->mutable_male()->set_months_per_step(0); },
       "policy.retirement.male.months_per_step", "at least 1"},
      {[](Policy& p) { p.mutable_ethics()->set_demerit_months(-12); },
       "policy.ethics.demerit_months", "at least 0"},
      {[](Policy& p) {
         auto* rules = p.mutable_training()->mutable_minimums();
         auto* ok = rules->add_rules();
         ok->set_name("county_or_above");
         ok->set_hours(180);
         auto* bad = rules->add_rules();
         bad->set_name("face_to_face");
         bad->add_levels(v1::TRAINING_LEVEL_COUNTY);
         bad->add_levels(static_cast<v1::TrainingLevel>(99));
         bad->set_hours(160);
       },
       "policy.training.minimums.rules[1].levels[1]", "TRAINING_LEVEL_SCHOOL"},
      {[](Policy& p) { p.mutable_training()->mutable_caps()->add_rules()->set_hours(100); },
       "policy.training.caps.rules[0].name", "non-empty"},
      {[](Policy& p) {
         auto* rule = p.mutable_training()->mutable_caps()->add_rules();
         rule->set_name("online");
         rule->set_hours(100.25);
       },
       "policy.training.caps.rules[0].hours", "steps of 0.5"},
      // (A rate of mode UNSPECIFIED is the rate of every other mode: see
      // ACreditRateForEveryOtherModeIsAccepted.)
      {[](Policy& p) {
         auto* rate = p.mutable_training()->mutable_credit_rates()->add_rates();
         rate->set_mode(static_cast<v1::TrainingMode>(42));
         rate->set_hours_per_credit(6);
       },
       "policy.training.credit_rates.rates[0].mode", "TRAINING_MODE_FACE_TO_FACE"},
      {[](Policy& p) {
         auto* rate = p.mutable_training()->mutable_credit_rates()->add_rates();
         rate->set_mode(v1::TRAINING_MODE_ONLINE);
         rate->set_hours_per_credit(0);
       },
       "policy.training.credit_rates.rates[0].hours_per_credit", "above 0"},
      {[](Policy& p) { p.mutable_training()->mutable_credit_caps()->add_caps()->set_credits(20); },
       "policy.training.credit_caps.caps[0].activity", "non-empty"},
  };
}

TEST(ValidateVersionTest, FieldRulesNameTheFieldAndWhatIsAllowed) {
  std::vector<FieldRuleCase> cases = TrainingAndRotationFieldCases();
  for (FieldRuleCase& c : OtherFieldCases()) cases.push_back(std::move(c));
  for (const FieldRuleCase& c : cases) {
    SCOPED_TRACE(c.field);
    ExpectInvalid(ProvinceVersion(c.fill), c.field, c.allowed);
  }
}

// DESIGN: errors carry structured details naming the field, as every other refusal does, so a
// client (the web page's policy form) can mark the field without reading the message.
TEST(ValidateVersionTest, FieldRulesCarryTheFieldInTheirDetails) {
  std::vector<FieldRuleCase> cases = TrainingAndRotationFieldCases();
  for (FieldRuleCase& c : OtherFieldCases()) cases.push_back(std::move(c));
  for (const FieldRuleCase& c : cases) {
    SCOPED_TRACE(c.field);
    const absl::Status status = ValidateVersion(ProvinceVersion(c.fill));
    const std::optional<v1::BadRequest> details = BadRequestOf(status);
    ASSERT_TRUE(details.has_value()) << status;
    ASSERT_EQ(details->field_violations_size(), 1) << status;
    EXPECT_EQ(details->field_violations(0).field(), c.field);
    EXPECT_THAT(details->field_violations(0).description(), HasSubstr(c.allowed));
  }
  const absl::Status region =
      ValidateVersion(Version(POLICY_LEVEL_COUNTY, "320000", "2025-01-01",
                              [](Policy& p) { p.mutable_rotation()->set_ratio_percent(10); }));
  const std::optional<v1::BadRequest> details = BadRequestOf(region);
  ASSERT_TRUE(details.has_value()) << region;
  EXPECT_EQ(details->field_violations(0).field(), "region");
}

// training's rules read a rate of mode UNSPECIFIED as the rate of every mode without its own
// (services/training/rules.h); the store takes it too, once per list like any mode.
TEST(ValidateVersionTest, ACreditRateForEveryOtherModeIsAccepted) {
  auto with_rates = [](const std::vector<std::pair<v1::TrainingMode, double>>& rates) {
    return ProvinceVersion([rates](Policy& p) {
      for (const auto& [mode, hours] : rates) {
        auto* rate = p.mutable_training()->mutable_credit_rates()->add_rates();
        rate->set_mode(mode);
        rate->set_hours_per_credit(hours);
      }
    });
  };
  const PolicyVersion other_modes =
      with_rates({{v1::TRAINING_MODE_FACE_TO_FACE, 6}, {v1::TRAINING_MODE_UNSPECIFIED, 8}});
  EXPECT_TRUE(ValidateVersion(other_modes).ok()) << ValidateVersion(other_modes);
  ExpectInvalid(
      with_rates({{v1::TRAINING_MODE_UNSPECIFIED, 8}, {v1::TRAINING_MODE_UNSPECIFIED, 6}}),
      "policy.training.credit_rates.rates[1].mode", "one item per mode");
  ExpectInvalid(with_rates({{v1::TRAINING_MODE_ONLINE, 8}, {v1::TRAINING_MODE_ONLINE, 6}}),
                "policy.training.credit_rates.rates[1].mode", "[0] has this one already");
  // An unknown mode is still refused, and the message says what UNSPECIFIED means.
  ExpectInvalid(with_rates({{static_cast<v1::TrainingMode>(42), 8}}),
                "policy.training.credit_rates.rates[0].mode",
                "TRAINING_MODE_UNSPECIFIED for every mode without a rate of its own");
  // Elsewhere UNSPECIFIED means nothing and stays refused.
  ExpectInvalid(
      ProvinceVersion([](Policy& p) {
        p.mutable_rotation()->mutable_counting_forms()->add_forms(v1::ROTATION_FORM_UNSPECIFIED);
      }),
      "policy.rotation.counting_forms.forms[0]", "ROTATION_FORM_SECONDMENT");
}

TEST(ValidateVersionTest, AVersionMustSetSomething) {
  ExpectInvalid(ProvinceVersion([](Policy&) {}), "policy", "sets no field");
  // Mentioning a section or a nested rule without setting a value in it is still nothing.
  ExpectInvalid(ProvinceVersion([](Policy& p) {
                  p.mutable_training();
                  p.mutable_retirement()->mutable_male();
                }),
                "policy", "sets no field");
  // An explicit empty list is a value ("none here").
  EXPECT_TRUE(ValidateVersion(ProvinceVersion([](Policy& p) {
                p.mutable_training()->mutable_caps();
              })).ok());
}

TEST(ValidateVersionTest, GoodProvinceVersionPasses) {
  PolicyVersion jiangsu = ProvinceVersion([](Policy& p) {
    auto* t = p.mutable_training();
    t->set_cycle_kind(v1::CYCLE_KIND_PER_TEACHER);
    t->set_required_hours(360);
    t->set_yearly_minimum_hours(72.5);
    auto* rule = t->mutable_minimums()->add_rules();
    rule->set_name("county_or_above");
    rule->add_levels(v1::TRAINING_LEVEL_COUNTY);
    rule->set_hours(180);
    p.mutable_rotation()->set_school_year_start("08-31");
    p.mutable_rotation()->set_ratio_percent(100);
    p.mutable_rotation()->set_retirement_exclusion_years(0);
  });
  EXPECT_TRUE(ValidateVersion(jiangsu).ok()) << ValidateVersion(jiangsu);
}

// Every number, string and enum field anywhere in the policy tree has a rule: set each, one at a
// time, to a value no rule allows, and the version is refused naming that field's path. A field
// added to policy.proto without a rule in policy_resolver.cc's table fails here.
// Calls `visit` for every scalar value in `message` (each element of a repeated field), with its
// path; stops early when `visit` returns true.
bool ForEachScalar(pb::Message* message, const std::string& path,
                   const std::function<bool(pb::Message*, const pb::FieldDescriptor*, int,
                                            const std::string&)>& visit) {
  const pb::Descriptor* type = message->GetDescriptor();
  const pb::Reflection* r = message->GetReflection();
  for (int i = 0; i < type->field_count(); ++i) {
    const pb::FieldDescriptor* field = type->field(i);
    const std::string field_path = path + "." + field->name();
    if (field->is_repeated()) {
      for (int j = 0; j < r->FieldSize(*message, field); ++j) {
        const std::string item = field_path + "[" + std::to_string(j) + "]";
        if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
          if (ForEachScalar(r->MutableRepeatedMessage(message, field, j), item, visit)) return true;
        } else if (visit(message, field, j, item)) {
          return true;
        }
      }
    } else if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      if (r->HasField(*message, field) &&
          ForEachScalar(r->MutableMessage(message, field), field_path, visit)) {
        return true;
      }
    } else if (visit(message, field, -1, field_path)) {
      return true;
    }
  }
  return false;
}

// Sets one value to something no rule allows; false for bools (any value is allowed).
bool MakeInvalid(pb::Message* m, const pb::FieldDescriptor* f, int index) {
  const pb::Reflection* r = m->GetReflection();
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32:
      rep ? r->SetRepeatedInt32(m, f, index, -1) : r->SetInt32(m, f, -1);
      return true;
    case pb::FieldDescriptor::CPPTYPE_INT64:
      rep ? r->SetRepeatedInt64(m, f, index, -1) : r->SetInt64(m, f, -1);
      return true;
    case pb::FieldDescriptor::CPPTYPE_DOUBLE: {
      const double nan = std::numeric_limits<double>::quiet_NaN();
      rep ? r->SetRepeatedDouble(m, f, index, nan) : r->SetDouble(m, f, nan);
      return true;
    }
    case pb::FieldDescriptor::CPPTYPE_STRING: {
      const std::string long_text(300, 'x');
      rep ? r->SetRepeatedString(m, f, index, long_text) : r->SetString(m, f, long_text);
      return true;
    }
    case pb::FieldDescriptor::CPPTYPE_ENUM:
      rep ? r->SetRepeatedEnumValue(m, f, index, 99) : r->SetEnumValue(m, f, 99);
      return true;
    default:
      return false;
  }
}

TEST(ValidateVersionTest, EveryFieldOfThePolicyTreeHasARule) {
  PolicyVersion full = ProvinceVersion([](Policy& p) {
    p = NationalDefaults();
    for (auto* list :
         {p.mutable_training()->mutable_minimums(), p.mutable_training()->mutable_caps()}) {
      auto* rule = list->add_rules();
      rule->set_name("county_or_above");
      rule->add_levels(v1::TRAINING_LEVEL_COUNTY);
      rule->add_modes(v1::TRAINING_MODE_FACE_TO_FACE);
      rule->set_activity("degree_study");
      rule->set_hours(180);
    }
  });
  ASSERT_TRUE(ValidateVersion(full).ok()) << ValidateVersion(full);

  std::vector<std::string> paths;
  ForEachScalar(full.mutable_policy(), "policy",
                [&](pb::Message*, const pb::FieldDescriptor* f, int, const std::string& path) {
                  if (f->cpp_type() != pb::FieldDescriptor::CPPTYPE_BOOL) paths.push_back(path);
                  return false;
                });
  ASSERT_GT(paths.size(), 50u);
  for (const std::string& target : paths) {
    PolicyVersion broken = full;
    ForEachScalar(
        broken.mutable_policy(), "policy",
        [&](pb::Message* m, const pb::FieldDescriptor* f, int index, const std::string& path) {
          return path == target && MakeInvalid(m, f, index);
        });
    absl::Status status = ValidateVersion(broken);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << target << ": " << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(target + ":")) << status;
  }
}

// ---------------------------------------------------------------------------------------------
// The store, on a real redis-server

class PolicyStoreTest : public ::testing::Test {
 protected:
  PolicyStoreTest() : clock_(absl::CivilDay(2025, 3, 1)) {}

  PolicyStoreOptions Options(absl::Duration ttl) {
    PolicyStoreOptions options;
    options.cache_ttl = ttl;
    options.clock = &clock_;
    return options;
  }

  int64_t Integer(const redis::Args& command) {
    auto reply = server_.pool().Command(command);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? reply->integer() : -1;
  }

  // A figure of INFO `section`: the number after "<name>:" (or after "<name>=" inside a line,
  // for commandstats' "cmdstat_hgetall:calls=4,..."); 0 when absent.
  int64_t Info(const char* section, absl::string_view name) {
    auto reply = server_.pool().Command({"INFO", section});
    EXPECT_TRUE(reply.ok()) << reply.status();
    if (!reply.ok()) return -1;
    for (absl::string_view line : absl::StrSplit(reply->str(), "\r\n")) {
      if (!absl::ConsumePrefix(&line, name)) continue;
      line = line.substr(0, line.find(','));
      int64_t value = 0;
      if (absl::SimpleAtoi(line, &value)) return value;
    }
    return 0;
  }
  // Round trips Redis has served: each read of a client's socket is one (a pipeline arrives in
  // one read). The INFO that asks is one too, so the difference of two calls counts the second.
  int64_t ReadsProcessed() { return Info("stats", "total_reads_processed:"); }

  testing::RedisServer server_;
  FixedClock clock_;
};

PolicyVersion Stamped(PolicyVersion v, const char* actor, const char* request_id) {
  v.set_actor(actor);
  v.set_request_id(request_id);
  return v;
}

TEST_F(PolicyStoreTest, RoundTripResolvesLikeThePureFunction) {
  PolicyStore store(server_.pool(), Options(absl::ZeroDuration()));
  const std::vector<PolicyVersion> versions = {
      Stamped(Version(POLICY_LEVEL_NATIONAL, "", "2025-01-01",
                      [](Policy& p) { p.mutable_ethics()->set_warning_months(9); }),
              "admin:root", "r1"),
      Stamped(Version(POLICY_LEVEL_PROVINCE, "440000", "2022-01-01",
                      [](Policy& p) {
                        p.mutable_training()->set_required_hours(400);
                        auto* rule = p.mutable_training()->mutable_minimums()->add_rules();
                        rule->set_name("county_or_above");
                        rule->add_levels(v1::TRAINING_LEVEL_COUNTY);
                        rule->set_hours(180);
                      }),
              "province_hr:gd", "r2"),
      Stamped(Version(POLICY_LEVEL_PROVINCE, "440000", "2024-01-01",
                      [](Policy& p) { p.mutable_training()->set_required_hours(420); }),
              "province_hr:gd", "r3"),
      Stamped(Version(POLICY_LEVEL_CITY, "440300", "2023-01-01",
                      [](Policy& p) { p.mutable_rotation()->set_ratio_percent(15); }),
              "city_hr:sz", "r4"),
      Stamped(Version(POLICY_LEVEL_COUNTY, "440305", "2023-09-01",
                      [](Policy& p) {
                        p.mutable_retirement()->mutable_female()->set_base_age_years(56);
                      }),
              "county_hr:ns", "r5"),
  };
  for (const PolicyVersion& v : versions) {
    auto stored = store.AddVersion(v);
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_TRUE(Same(*stored, v));
  }

  auto listed = store.ListVersions(POLICY_LEVEL_PROVINCE, "440000");
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_TRUE(Same((*listed)[0], versions[1]));
  EXPECT_TRUE(Same((*listed)[1], versions[2]));
  auto national = store.ListVersions(POLICY_LEVEL_NATIONAL, "");
  ASSERT_TRUE(national.ok());
  ASSERT_EQ(national->size(), 1u);
  EXPECT_TRUE(Same((*national)[0], versions[0]));
  auto empty = store.ListVersions(POLICY_LEVEL_COUNTY, "440306");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());

  for (absl::CivilDay date :
       {D(2021, 6, 1), D(2023, 1, 1), D(2023, 9, 1), D(2024, 6, 1), D(2025, 1, 1)}) {
    auto from_store = store.Resolve("440305", date);
    ASSERT_TRUE(from_store.ok()) << from_store.status();
    EXPECT_TRUE(Same(*from_store, MustResolve("440305", versions, date))) << date;
  }
  auto r = store.Resolve("440305", D(2025, 1, 1));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->policy().training().required_hours(), 420);
  // The province's 2024 version sets only required_hours: its 2022 minimums stay in force.
  EXPECT_EQ(r->policy().training().minimums().rules_size(), 1);
  ExpectSource(*r, "training.minimums", POLICY_LEVEL_PROVINCE, "440000", "2022-01-01");
  EXPECT_EQ(r->policy().rotation().ratio_percent(), 15);
  EXPECT_EQ(r->policy().retirement().female().base_age_years(), 56);
  EXPECT_EQ(r->policy().ethics().warning_months(), 9);
  ExpectSource(*r, "retirement.female.base_age_years", POLICY_LEVEL_COUNTY, "440305", "2023-09-01");
  ExpectSource(*r, "ethics.warning_months", POLICY_LEVEL_NATIONAL, "", "2025-01-01");

  // Each level and region lives under its own hash tag.
  EXPECT_EQ(Integer({"HLEN", "policy:{pl:440000}:versions"}), 2);
  EXPECT_EQ(Integer({"HLEN", "policy:{pl:national}:versions"}), 1);
  EXPECT_EQ(Integer({"HLEN", "policy:{pl:440305}:versions"}), 1);
}

TEST_F(PolicyStoreTest, SameDateDifferentPolicyIsRefusedIdenticalIsANoOp) {
  PolicyStore store(server_.pool(), Options(absl::ZeroDuration()));
  const PolicyVersion first =
      Stamped(Version(POLICY_LEVEL_CITY, "440300", "2025-09-01",
                      [](Policy& p) { p.mutable_rotation()->set_ratio_percent(12); }),
              "city_hr:a", "req-1");
  ASSERT_TRUE(store.AddVersion(first).ok());

  PolicyVersion different = first;
  different.mutable_policy()->mutable_rotation()->set_ratio_percent(14);
  different.set_request_id("req-2");
  auto refused = store.AddVersion(different);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("effective_from"));
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("later effective_from"));
  const std::optional<v1::BadRequest> details = BadRequestOf(refused.status());
  ASSERT_TRUE(details.has_value());
  ASSERT_EQ(details->field_violations_size(), 1);
  EXPECT_EQ(details->field_violations(0).field(), "effective_from");
  EXPECT_EQ(details->field_violations(0).rule(), "version_exists");

  // The same policy again, from someone else: nothing changes; the answer is the stored version.
  PolicyVersion again = first;
  again.set_actor("city_hr:b");
  again.set_request_id("req-3");
  auto same = store.AddVersion(again);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->actor(), "city_hr:a");
  EXPECT_EQ(same->request_id(), "req-1");

  auto listed = store.ListVersions(POLICY_LEVEL_CITY, "440300");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_TRUE(Same((*listed)[0], first));
  // Only the first write published an event.
  EXPECT_EQ(Integer({"XLEN", "policy:{pl:440300}:events"}), 1);

  // A correction is a new version with a later date.
  PolicyVersion correction = different;
  correction.set_effective_from("2025-09-02");
  EXPECT_TRUE(store.AddVersion(correction).ok());
  auto r = store.Resolve("440305", D(2025, 9, 1));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->policy().rotation().ratio_percent(), 12);
  r = store.Resolve("440305", D(2025, 9, 2));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->policy().rotation().ratio_percent(), 14);
}

TEST_F(PolicyStoreTest, RetriesAreIdempotentAndPublishOneEvent) {
  PolicyStore store(server_.pool(), Options(absl::ZeroDuration()));
  const PolicyVersion v =
      Stamped(Version(POLICY_LEVEL_COUNTY, "440305", "2025-03-01",
                      [](Policy& p) { p.mutable_mentorship()->set_max_mentees(3); }),
              "county_hr:ns", "req-42");
  auto first = store.AddVersion(v);
  ASSERT_TRUE(first.ok()) << first.status();
  auto retry = store.AddVersion(v);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(Same(*retry, v));
  EXPECT_EQ(Integer({"XLEN", "policy:{pl:440305}:events"}), 1);

  // The same request id with a different request is refused and writes nothing.
  PolicyVersion other = v;
  other.set_effective_from("2025-04-01");
  auto reused = store.AddVersion(other);
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(reused.status().message()), HasSubstr("request_id"));
  EXPECT_EQ(Integer({"HLEN", "policy:{pl:440305}:versions"}), 1);
  PolicyVersion braces = other;
  braces.set_request_id("a{b}");
  auto bad_id = store.AddVersion(braces);
  EXPECT_EQ(bad_id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad_id.status().message()), HasSubstr("request_id"));
  EXPECT_EQ(Integer({"HLEN", "policy:{pl:440305}:versions"}), 1);

  // The event is the shared envelope with the version as payload, in a registered stream.
  auto entries = server_.pool().Command({"XRANGE", "policy:{pl:440305}:events", "-", "+"});
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 1u);
  const redis::Reply fields = (*entries)[0][1];
  std::string envelope;
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    if (fields[i].str() == "e") envelope = std::string(fields[i + 1].str());
  }
  v1::Event event;
  ASSERT_TRUE(event.ParseFromString(envelope));
  EXPECT_EQ(event.type(), "policy.version_added");
  EXPECT_EQ(event.county_id(), "440305");
  EXPECT_EQ(event.occurred_on(), "2025-03-01");
  EXPECT_EQ(event.actor(), "county_hr:ns");
  EXPECT_EQ(event.request_id(), "req-42");
  EXPECT_EQ(event.recorded_at_ms(), absl::ToUnixMillis(clock_.Now()));
  EXPECT_EQ(event.summary(), "新增县级政策版本 440305，自 2025-03-01 起施行");
  PolicyVersion payload;
  ASSERT_TRUE(event.payload().UnpackTo(&payload));
  EXPECT_TRUE(Same(payload, v));
  EXPECT_EQ(Integer({"SISMEMBER", "policy:streams", "policy:{pl:440305}:events"}), 1);
}

TEST_F(PolicyStoreTest, InvalidVersionsAndRegionsWriteNothing) {
  PolicyStore store(server_.pool(), Options(absl::ZeroDuration()));
  auto bad = store.AddVersion(Version(POLICY_LEVEL_COUNTY, "440305", "2025-03-01", [](Policy& p) {
    p.mutable_training()->set_required_hours(359.9);
  }));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("policy.training.required_hours"));
  auto keys = server_.pool().Command({"DBSIZE"});
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->integer(), 0);

  EXPECT_EQ(store.Resolve("440300", D(2025, 1, 1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto list = store.ListVersions(POLICY_LEVEL_CITY, "440305");
  EXPECT_EQ(list.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(list.status().message()), HasSubstr("region"));
}

TEST_F(PolicyStoreTest, CacheServesWithinItsTtlAndOwnWritesClearIt) {
  PolicyStore cached(server_.pool(), Options(absl::Seconds(5)));
  PolicyStore other_process(server_.pool(), Options(absl::ZeroDuration()));
  auto before = cached.Resolve("440305", D(2025, 6, 1));
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->policy().training().required_hours(), 360);

  // Written elsewhere: this process keeps its cached answer until the TTL passes.
  ASSERT_TRUE(
      other_process
          .AddVersion(Version(POLICY_LEVEL_PROVINCE, "440000", "2025-01-01",
                              [](Policy& p) { p.mutable_training()->set_required_hours(400); }))
          .ok());
  clock_.Advance(absl::Seconds(4));
  auto stale = cached.Resolve("440305", D(2025, 6, 1));
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->policy().training().required_hours(), 360);
  // Another date of the same county comes from the cached versions too.
  auto stale_other_day = cached.Resolve("440305", D(2025, 7, 1));
  ASSERT_TRUE(stale_other_day.ok());
  EXPECT_EQ(stale_other_day->policy().training().required_hours(), 360);
  clock_.Advance(absl::Seconds(2));
  auto fresh = cached.Resolve("440305", D(2025, 6, 1));
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->policy().training().required_hours(), 400);

  // Written through this store: seen at once.
  ASSERT_TRUE(
      cached
          .AddVersion(Version(POLICY_LEVEL_COUNTY, "440305", "2025-02-01",
                              [](Policy& p) { p.mutable_training()->set_required_hours(450); }))
          .ok());
  auto own = cached.Resolve("440305", D(2025, 6, 1));
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->policy().training().required_hours(), 450);

  // Without a cache every read sees the latest.
  auto uncached = other_process.Resolve("440305", D(2025, 6, 1));
  ASSERT_TRUE(uncached.ok());
  EXPECT_EQ(uncached->policy().training().required_hours(), 450);
}

// DESIGN "Policy": sections never collide. Each section of a version is kept on its own, so a
// rotation section on the date of a training version is stored beside it; a section already set
// on that date keeps what AddVersion promised (identical: nothing changes; different: refused).
// A county's training, rotation and mentorship versions of one date (2025-09-01), each from
// another actor.
std::vector<PolicyVersion> SectionsOfOneDate() {
  return {
      Stamped(Version(POLICY_LEVEL_COUNTY, "440305", "2025-09-01",
                      [](Policy& p) { p.mutable_training()->set_warn_days(90); }),
              "county_hr:a", "req-1"),
      Stamped(Version(POLICY_LEVEL_COUNTY, "440305", "2025-09-01",
                      [](Policy& p) {
                        auto* r = p.mutable_rotation();
                        r->set_ratio_percent(12);
                        r->set_backbone_base(v1::ROTATION_BACKBONE_BASE_COUNTING);
                        r->mutable_counting_forms()->add_forms(v1::ROTATION_FORM_REGULAR_TRANSFER);
                        r->set_other_directions_count(true);
                      }),
              "county_hr:b", "req-2"),
      Stamped(Version(POLICY_LEVEL_COUNTY, "440305", "2025-09-01",
                      [](Policy& p) { p.mutable_mentorship()->set_backbone_qualifies(false); }),
              "county_hr:c", "req-3"),
  };
}

TEST_F(PolicyStoreTest, SectionsOnOneDateNeverCollide) {
  PolicyStore store(server_.pool(), Options(absl::ZeroDuration()));
  const std::vector<PolicyVersion> versions = SectionsOfOneDate();
  const PolicyVersion& training = versions[0];
  const PolicyVersion& rotation = versions[1];
  const PolicyVersion& mentorship = versions[2];
  for (const PolicyVersion& v : {training, rotation, mentorship}) {
    auto stored = store.AddVersion(v);
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_TRUE(Same(*stored, v));
  }
  auto listed = store.ListVersions(POLICY_LEVEL_COUNTY, "440305");
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 3u);
  // By date, then section name.
  EXPECT_TRUE(Same((*listed)[0], mentorship));
  EXPECT_TRUE(Same((*listed)[1], rotation));
  EXPECT_TRUE(Same((*listed)[2], training));

  auto r = store.Resolve("440305", D(2025, 9, 1));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->policy().training().warn_days(), 90);
  EXPECT_EQ(r->policy().rotation().ratio_percent(), 12);
  EXPECT_EQ(r->policy().rotation().backbone_base(), v1::ROTATION_BACKBONE_BASE_COUNTING);
  EXPECT_THAT(r->policy().rotation().counting_forms().forms(),
              ::testing::ElementsAre(v1::ROTATION_FORM_REGULAR_TRANSFER));
  EXPECT_TRUE(r->policy().rotation().other_directions_count());
  EXPECT_FALSE(r->policy().mentorship().backbone_qualifies());
  for (const char* field : {"training.warn_days", "rotation.ratio_percent",
                            "rotation.counting_forms", "mentorship.backbone_qualifies"}) {
    ExpectSource(*r, field, POLICY_LEVEL_COUNTY, "440305", "2025-09-01");
  }
}

// ... and a section already set on a date keeps what AddVersion promised: a different value is
// refused, the same value changes nothing.
TEST_F(PolicyStoreTest, ASectionAlreadySetOnADateIsRefusedOrMatched) {
  PolicyStore store(server_.pool(), Options(absl::ZeroDuration()));
  const std::vector<PolicyVersion> versions = SectionsOfOneDate();
  for (const PolicyVersion& v : versions) ASSERT_TRUE(store.AddVersion(v).ok());
  const PolicyVersion& rotation = versions[1];

  // The same section with a different value on that date is refused, naming the section.
  PolicyVersion different = rotation;
  different.mutable_policy()->mutable_rotation()->set_ratio_percent(14);
  different.set_request_id("req-4");
  auto refused = store.AddVersion(different);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("effective_from"));
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("rotation policy"));
  // A version of two sections, one of them taken, writes neither.
  PolicyVersion half = different;
  half.mutable_policy()->mutable_ethics()->set_warning_months(9);
  half.set_request_id("req-5");
  EXPECT_EQ(store.AddVersion(half).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Integer({"HLEN", "policy:{pl:440305}:versions"}), 3);

  // The same section again, from someone else: nothing changes; the answer is the stored one.
  PolicyVersion again = rotation;
  again.set_actor("county_hr:z");
  again.set_request_id("req-6");
  auto same = store.AddVersion(again);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_TRUE(Same(*same, rotation));
  EXPECT_EQ(Integer({"XLEN", "policy:{pl:440305}:events"}), 3);

  // Two sections, one identical to what is stored and one new: the new one is written, and the
  // answer holds both, as this request's.
  PolicyVersion both = again;
  both.mutable_policy()->mutable_ethics()->set_warning_months(9);
  both.set_request_id("req-7");
  auto written = store.AddVersion(both);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_TRUE(Same(*written, both)) << written->DebugString();
  EXPECT_EQ(Integer({"HLEN", "policy:{pl:440305}:versions"}), 4);
  EXPECT_EQ(Integer({"XLEN", "policy:{pl:440305}:events"}), 4);
  // Its retry answers the same.
  auto retried = store.AddVersion(both);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_TRUE(Same(*retried, both));
  EXPECT_EQ(Integer({"XLEN", "policy:{pl:440305}:events"}), 4);
}

// Versions written before sections were kept apart lie whole under their date: they read as
// before, and their sections still collide with (or match) a new version of that date.
TEST_F(PolicyStoreTest, VersionsStoredWholeBeforeReadTheSameAndKeepTheirDate) {
  PolicyStore store(server_.pool(), Options(absl::ZeroDuration()));
  const PolicyVersion old = Stamped(Version(POLICY_LEVEL_COUNTY, "440305", "2024-01-01",
                                            [](Policy& p) {
                                              p.mutable_training()->set_required_hours(300);
                                              p.mutable_rotation()->set_ratio_percent(15);
                                            }),
                                    "county_hr:old", "old-1");
  PolicyVersion old_content = old;
  old_content.clear_actor();
  old_content.clear_request_id();
  const std::string old_bytes = old.SerializeAsString();
  ASSERT_TRUE(server_.pool()
                  .Command({"HSET", "policy:{pl:440305}:versions", "2024-01-01", old_bytes})
                  .ok());
  ASSERT_TRUE(server_.pool()
                  .Command({"HSET", "policy:{pl:440305}:contents", "2024-01-01",
                            old_content.SerializeAsString()})
                  .ok());

  auto listed = store.ListVersions(POLICY_LEVEL_COUNTY, "440305");
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_TRUE(Same((*listed)[0], old));
  auto r = store.Resolve("440305", D(2024, 6, 1));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->policy().training().required_hours(), 300);
  EXPECT_EQ(r->policy().rotation().ratio_percent(), 15);
  ExpectSource(*r, "rotation.ratio_percent", POLICY_LEVEL_COUNTY, "440305", "2024-01-01");

  // The whole version again: nothing changes, the answer is the stored one.
  auto whole = store.AddVersion(Stamped(old, "county_hr:new", "new-1"));
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_TRUE(Same(*whole, old));
  // One of its sections, identical: the stored version answers, with that section only.
  auto part = store.AddVersion(
      Stamped(Version(POLICY_LEVEL_COUNTY, "440305", "2024-01-01",
                      [](Policy& p) { p.mutable_rotation()->set_ratio_percent(15); }),
              "county_hr:new", "new-2"));
  ASSERT_TRUE(part.ok()) << part.status();
  EXPECT_EQ(part->actor(), "county_hr:old");
  EXPECT_FALSE(part->policy().has_training());
  EXPECT_EQ(part->policy().rotation().ratio_percent(), 15);
  // One of its sections, different: refused.
  auto refused = store.AddVersion(
      Stamped(Version(POLICY_LEVEL_COUNTY, "440305", "2024-01-01",
                      [](Policy& p) { p.mutable_training()->set_required_hours(320); }),
              "county_hr:new", "new-3"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAlreadyExists);
  // Another section on that date: stored beside it.
  const PolicyVersion mentorship =
      Stamped(Version(POLICY_LEVEL_COUNTY, "440305", "2024-01-01",
                      [](Policy& p) { p.mutable_mentorship()->set_max_mentees(3); }),
              "county_hr:new", "new-4");
  auto added = store.AddVersion(mentorship);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_TRUE(Same(*added, mentorship));

  listed = store.ListVersions(POLICY_LEVEL_COUNTY, "440305");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_TRUE(Same((*listed)[0], old));
  EXPECT_TRUE(Same((*listed)[1], mentorship));
  auto kept = server_.pool().Command({"HGET", "policy:{pl:440305}:versions", "2024-01-01"});
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->str(), old_bytes);
}

TEST_F(PolicyStoreTest, ACreditRateForEveryOtherModeIsStoredAndResolved) {
  PolicyStore store(server_.pool(), Options(absl::ZeroDuration()));
  const PolicyVersion v = Version(POLICY_LEVEL_PROVINCE, "440000", "2025-01-01", [](Policy& p) {
    auto* rates = p.mutable_training()->mutable_credit_rates();
    auto* face_to_face = rates->add_rates();
    face_to_face->set_mode(v1::TRAINING_MODE_FACE_TO_FACE);
    face_to_face->set_hours_per_credit(6);
    auto* others = rates->add_rates();
    others->set_mode(v1::TRAINING_MODE_UNSPECIFIED);
    others->set_hours_per_credit(10);
  });
  auto stored = store.AddVersion(v);
  ASSERT_TRUE(stored.ok()) << stored.status();
  auto r = store.Resolve("440305", D(2025, 6, 1));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(Same(r->policy().training().credit_rates(), v.policy().training().credit_rates()));
  ExpectSource(*r, "training.credit_rates", POLICY_LEVEL_PROVINCE, "440000", "2025-01-01");
}

// The one read a service makes per approval: every version a county's resolution needs, read in
// one pipelined round trip (training's LoadPolicy made four, one ListVersions per level), then
// served from the cache until its TTL.
TEST_F(PolicyStoreTest, ACountyReadIsOneRoundTripThenNoneWhileCached) {
  PolicyStore writer(server_.pool(), Options(absl::ZeroDuration()));
  const std::vector<PolicyVersion> versions = {
      Version(POLICY_LEVEL_NATIONAL, "", "2024-01-01",
              [](Policy& p) { p.mutable_ethics()->set_warning_months(9); }),
      Version(POLICY_LEVEL_PROVINCE, "440000", "2024-01-01",
              [](Policy& p) { p.mutable_training()->set_required_hours(400); }),
      Version(POLICY_LEVEL_CITY, "440300", "2024-01-01",
              [](Policy& p) { p.mutable_rotation()->set_ratio_percent(12); }),
      Version(POLICY_LEVEL_COUNTY, "440305", "2024-01-01",
              [](Policy& p) { p.mutable_training()->set_warn_days(90); }),
      Version(POLICY_LEVEL_COUNTY, "440305", "2025-01-01",
              [](Policy& p) { p.mutable_training()->set_grace_days(60); }),
      Version(POLICY_LEVEL_COUNTY, "440306", "2024-01-01",
              [](Policy& p) { p.mutable_training()->set_warn_days(1); }),
  };
  for (const PolicyVersion& v : versions) ASSERT_TRUE(writer.AddVersion(v).ok());

  // The reading store has a pool of its own, connected before counting.
  redis::Pool pool(server_.config());
  ASSERT_TRUE(pool.Command({"PING"}).ok());
  PolicyStore store(pool, Options(absl::Minutes(1)));
  ASSERT_TRUE(server_.pool().Command({"CONFIG", "RESETSTAT"}).ok());
  const int64_t before = ReadsProcessed();
  auto read = store.ReadCounty("440305");
  const int64_t after = ReadsProcessed();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(after - before - 1, 1) << "round trips of one uncached read";
  EXPECT_EQ(Info("commandstats", "cmdstat_hgetall:calls="), 4);

  // National, province, city, county; by date within a level. Another county's take no part.
  ASSERT_EQ((*read)->versions.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_TRUE(Same((*read)->versions[i], versions[i])) << i;
  EXPECT_EQ((*read)->Setting("training").size(), 3u);
  EXPECT_EQ((*read)->Setting("rotation").size(), 1u);
  EXPECT_TRUE((*read)->Setting("no_such_section").empty());
  auto resolved = (*read)->Resolve(D(2025, 6, 1));
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_TRUE(Same(*resolved, MustResolve("440305", versions, D(2025, 6, 1))));

  // Cached: the same read, and resolutions of any date from it, with no round trip.
  const int64_t cached_before = ReadsProcessed();
  auto again = store.ReadCounty("440305");
  auto r1 = store.Resolve("440305", D(2025, 6, 1));
  auto r2 = store.Resolve("440305", D(2024, 6, 1));
  const int64_t cached_after = ReadsProcessed();
  ASSERT_TRUE(again.ok() && r1.ok() && r2.ok());
  EXPECT_EQ(again->get(), read->get());
  EXPECT_EQ(cached_after - cached_before - 1, 0) << "round trips of cached reads";
  EXPECT_EQ(r1->policy().training().grace_days(), 60);
  EXPECT_EQ(r2->policy().training().grace_days(), 180);
}

TEST_F(PolicyStoreTest, TheCachedCountyReadSeesItsOwnWritesAtOnceAndOthersWithinItsTtl) {
  PolicyStore store(server_.pool(), Options(absl::Minutes(1)));
  PolicyStore other_process(server_.pool(), Options(absl::ZeroDuration()));
  auto first = store.ReadCounty("440305");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE((*first)->versions.empty());

  // Written elsewhere: not seen within the TTL.
  ASSERT_TRUE(
      other_process
          .AddVersion(Version(POLICY_LEVEL_PROVINCE, "440000", "2025-01-01",
                              [](Policy& p) { p.mutable_training()->set_required_hours(400); }))
          .ok());
  clock_.Advance(absl::Seconds(30));
  auto stale = store.ReadCounty("440305");
  ASSERT_TRUE(stale.ok());
  EXPECT_TRUE((*stale)->versions.empty());

  // Written through this store: seen at once (with everything written before it).
  ASSERT_TRUE(
      store
          .AddVersion(Version(POLICY_LEVEL_COUNTY, "440305", "2025-01-01",
                              [](Policy& p) { p.mutable_rotation()->set_ratio_percent(15); }))
          .ok());
  auto own = store.ReadCounty("440305");
  ASSERT_TRUE(own.ok());
  ASSERT_EQ((*own)->versions.size(), 2u);
  EXPECT_EQ((*own)->Setting("training").size(), 1u);
  EXPECT_EQ((*own)->Setting("rotation").size(), 1u);
  auto resolved = store.Resolve("440305", D(2025, 6, 1));
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->policy().training().required_hours(), 400);
  EXPECT_EQ(resolved->policy().rotation().ratio_percent(), 15);

  // Written elsewhere again: seen once the TTL has passed.
  ASSERT_TRUE(
      other_process
          .AddVersion(Version(POLICY_LEVEL_COUNTY, "440305", "2025-02-01",
                              [](Policy& p) { p.mutable_training()->set_required_hours(450); }))
          .ok());
  clock_.Advance(absl::Seconds(59));
  EXPECT_EQ((*store.ReadCounty("440305"))->versions.size(), 2u);
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ((*store.ReadCounty("440305"))->versions.size(), 3u);
  resolved = store.Resolve("440305", D(2025, 6, 1));
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->policy().training().required_hours(), 450);
}

TEST_F(PolicyStoreTest, RedisDownIsUnavailable) {
  PolicyStore store(server_.pool(), Options(absl::ZeroDuration()));
  server_.Stop();
  EXPECT_EQ(store.Resolve("440305", D(2025, 1, 1)).status().code(), absl::StatusCode::kUnavailable);
  server_.Start();
}

}  // namespace
}  // namespace shidang::policy
