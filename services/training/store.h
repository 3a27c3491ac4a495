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
//                                                most once per course)
//   training:{p:<p>}:events              stream  course events
// County keys, tag {c:<county>}:
//   training:{c:<c>}:t:<teacher_id>      hash    the local copy of the teacher (from profile
//                                                events): name, school, hire, anchor, status
//                                                (PostStatus number), left (date), head, v
//   training:{c:<c>}:teachers            zset    teacher ids of the county (score 0)
//   training:{c:<c>}:fv                  hash    teacher id -> facts version (t's v)
//   training:{c:<c>}:ledger:<teacher_id> list    serialized LedgerEntry, append-only
//   training:{c:<c>}:lens                hash    teacher id -> ledger length
//   training:{c:<c>}:marks:<teacher_id>  hash    what was already applied to the ledger:
//                                                "c:<course_id>" (course credit, step 2),
//                                                "r:<record_id>" (approved record),
//                                                "x:<entry_id>" (reversed entry) -> entry id
//   training:{c:<c>}:recs:<teacher_id>   hash    record id -> serialized TrainingRecord
//   training:{c:<c>}:rs:<teacher_id>     hash    record id -> TrainingRecordState number
//   training:{c:<c>}:cr:<teacher_id>     hash    course id -> record id awaiting confirmation
//   training:{c:<c>}:rec-teacher         hash    record id -> teacher id
//   training:{c:<c>}:sums                hash    teacher id -> serialized TrainingSummary as of
//                                                the day it was computed (the report's input)
//   training:{c:<c>}:summeta             hash    teacher id -> SummaryMeta (what it was made
//                                                from: ledger length, policy and facts version)
//   training:{c:<c>}:events              stream  teachers' training events (growth file)
// Routing indexes outside any state slot (plain idempotent commands, written before the state
// they point to):
//   training:{t:<teacher_id>}:home       string  county id (teacher ids carry no county)
//   training:providers                   set     provider ids (ListCourses over all providers)
//   training:counties                    set     county ids with teachers (regional reports)
// Course ids embed their provider ("C<12 hex>-<provider>"), record ids their county
// ("R<county>-<12 hex>").

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
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
  std::string cycle_anchor;   // empty: the hire date
  int post_status = 0;        // shidang.profile.v1.PostStatus
  std::string left_on;        // the day a RETIRED / LEFT status took effect
  bool head_teacher = false;
  int64_t version = 0;
};

// Everything of one teacher's training state in a county.
struct TeacherState {
  std::optional<TeacherFactsRecord> facts;
  std::vector<v1::LedgerEntry> ledger;      // in append order
  std::vector<v1::TrainingRecord> records;  // any order
};

// One teacher's summary as cached for the report.
struct SummaryMeta {
  int64_t ledger_length = 0;
  std::string policy_stamp;
  int64_t facts_version = 0;
  // From the facts it was made with: the report filters and names rows without reading facts.
  std::string school_id;
  std::string name;
  std::string Encode() const;
  static SummaryMeta Decode(absl::string_view text);
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
  // Index in the events passed with the call of the event published when applied; -1 none.
  int event_index = -1;
};

struct SummaryWrite {
  std::string teacher_id;
  v1::TrainingSummary summary;
  SummaryMeta meta;
  int event_index = -1;
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
  static std::string FactsKey(absl::string_view county_id, absl::string_view teacher_id);
  static std::string TeachersKey(absl::string_view county_id);
  static std::string FactsVersionsKey(absl::string_view county_id);
  static std::string LedgerKey(absl::string_view county_id, absl::string_view teacher_id);
  static std::string LengthsKey(absl::string_view county_id);
  static std::string MarksKey(absl::string_view county_id, absl::string_view teacher_id);
  static std::string RecordsKey(absl::string_view county_id, absl::string_view teacher_id);
  static std::string RecordStatesKey(absl::string_view county_id, absl::string_view teacher_id);
  static std::string CourseRecordsKey(absl::string_view county_id, absl::string_view teacher_id);
  static std::string RecordTeacherKey(absl::string_view county_id);
  static std::string SummariesKey(absl::string_view county_id);
  static std::string SummaryMetaKey(absl::string_view county_id);
  static std::string HomeKey(absl::string_view teacher_id);
  static std::string ProvidersKey();
  static std::string CountiesKey();
  static std::string ProviderStreamKey(absl::string_view provider_id);
  static std::string CountyStreamKey(absl::string_view county_id);

  // "C<hex>-<provider>" -> provider; INVALID_ARGUMENT naming `field` for anything else.
  static absl::StatusOr<std::string> ProviderOfCourse(absl::string_view course_id,
                                                      absl::string_view field = "course_id");
  // "R<county>-<hex>" -> county; INVALID_ARGUMENT naming `field` for anything else.
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
  // enrolled teacher gets their enrollment back unchanged. Returns the enrollment and the seats left.
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

  // Step 1 of a completion, on the provider's slot: marks each (course, teacher) credited with
  // `marks[i]` ("<entry_id>|<county>") unless already marked. Returns, per row, "" when this call
  // marked it, or the mark stored before. Replays return the first answer.
  absl::StatusOr<std::vector<std::string>> MarkCompleted(absl::string_view course_id,
                                                         const std::vector<std::string>& teachers,
                                                         const std::vector<std::string>& marks,
                                                         const WriteContext& write);
  // The stored marks of these teachers for the course ("" when none), one round trip.
  absl::StatusOr<std::vector<std::string>> CompletionMarks(absl::string_view course_id,
                                                           const std::vector<std::string>& teachers);

  // ---- teachers
  absl::StatusOr<std::string> HomeCounty(absl::string_view teacher_id);
  // The home counties of many teachers ("" when unknown), one round trip.
  absl::StatusOr<std::vector<std::string>> HomeCounties(const std::vector<std::string>& ids);
  absl::Status SetHomeCounty(absl::string_view teacher_id, absl::string_view county_id);
  // Writes the local copy (version bumped), idempotently per request; `leave` drops the teacher
  // from the county's list (a transfer out).
  absl::Status PutFacts(const TeacherFactsRecord& facts, bool leave, const WriteContext& write);
  // The state of several teachers of one county, one round trip (a missing teacher has no facts).
  absl::StatusOr<std::vector<TeacherState>> GetTeachers(absl::string_view county_id,
                                                        const std::vector<std::string>& ids);
  absl::StatusOr<std::vector<std::string>> TeacherIds(absl::string_view county_id);
  absl::StatusOr<std::vector<std::string>> Counties();

  // Appends ledger entries of one county in one script. Each append whose mark is new is applied;
  // returns per append whether it was (false: the mark existed, nothing written).
  absl::StatusOr<std::vector<bool>> AppendLedger(absl::string_view county_id,
                                                 const std::vector<LedgerAppend>& appends,
                                                 const WriteContext& write,
                                                 std::vector<common::v1::Event> events);
  // Stores a new record. For a course record: ALREADY_EXISTS when one awaits confirmation,
  // FAILED_PRECONDITION when the course is already credited.
  absl::StatusOr<v1::TrainingRecord> AddRecord(const v1::TrainingRecord& record,
                                               const WriteContext& write,
                                               std::vector<common::v1::Event> events);
  // Replaces a record when its state is `from_state` (FAILED_PRECONDITION otherwise).
  absl::Status UpdateRecord(const v1::TrainingRecord& record, int from_state,
                            const WriteContext& write, std::vector<common::v1::Event> events);
  absl::StatusOr<std::string> TeacherOfRecord(absl::string_view record_id);

  // Stores summaries computed from a ledger of `meta.ledger_length` entries unless a newer one
  // (a longer ledger) is stored; the summary event goes out with each stored one.
  absl::Status PutSummaries(absl::string_view county_id, const std::vector<SummaryWrite>& writes,
                            std::vector<common::v1::Event> events);
  struct CachedSummaries {
    std::vector<std::string> teacher_ids;
    std::vector<std::optional<v1::TrainingSummary>> summaries;
    std::vector<SummaryMeta> metas;
    std::vector<int64_t> ledger_lengths;
    std::vector<int64_t> facts_versions;
  };
  // Every teacher of the county with what the report needs: cached summaries and the current
  // ledger lengths and facts versions (a handful of reads, not one per ledger entry).
  absl::StatusOr<CachedSummaries> ReadSummaries(absl::string_view county_id);

 private:
  redis::Pool& pool_;
};

}  // namespace shidang::training
