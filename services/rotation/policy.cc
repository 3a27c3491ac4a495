#include "services/rotation/policy.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/dates.h"
#include "services/common/principal.h"
#include "services/common/status.h"

namespace shidang::rotation {

using common::v1::Principal;

absl::StatusOr<RotationPolicy> LoadRotationPolicy(policy::PolicyStore& policies,
                                                  absl::string_view county_id, absl::CivilDay day) {
  // Resolve is the store's cached county read (PolicyStore::ReadCounty: one pipelined read per
  // county per cache TTL) resolved for the day, itself cached; the rules take the protos'
  // RotationPolicy from it (RotationPolicyFrom), every field of it.
  SHIDANG_ASSIGN_OR_RETURN(common::v1::ResolvedPolicy resolved, policies.Resolve(county_id, day));
  return RotationPolicyFrom(resolved.policy());
}

absl::StatusOr<YearPolicy> PolicyForSchoolYear(Deps& deps, absl::string_view county_id,
                                               absl::string_view school_year, absl::CivilDay day,
                                               absl::string_view field) {
  std::optional<int> start_year;
  if (!school_year.empty()) {
    absl::StatusOr<int> parsed = ParseSchoolYear(school_year, field);
    if (!parsed.ok()) {
      return InvalidField(field, "school_year",
                          "must be the year it starts (2025) or both years (2025-2026)");
    }
    start_year = *parsed;
  }
  // Where the year starts is itself policy: find it with the policy of `day`, then judge with the
  // policy in force on that first day.
  SHIDANG_ASSIGN_OR_RETURN(RotationPolicy now, LoadRotationPolicy(deps.policies, county_id, day));
  SchoolYear year = start_year ? SchoolYearStarting(*start_year, now) : SchoolYearOf(day, now);
  SHIDANG_ASSIGN_OR_RETURN(RotationPolicy then,
                           LoadRotationPolicy(deps.policies, county_id, year.days.first));
  return YearPolicy{then, SchoolYearStarting(year.start_year, then)};
}

namespace {

// County HR sets its county; city HR its city and counties under it; province HR its province
// and below; ADMIN anything.
bool MaySetPolicy(const Principal& p, common::v1::PolicyLevel level, absl::string_view region) {
  if (IsTrusted(p.role())) return true;
  if (level == common::v1::POLICY_LEVEL_NATIONAL) return false;
  const bool covers = p.region() == region || RegionCovers(p.region(), region);
  switch (p.role()) {
    case common::v1::ROLE_COUNTY_HR:
      return level == common::v1::POLICY_LEVEL_COUNTY && p.region() == region;
    case common::v1::ROLE_CITY_HR:
      return level != common::v1::POLICY_LEVEL_PROVINCE && covers;
    case common::v1::ROLE_PROVINCE_HR:
      return covers;
    default:
      return false;
  }
}

}  // namespace

absl::Status SetRotationPolicy(Deps& deps, const CallContext& call,
                               const v1::SetRotationPolicyRequest& req,
                               v1::SetRotationPolicyResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(policy::ValidateRegion(req.level(), req.region(), "region"));
  if (!MaySetPolicy(call.principal, req.level(), req.region())) {
    return Denied(call.principal, absl::StrCat("set the rotation policy of ",
                                               req.region().empty() ? "the nation" : req.region()));
  }
  common::v1::PolicyVersion version;
  version.set_level(req.level());
  version.set_region(req.region());
  version.set_effective_from(req.effective_from());
  *version.mutable_policy()->mutable_rotation() = req.rotation();
  version.set_actor(call.actor);
  version.set_request_id(req.request_id());
  // ValidateVersion (inside AddVersion) names each bad field as "policy.rotation.<field>".
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_version(), deps.policies.AddVersion(version));
  return absl::OkStatus();
}

absl::Status GetRotationPolicy(Deps& deps, const CallContext& call,
                               const v1::GetRotationPolicyRequest& req,
                               v1::GetRotationPolicyResponse* resp) {
  (void)call;  // every role that reaches it may read the rules that apply to them
  SHIDANG_RETURN_IF_ERROR(CheckCountyId(req.county_id()));
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay as_of, DayOrToday(deps.clock, req.as_of(), "as_of"));
  SHIDANG_ASSIGN_OR_RETURN(common::v1::ResolvedPolicy resolved,
                           deps.policies.Resolve(req.county_id(), as_of));
  resp->set_county_id(req.county_id());
  resp->set_as_of(dates::FormatDate(as_of));
  *resp->mutable_resolved()->mutable_policy()->mutable_rotation() = resolved.policy().rotation();
  for (const common::v1::PolicySource& s : resolved.sources()) {
    if (absl::StartsWith(s.field(), "rotation.")) *resp->mutable_resolved()->add_sources() = s;
  }
  return absl::OkStatus();
}

}  // namespace shidang::rotation
