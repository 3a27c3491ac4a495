#include "services/mentorship/policy.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/dates.h"
#include "services/common/status.h"

namespace shidang::mentorship {

absl::StatusOr<MentorshipPolicy> LoadMentorshipPolicy(policy::PolicyStore& policies,
                                                      absl::string_view county_id,
                                                      absl::CivilDay day) {
  SHIDANG_ASSIGN_OR_RETURN(common::v1::ResolvedPolicy resolved, policies.Resolve(county_id, day));
  return MentorshipPolicyFrom(resolved.policy());
}

absl::Status SetMentorshipPolicy(Deps& deps, const CallContext& call,
                                 const v1::SetMentorshipPolicyRequest& req,
                                 v1::SetMentorshipPolicyResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(policy::ValidateRegion(req.level(), req.region(), "region"));
  if (!scope::CoversPolicy(call.principal, req.level(), req.region())) {
    return Denied(call.principal, absl::StrCat("set the mentorship policy of ",
                                               req.region().empty() ? "the nation" : req.region()));
  }
  common::v1::PolicyVersion version;
  version.set_level(req.level());
  version.set_region(req.region());
  version.set_effective_from(req.effective_from());
  *version.mutable_policy()->mutable_mentorship() = req.mentorship();
  version.set_actor(call.actor);
  version.set_request_id(req.request_id());
  // ValidateVersion (inside AddVersion) names each bad field as "policy.mentorship.<field>".
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_version(), deps.policies.AddVersion(version));
  return absl::OkStatus();
}

absl::Status GetMentorshipPolicy(Deps& deps, const CallContext& call,
                                 const v1::GetMentorshipPolicyRequest& req,
                                 v1::GetMentorshipPolicyResponse* resp) {
  (void)call;  // every role that reaches it may read the rules that apply to them
  SHIDANG_RETURN_IF_ERROR(CheckCountyId(req.county_id()));
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay as_of, DayOrToday(deps.clock, req.as_of(), "as_of"));
  SHIDANG_ASSIGN_OR_RETURN(common::v1::ResolvedPolicy resolved,
                           deps.policies.Resolve(req.county_id(), as_of));
  resp->set_county_id(req.county_id());
  resp->set_as_of(dates::FormatDate(as_of));
  *resp->mutable_resolved()->mutable_policy()->mutable_mentorship() =
      resolved.policy().mentorship();
  for (const common::v1::PolicySource& s : resolved.sources()) {
    if (absl::StartsWith(s.field(), "mentorship.")) *resp->mutable_resolved()->add_sources() = s;
  }
  return absl::OkStatus();
}

}  // namespace shidang::mentorship
