#include "services/account/sessions.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/common/random.h"
#include "services/common/scope.h"
#include "services/common/violations.h"

namespace shidang::account {
namespace {

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
}

// "<username>.<64 hex>": the username says which account's slot holds the token's digest.
std::string NewRefreshToken(absl::string_view username) {
  return absl::StrCat(username, ".", SecureRandomHex(32));
}

// What MaySignIn compares, of an account as read (nullopt: none) and the password's check.
SignInFacts FactsOf(const std::optional<StoredAccount>& stored, bool password_matches) {
  SignInFacts facts;
  facts.password_matches = password_matches;
  if (stored.has_value()) {
    facts.account_exists = true;
    facts.disabled = stored->disabled;
    facts.locked_until = stored->locked_until;
  }
  return facts;
}

// Counts a wrong password for `username` (record_failure.lua, as AfterWrongPassword says) and
// logs the lock it may start; the log names the account, never the password.
absl::Status RecordWrongPassword(Deps& deps, absl::string_view username, absl::Time now) {
  SHIDANG_ASSIGN_OR_RETURN(bool locked,
                           deps.store.RecordFailure(username, now, kLockout.max_wrong_passwords,
                                                    LockEnd(now, kLockout)));
  if (locked) {
    LogInfo(absl::StrCat("account locked for ", absl::FormatDuration(kLockout.lock), " after ",
                         kLockout.max_wrong_passwords, " wrong passwords: username=", username));
  }
  return absl::OkStatus();
}

// A new pair of tokens for `account`, into a SignInResponse or a RefreshSessionResponse.
template <typename Response>
absl::Status Issue(const Deps& deps, const v1::Account& account, std::string refresh_token,
                   absl::Time refresh_expires, absl::Time now, Response* resp) {
  common::v1::Principal principal = PrincipalOf(account);
  SHIDANG_ASSIGN_OR_RETURN(std::string access,
                           MintJwt(deps.tokens.key, principal, deps.tokens.issuer,
                                   deps.tokens.audience, deps.tokens.access_ttl, now));
  const absl::Time access_expires = now + deps.tokens.access_ttl;
  principal.set_expires_at(absl::ToUnixSeconds(access_expires));
  resp->set_access_token(std::move(access));
  resp->set_refresh_token(std::move(refresh_token));
  resp->set_access_expires_at(Rfc3339(access_expires));
  resp->set_refresh_expires_at(Rfc3339(refresh_expires));
  resp->set_username(account.username());
  *resp->mutable_principal() = std::move(principal);
  return absl::OkStatus();
}

}  // namespace

absl::Status SignIn(Deps& deps, const v1::SignInRequest& req, v1::SignInResponse* resp) {
  const absl::Time now = deps.clock.Now();
  const std::string& username = req.username();
  const bool well_formed = IsValidUsername(username);
  std::optional<StoredAccount> stored;
  if (well_formed) {
    SHIDANG_ASSIGN_OR_RETURN(stored, deps.store.Get(username));
  }
  // One verification whatever the account: against the dummy hash when there is none.
  const bool matches =
      deps.passwords.Verify(req.password(), stored.has_value() ? stored->hash : "");
  if (!MaySignIn(FactsOf(stored, matches), now)) {
    // Run for every refusal (it changes nothing for an unknown or locked account), so that all
    // refusals take the same round trips.
    if (well_formed) SHIDANG_RETURN_IF_ERROR(RecordWrongPassword(deps, username, now));
    return absl::UnauthenticatedError(kRefused);
  }
  std::string refresh = NewRefreshToken(username);
  const absl::Time refresh_expires = now + deps.tokens.refresh_ttl;
  absl::StatusOr<v1::Account> account =
      deps.store.StartSession(username, stored->hash, RefreshDigest(refresh), refresh_expires, now);
  if (absl::IsUnauthenticated(account.status())) return absl::UnauthenticatedError(kRefused);
  if (!account.ok()) return account.status();
  return Issue(deps, *account, std::move(refresh), refresh_expires, now, resp);
}

absl::Status RefreshSession(Deps& deps, const v1::RefreshSessionRequest& req,
                            v1::RefreshSessionResponse* resp) {
  const absl::Time now = deps.clock.Now();
  std::optional<std::string> username = UsernameOfRefreshToken(req.refresh_token());
  if (!username.has_value()) return absl::UnauthenticatedError(kRefreshRefused);
  std::string refresh = NewRefreshToken(*username);
  const absl::Time refresh_expires = now + deps.tokens.refresh_ttl;
  absl::StatusOr<v1::Account> account = deps.store.RotateRefresh(
      *username, RefreshDigest(req.refresh_token()), RefreshDigest(refresh), refresh_expires, now);
  if (absl::IsUnauthenticated(account.status())) {
    return absl::UnauthenticatedError(kRefreshRefused);
  }
  if (!account.ok()) return account.status();
  return Issue(deps, *account, std::move(refresh), refresh_expires, now, resp);
}

absl::StatusOr<std::string> OwnUsername(Deps& deps, const common::v1::Principal& principal) {
  if (principal.role() != common::v1::ROLE_TEACHER) return principal.subject();
  SHIDANG_ASSIGN_OR_RETURN(std::optional<std::string> username,
                           deps.store.UsernameOfTeacher(principal.subject()));
  if (!username.has_value()) {
    return absl::NotFoundError(absl::StrCat("teacher ", principal.subject(), " has no account"));
  }
  return *username;
}

absl::Status SignOut(Deps& deps, const CallContext& call, const v1::SignOutRequest& req,
                     v1::SignOutResponse*) {
  std::optional<std::string> username = UsernameOfRefreshToken(req.refresh_token());
  if (!username.has_value()) {
    return InvalidField("refresh_token", "format", "is not a refresh token this service made");
  }
  SHIDANG_ASSIGN_OR_RETURN(std::string own, OwnUsername(deps, call.principal));
  if (own != *username) return scope::Denied(call.principal, "end another account's session");
  return deps.store.EndRefresh(*username, RefreshDigest(req.refresh_token()));
}

absl::Status ChangePassword(Deps& deps, const CallContext& call,
                            const v1::ChangePasswordRequest& req, v1::ChangePasswordResponse*) {
  SHIDANG_ASSIGN_OR_RETURN(std::string username, OwnUsername(deps, call.principal));
  SHIDANG_RETURN_IF_ERROR(
      ProblemStatus(NewPasswordProblem("new_password", req.new_password(), username)));
  // A retry gets the first answer before the old password is checked (it no longer matches after
  // the first run). The request is recognised by keyed digests of its passwords, not by them.
  const v1::ChangePasswordRequest view = FingerprintView(deps.sealer, req);
  const WriteContext write{call.actor, "ChangePassword", &view};
  SHIDANG_ASSIGN_OR_RETURN(std::optional<std::string> first,
                           deps.store.FirstAnswer(username, write));
  if (first.has_value()) return absl::OkStatus();
  const absl::Time now = deps.clock.Now();
  SHIDANG_ASSIGN_OR_RETURN(std::optional<StoredAccount> stored, deps.store.Get(username));
  if (!stored.has_value()) return absl::NotFoundError(absl::StrCat("no account ", username));
  const bool matches = deps.passwords.Verify(req.old_password(), stored->hash);
  if (!MaySignIn(FactsOf(stored, matches), now)) {
    // Counted like a wrong password at sign-in, so a stolen token cannot guess the password.
    SHIDANG_RETURN_IF_ERROR(RecordWrongPassword(deps, username, now));
    return InvalidField("old_password", "wrong",
                        "is not the account's password (or the account is locked for now)");
  }
  SHIDANG_ASSIGN_OR_RETURN(std::string hash, deps.passwords.Hash(req.new_password()));
  return deps.store.SetPassword(username, hash, stored->hash, "", write, "").status();
}

}  // namespace shidang::account
