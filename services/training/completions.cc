#include "services/training/completions.h"

#include <algorithm>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/dates.h"
#include "services/common/status.h"
#include "services/training/access.h"
#include "services/training/rules.h"

namespace shidang::training {
namespace {

// Rows per ledger script or transaction of a completion batch: each stays well inside the Redis
// command timeout and blocks other clients only briefly.
constexpr size_t kAppendsPerScript = 500;

// The appends of one county in one chunk, with their events.
struct CountyChunk {
  std::vector<LedgerAppend> appends;
  std::vector<common::v1::Event> events;
};
using Chunk = std::map<std::string, CountyChunk>;
// (county, teacher) pairs whose totals a write dropped: they need a recount.
using Stale = std::vector<std::pair<std::string, std::string>>;
// Per good row: whether this call's mark credited it, and "<entry_id>|<county>" as stored.
using Marks = std::vector<std::pair<bool, std::string>>;

// Moves the appends chosen by `take` (with their events) out of `c` into the result.
CountyChunk Split(CountyChunk& c, const std::vector<bool>& take) {
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
}

void AddStale(const std::string& county, const std::vector<LedgerAppend>& appends,
              const std::vector<AppendOutcome>& outcomes, Stale* stale) {
  for (size_t j = 0; j < outcomes.size(); ++j) {
    if (outcomes[j] == AppendOutcome::kAppliedStale) {
      stale->emplace_back(county, appends[j].teacher_id);
    }
  }
}

// The entry id of a stored mark ("<entry_id>|<county>"): a re-credit after a reversal has its own.
std::string MarkedEntryId(const std::string& stored) { return stored.substr(0, stored.find('|')); }

// One call of RecordCompletions, step by step (Run). Its futures are declared last so that they
// are awaited (their destructors block) before anything they use goes away.
class CompletionBatch {
 public:
  CompletionBatch(TrainingStore& store, const Clock& clock, EventMaker& events, PolicyUse& policy,
                  Totals& totals, const CallContext& call, const v1::RecordCompletionsRequest& req,
                  v1::RecordCompletionsResponse* resp)
      : store_(store),
        clock_(clock),
        events_(events),
        policy_(policy),
        totals_(totals),
        call_(call),
        req_(req),
        resp_(resp),
        today_(clock.Today()) {}

  absl::Status Run() {
    SHIDANG_RETURN_IF_ERROR(ReadCourse());
    SHIDANG_RETURN_IF_ERROR(ReadTeachers());
    ValidateRows();
    StartMarking();
    SHIDANG_RETURN_IF_ERROR(WriteLedgers());
    if (diverged_.has_value()) {
      SHIDANG_RETURN_IF_ERROR(TakeTheFirstAnswer());
      SHIDANG_RETURN_IF_ERROR(WriteLedgers());
    }
    for (const auto& [county, ids] : recount_) totals_.RecountAfterWrite(county, ids);
    CountOutcomes();
    return absl::OkStatus();
  }

 private:
  // ---- reading

  absl::Status ReadCourse() {
    SHIDANG_ASSIGN_OR_RETURN(StoredCourse stored, store_.GetCourse(req_.course_id()));
    course_ = std::move(stored.course);
    SHIDANG_RETURN_IF_ERROR(access::RequireCourseOwner(call_.principal, course_));
    SHIDANG_ASSIGN_OR_RETURN(course_hours_, HalfHoursFromWire(course_.hours(), "course.hours"));
    SHIDANG_ASSIGN_OR_RETURN(start_, dates::ParseDate(course_.start_date()));
    SHIDANG_ASSIGN_OR_RETURN(end_, dates::ParseDate(course_.end_date()));
    mark_ = absl::StrCat("c:", course_.course_id());
    return absl::OkStatus();
  }

  // The heads of every teacher the rows name, and the policy of each county they live in. A
  // course open to one county (the usual case): its teachers are looked for there with their
  // home counties in the same round trip; only those at home elsewhere are read again. The read
  // runs on a connection held for the fast path of step 2, watching the county's writes.
  absl::Status ReadTeachers() {
    std::vector<std::string> ids;
    ids.reserve(req_.rows_size());
    for (const v1::CompletionRow& row : req_.rows()) {
      if (!row.teacher_id().empty()) ids.push_back(row.teacher_id());
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::vector<std::string> homes;
    if (course_.open_regions_size() == 1 && IsCountyCode(course_.open_regions(0))) {
      guess_ = course_.open_regions(0);
      absl::StatusOr<std::unique_ptr<redis::Pool::Session>> held = store_.HoldSession();
      if (held.ok()) watch_ = *std::move(held);  // without it, every credit goes by script
      SHIDANG_RETURN_IF_ERROR(ReadCounty(guess_, ids, &homes, watch_.get()));
    } else {
      SHIDANG_ASSIGN_OR_RETURN(homes, store_.HomeCounties(ids));
    }
    std::map<std::string, std::vector<std::string>> by_county;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!homes[i].empty() && homes[i] != guess_) by_county[homes[i]].push_back(ids[i]);
    }
    for (const auto& [county, teachers] : by_county) {
      SHIDANG_RETURN_IF_ERROR(ReadCounty(county, teachers, nullptr, nullptr));
    }
    return absl::OkStatus();
  }

  // The teachers' heads in `county` (their home, or `homes` read alongside) and its policy;
  // with `watch`, on that session, after a WATCH of the county's writes counter.
  absl::Status ReadCounty(const std::string& county, const std::vector<std::string>& teachers,
                          std::vector<std::string>* homes, redis::Pool::Session* watch) {
    SHIDANG_ASSIGN_OR_RETURN(std::vector<TeacherState> found,
                             store_.ReadHeads(county, teachers, course_.course_id(), homes, watch));
    for (size_t i = 0; i < teachers.size(); ++i) {
      if (found[i].facts.has_value()) states_[teachers[i]] = std::move(found[i]);
    }
    SHIDANG_ASSIGN_OR_RETURN(LoadedPolicy policy, policy_.LoadPolicy(county));
    policies_.emplace(county, std::move(policy));
    return absl::OkStatus();
  }

  // ---- validating

  // Every row gets a result; the good ones (at most one per teacher) go on to the steps.
  void ValidateRows() {
    std::set<std::string> seen;
    for (int i = 0; i < req_.rows_size(); ++i) {
      const v1::CompletionRow& row = req_.rows(i);
      v1::CompletionResult* result = resp_->add_results();
      result->set_row(i + 1);
      result->set_teacher_id(row.teacher_id());
      std::optional<FieldProblem> problem = RowProblem(i);
      if (!problem.has_value() && !seen.insert(row.teacher_id()).second) {
        problem = FieldProblem{absl::StrCat("rows[", i, "].teacher_id"), "duplicate",
                               "the teacher appears in an earlier row of this batch"};
      }
      if (problem.has_value()) {
        result->set_outcome(v1::COMPLETION_OUTCOME_REJECTED);
        *result->mutable_violation() = ViolationOf(*problem);
        continue;
      }
      good_.push_back(static_cast<size_t>(i));
    }
  }

  // What is wrong with row i on its own (nullopt: nothing).
  std::optional<FieldProblem> RowProblem(int i) const {
    const v1::CompletionRow& row = req_.rows(i);
    const std::string prefix = absl::StrCat("rows[", i, "]");
    if (row.teacher_id().empty()) {
      return FieldProblem{prefix + ".teacher_id", "required", "required"};
    }
    if (std::optional<FieldProblem> p = WireHoursProblem(row.hours(), prefix + ".hours")) return p;
    absl::StatusOr<absl::CivilDay> day = dates::ParseDate(row.completed_on());
    if (!day.ok()) {
      return FieldProblem{prefix + ".completed_on", "date_format", "must be a date YYYY-MM-DD"};
    }
    const HalfHours hours = static_cast<HalfHours>(row.hours() * 2);
    if (std::optional<FieldProblem> p =
            CompletionProblem(course_hours_, start_, end_, hours, *day, prefix)) {
      return p;
    }
    if (*day > today_) {
      return FieldProblem{
          prefix + ".completed_on", "not_future",
          absl::StrCat("must not be after today (", dates::FormatDate(today_), ")")};
    }
    return TeacherProblem(row.teacher_id(), *day, prefix);
  }

  // What is wrong with crediting the row's teacher on `day`: unknown, in a county the course is
  // not open to, or departed by then.
  std::optional<FieldProblem> TeacherProblem(const std::string& teacher_id, absl::CivilDay day,
                                             const std::string& prefix) const {
    auto state = states_.find(teacher_id);
    if (state == states_.end()) {
      return FieldProblem{prefix + ".teacher_id", "unknown_teacher",
                          absl::StrCat("no teacher ", teacher_id)};
    }
    const TeacherFactsRecord& facts = *state->second.facts;
    if (!CourseOpenTo(course_, facts.county_id)) {
      return FieldProblem{prefix + ".teacher_id", "not_open",
                          absl::StrCat("the teacher is in county ", facts.county_id,
                                       ", which the course is not open to")};
    }
    if (Departed(facts)) {
      absl::StatusOr<absl::CivilDay> left = dates::ParseDate(facts.left_on);
      if (!left.ok() || day >= *left) {
        return FieldProblem{prefix + ".completed_on", "departed",
                            absl::StrCat("the teacher retired or left on ",
                                         facts.left_on.empty() ? "an unknown day" : facts.left_on,
                                         "; no credit on or after that day")};
      }
    }
    return std::nullopt;
  }

  // ---- step 1: the provider's marks

  // Written in the background while the first credits are prepared: a row's C++ work overlaps
  // Redis's. No ledger is written before step 1 answers. The answer as validated goes with
  // step 1's record: a retry answers the first call's rejections again, even when a row would be
  // judged otherwise now.
  void StartMarking() {
    teachers_.reserve(good_.size());
    entry_ids_.reserve(good_.size());
    counties_.reserve(good_.size());
    for (size_t i : good_) {
      const std::string& t = req_.rows(static_cast<int>(i)).teacher_id();
      teachers_.push_back(t);
      entry_ids_.push_back(CourseEntryId(course_.course_id(), t));
      counties_.push_back(states_[t].facts->county_id);
    }
    first_answer_ = resp_->SerializeAsString();
    marking_ = std::async(std::launch::async, [this] {
      return store_.MarkCompleted(course_.course_id(), teachers_, entry_ids_, counties_,
                                  first_answer_, WriteOf(call_, "RecordCompletions", req_));
    });
  }

  // Step 1's answer: the marks, or (a replay of a first call whose rows were judged otherwise)
  // the first call's answer to give instead.
  absl::Status AwaitMarks() {
    if (marked_.has_value() || diverged_.has_value() || !marking_.valid()) {
      return absl::OkStatus();
    }
    SHIDANG_ASSIGN_OR_RETURN(TrainingStore::CompletionMarks m, marking_.get());
    // The marks were set by this call now (not an earlier call's answer replayed): a row marked
    // now is this call's alone to append.
    marks_fresh_ = !m.replayed;
    // (No first answer: stored by an older version, for the same rows.)
    if (m.replayed && !m.first_answer.empty() && m.first_answer != first_answer_) {
      diverged_ = std::move(m);
    } else {
      marked_ = std::move(m.marks);
    }
    return absl::OkStatus();
  }

  // ---- step 2: the counties' ledgers

  // Good row k as an append credited under `entry_id`; its events go to `out`.
  LedgerAppend Prepare(size_t k, const std::string& entry_id, CountyChunk* out) {
    const v1::CompletionRow& row = req_.rows(static_cast<int>(good_[k]));
    const TeacherState& state = states_[row.teacher_id()];
    const std::string& county = state.facts->county_id;
    LedgerAppend a;
    a.teacher_id = row.teacher_id();
    a.mark = mark_;
    a.entry = Credit(row, entry_id);
    SettleWaitingRecord(state, entry_id, &a);
    a.event_index = static_cast<int>(out->events.size());
    out->events.push_back(events_.Make(
        "training.credited", row.teacher_id(), county, row.completed_on(), call_.actor,
        req_.request_id(),
        absl::StrCat("完成培训《", course_.title(), "》", HoursText(row.hours()), " 学时"),
        a.entry));
    // The event's payload is the entry serialized: the ledger stores the same bytes.
    a.entry_bytes = out->events.back().payload().value();
    totals_.Advance(policies_.at(county), state, a.entry, today_, &a);
    return a;
  }

  v1::LedgerEntry Credit(const v1::CompletionRow& row, const std::string& entry_id) const {
    v1::LedgerEntry e;
    e.set_entry_id(entry_id);
    e.set_teacher_id(row.teacher_id());
    e.set_kind(v1::LEDGER_ENTRY_KIND_CREDIT);
    e.set_date(row.completed_on());
    e.set_hours(row.hours());
    e.set_level(course_.level());
    e.set_mode(course_.mode());
    e.set_activity(v1::TRAINING_ACTIVITY_COURSE);
    e.set_source(v1::CREDIT_SOURCE_COURSE_COMPLETION);
    e.set_course_id(course_.course_id());
    e.set_title(course_.title());
    e.set_induction(course_.induction());
    e.set_head_teacher(course_.head_teacher());
    e.set_actor(call_.actor);
    e.set_request_id(req_.request_id());
    e.set_recorded_at_ms(absl::ToUnixMillis(clock_.Now()));
    return e;
  }

  // The teacher's record awaiting this course's confirmation, closed by the credit.
  void SettleWaitingRecord(const TeacherState& state, const std::string& entry_id,
                           LedgerAppend* a) const {
    for (const v1::TrainingRecord& r : state.records) {
      if (r.course_id() != course_.course_id() ||
          r.state() != v1::TRAINING_RECORD_STATE_AWAITING_CONFIRMATION) {
        continue;
      }
      v1::TrainingRecord closed = r;
      closed.set_state(v1::TRAINING_RECORD_STATE_CREDITED);
      closed.set_entry_id(entry_id);
      a->entry.set_record_id(r.record_id());
      a->record_id = r.record_id();
      a->record_from_state = v1::TRAINING_RECORD_STATE_AWAITING_CONFIRMATION;
      a->record_to_state = v1::TRAINING_RECORD_STATE_CREDITED;
      a->record_bytes = closed.SerializeAsString();
      a->close_course_id = course_.course_id();
    }
  }

  // Each county's ledgers (also for rows credited before, so a crash between the steps heals;
  // the ledger's marks make it a no-op otherwise), in chunks of kAppendsPerScript rows; chunk
  // n + 1 is prepared while chunk n is written (one in flight).
  absl::Status WriteLedgers() {
    for (size_t from = 0; from < good_.size(); from += kAppendsPerScript) {
      SHIDANG_RETURN_IF_ERROR(WriteChunk(from, std::min(good_.size(), from + kAppendsPerScript)));
      if (diverged_.has_value()) break;  // nothing written yet; the rows are redone
    }
    SHIDANG_RETURN_IF_ERROR(AwaitWrite());
    if (transaction_.has_value()) SHIDANG_RETURN_IF_ERROR(WriteWhatTheFastPathLeft());
    // With no good row step 1 still ran (it keeps the request's answer): its error is the call's.
    return AwaitMarks();
  }

  // Good rows [from, to): prepared, answered, and sent on their way.
  absl::Status WriteChunk(size_t from, size_t to) {
    Chunk chunk;
    std::vector<size_t> slot(to - from);  // row k -> its index in its county's appends
    for (size_t k = from; k < to; ++k) {
      CountyChunk& c = chunk[counties_[k]];
      slot[k - from] = c.appends.size();
      c.appends.push_back(
          Prepare(k, marked_ ? MarkedEntryId((*marked_)[k].second) : entry_ids_[k], &c));
    }
    SHIDANG_RETURN_IF_ERROR(AwaitMarks());
    if (diverged_.has_value()) return absl::OkStatus();
    if (from == 0 && watch_ != nullptr && marks_fresh_) transaction_.emplace(*watch_, guess_);
    std::vector<bool> fast(chunk.count(guess_) > 0 ? chunk[guess_].appends.size() : 0);
    for (size_t k = from; k < to; ++k) {
      AnswerRow(k, &chunk[counties_[k]].appends[slot[k - from]], &chunk[counties_[k]]);
      const LedgerAppend& a = chunk[counties_[k]].appends[slot[k - from]];
      if (transaction_.has_value() && counties_[k] == guess_) {
        fast[slot[k - from]] = (*marked_)[k].first && a.record_id.empty() &&
                               a.close_course_id.empty() && a.release_mark.empty() && !a.strict;
      }
    }
    SHIDANG_RETURN_IF_ERROR(AwaitWrite());
    if (!transaction_.has_value()) {
      WriteByScript(std::move(chunk));
      return absl::OkStatus();
    }
    return WriteFast(std::move(chunk), fast);
  }

  // Good row k's result from its mark; its append redone when it was prepared before step 1
  // answered under the first credit's id (rare; the events prepared first are never emitted).
  void AnswerRow(size_t k, LedgerAppend* a, CountyChunk* c) {
    const std::string entry_id = MarkedEntryId((*marked_)[k].second);
    if (a->entry.entry_id() != entry_id) *a = Prepare(k, entry_id, c);
    v1::CompletionResult* result = resp_->mutable_results(static_cast<int>(good_[k]));
    result->set_entry_id(entry_id);
    result->set_outcome((*marked_)[k].first ? v1::COMPLETION_OUTCOME_CREDITED
                                            : v1::COMPLETION_OUTCOME_ALREADY_CREDITED);
    if ((*marked_)[k].first && !a->record_id.empty()) result->set_closed_record_id(a->record_id);
  }

  // Step 2 by script for `chunk`, in the background (AwaitWrite awaits it).
  void WriteByScript(Chunk chunk) {
    writing_ = std::async(
        std::launch::async, [this, chunk = std::move(chunk)]() mutable -> absl::StatusOr<Stale> {
          Stale stale;
          for (auto& [county, c] : chunk) {
            SHIDANG_ASSIGN_OR_RETURN(
                std::vector<AppendOutcome> outcomes,
                store_.AppendLedger(county, c.appends, WriteContext{call_.actor, "", nullptr},
                                    std::move(c.events)));
            AddStale(county, c.appends, outcomes, &stale);
          }
          return stale;
        });
  }

  // The fast path (store.h LedgerTransaction): when the heads were read watched and the marks
  // are this call's own, the plain credits of the watched county go chunk by chunk in MULTI ...
  // EXEC transactions; the other appends wait until they have run (their scripts would count as
  // writes to the county) and go by script, as a refused chunk's do.
  absl::Status WriteFast(Chunk chunk, const std::vector<bool>& fast) {
    FastChunk* next = nullptr;
    if (!fast.empty()) {
      CountyChunk taken = Split(chunk[guess_], fast);
      if (!taken.appends.empty()) {
        fast_chunks_.push_back(FastChunk{std::move(taken)});
        next = &fast_chunks_.back();
      }
    }
    for (auto& [county, c] : chunk) {
      if (!c.appends.empty()) deferred_.emplace_back(county, std::move(c));
    }
    if (next == nullptr) return absl::OkStatus();
    if (fast_chunks_.size() == 1) SHIDANG_RETURN_IF_ERROR(store_.PrepareStream(guess_));
    writing_ = std::async(std::launch::async, [this, next]() -> absl::StatusOr<Stale> {
      SHIDANG_ASSIGN_OR_RETURN(std::optional<std::vector<AppendOutcome>> outcomes,
                               transaction_->Write(next->chunk.appends, next->chunk.events));
      Stale stale;
      if (!outcomes.has_value()) {
        // A teacher of the county was written since the heads were read: nothing of this chunk
        // was written.
        next->refused = true;
        return stale;
      }
      AddStale(guess_, next->chunk.appends, *outcomes, &stale);
      return stale;
    });
    return absl::OkStatus();
  }

  // After the fast path: the refused chunks and the deferred appends, by script, one at a time.
  absl::Status WriteWhatTheFastPathLeft() {
    transaction_.reset();
    for (FastChunk& f : fast_chunks_) {
      if (f.refused) deferred_.emplace_back(guess_, std::move(f.chunk));
    }
    fast_chunks_.clear();
    for (auto& [county, c] : deferred_) {
      Chunk one;
      one.emplace(county, std::move(c));
      WriteByScript(std::move(one));
      SHIDANG_RETURN_IF_ERROR(AwaitWrite());
    }
    deferred_.clear();
    return absl::OkStatus();
  }

  absl::Status AwaitWrite() {
    if (!writing_.valid()) return absl::OkStatus();
    SHIDANG_ASSIGN_OR_RETURN(Stale stale, writing_.get());
    for (auto& [county, teacher] : stale) recount_[county].push_back(std::move(teacher));
    return absl::OkStatus();
  }

  // ---- a retry whose rows were judged otherwise

  // A retry of a call whose rows were judged otherwise (a teacher learned from the profile
  // service, or departed, in between): answer the first call's rows, and write the ledgers of
  // its credited rows again (a no-op unless the first call stopped between the steps).
  absl::Status TakeTheFirstAnswer() {
    v1::RecordCompletionsResponse first;
    if (!first.ParseFromString(diverged_->first_answer) ||
        first.results_size() != req_.rows_size()) {
      return absl::DataLossError("the first answer of this request_id is unreadable");
    }
    *resp_ = std::move(first);
    Marks kept;
    good_.clear();
    entry_ids_.clear();
    counties_.clear();
    size_t next_mark = 0;
    for (int i = 0; i < resp_->results_size(); ++i) {
      if (resp_->results(i).outcome() == v1::COMPLETION_OUTCOME_REJECTED) continue;
      if (next_mark >= diverged_->marks.size()) {
        return absl::DataLossError("the first answer of this request_id lacks marks");
      }
      const std::pair<bool, std::string>& m = diverged_->marks[next_mark++];
      const std::string& t = req_.rows(i).teacher_id();
      auto state = states_.find(t);
      if (state == states_.end() || !state->second.facts.has_value()) {
        // Not known here now: answered as the first time; its ledger is the first call's.
        v1::CompletionResult* result = resp_->mutable_results(i);
        result->set_entry_id(MarkedEntryId(m.second));
        result->set_outcome(m.first ? v1::COMPLETION_OUTCOME_CREDITED
                                    : v1::COMPLETION_OUTCOME_ALREADY_CREDITED);
        continue;
      }
      good_.push_back(static_cast<size_t>(i));
      entry_ids_.push_back(CourseEntryId(course_.course_id(), t));
      counties_.push_back(state->second.facts->county_id);
      kept.push_back(m);
    }
    marked_ = std::move(kept);
    diverged_.reset();
    return absl::OkStatus();
  }

  void CountOutcomes() {
    for (const v1::CompletionResult& r : resp_->results()) {
      switch (r.outcome()) {
        case v1::COMPLETION_OUTCOME_CREDITED:
          resp_->set_credited(resp_->credited() + 1);
          break;
        case v1::COMPLETION_OUTCOME_ALREADY_CREDITED:
          resp_->set_already_credited(resp_->already_credited() + 1);
          break;
        default:
          resp_->set_rejected(resp_->rejected() + 1);
          break;
      }
    }
  }

  struct FastChunk {
    CountyChunk chunk;
    bool refused = false;  // set by its write: the scripts write it after all
  };

  TrainingStore& store_;
  const Clock& clock_;
  EventMaker& events_;
  PolicyUse& policy_;
  Totals& totals_;
  const CallContext& call_;
  const v1::RecordCompletionsRequest& req_;
  v1::RecordCompletionsResponse* resp_;
  const absl::CivilDay today_;

  // What ReadCourse and ReadTeachers found.
  v1::Course course_;
  HalfHours course_hours_ = 0;
  absl::CivilDay start_, end_;
  std::string mark_;   // the ledger mark of a credit of this course
  std::string guess_;  // the one county the course is open to, if so
  std::unique_ptr<redis::Pool::Session> watch_;
  std::unordered_map<std::string, TeacherState> states_;
  std::map<std::string, LoadedPolicy> policies_;

  // The good rows (indexes into req_.rows()) and, per good row, its teacher, first entry id and
  // county; the answer as validated.
  std::vector<size_t> good_;
  std::vector<std::string> teachers_, entry_ids_, counties_;
  std::string first_answer_;

  // Step 1's answer (AwaitMarks).
  std::optional<Marks> marked_;
  bool marks_fresh_ = false;
  std::optional<TrainingStore::CompletionMarks> diverged_;

  // Step 2's fast path and what waits for it; the teachers to recount after.
  std::optional<LedgerTransaction> transaction_;
  std::deque<FastChunk> fast_chunks_;
  std::vector<std::pair<std::string, CountyChunk>> deferred_;
  std::map<std::string, std::vector<std::string>> recount_;  // county -> teachers

  // Last: destroyed (and so awaited) first.
  std::future<absl::StatusOr<TrainingStore::CompletionMarks>> marking_;
  std::future<absl::StatusOr<Stale>> writing_;
};

}  // namespace

absl::Status Completions::Record(const CallContext& call, const v1::RecordCompletionsRequest& req,
                                 v1::RecordCompletionsResponse* resp) {
  CompletionBatch batch(store_, clock_, events_, policy_, totals_, call, req, resp);
  return batch.Run();
}

}  // namespace shidang::training
