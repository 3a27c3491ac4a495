#pragma once

// The rotation service's Redis keys and scripts, and nothing else. Everything of one county lives
// under its hash tag {c:<county>}, so each write is one script on one slot (mutation.h: state +
// event + idempotency record together). The scripts are in services/rotation/scripts/*.lua.
//
// County keys, tag {c:<county>}:
//   rotation:{c:<c>}:teachers   hash    teacher id -> serialized TeacherCopy (from profile events)
//   rotation:{c:<c>}:schools    hash    school id -> serialized shidang.profile.v1.School
//   rotation:{c:<c>}:rot        hash    rotation id -> serialized Rotation
//   rotation:{c:<c>}:state      hash    rotation id -> RotationState name; "<id>:hr" / "<id>:rc"
//                                       -> "1" once county HR / the receiving school approved
//   rotation:{c:<c>}:active     hash    teacher id -> their rotation last created (active while
//                                       its state is PROPOSED, APPROVED or STARTED)
//   rotation:{c:<c>}:deferrals  hash    deferral id -> serialized Deferral
//   rotation:{c:<c>}:events     stream  rotation events (the growth file; see service.h)
//   rotation:{c:<c>}:writes     string  the county's writes counter: every write of teachers,
//                                       schools, deferrals or rotations bumps it in the same
//                                       script and records what it changed in :changes
//   rotation:{c:<c>}:changes    zset    "<version>:<kind>:<id>" by version, the last
//                                       county_delta::kLogBound changes (kinds: k*Kind below), so
//                                       a reader patches its copy (county_cache.h,
//                                       services/common/county_delta.h)
// Routing index outside any state slot (a plain idempotent HSET, written before the state):
//   rotation:teacher-county     hash    teacher id -> county id (teacher ids carry no county)
// Rotation ids embed their county ("RT<county>-<hex>"), deferral ids too ("DF<county>-<hex>").

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/message.h"
#include "services/common/county_delta.h"
#include "services/common/mutation.h"
#include "services/common/redis.h"
#include "shidang/common/v1/event.pb.h"
#include "shidang/profile/v1/profile.pb.h"
#include "shidang/rotation/v1/rotation.pb.h"

namespace shidang::rotation {

inline constexpr char kServiceName[] = "rotation";

// Who writes, and the request whose request_id makes the write idempotent (nullptr: none).
struct WriteContext {
  std::string actor;
  std::string method;
  const google::protobuf::Message* request = nullptr;
};

// A rotation as stored, with what the transition script compares.
struct StoredRotation {
  v1::Rotation rotation;
  std::string state;    // RotationState name in the state hash
  std::string hr_flag;  // "1" or ""
  std::string rc_flag;  // "1" or ""
};

// One state change of a rotation the caller read first, as transition_rotation.lua takes it (a
// start: it moves the teacher in the profile service before the write).
struct TransitionWrite {
  std::string county_id;
  const StoredRotation* read = nullptr;  // what the caller read
  std::vector<v1::RotationState> allowed_from;
  v1::RotationState target = v1::ROTATION_STATE_UNSPECIFIED;  // named in the error message
  v1::Rotation updated;  // the new rotation (its state is the new state)
  std::string flag;      // "", "hr" or "rc"
  common::v1::Event event;
};

// One party's approval of a rotation, as approve_rotation.lua takes it: decided and written in one
// script, with no read before it (the script appends `completes` or `waits` to the stored
// rotation).
struct ApprovalWrite {
  std::string county_id;
  std::string rotation_id;
  std::string approver;   // "hr", "school" or "none" (approve_rotation.lua A[2])
  std::string school_id;  // the school admin's school, for "school"
  // What the approval adds to the rotation (state, flag, history entry) when it completes it, and
  // when it still waits for the other party.
  v1::Rotation completes;
  v1::Rotation waits;
  // "rotation.approved" and "rotation.confirmed", without teacher_id and payload (the script adds
  // them from the stored rotation).
  common::v1::Event approved_event;
  common::v1::Event confirmed_event;
};

// A rejection, cancellation or completion, as change_rotation.lua takes it: decided and written
// in one script, with no read before it (the script appends to the stored rotation what
// `adds` holds for the state it is in).
struct ChangeWrite {
  std::string county_id;
  std::string rotation_id;
  bool covers_county = false;  // the caller acts on every rotation of the county
  std::string school_id;       // the caller's school when a school admin, "" otherwise
  std::string school_may;      // "receiving", "sending" or "" (change_rotation.lua A[4])
  v1::RotationState target = v1::ROTATION_STATE_UNSPECIFIED;
  std::string not_before_start;  // a day the stored started_on may not be after ("" none)
  // Per state the change may leave: what it adds to a rotation in that state.
  std::vector<std::pair<v1::RotationState, v1::Rotation>> adds;
  // Without teacher_id and payload (the script adds them from the stored rotation).
  common::v1::Event event;
};

class RotationStore {
 public:
  explicit RotationStore(redis::Pool& pool);

  // ---- key names (one place for all of them)
  static std::string CountyTag(absl::string_view county_id);
  static std::string TeachersKey(absl::string_view county_id);
  static std::string SchoolsKey(absl::string_view county_id);
  static std::string RotationsKey(absl::string_view county_id);
  static std::string StatesKey(absl::string_view county_id);
  static std::string ActiveKey(absl::string_view county_id);
  static std::string DeferralsKey(absl::string_view county_id);
  static std::string StreamKey(absl::string_view county_id);
  static std::string WritesKey(absl::string_view county_id);
  static std::string ChangesKey(absl::string_view county_id);
  static std::string TeacherCountyKey();
  // The kinds the change log names the county's hashes by, and the keys of its copy.
  static constexpr char kTeacherKind[] = "t";
  static constexpr char kSchoolKind[] = "s";
  static constexpr char kDeferralKind[] = "d";
  static constexpr char kRotationKind[] = "r";
  static county_delta::CountyKeys CountyKeysOf(absl::string_view county_id);

  // "RT<county>-<hex>" / "DF<county>-<hex>" -> county; INVALID_ARGUMENT naming `field` otherwise.
  static absl::StatusOr<std::string> CountyOfRotationId(absl::string_view id,
                                                        absl::string_view field);
  static absl::StatusOr<std::string> CountyOfDeferralId(absl::string_view id,
                                                        absl::string_view field);

  // ---- the copy of the profile service's facts (plain idempotent writes)
  absl::Status PutSchool(const profile::v1::School& school);
  absl::Status PutTeacher(const v1::TeacherCopy& teacher);
  // Drops the county's copy of the teacher (a transfer into it taken back).
  absl::Status DeleteTeacher(absl::string_view county_id, absl::string_view teacher_id);
  absl::StatusOr<std::optional<v1::TeacherCopy>> GetTeacher(absl::string_view county_id,
                                                            absl::string_view teacher_id);
  absl::StatusOr<std::optional<profile::v1::School>> GetSchool(absl::string_view county_id,
                                                               absl::string_view school_id);
  absl::Status SetTeacherCounty(absl::string_view teacher_id, absl::string_view county_id);
  // NOT_FOUND when the teacher is unknown here.
  absl::StatusOr<std::string> TeacherCounty(absl::string_view teacher_id);

  // ---- rotations
  // NOT_FOUND naming the id when absent.
  absl::StatusOr<StoredRotation> GetRotation(absl::string_view county_id,
                                             absl::string_view rotation_id);
  // create_rotation.lua: the rotation (state PROPOSED) unless its teacher has an active one.
  absl::StatusOr<v1::Rotation> CreateRotation(const v1::Rotation& rotation, common::v1::Event event,
                                              const WriteContext& write);
  // The rotation a CreateRotation in `county_id` answered `write`'s request with (what a retry
  // with its request_id gets), read before any check of the state, which may have changed since
  // (the teacher moved); nullopt when there is none (or the request has no request_id).
  // INVALID_ARGUMENT naming request_id when it answered a different request.
  absl::StatusOr<std::optional<v1::Rotation>> CreatedBefore(absl::string_view county_id,
                                                            const WriteContext& write);
  // transition_rotation.lua.
  absl::StatusOr<v1::Rotation> Transition(const TransitionWrite& change, const WriteContext& write);
  // approve_rotation.lua: the replay of a retried request id, the checks, the write and the event
  // in one round trip. PERMISSION_DENIED (with no words of its own) when the approver may not.
  absl::StatusOr<v1::Rotation> Approve(const ApprovalWrite& approval, const WriteContext& write);
  // change_rotation.lua: like Approve, for a rejection, cancellation or completion.
  // PERMISSION_DENIED (with no words of its own) when the caller may not; OUT_OF_RANGE, its
  // message the stored started_on, when not_before_start is before it.
  absl::StatusOr<v1::Rotation> Change(const ChangeWrite& change, const WriteContext& write);
  // The rotation a write of `write`'s method in `county_id` answered its request with (the kit's
  // idempotency record), nullopt when none; INVALID_ARGUMENT naming request_id when it answered a
  // different request.
  absl::StatusOr<std::optional<v1::Rotation>> AnsweredBefore(absl::string_view county_id,
                                                             const WriteContext& write);

  // ---- deferrals
  absl::StatusOr<v1::Deferral> GetDeferral(absl::string_view county_id,
                                           absl::string_view deferral_id);
  // put_deferral.lua: creates `deferral` when `read` is null, else replaces `read`.
  absl::StatusOr<v1::Deferral> PutDeferral(const v1::Deferral& deferral, const v1::Deferral* read,
                                           common::v1::Event event, const WriteContext& write);

 private:
  // Registers the county's stream for consumers (once per county per process), then runs the
  // mutation with the write's idempotency attached.
  absl::StatusOr<MutationResult> Run(const Mutation& script, absl::string_view county_id,
                                     MutationRequest m, const WriteContext& write);
  redis::Pool& pool_;
  // The counties whose stream this process registered (a round trip saved on every later write).
  absl::Mutex registered_mu_;
  std::set<std::string> registered_ ABSL_GUARDED_BY(registered_mu_);
};

}  // namespace shidang::rotation
