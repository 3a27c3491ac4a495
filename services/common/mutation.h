#pragma once

// The one write path for every state-changing request of every service (DESIGN "Data and flow",
// "Requests that change state"): the state, its events and the request's idempotency record are
// written by ONE Lua script, so they happen together or not at all, and a retry with the same
// request_id returns the first answer without changing anything again — also when the retry races
// the first attempt (Redis runs one script at a time). (A write with no check left to make may be
// a MULTI ... EXEC instead, publishing its events with BatchStreamEntry: the training service's
// completion credits, store.h LedgerTransaction.)
//
// A service writes only the Lua *body* of its change; Mutation wraps it with a prelude (replay or
// refuse a reused request_id) and an epilogue (XADD the chosen events, store the answer).
//
// The body is the inside of `function(K, A, emit, emit_all)`:
//   K         the service's own keys (K[1] is the first of MutationRequest::keys),
//   A         the service's own args (A[1] is the first of MutationRequest::args),
//   emit(i)   publish prepared event i (1-based, in MutationRequest::events) when the change
//   succeeds;
//             events go out in the order of the emit calls, each at most once,
//   emit(i, extra)  the same with the string `extra` appended to the serialized envelope: protobuf
//             merges concatenated messages, so `extra` can be a field the caller encoded (e.g.
//             Event.teacher_summary) that the body adds only when the change turns out to call for
//             it,
//   emit_all  publish every prepared event.
// It returns {ok = <payload string>} or {err = Code.<NAME>, msg = <text>, field = <request
// field, optional>, rule = <the rule refused, snake_case, with a field>}, where Code
// (services/common/scripts/status_codes.lua, in scope for every body) names absl::StatusCode's
// numbers as absl::StatusCodeToString does: Code.NOT_FOUND is 5.
//
// A service's bodies live in services/<service>/scripts/<what-it-does>.lua, each opening with a
// header (what it does, K, A, what it returns, its errors by name, an example the cluster test
// runs), embedded at build time by shidang_embed_lua (cmake/ShidangLua.cmake):
//   static const Mutation* script = new Mutation(lua::kCreateCourse);
//
// CONTRACT — validate first, write after: Lua has no rollback. A body must finish every check
// (and every redis.call that can fail, e.g. on a wrong type) before its first write, and return
// {err = ...} only before writing. On err the kit stores no event and no idempotency record, so a
// retry runs again; a body that wrote and then returned err would leave a change with no event.
// A Lua runtime error (a bug) aborts the script where it stands; it is reported as INTERNAL.
//
// Every key of one script must share one hash tag (one Redis Cluster slot): the idempotency key,
// the stream key and the service's keys. Run refuses keys of different tags before sending, and
// tests/common/hash_tag_test.cc runs scripts against a cluster-mode Redis to prove it.
//
// Script layout (for anyone reading a script in redis-cli MONITOR):
//   KEYS[1] idempotency key (the stream key again when the request has no request_id; untouched),
//   KEYS[2] event stream key, KEYS[3..] the service's keys;
//   ARGV[1] fingerprint ("" = no idempotency), ARGV[2] idempotency TTL in seconds,
//   ARGV[3] stream cap (0 = none; see MutationRequest::stream_cap), ARGV[4] n = number of
//   prepared events,
//   ARGV[5] "1" when the chosen events go out as one stream entry,
//   then n pairs (event type, serialized shidang.common.v1.Event), then the service's args;
//   or ARGV[5] "2" (all_events_as_one_batch) and ARGV[6] the EventBatch of all n events, then
//   the service's args.
// The type travels beside the envelope because Lua cannot read protobuf; the stream entry gets
// fields "e" (envelope bytes) and "t" (type), or, for one entry of many events, "b" (a serialized
// shidang.common.v1.EventBatch), "t" = "batch" and "n" (how many). The idempotency record is the
// string
// "<fingerprint>\n<payload>", written with SET ... EX. The script starts with "#!lua" (a Redis 7
// script with flags), so in cluster mode Redis also refuses a body touching an undeclared key of
// another slot.
//
// Example (a teacher's counter that only grows; inline for brevity, a service's own go in files):
//   const Mutation kAddHours(R"lua(
//     local add = tonumber(A[1])
//     if not add or add <= 0 then
//       return {err = Code.INVALID_ARGUMENT, msg = 'must be > 0', field = 'hours',
//               rule = 'positive'}
//     end
//     local total = redis.call('HINCRBY', K[1], 'hours', add)
//     emit(1)
//     return {ok = tostring(total)}
//   )lua");
//   MutationRequest m;
//   SHIDANG_RETURN_IF_ERROR(AttachIdempotency(m, "training", tag, actor, "AddHours", request));
//   m.stream_key = keys::StreamKey("training", tag);
//   m.events.push_back(NewEvent("training", "training.hours_added", clock.Now()));
//   m.keys = {teacher_key};
//   m.args = {"48"};
//   absl::StatusOr<MutationResult> r = kAddHours.Run(pool, m);

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/redis.h"
#include "shidang/common/v1/event.pb.h"

namespace google::protobuf {
class Message;
}

namespace shidang {

// How long a request's answer is kept for replays (DESIGN: idempotency records expire in 7 days).
inline constexpr absl::Duration kDefaultIdempotencyTtl = absl::Hours(24 * 7);
// Longest request_id accepted.
inline constexpr size_t kMaxRequestIdLength = 128;
// MutationRequest::stream_cap unless a writer says otherwise: an order of magnitude above what
// the consumers' trimming leaves (EventConsumerOptions::trim_every), so it acts only when they
// fall behind. Every writer gets it, future services included, without a line of their own.
inline constexpr int64_t kDefaultStreamCap = 10000;

struct MutationRequest {
  // Empty: the request had no request_id and runs every time. Set both with AttachIdempotency.
  std::string idempotency_key;
  std::string fingerprint;
  // Only for error messages ("request_id 'x' was already used ...").
  std::string request_id;
  absl::Duration idempotency_ttl = kDefaultIdempotencyTtl;

  // The service's stream under the same hash tag as `keys` (keys::StreamKey). Required.
  std::string stream_key;
  // A safety cap on the stream's length, never a cut of unread entries. Streams are trimmed by
  // the consumers (EventConsumer runs TrimPassed), which keeps them far below it; when a stream
  // is over the cap anyway (a consumer lags or is down), the script removes what every consumer
  // group has delivered and acknowledged, and nothing else: a group that is down keeps all it has
  // not read, however long the stream grows. Only a stream no group has been created on yet is
  // cut to the cap plainly (MAXLEN ~). 0 = no cap.
  int64_t stream_cap = kDefaultStreamCap;
  // Prepared events; the body chooses which go out with emit(i) / emit_all().
  std::vector<common::v1::Event> events;
  // The chosen events go out as ONE stream entry (an EventBatch) instead of an entry each: for a
  // write publishing hundreds (a roster import, a completion chunk), one XADD instead of hundreds.
  // EventConsumer applies a batch's events one by one, in order.
  bool one_stream_entry = false;
  // The body publishes every prepared event or none, with emit_all (emit(i) is then a Lua
  // error): when there are several, they are serialized here as the one EventBatch entry and
  // sent as ONE argument, instead of in pairs the script joins. For a roster import's 10,000
  // events that is ~50 ms less of Redis's time (Lua hashes every string it makes). Implies
  // one_stream_entry; a single event goes out as its own entry, as without it.
  bool all_events_as_one_batch = false;

  // Command timeout for this script; zero: the pool's. For the rare write known to run long.
  absl::Duration timeout = absl::ZeroDuration();

  redis::Args keys;  // K in the body
  redis::Args args;  // A in the body
};

struct MutationResult {
  // The body's ok payload; on a replay, the payload stored by the first run.
  std::string payload;
  // True when this answer was stored by an earlier run with the same request_id.
  bool replayed = false;
  // Stream entry ids of the events this run published (empty on a replay).
  std::vector<std::string> stream_entry_ids;
};

// The KEYS and ARGV one run sends, for callers that batch scripts themselves (benchmarks, the
// cluster check) with redis::Pool::Pipeline or Pool::Eval.
struct MutationCall {
  redis::Args keys;
  redis::Args args;
};

class Mutation {
 public:
  // Wraps the body; the script's SHA1 is computed once. Make one Mutation per body, at startup.
  explicit Mutation(absl::string_view lua_body);

  // Runs the change. Errors:
  //   the body's {err = code} -> that code, message msg (prefixed with the field when given),
  //   and with a field a BadRequest violation of it naming the rule (else the code's name);
  //   request_id reused for a different request -> INVALID_ARGUMENT naming request_id;
  //   a Lua runtime error or a malformed body answer -> INTERNAL;
  //   Redis unreachable or busy -> UNAVAILABLE (the caller may retry with the same request_id).
  absl::StatusOr<MutationResult> Run(redis::Pool& pool, const MutationRequest& request) const;

  // Checks the request (stream key given, sane TTL and cap) and lays out KEYS and ARGV as
  // described above. Run = Prepare + CheckOneHashTag + Pool::Eval + Decode, except that Run
  // sends views of the request's keys and args (Pool::EvalViews) instead of Prepare's copies.
  static absl::StatusOr<MutationCall> Prepare(const MutationRequest& request);
  // INTERNAL unless every key hashes like the stream key (keys::HashedPart). Separate from
  // Prepare so the cluster test can let Redis Cluster itself judge a bad set of keys.
  static absl::Status CheckOneHashTag(const MutationCall& call);
  // Turns the script's reply into a result or the status the body (or the prelude) chose.
  static absl::StatusOr<MutationResult> Decode(const redis::Reply& reply,
                                               const MutationRequest& request);

  const redis::Script& script() const { return script_; }

 private:
  redis::Script script_;
};

// "<service>:<hash_tag>:idem:<method>:<actor>:<request_id>". The hash tag comes first so that it
// is the hash tag of the key. A request_id that is empty, longer than kMaxRequestIdLength or has
// '{' or '}' is INVALID_ARGUMENT naming request_id.
absl::StatusOr<std::string> IdempotencyKey(absl::string_view service, absl::string_view hash_tag,
                                           absl::string_view actor, absl::string_view method,
                                           absl::string_view request_id);

// SHA-256 (lowercase hex) of the deterministic serialization of a copy of `request` whose
// top-level field named request_id, if any, is cleared: two requests that differ only in their
// request_id have one fingerprint, any other difference changes it.
std::string Fingerprint(const google::protobuf::Message& request);

// Reads the top-level string field `request_id` of `request`; when it is set, fills
// idempotency_key, fingerprint and request_id of `mutation`, otherwise leaves them empty (the
// request runs every time). INVALID_ARGUMENT for a bad request_id.
absl::Status AttachIdempotency(MutationRequest& mutation, absl::string_view service,
                               absl::string_view hash_tag, absl::string_view actor,
                               absl::string_view method, const google::protobuf::Message& request);

// The answer stored for `mutation`'s request (its idempotency record, filled by
// AttachIdempotency), read by a use case before any state check so that a retry gets the first
// answer whatever happened since: nullopt when the request has no request_id or nothing is stored
// for it yet; INVALID_ARGUMENT naming request_id when the id was used for a different request;
// DATA_LOSS when the record is not "<fingerprint>\n<payload>".
absl::StatusOr<std::optional<std::string>> StoredAnswer(redis::Pool& pool,
                                                        const MutationRequest& mutation);

// One event of a batch stream entry: its serialized envelope, then bytes the writer appends to
// it (an encoded field protobuf merges in, as emit(i, extra) appends; "" none).
struct BatchedEvent {
  absl::string_view envelope;
  absl::string_view extra;
};

// The XADD that publishes `events` as ONE entry of `stream_key`, the entry a script with
// one_stream_entry adds ("b" = the EventBatch, "t" = "batch", "n"; MAXLEN ~ `stream_cap` when
// > 0): for a write that is a MULTI ... EXEC transaction instead of a script, so its consumers
// read the same entry. Pass 0: a plain MAXLEN ~ cannot tell read entries from unread ones and
// would drop what a group that is down has not read. Such a stream stays bounded by the
// consumers' trimming and by the cap of the scripts that write to it (MutationRequest).
redis::Args BatchStreamEntry(const std::string& stream_key, int64_t stream_cap,
                             const std::vector<BatchedEvent>& events);

// A new event envelope with a random 128-bit hex id, the type, the source service and
// recorded_at_ms set; the caller fills teacher, county, occurred_on, actor, request_id, summary
// and payload.
common::v1::Event NewEvent(absl::string_view source, absl::string_view type,
                           absl::Time recorded_at);

}  // namespace shidang
