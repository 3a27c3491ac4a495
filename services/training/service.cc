#include "services/training/service.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "services/common/csv.h"
#include "services/common/dates.h"
#include "services/common/digest.h"
#include "services/common/log.h"
#include "services/common/mutation.h"
#include "services/common/policy.h"
#include "services/common/server.h"
#include "services/common/status.h"
#include "services/training/rules.h"
#include "services/training/store.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::training {
namespace {

using common::v1::Principal;
using common::v1::Role;

constexpr char kMethodPrefix[] = "shidang.training.v1.TrainingService/";
constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;
constexpr int kMaxCompletionRows = 5000;
// Rows per ledger script or transaction of a completion batch (see RecordCompletions).
constexpr size_t kAppendsPerScript = 500;

bool IsHr(Role role) {
  return role == common::v1::ROLE_COUNTY_HR || role == common::v1::ROLE_CITY_HR ||
         role == common::v1::ROLE_PROVINCE_HR;
}
bool IsTrusted(Role role) {
  return role == common::v1::ROLE_ADMIN || role == common::v1::ROLE_SERVICE;
}
bool HrCovers(const Principal& p, absl::string_view county) {
  return IsHr(p.role()) && (p.region() == county || RegionCovers(p.region(), county));
}

absl::Status Denied(const Principal& p, absl::string_view what) {
  return absl::PermissionDeniedError(
      absl::StrCat(RoleName(p.role()), " ", p.subject(), " may not ", what));
}

// A teacher their own; a school admin their school's teachers; HR their region.
absl::Status RequireTeacherRead(const Principal& p, const TeacherFactsRecord& t) {
  if (IsTrusted(p.role()) || HrCovers(p, t.county_id)) return absl::OkStatus();
  if (p.role() == common::v1::ROLE_SCHOOL_ADMIN && !p.school_id().empty() &&
      p.school_id() == t.school_id) {
    return absl::OkStatus();
  }
  if (p.role() == common::v1::ROLE_TEACHER && p.subject() == t.teacher_id) {
    return absl::OkStatus();
  }
  return Denied(p, absl::StrCat("read the training records of teacher ", t.teacher_id));
}

// Training centres act on their own provider's courses only.
absl::Status RequireCourseOwner(const Principal& p, const v1::Course& course) {
  if (IsTrusted(p.role())) return absl::OkStatus();
  if (p.role() == common::v1::ROLE_TRAINING_CENTER && !p.provider_id().empty() &&
      p.provider_id() == course.provider_id()) {
    return absl::OkStatus();
  }
  return Denied(p, absl::StrCat("act on course ", course.course_id(), " of provider ",
                                course.provider_id()));
}

bool IsRegionCode(absl::string_view code) {
  return code.size() == 6 && code.find_first_not_of("0123456789") == absl::string_view::npos;
}
bool IsCountyCode(absl::string_view code) {
  return IsRegionCode(code) && !absl::EndsWith(code, "00");
}
bool IsProviderId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
          c == '.')) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<int> PageSize(const common::v1::PageRequest& page) {
  if (page.page_size() < 0 || page.page_size() > kMaxPageSize) {
    return InvalidField("page.page_size", "range",
                        absl::StrCat("must be 0 (default ", kDefaultPageSize, ") to ",
                                     kMaxPageSize));
  }
  return page.page_size() == 0 ? kDefaultPageSize : page.page_size();
}

// Page tokens of offset-paged listings: the offset of the next item.
absl::StatusOr<size_t> PageOffset(const common::v1::PageRequest& page) {
  if (page.page_token().empty()) return 0;
  size_t offset = 0;
  if (!absl::SimpleAtoi(page.page_token(), &offset)) {
    return InvalidField("page.page_token", "page_token", "not a token this listing gave");
  }
  return offset;
}

template <typename T, typename Add>
void Paginate(const std::vector<T>& items, size_t offset, int page_size,
              common::v1::PageInfo* info, Add add) {
  for (size_t i = offset; i < items.size() && i < offset + page_size; ++i) add(items[i]);
  if (offset + page_size < items.size()) {
    info->set_next_page_token(std::to_string(offset + page_size));
  }
  info->set_total_size(static_cast<int64_t>(items.size()));
}

// Ids made from the request id are the same on a retry that never saw its answer; without a
// request id they are random.
std::string IdSeed(absl::string_view actor, absl::string_view method,
                   absl::string_view request_id, absl::string_view part) {
  if (request_id.empty()) return "";
  return absl::StrCat(actor, "\x1f", method, "\x1f", request_id, "\x1f", part);
}
// A teacher is credited once per course, so the credit's id is derived from the pair.
std::string CourseEntryId(absl::string_view course_id, absl::string_view teacher_id) {
  return absl::StrCat("E", HexId(absl::StrCat("course\x1f", course_id, "\x1f", teacher_id), 16));
}
std::string RecordEntryId(absl::string_view record_id) {
  return absl::StrCat("E", HexId(absl::StrCat("record\x1f", record_id), 16));
}
std::string ReversalId(absl::string_view entry_id) {
  return absl::StrCat("X", HexId(absl::StrCat("reverse\x1f", entry_id), 16));
}

// "24", "24.5", "12.25".
std::string HoursText(double hours) {
  std::string s = absl::StrFormat("%.2f", hours);
  while (absl::EndsWith(s, "0")) s.pop_back();
  if (absl::EndsWith(s, ".")) s.pop_back();
  return s;
}

// 64-bit FNV-1a: a stamp of the policy versions a summary was computed under.
std::string Stamp(absl::string_view bytes) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return absl::StrFormat("%016x", h);
}

// A rules' INVALID_ARGUMENT "field: description" as a field violation.
common::v1::FieldViolation ViolationOf(const absl::Status& status, absl::string_view rule) {
  common::v1::FieldViolation v;
  std::string message(status.message());
  size_t colon = message.find(": ");
  v.set_field(colon == std::string::npos ? "" : message.substr(0, colon));
  v.set_rule(std::string(rule));
  v.set_description(colon == std::string::npos ? message : message.substr(colon + 2));
  return v;
}

common::v1::FieldViolation Violation(absl::string_view field, absl::string_view rule,
                                     absl::string_view description) {
  common::v1::FieldViolation v;
  v.set_field(std::string(field));
  v.set_rule(std::string(rule));
  v.set_description(std::string(description));
  return v;
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

bool Departed(const TeacherFactsRecord& f) {
  return f.post_status == profile::v1::POST_STATUS_RETIRED ||
         f.post_status == profile::v1::POST_STATUS_LEFT;
}

bool CourseOpenTo(const v1::Course& course, absl::string_view county) {
  for (const std::string& region : course.open_regions()) {
    if (region == county || RegionCovers(region, county)) return true;
  }
  return false;
}

struct LoadedPolicy {
  PolicyHistory history;
  std::string stamp;
};

// Random 128-bit event ids drawn from the CSPRNG a block at a time. NewEvent draws once per event,
// which a 2,000-row completion batch (two events a row) felt; the ids are as random either way.
class EventIdSource {
 public:
  std::string Next() {
    absl::MutexLock lock(&mu_);
    if (next_ == sizeof(block_)) {
      if (RAND_bytes(block_, sizeof(block_)) != 1) {
        // As NewEvent: no process can carry on with ids that may repeat.
        std::fprintf(stderr, "training: RAND_bytes failed\n");
        std::abort();
      }
      next_ = 0;
    }
    std::string id = absl::BytesToHexString(
        absl::string_view(reinterpret_cast<const char*>(block_ + next_), kIdBytes));
    next_ += kIdBytes;
    return id;
  }

 private:
  static constexpr size_t kIdBytes = 16;
  absl::Mutex mu_;
  unsigned char block_[kIdBytes * 256] ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = sizeof(block_);
};

// "24", "24.5", "-0.5": half hours as hours, exactly (no float formatting).
std::string HalfHoursText(HalfHours half_hours) {
  const bool negative = half_hours < 0;
  const HalfHours magnitude = negative ? -half_hours : half_hours;
  return absl::StrCat(negative ? "-" : "", magnitude / 2, magnitude % 2 != 0 ? ".5" : "");
}

}  // namespace

class TrainingServiceImpl::Impl {
 public:
  Impl(redis::Pool& pool, const PrincipalSigner& signer, const Clock& clock)
      : pool_(pool), signer_(signer), clock_(clock), store_(pool),
        policies_(pool, policy::PolicyStoreOptions{.clock = &clock}) {
    absl::Status labels = csv::RegisterEnumLabels(
        "shidang.training.v1.TrainingStatus", {{v1::TRAINING_STATUS_COMPLETE, "已完成"},
                                               {v1::TRAINING_STATUS_ON_TRACK, "进度正常"},
                                               {v1::TRAINING_STATUS_AT_RISK, "有风险"},
                                               {v1::TRAINING_STATUS_BEHIND, "进度落后"}});
    if (!labels.ok()) LogError("training status labels: ", labels.ToString());
  }

  template <typename Body>
  grpc::Status Handle(grpc::ServerContext* ctx, absl::string_view method, Body body) {
    return HandleCall(ctx, absl::StrCat(kMethodPrefix, method), signer_, body);
  }

  // ---- shared pieces

  WriteContext Write(const CallContext& call, absl::string_view method,
                     const google::protobuf::Message& request) {
    return WriteContext{call.actor, std::string(method), &request};
  }

  common::v1::Event Event(absl::string_view type, absl::string_view teacher_id,
                          absl::string_view county_id, absl::string_view occurred_on,
                          absl::string_view actor, absl::string_view request_id,
                          absl::string_view summary, const google::protobuf::Message& payload) {
    // NewEvent's envelope, with an id from the block source.
    common::v1::Event e;
    e.set_id(event_ids_.Next());
    e.set_type(std::string(type));
    e.set_source(kServiceName);
    e.set_recorded_at_ms(absl::ToUnixMillis(clock_.Now()));
    e.set_teacher_id(std::string(teacher_id));
    e.set_county_id(std::string(county_id));
    e.set_occurred_on(std::string(occurred_on));
    e.set_actor(std::string(actor));
    e.set_request_id(std::string(request_id));
    e.set_summary(std::string(summary));
    e.mutable_payload()->PackFrom(payload);
    return e;
  }

  absl::StatusOr<absl::CivilDay> AsOf(absl::string_view as_of) {
    if (as_of.empty()) return clock_.Today();
    return dates::ParseDate(as_of, "as_of");
  }

  struct Located {
    std::string county_id;
    TeacherState state;
    const TeacherFactsRecord& facts() const { return *state.facts; }
  };

  absl::StatusOr<Located> Locate(absl::string_view teacher_id) {
    if (teacher_id.empty()) return InvalidField("teacher_id", "required", "required");
    SHIDANG_ASSIGN_OR_RETURN(std::string county, store_.HomeCounty(teacher_id));
    SHIDANG_ASSIGN_OR_RETURN(std::vector<TeacherState> states,
                             store_.GetTeachers(county, {std::string(teacher_id)}));
    if (!states[0].facts.has_value()) {
      return absl::NotFoundError(absl::StrCat("teacher ", teacher_id, " not found"));
    }
    return Located{county, std::move(states[0])};
  }

  // Every stored version that can apply to the county, as the rules' history, with a stamp that
  // changes whenever a version is added (cached summaries made under another stamp are stale).
  absl::StatusOr<LoadedPolicy> LoadPolicy(absl::string_view county_id) {
    SHIDANG_ASSIGN_OR_RETURN(policy::RegionChain chain, policy::ChainOf(county_id));
    std::vector<common::v1::PolicyVersion> versions;
    std::vector<std::pair<common::v1::PolicyLevel, std::string>> levels = {
        {common::v1::POLICY_LEVEL_NATIONAL, ""},
        {common::v1::POLICY_LEVEL_PROVINCE, chain.province},
        {common::v1::POLICY_LEVEL_CITY, chain.city},
        {common::v1::POLICY_LEVEL_COUNTY, chain.county}};
    std::string bytes;
    for (const auto& [level, region] : levels) {
      if (level != common::v1::POLICY_LEVEL_NATIONAL && region.empty()) continue;
      SHIDANG_ASSIGN_OR_RETURN(std::vector<common::v1::PolicyVersion> found,
                               policies_.ListVersions(level, region));
      for (common::v1::PolicyVersion& v : found) {
        if (!v.policy().has_training()) continue;
        absl::StrAppend(&bytes, v.effective_from(), v.policy().training().SerializeAsString(),
                        "\x1e");
        versions.push_back(std::move(v));
      }
    }
    SHIDANG_ASSIGN_OR_RETURN(PolicyHistory history, PolicyHistory::ForCounty(county_id, versions));
    return LoadedPolicy{std::move(history), Stamp(bytes)};
  }

  static TeacherFacts FactsForRules(const TeacherFactsRecord& f) {
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

  static absl::StatusOr<Summary> Compute(const LoadedPolicy& policy, const TeacherState& state,
                                         absl::CivilDay as_of) {
    std::vector<LedgerEntry> ledger;
    for (const v1::LedgerEntry& e : state.ledger) ledger.push_back(ToRulesEntry(e));
    std::vector<PendingRecord> pending = PendingOf(state);
    return ComputeSummary(policy.history, FactsForRules(*state.facts), ledger, pending, as_of);
  }

  // What the growth file shows of a teacher's summary as of today: the few values (the full
  // breakdown is one GetTrainingSummary away).
  static constexpr char kSummaryKind[] = "training_cycle";
  using SummaryValues = std::vector<std::pair<absl::string_view, std::string>>;
  static SummaryValues ValuesOf(const Summary& summary) {
    SummaryValues values = {
        {"counted_hours", HalfHoursText(summary.counted)},
        {"required_hours", HalfHoursText(summary.required)},
        {"status", TrainingStatus_Name(summary.status)},
        {"cycle_first", dates::FormatDate(summary.cycle.window.first)},
        {"cycle_last", dates::FormatDate(summary.cycle.window.last)}};
    if (summary.counts_credits) {
      values.emplace_back("credits", HoursText(RoundTo2(summary.credits)));
    }
    return values;
  }
  static profile::v1::ServiceSummary SummaryPayload(const Summary& summary) {
    profile::v1::ServiceSummary payload;
    payload.set_source(kServiceName);
    payload.set_kind(kSummaryKind);
    for (auto& [key, value] : ValuesOf(summary)) {
      (*payload.mutable_values())[std::string(key)] = std::move(value);
    }
    return payload;
  }
  // SummaryPayload(summary) as the field Event.teacher_summary alone, encoded (a credit's event
  // carries it, appended by the ledger's write). Written field by field: a batch makes one per
  // credited row, where filling a protobuf Map, packing an Any and freeing them cost as much as
  // the rest of the row's totals. The fields are the generated numbers; the growth file parses it
  // as any ServiceSummary (tested through the credit events).
  static std::string SummaryAttachment(const Summary& summary) {
    using google::protobuf::internal::WireFormatLite;
    auto encode = [](const std::function<void(google::protobuf::io::CodedOutputStream*)>& fill) {
      std::string bytes;
      google::protobuf::io::StringOutputStream stream(&bytes);
      google::protobuf::io::CodedOutputStream out(&stream);
      fill(&out);
      out.Trim();
      return bytes;
    };
    const std::string payload = encode([&](google::protobuf::io::CodedOutputStream* out) {
      WireFormatLite::WriteString(profile::v1::ServiceSummary::kSourceFieldNumber,
                                  std::string(kServiceName), out);
      WireFormatLite::WriteString(profile::v1::ServiceSummary::kKindFieldNumber, kSummaryKind,
                                  out);
      for (const auto& [key, value] : ValuesOf(summary)) {
        // A map entry is a message of key (1) and value (2).
        const std::string entry = encode([&](google::protobuf::io::CodedOutputStream* e) {
          WireFormatLite::WriteString(1, std::string(key), e);
          WireFormatLite::WriteString(2, value, e);
        });
        WireFormatLite::WriteString(profile::v1::ServiceSummary::kValuesFieldNumber, entry, out);
      }
    });
    static const std::string* const type_url =
        new std::string(absl::StrCat("type.googleapis.com/",
                                     profile::v1::ServiceSummary::descriptor()->full_name()));
    const std::string any = encode([&](google::protobuf::io::CodedOutputStream* out) {
      WireFormatLite::WriteString(google::protobuf::Any::kTypeUrlFieldNumber, *type_url, out);
      WireFormatLite::WriteBytes(google::protobuf::Any::kValueFieldNumber, payload, out);
    });
    return encode([&](google::protobuf::io::CodedOutputStream* out) {
      WireFormatLite::WriteBytes(common::v1::Event::kTeacherSummaryFieldNumber, any, out);
    });
  }

  // The growth file's "training.summary" event, for totals recounted without a change to carry
  // them (a change carries its summary itself: Event.teacher_summary).
  common::v1::Event SummaryEvent(absl::string_view teacher_id, absl::string_view county_id,
                                 const Summary& summary) {
    profile::v1::ServiceSummary payload = SummaryPayload(summary);
    const auto& values = payload.values();
    return Event("training.summary", teacher_id, county_id, dates::FormatDate(summary.as_of),
                 "service:training", "",
                 absl::StrCat("培训学时：已计 ", values.at("counted_hours"), " / ",
                              values.at("required_hours"), " 学时"),
                 payload);
  }

  // The running totals after appending `entry` to a teacher whose stored totals are `state`'s,
  // when they can be advanced exactly (rules.h AdvanceTally): filled into `a` with the summary
  // its event carries, so the append's script stores them. Otherwise `a` drops them and the
  // caller recounts.
  void AdvanceTotals(const LoadedPolicy& policy, const TeacherState& state,
                     const v1::LedgerEntry& entry, absl::CivilDay today, LedgerAppend* a) {
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

  // Recounts the running totals of these teachers of one county from their ledgers as of today
  // and stores them (unless an append came in between), each with its summary event. Used where
  // totals cannot be advanced (a reversal, a back-dated credit, changed facts, a policy version
  // added, a transfer) and by the report for rows it finds stale. Returns each teacher's full
  // state and tally (nullopt where the ledger could not be counted).
  struct Recounted {
    TeacherState state;
    std::optional<Tally> tally;
  };
  absl::StatusOr<std::vector<Recounted>> Recount(absl::string_view county_id,
                                                 const std::vector<std::string>& teacher_ids,
                                                 const LoadedPolicy& policy) {
    std::vector<Recounted> out;
    if (teacher_ids.empty()) return out;
    SHIDANG_ASSIGN_OR_RETURN(std::vector<TeacherState> states,
                             store_.GetTeachers(county_id, teacher_ids));
    absl::CivilDay today = clock_.Today();
    std::vector<TallyWrite> writes;
    std::vector<common::v1::Event> events;
    for (size_t i = 0; i < states.size(); ++i) {
      Recounted r{std::move(states[i]), std::nullopt};
      if (r.state.facts.has_value()) {
        TeacherFacts facts = FactsForRules(*r.state.facts);
        std::vector<LedgerEntry> ledger;
        for (const v1::LedgerEntry& e : r.state.ledger) ledger.push_back(ToRulesEntry(e));
        absl::StatusOr<Tally> tally = TallyFromLedger(policy.history, facts, ledger, today);
        absl::StatusOr<std::optional<Summary>> summary =
            tally.ok() ? SummaryFromTally(policy.history, facts, *tally, {}, today)
                       : absl::StatusOr<std::optional<Summary>>(tally.status());
        if (!summary.ok() || !summary->has_value()) {
          LogWarning("training totals of teacher ", teacher_ids[i], " not counted: ",
                     summary.ok() ? "an entry is dated after today" : summary.status().ToString());
        } else {
          TallyWrite w;
          w.teacher_id = teacher_ids[i];
          w.ledger_length = static_cast<int64_t>(ledger.size());
          w.tally = EncodeTally(*tally);
          w.row = EncodeReportRow(ReportRowOf(**summary, *tally, facts));
          w.policy_stamp = policy.stamp;
          w.event_index = static_cast<int>(events.size());
          events.push_back(SummaryEvent(teacher_ids[i], county_id, **summary));
          writes.push_back(std::move(w));
          r.tally = *std::move(tally);
        }
      }
      out.push_back(std::move(r));
    }
    SHIDANG_RETURN_IF_ERROR(store_.PutTallies(county_id, writes, std::move(events)).status());
    return out;
  }

  // After a write that left totals to recount: the write has happened, so a failed recount is
  // logged, not returned (readers find no totals and count the ledger themselves).
  void RecountAfterWrite(absl::string_view county_id, const std::vector<std::string>& ids) {
    if (ids.empty()) return;
    absl::StatusOr<LoadedPolicy> policy = LoadPolicy(county_id);
    absl::Status s = policy.status();
    if (policy.ok()) s = Recount(county_id, ids, *policy).status();
    if (!s.ok()) LogWarning("training totals in county ", county_id, " not recounted: ", s.ToString());
  }

  // ---- courses

  absl::Status CheckCourse(const v1::Course& c) {
    absl::Status bad;
    if (c.title().empty() || c.title().size() > 600) {
      AddFieldViolation(&bad, "course.title", "length", "required: 1 to 200 characters");
    }
    if (!IsProviderId(c.provider_id())) {
      AddFieldViolation(&bad, "course.provider_id", "provider_id",
                        "required: 1 to 64 of A-Z a-z 0-9 _ - .");
    }
    if (!v1::CourseState_IsValid(c.state()) || c.level() == 0 ||
        !common::v1::TrainingLevel_IsValid(c.level())) {
      AddFieldViolation(&bad, "course.level", "required", "国家, 省, 市, 县 or 校本");
    }
    if (c.mode() == 0 || !common::v1::TrainingMode_IsValid(c.mode())) {
      AddFieldViolation(&bad, "course.mode", "required", "集中, 网络, 混合 or 校本研修");
    }
    absl::StatusOr<HalfHours> hours = HalfHoursFromWire(c.hours(), "course.hours");
    if (!hours.ok()) AddFieldViolation(&bad, "course.hours", "hours", "> 0 in steps of 0.5");
    absl::StatusOr<absl::CivilDay> start = dates::ParseDate(c.start_date(), "course.start_date");
    absl::StatusOr<absl::CivilDay> end = dates::ParseDate(c.end_date(), "course.end_date");
    if (!start.ok()) {
      AddFieldViolation(&bad, "course.start_date", "date_format", "must be a date YYYY-MM-DD");
    }
    if (!end.ok()) {
      AddFieldViolation(&bad, "course.end_date", "date_format", "must be a date YYYY-MM-DD");
    }
    if (start.ok() && end.ok() && *end < *start) {
      AddFieldViolation(&bad, "course.end_date", "after_start", "must be on or after start_date");
    }
    if (c.capacity() < 1 || c.capacity() > 100000) {
      AddFieldViolation(&bad, "course.capacity", "range", "must be 1 to 100000 seats");
    }
    if (c.open_regions().empty()) {
      AddFieldViolation(&bad, "course.open_regions", "required",
                        "at least one county, city or province code it is open to");
    }
    for (int i = 0; i < c.open_regions_size(); ++i) {
      if (!IsRegionCode(c.open_regions(i))) {
        AddFieldViolation(&bad, absl::StrCat("course.open_regions[", i, "]"), "region_code",
                          "must be a 6-digit GB/T 2260 code");
      }
    }
    for (int i = 0; i < c.target_stages_size(); ++i) {
      if (c.target_stages(i) == 0 || !common::v1::Stage_IsValid(c.target_stages(i))) {
        AddFieldViolation(&bad, absl::StrCat("course.target_stages[", i, "]"), "enum",
                          "must be a stage");
      }
    }
    return bad;
  }

  absl::Status RegisterCourse(const CallContext& call, const v1::RegisterCourseRequest& req,
                              v1::RegisterCourseResponse* resp) {
    const Principal& p = call.principal;
    v1::Course course = req.course();
    if (course.provider_id().empty() && p.role() == common::v1::ROLE_TRAINING_CENTER) {
      course.set_provider_id(p.provider_id());
    }
    if (!course.course_id().empty() || course.state() != 0 || course.enrolled() != 0 ||
        !course.created_by().empty()) {
      return InvalidField("course", "output_only",
                          "course_id, state, enrolled and created_by are set by the service");
    }
    SHIDANG_RETURN_IF_ERROR(CheckCourse(course));
    SHIDANG_RETURN_IF_ERROR(RequireCourseOwner(p, course));
    course.set_course_id(absl::StrCat(
        "C", HexId(IdSeed(call.actor, "RegisterCourse", req.request_id(), ""), 12), "-",
        course.provider_id()));
    course.set_state(v1::COURSE_STATE_DRAFT);
    course.set_created_by(call.actor);
    std::vector<common::v1::Event> events = {
        Event("training.course_registered", "", "", course.start_date(), call.actor,
              req.request_id(), absl::StrCat("登记培训课程《", course.title(), "》"), course)};
    SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_course(),
                             store_.CreateCourse(course, Write(call, "RegisterCourse", req),
                                                 std::move(events)));
    return absl::OkStatus();
  }

  absl::Status RequireCourseRead(const Principal& p, const v1::Course& course) {
    if (p.role() == common::v1::ROLE_TRAINING_CENTER) return RequireCourseOwner(p, course);
    return absl::OkStatus();  // every other role may read the catalogue
  }

  absl::Status GetCourse(const CallContext& call, const v1::GetCourseRequest& req,
                         v1::GetCourseResponse* resp) {
    SHIDANG_ASSIGN_OR_RETURN(StoredCourse stored, store_.GetCourse(req.course_id()));
    SHIDANG_RETURN_IF_ERROR(RequireCourseRead(call.principal, stored.course));
    *resp->mutable_course() = std::move(stored.course);
    return absl::OkStatus();
  }

  absl::Status ListCourses(const CallContext& call, const v1::ListCoursesRequest& req,
                           v1::ListCoursesResponse* resp) {
    const Principal& p = call.principal;
    SHIDANG_ASSIGN_OR_RETURN(int page_size, PageSize(req.page()));
    SHIDANG_ASSIGN_OR_RETURN(size_t offset, PageOffset(req.page()));
    std::optional<absl::CivilDay> from, to;
    if (!req.from_date().empty()) {
      SHIDANG_ASSIGN_OR_RETURN(from, dates::ParseDate(req.from_date(), "from_date"));
    }
    if (!req.to_date().empty()) {
      SHIDANG_ASSIGN_OR_RETURN(to, dates::ParseDate(req.to_date(), "to_date"));
    }
    if (!req.open_to_county_id().empty() && !IsCountyCode(req.open_to_county_id())) {
      return InvalidField("open_to_county_id", "county_code",
                          "must be a county's 6-digit GB/T 2260 code (not ending in 00)");
    }
    std::string provider = req.provider_id();
    if (p.role() == common::v1::ROLE_TRAINING_CENTER) {
      if (!provider.empty() && provider != p.provider_id()) {
        return Denied(p, absl::StrCat("list the courses of provider ", provider));
      }
      provider = p.provider_id();
    }
    std::vector<std::string> providers;
    if (provider.empty()) {
      SHIDANG_ASSIGN_OR_RETURN(providers, store_.Providers());
    } else {
      providers = {provider};
    }
    SHIDANG_ASSIGN_OR_RETURN(std::vector<StoredCourse> all, store_.ListCourses(providers));
    std::vector<v1::Course> matching;
    for (StoredCourse& s : all) {
      const v1::Course& c = s.course;
      if (req.state() != 0 && c.state() != req.state()) continue;
      if (req.level() != 0 && c.level() != req.level()) continue;
      if (req.mode() != 0 && c.mode() != req.mode()) continue;
      if (!req.open_to_county_id().empty() && !CourseOpenTo(c, req.open_to_county_id())) continue;
      absl::StatusOr<absl::CivilDay> start = dates::ParseDate(c.start_date());
      absl::StatusOr<absl::CivilDay> end = dates::ParseDate(c.end_date());
      if (to && start.ok() && *start > *to) continue;
      if (from && end.ok() && *end < *from) continue;
      matching.push_back(std::move(s.course));
    }
    Paginate(matching, offset, page_size, resp->mutable_page(),
             [&](const v1::Course& c) { *resp->add_courses() = c; });
    return absl::OkStatus();
  }

  absl::Status ChangeState(const CallContext& call, const google::protobuf::Message& req,
                           absl::string_view method, absl::string_view course_id,
                           v1::CourseState to, std::vector<v1::CourseState> from,
                           absl::string_view summary, v1::Course* out) {
    SHIDANG_ASSIGN_OR_RETURN(StoredCourse stored, store_.GetCourse(course_id));
    SHIDANG_RETURN_IF_ERROR(RequireCourseOwner(call.principal, stored.course));
    v1::Course updated = stored.course;
    updated.set_state(to);
    std::string request_id;
    if (const auto* f = req.GetDescriptor()->FindFieldByName("request_id")) {
      request_id = req.GetReflection()->GetString(req, f);
    }
    std::vector<common::v1::Event> events = {
        Event(to == v1::COURSE_STATE_PUBLISHED ? "training.course_published"
                                               : "training.course_closed",
              "", "", dates::FormatDate(clock_.Today()), call.actor, request_id,
              absl::StrCat(summary, "《", updated.title(), "》"), updated)};
    SHIDANG_ASSIGN_OR_RETURN(*out, store_.ChangeCourseState(updated, from,
                                                            Write(call, method, req),
                                                            std::move(events)));
    return absl::OkStatus();
  }

  absl::Status PublishCourse(const CallContext& call, const v1::PublishCourseRequest& req,
                             v1::PublishCourseResponse* resp) {
    return ChangeState(call, req, "PublishCourse", req.course_id(), v1::COURSE_STATE_PUBLISHED,
                       {v1::COURSE_STATE_DRAFT, v1::COURSE_STATE_PUBLISHED}, "发布培训课程",
                       resp->mutable_course());
  }

  absl::Status CloseCourse(const CallContext& call, const v1::CloseCourseRequest& req,
                           v1::CloseCourseResponse* resp) {
    return ChangeState(call, req, "CloseCourse", req.course_id(), v1::COURSE_STATE_CLOSED,
                       {v1::COURSE_STATE_DRAFT, v1::COURSE_STATE_PUBLISHED,
                        v1::COURSE_STATE_CLOSED},
                       "结束报名", resp->mutable_course());
  }

  // ---- enrolment

  // A teacher for themself, a school admin for their school's teachers, an admin for anyone.
  absl::Status RequireEnrollmentWrite(const Principal& p, const TeacherFactsRecord& t) {
    if (IsTrusted(p.role())) return absl::OkStatus();
    if (p.role() == common::v1::ROLE_TEACHER && p.subject() == t.teacher_id) {
      return absl::OkStatus();
    }
    if (p.role() == common::v1::ROLE_SCHOOL_ADMIN && !p.school_id().empty() &&
        p.school_id() == t.school_id) {
      return absl::OkStatus();
    }
    return Denied(p, absl::StrCat("enrol or withdraw teacher ", t.teacher_id));
  }

  absl::Status Enroll(const CallContext& call, const v1::EnrollRequest& req,
                      v1::EnrollResponse* resp) {
    SHIDANG_ASSIGN_OR_RETURN(StoredCourse stored, store_.GetCourse(req.course_id()));
    SHIDANG_ASSIGN_OR_RETURN(Located found, Locate(req.teacher_id()));
    SHIDANG_RETURN_IF_ERROR(RequireEnrollmentWrite(call.principal, found.facts()));
    if (!CourseOpenTo(stored.course, found.county_id)) {
      return InvalidField("teacher_id", "not_open",
                          absl::StrCat("the course is not open to county ", found.county_id));
    }
    if (Departed(found.facts())) {
      return InvalidField("teacher_id", "departed", "the teacher has retired or left");
    }
    v1::Enrollment e;
    e.set_course_id(req.course_id());
    e.set_teacher_id(req.teacher_id());
    e.set_state(v1::ENROLLMENT_STATE_ENROLLED);
    e.set_enrolled_on(dates::FormatDate(clock_.Today()));
    e.set_actor(call.actor);
    std::vector<common::v1::Event> events = {
        Event("training.enrolled", req.teacher_id(), found.county_id, e.enrolled_on(), call.actor,
              req.request_id(), absl::StrCat("报名培训《", stored.course.title(), "》"), e)};
    SHIDANG_ASSIGN_OR_RETURN(auto enrolled,
                             store_.Enroll(req.course_id(), e, Write(call, "Enroll", req),
                                           std::move(events)));
    *resp->mutable_enrollment() = std::move(enrolled.first);
    resp->set_seats_left(enrolled.second);
    return absl::OkStatus();
  }

  absl::Status Withdraw(const CallContext& call, const v1::WithdrawRequest& req,
                        v1::WithdrawResponse* resp) {
    SHIDANG_ASSIGN_OR_RETURN(StoredCourse stored, store_.GetCourse(req.course_id()));
    SHIDANG_ASSIGN_OR_RETURN(Located found, Locate(req.teacher_id()));
    SHIDANG_RETURN_IF_ERROR(RequireEnrollmentWrite(call.principal, found.facts()));
    SHIDANG_ASSIGN_OR_RETURN(std::optional<v1::Enrollment> current,
                             store_.GetEnrollment(req.course_id(), req.teacher_id()));
    if (!current.has_value()) {
      return absl::FailedPreconditionError("teacher_id: the teacher is not enrolled in this course");
    }
    v1::Enrollment e = *current;
    e.set_state(v1::ENROLLMENT_STATE_WITHDRAWN);
    e.set_withdrawn_on(dates::FormatDate(clock_.Today()));
    e.set_withdraw_reason(req.reason());
    e.set_actor(call.actor);
    std::vector<common::v1::Event> events = {
        Event("training.withdrawn", req.teacher_id(), found.county_id, e.withdrawn_on(),
              call.actor, req.request_id(),
              absl::StrCat("退出培训《", stored.course.title(), "》"), e)};
    SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_enrollment(),
                             store_.Withdraw(req.course_id(), e, Write(call, "Withdraw", req),
                                             std::move(events)));
    return absl::OkStatus();
  }

  // ---- completions

  v1::LedgerEntry CourseCredit(const v1::Course& course, const std::string& entry_id,
                               const std::string& teacher_id, double hours,
                               const std::string& completed_on, const CallContext& call,
                               absl::string_view request_id) {
    v1::LedgerEntry e;
    e.set_entry_id(entry_id);
    e.set_teacher_id(teacher_id);
    e.set_kind(v1::LEDGER_ENTRY_KIND_CREDIT);
    e.set_date(completed_on);
    e.set_hours(hours);
    e.set_level(course.level());
    e.set_mode(course.mode());
    e.set_activity(v1::TRAINING_ACTIVITY_COURSE);
    e.set_source(v1::CREDIT_SOURCE_COURSE_COMPLETION);
    e.set_course_id(course.course_id());
    e.set_title(course.title());
    e.set_induction(course.induction());
    e.set_head_teacher(course.head_teacher());
    e.set_actor(call.actor);
    e.set_request_id(std::string(request_id));
    e.set_recorded_at_ms(absl::ToUnixMillis(clock_.Now()));
    return e;
  }

  // Two idempotent steps keyed by the same (course, teacher) entry id (DESIGN "One script, one
  // slot"): the provider's slot marks who is credited for the course (once, however often the
  // batch comes), then each county's slot appends the credits its ledger does not have yet,
  // with each teacher's running totals advanced in the same script. A crash between the steps
  // leaves marks without ledger entries; the batch's retry appends them. The usual batch (a
  // course of one county, rows no earlier call marked, no record to settle) needs none of the
  // script's checks: its credits go as plain commands in MULTI ... EXEC transactions, a chunk
  // each, which Redis refuses once any teacher of the county was written after the heads were
  // read (LedgerTransaction); the scripts write what was refused.
  //
  // What it reads: one small hash per teacher (facts, totals, the record awaiting this course),
  // never a ledger; a teacher whose totals cannot be advanced exactly (a back-dated credit, say)
  // is recounted from their ledger after the write.
  absl::Status RecordCompletions(const CallContext& call,
                                 const v1::RecordCompletionsRequest& req,
                                 v1::RecordCompletionsResponse* resp) {
    if (req.rows().empty()) return InvalidField("rows", "required", "at least one row");
    if (req.rows_size() > kMaxCompletionRows) {
      return InvalidField("rows", "max_rows",
                          absl::StrCat("at most ", kMaxCompletionRows, " rows per batch; got ",
                                       req.rows_size()));
    }
    SHIDANG_ASSIGN_OR_RETURN(StoredCourse stored, store_.GetCourse(req.course_id()));
    const v1::Course& course = stored.course;
    SHIDANG_RETURN_IF_ERROR(RequireCourseOwner(call.principal, course));
    SHIDANG_ASSIGN_OR_RETURN(HalfHours course_hours, HalfHoursFromWire(course.hours(), "course.hours"));
    SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay start, dates::ParseDate(course.start_date()));
    SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay end, dates::ParseDate(course.end_date()));
    absl::CivilDay today = clock_.Today();

    std::vector<std::string> ids;
    ids.reserve(req.rows_size());
    for (const v1::CompletionRow& row : req.rows()) {
      if (!row.teacher_id().empty()) ids.push_back(row.teacher_id());
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::unordered_map<std::string, TeacherState> states;
    std::map<std::string, LoadedPolicy> policies;
    // Reads the teachers' heads in `county` (their home, or `homes` read alongside) and its policy;
    // with `watch`, on that session, after a WATCH of the county's writes counter
    // (TrainingStore::WritesKey).
    auto read_county = [&](const std::string& county, const std::vector<std::string>& teachers,
                           std::vector<std::string>* homes,
                           redis::Pool::Session* watch) -> absl::Status {
      SHIDANG_ASSIGN_OR_RETURN(
          std::vector<TeacherState> found,
          store_.ReadHeads(county, teachers, course.course_id(), homes, watch));
      for (size_t i = 0; i < teachers.size(); ++i) {
        if (found[i].facts.has_value()) states[teachers[i]] = std::move(found[i]);
      }
      SHIDANG_ASSIGN_OR_RETURN(LoadedPolicy policy, LoadPolicy(county));
      policies.emplace(county, std::move(policy));
      return absl::OkStatus();
    };
    // A course open to one county (the usual case): its teachers are looked for there with their
    // home counties in the same round trip; only those at home elsewhere are read again. The
    // read runs on a connection held for the fast path of step 2, watching the county's writes.
    std::vector<std::string> homes;
    std::string guess;
    std::unique_ptr<redis::Pool::Session> watch;
    if (course.open_regions_size() == 1 && IsCountyCode(course.open_regions(0))) {
      guess = course.open_regions(0);
      absl::StatusOr<std::unique_ptr<redis::Pool::Session>> held = store_.HoldSession();
      if (held.ok()) watch = *std::move(held);  // without it, every credit goes by script
      SHIDANG_RETURN_IF_ERROR(read_county(guess, ids, &homes, watch.get()));
    } else {
      SHIDANG_ASSIGN_OR_RETURN(homes, store_.HomeCounties(ids));
    }
    std::map<std::string, std::vector<std::string>> by_county;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!homes[i].empty() && homes[i] != guess) by_county[homes[i]].push_back(ids[i]);
    }
    for (const auto& [county, teachers] : by_county) {
      SHIDANG_RETURN_IF_ERROR(read_county(county, teachers, nullptr, nullptr));
    }

    // Validate every row; the good ones go on.
    std::vector<size_t> good;
    std::set<std::string> seen;
    for (int i = 0; i < req.rows_size(); ++i) {
      const v1::CompletionRow& row = req.rows(i);
      v1::CompletionResult* result = resp->add_results();
      result->set_row(i + 1);
      result->set_teacher_id(row.teacher_id());
      std::string prefix = absl::StrCat("rows[", i, "]");
      auto reject = [&](common::v1::FieldViolation v) {
        result->set_outcome(v1::COMPLETION_OUTCOME_REJECTED);
        *result->mutable_violation() = std::move(v);
      };
      if (row.teacher_id().empty()) {
        reject(Violation(prefix + ".teacher_id", "required", "required"));
        continue;
      }
      absl::StatusOr<HalfHours> hours = HalfHoursFromWire(row.hours(), prefix + ".hours");
      if (!hours.ok()) {
        reject(ViolationOf(hours.status(), "hours"));
        continue;
      }
      absl::StatusOr<absl::CivilDay> day =
          dates::ParseDate(row.completed_on(), prefix + ".completed_on");
      if (!day.ok()) {
        reject(Violation(prefix + ".completed_on", "date_format", "must be a date YYYY-MM-DD"));
        continue;
      }
      absl::Status check = CheckCompletion(course_hours, start, end, *hours, *day, prefix);
      if (!check.ok()) {
        reject(ViolationOf(check, "within_course"));
        continue;
      }
      if (*day > today) {
        reject(Violation(prefix + ".completed_on", "not_future",
                         absl::StrCat("must not be after today (", dates::FormatDate(today), ")")));
        continue;
      }
      auto state = states.find(row.teacher_id());
      if (state == states.end()) {
        reject(Violation(prefix + ".teacher_id", "unknown_teacher",
                         absl::StrCat("no teacher ", row.teacher_id())));
        continue;
      }
      const TeacherFactsRecord& facts = *state->second.facts;
      if (!CourseOpenTo(course, facts.county_id)) {
        reject(Violation(prefix + ".teacher_id", "not_open",
                         absl::StrCat("the teacher is in county ", facts.county_id,
                                      ", which the course is not open to")));
        continue;
      }
      if (Departed(facts)) {
        absl::StatusOr<absl::CivilDay> left = dates::ParseDate(facts.left_on);
        if (!left.ok() || *day >= *left) {
          reject(Violation(prefix + ".completed_on", "departed",
                           absl::StrCat("the teacher retired or left on ",
                                        facts.left_on.empty() ? "an unknown day" : facts.left_on,
                                        "; no credit on or after that day")));
          continue;
        }
      }
      if (!seen.insert(row.teacher_id()).second) {
        reject(Violation(prefix + ".teacher_id", "duplicate",
                         "the teacher appears in an earlier row of this batch"));
        continue;
      }
      good.push_back(static_cast<size_t>(i));
    }

    // Step 1: the provider's marks, written in the background while the first credits are
    // prepared: a row's C++ work overlaps Redis's. No ledger is written before step 1 answers.
    std::vector<std::string> teachers, entry_ids, counties;
    teachers.reserve(good.size());
    entry_ids.reserve(good.size());
    counties.reserve(good.size());
    for (size_t i : good) {
      const std::string& t = req.rows(static_cast<int>(i)).teacher_id();
      teachers.push_back(t);
      entry_ids.push_back(CourseEntryId(course.course_id(), t));
      counties.push_back(states[t].facts->county_id);
    }
    // The answer as validated goes with step 1's record: a retry answers the first call's
    // rejections again, even when a row would be judged otherwise now.
    const std::string first_answer = resp->SerializeAsString();
    using Marks = std::vector<std::pair<bool, std::string>>;
    std::future<absl::StatusOr<TrainingStore::CompletionMarks>> marking =
        std::async(std::launch::async, [&] {
          return store_.MarkCompleted(course.course_id(), teachers, entry_ids, counties,
                                      first_answer, Write(call, "RecordCompletions", req));
        });
    std::optional<Marks> marked;
    // The marks were set by this call now (not an earlier call's answer replayed): a row marked
    // now ("+") is this call's alone to append.
    bool marks_fresh = false;
    // Set when step 1 replayed a first call whose rows were judged otherwise (see below).
    std::optional<TrainingStore::CompletionMarks> diverged;
    auto await_marks = [&]() -> absl::Status {
      if (marked.has_value() || diverged.has_value() || !marking.valid()) return absl::OkStatus();
      SHIDANG_ASSIGN_OR_RETURN(TrainingStore::CompletionMarks m, marking.get());
      marks_fresh = !m.replayed;
      // (No first answer: stored by an older version, for the same rows.)
      if (m.replayed && !m.first_answer.empty() && m.first_answer != first_answer) {
        diverged = std::move(m);
      } else {
        marked = std::move(m.marks);
      }
      return absl::OkStatus();
    };
    // The entry id stored with a mark ("<entry_id>|<county>"): a re-credit after a reversal has
    // its own.
    auto stored_entry_id = [&](size_t k) {
      const std::string& stored = (*marked)[k].second;
      return stored.substr(0, stored.find('|'));
    };

    // Step 2: each county's ledgers (also for rows credited before, so a crash between the
    // steps heals; the ledger's marks make it a no-op otherwise), in chunks of kAppendsPerScript
    // rows: each script (or transaction) stays well inside the Redis command timeout and blocks
    // other clients only briefly, and chunk n + 1 is prepared while chunk n is written (one in
    // flight).
    struct CountyChunk {
      std::vector<LedgerAppend> appends;
      std::vector<common::v1::Event> events;
    };
    using Chunk = std::map<std::string, CountyChunk>;
    const std::string mark = absl::StrCat("c:", course.course_id());
    // Good row k as an append credited under `entry_id`; its events go to `out`.
    auto prepare = [&](size_t k, const std::string& entry_id, CountyChunk* out) {
      const v1::CompletionRow& row = req.rows(static_cast<int>(good[k]));
      const TeacherState& state = states[row.teacher_id()];
      const std::string& county = state.facts->county_id;
      LedgerAppend a;
      a.teacher_id = row.teacher_id();
      a.mark = mark;
      a.entry = CourseCredit(course, entry_id, row.teacher_id(), row.hours(), row.completed_on(),
                             call, req.request_id());
      for (const v1::TrainingRecord& r : state.records) {
        if (r.course_id() == course.course_id() &&
            r.state() == v1::TRAINING_RECORD_STATE_AWAITING_CONFIRMATION) {
          v1::TrainingRecord closed = r;
          closed.set_state(v1::TRAINING_RECORD_STATE_CREDITED);
          closed.set_entry_id(entry_id);
          a.entry.set_record_id(r.record_id());
          a.record_id = r.record_id();
          a.record_from_state = v1::TRAINING_RECORD_STATE_AWAITING_CONFIRMATION;
          a.record_to_state = v1::TRAINING_RECORD_STATE_CREDITED;
          a.record_bytes = closed.SerializeAsString();
          a.close_course_id = course.course_id();
        }
      }
      a.event_index = static_cast<int>(out->events.size());
      out->events.push_back(Event(
          "training.credited", row.teacher_id(), county, row.completed_on(), call.actor,
          req.request_id(),
          absl::StrCat("完成培训《", course.title(), "》", HoursText(row.hours()), " 学时"),
          a.entry));
      // The event's payload is the entry serialized: the ledger stores the same bytes.
      a.entry_bytes = out->events.back().payload().value();
      AdvanceTotals(policies.at(county), state, a.entry, today, &a);
      return a;
    };

    // Moves the appends chosen by `take` (with their events) out of `c` into the result.
    auto split = [](CountyChunk& c, const std::vector<bool>& take) {
      CountyChunk taken, kept;
      for (size_t j = 0; j < c.appends.size(); ++j) {
        LedgerAppend& a = c.appends[j];
        CountyChunk& to = take[j] ? taken : kept;
        if (a.event_index >= 0) {
          to.events.push_back(std::move(c.events[static_cast<size_t>(a.event_index)]));
          a.event_index = static_cast<int>(to.events.size()) - 1;
        }
        to.appends.push_back(std::move(a));
      }
      c = std::move(kept);
      return taken;
    };

    // The fast path (store.h LedgerTransaction): when the heads were read watched and the marks
    // are this call's own, the plain credits of the watched county go chunk by chunk in MULTI ...
    // EXEC transactions; the other appends wait until they have run (their scripts would count
    // as writes to the county) and go by script, as a refused chunk's do.
    std::optional<LedgerTransaction> transaction;
    struct FastChunk {
      CountyChunk chunk;
      bool refused = false;  // set by its write: the scripts write it after all
    };
    std::deque<FastChunk> fast_chunks;
    std::vector<std::pair<std::string, CountyChunk>> deferred;

    std::future<absl::StatusOr<std::vector<std::pair<std::string, std::string>>>> writing;
    std::map<std::string, std::vector<std::string>> recount;  // county -> teachers
    auto await_write = [&]() -> absl::Status {
      if (!writing.valid()) return absl::OkStatus();
      SHIDANG_ASSIGN_OR_RETURN(auto stale, writing.get());
      for (auto& [county, teacher] : stale) recount[county].push_back(std::move(teacher));
      return absl::OkStatus();
    };
    // The teachers of `appends` (of `county`) whose totals were dropped: they need a recount.
    using Stale = std::vector<std::pair<std::string, std::string>>;
    auto add_stale = [](const std::string& county, const std::vector<LedgerAppend>& appends,
                        const std::vector<AppendOutcome>& outcomes, Stale* stale) {
      for (size_t j = 0; j < outcomes.size(); ++j) {
        if (outcomes[j] == AppendOutcome::kAppliedStale) {
          stale->emplace_back(county, appends[j].teacher_id);
        }
      }
    };
    // Step 2 by script for `chunk` (in the background; the caller awaits it).
    auto write_by_script = [&](Chunk chunk) {
      writing = std::async(
          std::launch::async,
          [this, add_stale, actor = call.actor, chunk = std::move(chunk)]() mutable
          -> absl::StatusOr<Stale> {
            Stale stale;
            for (auto& [county, c] : chunk) {
              SHIDANG_ASSIGN_OR_RETURN(
                  std::vector<AppendOutcome> outcomes,
                  store_.AppendLedger(county, c.appends, WriteContext{actor, "", nullptr},
                                      std::move(c.events)));
              add_stale(county, c.appends, outcomes, &stale);
            }
            return stale;
          });
    };
    auto write_ledgers = [&]() -> absl::Status {
      for (size_t from = 0; from < good.size(); from += kAppendsPerScript) {
        const size_t to = std::min(good.size(), from + kAppendsPerScript);
        Chunk chunk;
        std::vector<size_t> slot(to - from);  // row k -> its index in its county's appends
        for (size_t k = from; k < to; ++k) {
          CountyChunk& c = chunk[counties[k]];
          slot[k - from] = c.appends.size();
          c.appends.push_back(prepare(k, marked ? stored_entry_id(k) : entry_ids[k], &c));
        }
        SHIDANG_RETURN_IF_ERROR(await_marks());
        if (diverged.has_value()) break;  // nothing written yet; the rows are redone below
        if (from == 0 && watch != nullptr && marks_fresh) transaction.emplace(*watch, guess);
        std::vector<bool> fast(chunk.count(guess) > 0 ? chunk[guess].appends.size() : 0);
        for (size_t k = from; k < to; ++k) {
          const std::string entry_id = stored_entry_id(k);
          CountyChunk& c = chunk[counties[k]];
          if (c.appends[slot[k - from]].entry.entry_id() != entry_id) {
            // Prepared before step 1 answered, under the first credit's id (rare): redo it. The
            // events prepared first are never emitted.
            c.appends[slot[k - from]] = prepare(k, entry_id, &c);
          }
          const LedgerAppend& a = c.appends[slot[k - from]];
          v1::CompletionResult* result = resp->mutable_results(static_cast<int>(good[k]));
          result->set_entry_id(entry_id);
          result->set_outcome((*marked)[k].first ? v1::COMPLETION_OUTCOME_CREDITED
                                                 : v1::COMPLETION_OUTCOME_ALREADY_CREDITED);
          if ((*marked)[k].first && !a.record_id.empty()) result->set_closed_record_id(a.record_id);
          if (transaction.has_value() && counties[k] == guess) {
            fast[slot[k - from]] = (*marked)[k].first && a.record_id.empty() &&
                                   a.close_course_id.empty() && a.release_mark.empty() &&
                                   !a.strict;
          }
        }
        SHIDANG_RETURN_IF_ERROR(await_write());
        if (!transaction.has_value()) {
          write_by_script(std::move(chunk));
          continue;
        }
        FastChunk* next = nullptr;
        if (!fast.empty()) {
          CountyChunk taken = split(chunk[guess], fast);
          if (!taken.appends.empty()) {
            fast_chunks.push_back(FastChunk{std::move(taken)});
            next = &fast_chunks.back();
          }
        }
        for (auto& [county, c] : chunk) {
          if (!c.appends.empty()) deferred.emplace_back(county, std::move(c));
        }
        if (next == nullptr) continue;
        if (fast_chunks.size() == 1) SHIDANG_RETURN_IF_ERROR(store_.PrepareStream(guess));
        writing = std::async(
            std::launch::async,
            [&transaction, &guess, add_stale, next]() -> absl::StatusOr<Stale> {
              SHIDANG_ASSIGN_OR_RETURN(
                  std::optional<std::vector<AppendOutcome>> outcomes,
                  transaction->Write(next->chunk.appends, next->chunk.events));
              Stale stale;
              if (!outcomes.has_value()) {
                // A teacher of the county was written since the heads were read: nothing of
                // this chunk was written.
                next->refused = true;
                return stale;
              }
              add_stale(guess, next->chunk.appends, *outcomes, &stale);
              return stale;
            });
      }
      SHIDANG_RETURN_IF_ERROR(await_write());
      if (transaction.has_value()) {
        transaction.reset();
        for (FastChunk& f : fast_chunks) {
          if (f.refused) deferred.emplace_back(guess, std::move(f.chunk));
        }
        fast_chunks.clear();
        for (auto& [county, c] : deferred) {
          Chunk one;
          one.emplace(county, std::move(c));
          write_by_script(std::move(one));
          SHIDANG_RETURN_IF_ERROR(await_write());
        }
        deferred.clear();
      }
      // With no good row step 1 still ran (it keeps the request's answer): its error is the call's.
      return await_marks();
    };
    SHIDANG_RETURN_IF_ERROR(write_ledgers());
    if (diverged.has_value()) {
      // A retry of a call whose rows were judged otherwise (a teacher learned from the profile
      // service, or departed, in between): answer the first call's rows, and write the ledgers of
      // its credited rows again (a no-op unless the first call stopped between the steps).
      v1::RecordCompletionsResponse first;
      if (!first.ParseFromString(diverged->first_answer) ||
          first.results_size() != req.rows_size()) {
        return absl::DataLossError("the first answer of this request_id is unreadable");
      }
      *resp = std::move(first);
      Marks kept;
      good.clear();
      entry_ids.clear();
      counties.clear();
      size_t next_mark = 0;
      for (int i = 0; i < resp->results_size(); ++i) {
        if (resp->results(i).outcome() == v1::COMPLETION_OUTCOME_REJECTED) continue;
        if (next_mark >= diverged->marks.size()) {
          return absl::DataLossError("the first answer of this request_id lacks marks");
        }
        const std::pair<bool, std::string>& m = diverged->marks[next_mark++];
        const std::string& t = req.rows(i).teacher_id();
        auto state = states.find(t);
        if (state == states.end() || !state->second.facts.has_value()) {
          // Not known here now: answered as the first time; its ledger is the first call's.
          v1::CompletionResult* result = resp->mutable_results(i);
          result->set_entry_id(m.second.substr(0, m.second.find('|')));
          result->set_outcome(m.first ? v1::COMPLETION_OUTCOME_CREDITED
                                      : v1::COMPLETION_OUTCOME_ALREADY_CREDITED);
          continue;
        }
        good.push_back(static_cast<size_t>(i));
        entry_ids.push_back(CourseEntryId(course.course_id(), t));
        counties.push_back(state->second.facts->county_id);
        kept.push_back(m);
      }
      marked = std::move(kept);
      diverged.reset();
      SHIDANG_RETURN_IF_ERROR(write_ledgers());
    }
    for (const auto& [county, ids] : recount) RecountAfterWrite(county, ids);
    for (const v1::CompletionResult& r : resp->results()) {
      switch (r.outcome()) {
        case v1::COMPLETION_OUTCOME_CREDITED: resp->set_credited(resp->credited() + 1); break;
        case v1::COMPLETION_OUTCOME_ALREADY_CREDITED:
          resp->set_already_credited(resp->already_credited() + 1);
          break;
        default: resp->set_rejected(resp->rejected() + 1); break;
      }
    }
    return absl::OkStatus();
  }

  // ---- teachers' own records

  absl::Status LogTraining(const CallContext& call, const v1::LogTrainingRequest& req,
                           v1::LogTrainingResponse* resp) {
    const Principal& p = call.principal;
    SHIDANG_ASSIGN_OR_RETURN(Located found, Locate(req.teacher_id()));
    if (!IsTrusted(p.role()) &&
        !(p.role() == common::v1::ROLE_TEACHER && p.subject() == req.teacher_id())) {
      return Denied(p, absl::StrCat("log training for teacher ", req.teacher_id()));
    }
    absl::CivilDay today = clock_.Today();
    v1::TrainingRecord r;
    r.set_teacher_id(req.teacher_id());
    r.set_county_id(found.county_id);
    r.set_hours(req.hours());
    r.set_started_on(req.started_on());
    r.set_completed_on(req.completed_on());
    r.set_induction(req.induction());
    r.set_head_teacher(req.head_teacher());
    r.set_logged_on(dates::FormatDate(today));
    absl::Status bad;
    absl::StatusOr<HalfHours> hours = HalfHoursFromWire(req.hours(), "hours");
    if (!hours.ok()) AddFieldViolation(&bad, "hours", "hours", "> 0 in steps of 0.5");
    absl::StatusOr<absl::CivilDay> done = dates::ParseDate(req.completed_on(), "completed_on");
    if (!done.ok()) {
      AddFieldViolation(&bad, "completed_on", "date_format", "must be a date YYYY-MM-DD");
    } else if (*done > today) {
      AddFieldViolation(&bad, "completed_on", "not_future",
                        absl::StrCat("must not be after today (", dates::FormatDate(today), ")"));
    }
    if (!req.started_on().empty()) {
      absl::StatusOr<absl::CivilDay> started = dates::ParseDate(req.started_on(), "started_on");
      if (!started.ok()) {
        AddFieldViolation(&bad, "started_on", "date_format", "must be a date YYYY-MM-DD");
      } else if (done.ok() && *started > *done) {
        AddFieldViolation(&bad, "started_on", "before_completed", "must be on or before completed_on");
      }
    }
    if (!req.course_id().empty()) {
      absl::StatusOr<StoredCourse> course = store_.GetCourse(req.course_id());
      if (!course.ok()) {
        if (!absl::IsNotFound(course.status()) && !absl::IsInvalidArgument(course.status())) {
          return course.status();
        }
        return InvalidField("course_id", "unknown_course",
                            absl::StrCat("no course ", req.course_id()));
      }
      const v1::Course& c = course->course;
      if (req.activity() != 0 && req.activity() != v1::TRAINING_ACTIVITY_COURSE) {
        AddFieldViolation(&bad, "activity", "course_activity",
                          "leave unset (or COURSE) for a registered course");
      }
      if (!CourseOpenTo(c, found.county_id)) {
        AddFieldViolation(&bad, "course_id", "not_open",
                          absl::StrCat("the course is not open to county ", found.county_id));
      }
      if (hours.ok() && done.ok()) {
        absl::StatusOr<HalfHours> course_hours = HalfHoursFromWire(c.hours(), "course.hours");
        absl::StatusOr<absl::CivilDay> cs = dates::ParseDate(c.start_date());
        absl::StatusOr<absl::CivilDay> ce = dates::ParseDate(c.end_date());
        if (course_hours.ok() && cs.ok() && ce.ok()) {
          absl::Status check = CheckCompletion(*course_hours, *cs, *ce, *hours, *done, "");
          if (!check.ok()) {
            common::v1::FieldViolation v = ViolationOf(check, "within_course");
            AddFieldViolation(&bad, v.field(), v.rule(), v.description());
          }
        }
      }
      r.set_course_id(c.course_id());
      r.set_activity(v1::TRAINING_ACTIVITY_COURSE);
      r.set_title(c.title());
      r.set_level(c.level());
      r.set_mode(c.mode());
      r.set_induction(c.induction());
      r.set_head_teacher(c.head_teacher());
      r.set_state(v1::TRAINING_RECORD_STATE_AWAITING_CONFIRMATION);
    } else {
      if (req.activity() == 0 || req.activity() == v1::TRAINING_ACTIVITY_COURSE ||
          !v1::TrainingActivity_IsValid(req.activity())) {
        AddFieldViolation(&bad, "activity", "required",
                          "degree_study, conference, public_lesson, research_activity or other "
                          "(a registered course is named by course_id)");
      }
      if (req.title().empty() || req.title().size() > 600) {
        AddFieldViolation(&bad, "title", "length", "required: 1 to 200 characters");
      }
      if (req.level() == 0 || !common::v1::TrainingLevel_IsValid(req.level())) {
        AddFieldViolation(&bad, "level", "required", "国家, 省, 市, 县 or 校本");
      }
      if (req.mode() == 0 || !common::v1::TrainingMode_IsValid(req.mode())) {
        AddFieldViolation(&bad, "mode", "required", "集中, 网络, 混合 or 校本研修");
      }
      if (req.evidence().description().empty()) {
        AddFieldViolation(&bad, "evidence.description", "required",
                          "required for training other than a registered course");
      }
      if (req.evidence().file_ref().empty()) {
        AddFieldViolation(&bad, "evidence.file_ref", "required",
                          "required: a reference to the uploaded evidence file");
      }
      r.set_activity(req.activity());
      r.set_title(req.title());
      r.set_level(req.level());
      r.set_mode(req.mode());
      *r.mutable_evidence() = req.evidence();
      r.set_state(v1::TRAINING_RECORD_STATE_AWAITING_REVIEW);
    }
    SHIDANG_RETURN_IF_ERROR(bad);
    if (Departed(found.facts())) {
      return InvalidField("teacher_id", "departed", "the teacher has retired or left");
    }
    r.set_record_id(absl::StrCat(
        "R", found.county_id, "-",
        HexId(IdSeed(call.actor, "LogTraining", req.request_id(), req.teacher_id()), 12)));
    // Pending hours are read with the records, so the running totals do not change.
    SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_record(),
                             store_.AddRecord(r, Write(call, "LogTraining", req), {}));
    return absl::OkStatus();
  }

  absl::Status ReviewTrainingRecord(const CallContext& call,
                                    const v1::ReviewTrainingRecordRequest& req,
                                    v1::ReviewTrainingRecordResponse* resp) {
    const Principal& p = call.principal;
    SHIDANG_ASSIGN_OR_RETURN(std::string county, TrainingStore::CountyOfRecord(req.record_id()));
    if (req.decision() != v1::REVIEW_DECISION_APPROVE &&
        req.decision() != v1::REVIEW_DECISION_REJECT) {
      return InvalidField("decision", "required", "APPROVE or REJECT");
    }
    if (req.decision() == v1::REVIEW_DECISION_REJECT && req.reason().empty()) {
      return InvalidField("reason", "required", "required when rejecting: tell the teacher why");
    }
    if (!IsTrusted(p.role()) && !HrCovers(p, county)) {
      return Denied(p, absl::StrCat("review training records of county ", county));
    }
    SHIDANG_ASSIGN_OR_RETURN(std::string teacher_id, store_.TeacherOfRecord(req.record_id()));
    SHIDANG_ASSIGN_OR_RETURN(std::vector<TeacherState> states,
                             store_.GetTeachers(county, {teacher_id}, /*with_ledger=*/false));
    const v1::TrainingRecord* found = nullptr;
    for (const v1::TrainingRecord& r : states[0].records) {
      if (r.record_id() == req.record_id()) found = &r;
    }
    if (found == nullptr) {
      return absl::NotFoundError(absl::StrCat("training record ", req.record_id(), " not found"));
    }
    v1::TrainingRecord record = *found;
    if (record.state() == v1::TRAINING_RECORD_STATE_AWAITING_CONFIRMATION) {
      return absl::FailedPreconditionError(
          "record_id: a record for a registered course is settled by the training centre's "
          "completion, not by review");
    }
    if (record.state() != v1::TRAINING_RECORD_STATE_AWAITING_REVIEW) {
      return absl::FailedPreconditionError(
          absl::StrCat("record_id: the record was already reviewed (",
                       v1::TrainingRecordState_Name(record.state()), ")"));
    }
    std::string today = dates::FormatDate(clock_.Today());
    record.set_reviewed_by(call.actor);
    record.set_reviewed_on(today);
    if (req.decision() == v1::REVIEW_DECISION_REJECT) {
      record.set_state(v1::TRAINING_RECORD_STATE_REJECTED);
      record.set_review_reason(req.reason());
      std::vector<common::v1::Event> events = {Event(
          "training.self_report_rejected", teacher_id, county, today, call.actor, req.request_id(),
          absl::StrCat("自主研修《", record.title(), "》未获认定：", req.reason()), record)};
      SHIDANG_RETURN_IF_ERROR(store_.UpdateRecord(record,
                                                  v1::TRAINING_RECORD_STATE_AWAITING_REVIEW,
                                                  Write(call, "ReviewTrainingRecord", req),
                                                  std::move(events)));
      *resp->mutable_record() = record;
      return absl::OkStatus();
    }
    v1::LedgerEntry entry;
    entry.set_entry_id(RecordEntryId(record.record_id()));
    entry.set_teacher_id(teacher_id);
    entry.set_kind(v1::LEDGER_ENTRY_KIND_CREDIT);
    entry.set_date(record.completed_on());
    entry.set_hours(record.hours());
    entry.set_level(record.level());
    entry.set_mode(record.mode());
    entry.set_activity(record.activity());
    entry.set_source(v1::CREDIT_SOURCE_SELF_REPORT);
    entry.set_record_id(record.record_id());
    entry.set_title(record.title());
    entry.set_induction(record.induction());
    entry.set_head_teacher(record.head_teacher());
    entry.set_actor(call.actor);
    entry.set_request_id(req.request_id());
    entry.set_recorded_at_ms(absl::ToUnixMillis(clock_.Now()));
    record.set_state(v1::TRAINING_RECORD_STATE_CREDITED);
    record.set_entry_id(entry.entry_id());
    LedgerAppend a;
    a.teacher_id = teacher_id;
    a.mark = absl::StrCat("r:", record.record_id());
    a.entry = entry;
    a.record_id = record.record_id();
    a.record_from_state = v1::TRAINING_RECORD_STATE_AWAITING_REVIEW;
    a.record_to_state = v1::TRAINING_RECORD_STATE_CREDITED;
    a.record_bytes = record.SerializeAsString();
    a.strict = true;
    a.event_index = 0;
    std::vector<common::v1::Event> events = {Event(
        "training.self_report_approved", teacher_id, county, record.completed_on(), call.actor,
        req.request_id(),
        absl::StrCat("认定自主研修《", record.title(), "》", HoursText(record.hours()), " 学时"),
        entry)};
    if (states[0].facts.has_value()) {
      SHIDANG_ASSIGN_OR_RETURN(LoadedPolicy policy, LoadPolicy(county));
      AdvanceTotals(policy, states[0], entry, clock_.Today(), &a);
    }
    SHIDANG_ASSIGN_OR_RETURN(std::vector<AppendOutcome> outcomes,
                             store_.AppendLedger(county, {a},
                                                 Write(call, "ReviewTrainingRecord", req),
                                                 std::move(events)));
    if (outcomes[0] == AppendOutcome::kAppliedStale) RecountAfterWrite(county, {teacher_id});
    *resp->mutable_record() = record;
    *resp->mutable_entry() = entry;
    return absl::OkStatus();
  }

  absl::Status ListTrainingRecords(const CallContext& call,
                                   const v1::ListTrainingRecordsRequest& req,
                                   v1::ListTrainingRecordsResponse* resp) {
    SHIDANG_ASSIGN_OR_RETURN(int page_size, PageSize(req.page()));
    SHIDANG_ASSIGN_OR_RETURN(size_t offset, PageOffset(req.page()));
    SHIDANG_ASSIGN_OR_RETURN(Located found, Locate(req.teacher_id()));
    SHIDANG_RETURN_IF_ERROR(RequireTeacherRead(call.principal, found.facts()));
    std::vector<v1::TrainingRecord> records;
    for (const v1::TrainingRecord& r : found.state.records) {
      if (req.state() == 0 || r.state() == req.state()) records.push_back(r);
    }
    std::sort(records.begin(), records.end(),
              [](const v1::TrainingRecord& a, const v1::TrainingRecord& b) {
                if (a.completed_on() != b.completed_on()) return a.completed_on() < b.completed_on();
                return a.record_id() < b.record_id();
              });
    Paginate(records, offset, page_size, resp->mutable_page(),
             [&](const v1::TrainingRecord& r) { *resp->add_records() = r; });
    return absl::OkStatus();
  }

  // ---- the ledger

  absl::Status ReverseEntry(const CallContext& call, const v1::ReverseEntryRequest& req,
                            v1::ReverseEntryResponse* resp) {
    const Principal& p = call.principal;
    if (req.entry_id().empty()) return InvalidField("entry_id", "required", "required");
    if (req.reason().empty()) {
      return InvalidField("reason", "required", "required: why the credit was wrong");
    }
    SHIDANG_ASSIGN_OR_RETURN(Located found, Locate(req.teacher_id()));
    if (!IsTrusted(p.role()) && !HrCovers(p, found.county_id)) {
      return Denied(p, absl::StrCat("correct the ledger of teacher ", req.teacher_id()));
    }
    std::vector<LedgerEntry> ledger;
    const v1::LedgerEntry* credit = nullptr;
    for (const v1::LedgerEntry& e : found.state.ledger) {
      ledger.push_back(ToRulesEntry(e));
      if (e.entry_id() == req.entry_id()) credit = &e;
    }
    std::string reversal_id = ReversalId(req.entry_id());
    absl::StatusOr<LedgerEntry> made = MakeReversal(ledger, req.entry_id(), reversal_id);
    if (!made.ok()) {
      // A retry of the same reversal answers the reversal stored first.
      for (const v1::LedgerEntry& e : found.state.ledger) {
        if (e.entry_id() == reversal_id && e.request_id() == req.request_id() &&
            !req.request_id().empty() && e.actor() == call.actor) {
          // Step 2 again: the first attempt may have stopped before it.
          if (credit != nullptr && !credit->course_id().empty() &&
              credit->source() == v1::CREDIT_SOURCE_COURSE_COMPLETION) {
            SHIDANG_RETURN_IF_ERROR(store_.ReleaseCompletion(credit->course_id(),
                                                             req.teacher_id(), credit->entry_id()));
          }
          *resp->mutable_reversal() = e;
          return absl::OkStatus();
        }
      }
      return absl::Status(made.status().code(),
                          absl::StrCat("entry_id: ", made.status().message()));
    }
    v1::LedgerEntry reversal = *credit;
    reversal.set_entry_id(reversal_id);
    reversal.set_kind(v1::LEDGER_ENTRY_KIND_REVERSAL);
    reversal.set_hours(-credit->hours());
    reversal.set_reverses_entry_id(credit->entry_id());
    reversal.set_reason(req.reason());
    reversal.clear_reversed_by_entry_id();
    reversal.set_actor(call.actor);
    reversal.set_request_id(req.request_id());
    reversal.set_recorded_at_ms(absl::ToUnixMillis(clock_.Now()));
    LedgerAppend a;
    a.teacher_id = req.teacher_id();
    a.mark = absl::StrCat("x:", credit->entry_id());
    a.entry = reversal;
    a.event_index = 0;
    // A reversed course credit releases the (course, teacher) mark on both slots, so the centre
    // can confirm the corrected completion (a new entry with its own id). Without this a wrong
    // row could never be put right: every later batch would answer ALREADY_CREDITED. Released
    // only by a reversal, so a retried or concurrent batch still credits once; the reversed
    // credit's own "x:" mark keeps a retry of its original batch from appending it again.
    const bool course_credit = !credit->course_id().empty() &&
                               credit->source() == v1::CREDIT_SOURCE_COURSE_COMPLETION;
    if (course_credit) a.release_mark = absl::StrCat("c:", credit->course_id());
    std::vector<common::v1::Event> events = {
        Event("training.reversed", req.teacher_id(), found.county_id,
              dates::FormatDate(clock_.Today()), call.actor, req.request_id(),
              absl::StrCat("撤销培训学时《", credit->title(), "》", HoursText(credit->hours()),
                           " 学时：", req.reason()),
              reversal)};
    // The reversal frees room under caps for later entries: always a recount.
    SHIDANG_RETURN_IF_ERROR(store_.AppendLedger(found.county_id, {a},
                                                Write(call, "ReverseEntry", req),
                                                std::move(events))
                                .status());
    // Step 2 on the provider's slot; idempotent, so a retry of this request heals a crash here.
    if (course_credit) {
      SHIDANG_RETURN_IF_ERROR(
          store_.ReleaseCompletion(credit->course_id(), req.teacher_id(), credit->entry_id()));
    }
    RecountAfterWrite(found.county_id, {req.teacher_id()});
    *resp->mutable_reversal() = reversal;
    return absl::OkStatus();
  }

  absl::Status ListLedger(const CallContext& call, const v1::ListLedgerRequest& req,
                          v1::ListLedgerResponse* resp) {
    SHIDANG_ASSIGN_OR_RETURN(int page_size, PageSize(req.page()));
    SHIDANG_ASSIGN_OR_RETURN(size_t offset, PageOffset(req.page()));
    std::optional<absl::CivilDay> from, to;
    if (!req.from_date().empty()) {
      SHIDANG_ASSIGN_OR_RETURN(from, dates::ParseDate(req.from_date(), "from_date"));
    }
    if (!req.to_date().empty()) {
      SHIDANG_ASSIGN_OR_RETURN(to, dates::ParseDate(req.to_date(), "to_date"));
    }
    SHIDANG_ASSIGN_OR_RETURN(Located found, Locate(req.teacher_id()));
    SHIDANG_RETURN_IF_ERROR(RequireTeacherRead(call.principal, found.facts()));
    std::map<std::string, std::string> reversed_by;
    for (const v1::LedgerEntry& e : found.state.ledger) {
      if (!e.reverses_entry_id().empty()) reversed_by[e.reverses_entry_id()] = e.entry_id();
    }
    std::vector<v1::LedgerEntry> entries;
    for (v1::LedgerEntry e : found.state.ledger) {
      absl::StatusOr<absl::CivilDay> day = dates::ParseDate(e.date());
      if (day.ok() && ((from && *day < *from) || (to && *day > *to))) continue;
      auto r = reversed_by.find(e.entry_id());
      if (r != reversed_by.end()) e.set_reversed_by_entry_id(r->second);
      entries.push_back(std::move(e));
    }
    Paginate(entries, offset, page_size, resp->mutable_page(),
             [&](const v1::LedgerEntry& e) { *resp->add_entries() = e; });
    return absl::OkStatus();
  }

  // ---- policy

  // Summaries cached under the previous versions carry the old policy stamp; the report
  // recomputes those at read time, so a version with a past effective date is honoured at once.
  absl::Status SetTrainingPolicy(const CallContext& call, const v1::SetTrainingPolicyRequest& req,
                                 v1::SetTrainingPolicyResponse* resp) {
    const Principal& p = call.principal;
    SHIDANG_RETURN_IF_ERROR(policy::ValidateRegion(req.level(), req.region(), "region"));
    SHIDANG_RETURN_IF_ERROR(ValidateTrainingPolicy(req.training(), "training"));
    bool allowed = IsTrusted(p.role());
    if (!allowed && req.level() != common::v1::POLICY_LEVEL_NATIONAL) {
      allowed = (p.role() == common::v1::ROLE_COUNTY_HR &&
                 req.level() == common::v1::POLICY_LEVEL_COUNTY && p.region() == req.region()) ||
                (p.role() == common::v1::ROLE_CITY_HR &&
                 req.level() != common::v1::POLICY_LEVEL_PROVINCE &&
                 (p.region() == req.region() || RegionCovers(p.region(), req.region()))) ||
                (p.role() == common::v1::ROLE_PROVINCE_HR &&
                 (p.region() == req.region() || RegionCovers(p.region(), req.region())));
    }
    if (!allowed) {
      return Denied(p, absl::StrCat("set the training policy of ",
                                    req.region().empty() ? "the nation" : req.region()));
    }
    common::v1::PolicyVersion version;
    version.set_level(req.level());
    version.set_region(req.region());
    version.set_effective_from(req.effective_from());
    *version.mutable_policy()->mutable_training() = req.training();
    version.set_actor(call.actor);
    version.set_request_id(req.request_id());
    SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_version(), policies_.AddVersion(version));
    return absl::OkStatus();
  }

  absl::Status GetTrainingPolicy(const CallContext& call, const v1::GetTrainingPolicyRequest& req,
                                 v1::GetTrainingPolicyResponse* resp) {
    (void)call;  // every role may read the rules that apply to them
    if (!IsCountyCode(req.county_id())) {
      return InvalidField("county_id", "county_code",
                          "must be a county's 6-digit GB/T 2260 code (not ending in 00)");
    }
    SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay as_of, AsOf(req.as_of()));
    SHIDANG_ASSIGN_OR_RETURN(common::v1::ResolvedPolicy resolved,
                             policies_.Resolve(req.county_id(), as_of));
    resp->set_county_id(req.county_id());
    resp->set_as_of(dates::FormatDate(as_of));
    *resp->mutable_resolved()->mutable_policy()->mutable_training() = resolved.policy().training();
    for (const common::v1::PolicySource& s : resolved.sources()) {
      if (absl::StartsWith(s.field(), "training.")) *resp->mutable_resolved()->add_sources() = s;
    }
    return absl::OkStatus();
  }

  // ---- where teachers stand

  static std::vector<PendingRecord> PendingOf(const TeacherState& state) {
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

  // From the running totals (facts, totals and records: a few small reads) when they hold for
  // as_of; from the whole ledger otherwise (another cycle, a day before the latest entry, totals
  // dropped for a recount).
  absl::Status GetTrainingSummary(const CallContext& call,
                                  const v1::GetTrainingSummaryRequest& req,
                                  v1::GetTrainingSummaryResponse* resp) {
    SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay as_of, AsOf(req.as_of()));
    if (req.teacher_id().empty()) return InvalidField("teacher_id", "required", "required");
    SHIDANG_ASSIGN_OR_RETURN(std::string county, store_.HomeCounty(req.teacher_id()));
    SHIDANG_ASSIGN_OR_RETURN(
        std::vector<TeacherState> states,
        store_.GetTeachers(county, {req.teacher_id()}, /*with_ledger=*/false));
    if (!states[0].facts.has_value()) {
      return absl::NotFoundError(absl::StrCat("teacher ", req.teacher_id(), " not found"));
    }
    SHIDANG_RETURN_IF_ERROR(RequireTeacherRead(call.principal, *states[0].facts));
    SHIDANG_ASSIGN_OR_RETURN(LoadedPolicy policy, LoadPolicy(county));
    if (!states[0].tally.empty() && states[0].policy_stamp == policy.stamp) {
      absl::StatusOr<Tally> tally = DecodeTally(states[0].tally);
      if (tally.ok()) {
        SHIDANG_ASSIGN_OR_RETURN(
            std::optional<Summary> summary,
            SummaryFromTally(policy.history, FactsForRules(*states[0].facts), *tally,
                             PendingOf(states[0]), as_of));
        if (summary.has_value()) {
          SummaryToProto(*summary, req.teacher_id(), resp->mutable_summary());
          return absl::OkStatus();
        }
      }
    }
    SHIDANG_ASSIGN_OR_RETURN(Located found, Locate(req.teacher_id()));
    SHIDANG_ASSIGN_OR_RETURN(Summary summary, Compute(policy, found.state, as_of));
    SummaryToProto(summary, req.teacher_id(), resp->mutable_summary());
    return absl::OkStatus();
  }

  struct ReportLine {
    std::string teacher_id;
    std::string name;
    std::string school_id;
    std::string county_id;
    Standing standing;
  };

  absl::Status GetComplianceReport(const CallContext& call,
                                   const v1::GetComplianceReportRequest& req,
                                   v1::GetComplianceReportResponse* resp) {
    const Principal& p = call.principal;
    if (!IsRegionCode(req.county_id())) {
      return InvalidField("county_id", "region_code",
                          "must be a 6-digit GB/T 2260 code of a county, city or province");
    }
    SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay as_of, AsOf(req.as_of()));
    SHIDANG_ASSIGN_OR_RETURN(int page_size, PageSize(req.page()));
    SHIDANG_ASSIGN_OR_RETURN(size_t offset, PageOffset(req.page()));
    if (req.format() != v1::REPORT_FORMAT_UNSPECIFIED && req.format() != v1::REPORT_FORMAT_CSV) {
      return InvalidField("format", "enum", "REPORT_FORMAT_UNSPECIFIED or REPORT_FORMAT_CSV");
    }
    if (p.role() == common::v1::ROLE_SCHOOL_ADMIN) {
      if (p.school_id().empty() || req.school_id() != p.school_id()) {
        return Denied(p, "report on a school other than their own (set school_id to it)");
      }
    } else if (!IsTrusted(p.role()) && !HrCovers(p, req.county_id())) {
      return Denied(p, absl::StrCat("report on region ", req.county_id()));
    }
    std::vector<std::string> counties;
    if (IsCountyCode(req.county_id())) {
      counties = {req.county_id()};
    } else {
      SHIDANG_ASSIGN_OR_RETURN(std::vector<std::string> all, store_.Counties());
      for (const std::string& c : all) {
        if (RegionCovers(req.county_id(), c)) counties.push_back(c);
      }
    }
    std::vector<ReportLine> standings;
    for (const std::string& county : counties) {
      SHIDANG_RETURN_IF_ERROR(StandingsOf(county, req.school_id(), as_of, &standings));
    }
    std::map<TrainingStatus, int64_t> counts;
    std::vector<ReportLine> attention;
    bool counts_credits = false;
    for (ReportLine& s : standings) {
      ++counts[s.standing.status];
      counts_credits = counts_credits || s.standing.counts_credits;
      if (NeedsAttention(s.standing.status)) attention.push_back(std::move(s));
    }
    std::sort(attention.begin(), attention.end(), [](const ReportLine& a, const ReportLine& b) {
      return ShortfallOrder({a.standing.shortfall, a.teacher_id},
                            {b.standing.shortfall, b.teacher_id});
    });
    resp->set_county_id(req.county_id());
    resp->set_school_id(req.school_id());
    resp->set_as_of(dates::FormatDate(as_of));
    resp->set_teachers(static_cast<int64_t>(standings.size()));
    for (TrainingStatus status : {v1::TRAINING_STATUS_COMPLETE, v1::TRAINING_STATUS_ON_TRACK,
                                  v1::TRAINING_STATUS_AT_RISK, v1::TRAINING_STATUS_BEHIND}) {
      v1::StatusCount* c = resp->add_by_status();
      c->set_status(status);
      c->set_teachers(counts[status]);
    }
    resp->set_completion_percent(RoundTo2(CompletionPercent(
        counts[v1::TRAINING_STATUS_COMPLETE], static_cast<int64_t>(standings.size()))));
    resp->set_counts_credits(counts_credits);
    auto to_row = [](const ReportLine& line, v1::ComplianceRow* row) {
      const Standing& s = line.standing;
      row->set_teacher_id(line.teacher_id);
      row->set_teacher_name(line.name);
      row->set_school_id(line.school_id);
      row->set_county_id(line.county_id);
      row->set_status(s.status);
      row->set_cycle_first_day(dates::FormatDate(s.window.first));
      row->set_cycle_last_day(dates::FormatDate(s.window.last));
      row->set_required_hours(HalfHoursToWire(s.required));
      row->set_counted_hours(HalfHoursToWire(s.counted));
      row->set_expected_hours(HalfHoursToWire(s.expected));
      row->set_shortfall_hours(HalfHoursToWire(s.shortfall));
      row->set_days_left(static_cast<int32_t>(s.days_left));
      row->set_counts_credits(s.counts_credits);
      if (s.counts_credits) row->set_credits(RoundTo2(s.credits));
    };
    Paginate(attention, offset, page_size, resp->mutable_page(),
             [&](const ReportLine& s) { to_row(s, resp->add_rows()); });
    if (req.format() == v1::REPORT_FORMAT_CSV) {
      std::vector<std::vector<std::string>> rows;
      for (const ReportLine& s : attention) {
        v1::ComplianceRow row;
        to_row(s, &row);
        rows.push_back({row.teacher_id(), row.teacher_name(), row.school_id(), row.county_id(),
                        csv::EnumLabel(row.status()), row.cycle_first_day(),
                        row.cycle_last_day(), HoursText(row.required_hours()),
                        HoursText(row.counted_hours()), HoursText(row.expected_hours()),
                        HoursText(row.shortfall_hours()), std::to_string(row.days_left())});
        // Where the county counts credits (学分), HR sees them beside the hours.
        if (counts_credits) rows.back().push_back(row.counts_credits() ? HoursText(row.credits()) : "");
      }
      std::vector<std::string> header = {"教师编号", "姓名", "学校", "县区", "状态", "周期开始",
                                         "周期结束", "应修学时", "已计学时", "按进度应达学时",
                                         "差额学时", "剩余天数"};
      if (counts_credits) header.push_back("已计学分");
      v1::Download* d = resp->mutable_download();
      d->set_content(csv::WriteCsv(header, rows));
      d->set_content_type(csv::kCsvContentType);
      d->set_filename(absl::StrCat("training-compliance-", req.county_id(), "-",
                                   dates::FormatDate(as_of), ".csv"));
    }
    return absl::OkStatus();
  }

  // Where each teacher of the county (of one school, when set) stands on as_of: from each
  // teacher's report row (one small read each) where it holds; the others are recounted from
  // their ledgers, and their totals stored again so the next report finds them (a policy version
  // added, a cycle turned over, totals dropped by a write that could not advance them).
  absl::Status StandingsOf(absl::string_view county, absl::string_view school_id,
                           absl::CivilDay as_of, std::vector<ReportLine>* out) {
    SHIDANG_ASSIGN_OR_RETURN(LoadedPolicy policy, LoadPolicy(county));
    SHIDANG_ASSIGN_OR_RETURN(std::vector<ReportInput> inputs, store_.ReadReportInputs(county));
    std::vector<std::string> recount;
    out->reserve(out->size() + inputs.size());
    for (ReportInput& in : inputs) {
      if (!school_id.empty() && in.school_id != school_id) continue;
      std::optional<Standing> standing;
      if (!in.row.empty() && in.policy_stamp == policy.stamp) {
        absl::StatusOr<ReportRow> row = DecodeReportRow(in.row);
        if (row.ok()) standing = StandingFromRow(policy.history, *row, as_of);
      }
      if (!standing.has_value()) {
        recount.push_back(std::move(in.teacher_id));
        continue;
      }
      out->push_back(ReportLine{std::move(in.teacher_id), std::move(in.name),
                                std::move(in.school_id), std::string(county), *standing});
    }
    constexpr size_t kBatch = 500;
    for (size_t from = 0; from < recount.size(); from += kBatch) {
      std::vector<std::string> ids(recount.begin() + from,
                                   recount.begin() + std::min(recount.size(), from + kBatch));
      SHIDANG_ASSIGN_OR_RETURN(std::vector<Recounted> recounted, Recount(county, ids, policy));
      for (size_t i = 0; i < ids.size(); ++i) {
        const TeacherState& state = recounted[i].state;
        if (!state.facts.has_value()) continue;
        const TeacherFactsRecord& f = *state.facts;
        if (!school_id.empty() && f.school_id != school_id) continue;
        SHIDANG_ASSIGN_OR_RETURN(Summary summary, Compute(policy, state, as_of));
        out->push_back(ReportLine{ids[i], f.name, f.school_id, std::string(county),
                                  StandingOf(summary)});
      }
    }
    return absl::OkStatus();
  }

  // ---- the profile service's events

  absl::Status ApplyProfileEvent(const common::v1::Event& event) {
    const std::string& type = event.type();
    if (event.teacher_id().empty()) return absl::OkStatus();
    // The event id is the request id: a re-delivery replays and changes nothing.
    common::v1::Event idem;
    idem.set_id(event.id());
    idem.set_request_id(event.id());
    WriteContext write{"service:training", "ApplyProfileEvent", &idem};
    if (type == "profile.teacher_created") {
      profile::v1::Teacher t;
      if (!event.payload().UnpackTo(&t)) {
        LogWarning("event ", event.id(), ": teacher_created without a Teacher; skipped");
        return absl::OkStatus();
      }
      TeacherFactsRecord f;
      f.teacher_id = t.teacher_id().empty() ? event.teacher_id() : t.teacher_id();
      f.county_id = t.county_id().empty() ? event.county_id() : t.county_id();
      f.name = t.name();
      f.school_id = t.school_id();
      f.hire_date = t.hire_date();
      f.cycle_anchor = t.training_cycle_anchor();
      f.post_status = t.post_status();
      f.head_teacher = !t.head_teacher_periods().empty();
      if (!IsCountyCode(f.county_id)) return absl::OkStatus();
      SHIDANG_RETURN_IF_ERROR(store_.SetHomeCounty(f.teacher_id, f.county_id));
      SHIDANG_RETURN_IF_ERROR(store_.PutFacts(f, false, write));
      RecountAfterWrite(f.county_id, {f.teacher_id});
      return absl::OkStatus();
    }
    bool moved = type == "profile.moved_school";
    bool transferred = type == "profile.transferred_county";
    bool status_changed = type == "profile.post_status_changed";
    if (!moved && !transferred && !status_changed) return absl::OkStatus();
    profile::v1::TimelineEntry entry;
    if (!event.payload().UnpackTo(&entry)) {
      LogWarning("event ", event.id(), " (", type, ") without a TimelineEntry; skipped");
      return absl::OkStatus();
    }
    absl::StatusOr<Located> found = Locate(event.teacher_id());
    if (absl::IsNotFound(found.status())) {
      LogWarning("event ", event.id(), " (", type, ") names an unknown teacher; skipped");
      return absl::OkStatus();
    }
    SHIDANG_RETURN_IF_ERROR(found.status());
    TeacherFactsRecord f = found->facts();
    if (moved) {
      f.school_id = entry.school_change().to_school_id();
    } else if (status_changed) {
      f.post_status = entry.post_status_changed().to_status();
      f.left_on = Departed(f) ? entry.occurred_on() : "";
    } else {
      return Transfer(*found, entry, event);
    }
    SHIDANG_RETURN_IF_ERROR(store_.PutFacts(f, false, write));
    RecountAfterWrite(f.county_id, {f.teacher_id});
    return absl::OkStatus();
  }

  // A teacher who moved county takes their ledger and records along: copied into the new
  // county under the same marks (so a repeat copies nothing twice), then the routing index
  // moves, then the old county lets go. Each step is idempotent, so a crash heals on
  // re-delivery (the event is acknowledged only after all three).
  absl::Status Transfer(const Located& found, const profile::v1::TimelineEntry& entry,
                        const common::v1::Event& event) {
    const std::string& to = entry.transfer().to_county_id();
    if (!IsCountyCode(to) || found.county_id == to) return absl::OkStatus();
    TeacherFactsRecord f = found.facts();
    f.county_id = to;
    f.school_id = entry.transfer().to_school_id();
    common::v1::Event idem;
    idem.set_request_id(absl::StrCat(event.id(), "-in"));
    SHIDANG_RETURN_IF_ERROR(
        store_.PutFacts(f, false, WriteContext{"service:training", "TransferIn", &idem}));
    std::vector<LedgerAppend> appends;
    std::map<std::string, std::string> course_of_entry;  // entry id -> its course
    for (const v1::LedgerEntry& e : found.state.ledger) {
      LedgerAppend a;
      a.teacher_id = f.teacher_id;
      if (!e.course_id().empty()) course_of_entry[e.entry_id()] = e.course_id();
      // The same marks as in the old county, so later completions and reviews stay once-only.
      if (e.kind() == v1::LEDGER_ENTRY_KIND_REVERSAL) {
        a.mark = absl::StrCat("x:", e.reverses_entry_id());
        // As ReverseEntry did: the course may be credited again (the re-credit follows).
        auto course = course_of_entry.find(e.reverses_entry_id());
        if (course != course_of_entry.end()) a.release_mark = absl::StrCat("c:", course->second);
      } else if (!e.course_id().empty()) {
        a.mark = absl::StrCat("c:", e.course_id());
      } else if (!e.record_id().empty()) {
        a.mark = absl::StrCat("r:", e.record_id());
      } else {
        a.mark = absl::StrCat("t:", e.entry_id());
      }
      a.entry = e;
      appends.push_back(std::move(a));
    }
    if (!appends.empty()) {
      SHIDANG_RETURN_IF_ERROR(
          store_.AppendLedger(to, appends, WriteContext{"service:training", "", nullptr}, {})
              .status());
    }
    for (const v1::TrainingRecord& r : found.state.records) {
      v1::TrainingRecord moved = r;
      moved.set_county_id(to);
      absl::StatusOr<v1::TrainingRecord> added =
          store_.AddRecord(moved, WriteContext{"service:training", "", nullptr}, {});
      if (!added.ok() && !absl::IsAlreadyExists(added.status()) &&
          !absl::IsFailedPrecondition(added.status())) {
        return added.status();
      }
    }
    SHIDANG_RETURN_IF_ERROR(store_.SetHomeCounty(f.teacher_id, to));
    idem.set_request_id(absl::StrCat(event.id(), "-out"));
    SHIDANG_RETURN_IF_ERROR(store_.PutFacts(found.facts(), true,
                                            WriteContext{"service:training", "TransferOut", &idem}));
    RecountAfterWrite(to, {f.teacher_id});
    return absl::OkStatus();
  }

  redis::Pool& pool_;
  const PrincipalSigner& signer_;
  const Clock& clock_;
  TrainingStore store_;
  policy::PolicyStore policies_;
  EventIdSource event_ids_;
};

TrainingServiceImpl::TrainingServiceImpl(redis::Pool& pool, const PrincipalSigner& signer,
                                         const Clock& clock)
    : impl_(std::make_shared<Impl>(pool, signer, clock)) {}

absl::Status TrainingServiceImpl::ApplyProfileEvent(const common::v1::Event& event) {
  return impl_->ApplyProfileEvent(event);
}

#define SHIDANG_TRAINING_METHOD(Name)                                                        \
  grpc::Status TrainingServiceImpl::Name(grpc::ServerContext* ctx,                           \
                                         const v1::Name##Request* req,                       \
                                         v1::Name##Response* resp) {                         \
    return impl_->Handle(ctx, #Name, [&](const CallContext& call) {                          \
      return impl_->Name(call, *req, resp);                                                  \
    });                                                                                      \
  }

SHIDANG_TRAINING_METHOD(RegisterCourse)
SHIDANG_TRAINING_METHOD(GetCourse)
SHIDANG_TRAINING_METHOD(ListCourses)
SHIDANG_TRAINING_METHOD(PublishCourse)
SHIDANG_TRAINING_METHOD(CloseCourse)
SHIDANG_TRAINING_METHOD(Enroll)
SHIDANG_TRAINING_METHOD(Withdraw)
SHIDANG_TRAINING_METHOD(RecordCompletions)
SHIDANG_TRAINING_METHOD(LogTraining)
SHIDANG_TRAINING_METHOD(ReviewTrainingRecord)
SHIDANG_TRAINING_METHOD(ListTrainingRecords)
SHIDANG_TRAINING_METHOD(ReverseEntry)
SHIDANG_TRAINING_METHOD(ListLedger)
SHIDANG_TRAINING_METHOD(SetTrainingPolicy)
SHIDANG_TRAINING_METHOD(GetTrainingPolicy)
SHIDANG_TRAINING_METHOD(GetTrainingSummary)
SHIDANG_TRAINING_METHOD(GetComplianceReport)

#undef SHIDANG_TRAINING_METHOD

}  // namespace shidang::training
