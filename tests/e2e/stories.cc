#include "tests/e2e/stories.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/common/status.h"

namespace shidang::e2e {

namespace pv1 = profile::v1;
namespace tv1 = training::v1;

std::vector<RosterTeacher> MentorshipTeachers(const std::string& county_id) {
  auto teacher = [&](int i, const char* name, const char* school, const char* title,
                     const char* title_on, const char* hire) {
    return RosterTeacher{absl::StrCat("N", county_id, "-", i),
                         name,
                         false,
                         i <= 2 ? "1980-05-01" : "2001-05-01",
                         county_id + school,
                         title,
                         title_on,
                         hire};
  };
  return {teacher(1, "周敏", "0001", "一级", "2015-12-01", "2005-09-01"),
          teacher(2, "吴刚", "0002", "一级", "2016-12-01", "2006-09-01"),
          teacher(3, "郑小雨", "0001", "三级", "2025-09-01", "2024-09-01"),
          teacher(4, "孙小明", "0001", "三级", "2025-09-01", "2024-09-01"),
          teacher(5, "钱小红", "0002", "三级", "2025-09-01", "2024-09-01")};
}

void ImportCounty(Platform& platform, const std::string& county_id, County* county,
                  std::vector<RosterTeacher> teachers) {
  county->county_id = county_id;
  county->schools = {{county_id + "0001", "城关第一小学", "城区"},
                     {county_id + "0002", "桃溪村小", "乡村"}};
  if (!teachers.empty()) {
    county->teachers = std::move(teachers);
  } else {
    county->teachers = {
        {absl::StrCat("N", county_id, "-1"), "王芳", false, "1990-03-07", county_id + "0001",
         "一级", "2018-12-01"},
        {absl::StrCat("N", county_id, "-2"), "李强", true, "1985-11-20", county_id + "0001", "二级",
         "2014-12-01"},
        {absl::StrCat("N", county_id, "-3"), "陈静", false, "1995-06-15", county_id + "0002",
         "二级", "2019-12-01"},
    };
  }
  const std::string admin = platform.Token(AdminP());
  const std::string hr = platform.Token(HrP(common::v1::ROLE_COUNTY_HR, county_id));

  pv1::CreateCountyRequest create;
  create.set_county_id(county_id);
  create.set_name(absl::StrCat("测试县", county_id));
  create.set_city_code(county_id.substr(0, 4) + "00");
  create.set_province_code(county_id.substr(0, 2) + "0000");
  create.set_request_id("create-" + county_id);
  pv1::CreateCountyResponse created;
  grpc::Status s = CallWith(platform.profile_stub(), &pv1::ProfileService::Stub::CreateCounty,
                            admin, create, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();

  pv1::ImportRosterRequest schools;
  schools.set_county_id(county_id);
  schools.set_kind(pv1::ROSTER_KIND_SCHOOLS);
  schools.set_csv(SchoolsCsv(county->schools));
  schools.set_request_id("schools-" + county_id);
  pv1::ImportRosterResponse imported;
  s = CallWith(platform.profile_stub(), &pv1::ProfileService::Stub::ImportRoster, hr, schools,
               &imported);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(imported.created(), 2);

  // Not named `teachers`: that is the parameter, and a local of the body may not redeclare it
  // (g++ 12 lets it pass; clang refuses it).
  pv1::ImportRosterRequest teacher_roster;
  teacher_roster.set_county_id(county_id);
  teacher_roster.set_kind(pv1::ROSTER_KIND_TEACHERS);
  teacher_roster.set_csv(TeachersCsv(county_id, county->teachers));
  teacher_roster.set_request_id("teachers-" + county_id);
  s = CallWith(platform.profile_stub(), &pv1::ProfileService::Stub::ImportRoster, hr,
               teacher_roster, &imported);
  ASSERT_TRUE(s.ok())
      << s.error_message() << " "
      << BadRequestOf(FromGrpcStatus(s)).value_or(common::v1::BadRequest()).DebugString();
  ASSERT_EQ(imported.created(), static_cast<int64_t>(county->teachers.size()));

  pv1::ListSchoolsRequest list_schools;
  list_schools.set_county_id(county_id);
  pv1::ListSchoolsResponse listed_schools;
  s = CallWith(platform.profile_stub(), &pv1::ProfileService::Stub::ListSchools, hr, list_schools,
               &listed_schools);
  ASSERT_TRUE(s.ok()) << s.error_message();
  for (const pv1::School& school : listed_schools.schools()) {
    county->school_ids[school.school_code()] = school.school_id();
  }
  ASSERT_EQ(county->school_ids.size(), 2u);

  pv1::ListTeachersRequest list_teachers;
  list_teachers.set_county_id(county_id);
  pv1::ListTeachersResponse listed_teachers;
  s = CallWith(platform.profile_stub(), &pv1::ProfileService::Stub::ListTeachers, hr, list_teachers,
               &listed_teachers);
  ASSERT_TRUE(s.ok()) << s.error_message();
  for (const pv1::Teacher& teacher : listed_teachers.teachers()) {
    county->teacher_ids[teacher.national_teacher_id()] = teacher.teacher_id();
  }
  ASSERT_EQ(county->teacher_ids.size(), county->teachers.size());
}

bool AwaitTrainingKnows(Platform& platform, const County& county) {
  const std::string hr = platform.Token(HrP(common::v1::ROLE_COUNTY_HR, county.county_id));
  for (const auto& [national_id, teacher_id] : county.teacher_ids) {
    tv1::GetTrainingSummaryRequest req;
    req.set_teacher_id(teacher_id);
    bool known = Eventually([&] {
      tv1::GetTrainingSummaryResponse resp;
      return CallWith(platform.training_stub(), &tv1::TrainingService::Stub::GetTrainingSummary, hr,
                      req, &resp)
          .ok();
    });
    if (!known) {
      ADD_FAILURE() << "the training service never learnt teacher " << teacher_id << " ("
                    << national_id << ")";
      return false;
    }
  }
  return true;
}

}  // namespace shidang::e2e
