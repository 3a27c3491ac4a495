#include "services/profile/store.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/events.h"
#include "services/common/keys.h"
#include "services/common/parallel.h"
#include "services/common/principal.h"
#include "services/common/status.h"
#include "services/profile/background_release.h"
#include "services/profile/lua_scripts.h"

namespace shidang::profile {
namespace {

constexpr char kPrefix[] = "profile:";
// Below this many teachers per core, serialising them on one thread is cheaper than a thread.
constexpr size_t kSerializePerThread = 500;

// The scripts are in scripts/, one file each (what they take and answer in their headers).

const Mutation& CreateCountyScript() {
  static const Mutation* script = new Mutation(lua::kCreateCounty);
  return *script;
}

// K = [county, schools zset, ...]; A = [payload, n, then per school: id, school key index, name key
// index, code key index (0 = none), bytes, name, code].
const Mutation& CreateSchoolsScript() {
  static const Mutation* script = new Mutation(lua::kCreateSchools);
  return *script;
}

// K = [county, teachers zset, ...]; A = [payload, n, then per teacher (see WriteTeachers)].
const Mutation& WriteTeachersScript() {
  static const Mutation* script = new Mutation(lua::kWriteTeachers);
  return *script;
}

// New teachers only (CreateTeacher, a roster import, a transfer's arrival): the common case of a
// 10,000-row import, laid out in columns so the script indexes KEYS and ARGV directly instead of
// decoding a record per teacher, with the timeline's sequence numbers already in the entries
// (a new teacher's timeline starts at 1). Per teacher it makes one HSET and one RPUSH; claims and
// index sets go as few variadic commands. Every argument costs Redis a string object and the
// script a Lua string, so what can be counted or derived travels packed: per-teacher counts as
// one byte each in one string, a claim's owner from those counts, its field as an index into the
// few field names, an index set's members as 3-byte teacher positions, and "*" for a set every
// new teacher joins (the county's all-teachers set) instead of every id again.
//   K = [county, s index sets, n teacher hashes, n timelines, m claim keys (teacher by teacher)]
//   A = [payload, n, s, m, entry counts (n bytes), claim counts (n bytes), claim fields (m bytes,
//        1-based into the names), f, f field names, n ids, n profiles, n sealed ID cards,
//        the entries, s set members ("*" or 3-byte big-endian positions)]
const Mutation& CreateTeachersScript() {
  static const Mutation* script = new Mutation(lua::kCreateTeachers);
  return *script;
}

// Plain scripts on one owner record each (K = [owner]); see their headers.
const redis::Script& ClaimIdCardOwnerScript() {
  static const auto* script = new redis::Script(std::string(lua::kClaimIdCardOwner));
  return *script;
}
const redis::Script& ReleaseIdCardOwnerScript() {
  static const auto* script = new redis::Script(std::string(lua::kReleaseIdCardOwner));
  return *script;
}

// One EVALSHA per claim, after a SCRIPT LOAD on the same connection (so none answers NOSCRIPT),
// in one round trip; the replies of the EVALSHAs, each checked.
absl::StatusOr<std::vector<redis::Reply>> EvalPerClaim(
    redis::Pool& pool, const redis::Script& script, const std::vector<IdCardOwnerClaim>& claims,
    const std::function<redis::Args(const IdCardOwnerClaim&)>& args_of) {
  std::vector<redis::Args> commands;
  commands.reserve(claims.size() + 1);
  commands.push_back({"SCRIPT", "LOAD", script.source()});
  for (const IdCardOwnerClaim& claim : claims) {
    redis::Args command = {"EVALSHA", script.sha1(), "1",
                           ProfileStore::IdCardOwnerKey(claim.blind_index)};
    for (std::string& arg : args_of(claim)) command.push_back(std::move(arg));
    commands.push_back(std::move(command));
  }
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, pool.Pipeline(commands));
  for (const redis::Reply& reply : replies) SHIDANG_RETURN_IF_ERROR(reply.ToStatus());
  replies.erase(replies.begin());
  return replies;
}

// K = [summaries hash]; A = [field, summary bytes, as_of_ms]. Keeps the newest summary per field.
const Mutation& PutSummaryScript() {
  static const Mutation* script = new Mutation(lua::kPutSummary);
  return *script;
}

// Keys referenced by index from the script's arguments: each distinct key once.
class KeyList {
 public:
  explicit KeyList(std::vector<std::string> fixed) : keys_(std::move(fixed)) {
    for (size_t i = 0; i < keys_.size(); ++i) index_[keys_[i]] = i + 1;
  }
  std::string Ref(const std::string& key) {
    auto [it, inserted] = index_.emplace(key, keys_.size() + 1);
    if (inserted) keys_.push_back(key);
    return std::to_string(it->second);
  }
  redis::Args Take() { return std::move(keys_); }

 private:
  std::vector<std::string> keys_;
  std::map<std::string, size_t> index_;
};

absl::Status ParseInto(absl::string_view bytes, google::protobuf::Message* message,
                       absl::string_view what) {
  if (!message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(absl::StrCat("profile store: unreadable ", what));
  }
  return absl::OkStatus();
}

MutationRequest NewRequest(absl::string_view county_id, const WriteContext& write,
                           std::vector<common::v1::Event> events, absl::Status* status) {
  MutationRequest request;
  request.stream_key = ProfileStore::StreamKey(county_id);
  request.events = std::move(events);
  // An import publishes an event per teacher: one stream entry for them all, not 10,000 XADDs.
  request.one_stream_entry = request.events.size() > 1;
  // Every profile write publishes all its events or none (emit_all): serialized here as the
  // batch, not joined in Lua.
  request.all_events_as_one_batch = true;
  if (write.request != nullptr) {
    *status = AttachIdempotency(request, kServiceName, ProfileStore::Tag(county_id), write.actor,
                                write.method, *write.request);
  }
  return request;
}

// A roster's worth of teachers is one script by design (all or nothing): give it time, about
// 1 ms per teacher on a slow disk with appendfsync always; zero (the pool's timeout) for a few.
absl::Duration ScriptTimeout(size_t teachers) {
  if (teachers <= 100) return absl::ZeroDuration();
  return absl::Milliseconds(1000 + 2 * static_cast<int64_t>(teachers));
}

// Appends field 6 (sequence, a varint) of TimelineEntry to its serialized bytes; a field repeated
// later in the bytes wins when parsing, as with the Lua with_sequence of WriteTeachersScript.
void AppendSequence(int64_t sequence, std::string* bytes) {
  bytes->push_back(static_cast<char>(0x30));
  auto n = static_cast<uint64_t>(sequence);
  while (n >= 128) {
    bytes->push_back(static_cast<char>(n % 128 + 128));
    n /= 128;
  }
  bytes->push_back(static_cast<char>(n));
}

// ALREADY_EXISTS naming the field, as the scripts answer a claim held by another teacher.
absl::Status AlreadyRecorded(absl::string_view holder, absl::string_view field) {
  absl::Status status = absl::AlreadyExistsError("a claim of this write is taken");
  AddFieldViolation(&status, field, "exists",
                    absl::StrCat("already recorded for teacher ", holder));
  return status;
}

absl::StatusOr<MutationResult> RunWrite(
    redis::Pool& pool, const Mutation& script, absl::string_view county_id, MutationRequest request,
    const std::function<absl::Status()>& before_script = nullptr) {
  // Consumers find the county's stream through the index; registering is idempotent and happens
  // before the first write under the county's tag (events.h).
  SHIDANG_RETURN_IF_ERROR(RegisterStream(pool, kServiceName, request.stream_key));
  (void)county_id;
  // Pool::Eval sends EVALSHA and, on NOSCRIPT (a fresh or restarted Redis), everything again with
  // the script: for a roster's megabytes of arguments, loading it first (a few KiB, idempotent)
  // is cheaper than risking the second send.
  if (request.args.size() > 1000) {
    SHIDANG_RETURN_IF_ERROR(pool.Command({"SCRIPT", "LOAD", script.script().source()}).status());
  }
  if (before_script) SHIDANG_RETURN_IF_ERROR(before_script());
  absl::StatusOr<MutationResult> result = script.Run(pool, request);
  // A roster's keys, arguments and events (megabytes in ~100,000 strings) are freed off the
  // answer's path.
  if (request.args.size() > 1000) ReleaseInBackground(std::move(request));
  return result;
}

}  // namespace

ProfileStore::ProfileStore(redis::Pool& pool) : pool_(pool) {}

std::string ProfileStore::Tag(absl::string_view county_id) { return keys::HashTag("c", county_id); }
std::string ProfileStore::CountyKey(absl::string_view c) {
  return absl::StrCat(kPrefix, Tag(c), ":county");
}
std::string ProfileStore::SchoolKey(absl::string_view c, absl::string_view id) {
  return absl::StrCat(kPrefix, Tag(c), ":school:", id);
}
std::string ProfileStore::SchoolsKey(absl::string_view c) {
  return absl::StrCat(kPrefix, Tag(c), ":schools");
}
std::string ProfileStore::SchoolNameKey(absl::string_view c, absl::string_view name) {
  return absl::StrCat(kPrefix, Tag(c), ":school-name:", name);
}
std::string ProfileStore::SchoolCodeKey(absl::string_view c, absl::string_view code) {
  return absl::StrCat(kPrefix, Tag(c), ":school-code:", code);
}
std::string ProfileStore::TeacherKey(absl::string_view c, absl::string_view id) {
  return absl::StrCat(kPrefix, Tag(c), ":t:", id);
}
std::string ProfileStore::TimelineKey(absl::string_view c, absl::string_view id) {
  return absl::StrCat(kPrefix, Tag(c), ":tl:", id);
}
std::string ProfileStore::TeachersKey(absl::string_view c) {
  return absl::StrCat(kPrefix, Tag(c), ":teachers");
}
std::string ProfileStore::SchoolIndexKey(absl::string_view c, absl::string_view school_id) {
  return absl::StrCat(kPrefix, Tag(c), ":ix:school:", school_id);
}
std::string ProfileStore::IdCardIndexKey(absl::string_view c, absl::string_view blind) {
  return absl::StrCat(kPrefix, Tag(c), ":idc:", blind);
}
std::string ProfileStore::NationalIdKey(absl::string_view c, absl::string_view national_id) {
  return absl::StrCat(kPrefix, Tag(c), ":ntid:", national_id);
}
std::string ProfileStore::SummariesKey(absl::string_view c, absl::string_view id) {
  return absl::StrCat(kPrefix, Tag(c), ":sum:", id);
}
std::string ProfileStore::HomeKey(absl::string_view teacher_id) {
  return absl::StrCat(kPrefix, keys::HashTag("t", teacher_id), ":home");
}
std::string ProfileStore::IdCardOwnerKey(absl::string_view blind_index) {
  return absl::StrCat(kPrefix, keys::HashTag("idc", blind_index), ":owner");
}
std::string ProfileStore::IdCardOwnersBackfilledKey() {
  return absl::StrCat(kPrefix, "idc-owners-backfilled");
}
std::string ProfileStore::CountiesKey() { return absl::StrCat(kPrefix, "counties"); }
std::string ProfileStore::StreamKey(absl::string_view c) {
  return keys::StreamKey(kServiceName, Tag(c));
}

absl::StatusOr<v1::County> ProfileStore::CreateCounty(const v1::County& county,
                                                      const WriteContext& write,
                                                      std::vector<common::v1::Event> events) {
  absl::Status status;
  MutationRequest request = NewRequest(county.county_id(), write, std::move(events), &status);
  SHIDANG_RETURN_IF_ERROR(status);
  // Listed first: a listing that finds a county code with no county skips it.
  SHIDANG_RETURN_IF_ERROR(pool_.Command({"SADD", CountiesKey(), county.county_id()}).status());
  request.keys = {CountyKey(county.county_id())};
  request.args = {county.SerializeAsString(), county.county_id()};
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result,
                           RunWrite(pool_, CreateCountyScript(), county.county_id(), request));
  v1::County stored;
  SHIDANG_RETURN_IF_ERROR(ParseInto(result.payload, &stored, "county"));
  return stored;
}

absl::StatusOr<v1::County> ProfileStore::GetCounty(absl::string_view county_id) {
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply reply, pool_.Command({"GET", CountyKey(county_id)}));
  if (reply.is_nil()) {
    return absl::NotFoundError(absl::StrCat("county ", county_id, " not found"));
  }
  v1::County county;
  SHIDANG_RETURN_IF_ERROR(ParseInto(reply.str(), &county, "county"));
  return county;
}

absl::StatusOr<std::vector<std::string>> ProfileStore::CountiesUnder(absl::string_view region) {
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply reply, pool_.Command({"SMEMBERS", CountiesKey()}));
  std::vector<std::string> out;
  for (size_t i = 0; i < reply.size(); ++i) {
    std::string county(reply[i].str());
    if (county == region || RegionCovers(region, county)) out.push_back(county);
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<MutationResult> ProfileStore::CreateSchools(absl::string_view county_id,
                                                           const std::vector<v1::School>& schools,
                                                           const WriteContext& write,
                                                           std::vector<common::v1::Event> events,
                                                           absl::string_view payload) {
  absl::Status status;
  MutationRequest request = NewRequest(county_id, write, std::move(events), &status);
  SHIDANG_RETURN_IF_ERROR(status);
  KeyList keys({CountyKey(county_id), SchoolsKey(county_id)});
  request.args = {std::string(payload), std::to_string(schools.size())};
  for (const v1::School& school : schools) {
    request.args.push_back(school.school_id());
    request.args.push_back(keys.Ref(SchoolKey(county_id, school.school_id())));
    request.args.push_back(keys.Ref(SchoolNameKey(county_id, school.name())));
    request.args.push_back(school.school_code().empty()
                               ? "0"
                               : keys.Ref(SchoolCodeKey(county_id, school.school_code())));
    request.args.push_back(school.SerializeAsString());
    request.args.push_back(school.name());
    request.args.push_back(school.school_code());
  }
  request.keys = keys.Take();
  return RunWrite(pool_, CreateSchoolsScript(), county_id, std::move(request));
}

absl::StatusOr<v1::School> ProfileStore::GetSchool(absl::string_view school_id) {
  // School ids carry their county ("S<county>-..."): a school never changes county.
  if (school_id.size() < 8 || school_id[0] != 'S') {
    return absl::NotFoundError(absl::StrCat("school ", school_id, " not found"));
  }
  absl::string_view county = school_id.substr(1, 6);
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply reply,
                           pool_.Command({"GET", SchoolKey(county, school_id)}));
  if (reply.is_nil()) return absl::NotFoundError(absl::StrCat("school ", school_id, " not found"));
  v1::School school;
  SHIDANG_RETURN_IF_ERROR(ParseInto(reply.str(), &school, "school"));
  return school;
}

absl::StatusOr<std::vector<v1::School>> ProfileStore::ListSchools(absl::string_view county_id) {
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply ids,
                           pool_.Command({"ZRANGE", SchoolsKey(county_id), "0", "-1"}));
  std::vector<redis::Args> gets;
  for (size_t i = 0; i < ids.size(); ++i) {
    gets.push_back({"GET", SchoolKey(county_id, ids[i].str())});
  }
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, pool_.Pipeline(gets));
  std::vector<v1::School> schools;
  for (const redis::Reply& reply : replies) {
    SHIDANG_RETURN_IF_ERROR(reply.ToStatus());
    if (reply.is_nil()) continue;
    v1::School school;
    SHIDANG_RETURN_IF_ERROR(ParseInto(reply.str(), &school, "school"));
    schools.push_back(std::move(school));
  }
  return schools;
}

absl::StatusOr<std::string> ProfileStore::HomeCounty(absl::string_view teacher_id) {
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply reply, pool_.Command({"GET", HomeKey(teacher_id)}));
  if (reply.is_nil()) {
    return absl::NotFoundError(absl::StrCat("teacher ", teacher_id, " not found"));
  }
  return std::string(reply.str());
}

absl::Status ProfileStore::SetHomeCounty(absl::string_view teacher_id,
                                         absl::string_view county_id) {
  return pool_.Command({"SET", HomeKey(teacher_id), std::string(county_id)}).status();
}

absl::StatusOr<bool> ProfileStore::SetNewHomeCounty(absl::string_view teacher_id,
                                                    absl::string_view county_id) {
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply reply, pool_.Command({"SET", HomeKey(teacher_id),
                                                              std::string(county_id), "NX"}));
  return !reply.is_nil();
}

absl::Status ProfileStore::ForgetNewHomeCounty(absl::string_view teacher_id,
                                               absl::string_view county_id) {
  // Only while it still names this county: one SET NX answered is this call's to take back.
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply current, pool_.Command({"GET", HomeKey(teacher_id)}));
  if (current.is_nil() || current.str() != county_id) return absl::OkStatus();
  return pool_.Command({"DEL", HomeKey(teacher_id)}).status();
}

absl::StatusOr<std::vector<StoredTeacher>> ProfileStore::GetTeachers(
    absl::string_view county_id, const std::vector<std::string>& ids) {
  std::vector<redis::Args> commands;
  for (const std::string& id : ids) {
    commands.push_back({"HGETALL", TeacherKey(county_id, id)});
    commands.push_back({"LRANGE", TimelineKey(county_id, id), "0", "-1"});
    commands.push_back({"HGETALL", SummariesKey(county_id, id)});
  }
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, pool_.Pipeline(commands));
  std::vector<StoredTeacher> out;
  for (size_t t = 0; t < ids.size(); ++t) {
    const redis::Reply& hash = replies[3 * t];
    const redis::Reply& timeline = replies[3 * t + 1];
    const redis::Reply& summaries = replies[3 * t + 2];
    SHIDANG_RETURN_IF_ERROR(hash.ToStatus());
    SHIDANG_RETURN_IF_ERROR(timeline.ToStatus());
    SHIDANG_RETURN_IF_ERROR(summaries.ToStatus());
    if (hash.size() == 0) continue;
    StoredTeacher stored;
    for (size_t i = 0; i + 1 < hash.size(); i += 2) {
      absl::string_view field = hash[i].str();
      if (field == "p") {
        SHIDANG_RETURN_IF_ERROR(ParseInto(hash[i + 1].str(), &stored.teacher, "teacher"));
      } else if (field == "idc") {
        stored.sealed_id_card = std::string(hash[i + 1].str());
      } else if (field == "v") {
        stored.version = hash[i + 1].integer();
      }
    }
    for (size_t i = 0; i < timeline.size(); ++i) {
      v1::TimelineEntry entry;
      SHIDANG_RETURN_IF_ERROR(ParseInto(timeline[i].str(), &entry, "timeline entry"));
      stored.timeline.push_back(std::move(entry));
    }
    for (size_t i = 0; i + 1 < summaries.size(); i += 2) {
      if (absl::EndsWith(summaries[i].str(), "@t")) continue;
      v1::ServiceSummary summary;
      SHIDANG_RETURN_IF_ERROR(ParseInto(summaries[i + 1].str(), &summary, "summary"));
      stored.summaries.push_back(std::move(summary));
    }
    out.push_back(std::move(stored));
  }
  return out;
}

absl::StatusOr<StoredTeacher> ProfileStore::GetTeacher(absl::string_view county_id,
                                                       absl::string_view teacher_id) {
  SHIDANG_ASSIGN_OR_RETURN(std::vector<StoredTeacher> found,
                           GetTeachers(county_id, {std::string(teacher_id)}));
  if (found.empty()) return absl::NotFoundError(absl::StrCat("teacher ", teacher_id, " not found"));
  return std::move(found[0]);
}

absl::StatusOr<std::vector<std::string>> ProfileStore::TeacherIds(absl::string_view county_id,
                                                                  absl::string_view school_id,
                                                                  absl::string_view after,
                                                                  int limit) {
  std::string key =
      school_id.empty() ? TeachersKey(county_id) : SchoolIndexKey(county_id, school_id);
  std::string from = after.empty() ? "-" : absl::StrCat("(", after);
  SHIDANG_ASSIGN_OR_RETURN(
      redis::Reply reply,
      pool_.Command({"ZRANGE", key, from, "+", "BYLEX", "LIMIT", "0", std::to_string(limit)}));
  std::vector<std::string> ids;
  for (size_t i = 0; i < reply.size(); ++i) ids.emplace_back(reply[i].str());
  return ids;
}

absl::StatusOr<std::vector<std::string>> ProfileStore::ClaimHolders(
    const std::vector<std::string>& keys) {
  // MGET, 1,000 keys per command, all in one round trip (a roster asks for 20,000). The keys of
  // one call share the county's hash tag.
  constexpr size_t kPerCommand = 1000;
  std::vector<redis::Args> gets;
  for (size_t first = 0; first < keys.size(); first += kPerCommand) {
    redis::Args& mget = gets.emplace_back();
    const size_t last = std::min(keys.size(), first + kPerCommand);
    mget.reserve(1 + last - first);
    mget.push_back("MGET");
    mget.insert(mget.end(), keys.begin() + static_cast<std::ptrdiff_t>(first),
                keys.begin() + static_cast<std::ptrdiff_t>(last));
  }
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, pool_.Pipeline(gets));
  std::vector<std::string> holders;
  holders.reserve(keys.size());
  for (const redis::Reply& reply : replies) {
    SHIDANG_RETURN_IF_ERROR(reply.ToStatus());
    for (size_t i = 0; i < reply.size(); ++i) {
      redis::Reply holder = reply[i];
      holders.emplace_back(holder.is_nil() ? "" : holder.str());
    }
  }
  if (holders.size() != keys.size()) return absl::InternalError("MGET answered a short list");
  return holders;
}

namespace {

// The index sets of a batch of new teachers in first-seen order with their members (1-based
// positions in the batch; a teacher is a member at most once per set), and the counts of entries
// and claims.
struct NewTeachersLayout {
  std::vector<std::pair<const std::string*, std::vector<size_t>>> sets;
  size_t entries = 0;
  size_t claims = 0;
};

// Checks that every write is a new teacher within the script's limits and that no two claim the
// same key (so the script only asks Redis about holders), and lays out the sets.
absl::StatusOr<NewTeachersLayout> LayOutNewTeachers(const std::vector<TeacherWrite>& writes) {
  const size_t n = writes.size();
  if (n >= (size_t{1} << 24)) {
    return absl::InternalError("profile store: too many teachers for one write");
  }
  NewTeachersLayout layout;
  absl::flat_hash_map<absl::string_view, size_t> set_index;
  absl::flat_hash_map<absl::string_view, const std::string*> claim_owner;
  claim_owner.reserve(2 * n);
  // Rows come school by school and every teacher joins the county's set: the set a teacher's
  // k-th key named last time is usually the one it names now, found without hashing.
  std::vector<size_t> last_set;
  for (size_t position = 1; position <= n; ++position) {
    const TeacherWrite& w = writes[position - 1];
    if (w.expect != TeacherWrite::Expect::kAbsent || !w.teacher || !w.remove_from_sets.empty() ||
        !w.release_claims.empty() || w.entries.size() > 255 || w.claims.size() > 255) {
      return absl::InternalError(
          "profile store: CreateTeachers takes new teachers only, with at most 255 timeline "
          "entries and 255 claims each (their counts travel as one byte)");
    }
    layout.entries += w.entries.size();
    if (last_set.size() < w.add_to_sets.size()) last_set.resize(w.add_to_sets.size(), SIZE_MAX);
    for (size_t k = 0; k < w.add_to_sets.size(); ++k) {
      const std::string& key = w.add_to_sets[k];
      size_t index = last_set[k];
      if (index == SIZE_MAX || *layout.sets[index].first != key) {
        auto [it, fresh] = set_index.emplace(key, layout.sets.size());
        if (fresh) layout.sets.emplace_back(&key, std::vector<size_t>());
        index = last_set[k] = it->second;
      }
      std::vector<size_t>& members = layout.sets[index].second;
      if (members.empty() || members.back() != position) members.push_back(position);
    }
    for (const TeacherWrite::Claim& claim : w.claims) {
      auto [it, fresh] = claim_owner.emplace(claim.key, &w.teacher_id);
      if (!fresh && *it->second != w.teacher_id) {
        return AlreadyRecorded(*it->second, claim.field);
      }
      ++layout.claims;
    }
  }
  return layout;
}

// Per teacher, one byte each: its entry count and claim count; per claim, the 1-based index of
// its field name in `field_names` (the few names there are, two today, each found by a short
// scan).
struct PackedCounts {
  std::string entry_counts, claim_counts, claim_fields;
  std::vector<const std::string*> field_names;
};

absl::StatusOr<PackedCounts> PackCounts(const std::vector<TeacherWrite>& writes) {
  PackedCounts packed;
  for (const TeacherWrite& w : writes) {
    packed.entry_counts.push_back(static_cast<char>(w.entries.size()));
    packed.claim_counts.push_back(static_cast<char>(w.claims.size()));
    for (const TeacherWrite::Claim& claim : w.claims) {
      std::vector<const std::string*>& names = packed.field_names;
      size_t index = 0;
      while (index < names.size() && *names[index] != claim.field) ++index;
      if (index == names.size()) {
        if (names.size() == 255) {
          return absl::InternalError("profile store: more than 255 claim fields in one write");
        }
        names.push_back(&claim.field);
      }
      packed.claim_fields.push_back(static_cast<char>(index + 1));
    }
  }
  return packed;
}

// Appends the ids, then the profiles, sealed ID-card numbers and entries (each entry with its
// sequence), the profiles and entries serialised on every core into their places in `args`.
void AppendTeachers(const std::vector<TeacherWrite>& writes, size_t entries, redis::Args& args) {
  const size_t n = writes.size();
  for (const TeacherWrite& w : writes) args.push_back(w.teacher_id);
  const size_t profile0 = args.size();
  args.resize(profile0 + n);
  for (const TeacherWrite& w : writes) args.push_back(w.sealed_id_card);
  const size_t entry0 = args.size();
  std::vector<size_t> first_entry(n + 1, 0);  // teacher i's entries: [first_entry[i], [i + 1])
  for (size_t i = 0; i < n; ++i) first_entry[i + 1] = first_entry[i] + writes[i].entries.size();
  args.resize(entry0 + entries);
  ForEachSlice(n, kSerializePerThread, [&](size_t, size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      args[profile0 + i] = writes[i].teacher->SerializeAsString();
      int64_t sequence = 0;
      for (const v1::TimelineEntry& entry : writes[i].entries) {
        std::string& bytes = args[entry0 + first_entry[i] + static_cast<size_t>(sequence)];
        bytes = entry.SerializeAsString();
        AppendSequence(++sequence, &bytes);
      }
    }
  });
}

// Appends each set's members: "*" when every teacher of the batch joins it, else their
// positions packed in 3 bytes each.
void AppendSetMembers(const NewTeachersLayout& layout, size_t n, redis::Args& args) {
  for (const auto& set : layout.sets) {
    const std::vector<size_t>& positions = set.second;
    bool everyone = positions.size() == n;
    for (size_t k = 0; everyone && k < n; ++k) everyone = positions[k] == k + 1;
    if (everyone) {
      args.push_back("*");
      continue;
    }
    std::string& packed = args.emplace_back();
    packed.reserve(3 * positions.size());
    for (size_t position : positions) {
      packed.push_back(static_cast<char>((position >> 16) & 0xff));
      packed.push_back(static_cast<char>((position >> 8) & 0xff));
      packed.push_back(static_cast<char>(position & 0xff));
    }
  }
}

}  // namespace

absl::StatusOr<MutationResult> ProfileStore::CreateTeachers(
    absl::string_view county_id, const std::vector<TeacherWrite>& writes, const WriteContext& write,
    std::vector<common::v1::Event> events, absl::string_view payload,
    const std::function<absl::Status()>& before_script) {
  absl::Status status;
  MutationRequest request = NewRequest(county_id, write, std::move(events), &status);
  SHIDANG_RETURN_IF_ERROR(status);
  const size_t n = writes.size();
  SHIDANG_ASSIGN_OR_RETURN(NewTeachersLayout layout, LayOutNewTeachers(writes));

  redis::Args& keys = request.keys;
  keys.reserve(1 + layout.sets.size() + 2 * n + layout.claims);
  keys.push_back(CountyKey(county_id));
  for (const auto& set : layout.sets) keys.push_back(*set.first);
  for (const TeacherWrite& w : writes) keys.push_back(TeacherKey(county_id, w.teacher_id));
  for (const TeacherWrite& w : writes) keys.push_back(TimelineKey(county_id, w.teacher_id));
  for (const TeacherWrite& w : writes) {
    for (const TeacherWrite::Claim& claim : w.claims) keys.push_back(claim.key);
  }

  SHIDANG_ASSIGN_OR_RETURN(PackedCounts counts, PackCounts(writes));
  redis::Args& args = request.args;
  args.reserve(8 + counts.field_names.size() + 3 * n + layout.entries + layout.sets.size());
  args.push_back(std::string(payload));
  args.push_back(std::to_string(n));
  args.push_back(std::to_string(layout.sets.size()));
  args.push_back(std::to_string(layout.claims));
  args.push_back(std::move(counts.entry_counts));
  args.push_back(std::move(counts.claim_counts));
  args.push_back(std::move(counts.claim_fields));
  args.push_back(std::to_string(counts.field_names.size()));
  for (const std::string* name : counts.field_names) args.push_back(*name);
  AppendTeachers(writes, layout.entries, args);
  AppendSetMembers(layout, n, args);
  request.timeout = ScriptTimeout(n);
  return RunWrite(pool_, CreateTeachersScript(), county_id, std::move(request), before_script);
}

absl::StatusOr<MutationResult> ProfileStore::WriteTeachers(
    absl::string_view county_id, const std::vector<TeacherWrite>& writes, const WriteContext& write,
    std::vector<common::v1::Event> events, absl::string_view payload,
    const std::function<absl::Status()>& before_script) {
  const bool all_new =
      !writes.empty() && std::all_of(writes.begin(), writes.end(), [](const TeacherWrite& w) {
        return w.expect == TeacherWrite::Expect::kAbsent && w.teacher &&
               w.remove_from_sets.empty() && w.release_claims.empty() && w.entries.size() <= 255 &&
               w.claims.size() <= 255;
      });
  if (all_new) {
    return CreateTeachers(county_id, writes, write, std::move(events), payload, before_script);
  }
  absl::Status status;
  MutationRequest request = NewRequest(county_id, write, std::move(events), &status);
  SHIDANG_RETURN_IF_ERROR(status);
  KeyList keys({CountyKey(county_id), TeachersKey(county_id)});
  redis::Args& args = request.args;
  args = {std::string(payload), std::to_string(writes.size())};
  for (const TeacherWrite& w : writes) {
    args.push_back(w.teacher_id);
    args.push_back(keys.Ref(TeacherKey(county_id, w.teacher_id)));
    args.push_back(keys.Ref(TimelineKey(county_id, w.teacher_id)));
    switch (w.expect) {
      case TeacherWrite::Expect::kAbsent:
        args.push_back("absent");
        break;
      case TeacherWrite::Expect::kPresent:
        args.push_back("present");
        break;
      case TeacherWrite::Expect::kVersion:
        args.push_back("version");
        break;
    }
    args.push_back(std::to_string(w.expected_version));
    args.push_back(w.teacher ? w.teacher->SerializeAsString() : "");
    args.push_back(w.sealed_id_card);
    args.push_back(std::to_string(w.entries.size()));
    for (const v1::TimelineEntry& entry : w.entries) args.push_back(entry.SerializeAsString());
    args.push_back(std::to_string(w.claims.size()));
    for (const TeacherWrite::Claim& claim : w.claims) {
      args.push_back(keys.Ref(claim.key));
      args.push_back(claim.field);
    }
    for (const auto* list : {&w.add_to_sets, &w.remove_from_sets, &w.release_claims}) {
      args.push_back(std::to_string(list->size()));
      for (const std::string& key : *list) args.push_back(keys.Ref(key));
    }
  }
  request.keys = keys.Take();
  request.timeout = ScriptTimeout(writes.size());
  return RunWrite(pool_, WriteTeachersScript(), county_id, std::move(request), before_script);
}

absl::StatusOr<std::vector<IdCardOwnerReply>> ProfileStore::ClaimIdCardOwners(
    const std::vector<IdCardOwnerClaim>& claims) {
  if (claims.empty()) return std::vector<IdCardOwnerReply>();
  SHIDANG_ASSIGN_OR_RETURN(
      std::vector<redis::Reply> replies,
      EvalPerClaim(pool_, ClaimIdCardOwnerScript(), claims, [](const IdCardOwnerClaim& claim) {
        return redis::Args{claim.teacher_id, claim.replaces};
      }));
  std::vector<IdCardOwnerReply> out(claims.size());
  for (size_t i = 0; i < replies.size(); ++i) {
    const redis::Reply& reply = replies[i];
    const absl::string_view outcome = reply.size() > 0 ? reply[0].str() : "";
    int64_t age_ms = 0;
    if (outcome == "claimed") {
      out[i].outcome = IdCardOwnerReply::Outcome::kClaimed;
    } else if (outcome == "held") {
      out[i].outcome = IdCardOwnerReply::Outcome::kHeld;
    } else if (outcome == "taken" && reply.size() == 3 &&
               absl::SimpleAtoi(reply[2].str(), &age_ms)) {
      out[i].outcome = IdCardOwnerReply::Outcome::kTaken;
      out[i].holder = std::string(reply[1].str());
      out[i].age = absl::Milliseconds(age_ms);
    } else {
      return absl::InternalError("claim_id_card_owner.lua answered something else");
    }
  }
  return out;
}

absl::StatusOr<std::vector<IdCardOwnerReply>> ProfileStore::ProbeIdCardOwners(
    const std::vector<IdCardOwnerClaim>& claims) {
  std::vector<IdCardOwnerReply> out(claims.size());
  if (claims.empty()) return out;
  std::vector<redis::Args> commands;
  commands.reserve(claims.size() + 1);
  commands.push_back({"TIME"});  // the clock claim_id_card_owner.lua stamps claims with
  for (const IdCardOwnerClaim& claim : claims) {
    commands.push_back({"HMGET", IdCardOwnerKey(claim.blind_index), "t", "at"});
  }
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, pool_.Pipeline(commands));
  for (const redis::Reply& reply : replies) SHIDANG_RETURN_IF_ERROR(reply.ToStatus());
  int64_t seconds = 0, micros = 0;
  if (replies[0].size() != 2 || !absl::SimpleAtoi(replies[0][0].str(), &seconds) ||
      !absl::SimpleAtoi(replies[0][1].str(), &micros)) {
    return absl::InternalError("TIME answered something else");
  }
  const int64_t now_ms = seconds * 1000 + micros / 1000;
  for (size_t i = 0; i < claims.size(); ++i) {
    const redis::Reply owner = replies[i + 1];
    if (owner.size() != 2 || owner[0].is_nil()) continue;  // kFree
    if (owner[0].str() == claims[i].teacher_id) {
      out[i].outcome = IdCardOwnerReply::Outcome::kHeld;
      continue;
    }
    int64_t at = 0;
    if (!owner[1].is_nil()) (void)absl::SimpleAtoi(owner[1].str(), &at);
    out[i].outcome = IdCardOwnerReply::Outcome::kTaken;
    out[i].holder = std::string(owner[0].str());
    out[i].age = absl::Milliseconds(now_ms - at);
  }
  return out;
}

absl::Status ProfileStore::ReleaseIdCardOwners(const std::vector<IdCardOwnerClaim>& claims) {
  if (claims.empty()) return absl::OkStatus();
  return EvalPerClaim(pool_, ReleaseIdCardOwnerScript(), claims,
                      [](const IdCardOwnerClaim& claim) { return redis::Args{claim.teacher_id}; })
      .status();
}

absl::StatusOr<std::vector<std::string>> ProfileStore::SealedIdCardsAtHome(
    const std::vector<std::string>& teacher_ids) {
  std::vector<std::string> sealed(teacher_ids.size());
  if (teacher_ids.empty()) return sealed;
  std::vector<redis::Args> homes;
  homes.reserve(teacher_ids.size());
  for (const std::string& id : teacher_ids) homes.push_back({"GET", HomeKey(id)});
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> counties, pool_.Pipeline(homes));
  std::vector<redis::Args> reads;
  std::vector<size_t> read_of;
  for (size_t i = 0; i < counties.size(); ++i) {
    SHIDANG_RETURN_IF_ERROR(counties[i].ToStatus());
    if (counties[i].is_nil()) continue;
    reads.push_back({"HGET", TeacherKey(counties[i].str(), teacher_ids[i]), "idc"});
    read_of.push_back(i);
  }
  if (reads.empty()) return sealed;
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> values, pool_.Pipeline(reads));
  for (size_t k = 0; k < values.size(); ++k) {
    SHIDANG_RETURN_IF_ERROR(values[k].ToStatus());
    if (!values[k].is_nil()) sealed[read_of[k]] = std::string(values[k].str());
  }
  return sealed;
}

absl::Status ProfileStore::PutSummary(absl::string_view county_id, absl::string_view teacher_id,
                                      const v1::ServiceSummary& summary,
                                      const WriteContext& write) {
  absl::Status status;
  MutationRequest request = NewRequest(county_id, write, {}, &status);
  SHIDANG_RETURN_IF_ERROR(status);
  request.keys = {SummariesKey(county_id, teacher_id)};
  request.args = {absl::StrCat(summary.source(), "/", summary.kind()), summary.SerializeAsString(),
                  std::to_string(summary.as_of_ms())};
  return RunWrite(pool_, PutSummaryScript(), county_id, std::move(request)).status();
}

}  // namespace shidang::profile
