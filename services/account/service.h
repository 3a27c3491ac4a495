#pragma once

// The gRPC edge of the account service: each method runs its use case (sessions.h, admin.h) and
// converts the status once. SignIn and RefreshSession are the methods callable without a token
// (the proto's without_token): the gateway sends them no principal, so they run in
// HandleTokenlessCall, which verifies none; every other method verifies the principal
// (server.h's HandleCall).

#include <memory>

#include "services/account/context.h"
#include "services/common/principal.h"
#include "shidang/account/v1/account.grpc.pb.h"

namespace shidang::account {

class AccountServiceImpl final : public v1::AccountService::Service {
 public:
  // Every reference must outlive the service.
  AccountServiceImpl(redis::Pool& pool, const PrincipalSigner& signer, const Clock& clock,
                     const Passwords& passwords, const TokenSettings& tokens,
                     ProfileReader profile);
  ~AccountServiceImpl() override;

#define SHIDANG_ACCOUNT_DECLARE(Name) \
  grpc::Status Name(grpc::ServerContext*, const v1::Name##Request*, v1::Name##Response*) override;
  SHIDANG_ACCOUNT_DECLARE(SignIn)
  SHIDANG_ACCOUNT_DECLARE(RefreshSession)
  SHIDANG_ACCOUNT_DECLARE(SignOut)
  SHIDANG_ACCOUNT_DECLARE(ChangePassword)
  SHIDANG_ACCOUNT_DECLARE(CreateAccount)
  SHIDANG_ACCOUNT_DECLARE(CreateAccountsFromRoster)
  SHIDANG_ACCOUNT_DECLARE(DisableAccount)
  SHIDANG_ACCOUNT_DECLARE(ResetPassword)
  SHIDANG_ACCOUNT_DECLARE(ListAccounts)
#undef SHIDANG_ACCOUNT_DECLARE

 private:
  struct State;
  std::unique_ptr<State> state_;
  const PrincipalSigner& signer_;
};

}  // namespace shidang::account
