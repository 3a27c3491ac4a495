#pragma once

// The mentorship service's domain rules (DOMAIN §4, §6: 师徒结对, 双导师, 城乡结对) as pure
// functions over plain values: no Redis, no gRPC, no clock. Who counts as a new teacher, who may
// mentor whom (every refusal with its reason, the request field and the figures), ethics vetoes
// at their exact boundaries, the mentee's stage, and who still lacks a mentor. Pinned down by
// tests/mentorship/rules_test.cc. The matching (matching.h) and the term progress (progress.h)
// build on these.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "services/common/dates.h"
#include "shidang/common/v1/policy.pb.h"
#include "shidang/common/v1/types.pb.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::mentorship {

// ---------------------------------------------------------------------------------------------
// Policy.

// A day of the year, month and day ("09-01").
struct MonthDay {
  int month = 0;
  int day = 0;

  friend bool operator==(const MonthDay& a, const MonthDay& b) {
    return a.month == b.month && a.day == b.day;
  }
};

// The mentorship section of the resolved policy (and the ethics section's veto months) as the
// rules use it. Start from DefaultMentorshipPolicy() or MentorshipPolicyFrom(); a value-initialised
// struct has zeros, not DOMAIN's defaults.
struct MentorshipPolicy {
  // A teacher is new for this many years from the hire date (5).
  int new_teacher_years = 0;
  // A mentor holds at least this title (一级) ...
  common::v1::ProfessionalTitle mentor_min_title = common::v1::PROFESSIONAL_TITLE_UNSPECIFIED;
  // ... or any backbone designation, when this is true (true).
  bool backbone_qualifies = false;
  // Whole years of teaching since the hire date a mentor has on the start day (5).
  int mentor_min_teaching_years = 0;
  // Active pairings of both 双导师 roles a mentor holds at once (2). Urban-rural pairs are
  // counted apart, against the same number.
  int max_mentees = 0;
  // Per term (DOMAIN §4): lessons the mentee observed (8), lessons the mentor observed and
  // coached (8), public lessons (1), guidance sessions (DOMAIN names no number: 0, counted but
  // not required), term evaluations (1).
  int lessons_observed_per_term = 0;
  int lessons_coached_per_term = 0;
  int public_lessons_per_term = 0;
  int guidance_sessions_per_term = 0;
  int evaluations_per_term = 0;
  // First days of the terms of a school year, the school year's first term first ({09-01,
  // 03-01}). Each term runs to the day before the next one starts, so the terms cover every day.
  std::vector<MonthDay> term_starts;
  // Months an ethics finding of each severity vetoes for (ethics section: 6, 12, 24, 24).
  int warning_veto_months = 0;
  int demerit_veto_months = 0;
  int demotion_veto_months = 0;
  int dismissal_veto_months = 0;
};

// The built-in national defaults (services/common/policy_defaults.cc) as the rules' policy.
const MentorshipPolicy& DefaultMentorshipPolicy();

// The rules' policy from a resolved policy (common::v1::Policy): each set field of its
// mentorship and ethics sections overrides the built-in default. FAILED_PRECONDITION naming the
// field for a value the rules cannot use (no terms, a term start that is not MM-DD or that every
// year lacks, the same start twice, starts not in calendar order from the first).
absl::StatusOr<MentorshipPolicy> MentorshipPolicyFrom(const common::v1::Policy& resolved);

// ---------------------------------------------------------------------------------------------
// The facts the rules read (the service's copy of the profile service's teachers).

// A fact that changed on a day (a dated timeline entry).
template <typename T>
struct Dated {
  absl::CivilDay on;
  T value;
};

// A fact's dated history: what held before its first change (nullopt: not known), and the
// changes in the order they arrived.
template <typename T>
struct History {
  std::optional<T> before;
  std::vector<Dated<T>> changes;
};

// An ethics finding (师德考核) on the teacher's timeline.
struct EthicsFinding {
  common::v1::EthicsSeverity severity = common::v1::ETHICS_SEVERITY_UNSPECIFIED;
  // The finding's date: the veto's first day.
  absl::CivilDay date;
  // The veto's length as the profile service recorded it; nullopt: the policy's months for the
  // severity. 0 (or an UNSPECIFIED severity, an evaluation without a finding): no veto.
  std::optional<int> veto_months;
};

// What the rules know of one teacher.
struct TeacherFacts {
  std::string teacher_id;
  std::string county_id;
  std::string school_id;
  // The school's location (城区 / 镇区 / 乡村), for urban-rural pairs.
  profile::v1::SchoolLocation school_location = profile::v1::SCHOOL_LOCATION_UNSPECIFIED;
  std::vector<std::string> subjects;
  // 参加工作时间.
  absl::CivilDay hire_date;
  common::v1::ProfessionalTitle title = common::v1::PROFESSIONAL_TITLE_UNSPECIFIED;
  // UNSPECIFIED: no (current) backbone designation.
  common::v1::BackboneTier backbone_tier = common::v1::BACKBONE_TIER_UNSPECIFIED;
  std::vector<EthicsFinding> ethics_findings;
  // UNSPECIFIED counts as not in service (the profile service always sets it).
  profile::v1::PostStatus post_status = profile::v1::POST_STATUS_ON_DUTY;
  // The dated histories of title, backbone_tier and post_status (those three hold the facts as
  // they are now); the rules judge a day by TitleOn, BackboneTierOn and PostStatusOn. An empty
  // history: the fact now held on every day.
  History<common::v1::ProfessionalTitle> title_history;
  History<common::v1::BackboneTier> backbone_history;
  History<profile::v1::PostStatus> post_status_history;
};

// The three kinds of pairing. TEACHING and SECOND are the two mentors of 双导师; URBAN_RURAL is
// 城乡结对, a pairing of its own: an urban backbone teacher (the "mentor") with a rural teacher of
// the same subject (the "mentee"), new or not.
enum class Role { kTeaching, kSecond, kUrbanRural };

// "TEACHING", "SECOND", "URBAN_RURAL" (the proto enum's suffixes).
absl::string_view RoleName(Role role);

// One pairing as the service stores it.
struct Pairing {
  std::string pairing_id;
  std::string mentee_id;
  std::string mentor_id;
  Role role = Role::kTeaching;
  absl::CivilDay start;
  absl::CivilDay planned_end;
  // The last day it ran when it ended (completed or ended early); nullopt while active.
  std::optional<absl::CivilDay> ended_on;

  // Not yet ended, whatever its dates. Capacity and "one mentor per role" count these: a new
  // pairing runs until it is ended, so it overlaps every pairing not ended from the later of
  // the two starts on, whether that one started before it or starts after it.
  bool active() const { return !ended_on.has_value(); }
  // Runs on `day`: started on or before it and not ended before it (ended_on is its last day).
  bool ActiveOn(absl::CivilDay day) const {
    return start <= day && (!ended_on.has_value() || day <= *ended_on);
  }
};

// ---------------------------------------------------------------------------------------------
// Single rules.

// DOMAIN §6: a new teacher on `day`: hire <= day < ShiftYears(hire, new_teacher_years).
bool IsNewTeacher(const TeacherFacts& teacher, absl::CivilDay day, const MentorshipPolicy& policy);

// The veto's length in months: the finding's own, else the policy's for its severity (0 for an
// UNSPECIFIED severity).
int VetoMonths(const EthicsFinding& finding, const MentorshipPolicy& policy);

// DOMAIN §6: the days a finding of m months dated d vetoes: d through ShiftMonths(d, m) - 1 day.
// nullopt when it vetoes nothing (m = 0).
std::optional<dates::Period> VetoPeriod(const EthicsFinding& finding,
                                        const MentorshipPolicy& policy);

// The finding whose veto covers `day` (the one ending last when several do), or nullptr.
const EthicsFinding* ActiveVeto(const TeacherFacts& teacher, absl::CivilDay day,
                                const MentorshipPolicy& policy);

// A fact on `day` from its history: the latest change dated on or before `day` (of two on one
// day, the later to arrive), else what held before the first change, else (nothing known before
// the changes) `now`.
template <typename T>
T ValueOn(const History<T>& history, T now, absl::CivilDay day) {
  const Dated<T>* latest = nullptr;
  for (const Dated<T>& change : history.changes) {
    if (change.on <= day && (latest == nullptr || change.on >= latest->on)) latest = &change;
  }
  if (latest != nullptr) return latest->value;
  return history.before.value_or(now);
}

// The teacher's title, backbone tier and post status on `day` (ValueOn of their histories).
common::v1::ProfessionalTitle TitleOn(const TeacherFacts& teacher, absl::CivilDay day);
common::v1::BackboneTier BackboneTierOn(const TeacherFacts& teacher, absl::CivilDay day);
profile::v1::PostStatus PostStatusOn(const TeacherFacts& teacher, absl::CivilDay day);

// In service (在岗, or 借调 for a mentor who teaches elsewhere for now): a mentor must be ON_DUTY
// or SECONDED; a mentee must be anything but RETIRED, LEFT or UNSPECIFIED (a new teacher on
// leave keeps their mentors). The first two judge the post status now, the *On ones on `day`.
bool MentorInService(const TeacherFacts& teacher);
bool MenteeInService(const TeacherFacts& teacher);
bool MentorInServiceOn(const TeacherFacts& teacher, absl::CivilDay day);
bool MenteeInServiceOn(const TeacherFacts& teacher, absl::CivilDay day);

// The policy's title on `day` (TitleOn), or (when the policy lets it) a backbone designation on
// `day` (BackboneTierOn).
bool TitleQualifiesOn(const TeacherFacts& mentor, absl::CivilDay day,
                      const MentorshipPolicy& policy);

// Whole years of teaching on `day`: the largest n >= 0 with ShiftYears(hire, n) <= day.
int64_t TeachingYears(const TeacherFacts& teacher, absl::CivilDay day);

// The mentee's stage goal (DOMAIN §4), by their year of teaching on a day: year 1 is hire through
// ShiftYears(hire, 1) - 1, and so on. kNone before the hire date and from year 6 on.
enum class Stage { kNone, kYear1, kYears2To3, kYears4To5 };
Stage StageOn(const TeacherFacts& mentee, absl::CivilDay day);
// "YEAR_1", "YEARS_2_3", "YEARS_4_5", "NONE".
absl::string_view StageName(Stage stage);
// The goal in Chinese: "上好一节完整、规范的课" (year 1), "确定并达成教学目标" (years 2-3),
// "形成个人教学风格，科学开展教学评价" (years 4-5); "" for kNone.
absl::string_view StageGoal(Stage stage);

// ---------------------------------------------------------------------------------------------
// A pairing request, checked.

// Why a pairing is refused. RefusalName gives the proto's suffix (MENTEE_NOT_NEW, ...).
enum class Refusal {
  kSelf,                   // the mentee is their own mentor
  kCounty,                 // the two are in different counties (a pairing lives in one county)
  kPlannedEnd,             // the planned end is before the start
  kMenteeNotNew,           // the mentee is not a new teacher on the start day (TEACHING, SECOND)
  kMenteeNotInService,     // the mentee has retired or left
  kMentorNotInService,     // the mentor is not on duty (or seconded)
  kMentorTitle,            // below the policy's title, and no backbone designation that counts
  kMentorYears,            // fewer whole years of teaching than the policy's
  kMentorVeto,             // an ethics veto is active on the start day
  kSchool,                 // a TEACHING mentor at another school than the mentee's
  kSubject,                // no shared subject (TEACHING, URBAN_RURAL)
  kRoleTaken,              // the mentee already has an active mentor in this role
  kMentorHoldsOtherRole,   // the mentor already is this mentee's mentor in the other 双导师 role
  kCapacity,               // the mentor's active pairings already fill the capacity
  kUrbanRuralNotUrban,     // URBAN_RURAL: the mentor's school is not 城区
  kUrbanRuralNotBackbone,  // URBAN_RURAL: the mentor has no backbone designation
  kUrbanRuralNotRural,     // URBAN_RURAL: the mentee's school is not 乡村
};

// "SELF", "COUNTY", "PLANNED_END", "MENTEE_NOT_NEW", "MENTEE_NOT_IN_SERVICE",
// "MENTOR_NOT_IN_SERVICE", "MENTOR_TITLE", "MENTOR_YEARS", "MENTOR_VETO", "SCHOOL", "SUBJECT",
// "ROLE_TAKEN", "MENTOR_HOLDS_OTHER_ROLE", "CAPACITY", "URBAN_RURAL_NOT_URBAN",
// "URBAN_RURAL_NOT_BACKBONE", "URBAN_RURAL_NOT_RURAL".
absl::string_view RefusalName(Refusal reason);

// The request fields a problem names.
inline constexpr absl::string_view kFieldMenteeId = "mentee_id";
inline constexpr absl::string_view kFieldMentorId = "mentor_id";
inline constexpr absl::string_view kFieldPlannedEnd = "planned_end_date";

// One reason a pairing cannot be made: the reason, the request field it concerns and a message
// naming the figures ("mentor T123 already has 2 active mentees; capacity is 2").
struct Problem {
  Refusal reason = Refusal::kSelf;
  std::string field;
  std::string message;
};

struct PairingRequest {
  std::string mentee_id;
  std::string mentor_id;
  Role role = Role::kTeaching;
  absl::CivilDay start;
  absl::CivilDay planned_end;
};

// Every problem with `request` (empty: it may be made), in the order of Refusal. `mentee` and
// `mentor` are the facts of the request's two teachers; `pairings` holds at least every active
// pairing of either (others, and inactive ones, are ignored). Both teachers' facts are judged on
// the start day: the mentee's being new and in service, the mentor's title or backbone
// designation, years, veto and post status (TitleOn, BackboneTierOn, PostStatusOn). "One mentor
// per role" and capacity count the pairings not yet ended (Pairing::active), whether they
// started before the start day or start after it: an ended pairing has freed its role and place
// for any new pairing, even one backdated to before its end (past days are not judged again).
// Capacity: TEACHING and SECOND together against max_mentees, URBAN_RURAL apart against
// max_mentees.
// A SECOND mentor may be at any school and teach any subject (DOMAIN §6). URBAN_RURAL has its
// own rules instead of the mentor's title and years and the mentee's being new: a backbone mentor
// at a 城区 school, a mentee at a 乡村 school, a shared subject (veto, service, county, role and
// capacity as for the others).
std::vector<Problem> CheckPairing(const PairingRequest& request, const TeacherFacts& mentee,
                                  const TeacherFacts& mentor, const std::vector<Pairing>& pairings,
                                  const MentorshipPolicy& policy);

// The capacity check alone, for the store's script to recheck under concurrency: the problem when
// a mentor with `active_count` active pairings counted for `role` has no free place, else
// nullopt.
std::optional<Problem> CapacityProblem(absl::string_view mentor_id, Role role, int active_count,
                                       const MentorshipPolicy& policy);

// Active pairings of `mentor_id` counted against its capacity for `role` (see CheckPairing).
int ActiveCountFor(absl::string_view mentor_id, Role role, const std::vector<Pairing>& pairings);

// ---------------------------------------------------------------------------------------------
// Who lacks a mentor.

struct Unpaired {
  std::string teacher_id;
  bool lacks_teaching = false;
  bool lacks_second = false;
};

// The new teachers in service on `day` (IsNewTeacher, MenteeInServiceOn) who lack a TEACHING
// mentor, a SECOND mentor, or both, on `day`, in the order of `teachers`. `pairings` holds the
// teachers' pairings; those running on `day` count (Pairing::ActiveOn: started on or before it,
// not ended before it), others are ignored.
std::vector<Unpaired> FindUnpaired(const std::vector<TeacherFacts>& teachers,
                                   const std::vector<Pairing>& pairings, absl::CivilDay day,
                                   const MentorshipPolicy& policy);

// The title's Chinese name ("一级"), or "无" for UNSPECIFIED; the tier's ("市级"), or "无".
absl::string_view TitleLabel(common::v1::ProfessionalTitle title);
absl::string_view TierLabel(common::v1::BackboneTier tier);

}  // namespace shidang::mentorship
