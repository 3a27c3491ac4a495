#include "services/profile/demo_county.h"

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/csv.h"
#include "services/common/dates.h"
#include "services/profile/roster_columns.h"
#include "tests/kit/redis_server.h"

namespace shidang::profile {
namespace {

using ::testing::HasSubstr;

constexpr absl::CivilDay kToday(2025, 9, 1);

DemoCountyOptions Options(uint64_t seed = 1) {
  DemoCountyOptions options;
  options.seed = seed;
  options.today = kToday;
  return options;
}

const DemoCounty& County() {
  static const DemoCounty* county = [] {
    absl::StatusOr<DemoCounty> c = GenerateDemoCounty(Options());
    EXPECT_TRUE(c.ok()) << c.status();
    return new DemoCounty(std::move(c).value());
  }();
  return *county;
}

// GB 11643's check character, computed from its definition rather than a weight table: the
// weight of position i (1-based from the left, of 18) is 2^(18-i) mod 11, and the check value is
// (12 - (sum mod 11)) mod 11, written X for 10.
char CheckCharacter(const std::string& first17) {
  int sum = 0;
  for (int i = 1; i <= 17; ++i) {
    int weight = 1;
    for (int k = 0; k < 18 - i; ++k) weight = weight * 2 % 11;
    sum += (first17[static_cast<size_t>(i - 1)] - '0') * weight;
  }
  const int check = (12 - sum % 11) % 11;
  return check == 10 ? 'X' : static_cast<char>('0' + check);
}

int WholeYears(absl::CivilDay since, absl::CivilDay day) {
  int years = 0;
  while (dates::ShiftYears(since, years + 1) <= day) ++years;
  return years;
}

TEST(CheckCharacterTest, KnownNumbers) {
  // The worked example of GB 11643-1999 (11010519491231002X) and a published sample.
  EXPECT_EQ(CheckCharacter("11010519491231002"), 'X');
  EXPECT_EQ(CheckCharacter("44052418800101001"), '4');
}

TEST(DemoCountyTest, RejectsBadOptions) {
  DemoCountyOptions options = Options();
  options.today = absl::CivilDay(1970, 1, 1);
  EXPECT_THAT(GenerateDemoCounty(options).status().message(), HasSubstr("today"));
  options = Options();
  options.teachers = options.schools - 1;
  EXPECT_EQ(GenerateDemoCounty(options).status().code(), absl::StatusCode::kInvalidArgument);
  options = Options();
  options.schools = 0;
  EXPECT_THAT(GenerateDemoCounty(options).status().message(), HasSubstr("schools"));
  options = Options();
  options.county_id = "33072";
  EXPECT_THAT(GenerateDemoCounty(options).status().message(), HasSubstr("county_id"));
  options = Options();
  options.urban_share = 0.8;
  options.town_share = 0.3;
  EXPECT_EQ(GenerateDemoCounty(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(DemoCountyTest, SameSeedSameCountyDifferentSeedDifferentCounty) {
  absl::StatusOr<DemoCounty> a = GenerateDemoCounty(Options(7));
  absl::StatusOr<DemoCounty> b = GenerateDemoCounty(Options(7));
  absl::StatusOr<DemoCounty> c = GenerateDemoCounty(Options(8));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(SchoolsCsv(*a), SchoolsCsv(*b));
  EXPECT_EQ(TeachersCsv(*a), TeachersCsv(*b));
  EXPECT_NE(TeachersCsv(*a), TeachersCsv(*c));
  EXPECT_NE(SchoolsCsv(*a), SchoolsCsv(*c));
  EXPECT_EQ(a->teachers.size(), 1500u);
  EXPECT_EQ(a->schools.size(), 40u);
}

TEST(DemoCountyTest, IdCardsAreValidUniqueAndMatchBirthDateAndSex) {
  const DemoCounty& county = County();
  std::set<std::string> ids, national_ids, phones;
  for (const DemoTeacher& t : county.teachers) {
    const std::string& id = t.id_card_number;
    ASSERT_EQ(id.size(), 18u) << id;
    EXPECT_EQ(id.substr(0, 6), county.county_id);
    EXPECT_EQ(id.substr(6, 8), absl::StrFormat("%04d%02d%02d", t.birth_date.year(),
                                               t.birth_date.month(), t.birth_date.day()));
    const int sequence_digit = id[16] - '0';
    EXPECT_EQ(sequence_digit % 2 == 1, t.sex == common::v1::SEX_MALE) << id;
    EXPECT_EQ(id[17], CheckCharacter(id.substr(0, 17))) << id;
    EXPECT_TRUE(ids.insert(id).second) << "duplicate " << id;
    EXPECT_EQ(t.national_teacher_id.size(), 16u);
    EXPECT_TRUE(national_ids.insert(t.national_teacher_id).second);
    EXPECT_TRUE(absl::StartsWith(t.phone, "199")) << t.phone;
    EXPECT_EQ(t.phone.size(), 11u);
    EXPECT_TRUE(phones.insert(t.phone).second);
  }
}

TEST(DemoCountyTest, DatesArePlausible) {
  const DemoCounty& county = County();
  absl::flat_hash_map<std::string, const DemoSchool*> schools;
  for (const DemoSchool& s : county.schools) schools[s.code] = &s;
  const std::set<std::string> known(roster::KnownSubjects().begin(), roster::KnownSubjects().end());
  for (const DemoTeacher& t : county.teachers) {
    const int age = WholeYears(t.birth_date, kToday);
    EXPECT_GE(age, 22);
    EXPECT_LE(age, t.sex == common::v1::SEX_FEMALE ? 54 : 59);
    const int hire_age = WholeYears(t.birth_date, t.hire_date);
    EXPECT_GE(hire_age, 21) << t.name;
    EXPECT_LE(hire_age, 26) << t.name;
    EXPECT_LE(t.hire_date, kToday);
    EXPECT_GE(t.school_joined_on, t.hire_date);
    EXPECT_LE(t.school_joined_on, kToday);
    ASSERT_TRUE(schools.contains(t.school_code)) << t.school_code;
    EXPECT_EQ(t.stage, schools[t.school_code]->stage);
    ASSERT_FALSE(t.subjects.empty());
    for (const std::string& s : t.subjects) EXPECT_EQ(known.count(s), 1u) << s;
    EXPECT_EQ(t.title == common::v1::PROFESSIONAL_TITLE_UNSPECIFIED,
              !t.title_conferred_on.has_value());
    if (t.title_conferred_on) {
      EXPECT_GT(*t.title_conferred_on, t.hire_date);
      EXPECT_LE(*t.title_conferred_on, kToday);
    }
    EXPECT_EQ(t.backbone_tier == common::v1::BACKBONE_TIER_UNSPECIFIED,
              !t.backbone_designated_on.has_value());
    if (t.backbone_designated_on) {
      EXPECT_GE(*t.backbone_designated_on, dates::ShiftYears(t.hire_date, 5));
      EXPECT_GT(*t.backbone_designated_on, dates::ShiftYears(kToday, -5));
      EXPECT_LE(*t.backbone_designated_on, kToday);
      EXPECT_GE(t.title, common::v1::PROFESSIONAL_TITLE_FIRST_GRADE);
    }
    if (schools[t.school_code]->ownership == v1::SCHOOL_OWNERSHIP_PRIVATE) {
      EXPECT_FALSE(t.staffed);
    }
  }
}

TEST(DemoCountyTest, SharesAreRoughlyAsConfigured) {
  const DemoCounty& county = County();
  std::map<v1::SchoolLocation, int> locations;
  std::map<v1::SchoolKind, int> kinds;
  std::set<std::string> names;
  for (const DemoSchool& s : county.schools) {
    ++locations[s.location];
    ++kinds[s.kind];
    EXPECT_TRUE(names.insert(s.name).second) << s.name;
    EXPECT_EQ(s.compulsory_education, s.stage == common::v1::STAGE_PRIMARY ||
                                          s.stage == common::v1::STAGE_JUNIOR_SECONDARY ||
                                          s.stage == common::v1::STAGE_NINE_YEAR);
    if (s.kind == v1::SCHOOL_KIND_TEACHING_POINT || s.kind == v1::SCHOOL_KIND_VILLAGE_SCHOOL) {
      EXPECT_EQ(s.location, v1::SCHOOL_LOCATION_RURAL) << s.name;
    }
  }
  // 30/30/40 of 40 schools.
  EXPECT_EQ(locations[v1::SCHOOL_LOCATION_URBAN], 12);
  EXPECT_EQ(locations[v1::SCHOOL_LOCATION_TOWN], 12);
  EXPECT_EQ(locations[v1::SCHOOL_LOCATION_RURAL], 16);
  EXPECT_GT(kinds[v1::SCHOOL_KIND_CENTRAL_SCHOOL], 0);
  EXPECT_GT(kinds[v1::SCHOOL_KIND_VILLAGE_SCHOOL] + kinds[v1::SCHOOL_KIND_TEACHING_POINT], 0);

  int primary = 0, primary_female = 0, six_years_at_school = 0, big_three = 0, zhou = 0;
  std::map<common::v1::BackboneTier, int> tiers;
  std::map<common::v1::ProfessionalTitle, int> titles;
  for (const DemoTeacher& t : county.teachers) {
    if (t.stage == common::v1::STAGE_PRIMARY) {
      ++primary;
      if (t.sex == common::v1::SEX_FEMALE) ++primary_female;
    }
    ++tiers[t.backbone_tier];
    ++titles[t.title];
    if (dates::WholeYearsSince(t.school_joined_on, 6, kToday)) ++six_years_at_school;
    if (absl::StartsWith(t.name, "王") || absl::StartsWith(t.name, "李") ||
        absl::StartsWith(t.name, "张")) {
      ++big_three;
    }
    if (absl::StartsWith(t.name, "周")) ++zhou;
  }
  const double n = static_cast<double>(county.teachers.size());
  ASSERT_GT(primary, 200);
  EXPECT_NEAR(static_cast<double>(primary_female) / primary, 0.72, 0.06);
  // Backbone tiers 10% / 3% / 1% by quota.
  EXPECT_NEAR(tiers[common::v1::BACKBONE_TIER_COUNTY] / n, 0.10, 0.005);
  EXPECT_NEAR(tiers[common::v1::BACKBONE_TIER_CITY] / n, 0.03, 0.005);
  EXPECT_NEAR(tiers[common::v1::BACKBONE_TIER_PROVINCE] / n, 0.01, 0.005);
  // Titles: mostly 二级 and 一级, a fair share of 高级, 正高级 rare, some not yet graded.
  EXPECT_GT(titles[common::v1::PROFESSIONAL_TITLE_FIRST_GRADE] / n, 0.25);
  EXPECT_GT(titles[common::v1::PROFESSIONAL_TITLE_SECOND_GRADE] / n, 0.10);
  EXPECT_GT(titles[common::v1::PROFESSIONAL_TITLE_SENIOR] / n, 0.08);
  EXPECT_LT(titles[common::v1::PROFESSIONAL_TITLE_FULL_SENIOR] / n, 0.02);
  EXPECT_GT(titles[common::v1::PROFESSIONAL_TITLE_UNSPECIFIED], 0);
  // Enough teachers 6+ years at their school for rotation, and not all of them.
  EXPECT_GT(six_years_at_school / n, 0.3);
  EXPECT_LT(six_years_at_school / n, 0.9);
  // Surnames come from the 90 most common, by population share: 王李张 are 214 of those 796
  // per mille (about 27%), 周 19 (about 2.4%).
  EXPECT_NEAR(big_three / n, 214.0 / 796, 0.03);
  EXPECT_NEAR(zhou / n, 19.0 / 796, 0.012);
}

TEST(DemoCountyTest, CsvParsesBackAndMapsWithTheRosterColumns) {
  const DemoCounty& county = County();
  absl::flat_hash_map<std::string, std::string> school_names;

  absl::StatusOr<std::string> schools_text = csv::DecodeToUtf8(SchoolsCsv(county));
  ASSERT_TRUE(schools_text.ok()) << schools_text.status();
  absl::StatusOr<csv::CsvTable> schools = csv::ParseCsv(*schools_text);
  ASSERT_TRUE(schools.ok()) << schools.status();
  absl::StatusOr<csv::HeaderMap> school_map = csv::MapHeaders(*schools, roster::SchoolColumns());
  ASSERT_TRUE(school_map.ok()) << school_map.status();
  ASSERT_EQ(schools->rows.size(), county.schools.size());
  for (size_t i = 0; i < county.schools.size(); ++i) {
    const DemoSchool& s = county.schools[i];
    const csv::CsvRow& row = schools->rows[i];
    EXPECT_EQ(row.number, static_cast<int64_t>(i) + 2);
    EXPECT_EQ(school_map->Cell(row, roster::kSchoolCode), s.code);
    EXPECT_EQ(school_map->Cell(row, roster::kSchoolName), s.name);
    EXPECT_EQ(*csv::EnumFromLabel<common::v1::Stage>(school_map->Cell(row, roster::kSchoolStage)),
              s.stage);
    EXPECT_EQ(*csv::EnumFromLabel<v1::SchoolLocation>(school_map->Cell(row, roster::kLocation)),
              s.location);
    EXPECT_EQ(*csv::EnumFromLabel<v1::SchoolQuality>(school_map->Cell(row, roster::kQuality)),
              s.quality);
    EXPECT_EQ(*csv::EnumFromLabel<v1::SchoolKind>(school_map->Cell(row, roster::kKind)), s.kind);
    EXPECT_EQ(*csv::EnumFromLabel<v1::SchoolOwnership>(school_map->Cell(row, roster::kOwnership)),
              s.ownership);
    EXPECT_EQ(school_map->Cell(row, roster::kCompulsoryEducation),
              s.compulsory_education ? "是" : "否");
    school_names[s.code] = s.name;
  }

  for (SchoolReference reference : {SchoolReference::kCode, SchoolReference::kName}) {
    absl::StatusOr<std::string> text = csv::DecodeToUtf8(TeachersCsv(county, reference));
    ASSERT_TRUE(text.ok()) << text.status();
    absl::StatusOr<csv::CsvTable> teachers = csv::ParseCsv(*text);
    ASSERT_TRUE(teachers.ok()) << teachers.status();
    absl::StatusOr<csv::HeaderMap> map = csv::MapHeaders(*teachers, roster::TeacherColumns());
    ASSERT_TRUE(map.ok()) << map.status();
    ASSERT_EQ(teachers->rows.size(), county.teachers.size());
    for (size_t i = 0; i < county.teachers.size(); ++i) {
      const DemoTeacher& t = county.teachers[i];
      const csv::CsvRow& row = teachers->rows[i];
      EXPECT_EQ(map->Cell(row, roster::kTeacherName), t.name);
      EXPECT_EQ(map->Cell(row, roster::kNationalTeacherId), t.national_teacher_id);
      EXPECT_EQ(map->Cell(row, roster::kIdCardNumber), t.id_card_number);
      EXPECT_EQ(*dates::ParseDate(map->Cell(row, roster::kBirthDate)), t.birth_date);
      EXPECT_EQ(*dates::ParseDate(map->Cell(row, roster::kHireDate)), t.hire_date);
      EXPECT_EQ(*dates::ParseDate(map->Cell(row, roster::kSchoolJoinedOn)), t.school_joined_on);
      EXPECT_EQ(*csv::EnumFromLabel<common::v1::Sex>(map->Cell(row, roster::kSex)), t.sex);
      EXPECT_EQ(*csv::EnumFromLabel<v1::PostStatus>(map->Cell(row, roster::kPostStatus)),
                t.post_status);
      EXPECT_EQ(map->Cell(row, roster::kSchool),
                reference == SchoolReference::kCode ? t.school_code : school_names[t.school_code]);
      const std::vector<std::string> subjects =
          absl::StrSplit(map->Cell(row, roster::kSubjects), roster::kSubjectSeparator);
      EXPECT_EQ(subjects, t.subjects);
      const absl::string_view title = map->Cell(row, roster::kTitle);
      if (t.title == common::v1::PROFESSIONAL_TITLE_UNSPECIFIED) {
        EXPECT_EQ(title, "");
        EXPECT_EQ(map->Cell(row, roster::kTitleConferredOn), "");
      } else {
        EXPECT_EQ(*csv::EnumFromLabel<common::v1::ProfessionalTitle>(title), t.title);
        EXPECT_EQ(*dates::ParseDate(map->Cell(row, roster::kTitleConferredOn)),
                  *t.title_conferred_on);
      }
      const absl::string_view tier = map->Cell(row, roster::kBackboneTier);
      if (t.backbone_tier != common::v1::BACKBONE_TIER_UNSPECIFIED) {
        EXPECT_EQ(*csv::EnumFromLabel<common::v1::BackboneTier>(tier), t.backbone_tier);
      } else {
        EXPECT_EQ(tier, "");
      }
      EXPECT_EQ(map->Cell(row, roster::kStaffed), t.staffed ? "是" : "否");
    }
  }
}

TEST(DemoCountyMainTest, WritesBothFilesWithBom) {
  shidang::testing::TempDir dir;
  const std::string command =
      absl::StrCat(SHIDANG_DEMO_COUNTY, " --schools=12 --teachers=300 --seed=5 --today=2025-09-01",
                   " --out_dir=", dir.path(), " > ", dir.path(), "/out.txt 2>&1");
  const int rc = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << command;

  DemoCountyOptions options = Options(5);
  options.schools = 12;
  options.teachers = 300;
  absl::StatusOr<DemoCounty> county = GenerateDemoCounty(options);
  ASSERT_TRUE(county.ok()) << county.status();
  auto read = [&](const std::string& name) {
    std::ifstream in(absl::StrCat(dir.path(), "/", name), std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  };
  const std::string schools = read("schools.csv");
  const std::string teachers = read("teachers.csv");
  EXPECT_TRUE(absl::StartsWith(schools, "\xEF\xBB\xBF学校代码,学校名称,"));
  EXPECT_TRUE(absl::StartsWith(teachers, "\xEF\xBB\xBF教师编号,姓名,性别,"));
  EXPECT_EQ(schools, SchoolsCsv(*county));
  EXPECT_EQ(teachers, TeachersCsv(*county));

  const std::string bad = absl::StrCat(
      SHIDANG_DEMO_COUNTY, " --today=2025-02-30 --out_dir=", dir.path(), " > /dev/null 2>&1");
  const int bad_rc = std::system(bad.c_str());
  EXPECT_TRUE(WIFEXITED(bad_rc) && WEXITSTATUS(bad_rc) == 2);
}

}  // namespace
}  // namespace shidang::profile
