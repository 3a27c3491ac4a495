#include "services/common/scope.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace shidang {
namespace {

using common::v1::PolicyLevel;
using common::v1::Principal;
using common::v1::Role;

bool IsSixDigits(absl::string_view code) {
  if (code.size() != 6) return false;
  for (char c : code) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// `mine` is set and equals `theirs`: an empty id in a principal matches nothing.
bool SameId(absl::string_view mine, absl::string_view theirs) {
  return !mine.empty() && mine == theirs;
}

}  // namespace

std::string ActorOf(const Principal& principal) {
  return absl::StrCat(RoleName(principal.role()), ":", principal.subject());
}

std::string RoleName(Role role) {
  switch (role) {
    case common::v1::ROLE_TEACHER:
      return "teacher";
    case common::v1::ROLE_SCHOOL_ADMIN:
      return "school_admin";
    case common::v1::ROLE_COUNTY_HR:
      return "county_hr";
    case common::v1::ROLE_CITY_HR:
      return "city_hr";
    case common::v1::ROLE_PROVINCE_HR:
      return "province_hr";
    case common::v1::ROLE_TRAINING_CENTER:
      return "training_center";
    case common::v1::ROLE_ADMIN:
      return "admin";
    case common::v1::ROLE_SERVICE:
      return "service";
    default:
      return "unspecified";
  }
}

absl::StatusOr<Role> RoleFromName(absl::string_view name) {
  for (int value = common::v1::Role_MIN; value <= common::v1::Role_MAX; ++value) {
    if (!common::v1::Role_IsValid(value) || value == common::v1::ROLE_UNSPECIFIED) continue;
    const Role role = static_cast<Role>(value);
    if (RoleName(role) == name) return role;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown role \"", absl::CHexEscape(name),
      "\"; allowed: teacher, school_admin, county_hr, city_hr, province_hr, training_center, "
      "admin, service"));
}

bool RegionCovers(absl::string_view region, absl::string_view county_id) {
  if (!IsSixDigits(region) || !IsSixDigits(county_id)) return false;
  if (region.substr(0, 2) == "00") return false;
  if (region.substr(2) == "0000") return county_id.substr(0, 2) == region.substr(0, 2);
  if (region.substr(4) == "00") return county_id.substr(0, 4) == region.substr(0, 4);
  return region == county_id;
}

namespace scope {

bool IsHr(Role role) {
  return role == common::v1::ROLE_COUNTY_HR || role == common::v1::ROLE_CITY_HR ||
         role == common::v1::ROLE_PROVINCE_HR;
}

bool IsTrusted(Role role) {
  return role == common::v1::ROLE_ADMIN || role == common::v1::ROLE_SERVICE;
}

bool HrCovers(const Principal& principal, absl::string_view region) {
  return IsHr(principal.role()) && RegionCovers(principal.region(), region);
}

bool CoversRegion(const Principal& principal, absl::string_view region) {
  return IsTrusted(principal.role()) || HrCovers(principal, region);
}

bool CoversSchool(const Principal& principal, absl::string_view school_id,
                  absl::string_view county_id) {
  if (CoversRegion(principal, county_id)) return true;
  return principal.role() == common::v1::ROLE_SCHOOL_ADMIN &&
         SameId(principal.school_id(), school_id);
}

bool CoversTeacher(const Principal& principal, const TeacherPlace& teacher) {
  if (CoversSchool(principal, teacher.school_id, teacher.county_id)) return true;
  return principal.role() == common::v1::ROLE_TEACHER &&
         SameId(principal.subject(), teacher.teacher_id);
}

bool CoversProvider(const Principal& principal, absl::string_view provider_id) {
  if (IsTrusted(principal.role())) return true;
  return principal.role() == common::v1::ROLE_TRAINING_CENTER &&
         SameId(principal.provider_id(), provider_id);
}

bool CoversPolicy(const Principal& principal, PolicyLevel level, absl::string_view region) {
  if (IsTrusted(principal.role())) return true;
  switch (principal.role()) {
    case common::v1::ROLE_PROVINCE_HR:
      return level != common::v1::POLICY_LEVEL_NATIONAL && HrCovers(principal, region);
    case common::v1::ROLE_CITY_HR:
      return (level == common::v1::POLICY_LEVEL_CITY || level == common::v1::POLICY_LEVEL_COUNTY) &&
             HrCovers(principal, region);
    case common::v1::ROLE_COUNTY_HR:
      return level == common::v1::POLICY_LEVEL_COUNTY && SameId(principal.region(), region);
    default:
      return false;
  }
}

Reach TeacherBeforeLookup(const Principal& principal, absl::string_view teacher_id) {
  const Role role = principal.role();
  if (IsTrusted(role)) return Reach::kAllowed;
  if (role == common::v1::ROLE_TEACHER) {
    // A teacher's own school is not in the principal, so their own id is the only one they reach.
    return SameId(principal.subject(), teacher_id) ? Reach::kAllowed : Reach::kDenied;
  }
  if (role == common::v1::ROLE_SCHOOL_ADMIN) {
    return principal.school_id().empty() ? Reach::kDenied : Reach::kNeedsRecord;
  }
  if (IsHr(role)) {
    // A region that covers nothing (not a code, or "00xxxx") reaches no teacher.
    return RegionCovers(principal.region(), principal.region()) ? Reach::kNeedsRecord
                                                                : Reach::kDenied;
  }
  return Reach::kDenied;  // a training centre, or an unspecified role
}

absl::Status Denied(const Principal& principal, absl::string_view what) {
  return absl::PermissionDeniedError(
      absl::StrCat(RoleName(principal.role()), " ", principal.subject(), " may not ", what));
}

}  // namespace scope
}  // namespace shidang
