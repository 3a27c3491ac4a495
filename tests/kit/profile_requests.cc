#include "tests/kit/profile_requests.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/profile/rules.h"

namespace shidang::testing {

namespace pv1 = ::shidang::profile::v1;

std::string WuyiIdCard(const std::string& birth_yyyymmdd, int serial) {
  std::string first17 =
      absl::StrCat(kWuyiCounty, birth_yyyymmdd, absl::StrFormat("%02d", serial), "2");
  return first17 + profile::IdCardCheckCharacter(first17);
}

pv1::CreateCountyRequest WuyiCountyRequest() {
  pv1::CreateCountyRequest county;
  county.set_county_id(kWuyiCounty);
  county.set_name("武义县");
  county.set_city_code("330700");
  county.set_city_name("金华市");
  county.set_province_code("330000");
  county.set_province_name("浙江省");
  county.set_request_id("county");
  return county;
}

pv1::CreateSchoolRequest PrimarySchoolRequest(const std::string& name, pv1::SchoolLocation location,
                                              const std::string& request_id,
                                              const std::string& county) {
  pv1::CreateSchoolRequest req;
  req.set_county_id(county);
  req.set_name(name);
  req.set_stage(common::v1::STAGE_PRIMARY);
  req.set_ownership(pv1::SCHOOL_OWNERSHIP_PUBLIC);
  req.set_location(location);
  req.set_quality(pv1::SCHOOL_QUALITY_ORDINARY);
  req.set_kind(pv1::SCHOOL_KIND_REGULAR);
  req.set_compulsory_education(true);
  req.set_request_id(request_id);
  return req;
}

pv1::CreateTeacherRequest MathsTeacherRequest(const std::string& name, const std::string& hire,
                                              const std::string& joined, const std::string& school,
                                              int serial) {
  pv1::CreateTeacherRequest req;
  req.set_county_id(kWuyiCounty);
  req.set_request_id(absl::StrCat("teacher-", serial));
  pv1::Teacher* t = req.mutable_teacher();
  t->set_name(name);
  t->set_sex(common::v1::SEX_FEMALE);
  t->set_birth_date("1985-03-10");
  t->set_id_card_number(WuyiIdCard("19850310", serial));
  t->set_hire_date(hire);
  t->set_school_id(school);
  t->set_school_joined_on(joined);
  t->set_stage(common::v1::STAGE_PRIMARY);
  t->add_subjects("数学");
  t->set_staffed(true);
  t->set_post_status(pv1::POST_STATUS_ON_DUTY);
  return req;
}

}  // namespace shidang::testing
