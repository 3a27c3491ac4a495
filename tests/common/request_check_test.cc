#include "services/common/request_check.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/violations.h"
#include "shidang/profile/v1/profile.pb.h"
#include "shidang/training/v1/training.pb.h"

namespace shidang {
namespace {

using ::testing::HasSubstr;
namespace pv1 = profile::v1;

pv1::CreateTeacherRequest GoodTeacher() {
  pv1::CreateTeacherRequest req;
  req.set_request_id("rq-1");
  req.set_county_id("330723");
  pv1::Teacher* t = req.mutable_teacher();
  t->set_name("王芳");
  t->set_national_teacher_id("3307232019000123");
  t->set_sex(common::v1::SEX_FEMALE);
  return req;
}

std::string FieldOf(const absl::Status& status) {
  std::optional<common::v1::BadRequest> bad = BadRequestOf(status);
  if (!bad.has_value() || bad->field_violations().empty()) return "";
  return bad->field_violations(0).field();
}

TEST(RequestCheckTest, AGoodRequestPasses) { EXPECT_TRUE(CheckRequestFields(GoodTeacher()).ok()); }

TEST(RequestCheckTest, EnumNumbersOutsideTheEnumAreRefusedByPath) {
  pv1::CreateTeacherRequest req = GoodTeacher();
  req.mutable_teacher()->set_sex(static_cast<common::v1::Sex>(100001));
  absl::Status status = CheckRequestFields(req);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(status), "teacher.sex");
  EXPECT_THAT(status.message(), HasSubstr("100001 is not a value of shidang.common.v1.Sex"));
  EXPECT_THAT(status.message(), HasSubstr("SEX_FEMALE"));

  req = GoodTeacher();
  req.mutable_teacher()->set_sex(static_cast<common::v1::Sex>(-1));
  EXPECT_EQ(FieldOf(CheckRequestFields(req)), "teacher.sex");
}

TEST(RequestCheckTest, LimitsFollowTheFieldsKind) {
  pv1::CreateTeacherRequest req = GoodTeacher();
  req.mutable_teacher()->set_national_teacher_id(std::string(kMaxIdBytes, '7'));
  EXPECT_TRUE(CheckRequestFields(req).ok());
  req.mutable_teacher()->set_national_teacher_id(std::string(1 << 20, '7'));
  absl::Status status = CheckRequestFields(req);
  EXPECT_EQ(FieldOf(status), "teacher.national_teacher_id");
  EXPECT_THAT(status.message(), HasSubstr("at most 128 bytes"));

  // A line counts characters, not bytes: 256 Chinese characters pass, 257 do not.
  std::string name;
  for (size_t i = 0; i < kMaxLineChars; ++i) name += "师";
  req = GoodTeacher();
  req.mutable_teacher()->set_name(name);
  EXPECT_TRUE(CheckRequestFields(req).ok());
  req.mutable_teacher()->set_name(name + "师");
  EXPECT_EQ(FieldOf(CheckRequestFields(req)), "teacher.name");
}

TEST(RequestCheckTest, OneLineFieldsRefuseControlsBomAndBidi) {
  for (const std::string& bad :
       {std::string("王\r芳"), std::string("王\n芳"), std::string("王\t芳"),
        std::string("王\0芳", 5), std::string("王\x1b芳"), std::string("王\xc2\x85芳"),
        std::string("\xef\xbb\xbf王芳"), std::string("王\xe2\x80\xae芳"),
        std::string("王\xe2\x81\xa6芳")}) {
    pv1::CreateTeacherRequest req = GoodTeacher();
    req.mutable_teacher()->set_name(bad);
    absl::Status status = CheckRequestFields(req);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << absl::CHexEscape(bad);
    EXPECT_EQ(FieldOf(status), "teacher.name") << absl::CHexEscape(bad);
  }
}

TEST(RequestCheckTest, MultiLineFieldsKeepLfAndTabButNotCrOrBidi) {
  training::v1::ReverseEntryRequest req;
  req.set_reason("第一行\n\t第二行");
  EXPECT_TRUE(CheckRequestFields(req).ok());
  req.set_reason("第一行\r\n第二行");
  EXPECT_EQ(FieldOf(CheckRequestFields(req)), "reason");
  req.set_reason("学时\xe2\x80\xae有误");
  EXPECT_EQ(FieldOf(CheckRequestFields(req)), "reason");
  EXPECT_EQ(TextKindOf(*req.GetDescriptor()->FindFieldByName("reason")), TextKind::kMultiLine);
}

TEST(RequestCheckTest, RepeatedFieldsAreNamedWithTheirIndex) {
  training::v1::RecordCompletionsRequest req;
  req.add_rows()->set_teacher_id("T1");
  req.add_rows()->set_teacher_id(std::string(200, 'x'));
  EXPECT_EQ(FieldOf(CheckRequestFields(req)), "rows[1].teacher_id");
}

TEST(RequestCheckTest, EveryBadFieldIsNamedUpToTen) {
  pv1::CreateTeacherRequest req = GoodTeacher();
  req.mutable_teacher()->set_name("a\rb");
  req.mutable_teacher()->set_sex(static_cast<common::v1::Sex>(9));
  absl::Status status = CheckRequestFields(req);
  std::optional<common::v1::BadRequest> bad = BadRequestOf(status);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->field_violations_size(), 2);
}

TEST(RequestCheckTest, UnparsableBytesNameTheFieldThatIsNotUtf8) {
  pv1::CreateTeacherRequest req = GoodTeacher();
  req.mutable_teacher()->set_national_teacher_id("MARKER");
  std::string bytes = req.SerializeAsString();
  bytes.replace(bytes.find("MARKER"), 6,
                "abc\xff\xfe"
                "d");
  pv1::CreateTeacherRequest parsed;
  ASSERT_FALSE(parsed.ParseFromString(bytes));  // what gRPC's own parse does
  absl::Status status = ExplainUnparsableRequest(bytes, *req.GetDescriptor());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(status), "teacher.national_teacher_id");

  training::v1::RecordCompletionsRequest rows;
  rows.add_rows()->set_teacher_id("T1");
  rows.add_rows()->set_teacher_id("MARKER");
  bytes = rows.SerializeAsString();
  bytes.replace(bytes.find("MARKER"), 6, "\xed\xa0\x80xyz");  // a surrogate
  EXPECT_EQ(FieldOf(ExplainUnparsableRequest(bytes, *rows.GetDescriptor())), "rows[1].teacher_id");

  // Not a message at all: still INVALID_ARGUMENT, saying so.
  status = ExplainUnparsableRequest("\x0a\xff\xff\xff", *req.GetDescriptor());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("not a valid shidang.profile.v1.CreateTeacherRequest"));
}

}  // namespace
}  // namespace shidang
