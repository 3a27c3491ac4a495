#pragma once

// Test kit: the profile service's requests that tests give it a county, its schools and teachers
// with (武义县, 330723).

#include <string>

#include "shidang/profile/v1/profile.pb.h"

namespace shidang::testing {

// 武义县, the county of these requests.
inline constexpr char kWuyiCounty[] = "330723";

// A valid ID-card number of the county for someone born on `birth_yyyymmdd`, the `serial`th.
std::string WuyiIdCard(const std::string& birth_yyyymmdd, int serial);

// CreateCounty of the county (武义县, 金华市, 浙江省), request id "county".
profile::v1::CreateCountyRequest WuyiCountyRequest();
// CreateSchool of a public primary school of `county` at `location`, ordinary, regular and
// compulsory.
profile::v1::CreateSchoolRequest PrimarySchoolRequest(const std::string& name,
                                                      profile::v1::SchoolLocation location,
                                                      const std::string& request_id,
                                                      const std::string& county = kWuyiCounty);
// CreateTeacher of a staffed primary maths teacher on duty at `school` since `joined` (request id
// "teacher-<serial>"), born 1985-03-10 (ID card WuyiIdCard("19850310", serial)).
profile::v1::CreateTeacherRequest MathsTeacherRequest(const std::string& name,
                                                      const std::string& hire,
                                                      const std::string& joined,
                                                      const std::string& school, int serial);

}  // namespace shidang::testing
