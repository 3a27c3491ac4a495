#pragma once

// What every use case of the rotation service shares: its dependencies, the caller's scope
// checks and small request helpers. (The integrator swaps the scope checks for the kit's common
// one.)

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "services/common/clock.h"
#include "services/common/policy.h"
#include "services/common/redis.h"
#include "services/common/scope.h"
#include "services/rotation/county_cache.h"
#include "services/rotation/store.h"
#include "shidang/common/v1/paging.pb.h"
#include "shidang/common/v1/principal.pb.h"

namespace shidang::rotation {

// The kit's one scope check (services/common/scope.h) decides role and region questions.
using scope::Denied;
using scope::IsHr;
using scope::IsTrusted;

// Moves a teacher to another school of their county in the profile service (a rotation that
// moves the personnel relation, when it starts). Idempotent per request id.
using ProfileMover =
    std::function<absl::Status(const std::string& teacher_id, const std::string& to_school_id,
                               absl::CivilDay moved_on, const std::string& request_id)>;

struct Deps {
  redis::Pool& pool;
  RotationStore& store;
  // Every read of a whole county goes through it.
  CountyCache& counties;
  policy::PolicyStore& policies;
  const Clock& clock;
  // Empty: the service runs without the profile service, and a rotation that moves the personnel
  // relation cannot start.
  ProfileMover move_teacher;
};

// ---- scope (DESIGN "The principal"; issue 15 "Scope")

// HR whose region covers the county (or is it), or trusted.
bool CoversCounty(const common::v1::Principal& p, absl::string_view county_id);
// Reads of a county: HR of it (or above), trusted; a school admin only with `school_id` their own
// school. Training centres and teachers see no county listings.
absl::Status RequireCountyRead(const common::v1::Principal& p, absl::string_view county_id,
                               absl::string_view school_id);

// ---- request helpers

// A county's 6-digit GB/T 2260 code (not ending in 00); INVALID_ARGUMENT naming `field`.
absl::Status CheckCountyId(absl::string_view county_id, absl::string_view field = "county_id");

// The answer when no teacher has `teacher_id` (AIP-211): NOT_FOUND for those who would see any
// teacher (the trusted, the teacher themself), else Denied(p, what): the same refusal as for a
// teacher out of the caller's scope, so that nobody learns which ids exist elsewhere.
absl::Status UnknownTeacher(const common::v1::Principal& p, absl::string_view teacher_id,
                            absl::string_view what);
// Today when `text` is empty, else the date (INVALID_ARGUMENT naming `field`).
absl::StatusOr<absl::CivilDay> DayOrToday(const Clock& clock, absl::string_view text,
                                          absl::string_view field);
// Page size (0: `default_size`; over `max_size` INVALID_ARGUMENT) and the offset a token holds.
absl::StatusOr<int> PageSize(const common::v1::PageRequest& page, int default_size, int max_size);
absl::StatusOr<size_t> PageOffset(const common::v1::PageRequest& page);
// A fresh id "<prefix><county>-<16 hex>" from the request id when given (a retry gets the same
// id), else random.
std::string MakeId(absl::string_view prefix, absl::string_view county_id, absl::string_view actor,
                   absl::string_view method, absl::string_view request_id);

}  // namespace shidang::rotation
