#include "services/common/policy.h"

#include <algorithm>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/message.h"
#include "services/common/events.h"
#include "services/common/keys.h"
#include "services/common/mutation.h"
#include "services/common/policy_scripts.h"
#include "services/common/violations.h"
#include "shidang/common/v1/event.pb.h"

namespace shidang::policy {
namespace {

namespace pb = ::google::protobuf;
using ::shidang::common::v1::POLICY_LEVEL_CITY;
using ::shidang::common::v1::POLICY_LEVEL_COUNTY;
using ::shidang::common::v1::POLICY_LEVEL_NATIONAL;
using ::shidang::common::v1::POLICY_LEVEL_PROVINCE;

absl::string_view LevelName(PolicyLevel level) {
  switch (level) {
    case POLICY_LEVEL_NATIONAL:
      return "NATIONAL";
    case POLICY_LEVEL_PROVINCE:
      return "PROVINCE";
    case POLICY_LEVEL_CITY:
      return "CITY";
    case POLICY_LEVEL_COUNTY:
      return "COUNTY";
    default:
      return "UNSPECIFIED";
  }
}

// For the one-line timeline summary of the event.
absl::string_view ChineseLevelName(PolicyLevel level) {
  switch (level) {
    case POLICY_LEVEL_NATIONAL:
      return "全国";
    case POLICY_LEVEL_PROVINCE:
      return "省级";
    case POLICY_LEVEL_CITY:
      return "市级";
    case POLICY_LEVEL_COUNTY:
      return "县级";
    default:
      return "";
  }
}

// ---------------------------------------------------------------------------------------------
// Store

std::string Deterministic(const pb::Message& message) {
  std::string bytes;
  {
    pb::io::StringOutputStream stream(&bytes);
    pb::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return bytes;
}

// "{pl:<region>}", or "{pl:national}" for NATIONAL: every key of one level and region.
std::string HashTagOf(PolicyLevel level, absl::string_view region) {
  return keys::HashTag("pl", level == POLICY_LEVEL_NATIONAL ? "national" : region);
}

std::string KeyPrefix(PolicyLevel level, absl::string_view region) {
  return absl::StrCat("policy:", HashTagOf(level, region), ":");
}

// The change itself (scripts/add_policy_version.lua); Mutation adds the idempotency record and
// the event around it.
const Mutation& AddVersionMutation() {
  static const auto* const kMutation = new Mutation(common::lua::kAddPolicyVersion);
  return *kMutation;
}

// `version` with only `section` of its policy.
PolicyVersion SectionRecord(const PolicyVersion& version, const pb::FieldDescriptor* section) {
  PolicyVersion record = version;
  Policy* policy = record.mutable_policy();
  for (const pb::FieldDescriptor* other : SectionFields()) {
    if (other != section) policy->GetReflection()->ClearField(policy, other);
  }
  return record;
}

// Keeps only the sections in `keep` (names), as the answer to a version that set those.
void KeepSections(const std::vector<std::string>& keep, PolicyVersion* version) {
  Policy* policy = version->mutable_policy();
  for (const pb::FieldDescriptor* section : SectionFields()) {
    if (std::find(keep.begin(), keep.end(), section->name()) == keep.end()) {
      policy->GetReflection()->ClearField(policy, section);
    }
  }
}

// The mutation's args for `version` (A in the script above); `older` is the version stored whole
// at its date before sections were kept apart, as read, and `older_bytes` its bytes ("" none).
redis::Args AddVersionArgs(const PolicyVersion& version, const std::vector<std::string>& sections,
                           const PolicyVersion& older, const std::string& older_bytes) {
  redis::Args args = {version.effective_from(), older_bytes, absl::StrCat(sections.size())};
  for (const std::string& name : sections) {
    const pb::FieldDescriptor* section = Policy::descriptor()->FindFieldByName(name);
    const pb::Reflection* r = version.policy().GetReflection();
    const bool older_sets = !older_bytes.empty() && SetsSection(older.policy(), section);
    args.push_back(name);
    args.push_back(Deterministic(SectionRecord(version, section)));
    args.push_back(Deterministic(r->GetMessage(version.policy(), section)));
    args.push_back(older_sets ? "1" : "0");
    args.push_back(older_sets ? Deterministic(r->GetMessage(older.policy(), section)) : "");
    args.push_back(absl::StrCat(
        "a different ", LevelName(version.level()), " ", name, " policy",
        version.region().empty() ? "" : absl::StrCat(" for ", version.region()),
        " is already in force from ", version.effective_from(),
        "; versions are never replaced: add the correction as a new version with a later "
        "effective_from"));
  }
  return args;
}

// The versions of one level and region from HGETALL of its versions hash, ordered by field name:
// by effective date, a version stored whole before sections were kept apart ("<date>") before the
// sections of that date ("<date>/<section>").
absl::StatusOr<std::vector<PolicyVersion>> ParseVersions(const redis::Reply& reply,
                                                         absl::string_view key) {
  if (!reply.is_array() || reply.size() % 2 != 0) {
    return absl::InternalError(absl::StrCat("policy store: unexpected reply for ", key));
  }
  std::vector<std::pair<absl::string_view, size_t>> order;
  for (size_t i = 0; i + 1 < reply.size(); i += 2) order.emplace_back(reply[i].str(), i + 1);
  std::sort(order.begin(), order.end());
  std::vector<PolicyVersion> versions(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    absl::string_view bytes = reply[order[i].second].str();
    if (!versions[i].ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return absl::InternalError(
          absl::StrCat("policy store: unreadable version ", order[i].first, " in ", key));
    }
  }
  return versions;
}

constexpr size_t kMaxCachedCounties = 4096;
constexpr size_t kMaxCachedDates = 4096;

}  // namespace

PolicyStore::PolicyStore(redis::Pool& pool, PolicyStoreOptions options)
    : pool_(pool), options_(options) {}

absl::Time PolicyStore::Now() const {
  return options_.clock != nullptr ? options_.clock->Now() : absl::Now();
}

void PolicyStore::InvalidateCache() {
  absl::MutexLock lock(&mu_);
  cache_.clear();
  ++generation_;
}

absl::StatusOr<PolicyVersion> PolicyStore::AddVersion(const PolicyVersion& version) {
  SHIDANG_RETURN_IF_ERROR(ValidateVersion(version));
  const std::vector<std::string> sections = SectionsSet(version.policy());

  const std::string tag = HashTagOf(version.level(), version.region());
  const std::string prefix = absl::StrCat("policy:", tag, ":");
  const std::string versions_key = absl::StrCat(prefix, "versions");
  // A version stored whole at this date before sections were kept apart: the script needs its
  // sections, which Lua cannot read from protobuf. Such versions are never rewritten, and the
  // script refuses to go on if this one changed after this read.
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply older_reply,
                           pool_.Command({"HGET", versions_key, version.effective_from()}));
  const std::string older_bytes(older_reply.is_nil() ? "" : older_reply.str());
  PolicyVersion older;
  if (!older.ParseFromString(older_bytes)) {
    return absl::InternalError(absl::StrCat("policy store: unreadable version ",
                                            version.effective_from(), " in ", versions_key));
  }

  MutationRequest mutation;
  SHIDANG_RETURN_IF_ERROR(
      AttachIdempotency(mutation, "policy", tag, version.actor(), "AddVersion", version));
  mutation.idempotency_ttl = options_.idempotency_ttl;
  mutation.stream_key = keys::StreamKey("policy", tag);
  common::v1::Event event = NewEvent("policy", "policy.version_added", Now());
  if (version.level() == POLICY_LEVEL_COUNTY) event.set_county_id(version.region());
  event.set_occurred_on(version.effective_from());
  event.set_actor(version.actor());
  event.set_request_id(version.request_id());
  event.set_summary(
      absl::StrCat("新增", ChineseLevelName(version.level()), "政策版本",
                   version.region().empty() ? "" : absl::StrCat(" ", version.region()), "，自 ",
                   version.effective_from(), " 起施行"));
  event.mutable_payload()->PackFrom(version);
  mutation.events.push_back(std::move(event));
  mutation.keys = {versions_key, absl::StrCat(prefix, "contents")};
  mutation.args = AddVersionArgs(version, sections, older, older_bytes);

  // Consumers (e.g. training, which recomputes summaries a past-dated version touches) find the
  // stream through the index; registering before the first write is idempotent.
  SHIDANG_RETURN_IF_ERROR(RegisterStream(pool_, "policy", mutation.stream_key));
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result, AddVersionMutation().Run(pool_, mutation));

  // Also the answer stored by a retried request from before sections were kept apart: the whole
  // version, whose sections are this request's.
  PolicyVersion stored;
  if (result.payload.empty() || !stored.ParseFromString(result.payload)) {
    return absl::InternalError(absl::StrCat("policy store: unreadable stored version for ",
                                            versions_key, " ", version.effective_from()));
  }
  KeepSections(sections, &stored);
  if (!result.replayed && !result.stream_entry_ids.empty()) InvalidateCache();
  return stored;
}

absl::StatusOr<std::shared_ptr<const CountyVersions>> PolicyStore::FetchCounty(
    const RegionChain& chain) {
  // The order CountyVersions promises: national, province, city, county.
  std::vector<std::string> keys = {
      absl::StrCat(KeyPrefix(POLICY_LEVEL_NATIONAL, ""), "versions"),
      absl::StrCat(KeyPrefix(POLICY_LEVEL_PROVINCE, chain.province), "versions"),
  };
  if (!chain.city.empty()) {
    keys.push_back(absl::StrCat(KeyPrefix(POLICY_LEVEL_CITY, chain.city), "versions"));
  }
  keys.push_back(absl::StrCat(KeyPrefix(POLICY_LEVEL_COUNTY, chain.county), "versions"));
  std::vector<redis::Args> commands;
  commands.reserve(keys.size());
  for (const std::string& key : keys) commands.push_back({"HGETALL", key});
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, pool_.Pipeline(commands));
  auto read = std::make_shared<CountyVersions>();
  read->chain = chain;
  for (size_t i = 0; i < keys.size(); ++i) {
    SHIDANG_RETURN_IF_ERROR(replies[i].ToStatus());
    SHIDANG_ASSIGN_OR_RETURN(std::vector<PolicyVersion> versions,
                             ParseVersions(replies[i], keys[i]));
    for (PolicyVersion& v : versions) read->versions.push_back(std::move(v));
  }
  return std::shared_ptr<const CountyVersions>(std::move(read));
}

absl::StatusOr<std::shared_ptr<const CountyVersions>> PolicyStore::ReadCounty(
    absl::string_view county_id) {
  SHIDANG_ASSIGN_OR_RETURN(RegionChain chain, ChainOf(county_id));
  const bool caching = options_.cache_ttl > absl::ZeroDuration();
  uint64_t generation = 0;
  if (caching) {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(chain.county);
    if (it != cache_.end() && Now() < it->second.expires) return it->second.read;
    generation = generation_;
  }
  // Redis is read outside the lock; two callers missing at once both read, which is harmless.
  SHIDANG_ASSIGN_OR_RETURN(std::shared_ptr<const CountyVersions> read, FetchCounty(chain));
  if (caching) {
    absl::MutexLock lock(&mu_);
    if (generation == generation_) {
      if (cache_.size() >= kMaxCachedCounties) cache_.clear();
      CacheEntry& entry = cache_[chain.county];
      entry.expires = Now() + options_.cache_ttl;
      entry.read = read;
      entry.resolved.clear();
    }
  }
  return read;
}

absl::StatusOr<ResolvedPolicy> PolicyStore::Resolve(absl::string_view county_id,
                                                    absl::CivilDay date) {
  SHIDANG_ASSIGN_OR_RETURN(std::shared_ptr<const CountyVersions> read, ReadCounty(county_id));
  {
    absl::MutexLock lock(&mu_);
    if (CacheEntry* entry = EntryHolding(*read)) {
      auto hit = entry->resolved.find(date);
      if (hit != entry->resolved.end()) return hit->second;
    }
  }
  SHIDANG_ASSIGN_OR_RETURN(ResolvedPolicy resolved, read->Resolve(date));
  absl::MutexLock lock(&mu_);
  if (CacheEntry* entry = EntryHolding(*read)) {
    if (entry->resolved.size() >= kMaxCachedDates) entry->resolved.clear();
    entry->resolved.emplace(date, resolved);
  }
  return resolved;
}

PolicyStore::CacheEntry* PolicyStore::EntryHolding(const CountyVersions& read) {
  auto it = cache_.find(read.chain.county);
  return it != cache_.end() && it->second.read.get() == &read ? &it->second : nullptr;
}

absl::StatusOr<std::vector<PolicyVersion>> PolicyStore::ListVersions(PolicyLevel level,
                                                                     absl::string_view region) {
  SHIDANG_RETURN_IF_ERROR(ValidateRegion(level, region, "region"));
  const std::string key = absl::StrCat(KeyPrefix(level, region), "versions");
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply reply, pool_.Command({"HGETALL", key}));
  return ParseVersions(reply, key);
}

}  // namespace shidang::policy
