#pragma once

// Finding a teacher's file for a caller, and the teacher as that caller may see it.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "services/common/clock.h"
#include "services/common/server.h"
#include "services/profile/access.h"
#include "services/profile/id_card_reads.h"
#include "services/profile/service_deps.h"
#include "services/profile/store.h"

namespace shidang::profile {

// `as_of` as a day ("" is today on the service's clock); INVALID_ARGUMENT naming "as_of".
absl::StatusOr<absl::CivilDay> AsOf(const Clock& clock, absl::string_view as_of);

// The teacher's file from their home county; NOT_FOUND "teacher <id> not found" when no
// teacher has the id, INVALID_ARGUMENT when it is empty. No scope check: for the service's own
// use (filing events) and for callers that checked scope before.
absl::StatusOr<StoredTeacher> Locate(ProfileStore& store, absl::string_view teacher_id);

// Locate for a caller: decides what the principal alone can decide before the lookup, then
// checks the file's county or school (access.h); a missing teacher gets MissingTeacherAnswer.
absl::StatusOr<StoredTeacher> LocateFor(ProfileStore& store, const CallContext& call,
                                        absl::string_view teacher_id, TeacherAccess access);

// The teacher as a caller sees it on `as_of`: derived values, retirement date, etag and the
// ID-card number masked unless the caller may see it. Each unmasked read is recorded in the
// audit trail (id_card_reads.h) before this returns, or, with `deferred_reads`, added there for
// the caller to record with the rest of its answer's (a listing's page in one round trip).
absl::StatusOr<v1::Teacher> TeacherView(ServiceDeps& deps, const StoredTeacher& stored,
                                        absl::CivilDay as_of, const CallContext& call,
                                        std::vector<IdCardReadOf>* deferred_reads = nullptr);

}  // namespace shidang::profile
