#include "services/account/service.h"

#include <functional>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/account/admin.h"
#include "services/account/sessions.h"
#include "services/common/log.h"
#include "services/common/metrics.h"
#include "services/common/random.h"
#include "services/common/request_check.h"
#include "services/common/server.h"
#include "services/common/status.h"

namespace shidang::account {
namespace {

// HandleCall's bookkeeping (metrics, one log line with the status, x-request-id back) for a
// method called without a principal. The log line names no account and repeats nothing of the
// request: the username, the password and tokens stay out of the log. The generic field checks
// (request_check.h) run first, as for every other method: a malformed username or password (too
// long, a control character, not UTF-8) is INVALID_ARGUMENT naming the field, which depends on the
// input alone and tells nothing of any account.
grpc::Status HandleTokenlessCall(grpc::ServerContext* context, absl::string_view method,
                                 const google::protobuf::Message& request,
                                 const std::function<absl::Status()>& body) {
  const absl::Time start = absl::Now();
  const std::string request_id = SecureRandomHex(12);
  context->AddInitialMetadata(kRequestIdMetadataKey, request_id);
  absl::Status status = CheckRequestFields(request);
  if (status.ok()) {
    status = context->deadline() <= std::chrono::system_clock::now()
                 ? absl::DeadlineExceededError("the call's deadline passed before it started")
                 : body();
  }
  const absl::Duration elapsed = absl::Now() - start;
  RpcMetrics::Process().ObserveCall(method, status.code(), absl::ToDoubleSeconds(elapsed));
  std::string line =
      absl::StrCat("rpc method=", method, " request_id=", request_id,
                   " actor=- status=", absl::StatusCodeToString(status.code()),
                   " ms=", absl::StrFormat("%.1f", absl::ToDoubleMilliseconds(elapsed)));
  // Nor what a refusal says of a malformed password.
  if (!status.ok() && !absl::IsUnauthenticated(status) && !absl::IsInvalidArgument(status)) {
    absl::StrAppend(&line, " error=\"", absl::CHexEscape(status.message()), "\"");
  }
  LogInfo(line);
  return ToGrpcStatus(status);
}

}  // namespace

struct AccountServiceImpl::State {
  State(redis::Pool& pool, const Clock& clock, const Passwords& passwords,
        const TokenSettings& tokens, ProfileReader profile)
      : sealer(tokens.key.secret),
        answers(pool, SealedAnswers(sealer)),
        store(pool),
        deps{store, clock, passwords, tokens, std::move(profile), sealer} {}

  // Every answer kept for retries is sealed: CreateAccount's, the roster's and ResetPassword's
  // hold initial passwords.
  static AnswerStoreOptions SealedAnswers(const AnswerSealer& sealer) {
    AnswerStoreOptions options;
    options.seal = sealer.ForAnswerStore();
    return options;
  }

  AnswerSealer sealer;
  // Answers a retry (the same request_id) with the first answer before the use case runs; the
  // store's own records (AccountStore::FirstAnswer) keep the change single when the process dies
  // between a write and the keeping of its answer here.
  AnswerStore answers;
  AccountStore store;
  Deps deps;
};

AccountServiceImpl::AccountServiceImpl(redis::Pool& pool, const PrincipalSigner& signer,
                                       const Clock& clock, const Passwords& passwords,
                                       const TokenSettings& tokens, ProfileReader profile)
    : state_(std::make_unique<State>(pool, clock, passwords, tokens, std::move(profile))),
      signer_(signer) {}

AccountServiceImpl::~AccountServiceImpl() = default;

grpc::Status AccountServiceImpl::SignIn(grpc::ServerContext* ctx, const v1::SignInRequest* req,
                                        v1::SignInResponse* resp) {
  return HandleTokenlessCall(ctx, "shidang.account.v1.AccountService/SignIn", *req,
                             [&] { return account::SignIn(state_->deps, *req, resp); });
}

grpc::Status AccountServiceImpl::RefreshSession(grpc::ServerContext* ctx,
                                                const v1::RefreshSessionRequest* req,
                                                v1::RefreshSessionResponse* resp) {
  return HandleTokenlessCall(ctx, "shidang.account.v1.AccountService/RefreshSession", *req,
                             [&] { return account::RefreshSession(state_->deps, *req, resp); });
}

#define SHIDANG_ACCOUNT_METHOD(Name)                                                             \
  grpc::Status AccountServiceImpl::Name(grpc::ServerContext* ctx, const v1::Name##Request* req,  \
                                        v1::Name##Response* resp) {                              \
    return HandleCall(ctx, "shidang.account.v1.AccountService/" #Name, signer_, state_->answers, \
                      *req, resp, [&](const CallContext& call) {                                 \
                        return RunOnFreshReads(*req, resp, [&] {                                 \
                          return account::Name(state_->deps, call, *req, resp);                  \
                        });                                                                      \
                      });                                                                        \
  }

SHIDANG_ACCOUNT_METHOD(SignOut)
SHIDANG_ACCOUNT_METHOD(CreateAccount)
SHIDANG_ACCOUNT_METHOD(CreateAccountsFromRoster)
SHIDANG_ACCOUNT_METHOD(DisableAccount)
SHIDANG_ACCOUNT_METHOD(ResetPassword)
SHIDANG_ACCOUNT_METHOD(ListAccounts)

// Its retries are recognised by keyed digests of the passwords (answer_seal.h FingerprintView):
// the kit's AnswerStore fingerprints what it is given, and a plain hash of a password is not kept.
grpc::Status AccountServiceImpl::ChangePassword(grpc::ServerContext* ctx,
                                                const v1::ChangePasswordRequest* req,
                                                v1::ChangePasswordResponse* resp) {
  const v1::ChangePasswordRequest view = FingerprintView(state_->sealer, *req);
  return HandleCall(ctx, "shidang.account.v1.AccountService/ChangePassword", signer_,
                    state_->answers, view, resp, [&](const CallContext& call) {
                      return RunOnFreshReads(*req, resp, [&] {
                        return account::ChangePassword(state_->deps, call, *req, resp);
                      });
                    });
}

#undef SHIDANG_ACCOUNT_METHOD

}  // namespace shidang::account
