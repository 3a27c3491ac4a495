// /metrics of a service (services/common/metrics.h, the bootstrap's --metrics_port): the real
// shidang-training as a process on a real redis-server, called over gRPC, its metrics port
// scraped over HTTP as Prometheus would.

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/principal.h"
#include "shidang/training/v1/training.grpc.pb.h"
#include "tests/kit/files.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/service_fixture.h"
#include "tests/kit/service_process.h"

namespace shidang::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace v1 = training::v1;

constexpr char kCounty[] = "330723";
constexpr char kReport[] = "shidang.training.v1.TrainingService/GetComplianceReport";
constexpr char kSummary[] = "shidang.training.v1.TrainingService/GetTrainingSummary";

// GET <path> over HTTP/1.0 on 127.0.0.1:<port>; the whole response, headers included.
std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[8192];
      ssize_t n;
      while ((n = read(fd, buffer, sizeof(buffer))) > 0) response.append(buffer, n);
    }
  }
  close(fd);
  return response;
}

// The value of the sample named exactly `series` (name and labels as printed), or -1.
double Sample(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, series) || !absl::ConsumePrefix(&line, " ")) continue;
    double value = 0;
    if (absl::SimpleAtod(line, &value)) return value;
  }
  return -1;
}

std::string Rpc(absl::string_view family, absl::string_view method, absl::string_view code) {
  return absl::StrCat(family, "{code=\"", code, "\",method=\"", method, "\"}");
}

class ServiceMetricsTest : public ServiceFixture<v1::TrainingService> {
 protected:
  ServiceMetricsTest() : ServiceFixture({}, /*call_timeout=*/absl::Seconds(10)) {}

  void SetUp() override {
    const std::string metrics_port_file = keys_.path() + "/metrics.port";
    ASSERT_NO_FATAL_FAILURE(
        StartService(SHIDANG_TRAINING_BINARY, "shidang-training", "2025-11-25",
                     {"--metrics_port=0", "--metrics_port_file=" + metrics_port_file}));
    // The bootstrap writes the metrics port file before the gRPC one, which Start waited for.
    ASSERT_TRUE(
        absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(metrics_port_file)), &metrics_port_))
        << ReadFile(metrics_port_file);
    hr_.set_role(common::v1::ROLE_COUNTY_HR);
    hr_.set_subject("hr-1");
    hr_.set_region(kCounty);
  }

  grpc::StatusCode Report() {
    v1::GetComplianceReportRequest request;
    request.set_county_id(kCounty);
    v1::GetComplianceReportResponse response;
    return Call(&Stub::GetComplianceReport, hr_, request, &response).error_code();
  }

  grpc::StatusCode Summary(const std::string& teacher_id) {
    v1::GetTrainingSummaryRequest request;
    request.set_teacher_id(teacher_id);
    v1::GetTrainingSummaryResponse response;
    return Call(&Stub::GetTrainingSummary, hr_, request, &response).error_code();
  }

  std::string Scrape() {
    std::string response = HttpGet(metrics_port_, "/metrics");
    EXPECT_THAT(response, HasSubstr(" 200 ")) << response.substr(0, 200);
    return response;
  }

  common::v1::Principal hr_;
  int metrics_port_ = 0;
};

TEST_F(ServiceMetricsTest, CountsCallsPerMethodAndCodeWithLatency) {
  // Nothing called yet: no series for the method.
  std::string text = Scrape();
  EXPECT_THAT(text, Not(HasSubstr(kReport)));

  ASSERT_EQ(Report(), grpc::StatusCode::OK);
  ASSERT_EQ(Summary("T-nobody"), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_EQ(Summary("T-nobody"), grpc::StatusCode::PERMISSION_DENIED);
  // An unsigned call is refused in HandleCall, and counted there too.
  {
    v1::GetTrainingSummaryRequest request;
    request.set_teacher_id("T-nobody");
    v1::GetTrainingSummaryResponse response;
    grpc::ClientContext context;
    ASSERT_EQ(stub_->GetTrainingSummary(&context, request, &response).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }

  text = Scrape();
  EXPECT_EQ(Sample(text, Rpc("shidang_rpc_requests_total", kReport, "OK")), 1) << text;
  EXPECT_EQ(Sample(text, Rpc("shidang_rpc_errors_total", kReport, "OK")), -1) << text;
  EXPECT_EQ(Sample(text, Rpc("shidang_rpc_requests_total", kSummary, "PERMISSION_DENIED")), 2)
      << text;
  EXPECT_EQ(Sample(text, Rpc("shidang_rpc_errors_total", kSummary, "PERMISSION_DENIED")), 2)
      << text;
  EXPECT_EQ(Sample(text, Rpc("shidang_rpc_errors_total", kSummary, "UNAUTHENTICATED")), 1) << text;
  EXPECT_EQ(Sample(text, Rpc("shidang_rpc_request_seconds_count", kSummary, "PERMISSION_DENIED")),
            2)
      << text;
  // Every observation falls in the +Inf bucket, and the time spent is positive.
  EXPECT_EQ(Sample(text, absl::StrCat("shidang_rpc_request_seconds_bucket{code=\"OK\",method=\"",
                                      kReport, "\",le=\"+Inf\"}")),
            1)
      << text;
  EXPECT_GT(Sample(text, Rpc("shidang_rpc_request_seconds_sum", kReport, "OK")), 0) << text;

  // A further call moves only its own series.
  ASSERT_EQ(Report(), grpc::StatusCode::OK);
  text = Scrape();
  EXPECT_EQ(Sample(text, Rpc("shidang_rpc_requests_total", kReport, "OK")), 2) << text;
  EXPECT_EQ(Sample(text, Rpc("shidang_rpc_requests_total", kSummary, "PERMISSION_DENIED")), 2)
      << text;
}

TEST_F(ServiceMetricsTest, RedisPoolFiguresFollowTheConnection) {
  const std::string pool = absl::StrCat("{redis=\"", redis_.address(), "\"}");
  ASSERT_EQ(Report(), grpc::StatusCode::OK);
  std::string text = Scrape();
  EXPECT_EQ(Sample(text, "shidang_redis_pool_connections" + pool), 8) << text;
  const double in_use = Sample(text, "shidang_redis_pool_in_use" + pool);
  EXPECT_GE(in_use, 0) << text;
  EXPECT_LE(in_use, 8) << text;
  EXPECT_GE(Sample(text, "shidang_redis_pool_waits_total" + pool), 0) << text;
  const double errors_before = Sample(text, "shidang_redis_pool_errors_total" + pool);
  const double reconnects_before = Sample(text, "shidang_redis_pool_reconnects_total" + pool);
  ASSERT_GE(errors_before, 0) << text;
  ASSERT_GE(reconnects_before, 0) << text;

  // Redis dies: the call fails on the transport and the pool counts the error.
  redis_.Kill();
  EXPECT_EQ(Report(), grpc::StatusCode::UNAVAILABLE);
  text = Scrape();
  EXPECT_GT(Sample(text, "shidang_redis_pool_errors_total" + pool), errors_before) << text;
  EXPECT_EQ(Sample(text, Rpc("shidang_rpc_errors_total", kReport, "UNAVAILABLE")), 1) << text;

  // It comes back: the pool reconnects (after its backoff) and says so.
  redis_.Start();
  grpc::StatusCode code = grpc::StatusCode::UNAVAILABLE;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (code != grpc::StatusCode::OK && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(50));
    code = Report();
  }
  ASSERT_EQ(code, grpc::StatusCode::OK);
  text = Scrape();
  EXPECT_GT(Sample(text, "shidang_redis_pool_reconnects_total" + pool), reconnects_before) << text;
}

TEST_F(ServiceMetricsTest, BadMetricsPortIsRefusedByName) {
  auto process = ServiceProcess::Start(
      SHIDANG_TRAINING_BINARY,
      {"--redis=" + redis_.address(), "--principal_key_file=" + KeyFile(), "--metrics_port=70000"},
      absl::Seconds(5));
  ASSERT_FALSE(process.ok());
  EXPECT_THAT(process.status().message(), HasSubstr("--metrics_port"));
}

}  // namespace
}  // namespace shidang::testing
