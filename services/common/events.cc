#include "services/common/events.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/keys.h"
#include "services/common/log.h"
#include "services/common/violations.h"

namespace shidang {
namespace {

// Logged through stderr directly: this file must not depend on which logging helper is linked.
void Warn(absl::string_view what) {
  std::fprintf(stderr, "WARNING events: %.*s\n", static_cast<int>(what.size()), what.data());
}

std::string Millis(absl::Duration d) {
  return std::to_string(std::max<int64_t>(0, absl::ToInt64Milliseconds(d)));
}

// A stream entry id "<ms>-<seq>".
struct StreamId {
  uint64_t ms = 0;
  uint64_t seq = 0;

  static bool Parse(absl::string_view text, StreamId* id) {
    size_t dash = text.find('-');
    if (dash == absl::string_view::npos) return false;
    return absl::SimpleAtoi(text.substr(0, dash), &id->ms) &&
           absl::SimpleAtoi(text.substr(dash + 1), &id->seq);
  }
  StreamId Next() const {
    if (seq == UINT64_MAX) return {ms + 1, 0};
    return {ms, seq + 1};
  }
  bool operator<(const StreamId& other) const {
    return ms < other.ms || (ms == other.ms && seq < other.seq);
  }
  std::string ToString() const { return absl::StrCat(ms, "-", seq); }
};

// The value of `field` in a flat [field, value, ...] reply (XINFO's maps, stream entry fields).
redis::Reply FieldOf(const redis::Reply& flat, absl::string_view field) {
  for (size_t i = 0; i + 1 < flat.size(); i += 2) {
    if (flat[i].str() == field) return flat[i + 1];
  }
  return redis::Reply();
}

}  // namespace

absl::StatusOr<std::vector<common::v1::Event>> EventsOfEntry(const redis::Reply& fields) {
  std::vector<common::v1::Event> out;
  const redis::Reply envelope = FieldOf(fields, "e");
  if (envelope.is_string()) {
    if (!out.emplace_back().ParseFromArray(envelope.str().data(),
                                           static_cast<int>(envelope.str().size()))) {
      return absl::DataLossError("the entry's envelope does not parse");
    }
    return out;
  }
  const redis::Reply batch = FieldOf(fields, "b");
  common::v1::EventBatch events;
  if (!batch.is_string() ||
      !events.ParseFromArray(batch.str().data(), static_cast<int>(batch.str().size()))) {
    return absl::DataLossError("the entry has no readable envelope or batch");
  }
  out.assign(std::make_move_iterator(events.mutable_events()->begin()),
             std::make_move_iterator(events.mutable_events()->end()));
  return out;
}

EventConsumer::EventConsumer(redis::Pool& pool, EventConsumerOptions options, StreamLister streams,
                             EventApplier apply)
    : pool_(pool),
      options_([&] {
        // A blocked read longer than the connection's read timeout would be taken for a dead
        // connection and dropped.
        options.block = std::min(options.block, pool.config().command_timeout / 2);
        options.batch = std::max(1, options.batch);
        return std::move(options);
      }()),
      streams_(std::move(streams)),
      apply_(std::move(apply)) {}

EventConsumer::~EventConsumer() { Stop(); }

absl::Status EventConsumer::EnsureGroups(const std::vector<std::string>& streams) {
  std::vector<std::string> missing;
  for (const std::string& s : streams) {
    if (!groups_ready_.count(s)) missing.push_back(s);
  }
  if (missing.empty()) return absl::OkStatus();
  std::vector<redis::Args> commands;
  std::set<std::string> services;
  for (const std::string& s : missing) {
    // From id 0: a group made after events were written still sees them all.
    commands.push_back({"XGROUP", "CREATE", s, options_.group, "0", "MKSTREAM"});
    // The writing service, from "<service>:<tag>:events" (keys::StreamKey).
    if (size_t colon = s.find(':'); colon != std::string::npos) services.insert(s.substr(0, colon));
  }
  // This group reads those services' streams from now on: RegisterStream makes it on their new
  // streams before their first entry, even while this consumer is down.
  for (const std::string& service : services) {
    commands.push_back({"SADD", StreamReadersKey(service), options_.group});
  }
  absl::StatusOr<std::vector<redis::Reply>> replies = pool_.Pipeline(commands);
  if (!replies.ok()) return replies.status();
  for (size_t i = missing.size(); i < replies->size(); ++i) {
    SHIDANG_RETURN_IF_ERROR((*replies)[i].ToStatus());
  }
  for (size_t i = 0; i < missing.size(); ++i) {
    const redis::Reply& r = (*replies)[i];
    if (r.is_error() && !absl::StartsWith(r.str(), "BUSYGROUP")) return r.ToStatus();
    groups_ready_.insert(missing[i]);
  }
  return absl::OkStatus();
}

absl::StatusOr<int> EventConsumer::ApplyAll(const std::vector<Entry>& entries) {
  std::map<std::string, redis::Args> acks;  // stream -> XACK command
  int applied = 0;
  int64_t failed = 0, malformed = 0;
  for (const Entry& item : entries) {
    if (stopping_.load()) break;  // the rest stay pending; see Stop
    const std::string id(item.entry[0].str());
    const redis::Reply fields = item.entry[1];
    // A claimed entry that was trimmed meanwhile comes back without fields; nothing to apply.
    if (id.empty() || !fields.is_array()) continue;
    absl::StatusOr<std::vector<common::v1::Event>> events = EventsOfEntry(fields);
    redis::Args& ack = acks[item.stream];
    if (ack.empty()) ack = {"XACK", item.stream, options_.group};
    if (!events.ok()) {
      // It will never parse: retrying would loop forever. Acknowledge and say so.
      ++malformed;
      Warn(absl::StrCat("entry ", item.stream, " ", id, " has no readable envelope; skipped"));
      ack.push_back(id);
      continue;
    }
    // A batch is acknowledged once all its events are applied; after a failure the whole entry
    // comes back, and the events applied already are replays (Apply is idempotent).
    bool all_applied = true;
    for (const common::v1::Event& event : *events) {
      if (stopping_.load()) {
        all_applied = false;  // the whole entry comes back; what was applied replays
        break;
      }
      absl::Status status = apply_(event, id);
      if (!status.ok()) {
        ++failed;
        all_applied = false;
        Warn(absl::StrCat("apply ", event.type(), " ", event.id(), " (", item.stream, " ", id,
                          ") failed, will retry: ", status.ToString()));
        break;
      }
      ++applied;
    }
    if (all_applied) ack.push_back(id);
  }
  {
    absl::MutexLock lock(&mu_);
    stats_.applied += applied;
    stats_.failed += failed;
    stats_.malformed += malformed;
  }
  std::vector<redis::Args> commands;
  for (auto& [stream, ack] : acks) {
    if (ack.size() <= 3) continue;
    acked_since_trim_[stream] += static_cast<int64_t>(ack.size() - 3);
    commands.push_back(std::move(ack));
  }
  if (!commands.empty()) {
    // If this fails the entries are delivered again; Apply is idempotent, so that is harmless.
    absl::StatusOr<std::vector<redis::Reply>> replies = pool_.Pipeline(commands);
    if (!replies.ok()) return replies.status();
    for (const redis::Reply& r : *replies) {
      if (absl::Status s = r.ToStatus(); !s.ok()) return s;
    }
  }
  return applied;
}

absl::Status EventConsumer::ClaimOwn(const std::vector<std::string>& streams,
                                     std::vector<redis::Args>& claims,
                                     std::vector<std::string>& claim_streams) {
  const std::string retry_ms = Millis(options_.retry_delay);
  std::vector<redis::Args> pending;
  pending.reserve(streams.size());
  for (const std::string& s : streams) {
    pending.push_back({"XPENDING", s, options_.group, "IDLE", retry_ms, "-", "+",
                       std::to_string(options_.batch), options_.consumer});
  }
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, pool_.Pipeline(pending));
  for (size_t i = 0; i < streams.size(); ++i) {
    const redis::Reply& r = replies[i];
    SHIDANG_RETURN_IF_ERROR(r.ToStatus());
    if (r.size() == 0) continue;
    redis::Args claim = {"XCLAIM", streams[i], options_.group, options_.consumer, retry_ms};
    for (size_t j = 0; j < r.size(); ++j) claim.emplace_back(r[j][0].str());
    claims.push_back(std::move(claim));
    claim_streams.push_back(streams[i]);
  }
  return absl::OkStatus();
}

absl::Status EventConsumer::ClaimFromGone(const std::vector<std::string>& streams,
                                          std::vector<redis::Args>& claims,
                                          std::vector<std::string>& claim_streams) {
  // Who has entries pending: the summary form answers [count, smallest, greatest,
  // [[consumer, count], ...]].
  std::vector<redis::Args> summaries;
  summaries.reserve(streams.size());
  for (const std::string& s : streams) summaries.push_back({"XPENDING", s, options_.group});
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> summary, pool_.Pipeline(summaries));
  std::vector<std::pair<std::string, std::string>> holders;  // (stream, consumer)
  std::set<std::string> names;
  for (size_t i = 0; i < streams.size(); ++i) {
    SHIDANG_RETURN_IF_ERROR(summary[i].ToStatus());
    const redis::Reply consumers = summary[i].size() > 3 ? summary[i][3] : redis::Reply();
    for (size_t j = 0; j < consumers.size(); ++j) {
      std::string name(consumers[j][0].str());
      if (name == options_.consumer) continue;  // ours: ClaimOwn
      holders.emplace_back(streams[i], name);
      names.insert(std::move(name));
    }
  }
  if (holders.empty()) return absl::OkStatus();
  redis::Args exists_args = {"MGET"};
  for (const std::string& name : names) {
    exists_args.push_back(ConsumerLeaseKey(options_.group, name));
  }
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply leases, pool_.Command(exists_args));
  std::set<std::string> gone;
  size_t k = 0;
  for (const std::string& name : names) {
    if (leases[k++].is_nil()) gone.insert(name);
  }
  // Their entries idle at least retry_delay: two live consumers claiming at once do not both
  // win, since a claim resets the idle time.
  const std::string retry_ms = Millis(options_.retry_delay);
  std::vector<redis::Args> ranges;
  std::vector<std::string> range_streams;
  for (const auto& [stream, name] : holders) {
    if (!gone.count(name)) continue;
    ranges.push_back({"XPENDING", stream, options_.group, "IDLE", retry_ms, "-", "+",
                      std::to_string(options_.batch), name});
    range_streams.push_back(stream);
  }
  if (ranges.empty()) return absl::OkStatus();
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> ids, pool_.Pipeline(ranges));
  for (size_t i = 0; i < ranges.size(); ++i) {
    SHIDANG_RETURN_IF_ERROR(ids[i].ToStatus());
    if (ids[i].size() == 0) continue;
    redis::Args claim = {"XCLAIM", range_streams[i], options_.group, options_.consumer, retry_ms};
    for (size_t j = 0; j < ids[i].size(); ++j) claim.emplace_back(ids[i][j][0].str());
    claims.push_back(std::move(claim));
    claim_streams.push_back(range_streams[i]);
  }
  return absl::OkStatus();
}

absl::StatusOr<int> EventConsumer::RetryPending(const std::vector<std::string>& streams) {
  std::vector<redis::Args> claims;
  std::vector<std::string> claim_streams;
  // This consumer's own entries that failed (or that a previous run of it left behind), and
  // those of consumers that are gone.
  SHIDANG_RETURN_IF_ERROR(ClaimOwn(streams, claims, claim_streams));
  SHIDANG_RETURN_IF_ERROR(ClaimFromGone(streams, claims, claim_streams));
  // Others' entries left pending past claim_idle: their consumer is presumed stuck.
  const std::string claim_ms = Millis(options_.claim_idle);
  for (const std::string& s : streams) {
    std::string& cursor = autoclaim_cursor_[s];
    if (cursor.empty()) cursor = "0-0";
    claims.push_back({"XAUTOCLAIM", s, options_.group, options_.consumer, claim_ms, cursor, "COUNT",
                      std::to_string(options_.batch)});
    claim_streams.push_back(s);
  }
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> claim_replies, pool_.Pipeline(claims));
  std::vector<Entry> entries;
  std::set<std::pair<std::string, std::string>> seen;  // an entry claimed twice in one round
  for (size_t i = 0; i < claims.size(); ++i) {
    const redis::Reply& r = claim_replies[i];
    SHIDANG_RETURN_IF_ERROR(r.ToStatus());
    const bool autoclaim = claims[i][0] == "XAUTOCLAIM";
    // XAUTOCLAIM answers [next cursor, entries, deleted ids]; XCLAIM answers the entries.
    const redis::Reply list = autoclaim ? r[1] : r;
    if (autoclaim) autoclaim_cursor_[claim_streams[i]] = std::string(r[0].str());
    for (size_t j = 0; j < list.size(); ++j) {
      if (!list[j].is_array()) continue;
      if (!seen.emplace(claim_streams[i], std::string(list[j][0].str())).second) continue;
      entries.push_back({claim_streams[i], list[j]});
    }
  }
  if (!entries.empty()) {
    absl::MutexLock lock(&mu_);
    stats_.claimed += static_cast<int64_t>(entries.size());
  }
  return ApplyAll(entries);
}

absl::StatusOr<int> EventConsumer::ReadNew(const std::vector<std::string>& streams, bool wait) {
  redis::Args read = {"XREADGROUP",      "GROUP", options_.group,
                      options_.consumer, "COUNT", std::to_string(options_.batch)};
  last_poll_waited_ = wait && options_.block > absl::ZeroDuration();
  if (last_poll_waited_) {
    // BLOCK 0 would wait forever; Millis rounds down, so keep at least 1.
    read.push_back("BLOCK");
    read.push_back(std::to_string(std::max<int64_t>(1, absl::ToInt64Milliseconds(options_.block))));
  }
  read.push_back("STREAMS");
  read.insert(read.end(), streams.begin(), streams.end());
  read.insert(read.end(), streams.size(), ">");
  absl::StatusOr<redis::Reply> reply = pool_.Command(read);
  if (!reply.ok()) {
    // A stream deleted (and its group with it) since we created the group: make it again.
    if (absl::StrContains(reply.status().message(), "NOGROUP")) groups_ready_.clear();
    return reply.status();
  }
  std::vector<Entry> entries;
  for (size_t i = 0; i < reply->size(); ++i) {
    const redis::Reply stream = (*reply)[i];
    const std::string name(stream[0].str());
    const redis::Reply list = stream[1];
    for (size_t j = 0; j < list.size(); ++j) entries.push_back({name, list[j]});
  }
  return ApplyAll(entries);
}

absl::StatusOr<int> EventConsumer::PollOnce() {
  absl::StatusOr<std::vector<std::string>> listed = streams_();
  if (!listed.ok()) return listed.status();
  last_poll_waited_ = false;
  std::vector<std::string> streams = *std::move(listed);
  std::sort(streams.begin(), streams.end());
  streams.erase(std::unique(streams.begin(), streams.end()), streams.end());
  if (streams.empty()) return 0;
  if (absl::Status s = EnsureGroups(streams); !s.ok()) return s;

  int applied = 0;
  bool retried_any = false;
  const absl::Time now = absl::Now();
  if (now >= next_pending_check_) {
    // Pending entries are looked at a few times per the shorter of the two delays, not on every
    // poll: each look costs two commands per stream.
    next_pending_check_ = now + std::min(options_.retry_delay, options_.claim_idle) / 4;
    absl::StatusOr<int> retried = RetryPending(streams);
    if (!retried.ok()) return retried.status();
    applied += *retried;
    retried_any = *retried > 0;
  }
  absl::StatusOr<int> fresh = ReadNew(streams, /*wait=*/!retried_any);
  if (!fresh.ok()) return fresh.status();
  TrimDue();
  return applied + *fresh;
}

void EventConsumer::TrimDue() {
  const absl::Time now = absl::Now();
  const bool timer = now >= next_trim_;
  if (timer) next_trim_ = now + options_.trim_interval;
  int64_t removed_total = 0;
  for (auto& [stream, acked] : acked_since_trim_) {
    if (acked < options_.trim_every && !(timer && acked > 0)) continue;
    absl::StatusOr<int64_t> removed = TrimPassed(pool_, stream);
    if (!removed.ok()) {
      // Left as due: tried again on the next poll. Applying goes on meanwhile.
      Warn(absl::StrCat("trim ", stream, ": ", removed.status().ToString()));
      continue;
    }
    acked = 0;
    removed_total += *removed;
  }
  if (removed_total > 0) {
    absl::MutexLock lock(&mu_);
    stats_.trimmed += removed_total;
  }
}

void EventConsumer::Loop() {
  while (true) {
    absl::Duration pause = absl::ZeroDuration();
    absl::StatusOr<int> applied = PollOnce();
    if (!applied.ok()) {
      Warn(absl::StrCat("consumer ", options_.group, "/", options_.consumer, ": ",
                        applied.status().ToString()));
      pause = options_.error_backoff;
    } else if (*applied == 0 && !last_poll_waited_) {
      // Nothing to read and the poll did not wait (no streams yet, or block is zero): don't spin.
      pause = std::max(options_.block, absl::Milliseconds(10));
    }
    absl::MutexLock lock(&mu_);
    auto stop = [this]() { return stopping_.load(); };
    if (pause > absl::ZeroDuration()) mu_.AwaitWithTimeout(absl::Condition(&stop), pause);
    if (stopping_.load()) return;
  }
}

bool EventConsumer::RenewLease() {
  absl::StatusOr<redis::Reply> set =
      pool_.Command({"SET", ConsumerLeaseKey(options_.group, options_.consumer), "1", "PX",
                     Millis(std::max(options_.lease_ttl, absl::Milliseconds(1)))});
  absl::Status status = set.ok() ? set->ToStatus() : set.status();
  if (!status.ok()) {
    Warn(absl::StrCat("consumer ", options_.group, "/", options_.consumer,
                      ": lease not renewed: ", status.ToString()));
  }
  return status.ok();
}

void EventConsumer::HeartbeatLoop() {
  // Its own thread: a slow Apply in the polling thread must not let the lease lapse, or a peer
  // would take over entries this live consumer is still applying.
  const absl::Duration period = std::max(options_.lease_ttl / 3, absl::Milliseconds(1));
  auto stop = [this]() { return stopping_.load(); };
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stop), period);
      if (stopping_.load()) return;
    }
    RenewLease();
  }
}

void EventConsumer::RecordReader() {
  std::vector<redis::Args> commands;
  for (const std::string& service : options_.reads) {
    commands.push_back({"SADD", StreamReadersKey(service), options_.group});
  }
  if (commands.empty()) return;
  // Best effort: EnsureGroups records it again with the first stream it finds.
  absl::StatusOr<std::vector<redis::Reply>> replies = pool_.Pipeline(commands);
  if (!replies.ok()) {
    LogWarning("events: recording group ", options_.group,
               " as a reader: ", replies.status().ToString());
  }
}

void EventConsumer::Start() {
  {
    absl::MutexLock lock(&mu_);
    if (thread_.joinable()) return;
    stopping_ = false;
  }
  // Before the first read, so no entry is ever pending under a name without a lease while it
  // runs. If Redis is down the heartbeat takes it later.
  RenewLease();
  RecordReader();
  thread_ = std::thread([this] { Loop(); });
  heartbeat_ = std::thread([this] { HeartbeatLoop(); });
}

void EventConsumer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (!thread_.joinable()) return;
  thread_.join();
  heartbeat_.join();
  // Gone at once rather than after lease_ttl: peers take over what this run left pending.
  absl::StatusOr<redis::Reply> deleted =
      pool_.Command({"DEL", ConsumerLeaseKey(options_.group, options_.consumer)});
  if (!deleted.ok()) Warn(absl::StrCat("lease not given up: ", deleted.status().ToString()));
}

EventConsumerStats EventConsumer::Stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

std::string ConsumerLeaseKey(absl::string_view group, absl::string_view consumer) {
  return absl::StrCat(group, ":consumer:", consumer);
}

StreamLister StreamsFromIndex(redis::Pool& pool, std::vector<std::string> services) {
  return [&pool, services = std::move(services)]() -> absl::StatusOr<std::vector<std::string>> {
    std::vector<redis::Args> commands;
    for (const std::string& service : services) {
      commands.push_back({"SMEMBERS", keys::StreamIndexKey(service)});
    }
    std::vector<std::string> streams;
    if (commands.empty()) return streams;
    absl::StatusOr<std::vector<redis::Reply>> replies = pool.Pipeline(commands);
    if (!replies.ok()) return replies.status();
    for (const redis::Reply& r : *replies) {
      if (absl::Status s = r.ToStatus(); !s.ok()) return s;
      for (size_t i = 0; i < r.size(); ++i) streams.emplace_back(r[i].str());
    }
    std::sort(streams.begin(), streams.end());
    streams.erase(std::unique(streams.begin(), streams.end()), streams.end());
    return streams;
  };
}

absl::Status RegisterStream(redis::Pool& pool, absl::string_view service,
                            absl::string_view stream_key) {
  const std::string stream(stream_key);
  const std::string index = keys::StreamIndexKey(service);
  SHIDANG_ASSIGN_OR_RETURN(
      std::vector<redis::Reply> known,
      pool.Pipeline({{"SISMEMBER", index, stream}, {"SMEMBERS", StreamReadersKey(service)}}));
  for (const redis::Reply& r : known) SHIDANG_RETURN_IF_ERROR(r.ToStatus());
  if (known[0].integer() == 1) return absl::OkStatus();
  // A new stream: its readers' groups first, from its first entry, so that no writer's cap finds
  // it without them (mutation.h, stream_cap); then the index. A crash between the two repeats
  // both next time.
  std::vector<redis::Args> commands;
  for (size_t i = 0; i < known[1].size(); ++i) {
    commands.push_back(
        {"XGROUP", "CREATE", stream, std::string(known[1][i].str()), "0", "MKSTREAM"});
  }
  commands.push_back({"SADD", index, stream});
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, pool.Pipeline(commands));
  for (const redis::Reply& r : replies) {
    if (r.is_error() && absl::StartsWith(r.str(), "BUSYGROUP")) continue;
    SHIDANG_RETURN_IF_ERROR(r.ToStatus());
  }
  return absl::OkStatus();
}

std::string StreamReadersKey(absl::string_view service) {
  return absl::StrCat(service, ":readers");
}

absl::StatusOr<int64_t> TrimPassed(redis::Pool& pool, absl::string_view stream_key) {
  const std::string stream(stream_key);
  absl::StatusOr<redis::Reply> groups = pool.Command({"XINFO", "GROUPS", stream});
  if (!groups.ok()) {
    if (absl::StrContains(groups.status().message(), "no such key")) return 0;
    return groups.status();
  }
  if (groups->size() == 0) return 0;  // nobody has said what they still need

  bool have_min = false;
  StreamId keep_from;  // the oldest entry some group still needs
  auto need = [&](const StreamId& id) {
    if (!have_min || id < keep_from) keep_from = id;
    have_min = true;
  };
  for (size_t i = 0; i < groups->size(); ++i) {
    const redis::Reply group = (*groups)[i];
    const std::string name(FieldOf(group, "name").str());
    StreamId last;
    if (!StreamId::Parse(FieldOf(group, "last-delivered-id").str(), &last)) {
      return absl::InternalError(absl::StrCat("XINFO GROUPS ", stream, ": unreadable reply"));
    }
    if (FieldOf(group, "pending").integer() > 0) {
      // Summary form: [count, smallest id, greatest id, [[consumer, count], ...]].
      absl::StatusOr<redis::Reply> pending = pool.Command({"XPENDING", stream, name});
      if (!pending.ok()) return pending.status();
      StreamId smallest;
      if ((*pending)[0].integer() > 0) {
        if (!StreamId::Parse((*pending)[1].str(), &smallest)) {
          return absl::InternalError(absl::StrCat("XPENDING ", stream, ": unreadable reply"));
        }
        need(smallest);
        continue;
      }
      // Acknowledged between the two calls: fall through to last-delivered-id.
    }
    need(last.Next());
  }
  absl::StatusOr<redis::Reply> trimmed =
      pool.Command({"XTRIM", stream, "MINID", "=", keep_from.ToString()});
  if (!trimmed.ok()) return trimmed.status();
  return redis::ExpectInteger(*trimmed);
}

}  // namespace shidang
