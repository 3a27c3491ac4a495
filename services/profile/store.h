#pragma once

// The profile service's Redis keys and scripts, and nothing else. Every key of a county's places
// and teachers carries the county's hash tag {c:<county>}, so each write is one script on one slot
// (mutation.h: state + events + idempotency record together):
//
//   profile:{c:<county>}:county              string  serialized County
//   profile:{c:<county>}:school:<school_id>  string  serialized School
//   profile:{c:<county>}:schools             zset    school ids (score 0, listed in id order)
//   profile:{c:<county>}:school-name:<name>  string  school id (names are unique in a county)
//   profile:{c:<county>}:school-code:<code>  string  school id (the roster's 学校代码)
//   profile:{c:<county>}:t:<teacher_id>      hash    p = serialized Teacher (no ID-card number,
//                                                    no derived fields), idc = sealed ID-card
//                                                    number, v = version (the etag)
//   profile:{c:<county>}:tl:<teacher_id>     list    serialized TimelineEntry, append-only
//   profile:{c:<county>}:teachers            zset    teacher ids (score 0, paged by id)
//   profile:{c:<county>}:ix:school:<id>      zset    teacher ids at a school
//   profile:{c:<county>}:idc:<blind index>   string  teacher id (duplicate ID-card numbers)
//   profile:{c:<county>}:ntid:<national id>  string  teacher id (roster re-imports match on it)
//   profile:{c:<county>}:sum:<teacher_id>    hash    <source>/<kind> -> ServiceSummary
//   profile:{c:<county>}:events              stream  this county's profile events
//   profile:{c:<county>}:idem:...            idempotency records (mutation.h)
//
// Routing indexes outside any county's slot (written before the state they point to, by plain
// idempotent commands, so a crash in between leaves only a pointer to nothing — NOT_FOUND):
//   profile:{t:<teacher_id>}:home  string  county id (ids in routes carry no county)
//   profile:counties               set     county ids (listing a city's or province's counties)
// and the national claim on an ID-card number (id_card_owners.h: claimed before the county's
// script, released if it refuses):
//   profile:{idc:<blind index>}:owner  hash  t = teacher id, at = when claimed (Unix ms)
//   profile:idc-owners-backfilled      string  set once every teacher on file has its claim

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "services/common/mutation.h"
#include "services/common/redis.h"
#include "shidang/common/v1/event.pb.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::profile {

inline constexpr char kServiceName[] = "profile";

// Who writes, and the request whose request_id makes the write idempotent.
struct WriteContext {
  std::string actor;   // role:subject
  std::string method;  // e.g. "CreateTeacher"
  const google::protobuf::Message* request = nullptr;
};

// A teacher as stored: the profile fields, the sealed ID-card number and the version.
struct StoredTeacher {
  v1::Teacher teacher;  // without id_card_number and derived fields
  std::string sealed_id_card;
  int64_t version = 0;                      // the etag
  std::vector<v1::TimelineEntry> timeline;  // in recorded order
  std::vector<v1::ServiceSummary> summaries;
};

// One teacher's part of a write (a single RPC writes one; a roster import writes thousands in the
// same script, all or nothing).
// One national ID-card claim to make, probe or release (id_card_owners.h).
struct IdCardOwnerClaim {
  std::string blind_index;
  std::string teacher_id;
  // When claiming: the holder this claim may replace ("" none), a claim found stale.
  std::string replaces;
};

// What the owner record of a number says to a claim.
struct IdCardOwnerReply {
  enum class Outcome {
    kFree,     // nobody holds it (a probe)
    kClaimed,  // this claim now holds it (a claim)
    kHeld,     // the claim's own teacher holds it
    kTaken,    // another teacher holds it
  } outcome = Outcome::kFree;
  std::string holder;  // with kTaken
  absl::Duration age;  // with kTaken: how long ago it was claimed
};

struct TeacherWrite {
  std::string teacher_id;
  enum class Expect { kAbsent, kPresent, kVersion } expect = Expect::kPresent;
  int64_t expected_version = 0;  // with kVersion: ABORTED when the stored version differs
  // Replaces the stored profile when set.
  std::optional<v1::Teacher> teacher;
  // Replaces the sealed ID-card number when non-empty.
  std::string sealed_id_card;
  // Appended to the timeline (sequence numbers are given in the script).
  std::vector<v1::TimelineEntry> entries;
  // Uniqueness claims: the key must be absent or already hold this teacher's id. `field` names the
  // request field in the ALREADY_EXISTS message.
  struct Claim {
    std::string key;
    std::string field;
  };
  std::vector<Claim> claims;
  // Index changes.
  std::vector<std::string> add_to_sets;       // zsets this teacher joins
  std::vector<std::string> remove_from_sets;  // zsets this teacher leaves
  std::vector<std::string> release_claims;    // claim keys to delete (they held this teacher)
};

class ProfileStore {
 public:
  explicit ProfileStore(redis::Pool& pool);

  // ---- key names (one place for all of them)
  static std::string Tag(absl::string_view county_id);
  static std::string CountyKey(absl::string_view county_id);
  static std::string SchoolKey(absl::string_view county_id, absl::string_view school_id);
  static std::string SchoolsKey(absl::string_view county_id);
  static std::string SchoolNameKey(absl::string_view county_id, absl::string_view name);
  static std::string SchoolCodeKey(absl::string_view county_id, absl::string_view code);
  static std::string TeacherKey(absl::string_view county_id, absl::string_view teacher_id);
  static std::string TimelineKey(absl::string_view county_id, absl::string_view teacher_id);
  static std::string TeachersKey(absl::string_view county_id);
  static std::string SchoolIndexKey(absl::string_view county_id, absl::string_view school_id);
  static std::string IdCardIndexKey(absl::string_view county_id, absl::string_view blind_index);
  static std::string NationalIdKey(absl::string_view county_id, absl::string_view national_id);
  static std::string SummariesKey(absl::string_view county_id, absl::string_view teacher_id);
  static std::string HomeKey(absl::string_view teacher_id);
  static std::string IdCardOwnerKey(absl::string_view blind_index);
  static std::string IdCardOwnersBackfilledKey();
  static std::string CountiesKey();
  static std::string StreamKey(absl::string_view county_id);

  // ---- places
  // ALREADY_EXISTS when the county exists (a retry with the same request_id answers OK again).
  absl::StatusOr<v1::County> CreateCounty(const v1::County& county, const WriteContext& write,
                                          std::vector<common::v1::Event> events);
  absl::StatusOr<v1::County> GetCounty(absl::string_view county_id);
  // Every county under a region code (a county's own code gives itself when it exists).
  absl::StatusOr<std::vector<std::string>> CountiesUnder(absl::string_view region);

  // Creates schools (one, or a roster's worth), all or nothing: FAILED_PRECONDITION when the county
  // does not exist, ALREADY_EXISTS when a name or code is taken. Returns the payload of the write
  // (the first answer on a replay) and whether it was a replay.
  absl::StatusOr<MutationResult> CreateSchools(absl::string_view county_id,
                                               const std::vector<v1::School>& schools,
                                               const WriteContext& write,
                                               std::vector<common::v1::Event> events,
                                               absl::string_view payload);
  absl::StatusOr<v1::School> GetSchool(absl::string_view school_id);
  absl::StatusOr<std::vector<v1::School>> ListSchools(absl::string_view county_id);

  // ---- teachers
  // The county a teacher's file lives in, or NOT_FOUND naming the id.
  absl::StatusOr<std::string> HomeCounty(absl::string_view teacher_id);
  absl::Status SetHomeCounty(absl::string_view teacher_id, absl::string_view county_id);
  // Sets it only where the teacher has none yet: true when this call set it (so that a write
  // refused afterwards can take it back with ForgetNewHomeCounty), false when one was there.
  absl::StatusOr<bool> SetNewHomeCounty(absl::string_view teacher_id, absl::string_view county_id);
  // Removes the index entry SetNewHomeCounty made, if it still names `county_id`.
  absl::Status ForgetNewHomeCounty(absl::string_view teacher_id, absl::string_view county_id);
  absl::StatusOr<StoredTeacher> GetTeacher(absl::string_view county_id,
                                           absl::string_view teacher_id);
  // Several teachers of one county in one round trip (missing ones are skipped).
  absl::StatusOr<std::vector<StoredTeacher>> GetTeachers(absl::string_view county_id,
                                                         const std::vector<std::string>& ids);
  // Teacher ids of a county (or of one school in it) after `after`, in id order, at most `limit`.
  absl::StatusOr<std::vector<std::string>> TeacherIds(absl::string_view county_id,
                                                      absl::string_view school_id,
                                                      absl::string_view after, int limit);
  // Which of these claim keys are held, and by whom ("" when free), in one round trip.
  absl::StatusOr<std::vector<std::string>> ClaimHolders(const std::vector<std::string>& keys);

  // Writes teachers of one county in one script, all or nothing. Errors: FAILED_PRECONDITION when
  // the county is gone; NOT_FOUND / ALREADY_EXISTS by `expect`; ABORTED on a stale version;
  // ALREADY_EXISTS naming the field of a claim another teacher holds. The payload is returned as
  // the answer (the first answer on a replay). `before_script`, when set, runs once the
  // arguments are built and before the script is sent; its error is the write's, and nothing is
  // written then (an import awaits its routing indexes there, written meanwhile).
  absl::StatusOr<MutationResult> WriteTeachers(
      absl::string_view county_id, const std::vector<TeacherWrite>& writes,
      const WriteContext& write, std::vector<common::v1::Event> events, absl::string_view payload,
      const std::function<absl::Status()>& before_script = nullptr);

  // WriteTeachers for new teachers only (every write kAbsent with a teacher, nothing to remove or
  // release), in a script laid out for thousands of them; WriteTeachers takes this path by itself.
  absl::StatusOr<MutationResult> CreateTeachers(
      absl::string_view county_id, const std::vector<TeacherWrite>& writes,
      const WriteContext& write, std::vector<common::v1::Event> events, absl::string_view payload,
      const std::function<absl::Status()>& before_script = nullptr);

  // ---- national ID-card claims (one key each, under its own hash tag; pipelined)
  // Claims each number for its teacher (claim_id_card_owner.lua).
  absl::StatusOr<std::vector<IdCardOwnerReply>> ClaimIdCardOwners(
      const std::vector<IdCardOwnerClaim>& claims);
  // What each number's owner record says to the claim, without writing (kFree, kHeld, kTaken).
  absl::StatusOr<std::vector<IdCardOwnerReply>> ProbeIdCardOwners(
      const std::vector<IdCardOwnerClaim>& claims);
  // Deletes each claim that still names its teacher (release_id_card_owner.lua).
  absl::Status ReleaseIdCardOwners(const std::vector<IdCardOwnerClaim>& claims);
  // Each teacher's sealed ID-card number in the file of their home county ("" when the teacher
  // has no home, no file there, or no number), in two round trips.
  absl::StatusOr<std::vector<std::string>> SealedIdCardsAtHome(
      const std::vector<std::string>& teacher_ids);

  // Files a summary another service published (keeps the newest by as_of_ms), idempotently per
  // event id.
  absl::Status PutSummary(absl::string_view county_id, absl::string_view teacher_id,
                          const v1::ServiceSummary& summary, const WriteContext& write);

 private:
  redis::Pool& pool_;
};

}  // namespace shidang::profile
