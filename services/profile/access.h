#pragma once

// Who may see and change what in the profile service (DOMAIN's roles; each HR role scoped to its
// region and what lies under it). All of the service's scope checks live here, so that a shared
// scope check can take their place in one move.
//
// A caller should not learn whether an object they may not see exists. So what the principal
// alone decides is decided before any lookup (a teacher asking for anyone's file but their own, a
// role that never touches teachers' files, HR asking for a school outside its region: a school's
// id carries its county), and where the object itself is needed (the school of a teacher a school
// admin asks for), a missing object gets the forbidden answer, same status and same message. The
// one exception is HR asking for a teacher by id: a teacher's id does not carry the county, and a
// missing teacher answers HR NOT_FOUND (tests pin it), so HR can still tell an unknown id from a
// teacher of another county.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/common/scope.h"
#include "shidang/common/v1/principal.pb.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::profile {

// The kit's one scope check (services/common/scope.h) decides role and region questions.
using scope::Denied;
using scope::IsHr;
using scope::IsTrusted;

// Changing a county's records (its schools, new teachers, imports): HR of a region covering the
// county, an admin, or our own services.
absl::Status RequireCountyWrite(const common::v1::Principal& p, absl::string_view county_id);

// Creating a county: province HR of its province, an admin, or our own services.
absl::Status RequireCountyCreate(const common::v1::Principal& p, absl::string_view county_id);

// What a caller asks to do with one teacher's file.
enum class TeacherAccess {
  kRead,    // the teacher, the timeline, the growth file: also the teacher and their school admin
  kRecord,  // add timeline entries: also the school admin of the teacher's school
  kChange,  // update, move, transfer: HR of the teacher's county, an admin, our services
};

// Step one, before the teacher is looked up: PERMISSION_DENIED when the principal alone rules the
// call out, with the message RequireTeacherAccess would give.
absl::Status PrecheckTeacherAccess(const common::v1::Principal& p, absl::string_view teacher_id,
                                   TeacherAccess access);

// Step two, with the teacher's file: the checks that need its county or school.
absl::Status RequireTeacherAccess(const common::v1::Principal& p, const v1::Teacher& t,
                                  TeacherAccess access);

// The answer when no teacher has the id, past step one (AIP-211): whoever could not see the teacher
// wherever they were, which is everyone but admins, our services and the teacher themself, gets
// the forbidden answer (same status and message as for a teacher out of their scope), so that HR
// cannot learn which ids exist in other counties; the others get `not_found`.
absl::Status MissingTeacherAnswer(const common::v1::Principal& p, absl::string_view teacher_id,
                                  TeacherAccess access, absl::Status not_found);

// The teacher themself and HR of their region see the unmasked ID-card number.
bool MaySeeIdCard(const common::v1::Principal& p, const v1::Teacher& t);

// Reading the audit trail of a county's unmasked ID-card reads (id_card_reads.h), decided from
// the principal alone: an admin, or HR whose region covers the county; nobody else (not our own
// services either: no service reads it).
absl::Status RequireIdCardAudit(const common::v1::Principal& p, absl::string_view county_id);

// The answer when the county RequireIdCardAudit let through does not exist (AIP-211): HR gets the
// forbidden answer it would get for a county outside its region; an admin gets `not_found`.
absl::Status MissingCountyAnswer(const common::v1::Principal& p, absl::string_view county_id,
                                 absl::Status not_found);

// Reading a school, decided before the school is read (its id carries its county): HR of a region
// covering that county, the school's admin, a teacher of the school (`callers_school_id`: the
// school of the calling teacher's own file, "" when there is none), an admin, our services.
absl::Status RequireSchoolRead(const common::v1::Principal& p, absl::string_view school_id,
                               absl::string_view callers_school_id);

// Listing a region's schools: HR of a region covering it (or it covering theirs), an admin, our
// services; a school admin, who sees their own county's schools (ListSchools filters).
absl::Status RequireSchoolsList(const common::v1::Principal& p, absl::string_view region);

// Listing a region's teachers: HR whose region covers it or lies under it, an admin, our
// services; a school admin for their own school only (`school_id` "" or theirs).
absl::Status RequireTeachersList(const common::v1::Principal& p, absl::string_view region,
                                 absl::string_view school_id);

// Whether a listing by `p` shows the teachers or schools of `county_id` (HR sees its region only).
bool ListingShowsCounty(const common::v1::Principal& p, absl::string_view county_id);

// The county a school id carries ("S<county>-..."); "" when the id is not of that shape.
std::string CountyOfSchoolId(absl::string_view school_id);

}  // namespace shidang::profile
