// The review queue's index (store.h: training:{c:<c>}:pending): reading it with whom each record
// is from, and building it once for records written before it existed.

#include <map>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/common/dates.h"
#include "services/common/status.h"
#include "services/training/lua_scripts.h"
#include "services/training/store.h"

namespace shidang::training {
namespace {

constexpr char kPrefix[] = "training:";

// K = [pending, built mark, then states keys by index]; A = [n, awaited state, then per
// candidate: states idx, record id, score]. Adds each still awaiting review; marks built.
const Mutation& IndexPendingScript() {
  static const Mutation* script = new Mutation(lua::kIndexPending);
  return *script;
}

std::string Field(const redis::Reply& r, size_t k) {
  return r.size() > k && !r[k].is_nil() ? std::string(r[k].str()) : std::string();
}

// ZRANGE ... WITHSCORES (RESP2: member, score, member, score ...) as entries.
std::vector<PendingEntry> EntriesOf(const redis::Reply& range) {
  std::vector<PendingEntry> out;
  for (size_t i = 0; i + 1 < range.size(); i += 2) {
    double score = 0;
    if (!absl::SimpleAtod(range[i + 1].str(), &score)) score = 0;
    PendingEntry e;
    e.record_id = std::string(range[i].str());
    e.submitted_ms = static_cast<int64_t>(score);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

std::string TrainingStore::PendingKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":pending");
}
std::string TrainingStore::PendingBuiltKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":pending-built");
}

int64_t TrainingStore::LoggedOnMillis(const v1::TrainingRecord& record) {
  absl::StatusOr<absl::CivilDay> day = dates::ParseDate(record.logged_on(), "logged_on");
  if (!day.ok()) return 0;
  return absl::ToUnixMillis(absl::FromCivil(*day, absl::UTCTimeZone()));
}

// Reads every teacher's record states, then the records awaiting review among them (their
// logged_on day is their score), and adds those still awaiting in one script.
absl::Status TrainingStore::BuildPendingIndex(absl::string_view c) {
  SHIDANG_ASSIGN_OR_RETURN(std::vector<std::string> teachers, TeacherIds(c));
  const std::string awaited = std::to_string(v1::TRAINING_RECORD_STATE_AWAITING_REVIEW);
  std::vector<redis::Args> reads;
  reads.reserve(teachers.size());
  for (const std::string& t : teachers) reads.push_back({"HGETALL", RecordStatesKey(c, t)});
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> states, pool_.Pipeline(reads));
  std::vector<redis::Args> record_reads;
  std::vector<std::pair<std::string, std::string>> candidates;  // teacher, record id
  for (size_t i = 0; i < teachers.size(); ++i) {
    SHIDANG_RETURN_IF_ERROR(states[i].ToStatus());
    for (size_t k = 0; k + 1 < states[i].size(); k += 2) {
      if (states[i][k + 1].str() != awaited) continue;
      candidates.emplace_back(teachers[i], std::string(states[i][k].str()));
      record_reads.push_back({"HGET", RecordsKey(c, teachers[i]), candidates.back().second});
    }
  }
  std::vector<redis::Reply> records;
  if (!record_reads.empty()) {
    SHIDANG_ASSIGN_OR_RETURN(records, pool_.Pipeline(record_reads));
  }
  MutationRequest request;
  request.stream_key = CountyStreamKey(c);
  request.keys = {PendingKey(c), PendingBuiltKey(c)};
  request.args = {std::to_string(candidates.size()), awaited};
  std::map<std::string, size_t> key_index;
  for (size_t i = 0; i < candidates.size(); ++i) {
    v1::TrainingRecord record;
    if (!records[i].is_nil()) record.ParseFromString(std::string(records[i].str()));
    const std::string states_key = RecordStatesKey(c, candidates[i].first);
    auto [it, added] = key_index.emplace(states_key, request.keys.size() + 1);
    if (added) request.keys.push_back(states_key);
    request.args.push_back(std::to_string(it->second));
    request.args.push_back(candidates[i].second);
    request.args.push_back(std::to_string(LoggedOnMillis(record)));
  }
  return RunWrite(IndexPendingScript(), request).status();
}

absl::StatusOr<std::vector<PendingEntry>> TrainingStore::PendingSelfReports(absl::string_view c) {
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply built, pool_.Command({"EXISTS", PendingBuiltKey(c)}));
  SHIDANG_RETURN_IF_ERROR(built.ToStatus());
  if (built.integer() == 0) SHIDANG_RETURN_IF_ERROR(BuildPendingIndex(c));
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply range,
                           pool_.Command({"ZRANGE", PendingKey(c), "0", "-1", "WITHSCORES"}));
  SHIDANG_RETURN_IF_ERROR(range.ToStatus());
  std::vector<PendingEntry> entries = EntriesOf(range);
  if (entries.empty()) return entries;
  redis::Args teacher_of = {"HMGET", RecordTeacherKey(c)};
  for (const PendingEntry& e : entries) teacher_of.push_back(e.record_id);
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply teachers, pool_.Command(teacher_of));
  SHIDANG_RETURN_IF_ERROR(teachers.ToStatus());
  std::map<std::string, std::pair<std::string, std::string>> facts;  // name, school
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].teacher_id = Field(teachers, i);
    facts.emplace(entries[i].teacher_id, std::pair<std::string, std::string>());
  }
  std::vector<redis::Args> reads;
  for (const auto& [teacher, unused] : facts) {
    reads.push_back({"HMGET", FactsKey(c, teacher), "name", "school"});
  }
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, pool_.Pipeline(reads));
  size_t i = 0;
  for (auto& [teacher, name_school] : facts) {
    SHIDANG_RETURN_IF_ERROR(replies[i].ToStatus());
    name_school = {Field(replies[i], 0), Field(replies[i], 1)};
    ++i;
  }
  for (PendingEntry& e : entries) {
    e.name = facts[e.teacher_id].first;
    e.school_id = facts[e.teacher_id].second;
  }
  return entries;
}

absl::StatusOr<std::vector<v1::TrainingRecord>> TrainingStore::PendingRecords(
    absl::string_view c, const std::vector<PendingEntry>& entries) {
  std::vector<v1::TrainingRecord> out;
  if (entries.empty()) return out;
  std::vector<redis::Args> reads;
  reads.reserve(entries.size());
  for (const PendingEntry& e : entries) {
    reads.push_back({"HGET", RecordsKey(c, e.teacher_id), e.record_id});
  }
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, pool_.Pipeline(reads));
  for (const redis::Reply& r : replies) {
    SHIDANG_RETURN_IF_ERROR(r.ToStatus());
    v1::TrainingRecord& record = out.emplace_back();
    if (r.is_nil()) continue;
    if (!record.ParseFromArray(r.str().data(), static_cast<int>(r.str().size()))) {
      return absl::DataLossError("training store: unreadable training record");
    }
  }
  return out;
}

absl::StatusOr<std::vector<int64_t>> TrainingStore::PendingSubmittedMs(
    absl::string_view c, const std::vector<std::string>& ids) {
  std::vector<int64_t> out(ids.size(), 0);
  if (ids.empty()) return out;
  std::vector<redis::Args> reads;
  reads.reserve(ids.size());
  for (const std::string& id : ids) reads.push_back({"ZSCORE", PendingKey(c), id});
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> scores, pool_.Pipeline(reads));
  for (size_t i = 0; i < ids.size(); ++i) {
    SHIDANG_RETURN_IF_ERROR(scores[i].ToStatus());
    double score = 0;
    if (!scores[i].is_nil() && absl::SimpleAtod(scores[i].str(), &score)) {
      out[i] = static_cast<int64_t>(score);
    }
  }
  return out;
}

absl::Status TrainingStore::DropPending(absl::string_view c, const std::vector<std::string>& ids) {
  if (ids.empty()) return absl::OkStatus();
  redis::Args zrem = {"ZREM", PendingKey(c)};
  zrem.insert(zrem.end(), ids.begin(), ids.end());
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply removed, pool_.Command(zrem));
  return removed.ToStatus();
}

absl::StatusOr<std::string> TrainingStore::CountyHoldingRecord(absl::string_view record_id) {
  SHIDANG_ASSIGN_OR_RETURN(std::string origin, CountyOfRecord(record_id));
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply teacher, pool_.Command({"HGET", RecordTeacherKey(origin),
                                                                std::string(record_id)}));
  SHIDANG_RETURN_IF_ERROR(teacher.ToStatus());
  if (teacher.is_nil()) return origin;
  SHIDANG_ASSIGN_OR_RETURN(std::vector<std::string> homes,
                           HomeCounties({std::string(teacher.str())}));
  if (homes[0].empty() || homes[0] == origin) return origin;
  SHIDANG_ASSIGN_OR_RETURN(
      redis::Reply carried,
      pool_.Command({"HEXISTS", RecordTeacherKey(homes[0]), std::string(record_id)}));
  SHIDANG_RETURN_IF_ERROR(carried.ToStatus());
  return carried.integer() == 1 ? homes[0] : origin;
}

}  // namespace shidang::training
