#pragma once

// The mentorship service's Redis keys and scripts, and nothing else. Everything of one county
// lives under its hash tag {c:<county>}, so each write is one script on one slot (mutation.h:
// state + events + idempotency record together). The scripts are in scripts/*.lua.
//
// County keys, tag {c:<county>}:
//   mentorship:{c:<c>}:teachers          hash  teacher id -> serialized TeacherCopy (profile
//   events) mentorship:{c:<c>}:schools           hash  school id -> serialized
//   shidang.profile.v1.School mentorship:{c:<c>}:pairings          hash  pairing id -> serialized
//   Pairing mentorship:{c:<c>}:load              hash  mentor id -> their active pairings (both
//   roles and
//                                              urban-rural): what capacity is checked against
//   mentorship:{c:<c>}:slots             hash  "<mentee>|<slot>" -> the active pairing holding it
//                                              (slot: TEACHING, SECOND or URBAN_RURAL)
//   mentorship:{c:<c>}:teacher:<id>      set   pairing ids the teacher is mentee or mentor of
//   mentorship:{c:<c>}:activities:<pid>  hash  activity id -> serialized Activity
//   mentorship:{c:<c>}:evaluations       hash  "<pairing>|<term>" -> its TERM_EVALUATION's id
//   mentorship:{c:<c>}:events            stream the growth file's events (service.h)
//   mentorship:{c:<c>}:writes            string the county's writes counter: every change to
//                                              teachers, schools or pairings bumps it in the same
//                                              script and records what it changed in :changes
//   mentorship:{c:<c>}:changes           zset   "<version>:<kind>:<id>" by version, the last
//                                              county_delta::kLogBound changes (kinds: k*Kind),
//                                              so ReadCounty patches its copy
//                                              (services/common/county_delta.h)
// Routing index outside any state slot (a plain idempotent HSET, written before the copy):
//   mentorship:teacher-county            hash  teacher id -> county id
// Pairing ids embed their county ("MP<county>-<hex>"), activity ids too ("MA<county>-<hex>").

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/message.h"
#include "services/common/county_delta.h"
#include "services/common/mutation.h"
#include "services/common/redis.h"
#include "services/mentorship/rules.h"
#include "shidang/common/v1/event.pb.h"
#include "shidang/mentorship/v1/mentorship.pb.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::mentorship {

inline constexpr char kServiceName[] = "mentorship";

// Who writes, and the request whose request_id makes the write idempotent (nullptr: none).
struct WriteContext {
  std::string actor;
  std::string method;
  const google::protobuf::Message* request = nullptr;
};

// A county's teachers and schools, parsed: the part of its copy a pairing leaves alone. The
// teachers still in the county are held as the rules' facts (convert.h ToTeacherFacts), decoded
// once when the copy is built rather than on every listing, in the order the listings walk them;
// one who moved to another county is left out (the listings name nobody who left).
struct CountyPeople {
  std::vector<TeacherFacts> teachers;                 // by school, then id
  std::vector<std::string> names;                     // teachers[i]'s name
  absl::flat_hash_map<std::string, size_t> position;  // teacher id -> index in teachers
  std::map<std::string, profile::v1::School> schools;

  // The teacher's index in teachers, or nullopt when the county does not hold them.
  std::optional<size_t> Find(absl::string_view teacher_id) const;
};

// Everything a county listing reads. Each part is shared with the copies before and after it
// that the writes between them left alone: a pairing created costs the pairings part only.
struct CountyData {
  std::shared_ptr<const CountyPeople> people;
  std::shared_ptr<const std::vector<v1::Pairing>> pairings;  // in no particular order
};

// A pairing to create, with the capacity its mentor is checked against inside the script.
struct NewPairing {
  v1::Pairing pairing;
  int capacity = 0;
  common::v1::Event mentee_event;
  common::v1::Event mentor_event;
};

class MentorshipStore {
 public:
  explicit MentorshipStore(redis::Pool& pool);

  // ---- key names (one place for all of them)
  static std::string CountyTag(absl::string_view county_id);
  static std::string TeachersKey(absl::string_view county_id);
  static std::string SchoolsKey(absl::string_view county_id);
  static std::string PairingsKey(absl::string_view county_id);
  static std::string LoadKey(absl::string_view county_id);
  static std::string SlotsKey(absl::string_view county_id);
  static std::string TeacherPairingsKey(absl::string_view county_id, absl::string_view teacher_id);
  static std::string ActivitiesKey(absl::string_view county_id, absl::string_view pairing_id);
  static std::string EvaluationsKey(absl::string_view county_id);
  static std::string StreamKey(absl::string_view county_id);
  static std::string WritesKey(absl::string_view county_id);
  static std::string ChangesKey(absl::string_view county_id);
  static std::string TeacherCountyKey();
  // The kinds the change log names the county's hashes by, and the keys of its copy.
  static constexpr char kTeacherKind[] = "t";
  static constexpr char kSchoolKind[] = "s";
  static constexpr char kPairingKind[] = "p";
  static county_delta::CountyKeys CountyKeysOf(absl::string_view county_id);
  // The mentee's slot a pairing holds while active: "<mentee>|TEACHING" / "|SECOND" /
  // "|URBAN_RURAL".
  static std::string SlotOf(const v1::Pairing& pairing);
  // The load hash's field a pairing counts in: the mentor id, or "<mentor>|URBAN_RURAL".
  static std::string LoadFieldOf(const v1::Pairing& pairing);

  // "MP<county>-<hex>" / "MA<county>-<hex>" -> county; INVALID_ARGUMENT naming `field` otherwise.
  static absl::StatusOr<std::string> CountyOfPairingId(absl::string_view id,
                                                       absl::string_view field);

  // ---- the copy of the profile service's facts (plain idempotent writes)
  absl::Status PutSchool(const profile::v1::School& school);
  absl::Status PutTeacher(const v1::TeacherCopy& teacher);
  absl::StatusOr<std::optional<v1::TeacherCopy>> GetTeacher(absl::string_view county_id,
                                                            absl::string_view teacher_id);
  absl::StatusOr<std::optional<profile::v1::School>> GetSchool(absl::string_view county_id,
                                                               absl::string_view school_id);
  absl::Status SetTeacherCounty(absl::string_view teacher_id, absl::string_view county_id);
  // NOT_FOUND when the teacher is unknown here.
  absl::StatusOr<std::string> TeacherCounty(absl::string_view teacher_id);

  // Teachers, schools and every pairing of a county, parsed, shared and read-only. The parsed
  // copies of the last few counties read are kept (county_delta::Cache) and reused while the
  // county's writes counter is unchanged: a county's listings then cost one small round trip
  // instead of reading and parsing every teacher; after a write only what it changed is read
  // (the change log). Every change to those keys bumps the counter and records itself before it
  // is acknowledged, so a read after an acknowledged write never gets the copies from before it.
  absl::StatusOr<std::shared_ptr<const CountyData>> ReadCounty(absl::string_view county_id);

  // The answer a write with this request id already got (STYLE: a retry is answered with the
  // first answer before any state is checked), or nullopt when there is none (no request id, a
  // first attempt, an expired record); INVALID_ARGUMENT naming request_id when the id was used for
  // a different request, also before any state check (the kit's StoredAnswer). The kit's
  // AnswerStore (replay.h) answers most retries before the use case runs, but not two: a process
  // that died after the write's script and before its answer was stored, and the rows of a
  // CreatePairings call that failed part way (its answer is never stored); there the rules, which
  // run before the script, would refuse what the first attempt made
  // (tests/mentorship/service_test.cc ARetryWhoseStoredAnswerWasLostGetsTheFirstAnswer).
  absl::StatusOr<std::optional<std::string>> FirstAnswer(absl::string_view county_id,
                                                         const WriteContext& write);

  // ---- pairings
  // NOT_FOUND naming the id when absent.
  absl::StatusOr<v1::Pairing> GetPairing(absl::string_view county_id, absl::string_view pairing_id);
  // The pairings a teacher is mentee or mentor of.
  absl::StatusOr<std::vector<v1::Pairing>> TeacherPairings(absl::string_view county_id,
                                                           absl::string_view teacher_id);
  // create_pairing.lua: the pairing, unless the mentee's slot is taken (FAILED_PRECONDITION,
  // violation rule ROLE_TAKEN on "role") or the mentor's load is at capacity (FAILED_PRECONDITION,
  // rule CAPACITY on "mentor_id"). Both checks run inside the script, so concurrent requests
  // cannot pass them together.
  absl::StatusOr<v1::Pairing> CreatePairing(NewPairing create, const WriteContext& write);
  // end_pairing.lua: replaces `read` with `ended` (ABORTED if it changed meanwhile), freeing the
  // mentor's place and the mentee's slot.
  absl::StatusOr<v1::Pairing> EndPairing(const v1::Pairing& read, const v1::Pairing& ended,
                                         std::vector<common::v1::Event> events,
                                         const WriteContext& write);

  // ---- activities
  absl::StatusOr<std::vector<v1::Activity>> Activities(absl::string_view county_id,
                                                       absl::string_view pairing_id);
  // log_activity.lua: the activity, unless a TERM_EVALUATION of its term exists already
  // (ALREADY_EXISTS). `event` (if any) is published with it.
  absl::StatusOr<v1::Activity> LogActivity(absl::string_view county_id,
                                           const v1::Activity& activity,
                                           std::optional<common::v1::Event> event,
                                           const WriteContext& write);

 private:
  absl::StatusOr<MutationResult> Run(const Mutation& script, absl::string_view county_id,
                                     MutationRequest m, const WriteContext& write);
  redis::Pool& pool_;
  county_delta::Cache<CountyData> counties_;
};

}  // namespace shidang::mentorship
