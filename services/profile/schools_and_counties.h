#pragma once

// Counties and schools: creating and reading them, listing a region's schools.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/common/server.h"
#include "services/profile/service_deps.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::profile {

class SchoolsAndCounties {
 public:
  explicit SchoolsAndCounties(ServiceDeps& deps) : deps_(deps) {}

  absl::Status CreateCounty(const CallContext& call, const v1::CreateCountyRequest& req,
                            v1::CreateCountyResponse* resp);
  absl::Status GetCounty(const CallContext& call, const v1::GetCountyRequest& req,
                         v1::GetCountyResponse* resp);
  absl::Status CreateSchool(const CallContext& call, const v1::CreateSchoolRequest& req,
                            v1::CreateSchoolResponse* resp);
  absl::Status GetSchool(const CallContext& call, const v1::GetSchoolRequest& req,
                         v1::GetSchoolResponse* resp);
  absl::Status ListSchools(const CallContext& call, const v1::ListSchoolsRequest& req,
                           v1::ListSchoolsResponse* resp);

 private:
  ServiceDeps& deps_;
};

// INVALID_ARGUMENT naming `field` unless `school_id` is a school of the county (an unknown school
// and another county's school get the same answer).
absl::Status CheckSchoolOfCounty(ProfileStore& store, absl::string_view school_id,
                                 absl::string_view county_id, absl::string_view field);

}  // namespace shidang::profile
