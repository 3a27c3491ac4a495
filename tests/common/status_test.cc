#include "services/common/status.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/common/dates.h"

namespace shidang {
namespace {

absl::StatusOr<int> ParsePositive(int value) {
  if (value <= 0) return InvalidField("value", "positive", "must be greater than 0");
  return value;
}

absl::Status CheckTwice(int a, int b) {
  SHIDANG_RETURN_IF_ERROR(ParsePositive(a));
  SHIDANG_RETURN_IF_ERROR(absl::OkStatus());
  SHIDANG_ASSIGN_OR_RETURN(int checked_b, ParsePositive(b));
  if (checked_b == 7) return absl::NotFoundError("seven");
  return absl::OkStatus();
}

absl::StatusOr<std::string> Doubled(int a) {
  SHIDANG_ASSIGN_OR_RETURN(auto value, ParsePositive(a));
  return std::to_string(value * 2);
}

TEST(StatusTest, OkMapsToOk) {
  grpc::Status status = ToGrpcStatus(absl::OkStatus());
  EXPECT_TRUE(status.ok());
  EXPECT_TRUE(FromGrpcStatus(status).ok());
}

TEST(StatusTest, EveryCodeKeepsItsNumberAndMessage) {
  for (int code = 1; code <= 16; ++code) {
    absl::Status in(static_cast<absl::StatusCode>(code), "what went wrong");
    grpc::Status out = ToGrpcStatus(in);
    EXPECT_EQ(static_cast<int>(out.error_code()), code);
    EXPECT_EQ(out.error_message(), "what went wrong");
    absl::Status back = FromGrpcStatus(out);
    EXPECT_EQ(back.code(), in.code());
    EXPECT_EQ(back.message(), in.message());
  }
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError("x")).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ToGrpcStatus(absl::UnauthenticatedError("x")).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST(StatusTest, InvalidFieldNamesFieldAndCarriesViolation) {
  absl::Status status = InvalidField("teacher.birth_date", "date_format", "must be YYYY-MM-DD");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "teacher.birth_date: must be YYYY-MM-DD");
  std::optional<common::v1::BadRequest> bad = BadRequestOf(status);
  ASSERT_TRUE(bad.has_value());
  ASSERT_EQ(bad->field_violations_size(), 1);
  EXPECT_EQ(bad->field_violations(0).field(), "teacher.birth_date");
  EXPECT_EQ(bad->field_violations(0).rule(), "date_format");
  EXPECT_EQ(bad->field_violations(0).description(), "must be YYYY-MM-DD");
  EXPECT_FALSE(BadRequestOf(absl::InternalError("no details")).has_value());
}

TEST(StatusTest, DetailsSurviveTheWire) {
  absl::Status status = InvalidField("hours", "half_steps", "must be a multiple of 0.5");
  AddFieldViolation(&status, "course_id", "required", "must be set");
  grpc::Status wire = ToGrpcStatus(status);
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(wire.error_message(), "hours: must be a multiple of 0.5; course_id: must be set");
  ASSERT_FALSE(wire.error_details().empty());

  // The details are an RpcStatus (google.rpc.Status on the wire) holding a BadRequest Any.
  common::v1::RpcStatus rpc_status;
  ASSERT_TRUE(rpc_status.ParseFromString(wire.error_details()));
  EXPECT_EQ(rpc_status.code(), 3);
  EXPECT_EQ(rpc_status.message(), wire.error_message());
  ASSERT_EQ(rpc_status.details_size(), 1);
  EXPECT_EQ(rpc_status.details(0).type_url(), kBadRequestTypeUrl);
  common::v1::BadRequest from_any;
  ASSERT_TRUE(rpc_status.details(0).UnpackTo(&from_any));
  EXPECT_EQ(from_any.field_violations_size(), 2);

  absl::Status back = FromGrpcStatus(wire);
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument);
  std::optional<common::v1::BadRequest> bad = BadRequestOf(back);
  ASSERT_TRUE(bad.has_value());
  ASSERT_EQ(bad->field_violations_size(), 2);
  EXPECT_EQ(bad->field_violations(1).field(), "course_id");
  EXPECT_EQ(bad->field_violations(1).rule(), "required");
}

// The date parser sits below protobuf (shidang_values), yet a bad date must reach the caller
// with its field in the details, as InvalidField's do (before: the message alone named it).
TEST(StatusTest, ABadDateNamesItsFieldInTheDetails) {
  const absl::Status bad = dates::ParseDate("2025-02-30", "as_of").status();
  ASSERT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message(),
            "as_of: '2025-02-30' is not a date; want a real calendar day YYYY-MM-DD between 1900 "
            "and 2199");
  grpc::Status wire = ToGrpcStatus(bad);
  common::v1::RpcStatus rpc_status;
  ASSERT_TRUE(rpc_status.ParseFromString(wire.error_details()));
  ASSERT_EQ(rpc_status.details_size(), 1);  // the BadRequest only, no in-process payload
  EXPECT_EQ(rpc_status.details(0).type_url(), kBadRequestTypeUrl);
  common::v1::BadRequest from_any;
  ASSERT_TRUE(rpc_status.details(0).UnpackTo(&from_any));
  ASSERT_EQ(from_any.field_violations_size(), 1);
  EXPECT_EQ(from_any.field_violations(0).field(), "as_of");
  EXPECT_EQ(from_any.field_violations(0).rule(), "date_format");
  // A violation added after it keeps the date's.
  absl::Status both = bad;
  AddFieldViolation(&both, "page.page_size", "range", "must be 0 to 500");
  std::optional<common::v1::BadRequest> listed = BadRequestOf(WithViolationsAsBadRequest(both));
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->field_violations_size(), 2);
  EXPECT_EQ(listed->field_violations(0).field(), "as_of");
  EXPECT_EQ(listed->field_violations(1).field(), "page.page_size");
}

TEST(StatusTest, AddFieldViolationToOkStartsInvalidArgument) {
  absl::Status status;
  AddFieldViolation(&status, "name", "required", "must be set");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "name: must be set");
  AddFieldViolation(&status, "id_card", "check_digit", "the check digit is wrong");
  ASSERT_TRUE(BadRequestOf(status).has_value());
  EXPECT_EQ(BadRequestOf(status)->field_violations_size(), 2);
}

TEST(StatusTest, RowViolationsTravel) {
  common::v1::RowViolation row;
  row.set_row(3);
  row.set_column("出生日期");
  row.set_rule("date_format");
  row.set_description("must be YYYY-MM-DD");
  absl::Status status =
      WithRowViolations(absl::InvalidArgumentError("the roster has 1 bad row"), {row});
  absl::Status back = FromGrpcStatus(ToGrpcStatus(status));
  EXPECT_EQ(back.message(), "the roster has 1 bad row");
  std::optional<common::v1::BadRequest> bad = BadRequestOf(back);
  ASSERT_TRUE(bad.has_value());
  ASSERT_EQ(bad->row_violations_size(), 1);
  EXPECT_EQ(bad->row_violations(0).row(), 3);
  EXPECT_EQ(bad->row_violations(0).column(), "出生日期");

  absl::Status from_ok = WithRowViolations(absl::OkStatus(), {row, row});
  EXPECT_EQ(from_ok.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(from_ok.message(), "2 rows are invalid");
  EXPECT_EQ(BadRequestOf(from_ok)->row_violations_size(), 2);
}

// Before: every row went into the trailer, and an import refused for ~400 rows (details over
// 94 KB, over 64 KiB once base64-encoded) ended the gateway's connection: "connection lost".
TEST(StatusTest, WhatAnErrorCarriesIsBoundedAndCountsWhatItLeavesOut) {
  std::vector<common::v1::RowViolation> rows;
  for (int i = 0; i < 5000; ++i) {
    common::v1::RowViolation row;
    row.set_row(i + 2);
    row.set_column("全国教师编号 (national_teacher_id)");
    row.set_rule("required");
    row.set_description(std::string(200, 'x'));
    rows.push_back(row);
  }
  rows[0].set_description(std::string(size_t{10} * 1024, 'h'));  // a 10 KB header cell, echoed
  absl::Status status = WithRowViolations(absl::OkStatus(), rows);
  const grpc::Status wire = ToGrpcStatus(status);
  EXPECT_LE(wire.error_details().size(), kMaxErrorDetailsBytes + 1024);

  absl::Status back = FromGrpcStatus(wire);
  EXPECT_EQ(back.message(), "5000 rows are invalid");
  std::optional<common::v1::BadRequest> bad = BadRequestOf(back);
  ASSERT_TRUE(bad.has_value());
  ASSERT_GT(bad->row_violations_size(), 0);
  EXPECT_LE(bad->row_violations_size(), kMaxRowViolations);
  EXPECT_EQ(bad->row_violations(0).row(), 2);
  EXPECT_LE(bad->row_violations(0).description().size(), kMaxViolationTextBytes);
  EXPECT_NE(bad->row_violations(0).description().find("10240 bytes in all"), std::string::npos);
  EXPECT_EQ(bad->row_violations(1).column(), "全国教师编号 (national_teacher_id)");
  ASSERT_EQ(bad->field_violations_size(), 1);
  EXPECT_EQ(bad->field_violations(0).rule(), "more_violations");
  EXPECT_EQ(bad->field_violations(0).description(),
            absl::StrCat("5000 problems (rows); the first ", bad->row_violations_size(),
                         " are listed, ", 5000 - bad->row_violations_size(), " more are not"));
}

// The size of an error's trailers as a gRPC client counts it against its limit (HPACK: name +
// value + 32 per field; grpc-message percent-encoded, the details base64-encoded).
size_t TrailerBytes(const grpc::Status& status) {
  size_t message = 0;
  for (unsigned char c : status.error_message()) {
    message += (c < 0x20 || c > 0x7E || c == '%') ? 3 : 1;
  }
  const size_t details = (status.error_details().size() * 4 + 2) / 3;
  return (11 + 2 + 32) + (12 + message + 32) + (23 + details + 32);
}

// gRPC's C-core (C++, Python, Ruby, ...) and Java clients refuse more than 8 KiB of metadata by
// default, and the 100 rows an error may carry do not fit: the gateway's gRPC front fits an
// error to what its client takes (FitRpcStatus), listing the first rows that fit and still
// counting all 500.
TEST(StatusTest, AManyRowRefusalIsFittedToAnOrdinaryClientsMetadataLimit) {
  std::vector<common::v1::RowViolation> rows;
  for (int i = 0; i < 500; ++i) {
    common::v1::RowViolation row;
    row.set_row(i + 2);
    row.set_column("身份证号码 (id_card_number)");
    row.set_rule("check_digit");
    row.set_description(
        "must be 18 characters (17 digits and a check digit 0-9 or X) with a valid GB 11643 check "
        "digit, matching the birth date and sex");
    rows.push_back(row);
  }
  const grpc::Status wire = ToGrpcStatus(
      WithRowViolations(absl::InvalidArgumentError("roster rejected: 500 problems"), rows));
  std::optional<common::v1::BadRequest> bad = BadRequestOf(FromGrpcStatus(wire));
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->row_violations_size(), kMaxRowViolations);
  EXPECT_GT(TrailerBytes(wire), 8u * 1024) << "the case a plain client cannot take";

  // What a client of 8 KiB takes, less the other trailers: about 5 KiB before base64.
  std::optional<std::string> fitted = FitRpcStatus(wire.error_details(), size_t{5} * 1024);
  ASSERT_TRUE(fitted.has_value());
  const grpc::Status fitted_wire(wire.error_code(), wire.error_message(), *fitted);
  EXPECT_LE(TrailerBytes(fitted_wire), 8u * 1024 - 512);
  bad = BadRequestOf(FromGrpcStatus(fitted_wire));
  ASSERT_TRUE(bad.has_value());
  EXPECT_GE(bad->row_violations_size(), 10);
  EXPECT_LT(bad->row_violations_size(), kMaxRowViolations);
  for (int i = 0; i < bad->row_violations_size(); ++i) {
    EXPECT_EQ(bad->row_violations(i).row(), i + 2);
  }
  ASSERT_EQ(bad->field_violations_size(), 1);
  EXPECT_EQ(bad->field_violations(0).description(),
            absl::StrCat("500 problems (rows); the first ", bad->row_violations_size(),
                         " are listed, ", 500 - bad->row_violations_size(), " more are not"));
  // Too little room even for the message: nothing fitted (the caller drops the details).
  EXPECT_FALSE(FitRpcStatus(wire.error_details(), 10).has_value());
  EXPECT_FALSE(FitRpcStatus("not a status", size_t{5} * 1024).has_value());
}

TEST(StatusTest, ALongMessageIsCutAtACharacterBoundary) {
  const std::string cell(3000, 'a');
  const grpc::Status wire =
      ToGrpcStatus(absl::InvalidArgumentError(absl::StrCat("表头 ", cell, " 未知")));
  EXPECT_LE(wire.error_message().size(), kMaxErrorMessageBytes);
  EXPECT_EQ(wire.error_message().rfind("表头 ", 0), 0u);
  EXPECT_NE(wire.error_message().find("bytes in all)"), std::string::npos);
  // Cut inside a three-byte character: the whole character goes.
  const std::string cut = BoundedText("表表表表表表表表表表表表表表表表表表表表", 40);
  EXPECT_LE(cut.size(), 40u);
  EXPECT_EQ(cut.rfind("表", 0), 0u);
  EXPECT_EQ(BoundedText("short", 40), "short");
}

TEST(StatusTest, OtherPayloadsAlsoTravel) {
  absl::Status status = absl::FailedPreconditionError("quota is full");
  status.SetPayload("type.googleapis.com/some.Other", absl::Cord("bytes"));
  absl::Status back = FromGrpcStatus(ToGrpcStatus(status));
  EXPECT_EQ(back.code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(back.GetPayload("type.googleapis.com/some.Other").has_value());
  EXPECT_EQ(std::string(*back.GetPayload("type.googleapis.com/some.Other")), "bytes");
}

TEST(StatusTest, Macros) {
  EXPECT_TRUE(CheckTwice(1, 2).ok());
  EXPECT_EQ(CheckTwice(0, 2).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckTwice(1, 0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckTwice(1, 7).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*Doubled(4), "8");
  EXPECT_EQ(Doubled(-1).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace shidang
