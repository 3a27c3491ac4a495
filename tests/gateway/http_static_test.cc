// The web page on the gateway's HTTP front (issue 17): static_files.h's rules on their own, and
// shidang-gateway as a real process with --web_root in front of shidang-echo-server, asked over
// TCP by a plain Beast client as a browser would: content types, ETag and 304, caching of hashed
// assets, the app's routes falling back to index.html, /v1/ staying the API's, and no way out of
// the folder.

#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gateway/static_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/kit/descriptor_sets.h"
#include "tests/kit/files.h"
#include "tests/kit/gateway_files.h"
#include "tests/kit/gateway_fixture.h"
#include "tests/kit/http_client.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/service_process.h"

namespace shidang::testing {
namespace {

namespace http = boost::beast::http;
using gateway::StaticSite;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kIndex[] = "<!doctype html><title>师档</title><script src=/assets/app-5QJ4ZK2N.js>";
constexpr char kApp[] = "console.log('app');";
constexpr char kSecret[] = "outside-the-web-root";

// <dir>/secret.txt beside <dir>/web/{index.html, assets/app-5QJ4ZK2N.js(.gz), favicon.svg,
// assets/chart-dashboard.css} and a symlink web/leak.txt -> ../secret.txt.
std::string WritePage(const std::string& dir) {
  std::string web = dir + "/web";
  mkdir(web.c_str(), 0700);
  mkdir((web + "/assets").c_str(), 0700);
  WriteFile(dir + "/secret.txt", kSecret);
  WriteFile(web + "/index.html", kIndex);
  WriteFile(web + "/assets/app-5QJ4ZK2N.js", kApp);
  WriteFile(web + "/assets/app-5QJ4ZK2N.js.gz", "gzip-bytes-of-app");
  WriteFile(web + "/assets/chart-dashboard.css", "body{}");
  WriteFile(web + "/favicon.svg", "<svg/>");
  EXPECT_EQ(symlink("../secret.txt", (web + "/leak.txt").c_str()), 0);
  return web;
}

TEST(StaticFilesTest, ContentTypesAndHashedNames) {
  EXPECT_EQ(gateway::ContentTypeForPath("/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(gateway::ContentTypeForPath("/a/app-X1.JS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(gateway::ContentTypeForPath("/a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(gateway::ContentTypeForPath("/f.woff2"), "font/woff2");
  EXPECT_EQ(gateway::ContentTypeForPath("/Makefile"), "application/octet-stream");
  EXPECT_TRUE(gateway::IsHashedAssetName("/assets/app-5QJ4ZK2N.js"));
  EXPECT_TRUE(gateway::IsHashedAssetName("/assets/chunk-ABCD2345.js.map"));
  EXPECT_FALSE(gateway::IsHashedAssetName("/index.html"));
  EXPECT_FALSE(gateway::IsHashedAssetName("/assets/chart-dashboard.css"));
  EXPECT_TRUE(gateway::IsHashedAssetName("/assets/app-ABCDEFGH.js"));
  EXPECT_FALSE(gateway::IsHashedAssetName("/assets/app-12.js"));
  EXPECT_FALSE(gateway::IsHashedAssetName("/assets/app-abcd1234.js"));
  EXPECT_TRUE(gateway::EtagMatches("\"a\", W/\"b\"", "\"b\""));
  EXPECT_TRUE(gateway::EtagMatches("*", "\"b\""));
  EXPECT_FALSE(gateway::EtagMatches("\"a\"", "\"b\""));
}

TEST(StaticFilesTest, LoadRefusesAFolderWithoutIndexOrNoFolder) {
  TempDir dir;
  auto missing = StaticSite::Load(dir.path() + "/nope");
  EXPECT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("is not a folder"));
  auto empty = StaticSite::Load(dir.path());
  EXPECT_FALSE(empty.ok());
  EXPECT_THAT(std::string(empty.status().message()), HasSubstr("no index.html"));
  WriteFile(dir.path() + "/index.html", std::string(2000, 'x'));
  auto big = StaticSite::Load(dir.path(), 1000);
  EXPECT_FALSE(big.ok());
  EXPECT_THAT(std::string(big.status().message()), HasSubstr("exceed 1000 bytes"));
}

TEST(StaticFilesTest, FindsFilesRoutesAndNothingOutside) {
  TempDir dir;
  auto site = StaticSite::Load(WritePage(dir.path()));
  ASSERT_TRUE(site.ok()) << site.status();
  // The symlink is not served.
  EXPECT_EQ((*site)->file_count(), 5u);
  StaticSite::Answer answer = (*site)->Find("/assets/app-5QJ4ZK2N.js", "", "");
  ASSERT_NE(answer.file, nullptr);
  EXPECT_EQ(answer.file->body, kApp);
  EXPECT_FALSE(answer.gzip);
  answer = (*site)->Find("/assets/app-5QJ4ZK2N.js", "br, gzip;q=0.8", "");
  EXPECT_TRUE(answer.gzip);
  EXPECT_FALSE((*site)->Find("/assets/app-5QJ4ZK2N.js", "gzip;q=0", "").gzip);
  for (const char* route : {"/", "/hr/training", "/teacher/", "/hr/schools/s-1"}) {
    answer = (*site)->Find(route, "", "");
    ASSERT_NE(answer.file, nullptr) << route;
    EXPECT_EQ(answer.file->body, kIndex) << route;
  }
  for (const char* outside : {"/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt",
                              "/..%2Fsecret.txt", "/leak.txt", "/assets/missing-5QJ4ZK2N.js"}) {
    EXPECT_EQ((*site)->Find(outside, "", "").file, nullptr) << outside;
  }
  // Without an extension a traversal is just a route: index.html, never the file.
  answer = (*site)->Find("/../../../../etc/passwd", "", "");
  ASSERT_NE(answer.file, nullptr);
  EXPECT_EQ(answer.file->body, kIndex);
}

class HttpStaticTest : public GatewayFixture {
 protected:
  HttpStaticTest() : GatewayFixture(SHIDANG_GATEWAY, SHIDANG_ECHO_SERVER) {}

  void SetUp() override {
    WriteFiles(DescriptorSetWithTestService(SHIDANG_DESCRIPTOR_SET, SHIDANG_TESTING_DESCRIPTOR_SET,
                                            [](const std::string&, auto*) {})
                   .SerializeAsString());
    ASSERT_NO_FATAL_FAILURE(StartEcho());
  }

  // The gateway's backend and its page at `web_root`.
  std::vector<std::string> PageFlags(const std::string& web_root) const {
    return {"--backends=shidang.testing.v1.EchoService=" + echo_->address(),
            "--web_root=" + web_root};
  }

  void StartGateway(const std::string& web_root) {
    LaunchGateway(PageFlags(web_root), /*http=*/true);
  }
};

TEST_F(HttpStaticTest, ServesThePageWithTypesEtagsAndCaching) {
  StartGateway(WritePage(dir_.path()));
  HttpClient client(http_port_);
  HttpReply index = client.Send(http::verb::get, "/");
  ASSERT_EQ(index.status, 200) << index.body;
  EXPECT_EQ(index.body, kIndex);
  EXPECT_EQ(index.Header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.Header("Cache-Control"), "no-cache");
  const std::string etag = index.Header("ETag");
  EXPECT_THAT(etag, ::testing::MatchesRegex("\"[0-9a-f]{32}\""));
  // The browser revalidates: 304 with no body.
  HttpReply again = client.Send(http::verb::get, "/", "", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_EQ(again.body, "");
  EXPECT_EQ(again.Header("ETag"), etag);
  EXPECT_EQ(client.Send(http::verb::get, "/", "", {{"If-None-Match", "\"other\""}}).status, 200);

  HttpReply app = client.Send(http::verb::get, "/assets/app-5QJ4ZK2N.js");
  ASSERT_EQ(app.status, 200);
  EXPECT_EQ(app.body, kApp);
  EXPECT_EQ(app.Header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(app.Header("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(app.Header("Vary"), "Accept-Encoding");
  HttpReply zipped =
      client.Send(http::verb::get, "/assets/app-5QJ4ZK2N.js", "", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(zipped.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(zipped.body, "gzip-bytes-of-app");
  EXPECT_NE(zipped.Header("ETag"), app.Header("ETag"));
  HttpReply css = client.Send(http::verb::get, "/assets/chart-dashboard.css");
  EXPECT_EQ(css.Header("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(css.Header("Cache-Control"), "no-cache");
  EXPECT_EQ(client.Send(http::verb::get, "/favicon.svg").Header("Content-Type"), "image/svg+xml");
}

TEST_F(HttpStaticTest, AppRoutesFallBackApiStaysJsonNoTraversal) {
  StartGateway(WritePage(dir_.path()));
  HttpClient client(http_port_);
  HttpReply route = client.Send(http::verb::get, "/hr/training?school=s-1");
  ASSERT_EQ(route.status, 200);
  EXPECT_EQ(route.body, kIndex);
  // /v1/ is the API's: JSON errors, never the page.
  HttpReply api = client.Send(http::verb::get, "/v1/nowhere");
  EXPECT_EQ(api.status, 404);
  EXPECT_THAT(api.body, HasSubstr("NOT_FOUND"));
  EXPECT_EQ(client.Send(http::verb::get, "/v1").status, 404);
  // Only GET serves the page.
  EXPECT_EQ(client.Send(http::verb::post, "/hr/training", "{}").status, 404);
  HttpReply missing = client.Send(http::verb::get, "/assets/missing-5QJ4ZK2N.js");
  EXPECT_EQ(missing.status, 404);
  // Raw targets a client library would normalise first.
  for (const char* target : {"/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt",
                             "/%2E%2E%2Fsecret.txt", "/leak.txt", "/..\\secret.txt"}) {
    HttpReply reply = client.SendRaw(absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(reply.status, 404) << target;
    EXPECT_THAT(reply.body, Not(HasSubstr(kSecret))) << target;
  }
  HttpReply passwd =
      client.SendRaw("GET /../../../../../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(passwd.body, kIndex);
}

TEST_F(HttpStaticTest, AMissingWebRootStopsTheGatewayAtStart) {
  auto gateway = ServiceProcess::Start(
      SHIDANG_GATEWAY, GatewayArgs(PageFlags(dir_.path() + "/no-such-folder"), /*http=*/true));
  ASSERT_FALSE(gateway.ok());
  EXPECT_THAT(std::string(gateway.status().message()), HasSubstr("is not a folder"));
}

}  // namespace
}  // namespace shidang::testing
