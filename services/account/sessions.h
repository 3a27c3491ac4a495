#pragma once

// Signing in and out, refreshing a session, changing one's own password.
//
// SignIn and RefreshSession answer every refusal with the same UNAUTHENTICATED and the same
// message (kRefused): an unknown username, a wrong password, a locked or disabled account, an
// unknown, used or expired refresh token. A sign-in costs one password verification (against a
// dummy hash when the account is unknown) and one script whatever the outcome, so the answers
// also take about the same time. Who may sign in, and the lockout, are rules (rules.h:
// MaySignIn, AfterWrongPassword).

#include "absl/status/status.h"
#include "services/account/context.h"
#include "services/common/server.h"
#include "shidang/account/v1/account.pb.h"

namespace shidang::account {

inline constexpr char kRefused[] = "wrong username or password";
inline constexpr char kRefreshRefused[] = "the session has ended; sign in again";

absl::Status SignIn(Deps& deps, const v1::SignInRequest& req, v1::SignInResponse* resp);
absl::Status RefreshSession(Deps& deps, const v1::RefreshSessionRequest& req,
                            v1::RefreshSessionResponse* resp);
absl::Status SignOut(Deps& deps, const CallContext& call, const v1::SignOutRequest& req,
                     v1::SignOutResponse* resp);
absl::Status ChangePassword(Deps& deps, const CallContext& call,
                            const v1::ChangePasswordRequest& req, v1::ChangePasswordResponse* resp);

// The username of the caller's own account (teachers through their teacher id). NOT_FOUND when
// the caller has no account (a token minted by hand).
absl::StatusOr<std::string> OwnUsername(Deps& deps, const common::v1::Principal& principal);

}  // namespace shidang::account
