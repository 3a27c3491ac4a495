#pragma once

// Reading the event streams that Mutation writes (DESIGN "Events", "Data and flow"): a consumer
// group per reading service, entries acknowledged only after they are applied, entries a dead
// consumer left behind claimed by a live one, and streams trimmed once every group has passed.
//
// Trimming: each consumer runs TrimPassed on a stream after it has acknowledged trim_every
// entries of it, and on a timer (trim_interval) for a stream it acknowledged anything on since
// (the tail of a stream that went quiet). Per acknowledgement would double the consumer's round
// trips; by count alone a quiet stream would keep its last entries forever; by timer alone a busy
// stream would grow by its rate times the interval. So a stream holds about trim_every entries
// beyond what its slowest group has not passed, and an idle consumer costs nothing.
// GUARANTEE: no trim here or in a writer's cap (MutationRequest::stream_cap) removes an entry
// that some consumer group has not been delivered, or has pending (delivered, not acknowledged).
// A group that is down keeps everything it has not read, and the stream grows meanwhile.
//
// Dead consumers: while Start()ed, a consumer holds a lease (ConsumerLeaseKey, renewed by its
// own thread, so a slow Apply does not lose it; deleted on Stop). A consumer whose lease is gone
// (SIGKILLed: after lease_ttl; stopped: at once) is gone: a live consumer of the group takes over
// its pending entries once they have been idle retry_delay, without waiting for claim_idle. A
// live peer (lease held) is never robbed before claim_idle, which stays as the last resort for a
// process that is alive but stuck. So consumer names need not be stable across restarts (a
// restart under the same name takes its own entries back after retry_delay too). Consumers of
// another version without leases count as gone: at worst an entry is applied twice, which Apply
// must bear anyway.
//
// Stopping: Stop() returns after the event being applied, however many are queued; the entries
// not yet applied stay pending and are taken over as above.
//
// Delivery is at least once: an entry may be applied again after a crash between Apply and XACK,
// after a failed Apply, or when a slow consumer's entry is claimed by another. So Apply must be
// idempotent; the intended way is to write through Mutation with request_id = the event's id,
// which makes a second delivery a replay that changes nothing. Order is per stream as written,
// except that an entry whose Apply failed is retried later, after entries that came behind it.
//
// Which streams: a service has one stream per county (or provider), and new ones appear. The
// consumer asks a StreamLister each poll. The stock lister reads the set "<service>:streams"
// (keys::StreamIndexKey). That set has no hash tag of state, so it is never written from a state
// script (one script, one slot): a service calls RegisterStream once when it first writes under a
// new county or provider, before that first write. Registering twice is harmless.
//
// Redis Cluster: one XREADGROUP names all the streams, which a cluster refuses across slots. That
// is fine while each service has its own single Redis (hiredis 0.14 has no cluster routing
// anyway); the cluster step will read per node.
//
//   EventConsumer consumer(pool, {.group = "profile", .consumer = host_and_pid},
//                          StreamsFromIndex(pool, {"training", "rotation"}),
//                          [&](const common::v1::Event& e, absl::string_view) { return File(e); });
//   consumer.Start();  // ... consumer.Stop();

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/redis.h"
#include "shidang/common/v1/event.pb.h"

namespace shidang {

struct EventConsumerOptions {
  // The consumer group: one per reading service (e.g. "profile"); each group sees every entry.
  std::string group;
  // This process within the group; must differ between live processes of one group. Reusing the
  // name after a restart picks up what the previous run left pending (after retry_delay); a new
  // name takes it over as well, once the old name's lease is gone.
  std::string consumer;
  // Entries read per stream per call.
  int batch = 100;
  // How long a read waits for new entries (XREADGROUP BLOCK). Clamped to half the pool's command
  // timeout, since a longer wait would look like a dead connection. Zero: never wait.
  absl::Duration block = absl::Milliseconds(200);
  // An entry this consumer failed to apply is retried once it has been pending this long.
  absl::Duration retry_delay = absl::Seconds(1);
  // Entries another consumer has left pending this long are taken over even while its lease is
  // held (alive but stuck). Longer than the slowest Apply, or a live consumer's work is applied
  // twice.
  absl::Duration claim_idle = absl::Seconds(30);
  // How long a Start()ed consumer's lease lasts unless renewed (every lease_ttl / 3): how soon a
  // SIGKILLed consumer's entries are taken over.
  absl::Duration lease_ttl = absl::Seconds(2);
  // TrimPassed on a stream after this many acknowledgements of entries of it...
  int trim_every = 1000;
  // ... and at least this often for a stream with any acknowledged since its last trim.
  absl::Duration trim_interval = absl::Seconds(5);
  // Pause of the background loop after an error (Redis down, lister failed).
  absl::Duration error_backoff = absl::Milliseconds(500);
  // The services whose streams this group reads (e.g. {"profile"}). Start() records the group as
  // their reader at once, so RegisterStream gives every new stream of theirs this group before
  // its first entry: otherwise a stream made before this consumer first listed it could be
  // trimmed by the other groups' consumers before this group existed on it.
  std::vector<std::string> reads;
};

// The stream keys to read now.
using StreamLister = std::function<absl::StatusOr<std::vector<std::string>>()>;
// Applies one event. OK: the entry is acknowledged. An error leaves it pending for a retry.
using EventApplier =
    std::function<absl::Status(const common::v1::Event& event, absl::string_view stream_entry_id)>;

struct EventConsumerStats {
  int64_t applied = 0;    // Apply returned OK (an entry is acknowledged once all its events are)
  int64_t failed = 0;     // Apply returned an error (the entry stays pending)
  int64_t claimed = 0;    // entries taken over from this or another consumer for a retry
  int64_t malformed = 0;  // entries without a readable envelope: acknowledged and logged
  int64_t trimmed = 0;    // entries this consumer's TrimPassed calls removed
};

class EventConsumer {
 public:
  EventConsumer(redis::Pool& pool, EventConsumerOptions options, StreamLister streams,
                EventApplier apply);
  // Stops the background thread if it runs.
  ~EventConsumer();
  EventConsumer(const EventConsumer&) = delete;
  EventConsumer& operator=(const EventConsumer&) = delete;

  // One round: creates the group on streams not seen before (from the start of the stream,
  // MKSTREAM, an existing group is fine), retries this consumer's entries pending longer than
  // retry_delay, claims those of gone consumers (no lease) pending longer than retry_delay and
  // others' pending longer than claim_idle, then reads new entries (waiting up to `block` when
  // the retries found nothing). Applies each and acknowledges those applied. Then trims the
  // streams that are due (see above). Returns how many were applied. Not to be called while
  // Start() runs, nor from two threads. PollOnce alone holds no lease.
  absl::StatusOr<int> PollOnce();

  // Takes the lease, then runs PollOnce in a background thread until Stop. Errors are logged
  // and retried.
  void Start();
  // Returns within about `block` plus one Apply, however many entries are queued: the rest stay
  // pending. Gives up the lease, so peers take them over at once.
  void Stop();

  EventConsumerStats Stats() const;

 private:
  struct Entry {
    std::string stream;
    redis::Reply entry;  // [id, [field, value, ...]]
  };

  absl::Status EnsureGroups(const std::vector<std::string>& streams);
  // Claims entries pending too long (this consumer's and gone consumers' after retry_delay,
  // others' after claim_idle) and applies them.
  absl::StatusOr<int> RetryPending(const std::vector<std::string>& streams);
  // XCLAIM commands for this consumer's own entries pending longer than retry_delay.
  absl::Status ClaimOwn(const std::vector<std::string>& streams, std::vector<redis::Args>& claims,
                        std::vector<std::string>& claim_streams);
  // XCLAIM commands for the entries of consumers without a lease, idle longer than retry_delay.
  absl::Status ClaimFromGone(const std::vector<std::string>& streams,
                             std::vector<redis::Args>& claims,
                             std::vector<std::string>& claim_streams);
  absl::StatusOr<int> ReadNew(const std::vector<std::string>& streams, bool wait);
  // Applies each entry of a read or claim reply, acknowledges the applied ones. Stops early
  // when Stop was called, leaving the rest pending.
  absl::StatusOr<int> ApplyAll(const std::vector<Entry>& entries);
  // TrimPassed on the streams due (trim_every acknowledgements, or trim_interval passed).
  void TrimDue();
  // SET the lease with PX lease_ttl; false (logged) when Redis refused.
  bool RenewLease();
  // SADDs the group to the readers set of every service in options_.reads.
  void RecordReader();
  void Loop();
  void HeartbeatLoop();

  redis::Pool& pool_;
  const EventConsumerOptions options_;
  const StreamLister streams_;
  const EventApplier apply_;

  // Touched only by the polling thread.
  std::set<std::string> groups_ready_;
  std::map<std::string, std::string> autoclaim_cursor_;
  absl::Time next_pending_check_ = absl::InfinitePast();
  bool last_poll_waited_ = false;                    // the last PollOnce blocked in XREADGROUP
  std::map<std::string, int64_t> acked_since_trim_;  // stream -> entries acknowledged
  absl::Time next_trim_ = absl::InfinitePast();

  mutable absl::Mutex mu_;
  EventConsumerStats stats_ ABSL_GUARDED_BY(mu_);
  // Read without the lock between events (ApplyAll); written under it so Await wakes.
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::thread heartbeat_;
};

// "<group>:consumer:<consumer>": the lease of a live consumer (see above). Under the reading
// service's name; no hash tag of state, never touched from a state script.
std::string ConsumerLeaseKey(absl::string_view group, absl::string_view consumer);

// The events of one stream entry, from its [field, value, ...] list: the envelope of field "e",
// or the events of a batch in field "b" (MutationRequest::one_stream_entry), in order.
// DATA_LOSS when neither parses.
absl::StatusOr<std::vector<common::v1::Event>> EventsOfEntry(const redis::Reply& fields);

// A StreamLister over the index sets "<service>:streams" of the given services (one SMEMBERS
// each, in one round trip): the union, sorted.
StreamLister StreamsFromIndex(redis::Pool& pool, std::vector<std::string> services);

// Adds `stream_key` to "<service>:streams" so consumers find it, after creating on it (from its
// first entry) the group of every service that has ever read `service`'s streams
// (StreamReadersKey), so that its entries are kept for those readers even while they are down.
// Call it before the first write under a new hash tag; it is idempotent, and one round trip once
// the stream is registered.
absl::Status RegisterStream(redis::Pool& pool, absl::string_view service,
                            absl::string_view stream_key);

// "<service>:readers": the consumer groups that read `service`'s streams; each EventConsumer
// adds its group when it first reads a stream of that service. A reading service retired for
// good is taken out here (SREM) and its groups destroyed (XGROUP DESTROY), or its groups keep
// every entry after their last read, as a group that is down must.
std::string StreamReadersKey(absl::string_view service);

// Removes from the stream the entries every consumer group has passed: XTRIM MINID to the oldest
// entry some group still needs (per group, its smallest pending id, or the id after its
// last-delivered-id when nothing is pending). A stream with no group, or no stream, is left
// alone. Returns how many entries were removed. EventConsumer runs it (see "Trimming" above).
// A group created later with start id 0 does not see what was trimmed before it existed.
absl::StatusOr<int64_t> TrimPassed(redis::Pool& pool, absl::string_view stream_key);

}  // namespace shidang
