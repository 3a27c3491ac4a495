#pragma once

// The training service's Redis keys and scripts, and nothing else. Courses live under their
// provider's hash tag, teachers' ledgers, records and summaries under their county's, so every
// write is one script on one slot (mutation.h: state + events + idempotency record together).
//
// Provider (training centre) keys, tag {p:<provider>}:
//   training:{p:<p>}:course:<course_id>  hash    p = serialized Course (enrolled not kept
//                                                inside), n = seats taken, cap = capacity,
//                                                st = CourseState number
//   training:{p:<p>}:courses             zset    course ids (score 0, listed in id order)
//   training:{p:<p>}:enr:<course_id>     hash    teacher id -> serialized Enrollment
//   training:{p:<p>}:enrst:<course_id>   hash    teacher id -> EnrollmentState number
//   training:{p:<p>}:done:<course_id>    hash    teacher id -> "<entry_id>|<county>" (credited:
//                                                step 1 of a completion; a teacher is credited at
//                                                most once per course until a reversal releases it)
//   training:{p:<p>}:gen:<course_id>     hash    teacher id -> credits of the course reversed so
//                                                far (a re-credit gets a new entry id)
//   training:{p:<p>}:events              stream  course events
// County keys, tag {c:<county>}:
//   training:{c:<c>}:t:<teacher_id>      hash    everything small about one teacher, so the write
//                                                path reads one key per teacher:
//                                                - the local copy of the profile facts (from
//                                                  profile events): name, school, hire, anchor,
//                                                  status (PostStatus number), left (date), head, v
//                                                - the running totals, kept by the script that
//                                                  appends to the ledger: tally (EncodeTally),
//                                                  row (the report's EncodeReportRow), ps (the
//                                                  policy stamp both were counted under); absent
//                                                  when they need a recount
//                                                - what was applied to the ledger, once each:
//                                                  "c:<course_id>" (course credit, step 2),
//                                                  "r:<record_id>" (approved record),
//                                                  "x:<entry_id>" (reversed entry) -> entry id
//                                                - "w:<course_id>" -> record id awaiting the
//                                                  centre's confirmation
//   training:{c:<c>}:teachers            zset    teacher ids of the county (score 0)
//   training:{c:<c>}:ledger:<teacher_id> list    serialized LedgerEntry, append-only
//   training:{c:<c>}:recs:<teacher_id>   hash    record id -> serialized TrainingRecord
//   training:{c:<c>}:rs:<teacher_id>     hash    record id -> TrainingRecordState number
//   training:{c:<c>}:rec-teacher         hash    record id -> teacher id
//   training:{c:<c>}:events              stream  teachers' training events (growth file)
//   training:{c:<c>}:pending             zset    record ids of self-reports awaiting HR's
//                                                review, by submission ms: kept by the scripts
//                                                that add and settle records
//   training:{c:<c>}:pending-built       string  "1" once the county's records written before
//                                                the index existed are in it (first read)
// Routing indexes outside any state slot (plain idempotent commands, written before the state
// they point to):
//   training:{t:<teacher_id>}:home       string  county id (teacher ids carry no county)
//   training:providers                   set     provider ids (ListCourses over all providers)
//   training:counties                    set     county ids with teachers (regional reports)
// Course ids embed their provider ("C<12 hex>-<provider>"), record ids their county
// ("R<county>-<12 hex>").

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/message.h"
#include "services/common/mutation.h"
#include "services/common/redis.h"
#include "shidang/common/v1/event.pb.h"
#include "shidang/training/v1/training.pb.h"

namespace shidang::training {

inline constexpr char kServiceName[] = "training";

// Who writes, and the request whose request_id makes the write idempotent (nullptr: none).
struct WriteContext {
  std::string actor;
  std::string method;
  const google::protobuf::Message* request = nullptr;
};

struct StoredCourse {
  v1::Course course;  // enrolled filled from the seat counter
  v1::CourseState state = v1::COURSE_STATE_UNSPECIFIED;
};

// The local copy of a teacher's profile facts the rules need.
struct TeacherFactsRecord {
  std::string teacher_id;
  std::string county_id;
  std::string name;
  std::string school_id;
  std::string hire_date;
  std::string cycle_anchor;  // empty: the hire date
  int post_status = 0;       // shidang.profile.v1.PostStatus
  std::string left_on;       // the day a RETIRED / LEFT status took effect
  bool head_teacher = false;
  int64_t version = 0;
};

// Everything of one teacher's training state in a county.
struct TeacherState {
  std::optional<TeacherFactsRecord> facts;
  // The running totals and the policy stamp they were counted under ("" when none).
  std::string tally;
  std::string policy_stamp;
  // The record awaiting confirmation for the course asked about (ReadHeads), if any.
  std::string waiting_record_id;
  std::vector<v1::LedgerEntry> ledger;      // in append order
  std::vector<v1::TrainingRecord> records;  // any order
};

// One append to a teacher's ledger, applied at most once per `mark` (see marks:<teacher_id>).
struct LedgerAppend {
  std::string teacher_id;
  std::string mark;
  v1::LedgerEntry entry;
  // A record this append settles: when its state is `record_from_state` it becomes
  // `record_bytes` with state `record_to_state`. `strict`: otherwise FAILED_PRECONDITION (a
  // review); not strict: the record is left alone (a completion closing a pending LogTraining).
  std::string record_id;
  int record_from_state = 0;
  int record_to_state = 0;
  std::string record_bytes;
  bool strict = false;
  // The course whose awaiting-confirmation pointer (cr:<teacher_id>) to drop.
  std::string close_course_id;
  // The entry serialized, when the caller has the bytes already (an event's payload); empty:
  // AppendLedger serializes `entry`.
  std::string entry_bytes;
  // Index in the events passed with the call of the event published when applied; -1 none.
  int event_index = -1;
  // The running totals after this append, stored only when the ledger had `expected_length`
  // entries before it (otherwise they are dropped and the teacher needs a recount); -1: drop.
  int64_t expected_length = -1;
  std::string tally;
  std::string row;
  std::string policy_stamp;
  // The teacher's summary after this append, encoded as the field Event.teacher_summary: merged
  // into the event at `event_index` when the totals are stored ("" none).
  std::string summary_attachment;
  // A reversal of a course credit: the "c:<course>" mark to release, so the centre can credit a
  // corrected completion.
  std::string release_mark;
};

enum class AppendOutcome {
  kAlreadyApplied,  // the mark existed (or the entry was reversed): nothing written
  kApplied,         // appended, running totals stored
  kAppliedStale,    // appended, running totals dropped: recount the teacher
};

// Running totals recounted from a ledger of `ledger_length` entries.
struct TallyWrite {
  std::string teacher_id;
  int64_t ledger_length = 0;
  std::string tally;
  std::string row;
  std::string policy_stamp;
  int event_index = -1;
};

// A self-report awaiting review in a county's index, with whom it is from.
struct PendingEntry {
  std::string record_id;
  int64_t submitted_ms = 0;
  std::string teacher_id;
  std::string name;       // "" when the local copy has none
  std::string school_id;  // "" when the local copy has none
};

// What the report reads of each teacher of a county.
struct ReportInput {
  std::string teacher_id;
  std::string name;
  std::string school_id;
  std::string row;
  std::string policy_stamp;
};

class TrainingStore {
 public:
  explicit TrainingStore(redis::Pool& pool);

  // ---- key names (one place for all of them)
  static std::string ProviderTag(absl::string_view provider_id);
  static std::string CountyTag(absl::string_view county_id);
  static std::string CourseKey(absl::string_view provider_id, absl::string_view course_id);
  static std::string CoursesKey(absl::string_view provider_id);
  static std::string EnrollmentsKey(absl::string_view provider_id, absl::string_view course_id);
  static std::string EnrollmentStatesKey(absl::string_view provider_id,
                                         absl::string_view course_id);
  static std::string DoneKey(absl::string_view provider_id, absl::string_view course_id);
  static std::string GenerationsKey(absl::string_view provider_id, absl::string_view course_id);
  static std::string FactsKey(absl::string_view county_id, absl::string_view teacher_id);
  static std::string TeachersKey(absl::string_view county_id);
  static std::string LedgerKey(absl::string_view county_id, absl::string_view teacher_id);
  static std::string RecordsKey(absl::string_view county_id, absl::string_view teacher_id);
  static std::string RecordStatesKey(absl::string_view county_id, absl::string_view teacher_id);
  static std::string RecordTeacherKey(absl::string_view county_id);
  static std::string PendingKey(absl::string_view county_id);
  static std::string PendingBuiltKey(absl::string_view county_id);
  // A counter every write to a teacher's hash or ledger in the county increments (each script
  // that writes one, and LedgerTransaction): a LedgerTransaction WATCHes this one key, not each
  // teacher's (Redis checks a new watched key against every one the connection watches, so
  // thousands cost seconds of its time).
  static std::string WritesKey(absl::string_view county_id);
  static std::string HomeKey(absl::string_view teacher_id);
  static std::string ProvidersKey();
  static std::string CountiesKey();
  static std::string ProviderStreamKey(absl::string_view provider_id);
  static std::string CountyStreamKey(absl::string_view county_id);

  // "C<hex>-<provider>" -> provider. An empty id is INVALID_ARGUMENT naming `field`; any other
  // malformed id is NOT_FOUND, as an unknown one (no course has it).
  static absl::StatusOr<std::string> ProviderOfCourse(absl::string_view course_id,
                                                      absl::string_view field = "course_id");
  // "R<county>-<hex>" -> county. An empty id is INVALID_ARGUMENT naming `field`; any other
  // malformed id is NOT_FOUND, as an unknown one (no record has it).
  static absl::StatusOr<std::string> CountyOfRecord(absl::string_view record_id,
                                                    absl::string_view field = "record_id");

  // ---- courses
  // ALREADY_EXISTS when the id is taken (a retry with the same request_id answers again).
  absl::StatusOr<v1::Course> CreateCourse(const v1::Course& course, const WriteContext& write,
                                          std::vector<common::v1::Event> events);
  // NOT_FOUND naming the course.
  absl::StatusOr<StoredCourse> GetCourse(absl::string_view course_id);
  // Every course of the providers, in course id order.
  absl::StatusOr<std::vector<StoredCourse>> ListCourses(const std::vector<std::string>& providers);
  absl::StatusOr<std::vector<std::string>> Providers();
  // Replaces the course when its state is one of `from`; FAILED_PRECONDITION otherwise.
  absl::StatusOr<v1::Course> ChangeCourseState(const v1::Course& updated,
                                               const std::vector<v1::CourseState>& from,
                                               const WriteContext& write,
                                               std::vector<common::v1::Event> events);
  // Takes a seat atomically: FAILED_PRECONDITION when the course is not published or full. An
  // enrolled teacher gets their enrollment back unchanged. Returns the enrollment and the seats
  // left.
  absl::StatusOr<std::pair<v1::Enrollment, int>> Enroll(absl::string_view course_id,
                                                        const v1::Enrollment& enrollment,
                                                        const WriteContext& write,
                                                        std::vector<common::v1::Event> events);
  // Gives the seat back: FAILED_PRECONDITION unless the teacher is enrolled.
  absl::StatusOr<v1::Enrollment> Withdraw(absl::string_view course_id,
                                          const v1::Enrollment& withdrawn,
                                          const WriteContext& write,
                                          std::vector<common::v1::Event> events);
  absl::StatusOr<std::optional<v1::Enrollment>> GetEnrollment(absl::string_view course_id,
                                                              absl::string_view teacher_id);

  // Step 1 of a completion, on the provider's slot: marks each (course, teacher) credited unless
  // already marked. `entry_ids[i]` is the credit's id; a teacher whose earlier credit of the
  // course was reversed gets it with the suffix "-<n>". Returns, per row, whether this call marked
  // it and the mark stored ("<entry_id>|<county>"). `first_answer` (opaque here) is kept with
  // the request's answer: a replay returns the first call's marks and first_answer, which may
  // describe other rows than this call's when the rows' validation changed in between (a teacher
  // learned or departed since). An answer stored before first answers were kept has none.
  struct CompletionMarks {
    std::vector<std::pair<bool, std::string>> marks;
    bool replayed = false;
    std::string first_answer;
  };
  absl::StatusOr<CompletionMarks> MarkCompleted(absl::string_view course_id,
                                                const std::vector<std::string>& teachers,
                                                const std::vector<std::string>& entry_ids,
                                                const std::vector<std::string>& counties,
                                                absl::string_view first_answer,
                                                const WriteContext& write);
  // Step 2 of reversing a course credit: releases the teacher's mark of the course when it still
  // names `entry_id`, and counts the reversal (the next credit's id suffix). Idempotent.
  absl::Status ReleaseCompletion(absl::string_view course_id, absl::string_view teacher_id,
                                 absl::string_view entry_id);

  // ---- teachers
  absl::StatusOr<std::string> HomeCounty(absl::string_view teacher_id);
  // The home counties of many teachers ("" when unknown), one round trip.
  absl::StatusOr<std::vector<std::string>> HomeCounties(const std::vector<std::string>& ids);
  absl::Status SetHomeCounty(absl::string_view teacher_id, absl::string_view county_id);
  // Writes the local copy (version bumped), idempotently per request; `leave` drops the teacher
  // from the county's list (a transfer out).
  absl::Status PutFacts(const TeacherFactsRecord& facts, bool leave, const WriteContext& write);
  // The state of several teachers of one county, one round trip (a missing teacher has no facts).
  // Without `with_ledger` the ledger is left empty (facts, totals and records only).
  absl::StatusOr<std::vector<TeacherState>> GetTeachers(absl::string_view county_id,
                                                        const std::vector<std::string>& ids,
                                                        bool with_ledger = true);
  // Facts (but the name and school), running totals and the record awaiting confirmation for
  // `course_id` of many teachers: one small read per teacher, one round trip (what a completion
  // batch needs to validate). With
  // `homes`, each teacher's home county is read in the same round trip ("" when unknown) and only
  // teachers whose home is `county_id` get facts: a caller that can guess the county (a course
  // open to one) saves the round trip of HomeCounties. With `watch`, the reads run on that
  // session after a WATCH of the county's WritesKey, for a LedgerTransaction on it.
  absl::StatusOr<std::vector<TeacherState>> ReadHeads(absl::string_view county_id,
                                                      const std::vector<std::string>& ids,
                                                      absl::string_view course_id,
                                                      std::vector<std::string>* homes = nullptr,
                                                      redis::Pool::Session* watch = nullptr);
  // A connection of the store's pool held for a ReadHeads and LedgerTransaction on it, while
  // at least half the pool stays free for the commands the caller runs meanwhile (UNAVAILABLE
  // at once otherwise: the caller writes by script).
  absl::StatusOr<std::unique_ptr<redis::Pool::Session>> HoldSession() {
    return pool_.Hold(static_cast<size_t>(std::max(1, pool_.config().pool_size / 2)));
  }
  absl::StatusOr<std::vector<std::string>> TeacherIds(absl::string_view county_id);
  absl::StatusOr<std::vector<std::string>> Counties();

  // Appends ledger entries of one county in one script, each with its running totals (see
  // LedgerAppend). An append whose mark exists, or whose entry was reversed, writes nothing.
  absl::StatusOr<std::vector<AppendOutcome>> AppendLedger(absl::string_view county_id,
                                                          const std::vector<LedgerAppend>& appends,
                                                          const WriteContext& write,
                                                          std::vector<common::v1::Event> events);
  // Registers the county's stream for consumers before a write that is not a script adds to it
  // (LedgerTransaction); scripts' writes do it themselves.
  absl::Status PrepareStream(absl::string_view county_id) {
    return EnsureRegistered(CountyStreamKey(county_id));
  }
  // Stores a new record. For a course record: ALREADY_EXISTS when one awaits confirmation,
  // FAILED_PRECONDITION when the course is already credited. A record awaiting review joins the
  // county's pending index at `submitted_ms` (0: the start of its logged_on day).
  absl::StatusOr<v1::TrainingRecord> AddRecord(const v1::TrainingRecord& record,
                                               const WriteContext& write,
                                               std::vector<common::v1::Event> events,
                                               int64_t submitted_ms = 0);
  // Replaces a record when its state is `from_state` (FAILED_PRECONDITION otherwise).
  absl::Status UpdateRecord(const v1::TrainingRecord& record, int from_state,
                            const WriteContext& write, std::vector<common::v1::Event> events);
  absl::StatusOr<std::string> TeacherOfRecord(absl::string_view record_id);

  // Stores recounted running totals of each teacher whose ledger still has `ledger_length`
  // entries (a concurrent append wins: its own totals or its recount come after); the event at
  // `event_index` goes out with each stored one. Returns how many were stored.
  absl::StatusOr<int> PutTallies(absl::string_view county_id, const std::vector<TallyWrite>& writes,
                                 std::vector<common::v1::Event> events);
  // Every teacher of the county with the report's row: two round trips, one small read each.
  absl::StatusOr<std::vector<ReportInput>> ReadReportInputs(absl::string_view county_id);

  // ---- the review queue (pending_store.cc)
  // Every self-report of the county awaiting review, oldest submitted first (then record id),
  // with its teacher's name and school. Builds the index first when the county has none yet.
  absl::StatusOr<std::vector<PendingEntry>> PendingSelfReports(absl::string_view county_id);
  // The records of `entries` (of county `county_id`), in order; one round trip. A record gone
  // meanwhile is an empty message in its place.
  absl::StatusOr<std::vector<v1::TrainingRecord>> PendingRecords(
      absl::string_view county_id, const std::vector<PendingEntry>& entries);
  // The start of a record's logged_on day (UTC) in Unix ms: its submission time in the index
  // when none is known (records written before the index).
  static int64_t LoggedOnMillis(const v1::TrainingRecord& record);
  // The submission ms of each record id in the county's index (0 when it is not there); one
  // round trip.
  absl::StatusOr<std::vector<int64_t>> PendingSubmittedMs(absl::string_view county_id,
                                                          const std::vector<std::string>& ids);
  // Takes the record ids out of the county's index (a transfer carried them to another county's
  // queue). Idempotent: a plain ZREM on the index, which no record then names as awaiting.
  absl::Status DropPending(absl::string_view county_id, const std::vector<std::string>& ids);
  // The county that holds a record now: the one its id names, unless its teacher transferred
  // and the record was carried to the teacher's new county (profile_events.cc).
  absl::StatusOr<std::string> CountyHoldingRecord(absl::string_view record_id);

 private:
  // Registers a stream for consumers, once per stream and process.
  absl::Status EnsureRegistered(const std::string& stream_key);
  // Runs a write script after registering its stream.
  absl::StatusOr<MutationResult> RunWrite(const Mutation& script, const MutationRequest& request);
  // Adds the county's records awaiting review to its pending index (pending_store.cc).
  absl::Status BuildPendingIndex(absl::string_view county_id);

  redis::Pool& pool_;
  absl::Mutex registered_mu_;
  std::set<std::string> registered_streams_ ABSL_GUARDED_BY(registered_mu_);
};

// The fast path of a completion batch (RecordCompletions): credits that need no check a script
// would make, written as plain commands in MULTI ... EXEC transactions on a session that WATCHed
// the county's WritesKey before the teachers' heads were read (ReadHeads with `watch`). Redis
// refuses a transaction when any teacher of the county was written in between, so what the
// heads said still holds when it applies; the caller then writes those appends with
// AppendLedger, whose script checks each. Only for appends the caller alone can be writing:
// marks its own call set just now (not replayed), nothing to settle or release, nothing strict.
//
// Each Write is one transaction, so a batch's chunks are written while the next is prepared.
// After the first, the session WATCHes the counter again and reads it: it must still be what
// the last EXEC's INCR made it (no write since), or the heads may be stale and nothing more is
// written. Per append: RPUSH the entry; HSET the mark with the running totals (or only the mark
// and HDEL the totals when it has none); per Write one stream entry of its events (as a
// script's one_stream_entry adds it), each with its summary attached when it has totals; INCR
// the WritesKey.
class LedgerTransaction {
 public:
  LedgerTransaction(redis::Pool::Session& session, std::string county_id)
      : session_(session), county_id_(std::move(county_id)) {}

  // Writes `appends` and their events in one transaction. nullopt when it was refused (a
  // teacher of the county was written since the heads were read; nothing of it was written,
  // and later calls refuse at once); otherwise per append, in order, kApplied, or
  // kAppliedStale where it had no totals or the ledger's new length shows they were counted
  // from another length (recount the teacher).
  absl::StatusOr<std::optional<std::vector<AppendOutcome>>> Write(
      const std::vector<LedgerAppend>& appends, const std::vector<common::v1::Event>& events);

 private:
  redis::Pool::Session& session_;
  const std::string county_id_;
  bool refused_ = false;
  // The counter after this session's last EXEC ("" before the first: the read's WATCH holds).
  std::string writes_after_last_;
};

}  // namespace shidang::training
