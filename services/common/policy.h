#pragma once

// The versioned policy store (DESIGN "Policy", DOMAIN): the versions of every level and region in
// Redis, read per county in one pipelined round trip and cached. What a version may hold and how
// versions resolve, with where each value came from, is policy_resolver.h (pure, no Redis).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/policy_resolver.h"
#include "services/common/redis.h"
#include "shidang/common/v1/policy.pb.h"

namespace shidang::policy {

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
