#include "services/training/totals.h"

#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "services/common/dates.h"
#include "services/common/log.h"
#include "services/common/status.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::training {
namespace {

// What the growth file shows of a teacher's summary as of today: the few values (the full
// breakdown is one GetTrainingSummary away).
constexpr char kSummaryKind[] = "training_cycle";
using SummaryValues = std::vector<std::pair<absl::string_view, std::string>>;

SummaryValues ValuesOf(const Summary& summary) {
  SummaryValues values = {{"counted_hours", HalfHoursText(summary.counted)},
                          {"required_hours", HalfHoursText(summary.required)},
                          {"status", TrainingStatus_Name(summary.status)},
                          {"cycle_first", dates::FormatDate(summary.cycle.window.first)},
                          {"cycle_last", dates::FormatDate(summary.cycle.window.last)}};
  if (summary.counts_credits) {
    values.emplace_back("credits", HoursText(RoundTo2(summary.credits)));
  }
  return values;
}

profile::v1::ServiceSummary SummaryPayload(const Summary& summary) {
  profile::v1::ServiceSummary payload;
  payload.set_source(kServiceName);
  payload.set_kind(kSummaryKind);
  for (auto& [key, value] : ValuesOf(summary)) {
    (*payload.mutable_values())[std::string(key)] = std::move(value);
  }
  return payload;
}

std::string Encode(const std::function<void(google::protobuf::io::CodedOutputStream*)>& fill) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream out(&stream);
  fill(&out);
  out.Trim();
  return bytes;
}

// SummaryPayload(summary) as the field Event.teacher_summary alone, encoded (a credit's event
// carries it, appended by the ledger's write). Written field by field: a batch makes one per
// credited row, where filling a protobuf Map, packing an Any and freeing them cost as much as
// the rest of the row's totals. The fields are the generated numbers; the growth file parses it
// as any ServiceSummary (tested through the credit events).
std::string SummaryAttachment(const Summary& summary) {
  using google::protobuf::internal::WireFormatLite;
  using Out = google::protobuf::io::CodedOutputStream;
  const std::string payload = Encode([&](Out* out) {
    WireFormatLite::WriteString(profile::v1::ServiceSummary::kSourceFieldNumber,
                                std::string(kServiceName), out);
    WireFormatLite::WriteString(profile::v1::ServiceSummary::kKindFieldNumber, kSummaryKind, out);
    for (const auto& item : ValuesOf(summary)) {
      // Plain references, not structured bindings: a lambda may capture those only from C++20
      // (clang refuses; g++ allows it as an extension).
      const auto& key = item.first;
      const auto& value = item.second;
      // A map entry is a message of key (1) and value (2).
      const std::string entry = Encode([&](Out* e) {
        WireFormatLite::WriteString(1, std::string(key), e);
        WireFormatLite::WriteString(2, value, e);
      });
      WireFormatLite::WriteString(profile::v1::ServiceSummary::kValuesFieldNumber, entry, out);
    }
  });
  static const std::string* const type_url = new std::string(
      absl::StrCat("type.googleapis.com/", profile::v1::ServiceSummary::descriptor()->full_name()));
  const std::string any = Encode([&](Out* out) {
    WireFormatLite::WriteString(google::protobuf::Any::kTypeUrlFieldNumber, *type_url, out);
    WireFormatLite::WriteBytes(google::protobuf::Any::kValueFieldNumber, payload, out);
  });
  return Encode([&](Out* out) {
    WireFormatLite::WriteBytes(common::v1::Event::kTeacherSummaryFieldNumber, any, out);
  });
}

std::vector<LedgerEntry> RulesLedger(const TeacherState& state) {
  std::vector<LedgerEntry> ledger;
  ledger.reserve(state.ledger.size());
  for (const v1::LedgerEntry& e : state.ledger) ledger.push_back(ToRulesEntry(e));
  return ledger;
}

}  // namespace

TeacherFacts FactsForRules(const TeacherFactsRecord& f) {
  TeacherFacts out;
  absl::StatusOr<absl::CivilDay> hire = dates::ParseDate(f.hire_date);
  if (hire.ok()) out.hire_date = *hire;
  absl::StatusOr<absl::CivilDay> anchor = dates::ParseDate(f.cycle_anchor);
  if (anchor.ok()) {
    out.cycle_anchor = *anchor;
  } else if (hire.ok()) {
    out.cycle_anchor = *hire;
  }
  out.head_teacher = f.head_teacher;
  return out;
}

LedgerEntry ToRulesEntry(const v1::LedgerEntry& e) {
  LedgerEntry out;
  out.id = e.entry_id();
  absl::StatusOr<absl::CivilDay> day = dates::ParseDate(e.date());
  if (day.ok()) out.date = *day;
  out.half_hours = static_cast<HalfHours>(e.hours() * 2);
  out.level = e.level();
  out.mode = e.mode();
  out.activity = ActivityName(e.activity());
  out.source = e.source();
  out.reverses = e.reverses_entry_id();
  out.induction = e.induction();
  out.head_teacher = e.head_teacher();
  return out;
}

std::vector<PendingRecord> PendingOf(const TeacherState& state) {
  std::vector<PendingRecord> pending;
  for (const v1::TrainingRecord& r : state.records) {
    if (r.state() != v1::TRAINING_RECORD_STATE_AWAITING_CONFIRMATION &&
        r.state() != v1::TRAINING_RECORD_STATE_AWAITING_REVIEW) {
      continue;
    }
    absl::StatusOr<absl::CivilDay> day = dates::ParseDate(r.completed_on());
    if (!day.ok()) continue;
    pending.push_back(PendingRecord{*day, static_cast<HalfHours>(r.hours() * 2), r.induction()});
  }
  return pending;
}

absl::StatusOr<Summary> SummaryOfState(const LoadedPolicy& policy, const TeacherState& state,
                                       absl::CivilDay as_of) {
  return ComputeSummary(policy.history, FactsForRules(*state.facts), RulesLedger(state),
                        PendingOf(state), as_of);
}

void Totals::Advance(const LoadedPolicy& policy, const TeacherState& state,
                     const v1::LedgerEntry& entry, absl::CivilDay today, LedgerAppend* a) const {
  a->expected_length = -1;
  if (!state.facts.has_value() || state.tally.empty() || state.policy_stamp != policy.stamp) {
    return;
  }
  absl::StatusOr<Tally> before = DecodeTally(state.tally);
  if (!before.ok()) return;
  TeacherFacts facts = FactsForRules(*state.facts);
  absl::StatusOr<std::optional<Tally>> after =
      AdvanceTally(policy.history, facts, *before, ToRulesEntry(entry), today);
  if (!after.ok() || !after->has_value()) return;
  absl::StatusOr<std::optional<Summary>> summary =
      SummaryFromTally(policy.history, facts, **after, {}, today);
  if (!summary.ok() || !summary->has_value()) return;
  a->expected_length = before->ledger_length;
  a->tally = EncodeTally(**after);
  a->row = EncodeReportRow(ReportRowOf(**summary, **after, facts));
  a->policy_stamp = policy.stamp;
  // Event.teacher_summary alone, encoded: the write appends it to the event's bytes.
  a->summary_attachment = SummaryAttachment(**summary);
}

// The growth file's "training.summary" event, for totals recounted without a change to carry
// them (a change carries its summary itself: Event.teacher_summary).
common::v1::Event Totals::SummaryEvent(absl::string_view teacher_id, absl::string_view county_id,
                                       const Summary& summary) {
  profile::v1::ServiceSummary payload = SummaryPayload(summary);
  const auto& values = payload.values();
  return events_.Make("training.summary", teacher_id, county_id, dates::FormatDate(summary.as_of),
                      "service:training", "",
                      absl::StrCat("培训学时：已计 ", values.at("counted_hours"), " / ",
                                   values.at("required_hours"), " 学时"),
                      payload);
}

Totals::Recounted Totals::RecountOne(const std::string& teacher_id, absl::string_view county_id,
                                     TeacherState state, const LoadedPolicy& policy,
                                     absl::CivilDay today, std::vector<TallyWrite>* writes,
                                     std::vector<common::v1::Event>* events) {
  Recounted r{std::move(state), std::nullopt};
  if (!r.state.facts.has_value()) return r;
  TeacherFacts facts = FactsForRules(*r.state.facts);
  std::vector<LedgerEntry> ledger = RulesLedger(r.state);
  absl::StatusOr<Tally> tally = TallyFromLedger(policy.history, facts, ledger, today);
  absl::StatusOr<std::optional<Summary>> summary =
      tally.ok() ? SummaryFromTally(policy.history, facts, *tally, {}, today)
                 : absl::StatusOr<std::optional<Summary>>(tally.status());
  if (!summary.ok() || !summary->has_value()) {
    LogWarning("training totals of teacher ", teacher_id, " not counted: ",
               summary.ok() ? "an entry is dated after today" : summary.status().ToString());
    return r;
  }
  TallyWrite w;
  w.teacher_id = teacher_id;
  w.ledger_length = static_cast<int64_t>(ledger.size());
  w.tally = EncodeTally(*tally);
  w.row = EncodeReportRow(ReportRowOf(**summary, *tally, facts));
  w.policy_stamp = policy.stamp;
  w.event_index = static_cast<int>(events->size());
  events->push_back(SummaryEvent(teacher_id, county_id, **summary));
  writes->push_back(std::move(w));
  r.tally = *std::move(tally);
  return r;
}

absl::StatusOr<std::vector<Totals::Recounted>> Totals::Recount(
    absl::string_view county_id, const std::vector<std::string>& teacher_ids,
    const LoadedPolicy& policy) {
  std::vector<Recounted> out;
  if (teacher_ids.empty()) return out;
  SHIDANG_ASSIGN_OR_RETURN(std::vector<TeacherState> states,
                           store_.GetTeachers(county_id, teacher_ids));
  absl::CivilDay today = clock_.Today();
  std::vector<TallyWrite> writes;
  std::vector<common::v1::Event> events;
  for (size_t i = 0; i < states.size(); ++i) {
    out.push_back(RecountOne(teacher_ids[i], county_id, std::move(states[i]), policy, today,
                             &writes, &events));
  }
  SHIDANG_RETURN_IF_ERROR(store_.PutTallies(county_id, writes, std::move(events)).status());
  return out;
}

void Totals::RecountAfterWrite(absl::string_view county_id, const std::vector<std::string>& ids) {
  if (ids.empty()) return;
  absl::StatusOr<LoadedPolicy> policy = policy_.LoadPolicy(county_id);
  absl::Status s = policy.status();
  if (policy.ok()) s = Recount(county_id, ids, *policy).status();
  if (!s.ok()) {
    LogWarning("training totals in county ", county_id, " not recounted: ", s.ToString());
  }
}

}  // namespace shidang::training
