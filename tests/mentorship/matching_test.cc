// Mentor suggestions (services/mentorship/matching.h): the ranking, the maximum b-matching
// against a brute force on small random graphs, a case a greedy pass gets wrong, capacity as
// multiplicity, and the county assignment against CheckPairing.

#include "services/mentorship/matching.h"

#include <algorithm>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shidang::mentorship {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

absl::CivilDay D(int y, int m, int d) { return absl::CivilDay(y, m, d); }
const absl::CivilDay kDay = D(2025, 9, 1);

const MentorshipPolicy& P() { return DefaultMentorshipPolicy(); }

TeacherFacts Teacher(const std::string& id, const std::string& school,
                     std::vector<std::string> subjects, absl::CivilDay hire) {
  TeacherFacts t;
  t.teacher_id = id;
  t.county_id = "440305";
  t.school_id = school;
  t.school_location = profile::v1::SCHOOL_LOCATION_URBAN;
  t.subjects = std::move(subjects);
  t.hire_date = hire;
  t.title = common::v1::PROFESSIONAL_TITLE_FIRST_GRADE;
  return t;
}

TeacherFacts Mentor(const std::string& id, const std::string& school, const std::string& subject,
                    common::v1::BackboneTier tier = common::v1::BACKBONE_TIER_UNSPECIFIED) {
  TeacherFacts t = Teacher(id, school, {subject}, D(2010, 9, 1));
  t.backbone_tier = tier;
  return t;
}

TeacherFacts Mentee(const std::string& id, const std::string& school,
                    std::vector<std::string> subjects) {
  TeacherFacts t = Teacher(id, school, std::move(subjects), D(2024, 9, 1));
  t.title = common::v1::PROFESSIONAL_TITLE_THIRD_GRADE;
  return t;
}

Pairing Active(const std::string& mentee, const std::string& mentor, Role role) {
  Pairing p;
  p.pairing_id = absl::StrCat("P-", mentee, "-", mentor);
  p.mentee_id = mentee;
  p.mentor_id = mentor;
  p.role = role;
  p.start = D(2025, 3, 1);
  p.planned_end = D(2027, 2, 28);
  return p;
}

std::vector<std::string> Ids(const std::vector<RankedMentor>& ranked) {
  std::vector<std::string> out;
  out.reserve(ranked.size());
  for (const RankedMentor& r : ranked) out.push_back(r.mentor_id);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Ranking.

TEST(RankMentorsTest, TierThenLoadThenTitleThenId) {
  const TeacherFacts mentee = Mentee("T1", "S1", {"数学"});
  TeacherFacts senior = Mentor("M4", "S1", "数学");
  senior.title = common::v1::PROFESSIONAL_TITLE_SENIOR;
  const std::vector<TeacherFacts> candidates = {
      Mentor("M1", "S1", "数学"),
      Mentor("M2", "S1", "数学", common::v1::BACKBONE_TIER_COUNTY),
      Mentor("M3", "S1", "数学", common::v1::BACKBONE_TIER_PROVINCE),
      senior,
      Mentor("M0", "S1", "数学"),
      Mentor("M5", "S1", "数学", common::v1::BACKBONE_TIER_COUNTY),
      Mentor("M6", "S2", "数学", common::v1::BACKBONE_TIER_PROVINCE),  // another school
      Mentor("M7", "S1", "语文", common::v1::BACKBONE_TIER_PROVINCE),  // another subject
  };
  const std::vector<Pairing> pairings = {Active("X", "M2", Role::kSecond)};
  const std::vector<RankedMentor> ranked =
      RankMentors(mentee, Role::kTeaching, candidates, pairings, kDay, P());
  EXPECT_THAT(Ids(ranked), ElementsAre("M3", "M5", "M2", "M4", "M0", "M1"));
  EXPECT_EQ(ranked[2].active_count, 1);
  EXPECT_EQ(ranked[2].capacity, 2);
  EXPECT_EQ(ranked[0].why, "同校，同教数学；省级骨干教师；职称一级；已带 0 人（最多 2 人）");
  EXPECT_EQ(ranked[2].why, "同校，同教数学；县级骨干教师；职称一级；已带 1 人（最多 2 人）");
  EXPECT_THAT(Ids(RankMentors(mentee, Role::kTeaching, candidates, pairings, kDay, P(), 2)),
              ElementsAre("M3", "M5"));
}

TEST(RankMentorsTest, SecondMentorsFromAnotherSchoolOfTheSubjectFirst) {
  const TeacherFacts mentee = Mentee("T1", "S1", {"数学"});
  const std::vector<TeacherFacts> candidates = {
      Mentor("M1", "S1", "数学", common::v1::BACKBONE_TIER_PROVINCE),
      Mentor("M2", "S2", "语文", common::v1::BACKBONE_TIER_PROVINCE),
      Mentor("M3", "S3", "数学"),
  };
  const std::vector<RankedMentor> ranked =
      RankMentors(mentee, Role::kSecond, candidates, {}, kDay, P());
  EXPECT_THAT(Ids(ranked), ElementsAre("M3", "M1", "M2"));
  EXPECT_TRUE(ranked[0].preferred_place_and_subject);
  EXPECT_FALSE(ranked[1].preferred_place_and_subject);
  EXPECT_THAT(ranked[0].why, HasSubstr("外校，同教数学；"));
  EXPECT_THAT(ranked[2].why, HasSubstr("外校，无相同学科；"));
}

TEST(RankMentorsTest, OnlyThoseEveryRuleAllowsWithAFreePlace) {
  const TeacherFacts mentee = Mentee("T1", "S1", {"数学"});
  TeacherFacts vetoed = Mentor("M2", "S1", "数学");
  vetoed.ethics_findings = {{common::v1::ETHICS_SEVERITY_WARNING, D(2025, 8, 1), {}}};
  const std::vector<TeacherFacts> candidates = {Mentor("M1", "S1", "数学"), vetoed,
                                                Mentor("M3", "S1", "数学")};
  const std::vector<Pairing> full = {Active("A", "M3", Role::kTeaching),
                                     Active("B", "M3", Role::kSecond)};
  EXPECT_THAT(Ids(RankMentors(mentee, Role::kTeaching, candidates, full, kDay, P())),
              ElementsAre("M1"));
  // A mentee whose role is taken gets no suggestion (CheckPairing: ROLE_TAKEN).
  std::vector<Pairing> taken = full;
  taken.push_back(Active("T1", "M9", Role::kTeaching));
  EXPECT_THAT(RankMentors(mentee, Role::kTeaching, candidates, taken, kDay, P()), IsEmpty());
  // M1 as TEACHING mentor cannot also be the SECOND; M2 is still vetoed.
  EXPECT_THAT(Ids(RankMentors(mentee, Role::kSecond, candidates,
                              {Active("T1", "M1", Role::kTeaching)}, kDay, P())),
              ElementsAre("M3"));
}

// ---------------------------------------------------------------------------------------------
// The b-matching on indexes.

// The largest number of left vertices any assignment within capacities matches.
int BruteForceMaximum(const BipartiteGraph& g) {
  std::vector<int> load(g.right_capacity.size(), 0);
  std::function<int(int)> best = [&](int l) -> int {
    if (l == g.left_count) return 0;
    int result = best(l + 1);  // l unmatched
    for (int r : g.candidates[l]) {
      if (load[r] == g.right_capacity[r]) continue;
      ++load[r];
      result = std::max(result, 1 + best(l + 1));
      --load[r];
    }
    return result;
  };
  return best(0);
}

// The matching is valid (candidates only, capacities kept); returns its size.
int CheckedSize(const BipartiteGraph& g, const std::vector<int>& match) {
  EXPECT_EQ(match.size(), static_cast<size_t>(g.left_count));
  std::vector<int> load(g.right_capacity.size(), 0);
  int size = 0;
  for (int l = 0; l < g.left_count; ++l) {
    if (match[l] < 0) continue;
    const auto& c = g.candidates[l];
    EXPECT_NE(std::find(c.begin(), c.end(), match[l]), c.end()) << "left " << l;
    ++load[match[l]];
    ++size;
  }
  for (size_t r = 0; r < load.size(); ++r) EXPECT_LE(load[r], g.right_capacity[r]) << r;
  return size;
}

TEST(MaximumBMatchingTest, CapacityIsMultiplicity) {
  BipartiteGraph g;
  g.left_count = 4;
  g.right_capacity = {3, 1};
  g.candidates = {{0}, {0}, {0}, {0, 1}};
  const std::vector<int> match = MaximumBMatching(g);
  EXPECT_EQ(CheckedSize(g, match), 4);
  EXPECT_EQ(match[3], 1);
  g.right_capacity = {2, 0};
  EXPECT_EQ(CheckedSize(g, MaximumBMatching(g)), 2);
}

TEST(MaximumBMatchingTest, AugmentsWhereTheSeedBlocks) {
  // Every left vertex has two candidates, so the seed takes them in index order: 0 takes its best
  // (0), 1 its best (1), 2 finds both of its taken; only the augmenting path 2-0-0-1-1-2 pairs
  // all three.
  BipartiteGraph g;
  g.left_count = 3;
  g.right_capacity = {1, 1, 1};
  g.candidates = {{0, 1}, {1, 2}, {0, 1}};
  std::vector<int> match = MaximumBMatching(g);
  EXPECT_EQ(CheckedSize(g, match), 3);
  g.candidates = {{0, 1}, {1, 0}, {1, 0}};
  match = MaximumBMatching(g);
  EXPECT_EQ(CheckedSize(g, match), 2);
}

TEST(MaximumBMatchingTest, SameSizeAsABruteForceOnRandomSmallGraphs) {
  std::mt19937 rng(20251206);
  for (int round = 0; round < 1500; ++round) {
    BipartiteGraph g;
    g.left_count = std::uniform_int_distribution<int>(0, 8)(rng);
    const int rights = std::uniform_int_distribution<int>(1, 5)(rng);
    for (int r = 0; r < rights; ++r) {
      g.right_capacity.push_back(std::uniform_int_distribution<int>(0, 2)(rng));
    }
    for (int l = 0; l < g.left_count; ++l) {
      std::vector<int> all(rights);
      for (int r = 0; r < rights; ++r) all[r] = r;
      std::shuffle(all.begin(), all.end(), rng);
      all.resize(std::uniform_int_distribution<int>(0, rights)(rng));
      g.candidates.push_back(all);
    }
    SCOPED_TRACE(round);
    EXPECT_EQ(CheckedSize(g, MaximumBMatching(g)), BruteForceMaximum(g));
  }
}

TEST(MaximumBMatchingTest, ALargeGraphIsMatchedUpToCapacity) {
  // 1,500 mentees, 800 mentors of 2 places each, each mentee with 20 random candidates.
  std::mt19937 rng(7);
  BipartiteGraph g;
  g.left_count = 1500;
  g.right_capacity.assign(800, 2);
  for (int l = 0; l < g.left_count; ++l) {
    std::vector<int> c;
    while (c.size() < 20) {
      const int r = std::uniform_int_distribution<int>(0, 799)(rng);
      if (std::find(c.begin(), c.end(), r) == c.end()) c.push_back(r);
    }
    g.candidates.push_back(c);
  }
  EXPECT_EQ(CheckedSize(g, MaximumBMatching(g)), 1500);
}

// ---------------------------------------------------------------------------------------------
// A county's assignment.

// What a greedy pass does: mentees in order, each taking its best ranked mentor now.
std::vector<std::string> GreedyLeftOut(const std::vector<TeacherFacts>& teachers,
                                       std::vector<Pairing> pairings, Role role) {
  std::vector<std::string> left_out;
  for (const Unpaired& u : FindUnpaired(teachers, pairings, kDay, P())) {
    if (role == Role::kTeaching ? !u.lacks_teaching : !u.lacks_second) continue;
    const TeacherFacts& mentee =
        *std::find_if(teachers.begin(), teachers.end(),
                      [&](const TeacherFacts& t) { return t.teacher_id == u.teacher_id; });
    std::vector<RankedMentor> ranked = RankMentors(mentee, role, teachers, pairings, kDay, P(), 1);
    if (ranked.empty()) {
      left_out.push_back(u.teacher_id);
    } else {
      pairings.push_back(Active(u.teacher_id, ranked[0].mentor_id, role));
    }
  }
  return left_out;
}

TEST(SuggestPairingsTest, PairsTheMenteeAGreedyPassLeavesOut) {
  // T1 teaches 数学 and 物理, T2 only 数学. M1 (数学, 省级) has one free place, M2 (物理) one.
  // Greedy gives T1 its best, M1, and T2 is left out; the matching pairs T1-M2 and T2-M1.
  const std::vector<TeacherFacts> teachers = {
      Mentee("T1", "S1", {"数学", "物理"}), Mentee("T2", "S1", {"数学"}),
      Mentor("M1", "S1", "数学", common::v1::BACKBONE_TIER_PROVINCE), Mentor("M2", "S1", "物理"),
      Mentee("X", "S9", {"美术"})};
  const std::vector<Pairing> pairings = {Active("X", "M1", Role::kTeaching)};
  EXPECT_THAT(GreedyLeftOut(teachers, pairings, Role::kTeaching), ElementsAre("T2"));

  const CountySuggestions s = SuggestPairings(teachers, pairings, Role::kTeaching, kDay, P());
  EXPECT_EQ(s.mentees_needing, 2);
  EXPECT_EQ(s.free_places, 3);
  ASSERT_EQ(s.suggestions.size(), 2u);
  EXPECT_EQ(s.suggestions[0].mentee_id, "T1");
  EXPECT_EQ(s.suggestions[0].mentor_id, "M2");
  EXPECT_EQ(s.suggestions[0].rank, 1);
  EXPECT_EQ(s.suggestions[0].why,
            "同校，同教物理；非骨干教师；职称一级；已带 0 人（最多 2 人）；第 2 人选：首选导师的 1 "
            "个名额给了另 1 位新教师，以便结对更多人");
  EXPECT_EQ(s.suggestions[1].mentee_id, "T2");
  EXPECT_EQ(s.suggestions[1].mentor_id, "M1");
  EXPECT_EQ(s.suggestions[1].rank, 0);
  EXPECT_THAT(s.left_out, IsEmpty());
}

TEST(SuggestPairingsTest, CapacityAsMultiplicityAndWhyTheRestAreLeftOut) {
  // M1 has two free places, M2 one (one taken): four 数学 mentees at S1, three places.
  const std::vector<TeacherFacts> teachers = {
      Mentor("M1", "S1", "数学"),   Mentor("M2", "S1", "数学"),   Mentee("T1", "S1", {"数学"}),
      Mentee("T2", "S1", {"数学"}), Mentee("T3", "S1", {"数学"}), Mentee("T4", "S1", {"数学"}),
      Mentee("T5", "S2", {"数学"})};
  const std::vector<Pairing> pairings = {Active("Z", "M2", Role::kSecond)};
  const CountySuggestions s = SuggestPairings(teachers, pairings, Role::kTeaching, kDay, P());
  EXPECT_EQ(s.mentees_needing, 5);
  EXPECT_EQ(s.free_places, 3);
  ASSERT_EQ(s.suggestions.size(), 3u);
  int to_m1 = 0;
  for (const Suggestion& x : s.suggestions) to_m1 += x.mentor_id == "M1";
  EXPECT_EQ(to_m1, 2);
  ASSERT_EQ(s.left_out.size(), 2u);
  EXPECT_THAT(s.left_out[0].why,
              HasSubstr("位候选导师的名额都已给其他新教师（最多能为 5 人中的 3 人结对）"));
  EXPECT_EQ(s.left_out[1].mentee_id, "T5");
  EXPECT_EQ(s.left_out[1].why, "本校没有教数学、尚有名额的合格导师");
}

TEST(SuggestPairingsTest, EachMenteeGetsItsBestWhenThereIsRoom) {
  const std::vector<TeacherFacts> teachers = {
      Mentee("T1", "S1", {"数学"}), Mentee("T2", "S2", {"语文"}),
      Mentor("M1", "S3", "数学", common::v1::BACKBONE_TIER_CITY),
      Mentor("M2", "S3", "语文", common::v1::BACKBONE_TIER_COUNTY),
      Mentor("M3", "S1", "数学", common::v1::BACKBONE_TIER_PROVINCE)};
  const CountySuggestions s = SuggestPairings(teachers, {}, Role::kSecond, kDay, P());
  ASSERT_EQ(s.suggestions.size(), 2u);
  EXPECT_EQ(s.suggestions[0].mentor_id, "M1");  // another school, 数学, before M3 of S1
  EXPECT_EQ(s.suggestions[1].mentor_id, "M2");
  EXPECT_EQ(s.suggestions[0].rank, 0);
  EXPECT_EQ(s.suggestions[1].rank, 0);
}

TEST(SuggestPairingsTest, UrbanRuralPairsUrbanBackboneWithRuralOfTheSubject) {
  TeacherFacts rural = Teacher("R1", "V1", {"英语"}, D(2000, 9, 1));
  rural.school_location = profile::v1::SCHOOL_LOCATION_RURAL;
  TeacherFacts town = Mentor("M2", "Z1", "英语", common::v1::BACKBONE_TIER_PROVINCE);
  town.school_location = profile::v1::SCHOOL_LOCATION_TOWN;
  const std::vector<TeacherFacts> teachers = {
      rural, town, Mentor("M1", "S1", "英语", common::v1::BACKBONE_TIER_COUNTY),
      Mentor("M3", "S1", "英语")};
  const CountySuggestions s = SuggestPairings(teachers, {}, Role::kUrbanRural, kDay, P());
  EXPECT_EQ(s.mentees_needing, 1);
  ASSERT_EQ(s.suggestions.size(), 1u);
  EXPECT_EQ(s.suggestions[0].mentor_id, "M1");
  EXPECT_THAT(s.suggestions[0].why, HasSubstr("城区学校，同教英语；"));
}

// A random county: schools, subjects, titles, tiers, vetoes, hire dates, statuses, pairings.
struct RandomCounty {
  std::vector<TeacherFacts> teachers;
  std::vector<Pairing> pairings;
};

RandomCounty MakeCounty(std::mt19937& rng, int size) {
  const std::vector<std::string> subjects = {"数学", "语文", "英语"};
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  RandomCounty c;
  for (int i = 0; i < size; ++i) {
    TeacherFacts t = Teacher(absl::StrCat("T", i), absl::StrCat("S", pick(3)), {subjects[pick(3)]},
                             D(2008 + pick(18), 1 + pick(12), 1 + pick(28)));
    if (pick(4) == 0) t.subjects.push_back(subjects[pick(3)]);
    t.school_location = static_cast<profile::v1::SchoolLocation>(1 + pick(3));
    t.title = static_cast<common::v1::ProfessionalTitle>(pick(6));
    t.backbone_tier = static_cast<common::v1::BackboneTier>(pick(3) == 0 ? 1 + pick(3) : 0);
    if (pick(8) == 0) t.post_status = profile::v1::POST_STATUS_SICK_LEAVE;
    if (pick(10) == 0) t.post_status = profile::v1::POST_STATUS_LEFT;
    if (pick(6) == 0) {
      t.ethics_findings.push_back(
          {static_cast<common::v1::EthicsSeverity>(1 + pick(4)), kDay - pick(800), std::nullopt});
    }
    c.teachers.push_back(t);
  }
  for (int k = 0; k < size / 3; ++k) {
    Pairing p = Active(c.teachers[pick(size)].teacher_id, c.teachers[pick(size)].teacher_id,
                       static_cast<Role>(pick(3)));
    if (pick(4) == 0) p.ended_on = D(2025, 6, 30);
    c.pairings.push_back(p);
  }
  return c;
}

TEST(SuggestPairingsTest, RankingAgreesWithCheckPairingOnRandomCounties) {
  std::mt19937 rng(16);
  for (int round = 0; round < 40; ++round) {
    const RandomCounty c = MakeCounty(rng, 30);
    for (Role role : {Role::kTeaching, Role::kSecond, Role::kUrbanRural}) {
      for (const TeacherFacts& mentee : c.teachers) {
        std::vector<std::string> allowed;
        for (const TeacherFacts& mentor : c.teachers) {
          const PairingRequest r{mentee.teacher_id, mentor.teacher_id, role, kDay, kDay};
          if (CheckPairing(r, mentee, mentor, c.pairings, P()).empty()) {
            allowed.push_back(mentor.teacher_id);
          }
        }
        std::vector<std::string> ranked =
            Ids(RankMentors(mentee, role, c.teachers, c.pairings, kDay, P()));
        std::sort(ranked.begin(), ranked.end());
        std::sort(allowed.begin(), allowed.end());
        ASSERT_EQ(ranked, allowed)
            << "round " << round << " mentee " << mentee.teacher_id << " role " << RoleName(role);
      }
    }
  }
}

TEST(SuggestPairingsTest, AsManyAsAFullMatchingAndEachAcceptable) {
  std::mt19937 rng(2025);
  MentorshipPolicy one = P();
  one.max_mentees = 1;  // scarce places, so the cut and the augmenting paths both matter
  for (int round = 0; round < 40; ++round) {
    const RandomCounty c = MakeCounty(rng, 40);
    for (const MentorshipPolicy* policy : {&P(), static_cast<const MentorshipPolicy*>(&one)}) {
      for (Role role : {Role::kTeaching, Role::kSecond, Role::kUrbanRural}) {
        SCOPED_TRACE(absl::StrCat("round ", round, " role ", RoleName(role)));
        const CountySuggestions s = SuggestPairings(c.teachers, c.pairings, role, kDay, *policy);
        // The same county as a graph built from CheckPairing alone, uncut.
        BipartiteGraph g;
        std::vector<const TeacherFacts*> mentees;
        for (const TeacherFacts& t : c.teachers) {
          if (!RankMentors(t, role, c.teachers, c.pairings, kDay, *policy).empty() ||
              std::any_of(s.left_out.begin(), s.left_out.end(),
                          [&](const LeftOut& l) { return l.mentee_id == t.teacher_id; })) {
            mentees.push_back(&t);
          }
        }
        for (const TeacherFacts& m : c.teachers) {
          g.right_capacity.push_back(
              std::max(0, policy->max_mentees - ActiveCountFor(m.teacher_id, role, c.pairings)));
        }
        g.left_count = static_cast<int>(mentees.size());
        for (const TeacherFacts* mentee : mentees) {
          std::vector<int> candidates;
          for (size_t m = 0; m < c.teachers.size(); ++m) {
            const PairingRequest r{mentee->teacher_id, c.teachers[m].teacher_id, role, kDay, kDay};
            if (CheckPairing(r, *mentee, c.teachers[m], c.pairings, *policy).empty()) {
              candidates.push_back(static_cast<int>(m));
            }
          }
          g.candidates.push_back(candidates);
        }
        EXPECT_EQ(static_cast<int>(s.suggestions.size()), CheckedSize(g, MaximumBMatching(g)));
        EXPECT_EQ(s.suggestions.size() + s.left_out.size(), static_cast<size_t>(s.mentees_needing));
        // Accepting the suggestions one by one, each still passes every rule.
        std::vector<Pairing> accepted = c.pairings;
        for (const Suggestion& x : s.suggestions) {
          auto find = [&](const std::string& id) {
            return *std::find_if(c.teachers.begin(), c.teachers.end(),
                                 [&](const TeacherFacts& t) { return t.teacher_id == id; });
          };
          const PairingRequest r{x.mentee_id, x.mentor_id, role, kDay, kDay};
          EXPECT_THAT(CheckPairing(r, find(x.mentee_id), find(x.mentor_id), accepted, *policy),
                      IsEmpty())
              << x.mentee_id << " " << x.mentor_id;
          accepted.push_back(Active(x.mentee_id, x.mentor_id, role));
        }
      }
    }
  }
}

// A county large enough for the lists' cut to matter: 1,200 new teachers, 300 in each of 4
// subjects at 20 schools, and `mentors_per_subject` qualified mentors of each subject at 20 other
// schools, 2 places each. Every mentee shares its best mentors with the 299 others of its
// subject, so a cut at 64 places leaves most of them out.
struct LargeCounty {
  std::vector<TeacherFacts> teachers;
  CountySuggestions suggested;
};

LargeCounty SuggestSecondInLargeCounty(int mentors_per_subject) {
  const std::vector<std::string> subjects = {"数学", "语文", "英语", "科学"};
  LargeCounty c;
  for (int i = 0; i < 1200; ++i) {
    c.teachers.push_back(
        Mentee(absl::StrCat("N", i), absl::StrCat("S", i % 20), {subjects[i % 4]}));
  }
  for (int i = 0; i < 4 * mentors_per_subject; ++i) {
    c.teachers.push_back(Mentor(absl::StrCat("M", i), absl::StrCat("O", i % 20), subjects[i % 4]));
  }
  c.suggested = SuggestPairings(c.teachers, {}, Role::kSecond, kDay, P());
  return c;
}

// Accepting every suggestion one by one, each still passes every rule (capacity included).
void ExpectEachAcceptable(const LargeCounty& c) {
  absl::flat_hash_map<std::string, const TeacherFacts*> by_id;
  for (const TeacherFacts& t : c.teachers) by_id[t.teacher_id] = &t;
  std::vector<Pairing> accepted;
  for (const Suggestion& x : c.suggested.suggestions) {
    const PairingRequest r{x.mentee_id, x.mentor_id, Role::kSecond, kDay, kDay};
    ASSERT_THAT(CheckPairing(r, *by_id[x.mentee_id], *by_id[x.mentor_id], accepted, P()), IsEmpty())
        << x.mentee_id << " " << x.mentor_id;
    accepted.push_back(Active(x.mentee_id, x.mentor_id, Role::kSecond));
  }
}

TEST(SuggestPairingsTest, LongerListsPairEveryMenteeWhenPlacesSuffice) {
  // 2,400 places for 1,200 mentees: every one is paired, by a subject's mentor where one is free.
  const LargeCounty c = SuggestSecondInLargeCounty(300);
  EXPECT_EQ(c.suggested.mentees_needing, 1200);
  EXPECT_EQ(c.suggested.suggestions.size(), 1200u);
  EXPECT_THAT(c.suggested.left_out, IsEmpty());
  ExpectEachAcceptable(c);
  for (const Suggestion& x : c.suggested.suggestions) {
    const int mentee = std::stoi(x.mentee_id.substr(1)), mentor = std::stoi(x.mentor_id.substr(1));
    EXPECT_EQ(mentee % 4, mentor % 4) << x.mentee_id << " " << x.mentor_id << " share no subject";
  }
}

TEST(SuggestPairingsTest, ScarcePlacesAreAllGivenWithLongerLists) {
  // 1,000 places for 1,200 mentees: a maximum assignment fills every place.
  const LargeCounty c = SuggestSecondInLargeCounty(125);
  EXPECT_EQ(c.suggested.suggestions.size(), 1000u);
  ASSERT_EQ(c.suggested.left_out.size(), 200u);
  EXPECT_THAT(c.suggested.left_out.front().why,
              HasSubstr("位候选导师的名额都已给其他新教师（最多能为 1200 人中的 1000 人结对）"));
  ExpectEachAcceptable(c);
}

}  // namespace
}  // namespace shidang::mentorship
