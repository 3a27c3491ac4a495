#pragma once

// The columns of the roster CSVs (ImportRoster, the demo county generator): one table per file,
// each column with its key (the field it fills, as named in profile.proto) and the Chinese and
// English header names it is accepted under (csv::MapHeaders matches English names
// case-insensitively). names[0] is what our own exports write. Kept in one place so the importer,
// the generator and the tests agree.

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "services/common/csv.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::profile::roster {

// Keys of the schools file.
inline constexpr char kSchoolCode[] = "school_code";
inline constexpr char kSchoolName[] = "name";
inline constexpr char kSchoolStage[] = "stage";
inline constexpr char kOwnership[] = "ownership";
inline constexpr char kLocation[] = "location";
inline constexpr char kQuality[] = "quality";
inline constexpr char kKind[] = "kind";
inline constexpr char kCompulsoryEducation[] = "compulsory_education";

// Keys of the teachers file.
inline constexpr char kNationalTeacherId[] = "national_teacher_id";
inline constexpr char kTeacherName[] = "name";
inline constexpr char kSex[] = "sex";
inline constexpr char kBirthDate[] = "birth_date";
inline constexpr char kIdCardNumber[] = "id_card_number";
inline constexpr char kHireDate[] = "hire_date";
// The teacher's school: a school code of the schools file, or a school's name or id.
inline constexpr char kSchool[] = "school";
inline constexpr char kSchoolJoinedOn[] = "school_joined_on";
inline constexpr char kTeacherStage[] = "stage";
inline constexpr char kSubjects[] = "subjects";
inline constexpr char kStaffed[] = "staffed";
inline constexpr char kPostStatus[] = "post_status";
inline constexpr char kEducation[] = "education";
inline constexpr char kTitle[] = "title";
inline constexpr char kTitleConferredOn[] = "title_conferred_on";
inline constexpr char kBackboneTier[] = "backbone_tier";
inline constexpr char kBackboneDesignatedOn[] = "backbone_designated_on";
inline constexpr char kPhone[] = "phone";
inline constexpr char kEmail[] = "email";

// Yes/no cells (是否在编, 义务教育): exports write 是/否; importers should also accept the English
// true/false, yes/no and 1/0.
inline constexpr char kYes[] = "是";
inline constexpr char kNo[] = "否";

// Subjects in one cell are separated by 、 (what people type); importers should also accept ;
// and the full-width ；.
inline constexpr char kSubjectSeparator[] = "、";

// Dates in either file are YYYY-MM-DD; an empty optional cell means "not known / none".

// The schools file. school_code is the county's own code for a school (the demo writes
// <county_id><4 digits>); the teachers file may name a school by it.
inline const std::vector<csv::Column>& SchoolColumns() {
  static const auto* columns = new std::vector<csv::Column>{
      {kSchoolCode, {"学校代码", "学校标识码", "school_code"}, false},
      {kSchoolName, {"学校名称", "name", "school_name"}, true},
      {kSchoolStage, {"学段", "stage"}, true},
      {kOwnership, {"办学性质", "ownership", "public"}, true},
      {kLocation, {"城乡类别", "城乡分类", "location"}, true},
      {kQuality, {"办学水平", "办学质量", "quality"}, true},
      {kKind, {"学校类型", "kind"}, true},
      // Derived from the stage when absent (学前 and 高中 are not compulsory education).
      {kCompulsoryEducation, {"义务教育", "compulsory_education", "compulsory"}, false},
  };
  return *columns;
}

// The teachers file. Title and backbone columns become timeline entries on import.
inline const std::vector<csv::Column>& TeacherColumns() {
  static const auto* columns = new std::vector<csv::Column>{
      {kNationalTeacherId, {"教师编号", "全国教师编号", "national_teacher_id"}, false},
      {kTeacherName, {"姓名", "name"}, true},
      {kSex, {"性别", "sex"}, true},
      {kBirthDate, {"出生日期", "birth_date"}, true},
      {kIdCardNumber, {"身份证号", "身份证号码", "id_card_number"}, true},
      {kHireDate, {"参加工作时间", "hire_date"}, true},
      {kSchool, {"学校", "学校代码", "学校名称", "school", "school_code"}, true},
      {kSchoolJoinedOn, {"入校时间", "调入本校时间", "school_joined_on"}, true},
      {kTeacherStage, {"学段", "stage"}, true},
      {kSubjects, {"任教学科", "subjects"}, true},
      {kStaffed, {"是否在编", "staffed"}, true},
      {kPostStatus, {"岗位状态", "任职状态", "post_status"}, true},
      {kEducation, {"学历", "education"}, false},
      {kTitle, {"职称", "title"}, false},
      {kTitleConferredOn, {"职称取得时间", "title_conferred_on"}, false},
      {kBackboneTier, {"骨干级别", "骨干教师", "backbone_tier"}, false},
      {kBackboneDesignatedOn, {"骨干认定时间", "backbone_designated_on"}, false},
      {kPhone, {"手机", "手机号码", "phone"}, false},
      {kEmail, {"邮箱", "email"}, false},
  };
  return *columns;
}

// The header row our exports write: names[0] of each column, in table order.
inline std::vector<std::string> ExportHeader(const std::vector<csv::Column>& columns) {
  std::vector<std::string> header;
  header.reserve(columns.size());
  for (const csv::Column& column : columns) header.push_back(column.names.front());
  return header;
}

// Subjects the generator uses (义务教育课程方案 names; 思想政治 is the senior-secondary
// counterpart of 道德与法治; 学前教育 for kindergarten teachers).
inline const std::vector<std::string>& KnownSubjects() {
  static const auto* subjects = new std::vector<std::string>{
      "语文",       "数学",     "英语", "物理", "化学", "生物",     "历史", "地理",
      "道德与法治", "思想政治", "音乐", "体育", "美术", "信息技术", "科学", "学前教育"};
  return *subjects;
}

// Registers the Chinese labels (the ones in profile.proto's comments) of the profile enums that
// appear in the roster files, for csv::EnumLabel / csv::EnumFromLabel. Idempotent.
inline absl::Status RegisterRosterEnumLabels() {
  using namespace ::shidang::profile::v1;  // NOLINT: a table of its enum values
  const std::vector<
      std::pair<const google::protobuf::EnumDescriptor*, std::vector<std::pair<int, std::string>>>>
      tables = {
          {SchoolOwnership_descriptor(),
           {{SCHOOL_OWNERSHIP_PUBLIC, "公办"}, {SCHOOL_OWNERSHIP_PRIVATE, "民办"}}},
          {SchoolLocation_descriptor(),
           {{SCHOOL_LOCATION_URBAN, "城区"},
            {SCHOOL_LOCATION_TOWN, "镇区"},
            {SCHOOL_LOCATION_RURAL, "乡村"}}},
          {SchoolQuality_descriptor(),
           {{SCHOOL_QUALITY_STRONG, "优质"},
            {SCHOOL_QUALITY_ORDINARY, "普通"},
            {SCHOOL_QUALITY_WEAK, "薄弱"}}},
          {SchoolKind_descriptor(),
           {{SCHOOL_KIND_CENTRAL_SCHOOL, "中心校"},
            {SCHOOL_KIND_VILLAGE_SCHOOL, "村小"},
            {SCHOOL_KIND_TEACHING_POINT, "教学点"},
            {SCHOOL_KIND_REGULAR, "普通学校"}}},
          {PostStatus_descriptor(),
           {{POST_STATUS_ON_DUTY, "在岗"},
            {POST_STATUS_SECONDED, "借调"},
            {POST_STATUS_SICK_LEAVE, "病休"},
            {POST_STATUS_MATERNITY_LEAVE, "产假"},
            {POST_STATUS_RETIRED, "退休"},
            {POST_STATUS_LEFT, "离职"}}},
          {Education_descriptor(),
           {{EDUCATION_SECONDARY, "中专"},
            {EDUCATION_ASSOCIATE, "大专"},
            {EDUCATION_BACHELOR, "本科"},
            {EDUCATION_MASTER, "硕士研究生"},
            {EDUCATION_DOCTORATE, "博士研究生"}}},
      };
  for (const auto& [descriptor, labels] : tables) {
    absl::Status status = csv::RegisterEnumLabels(descriptor->full_name(), labels);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace shidang::profile::roster
