#pragma once

// What a principal may reach: the one scope check every service asks, over plain values (no gRPC,
// no Redis), so a service's edge and its rules use the same answers.
//
//   - admin and our own services (ROLE_SERVICE) reach everything;
//   - HR (county_hr, city_hr, province_hr) reach what lies in their region, by GB/T 2260 codes: a
//     province code (XX0000) covers every code starting with its 2 digits, a city code (XXYY00)
//     every code starting with its 4, a county code only itself (DESIGN "Ids");
//   - a school admin reaches their school and its teachers;
//   - a teacher reaches themself;
//   - a training centre reaches its own provider's courses.
//
// A service answers a refusal with Denied(principal, what). To keep a caller from learning whether
// an object they may not see exists, it asks what the principal alone decides (e.g.
// TeacherBeforeLookup) before it reads the object, and answers the same refusal either way.
//
//   if (TeacherBeforeLookup(p, req.teacher_id()) == Reach::kDenied) return Denied(p, what);
//   SHIDANG_ASSIGN_OR_RETURN(Teacher t, store.Get(req.teacher_id()));
//   if (!CoversTeacher(p, {t.teacher_id(), t.school_id(), t.county_id()})) return Denied(p, what);

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "shidang/common/v1/policy.pb.h"
#include "shidang/common/v1/principal.pb.h"

namespace shidang {

// "role:subject", e.g. "county_hr:alice": how logs and records name who did something.
std::string ActorOf(const common::v1::Principal& principal);

// "teacher", "school_admin", "county_hr", "city_hr", "province_hr", "training_center", "admin",
// "service"; "unspecified" for ROLE_UNSPECIFIED.
std::string RoleName(common::v1::Role role);

// The inverse of RoleName; INVALID_ARGUMENT for anything else (including "unspecified").
absl::StatusOr<common::v1::Role> RoleFromName(absl::string_view name);

// True when `region` (a 6-digit GB/T 2260 code) covers the code `county_id` (a county's, or a
// city's or province's lying under `region`): a province ("110000") covers every code starting
// with its 2 digits, a city ("110100") every code starting with its 4, anything else only itself.
// False when either is not 6 digits or the region is "00xxxx".
bool RegionCovers(absl::string_view region, absl::string_view county_id);

namespace scope {

// county_hr, city_hr or province_hr.
bool IsHr(common::v1::Role role);

// admin, or one of our own services: reaches everything.
bool IsTrusted(common::v1::Role role);

// An HR principal whose region covers `region` (a county's, city's or province's code).
bool HrCovers(const common::v1::Principal& principal, absl::string_view region);

// Trusted, or HR covering `region`: may act on everything in that county, city or province.
bool CoversRegion(const common::v1::Principal& principal, absl::string_view region);

// Trusted, HR covering `county_id`, or the admin of `school_id`.
bool CoversSchool(const common::v1::Principal& principal, absl::string_view school_id,
                  absl::string_view county_id);

// Where a teacher is: what a scope check needs of their record.
struct TeacherPlace {
  absl::string_view teacher_id;
  absl::string_view school_id;
  absl::string_view county_id;
};

// CoversSchool of the teacher's school, or the teacher themself.
bool CoversTeacher(const common::v1::Principal& principal, const TeacherPlace& teacher);

// Trusted, or the training centre of `provider_id`.
bool CoversProvider(const common::v1::Principal& principal, absl::string_view provider_id);

// May set a policy version at `level` for `region` (NATIONAL: region ""): trusted for every
// level; province HR for its province and what lies in it; city HR for its city and its counties;
// county HR for its own county only. No HR sets the national level.
bool CoversPolicy(const common::v1::Principal& principal, common::v1::PolicyLevel level,
                  absl::string_view region);

// What the principal alone decides, before a record is read.
enum class Reach {
  kAllowed,      // whatever the record says
  kDenied,       // whatever the record says: answer Denied without reading it
  kNeedsRecord,  // depends on where the record is: read it, then ask Covers*
};

// For a teacher's own data (CoversTeacher): a teacher reaches only their own id; a training
// centre no teacher; trusted roles every teacher; school admins and HR need the teacher's place.
// Never kAllowed where CoversTeacher would refuse, nor kDenied where it would allow.
Reach TeacherBeforeLookup(const common::v1::Principal& principal, absl::string_view teacher_id);

// PERMISSION_DENIED "<role> <subject> may not <what>", e.g.
//   Denied(p, "read the file of teacher t-1") -> "teacher t-2 may not read the file of teacher t-1"
absl::Status Denied(const common::v1::Principal& principal, absl::string_view what);

}  // namespace scope
}  // namespace shidang
