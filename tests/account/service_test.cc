// The account service as a real process on a real redis-server, called over gRPC: sign-in and
// its tokens (verified as the gateway verifies them), the lockout (the clock pinned with --now,
// the process restarted later on the same Redis), unknown and wrong passwords alike in answer and
// time, refresh after disabling, HR's reach, the roster's accounts (beside the real profile
// service), and nothing secret in the log.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/jwt.h"
#include "services/common/mutation.h"
#include "services/common/principal.h"
#include "shidang/account/v1/account.grpc.pb.h"
#include "shidang/profile/v1/profile.grpc.pb.h"
#include "tests/kit/files.h"
#include "tests/kit/principals.h"
#include "tests/kit/profile_requests.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/service_process.h"

namespace shidang::account {
namespace {

using common::v1::Principal;
using ::testing::HasSubstr;
using ::testing::Not;
namespace pv1 = ::shidang::profile::v1;

constexpr char kCounty[] = "330723";
constexpr char kOtherCounty[] = "330781";
constexpr char kNow[] = "2026-03-02T08:00:00+08:00";
const std::string kPrincipalKey(40, 'k');
const std::string kJwtSecretHex(64, 'a');

using testing::Who;

absl::Time At(absl::Duration after_now) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, kNow, &t, &error)) << error;
  return t + after_now;
}

std::string NowFlag(absl::Duration after_now) {
  return absl::StrCat("--now=",
                      absl::FormatTime(absl::RFC3339_sec, At(after_now), absl::UTCTimeZone()));
}

class AccountServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteFile(keys_.path() + "/principal.key", kPrincipalKey);
    testing::WriteFile(keys_.path() + "/jwt.keys", absl::StrCat("k1 ", kJwtSecretHex, "\n"));
    Restart(absl::ZeroDuration());
  }

  void TearDown() override {
    if (HasFailure()) {
      std::fprintf(stderr, "shidang-account stderr:\n%s\n", Log().c_str());
      if (profile_ != nullptr) {
        std::fprintf(stderr, "shidang-profile stderr:\n%s\n", profile_->StderrText().c_str());
      }
    }
  }

  // (Re)starts the service on the same Redis with its clock pinned at kNow + `after_now`.
  void Restart(absl::Duration after_now) {
    if (process_ != nullptr) log_before_ += process_->StderrText();
    process_.reset();
    std::vector<std::string> args = {
        "--redis=" + redis_.address(), "--principal_key_file=" + keys_.path() + "/principal.key",
        "--jwt_keys_file=" + keys_.path() + "/jwt.keys", NowFlag(after_now)};
    if (profile_ != nullptr) args.push_back("--profile=" + profile_->address());
    auto process = testing::ServiceProcess::Start(SHIDANG_ACCOUNT_BINARY, args);
    ASSERT_TRUE(process.ok()) << process.status();
    process_ = std::move(*process);
    stub_ = v1::AccountService::NewStub(
        grpc::CreateChannel(process_->address(), grpc::InsecureChannelCredentials()));
  }

  std::string Log() const {
    return log_before_ + (process_ != nullptr ? process_->StderrText() : "");
  }

  // A call with a signed principal, or with none (`who` null), as the gateway makes them.
  template <typename Req, typename Resp>
  grpc::Status Call(grpc::Status (v1::AccountService::Stub::*method)(grpc::ClientContext*,
                                                                     const Req&, Resp*),
                    const Principal* who, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (who != nullptr) signer_.Attach(&ctx, *who);
    return (stub_.get()->*method)(&ctx, req, resp);
  }

  grpc::Status SignIn(const std::string& username, const std::string& password,
                      v1::SignInResponse* resp) {
    v1::SignInRequest req;
    req.set_username(username);
    req.set_password(password);
    return Call(&v1::AccountService::Stub::SignIn, nullptr, req, resp);
  }

  // Creates an account as `who`; its initial password, or "" when refused (status in *status).
  std::string Create(const Principal& who, const v1::Account& account,
                     grpc::Status* status = nullptr) {
    v1::CreateAccountRequest req;
    *req.mutable_account() = account;
    v1::CreateAccountResponse resp;
    grpc::Status s = Call(&v1::AccountService::Stub::CreateAccount, &who, req, &resp);
    if (status != nullptr) *status = s;
    return s.ok() ? resp.initial_password() : "";
  }

  static v1::Account Hr(const std::string& username, common::v1::Role role,
                        const std::string& region) {
    v1::Account a;
    a.set_username(username);
    a.set_role(role);
    a.set_region(region);
    return a;
  }

  static v1::Account SchoolAdmin(const std::string& username, const std::string& county) {
    v1::Account a;
    a.set_username(username);
    a.set_role(common::v1::ROLE_SCHOOL_ADMIN);
    a.set_school_id(absl::StrCat("S", county, "-1"));
    a.set_county_id(county);
    return a;
  }

  JwtVerifier Verifier() {
    auto keys = JwtKeySet::FromFile(keys_.path() + "/jwt.keys");
    EXPECT_TRUE(keys.ok()) << keys.status();
    return JwtVerifier(*std::move(keys), "shidang", "shidang-gateway");
  }

  testing::RedisServer redis_;
  testing::TempDir keys_;
  std::unique_ptr<testing::ServiceProcess> profile_;
  std::unique_ptr<testing::ServiceProcess> process_;
  std::unique_ptr<v1::AccountService::Stub> stub_;
  std::string log_before_;
  PrincipalSigner signer_{kPrincipalKey};
  Principal admin_ = Who(common::v1::ROLE_ADMIN, "root");
  Principal county_hr_ = Who(common::v1::ROLE_COUNTY_HR, "hr-wuyi", kCounty);
};

TEST_F(AccountServiceTest, SignInGivesTheGatewaysTokenAndARefreshThatRotates) {
  const std::string password = Create(admin_, Hr("hr.wuyi", common::v1::ROLE_COUNTY_HR, kCounty));
  ASSERT_FALSE(password.empty());
  v1::SignInResponse session;
  grpc::Status s = SignIn("hr.wuyi", password, &session);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(session.access_expires_at(),
            absl::FormatTime(absl::RFC3339_sec, At(absl::Minutes(15)), absl::UTCTimeZone()));
  EXPECT_EQ(session.principal().role(), common::v1::ROLE_COUNTY_HR);
  EXPECT_EQ(session.principal().region(), kCounty);
  EXPECT_EQ(session.username(), "hr.wuyi");
  // The token is what the gateway verifies: its keyset, issuer and audience.
  auto principal = Verifier().Verify(session.access_token(), At(absl::Minutes(1)));
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->role(), common::v1::ROLE_COUNTY_HR);
  EXPECT_EQ(principal->subject(), "hr.wuyi");
  EXPECT_EQ(principal->region(), kCounty);
  // Short-lived: refused after 15 minutes (and the verifier's minute of skew).
  EXPECT_FALSE(Verifier().Verify(session.access_token(), At(absl::Minutes(17))).ok());

  v1::RefreshSessionRequest refresh;
  refresh.set_refresh_token(session.refresh_token());
  v1::RefreshSessionResponse renewed;
  s = Call(&v1::AccountService::Stub::RefreshSession, nullptr, refresh, &renewed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_NE(renewed.refresh_token(), session.refresh_token());
  EXPECT_TRUE(Verifier().Verify(renewed.access_token(), At(absl::Minutes(1))).ok());
  // The used refresh token is used up.
  v1::RefreshSessionResponse again;
  s = Call(&v1::AccountService::Stub::RefreshSession, nullptr, refresh, &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // Signing out ends the new one.
  v1::SignOutRequest out;
  out.set_refresh_token(renewed.refresh_token());
  v1::SignOutResponse out_resp;
  // The principal as the gateway sends it (expires_at is the token's, on the pinned clock).
  Principal me = renewed.principal();
  me.clear_expires_at();
  s = Call(&v1::AccountService::Stub::SignOut, &me, out, &out_resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  refresh.set_refresh_token(renewed.refresh_token());
  s = Call(&v1::AccountService::Stub::RefreshSession, nullptr, refresh, &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AccountServiceTest, FiveWrongPasswordsLockTheAccountForFifteenMinutes) {
  const std::string password = Create(admin_, SchoolAdmin("head.a", kCounty));
  ASSERT_FALSE(password.empty());
  v1::SignInResponse resp;
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(SignIn("head.a", "wrong-password", &resp).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  // Four in a row do not lock; a success starts the count again.
  ASSERT_TRUE(SignIn("head.a", password, &resp).ok());
  for (int i = 0; i < 5; ++i) SignIn("head.a", "wrong-password", &resp);
  grpc::Status locked = SignIn("head.a", password, &resp);
  EXPECT_EQ(locked.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(locked.error_message(), "wrong username or password");

  Restart(absl::Minutes(15) - absl::Seconds(1));
  EXPECT_EQ(SignIn("head.a", password, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  Restart(absl::Minutes(15));
  grpc::Status open = SignIn("head.a", password, &resp);
  EXPECT_TRUE(open.ok()) << open.error_message();
}

TEST_F(AccountServiceTest, UnknownLockedDisabledAndWrongAnswerAlikeInAboutTheSameTime) {
  const std::string password = Create(admin_, SchoolAdmin("head.b", kCounty));
  const std::string locked_password = Create(admin_, SchoolAdmin("head.c", kCounty));
  const std::string disabled_password = Create(admin_, SchoolAdmin("head.d", kCounty));
  ASSERT_FALSE(password.empty() || locked_password.empty() || disabled_password.empty());
  v1::SignInResponse resp;
  for (int i = 0; i < 5; ++i) SignIn("head.c", "wrong-password", &resp);
  v1::DisableAccountRequest disable;
  disable.set_username("head.d");
  v1::DisableAccountResponse disabled;
  ASSERT_TRUE(Call(&v1::AccountService::Stub::DisableAccount, &admin_, disable, &disabled).ok());

  const grpc::Status wrong = SignIn("head.b", "wrong-password", &resp);
  for (const grpc::Status& other :
       {SignIn("nobody.here", "wrong-password", &resp), SignIn("head.c", locked_password, &resp),
        SignIn("head.d", disabled_password, &resp)}) {
    EXPECT_EQ(other.error_code(), wrong.error_code());
    EXPECT_EQ(other.error_message(), wrong.error_message());
    EXPECT_EQ(other.error_details(), wrong.error_details());
  }
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // Medians of a few calls each; a sign-in that skipped hashing for an unknown name would answer
  // in well under a tenth of the time.
  auto median_ms = [&](const std::string& username) {
    std::vector<double> ms;
    for (int i = 0; i < 5; ++i) {
      const absl::Time start = absl::Now();
      SignIn(username, "wrong-password", &resp);
      ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  };
  // Two tries of a few wrong passwords each on head.b would lock it: use one that stays unlocked.
  ASSERT_FALSE(Create(admin_, SchoolAdmin("head.e", kCounty)).empty());
  const double unknown = median_ms("nobody.here");
  const double known = median_ms("head.e");
  EXPECT_GT(unknown, known * 0.5) << "unknown " << unknown << " ms, wrong " << known << " ms";
  EXPECT_LT(unknown, known * 2.0) << "unknown " << unknown << " ms, wrong " << known << " ms";
}

TEST_F(AccountServiceTest, ADisabledAccountsRefreshIsRefused) {
  const std::string password = Create(admin_, SchoolAdmin("head.f", kCounty));
  v1::SignInResponse session;
  ASSERT_TRUE(SignIn("head.f", password, &session).ok());
  v1::DisableAccountRequest disable;
  disable.set_username("head.f");
  v1::DisableAccountResponse disabled;
  grpc::Status s = Call(&v1::AccountService::Stub::DisableAccount, &county_hr_, disable, &disabled);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(disabled.account().disabled());
  v1::RefreshSessionRequest refresh;
  refresh.set_refresh_token(session.refresh_token());
  v1::RefreshSessionResponse renewed;
  s = Call(&v1::AccountService::Stub::RefreshSession, nullptr, refresh, &renewed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(renewed.access_token().empty());
  EXPECT_EQ(SignIn("head.f", password, &session).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AccountServiceTest, HrCreateAndListOnlyWithinTheirRegion) {
  grpc::Status s;
  EXPECT_FALSE(Create(county_hr_, SchoolAdmin("head.g", kCounty), &s).empty()) << s.error_message();
  Create(county_hr_, SchoolAdmin("head.other", kOtherCounty), &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // Not another HR of their own county, nor an admin; a city's HR may make its counties' HR.
  Create(county_hr_, Hr("hr.peer", common::v1::ROLE_COUNTY_HR, kCounty), &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::Account root;
  root.set_username("root2");
  root.set_role(common::v1::ROLE_ADMIN);
  Create(county_hr_, root, &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  const Principal city_hr = Who(common::v1::ROLE_CITY_HR, "hr-jinhua", "330700");
  EXPECT_FALSE(Create(city_hr, Hr("hr.wuyi2", common::v1::ROLE_COUNTY_HR, kCounty), &s).empty())
      << s.error_message();
  // A county's code is not a city's.
  Create(admin_, Hr("hr.bad", common::v1::ROLE_CITY_HR, kCounty), &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("account.region"));
  EXPECT_FALSE(Create(admin_, SchoolAdmin("head.other", kOtherCounty), &s).empty());

  // A county HR disables nothing outside their county.
  v1::DisableAccountRequest disable;
  disable.set_username("head.other");
  v1::DisableAccountResponse disabled;
  s = Call(&v1::AccountService::Stub::DisableAccount, &county_hr_, disable, &disabled);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  v1::ListAccountsRequest list;
  v1::ListAccountsResponse listed;
  s = Call(&v1::AccountService::Stub::ListAccounts, &county_hr_, list, &listed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::vector<std::string> names;
  for (const v1::Account& a : listed.accounts()) names.push_back(a.username());
  EXPECT_THAT(names, ::testing::ElementsAre("head.g"));
  list.set_region(kOtherCounty);
  s = Call(&v1::AccountService::Stub::ListAccounts, &county_hr_, list, &listed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // Paged, for an admin over everything.
  v1::ListAccountsRequest all;
  all.mutable_page()->set_page_size(2);
  v1::ListAccountsResponse page;
  ASSERT_TRUE(Call(&v1::AccountService::Stub::ListAccounts, &admin_, all, &page).ok());
  EXPECT_EQ(page.accounts_size(), 2);
  EXPECT_EQ(page.page().total_size(), 3);
  all.mutable_page()->set_page_token(page.page().next_page_token());
  ASSERT_TRUE(Call(&v1::AccountService::Stub::ListAccounts, &admin_, all, &page).ok());
  ASSERT_EQ(page.accounts_size(), 1);
  EXPECT_EQ(page.accounts(0).username(), "hr.wuyi2");
  EXPECT_TRUE(page.page().next_page_token().empty());
}

// A school admin's token reaches the school it names, so the school must be of the county the
// account is filed under (and HR's reach is checked on): before, a county's HR could make a school
// admin of another county's school filed under their own county, and a "county" that was a city.
TEST_F(AccountServiceTest, ASchoolAdminsSchoolIsOfTheirCounty) {
  grpc::Status s;
  v1::Account elsewhere = SchoolAdmin("head.j", kCounty);
  elsewhere.set_school_id(absl::StrCat("S", kOtherCounty, "-1"));
  EXPECT_TRUE(Create(county_hr_, elsewhere, &s).empty());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("account.school_id"));
  v1::Account city = SchoolAdmin("head.k", "330700");
  EXPECT_TRUE(Create(admin_, city, &s).empty());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("account.county_id"));
  // Nothing was written.
  v1::ListAccountsRequest list;
  v1::ListAccountsResponse listed;
  ASSERT_TRUE(Call(&v1::AccountService::Stub::ListAccounts, &admin_, list, &listed).ok());
  EXPECT_EQ(listed.accounts_size(), 0);
  v1::SignInResponse session;
  EXPECT_EQ(SignIn("head.j", "any-password-at-all", &session).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

// HR asking for an account out of their reach learns nothing of it, not even that it exists:
// before, an unknown username answered NOT_FOUND and another county's PERMISSION_DENIED naming
// its role.
TEST_F(AccountServiceTest, HrLearnsNothingOfAccountsOutOfTheirReach) {
  ASSERT_FALSE(Create(admin_, SchoolAdmin("head.other", kOtherCounty)).empty());
  auto disable = [&](const Principal& who, const std::string& username) {
    v1::DisableAccountRequest req;
    req.set_username(username);
    v1::DisableAccountResponse resp;
    return Call(&v1::AccountService::Stub::DisableAccount, &who, req, &resp);
  };
  auto reset = [&](const Principal& who, const std::string& username) {
    v1::ResetPasswordRequest req;
    req.set_username(username);
    v1::ResetPasswordResponse resp;
    grpc::Status s = Call(&v1::AccountService::Stub::ResetPassword, &who, req, &resp);
    EXPECT_TRUE(resp.initial_password().empty());
    return s;
  };
  using Action = std::function<grpc::Status(const Principal&, const std::string&)>;
  for (const Action& call : {Action(disable), Action(reset)}) {
    const grpc::Status known = call(county_hr_, "head.other");
    const grpc::Status unknown = call(county_hr_, "nobody.else");
    EXPECT_EQ(known.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(unknown.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_THAT(known.error_message(), Not(HasSubstr("school_admin")));
    std::string unknown_message = unknown.error_message();
    const size_t at = unknown_message.find("nobody.else");
    ASSERT_NE(at, std::string::npos) << unknown_message;
    unknown_message.replace(at, std::string("nobody.else").size(), "head.other");
    EXPECT_EQ(known.error_message(), unknown_message);
    // An admin may learn that it does not exist.
    EXPECT_EQ(call(admin_, "nobody.else").error_code(), grpc::StatusCode::NOT_FOUND);
  }
  // And the account out of reach is unchanged.
  v1::ListAccountsRequest list;
  list.set_region(kOtherCounty);
  v1::ListAccountsResponse listed;
  ASSERT_TRUE(Call(&v1::AccountService::Stub::ListAccounts, &admin_, list, &listed).ok());
  ASSERT_EQ(listed.accounts_size(), 1);
  EXPECT_FALSE(listed.accounts(0).disabled());
}

TEST_F(AccountServiceTest, ChangePasswordEndsTheOldPasswordAndSessions) {
  const std::string password = Create(admin_, SchoolAdmin("head.h", kCounty));
  v1::SignInResponse session;
  ASSERT_TRUE(SignIn("head.h", password, &session).ok());
  Principal me = session.principal();
  me.clear_expires_at();
  v1::ChangePasswordRequest change;
  change.set_old_password("not-the-password");
  change.set_new_password("a new long password");
  v1::ChangePasswordResponse changed;
  grpc::Status s = Call(&v1::AccountService::Stub::ChangePassword, &me, change, &changed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("old_password"));
  change.set_old_password(password);
  change.set_new_password("short");
  s = Call(&v1::AccountService::Stub::ChangePassword, &me, change, &changed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("new_password"));
  change.set_new_password("a new long password");
  s = Call(&v1::AccountService::Stub::ChangePassword, &me, change, &changed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::SignInResponse again;
  EXPECT_EQ(SignIn("head.h", password, &again).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(SignIn("head.h", "a new long password", &again).ok());
  v1::RefreshSessionRequest refresh;
  refresh.set_refresh_token(session.refresh_token());
  v1::RefreshSessionResponse renewed;
  s = Call(&v1::AccountService::Stub::RefreshSession, nullptr, refresh, &renewed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AccountServiceTest, NoPasswordHashOrTokenInTheLog) {
  const std::string password = Create(admin_, SchoolAdmin("head.i", kCounty));
  v1::SignInResponse session;
  ASSERT_TRUE(SignIn("head.i", password, &session).ok());
  SignIn("head.i", "guess-number-one", &session);
  v1::SignInResponse fresh;
  ASSERT_TRUE(SignIn("head.i", password, &fresh).ok());
  v1::ResetPasswordRequest reset;
  reset.set_username("head.i");
  v1::ResetPasswordResponse reset_resp;
  ASSERT_TRUE(Call(&v1::AccountService::Stub::ResetPassword, &admin_, reset, &reset_resp).ok());
  EXPECT_NE(reset_resp.initial_password(), password);
  EXPECT_TRUE(SignIn("head.i", reset_resp.initial_password(), &session).ok());
  // The hash never leaves Redis: not in an answer either.
  auto hash = redis_.pool().Command({"HGET", "account:{u:head.i}:acct", "h"});
  ASSERT_TRUE(hash.ok());
  ASSERT_THAT(std::string(hash->str()), HasSubstr("$argon2id$"));
  EXPECT_THAT(reset_resp.DebugString(), Not(HasSubstr("argon2")));

  const std::string log = Log();
  ASSERT_THAT(log, HasSubstr("AccountService/SignIn"));  // the log is the right one
  for (const std::string& secret :
       {password, std::string("guess-number-one"), reset_resp.initial_password(),
        std::string(hash->str()), std::string("$argon2id"), fresh.access_token(),
        fresh.refresh_token(), session.refresh_token()}) {
    EXPECT_THAT(log, Not(HasSubstr(secret)));
  }
}

// ---- retries (DESIGN "Requests that change state"): the same request_id gets the first answer

// Every value Redis holds in its strings and hashes, for what must never rest there in the clear.
std::string EverythingStored(redis::Pool& pool) {
  std::string all;
  auto keys = pool.Command({"KEYS", "*"});
  EXPECT_TRUE(keys.ok()) << keys.status();
  for (size_t i = 0; keys.ok() && i < keys->size(); ++i) {
    const std::string key((*keys)[i].str());
    auto type = pool.Command({"TYPE", key});
    if (!type.ok()) continue;
    auto value = type->str() == "string" ? pool.Command({"GET", key})
                 : type->str() == "hash" ? pool.Command({"HGETALL", key})
                                         : type;
    if (!value.ok()) continue;
    if (value->is_string()) absl::StrAppend(&all, key, "=", value->str(), "\n");
    for (size_t j = 0; value->is_array() && j < value->size(); ++j) {
      absl::StrAppend(&all, key, ":", (*value)[j].str(), "\n");
    }
  }
  return all;
}

// Forgets the answers the kit's AnswerStore kept ("account:{rq:...}"), as when the process died
// between a write and the keeping of its answer: only the store's own records are left.
void ForgetKeptAnswers(redis::Pool& pool) {
  auto keys = pool.Command({"KEYS", "account:{rq:*"});
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_GT(keys->size(), 0u) << "no answer was kept";
  for (size_t i = 0; i < keys->size(); ++i) {
    ASSERT_TRUE(pool.Command({"DEL", std::string((*keys)[i].str())}).ok());
  }
}

// A field of the account's hash as stored (store.h): "h" its hash, "d" disabled, "f" failures.
std::string Field(redis::Pool& pool, const std::string& username, const std::string& field) {
  auto got = pool.Command({"HGET", absl::StrCat("account:{u:", username, "}:acct"), field});
  EXPECT_TRUE(got.ok()) << got.status();
  return got.ok() && !got->is_nil() ? std::string(got->str()) : "";
}

class AccountRetryTest : public AccountServiceTest {
 protected:
  void ForgetKeptAnswers() { account::ForgetKeptAnswers(redis_.pool()); }
  std::string Field(const std::string& username, const std::string& field) {
    return account::Field(redis_.pool(), username, field);
  }

  int64_t AccountsInDirectory() {
    auto n = redis_.pool().Command({"HLEN", "account:directory"});
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? n->integer() : -1;
  }

  // `n` identical calls at once; every answer must be OK. The answers, serialized.
  template <typename Req, typename Resp>
  std::vector<std::string> AtOnce(
      grpc::Status (v1::AccountService::Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
      const Principal& who, const Req& req, int n) {
    std::vector<std::string> answers(n);
    std::vector<grpc::Status> statuses(n);
    std::vector<std::thread> callers;
    callers.reserve(n);
    for (int i = 0; i < n; ++i) {
      callers.emplace_back([&, i] {
        Resp resp;
        statuses[i] = Call(method, &who, req, &resp);
        answers[i] = resp.SerializeAsString();
      });
    }
    for (std::thread& caller : callers) caller.join();
    for (const grpc::Status& s : statuses) EXPECT_TRUE(s.ok()) << s.error_message();
    return answers;
  }

  template <typename Req, typename Resp>
  void ExpectReusedIdRefused(grpc::Status (v1::AccountService::Stub::*method)(grpc::ClientContext*,
                                                                              const Req&, Resp*),
                             const Principal& who, const Req& changed) {
    Resp resp;
    grpc::Status s = Call(method, &who, changed, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr("request_id"));
  }

  static constexpr int kAtOnce = 8;
};

TEST_F(AccountRetryTest, CreateAccountRetriesGetTheFirstAnswerAndMakeOneAccount) {
  v1::CreateAccountRequest req;
  *req.mutable_account() = SchoolAdmin("head.r", kCounty);
  req.set_request_id("create-head-r");
  const std::vector<std::string> answers =
      AtOnce(&v1::AccountService::Stub::CreateAccount, county_hr_, req, kAtOnce);
  for (const std::string& answer : answers) EXPECT_EQ(answer, answers[0]);
  v1::CreateAccountResponse first;
  ASSERT_TRUE(first.ParseFromString(answers[0]));
  ASSERT_FALSE(first.initial_password().empty());
  const std::string hash = Field("head.r", "h");
  EXPECT_EQ(AccountsInDirectory(), 1);
  // The initial password rests nowhere in the clear (the kept answers are sealed).
  EXPECT_THAT(EverythingStored(redis_.pool()), Not(HasSubstr(first.initial_password())));

  // The same id for another request is refused and makes nothing.
  v1::CreateAccountRequest changed = req;
  changed.mutable_account()->set_display_name("另一个名字");
  ExpectReusedIdRefused(&v1::AccountService::Stub::CreateAccount, county_hr_, changed);
  changed = req;
  changed.mutable_account()->set_username("head.r2");
  ExpectReusedIdRefused(&v1::AccountService::Stub::CreateAccount, county_hr_, changed);
  EXPECT_EQ(AccountsInDirectory(), 1);

  // Changed in between (disabled): a retry still gets the first answer and changes nothing.
  v1::DisableAccountRequest disable;
  disable.set_username("head.r");
  v1::DisableAccountResponse disabled;
  ASSERT_TRUE(Call(&v1::AccountService::Stub::DisableAccount, &admin_, disable, &disabled).ok());
  v1::CreateAccountResponse later;
  grpc::Status s = Call(&v1::AccountService::Stub::CreateAccount, &county_hr_, req, &later);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(later.SerializeAsString(), answers[0]);
  EXPECT_EQ(Field("head.r", "d"), "1");
  EXPECT_EQ(Field("head.r", "h"), hash);

  // With only the store's own record left (and no directory entry: as if the first run died
  // after its script), the same answer; the entry is filled in with the account as stored.
  ForgetKeptAnswers();
  ASSERT_TRUE(redis_.pool().Command({"HDEL", "account:directory", "head.r"}).ok());
  s = Call(&v1::AccountService::Stub::CreateAccount, &county_hr_, req, &later);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(later.SerializeAsString(), answers[0]);
  EXPECT_EQ(Field("head.r", "h"), hash);
  EXPECT_EQ(AccountsInDirectory(), 1);
  auto listed = redis_.pool().Command({"HGET", "account:directory", "head.r"});
  ASSERT_TRUE(listed.ok() && listed->is_string());
  EXPECT_EQ(listed->str(), Field("head.r", "a"));
  ExpectReusedIdRefused(&v1::AccountService::Stub::CreateAccount, county_hr_, changed);

  // Another caller's request_id is theirs: the same id from admin is a new request (refused as a
  // taken username); without a request_id it is refused as before.
  Create(admin_, SchoolAdmin("head.r", kCounty), &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  v1::CreateAccountResponse other;
  s = Call(&v1::AccountService::Stub::CreateAccount, &admin_, req, &other);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << s.error_message();
  EXPECT_TRUE(other.initial_password().empty());
}

TEST_F(AccountRetryTest, ResetPasswordRetriesGetTheSamePasswordAndResetOnce) {
  ASSERT_FALSE(Create(admin_, SchoolAdmin("head.s", kCounty)).empty());
  ASSERT_FALSE(Create(admin_, SchoolAdmin("head.t", kCounty)).empty());
  v1::ResetPasswordRequest req;
  req.set_username("head.s");
  req.set_request_id("reset-head-s");
  const std::vector<std::string> answers =
      AtOnce(&v1::AccountService::Stub::ResetPassword, county_hr_, req, kAtOnce);
  for (const std::string& answer : answers) EXPECT_EQ(answer, answers[0]);
  v1::ResetPasswordResponse first;
  ASSERT_TRUE(first.ParseFromString(answers[0]));
  v1::SignInResponse session;
  ASSERT_TRUE(SignIn("head.s", first.initial_password(), &session).ok());
  EXPECT_THAT(EverythingStored(redis_.pool()), Not(HasSubstr(first.initial_password())));

  v1::ResetPasswordRequest changed = req;
  changed.set_username("head.t");
  ExpectReusedIdRefused(&v1::AccountService::Stub::ResetPassword, county_hr_, changed);

  // The owner changes the password in between: a retry answers the first reset again and does
  // not reset it a second time.
  v1::ChangePasswordRequest change;
  change.set_old_password(first.initial_password());
  change.set_new_password("owner's own choice 1");
  Principal owner = session.principal();
  owner.clear_expires_at();
  v1::ChangePasswordResponse changed_resp;
  grpc::Status s = Call(&v1::AccountService::Stub::ChangePassword, &owner, change, &changed_resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const std::string hash = Field("head.s", "h");
  for (bool forget : {false, true}) {
    SCOPED_TRACE(forget ? "only the store's record" : "the kept answer");
    if (forget) ForgetKeptAnswers();
    v1::ResetPasswordResponse later;
    s = Call(&v1::AccountService::Stub::ResetPassword, &county_hr_, req, &later);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(later.SerializeAsString(), answers[0]);
    EXPECT_EQ(Field("head.s", "h"), hash);
    EXPECT_TRUE(SignIn("head.s", "owner's own choice 1", &session).ok());
  }
  ExpectReusedIdRefused(&v1::AccountService::Stub::ResetPassword, county_hr_, changed);
}

TEST_F(AccountRetryTest, DisableAccountRetriesGetTheFirstAnswer) {
  ASSERT_FALSE(Create(admin_, SchoolAdmin("head.u", kCounty)).empty());
  ASSERT_FALSE(Create(admin_, SchoolAdmin("head.v", kCounty)).empty());
  v1::DisableAccountRequest req;
  req.set_username("head.u");
  req.set_request_id("disable-head-u");
  const std::vector<std::string> answers =
      AtOnce(&v1::AccountService::Stub::DisableAccount, county_hr_, req, kAtOnce);
  for (const std::string& answer : answers) EXPECT_EQ(answer, answers[0]);
  v1::DisableAccountResponse first;
  ASSERT_TRUE(first.ParseFromString(answers[0]));
  EXPECT_TRUE(first.account().disabled());

  v1::DisableAccountRequest changed = req;
  changed.set_username("head.v");
  ExpectReusedIdRefused(&v1::AccountService::Stub::DisableAccount, county_hr_, changed);
  EXPECT_EQ(Field("head.v", "d"), "0");

  // Its password reset in between (which also unlocks it): the retry answers as first.
  v1::ResetPasswordRequest reset;
  reset.set_username("head.u");
  v1::ResetPasswordResponse reset_resp;
  ASSERT_TRUE(Call(&v1::AccountService::Stub::ResetPassword, &admin_, reset, &reset_resp).ok());
  for (bool forget : {false, true}) {
    SCOPED_TRACE(forget ? "only the store's record" : "the kept answer");
    if (forget) {
      // As if the first run died after its script: the directory still lists it enabled.
      ForgetKeptAnswers();
      v1::Account listed = first.account();
      listed.set_disabled(false);
      ASSERT_TRUE(redis_.pool()
                      .Command({"HSET", "account:directory", "head.u", listed.SerializeAsString()})
                      .ok());
    }
    v1::DisableAccountResponse later;
    grpc::Status s = Call(&v1::AccountService::Stub::DisableAccount, &county_hr_, req, &later);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(later.SerializeAsString(), answers[0]);
  }
  ExpectReusedIdRefused(&v1::AccountService::Stub::DisableAccount, county_hr_, changed);
  EXPECT_EQ(Field("head.v", "d"), "0");
  auto listed = redis_.pool().Command({"HGET", "account:directory", "head.u"});
  ASSERT_TRUE(listed.ok() && listed->is_string());
  EXPECT_EQ(listed->str(), Field("head.u", "a"));
  EXPECT_EQ(listed->str(), first.account().SerializeAsString());
}

TEST_F(AccountRetryTest, ChangePasswordRetriesAreNotWrongPasswords) {
  const std::string initial = Create(admin_, SchoolAdmin("head.w", kCounty));
  ASSERT_FALSE(initial.empty());
  v1::SignInResponse session;
  ASSERT_TRUE(SignIn("head.w", initial, &session).ok());
  Principal owner = session.principal();
  owner.clear_expires_at();
  v1::ChangePasswordRequest req;
  req.set_old_password(initial);
  req.set_new_password("a password of my own");
  req.set_request_id("change-1");
  const std::vector<std::string> answers =
      AtOnce(&v1::AccountService::Stub::ChangePassword, owner, req, kAtOnce);
  const std::string hash = Field("head.w", "h");
  EXPECT_TRUE(SignIn("head.w", "a password of my own", &session).ok());

  v1::ChangePasswordRequest changed = req;
  changed.set_new_password("another one of mine");
  ExpectReusedIdRefused(&v1::AccountService::Stub::ChangePassword, owner, changed);
  for (bool forget : {false, true}) {
    SCOPED_TRACE(forget ? "only the store's record" : "the kept answer");
    if (forget) ForgetKeptAnswers();
    // Before: the old password no longer matched, so a retry was INVALID_ARGUMENT and counted as
    // a wrong password toward the lockout.
    for (int i = 0; i < 6; ++i) {
      v1::ChangePasswordResponse later;
      grpc::Status s = Call(&v1::AccountService::Stub::ChangePassword, &owner, req, &later);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    EXPECT_EQ(Field("head.w", "h"), hash);
    EXPECT_EQ(Field("head.w", "f"), "0");
    EXPECT_TRUE(SignIn("head.w", "a password of my own", &session).ok());
  }
  ExpectReusedIdRefused(&v1::AccountService::Stub::ChangePassword, owner, changed);
  // Neither password rests in Redis, nor a plain SHA-256 of the request that names them.
  const std::string stored = EverythingStored(redis_.pool());
  for (const std::string& secret : {req.new_password(), initial, changed.new_password()}) {
    EXPECT_THAT(stored, Not(HasSubstr(secret)));
  }
  v1::ChangePasswordRequest bare = req;
  bare.clear_request_id();
  EXPECT_THAT(stored, Not(HasSubstr(Fingerprint(bare))));
}

// ---- beside the real profile service

class RosterAccountsTest : public AccountServiceTest {
 protected:
  void SetUp() override {
    AccountServiceTest::SetUp();
    testing::WriteFile(keys_.path() + "/data.key", std::string(48, 'd'));
    auto profile = testing::ServiceProcess::Start(
        SHIDANG_PROFILE_BINARY,
        {"--redis=" + redis_.address(), "--principal_key_file=" + keys_.path() + "/principal.key",
         "--data_key_file=" + keys_.path() + "/data.key"});
    ASSERT_TRUE(profile.ok()) << profile.status();
    profile_ = std::move(*profile);
    profile_stub_ = pv1::ProfileService::NewStub(
        grpc::CreateChannel(profile_->address(), grpc::InsecureChannelCredentials()));
    Restart(absl::ZeroDuration());
  }

  template <typename Req, typename Resp>
  grpc::Status CallProfile(grpc::Status (pv1::ProfileService::Stub::*method)(grpc::ClientContext*,
                                                                             const Req&, Resp*),
                           const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    signer_.Attach(&ctx, admin_);
    return (profile_stub_.get()->*method)(&ctx, req, resp);
  }

  // The county, one school and `n` teachers in the profile service; the teachers' ids.
  std::vector<std::string> MakeRoster(int n) {
    pv1::CreateCountyResponse county_resp;
    grpc::Status s = CallProfile(&pv1::ProfileService::Stub::CreateCounty,
                                 testing::WuyiCountyRequest(), &county_resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    pv1::CreateSchoolResponse school_resp;
    s = CallProfile(&pv1::ProfileService::Stub::CreateSchool,
                    testing::PrimarySchoolRequest("城关小学", pv1::SCHOOL_LOCATION_URBAN, "school"),
                    &school_resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      pv1::CreateTeacherRequest req =
          testing::MathsTeacherRequest(absl::StrCat("老师", i), "2008-09-01", "2015-09-01",
                                       school_resp.school().school_id(), i + 1);
      req.set_request_id(absl::StrCat("teacher-", i));
      pv1::CreateTeacherResponse resp;
      s = CallProfile(&pv1::ProfileService::Stub::CreateTeacher, req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      ids.push_back(resp.teacher().teacher_id());
    }
    return ids;
  }

  std::unique_ptr<pv1::ProfileService::Stub> profile_stub_;
};

TEST_F(RosterAccountsTest, HrMakesTheirCountysTeachersAccountsBoundToTheirIds) {
  const std::vector<std::string> teachers = MakeRoster(2);
  v1::CreateAccountsFromRosterRequest req;
  req.set_county_id(kCounty);
  v1::CreateAccountsFromRosterResponse resp;
  // Another county's HR may not.
  const Principal other_hr = Who(common::v1::ROLE_COUNTY_HR, "hr-yiwu", kOtherCounty);
  grpc::Status s = Call(&v1::AccountService::Stub::CreateAccountsFromRoster, &other_hr, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(resp.accounts_size(), 0);

  s = Call(&v1::AccountService::Stub::CreateAccountsFromRoster, &county_hr_, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.created(), 2);
  ASSERT_EQ(resp.accounts_size(), 2);
  for (const v1::RosterAccount& row : resp.accounts()) {
    EXPECT_EQ(row.code(), "OK") << row.message();
    EXPECT_THAT(teachers, ::testing::Contains(row.teacher_id()));
    v1::SignInResponse session;
    s = SignIn(row.username(), row.initial_password(), &session);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(session.principal().role(), common::v1::ROLE_TEACHER);
    EXPECT_EQ(session.principal().subject(), row.teacher_id());
    auto principal = Verifier().Verify(session.access_token(), At(absl::Minutes(1)));
    ASSERT_TRUE(principal.ok()) << principal.status();
    EXPECT_EQ(principal->subject(), row.teacher_id());
    EXPECT_EQ(principal->role(), common::v1::ROLE_TEACHER);
  }
  // Again: every row refused, each on its own, nothing made twice.
  v1::CreateAccountsFromRosterResponse again;
  s = Call(&v1::AccountService::Stub::CreateAccountsFromRoster, &county_hr_, req, &again);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(again.created(), 0);
  EXPECT_EQ(again.refused(), 2);
  for (const v1::RosterAccount& row : again.accounts()) {
    EXPECT_EQ(row.code(), "ALREADY_EXISTS");
    EXPECT_TRUE(row.initial_password().empty());
  }
  // One account per teacher, also under another name.
  v1::Account teacher;
  teacher.set_username("second.name");
  teacher.set_role(common::v1::ROLE_TEACHER);
  teacher.set_teacher_id(teachers[0]);
  Create(county_hr_, teacher, &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  // And HR of another county may not bind one of these teachers.
  teacher.set_teacher_id(teachers[1]);
  Create(other_hr, teacher, &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

// HR learn nothing of teachers out of their reach: an unknown teacher id is refused as one of
// another county is (before: NOT_FOUND for the one, PERMISSION_DENIED for the other).
TEST_F(RosterAccountsTest, HrCannotProbeForTeachersOutOfTheirReach) {
  const std::vector<std::string> teachers = MakeRoster(1);
  std::string unknown_id = teachers[0];
  unknown_id.back() = unknown_id.back() == '0' ? '1' : '0';
  const Principal other_hr = Who(common::v1::ROLE_COUNTY_HR, "hr-yiwu", kOtherCounty);
  v1::Account teacher;
  teacher.set_username("probe.name");
  teacher.set_role(common::v1::ROLE_TEACHER);
  teacher.set_teacher_id(teachers[0]);
  grpc::Status known;
  Create(other_hr, teacher, &known);
  teacher.set_teacher_id(unknown_id);
  grpc::Status unknown;
  Create(other_hr, teacher, &unknown);
  EXPECT_EQ(known.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(unknown.error_code(), known.error_code());
  EXPECT_EQ(unknown.error_message(), known.error_message());
  // An admin may learn that there is no such teacher.
  grpc::Status s;
  Create(admin_, teacher, &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
}

TEST_F(RosterAccountsTest, RosterRetriesGetTheFirstAnswerAndMakeEachAccountOnce) {
  const std::vector<std::string> teachers = MakeRoster(2);
  v1::CreateAccountsFromRosterRequest req;
  req.set_county_id(kCounty);
  req.set_request_id("roster-1");
  v1::CreateAccountsFromRosterResponse first;
  grpc::Status s =
      Call(&v1::AccountService::Stub::CreateAccountsFromRoster, &county_hr_, req, &first);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(first.created(), 2);
  const std::string first_bytes = first.SerializeAsString();
  const std::string stored = EverythingStored(redis_.pool());
  for (const v1::RosterAccount& row : first.accounts()) {
    EXPECT_THAT(stored, Not(HasSubstr(row.initial_password())));
  }

  v1::CreateAccountsFromRosterRequest changed = req;
  changed.set_school_id("another-school");
  v1::CreateAccountsFromRosterResponse refused;
  s = Call(&v1::AccountService::Stub::CreateAccountsFromRoster, &county_hr_, changed, &refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("request_id"));

  // In between: one account disabled, and a teacher more in the roster.
  v1::DisableAccountRequest disable;
  disable.set_username(first.accounts(0).username());
  v1::DisableAccountResponse disabled;
  ASSERT_TRUE(Call(&v1::AccountService::Stub::DisableAccount, &admin_, disable, &disabled).ok());
  pv1::CreateTeacherRequest more = testing::MathsTeacherRequest("老师9", "2008-09-01", "2015-09-01",
                                                                first.accounts(0).school_id(), 9);
  more.set_request_id("teacher-9");
  pv1::CreateTeacherResponse more_resp;
  s = CallProfile(&pv1::ProfileService::Stub::CreateTeacher, more, &more_resp);
  ASSERT_TRUE(s.ok()) << s.error_message();

  v1::CreateAccountsFromRosterResponse later;
  s = Call(&v1::AccountService::Stub::CreateAccountsFromRoster, &county_hr_, req, &later);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(later.SerializeAsString(), first_bytes);
  auto bound =
      redis_.pool().Command({"HGET", "account:teacher-account", more_resp.teacher().teacher_id()});
  ASSERT_TRUE(bound.ok());
  EXPECT_TRUE(bound->is_nil()) << "the retry made an account the first call did not";

  // With only the rows' own records (the process died before the whole answer was kept): the two
  // rows made answer as first made, their passwords unchanged; the new teacher's row is new.
  const std::string hash = Field(redis_.pool(), first.accounts(1).username(), "h");
  ForgetKeptAnswers(redis_.pool());
  v1::CreateAccountsFromRosterResponse rerun;
  s = Call(&v1::AccountService::Stub::CreateAccountsFromRoster, &county_hr_, req, &rerun);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(rerun.created(), 3);
  for (const v1::RosterAccount& made : first.accounts()) {
    bool found = false;
    for (const v1::RosterAccount& row : rerun.accounts()) {
      if (row.teacher_id() != made.teacher_id()) continue;
      found = true;
      EXPECT_EQ(row.SerializeAsString(), made.SerializeAsString());
    }
    EXPECT_TRUE(found) << made.teacher_id();
  }
  EXPECT_EQ(Field(redis_.pool(), first.accounts(1).username(), "h"), hash);
  EXPECT_EQ(Field(redis_.pool(), first.accounts(0).username(), "d"), "1");
}

}  // namespace
}  // namespace shidang::account
