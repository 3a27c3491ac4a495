#include "services/account/admin.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/scope.h"
#include "services/common/violations.h"

namespace shidang::account {
namespace {

absl::Status DeniedToManage(const common::v1::Principal& p, const v1::Account& account) {
  return scope::Denied(
      p, absl::StrCat("manage the ", RoleName(account.role()), " account ", account.username()));
}

// Checks the scope fields of `account` for its role and keeps only those (rules.h); a teacher's
// school and county come from the profile service. A teacher it does not know is refused to a
// caller who may not learn that (MayLearnAbsence) as one of another county would be.
absl::Status CompleteScope(Deps& deps, const common::v1::Principal& caller, v1::Account& account) {
  SHIDANG_RETURN_IF_ERROR(ProblemStatus(ScopeProblem(account)));
  KeepScopeOfRole(account);
  if (account.role() != common::v1::ROLE_TEACHER) return absl::OkStatus();
  if (!deps.profile.teacher) {
    return absl::FailedPreconditionError(
        "no profile service is configured (--profile): teachers' accounts cannot be made");
  }
  absl::StatusOr<profile::v1::Teacher> found = deps.profile.teacher(account.teacher_id());
  if (absl::IsNotFound(found.status()) && !MayLearnAbsence(caller)) {
    return DeniedToManage(caller, account);
  }
  SHIDANG_ASSIGN_OR_RETURN(profile::v1::Teacher teacher, std::move(found));
  account.set_school_id(teacher.school_id());
  account.set_county_id(teacher.county_id());
  if (account.display_name().empty()) account.set_display_name(teacher.name());
  return absl::OkStatus();
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
}

// The answer a new account's write keeps for its retries, serialized, from the account as stored
// and its initial password.
using AnswerOf = std::function<std::string(const v1::Account&, const std::string& password)>;

// Stores `account` (scope complete, scope checked) with a new initial password, binding a
// teacher's id to it first; the answer made by `answer_of` is kept, sealed, for retries of
// `write`'s request. The answer stored (serialized): this one, or the first run's on a retry.
absl::StatusOr<std::string> Store(Deps& deps, const CallContext& call, const WriteContext& write,
                                  v1::Account& account, const AnswerOf& answer_of) {
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
  absl::StatusOr<Written> created =
      deps.store.Create(account, hash, write, deps.sealer.Seal(answer_of(account, password)));
  if (!created.ok()) {
    // The username was taken (or Redis failed): a binding this call made is undone, so the
    // teacher stays free for another try; one an earlier call made stays.
    if (bound_here) {
      deps.store.UnbindTeacher(account.teacher_id(), account.username()).IgnoreError();
    }
    return created.status();
  }
  return deps.sealer.Open(created->answer);
}

// The account named `username` that the caller may manage. NOT_FOUND only to a caller who may
// learn that (MayLearnAbsence); anyone else gets the same PERMISSION_DENIED for an unknown account
// as for one out of their reach, in words that name nothing of it but the username asked for.
absl::StatusOr<StoredAccount> ManagedAccount(Deps& deps, const CallContext& call,
                                             const std::string& username) {
  SHIDANG_RETURN_IF_ERROR(ProblemStatus(UsernameProblem("username", username)));
  SHIDANG_ASSIGN_OR_RETURN(std::optional<StoredAccount> stored, deps.store.Get(username));
  if (!stored.has_value() && MayLearnAbsence(call.principal)) {
    return absl::NotFoundError(absl::StrCat("no account ", username));
  }
  if (!stored.has_value() || !CanManage(call.principal, stored->account)) {
    return scope::Denied(call.principal, absl::StrCat("manage the account ", username));
  }
  return *std::move(stored);
}

}  // namespace

absl::Status CreateAccount(Deps& deps, const CallContext& call, const v1::CreateAccountRequest& req,
                           v1::CreateAccountResponse* resp) {
  v1::Account account = req.account();
  SHIDANG_RETURN_IF_ERROR(ProblemStatus(UsernameProblem("account.username", account.username())));
  // A retry gets the first answer before anything is checked against the state.
  const WriteContext write{call.actor, "CreateAccount", &req};
  SHIDANG_ASSIGN_OR_RETURN(std::optional<std::string> first,
                           deps.store.FirstAnswer(account.username(), write));
  if (first.has_value()) {
    SHIDANG_RETURN_IF_ERROR(deps.store.ListAsStored(account.username(), /*replace=*/false));
    return ParseKeptAnswer(deps, *first, /*sealed=*/true, resp);
  }
  // What the caller alone decides comes before the profile service is asked.
  if (!MayCreateRole(call.principal, account.role())) {
    return DeniedToManage(call.principal, account);
  }
  SHIDANG_RETURN_IF_ERROR(CompleteScope(deps, call.principal, account));
  if (!CanManage(call.principal, account)) return DeniedToManage(call.principal, account);
  SHIDANG_ASSIGN_OR_RETURN(
      std::string answer,
      Store(deps, call, write, account, [](const v1::Account& stored, const std::string& password) {
        v1::CreateAccountResponse made;
        *made.mutable_account() = stored;
        made.set_initial_password(password);
        return made.SerializeAsString();
      }));
  return ParseKeptAnswer(deps, answer, /*sealed=*/false, resp);
}

namespace {

// The row of one teacher of the roster: made (or, on a retry, as the first run made it) or
// refused with why.
v1::RosterAccount RosterRow(Deps& deps, const CallContext& call, const WriteContext& write,
                            const profile::v1::Teacher& teacher) {
  v1::RosterAccount row;
  row.set_teacher_id(teacher.teacher_id());
  row.set_teacher_name(teacher.name());
  row.set_school_id(teacher.school_id());
  v1::Account account;
  account.set_username(RosterUsername(teacher.teacher_id()));
  account.set_role(common::v1::ROLE_TEACHER);
  account.set_teacher_id(teacher.teacher_id());
  account.set_school_id(teacher.school_id());
  account.set_county_id(teacher.county_id());
  account.set_display_name(teacher.name());
  absl::StatusOr<std::string> answer =
      InvalidField("teacher_id", "format", "makes no valid username");
  if (IsValidUsername(account.username())) {
    absl::StatusOr<std::optional<std::string>> first =
        deps.store.FirstAnswer(account.username(), write);
    if (!first.ok()) {
      answer = first.status();
    } else if (first->has_value()) {
      absl::Status listed = deps.store.ListAsStored(account.username(), /*replace=*/false);
      answer = listed.ok() ? deps.sealer.Open(**first) : listed;
    } else {
      answer = Store(deps, call, write, account,
                     [row](const v1::Account& stored, const std::string& password) {
                       v1::RosterAccount made = row;
                       made.set_code(absl::StatusCodeToString(absl::StatusCode::kOk));
                       made.set_username(stored.username());
                       made.set_initial_password(password);
                       return made.SerializeAsString();
                     });
    }
  }
  if (answer.ok()) {
    v1::RosterAccount made;
    if (made.ParseFromString(*answer)) return made;
    answer = absl::DataLossError("the answer kept for this row does not parse");
  }
  row.set_code(absl::StatusCodeToString(answer.status().code()));
  row.set_message(std::string(answer.status().message()));
  return row;
}

}  // namespace

absl::Status CreateAccountsFromRoster(Deps& deps, const CallContext& call,
                                      const v1::CreateAccountsFromRosterRequest& req,
                                      v1::CreateAccountsFromRosterResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(ProblemStatus(CountyIdProblem("county_id", req.county_id())));
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
  // Each row keeps its answer under its own account's tag, so a retry (after a crash midway)
  // makes no account twice and answers the rows made with their first answers.
  const WriteContext write{call.actor, "CreateAccountsFromRoster", &req};
  for (const profile::v1::Teacher& teacher : teachers) {
    v1::RosterAccount* row = resp->add_accounts();
    *row = RosterRow(deps, call, write, teacher);
    if (row->code() == absl::StatusCodeToString(absl::StatusCode::kOk)) {
      resp->set_created(resp->created() + 1);
    } else {
      resp->set_refused(resp->refused() + 1);
    }
  }
  return absl::OkStatus();
}

absl::Status DisableAccount(Deps& deps, const CallContext& call,
                            const v1::DisableAccountRequest& req,
                            v1::DisableAccountResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(ProblemStatus(UsernameProblem("username", req.username())));
  const WriteContext write{call.actor, "DisableAccount", &req};
  SHIDANG_ASSIGN_OR_RETURN(std::optional<std::string> first,
                           deps.store.FirstAnswer(req.username(), write));
  if (first.has_value()) {
    SHIDANG_RETURN_IF_ERROR(deps.store.ListAsStored(req.username(), /*replace=*/true));
    return ParseKeptAnswer(deps, *first, /*sealed=*/false, resp->mutable_account());
  }
  SHIDANG_ASSIGN_OR_RETURN(StoredAccount stored, ManagedAccount(deps, call, req.username()));
  if (stored.account.disabled()) {
    *resp->mutable_account() = std::move(stored.account);
    return absl::OkStatus();
  }
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_account(), deps.store.Disable(stored, write));
  return absl::OkStatus();
}

absl::Status ResetPassword(Deps& deps, const CallContext& call, const v1::ResetPasswordRequest& req,
                           v1::ResetPasswordResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(ProblemStatus(UsernameProblem("username", req.username())));
  const WriteContext write{call.actor, "ResetPassword", &req};
  SHIDANG_ASSIGN_OR_RETURN(std::optional<std::string> first,
                           deps.store.FirstAnswer(req.username(), write));
  if (first.has_value()) return ParseKeptAnswer(deps, *first, /*sealed=*/true, resp);
  SHIDANG_ASSIGN_OR_RETURN(StoredAccount stored, ManagedAccount(deps, call, req.username()));
  v1::ResetPasswordResponse answer;
  answer.set_initial_password(NewInitialPassword());
  SHIDANG_ASSIGN_OR_RETURN(std::string hash, deps.passwords.Hash(answer.initial_password()));
  *answer.mutable_account() = std::move(stored.account);
  SHIDANG_ASSIGN_OR_RETURN(
      Written written, deps.store.SetPassword(req.username(), hash, "", stored.account_bytes, write,
                                              deps.sealer.Seal(answer.SerializeAsString())));
  return ParseKeptAnswer(deps, written.answer, /*sealed=*/true, resp);
}

absl::Status ListAccounts(Deps& deps, const CallContext& call, const v1::ListAccountsRequest& req,
                          v1::ListAccountsResponse* resp) {
  const common::v1::Principal& p = call.principal;
  std::string region = req.region();
  if (region.empty() && !scope::IsTrusted(p.role())) region = p.region();
  SHIDANG_RETURN_IF_ERROR(ProblemStatus(RegionFilterProblem("region", region)));
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
