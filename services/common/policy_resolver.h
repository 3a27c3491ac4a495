#pragma once

// The versioned policy's pure part (DESIGN "Policy", DOMAIN): every number of the policy texts is
// configuration with a national default, versioned by effective date at one of four levels. Here
// are the defaults, the checks a version must pass and its resolution: plain values over protobuf
// messages, no Redis and no gRPC, so a service's rules link it (target shidang_policy_resolver).
// The store that keeps the versions in Redis is policy.h (shidang_policy).
//
// Resolution, per leaf field, for a county on a date: look at the county, then its city, then its
// province, then NATIONAL versions, then the built-in national defaults; the first level that has
// a version in force (effective on or before the date) setting the field gives its value, from the
// latest such version of that level. So a county's 2025 version that sets only warn_days leaves
// the county's 2023 online cap in force; the province's applies only where no county version ever
// set it. A leaf is
//   - a scalar or enum field (all are `optional`, so "set" is explicit presence), or
//   - a message that holds a repeated field (a wrapped list such as HourRuleList): one value,
//     replaced whole, never merged;
// any other message (a section such as TrainingPolicy, or RetirementPolicy.Rule) is walked into,
// so its fields resolve independently. All of this is done by protobuf reflection: a field added to
// policy.proto resolves with no code here (it needs a default in policy_defaults.cc and, for a
// number or string, one line in the validation table of policy_resolver.cc; tests check both).
//
// Regions are 6-digit GB/T 2260 codes: a county's city is its first 4 digits + "00", its province
// its first 2 + "0000" (municipalities such as 110000 work the same way). A county whose middle
// digits are "00" (none today) would have no city level.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/descriptor.h"
#include "shidang/common/v1/policy.pb.h"

namespace shidang::policy {

using ::shidang::common::v1::Policy;
using ::shidang::common::v1::PolicyLevel;
using ::shidang::common::v1::PolicySource;
using ::shidang::common::v1::PolicyVersion;
using ::shidang::common::v1::ResolvedPolicy;

// The school kinds a RotationDirection names in from_kind / to_kind (DOMAIN §3, §6):
// URBAN 城区, TOWN 镇区, RURAL 乡村; STRONG 优质, ORDINARY 普通, WEAK 薄弱; CENTRAL 中心校,
// VILLAGE 村小, TEACHING_POINT 教学点.
inline constexpr absl::string_view kSchoolKinds[] = {
    "URBAN", "TOWN", "RURAL", "STRONG", "ORDINARY", "WEAK", "CENTRAL", "VILLAGE", "TEACHING_POINT"};

// The built-in national defaults (DOMAIN's numbers); every leaf field is set. Sources name them
// with built_in set, level NATIONAL, region "" and effective_from "" (always in force).
const Policy& NationalDefaults();

// The regions whose versions apply to a county, most local first.
struct RegionChain {
  std::string county;
  std::string city;  // empty when the county has no city level (middle digits "00")
  std::string province;
};

// The chain of a 6-digit county code; INVALID_ARGUMENT (naming `field`) for anything else.
absl::StatusOr<RegionChain> ChainOf(absl::string_view county_id,
                                    absl::string_view field = "county_id");

// Checks that `region` has the shape of `level`: NATIONAL takes "", PROVINCE a 6-digit code
// ending "0000", CITY one ending "00" but not "0000", COUNTY one not ending "00".
absl::Status ValidateRegion(PolicyLevel level, absl::string_view region,
                            absl::string_view field = "region");

// Checks a version before it is stored: level and region, effective_from a real date, and every
// field it sets (hours >= 0 in steps of 0.5, percentages 0..100, positive cycle years, day counts
// >= 0, "MM-DD" school year start, known enum values, known school kinds...). It must set at least
// one field. INVALID_ARGUMENT names the field path (e.g. "policy.training.minimums.rules[1].hours")
// and what is allowed.
absl::Status ValidateVersion(const PolicyVersion& version);

// The dotted path of every leaf field, in declaration order ("retirement.male.base_age_years",
// "training.minimums", ...).
std::vector<std::string> LeafFieldPaths();

// Resolves the policy in force for `county_id` on `date` from `versions`, which may hold versions
// of any levels and regions: only NATIONAL ones and those of the county's own city, province and
// county take part. Each leaf carries a PolicySource in `sources` (one per leaf, in LeafFieldPaths
// order). Two versions of one level and region with the same date setting the same field should
// not exist (the store refuses them); if they do, the later in `versions` wins. Pure: no I/O.
absl::StatusOr<ResolvedPolicy> ResolvePolicy(absl::string_view county_id,
                                             const std::vector<PolicyVersion>& versions,
                                             absl::CivilDay date);

// The names of the sections (top-level fields of Policy: "retirement", "ethics", "training",
// "rotation", "mentorship") in which `policy` sets at least one leaf, in declaration order.
std::vector<std::string> SectionsSet(const Policy& policy);

// Every stored version that can apply to one county (PolicyStore::ReadCounty): the NATIONAL ones,
// then its province's, city's and county's; within a level by effective date, then section (the
// order ListVersions gives). Versions stored before sections were kept apart come first of their
// date and may set several sections.
struct CountyVersions {
  RegionChain chain;
  std::vector<PolicyVersion> versions;

  // The versions that set a leaf of `section` (e.g. "training"), in the same order.
  std::vector<PolicyVersion> Setting(absl::string_view section) const;
  // ResolvePolicy(chain.county, versions, date).
  absl::StatusOr<ResolvedPolicy> Resolve(absl::CivilDay date) const;
};

// The sections: every top-level field of Policy (each a message), in declaration order.
const std::vector<const google::protobuf::FieldDescriptor*>& SectionFields();

// Whether `policy` sets a leaf of `section` (a section present but empty sets nothing).
bool SetsSection(const Policy& policy, const google::protobuf::FieldDescriptor* section);

}  // namespace shidang::policy
