#pragma once

// Teachers' files: creating one, reading it as the caller may see it, changing its fields (with a
// PROFILE_UPDATED entry), and listing a region's or a school's teachers.

#include "absl/status/status.h"
#include "services/common/server.h"
#include "services/profile/service_deps.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::profile {

class Teachers {
 public:
  explicit Teachers(ServiceDeps& deps) : deps_(deps) {}

  absl::Status CreateTeacher(const CallContext& call, const v1::CreateTeacherRequest& req,
                             v1::CreateTeacherResponse* resp);
  absl::Status GetTeacher(const CallContext& call, const v1::GetTeacherRequest& req,
                          v1::GetTeacherResponse* resp);
  absl::Status UpdateTeacher(const CallContext& call, const v1::UpdateTeacherRequest& req,
                             v1::UpdateTeacherResponse* resp);
  absl::Status ListTeachers(const CallContext& call, const v1::ListTeachersRequest& req,
                            v1::ListTeachersResponse* resp);

 private:
  ServiceDeps& deps_;
};

}  // namespace shidang::profile
