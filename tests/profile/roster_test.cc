// Reading a teachers roster (services/profile/roster.h): a file big enough to be read on every
// core gives the rows and their problems exactly as one pass in row order would.

#include "services/profile/roster.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/profile/demo_county.h"

namespace shidang::profile {
namespace {

const absl::CivilDay kToday(2025, 11, 25);

// A demo county of `schools` schools and `teachers` teachers as of kToday.
absl::StatusOr<DemoCounty> Demo(int schools, int teachers) {
  DemoCountyOptions options;
  options.schools = schools;
  options.teachers = teachers;
  options.today = kToday;
  return GenerateDemoCounty(options);
}

TEST(RosterParseTest, ABigFileReadOnEveryCoreKeepsRowOrderAndEveryProblem) {
  absl::StatusOr<DemoCounty> county = Demo(30, 3000);
  ASSERT_TRUE(county.ok()) << county.status();
  // Bad rows at both ends and in the middle, so each slice of the file has some. Data row k is
  // line k + 2 of the file (the header is line 1), which is the row number reported.
  const std::vector<size_t> bad = {0, 1499, 1500, 2999};
  for (size_t k : bad) county->teachers[k].name = "";
  county->teachers[2998].id_card_number = "12345";
  absl::StatusOr<Roster<RosterTeacher>> roster = ParseTeacherRoster(TeachersCsv(*county), kToday);
  ASSERT_TRUE(roster.ok()) << roster.status();

  ASSERT_EQ(roster->rows.size(), 3000u);
  for (size_t k = 0; k < roster->rows.size(); ++k) {
    ASSERT_EQ(roster->rows[k].row, static_cast<int64_t>(k + 2));
    ASSERT_EQ(roster->rows[k].teacher.national_teacher_id(),
              county->teachers[k].national_teacher_id);
  }
  EXPECT_EQ(roster->rows[10].teacher.name(), county->teachers[10].name);
  EXPECT_EQ(roster->rows[2500].school_ref, county->teachers[2500].school_code);

  std::vector<int64_t> problem_rows;
  for (const common::v1::RowViolation& p : roster->problems) problem_rows.push_back(p.row());
  EXPECT_EQ(problem_rows, (std::vector<int64_t>{2, 1501, 1502, 3000, 3001}));
  EXPECT_EQ(roster->problems[4].column(), roster->problems[0].column());
  EXPECT_NE(roster->problems[3].column(), roster->problems[0].column());
}

// Before: a problem named only the file's header, or only our key; a person reading
// "id_card_number" does not find it in a file headed 身份证号码, and a program does not know the
// file's words.
TEST(RosterParseTest, AProblemNamesTheColumnAsTheFileDidAndAsWeDo) {
  absl::StatusOr<DemoCounty> county = Demo(2, 3);
  ASSERT_TRUE(county.ok()) << county.status();
  county->teachers[0].name = "";
  county->teachers[1].id_card_number = "12345";
  std::string csv = TeachersCsv(*county);
  // The same columns under other names the import accepts.
  const size_t id_card = csv.find("身份证号");
  ASSERT_NE(id_card, std::string::npos);
  csv.replace(id_card, std::string("身份证号").size(), "身份证号码");
  const size_t national = csv.find("教师编号");
  ASSERT_NE(national, std::string::npos);
  csv.replace(national, std::string("教师编号").size(), "全国教师编号");

  absl::StatusOr<Roster<RosterTeacher>> roster = ParseTeacherRoster(csv, kToday);
  ASSERT_TRUE(roster.ok()) << roster.status();
  ASSERT_EQ(roster->problems.size(), 2u);
  EXPECT_EQ(roster->problems[0].row(), 2);
  EXPECT_EQ(roster->problems[0].column(), "姓名 (name)");
  EXPECT_EQ(roster->problems[1].row(), 3);
  EXPECT_EQ(roster->problems[1].column(), "身份证号码 (id_card_number)");
  EXPECT_EQ(roster->rows[2].teacher.national_teacher_id(), county->teachers[2].national_teacher_id);
}

// A title conferred and a backbone designation are facts: a day after today is refused in its
// row, naming the column and the rule.
TEST(RosterParseTest, ATitleOrDesignationDayAfterTodayIsAProblem) {
  absl::StatusOr<DemoCounty> county = Demo(2, 4);
  ASSERT_TRUE(county.ok()) << county.status();
  county->teachers[0].title = common::v1::PROFESSIONAL_TITLE_FIRST_GRADE;
  county->teachers[0].title_conferred_on = absl::CivilDay(2025, 11, 26);
  county->teachers[1].backbone_tier = common::v1::BACKBONE_TIER_COUNTY;
  county->teachers[1].backbone_designated_on = absl::CivilDay(2026, 1, 1);
  county->teachers[2].title = common::v1::PROFESSIONAL_TITLE_FIRST_GRADE;
  county->teachers[2].title_conferred_on = kToday;
  absl::StatusOr<Roster<RosterTeacher>> roster = ParseTeacherRoster(TeachersCsv(*county), kToday);
  ASSERT_TRUE(roster.ok()) << roster.status();
  std::vector<std::string> problems;
  for (const common::v1::RowViolation& p : roster->problems) {
    problems.push_back(absl::StrCat(p.row(), " ", p.rule()));
  }
  EXPECT_EQ(problems, (std::vector<std::string>{"2 not_future", "3 not_future"}));
  ASSERT_EQ(roster->problems.size(), 2u);
  EXPECT_NE(roster->problems[0].column().find("title_conferred_on"), std::string::npos);
  EXPECT_NE(roster->problems[1].column().find("backbone_designated_on"), std::string::npos);
  EXPECT_NE(roster->problems[0].description().find("2025-11-25"), std::string::npos);
}

TEST(RosterParseTest, SchoolNamesAreCountedInCharacters) {
  absl::StatusOr<DemoCounty> county = Demo(3, 10);
  ASSERT_TRUE(county.ok()) << county.status();
  // Row 2: 50 characters in 175 bytes (𠮷 is 4 bytes, 校 3); row 3: 51 characters in 121 bytes.
  std::string at_limit, past_limit;
  for (int i = 0; i < 25; ++i) at_limit += "𠮷";
  for (int i = 0; i < 25; ++i) at_limit += "校";
  for (int i = 0; i < 35; ++i) past_limit += "村";
  past_limit += "0123456789012345";
  county->schools[0].name = at_limit;
  county->schools[1].name = past_limit;
  absl::StatusOr<Roster<RosterSchool>> roster = ParseSchoolRoster(SchoolsCsv(*county));
  ASSERT_TRUE(roster.ok()) << roster.status();
  ASSERT_EQ(roster->problems.size(), 1u);
  EXPECT_EQ(roster->problems[0].row(), 3);
  EXPECT_EQ(roster->problems[0].rule(), "length");
  EXPECT_EQ(roster->problems[0].description(), "required: 1 to 50 characters");
  EXPECT_EQ(roster->rows[0].school.name(), at_limit);
}

}  // namespace
}  // namespace shidang::profile
