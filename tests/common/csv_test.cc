#include "services/common/csv.h"

#include <unicode/ucnv.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/status.h"
#include "shidang/common/v1/policy.pb.h"
#include "shidang/common/v1/types.pb.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::csv {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr char kBom[] = "\xEF\xBB\xBF";

// "姓名" in GB18030 (the same bytes in GBK and GB2312).
constexpr char kXingMingGb[] = "\xD0\xD5\xC3\xFB";

// UTF-8 -> GB18030 with ICU, independently of the code under test (which goes the other way).
std::string ToGb18030(const std::string& utf8) {
  UErrorCode err = U_ZERO_ERROR;
  std::string out(utf8.size() * 4 + 4, '\0');
  const int32_t n = ucnv_convert("GB18030", "UTF-8", out.data(), static_cast<int32_t>(out.size()),
                                 utf8.data(), static_cast<int32_t>(utf8.size()), &err);
  EXPECT_TRUE(U_SUCCESS(err)) << u_errorName(err);
  out.resize(static_cast<size_t>(n));
  return out;
}

std::vector<std::string> Cells(const CsvRow& row) { return row.cells; }

// ---------------------------------------------------------------------------------------------
// Encodings

TEST(DecodeToUtf8Test, Utf8WithAndWithoutBom) {
  const std::string text = "姓名,性别\r\n张三,男\r\n";
  EXPECT_EQ(*DecodeToUtf8(text), text);
  EXPECT_EQ(*DecodeToUtf8(kBom + text), text);
  // Only a leading BOM is dropped.
  EXPECT_EQ(*DecodeToUtf8(text + kBom), text + kBom);
  EXPECT_EQ(*DecodeToUtf8(""), "");
}

TEST(DecodeToUtf8Test, Gb18030KnownBytes) {
  EXPECT_EQ(*DecodeToUtf8(kXingMingGb), "姓名");
  EXPECT_EQ(*DecodeToUtf8(std::string(kXingMingGb) + ",sex\r\n"), "姓名,sex\r\n");
}

TEST(DecodeToUtf8Test, Gb18030FromIcuRoundTrips) {
  // Includes characters outside GB2312 (4-byte GB18030 sequences: 𠀀 U+20000, € U+20AC) and a
  // GB18030 BOM, which is dropped like a UTF-8 one.
  const std::string utf8 =
      "学校代码,学校名称,备注\r\n3307230001,武义县实验小学,\"含,逗号\"\r\n𠀀€,囧,龘\r\n";
  const std::string gb = ToGb18030(utf8);
  ASSERT_NE(gb, utf8);
  EXPECT_EQ(*DecodeToUtf8(gb), utf8);
  EXPECT_EQ(*DecodeToUtf8(ToGb18030("\xEF\xBB\xBF" + utf8)), utf8);
}

TEST(DecodeToUtf8Test, NeitherEncodingIsRejectedWithOffsets) {
  // 0x80 alone is neither UTF-8 nor GB18030.
  absl::StatusOr<std::string> bad = DecodeToUtf8("a,b\n1,\x80x");
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("neither UTF-8 nor GB18030"));
  EXPECT_THAT(bad.status().message(), HasSubstr("UTF-8 it breaks at byte offset 6"));
  EXPECT_THAT(bad.status().message(), HasSubstr("GB18030 at byte offset 6"));
  EXPECT_THAT(bad.status().message(), HasSubstr("0x80"));

  // A GB18030 lead byte cut off by the end of the file.
  bad = DecodeToUtf8(std::string(kXingMingGb) + "\xD0");
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("GB18030 at byte offset 4"));

  // Strict UTF-8: an encoded surrogate (ED A0 80) is not UTF-8, and 0x80 after the GB pair
  // ED A0 is not GB18030.
  bad = DecodeToUtf8("\xED\xA0\x80");
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("UTF-8 it breaks at byte offset 0"));
  EXPECT_THAT(bad.status().message(), HasSubstr("GB18030 at byte offset 2"));

  bad = DecodeToUtf8(
      "\xFF\xFE"
      "a\0b\0");
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("UTF-16"));
}

TEST(DecodeToUtf8Test, OverlongUtf8IsReadAsGb18030) {
  // C0 AF is an overlong '/' in lax UTF-8 decoders; strictly it is not UTF-8, and it is a valid
  // GB18030 pair, so it must not come back unchanged.
  absl::StatusOr<std::string> decoded = DecodeToUtf8("\xC0\xAF");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_NE(*decoded, "\xC0\xAF");
  EXPECT_EQ(ToGb18030(*decoded), "\xC0\xAF");
}

// ---------------------------------------------------------------------------------------------
// Parsing and writing

TEST(CsvRoundTripTest, QuotesCommasNewlinesChineseAndFormulas) {
  const std::vector<std::string> header = {"姓名", "备注", "公式", "空白"};
  const std::vector<std::vector<std::string>> rows = {
      {"张三", "他说\"你好\"", "=SUM(A1:A2)", ""},
      {"李四", "逗号,在里面", "+86 139", "  两边有空格  "},
      {"王五", "第一行\n第二行", "-5", "\t制表符开头"},
      {"赵六", "回车\r\n换行", "@cmd", "a=b"},
      {"欧阳七", "'已有撇号", "'=不是公式", "\"\""},
  };
  const std::string bytes = WriteCsv(header, rows);
  ASSERT_TRUE(absl::StartsWith(bytes, kBom));
  EXPECT_TRUE(absl::EndsWith(bytes, "\r\n"));

  absl::StatusOr<std::string> text = DecodeToUtf8(bytes);
  ASSERT_TRUE(text.ok()) << text.status();
  absl::StatusOr<CsvTable> table = ParseCsv(*text);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->header, header);
  EXPECT_EQ(table->header_row, 1);
  ASSERT_EQ(table->rows.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    // Embedded line breaks do not start a new row.
    EXPECT_EQ(table->rows[i].number, static_cast<int64_t>(i) + 2);
    // Formula-guarded cells come back as written, except a real leading apostrophe before a
    // formula character, which is indistinguishable from the guard (documented).
    std::vector<std::string> want = rows[i];
    if (want[2] == "'=不是公式") want[2] = "=不是公式";
    EXPECT_EQ(table->rows[i].cells, want) << "row " << i;
  }
}

TEST(WriteCsvTest, FormulaInjectionIsDefused) {
  const std::string bytes =
      WriteCsv({"h"}, {{"=1+1"}, {"+1"}, {"-1"}, {"@x"}, {"a=b"}, {"=a,b"}, {"\tx"}, {"1"}});
  EXPECT_EQ(bytes, std::string(kBom) +
                       "h\r\n'=1+1\r\n'+1\r\n'-1\r\n'@x\r\na=b\r\n\"'=a,b\"\r\n'\tx\r\n1\r\n");
}

TEST(WriteCsvTest, QuotesOnlyWhereNeeded) {
  EXPECT_EQ(WriteCsv({"a", "b"}, {{"x y", "say \"hi\""}, {" lead", "trail "}, {"", "多\n行"}}),
            std::string(kBom) +
                "a,b\r\nx y,\"say \"\"hi\"\"\"\r\n\" lead\",\"trail \"\r\n,\"多\n行\"\r\n");
}

TEST(ParseCsvTest, RowNumbersCountBlankRowsAndLineBreaksInCells) {
  absl::StatusOr<CsvTable> table = ParseCsv("a,b\r\n1,\"x\ny\"\r\n\r\n,\r\n  3 , \" 4 \" \r\n");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_THAT(table->header, ElementsAre("a", "b"));
  ASSERT_EQ(table->rows.size(), 2u);
  EXPECT_EQ(table->rows[0].number, 2);
  EXPECT_THAT(Cells(table->rows[0]), ElementsAre("1", "x\ny"));
  // Row 3 is blank, row 4 has only empty cells: skipped but counted.
  EXPECT_EQ(table->rows[1].number, 5);
  // Unquoted cells are trimmed; quoted ones are not.
  EXPECT_THAT(Cells(table->rows[1]), ElementsAre("3", " 4 "));
}

TEST(ParseCsvTest, LfOnlyLeadingBlankLinesAndBom) {
  absl::StatusOr<CsvTable> table = ParseCsv(std::string(kBom) + "\n\n姓名,性别\n张三,男");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->header_row, 3);
  EXPECT_THAT(table->header, ElementsAre("姓名", "性别"));
  ASSERT_EQ(table->rows.size(), 1u);
  EXPECT_EQ(table->rows[0].number, 4);
  EXPECT_THAT(Cells(table->rows[0]), ElementsAre("张三", "男"));
}

TEST(ParseCsvTest, ShortRowsArePaddedAndTrailingEmptiesDropped) {
  absl::StatusOr<CsvTable> table = ParseCsv("a,b,c,,\n1\n1,2,3,,,\n");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_THAT(table->header, ElementsAre("a", "b", "c"));
  ASSERT_EQ(table->rows.size(), 2u);
  EXPECT_THAT(Cells(table->rows[0]), ElementsAre("1", "", ""));
  EXPECT_THAT(Cells(table->rows[1]), ElementsAre("1", "2", "3"));
}

TEST(ParseCsvTest, RejectsBadFiles) {
  for (const std::string& empty :
       {std::string(""), std::string("\r\n\r\n"), std::string(kBom), std::string(",,\n")}) {
    absl::StatusOr<CsvTable> table = ParseCsv(empty);
    ASSERT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument) << empty;
    EXPECT_THAT(table.status().message(), HasSubstr("empty"));
  }

  absl::StatusOr<CsvTable> dup = ParseCsv("姓名,性别,姓名\n张三,男,张三\n");
  ASSERT_EQ(dup.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(dup.status().message(), HasSubstr("duplicate column '姓名'"));
  EXPECT_THAT(dup.status().message(), HasSubstr("columns 1 and 3"));
  dup = ParseCsv("Name,sex,NAME\n");
  ASSERT_EQ(dup.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(dup.status().message(), HasSubstr("duplicate column 'NAME'"));

  absl::StatusOr<CsvTable> hole = ParseCsv("a,,c\n1,2,3\n");
  ASSERT_EQ(hole.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(hole.status().message(), HasSubstr("column 2 has no name"));

  absl::StatusOr<CsvTable> wide = ParseCsv("a,b\n1,2\n1,2,3\n");
  ASSERT_EQ(wide.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(wide.status().message(), HasSubstr("CSV row 3: has 3 cells"));

  absl::StatusOr<CsvTable> quote = ParseCsv("a,b\n1,x\"y\n");
  ASSERT_EQ(quote.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(quote.status().message(), HasSubstr("CSV row 2: malformed quoting at byte offset 7"));

  absl::StatusOr<CsvTable> after = ParseCsv("a,b\n1,\"x\"y\n");
  ASSERT_EQ(after.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(after.status().message(), HasSubstr("CSV row 2: malformed quoting"));

  absl::StatusOr<CsvTable> open = ParseCsv("a,b\n1,2\n3,\"never closed\n4,5\n");
  ASSERT_EQ(open.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(open.status().message(), HasSubstr("CSV row 3: a quoted cell is never closed"));
}

// ---------------------------------------------------------------------------------------------
// Header mapping

const std::vector<Column>& TestColumns() {
  static const auto* columns = new std::vector<Column>{
      {"name", {"姓名", "name"}, true},
      {"sex", {"性别", "sex"}, true},
      {"birth_date", {"出生日期", "birth_date"}, true},
      {"phone", {"手机", "phone"}, false},
  };
  return *columns;
}

TEST(MapHeadersTest, ChineseOrEnglishAnyCase) {
  absl::StatusOr<CsvTable> table = ParseCsv("NAME,Birth Date,性别\n张三,1990-01-02,男\n");
  ASSERT_TRUE(table.ok()) << table.status();
  absl::StatusOr<HeaderMap> map = MapHeaders(*table, TestColumns());
  ASSERT_TRUE(map.ok()) << map.status();
  const CsvRow& row = table->rows.at(0);
  EXPECT_EQ(map->Cell(row, "name"), "张三");
  EXPECT_EQ(map->Cell(row, "birth_date"), "1990-01-02");
  EXPECT_EQ(map->Cell(row, "sex"), "男");
  EXPECT_FALSE(map->Has("phone"));
  EXPECT_EQ(map->Cell(row, "phone"), "");
  EXPECT_EQ(map->Index("sex"), 2u);
  EXPECT_EQ(map->HeaderName("birth_date"), "Birth Date");
}

TEST(MapHeadersTest, ReportsEveryMissingUnknownAndDuplicateColumnAtOnce) {
  absl::StatusOr<CsvTable> table = ParseCsv("姓名,备注,name,工号\n张三,,张三,7\n");
  ASSERT_TRUE(table.ok()) << table.status();
  absl::StatusOr<HeaderMap> map = MapHeaders(*table, TestColumns());
  ASSERT_EQ(map.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(map.status().message(), HasSubstr("性别/sex"));
  EXPECT_THAT(map.status().message(), HasSubstr("出生日期/birth_date"));
  EXPECT_THAT(map.status().message(), HasSubstr("'备注'"));
  EXPECT_THAT(map.status().message(), HasSubstr("'工号'"));

  std::optional<common::v1::BadRequest> details = BadRequestOf(map.status());
  ASSERT_TRUE(details.has_value());
  std::vector<std::string> found;
  for (const common::v1::RowViolation& v : details->row_violations()) {
    EXPECT_EQ(v.row(), 1);
    EXPECT_FALSE(v.description().empty());
    found.push_back(v.rule() + ":" + v.column());
  }
  EXPECT_THAT(found, UnorderedElementsAre(
                         "missing_column:性别/sex", "missing_column:出生日期/birth_date",
                         "unknown_column:备注", "unknown_column:工号", "duplicate_column:name"));
}

TEST(MapHeadersTest, OptionalColumnsMayBeAbsent) {
  absl::StatusOr<CsvTable> table = ParseCsv("sex,birth_date,name,手机\n");
  ASSERT_TRUE(table.ok()) << table.status();
  absl::StatusOr<HeaderMap> map = MapHeaders(*table, TestColumns());
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_TRUE(map->Has("phone"));
  EXPECT_TRUE(table->rows.empty());
}

// ---------------------------------------------------------------------------------------------
// Enum labels

TEST(EnumLabelTest, ChineseLabelsAndNamesBothWays) {
  using common::v1::ProfessionalTitle;
  EXPECT_EQ(*EnumFromLabel<ProfessionalTitle>("高级"), common::v1::PROFESSIONAL_TITLE_SENIOR);
  EXPECT_EQ(*EnumFromLabel<ProfessionalTitle>(" 正高级 "),
            common::v1::PROFESSIONAL_TITLE_FULL_SENIOR);
  EXPECT_EQ(*EnumFromLabel<ProfessionalTitle>("PROFESSIONAL_TITLE_SENIOR"),
            common::v1::PROFESSIONAL_TITLE_SENIOR);
  EXPECT_EQ(*EnumFromLabel<ProfessionalTitle>("senior"), common::v1::PROFESSIONAL_TITLE_SENIOR);
  EXPECT_EQ(*EnumFromLabel<ProfessionalTitle>("Third_Grade"),
            common::v1::PROFESSIONAL_TITLE_THIRD_GRADE);
  EXPECT_EQ(EnumLabel(common::v1::PROFESSIONAL_TITLE_FIRST_GRADE), "一级");
  EXPECT_EQ(EnumLabel(common::v1::PROFESSIONAL_TITLE_UNSPECIFIED), "");
  EXPECT_EQ(EnumLabel(common::v1::STAGE_NINE_YEAR), "九年一贯");
  EXPECT_EQ(EnumLabel(common::v1::SEX_FEMALE), "女");
  EXPECT_EQ(EnumLabel(common::v1::ETHICS_SEVERITY_DEMOTION), "降低岗位等级");
  EXPECT_EQ(EnumLabel(common::v1::ProfessionalTitle_descriptor(), 42), "");

  // The same word names different values in different enums.
  EXPECT_EQ(*EnumFromLabel<common::v1::BackboneTier>("省级"), common::v1::BACKBONE_TIER_PROVINCE);
  EXPECT_EQ(*EnumFromLabel<common::v1::TrainingLevel>("省级"), common::v1::TRAINING_LEVEL_PROVINCE);
  EXPECT_EQ(*EnumFromLabel<common::v1::TrainingLevel>("校本"), common::v1::TRAINING_LEVEL_SCHOOL);
  EXPECT_EQ(*EnumFromLabel<common::v1::TrainingMode>("校本研修"),
            common::v1::TRAINING_MODE_SCHOOL_BASED);
  EXPECT_FALSE(EnumFromLabel<common::v1::TrainingMode>("校本").ok());
}

TEST(EnumLabelTest, EveryValueOfTheSharedEnumsHasAChineseLabel) {
  const google::protobuf::EnumDescriptor* enums[] = {common::v1::Sex_descriptor(),
                                                     common::v1::Stage_descriptor(),
                                                     common::v1::ProfessionalTitle_descriptor(),
                                                     common::v1::BackboneTier_descriptor(),
                                                     common::v1::TrainingLevel_descriptor(),
                                                     common::v1::TrainingMode_descriptor(),
                                                     common::v1::EthicsSeverity_descriptor(),
                                                     common::v1::PolicyLevel_descriptor(),
                                                     common::v1::CycleKind_descriptor()};
  for (const google::protobuf::EnumDescriptor* d : enums) {
    for (int i = 0; i < d->value_count(); ++i) {
      const int number = d->value(i)->number();
      if (number == 0) continue;
      const std::string label = EnumLabel(d, number);
      EXPECT_FALSE(label.empty()) << d->value(i)->name();
      // A label, not the fallback value name: labels are Chinese (non-ASCII).
      EXPECT_TRUE(static_cast<unsigned char>(label[0]) >= 0x80) << d->value(i)->name();
      absl::StatusOr<int> back = EnumFromLabel(d, label);
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_EQ(*back, number) << label;
      EXPECT_EQ(*EnumFromLabel(d, d->value(i)->name()), number);
    }
  }
}

TEST(EnumLabelTest, UnknownAndUnspecifiedAreRejectedNamingFieldAndAllowed) {
  absl::StatusOr<int> bad =
      EnumFromLabel(common::v1::ProfessionalTitle_descriptor(), "特级", "title");
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("title: '特级'"));
  EXPECT_THAT(bad.status().message(), HasSubstr("三级, 二级, 一级, 高级, 正高级"));
  EXPECT_THAT(bad.status().message(), HasSubstr("THIRD_GRADE"));
  EXPECT_FALSE(EnumFromLabel<common::v1::Stage>("UNSPECIFIED").ok());
  EXPECT_FALSE(EnumFromLabel<common::v1::Stage>("STAGE_UNSPECIFIED").ok());
  EXPECT_FALSE(EnumFromLabel<common::v1::Stage>("").ok());
  EXPECT_FALSE(EnumFromLabel<common::v1::Stage>("2").ok());
}

TEST(EnumLabelTest, ServicesRegisterLabelsForTheirEnums) {
  using profile::v1::PostStatus;
  ASSERT_TRUE(RegisterEnumLabels("shidang.profile.v1.PostStatus",
                                 {{profile::v1::POST_STATUS_ON_DUTY, "在岗"},
                                  {profile::v1::POST_STATUS_SECONDED, "借调"}})
                  .ok());
  EXPECT_EQ(EnumLabel(profile::v1::POST_STATUS_ON_DUTY), "在岗");
  EXPECT_EQ(*EnumFromLabel<PostStatus>("借调"), profile::v1::POST_STATUS_SECONDED);
  EXPECT_EQ(*EnumFromLabel<PostStatus>("retired"), profile::v1::POST_STATUS_RETIRED);
  // Registering again merges; the same label on another value is refused and changes nothing.
  ASSERT_TRUE(RegisterEnumLabels("shidang.profile.v1.PostStatus",
                                 {{profile::v1::POST_STATUS_RETIRED, "退休"}})
                  .ok());
  EXPECT_EQ(*EnumFromLabel<PostStatus>("退休"), profile::v1::POST_STATUS_RETIRED);
  EXPECT_EQ(*EnumFromLabel<PostStatus>("在岗"), profile::v1::POST_STATUS_ON_DUTY);
  absl::Status clash = RegisterEnumLabels("shidang.profile.v1.PostStatus",
                                          {{profile::v1::POST_STATUS_LEFT, "在岗"}});
  EXPECT_EQ(clash.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*EnumFromLabel<PostStatus>("在岗"), profile::v1::POST_STATUS_ON_DUTY);
  EXPECT_EQ(EnumLabel(profile::v1::POST_STATUS_LEFT), "POST_STATUS_LEFT");

  EXPECT_EQ(RegisterEnumLabels("shidang.nope.v1.Missing", {{1, "无"}}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RegisterEnumLabels("shidang.profile.v1.PostStatus", {{0, "未知"}}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RegisterEnumLabels("shidang.profile.v1.PostStatus", {{99, "未知"}}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      RegisterEnumLabels("shidang.profile.v1.PostStatus", {{profile::v1::POST_STATUS_LEFT, " "}})
          .code(),
      absl::StatusCode::kInvalidArgument);
}

// An 8 MiB line (a file without line ends) is refused naming its row, column and the limit, and
// none of it is echoed; a cell at the limit is taken.
TEST(ParseCsvTest, ACellOverTheLimitIsRefusedNamingTheLimit) {
  const std::string line(8 << 20, 'x');
  auto table = ParseCsv(line);
  ASSERT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(table.status().message(),
              HasSubstr("CSV row 1, column 1: a cell of more than 65536 bytes"));
  EXPECT_THAT(table.status().message(), HasSubstr(absl::StrCat("at most ", kMaxCsvCellBytes)));
  EXPECT_LT(table.status().message().size(), 200u);
  table = ParseCsv(absl::StrCat("a,b\r\n1,", std::string(kMaxCsvCellBytes + 1, 'y'), "\n"));
  ASSERT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(table.status().message(), HasSubstr("CSV row 2, column 2"));
  // Commas and line ends inside quotes are the cell's own.
  std::string quoted = "\"";
  while (quoted.size() <= kMaxCsvCellBytes) quoted += "x,\n\"\"";
  table = ParseCsv(absl::StrCat("a,b\n1,", quoted, "\"\n"));
  ASSERT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(table.status().message(), HasSubstr("CSV row 2, column 2"));
  table = ParseCsv(absl::StrCat("a,b\n1,", std::string(kMaxCsvCellBytes, 'y'), "\n"));
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->rows[0].cells[1].size(), kMaxCsvCellBytes);
}

}  // namespace
}  // namespace shidang::csv
