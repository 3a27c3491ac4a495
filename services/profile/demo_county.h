#pragma once

// A realistic synthetic county for the run command's demo data, the tests and the benchmarks:
// schools and teachers as plain structs, and the roster CSVs ImportRoster reads. Deterministic:
// the same options give the same county, byte for byte, on any platform (our own sampling over
// std::mt19937_64, whose output the standard fixes).
//
// What it models (shares are of the whole county unless said otherwise):
// - schools: location 城区/镇区/乡村 about 30/30/40 (exact up to rounding); stages by location
//   (高中 only in town and city, 教学点 only rural); kind 中心校 (one per township), 村小, 教学点,
//   otherwise 普通学校; quality leaning 优质 in town and 薄弱 in the country; about 1 in 12
//   schools private (民办), mostly kindergartens; teachers per school by its size.
// - teachers: names from the 90 most common surnames (王 李 张 刘 陈 ..., weighted by their
//   population share, so 王李张 are about 27% of the names) and given names; about 70% women in
//   primary schools (more in kindergartens, fewer in senior secondary); ages 22..59 (women to 54);
//   hire at 21..25 on 1 August or 1 September; a title by years of service (三级..正高级; newest
//   teachers none yet); backbone tiers about 10% county, 3% city, 1% province (exact up to
//   rounding, among teachers of 5+ years and 一级 or higher); a date joining the current school
//   (about half never moved, so many have 6+ years there); ID-card numbers with the county's
//   prefix, the birth date, an odd (male) or even (female) 17th digit and a correct GB 11643 check
//   character; national teacher ids; phones.
//
// Phones are 199-0000-0000 upward, one per teacher in order. China reserves no fictional mobile
// range; this block is sequential so it is recognisable as synthetic.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "shidang/common/v1/types.pb.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::profile {

struct DemoCountyOptions {
  // 武义县, 金华市, 浙江省 (GB/T 2260). The county code is also the ID-card prefix.
  std::string county_id = "330723";
  std::string county_name = "武义县";
  std::string city_id = "330700";
  std::string city_name = "金华市";
  std::string province_id = "330000";
  std::string province_name = "浙江省";
  int schools = 40;
  int teachers = 1500;
  uint64_t seed = 1;
  // Required: the day the county is "as of" (ages, service years and dates are relative to it).
  absl::CivilDay today = absl::CivilDay(1970, 1, 1);

  // Location shares of the schools (the rest are 乡村).
  double urban_share = 0.30;
  double town_share = 0.30;
  // Backbone tier shares of all teachers.
  double county_backbone_share = 0.10;
  double city_backbone_share = 0.03;
  double province_backbone_share = 0.01;
};

struct DemoSchool {
  // <county_id><4 digits>, unique in the county.
  std::string code;
  // Unique in the county.
  std::string name;
  common::v1::Stage stage = common::v1::STAGE_UNSPECIFIED;
  v1::SchoolOwnership ownership = v1::SCHOOL_OWNERSHIP_UNSPECIFIED;
  v1::SchoolLocation location = v1::SCHOOL_LOCATION_UNSPECIFIED;
  v1::SchoolQuality quality = v1::SCHOOL_QUALITY_UNSPECIFIED;
  v1::SchoolKind kind = v1::SCHOOL_KIND_UNSPECIFIED;
  bool compulsory_education = false;
};

struct DemoTeacher {
  // 16 digits: county code, hire year, 6-digit serial.
  std::string national_teacher_id;
  std::string name;
  common::v1::Sex sex = common::v1::SEX_UNSPECIFIED;
  absl::CivilDay birth_date;
  std::string id_card_number;
  absl::CivilDay hire_date;
  // DemoSchool::code of the current school.
  std::string school_code;
  absl::CivilDay school_joined_on;
  common::v1::Stage stage = common::v1::STAGE_UNSPECIFIED;
  std::vector<std::string> subjects;
  bool staffed = false;
  v1::PostStatus post_status = v1::POST_STATUS_UNSPECIFIED;
  v1::Education education = v1::EDUCATION_UNSPECIFIED;
  // UNSPECIFIED (and no date) for teachers not yet graded.
  common::v1::ProfessionalTitle title = common::v1::PROFESSIONAL_TITLE_UNSPECIFIED;
  std::optional<absl::CivilDay> title_conferred_on;
  common::v1::BackboneTier backbone_tier = common::v1::BACKBONE_TIER_UNSPECIFIED;
  std::optional<absl::CivilDay> backbone_designated_on;
  std::string phone;
};

struct DemoCounty {
  std::string county_id;
  std::string county_name;
  std::string city_id;
  std::string city_name;
  std::string province_id;
  std::string province_name;
  std::vector<DemoSchool> schools;
  std::vector<DemoTeacher> teachers;
};

// GenerateDemoCounty()
//
// The county for `options`. INVALID_ARGUMENT naming the option when: schools is not 1..10000,
// teachers is not schools..1000000 (every school gets a teacher), a place code is not 6 digits,
// today is before 2000-01-01, or a share is outside 0..1 (or the location or backbone shares
// add up to more than 1).
absl::StatusOr<DemoCounty> GenerateDemoCounty(const DemoCountyOptions& options);

// How the teachers file names a teacher's school.
enum class SchoolReference { kCode, kName };

// The roster files, with roster::SchoolColumns() / TeacherColumns() headers (their Chinese
// names), enum cells as Chinese labels, dates YYYY-MM-DD, yes/no as 是/否; UTF-8 with a BOM and
// CRLF (csv::WriteCsv).
std::string SchoolsCsv(const DemoCounty& county);
std::string TeachersCsv(const DemoCounty& county,
                        SchoolReference school_reference = SchoolReference::kCode);

}  // namespace shidang::profile
