// The HTTP/JSON front end to end: shidang-gateway as a real process with --http_port=0, in front of
// shidang-echo-server (routes added to the test service's descriptor here) or the real
// shidang-profile on a real redis-server. Requests go over TCP from a plain Beast HTTP client, as
// curl would send them; tokens are minted with the kit's MintJwt.

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <openssl/rand.h>
#include <signal.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "gtest/gtest.h"
#include "services/common/jwt.h"
#include "services/profile/demo_county.h"
#include "services/profile/rules.h"
#include "shidang/common/v1/options.pb.h"
#include "tests/kit/descriptor_sets.h"
#include "tests/kit/files.h"
#include "tests/kit/gateway_files.h"
#include "tests/kit/gateway_fixture.h"
#include "tests/kit/health_check.h"
#include "tests/kit/http_client.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/service_process.h"

namespace shidang::testing {
namespace {

namespace pb = google::protobuf;
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using common::v1::Principal;
using common::v1::Role;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

constexpr char kCounty[] = "330723";

void AddRoute(pb::MethodDescriptorProto* method, const std::vector<Role>& roles,
              const std::string& verb, const std::string& path, const std::string& body) {
  for (Role role : roles) method->mutable_options()->AddExtension(common::v1::roles, role);
  common::v1::HttpRoute* route = method->mutable_options()->MutableExtension(common::v1::http);
  route->set_method(verb);
  route->set_path(path);
  route->set_body(body);
}

// The public API's descriptor set plus the test service, with roles and HTTP routes given to the
// test service as a real service declares them in its proto.
std::string TestDescriptorSet() {
  pb::FileDescriptorSet set = testing::DescriptorSetWithTestService(
      SHIDANG_DESCRIPTOR_SET, SHIDANG_TESTING_DESCRIPTOR_SET,
      [](const std::string& service, pb::MethodDescriptorProto* method) {
        if (service != "EchoService") return;
        if (method->name() == "Echo") {
          AddRoute(method, {common::v1::ROLE_TEACHER, common::v1::ROLE_COUNTY_HR}, "POST",
                   "/v1/echo/{text}", "*");
        } else if (method->name() == "Fail") {
          AddRoute(method, {common::v1::ROLE_TEACHER}, "POST", "/v1/fail/{field}:check", "");
        }
      });
  return set.SerializeAsString();
}

class HttpFrontTest : public GatewayFixture {
 protected:
  HttpFrontTest() : GatewayFixture(SHIDANG_GATEWAY, SHIDANG_ECHO_SERVER) {}

  void SetUp() override { WriteFiles(TestDescriptorSet()); }

  void StartGateway(const std::string& backends, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "--backends=" + backends,
        "--health_interval_ms=100",
        "--shutdown_grace_ms=1000",
        "--cors_origins=https://hr.example.cn",
    };
    args.insert(args.end(), extra.begin(), extra.end());
    ASSERT_NO_FATAL_FAILURE(LaunchGateway(args, /*http=*/true));
  }

  void StartEchoGateway(std::vector<std::string> extra = {}) {
    StartEcho();
    StartGateway("shidang.testing.v1.EchoService=" + echo_->address(), std::move(extra));
  }

  std::string Token(Role role, const std::string& subject, const std::string& region = "") {
    Principal claims;
    claims.set_role(role);
    claims.set_subject(subject);
    claims.set_region(region);
    return TokenFor(claims);
  }

  std::vector<std::pair<std::string, std::string>> Bearer(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
  }

  // Polls /readyz until it answers `want`.
  bool AwaitReady(HttpClient& client, int want) {
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (absl::Now() < give_up) {
      if (client.Send(http::verb::get, "/readyz").status == want) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }
};

TEST_F(HttpFrontTest, PostsJsonAndAnswersLowerCamelCaseWithDefaults) {
  StartEchoGateway();
  HttpClient client(http_port_);
  const std::string teacher = Token(common::v1::ROLE_TEACHER, "t-1");
  // The path binding wins over the body's text.
  HttpReply reply = client.Send(http::verb::post, "/v1/echo/%E4%BD%A0%E5%A5%BD",
                                R"({"text": "body", "sleep_ms": 0})", Bearer(teacher));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.Header("Content-Type"), "application/json");
  EXPECT_THAT(reply.body, HasSubstr(R"("text":"你好")"));
  EXPECT_THAT(reply.body, HasSubstr(R"("actor":"teacher:t-1")"));
  // lowerCamelCase out, and an empty field still present.
  EXPECT_THAT(reply.body, HasSubstr(R"("requestId":")"));
  EXPECT_THAT(reply.body, HasSubstr(R"("today":"")"));
  // Both spellings in; the same keep-alive connection serves the next request.
  reply = client.Send(http::verb::post, "/v1/echo/a", R"({"sleepMs": 1})", Bearer(teacher));
  EXPECT_EQ(reply.status, 200) << reply.body;
}

TEST_F(HttpFrontTest, BindsPathAndQuery) {
  StartEchoGateway();
  HttpClient client(http_port_);
  const std::string teacher = Token(common::v1::ROLE_TEACHER, "t-1");
  HttpReply reply =
      client.Send(http::verb::post, "/v1/echo/hello%20world?sleepMs=1", "", Bearer(teacher));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_THAT(reply.body, HasSubstr(R"("text":"hello world")"));
  reply = client.Send(http::verb::post, "/v1/echo/x?sleep_ms=abc", "", Bearer(teacher));
  EXPECT_EQ(reply.status, 400);
  EXPECT_THAT(reply.body, HasSubstr("sleep_ms"));
  EXPECT_THAT(reply.body, HasSubstr("a 32-bit integer"));
  reply = client.Send(http::verb::post, "/v1/echo/x?nope=1", "", Bearer(teacher));
  EXPECT_EQ(reply.status, 400);
  EXPECT_THAT(reply.body, HasSubstr("has no field \\\"nope\\\""));
  reply = client.Send(http::verb::post, "/v1/echo/x?sleepMs=1&sleep_ms=2", "", Bearer(teacher));
  EXPECT_EQ(reply.status, 400);
  EXPECT_THAT(reply.body, HasSubstr("more than once"));
}

TEST_F(HttpFrontTest, BadJsonIs400NamingThePosition) {
  StartEchoGateway();
  HttpClient client(http_port_);
  const std::string teacher = Token(common::v1::ROLE_TEACHER, "t-1");
  HttpReply reply = client.Send(http::verb::post, "/v1/echo/a",
                                "{\n  \"text\": \"a\",\n  \"sleepMs\" 5\n}", Bearer(teacher));
  ASSERT_EQ(reply.status, 400) << reply.body;
  EXPECT_THAT(reply.body, HasSubstr(R"("status":"INVALID_ARGUMENT")"));
  EXPECT_THAT(reply.body, HasSubstr(R"("code":3)"));
  EXPECT_THAT(reply.body, HasSubstr("line 3, column 13"));
  EXPECT_THAT(reply.body,
              HasSubstr(R"("@type":"type.googleapis.com/shidang.common.v1.BadRequest")"));
  EXPECT_THAT(reply.body, HasSubstr(R"("field":"body")"));
  // Unknown fields are refused, by name.
  reply = client.Send(http::verb::post, "/v1/echo/a", R"({"txt": "a"})", Bearer(teacher));
  EXPECT_EQ(reply.status, 400);
  EXPECT_THAT(reply.body, HasSubstr("txt"));
  // Not JSON at all.
  reply = client.Send(http::verb::post, "/v1/echo/a", "text=a",
                      {{"Content-Type", "text/plain"}, Bearer(teacher)[0]});
  EXPECT_EQ(reply.status, 415);
}

TEST_F(HttpFrontTest, LenientJsonIsRefusedNamingThePosition) {
  StartEchoGateway();
  HttpClient client(http_port_);
  const std::string teacher = Token(common::v1::ROLE_TEACHER, "t-1");
  struct Case {
    std::string body;
    std::string where;
    std::string what;
  };
  const std::vector<Case> cases = {
      {R"({"text": "a",})", "line 1, column 14 (byte 13)", "a trailing comma"},
      {R"({"text": "a", "text": "b"})", "line 1, column 15 (byte 14)", R"(duplicate key \"text\")"},
      {"{\n  'text': \"a\"}", "line 2, column 3 (byte 4)", "double quotes"},
      {R"({"text": "a"} {})", "line 1, column 15 (byte 14)", "extra data"},
      {"{\"text\": \"a\xff\"}", "line 1, column 12 (byte 11)", "not UTF-8"},
      {R"({"text": "a", /* note */ "sleepMs": 1})", "line 1, column 15 (byte 14)",
       "comments are not JSON"},
      // One field under its proto name and its JSON name: protobuf's parser keeps the last.
      {R"({"sleep_ms": 0, "text": "a", "sleepMs": 1})", "line 1, column 30 (byte 29)",
       R"(duplicate key \"sleepMs\" (the same field as \"sleep_ms\"))"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    HttpReply reply = client.Send(http::verb::post, "/v1/echo/a", c.body, Bearer(teacher));
    EXPECT_EQ(reply.status, 400) << reply.body;
    EXPECT_THAT(reply.body, HasSubstr(R"("field":"body")"));
    EXPECT_THAT(reply.body, HasSubstr(c.where)) << reply.body;
    EXPECT_THAT(reply.body, HasSubstr(c.what)) << reply.body;
  }
  // A key repeated in another object is not a duplicate; the same JSON without the flaw passes.
  HttpReply reply = client.Send(http::verb::post, "/v1/echo/a", R"({"text": "a", "sleepMs": 0})",
                                Bearer(teacher));
  EXPECT_EQ(reply.status, 200) << reply.body;
}

TEST_F(HttpFrontTest, RouteErrors404And405) {
  StartEchoGateway();
  HttpClient client(http_port_);
  const std::string teacher = Token(common::v1::ROLE_TEACHER, "t-1");
  HttpReply reply = client.Send(http::verb::get, "/v1/nowhere", "", Bearer(teacher));
  EXPECT_EQ(reply.status, 404);
  EXPECT_THAT(reply.body, HasSubstr(R"("status":"NOT_FOUND")"));
  reply = client.Send(http::verb::get, "/v1/echo/a", "", Bearer(teacher));
  EXPECT_EQ(reply.status, 405);
  EXPECT_EQ(reply.Header("Allow"), "POST");
  // The verb is part of the route.
  reply = client.Send(http::verb::post, "/v1/fail/x", "", Bearer(teacher));
  EXPECT_EQ(reply.status, 404);
}

TEST_F(HttpFrontTest, BodyOver8MiBIs413) {
  StartEchoGateway();
  HttpClient client(http_port_);
  HttpReply reply = client.SendRaw(absl::StrCat(
      "POST /v1/echo/a HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ",
      (8 << 20) + 1, "\r\n\r\n"));
  EXPECT_EQ(reply.status, 413);
  EXPECT_THAT(reply.body, HasSubstr("8388608"));
}

TEST_F(HttpFrontTest, RequestLineOver8KiBIs431) {
  StartEchoGateway();
  HttpClient client(http_port_);
  // A long path (an over-long id in it): answered, not a dropped connection.
  HttpReply reply = client.SendRaw(
      absl::StrCat("GET /v1/echo/", std::string(9000, 'a'), " HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(reply.status, 431);
  EXPECT_THAT(reply.body, HasSubstr("8192"));
}

TEST_F(HttpFrontTest, AuthErrorsAndBackendErrorDetails) {
  StartEchoGateway();
  HttpClient client(http_port_);
  HttpReply reply = client.Send(http::verb::post, "/v1/echo/a", R"({"text":"a"})");
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(reply.Header("WWW-Authenticate"), "Bearer");
  EXPECT_THAT(reply.body, HasSubstr(R"("status":"UNAUTHENTICATED")"));
  reply = client.Send(http::verb::post, "/v1/echo/a", R"({"text":"a"})", Bearer("not.a.jwt"));
  EXPECT_EQ(reply.status, 401);
  // Fail is for teachers only.
  reply = client.Send(http::verb::post, "/v1/fail/birth_date:check", "",
                      Bearer(Token(common::v1::ROLE_COUNTY_HR, "hr", "130104")));
  EXPECT_EQ(reply.status, 403);
  EXPECT_THAT(reply.body, HasSubstr("county_hr"));
  // The backend's INVALID_ARGUMENT keeps its field violation.
  reply = client.Send(http::verb::post, "/v1/fail/birth_date:check", "",
                      Bearer(Token(common::v1::ROLE_TEACHER, "t-1")));
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_THAT(reply.body, HasSubstr(R"("fieldViolations":[{"field":"birth_date")"));
}

TEST_F(HttpFrontTest, RateLimitIs429WithRetryAfter) {
  StartEchoGateway({"--rate_per_second=0.01", "--rate_burst=1"});
  HttpClient client(http_port_);
  const auto auth = Bearer(Token(common::v1::ROLE_TEACHER, "t-1"));
  EXPECT_EQ(client.Send(http::verb::post, "/v1/echo/a", R"({"text":"a"})", auth).status, 200);
  HttpReply reply = client.Send(http::verb::post, "/v1/echo/a", R"({"text":"a"})", auth);
  EXPECT_EQ(reply.status, 429);
  int retry_after = 0;
  EXPECT_TRUE(absl::SimpleAtoi(reply.Header("Retry-After"), &retry_after))
      << reply.Header("Retry-After");
  EXPECT_GE(retry_after, 1);
}

TEST_F(HttpFrontTest, RequestIdEchoedAndPassedOnTimeoutBecomesDeadline) {
  StartEchoGateway();
  HttpClient client(http_port_);
  auto headers = Bearer(Token(common::v1::ROLE_TEACHER, "t-1"));
  headers.emplace_back("X-Request-Id", "req-42.a");
  HttpReply reply = client.Send(http::verb::post, "/v1/echo/a", R"({"text":"a"})", headers);
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header("X-Request-Id"), "req-42.a");
  EXPECT_THAT(reply.body, HasSubstr(R"("requestId":"req-42.a")"));
  headers.back().second = "bad id with spaces";
  reply = client.Send(http::verb::post, "/v1/echo/a", R"({"text":"a"})", headers);
  EXPECT_THAT(reply.Header("X-Request-Id"), MatchesRegex("[0-9a-f]{32}"));
  EXPECT_THAT(reply.body,
              HasSubstr(absl::StrCat("\"requestId\":\"", reply.Header("X-Request-Id"))));
  headers.back() = {"X-Timeout-Ms", "100"};
  reply = client.Send(http::verb::post, "/v1/echo/a", R"({"text":"a","sleepMs":2000})", headers);
  EXPECT_EQ(reply.status, 504) << reply.body;
  headers.back() = {"X-Timeout-Ms", "soon"};
  reply = client.Send(http::verb::post, "/v1/echo/a", R"({"text":"a"})", headers);
  EXPECT_EQ(reply.status, 400);
  EXPECT_THAT(reply.body, HasSubstr("X-Timeout-Ms"));
}

TEST_F(HttpFrontTest, CorsOnlyForConfiguredOrigins) {
  StartEchoGateway();
  HttpClient client(http_port_);
  HttpReply reply =
      client.Send(http::verb::options, "/v1/echo/a", "",
                  {{"Origin", "https://hr.example.cn"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(reply.status, 204);
  EXPECT_EQ(reply.Header("Access-Control-Allow-Origin"), "https://hr.example.cn");
  EXPECT_EQ(reply.Header("Access-Control-Allow-Methods"), "POST");
  EXPECT_THAT(reply.Header("Access-Control-Allow-Headers"), HasSubstr("Idempotency-Key"));
  reply = client.Send(
      http::verb::options, "/v1/echo/a", "",
      {{"Origin", "https://evil.example.com"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(reply.status, 403);
  EXPECT_EQ(reply.Header("Access-Control-Allow-Origin"), "");
  auto headers = Bearer(Token(common::v1::ROLE_TEACHER, "t-1"));
  headers.emplace_back("Origin", "https://hr.example.cn");
  reply = client.Send(http::verb::post, "/v1/echo/a", R"({"text":"a"})", headers);
  EXPECT_EQ(reply.Header("Access-Control-Allow-Origin"), "https://hr.example.cn");
  headers.back().second = "https://evil.example.com";
  reply = client.Send(http::verb::post, "/v1/echo/a", R"({"text":"a"})", headers);
  EXPECT_EQ(reply.Header("Access-Control-Allow-Origin"), "");
}

TEST_F(HttpFrontTest, HealthReadinessAndMetrics) {
  StartEchoGateway();
  HttpClient client(http_port_);
  EXPECT_EQ(client.Send(http::verb::get, "/healthz").status, 200);
  EXPECT_TRUE(AwaitReady(client, 200));
  EXPECT_EQ(client
                .Send(http::verb::post, "/v1/echo/a", R"({"text":"a"})",
                      Bearer(Token(common::v1::ROLE_TEACHER, "t-1")))
                .status,
            200);
  EXPECT_EQ(client.Send(http::verb::get, "/v1/nowhere").status, 404);
  {
    // One call on the gRPC front (an empty HealthCheckRequest: the whole server).
    const HealthAnswer health = CheckHealth(channel_, "", absl::Seconds(5));
    EXPECT_TRUE(health.status.ok()) << health.status.error_message();
  }
  HttpReply metrics = client.Send(http::verb::get, "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_THAT(
      metrics.body,
      HasSubstr(
          R"(shidang_gateway_requests_total{code="OK",front="http",method="/shidang.testing.v1.EchoService/Echo"} 1)"));
  EXPECT_THAT(
      metrics.body,
      HasSubstr(
          R"(shidang_gateway_errors_total{code="NOT_FOUND",front="http",method="unmatched"} 1)"));
  EXPECT_THAT(metrics.body, HasSubstr("shidang_gateway_request_seconds_bucket{"));
  EXPECT_THAT(
      metrics.body,
      HasSubstr(
          R"(shidang_gateway_requests_total{code="OK",front="grpc",method="/grpc.health.v1.Health/Check"} 1)"));
  EXPECT_THAT(metrics.body, HasSubstr(R"(shidang_gateway_http_responses_total{status="404"} 1)"));
  echo_->Kill(SIGKILL);
  echo_->Wait();
  EXPECT_TRUE(AwaitReady(client, 503));
}

// The value of the first `"name":"..."` in a JSON body, or "".
std::string JsonString(const std::string& body, const std::string& name) {
  const std::string marker = absl::StrCat("\"", name, "\":\"");
  const size_t at = body.find(marker);
  if (at == std::string::npos) return "";
  const size_t start = at + marker.size();
  return body.substr(start, body.find('"', start) - start);
}

// The real profile service on a real redis-server behind the HTTP front.
class HttpProfileTest : public HttpFrontTest {
 protected:
  void StartProfile() {
    ASSERT_NO_FATAL_FAILURE(StartProfileBackend());
    StartGateway("shidang.profile.v1.ProfileService=" + profile_->address());
  }

  // The profile service on redis_ (profile_), with a data key of its own.
  void StartProfileBackend() {
    WriteFile(dir_.path() + "/data.key", RandomBytes(48));
    ASSERT_NO_FATAL_FAILURE(StartBackend(SHIDANG_PROFILE_BINARY, redis_, "2025-11-25",
                                         {"--data_key_file=" + dir_.path() + "/data.key"},
                                         &profile_));
  }

  // Paging with the flat names list routes are used with (?pageSize=&pageToken=), bound into the
  // request's `page`: one teacher (the county's only one) on the first page, none after it.
  static void ExpectOneTeacherPerPage(HttpClient& client, const HttpHeaders& hr,
                                      const std::string& teacher_id) {
    HttpReply first_page = client.Send(
        http::verb::get, absl::StrCat("/v1/counties/", kCounty, "/teachers?pageSize=1"), "", hr);
    ASSERT_EQ(first_page.status, 200) << first_page.body;
    EXPECT_THAT(first_page.body, HasSubstr(teacher_id));
    const std::string marker = R"("nextPageToken":")";
    size_t token_at = first_page.body.find(marker);
    ASSERT_NE(token_at, std::string::npos) << first_page.body;
    token_at += marker.size();
    const std::string token =
        first_page.body.substr(token_at, first_page.body.find('"', token_at) - token_at);
    ASSERT_FALSE(token.empty());
    HttpReply next = client.Send(
        http::verb::get,
        absl::StrCat("/v1/counties/", kCounty, "/teachers?pageSize=1&pageToken=", token), "", hr);
    ASSERT_EQ(next.status, 200) << next.body;
    EXPECT_THAT(next.body, Not(HasSubstr(teacher_id)));
  }

  // CreateCounty's body for kCounty, 武义县.
  static std::string CountyJson() {
    return absl::StrCat(R"({"countyId":")", kCounty,
                        R"(","name":"武义县","cityCode":"330700","provinceCode":"330000"})");
  }

  // Creates 城关小学, a public urban primary school of kCounty, over HTTP as `hr`: its id in
  // *school_id.
  static void CreateSchool(HttpClient& client, const HttpHeaders& hr, std::string* school_id) {
    HttpReply school = client.Send(
        http::verb::post, absl::StrCat("/v1/counties/", kCounty, "/schools"),
        R"({"name":"城关小学","stage":"STAGE_PRIMARY","ownership":"SCHOOL_OWNERSHIP_PUBLIC",
          "location":"SCHOOL_LOCATION_URBAN","quality":"SCHOOL_QUALITY_ORDINARY",
          "kind":"SCHOOL_KIND_REGULAR","compulsoryEducation":true})",
        hr);
    ASSERT_EQ(school.status, 200) << school.body;
    *school_id = JsonString(school.body, "schoolId");
    ASSERT_FALSE(school_id->empty()) << school.body;
  }

  RedisServer redis_;
  std::unique_ptr<ServiceProcess> profile_;
};

TEST_F(HttpProfileTest, TeacherOverHttpWithIdempotencyConflictsAndNotFound) {
  StartProfile();
  HttpClient client(http_port_);
  auto admin = Bearer(Token(common::v1::ROLE_ADMIN, "root"));
  const std::string county = CountyJson();
  auto keyed = admin;
  keyed.emplace_back("Idempotency-Key", "create-county-1");
  HttpReply first = client.Send(http::verb::post, "/v1/counties", county, keyed);
  ASSERT_EQ(first.status, 200) << first.body;
  HttpReply replay = client.Send(http::verb::post, "/v1/counties", county, keyed);
  EXPECT_EQ(replay.status, 200) << replay.body;
  EXPECT_EQ(replay.body, first.body);
  // Without the key it is a second creation of the same county.
  HttpReply again = client.Send(http::verb::post, "/v1/counties", county, admin);
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_THAT(again.body, HasSubstr(R"("status":"ALREADY_EXISTS")"));

  auto hr = Bearer(Token(common::v1::ROLE_COUNTY_HR, "hr-1", kCounty));
  std::string school_id;
  ASSERT_NO_FATAL_FAILURE(CreateSchool(client, hr, &school_id));

  std::string first17 = absl::StrCat(kCounty, "19900307", "01", "2");
  const std::string id_card = first17 + profile::IdCardCheckCharacter(first17);
  HttpReply created = client.Send(
      http::verb::post, absl::StrCat("/v1/counties/", kCounty, "/teachers"),
      absl::StrCat(R"({"teacher":{"name":"王芳","sex":"SEX_FEMALE","birthDate":"1990-03-07",)",
                   R"("idCardNumber":")", id_card, R"(","hireDate":"2012-09-01","schoolId":")",
                   school_id, R"(","schoolJoinedOn":"2015-09-01","stage":"STAGE_PRIMARY",)",
                   R"("subjects":["数学"],"staffed":false,"postStatus":"POST_STATUS_ON_DUTY"}})"),
      hr);
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string teacher_id = JsonString(created.body, "teacherId");
  ASSERT_FALSE(teacher_id.empty()) << created.body;

  HttpReply got = client.Send(http::verb::get, "/v1/teachers/" + teacher_id, "", hr);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_THAT(got.body, HasSubstr(R"("name":"王芳")"));
  EXPECT_THAT(got.body, HasSubstr(R"("staffed":false)"));  // a default, still shown
  EXPECT_THAT(got.body, HasSubstr(R"("phone":"")"));
  EXPECT_THAT(got.body, HasSubstr(R"("sex":"SEX_FEMALE")"));
  EXPECT_THAT(got.body, Not(HasSubstr("id_card_number")));

  // Listing by path and query, in either spelling.
  HttpReply list = client.Send(
      http::verb::get,
      absl::StrCat("/v1/counties/", kCounty, "/teachers?schoolId=", school_id, "&page.pageSize=10"),
      "", hr);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_THAT(list.body, HasSubstr(teacher_id));

  ASSERT_NO_FATAL_FAILURE(ExpectOneTeacherPerPage(client, hr, teacher_id));

  // County HR cannot tell an unknown id from another county's teacher (AIP-211): 403 for both.
  HttpReply missing = client.Send(http::verb::get, "/v1/teachers/T-does-not-exist", "", hr);
  EXPECT_EQ(missing.status, 403) << missing.body;
  EXPECT_THAT(missing.body, HasSubstr(R"("status":"PERMISSION_DENIED")"));
}

// The profile and training services on one real redis-server (training learns teachers from the
// profile service's events), both behind the gateway.
class HttpPlatformTest : public HttpProfileTest {
 protected:
  void StartPlatform() {
    ASSERT_NO_FATAL_FAILURE(StartProfileBackend());
    ASSERT_NO_FATAL_FAILURE(
        StartBackend(SHIDANG_TRAINING_BINARY, redis_, "2025-11-25", {}, &training_));
    StartGateway(absl::StrCat("shidang.profile.v1.ProfileService=", profile_->address(),
                              ";shidang.training.v1.TrainingService=", training_->address()));
  }

  // Creates the county over HTTP (as admin).
  void CreateCounty(HttpClient& client) {
    HttpReply reply = client.Send(http::verb::post, "/v1/counties", CountyJson(),
                                  Bearer(Token(common::v1::ROLE_ADMIN, "root")));
    ASSERT_EQ(reply.status, 200) << reply.body;
  }

  std::unique_ptr<ServiceProcess> training_;
};

// An all-or-nothing import with 1,000 bad rows: what the error carries is bounded (status.h:
// the first rows and a count of the rest), so it travels as trailers through every front.
TEST_F(HttpPlatformTest, ImportWithAThousandBadRowsNamesTheFirstRowsAndCountsTheRest) {
  StartPlatform();
  HttpClient client(http_port_);
  CreateCounty(client);
  profile::DemoCountyOptions options;
  options.schools = 10;
  options.teachers = 1000;
  options.today = absl::CivilDay(2025, 11, 25);
  auto demo = profile::GenerateDemoCounty(options);
  ASSERT_TRUE(demo.ok()) << demo.status();
  // The schools were never imported, so every teacher's school is unknown.
  const std::string csv = profile::TeachersCsv(*demo);
  auto hr = Bearer(Token(common::v1::ROLE_COUNTY_HR, "hr-1", kCounty));
  HttpReply reply = client.Send(
      http::verb::post, "/v1/rosters:import",
      absl::StrCat(R"({"countyId":")", kCounty, R"(","kind":"ROSTER_KIND_TEACHERS","csv":")",
                   absl::Base64Escape(csv), R"(","requestId":"import-1"})"),
      hr);
  ASSERT_EQ(reply.status, 400) << reply.body.substr(0, 2000);
  EXPECT_EQ(reply.Header("Content-Type"), "application/json");
  EXPECT_THAT(reply.body, HasSubstr(R"("status":"INVALID_ARGUMENT")"));
  EXPECT_THAT(reply.body,
              HasSubstr(R"("@type":"type.googleapis.com/shidang.common.v1.BadRequest")"));
  // Data row i is CSV row i + 1 (the header is row 1): the first 100 rows, 2 .. 101, and a
  // count of all 1,000.
  for (int row : {2, 50, 101}) {
    EXPECT_THAT(reply.body, HasSubstr(absl::StrCat("\"row\":\"", row, "\"")))
        << "row " << row << " missing";
  }
  EXPECT_THAT(reply.body, Not(HasSubstr("\"row\":\"102\"")));
  EXPECT_THAT(reply.body, HasSubstr("1000 problems"));
  EXPECT_THAT(reply.body, HasSubstr("more_violations"));
  size_t rows = 0;
  for (size_t at = reply.body.find("\"row\":"); at != std::string::npos;
       at = reply.body.find("\"row\":", at + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, 100u) << reply.body.size() << " bytes";
}

// DESIGN "Downloads": `Accept: text/csv` on the compliance report answers the CSV bytes.
TEST_F(HttpPlatformTest, ComplianceReportDownloadsAsCsv) {
  StartPlatform();
  HttpClient client(http_port_);
  CreateCounty(client);
  auto hr = Bearer(Token(common::v1::ROLE_COUNTY_HR, "hr-1", kCounty));
  std::string school_id;
  ASSERT_NO_FATAL_FAILURE(CreateSchool(client, hr, &school_id));
  std::vector<std::string> teacher_ids;
  for (int i = 0; i < 2; ++i) {
    const std::string first17 = absl::StrCat(kCounty, "1990030", i + 1, "01", "2");
    const std::string id_card = first17 + profile::IdCardCheckCharacter(first17);
    HttpReply created = client.Send(
        http::verb::post, absl::StrCat("/v1/counties/", kCounty, "/teachers"),
        absl::StrCat(R"({"teacher":{"name":"教师)", i, R"(","sex":"SEX_FEMALE",)",
                     R"("birthDate":"1990-03-0)", i + 1, R"(","idCardNumber":")", id_card,
                     R"(","hireDate":"2012-09-01","schoolId":")", school_id,
                     R"(","schoolJoinedOn":"2015-09-01","stage":"STAGE_PRIMARY",)",
                     R"("subjects":["数学"],"staffed":true,"postStatus":"POST_STATUS_ON_DUTY"}})"),
        hr);
    ASSERT_EQ(created.status, 200) << created.body;
    teacher_ids.push_back(JsonString(created.body, "teacherId"));
    ASSERT_FALSE(teacher_ids.back().empty()) << created.body;
  }
  // The training service learns the teachers from the profile service's events.
  for (const std::string& id : teacher_ids) {
    int status = 0;
    const absl::Time give_up = absl::Now() + absl::Seconds(15);
    while (status != 200 && absl::Now() < give_up) {
      status =
          client
              .Send(http::verb::get, absl::StrCat("/v1/teachers/", id, "/training-summary"), "", hr)
              .status;
      if (status != 200) absl::SleepFor(absl::Milliseconds(50));
    }
    ASSERT_EQ(status, 200) << "training never learned of " << id;
  }

  const std::string report = absl::StrCat("/v1/counties/", kCounty, "/training-compliance");
  auto csv_headers = hr;
  csv_headers.emplace_back("Accept", "text/csv");
  HttpReply csv = client.Send(http::verb::get, report + "?asOf=2025-11-25", "", csv_headers);
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_THAT(csv.Header("Content-Type"), HasSubstr("text/csv"));
  EXPECT_THAT(csv.Header("Content-Disposition"), HasSubstr("attachment"));
  // UTF-8 with a BOM (for Excel), the header row, then one row per teacher: with no training
  // at all by the cycle's last weeks, both are behind.
  ASSERT_TRUE(absl::StartsWith(csv.body, "\xEF\xBB\xBF")) << csv.body;
  std::vector<std::string> lines =
      absl::StrSplit(csv.body.substr(3), absl::ByAnyChar("\r\n"), absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << csv.body;
  EXPECT_TRUE(absl::StartsWith(lines[0], "教师编号,姓名,学校")) << lines[0];
  for (const std::string& id : teacher_ids) {
    int found = 0;
    for (size_t i = 1; i < lines.size(); ++i) {
      if (absl::StartsWith(lines[i], id + ",")) {
        ++found;
        EXPECT_THAT(lines[i], HasSubstr("进度落后")) << lines[i];
      }
    }
    EXPECT_EQ(found, 1) << id << " in\n" << csv.body;
  }
  // Without the Accept header the same route answers JSON, and no download.
  HttpReply json = client.Send(http::verb::get, report + "?asOf=2025-11-25", "", hr);
  ASSERT_EQ(json.status, 200) << json.body;
  EXPECT_EQ(json.Header("Content-Type"), "application/json");
  EXPECT_THAT(json.body, HasSubstr(R"("teachers":"2")"));
  EXPECT_THAT(json.body, HasSubstr("TRAINING_STATUS_BEHIND"));
  EXPECT_THAT(json.body, Not(HasSubstr("教师编号")));
}

// Issue 14: a service whose queue is full answers UNAVAILABLE "queue full" with a retry-after
// trailer; over HTTP that is 503 with Retry-After, never 429 (the rate limiter's alone).
TEST_F(HttpFrontTest, AFullServiceQueueIs503WithRetryAfterNot429) {
  RedisServer redis;
  std::unique_ptr<ServiceProcess> training;
  ASSERT_NO_FATAL_FAILURE(
      StartBackend(SHIDANG_TRAINING_BINARY, redis, "2025-11-25", {"--max_threads=20"}, &training));
  StartGateway(absl::StrCat("shidang.training.v1.TrainingService=", training->address()),
               {"--rate_per_second=0"});
  Principal centre;
  centre.set_role(common::v1::ROLE_TRAINING_CENTER);
  centre.set_subject("c1");
  centre.set_provider_id("P1");
  const std::string token = TokenFor(centre);
  ASSERT_FALSE(token.empty());
  const auto auth = Bearer(token);

  // Redis stalled: the first 20 calls hold the service (16 running, 4 in line) for a second or
  // two; the rest find the queue full.
  redis.Pause();
  constexpr int kCalls = 60;
  std::vector<HttpReply> replies(kCalls);
  std::vector<std::thread> callers;
  callers.reserve(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    callers.emplace_back([&, i] {
      HttpClient client(http_port_);
      replies[i] = client.Send(
          http::verb::post, "/v1/courses",
          absl::StrCat(R"({"requestId":"full-)", i, R"(","course":{"providerId":"P1",)",
                       R"("title":"课程","level":"TRAINING_LEVEL_COUNTY",)",
                       R"("mode":"TRAINING_MODE_FACE_TO_FACE","hours":8,)",
                       R"("startDate":"2025-12-01","endDate":"2025-12-05","capacity":10,)",
                       R"("openRegions":["330723"]}})"),
          auth);
    });
  }
  for (std::thread& caller : callers) caller.join();
  redis.Resume();

  int queue_full = 0;
  for (const HttpReply& reply : replies) {
    EXPECT_EQ(reply.status, 503) << reply.body;
    int retry_after = 0;
    EXPECT_TRUE(absl::SimpleAtoi(reply.Header("Retry-After"), &retry_after))
        << reply.Header("Retry-After");
    EXPECT_GE(retry_after, 1);
    if (reply.body.find("queue full") != std::string::npos) {
      ++queue_full;
      // The service's own estimate, carried in its retry-after trailer.
      EXPECT_THAT(reply.body, HasSubstr(absl::StrCat("retry after ", retry_after, " s")));
    }
  }
  EXPECT_GT(queue_full, 0);
}

}  // namespace
}  // namespace shidang::testing
