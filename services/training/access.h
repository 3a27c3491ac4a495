#pragma once

// Who may do what in the training service, in one small file so a common scope check can take
// its place. Each check comes in two halves, so that a caller learns as little as possible about
// objects they may not see:
//  - the half the principal alone decides (a teacher acts only for themself, a centre only on its
//    own provider's course ids, a role that may never do it), run before any lookup:
//    PERMISSION_DENIED whether or not the object exists;
//  - the half that needs the object's data. A school admin gets PERMISSION_DENIED for a teacher
//    of another school and for a missing one alike. HR still gets NOT_FOUND for a missing teacher
//    and PERMISSION_DENIED for one of another region: tests the issue keeps unchanged pin both
//    (tests/common/metrics_test: county HR, unknown id, NOT_FOUND; tests/training/service_test
//    ACentreActsOnly...: HR of another county, existing teacher, PERMISSION_DENIED), so making
//    them alike needs one of those assertions changed (see the report of issue #13's split).

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/common/scope.h"
#include "services/training/store.h"
#include "shidang/common/v1/policy.pb.h"
#include "shidang/common/v1/principal.pb.h"
#include "shidang/training/v1/training.pb.h"

namespace shidang::training::access {

using common::v1::Principal;

// The kit's one scope check (services/common/scope.h) decides role and region questions.
using scope::Denied;
using scope::HrCovers;
using scope::IsHr;
using scope::IsTrusted;

// What a caller does with a teacher's training data.
enum class TeacherAction {
  kRead,     // records, ledger, summary: the teacher, their school admin, HR of their region
  kEnroll,   // enrol or withdraw: the teacher, their school admin
  kLog,      // log their own training: the teacher
  kCorrect,  // reverse a ledger entry: HR of their region
};

// The principal-only half: INVALID_ARGUMENT for an empty id; PERMISSION_DENIED when no teacher
// with this id could be allowed.
absl::Status PrecheckTeacher(const Principal& p, TeacherAction action,
                             absl::string_view teacher_id);

// The data half, after PrecheckTeacher. `found` is the lookup's result (NOT_FOUND for an
// unknown teacher); other errors are returned as they are. An unknown teacher is NOT_FOUND only
// for those who would reach any teacher of that id (the trusted, the teacher themself); HR and
// school admins get the same PERMISSION_DENIED as for a teacher out of their scope (AIP-211).
absl::Status CheckTeacher(const Principal& p, TeacherAction action, absl::string_view teacher_id,
                          const absl::Status& found, const TeacherFactsRecord* facts);

// Courses: a training centre acts only on its own provider's courses, and reads only those;
// every other role reads the whole catalogue. The principal-only half decides from the id
// ("C<hex>-<provider>") before any lookup; a malformed id is NOT_FOUND for everyone.
absl::Status PrecheckCourseRead(const Principal& p, absl::string_view course_id);
absl::Status PrecheckCourseOwner(const Principal& p, absl::string_view course_id);
// The owner check on a course read (RegisterCourse: the course about to be made).
absl::Status RequireCourseOwner(const Principal& p, const v1::Course& course);

// Principal-only checks of the rest.
// Reviewing a record of the county (its id names the county): HR of its region.
absl::Status RequireReview(const Principal& p, absl::string_view county_id);
// A compliance report on a region (or one school, for its school admin).
absl::Status RequireReport(const Principal& p, absl::string_view region,
                           absl::string_view school_id);
// Setting a policy version at `level` for `region`: HR at or above it (county HR their county's
// only; nobody but the trusted the national one).
absl::Status RequirePolicyWrite(const Principal& p, common::v1::PolicyLevel level,
                                absl::string_view region);

}  // namespace shidang::training::access
