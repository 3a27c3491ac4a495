#include "services/mentorship/progress.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/violations.h"

namespace shidang::mentorship {
namespace {

// The first day of term `index` (0-based) of the school year starting in `school_year`; an index
// equal to the number of terms gives the next school year's first day.
absl::CivilDay TermStart(int school_year, size_t index, const MentorshipPolicy& policy) {
  const std::vector<MonthDay>& starts = policy.term_starts;
  if (index == starts.size()) return TermStart(school_year + 1, 0, policy);
  const MonthDay& first = starts[0];
  const MonthDay& md = starts[index];
  const bool before_first =
      md.month < first.month || (md.month == first.month && md.day < first.day);
  return absl::CivilDay(school_year + (before_first ? 1 : 0), md.month, md.day);
}

Term MakeTerm(int school_year, size_t index, const MentorshipPolicy& policy) {
  Term t;
  t.school_year = school_year;
  t.number = static_cast<int>(index) + 1;
  t.days.first = TermStart(school_year, index, policy);
  t.days.last = TermStart(school_year, index + 1, policy) - 1;
  return t;
}

absl::Status BadTerm(absl::string_view field, absl::string_view id, size_t terms) {
  return InvalidField(field, "term_format",
                      absl::StrCat("'", id,
                                   "' is not a term; want YYYY-YYYY-N, a school year (the second "
                                   "year one after the first) and a term number from 1 to ",
                                   terms, ", e.g. 2025-2026-1"));
}

}  // namespace

std::string Term::Id() const {
  return absl::StrCat(school_year, "-", school_year + 1, "-", number);
}

Term TermOf(absl::CivilDay day, const MentorshipPolicy& policy) {
  int school_year = static_cast<int>(day.year());
  if (day < TermStart(school_year, 0, policy)) --school_year;
  size_t index = 0;
  while (index + 1 < policy.term_starts.size() &&
         TermStart(school_year, index + 1, policy) <= day) {
    ++index;
  }
  return MakeTerm(school_year, index, policy);
}

absl::StatusOr<Term> ParseTerm(absl::string_view id, const MentorshipPolicy& policy,
                               absl::string_view field) {
  const std::vector<absl::string_view> parts = absl::StrSplit(id, '-');
  auto digits = [](absl::string_view s) {
    return !s.empty() && s.size() <= 4 && std::all_of(s.begin(), s.end(), [](char c) {
      return absl::ascii_isdigit(static_cast<unsigned char>(c));
    });
  };
  int first = 0, second = 0, number = 0;
  if (parts.size() != 3 || parts[0].size() != 4 || parts[1].size() != 4 ||
      !std::all_of(parts.begin(), parts.end(), digits) || !absl::SimpleAtoi(parts[0], &first) ||
      !absl::SimpleAtoi(parts[1], &second) || !absl::SimpleAtoi(parts[2], &number) ||
      second != first + 1 || first < 1900 || first > 2198 || number < 1 ||
      number > static_cast<int>(policy.term_starts.size())) {
    return BadTerm(field, id, policy.term_starts.size());
  }
  return MakeTerm(first, static_cast<size_t>(number - 1), policy);
}

std::vector<Term> TermsBetween(absl::CivilDay first, absl::CivilDay last,
                               const MentorshipPolicy& policy) {
  std::vector<Term> out;
  if (last < first) return out;
  for (Term t = TermOf(first, policy); t.days.first <= last; t = TermOf(t.days.last + 1, policy)) {
    out.push_back(t);
  }
  return out;
}

absl::string_view ActivityKindName(ActivityKind kind) {
  switch (kind) {
    case ActivityKind::kLessonObserved:
      return "LESSON_OBSERVED";
    case ActivityKind::kLessonCoached:
      return "LESSON_COACHED";
    case ActivityKind::kPublicLesson:
      return "PUBLIC_LESSON";
    case ActivityKind::kGuidanceSession:
      return "GUIDANCE_SESSION";
    case ActivityKind::kTermEvaluation:
      return "TERM_EVALUATION";
  }
  return "UNKNOWN";
}

int RequiredPerTerm(ActivityKind kind, const MentorshipPolicy& policy) {
  switch (kind) {
    case ActivityKind::kLessonObserved:
      return policy.lessons_observed_per_term;
    case ActivityKind::kLessonCoached:
      return policy.lessons_coached_per_term;
    case ActivityKind::kPublicLesson:
      return policy.public_lessons_per_term;
    case ActivityKind::kGuidanceSession:
      return policy.guidance_sessions_per_term;
    case ActivityKind::kTermEvaluation:
      return policy.evaluations_per_term;
  }
  return 0;
}

absl::Status CheckActivityDate(const Pairing& pairing, const Term& term, absl::CivilDay date,
                               absl::CivilDay today, absl::string_view field) {
  const std::string shown = dates::FormatDate(date);
  if (!term.days.Contains(date)) {
    return InvalidField(
        field, "in_term",
        absl::StrCat(shown, " is not in term ", term.Id(), " (", dates::FormatDate(term.days.first),
                     " .. ", dates::FormatDate(term.days.last), ")"));
  }
  if (date < pairing.start) {
    return InvalidField(field, "in_pairing",
                        absl::StrCat(shown, " is before pairing ", pairing.pairing_id,
                                     " started on ", dates::FormatDate(pairing.start)));
  }
  if (pairing.ended_on && date > *pairing.ended_on) {
    return InvalidField(field, "in_pairing",
                        absl::StrCat(shown, " is after pairing ", pairing.pairing_id, " ended on ",
                                     dates::FormatDate(*pairing.ended_on)));
  }
  if (date > today) {
    return InvalidField(field, "not_future",
                        absl::StrCat(shown, " is after today, ", dates::FormatDate(today)));
  }
  return absl::OkStatus();
}

std::vector<TermProgress> ProgressOf(const Pairing& pairing, const TeacherFacts& mentee,
                                     const std::vector<Activity>& activities, absl::CivilDay as_of,
                                     const MentorshipPolicy& policy) {
  std::vector<TermProgress> out;
  const absl::CivilDay last_day = pairing.ended_on.value_or(pairing.planned_end);
  for (const Term& term : TermsBetween(pairing.start, std::min(as_of, last_day), policy)) {
    TermProgress p;
    p.term = term;
    p.window.first = std::max(term.days.first, pairing.start);
    p.window.last = std::min(term.days.last, last_day);
    const int64_t window_days = std::max<int64_t>(p.window.Days(), 0);
    p.elapsed_days = std::clamp<int64_t>(as_of - p.window.first + 1, 0, window_days);
    p.stage = StageOn(mentee, std::min(as_of, p.window.last));
    const std::string id = term.Id();
    p.on_track = true;
    p.complete = true;
    for (ActivityKind kind : kActivityKinds) {
      KindProgress k;
      k.kind = kind;
      k.required = RequiredPerTerm(kind, policy);
      k.expected = window_days == 0 ? k.required
                                    : static_cast<int>(k.required * p.elapsed_days / window_days);
      for (const Activity& a : activities) {
        if (a.kind != kind || a.date > as_of) continue;
        const bool in_term = a.term_id.empty() ? term.days.Contains(a.date) : a.term_id == id;
        if (in_term) ++k.count;
      }
      p.on_track = p.on_track && k.count >= k.expected;
      p.complete = p.complete && k.count >= k.required;
      p.kinds.push_back(k);
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace shidang::mentorship
