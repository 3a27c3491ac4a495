#pragma once

// What every use case of the mentorship service shares: its dependencies, the caller's scope
// checks (over the kit's services/common/scope.h) and small request helpers.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "services/common/clock.h"
#include "services/common/policy.h"
#include "services/common/redis.h"
#include "services/common/scope.h"
#include "services/mentorship/store.h"
#include "shidang/common/v1/paging.pb.h"
#include "shidang/common/v1/principal.pb.h"
#include "shidang/mentorship/v1/mentorship.pb.h"

namespace shidang::mentorship {

using scope::Denied;

struct Deps {
  redis::Pool& pool;
  MentorshipStore& store;
  policy::PolicyStore& policies;
  const Clock& clock;
};

// ---- scope (issue 16 "Scope")

// Trusted, or HR whose region covers the county.
bool CoversCounty(const common::v1::Principal& p, absl::string_view county_id);
// The pairing's mentee or mentor, the admin of either's school, HR of its county, trusted.
bool MayReadPairing(const common::v1::Principal& p, const v1::Pairing& pairing);
// Who may create or end a pairing: HR of its county any kind and role; a school admin a TEACHING
// mentor of a mentee at their school. `what` names the act in the refusal.
absl::Status RequireManage(const common::v1::Principal& p, absl::string_view county_id,
                           v1::PairingKind kind, v1::PairingRole role,
                           absl::string_view mentee_school_id, absl::string_view what);
// County listings: HR of it (or above), trusted; a school admin only naming their own school.
absl::Status RequireCountyRead(const common::v1::Principal& p, absl::string_view county_id,
                               absl::string_view school_id, absl::string_view what);

// ---- request helpers

// A county's 6-digit GB/T 2260 code (not ending in 00); INVALID_ARGUMENT naming `field`.
absl::Status CheckCountyId(absl::string_view county_id, absl::string_view field = "county_id");
// Today when `text` is empty, else the date (INVALID_ARGUMENT naming `field`).
absl::StatusOr<absl::CivilDay> DayOrToday(const Clock& clock, absl::string_view text,
                                          absl::string_view field);
// Page size (0: `default_size`; over `max_size` INVALID_ARGUMENT) and the offset a token holds.
absl::StatusOr<int> PageSize(const common::v1::PageRequest& page, int default_size, int max_size);
absl::StatusOr<size_t> PageOffset(const common::v1::PageRequest& page);
// Fills `info` for the items [offset, offset + size) of `total`.
void FillPage(size_t offset, int size, size_t total, common::v1::PageInfo* info);
// A fresh id "<prefix><county>-<16 hex>" from the request id when given (a retry gets the same
// id), else random.
std::string MakeId(absl::string_view prefix, absl::string_view county_id, absl::string_view actor,
                   absl::string_view method, absl::string_view request_id);

// The county of a teacher known here and their copy; NOT_FOUND naming `field` otherwise.
struct LocatedTeacher {
  std::string county_id;
  v1::TeacherCopy teacher;
};
absl::StatusOr<LocatedTeacher> LocateTeacher(Deps& deps, absl::string_view teacher_id,
                                             absl::string_view field);

}  // namespace shidang::mentorship
