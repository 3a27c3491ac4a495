#pragma once

// What admins and HR do with accounts: create one, create the teachers' accounts of a county from
// its roster (the profile service's teachers), disable, reset a password, list.
//
// Who may manage an account is a rule (rules.h's MayCreateRole and CanManage): an admin every
// account; HR the teachers' and school admins' accounts of the counties in their region, and HR
// accounts of regions strictly inside theirs (a city's HR its counties' HR). Training centres'
// and admins' accounts: admins only.

#include "absl/status/status.h"
#include "services/account/context.h"
#include "services/common/server.h"
#include "shidang/account/v1/account.pb.h"

namespace shidang::account {

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 500;

absl::Status CreateAccount(Deps& deps, const CallContext& call, const v1::CreateAccountRequest& req,
                           v1::CreateAccountResponse* resp);
absl::Status CreateAccountsFromRoster(Deps& deps, const CallContext& call,
                                      const v1::CreateAccountsFromRosterRequest& req,
                                      v1::CreateAccountsFromRosterResponse* resp);
absl::Status DisableAccount(Deps& deps, const CallContext& call,
                            const v1::DisableAccountRequest& req, v1::DisableAccountResponse* resp);
absl::Status ResetPassword(Deps& deps, const CallContext& call, const v1::ResetPasswordRequest& req,
                           v1::ResetPasswordResponse* resp);
absl::Status ListAccounts(Deps& deps, const CallContext& call, const v1::ListAccountsRequest& req,
                          v1::ListAccountsResponse* resp);

}  // namespace shidang::account
