// Terms and a pairing's progress (services/mentorship/progress.h): term boundaries, ids, the
// counts against the requirement and the exact on-track rule at its boundaries.

#include "services/mentorship/progress.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shidang::mentorship {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

absl::CivilDay D(int y, int m, int d) { return absl::CivilDay(y, m, d); }

const MentorshipPolicy& P() { return DefaultMentorshipPolicy(); }

std::vector<std::string> Ids(const std::vector<Term>& terms) {
  std::vector<std::string> out;
  out.reserve(terms.size());
  for (const Term& t : terms) out.push_back(t.Id());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Terms.

TEST(TermOfTest, AutumnFromSeptemberSpringFromMarch) {
  Term t = TermOf(D(2025, 9, 1), P());
  EXPECT_EQ(t.Id(), "2025-2026-1");
  EXPECT_EQ(t.days.first, D(2025, 9, 1));
  EXPECT_EQ(t.days.last, D(2026, 2, 28));
  EXPECT_EQ(TermOf(D(2026, 2, 28), P()).Id(), "2025-2026-1");
  t = TermOf(D(2026, 3, 1), P());
  EXPECT_EQ(t.Id(), "2025-2026-2");
  EXPECT_EQ(t.days.first, D(2026, 3, 1));
  EXPECT_EQ(t.days.last, D(2026, 8, 31));
  EXPECT_EQ(TermOf(D(2025, 8, 31), P()).Id(), "2024-2025-2");
  EXPECT_EQ(TermOf(D(2026, 1, 15), P()).Id(), "2025-2026-1");
  // A leap year's autumn term ends on 29 February.
  EXPECT_EQ(TermOf(D(2023, 9, 1), P()).days.last, D(2024, 2, 29));
}

TEST(TermOfTest, ThreeTermsWrappingIntoTheNextYear) {
  MentorshipPolicy p = P();
  p.term_starts = {{8, 25}, {1, 10}, {5, 1}};
  Term t = TermOf(D(2026, 1, 9), p);
  EXPECT_EQ(t.Id(), "2025-2026-1");
  EXPECT_EQ(t.days.first, D(2025, 8, 25));
  EXPECT_EQ(t.days.last, D(2026, 1, 9));
  t = TermOf(D(2026, 1, 10), p);
  EXPECT_EQ(t.Id(), "2025-2026-2");
  EXPECT_EQ(t.days.last, D(2026, 4, 30));
  t = TermOf(D(2026, 8, 24), p);
  EXPECT_EQ(t.Id(), "2025-2026-3");
  EXPECT_EQ(t.days.first, D(2026, 5, 1));
  EXPECT_EQ(t.days.last, D(2026, 8, 24));
  EXPECT_EQ(TermOf(D(2026, 8, 25), p).Id(), "2026-2027-1");
}

TEST(ParseTermTest, IdsRoundTripAndOthersAreRefused) {
  absl::StatusOr<Term> t = ParseTerm("2025-2026-2", P());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->days.first, D(2026, 3, 1));
  EXPECT_EQ(t->days.last, D(2026, 8, 31));
  EXPECT_EQ(t->Id(), "2025-2026-2");
  for (const char* bad : {"2025-2027-1", "2025-2026-3", "2025-2026-0", "25-26-1", "2025-2026-+1",
                          "2025-2026", "", "2025-2026-1-1", "abcd-abce-1"}) {
    absl::StatusOr<Term> r = ParseTerm(bad, P(), "term_id");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("term_id: '"));
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("from 1 to 2"));
  }
}

TEST(TermsBetweenTest, EveryTermTouched) {
  EXPECT_THAT(Ids(TermsBetween(D(2025, 10, 1), D(2026, 9, 1), P())),
              ElementsAre("2025-2026-1", "2025-2026-2", "2026-2027-1"));
  EXPECT_THAT(Ids(TermsBetween(D(2025, 9, 1), D(2025, 9, 1), P())), ElementsAre("2025-2026-1"));
  EXPECT_THAT(TermsBetween(D(2025, 9, 2), D(2025, 9, 1), P()), IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// Activities.

Pairing MakePairing(absl::CivilDay start = D(2025, 9, 1)) {
  Pairing p;
  p.pairing_id = "P1";
  p.mentee_id = "T1";
  p.mentor_id = "M1";
  p.role = Role::kTeaching;
  p.start = start;
  p.planned_end = D(2027, 8, 31);
  return p;
}

TEST(CheckActivityDateTest, InTheTermThePairingAndThePast) {
  const Pairing pairing = MakePairing(D(2025, 9, 10));
  const Term term = TermOf(D(2025, 10, 1), P());
  const absl::CivilDay today = D(2025, 11, 1);
  EXPECT_TRUE(CheckActivityDate(pairing, term, D(2025, 9, 10), today).ok());
  EXPECT_TRUE(CheckActivityDate(pairing, term, today, today).ok());
  const std::vector<std::pair<absl::CivilDay, std::string>> bad = {
      {D(2025, 9, 9), "date: 2025-09-09 is before pairing P1 started on 2025-09-10"},
      {D(2025, 11, 2), "date: 2025-11-02 is after today, 2025-11-01"},
      {D(2026, 3, 1), "date: 2026-03-01 is not in term 2025-2026-1 (2025-09-01 .. 2026-02-28)"},
      {D(2025, 8, 31), "date: 2025-08-31 is not in term 2025-2026-1 (2025-09-01 .. 2026-02-28)"},
  };
  for (const auto& [date, message] : bad) {
    absl::Status s = CheckActivityDate(pairing, term, date, today);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message(), message);
  }
  Pairing ended = pairing;
  ended.ended_on = D(2025, 10, 15);
  EXPECT_TRUE(CheckActivityDate(ended, term, D(2025, 10, 15), today).ok());
  EXPECT_EQ(CheckActivityDate(ended, term, D(2025, 10, 16), today).message(),
            "date: 2025-10-16 is after pairing P1 ended on 2025-10-15");
}

// ---------------------------------------------------------------------------------------------
// Progress.

TeacherFacts MenteeHired(absl::CivilDay hire) {
  TeacherFacts t;
  t.teacher_id = "T1";
  t.hire_date = hire;
  return t;
}

std::vector<Activity> Many(ActivityKind kind, int n, absl::CivilDay date) {
  return std::vector<Activity>(n, Activity{kind, date, ""});
}

std::vector<Activity> operator+(std::vector<Activity> a, const std::vector<Activity>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const KindProgress& Of(const TermProgress& p, ActivityKind kind) {
  for (const KindProgress& k : p.kinds) {
    if (k.kind == kind) return k;
  }
  ADD_FAILURE() << "no kind " << ActivityKindName(kind);
  return p.kinds.at(0);
}

TEST(ProgressOfTest, NothingIsExpectedOnTheFirstDay) {
  const std::vector<TermProgress> p =
      ProgressOf(MakePairing(), MenteeHired(D(2024, 9, 1)), {}, D(2025, 9, 1), P());
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].term.Id(), "2025-2026-1");
  EXPECT_EQ(p[0].window.Days(), 181);
  EXPECT_EQ(p[0].elapsed_days, 1);
  EXPECT_EQ(p[0].stage, Stage::kYears2To3);
  ASSERT_EQ(p[0].kinds.size(), 5u);
  for (const KindProgress& k : p[0].kinds) EXPECT_EQ(k.expected, 0) << ActivityKindName(k.kind);
  EXPECT_EQ(Of(p[0], ActivityKind::kLessonObserved).required, 8);
  EXPECT_EQ(Of(p[0], ActivityKind::kGuidanceSession).required, 0);
  EXPECT_EQ(Of(p[0], ActivityKind::kTermEvaluation).required, 1);
  EXPECT_TRUE(p[0].on_track);
  EXPECT_FALSE(p[0].complete);
  // Before the start: nothing.
  EXPECT_THAT(ProgressOf(MakePairing(), MenteeHired(D(2024, 9, 1)), {}, D(2025, 8, 31), P()),
              IsEmpty());
}

TEST(ProgressOfTest, OnTrackByTheElapsedShareExactly) {
  // 8 lessons over 181 days: floor(8 × 22 / 181) = 0 on day 22, floor(8 × 23 / 181) = 1 on 23.
  const TeacherFacts mentee = MenteeHired(D(2024, 9, 1));
  auto at = [&](absl::CivilDay as_of, const std::vector<Activity>& a) {
    return ProgressOf(MakePairing(), mentee, a, as_of, P()).at(0);
  };
  TermProgress p = at(D(2025, 9, 22), {});
  EXPECT_EQ(p.elapsed_days, 22);
  EXPECT_EQ(Of(p, ActivityKind::kLessonObserved).expected, 0);
  EXPECT_TRUE(p.on_track);
  p = at(D(2025, 9, 23), {});
  EXPECT_EQ(Of(p, ActivityKind::kLessonObserved).expected, 1);
  EXPECT_EQ(Of(p, ActivityKind::kLessonCoached).expected, 1);
  EXPECT_EQ(Of(p, ActivityKind::kPublicLesson).expected, 0);
  EXPECT_FALSE(p.on_track);
  p = at(D(2025, 9, 23), Many(ActivityKind::kLessonObserved, 1, D(2025, 9, 5)));
  EXPECT_FALSE(p.on_track);
  p = at(D(2025, 9, 23), Many(ActivityKind::kLessonObserved, 1, D(2025, 9, 5)) +
                             Many(ActivityKind::kLessonCoached, 1, D(2025, 9, 20)));
  EXPECT_EQ(Of(p, ActivityKind::kLessonCoached).count, 1);
  EXPECT_TRUE(p.on_track);
}

TEST(ProgressOfTest, TheEvaluationIsDueOnTheLastDayAndCompletesTheTerm) {
  const TeacherFacts mentee = MenteeHired(D(2025, 3, 1));
  const std::vector<Activity> lessons = Many(ActivityKind::kLessonObserved, 8, D(2025, 10, 1)) +
                                        Many(ActivityKind::kLessonCoached, 8, D(2025, 11, 1)) +
                                        Many(ActivityKind::kPublicLesson, 1, D(2025, 12, 1));
  TermProgress p = ProgressOf(MakePairing(), mentee, lessons, D(2026, 2, 27), P()).at(0);
  EXPECT_EQ(Of(p, ActivityKind::kTermEvaluation).expected, 0);
  EXPECT_EQ(Of(p, ActivityKind::kPublicLesson).expected, 0);
  EXPECT_TRUE(p.on_track);
  EXPECT_FALSE(p.complete);
  EXPECT_EQ(p.stage, Stage::kYear1);
  p = ProgressOf(MakePairing(), mentee, lessons, D(2026, 2, 28), P()).at(0);
  EXPECT_EQ(Of(p, ActivityKind::kTermEvaluation).expected, 1);
  EXPECT_FALSE(p.on_track);
  const std::vector<Activity> all =
      lessons + Many(ActivityKind::kTermEvaluation, 1, D(2026, 2, 28));
  p = ProgressOf(MakePairing(), mentee, all, D(2026, 2, 28), P()).at(0);
  EXPECT_TRUE(p.on_track);
  EXPECT_TRUE(p.complete);
  EXPECT_EQ(p.stage, Stage::kYear1);  // hired 2025-03-01: year 2 starts on 2026-03-01
}

TEST(ProgressOfTest, TermsUpToTheAsOfDayAndActivitiesInTheirTerm) {
  const TeacherFacts mentee = MenteeHired(D(2024, 9, 1));
  std::vector<Activity> a = Many(ActivityKind::kLessonObserved, 3, D(2025, 10, 1));
  a.push_back({ActivityKind::kLessonObserved, D(2026, 3, 2), ""});
  // Logged for the spring term though dated on its eve: it counts where it was logged.
  a.push_back({ActivityKind::kGuidanceSession, D(2026, 2, 28), "2025-2026-2"});
  // After the as-of day: not yet counted.
  a.push_back({ActivityKind::kPublicLesson, D(2026, 3, 6), ""});
  const std::vector<TermProgress> p = ProgressOf(MakePairing(), mentee, a, D(2026, 3, 5), P());
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].elapsed_days, 181);
  EXPECT_EQ(Of(p[0], ActivityKind::kLessonObserved).count, 3);
  EXPECT_EQ(Of(p[0], ActivityKind::kLessonObserved).expected, 8);
  EXPECT_EQ(Of(p[0], ActivityKind::kGuidanceSession).count, 0);
  EXPECT_FALSE(p[0].on_track);
  EXPECT_EQ(p[1].term.Id(), "2025-2026-2");
  EXPECT_EQ(p[1].elapsed_days, 5);
  EXPECT_EQ(Of(p[1], ActivityKind::kLessonObserved).count, 1);
  EXPECT_EQ(Of(p[1], ActivityKind::kGuidanceSession).count, 1);
  EXPECT_EQ(Of(p[1], ActivityKind::kPublicLesson).count, 0);
  EXPECT_TRUE(p[1].on_track);
}

TEST(ProgressOfTest, APairingStartingMidTermOwesTheTermOverItsPart) {
  // From 2025-12-01: a window of 90 days; on day 45, 8 × 45 / 90 = 4 lessons are due.
  const TeacherFacts mentee = MenteeHired(D(2024, 9, 1));
  const TermProgress p = ProgressOf(MakePairing(D(2025, 12, 1)), mentee,
                                    Many(ActivityKind::kLessonObserved, 4, D(2025, 12, 2)) +
                                        Many(ActivityKind::kLessonCoached, 3, D(2025, 12, 3)),
                                    D(2026, 1, 14), P())
                             .at(0);
  EXPECT_EQ(p.window.first, D(2025, 12, 1));
  EXPECT_EQ(p.window.Days(), 90);
  EXPECT_EQ(p.elapsed_days, 45);
  EXPECT_EQ(Of(p, ActivityKind::kLessonObserved).expected, 4);
  EXPECT_EQ(Of(p, ActivityKind::kLessonCoached).expected, 4);
  EXPECT_FALSE(p.on_track);
}

TEST(ProgressOfTest, AnEndedPairingStopsAtItsLastDay) {
  Pairing pairing = MakePairing();
  pairing.ended_on = D(2025, 10, 31);
  const std::vector<TermProgress> p =
      ProgressOf(pairing, MenteeHired(D(2024, 9, 1)), {}, D(2026, 5, 1), P());
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].window.last, D(2025, 10, 31));
  EXPECT_EQ(p[0].window.Days(), 61);
  EXPECT_EQ(p[0].elapsed_days, 61);
  EXPECT_EQ(Of(p[0], ActivityKind::kLessonObserved).expected, 8);
}

}  // namespace
}  // namespace shidang::mentorship
