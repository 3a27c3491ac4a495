#pragma once

// The growth file (一师一档案): a teacher's record as of a day, with their school history, rural or
// weak service, timeline and the summaries other services keep in it.

#include "absl/status/status.h"
#include "services/common/server.h"
#include "services/profile/service_deps.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::profile {

class GrowthFiles {
 public:
  explicit GrowthFiles(ServiceDeps& deps) : deps_(deps) {}

  absl::Status GetGrowthFile(const CallContext& call, const v1::GetGrowthFileRequest& req,
                             v1::GetGrowthFileResponse* resp);

 private:
  ServiceDeps& deps_;
};

}  // namespace shidang::profile
