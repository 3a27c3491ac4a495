#pragma once

// Training policy: the versions a county's rules run under (LoadPolicy, the one place the
// training service reads policy versions), and setting and reading the training section.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/clock.h"
#include "services/common/policy.h"
#include "services/common/redis.h"
#include "services/common/server.h"
#include "services/training/rules.h"
#include "shidang/training/v1/training.pb.h"

namespace shidang::training {

// The policy history of a county and a stamp of the versions it was made from.
struct LoadedPolicy {
  PolicyHistory history;
  std::string stamp;
};

class PolicyUse {
 public:
  PolicyUse(redis::Pool& pool, const Clock& clock);

  // Every stored version that can apply to the county, as the rules' history, with a stamp that
  // changes whenever a version is added (cached summaries made under another stamp are stale).
  absl::StatusOr<LoadedPolicy> LoadPolicy(absl::string_view county_id);

  // Summaries cached under the previous versions carry the old policy stamp; the report
  // recomputes those at read time, so a version with a past effective date is honoured at once.
  absl::Status SetTrainingPolicy(const CallContext& call, const v1::SetTrainingPolicyRequest& req,
                                 v1::SetTrainingPolicyResponse* resp);
  // Every role may read the rules that apply to them.
  absl::Status GetTrainingPolicy(const v1::GetTrainingPolicyRequest& req,
                                 v1::GetTrainingPolicyResponse* resp);

 private:
  const Clock& clock_;
  policy::PolicyStore policies_;
};

}  // namespace shidang::training
