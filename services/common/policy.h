#pragma once

// The versioned policy store (DESIGN "Policy", DOMAIN): every number of the policy texts is
// configuration with a national default, versioned by effective date at one of four levels.
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
// number or string, one line in the validation table of policy.cc; tests check both).
//
// Regions are 6-digit GB/T 2260 codes: a county's city is its first 4 digits + "00", its province
// its first 2 + "0000" (municipalities such as 110000 work the same way). A county whose middle
// digits are "00" (none today) would have no city level.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/redis.h"
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

struct PolicyStoreOptions {
  // What ReadCounty fetched (and what Resolve resolved from it) is kept in this process for this
  // long, per county, so an approval, a report resolving per teacher or per entry date, or a
  // summary reads Redis at most once per county per TTL. A version added through this store clears
  // the cache at once; one added by another process is seen within this time. A TTL rather than a
  // version counter checked on each read: a check is a round trip on every read, the very cost the
  // cache removes, while versions change a few times a year and a read a few seconds stale does no
  // harm (training stamps each summary with the versions it was made under and recomputes it when
  // they change). Zero turns the cache off.
  absl::Duration cache_ttl = absl::Seconds(5);
  // How long the record of an AddVersion request id is kept (DESIGN: 7 days).
  absl::Duration idempotency_ttl = absl::Hours(7 * 24);
  // Wall clock for cache expiry and event timestamps; the system clock when null. Not owned.
  const Clock* clock = nullptr;
};

// Keys, all under one hash tag per level and region ({pl:<region>}, {pl:national} for NATIONAL),
// so a write touches one slot:
//   policy:{pl:<region>}:versions   hash  "<effective_from>/<section>" -> serialized PolicyVersion
//                                   that sets that section only (with actor and request_id);
//                                   "<effective_from>" -> a version stored before sections were
//                                   kept apart (any sections; read as before, never rewritten)
//   policy:{pl:<region>}:contents   hash  "<effective_from>/<section>" -> deterministic bytes of
//                                   the section (what "identical" compares); "<effective_from>"
//                                   -> those of an older whole version without actor, request_id
//   policy:{pl:<region>}:events     stream (mutation.h): "policy.version_added", payload the
//                                   PolicyVersion as added; listed in "policy:streams"
//   policy:{pl:<region>}:idem:AddVersion:<actor>:<request_id>   (mutation.h)
//
// One version per level, region, effective date and section: versions of different sections on
// one date never collide. Versions are never overwritten: adding a section at a date that already
// has a different value for it is ALREADY_EXISTS (a correction is a new version with a later
// effective date), so what was in force on any past date stays reproducible. Adding the same
// section again at the same date changes nothing and answers the stored version.
class PolicyStore {
 public:
  explicit PolicyStore(redis::Pool& pool, PolicyStoreOptions options = {});
  PolicyStore(const PolicyStore&) = delete;
  PolicyStore& operator=(const PolicyStore&) = delete;

  // Validates and stores `version` through Mutation (mutation.h): one version per section it
  // sets, its event and, when version.request_id() is set, the idempotency record (per actor and
  // method) in one atomic script. A retry of the same request answers the stored version again and
  // changes nothing; the same request id with a different request is INVALID_ARGUMENT. Returns the
  // version as stored, with the sections it sets: each section it set anew as given; when it
  // changed nothing, the sections as stored first, with the actor and request id of the version
  // holding its first section. ABORTED (redo it) when a whole version of its date was stored
  // between this call's read and its write, which only a binary from before sections were kept
  // apart does.
  absl::StatusOr<PolicyVersion> AddVersion(const PolicyVersion& version);

  // Everything a resolution for the county needs (the national, province, city and county
  // versions) in one pipelined round trip, or from the cache (see PolicyStoreOptions::cache_ttl).
  // INVALID_ARGUMENT naming county_id for a bad code. The result is shared and never changes.
  //
  // For a service's own section, e.g. training's LoadPolicy:
  //   SHIDANG_ASSIGN_OR_RETURN(std::shared_ptr<const policy::CountyVersions> read,
  //                            policies_.ReadCounty(county_id));
  //   std::vector<PolicyVersion> versions = read->Setting("training");
  absl::StatusOr<std::shared_ptr<const CountyVersions>> ReadCounty(absl::string_view county_id);

  // The policy in force for a county on a date, with where each value came from: ReadCounty,
  // resolved (resolutions are cached with it, per date).
  absl::StatusOr<ResolvedPolicy> Resolve(absl::string_view county_id, absl::CivilDay date);

  // Every version stored at one level and region, oldest effective date first (then by section).
  absl::StatusOr<std::vector<PolicyVersion>> ListVersions(PolicyLevel level,
                                                          absl::string_view region);

  // Forgets everything cached in this process.
  void InvalidateCache();

 private:
  struct CacheEntry {
    absl::Time expires;
    std::shared_ptr<const CountyVersions> read;
    std::map<absl::CivilDay, ResolvedPolicy> resolved;
  };

  absl::Time Now() const;
  absl::StatusOr<std::shared_ptr<const CountyVersions>> FetchCounty(const RegionChain& chain);
  // The cache entry of read's county while it holds this very read (resolutions are kept beside
  // the read they came from), else nullptr.
  CacheEntry* EntryHolding(const CountyVersions& read) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  redis::Pool& pool_;
  const PolicyStoreOptions options_;
  mutable absl::Mutex mu_;
  std::map<std::string, CacheEntry> cache_ ABSL_GUARDED_BY(mu_);
  // Counts InvalidateCache calls: a read that began before one is not cached, so a read racing
  // this process's write cannot put back what the write made stale.
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace shidang::policy
