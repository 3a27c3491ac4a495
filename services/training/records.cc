#include "services/training/records.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/dates.h"
#include "services/common/digest.h"
#include "services/common/status.h"
#include "services/training/access.h"
#include "services/training/rules.h"

namespace shidang::training {
namespace {

// The credit an approved record becomes.
v1::LedgerEntry CreditOf(const v1::TrainingRecord& record, const CallContext& call,
                         absl::string_view request_id, absl::Time now) {
  v1::LedgerEntry entry;
  entry.set_entry_id(RecordEntryId(record.record_id()));
  entry.set_teacher_id(record.teacher_id());
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
  entry.set_request_id(std::string(request_id));
  entry.set_recorded_at_ms(absl::ToUnixMillis(now));
  return entry;
}

}  // namespace

v1::TrainingRecord Records::NewRecord(const v1::LogTrainingRequest& req, const Located& found,
                                      const v1::Course* course) const {
  v1::TrainingRecord r;
  r.set_teacher_id(req.teacher_id());
  r.set_county_id(found.county_id);
  r.set_hours(req.hours());
  r.set_started_on(req.started_on());
  r.set_completed_on(req.completed_on());
  r.set_induction(req.induction());
  r.set_head_teacher(req.head_teacher());
  r.set_logged_on(dates::FormatDate(clock_.Today()));
  if (course != nullptr) {
    r.set_course_id(course->course_id());
    r.set_activity(v1::TRAINING_ACTIVITY_COURSE);
    r.set_title(course->title());
    r.set_level(course->level());
    r.set_mode(course->mode());
    r.set_induction(course->induction());
    r.set_head_teacher(course->head_teacher());
    r.set_state(v1::TRAINING_RECORD_STATE_AWAITING_CONFIRMATION);
  } else {
    r.set_activity(req.activity());
    r.set_title(req.title());
    r.set_level(req.level());
    r.set_mode(req.mode());
    *r.mutable_evidence() = req.evidence();
    r.set_state(v1::TRAINING_RECORD_STATE_AWAITING_REVIEW);
  }
  return r;
}

absl::Status Records::Log(const CallContext& call, const v1::LogTrainingRequest& req,
                          v1::LogTrainingResponse* resp) {
  SHIDANG_ASSIGN_OR_RETURN(Located found, Locate(store_, req.teacher_id()));
  std::optional<v1::Course> course;
  if (!req.course_id().empty()) {
    absl::StatusOr<StoredCourse> stored = store_.GetCourse(req.course_id());
    if (!stored.ok()) {
      if (!absl::IsNotFound(stored.status()) && !absl::IsInvalidArgument(stored.status())) {
        return stored.status();
      }
      return InvalidField("course_id", "unknown_course",
                          absl::StrCat("no course ", req.course_id()));
    }
    course = std::move(stored->course);
  }
  const v1::Course* named = course.has_value() ? &*course : nullptr;
  const bool open = named != nullptr && CourseOpenTo(*named, found.county_id);
  SHIDANG_RETURN_IF_ERROR(
      ProblemsStatus(LoggedTrainingProblems(req, named, open, found.county_id, clock_.Today())));
  if (Departed(found.facts())) {
    return InvalidField("teacher_id", "departed", "the teacher has retired or left");
  }
  v1::TrainingRecord r = NewRecord(req, found, named);
  r.set_record_id(absl::StrCat(
      "R", found.county_id, "-",
      HexId(IdSeed(call.actor, "LogTraining", req.request_id(), req.teacher_id()), 12)));
  // Pending hours are read with the records, so the running totals do not change. A self-report
  // joins the county's review queue at this instant.
  SHIDANG_ASSIGN_OR_RETURN(
      *resp->mutable_record(),
      store_.AddRecord(r, WriteOf(call, "LogTraining", req), {}, absl::ToUnixMillis(clock_.Now())));
  return absl::OkStatus();
}

absl::Status Records::Review(const CallContext& call, const v1::ReviewTrainingRecordRequest& req,
                             const std::string& county, v1::ReviewTrainingRecordResponse* resp) {
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
  record.set_reviewed_by(call.actor);
  record.set_reviewed_on(dates::FormatDate(clock_.Today()));
  if (req.decision() == v1::REVIEW_DECISION_REJECT) {
    return Reject(call, req, std::move(record), county, resp);
  }
  return Approve(call, req, std::move(record), county, states[0], resp);
}

absl::Status Records::Reject(const CallContext& call, const v1::ReviewTrainingRecordRequest& req,
                             v1::TrainingRecord record, absl::string_view county,
                             v1::ReviewTrainingRecordResponse* resp) {
  record.set_state(v1::TRAINING_RECORD_STATE_REJECTED);
  record.set_review_reason(req.reason());
  std::vector<common::v1::Event> events = {events_.Make(
      "training.self_report_rejected", record.teacher_id(), county, record.reviewed_on(),
      call.actor, req.request_id(),
      absl::StrCat("自主研修《", record.title(), "》未获认定：", req.reason()), record)};
  SHIDANG_RETURN_IF_ERROR(store_.UpdateRecord(record, v1::TRAINING_RECORD_STATE_AWAITING_REVIEW,
                                              WriteOf(call, "ReviewTrainingRecord", req),
                                              std::move(events)));
  *resp->mutable_record() = std::move(record);
  return absl::OkStatus();
}

// The credit and the record's new state go in one append (strict: a record reviewed meanwhile
// fails it), with the teacher's totals advanced when that is exact.
absl::Status Records::Approve(const CallContext& call, const v1::ReviewTrainingRecordRequest& req,
                              v1::TrainingRecord record, absl::string_view county,
                              const TeacherState& state, v1::ReviewTrainingRecordResponse* resp) {
  const std::string teacher_id = record.teacher_id();
  v1::LedgerEntry entry = CreditOf(record, call, req.request_id(), clock_.Now());
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
  std::vector<common::v1::Event> events = {events_.Make(
      "training.self_report_approved", teacher_id, county, record.completed_on(), call.actor,
      req.request_id(),
      absl::StrCat("认定自主研修《", record.title(), "》", HoursText(record.hours()), " 学时"),
      entry)};
  if (state.facts.has_value()) {
    SHIDANG_ASSIGN_OR_RETURN(LoadedPolicy policy, policy_.LoadPolicy(county));
    totals_.Advance(policy, state, entry, clock_.Today(), &a);
  }
  SHIDANG_ASSIGN_OR_RETURN(
      std::vector<AppendOutcome> outcomes,
      store_.AppendLedger(county, {a}, WriteOf(call, "ReviewTrainingRecord", req),
                          std::move(events)));
  if (outcomes[0] == AppendOutcome::kAppliedStale) {
    totals_.RecountAfterWrite(county, {teacher_id});
  }
  *resp->mutable_record() = std::move(record);
  *resp->mutable_entry() = std::move(entry);
  return absl::OkStatus();
}

absl::Status Records::List(const CallContext& call, const v1::ListTrainingRecordsRequest& req,
                           v1::ListTrainingRecordsResponse* resp) {
  SHIDANG_ASSIGN_OR_RETURN(int page_size, PageSize(req.page()));
  SHIDANG_ASSIGN_OR_RETURN(size_t offset, PageOffset(req.page()));
  absl::StatusOr<Located> found = Locate(store_, req.teacher_id(), /*with_ledger=*/false);
  if (absl::IsInvalidArgument(found.status())) return found.status();
  SHIDANG_RETURN_IF_ERROR(access::CheckTeacher(call.principal, access::TeacherAction::kRead,
                                               req.teacher_id(), found.status(),
                                               found.ok() ? &found->facts() : nullptr));
  std::vector<v1::TrainingRecord> records;
  for (const v1::TrainingRecord& r : found->state.records) {
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

}  // namespace shidang::training
