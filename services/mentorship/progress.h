#pragma once

// A pairing's progress term by term (DOMAIN §4): the terms from the policy's term starts, each
// activity kind's count against the policy's requirement, the stage goal for the mentee's year,
// and whether the term is on track. Pure functions over the rules' plain values (rules.h).
// Pinned down by tests/mentorship/progress_test.cc.
//
// On track, exactly (in integers, as DOMAIN §6's pace): a term's window is the part of the term
// the pairing covers (from the later of the term's first day and the pairing's start, to the
// earlier of the term's last day and the pairing's last day: ended_on, else planned_end);
// `elapsed` counts the window's days up to the as-of day (1 on its first day, all of them from
// its last day on, 0 before it). For each kind, expected = floor(required × elapsed /
// window_days); the term is on track when every kind's count reaches its expected value, and
// complete when every count reaches its requirement. So on the first day nothing is expected, an
// end-of-term evaluation is expected only on the window's last day, and a pairing that starts
// mid-term owes the whole term's requirement over the part it covers.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "services/common/dates.h"
#include "services/mentorship/rules.h"

namespace shidang::mentorship {

// ---------------------------------------------------------------------------------------------
// Terms.

// One term: the `number`-th (1-based) of the school year starting in `school_year`, from its
// start day through the day before the next term's start.
struct Term {
  int school_year = 0;
  int number = 0;
  dates::Period days;

  // "2025-2026-1" (2025-2026学年第1学期).
  std::string Id() const;
};

// The school year of `day`: the calendar year whose first term start (term_starts[0]) is on or
// before it. Term k > 1 of school year Y starts on term_starts[k-1] in Y when that month-day
// comes after term_starts[0], else in Y + 1.
Term TermOf(absl::CivilDay day, const MentorshipPolicy& policy);

// The term with this id ("2025-2026-1"). INVALID_ARGUMENT naming `field` for text of another
// shape, a second year that is not the first plus one, or a number outside 1..terms per year.
absl::StatusOr<Term> ParseTerm(absl::string_view id, const MentorshipPolicy& policy,
                               absl::string_view field = "term");

// The terms holding any day of first..last, in order (empty when last < first).
std::vector<Term> TermsBetween(absl::CivilDay first, absl::CivilDay last,
                               const MentorshipPolicy& policy);

// ---------------------------------------------------------------------------------------------
// Activities.

enum class ActivityKind {
  kLessonObserved,   // the mentee observed a lesson (听课)
  kLessonCoached,    // the mentor observed the mentee's lesson and coached (评课指导)
  kPublicLesson,     // the mentee gave a public lesson (公开课)
  kGuidanceSession,  // a guidance session (指导谈话)
  kTermEvaluation,   // the end-of-term evaluation (学期考核), with a grade and remarks
};
inline constexpr ActivityKind kActivityKinds[] = {
    ActivityKind::kLessonObserved, ActivityKind::kLessonCoached, ActivityKind::kPublicLesson,
    ActivityKind::kGuidanceSession, ActivityKind::kTermEvaluation};

// "LESSON_OBSERVED", "LESSON_COACHED", "PUBLIC_LESSON", "GUIDANCE_SESSION", "TERM_EVALUATION".
absl::string_view ActivityKindName(ActivityKind kind);

// How many of `kind` the policy requires per term.
int RequiredPerTerm(ActivityKind kind, const MentorshipPolicy& policy);

// One logged activity of a pairing.
struct Activity {
  ActivityKind kind = ActivityKind::kLessonObserved;
  absl::CivilDay date;
  // The term it was logged for; empty: the term holding `date`.
  std::string term_id;
};

// Whether an activity dated `date` may be logged for `term` in `pairing` as of `today`: the date
// lies in the term, on or after the pairing's start, on or before its last day when it ended, and
// not after today. INVALID_ARGUMENT with a violation of `field` (the request's path to the date)
// and the figures otherwise ("date: 2025-08-31 is not in term 2025-2026-1 (2025-09-01 ..
// 2026-02-28)").
absl::Status CheckActivityDate(const Pairing& pairing, const Term& term, absl::CivilDay date,
                               absl::CivilDay today, absl::string_view field = "date");

// ---------------------------------------------------------------------------------------------
// Progress.

struct KindProgress {
  ActivityKind kind = ActivityKind::kLessonObserved;
  int count = 0;
  int required = 0;
  // floor(required × elapsed / window_days) (see the top of this file).
  int expected = 0;
};

struct TermProgress {
  Term term;
  // The part of the term the pairing covers, and how many of its days have passed.
  dates::Period window;
  int64_t elapsed_days = 0;
  // The mentee's stage on the window's last day counted (the as-of day when earlier), and its
  // goal (StageGoal).
  Stage stage = Stage::kNone;
  std::vector<KindProgress> kinds;  // one per kind, in kActivityKinds order
  bool on_track = false;
  bool complete = false;
};

// The progress of `pairing` (mentee `mentee`) as of `as_of`: one entry per term from the term of
// its start through the term of the earlier of as_of and its last day (ended_on, else
// planned_end); empty when as_of is before the start. Activities count in the term they were
// logged for (Activity::term_id, else the term of their date) when dated on or before as_of;
// activities of other terms are ignored.
std::vector<TermProgress> ProgressOf(const Pairing& pairing, const TeacherFacts& mentee,
                                     const std::vector<Activity>& activities, absl::CivilDay as_of,
                                     const MentorshipPolicy& policy);

}  // namespace shidang::mentorship
