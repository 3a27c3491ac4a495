#pragma once

// The profile service's domain rules (DOMAIN §1, §3, §6) as pure functions over plain values: no
// Redis, no gRPC, no clock ("today" is always passed in). The store and the gRPC edge call these;
// the tests in tests/profile/rules_test.cc pin them down.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/field_mask.pb.h"
#include "services/common/dates.h"
#include "services/common/retirement.h"
#include "shidang/common/v1/policy.pb.h"
#include "shidang/common/v1/types.pb.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::profile {

// ---------------------------------------------------------------------------------------------
// Text limits. Limits are in characters, as the messages say: Unicode code points of UTF-8 text,
// so 50 characters of Chinese (3 bytes each, 4 for the rarer ones) fit where 50 are allowed.

// The number of code points in UTF-8 text (bytes that do not continue a sequence).
size_t CodePointCount(absl::string_view utf8);

// A school's name: 1 to kMaxSchoolNameChars characters.
inline constexpr size_t kMaxSchoolNameChars = 50;
bool IsSchoolNameLength(absl::string_view name);

// ---------------------------------------------------------------------------------------------
// ID-card numbers (GB 11643-1999, 公民身份号码).

// The rule an ID-card number broke, in the order they are checked.
enum class IdCardRule {
  kOk,
  kLength,             // not exactly 18 characters
  kCharacters,         // the first 17 are not all digits, or the 18th is not 0-9 or X
  kBirthDate,          // characters 7-14 are not a real date YYYYMMDD
  kCheckDigit,         // the 18th character is not the check digit of the first 17
  kBirthDateMismatch,  // the embedded birth date differs from the teacher's birth date
  kSexMismatch,        // the 17th digit's parity (odd = male) differs from the teacher's sex
};

// Short machine-readable name of a rule ("length", "check_digit", ...), for FieldViolation.rule.
absl::string_view IdCardRuleName(IdCardRule rule);

// The GB 11643 check character ('0'-'9' or 'X') of 17 digits: the sum of digit × weight (weights
// 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2) mod 11 indexes "10X98765432". Returns '\0' when
// `first17` is not exactly 17 ASCII digits.
char IdCardCheckCharacter(absl::string_view first17);

// What the number must agree with, when known.
struct IdCardExpectations {
  std::optional<absl::CivilDay> birth_date;
  common::v1::Sex sex = common::v1::SEX_UNSPECIFIED;  // UNSPECIFIED: not checked
};

// The first rule `number` breaks, or kOk. Only an upper-case X is a valid check character: pass
// input through NormalizeIdCardNumber first to accept a lower-case x and surrounding spaces.
IdCardRule CheckIdCard(absl::string_view number, const IdCardExpectations& expect = {});

// CheckIdCard as a status: INVALID_ARGUMENT "<field>: <what is wrong and what is allowed>". The
// message never contains the number itself (it must never reach a log).
absl::Status ValidateIdCard(absl::string_view number, absl::string_view field,
                            const IdCardExpectations& expect = {});

// Strips surrounding ASCII whitespace and upper-cases the check character x -> X.
std::string NormalizeIdCardNumber(absl::string_view number);

// The birth date and sex a number carries; nullopt / UNSPECIFIED unless CheckIdCard passes.
std::optional<absl::CivilDay> IdCardBirthDate(absl::string_view number);
common::v1::Sex IdCardSex(absl::string_view number);

// "1101**********1234": the first 4 and last 4 characters of an 18-character ASCII number, the
// rest masked. Anything else (short, long, non-ASCII) is masked whole as 18 '*', so a mask never
// shows more than 8 characters nor hints at the length of a bad input.
std::string MaskIdCard(absl::string_view number);

// ---------------------------------------------------------------------------------------------
// The timeline and the current values derived from it.

// Supersession. An entry with supersedes_entry_id corrects an earlier one: a CORRECTION retracts
// it, an entry of another kind replaces it. An entry is in effect unless an entry in effect
// supersedes it, so retracting a correction restores what it had corrected. Recorded order
// (`sequence`, then position in the vector) decides; a supersession of an entry recorded later or
// of an unknown id is ignored.
//
// Returns, for each entry not in effect, the id of the entry in effect that supersedes it.
std::vector<std::pair<std::string, std::string>> SupersededEntries(
    const std::vector<v1::TimelineEntry>& entries);

// Sets superseded_by_entry_id on every entry not in effect (and clears it on the others).
void MarkSuperseded(std::vector<v1::TimelineEntry>* entries);

// Display order: occurred_on, then sequence.
void SortByDate(std::vector<v1::TimelineEntry>* entries);

// An ethics veto (师德一票否决): active on the days of `period`.
struct Veto {
  common::v1::EthicsSeverity severity = common::v1::ETHICS_SEVERITY_UNSPECIFIED;
  dates::Period period;
  std::string entry_id;
};

// Months a finding of `severity` disqualifies for, from the policy. INVALID_ARGUMENT for an
// unspecified severity; FAILED_PRECONDITION when the policy does not set that severity's months
// (or sets a negative number).
absl::StatusOr<int> VetoMonths(common::v1::EthicsSeverity severity,
                               const common::v1::EthicsPolicy& policy);

// The veto of a finding dated `found_on`: from that day through ShiftMonths(found_on, m) - 1 day
// (DOMAIN §6). nullopt when the finding starts no veto (severity unspecified, or 0 months).
absl::StatusOr<std::optional<Veto>> VetoOf(absl::CivilDay found_on,
                                           common::v1::EthicsSeverity severity,
                                           const common::v1::EthicsPolicy& policy);

// The values of a teacher that the timeline decides, as of one day. Only entries in effect that
// occurred on or before that day take part; among those of one kind the latest occurred_on wins,
// ties going to the one recorded later. Each value is the entry it comes from.
struct DerivedValues {
  std::optional<v1::TimelineEntry> title;             // TITLE_CONFERRED
  std::optional<v1::TimelineEntry> backbone;          // BACKBONE_DESIGNATED (tier may be lapsed)
  std::vector<v1::TimelineEntry> designations;        // every DESIGNATION, by date
  std::vector<v1::TimelineEntry> honours;             // every HONOUR, by date
  std::optional<v1::TimelineEntry> latest_appraisal;  // highest year; then occurred_on, sequence
  std::optional<v1::TimelineEntry> post_status;       // POST_STATUS_CHANGED
  std::vector<Veto> vetoes;                           // every ETHICS_FINDING's veto, by date
  // The veto active on the day: of those active, the one ending last (then the more severe, then
  // the one recorded later).
  std::optional<Veto> active_veto;
};

// Derives the current values from a teacher's timeline (in any order). INVALID_ARGUMENT naming
// "entries[i].occurred_on" for an entry without a valid date; the ethics policy's errors (see
// VetoMonths) when a finding's severity has no months configured.
absl::StatusOr<DerivedValues> DeriveCurrentValues(const std::vector<v1::TimelineEntry>& entries,
                                                  const common::v1::EthicsPolicy& ethics,
                                                  absl::CivilDay as_of);

// Writes the derived read-only fields of `teacher` (title, backbone tier with its review date
// `backbone_review_years` after designation, designations, honours, latest appraisal, ethics veto,
// and post_status when the timeline has changed it), clearing those the timeline does not set.
// Leaves every other field alone.
void ApplyDerivedValues(const DerivedValues& derived, v1::Teacher* teacher,
                        int backbone_review_years = 5);

// The schools a teacher has been at, from the SCHOOL_JOINED, SCHOOL_MOVED and TRANSFERRED entries
// in effect, in date order: each stint runs from its entry's day to the day before the next one
// (the last stays open). Only school_id, county_id (of transfers), from_date and to_date are set:
// the caller adds the schools' names and classifications. Entries with a bad date are skipped.
std::vector<v1::SchoolStint> SchoolHistoryFromTimeline(
    const std::vector<v1::TimelineEntry>& entries);

// Checks an entry a caller asks to add (AddTimelineEntry): kind set, detail matching the kind (none
// for CORRECTION), occurred_on a date, a reason with every supersession (and a supersession with
// every CORRECTION), the detail's own required fields, output-only fields empty. INVALID_ARGUMENT
// naming the field ("entry.occurred_on") and what is allowed.
absl::Status ValidateNewTimelineEntry(const v1::TimelineEntry& entry);

// Titles conferred, backbone and other designations, honours, annual appraisals and ethics
// findings are facts: they happened, so none is dated after `today` (nor is an appraisal of a
// year after today's). INVALID_ARGUMENT with field "entry.occurred_on" (or
// "entry.appraisal.year"), rule "not_future" and today's date; any other kind is OK (a post
// status change may be recorded ahead).
absl::Status CheckEntryHappened(const v1::TimelineEntry& entry, absl::CivilDay today);

// DOMAIN §1: an active ethics veto disqualifies the teacher from excellence ratings, promotion,
// title review and designation. FAILED_PRECONDITION (field "entry.occurred_on", rule
// "ethics_veto", naming the veto and its last day) when `entry`, to be added to `timeline`, is
// one of those on a day a veto of the timeline covers (DeriveCurrentValues on the entry's day,
// whose errors it returns): a title above the one held that day, a backbone designation with a
// tier (a lapse is no designation), a designation (学科带头人, 名师, ...), an honour, or an
// annual appraisal of 优秀. Any other entry is OK without looking at the timeline.
absl::Status CheckEthicsVeto(const v1::TimelineEntry& entry,
                             const std::vector<v1::TimelineEntry>& timeline,
                             const common::v1::EthicsPolicy& ethics);

// ---------------------------------------------------------------------------------------------
// Retirement (法定退休年龄, DOMAIN §1).

// The rule lives in services/common/retirement.h, shared with the rotation service.
using ::shidang::retirement::RetirementDate;
using ::shidang::retirement::RetirementDelayMonths;

// ---------------------------------------------------------------------------------------------
// Years at a school, new teachers, rural or weak service.

// A new teacher on `day` (DOMAIN §6): hire <= day < ShiftYears(hire, years).
bool IsNewTeacher(absl::CivilDay hire_date, absl::CivilDay day, int64_t years = 5);

// Whole years since `since` on `day`: the largest n with ShiftYears(since, n) <= day (0 when day
// is before since). A year at a school started on 1 September is complete on the next 1 September.
int64_t WholeYearsSince(absl::CivilDay since, absl::CivilDay day);

// Secondments (支教, 走教, ... : a rotation that keeps the personnel relation) from the rotation
// service's events filed in the timeline (EXTERNAL entries of source "rotation", payload a
// shidang.rotation.v1.Rotation): one stint per started rotation, at the host school, from its
// started_on to its completed_on (or the day a "rotation.cancelled" entry occurred; open while
// neither). Rotations that move the relation are left out: the school history has them.
std::vector<v1::SchoolStint> SecondmentStintsFromTimeline(
    const std::vector<v1::TimelineEntry>& entries);

// True when a stint at a school of this classification counts as rural or weak service (DOMAIN
// §3): location 乡村, quality 薄弱, or a village school or teaching point.
bool IsRuralOrWeak(const v1::SchoolStint& school);

// Has the teacher served in a rural or weak school, and when, as of `as_of`, from their school
// history. Stints starting after as_of are left out; a stint still going on as_of (or ending after
// it) has an empty to_date. whole_years adds up the whole years of each continuous span (counting
// stints that overlap or follow one another without a gap are merged). INVALID_ARGUMENT naming
// "school_history[i].from_date"/".to_date" for a bad date or a stint ending before it starts.
absl::StatusOr<v1::RuralOrWeakService> RuralOrWeakServiceOf(
    const std::vector<v1::SchoolStint>& history, absl::CivilDay as_of);

// The same over the school history and the secondments (SecondmentStintsFromTimeline, with their
// schools' classification filled in): periods of a secondment say source "rotation"; whole years
// merge both.
absl::StatusOr<v1::RuralOrWeakService> RuralOrWeakServiceOf(
    const std::vector<v1::SchoolStint>& history, const std::vector<v1::SchoolStint>& secondments,
    absl::CivilDay as_of);

// ---------------------------------------------------------------------------------------------
// UpdateTeacher's field mask.

// OK when every path names a field UpdateTeacher may change: identity (national_teacher_id, name,
// sex, birth_date, id_card_number, hire_date, education, qualification[.*]), post attributes that
// have no RPC of their own (stage, subjects, staffed, head_teacher_periods, leadership_posts,
// training_cycle_anchor) and contact (phone, email). INVALID_ARGUMENT "update_mask: ..." otherwise,
// saying why: derived from the timeline, changed by MoveTeacher/TransferTeacher, a timeline entry
// (post_status), read-only, unknown, or an empty mask.
absl::Status ValidateTeacherUpdateMask(const google::protobuf::FieldMask& mask);

}  // namespace shidang::profile
