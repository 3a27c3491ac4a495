#include "services/profile/rules.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/violations.h"
#include "shidang/common/v1/error.pb.h"
#include "shidang/rotation/v1/rotation.pb.h"

namespace shidang::profile {
namespace {

using common::v1::EthicsSeverity;
using common::v1::Sex;
using v1::TimelineEntry;

// INVALID_ARGUMENT naming `field` and the rule it breaks, in the message and the details.
absl::Status Invalid(absl::string_view field, absl::string_view rule, absl::string_view what) {
  return InvalidField(field, rule, what);
}

absl::Status PolicyUnset(absl::string_view field, absl::string_view what) {
  return absl::FailedPreconditionError(absl::StrCat("policy ", field, ": ", what));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int Digit(char c) { return c - '0'; }

// Characters 7-14 as a date, or nullopt when they are not a real YYYYMMDD.
std::optional<absl::CivilDay> EmbeddedBirthDate(absl::string_view number) {
  for (size_t i = 6; i < 14; ++i) {
    if (!IsDigit(number[i])) return std::nullopt;
  }
  int y = 0, m = 0, d = 0;
  for (size_t i = 6; i < 10; ++i) y = y * 10 + Digit(number[i]);
  m = Digit(number[10]) * 10 + Digit(number[11]);
  d = Digit(number[12]) * 10 + Digit(number[13]);
  absl::CivilDay day(y, m, d);
  // CivilDay normalises 1990-02-30 to 1990-03-02; a real date survives the round trip.
  if (day.year() != y || day.month() != m || day.day() != d || y < 1800) return std::nullopt;
  return day;
}

// Recorded order of the i-th entry: sequence, then position.
std::pair<int64_t, size_t> RecordedOrder(const std::vector<TimelineEntry>& entries, size_t i) {
  return {entries[i].sequence(), i};
}

// Indices of entries in effect, per the rule in rules.h, and for the others the index of the
// entry in effect that supersedes them.
struct Effect {
  std::vector<bool> in_effect;
  std::vector<std::optional<size_t>> superseded_by;
};

Effect ComputeEffect(const std::vector<TimelineEntry>& entries) {
  const size_t n = entries.size();
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return RecordedOrder(entries, a) < RecordedOrder(entries, b);
  });
  std::map<std::string, size_t> rank_of_id;  // entry id -> rank in recorded order
  for (size_t r = 0; r < n; ++r) {
    const std::string& id = entries[order[r]].entry_id();
    if (!id.empty()) rank_of_id.emplace(id, r);
  }
  Effect effect{std::vector<bool>(n, true), std::vector<std::optional<size_t>>(n)};
  // Latest first: whether an entry is in effect depends only on entries recorded after it, which
  // are decided by then.
  for (size_t r = n; r-- > 0;) {
    const size_t i = order[r];
    if (!effect.in_effect[i]) continue;
    const std::string& target = entries[i].supersedes_entry_id();
    if (target.empty()) continue;
    auto it = rank_of_id.find(target);
    if (it == rank_of_id.end() || it->second >= r) continue;  // unknown, or not earlier
    const size_t t = order[it->second];
    if (effect.in_effect[t]) {
      effect.in_effect[t] = false;
      effect.superseded_by[t] = i;
    }
  }
  return effect;
}

// True when a wins over b as "the current one": later occurred_on, then recorded later.
bool LaterThan(const TimelineEntry& a, size_t ia, const TimelineEntry& b, size_t ib) {
  return std::make_tuple(a.occurred_on(), a.sequence(), ia) >
         std::make_tuple(b.occurred_on(), b.sequence(), ib);
}

bool DateOrderLess(const TimelineEntry& a, const TimelineEntry& b) {
  return std::make_tuple(a.occurred_on(), a.sequence()) <
         std::make_tuple(b.occurred_on(), b.sequence());
}

int SeverityRank(EthicsSeverity s) { return static_cast<int>(s); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Text limits.

size_t CodePointCount(absl::string_view utf8) {
  size_t n = 0;
  for (unsigned char c : utf8) n += (c & 0xC0) != 0x80;
  return n;
}

bool IsSchoolNameLength(absl::string_view name) {
  const size_t n = CodePointCount(name);
  return n >= 1 && n <= kMaxSchoolNameChars;
}

// ---------------------------------------------------------------------------------------------
// ID cards.

absl::string_view IdCardRuleName(IdCardRule rule) {
  switch (rule) {
    case IdCardRule::kOk:
      return "ok";
    case IdCardRule::kLength:
      return "length";
    case IdCardRule::kCharacters:
      return "characters";
    case IdCardRule::kBirthDate:
      return "birth_date";
    case IdCardRule::kCheckDigit:
      return "check_digit";
    case IdCardRule::kBirthDateMismatch:
      return "birth_date_mismatch";
    case IdCardRule::kSexMismatch:
      return "sex_mismatch";
  }
  return "unknown";
}

char IdCardCheckCharacter(absl::string_view first17) {
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kCheck[] = "10X98765432";
  if (first17.size() != 17) return '\0';
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) {
    if (!IsDigit(first17[i])) return '\0';
    sum += Digit(first17[i]) * kWeights[i];
  }
  return kCheck[sum % 11];
}

IdCardRule CheckIdCard(absl::string_view number, const IdCardExpectations& expect) {
  if (number.size() != 18) return IdCardRule::kLength;
  for (size_t i = 0; i < 17; ++i) {
    if (!IsDigit(number[i])) return IdCardRule::kCharacters;
  }
  if (!IsDigit(number[17]) && number[17] != 'X') return IdCardRule::kCharacters;
  std::optional<absl::CivilDay> born = EmbeddedBirthDate(number);
  if (!born) return IdCardRule::kBirthDate;
  if (IdCardCheckCharacter(number.substr(0, 17)) != number[17]) return IdCardRule::kCheckDigit;
  if (expect.birth_date && *expect.birth_date != *born) return IdCardRule::kBirthDateMismatch;
  if (expect.sex != common::v1::SEX_UNSPECIFIED) {
    const Sex carried = Digit(number[16]) % 2 == 1 ? common::v1::SEX_MALE : common::v1::SEX_FEMALE;
    if (carried != expect.sex) return IdCardRule::kSexMismatch;
  }
  return IdCardRule::kOk;
}

absl::Status ValidateIdCard(absl::string_view number, absl::string_view field,
                            const IdCardExpectations& expect) {
  switch (CheckIdCard(number, expect)) {
    case IdCardRule::kOk:
      return absl::OkStatus();
    case IdCardRule::kLength:
      return Invalid(
          field, IdCardRuleName(IdCardRule::kLength),
          absl::StrCat("has ", number.size(), " characters; an ID-card number has 18 (GB 11643)"));
    case IdCardRule::kCharacters:
      return Invalid(field, IdCardRuleName(IdCardRule::kCharacters),
                     "must be 17 digits followed by a digit or X");
    case IdCardRule::kBirthDate:
      return Invalid(field, IdCardRuleName(IdCardRule::kBirthDate),
                     "characters 7-14 must be a real birth date YYYYMMDD");
    case IdCardRule::kCheckDigit:
      return Invalid(field, IdCardRuleName(IdCardRule::kCheckDigit),
                     "the check digit (18th character) is wrong (GB 11643)");
    case IdCardRule::kBirthDateMismatch:
      return Invalid(field, IdCardRuleName(IdCardRule::kBirthDateMismatch),
                     "the birth date in the number differs from birth_date");
    case IdCardRule::kSexMismatch:
      return Invalid(field, IdCardRuleName(IdCardRule::kSexMismatch),
                     "the 17th digit (odd for men, even for women) differs from sex");
  }
  return Invalid(field, "id_card", "is not a valid ID-card number");
}

std::string NormalizeIdCardNumber(absl::string_view number) {
  std::string out(absl::StripAsciiWhitespace(number));
  if (out.size() == 18 && out[17] == 'x') out[17] = 'X';
  return out;
}

std::optional<absl::CivilDay> IdCardBirthDate(absl::string_view number) {
  if (CheckIdCard(number) != IdCardRule::kOk) return std::nullopt;
  return EmbeddedBirthDate(number);
}

Sex IdCardSex(absl::string_view number) {
  if (CheckIdCard(number) != IdCardRule::kOk) return common::v1::SEX_UNSPECIFIED;
  return Digit(number[16]) % 2 == 1 ? common::v1::SEX_MALE : common::v1::SEX_FEMALE;
}

std::string MaskIdCard(absl::string_view number) {
  constexpr size_t kLength = 18;
  bool ascii = number.size() == kLength;
  for (char c : number) {
    if (static_cast<unsigned char>(c) >= 0x80 || !absl::ascii_isgraph(c)) ascii = false;
  }
  if (!ascii) return std::string(kLength, '*');
  return absl::StrCat(number.substr(0, 4), std::string(kLength - 8, '*'), number.substr(14, 4));
}

// ---------------------------------------------------------------------------------------------
// Timeline.

std::vector<std::pair<std::string, std::string>> SupersededEntries(
    const std::vector<TimelineEntry>& entries) {
  const Effect effect = ComputeEffect(entries);
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (effect.in_effect[i]) continue;
    out.emplace_back(entries[i].entry_id(), entries[*effect.superseded_by[i]].entry_id());
  }
  return out;
}

void MarkSuperseded(std::vector<TimelineEntry>* entries) {
  const Effect effect = ComputeEffect(*entries);
  for (size_t i = 0; i < entries->size(); ++i) {
    if (effect.in_effect[i]) {
      (*entries)[i].clear_superseded_by_entry_id();
    } else {
      (*entries)[i].set_superseded_by_entry_id((*entries)[*effect.superseded_by[i]].entry_id());
    }
  }
}

void SortByDate(std::vector<TimelineEntry>* entries) {
  std::stable_sort(entries->begin(), entries->end(), DateOrderLess);
}

absl::StatusOr<int> VetoMonths(EthicsSeverity severity, const common::v1::EthicsPolicy& policy) {
  std::optional<int> months;
  absl::string_view field;
  switch (severity) {
    case common::v1::ETHICS_SEVERITY_WARNING:
      field = "ethics.warning_months";
      if (policy.has_warning_months()) months = policy.warning_months();
      break;
    case common::v1::ETHICS_SEVERITY_DEMERIT:
      field = "ethics.demerit_months";
      if (policy.has_demerit_months()) months = policy.demerit_months();
      break;
    case common::v1::ETHICS_SEVERITY_DEMOTION:
      field = "ethics.demotion_months";
      if (policy.has_demotion_months()) months = policy.demotion_months();
      break;
    case common::v1::ETHICS_SEVERITY_DISMISSAL:
      field = "ethics.dismissal_months";
      if (policy.has_dismissal_months()) months = policy.dismissal_months();
      break;
    default:
      return Invalid("severity", "enum",
                     "must be ETHICS_SEVERITY_WARNING, _DEMERIT, _DEMOTION or _DISMISSAL");
  }
  if (!months) return PolicyUnset(field, "not set");
  if (*months < 0) return PolicyUnset(field, absl::StrCat("is ", *months, "; must be >= 0"));
  return *months;
}

absl::StatusOr<std::optional<Veto>> VetoOf(absl::CivilDay found_on, EthicsSeverity severity,
                                           const common::v1::EthicsPolicy& policy) {
  if (severity == common::v1::ETHICS_SEVERITY_UNSPECIFIED) return std::optional<Veto>();
  absl::StatusOr<int> months = VetoMonths(severity, policy);
  if (!months.ok()) return months.status();
  if (*months == 0) return std::optional<Veto>();
  Veto veto;
  veto.severity = severity;
  veto.period = dates::MonthsFrom(found_on, *months);
  return std::optional<Veto>(veto);
}

namespace {

struct IndexedVeto {
  Veto veto;
  size_t index;
};

// Which entries hold the current values: indexes into a timeline.
struct CurrentIndexes {
  std::optional<size_t> title, backbone, appraisal, post_status;
  std::vector<size_t> designations, honours;
  std::vector<IndexedVeto> vetoes;
};

// The later of the appraisal at `i` and the one in `slot`: highest year, then occurred_on, then
// recorded order.
void TakeLatestAppraisal(const std::vector<TimelineEntry>& entries, size_t i,
                         std::optional<size_t>* slot) {
  const TimelineEntry& e = entries[i];
  if (!*slot ||
      std::make_tuple(e.appraisal().year(), e.occurred_on(), e.sequence(), i) >
          std::make_tuple(entries[**slot].appraisal().year(), entries[**slot].occurred_on(),
                          entries[**slot].sequence(), **slot)) {
    *slot = i;
  }
}

// Files the entry at `i` (in effect, on or before the day) where it counts.
absl::Status CollectEntry(const std::vector<TimelineEntry>& entries, size_t i, absl::CivilDay day,
                          const common::v1::EthicsPolicy& ethics, CurrentIndexes* current) {
  const TimelineEntry& e = entries[i];
  auto take_latest = [&](std::optional<size_t>* slot) {
    if (!*slot || LaterThan(entries[i], i, entries[**slot], **slot)) *slot = i;
  };
  switch (e.kind()) {
    case v1::TIMELINE_ENTRY_KIND_TITLE_CONFERRED:
      take_latest(&current->title);
      break;
    case v1::TIMELINE_ENTRY_KIND_BACKBONE_DESIGNATED:
      take_latest(&current->backbone);
      break;
    case v1::TIMELINE_ENTRY_KIND_DESIGNATION:
      current->designations.push_back(i);
      break;
    case v1::TIMELINE_ENTRY_KIND_HONOUR:
      current->honours.push_back(i);
      break;
    case v1::TIMELINE_ENTRY_KIND_POST_STATUS_CHANGED:
      take_latest(&current->post_status);
      break;
    case v1::TIMELINE_ENTRY_KIND_APPRAISAL:
      TakeLatestAppraisal(entries, i, &current->appraisal);
      break;
    case v1::TIMELINE_ENTRY_KIND_ETHICS_FINDING: {
      absl::StatusOr<std::optional<Veto>> veto = VetoOf(day, e.ethics_finding().severity(), ethics);
      if (!veto.ok()) return veto.status();
      if (*veto) {
        (*veto)->entry_id = e.entry_id();
        current->vetoes.push_back({**veto, i});
      }
      break;
    }
    default:
      break;
  }
  return absl::OkStatus();
}

// Of the vetoes active on `as_of`, the one ending last (then the more severe, then the one
// recorded later); nullptr when none is.
const IndexedVeto* ActiveVeto(const std::vector<TimelineEntry>& entries,
                              const std::vector<IndexedVeto>& vetoes, absl::CivilDay as_of) {
  const IndexedVeto* active = nullptr;
  for (const IndexedVeto& v : vetoes) {
    if (!v.veto.period.Contains(as_of)) continue;
    if (active == nullptr ||
        std::make_tuple(v.veto.period.last, SeverityRank(v.veto.severity),
                        entries[v.index].sequence(), v.index) >
            std::make_tuple(active->veto.period.last, SeverityRank(active->veto.severity),
                            entries[active->index].sequence(), active->index)) {
      active = &v;
    }
  }
  return active;
}

}  // namespace

absl::StatusOr<DerivedValues> DeriveCurrentValues(const std::vector<TimelineEntry>& entries,
                                                  const common::v1::EthicsPolicy& ethics,
                                                  absl::CivilDay as_of) {
  const Effect effect = ComputeEffect(entries);
  CurrentIndexes current;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!effect.in_effect[i]) continue;
    absl::StatusOr<absl::CivilDay> day =
        dates::ParseDate(entries[i].occurred_on(), absl::StrCat("entries[", i, "].occurred_on"));
    if (!day.ok()) return day.status();
    if (*day > as_of) continue;
    absl::Status collected = CollectEntry(entries, i, *day, ethics, &current);
    if (!collected.ok()) return collected;
  }

  auto by_date = [&](size_t a, size_t b) {
    return std::make_tuple(entries[a].occurred_on(), entries[a].sequence(), a) <
           std::make_tuple(entries[b].occurred_on(), entries[b].sequence(), b);
  };
  std::sort(current.designations.begin(), current.designations.end(), by_date);
  std::sort(current.honours.begin(), current.honours.end(), by_date);
  std::sort(current.vetoes.begin(), current.vetoes.end(),
            [&](const IndexedVeto& a, const IndexedVeto& b) { return by_date(a.index, b.index); });

  DerivedValues out;
  if (current.title) out.title = entries[*current.title];
  if (current.backbone) out.backbone = entries[*current.backbone];
  if (current.appraisal) out.latest_appraisal = entries[*current.appraisal];
  if (current.post_status) out.post_status = entries[*current.post_status];
  for (size_t i : current.designations) out.designations.push_back(entries[i]);
  for (size_t i : current.honours) out.honours.push_back(entries[i]);
  for (const IndexedVeto& v : current.vetoes) out.vetoes.push_back(v.veto);
  const IndexedVeto* active = ActiveVeto(entries, current.vetoes, as_of);
  if (active != nullptr) out.active_veto = active->veto;
  return out;
}

void ApplyDerivedValues(const DerivedValues& derived, v1::Teacher* teacher,
                        int backbone_review_years) {
  teacher->clear_title();
  teacher->clear_title_conferred_on();
  teacher->clear_backbone_tier();
  teacher->clear_backbone_designated_on();
  teacher->clear_backbone_review_due_on();
  teacher->clear_designations();
  teacher->clear_honours();
  teacher->clear_latest_appraisal();
  teacher->clear_ethics_veto();

  if (derived.title &&
      derived.title->title_conferred().title() != common::v1::PROFESSIONAL_TITLE_UNSPECIFIED) {
    teacher->set_title(derived.title->title_conferred().title());
    teacher->set_title_conferred_on(derived.title->occurred_on());
  }
  // An entry with an unspecified tier records that the designation lapsed.
  if (derived.backbone &&
      derived.backbone->backbone_designated().tier() != common::v1::BACKBONE_TIER_UNSPECIFIED) {
    teacher->set_backbone_tier(derived.backbone->backbone_designated().tier());
    teacher->set_backbone_designated_on(derived.backbone->occurred_on());
    absl::StatusOr<absl::CivilDay> on = dates::ParseDate(derived.backbone->occurred_on());
    if (on.ok()) {
      teacher->set_backbone_review_due_on(
          dates::FormatDate(dates::ShiftYears(*on, backbone_review_years)));
    }
  }
  for (const TimelineEntry& e : derived.designations) {
    v1::Designation* d = teacher->add_designations();
    *d = e.designation();
    d->set_designated_on(e.occurred_on());
    d->set_entry_id(e.entry_id());
  }
  for (const TimelineEntry& e : derived.honours) {
    v1::Honour* h = teacher->add_honours();
    *h = e.honour();
    h->set_awarded_on(e.occurred_on());
    h->set_entry_id(e.entry_id());
  }
  if (derived.latest_appraisal) {
    v1::Appraisal* a = teacher->mutable_latest_appraisal();
    a->set_year(derived.latest_appraisal->appraisal().year());
    a->set_result(derived.latest_appraisal->appraisal().result());
    a->set_entry_id(derived.latest_appraisal->entry_id());
  }
  if (derived.post_status) {
    teacher->set_post_status(derived.post_status->post_status_changed().to_status());
  }
  if (derived.active_veto) {
    v1::EthicsVeto* v = teacher->mutable_ethics_veto();
    v->set_severity(derived.active_veto->severity);
    v->set_from_date(dates::FormatDate(derived.active_veto->period.first));
    v->set_until_date(dates::FormatDate(derived.active_veto->period.last));
    v->set_entry_id(derived.active_veto->entry_id);
  }
}

std::vector<v1::SchoolStint> SchoolHistoryFromTimeline(const std::vector<TimelineEntry>& entries) {
  const Effect effect = ComputeEffect(entries);
  std::vector<TimelineEntry> moves;
  for (size_t i = 0; i < entries.size(); ++i) {
    const TimelineEntry& e = entries[i];
    if (!effect.in_effect[i] || !dates::ParseDate(e.occurred_on()).ok()) continue;
    if (e.kind() == v1::TIMELINE_ENTRY_KIND_SCHOOL_JOINED ||
        e.kind() == v1::TIMELINE_ENTRY_KIND_SCHOOL_MOVED ||
        e.kind() == v1::TIMELINE_ENTRY_KIND_TRANSFERRED) {
      moves.push_back(e);
    }
  }
  SortByDate(&moves);
  std::vector<v1::SchoolStint> history;
  for (const TimelineEntry& e : moves) {
    const bool transfer = e.kind() == v1::TIMELINE_ENTRY_KIND_TRANSFERRED;
    const std::string& school =
        transfer ? e.transfer().to_school_id() : e.school_change().to_school_id();
    if (!history.empty()) {
      absl::CivilDay start = *dates::ParseDate(e.occurred_on());
      history.back().set_to_date(dates::FormatDate(start - 1));
    }
    v1::SchoolStint stint;
    stint.set_school_id(school);
    if (transfer) stint.set_county_id(e.transfer().to_county_id());
    stint.set_from_date(e.occurred_on());
    history.push_back(std::move(stint));
  }
  // Two moves on one day leave a stint that ended before it began: drop it.
  std::vector<v1::SchoolStint> kept;
  for (v1::SchoolStint& s : history) {
    if (!s.to_date().empty() && s.to_date() < s.from_date()) continue;
    kept.push_back(std::move(s));
  }
  return kept;
}

namespace {

using K = v1::TimelineEntry;

// The detail an entry of `kind` carries (none for a CORRECTION).
K::DetailCase DetailOfKind(v1::TimelineEntryKind kind) {
  switch (kind) {
    case v1::TIMELINE_ENTRY_KIND_TITLE_CONFERRED:
      return K::kTitleConferred;
    case v1::TIMELINE_ENTRY_KIND_BACKBONE_DESIGNATED:
      return K::kBackboneDesignated;
    case v1::TIMELINE_ENTRY_KIND_DESIGNATION:
      return K::kDesignation;
    case v1::TIMELINE_ENTRY_KIND_HONOUR:
      return K::kHonour;
    case v1::TIMELINE_ENTRY_KIND_APPRAISAL:
      return K::kAppraisal;
    case v1::TIMELINE_ENTRY_KIND_ETHICS_FINDING:
      return K::kEthicsFinding;
    case v1::TIMELINE_ENTRY_KIND_POST_STATUS_CHANGED:
      return K::kPostStatusChanged;
    case v1::TIMELINE_ENTRY_KIND_SCHOOL_JOINED:
    case v1::TIMELINE_ENTRY_KIND_SCHOOL_MOVED:
      return K::kSchoolChange;
    case v1::TIMELINE_ENTRY_KIND_TRANSFERRED:
      return K::kTransfer;
    case v1::TIMELINE_ENTRY_KIND_PROFILE_UPDATED:
      return K::kProfileUpdated;
    case v1::TIMELINE_ENTRY_KIND_EXTERNAL:
      return K::kExternal;
    default:
      return K::DETAIL_NOT_SET;
  }
}

// The output-only fields empty, the kind known, the date real, a reason with every supersession.
absl::Status CheckEntryHead(const TimelineEntry& entry) {
  if (!entry.entry_id().empty())
    return Invalid("entry.entry_id", "output_only", "is made by the platform; leave it empty");
  if (entry.recorded_at_ms() != 0 || entry.sequence() != 0 || !entry.actor().empty() ||
      !entry.superseded_by_entry_id().empty()) {
    return Invalid("entry", "output_only",
                   "recorded_at_ms, sequence, actor and superseded_by_entry_id are output only");
  }
  if (entry.kind() == v1::TIMELINE_ENTRY_KIND_UNSPECIFIED ||
      !v1::TimelineEntryKind_IsValid(entry.kind())) {
    return Invalid("entry.kind", "enum", "must be one of the TIMELINE_ENTRY_KIND_* values");
  }
  absl::Status date = dates::ParseDate(entry.occurred_on(), "entry.occurred_on").status();
  if (!date.ok()) return date;
  if (!entry.supersedes_entry_id().empty() && entry.correction_reason().empty()) {
    return Invalid("entry.correction_reason", "required",
                   "required when supersedes_entry_id is set");
  }
  if (entry.kind() == v1::TIMELINE_ENTRY_KIND_CORRECTION && entry.supersedes_entry_id().empty()) {
    return Invalid("entry.supersedes_entry_id", "required", "required for a CORRECTION");
  }
  return absl::OkStatus();
}

// A designation detail's kind, name and level.
absl::Status CheckDesignation(const v1::Designation& d) {
  if (d.kind() == v1::DESIGNATION_KIND_UNSPECIFIED || !v1::DesignationKind_IsValid(d.kind())) {
    return Invalid("entry.designation.kind", "enum",
                   "must be one of the DESIGNATION_KIND_* values");
  }
  if (d.kind() == v1::DESIGNATION_KIND_OTHER && d.name().empty()) {
    return Invalid("entry.designation.name", "required", "required for DESIGNATION_KIND_OTHER");
  }
  if (!v1::AwardLevel_IsValid(d.level())) {
    return Invalid("entry.designation.level", "enum", "must be one of the AWARD_LEVEL_* values");
  }
  return absl::OkStatus();
}

// The detail's own required fields.
absl::Status CheckEntryDetail(const TimelineEntry& entry) {
  switch (entry.detail_case()) {
    case K::kTitleConferred:
      if (entry.title_conferred().title() == common::v1::PROFESSIONAL_TITLE_UNSPECIFIED ||
          !common::v1::ProfessionalTitle_IsValid(entry.title_conferred().title())) {
        return Invalid("entry.title_conferred.title", "enum",
                       "must be one of PROFESSIONAL_TITLE_THIRD_GRADE .. _FULL_SENIOR");
      }
      break;
    case K::kBackboneDesignated:
      if (!common::v1::BackboneTier_IsValid(entry.backbone_designated().tier())) {
        return Invalid("entry.backbone_designated.tier", "enum",
                       "must be BACKBONE_TIER_COUNTY, _CITY, _PROVINCE (or UNSPECIFIED: lapsed)");
      }
      break;
    case K::kDesignation:
      return CheckDesignation(entry.designation());
    case K::kHonour:
      if (entry.honour().name().empty()) {
        return Invalid("entry.honour.name", "required", "required (e.g. 市优秀教师)");
      }
      if (!v1::AwardLevel_IsValid(entry.honour().level())) {
        return Invalid("entry.honour.level", "enum", "must be one of the AWARD_LEVEL_* values");
      }
      break;
    case K::kAppraisal:
      if (entry.appraisal().year() < 1950 || entry.appraisal().year() > 2199) {
        return Invalid("entry.appraisal.year", "range", "must be a year between 1950 and 2199");
      }
      if (entry.appraisal().result() == v1::APPRAISAL_RESULT_UNSPECIFIED ||
          !v1::AppraisalResult_IsValid(entry.appraisal().result())) {
        return Invalid("entry.appraisal.result", "enum",
                       "must be EXCELLENT, QUALIFIED, BASICALLY_QUALIFIED or UNQUALIFIED");
      }
      break;
    case K::kEthicsFinding:
      if (!common::v1::EthicsSeverity_IsValid(entry.ethics_finding().severity())) {
        return Invalid("entry.ethics_finding.severity", "enum",
                       "must be one of the ETHICS_SEVERITY_* values");
      }
      break;
    case K::kPostStatusChanged:
      if (entry.post_status_changed().to_status() == v1::POST_STATUS_UNSPECIFIED ||
          !v1::PostStatus_IsValid(entry.post_status_changed().to_status())) {
        return Invalid("entry.post_status_changed.to_status", "enum",
                       "must be one of the POST_STATUS_* values");
      }
      break;
    case K::kSchoolChange:
      if (entry.school_change().to_school_id().empty()) {
        return Invalid("entry.school_change.to_school_id", "required", "required");
      }
      break;
    case K::kTransfer:
      if (entry.transfer().to_county_id().empty() || entry.transfer().to_school_id().empty()) {
        return Invalid("entry.transfer", "required", "to_county_id and to_school_id are required");
      }
      break;
    case K::kExternal:
      if (entry.external().type().empty() || entry.external().source().empty()) {
        return Invalid("entry.external", "required", "type and source are required");
      }
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateNewTimelineEntry(const TimelineEntry& entry) {
  if (absl::Status head = CheckEntryHead(entry); !head.ok()) return head;
  const K::DetailCase want = DetailOfKind(entry.kind());
  if (entry.detail_case() != want) {
    if (want == K::DETAIL_NOT_SET)
      return Invalid("entry", "detail_mismatch", "a CORRECTION carries no detail");
    const auto* field = K::descriptor()->FindFieldByNumber(static_cast<int>(want));
    return Invalid(absl::StrCat("entry.", field->name()), "detail_mismatch",
                   absl::StrCat("required for ", v1::TimelineEntryKind_Name(entry.kind()),
                                " (and no other detail)"));
  }

  return CheckEntryDetail(entry);
}

// ---------------------------------------------------------------------------------------------
// Years, new teachers, rural or weak service.

bool IsNewTeacher(absl::CivilDay hire_date, absl::CivilDay day, int64_t years) {
  return hire_date <= day && day < dates::ShiftYears(hire_date, years);
}

int64_t WholeYearsSince(absl::CivilDay since, absl::CivilDay day) {
  if (day < since) return 0;
  int64_t n = day.year() - since.year();
  // ShiftYears(since, n) falls in day's year (or on 1 March after a 29 February), so at most one
  // step back is needed.
  while (n > 0 && dates::ShiftYears(since, n) > day) --n;
  return n;
}

bool IsRuralOrWeak(const v1::SchoolStint& school) {
  return school.location() == v1::SCHOOL_LOCATION_RURAL ||
         school.quality() == v1::SCHOOL_QUALITY_WEAK ||
         school.kind() == v1::SCHOOL_KIND_VILLAGE_SCHOOL ||
         school.kind() == v1::SCHOOL_KIND_TEACHING_POINT;
}

absl::StatusOr<v1::RuralOrWeakService> RuralOrWeakServiceOf(
    const std::vector<v1::SchoolStint>& history, absl::CivilDay as_of) {
  return RuralOrWeakServiceOf(history, {}, as_of);
}

std::vector<v1::SchoolStint> SecondmentStintsFromTimeline(
    const std::vector<v1::TimelineEntry>& entries) {
  std::map<std::string, v1::SchoolStint> by_rotation;  // rotation id -> its stint
  for (const TimelineEntry& e : entries) {
    if (e.kind() != v1::TIMELINE_ENTRY_KIND_EXTERNAL || e.external().source() != "rotation" ||
        !e.superseded_by_entry_id().empty()) {
      continue;
    }
    rotation::v1::Rotation r;
    if (!e.external().payload().UnpackTo(&r) || r.relation_moves()) continue;
    const std::string& type = e.external().type();
    if (type == "rotation.started" && !r.started_on().empty()) {
      v1::SchoolStint& s = by_rotation[r.rotation_id()];
      s.set_school_id(r.receiving_school_id());
      s.set_from_date(r.started_on());
    } else if (type == "rotation.completed" || type == "rotation.cancelled") {
      auto found = by_rotation.find(r.rotation_id());
      if (found == by_rotation.end()) continue;
      const std::string& last = type == "rotation.completed" ? r.completed_on() : e.occurred_on();
      if (!last.empty() && last >= found->second.from_date()) found->second.set_to_date(last);
    }
  }
  std::vector<v1::SchoolStint> out;
  out.reserve(by_rotation.size());
  for (auto& [id, stint] : by_rotation) out.push_back(std::move(stint));
  std::sort(out.begin(), out.end(), [](const v1::SchoolStint& a, const v1::SchoolStint& b) {
    return a.from_date() < b.from_date();
  });
  return out;
}

absl::StatusOr<v1::RuralOrWeakService> RuralOrWeakServiceOf(
    const std::vector<v1::SchoolStint>& history, const std::vector<v1::SchoolStint>& secondments,
    absl::CivilDay as_of) {
  v1::RuralOrWeakService out;
  std::vector<dates::Period> spans;
  std::vector<v1::SchoolStint> stints = history;
  stints.insert(stints.end(), secondments.begin(), secondments.end());
  for (size_t i = 0; i < stints.size(); ++i) {
    const v1::SchoolStint& s = stints[i];
    const bool secondment = i >= history.size();
    const std::string at = secondment ? absl::StrCat("secondments[", i - history.size(), "]")
                                      : absl::StrCat("school_history[", i, "]");
    absl::StatusOr<absl::CivilDay> from = dates::ParseDate(s.from_date(), at + ".from_date");
    if (!from.ok()) return from.status();
    std::optional<absl::CivilDay> to;
    if (!s.to_date().empty()) {
      absl::StatusOr<absl::CivilDay> parsed = dates::ParseDate(s.to_date(), at + ".to_date");
      if (!parsed.ok()) return parsed.status();
      if (*parsed < *from) return Invalid(at + ".to_date", "order", "must not be before from_date");
      to = *parsed;
    }
    if (!IsRuralOrWeak(s) || *from > as_of) continue;
    const bool ongoing = !to || *to >= as_of;
    v1::RuralOrWeakService::Period* p = out.add_periods();
    p->set_school_id(s.school_id());
    p->set_from_date(s.from_date());
    if (!ongoing) p->set_to_date(s.to_date());
    p->set_rural(s.location() == v1::SCHOOL_LOCATION_RURAL);
    p->set_weak(s.quality() == v1::SCHOOL_QUALITY_WEAK);
    p->set_village_or_teaching_point(s.kind() == v1::SCHOOL_KIND_VILLAGE_SCHOOL ||
                                     s.kind() == v1::SCHOOL_KIND_TEACHING_POINT);
    p->set_source(secondment ? "rotation" : "school_history");
    spans.push_back(dates::Period{*from, ongoing ? as_of : *to});
  }
  out.set_served(!spans.empty());

  std::sort(spans.begin(), spans.end(),
            [](const dates::Period& a, const dates::Period& b) { return a.first < b.first; });
  int64_t years = 0;
  std::optional<dates::Period> current;
  auto close = [&]() {
    // The span's last day is served too, so whole years are counted on the day after it.
    if (current) years += WholeYearsSince(current->first, current->last + 1);
  };
  for (const dates::Period& p : spans) {
    if (current && p.first <= current->last + 1) {
      current->last = std::max(current->last, p.last);
    } else {
      close();
      current = p;
    }
  }
  close();
  out.set_whole_years(static_cast<int32_t>(years));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Update mask.

absl::Status ValidateTeacherUpdateMask(const google::protobuf::FieldMask& mask) {
  static const std::set<std::string, std::less<>> kUpdatable = {"national_teacher_id",
                                                                "name",
                                                                "sex",
                                                                "birth_date",
                                                                "id_card_number",
                                                                "hire_date",
                                                                "education",
                                                                "qualification",
                                                                "stage",
                                                                "subjects",
                                                                "staffed",
                                                                "head_teacher_periods",
                                                                "leadership_posts",
                                                                "training_cycle_anchor",
                                                                "phone",
                                                                "email"};
  static const std::set<std::string, std::less<>> kDerived = {"title",
                                                              "title_conferred_on",
                                                              "backbone_tier",
                                                              "backbone_designated_on",
                                                              "backbone_review_due_on",
                                                              "designations",
                                                              "honours",
                                                              "latest_appraisal",
                                                              "ethics_veto",
                                                              "expected_retirement_date"};
  static const std::set<std::string, std::less<>> kMoved = {"county_id", "school_id",
                                                            "school_joined_on"};
  static const std::set<std::string, std::less<>> kReadOnly = {"teacher_id", "id_card_masked",
                                                               "etag"};
  if (mask.paths().empty()) {
    return Invalid("update_mask", "required", "must name at least one field to change");
  }
  for (const std::string& path : mask.paths()) {
    const absl::string_view top = absl::string_view(path).substr(0, path.find('.'));
    if (kDerived.count(top) > 0) {
      return Invalid("update_mask", "derived",
                     absl::StrCat("'", path,
                                  "' is derived from the timeline; add a timeline "
                                  "entry (AddTimelineEntry) instead"));
    }
    if (kMoved.count(top) > 0) {
      return Invalid("update_mask", "moved",
                     absl::StrCat("'", path,
                                  "' changes only through MoveTeacher or "
                                  "TransferTeacher"));
    }
    if (top == "post_status") {
      return Invalid("update_mask", "own_method",
                     "'post_status' changes only through a POST_STATUS_CHANGED "
                     "timeline entry");
    }
    if (kReadOnly.count(top) > 0) {
      return Invalid("update_mask", "read_only", absl::StrCat("'", path, "' is read-only"));
    }
    bool known = kUpdatable.count(top) > 0;
    // Only the qualification certificate has sub-fields worth naming one by one.
    if (known && top != path) {
      known = top == "qualification" &&
              v1::QualificationCertificate::descriptor()->FindFieldByName(
                  std::string(absl::string_view(path).substr(top.size() + 1))) != nullptr;
    }
    if (!known) {
      return Invalid(
          "update_mask", "unknown_field",
          absl::StrCat("unknown field '", path, "'; allowed: ", absl::StrJoin(kUpdatable, ", ")));
    }
  }
  return absl::OkStatus();
}

namespace {

// What `entry` would grant that a veto forbids ("a title above the one held"), or "" when it
// grants nothing a veto forbids.
std::string VetoedGrant(const TimelineEntry& entry, const DerivedValues& on_its_day) {
  switch (entry.kind()) {
    case v1::TIMELINE_ENTRY_KIND_TITLE_CONFERRED: {
      const common::v1::ProfessionalTitle held = on_its_day.title
                                                     ? on_its_day.title->title_conferred().title()
                                                     : common::v1::PROFESSIONAL_TITLE_UNSPECIFIED;
      return entry.title_conferred().title() > held ? "a title above the one held (promotion)" : "";
    }
    case v1::TIMELINE_ENTRY_KIND_BACKBONE_DESIGNATED:
      return entry.backbone_designated().tier() != common::v1::BACKBONE_TIER_UNSPECIFIED
                 ? "a backbone designation"
                 : "";
    case v1::TIMELINE_ENTRY_KIND_DESIGNATION:
      return "a designation";
    case v1::TIMELINE_ENTRY_KIND_HONOUR:
      return "an honour (excellence rating)";
    case v1::TIMELINE_ENTRY_KIND_APPRAISAL:
      return entry.appraisal().result() == v1::APPRAISAL_RESULT_EXCELLENT
                 ? "an appraisal of 优秀 (excellence rating)"
                 : "";
    default:
      return "";
  }
}

// A title, designation, honour or appraisal: what a teacher is given, which an ethics veto bars
// and which is dated on the day it happened.
bool IsRecognition(v1::TimelineEntryKind kind) {
  switch (kind) {
    case v1::TIMELINE_ENTRY_KIND_TITLE_CONFERRED:
    case v1::TIMELINE_ENTRY_KIND_BACKBONE_DESIGNATED:
    case v1::TIMELINE_ENTRY_KIND_DESIGNATION:
    case v1::TIMELINE_ENTRY_KIND_HONOUR:
    case v1::TIMELINE_ENTRY_KIND_APPRAISAL:
      return true;
    default:
      return false;
  }
}

}  // namespace

absl::Status CheckEntryHappened(const TimelineEntry& entry, absl::CivilDay today) {
  if (!IsRecognition(entry.kind()) && entry.kind() != v1::TIMELINE_ENTRY_KIND_ETHICS_FINDING) {
    return absl::OkStatus();
  }
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay occurred,
                           dates::ParseDate(entry.occurred_on(), "entry.occurred_on"));
  if (occurred > today) {
    return InvalidField("entry.occurred_on", "not_future",
                        absl::StrCat(entry.occurred_on(), " is after today; a ",
                                     v1::TimelineEntryKind_Name(entry.kind()),
                                     " entry records what happened: on or before today, ",
                                     dates::FormatDate(today)));
  }
  if (entry.kind() == v1::TIMELINE_ENTRY_KIND_APPRAISAL &&
      entry.appraisal().year() > today.year()) {
    return InvalidField(
        "entry.appraisal.year", "not_future",
        absl::StrCat(entry.appraisal().year(),
                     " has not begun; an appraisal is of a year up to this one, ", today.year()));
  }
  return absl::OkStatus();
}

absl::Status CheckEthicsVeto(const TimelineEntry& entry, const std::vector<TimelineEntry>& timeline,
                             const common::v1::EthicsPolicy& ethics) {
  if (!IsRecognition(entry.kind())) return absl::OkStatus();
  absl::StatusOr<absl::CivilDay> day = dates::ParseDate(entry.occurred_on(), "entry.occurred_on");
  if (!day.ok()) return day.status();
  absl::StatusOr<DerivedValues> on_its_day = DeriveCurrentValues(timeline, ethics, *day);
  if (!on_its_day.ok()) return on_its_day.status();
  if (!on_its_day->active_veto) return absl::OkStatus();
  const std::string grant = VetoedGrant(entry, *on_its_day);
  if (grant.empty()) return absl::OkStatus();
  const Veto& veto = *on_its_day->active_veto;
  const std::string message =
      absl::StrCat("entry.occurred_on: ", entry.occurred_on(), " is under an ethics veto (",
                   common::v1::EthicsSeverity_Name(veto.severity), " from ",
                   dates::FormatDate(veto.period.first), " through ",
                   dates::FormatDate(veto.period.last), "), which rules out ", grant,
                   "; record it dated after ", dates::FormatDate(veto.period.last));
  absl::Status status = absl::FailedPreconditionError(message);
  common::v1::BadRequest details;
  common::v1::FieldViolation* v = details.add_field_violations();
  v->set_field("entry.occurred_on");
  v->set_rule("ethics_veto");
  v->set_description(message);
  status.SetPayload(kBadRequestTypeUrl, absl::Cord(details.SerializeAsString()));
  return status;
}

}  // namespace shidang::profile
