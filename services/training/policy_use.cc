#include "services/training/policy_use.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/dates.h"
#include "services/common/status.h"
#include "services/training/shared.h"

namespace shidang::training {
namespace {

// 64-bit FNV-1a: a stamp of the policy versions a summary was computed under.
std::string Stamp(absl::string_view bytes) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return absl::StrFormat("%016x", h);
}

}  // namespace

PolicyUse::PolicyUse(redis::Pool& pool, const Clock& clock)
    : clock_(clock), policies_(pool, policy::PolicyStoreOptions{.clock = &clock}) {}

absl::StatusOr<LoadedPolicy> PolicyUse::LoadPolicy(absl::string_view county_id) {
  // One pipelined read of every level's versions, cached by the store (PolicyStore::ReadCounty):
  // an approval no longer waits for four sequential reads.
  SHIDANG_ASSIGN_OR_RETURN(std::shared_ptr<const policy::CountyVersions> read,
                           policies_.ReadCounty(county_id));
  std::vector<common::v1::PolicyVersion> versions = read->Setting("training");
  // The stamp covers the same bytes in the same order as before (national, province, city,
  // county; by date), so summaries cached under an unchanged policy stay fresh.
  std::string bytes;
  for (const common::v1::PolicyVersion& v : versions) {
    absl::StrAppend(&bytes, v.effective_from(), v.policy().training().SerializeAsString(), "\x1e");
  }
  SHIDANG_ASSIGN_OR_RETURN(PolicyHistory history, PolicyHistory::ForCounty(county_id, versions));
  return LoadedPolicy{std::move(history), Stamp(bytes)};
}

absl::Status PolicyUse::SetTrainingPolicy(const CallContext& call,
                                          const v1::SetTrainingPolicyRequest& req,
                                          v1::SetTrainingPolicyResponse* resp) {
  common::v1::PolicyVersion version;
  version.set_level(req.level());
  version.set_region(req.region());
  version.set_effective_from(req.effective_from());
  *version.mutable_policy()->mutable_training() = req.training();
  version.set_actor(call.actor);
  version.set_request_id(req.request_id());
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_version(), policies_.AddVersion(version));
  return absl::OkStatus();
}

absl::Status PolicyUse::GetTrainingPolicy(const v1::GetTrainingPolicyRequest& req,
                                          v1::GetTrainingPolicyResponse* resp) {
  if (!IsCountyCode(req.county_id())) {
    return InvalidField("county_id", "county_code",
                        "must be a county's 6-digit GB/T 2260 code (not ending in 00)");
  }
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay as_of, AsOf(clock_, req.as_of()));
  SHIDANG_ASSIGN_OR_RETURN(common::v1::ResolvedPolicy resolved,
                           policies_.Resolve(req.county_id(), as_of));
  resp->set_county_id(req.county_id());
  resp->set_as_of(dates::FormatDate(as_of));
  *resp->mutable_resolved()->mutable_policy()->mutable_training() = resolved.policy().training();
  for (const common::v1::PolicySource& s : resolved.sources()) {
    if (absl::StartsWith(s.field(), "training.")) *resp->mutable_resolved()->add_sources() = s;
  }
  return absl::OkStatus();
}

}  // namespace shidang::training
