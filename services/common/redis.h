#pragma once

// A small Redis client on hiredis for every Shidang process: a thread-safe pool of connections
// over TCP or a unix socket, connect and command timeouts, reconnection with backoff, pipelining,
// and Lua scripts run by EVALSHA with a NOSCRIPT fallback. Commands are argument vectors only,
// so no input can change a command. A pooled connection the peer closed (a restarted Redis) is
// replaced before use, and a command whose connection breaks is sent again once when that cannot
// apply a write twice (RunCommands in redis.cc says when). Transport failures are UNAVAILABLE
// (the caller may retry);
// error replies from Redis are INTERNAL unless Redis says it is not ready (LOADING, BUSY).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

struct redisContext;
struct redisReply;

namespace shidang::redis {

using Args = std::vector<std::string>;

// One reply, or one element of an array reply. Copies share the underlying hiredis reply, which is
// freed when the last copy goes.
class Reply {
 public:
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };

  Reply() = default;

  Type type() const { return type_; }
  bool is_nil() const { return type_ == Type::kNil; }
  bool is_error() const { return type_ == Type::kError; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_integer() const { return type_ == Type::kInteger; }
  // Bulk strings, status replies and error messages.
  bool is_string() const { return type_ == Type::kString || type_ == Type::kStatus; }

  absl::string_view str() const;
  int64_t integer() const;
  size_t size() const;  // number of elements of an array, 0 otherwise
  Reply operator[](size_t i) const;

  // OK unless this is an error reply.
  absl::Status ToStatus() const;

  // Wraps a raw hiredis reply, taking ownership.
  static Reply Own(redisReply* raw);

 private:
  Reply(std::shared_ptr<redisReply> root, const redisReply* node);
  std::shared_ptr<redisReply> root_;
  const redisReply* node_ = nullptr;
  Type type_ = Type::kNil;
};

// A Lua script. Its SHA1 is computed once; Pool::Eval runs it by EVALSHA and loads it on NOSCRIPT
// (after a Redis restart or failover the script cache is empty).
class Script {
 public:
  explicit Script(std::string source);
  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;
};

struct Config {
  // Unix socket path; when set, host and port are ignored.
  std::string unix_socket;
  std::string host = "127.0.0.1";
  int port = 6379;
  absl::Duration connect_timeout = absl::Milliseconds(300);
  // The budget of one operation: waiting for a free connection, (re)connecting and the reply
  // together, so a stalled Redis costs a caller this much, not a wait and then a timeout. Inside
  // a gRPC call (BeginCallBudget) all of the call's operations share one such budget.
  absl::Duration command_timeout = absl::Milliseconds(1000);
  int pool_size = 8;
  // After a failed connect, calls fail at once (UNAVAILABLE) until the backoff passes, so a down
  // Redis is reported quickly instead of every caller waiting for its own connect timeout.
  absl::Duration min_backoff = absl::Milliseconds(20);
  absl::Duration max_backoff = absl::Milliseconds(500);

  // "unix:/path/to/sock", "host:port" or "host".
  static absl::StatusOr<Config> FromAddress(absl::string_view address);
  std::string Describe() const;
};

struct PoolStats {
  int size = 0;  // connections the pool may hold
  int in_use = 0;
  int64_t waits = 0;       // times a caller waited for a free connection
  int64_t reconnects = 0;  // successful connects after the first of each slot
  int64_t failures = 0;    // connects or commands that failed on the transport, and idle
                           // connections found closed by the peer
  int64_t resends = 0;     // commands sent again after their connection broke (RunCommands)
};

class Pool {
  struct Slot;

 public:
  explicit Pool(Config config);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Runs one command. Error replies become a non-OK status.
  absl::StatusOr<Reply> Command(const Args& args);

  // Sends all commands in one round trip and returns their replies in order; an error reply for
  // one command is returned as that element (check Reply::ToStatus), a transport failure fails all.
  absl::StatusOr<std::vector<Reply>> Pipeline(const std::vector<Args>& commands);

  // EVALSHA, falling back to SCRIPT LOAD + EVALSHA on NOSCRIPT. Error replies become a status.
  absl::StatusOr<Reply> Eval(const Script& script, const Args& keys, const Args& args);
  // The same with its own command timeout, for the rare script known to run long (a 10,000-row
  // import) without raising every call's timeout.
  absl::StatusOr<Reply> Eval(const Script& script, const Args& keys, const Args& args,
                             absl::Duration timeout);
  // The same with keys and args as views of the caller's strings, which must outlive the call:
  // a script's megabytes of arguments (a 10,000-row import) go to the socket from where they
  // lie instead of being copied into a command first. Zero timeout: the pool's.
  absl::StatusOr<Reply> EvalViews(const Script& script, absl::Span<const absl::string_view> keys,
                                  absl::Span<const absl::string_view> args, absl::Duration timeout);

  // One connection held by one caller, for commands whose state lives on the connection: an
  // optimistic transaction (WATCH the keys, read them, then MULTI ... EXEC, which Redis refuses
  // when a watched key changed in between). The connection goes back to the pool when the
  // session ends; one that may still hold a WATCH or an open MULTI (any pipeline that did not
  // end with EXEC, DISCARD or UNWATCH answered) is first reset with DISCARD and UNWATCH, and
  // closed if that fails, which makes Redis drop both.
  class Session {
   public:
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session();

    // As Pool::Pipeline, on this session's connection. After a transport failure the session
    // is done: every later call fails.
    absl::StatusOr<std::vector<Reply>> Pipeline(const std::vector<Args>& commands);

   private:
    friend class Pool;
    Session(Pool& pool, Slot* slot) : pool_(pool), slot_(slot) {}
    Pool& pool_;
    Slot* slot_;  // nullptr once its connection broke
    bool clean_ = true;
  };
  // Holds a connection (waiting as long as an operation may, see BeginCallBudget). With
  // `leave_idle`, only when more than that many are idle, and at once (UNAVAILABLE otherwise): a
  // caller that holds a session while it runs other commands through the pool must not take the
  // connections those need, or enough such callers at once would wait on each other.
  absl::StatusOr<std::unique_ptr<Session>> Hold(size_t leave_idle = 0);

  PoolStats Stats() const;
  const Config& config() const { return config_; }

 private:
  // How an exchange on a connection failed on the transport, if it did.
  enum class Breakage {
    kNone,
    kNothingSent,   // the write failed before any byte of the request left
    kAfterSending,  // Redis may have received (and run) the request
  };
  // Sends `commands` on `slot` and reads their replies, giving up at `end`; on a transport
  // failure sets *breakage.
  template <typename CommandArgs>
  absl::StatusOr<std::vector<Reply>> RunOn(Slot* slot, const std::vector<CommandArgs>& commands,
                                           absl::Time end, Breakage* breakage);

  // Takes an idle connection (waiting until `end`), connected or reconnected; one the peer
  // closed while it was idle (a restarted Redis) is replaced before anything is sent on it.
  // With `leave_idle`, fails at once unless more than that many are idle.
  absl::StatusOr<Slot*> Acquire(absl::Time end, size_t leave_idle = 0);
  // Acquire's parts: taking a slot off the idle list, and connecting it.
  absl::StatusOr<Slot*> TakeIdle(absl::Time end, size_t leave_idle);
  absl::Status Connect(Slot* slot, absl::Time end);
  // Returns a connection; a broken one is closed and reconnected by the next Acquire.
  void Release(Slot* slot, bool broken);
  // Zero timeout: the configured command timeout.
  absl::StatusOr<std::vector<Reply>> Run(const std::vector<Args>& commands,
                                         absl::Duration timeout = absl::ZeroDuration());
  absl::StatusOr<std::vector<Reply>> RunViews(
      const std::vector<std::vector<absl::string_view>>& commands, absl::Duration timeout);
  // Both of the above: CommandArgs is a vector of std::string or of absl::string_view.
  template <typename CommandArgs>
  absl::StatusOr<std::vector<Reply>> RunCommands(const std::vector<CommandArgs>& commands,
                                                 absl::Duration timeout);

  const Config config_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Slot>> slots_ ABSL_GUARDED_BY(mu_);
  std::vector<Slot*> idle_ ABSL_GUARDED_BY(mu_);
  int in_use_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t waits_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t reconnects_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t failures_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t resends_ ABSL_GUARDED_BY(mu_) = 0;
  // Shared backoff: while Redis is unreachable, fail fast until this time.
  absl::Time retry_after_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration backoff_ ABSL_GUARDED_BY(mu_);
};

// The Redis time of one gRPC call. The server (services/common/server.cc) opens a budget on the
// thread that runs a call's handler and closes it when the handler returns: every Pool operation
// on that thread in between waits (for a connection, a connect, a reply) only as long as what is
// left of `budget` and never past the call's `deadline`, so a call's total wait for Redis is
// bounded by one figure however many commands it runs. When the budget is spent an operation
// fails at once with UNAVAILABLE (DEADLINE_EXCEEDED once the deadline passed). A non-OK `refusal`
// (an overloaded server) fails every operation of the call with it before it touches Redis.
// Operations with a timeout of their own (Eval's long scripts) are capped by the deadline only
// and not charged. Without an open budget (consumers, tools) each operation has
// Config::command_timeout.
void BeginCallBudget(absl::Time deadline, absl::Duration budget,
                     absl::Status refusal = absl::OkStatus());
void EndCallBudget();

// The figures of every Pool alive in this process, by its address (Config::Describe()), for
// metrics read at scrape time (services/common/metrics.h): pools are made in each main, and this
// way every one of them is reported without wiring it to the metrics by hand. Pools sharing an
// address are summed.
struct AddressPoolStats {
  std::string address;
  PoolStats stats;
};
std::vector<AddressPoolStats> LivePoolStats();

// Status helpers for callers that read replies.
absl::StatusOr<std::string> ExpectString(const Reply& reply);
absl::StatusOr<int64_t> ExpectInteger(const Reply& reply);

}  // namespace shidang::redis
