// Signing in through the real gateway (issue 17): POST /v1/sessions needs no token and gives the
// bearer token every other call takes; refreshing likewise; everything else still needs a token;
// the same over the gateway's gRPC front.

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shidang/account/v1/account.grpc.pb.h"
#include "tests/e2e/platform.h"

namespace shidang::e2e {
namespace {

namespace http = boost::beast::http;
namespace pb = google::protobuf;
using ::testing::HasSubstr;

class SignInTest : public PlatformTest {
 protected:
  void SetUp() override {
    PlatformTest::SetUp();
    if (HasFatalFailure()) return;
    client_ = std::make_unique<HttpClient>(platform().gateway().http_port);
  }

  HttpReply Send(http::verb verb, const std::string& target, const std::string& token,
                 const std::string& body = "", const std::string& idempotency_key = "") {
    Headers headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    if (!idempotency_key.empty()) headers.emplace_back("Idempotency-Key", idempotency_key);
    return client_->Send(verb, target, body, headers);
  }

  // A county HR account made by an admin over HTTP; its initial password.
  std::string MakeHrAccount(const std::string& username, const std::string& region) {
    HttpReply reply =
        Send(http::verb::post, "/v1/accounts", platform().Token(AdminP()),
             absl::StrCat(R"({"account":{"username":")", username,
                          R"(","role":"ROLE_COUNTY_HR","region":")", region, R"("}})"));
    EXPECT_EQ(reply.status, 200) << reply.body;
    const pb::Struct password_json = ParseJson(reply.body);
    const pb::Value* password = Member(password_json, "initialPassword");
    return password == nullptr ? "" : password->string_value();
  }

  std::unique_ptr<HttpClient> client_;
};

TEST_F(SignInTest, SignInOverHttpThenCallWithTheToken) {
  const std::string password = MakeHrAccount("hr.yongkang", "330784");
  ASSERT_FALSE(password.empty());

  // No Authorization header at all.
  HttpReply reply =
      Send(http::verb::post, "/v1/sessions", "",
           absl::StrCat(R"({"username":"hr.yongkang","password":")", password, R"("})"));
  ASSERT_EQ(reply.status, 200) << reply.body;
  pb::Struct session = ParseJson(reply.body);
  ASSERT_NE(Member(session, "accessToken"), nullptr) << reply.body;
  const std::string access = Member(session, "accessToken")->string_value();
  const std::string refresh = Member(session, "refreshToken")->string_value();
  EXPECT_FALSE(refresh.empty());
  ASSERT_NE(Member(session, "accessExpiresAt"), nullptr);
  EXPECT_THAT(Member(session, "accessExpiresAt")->string_value(), HasSubstr("T"));
  EXPECT_EQ(Member(session, "principal.role")->string_value(), "ROLE_COUNTY_HR");
  EXPECT_EQ(Member(session, "principal.region")->string_value(), "330784");
  EXPECT_EQ(Member(session, "principal.subject")->string_value(), "hr.yongkang");

  // The token works through the gateway: HR's own accounts list, and a profile read.
  reply = Send(http::verb::get, "/v1/accounts?region=330784", access);
  EXPECT_EQ(reply.status, 200) << reply.body;
  reply = Send(http::verb::get, "/v1/counties/330784/schools", access);
  EXPECT_NE(reply.status, 401) << reply.body;
  EXPECT_NE(reply.status, 403) << reply.body;
  // ...and its scope is the account's: another county's accounts are refused.
  reply = Send(http::verb::get, "/v1/accounts?region=330781", access);
  EXPECT_EQ(reply.status, 403) << reply.body;

  // Refreshing needs no token either; the new access token works too.
  reply = Send(http::verb::post, "/v1/sessions:refresh", "",
               absl::StrCat(R"({"refreshToken":")", refresh, R"("})"));
  ASSERT_EQ(reply.status, 200) << reply.body;
  pb::Struct renewed = ParseJson(reply.body);
  const std::string access2 = Member(renewed, "accessToken")->string_value();
  const std::string refresh2 = Member(renewed, "refreshToken")->string_value();
  EXPECT_EQ(Send(http::verb::get, "/v1/accounts", access2).status, 200);

  // Signing out needs the token; then that refresh token is over.
  const std::string out = absl::StrCat(R"({"refreshToken":")", refresh2, R"("})");
  EXPECT_EQ(Send(http::verb::post, "/v1/sessions:signOut", "", out).status, 401);
  reply = Send(http::verb::post, "/v1/sessions:signOut", access2, out);
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(Send(http::verb::post, "/v1/sessions:refresh", "", out).status, 401);
}

TEST_F(SignInTest, WrongAndUnknownAreTheSame401AndOtherMethodsNeedAToken) {
  ASSERT_FALSE(MakeHrAccount("hr.jiangshan", "330881").empty());
  const HttpReply wrong = Send(http::verb::post, "/v1/sessions", "",
                               R"({"username":"hr.jiangshan","password":"not the password"})");
  const HttpReply unknown = Send(http::verb::post, "/v1/sessions", "",
                                 R"({"username":"nobody.at.all","password":"not the password"})");
  EXPECT_EQ(wrong.status, 401) << wrong.body;
  EXPECT_EQ(unknown.status, 401) << unknown.body;
  EXPECT_EQ(Member(ParseJson(wrong.body), "message")->string_value(),
            Member(ParseJson(unknown.body), "message")->string_value());
  // Every other account method still needs a token.
  EXPECT_EQ(Send(http::verb::get, "/v1/accounts", "").status, 401);
  EXPECT_EQ(Send(http::verb::post, "/v1/accounts/me:changePassword", "",
                 R"({"oldPassword":"x","newPassword":"yyyyyyyyyyyy"})")
                .status,
            401);
  EXPECT_EQ(Send(http::verb::post, "/v1/accounts", "", R"({"account":{"username":"x"}})").status,
            401);
}

TEST_F(SignInTest, SignInOverTheGrpcFrontWithoutAToken) {
  const std::string password = MakeHrAccount("hr.lanxi", "330781");
  ASSERT_FALSE(password.empty());
  auto stub = account::v1::AccountService::NewStub(platform().GatewayChannel());
  account::v1::SignInRequest req;
  req.set_username("hr.lanxi");
  req.set_password(password);
  account::v1::SignInResponse resp;
  grpc::Status s = stub->SignIn(BearerContext("").get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.principal().region(), "330781");
  // A caller's own principal headers are not passed on: the token decides.
  account::v1::ListAccountsRequest list;
  account::v1::ListAccountsResponse listed;
  auto context = BearerContext("");
  context->AddMetadata("x-shidang-principal-sig", std::string(64, '0'));
  s = stub->ListAccounts(context.get(), list, &listed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  s = stub->ListAccounts(BearerContext(resp.access_token()).get(), list, &listed);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

// Account writes over HTTP take Idempotency-Key (or requestId in the body) like every other
// write: a retry gets the first answer byte for byte, its initial password too, and changes
// nothing twice; the same key with another request is a 400 naming request_id.
TEST_F(SignInTest, RetriedAccountWritesOverHttpGetTheFirstAnswer) {
  const std::string admin = platform().Token(AdminP());
  const std::string create = R"({"account":{"username":"hr.pujiang","role":"ROLE_COUNTY_HR",)"
                             R"("region":"330726"}})";
  const HttpReply first = Send(http::verb::post, "/v1/accounts", admin, create, "create-pujiang");
  ASSERT_EQ(first.status, 200) << first.body;
  const HttpReply again = Send(http::verb::post, "/v1/accounts", admin, create, "create-pujiang");
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.body, first.body);
  const std::string initial = Member(ParseJson(first.body), "initialPassword")->string_value();
  ASSERT_FALSE(initial.empty());
  const HttpReply other = Send(http::verb::post, "/v1/accounts", admin,
                               R"({"account":{"username":"hr.pujiang2","role":"ROLE_COUNTY_HR",)"
                               R"("region":"330726"}})",
                               "create-pujiang");
  EXPECT_EQ(other.status, 400) << other.body;
  EXPECT_THAT(other.body, HasSubstr("request_id"));

  // A reset, retried with requestId in the body: the same new password, set once.
  const std::string reset_body = R"({"requestId":"reset-pujiang"})";
  const HttpReply reset =
      Send(http::verb::post, "/v1/accounts/hr.pujiang:resetPassword", admin, reset_body);
  ASSERT_EQ(reset.status, 200) << reset.body;
  const std::string password = Member(ParseJson(reset.body), "initialPassword")->string_value();
  EXPECT_NE(password, initial);
  HttpReply session =
      Send(http::verb::post, "/v1/sessions", "",
           absl::StrCat(R"({"username":"hr.pujiang","password":")", password, R"("})"));
  ASSERT_EQ(session.status, 200) << session.body;
  const std::string access = Member(ParseJson(session.body), "accessToken")->string_value();

  // The owner changes it, retrying too: both answered OK, the new password holds, and the admin's
  // retried reset answers as first without resetting it again.
  const std::string change =
      absl::StrCat(R"({"oldPassword":")", password, R"(","newPassword":"pujiang's own password"})");
  for (int i = 0; i < 2; ++i) {
    const HttpReply changed =
        Send(http::verb::post, "/v1/accounts/me:changePassword", access, change, "change-1");
    EXPECT_EQ(changed.status, 200) << changed.body;
  }
  const HttpReply reset_again =
      Send(http::verb::post, "/v1/accounts/hr.pujiang:resetPassword", admin, reset_body);
  EXPECT_EQ(reset_again.status, 200) << reset_again.body;
  EXPECT_EQ(reset_again.body, reset.body);
  session = Send(http::verb::post, "/v1/sessions", "",
                 R"({"username":"hr.pujiang","password":"pujiang's own password"})");
  EXPECT_EQ(session.status, 200) << session.body;
}

}  // namespace
}  // namespace shidang::e2e
