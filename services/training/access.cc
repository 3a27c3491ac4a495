#include "services/training/access.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "services/common/principal.h"
#include "services/common/status.h"
#include "services/training/shared.h"

namespace shidang::training::access {
namespace {

using common::v1::Role;

absl::string_view ActionText(TeacherAction action) {
  switch (action) {
    case TeacherAction::kRead:
      return "read the training records of teacher ";
    case TeacherAction::kEnroll:
      return "enrol or withdraw teacher ";
    case TeacherAction::kLog:
      return "log training for teacher ";
    case TeacherAction::kCorrect:
      return "correct the ledger of teacher ";
  }
  return "act on teacher ";
}

absl::Status DeniedTeacher(const Principal& p, TeacherAction action, absl::string_view id) {
  return Denied(p, absl::StrCat(ActionText(action), id));
}

// Whether the role may be allowed `action` on some teacher (the rest needs the teacher's data).
bool RoleMayEver(Role role, TeacherAction action) {
  switch (action) {
    case TeacherAction::kRead:
      return role == common::v1::ROLE_SCHOOL_ADMIN || IsHr(role);
    case TeacherAction::kEnroll:
      return role == common::v1::ROLE_SCHOOL_ADMIN;
    case TeacherAction::kLog:
      return false;
    case TeacherAction::kCorrect:
      return IsHr(role);
  }
  return false;
}

}  // namespace

absl::Status PrecheckTeacher(const Principal& p, TeacherAction action,
                             absl::string_view teacher_id) {
  if (teacher_id.empty()) return InvalidField("teacher_id", "required", "required");
  if (IsTrusted(p.role())) return absl::OkStatus();
  if (p.role() == common::v1::ROLE_TEACHER && action != TeacherAction::kCorrect) {
    if (p.subject() == teacher_id) return absl::OkStatus();
    return DeniedTeacher(p, action, teacher_id);
  }
  if (!RoleMayEver(p.role(), action)) return DeniedTeacher(p, action, teacher_id);
  if (p.role() == common::v1::ROLE_SCHOOL_ADMIN && p.school_id().empty()) {
    return DeniedTeacher(p, action, teacher_id);
  }
  return absl::OkStatus();
}

absl::Status CheckTeacher(const Principal& p, TeacherAction action, absl::string_view teacher_id,
                          const absl::Status& found, const TeacherFactsRecord* facts) {
  if (!found.ok() && !absl::IsNotFound(found)) return found;
  const bool exists = found.ok() && facts != nullptr;
  // Those the principal alone let through: the teacher themself, the trusted.
  if (IsTrusted(p.role()) || p.role() == common::v1::ROLE_TEACHER) {
    return exists ? absl::OkStatus() : TeacherNotFound(teacher_id);
  }
  if (p.role() == common::v1::ROLE_SCHOOL_ADMIN) {
    if (exists && facts->school_id == p.school_id()) return absl::OkStatus();
    return DeniedTeacher(p, action, teacher_id);
  }
  // HR that could not see a teacher of another county cannot tell one from no teacher (AIP-211).
  if (exists && HrCovers(p, facts->county_id)) return absl::OkStatus();
  return DeniedTeacher(p, action, teacher_id);
}

absl::Status PrecheckCourseRead(const Principal& p, absl::string_view course_id) {
  if (p.role() != common::v1::ROLE_TRAINING_CENTER) return absl::OkStatus();
  return PrecheckCourseOwner(p, course_id);
}

absl::Status PrecheckCourseOwner(const Principal& p, absl::string_view course_id) {
  if (IsTrusted(p.role())) return absl::OkStatus();
  SHIDANG_ASSIGN_OR_RETURN(std::string provider, TrainingStore::ProviderOfCourse(course_id));
  if (p.role() == common::v1::ROLE_TRAINING_CENTER && !p.provider_id().empty() &&
      p.provider_id() == provider) {
    return absl::OkStatus();
  }
  return Denied(p, absl::StrCat("act on course ", course_id, " of provider ", provider));
}

absl::Status RequireCourseOwner(const Principal& p, const v1::Course& course) {
  if (IsTrusted(p.role())) return absl::OkStatus();
  if (p.role() == common::v1::ROLE_TRAINING_CENTER && !p.provider_id().empty() &&
      p.provider_id() == course.provider_id()) {
    return absl::OkStatus();
  }
  return Denied(
      p, absl::StrCat("act on course ", course.course_id(), " of provider ", course.provider_id()));
}

absl::Status RequireReview(const Principal& p, absl::string_view county_id) {
  if (IsTrusted(p.role()) || HrCovers(p, county_id)) return absl::OkStatus();
  return Denied(p, absl::StrCat("review training records of county ", county_id));
}

absl::Status RequireReport(const Principal& p, absl::string_view region,
                           absl::string_view school_id) {
  if (p.role() == common::v1::ROLE_SCHOOL_ADMIN) {
    if (p.school_id().empty() || school_id != p.school_id()) {
      return Denied(p, "report on a school other than their own (set school_id to it)");
    }
    return absl::OkStatus();
  }
  if (IsTrusted(p.role()) || HrCovers(p, region)) return absl::OkStatus();
  return Denied(p, absl::StrCat("report on region ", region));
}

absl::Status RequirePolicyWrite(const Principal& p, common::v1::PolicyLevel level,
                                absl::string_view region) {
  if (scope::CoversPolicy(p, level, region)) return absl::OkStatus();
  return Denied(
      p, absl::StrCat("set the training policy of ", region.empty() ? "the nation" : region));
}

}  // namespace shidang::training::access
