#include "services/profile/schools_and_counties.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/dates.h"
#include "services/common/status.h"
#include "services/profile/access.h"
#include "services/profile/entries_and_events.h"
#include "services/profile/request_checks.h"
#include "services/profile/teacher_input.h"

namespace shidang::profile {
namespace {

using common::v1::Principal;

// Every problem with a new county's codes and name.
absl::Status CheckNewCounty(const v1::CreateCountyRequest& req) {
  absl::Status bad;
  if (!IsCountyCode(req.county_id())) {
    AddFieldViolation(&bad, "county_id", "county_code",
                      "must be a county's 6-digit GB/T 2260 code (not ending in 00)");
  }
  if (req.name().empty()) AddFieldViolation(&bad, "name", "required", "required");
  if (IsCountyCode(req.county_id()) &&
      req.city_code() != absl::StrCat(req.county_id().substr(0, 4), "00")) {
    AddFieldViolation(&bad, "city_code", "region_code",
                      "must be the county's city: its first 4 digits then 00");
  }
  if (IsCountyCode(req.county_id()) &&
      req.province_code() != absl::StrCat(req.county_id().substr(0, 2), "0000")) {
    AddFieldViolation(&bad, "province_code", "region_code",
                      "must be the county's province: its first 2 digits then 0000");
  }
  return bad;
}

v1::School SchoolOf(const v1::CreateSchoolRequest& req) {
  v1::School school;
  school.set_county_id(req.county_id());
  school.set_name(req.name());
  school.set_stage(req.stage());
  school.set_ownership(req.ownership());
  school.set_location(req.location());
  school.set_quality(req.quality());
  school.set_kind(req.kind());
  school.set_compulsory_education(req.compulsory_education());
  school.set_school_code(req.school_code());
  return school;
}

// The school of the calling teacher's own file ("" when they have none): a teacher may read it.
std::string CallersSchool(ProfileStore& store, const Principal& p) {
  if (p.role() != common::v1::ROLE_TEACHER) return "";
  absl::StatusOr<std::string> county = store.HomeCounty(p.subject());
  if (!county.ok()) return "";
  absl::StatusOr<StoredTeacher> own = store.GetTeacher(*county, p.subject());
  return own.ok() ? own->teacher.school_id() : "";
}

}  // namespace

absl::Status SchoolsAndCounties::CreateCounty(const CallContext& call,
                                              const v1::CreateCountyRequest& req,
                                              v1::CreateCountyResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(CheckNewCounty(req));
  SHIDANG_RETURN_IF_ERROR(RequireCountyCreate(call.principal, req.county_id()));
  v1::County county;
  county.set_county_id(req.county_id());
  county.set_name(req.name());
  county.set_city_code(req.city_code());
  county.set_city_name(req.city_name());
  county.set_province_code(req.province_code());
  county.set_province_name(req.province_name());
  const std::string today = dates::FormatDate(deps_.clock.Today());
  std::vector<common::v1::Event> events = {
      ProfileEvent(deps_.clock, "profile.county_created",
                   {"", req.county_id(), today, req.request_id(), "建立县区"}, call, county)};
  SHIDANG_ASSIGN_OR_RETURN(
      *resp->mutable_county(),
      deps_.store.CreateCounty(county, WriteOf(call, "CreateCounty", req), std::move(events)));
  return absl::OkStatus();
}

absl::Status SchoolsAndCounties::GetCounty(const CallContext& call, const v1::GetCountyRequest& req,
                                           v1::GetCountyResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(CheckCountyId(req.county_id(), "county_id"));
  (void)call;  // every role may read a county's name
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_county(), deps_.store.GetCounty(req.county_id()));
  return absl::OkStatus();
}

absl::Status SchoolsAndCounties::CreateSchool(const CallContext& call,
                                              const v1::CreateSchoolRequest& req,
                                              v1::CreateSchoolResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(CheckCountyId(req.county_id(), "county_id"));
  v1::School school = SchoolOf(req);
  SHIDANG_RETURN_IF_ERROR(CheckSchoolFields(school, ""));
  SHIDANG_RETURN_IF_ERROR(RequireCountyWrite(call.principal, req.county_id()));
  school.set_school_id(MakeSchoolId(
      req.county_id(), IdSeed(call.actor, "CreateSchool", req.request_id(), req.county_id())));
  const std::string today = dates::FormatDate(deps_.clock.Today());
  const std::string summary = absl::StrCat("新建学校：", school.name());
  std::vector<common::v1::Event> events = {
      ProfileEvent(deps_.clock, "profile.school_created",
                   {"", req.county_id(), today, req.request_id(), summary}, call, school)};
  SHIDANG_ASSIGN_OR_RETURN(
      MutationResult result,
      deps_.store.CreateSchools(req.county_id(), {school}, WriteOf(call, "CreateSchool", req),
                                std::move(events), school.SerializeAsString()));
  if (!resp->mutable_school()->ParseFromString(result.payload)) {
    return absl::DataLossError("stored answer unreadable");
  }
  return absl::OkStatus();
}

absl::Status SchoolsAndCounties::GetSchool(const CallContext& call, const v1::GetSchoolRequest& req,
                                           v1::GetSchoolResponse* resp) {
  if (req.school_id().empty()) return InvalidField("school_id", "required", "required");
  // Decided before the school is read: its id carries its county.
  SHIDANG_RETURN_IF_ERROR(RequireSchoolRead(call.principal, req.school_id(),
                                            CallersSchool(deps_.store, call.principal)));
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_school(), deps_.store.GetSchool(req.school_id()));
  return absl::OkStatus();
}

absl::Status SchoolsAndCounties::ListSchools(const CallContext& call,
                                             const v1::ListSchoolsRequest& req,
                                             v1::ListSchoolsResponse* resp) {
  const Principal& p = call.principal;
  if (req.county_id().size() != 6) {
    return InvalidField("county_id", "region_code", "must be a 6-digit GB/T 2260 region code");
  }
  SHIDANG_ASSIGN_OR_RETURN(int page_size, PageSize(req.page()));
  SHIDANG_RETURN_IF_ERROR(RequireSchoolsList(p, req.county_id()));
  SHIDANG_ASSIGN_OR_RETURN(std::vector<std::string> counties,
                           deps_.store.CountiesUnder(req.county_id()));
  // Page token: the last school id returned (school ids sort by county first).
  const std::string& after = req.page().page_token();
  // A school admin sees their county's schools: the directory they pick a rotation's receiving
  // school from and read other schools' names in (a school's record holds nothing sensitive).
  const bool school_admin = p.role() == common::v1::ROLE_SCHOOL_ADMIN;
  for (const std::string& county : counties) {
    if (!after.empty() && county < after.substr(1, 6)) continue;
    if (!ListingShowsCounty(p, county)) continue;
    if (school_admin && county != CountyOfSchoolId(p.school_id())) continue;
    SHIDANG_ASSIGN_OR_RETURN(std::vector<v1::School> schools, deps_.store.ListSchools(county));
    for (v1::School& s : schools) {
      if (!after.empty() && s.school_id() <= after) continue;
      if (resp->schools_size() == page_size) {
        resp->mutable_page()->set_next_page_token(resp->schools().rbegin()->school_id());
        return absl::OkStatus();
      }
      *resp->add_schools() = std::move(s);
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSchoolOfCounty(ProfileStore& store, absl::string_view school_id,
                                 absl::string_view county_id, absl::string_view field) {
  if (school_id.empty()) {
    return InvalidField(field, "required", "required: a school of the county");
  }
  absl::StatusOr<v1::School> school = store.GetSchool(school_id);
  if (!school.ok() && !absl::IsNotFound(school.status())) return school.status();
  if (!school.ok() || school->county_id() != county_id) {
    return InvalidField(field, "unknown_school",
                        absl::StrCat("no school ", school_id, " in county ", county_id));
  }
  return absl::OkStatus();
}

}  // namespace shidang::profile
