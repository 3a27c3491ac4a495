#include "services/account/admin.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/scope.h"
#include "services/common/violations.h"

namespace shidang::account {
namespace {

using common::v1::Role;

bool IsRegionCode(absl::string_view code) {
  return code.size() == 6 && code.find_first_not_of("0123456789") == absl::string_view::npos &&
         !absl::StartsWith(code, "00");
}

// The region an HR role covers must be of its level: a county's code for county HR, a city's
// (XXYY00) for city HR, a province's (XX0000) for province HR.
absl::Status CheckHrRegion(Role role, absl::string_view region) {
  const bool province = IsRegionCode(region) && absl::EndsWith(region, "0000");
  const bool city = IsRegionCode(region) && !province && absl::EndsWith(region, "00");
  const bool county = IsRegionCode(region) && !province && !city;
  const bool fits = (role == common::v1::ROLE_COUNTY_HR && county) ||
                    (role == common::v1::ROLE_CITY_HR && city) ||
                    (role == common::v1::ROLE_PROVINCE_HR && province);
  if (fits) return absl::OkStatus();
  return InvalidField("account.region", "region_code",
                      absl::StrCat("must be the 6-digit code of a ",
                                   role == common::v1::ROLE_COUNTY_HR ? "county"
                                   : role == common::v1::ROLE_CITY_HR ? "city (XXYY00)"
                                                                      : "province (XX0000)",
                                   " for ", RoleName(role)));
}

absl::Status Required(absl::string_view field, absl::string_view value, Role role) {
  if (!value.empty()) return absl::OkStatus();
  return InvalidField(field, "required", absl::StrCat("is required for ", RoleName(role)));
}

// Fills the scope of `account` from what its role needs, checking each field; a teacher's school
// and county come from the profile service.
absl::Status CompleteScope(Deps& deps, v1::Account& account) {
  const Role role = account.role();
  switch (role) {
    case common::v1::ROLE_TEACHER: {
      SHIDANG_RETURN_IF_ERROR(Required("account.teacher_id", account.teacher_id(), role));
      if (!deps.profile.teacher) {
        return absl::FailedPreconditionError(
            "no profile service is configured (--profile): teachers' accounts cannot be made");
      }
      SHIDANG_ASSIGN_OR_RETURN(profile::v1::Teacher teacher,
                               deps.profile.teacher(account.teacher_id()));
      account.set_school_id(teacher.school_id());
      account.set_county_id(teacher.county_id());
      account.clear_region();
      account.clear_provider_id();
      if (account.display_name().empty()) account.set_display_name(teacher.name());
      return absl::OkStatus();
    }
    case common::v1::ROLE_SCHOOL_ADMIN:
      SHIDANG_RETURN_IF_ERROR(Required("account.school_id", account.school_id(), role));
      if (!IsRegionCode(account.county_id())) {
        return InvalidField("account.county_id", "county_code",
                            "must be the 6-digit code of the school's county");
      }
      account.clear_teacher_id();
      account.clear_region();
      account.clear_provider_id();
      return absl::OkStatus();
    case common::v1::ROLE_COUNTY_HR:
    case common::v1::ROLE_CITY_HR:
    case common::v1::ROLE_PROVINCE_HR:
      SHIDANG_RETURN_IF_ERROR(CheckHrRegion(role, account.region()));
      account.set_county_id(account.region());
      account.clear_teacher_id();
      account.clear_school_id();
      account.clear_provider_id();
      return absl::OkStatus();
    case common::v1::ROLE_TRAINING_CENTER:
      SHIDANG_RETURN_IF_ERROR(Required("account.provider_id", account.provider_id(), role));
      account.clear_teacher_id();
      account.clear_school_id();
      account.clear_region();
      account.clear_county_id();
      return absl::OkStatus();
    case common::v1::ROLE_ADMIN:
      account.clear_teacher_id();
      account.clear_school_id();
      account.clear_region();
      account.clear_provider_id();
      account.clear_county_id();
      return absl::OkStatus();
    default:
      return InvalidField("account.role", "role",
                          "must be one of ROLE_TEACHER, ROLE_SCHOOL_ADMIN, ROLE_COUNTY_HR, "
                          "ROLE_CITY_HR, ROLE_PROVINCE_HR, ROLE_TRAINING_CENTER, ROLE_ADMIN");
  }
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
}

// Stores `account` (scope complete, scope checked) with a new initial password, binding a
// teacher's id to it first. The initial password on success.
absl::StatusOr<std::string> Store(Deps& deps, const CallContext& call, v1::Account& account) {
  account.set_disabled(false);
  account.set_created_at(Rfc3339(deps.clock.Now()));
  account.set_created_by(call.actor);
  std::string password = NewInitialPassword();
  SHIDANG_ASSIGN_OR_RETURN(std::string hash, deps.passwords.Hash(password));
  bool bound_here = false;
  if (account.role() == common::v1::ROLE_TEACHER) {
    SHIDANG_ASSIGN_OR_RETURN(bound_here,
                             deps.store.BindTeacher(account.teacher_id(), account.username()));
  }
  absl::Status created = deps.store.Create(account, hash);
  if (!created.ok()) {
    // The username was taken (or Redis failed): a binding this call made is undone, so the
    // teacher stays free for another try; one an earlier call made stays.
    if (bound_here) {
      deps.store.UnbindTeacher(account.teacher_id(), account.username()).IgnoreError();
    }
    return created;
  }
  return password;
}

absl::Status DeniedToManage(const common::v1::Principal& p, const v1::Account& account) {
  return scope::Denied(
      p, absl::StrCat("manage the ", RoleName(account.role()), " account ", account.username()));
}

// The account named `username` that the caller may manage. A caller who may not manage it learns
// nothing of it (AIP-211): an unknown username and another region's account answer HR the same
// PERMISSION_DENIED, naming no role; only admins and our services get NOT_FOUND.
absl::StatusOr<StoredAccount> ManagedAccount(Deps& deps, const CallContext& call,
                                             const std::string& username) {
  if (!IsValidUsername(username)) {
    return InvalidField("username", "format",
                        "must be 3 to 64 of [a-z0-9._-], starting with a letter or digit");
  }
  SHIDANG_ASSIGN_OR_RETURN(std::optional<StoredAccount> stored, deps.store.Get(username));
  if (stored.has_value() && CanManage(call.principal, stored->account)) {
    return *std::move(stored);
  }
  if (!stored.has_value() && scope::IsTrusted(call.principal.role())) {
    return absl::NotFoundError(absl::StrCat("no account ", username));
  }
  return scope::Denied(call.principal, absl::StrCat("manage the account ", username));
}

}  // namespace

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

absl::Status CreateAccount(Deps& deps, const CallContext& call, const v1::CreateAccountRequest& req,
                           v1::CreateAccountResponse* resp) {
  v1::Account account = req.account();
  if (!IsValidUsername(account.username())) {
    return InvalidField("account.username", "format",
                        "must be 3 to 64 of [a-z0-9._-], starting with a letter or digit");
  }
  // What the caller alone decides comes before the profile service is asked.
  if (!scope::IsTrusted(call.principal.role()) &&
      (account.role() == common::v1::ROLE_ADMIN ||
       account.role() == common::v1::ROLE_TRAINING_CENTER)) {
    return DeniedToManage(call.principal, account);
  }
  absl::Status scoped = CompleteScope(deps, account);
  // A teacher id the profile service does not know answers HR as one of another county would.
  if (absl::IsNotFound(scoped) && !scope::IsTrusted(call.principal.role())) {
    return DeniedToManage(call.principal, account);
  }
  SHIDANG_RETURN_IF_ERROR(scoped);
  if (!CanManage(call.principal, account)) return DeniedToManage(call.principal, account);
  SHIDANG_ASSIGN_OR_RETURN(std::string password, Store(deps, call, account));
  *resp->mutable_account() = std::move(account);
  resp->set_initial_password(std::move(password));
  return absl::OkStatus();
}

absl::Status CreateAccountsFromRoster(Deps& deps, const CallContext& call,
                                      const v1::CreateAccountsFromRosterRequest& req,
                                      v1::CreateAccountsFromRosterResponse* resp) {
  if (!IsRegionCode(req.county_id()) || absl::EndsWith(req.county_id(), "00")) {
    return InvalidField("county_id", "county_code", "must be the 6-digit code of a county");
  }
  if (!scope::CoversRegion(call.principal, req.county_id())) {
    return scope::Denied(call.principal,
                         absl::StrCat("create accounts for the teachers of ", req.county_id()));
  }
  if (!deps.profile.roster) {
    return absl::FailedPreconditionError(
        "no profile service is configured (--profile): the roster cannot be read");
  }
  SHIDANG_ASSIGN_OR_RETURN(std::vector<profile::v1::Teacher> teachers,
                           deps.profile.roster(req.county_id(), req.school_id()));
  for (const profile::v1::Teacher& teacher : teachers) {
    v1::RosterAccount* row = resp->add_accounts();
    row->set_teacher_id(teacher.teacher_id());
    row->set_teacher_name(teacher.name());
    row->set_school_id(teacher.school_id());
    v1::Account account;
    account.set_username(absl::AsciiStrToLower(absl::StrCat("t", teacher.teacher_id())));
    account.set_role(common::v1::ROLE_TEACHER);
    account.set_teacher_id(teacher.teacher_id());
    account.set_school_id(teacher.school_id());
    account.set_county_id(teacher.county_id());
    account.set_display_name(teacher.name());
    absl::StatusOr<std::string> password =
        InvalidField("teacher_id", "format", "makes no valid username");
    if (IsValidUsername(account.username())) password = Store(deps, call, account);
    row->set_code(absl::StatusCodeToString(password.status().code()));
    if (password.ok()) {
      row->set_username(account.username());
      row->set_initial_password(*std::move(password));
      resp->set_created(resp->created() + 1);
    } else {
      row->set_message(std::string(password.status().message()));
      resp->set_refused(resp->refused() + 1);
    }
  }
  return absl::OkStatus();
}

absl::Status DisableAccount(Deps& deps, const CallContext& call,
                            const v1::DisableAccountRequest& req,
                            v1::DisableAccountResponse* resp) {
  SHIDANG_ASSIGN_OR_RETURN(StoredAccount stored, ManagedAccount(deps, call, req.username()));
  if (stored.account.disabled()) {
    *resp->mutable_account() = std::move(stored.account);
    return absl::OkStatus();
  }
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_account(), deps.store.Disable(stored));
  return absl::OkStatus();
}

absl::Status ResetPassword(Deps& deps, const CallContext& call, const v1::ResetPasswordRequest& req,
                           v1::ResetPasswordResponse* resp) {
  SHIDANG_ASSIGN_OR_RETURN(StoredAccount stored, ManagedAccount(deps, call, req.username()));
  std::string password = NewInitialPassword();
  SHIDANG_ASSIGN_OR_RETURN(std::string hash, deps.passwords.Hash(password));
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_account(),
                           deps.store.SetPassword(req.username(), hash, ""));
  resp->set_initial_password(std::move(password));
  return absl::OkStatus();
}

absl::Status ListAccounts(Deps& deps, const CallContext& call, const v1::ListAccountsRequest& req,
                          v1::ListAccountsResponse* resp) {
  const common::v1::Principal& p = call.principal;
  std::string region = req.region();
  if (region.empty() && !scope::IsTrusted(p.role())) region = p.region();
  if (!region.empty() && !IsRegionCode(region)) {
    return InvalidField("region", "region_code", "must be a 6-digit county, city or province code");
  }
  if (!scope::IsTrusted(p.role()) && !scope::HrCovers(p, region)) {
    return scope::Denied(p, absl::StrCat("list the accounts of ", region));
  }
  const int size = req.page().page_size() == 0 ? kDefaultPageSize : req.page().page_size();
  if (size < 0 || size > kMaxPageSize) {
    return InvalidField("page.page_size", "range", absl::StrCat("must be 0 to ", kMaxPageSize));
  }
  SHIDANG_ASSIGN_OR_RETURN(std::vector<v1::Account> all, deps.store.Directory());
  std::vector<v1::Account> matching;
  for (v1::Account& account : all) {
    if (!region.empty() && !RegionCovers(region, account.county_id())) continue;
    if (!scope::IsTrusted(p.role()) && !CanManage(p, account)) continue;
    if (!req.school_id().empty() && account.school_id() != req.school_id()) continue;
    if (req.role() != common::v1::ROLE_UNSPECIFIED && account.role() != req.role()) continue;
    matching.push_back(std::move(account));
  }
  std::sort(matching.begin(), matching.end(),
            [](const v1::Account& a, const v1::Account& b) { return a.username() < b.username(); });
  resp->mutable_page()->set_total_size(static_cast<int64_t>(matching.size()));
  // The page token is the last username of the page before.
  for (v1::Account& account : matching) {
    if (account.username() <= req.page().page_token()) continue;
    if (resp->accounts_size() == size) {
      resp->mutable_page()->set_next_page_token(resp->accounts(size - 1).username());
      break;
    }
    *resp->add_accounts() = std::move(account);
  }
  return absl::OkStatus();
}

}  // namespace shidang::account
