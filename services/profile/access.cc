#include "services/profile/access.h"

#include "absl/strings/str_cat.h"
#include "services/common/principal.h"

namespace shidang::profile {
namespace {

using common::v1::Principal;

// What Denied names for each kind of access to a teacher's file: the same words whether the
// teacher exists or not, and nothing about where they are.
std::string WhatOn(TeacherAccess access, absl::string_view teacher_id) {
  switch (access) {
    case TeacherAccess::kRead:
      return absl::StrCat("read the file of teacher ", teacher_id);
    case TeacherAccess::kRecord:
      return absl::StrCat("record entries in the file of teacher ", teacher_id);
    case TeacherAccess::kChange:
      return absl::StrCat("change the file of teacher ", teacher_id);
  }
  return absl::StrCat("use the file of teacher ", teacher_id);
}

bool IsSchoolAdminOf(const Principal& p, absl::string_view school_id) {
  return p.role() == common::v1::ROLE_SCHOOL_ADMIN && !p.school_id().empty() &&
         p.school_id() == school_id;
}

}  // namespace

absl::Status RequireCountyWrite(const Principal& p, absl::string_view county_id) {
  if (IsTrusted(p.role())) return absl::OkStatus();
  if (IsHr(p.role()) && RegionCovers(p.region(), county_id)) return absl::OkStatus();
  return Denied(p, absl::StrCat("change records of county ", county_id));
}

absl::Status RequireCountyCreate(const Principal& p, absl::string_view county_id) {
  if (IsTrusted(p.role())) return absl::OkStatus();
  if (p.role() == common::v1::ROLE_PROVINCE_HR && RegionCovers(p.region(), county_id)) {
    return absl::OkStatus();
  }
  return Denied(p, absl::StrCat("create county ", county_id));
}

absl::Status PrecheckTeacherAccess(const Principal& p, absl::string_view teacher_id,
                                   TeacherAccess access) {
  if (IsTrusted(p.role()) || IsHr(p.role())) return absl::OkStatus();
  const bool school_admin = p.role() == common::v1::ROLE_SCHOOL_ADMIN && !p.school_id().empty();
  const bool self = p.role() == common::v1::ROLE_TEACHER && p.subject() == teacher_id;
  switch (access) {
    case TeacherAccess::kRead:
      if (school_admin || self) return absl::OkStatus();
      break;
    case TeacherAccess::kRecord:
      if (school_admin) return absl::OkStatus();
      break;
    case TeacherAccess::kChange:
      break;
  }
  return Denied(p, WhatOn(access, teacher_id));
}

absl::Status RequireTeacherAccess(const Principal& p, const v1::Teacher& t, TeacherAccess access) {
  if (IsTrusted(p.role())) return absl::OkStatus();
  if (IsHr(p.role()) && RegionCovers(p.region(), t.county_id())) return absl::OkStatus();
  if (access != TeacherAccess::kChange && IsSchoolAdminOf(p, t.school_id())) {
    return absl::OkStatus();
  }
  if (access == TeacherAccess::kRead && p.role() == common::v1::ROLE_TEACHER &&
      p.subject() == t.teacher_id()) {
    return absl::OkStatus();
  }
  return Denied(p, WhatOn(access, t.teacher_id()));
}

absl::Status MissingTeacherAnswer(const Principal& p, absl::string_view teacher_id,
                                  TeacherAccess access, absl::Status not_found) {
  const bool self = p.role() == common::v1::ROLE_TEACHER && p.subject() == teacher_id;
  if (IsTrusted(p.role()) || self) return not_found;
  return Denied(p, WhatOn(access, teacher_id));
}

bool MaySeeIdCard(const Principal& p, const v1::Teacher& t) {
  return (p.role() == common::v1::ROLE_TEACHER && p.subject() == t.teacher_id()) ||
         (IsHr(p.role()) && RegionCovers(p.region(), t.county_id()));
}

absl::Status RequireIdCardAudit(const Principal& p, absl::string_view county_id) {
  if (p.role() == common::v1::ROLE_ADMIN) return absl::OkStatus();
  if (IsHr(p.role()) && RegionCovers(p.region(), county_id)) return absl::OkStatus();
  return Denied(p, absl::StrCat("read the ID-card reads of county ", county_id));
}

absl::Status MissingCountyAnswer(const Principal& p, absl::string_view county_id,
                                 absl::Status not_found) {
  if (p.role() == common::v1::ROLE_ADMIN) return not_found;
  return Denied(p, absl::StrCat("read the ID-card reads of county ", county_id));
}

absl::Status RequireSchoolRead(const Principal& p, absl::string_view school_id,
                               absl::string_view callers_school_id) {
  if (IsTrusted(p.role())) return absl::OkStatus();
  if (IsHr(p.role()) && RegionCovers(p.region(), CountyOfSchoolId(school_id))) {
    return absl::OkStatus();
  }
  if (p.role() == common::v1::ROLE_SCHOOL_ADMIN && p.school_id() == school_id) {
    return absl::OkStatus();
  }
  if (p.role() == common::v1::ROLE_TEACHER && !callers_school_id.empty() &&
      callers_school_id == school_id) {
    return absl::OkStatus();
  }
  return Denied(p, absl::StrCat("read school ", school_id));
}

absl::Status RequireSchoolsList(const Principal& p, absl::string_view region) {
  if (p.role() == common::v1::ROLE_SCHOOL_ADMIN || IsTrusted(p.role())) return absl::OkStatus();
  if (IsHr(p.role()) && (RegionCovers(p.region(), region) || p.region() == region)) {
    return absl::OkStatus();
  }
  return Denied(p, absl::StrCat("list the schools of ", region));
}

absl::Status RequireTeachersList(const Principal& p, absl::string_view region,
                                 absl::string_view school_id) {
  if (p.role() == common::v1::ROLE_SCHOOL_ADMIN) {
    if (!school_id.empty() && school_id != p.school_id()) {
      return Denied(p, absl::StrCat("list the teachers of school ", school_id));
    }
    return absl::OkStatus();
  }
  if (IsTrusted(p.role())) return absl::OkStatus();
  if (IsHr(p.role()) && (RegionCovers(p.region(), region) || RegionCovers(region, p.region()) ||
                         p.region() == region)) {
    return absl::OkStatus();
  }
  return Denied(p, absl::StrCat("list the teachers of ", region));
}

bool ListingShowsCounty(const Principal& p, absl::string_view county_id) {
  return !IsHr(p.role()) || RegionCovers(p.region(), county_id) || p.region() == county_id;
}

std::string CountyOfSchoolId(absl::string_view school_id) {
  if (school_id.size() < 8 || school_id[0] != 'S') return "";
  return std::string(school_id.substr(1, 6));
}

}  // namespace shidang::profile
