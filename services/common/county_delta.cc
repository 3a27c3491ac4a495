#include "services/common/county_delta.h"

#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/county_delta_scripts.h"
#include "services/common/mutation.h"
#include "services/common/status.h"

namespace shidang::county_delta {
namespace {

// Refreshes in a row that may find the counter moved by a record they did not read, before the
// county is read whole instead (a county written faster than it can be patched).
constexpr int kPatchAttempts = 4;

using Changed = std::set<std::pair<std::string, std::string>>;  // (kind, id)

const Mutation& WriteFactScript() {
  static const Mutation* script = new Mutation(common::lua::kWriteFact);
  return *script;
}

// The EXEC reply of `replies` (MULTI, ..., EXEC), its elements checked.
absl::StatusOr<redis::Reply> Executed(const std::vector<redis::Reply>& replies, size_t expect) {
  for (const redis::Reply& reply : replies) SHIDANG_RETURN_IF_ERROR(reply.ToStatus());
  const redis::Reply& exec = replies.back();
  if (!exec.is_array() || exec.size() != expect) {
    return absl::UnavailableError("the county's read was aborted");
  }
  for (size_t i = 0; i < exec.size(); ++i) SHIDANG_RETURN_IF_ERROR(exec[i].ToStatus());
  return exec;
}

// The counter's value (0: missing); INTERNAL when it is not a number.
absl::StatusOr<int64_t> Version(const redis::Reply& counter) {
  if (counter.is_nil()) return 0;
  int64_t value = 0;
  if (!absl::SimpleAtoi(counter.str(), &value)) {
    return absl::InternalError("a county's writes counter is not a number");
  }
  return value;
}

// The changes the log records in (from, to], or nullopt when it does not hold exactly one record
// for each of those versions, or names a kind the copy does not have.
std::optional<Changed> ChangesIn(const redis::Reply& log, int64_t from, int64_t to,
                                 const CountyKeys& keys) {
  if (to < from || to - from > kLogBound || log.size() != static_cast<size_t>(to - from)) {
    return std::nullopt;
  }
  Changed changed;
  int64_t expected = from + 1;
  for (size_t i = 0; i < log.size(); ++i, ++expected) {
    const absl::string_view entry = log[i].str();
    const size_t first = entry.find(':');
    const size_t second = first == absl::string_view::npos ? first : entry.find(':', first + 1);
    int64_t version = 0;
    if (second == absl::string_view::npos || !absl::SimpleAtoi(entry.substr(0, first), &version) ||
        version != expected) {
      return std::nullopt;
    }
    std::string kind(entry.substr(first + 1, second - first - 1));
    bool known = false;
    for (const Hash& h : keys.hashes) known = known || h.kind == kind;
    if (!known) return std::nullopt;
    changed.emplace(std::move(kind), std::string(entry.substr(second + 1)));
  }
  return changed;
}

absl::StatusOr<CountyRead> ReadWhole(redis::Pool& pool, const CountyKeys& keys) {
  std::vector<redis::Args> commands = {{"MULTI"}, {"GET", keys.counter}};
  for (const Hash& h : keys.hashes) commands.push_back({"HGETALL", h.key});
  commands.push_back({"EXEC"});
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, pool.Pipeline(commands));
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply exec, Executed(replies, 1 + keys.hashes.size()));
  CountyRead read;
  read.whole = true;
  read.replies = exec;
  SHIDANG_ASSIGN_OR_RETURN(read.version, Version(exec[0]));
  for (size_t h = 0; h < keys.hashes.size(); ++h) {
    const redis::Reply all = exec[1 + h];
    std::vector<Field>& fields = read.fields[keys.hashes[h].kind];
    fields.reserve(all.size() / 2);
    for (size_t i = 0; i + 1 < all.size(); i += 2) {
      fields.push_back(Field{std::string(all[i].str()), all[i + 1].str()});
    }
  }
  return read;
}

// One MULTI: the counter, the records above `from`, and the fields of `changed`.
absl::StatusOr<redis::Reply> ReadChanged(redis::Pool& pool, const CountyKeys& keys, int64_t from,
                                         const Changed& changed) {
  std::vector<redis::Args> commands = {
      {"MULTI"},
      {"GET", keys.counter},
      {"ZRANGEBYSCORE", keys.log, absl::StrCat("(", from), "+inf"}};
  for (const Hash& h : keys.hashes) {
    redis::Args hmget = {"HMGET", h.key};
    for (const auto& [kind, id] : changed) {
      if (kind == h.kind) hmget.push_back(id);
    }
    if (hmget.size() > 2) commands.push_back(std::move(hmget));
  }
  commands.push_back({"EXEC"});
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, pool.Pipeline(commands));
  return Executed(replies, commands.size() - 2);
}

// `changed`'s fields as ReadChanged's `exec` holds them, at `version`.
CountyRead Patch(const redis::Reply& exec, int64_t version, const CountyKeys& keys,
                 const Changed& changed) {
  CountyRead read;
  read.version = version;
  read.replies = exec;
  size_t next = 2;
  for (const Hash& h : keys.hashes) {
    std::vector<Field> fields;
    for (const auto& [kind, id] : changed) {
      if (kind == h.kind) fields.push_back(Field{id, std::nullopt});
    }
    if (fields.empty()) continue;
    const redis::Reply values = exec[next++];
    for (size_t i = 0; i < fields.size() && i < values.size(); ++i) {
      if (!values[i].is_nil()) fields[i].bytes = values[i].str();
    }
    read.fields[h.kind] = std::move(fields);
  }
  return read;
}

}  // namespace

const std::vector<Field>& CountyRead::Of(absl::string_view kind) const {
  static const std::vector<Field>* none = new std::vector<Field>();
  auto found = fields.find(std::string(kind));
  return found == fields.end() ? *none : found->second;
}

absl::StatusOr<std::optional<std::string>> ReadField(redis::Pool& pool, const std::string& key,
                                                     absl::string_view id) {
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply reply, pool.Command({"HGET", key, std::string(id)}));
  if (reply.is_nil()) return std::nullopt;
  return std::string(reply.str());
}

std::string FirstCounterValue() { return absl::StrCat(absl::ToUnixMicros(absl::Now())); }

absl::StatusOr<std::optional<CountyRead>> ReadSince(redis::Pool& pool, const CountyKeys& keys,
                                                    std::optional<int64_t> have) {
  if (!have.has_value()) return ReadWhole(pool, keys);
  SHIDANG_ASSIGN_OR_RETURN(
      std::vector<redis::Reply> replies,
      pool.Pipeline({{"MULTI"},
                     {"GET", keys.counter},
                     {"ZRANGEBYSCORE", keys.log, absl::StrCat("(", *have), "+inf"},
                     {"EXEC"}}));
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply exec, Executed(replies, 2));
  SHIDANG_ASSIGN_OR_RETURN(int64_t now, Version(exec[0]));
  if (now == *have) return std::nullopt;
  std::optional<Changed> changed = ChangesIn(exec[1], *have, now, keys);
  for (int attempt = 0; changed.has_value() && attempt < kPatchAttempts; ++attempt) {
    SHIDANG_ASSIGN_OR_RETURN(redis::Reply read, ReadChanged(pool, keys, now, *changed));
    SHIDANG_ASSIGN_OR_RETURN(int64_t after, Version(read[0]));
    std::optional<Changed> more = ChangesIn(read[1], now, after, keys);
    if (!more.has_value()) break;
    bool all_read = true;
    for (const auto& change : *more) all_read = all_read && changed->count(change) > 0;
    // The fields were read in the same MULTI as the counter: exactly its version.
    if (all_read) return Patch(read, after, keys, *changed);
    changed->insert(more->begin(), more->end());
    now = after;
  }
  return ReadWhole(pool, keys);
}

absl::Status WriteFact(redis::Pool& pool, const CountyKeys& keys, absl::string_view kind,
                       absl::string_view id, std::optional<std::string> bytes) {
  const Hash* hash = nullptr;
  for (const Hash& h : keys.hashes) {
    if (h.kind == kind) hash = &h;
  }
  if (hash == nullptr) {
    return absl::InternalError(absl::StrCat("county_delta: no hash of kind ", kind));
  }
  MutationRequest m;
  m.stream_key = keys.stream;
  m.keys = {hash->key, keys.counter, keys.log};
  const bool set = bytes.has_value();
  m.args = {std::string(kind), std::string(id),     set ? "1" : "0",
            set ? *bytes : "", FirstCounterValue(), absl::StrCat(kLogBound)};
  return WriteFactScript().Run(pool, m).status();
}

}  // namespace shidang::county_delta
