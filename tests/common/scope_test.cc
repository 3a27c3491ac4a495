#include "services/common/scope.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/kit/principals.h"

namespace shidang::scope {
namespace {

using common::v1::Principal;
using common::v1::Role;

using testing::Who;

// Zhejiang 330000, Jinhua 330700, Wuyi county 330723; Hangzhou 330100, its Shangcheng 330102.
const Principal kProvinceHr = Who(common::v1::ROLE_PROVINCE_HR, "p", "330000");
const Principal kCityHr = Who(common::v1::ROLE_CITY_HR, "c", "330700");
const Principal kCountyHr = Who(common::v1::ROLE_COUNTY_HR, "w", "330723");
const Principal kAdmin = Who(common::v1::ROLE_ADMIN, "root");
const Principal kService = Who(common::v1::ROLE_SERVICE, "training");
const Principal kSchoolAdmin = Who(common::v1::ROLE_SCHOOL_ADMIN, "s", "", "S1");
const Principal kTeacher = Who(common::v1::ROLE_TEACHER, "T1");
const Principal kCentre = Who(common::v1::ROLE_TRAINING_CENTER, "tc", "", "", "P1");

TEST(ScopeTest, HrRegionsCoverTheCountiesUnderThem) {
  EXPECT_TRUE(CoversRegion(kProvinceHr, "330723"));
  EXPECT_TRUE(CoversRegion(kProvinceHr, "330102"));
  EXPECT_TRUE(CoversRegion(kProvinceHr, "330700"));  // a city of the province
  EXPECT_FALSE(CoversRegion(kProvinceHr, "320102"));
  EXPECT_TRUE(CoversRegion(kCityHr, "330723"));
  EXPECT_TRUE(CoversRegion(kCityHr, "330700"));
  EXPECT_FALSE(CoversRegion(kCityHr, "330102"));  // another city's county
  EXPECT_FALSE(CoversRegion(kCityHr, "330000"));  // the province above it
  EXPECT_TRUE(CoversRegion(kCountyHr, "330723"));
  EXPECT_FALSE(CoversRegion(kCountyHr, "330724"));
  EXPECT_FALSE(CoversRegion(kCountyHr, "330700"));  // its own city
}

TEST(ScopeTest, OnlyHrRolesCoverByRegion) {
  // A region in a non-HR principal grants nothing.
  EXPECT_FALSE(CoversRegion(Who(common::v1::ROLE_TEACHER, "T1", "330000"), "330723"));
  EXPECT_FALSE(CoversRegion(Who(common::v1::ROLE_SCHOOL_ADMIN, "s", "330723", "S1"), "330723"));
  EXPECT_FALSE(HrCovers(kAdmin, "330723"));
  EXPECT_TRUE(CoversRegion(kAdmin, "330723"));
  EXPECT_TRUE(CoversRegion(kService, "110101"));
}

TEST(ScopeTest, MalformedRegionsCoverNothing) {
  for (const char* region : {"", "33", "3307230", "33O723", "000000", "001100"}) {
    const Principal hr = Who(common::v1::ROLE_PROVINCE_HR, "p", region);
    EXPECT_FALSE(CoversRegion(hr, "330723")) << region;
    EXPECT_FALSE(CoversRegion(hr, region)) << region;
    EXPECT_EQ(TeacherBeforeLookup(hr, "T1"), Reach::kDenied) << region;
  }
  EXPECT_FALSE(CoversRegion(kProvinceHr, ""));
  EXPECT_FALSE(CoversRegion(kProvinceHr, "33072"));
}

TEST(ScopeTest, SchoolsAreCoveredByTheirAdminAndTheirCountysHr) {
  EXPECT_TRUE(CoversSchool(kSchoolAdmin, "S1", "330723"));
  EXPECT_FALSE(CoversSchool(kSchoolAdmin, "S2", "330723"));
  EXPECT_TRUE(CoversSchool(kCountyHr, "S2", "330723"));
  EXPECT_FALSE(CoversSchool(kCountyHr, "S2", "330724"));
  EXPECT_TRUE(CoversSchool(kAdmin, "S9", "110101"));
  EXPECT_FALSE(CoversSchool(kTeacher, "S1", "330723"));
  // A school admin with no school reaches no school, not the ones without an id.
  EXPECT_FALSE(CoversSchool(Who(common::v1::ROLE_SCHOOL_ADMIN, "s"), "", "330723"));
}

TEST(ScopeTest, TeachersAreCoveredByThemselvesTheirSchoolAndTheirRegion) {
  const TeacherPlace t1{"T1", "S1", "330723"};
  const TeacherPlace t2{"T2", "S2", "330724"};
  EXPECT_TRUE(CoversTeacher(kTeacher, t1));
  EXPECT_FALSE(CoversTeacher(kTeacher, t2));
  EXPECT_TRUE(CoversTeacher(kSchoolAdmin, t1));
  EXPECT_FALSE(CoversTeacher(kSchoolAdmin, t2));
  EXPECT_TRUE(CoversTeacher(kCountyHr, t1));
  EXPECT_FALSE(CoversTeacher(kCountyHr, t2));
  EXPECT_TRUE(CoversTeacher(kCityHr, t2));
  EXPECT_TRUE(CoversTeacher(kService, t2));
  EXPECT_FALSE(CoversTeacher(kCentre, t1));
  EXPECT_FALSE(CoversTeacher(Who(common::v1::ROLE_TEACHER, ""), TeacherPlace{"", "S1", "330723"}));
}

TEST(ScopeTest, ProvidersAreCoveredByTheirCentre) {
  EXPECT_TRUE(CoversProvider(kCentre, "P1"));
  EXPECT_FALSE(CoversProvider(kCentre, "P2"));
  EXPECT_TRUE(CoversProvider(kAdmin, "P2"));
  EXPECT_FALSE(CoversProvider(kCountyHr, "P1"));
  EXPECT_FALSE(CoversProvider(Who(common::v1::ROLE_TRAINING_CENTER, "tc"), ""));
}

TEST(ScopeTest, PolicyLevelsFollowTheHrLevels) {
  using common::v1::POLICY_LEVEL_CITY;
  using common::v1::POLICY_LEVEL_COUNTY;
  using common::v1::POLICY_LEVEL_NATIONAL;
  using common::v1::POLICY_LEVEL_PROVINCE;
  EXPECT_TRUE(CoversPolicy(kAdmin, POLICY_LEVEL_NATIONAL, ""));
  EXPECT_FALSE(CoversPolicy(kProvinceHr, POLICY_LEVEL_NATIONAL, ""));
  EXPECT_TRUE(CoversPolicy(kProvinceHr, POLICY_LEVEL_PROVINCE, "330000"));
  EXPECT_TRUE(CoversPolicy(kProvinceHr, POLICY_LEVEL_CITY, "330700"));
  EXPECT_TRUE(CoversPolicy(kProvinceHr, POLICY_LEVEL_COUNTY, "330723"));
  EXPECT_FALSE(CoversPolicy(kProvinceHr, POLICY_LEVEL_PROVINCE, "320000"));
  EXPECT_FALSE(CoversPolicy(kCityHr, POLICY_LEVEL_PROVINCE, "330000"));
  EXPECT_TRUE(CoversPolicy(kCityHr, POLICY_LEVEL_CITY, "330700"));
  EXPECT_TRUE(CoversPolicy(kCityHr, POLICY_LEVEL_COUNTY, "330723"));
  EXPECT_FALSE(CoversPolicy(kCityHr, POLICY_LEVEL_COUNTY, "330102"));
  EXPECT_TRUE(CoversPolicy(kCountyHr, POLICY_LEVEL_COUNTY, "330723"));
  EXPECT_FALSE(CoversPolicy(kCountyHr, POLICY_LEVEL_CITY, "330700"));
  EXPECT_FALSE(CoversPolicy(kCountyHr, POLICY_LEVEL_COUNTY, "330724"));
  EXPECT_FALSE(CoversPolicy(kSchoolAdmin, POLICY_LEVEL_COUNTY, "330723"));
}

// What the principal alone decides agrees with the check on the record, for every principal
// above and teachers inside and outside each scope: never allowed where the record would refuse,
// never refused where it would allow.
TEST(ScopeTest, TheDecisionBeforeTheLookupAgreesWithTheRecord) {
  const std::vector<Principal> principals = {
      kProvinceHr, kCityHr,  kCountyHr,
      kAdmin,      kService, kSchoolAdmin,
      kTeacher,    kCentre,  Who(common::v1::ROLE_UNSPECIFIED, "x")};
  const std::vector<TeacherPlace> teachers = {{"T1", "S1", "330723"},
                                              {"T2", "S1", "330723"},
                                              {"T3", "S2", "330724"},
                                              {"T4", "S3", "330102"},
                                              {"T5", "S4", "320102"}};
  int needs_record = 0;
  for (const Principal& p : principals) {
    for (const TeacherPlace& t : teachers) {
      const Reach before = TeacherBeforeLookup(p, t.teacher_id);
      const bool covered = CoversTeacher(p, t);
      if (before == Reach::kAllowed) {
        EXPECT_TRUE(covered) << p.ShortDebugString() << " " << t.teacher_id;
      }
      if (before == Reach::kDenied) {
        EXPECT_FALSE(covered) << p.ShortDebugString() << " " << t.teacher_id;
      }
      needs_record += before == Reach::kNeedsRecord;
    }
  }
  EXPECT_GT(needs_record, 0);
  EXPECT_EQ(TeacherBeforeLookup(kTeacher, "T2"), Reach::kDenied);
  EXPECT_EQ(TeacherBeforeLookup(kTeacher, "T1"), Reach::kAllowed);
  EXPECT_EQ(TeacherBeforeLookup(kCentre, "T1"), Reach::kDenied);
  EXPECT_EQ(TeacherBeforeLookup(kCountyHr, "T3"), Reach::kNeedsRecord);
  EXPECT_EQ(TeacherBeforeLookup(kAdmin, "T3"), Reach::kAllowed);
}

TEST(ScopeTest, DeniedNamesWhoAndWhat) {
  absl::Status denied = Denied(kTeacher, "read the file of teacher T2");
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(), "teacher T1 may not read the file of teacher T2");
}

}  // namespace
}  // namespace shidang::scope
