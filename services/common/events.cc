#include "services/common/events.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/keys.h"

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

EventConsumer::EventConsumer(redis::Pool& pool, EventConsumerOptions options,
                             StreamLister streams, EventApplier apply)
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
  for (const std::string& s : missing) {
    // From id 0: a group made after events were written still sees them all.
    commands.push_back({"XGROUP", "CREATE", s, options_.group, "0", "MKSTREAM"});
  }
  absl::StatusOr<std::vector<redis::Reply>> replies = pool_.Pipeline(commands);
  if (!replies.ok()) return replies.status();
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
    if (ack.size() > 3) commands.push_back(std::move(ack));
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

absl::StatusOr<int> EventConsumer::RetryPending(const std::vector<std::string>& streams) {
  std::vector<Entry> entries;
  const std::string retry_ms = Millis(options_.retry_delay);
  const std::string batch = std::to_string(options_.batch);

  // This consumer's own entries that failed (or that a previous run of it left behind).
  std::vector<redis::Args> pending;
  for (const std::string& s : streams) {
    pending.push_back({"XPENDING", s, options_.group, "IDLE", retry_ms, "-", "+", batch,
                       options_.consumer});
  }
  absl::StatusOr<std::vector<redis::Reply>> pending_replies = pool_.Pipeline(pending);
  if (!pending_replies.ok()) return pending_replies.status();
  std::vector<redis::Args> claims;
  std::vector<std::string> claim_streams;
  for (size_t i = 0; i < streams.size(); ++i) {
    const redis::Reply& r = (*pending_replies)[i];
    if (absl::Status s = r.ToStatus(); !s.ok()) return s;
    if (r.size() == 0) continue;
    redis::Args claim = {"XCLAIM", streams[i], options_.group, options_.consumer, retry_ms};
    for (size_t j = 0; j < r.size(); ++j) claim.emplace_back(r[j][0].str());
    claims.push_back(std::move(claim));
    claim_streams.push_back(streams[i]);
  }
  // Others' entries left pending past claim_idle: their consumer is presumed dead.
  const std::string claim_ms = Millis(options_.claim_idle);
  for (const std::string& s : streams) {
    std::string& cursor = autoclaim_cursor_[s];
    if (cursor.empty()) cursor = "0-0";
    claims.push_back({"XAUTOCLAIM", s, options_.group, options_.consumer, claim_ms, cursor,
                      "COUNT", batch});
    claim_streams.push_back(s);
  }
  absl::StatusOr<std::vector<redis::Reply>> claim_replies = pool_.Pipeline(claims);
  if (!claim_replies.ok()) return claim_replies.status();
  int64_t claimed = 0;
  for (size_t i = 0; i < claims.size(); ++i) {
    const redis::Reply& r = (*claim_replies)[i];
    if (absl::Status s = r.ToStatus(); !s.ok()) return s;
    const bool autoclaim = claims[i][0] == "XAUTOCLAIM";
    // XAUTOCLAIM answers [next cursor, entries, deleted ids]; XCLAIM answers the entries.
    const redis::Reply list = autoclaim ? r[1] : r;
    if (autoclaim) autoclaim_cursor_[claim_streams[i]] = std::string(r[0].str());
    for (size_t j = 0; j < list.size(); ++j) {
      if (!list[j].is_array()) continue;
      entries.push_back({claim_streams[i], list[j]});
      ++claimed;
    }
  }
  if (claimed > 0) {
    absl::MutexLock lock(&mu_);
    stats_.claimed += claimed;
  }
  return ApplyAll(entries);
}

absl::StatusOr<int> EventConsumer::ReadNew(const std::vector<std::string>& streams, bool wait) {
  redis::Args read = {"XREADGROUP", "GROUP", options_.group, options_.consumer, "COUNT",
                      std::to_string(options_.batch)};
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
  return applied + *fresh;
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
    auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
    if (pause > absl::ZeroDuration()) mu_.AwaitWithTimeout(absl::Condition(&stop), pause);
    if (stopping_) return;
  }
}

void EventConsumer::Start() {
  {
    absl::MutexLock lock(&mu_);
    if (thread_.joinable()) return;
    stopping_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void EventConsumer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

EventConsumerStats EventConsumer::Stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
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
  return pool.Command({"SADD", keys::StreamIndexKey(service), std::string(stream_key)}).status();
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
