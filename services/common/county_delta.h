#pragma once

// A per-county read copy refreshed by deltas, for services whose county listings read every
// teacher (rotation, mentorship): after a write the copy is patched with the few entities it
// changed instead of reading and parsing the whole county again.
//
// The write side: every write of a county's copied hashes, in the same script (or the same
// WriteFact script), bumps the county's writes counter and records what it changed in the
// county's change log, a sorted set under the county's hash tag scored by the counter's new value:
//   local version = redis.call('INCR', K[counter])
//   redis.call('ZADD', K[log], version, string.format('%d:<kind>:%s', version, <id>))
//   redis.call('ZREMRANGEBYRANK', K[log], 0, -1 - tonumber(A[bound]))   -- kLogBound
// (string.format, not `..`: Lua prints numbers with 14 digits, the counter may have 16).
// The log keeps the last kLogBound records.
//
// The read side (ReadSince): the counter and the records above a held version in one MULTI; when
// they account for every version in between (one record each), the changed fields and the
// counter again in a second MULTI, repeated while the counter moved by a record not yet read; a
// gap (a write that bumped the counter without a record, a trimmed log, a counter that went back)
// reads the county whole. So a read that starts after a write was acknowledged sees it (the
// counter it reads counts it), a write racing the refresh is either read with it or left for the
// next refresh (the copy is labelled with the counter value its fields were read at, exactly),
// and a copy is never patched across a change it did not see.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "services/common/redis.h"

namespace shidang::county_delta {

// Records kept per county: a copy that many writes behind is read whole again.
inline constexpr int64_t kLogBound = 512;

// One hash a county's copy is made of, and the kind its change records name it by (one word,
// no ':').
struct Hash {
  std::string kind;
  std::string key;
};

// A county's keys, all under its hash tag.
struct CountyKeys {
  std::string counter;  // the writes counter (string)
  std::string log;      // the change log (sorted set)
  std::string stream;   // the service's event stream (WriteFact runs as a Mutation, which needs it)
  std::vector<Hash> hashes;
};

// One field of a hash as read; no bytes when it was deleted. The bytes are a view of the Redis
// reply the CountyRead holding the field keeps (`replies`), valid as long as a copy of that
// CountyRead lives: a whole county's megabytes are parsed where hiredis put them instead of being
// copied into strings first.
struct Field {
  std::string id;
  std::optional<absl::string_view> bytes;
};

// What a refresh read.
struct CountyRead {
  // The counter's value the fields were read at; 0 when the county was never written (a copy of
  // it has nothing to tell a later change by, so it is not kept).
  int64_t version = 0;
  // Every field of every hash; otherwise only the changed ones.
  bool whole = false;
  std::map<std::string, std::vector<Field>> fields;  // by kind
  // The reply the fields' bytes point into (copies share it).
  redis::Reply replies;

  // The fields read of `kind` (none when none were).
  const std::vector<Field>& Of(absl::string_view kind) const;
};

// What changed in the county since `have` (nullopt: nothing held, read it whole), or nullopt when
// the counter still is `have`.
absl::StatusOr<std::optional<CountyRead>> ReadSince(redis::Pool& pool, const CountyKeys& keys,
                                                    std::optional<int64_t> have);

// The counter's first value when it is missing: the time in microseconds, so a county whose keys
// were deleted and written again does not count up through versions a process still holds.
std::string FirstCounterValue();

// Sets (or, without bytes, deletes) field `id` of the hash of `kind`, bumps the counter and
// records the change, in one script (services/common/scripts/write_fact.lua): for the copies of
// other services' facts, which have no script of their own.
absl::Status WriteFact(redis::Pool& pool, const CountyKeys& keys, absl::string_view kind,
                       absl::string_view id, std::optional<std::string> bytes);

// `bytes` as stored, parsed as the message T; DATA_LOSS naming `what` when they do not parse.
template <typename T>
absl::StatusOr<T> ParseStored(absl::string_view bytes, absl::string_view what) {
  T message;
  if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(absl::StrCat("stored ", what, " unreadable"));
  }
  return message;
}

// Field `id` of hash `key` (nullopt when absent): one entity of a copy, or an index entry.
absl::StatusOr<std::optional<std::string>> ReadField(redis::Pool& pool, const std::string& key,
                                                     absl::string_view id);

// Field `id` of hash `key` parsed as the message T (nullopt when absent).
template <typename T>
absl::StatusOr<std::optional<T>> ReadStored(redis::Pool& pool, const std::string& key,
                                            absl::string_view id, absl::string_view what) {
  absl::StatusOr<std::optional<std::string>> bytes = ReadField(pool, key, id);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return std::nullopt;
  absl::StatusOr<T> parsed = ParseStored<T>(**bytes, what);
  if (!parsed.ok()) return parsed.status();
  return *std::move(parsed);
}

// Counties' copies kept in a process, refreshed by ReadSince. `Build` makes a copy from a whole
// read (base null) or patches `base` with a delta; copies are shared and never change.
//
//   county_delta::Cache<CountyData> cache(pool, BuildCountyData);
//   SHIDANG_ASSIGN_OR_RETURN(std::shared_ptr<const CountyData> data,
//                            cache.Read(county_id, KeysOf(county_id)));
template <typename Copy>
class Cache {
 public:
  using Build = std::function<absl::StatusOr<std::shared_ptr<const Copy>>(const CountyRead& read,
                                                                          const Copy* base)>;

  // Keeps at most `max_counties`, dropping the least recently read.
  Cache(redis::Pool& pool, Build build, size_t max_counties = 16)
      : pool_(pool), build_(std::move(build)), max_counties_(max_counties < 1 ? 1 : max_counties) {}

  // The county with every write acknowledged before this call. Thread-safe.
  absl::StatusOr<std::shared_ptr<const Copy>> Read(const std::string& county_id,
                                                   const CountyKeys& keys) {
    Entry held = Held(county_id);
    std::optional<int64_t> have;
    if (held.copy != nullptr) have = held.version;
    absl::StatusOr<std::optional<CountyRead>> read = ReadSince(pool_, keys, have);
    if (!read.ok()) return read.status();
    if (!read->has_value()) return held.copy;
    const CountyRead& delta = **read;
    absl::StatusOr<std::shared_ptr<const Copy>> built =
        build_(delta, delta.whole ? nullptr : held.copy.get());
    if (!built.ok()) return built.status();
    if (delta.version != 0) Keep(county_id, delta.version, *built);
    return built;
  }

 private:
  struct Entry {
    int64_t version = 0;
    std::shared_ptr<const Copy> copy;
    uint64_t last_read = 0;
  };

  Entry Held(const std::string& county_id) {
    absl::MutexLock lock(&mu_);
    auto found = entries_.find(county_id);
    if (found == entries_.end()) return Entry{};
    found->second.last_read = ++reads_;
    return found->second;
  }

  // Never replaces a copy with an older one (two refreshes racing).
  void Keep(const std::string& county_id, int64_t version, std::shared_ptr<const Copy> copy) {
    absl::MutexLock lock(&mu_);
    auto found = entries_.find(county_id);
    if (found != entries_.end() && found->second.version > version) return;
    entries_[county_id] = Entry{version, std::move(copy), ++reads_};
    while (entries_.size() > max_counties_) {
      auto oldest = entries_.begin();
      for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->second.last_read < oldest->second.last_read) oldest = it;
      }
      entries_.erase(oldest);
    }
  }

  redis::Pool& pool_;
  const Build build_;
  const size_t max_counties_;
  absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  uint64_t reads_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace shidang::county_delta
