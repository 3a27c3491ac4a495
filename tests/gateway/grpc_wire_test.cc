// The gRPC wire helpers of the gateway's gRPC front (gateway/grpc_wire.h), on their own:
// grpc-timeout values (units, bounds, malformed values), the percent-encoding of grpc-message,
// trailers, request ids.

#include "gateway/grpc_wire.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "services/common/status.h"

namespace shidang::gateway {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::Field;

// What a gRPC client does with grpc-message (PROTOCOL-HTTP2.md): %XX of two hex digits becomes
// that byte; anything else, a malformed escape included, stays as it is.
std::string PercentDecode(absl::string_view encoded) {
  std::string out;
  for (size_t i = 0; i < encoded.size(); ++i) {
    int byte = 0;
    if (encoded[i] == '%' && i + 2 < encoded.size() &&
        absl::ascii_isxdigit(static_cast<unsigned char>(encoded[i + 1])) &&
        absl::ascii_isxdigit(static_cast<unsigned char>(encoded[i + 2])) &&
        absl::SimpleHexAtoi(encoded.substr(i + 1, 2), &byte)) {
      out.push_back(static_cast<char>(byte));
      i += 2;
    } else {
      out.push_back(encoded[i]);
    }
  }
  return out;
}

TEST(GrpcTimeoutTest, ReadsEveryUnit) {
  EXPECT_EQ(ParseGrpcTimeout("2H"), nanoseconds(hours(2)));
  EXPECT_EQ(ParseGrpcTimeout("3M"), nanoseconds(minutes(3)));
  EXPECT_EQ(ParseGrpcTimeout("10S"), nanoseconds(seconds(10)));
  EXPECT_EQ(ParseGrpcTimeout("250m"), nanoseconds(milliseconds(250)));
  EXPECT_EQ(ParseGrpcTimeout("999u"), nanoseconds(microseconds(999)));
  EXPECT_EQ(ParseGrpcTimeout("7n"), nanoseconds(7));
  EXPECT_EQ(ParseGrpcTimeout("0m"), nanoseconds(0));  // already expired, as gRPC reads it
  EXPECT_EQ(ParseGrpcTimeout("00000010S"), nanoseconds(seconds(10)));
}

TEST(GrpcTimeoutTest, TakesEightDigitsAndCapsWhatWouldOverflow) {
  EXPECT_EQ(ParseGrpcTimeout("99999999n"), nanoseconds(99999999));
  EXPECT_EQ(ParseGrpcTimeout("99999999S"), nanoseconds(kMaxGrpcTimeout));
  // 99999999 hours are 3.6e20 ns, past what a steady_clock time point holds: capped.
  EXPECT_EQ(ParseGrpcTimeout("99999999H"), nanoseconds(kMaxGrpcTimeout));
  EXPECT_EQ(ParseGrpcTimeout("99999999M"), nanoseconds(kMaxGrpcTimeout));
  EXPECT_EQ(ParseGrpcTimeout("27778H"), nanoseconds(kMaxGrpcTimeout));  // just over the cap
  EXPECT_EQ(ParseGrpcTimeout("27777H"), nanoseconds(hours(27777)));     // just under it
  // A deadline from the largest value still lies ahead of now.
  const auto now = std::chrono::steady_clock::now();
  EXPECT_GT(now + *ParseGrpcTimeout("99999999H"), now);
}

TEST(GrpcTimeoutTest, RefusesMalformedValues) {
  for (const char* value : {"", "S", "1", "10", "123456789S", "10s", "10x", "-1S", "+1S", " 1S",
                            "1 S", "1S ", "1.5S", "0x1S", "1e3m", "１S", "10SS"}) {
    EXPECT_EQ(ParseGrpcTimeout(value), std::nullopt) << '"' << value << '"';
  }
}

TEST(GrpcTimeoutTest, FormatsInTheFinestUnitThatFitsEightDigits) {
  EXPECT_EQ(FormatGrpcTimeout(milliseconds(1500)), "1500000u");
  EXPECT_EQ(FormatGrpcTimeout(microseconds(99999999)), "99999999u");
  EXPECT_EQ(FormatGrpcTimeout(microseconds(100000000)), "100000m");
  EXPECT_EQ(FormatGrpcTimeout(seconds(99999)), "99999000m");
  EXPECT_EQ(FormatGrpcTimeout(hours(48)), "172800S");
  EXPECT_EQ(FormatGrpcTimeout(hours(100000)), "99999999S");  // capped at eight digits
  // A deadline reached or passed still goes on as the smallest timeout.
  EXPECT_EQ(FormatGrpcTimeout(nanoseconds(0)), "1u");
  EXPECT_EQ(FormatGrpcTimeout(milliseconds(-5)), "1u");
  EXPECT_EQ(FormatGrpcTimeout(nanoseconds(999)), "1u");
}

TEST(GrpcTimeoutTest, WhatIsFormattedParsesBackWithinAUnit) {
  for (const nanoseconds left :
       {nanoseconds(milliseconds(1)), nanoseconds(seconds(10)), nanoseconds(minutes(30)),
        nanoseconds(hours(30)), nanoseconds(hours(2000))}) {
    const auto parsed = ParseGrpcTimeout(FormatGrpcTimeout(left));
    ASSERT_TRUE(parsed.has_value()) << FormatGrpcTimeout(left);
    EXPECT_LE(*parsed, left);
    EXPECT_GT(*parsed, left - seconds(1));
  }
}

TEST(PercentEncodingTest, KeepsPrintableAsciiAndEncodesPercent) {
  EXPECT_EQ(PercentEncodeGrpcMessage("role teacher may not call /a.B/C (allowed: admin)"),
            "role teacher may not call /a.B/C (allowed: admin)");
  EXPECT_EQ(PercentEncodeGrpcMessage("100% done"), "100%25 done");
  EXPECT_EQ(PercentEncodeGrpcMessage(" ~"), " ~");  // the printable range's two ends
  EXPECT_EQ(PercentEncodeGrpcMessage(""), "");
}

TEST(PercentEncodingTest, EncodesControlCharactersAndUtf8ByteByByte) {
  EXPECT_EQ(PercentEncodeGrpcMessage("a\nb\tc\r"), "a%0Ab%09c%0D");
  EXPECT_EQ(PercentEncodeGrpcMessage(std::string("\0\x1f\x7f", 3)), "%00%1F%7F");
  // 教师 in UTF-8: E6 95 99 E5 B8 88.
  EXPECT_EQ(PercentEncodeGrpcMessage("教师"), "%E6%95%99%E5%B8%88");
  EXPECT_EQ(PercentEncodeGrpcMessage("\xff"), "%FF");  // not UTF-8: still one byte each
}

TEST(PercentEncodingTest, RoundTripsThroughWhatAClientDecodes) {
  std::string every_byte;
  for (int i = 0; i < 256; ++i) every_byte.push_back(static_cast<char>(i));
  for (const std::string& message :
       {std::string("teacher.birth_date: must be a date YYYY-MM-DD"),
        std::string("学时不足：还差 12.5 学时（周期 2021–2025）"), std::string("50% of %41 and %"),
        std::string("line one\nline two\r\n\ttabbed\x01\x02"), every_byte}) {
    const std::string encoded = PercentEncodeGrpcMessage(message);
    for (char c : encoded) {
      EXPECT_TRUE(c >= 0x20 && c <= 0x7e) << "byte " << static_cast<int>(c) << " in " << encoded;
    }
    EXPECT_EQ(PercentDecode(encoded), message) << encoded;
  }
}

TEST(TrailersTest, ATrailersOnlyAnswerCarriesStatusMessageAndDetails) {
  const Headers headers =
      TrailersOnly(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "retry after 2 s: 100%"),
                   {{kRetryAfterKey, "2"}});
  EXPECT_THAT(headers, ElementsAre(Field(&HeaderField::name, ":status"),
                                   Field(&HeaderField::name, "content-type"),
                                   Field(&HeaderField::name, "grpc-status"),
                                   Field(&HeaderField::name, "grpc-message"),
                                   Field(&HeaderField::name, "retry-after")));
  EXPECT_EQ(headers[0].value, "200");
  EXPECT_EQ(headers[1].value, "application/grpc");
  EXPECT_EQ(headers[2].value, "8");
  EXPECT_EQ(headers[3].value, "retry after 2 s: 100%25");
  EXPECT_EQ(headers[4].value, "2");
  EXPECT_EQ(GrpcStatusOf(headers), 8);

  const std::string details("\x08\x03\x12\x02no", 6);  // a serialized google.rpc.Status
  const Headers with_details =
      TrailersOnly(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad", details));
  ASSERT_EQ(with_details.size(), 5u);
  EXPECT_EQ(with_details[4].name, "grpc-status-details-bin");
  std::string decoded;
  ASSERT_TRUE(absl::Base64Unescape(with_details[4].value, &decoded));
  EXPECT_EQ(decoded, details);
}

TEST(TrailersTest, TrailersAfterAResponseCarryStatusAndEncodedMessage) {
  const Headers trailers = Trailers(grpc::StatusCode::DEADLINE_EXCEEDED, "超时\n");
  ASSERT_EQ(trailers.size(), 2u);
  EXPECT_EQ(trailers[0].name, "grpc-status");
  EXPECT_EQ(trailers[0].value, "4");
  EXPECT_EQ(trailers[1].name, "grpc-message");
  EXPECT_EQ(PercentDecode(trailers[1].value), "超时\n");
}

TEST(TrailersTest, GrpcStatusOfReadsTheFirstAndRefusesWhatIsNoNumber) {
  EXPECT_EQ(GrpcStatusOf({}), -1);
  EXPECT_EQ(GrpcStatusOf({{"grpc-message", "x"}}), -1);
  EXPECT_EQ(GrpcStatusOf({{"grpc-status", "14"}, {"grpc-status", "0"}}), 14);
  EXPECT_EQ(GrpcStatusOf({{"grpc-status", "OK"}}), -1);
  EXPECT_EQ(GrpcCodeName(5), "NOT_FOUND");
  EXPECT_EQ(GrpcCodeName(-1), "UNKNOWN");
  EXPECT_EQ(GrpcCodeName(17), "UNKNOWN");
}

TEST(RequestIdTest, PassesOnlyIdsTheServicesAccept) {
  EXPECT_TRUE(IsGoodRequestId("req-gw-1"));
  EXPECT_TRUE(IsGoodRequestId("a.b_c:d-9"));
  EXPECT_TRUE(IsGoodRequestId(std::string(128, 'a')));
  EXPECT_FALSE(IsGoodRequestId(""));
  EXPECT_FALSE(IsGoodRequestId(std::string(129, 'a')));
  EXPECT_FALSE(IsGoodRequestId("has space"));
  EXPECT_FALSE(IsGoodRequestId("line\nbreak"));
  EXPECT_FALSE(IsGoodRequestId("请求"));
  const std::string made = NewRequestId();
  EXPECT_EQ(made.size(), 32u);
  EXPECT_TRUE(IsGoodRequestId(made));
  EXPECT_NE(NewRequestId(), made);
}

// An import refused for 500 rows carries 100 of them (~26 KB of trailers); a client that takes
// 8 KiB gets the first rows that fit and the count of all, under its limit; one that takes more
// gets them as they are; details that cannot be cut to fit are dropped, the status kept.
TEST(TrailersTest, AreFittedToWhatTheClientTakes) {
  std::vector<common::v1::RowViolation> rows(500);
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].set_row(static_cast<int64_t>(i) + 2);
    rows[i].set_column("出生日期 (birth_date)");
    rows[i].set_rule("date_format");
    rows[i].set_description("want a date YYYY-MM-DD, like 1990-03-07, not a month 13");
  }
  const grpc::Status status = ToGrpcStatus(
      WithRowViolations(absl::InvalidArgumentError("roster rejected: 500 problems"), rows));
  const Headers whole = TrailersOnly(status);
  ASSERT_GT(HeaderListSize(whole), 8u * 1024);

  EXPECT_EQ(HeaderListSize(FitHeaderListSize(whole, 1 << 20, 256)), HeaderListSize(whole));
  const Headers fitted = FitHeaderListSize(whole, size_t{8} * 1024, 256);
  EXPECT_LE(HeaderListSize(fitted) + 256, 8u * 1024);
  ASSERT_EQ(fitted.size(), whole.size());
  EXPECT_EQ(GrpcStatusOf(fitted), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  std::string details;
  ASSERT_TRUE(absl::Base64Unescape(fitted.back().value, &details));
  auto bad = BadRequestOf(
      FromGrpcStatus(grpc::Status(status.error_code(), status.error_message(), details)));
  ASSERT_TRUE(bad.has_value());
  EXPECT_GE(bad->row_violations_size(), 10);
  ASSERT_EQ(bad->field_violations_size(), 1);
  EXPECT_THAT(bad->field_violations(0).description(),
              ::testing::StartsWith("500 problems (rows); the first "));

  const Headers bare = FitHeaderListSize(whole, 300, 0);
  EXPECT_EQ(bare.size(), whole.size() - 1);
  EXPECT_EQ(GrpcStatusOf(bare), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
}

}  // namespace
}  // namespace shidang::gateway
