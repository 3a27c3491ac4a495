#pragma once

// The training rules of DOMAIN §2 and §6 as pure functions over plain values: no Redis, no gRPC,
// no clock. Hours are integers of half hours; pace, credits and rates are exact fractions; a
// double appears only on the wire (HalfHoursFromWire in, the *ToWire helpers out).
//
// Readings this file commits to where the texts leave room (each is tested in
// tests/training/rules_test.cc):
//  - Which entries count: credits (not induction) dated inside the cycle holding the as-of date
//    and on or before the as-of date (a summary as of a day shows training done by that day).
//  - Reversal: a reversal cancels one credit whole. The credit and its reversal both drop out and
//    the rest of the ledger is counted as if the credit had never existed, so room it took under
//    a cap goes to the entries after it. The reversal's own date plays no part.
//  - Same-day entries are taken in ledger order (the order of the input vector).
//  - Years of the cycle ("每年"): year i (1-based) of cycle k runs from shift(a, k·N + i − 1 years)
//    through the day before shift(a, k·N + i years), counted from the cycle anchor like the cycles
//    themselves, so the years tile the cycle exactly (also from a 29 February anchor). A year's
//    hours are the counted hours (after caps) dated in it; the flag `yearly_minimum_met` holds when
//    every finished year (last day <= as-of) reached the yearly minimum.
//  - Head teacher hours: counted hours of entries marked head_teacher, within the cycle.
//  - Induction: entries marked induction, dated on or before as-of, whatever the cycle; required
//    from the version in force on the hire date (0 when the hire date is unknown).
//  - Pending: records awaiting confirmation or review that are not induction, dated in the cycle
//    and on or before as-of.
//  - Credits: whether to report them comes from the version in force on the cycle's first day;
//    each entry's rate and the credit caps from the version in force on its date (a rate of mode
//    UNSPECIFIED is the rate for every mode not listed).
//  - A date before the earliest policy version is governed by the earliest version.
//  - shortfall = max(0, required − counted), 0 when COMPLETE (DOMAIN §6); a teacher with enough
//    hours but a minimum unmet has shortfall 0 and a status other than COMPLETE.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "services/common/dates.h"
#include "shidang/common/v1/policy.pb.h"
#include "shidang/common/v1/types.pb.h"
#include "shidang/training/v1/training.pb.h"

namespace shidang::training {

using common::v1::CycleKind;
using common::v1::TrainingLevel;
using common::v1::TrainingMode;
using v1::CreditSource;
using v1::TrainingActivity;
using v1::TrainingStatus;

// Hours inside: 1 = half an hour.
using HalfHours = int64_t;

// ---------------------------------------------------------------------------------------------
// Exact numbers.

// num/den with den > 0, kept reduced.
struct Fraction {
  int64_t num = 0;
  int64_t den = 1;
};

Fraction MakeFraction(int64_t num, int64_t den);
Fraction Add(Fraction a, Fraction b);
Fraction Sub(Fraction a, Fraction b);
// -1, 0 or 1 as a is less than, equal to or greater than b (exact, by cross products in 128 bits).
int Compare(Fraction a, Fraction b);
inline bool operator==(Fraction a, Fraction b) { return Compare(a, b) == 0; }
inline bool operator<(Fraction a, Fraction b) { return Compare(a, b) < 0; }

// The value rounded to 2 decimals, half away from zero, as the nearest double (for the wire).
double RoundTo2(Fraction value);

// Wire hours -> half hours. INVALID_ARGUMENT naming `field` unless `hours` is finite, a multiple
// of 0.5, at most 100000, and > 0 (or >= 0 when allow_zero).
absl::StatusOr<HalfHours> HalfHoursFromWire(double hours, absl::string_view field,
                                            bool allow_zero = false);
// Half hours -> wire hours (exact).
double HalfHoursToWire(HalfHours half_hours);
// A fraction of half hours -> wire hours rounded to 2 decimals.
double HalfHoursToWire(Fraction half_hours);

// ---------------------------------------------------------------------------------------------
// Activities: caps name them by these strings.

// "course", "degree_study", "conference", "public_lesson", "research_activity", "other"; "" for
// UNSPECIFIED.
std::string ActivityName(TrainingActivity activity);
// The inverse; nullopt for an unknown name.
std::optional<TrainingActivity> ActivityFromName(absl::string_view name);

// ---------------------------------------------------------------------------------------------
// Policy, exact.

// A minimum or a cap: training of these levels, modes and activity (empty = any) must reach, or
// may not exceed, `half_hours`.
struct HourRule {
  std::string name;
  std::vector<TrainingLevel> levels;
  std::vector<TrainingMode> modes;
  std::string activity;
  HalfHours half_hours = 0;

  bool Matches(TrainingLevel level, TrainingMode mode, absl::string_view entry_activity) const;
};

struct CreditRate {
  // UNSPECIFIED: the rate of every mode without its own.
  TrainingMode mode = common::v1::TRAINING_MODE_UNSPECIFIED;
  HalfHours half_hours_per_credit = 0;  // > 0
};

struct CreditCap {
  std::string activity;  // empty = any
  int64_t half_credits = 0;
};

// One version of the training policy, resolved (every field known) and exact.
struct TrainingRules {
  CycleKind cycle_kind = common::v1::CYCLE_KIND_UNSPECIFIED;
  int32_t cycle_years = 0;
  std::optional<absl::CivilDay> fixed_cycle_start;  // set for FIXED
  HalfHours required = 0;
  HalfHours induction = 0;
  HalfHours yearly_minimum = 0;
  HalfHours head_teacher = 0;
  int32_t grace_days = 0;
  int32_t warn_days = 0;
  std::vector<HourRule> minimums;
  std::vector<HourRule> caps;
  bool counts_credits = false;
  std::vector<CreditRate> credit_rates;
  std::vector<CreditCap> credit_caps;
};

// Checks the fields a (possibly partial) TrainingPolicy sets, as SetTrainingPolicy receives it:
// INVALID_ARGUMENT naming the first bad field (prefixed by `field_prefix`, e.g. "training") and
// what is allowed. Unset fields are fine.
absl::Status ValidateTrainingPolicy(const common::v1::TrainingPolicy& policy,
                                    absl::string_view field_prefix = "training");

// A resolved TrainingPolicy as exact rules. INVALID_ARGUMENT for a bad value (as above);
// FAILED_PRECONDITION naming the field when a value the rules need is unset (cycle_kind,
// cycle_years, required_hours, grace_days, warn_days, fixed_cycle_start for FIXED, credit_rates
// when counts_credits). Unset optional numbers are 0 and unset lists empty.
absl::StatusOr<TrainingRules> RulesFromPolicy(const common::v1::TrainingPolicy& policy,
                                              absl::string_view field_prefix = "training");

// A resolved policy and the day from which it is in force.
struct PolicyVersionRules {
  absl::CivilDay effective_from;
  TrainingRules rules;
};

struct ResolvedTrainingPolicy {
  absl::CivilDay effective_from;
  common::v1::TrainingPolicy policy;
};

// The training policy of one county over time: each resolved version from its effective date
// until the next one's.
class PolicyHistory {
 public:
  // INVALID_ARGUMENT when empty or two versions share an effective date. Any order.
  static absl::StatusOr<PolicyHistory> Create(std::vector<PolicyVersionRules> versions);
  // Converts each with RulesFromPolicy ("versions[i].training..." in messages), then Create.
  static absl::StatusOr<PolicyHistory> FromResolved(
      const std::vector<ResolvedTrainingPolicy>& versions);
  // From the stored versions of every level (PolicyStore::ListVersions of the national level and
  // the county's province, city and county): resolved with policy::ResolvePolicy at 1900-01-01
  // (the built-in defaults, always in force) and at each effective date of a version that sets
  // the training section. INVALID_ARGUMENT for a bad county id or version date.
  static absl::StatusOr<PolicyHistory> ForCounty(
      absl::string_view county_id, const std::vector<common::v1::PolicyVersion>& versions);

  // The latest version effective on or before `day`; the earliest one for a day before all.
  const TrainingRules& InForceOn(absl::CivilDay day) const;
  const std::vector<PolicyVersionRules>& versions() const { return versions_; }

 private:
  explicit PolicyHistory(std::vector<PolicyVersionRules> versions)
      : versions_(std::move(versions)) {}
  std::vector<PolicyVersionRules> versions_;  // by effective_from, ascending
};

// ---------------------------------------------------------------------------------------------
// Cycles.

struct TeacherFacts {
  // The teacher's cycle anchor (default the hire date; HR may set it). Needed for PER_TEACHER.
  std::optional<absl::CivilDay> cycle_anchor;
  // For the induction requirement.
  std::optional<absl::CivilDay> hire_date;
  bool head_teacher = false;
};

struct Cycle {
  dates::Period window;
  // k: window.first = ShiftYears(anchor, k * years).
  int64_t index = 0;
  CycleKind kind = common::v1::CYCLE_KIND_UNSPECIFIED;
  absl::CivilDay anchor;
  int32_t years = 0;
};

// Cycle k of `years` years counted from `anchor` that holds `day`, boundaries included.
Cycle CycleOf(CycleKind kind, absl::CivilDay anchor, int32_t years, absl::CivilDay day);

// The cycle holding `day`, shaped by the version in force on `day`: FIXED from its
// fixed_cycle_start, PER_TEACHER from the teacher's anchor (FAILED_PRECONDITION naming
// "cycle_anchor" when it is unset).
absl::StatusOr<Cycle> CycleHolding(const PolicyHistory& policy, const TeacherFacts& teacher,
                                   absl::CivilDay day);

// Year i (1-based) of the cycle, counted from the anchor (see the note at the top).
dates::Period CycleYear(const Cycle& cycle, int32_t i);

// ---------------------------------------------------------------------------------------------
// Pace and status.

// required × elapsed / cycle_days, in half hours.
Fraction ExpectedByPace(HalfHours required, int64_t elapsed, int64_t cycle_days);
// counted < required × elapsed / cycle_days, exactly.
bool BelowPace(HalfHours counted, HalfHours required, int64_t elapsed, int64_t cycle_days);

struct StatusInputs {
  HalfHours counted = 0;
  HalfHours required = 0;
  // Every minimum met.
  bool minimums_met = true;
  // Some minimum's hours below its expected value.
  bool minimum_behind_pace = false;
  int64_t elapsed = 0;  // 1 on the cycle's first day
  int64_t cycle_days = 0;
  int64_t days_left = 0;  // cycle last day − as-of
  int32_t grace_days = 0;
  int32_t warn_days = 0;
};

// DOMAIN §6: COMPLETE, BEHIND, AT_RISK, ON_TRACK, the first that applies.
TrainingStatus DecideStatus(const StatusInputs& in);

// ---------------------------------------------------------------------------------------------
// The ledger and the summary.

// One line of the ledger, as the rules need it.
struct LedgerEntry {
  std::string id;
  // The day the hours count on.
  absl::CivilDay date;
  // > 0 for a credit; < 0 for a reversal (exactly minus the reversed credit's).
  HalfHours half_hours = 0;
  TrainingLevel level = common::v1::TRAINING_LEVEL_UNSPECIFIED;
  TrainingMode mode = common::v1::TRAINING_MODE_UNSPECIFIED;
  // ActivityName() of the activity: caps and credit caps match on it.
  std::string activity;
  CreditSource source = v1::CREDIT_SOURCE_UNSPECIFIED;
  // For a reversal: the id of the credit it cancels.
  std::string reverses;
  bool induction = false;
  bool head_teacher = false;
};

// A record awaiting confirmation or review.
struct PendingRecord {
  absl::CivilDay date;
  HalfHours half_hours = 0;
  bool induction = false;
};

// INVALID_ARGUMENT naming the entry unless: ids are unique and non-empty; a credit has
// half_hours > 0, a level and a mode, and no `reverses`; a reversal has half_hours < 0 and
// cancels exactly one existing credit (half_hours equal to minus the credit's), and no credit
// is reversed twice.
absl::Status ValidateLedger(const std::vector<LedgerEntry>& ledger);

// The reversal of credit `entry_id`, to be appended with id `reversal_id`: the credit's date,
// level, mode, activity, source and flags, minus its hours. NOT_FOUND when there is no such
// entry; FAILED_PRECONDITION when it is a reversal or already reversed.
absl::StatusOr<LedgerEntry> MakeReversal(const std::vector<LedgerEntry>& ledger,
                                         absl::string_view entry_id, std::string reversal_id);

struct MinimumProgress {
  std::string name;
  HalfHours required = 0;
  HalfHours counted = 0;
  Fraction expected;  // half hours
  bool met = false;
  bool behind_pace = false;
};

struct YearProgress {
  int32_t index = 0;  // 1-based
  dates::Period window;
  HalfHours credited = 0;
  HalfHours counted = 0;
  bool finished = false;     // window.last <= as-of
  bool minimum_met = false;  // counted >= yearly minimum
};

// How one credit counted (for audit and tests).
struct CountedEntry {
  std::string id;
  HalfHours credited = 0;
  HalfHours counted = 0;
  Fraction credits;  // after credit caps; 0 when credits are not counted
};

struct Summary {
  Cycle cycle;
  absl::CivilDay as_of;
  int64_t cycle_days = 0;
  int64_t elapsed = 0;
  int64_t days_left = 0;

  HalfHours credited = 0;
  std::map<TrainingLevel, HalfHours> credited_by_level;
  std::map<TrainingMode, HalfHours> credited_by_mode;
  std::vector<YearProgress> years;

  HalfHours counted = 0;
  HalfHours pending = 0;
  HalfHours induction = 0;
  HalfHours induction_required = 0;
  bool induction_met = false;

  HalfHours required = 0;
  HalfHours remaining = 0;
  Fraction expected;  // half hours
  std::vector<MinimumProgress> minimums;
  TrainingStatus status = v1::TRAINING_STATUS_UNSPECIFIED;

  HalfHours yearly_minimum = 0;
  bool yearly_minimum_met = true;

  bool head_teacher = false;
  HalfHours head_teacher_required = 0;
  HalfHours head_teacher_counted = 0;
  bool head_teacher_met = false;

  bool counts_credits = false;
  Fraction credits;

  HalfHours shortfall = 0;

  // The credits of the cycle that the summary took, in the order counted.
  std::vector<CountedEntry> entries;
};

// Where a teacher stands on `as_of` (DOMAIN §6). Errors: ValidateLedger's; CycleHolding's;
// FAILED_PRECONDITION when credits are counted and an entry's mode has no rate.
absl::StatusOr<Summary> ComputeSummary(const PolicyHistory& policy, const TeacherFacts& teacher,
                                       const std::vector<LedgerEntry>& ledger,
                                       const std::vector<PendingRecord>& pending,
                                       absl::CivilDay as_of);

// ---------------------------------------------------------------------------------------------
// Running totals, kept at write time (DESIGN "Reports are cheap").
//
// Counting is a scan in date order in which each credit takes what the caps of the version in
// force on its date leave. A Tally is that scan's state for the cycle holding the day it was made:
// hours credited, counted and credits per kind of training (level, mode, activity, head-teacher
// flag) and year of the cycle. Because the caps, minimums and credit caps only ever ask "how much
// has training matching this rule taken so far", the buckets are all a next credit needs, so a
// credit dated on or after every credit already taken is added exactly without reading the
// ledger (AdvanceTally). Anything else (a credit dated before one already taken, a reversal, a
// cycle change with entries in the new cycle) answers nullopt and the caller recounts the
// teacher's ledger (TallyFromLedger): exactness never depends on the fast path.

struct TallyBucket {
  TrainingLevel level = common::v1::TRAINING_LEVEL_UNSPECIFIED;
  TrainingMode mode = common::v1::TRAINING_MODE_UNSPECIFIED;
  std::string activity;  // ActivityName()
  bool head_teacher = false;
  int32_t year = 0;  // 1-based year of the cycle the hours are dated in
  HalfHours credited = 0;
  HalfHours counted = 0;
  Fraction credits;  // after credit caps; 0 when credits are not counted
};

struct Tally {
  dates::Period window;  // the cycle counted
  // Entries of the ledger it reflects (the write path's compare-and-set).
  int64_t ledger_length = 0;
  // Latest date of any entry of the ledger (none: an empty ledger).
  std::optional<absl::CivilDay> latest;
  // Latest date of a credit taken in the window: a later credit dated before it needs a recount.
  std::optional<absl::CivilDay> latest_counted;
  // Induction credits (not reversed) of any date.
  HalfHours induction = 0;
  std::vector<TallyBucket> buckets;
};

// The tally of the cycle holding `as_of` from the whole ledger (the same count as ComputeSummary).
// Errors as ComputeSummary's.
absl::StatusOr<Tally> TallyFromLedger(const PolicyHistory& policy, const TeacherFacts& teacher,
                                      const std::vector<LedgerEntry>& ledger, absl::CivilDay as_of);

// `before` with `entry` appended to the ledger on `today`, when that is exact without the ledger
// (see above); nullopt when the ledger must be recounted. Errors: CycleHolding's, INVALID_ARGUMENT
// for a credit without level or mode, FAILED_PRECONDITION for a mode without a credit rate.
absl::StatusOr<std::optional<Tally>> AdvanceTally(const PolicyHistory& policy,
                                                  const TeacherFacts& teacher, const Tally& before,
                                                  const LedgerEntry& entry, absl::CivilDay today);

// The summary on `as_of` from a tally: exactly ComputeSummary's (without `entries`) when the
// tally's cycle is the one holding `as_of` and no entry is dated after `as_of`; nullopt otherwise.
absl::StatusOr<std::optional<Summary>> SummaryFromTally(const PolicyHistory& policy,
                                                        const TeacherFacts& teacher,
                                                        const Tally& tally,
                                                        const std::vector<PendingRecord>& pending,
                                                        absl::CivilDay as_of);

// Compact text for Redis; Decode answers INVALID_ARGUMENT for text Encode did not make.
std::string EncodeTally(const Tally& tally);
absl::StatusOr<Tally> DecodeTally(absl::string_view text);

// What the compliance report needs of one teacher: a few numbers, so a county's report reads one
// small row per teacher. Made from a summary; valid on any as-of day in the same cycle on or
// after its latest entry, under the same policy versions (the caller checks those).
struct ReportRow {
  dates::Period window;
  std::optional<absl::CivilDay> cycle_anchor;  // the teacher's (PER_TEACHER cycles)
  std::optional<absl::CivilDay> latest;        // latest entry of the ledger
  HalfHours counted = 0;
  Fraction credits;
  // Counted hours per minimum of the version in force on the cycle's first day, in its order.
  std::vector<HalfHours> minimums;
};

ReportRow ReportRowOf(const Summary& summary, const Tally& tally, const TeacherFacts& teacher);
std::string EncodeReportRow(const ReportRow& row);
absl::StatusOr<ReportRow> DecodeReportRow(absl::string_view text);

// Where a teacher stands on a day, as the report shows it.
struct Standing {
  dates::Period window;
  TrainingStatus status = v1::TRAINING_STATUS_UNSPECIFIED;
  HalfHours required = 0;
  HalfHours counted = 0;
  Fraction expected;
  HalfHours shortfall = 0;
  int64_t days_left = 0;
  bool counts_credits = false;
  Fraction credits;
};

Standing StandingOf(const Summary& summary);
// The standing on `as_of` from a row: the same as StandingOf(ComputeSummary(...)) when the row's
// cycle holds `as_of` and its latest entry is on or before it; nullopt otherwise.
std::optional<Standing> StandingFromRow(const PolicyHistory& policy, const ReportRow& row,
                                        absl::CivilDay as_of);

// The summary on the wire (hours and credits rounded to 2 decimals there only).
void SummaryToProto(const Summary& summary, absl::string_view teacher_id, v1::TrainingSummary* out);

// ---------------------------------------------------------------------------------------------
// Completions and the compliance report.

// A completion of a course: INVALID_ARGUMENT naming `<field_prefix>.hours` unless
// 0 < awarded <= course_hours, or `<field_prefix>.completed_on` unless the day is within
// [course_start, course_end].
absl::Status CheckCompletion(HalfHours course_hours, absl::CivilDay course_start,
                             absl::CivilDay course_end, HalfHours awarded,
                             absl::CivilDay completed_on, absl::string_view field_prefix);

// The teachers the report lists: AT_RISK or BEHIND.
bool NeedsAttention(TrainingStatus status);

// Report order: shortfall largest first, then teacher id (so pages are stable).
struct ShortfallKey {
  HalfHours shortfall = 0;
  std::string teacher_id;
};
bool ShortfallOrder(const ShortfallKey& a, const ShortfallKey& b);

// complete / total as a percentage, exact (0 when total is 0).
Fraction CompletionPercent(int64_t complete, int64_t total);

// ---------------------------------------------------------------------------------------------
// Field checks of requests. Each bad field is one FieldProblem: which field, the rule it broke
// and what is allowed, so the edge reports it as it is (never by parsing a message).

struct FieldProblem {
  std::string field;    // e.g. "rows[3].hours"
  std::string rule;     // e.g. "hours", "within_course"
  std::string message;  // what is allowed, for a person
};
using FieldProblems = std::vector<FieldProblem>;

// Wire hours (rule "hours"): as HalfHoursFromWire, which reports the same problem as a status.
std::optional<FieldProblem> WireHoursProblem(double hours, absl::string_view field,
                                             bool allow_zero = false);

// A completion of a course (rule "within_course"): as CheckCompletion.
std::optional<FieldProblem> CompletionProblem(HalfHours course_hours, absl::CivilDay course_start,
                                              absl::CivilDay course_end, HalfHours awarded,
                                              absl::CivilDay completed_on,
                                              absl::string_view field_prefix);

// A course a centre registers: title (1 to 200 characters, counted as characters, not bytes),
// provider id, level, mode, hours, dates, capacity, open regions and stages, each under
// "course.<name>".
FieldProblems CourseProblems(const v1::Course& course);

// A teacher's own training record (LogTraining), every bad field at once. `course` is the
// registered course it names (nullptr when it names none) and `course_open` whether it is open
// to the teacher's county `county_id`; `today` bounds completed_on.
FieldProblems LoggedTrainingProblems(const v1::LogTrainingRequest& request,
                                     const v1::Course* course, bool course_open,
                                     absl::string_view county_id, absl::CivilDay today);

// A title of 1 to 200 characters (UTF-8 code points).
bool TitleLengthOk(absl::string_view title);
// A 6-digit GB/T 2260 code (a county's, city's or province's).
bool IsRegionCode(absl::string_view code);
// A county's code: a region code not ending in 00.
bool IsCountyCode(absl::string_view code);
// 1 to 64 of A-Z a-z 0-9 _ - .
bool IsProviderId(absl::string_view id);

}  // namespace shidang::training
