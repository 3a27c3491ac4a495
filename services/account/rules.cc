#include "services/account/rules.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/scope.h"

namespace shidang::account {
namespace {

using common::v1::Role;

std::optional<FieldProblem> Problem(absl::string_view field, absl::string_view rule,
                                    std::string message) {
  return FieldProblem{std::string(field), std::string(rule), std::move(message)};
}

std::optional<FieldProblem> Required(absl::string_view field, absl::string_view value, Role role) {
  if (!value.empty()) return std::nullopt;
  return Problem(field, "required", absl::StrCat("is required for ", RoleName(role)));
}

bool IsProvinceCode(absl::string_view code) {
  return IsRegionCode(code) && absl::EndsWith(code, "0000");
}
bool IsCityCode(absl::string_view code) {
  return IsRegionCode(code) && !IsProvinceCode(code) && absl::EndsWith(code, "00");
}

// The region an HR role covers must be of its level.
std::optional<FieldProblem> HrRegionProblem(Role role, absl::string_view region) {
  const bool fits = (role == common::v1::ROLE_COUNTY_HR && IsCountyCode(region)) ||
                    (role == common::v1::ROLE_CITY_HR && IsCityCode(region)) ||
                    (role == common::v1::ROLE_PROVINCE_HR && IsProvinceCode(region));
  if (fits) return std::nullopt;
  return Problem("account.region", "region_code",
                 absl::StrCat("must be the 6-digit code of a ",
                              role == common::v1::ROLE_COUNTY_HR ? "county"
                              : role == common::v1::ROLE_CITY_HR ? "city (XXYY00)"
                                                                 : "province (XX0000)",
                              " for ", RoleName(role)));
}

std::optional<FieldProblem> SchoolAdminProblem(const v1::Account& account) {
  const Role role = account.role();
  if (auto problem = Required("account.school_id", account.school_id(), role)) return problem;
  if (auto problem = CountyIdProblem("account.county_id", account.county_id())) {
    problem->message = "must be the 6-digit code of the school's county";
    return problem;
  }
  if (!IsSchoolOfCounty(account.school_id(), account.county_id())) {
    return Problem("account.school_id", "school_of_county",
                   absl::StrCat("must be a school of county ", account.county_id(), " (an id S",
                                account.county_id(), "-…)"));
  }
  return std::nullopt;
}

}  // namespace

bool IsValidUsername(absl::string_view username) {
  if (username.size() < kMinUsernameLength || username.size() > kMaxUsernameLength) return false;
  for (size_t i = 0; i < username.size(); ++i) {
    const char c = username[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

std::optional<FieldProblem> UsernameProblem(absl::string_view field, absl::string_view username) {
  if (IsValidUsername(username)) return std::nullopt;
  return Problem(field, "format",
                 absl::StrCat("must be ", kMinUsernameLength, " to ", kMaxUsernameLength,
                              " of [a-z0-9._-], starting with a letter or digit"));
}

std::string RosterUsername(absl::string_view teacher_id) {
  return absl::AsciiStrToLower(absl::StrCat("t", teacher_id));
}

std::optional<std::string> UsernameOfRefreshToken(absl::string_view token) {
  const size_t dot = token.rfind('.');
  if (dot == absl::string_view::npos || token.size() - dot - 1 != 64) return std::nullopt;
  absl::string_view username = token.substr(0, dot);
  if (!IsValidUsername(username)) return std::nullopt;
  return std::string(username);
}

std::optional<FieldProblem> NewPasswordProblem(absl::string_view field, absl::string_view password,
                                               absl::string_view username) {
  if (password.size() < kMinPasswordBytes || password.size() > kMaxPasswordBytes) {
    return Problem(field, "length",
                   absl::StrCat("must be ", kMinPasswordBytes, " to ", kMaxPasswordBytes,
                                " bytes long (this one is ", password.size(), ")"));
  }
  if (password == username) return Problem(field, "not_username", "must differ from the username");
  if (password.find('\0') != absl::string_view::npos) {
    return Problem(field, "characters", "must not contain NUL characters");
  }
  return std::nullopt;
}

bool IsRegionCode(absl::string_view code) {
  return code.size() == 6 && code.find_first_not_of("0123456789") == absl::string_view::npos &&
         !absl::StartsWith(code, "00");
}

bool IsCountyCode(absl::string_view code) {
  return IsRegionCode(code) && !absl::EndsWith(code, "00");
}

bool IsSchoolOfCounty(absl::string_view school_id, absl::string_view county_id) {
  return IsCountyCode(county_id) && school_id.size() > county_id.size() + 2 &&
         school_id[0] == 'S' && school_id.substr(1, county_id.size()) == county_id &&
         school_id[county_id.size() + 1] == '-';
}

std::optional<FieldProblem> CountyIdProblem(absl::string_view field, absl::string_view county_id) {
  if (IsCountyCode(county_id)) return std::nullopt;
  return Problem(field, "county_code", "must be the 6-digit code of a county");
}

std::optional<FieldProblem> RegionFilterProblem(absl::string_view field, absl::string_view region) {
  if (region.empty() || IsRegionCode(region)) return std::nullopt;
  return Problem(field, "region_code", "must be a 6-digit county, city or province code");
}

std::optional<FieldProblem> ScopeProblem(const v1::Account& account) {
  const Role role = account.role();
  switch (role) {
    case common::v1::ROLE_TEACHER:
      return Required("account.teacher_id", account.teacher_id(), role);
    case common::v1::ROLE_SCHOOL_ADMIN:
      return SchoolAdminProblem(account);
    case common::v1::ROLE_COUNTY_HR:
    case common::v1::ROLE_CITY_HR:
    case common::v1::ROLE_PROVINCE_HR:
      return HrRegionProblem(role, account.region());
    case common::v1::ROLE_TRAINING_CENTER:
      return Required("account.provider_id", account.provider_id(), role);
    case common::v1::ROLE_ADMIN:
      return std::nullopt;
    default:
      return Problem("account.role", "role",
                     "must be one of ROLE_TEACHER, ROLE_SCHOOL_ADMIN, ROLE_COUNTY_HR, "
                     "ROLE_CITY_HR, ROLE_PROVINCE_HR, ROLE_TRAINING_CENTER, ROLE_ADMIN");
  }
}

void KeepScopeOfRole(v1::Account& account) {
  switch (account.role()) {
    case common::v1::ROLE_TEACHER:
      account.clear_region();
      account.clear_provider_id();
      return;
    case common::v1::ROLE_SCHOOL_ADMIN:
      account.clear_teacher_id();
      account.clear_region();
      account.clear_provider_id();
      return;
    case common::v1::ROLE_COUNTY_HR:
    case common::v1::ROLE_CITY_HR:
    case common::v1::ROLE_PROVINCE_HR:
      account.set_county_id(account.region());
      account.clear_teacher_id();
      account.clear_school_id();
      account.clear_provider_id();
      return;
    case common::v1::ROLE_TRAINING_CENTER:
      account.clear_teacher_id();
      account.clear_school_id();
      account.clear_region();
      account.clear_county_id();
      return;
    default:
      account.clear_teacher_id();
      account.clear_school_id();
      account.clear_region();
      account.clear_provider_id();
      account.clear_county_id();
      return;
  }
}

common::v1::Principal PrincipalOf(const v1::Account& account) {
  common::v1::Principal p;
  p.set_role(account.role());
  switch (account.role()) {
    case common::v1::ROLE_TEACHER:
      p.set_subject(account.teacher_id());
      p.set_school_id(account.school_id());
      break;
    case common::v1::ROLE_SCHOOL_ADMIN:
      p.set_subject(account.username());
      p.set_school_id(account.school_id());
      break;
    case common::v1::ROLE_COUNTY_HR:
    case common::v1::ROLE_CITY_HR:
    case common::v1::ROLE_PROVINCE_HR:
      p.set_subject(account.username());
      p.set_region(account.region());
      break;
    case common::v1::ROLE_TRAINING_CENTER:
      p.set_subject(account.username());
      p.set_provider_id(account.provider_id());
      break;
    default:
      p.set_subject(account.username());
      break;
  }
  return p;
}

bool MayCreateRole(const common::v1::Principal& principal, Role role) {
  if (scope::IsTrusted(principal.role())) return true;
  return role != common::v1::ROLE_ADMIN && role != common::v1::ROLE_TRAINING_CENTER;
}

bool CanManage(const common::v1::Principal& principal, const v1::Account& account) {
  if (scope::IsTrusted(principal.role())) return true;
  if (!scope::IsHr(principal.role())) return false;
  switch (account.role()) {
    case common::v1::ROLE_TEACHER:
    case common::v1::ROLE_SCHOOL_ADMIN:
      return scope::HrCovers(principal, account.county_id());
    case common::v1::ROLE_COUNTY_HR:
    case common::v1::ROLE_CITY_HR:
    case common::v1::ROLE_PROVINCE_HR:
      return account.region() != principal.region() && scope::HrCovers(principal, account.region());
    default:
      return false;
  }
}

bool MayLearnAbsence(const common::v1::Principal& principal) {
  return scope::IsTrusted(principal.role());
}

bool IsLocked(absl::Time locked_until, absl::Time now) { return locked_until > now; }

absl::Time LockEnd(absl::Time now, const LockoutPolicy& policy) {
  return absl::FromUnixSeconds(absl::ToUnixSeconds(now)) + policy.lock;
}

LockoutState AfterWrongPassword(const LockoutState& before, absl::Time now,
                                const LockoutPolicy& policy) {
  if (IsLocked(before.locked_until, now)) return before;
  LockoutState after = before;
  ++after.wrong_in_a_row;
  if (after.wrong_in_a_row >= policy.max_wrong_passwords) {
    after.wrong_in_a_row = 0;
    after.locked_until = LockEnd(now, policy);
  }
  return after;
}

bool LockedByThisFailure(const LockoutState& before, const LockoutState& after, absl::Time now) {
  return !IsLocked(before.locked_until, now) && IsLocked(after.locked_until, now);
}

bool MaySignIn(const SignInFacts& facts, absl::Time now) {
  return facts.account_exists && facts.password_matches && !facts.disabled &&
         !IsLocked(facts.locked_until, now);
}

}  // namespace shidang::account
