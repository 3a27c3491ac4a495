#include "services/mentorship/rules.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/policy_resolver.h"

namespace shidang::mentorship {
namespace {

using common::v1::BackboneTier;
using common::v1::ProfessionalTitle;

// MM-DD of a day every year has (the policy store refuses 02-29 the same way).
std::optional<MonthDay> ParseMonthDay(absl::string_view text) {
  int month = 0, day = 0;
  if (text.size() != 5 || text[2] != '-') return std::nullopt;
  for (size_t i : {0, 1, 3, 4}) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
  }
  if (!absl::SimpleAtoi(text.substr(0, 2), &month) || !absl::SimpleAtoi(text.substr(3, 2), &day)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || absl::CivilDay(2001, month, day).month() != month) {
    return std::nullopt;
  }
  return MonthDay{month, day};
}

// Months and days counted from `first` of a school year: a day before `first` in the calendar
// falls in the next calendar year.
int OffsetInYear(const MonthDay& md, const MonthDay& first) {
  const int value = md.month * 32 + md.day;
  const int base = first.month * 32 + first.day;
  return value >= base ? value - base : value - base + 13 * 32;
}

bool AfterInYear(const MonthDay& earlier, const MonthDay& later, const MonthDay& first) {
  return OffsetInYear(earlier, first) < OffsetInYear(later, first);
}

absl::Status ReadTerms(const common::v1::MentorshipTermList& terms, MentorshipPolicy& out) {
  if (terms.terms().empty()) {
    return absl::FailedPreconditionError(
        "policy mentorship.terms: no terms; want at least one term start (MM-DD)");
  }
  out.term_starts.clear();
  for (int i = 0; i < terms.terms_size(); ++i) {
    const std::string& text = terms.terms(i).start();
    std::optional<MonthDay> start = ParseMonthDay(text);
    const std::string field = absl::StrCat("policy mentorship.terms[", i, "].start");
    if (!start) {
      return absl::FailedPreconditionError(
          absl::StrCat(field, ": '", text, "' is not MM-DD of a day every year has"));
    }
    if (std::find(out.term_starts.begin(), out.term_starts.end(), *start) !=
        out.term_starts.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat(field, ": '", text, "' starts another term already"));
    }
    // Calendar order from the first term, wrapping into the next year once.
    if (i > 0 && !(AfterInYear(out.term_starts.back(), *start, out.term_starts[0]))) {
      return absl::FailedPreconditionError(
          absl::StrCat(field, ": '", text, "' does not follow the term before it in the year that ",
                       terms.terms(0).start(), " starts; list the terms in calendar order"));
    }
    out.term_starts.push_back(*start);
  }
  return absl::OkStatus();
}

bool SharesSubject(const TeacherFacts& a, const TeacherFacts& b) {
  for (const std::string& s : a.subjects) {
    if (std::find(b.subjects.begin(), b.subjects.end(), s) != b.subjects.end()) return true;
  }
  return false;
}

std::string Subjects(const TeacherFacts& t) {
  return t.subjects.empty() ? "none" : absl::StrJoin(t.subjects, "、");
}

absl::string_view LocationLabel(profile::v1::SchoolLocation location) {
  switch (location) {
    case profile::v1::SCHOOL_LOCATION_URBAN:
      return "城区";
    case profile::v1::SCHOOL_LOCATION_TOWN:
      return "镇区";
    case profile::v1::SCHOOL_LOCATION_RURAL:
      return "乡村";
    default:
      return "unknown";
  }
}

// The pairing problems that concern the two teachers, whatever pairings exist.
void CheckPeople(const PairingRequest& r, const TeacherFacts& mentee, const TeacherFacts& mentor,
                 const MentorshipPolicy& policy, std::vector<Problem>& out);
// The problems that concern the mentor's qualifications on the start day.
void CheckMentor(const PairingRequest& r, const TeacherFacts& mentor,
                 const MentorshipPolicy& policy, std::vector<Problem>& out);
// School, subject and the urban-rural kinds.
void CheckFit(const PairingRequest& r, const TeacherFacts& mentee, const TeacherFacts& mentor,
              std::vector<Problem>& out);
// Role taken, the other role, capacity.
void CheckExisting(const PairingRequest& r, const std::vector<Pairing>& pairings,
                   const MentorshipPolicy& policy, std::vector<Problem>& out);

void Add(std::vector<Problem>& out, Refusal reason, absl::string_view field, std::string message) {
  out.push_back(Problem{reason, std::string(field), std::move(message)});
}

void CheckPeople(const PairingRequest& r, const TeacherFacts& mentee, const TeacherFacts& mentor,
                 const MentorshipPolicy& policy, std::vector<Problem>& out) {
  if (r.mentee_id == r.mentor_id) {
    Add(out, Refusal::kSelf, kFieldMentorId,
        absl::StrCat("teacher ", r.mentor_id, " cannot be their own mentor"));
  }
  if (mentee.county_id != mentor.county_id) {
    Add(out, Refusal::kCounty, kFieldMentorId,
        absl::StrCat("mentor ", r.mentor_id, " is in county ", mentor.county_id, ", mentee ",
                     r.mentee_id, " in county ", mentee.county_id,
                     "; a pairing stays within one county"));
  }
  if (r.planned_end < r.start) {
    Add(out, Refusal::kPlannedEnd, kFieldPlannedEnd,
        absl::StrCat("planned end ", dates::FormatDate(r.planned_end), " is before the start ",
                     dates::FormatDate(r.start)));
  }
  if (r.role != Role::kUrbanRural && !IsNewTeacher(mentee, r.start, policy)) {
    const absl::CivilDay last_new =
        dates::ShiftYears(mentee.hire_date, policy.new_teacher_years) - 1;
    Add(out, Refusal::kMenteeNotNew, kFieldMenteeId,
        absl::StrCat("mentee ", r.mentee_id, " was hired on ", dates::FormatDate(mentee.hire_date),
                     " and is a new teacher (first ", policy.new_teacher_years,
                     " years) from then through ", dates::FormatDate(last_new),
                     ", not on the start ", dates::FormatDate(r.start)));
  }
  if (!MenteeInServiceOn(mentee, r.start)) {
    Add(out, Refusal::kMenteeNotInService, kFieldMenteeId,
        absl::StrCat("mentee ", r.mentee_id, " is ",
                     profile::v1::PostStatus_Name(PostStatusOn(mentee, r.start)), " on the start ",
                     dates::FormatDate(r.start), "; a mentee must not have retired or left"));
  }
}

void CheckMentor(const PairingRequest& r, const TeacherFacts& mentor,
                 const MentorshipPolicy& policy, std::vector<Problem>& out) {
  if (!MentorInServiceOn(mentor, r.start)) {
    Add(out, Refusal::kMentorNotInService, kFieldMentorId,
        absl::StrCat("mentor ", r.mentor_id, " is ",
                     profile::v1::PostStatus_Name(PostStatusOn(mentor, r.start)), " on the start ",
                     dates::FormatDate(r.start),
                     "; a mentor must be POST_STATUS_ON_DUTY or POST_STATUS_SECONDED"));
  }
  if (r.role == Role::kUrbanRural) {
    if (BackboneTierOn(mentor, r.start) == common::v1::BACKBONE_TIER_UNSPECIFIED) {
      Add(out, Refusal::kUrbanRuralNotBackbone, kFieldMentorId,
          absl::StrCat("mentor ", r.mentor_id, " has no backbone designation on the start ",
                       dates::FormatDate(r.start),
                       "; an urban-rural partner is a backbone teacher (县级 or above)"));
    }
  } else {
    if (!TitleQualifiesOn(mentor, r.start, policy)) {
      // The start day is named when the mentor's title then is not the one they hold now.
      const ProfessionalTitle then = TitleOn(mentor, r.start);
      const std::string when =
          then == mentor.title ? "" : absl::StrCat(" on the start ", dates::FormatDate(r.start));
      Add(out, Refusal::kMentorTitle, kFieldMentorId,
          absl::StrCat("mentor ", r.mentor_id, then == mentor.title ? " holds" : " held", " title ",
                       TitleLabel(then), " and no backbone designation", when,
                       "; a mentor needs at least ", TitleLabel(policy.mentor_min_title),
                       policy.backbone_qualifies ? " or a backbone designation" : ""));
    }
    const int64_t years = TeachingYears(mentor, r.start);
    if (years < policy.mentor_min_teaching_years) {
      Add(out, Refusal::kMentorYears, kFieldMentorId,
          absl::StrCat("mentor ", r.mentor_id, " has ", years, " whole years of teaching on ",
                       dates::FormatDate(r.start), " (hired ", dates::FormatDate(mentor.hire_date),
                       "); a mentor needs ", policy.mentor_min_teaching_years));
    }
  }
  if (const EthicsFinding* veto = ActiveVeto(mentor, r.start, policy)) {
    const dates::Period period = *VetoPeriod(*veto, policy);
    Add(out, Refusal::kMentorVeto, kFieldMentorId,
        absl::StrCat("mentor ", r.mentor_id, " is under an ethics veto (",
                     common::v1::EthicsSeverity_Name(veto->severity), " of ",
                     dates::FormatDate(veto->date), ", ", VetoMonths(*veto, policy),
                     " months) from ", dates::FormatDate(period.first), " through ",
                     dates::FormatDate(period.last), ", covering the start ",
                     dates::FormatDate(r.start)));
  }
}

void CheckFit(const PairingRequest& r, const TeacherFacts& mentee, const TeacherFacts& mentor,
              std::vector<Problem>& out) {
  if (r.role == Role::kTeaching && mentee.school_id != mentor.school_id) {
    Add(out, Refusal::kSchool, kFieldMentorId,
        absl::StrCat("mentor ", r.mentor_id, " is at school ", mentor.school_id, ", mentee ",
                     r.mentee_id, " at ", mentee.school_id,
                     "; a TEACHING mentor is at the mentee's school"));
  }
  if (r.role != Role::kSecond && !SharesSubject(mentee, mentor)) {
    Add(out, Refusal::kSubject, kFieldMentorId,
        absl::StrCat("mentor ", r.mentor_id, " teaches ", Subjects(mentor), ", mentee ",
                     r.mentee_id, " teaches ", Subjects(mentee), "; a ", RoleName(r.role),
                     " pairing shares a subject"));
  }
  if (r.role != Role::kUrbanRural) return;
  if (mentor.school_location != profile::v1::SCHOOL_LOCATION_URBAN) {
    Add(out, Refusal::kUrbanRuralNotUrban, kFieldMentorId,
        absl::StrCat("mentor ", r.mentor_id, "'s school ", mentor.school_id, " is ",
                     LocationLabel(mentor.school_location),
                     "; an urban-rural partner teaches at a 城区 school"));
  }
  if (mentee.school_location != profile::v1::SCHOOL_LOCATION_RURAL) {
    Add(out, Refusal::kUrbanRuralNotRural, kFieldMenteeId,
        absl::StrCat("mentee ", r.mentee_id, "'s school ", mentee.school_id, " is ",
                     LocationLabel(mentee.school_location),
                     "; an urban-rural pair is for a teacher at a 乡村 school"));
  }
}

bool IsDualRole(Role role) { return role == Role::kTeaching || role == Role::kSecond; }

void CheckExisting(const PairingRequest& r, const std::vector<Pairing>& pairings,
                   const MentorshipPolicy& policy, std::vector<Problem>& out) {
  for (const Pairing& p : pairings) {
    if (!p.active() || p.mentee_id != r.mentee_id) continue;
    if (p.role == r.role) {
      Add(out, Refusal::kRoleTaken, kFieldMenteeId,
          absl::StrCat("mentee ", r.mentee_id, " already has ", p.mentor_id, " as ",
                       RoleName(r.role), " mentor (pairing ", p.pairing_id, " since ",
                       dates::FormatDate(p.start), "); one active mentor per role"));
      break;
    }
  }
  if (IsDualRole(r.role)) {
    for (const Pairing& p : pairings) {
      if (p.active() && p.mentee_id == r.mentee_id && p.mentor_id == r.mentor_id &&
          IsDualRole(p.role) && p.role != r.role) {
        Add(out, Refusal::kMentorHoldsOtherRole, kFieldMentorId,
            absl::StrCat("mentor ", r.mentor_id, " already is mentee ", r.mentee_id, "'s ",
                         RoleName(p.role), " mentor (pairing ", p.pairing_id,
                         "); the two mentors are two teachers"));
        break;
      }
    }
  }
  if (auto problem = CapacityProblem(r.mentor_id, r.role,
                                     ActiveCountFor(r.mentor_id, r.role, pairings), policy)) {
    out.push_back(*std::move(problem));
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Policy.

const MentorshipPolicy& DefaultMentorshipPolicy() {
  static const MentorshipPolicy* const kDefaults = [] {
    absl::StatusOr<MentorshipPolicy> p = MentorshipPolicyFrom(policy::NationalDefaults());
    // The built-in defaults are DOMAIN's and pass the policy store's validation.
    if (!p.ok()) std::abort();
    return new MentorshipPolicy(*std::move(p));
  }();
  return *kDefaults;
}

absl::StatusOr<MentorshipPolicy> MentorshipPolicyFrom(const common::v1::Policy& resolved) {
  // Built-in defaults first, then every field the resolved policy sets.
  common::v1::Policy merged = policy::NationalDefaults();
  merged.mutable_mentorship()->MergeFrom(resolved.mentorship());
  if (resolved.mentorship().has_terms()) {
    *merged.mutable_mentorship()->mutable_terms() = resolved.mentorship().terms();
  }
  merged.mutable_ethics()->MergeFrom(resolved.ethics());
  const common::v1::MentorshipPolicy& m = merged.mentorship();
  const common::v1::EthicsPolicy& e = merged.ethics();
  MentorshipPolicy p;
  p.new_teacher_years = m.new_teacher_years();
  p.mentor_min_title = m.mentor_min_title();
  p.backbone_qualifies = m.backbone_qualifies();
  p.mentor_min_teaching_years = m.mentor_min_teaching_years();
  p.max_mentees = m.max_mentees();
  p.lessons_observed_per_term = m.min_lessons_observed_per_term();
  p.lessons_coached_per_term = m.min_lessons_coached_per_term();
  p.public_lessons_per_term = m.min_public_lessons_per_term();
  p.guidance_sessions_per_term = m.min_guidance_sessions_per_term();
  p.evaluations_per_term = m.evaluations_per_term();
  p.warning_veto_months = e.warning_months();
  p.demerit_veto_months = e.demerit_months();
  p.demotion_veto_months = e.demotion_months();
  p.dismissal_veto_months = e.dismissal_months();
  if (absl::Status s = ReadTerms(m.terms(), p); !s.ok()) return s;
  return p;
}

// ---------------------------------------------------------------------------------------------
// Single rules.

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kTeaching:
      return "TEACHING";
    case Role::kSecond:
      return "SECOND";
    case Role::kUrbanRural:
      return "URBAN_RURAL";
  }
  return "UNKNOWN";
}

bool IsNewTeacher(const TeacherFacts& teacher, absl::CivilDay day, const MentorshipPolicy& policy) {
  return teacher.hire_date <= day &&
         day < dates::ShiftYears(teacher.hire_date, policy.new_teacher_years);
}

int VetoMonths(const EthicsFinding& finding, const MentorshipPolicy& policy) {
  if (finding.veto_months) return *finding.veto_months;
  switch (finding.severity) {
    case common::v1::ETHICS_SEVERITY_WARNING:
      return policy.warning_veto_months;
    case common::v1::ETHICS_SEVERITY_DEMERIT:
      return policy.demerit_veto_months;
    case common::v1::ETHICS_SEVERITY_DEMOTION:
      return policy.demotion_veto_months;
    case common::v1::ETHICS_SEVERITY_DISMISSAL:
      return policy.dismissal_veto_months;
    default:
      return 0;
  }
}

std::optional<dates::Period> VetoPeriod(const EthicsFinding& finding,
                                        const MentorshipPolicy& policy) {
  const int months = VetoMonths(finding, policy);
  if (months <= 0) return std::nullopt;
  return dates::MonthsFrom(finding.date, months);
}

const EthicsFinding* ActiveVeto(const TeacherFacts& teacher, absl::CivilDay day,
                                const MentorshipPolicy& policy) {
  const EthicsFinding* found = nullptr;
  absl::CivilDay found_last;
  for (const EthicsFinding& f : teacher.ethics_findings) {
    std::optional<dates::Period> period = VetoPeriod(f, policy);
    if (!period || !period->Contains(day)) continue;
    if (found == nullptr || period->last > found_last) {
      found = &f;
      found_last = period->last;
    }
  }
  return found;
}

namespace {

bool MentorStatus(profile::v1::PostStatus status) {
  return status == profile::v1::POST_STATUS_ON_DUTY || status == profile::v1::POST_STATUS_SECONDED;
}

bool MenteeStatus(profile::v1::PostStatus status) {
  switch (status) {
    case profile::v1::POST_STATUS_ON_DUTY:
    case profile::v1::POST_STATUS_SECONDED:
    case profile::v1::POST_STATUS_SICK_LEAVE:
    case profile::v1::POST_STATUS_MATERNITY_LEAVE:
      return true;
    default:
      return false;
  }
}

}  // namespace

common::v1::ProfessionalTitle TitleOn(const TeacherFacts& teacher, absl::CivilDay day) {
  return ValueOn(teacher.title_history, teacher.title, day);
}

common::v1::BackboneTier BackboneTierOn(const TeacherFacts& teacher, absl::CivilDay day) {
  return ValueOn(teacher.backbone_history, teacher.backbone_tier, day);
}

profile::v1::PostStatus PostStatusOn(const TeacherFacts& teacher, absl::CivilDay day) {
  return ValueOn(teacher.post_status_history, teacher.post_status, day);
}

bool MentorInService(const TeacherFacts& teacher) { return MentorStatus(teacher.post_status); }
bool MenteeInService(const TeacherFacts& teacher) { return MenteeStatus(teacher.post_status); }

bool MentorInServiceOn(const TeacherFacts& teacher, absl::CivilDay day) {
  return MentorStatus(PostStatusOn(teacher, day));
}

bool MenteeInServiceOn(const TeacherFacts& teacher, absl::CivilDay day) {
  return MenteeStatus(PostStatusOn(teacher, day));
}

bool TitleQualifiesOn(const TeacherFacts& mentor, absl::CivilDay day,
                      const MentorshipPolicy& policy) {
  if (TitleOn(mentor, day) >= policy.mentor_min_title) return true;
  return policy.backbone_qualifies &&
         BackboneTierOn(mentor, day) != common::v1::BACKBONE_TIER_UNSPECIFIED;
}

int64_t TeachingYears(const TeacherFacts& teacher, absl::CivilDay day) {
  if (day < teacher.hire_date) return 0;
  // A first guess from the calendar years, corrected by at most one either way.
  int64_t n = std::max<int64_t>(0, day.year() - teacher.hire_date.year());
  while (n > 0 && dates::ShiftYears(teacher.hire_date, n) > day) --n;
  while (dates::ShiftYears(teacher.hire_date, n + 1) <= day) ++n;
  return n;
}

Stage StageOn(const TeacherFacts& mentee, absl::CivilDay day) {
  if (day < mentee.hire_date) return Stage::kNone;
  const int64_t year = TeachingYears(mentee, day) + 1;
  if (year == 1) return Stage::kYear1;
  if (year <= 3) return Stage::kYears2To3;
  if (year <= 5) return Stage::kYears4To5;
  return Stage::kNone;
}

absl::string_view StageName(Stage stage) {
  switch (stage) {
    case Stage::kYear1:
      return "YEAR_1";
    case Stage::kYears2To3:
      return "YEARS_2_3";
    case Stage::kYears4To5:
      return "YEARS_4_5";
    case Stage::kNone:
      break;
  }
  return "NONE";
}

absl::string_view StageGoal(Stage stage) {
  switch (stage) {
    case Stage::kYear1:
      return "上好一节完整、规范的课";
    case Stage::kYears2To3:
      return "确定并达成教学目标";
    case Stage::kYears4To5:
      return "形成个人教学风格，科学开展教学评价";
    case Stage::kNone:
      break;
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// A pairing request, checked.

absl::string_view RefusalName(Refusal reason) {
  switch (reason) {
    case Refusal::kSelf:
      return "SELF";
    case Refusal::kCounty:
      return "COUNTY";
    case Refusal::kPlannedEnd:
      return "PLANNED_END";
    case Refusal::kMenteeNotNew:
      return "MENTEE_NOT_NEW";
    case Refusal::kMenteeNotInService:
      return "MENTEE_NOT_IN_SERVICE";
    case Refusal::kMentorNotInService:
      return "MENTOR_NOT_IN_SERVICE";
    case Refusal::kMentorTitle:
      return "MENTOR_TITLE";
    case Refusal::kMentorYears:
      return "MENTOR_YEARS";
    case Refusal::kMentorVeto:
      return "MENTOR_VETO";
    case Refusal::kSchool:
      return "SCHOOL";
    case Refusal::kSubject:
      return "SUBJECT";
    case Refusal::kRoleTaken:
      return "ROLE_TAKEN";
    case Refusal::kMentorHoldsOtherRole:
      return "MENTOR_HOLDS_OTHER_ROLE";
    case Refusal::kCapacity:
      return "CAPACITY";
    case Refusal::kUrbanRuralNotUrban:
      return "URBAN_RURAL_NOT_URBAN";
    case Refusal::kUrbanRuralNotBackbone:
      return "URBAN_RURAL_NOT_BACKBONE";
    case Refusal::kUrbanRuralNotRural:
      return "URBAN_RURAL_NOT_RURAL";
  }
  return "UNKNOWN";
}

std::vector<Problem> CheckPairing(const PairingRequest& request, const TeacherFacts& mentee,
                                  const TeacherFacts& mentor, const std::vector<Pairing>& pairings,
                                  const MentorshipPolicy& policy) {
  std::vector<Problem> out;
  CheckPeople(request, mentee, mentor, policy, out);
  CheckMentor(request, mentor, policy, out);
  CheckFit(request, mentee, mentor, out);
  CheckExisting(request, pairings, policy, out);
  std::stable_sort(out.begin(), out.end(), [](const Problem& a, const Problem& b) {
    return static_cast<int>(a.reason) < static_cast<int>(b.reason);
  });
  return out;
}

std::optional<Problem> CapacityProblem(absl::string_view mentor_id, Role role, int active_count,
                                       const MentorshipPolicy& policy) {
  if (active_count < policy.max_mentees) return std::nullopt;
  const bool dual = IsDualRole(role);
  return Problem{Refusal::kCapacity, std::string(kFieldMentorId),
                 absl::StrCat("mentor ", mentor_id, " already has ", active_count, " active ",
                              dual ? "mentees" : "urban-rural partners", "; capacity is ",
                              policy.max_mentees)};
}

int ActiveCountFor(absl::string_view mentor_id, Role role, const std::vector<Pairing>& pairings) {
  const bool dual = IsDualRole(role);
  int count = 0;
  for (const Pairing& p : pairings) {
    if (p.active() && p.mentor_id == mentor_id && IsDualRole(p.role) == dual) ++count;
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// Who lacks a mentor.

std::vector<Unpaired> FindUnpaired(const std::vector<TeacherFacts>& teachers,
                                   const std::vector<Pairing>& pairings, absl::CivilDay day,
                                   const MentorshipPolicy& policy) {
  // Roles held, by mentee: bit 1 TEACHING, bit 2 SECOND.
  absl::flat_hash_map<absl::string_view, int> held;
  for (const Pairing& p : pairings) {
    if (!p.ActiveOn(day)) continue;
    if (p.role == Role::kTeaching) held[p.mentee_id] |= 1;
    if (p.role == Role::kSecond) held[p.mentee_id] |= 2;
  }
  std::vector<Unpaired> out;
  for (const TeacherFacts& t : teachers) {
    if (!IsNewTeacher(t, day, policy) || !MenteeInServiceOn(t, day)) continue;
    auto it = held.find(t.teacher_id);
    const int roles = it == held.end() ? 0 : it->second;
    if (roles == 3) continue;
    out.push_back(Unpaired{t.teacher_id, (roles & 1) == 0, (roles & 2) == 0});
  }
  return out;
}

absl::string_view TitleLabel(ProfessionalTitle title) {
  switch (title) {
    case common::v1::PROFESSIONAL_TITLE_THIRD_GRADE:
      return "三级";
    case common::v1::PROFESSIONAL_TITLE_SECOND_GRADE:
      return "二级";
    case common::v1::PROFESSIONAL_TITLE_FIRST_GRADE:
      return "一级";
    case common::v1::PROFESSIONAL_TITLE_SENIOR:
      return "高级";
    case common::v1::PROFESSIONAL_TITLE_FULL_SENIOR:
      return "正高级";
    default:
      return "无";
  }
}

absl::string_view TierLabel(BackboneTier tier) {
  switch (tier) {
    case common::v1::BACKBONE_TIER_COUNTY:
      return "县级";
    case common::v1::BACKBONE_TIER_CITY:
      return "市级";
    case common::v1::BACKBONE_TIER_PROVINCE:
      return "省级";
    default:
      return "无";
  }
}

}  // namespace shidang::mentorship
