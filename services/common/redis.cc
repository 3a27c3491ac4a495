#include "services/common/redis.h"

#include <hiredis/hiredis.h>
#include <openssl/sha.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/call_budget.h"

namespace shidang::redis {
namespace {

timeval TimevalOf(absl::Duration d) { return absl::ToTimeval(d); }

Reply::Type TypeOf(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_STRING:
      return Reply::Type::kString;
    case REDIS_REPLY_STATUS:
      return Reply::Type::kStatus;
    case REDIS_REPLY_INTEGER:
      return Reply::Type::kInteger;
    case REDIS_REPLY_ARRAY:
      return Reply::Type::kArray;
    case REDIS_REPLY_ERROR:
      return Reply::Type::kError;
    default:
      return Reply::Type::kNil;
  }
}

// Redis says "try again later" with these; everything else is a bug or bad data.
bool IsTransientError(absl::string_view message) {
  return absl::StartsWith(message, "LOADING") || absl::StartsWith(message, "BUSY") ||
         absl::StartsWith(message, "MASTERDOWN") || absl::StartsWith(message, "TRYAGAIN") ||
         absl::StartsWith(message, "CLUSTERDOWN");
}

// Bytes WriteDirect copies next to the headers, at most, and how many arguments it sends from
// their own buffers instead.
template <typename CommandArgs>
std::pair<size_t, size_t> InlineSizes(const std::vector<CommandArgs>& commands,
                                      size_t inline_limit) {
  size_t inline_total = 0;
  size_t large_args = 0;
  for (const CommandArgs& args : commands) {
    inline_total += 16;  // "*<count>\r\n", at most
    for (const auto& a : args) {
      const bool inlined = a.size() <= inline_limit;
      inline_total += 24 + (inlined ? a.size() : 0);  // "$<size>\r\n" <bytes> "\r\n"
      if (!inlined) ++large_args;
    }
  }
  return {inline_total, large_args};
}

// Writes `commands` in the Redis protocol straight from the caller's buffers with writev.
// hiredis 0.14 copies each formatted command into its output buffer and, after every partial
// write, moves the unsent rest to the buffer's front (sdsrange): a roster import's 10 MB
// request is copied twice and moved tens of times. Arguments up to kInlineBytes are copied
// next to their headers so that small ones do not cost an iovec each. The socket is the
// context's blocking one (its send timeout applies); the caller reads the replies through
// hiredis as usual, whose output buffer is empty. Every request goes this way, small ones too,
// so that a failed write says whether any byte of it left (*sent_any): a request of which
// nothing was sent cannot have reached Redis. Returns the errno text on failure.
template <typename CommandArgs>
absl::Status WriteDirect(int fd, const std::vector<CommandArgs>& commands, bool* sent_any) {
  constexpr size_t kInlineBytes = 256;
  // A segment is either a range of `inline_bytes` or an argument's own bytes.
  struct Segment {
    const char* data;  // nullptr: inline_bytes[offset, offset + size)
    size_t offset;
    size_t size;
  };
  // Reserved up front: a roster import's request is ~10 MB, and growing the buffer copies it.
  const auto [inline_total, large_args] = InlineSizes(commands, kInlineBytes);
  std::string inline_bytes;
  inline_bytes.reserve(inline_total);
  std::vector<Segment> segments;
  segments.reserve(2 * large_args + 1);
  size_t inline_start = 0;
  auto close_inline = [&] {
    if (inline_bytes.size() > inline_start) {
      segments.push_back({nullptr, inline_start, inline_bytes.size() - inline_start});
    }
    inline_start = inline_bytes.size();
  };
  for (const CommandArgs& args : commands) {
    absl::StrAppend(&inline_bytes, "*", args.size(), "\r\n");
    for (const auto& a : args) {
      absl::StrAppend(&inline_bytes, "$", a.size(), "\r\n");
      if (a.size() <= kInlineBytes) {
        inline_bytes.append(a.data(), a.size());
      } else {
        close_inline();
        segments.push_back({a.data(), 0, a.size()});
      }
      inline_bytes.append("\r\n");
    }
  }
  close_inline();
  // Pointers into inline_bytes only now that it no longer grows.
  std::vector<iovec> iov;
  iov.reserve(segments.size());
  for (const Segment& s : segments) {
    const char* base = s.data != nullptr ? s.data : inline_bytes.data() + s.offset;
    iov.push_back({const_cast<char*>(base), s.size});
  }
  size_t next = 0;
  while (next < iov.size()) {
    const int count = static_cast<int>(std::min<size_t>(iov.size() - next, IOV_MAX));
    const ssize_t written = writev(fd, iov.data() + next, count);
    if (written < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("write: ", std::strerror(errno)));
    }
    if (written > 0) *sent_any = true;
    // Skip what was written, trimming a partly written iovec.
    size_t left = static_cast<size_t>(written);
    while (left > 0 && left >= iov[next].iov_len) left -= iov[next++].iov_len;
    if (left > 0) {
      iov[next].iov_base = static_cast<char*>(iov[next].iov_base) + left;
      iov[next].iov_len -= left;
    }
  }
  return absl::OkStatus();
}

// Every Pool alive in the process (see LivePoolStats). Leaked on purpose: a pool destroyed
// during static destruction must still find it.
absl::Mutex& LivePoolsMutex() {
  static auto* const mu = new absl::Mutex();
  return *mu;
}
std::set<const Pool*>& LivePools() {
  static auto* const pools = new std::set<const Pool*>();
  return *pools;
}

// The budget BeginCallBudget opened on this thread, if any.
struct ThreadBudget {
  bool open = false;
  absl::Time deadline = absl::InfiniteFuture();
  absl::Duration left;
  absl::Status refusal;
};
thread_local ThreadBudget thread_budget;

// One operation's share of the thread's budget: when it must end, and (for an operation without
// a timeout of its own) the time it took charged to the budget when it is done.
class OperationClock {
 public:
  // `own_timeout` zero: the operation draws on the call's budget, or has `command_timeout`.
  OperationClock(absl::Duration own_timeout, absl::Duration command_timeout)
      : start_(absl::Now()), charged_(thread_budget.open && own_timeout <= absl::ZeroDuration()) {
    if (!thread_budget.open) {
      end_ = start_ + (own_timeout > absl::ZeroDuration() ? own_timeout : command_timeout);
      return;
    }
    if (!thread_budget.refusal.ok()) {
      status_ = thread_budget.refusal;
      return;
    }
    const absl::Duration allowed = charged_ ? thread_budget.left : own_timeout;
    end_ = std::min(thread_budget.deadline, start_ + allowed);
    if (thread_budget.deadline <= start_) {
      status_ = absl::DeadlineExceededError("redis: the call's deadline has passed");
    } else if (end_ <= start_) {
      status_ = absl::UnavailableError(
          "redis: this call has used up its time for Redis (the store is slow or stalled); "
          "retry shortly");
    }
  }
  ~OperationClock() {
    if (charged_ && thread_budget.open) thread_budget.left -= absl::Now() - start_;
  }
  OperationClock(const OperationClock&) = delete;
  OperationClock& operator=(const OperationClock&) = delete;

  const absl::Status& status() const { return status_; }
  absl::Time end() const { return end_; }

 private:
  const absl::Time start_;
  const bool charged_;
  absl::Time end_ = absl::InfinitePast();
  absl::Status status_;
};

// What is left until `end`, at least a millisecond (hiredis takes a zero timeout as none).
timeval TimevalUntil(absl::Time end) {
  return TimevalOf(std::max(end - absl::Now(), absl::Milliseconds(1)));
}

// Whether an idle connection is still usable, without sending anything: Redis never speaks
// unasked, so a readable socket means the peer closed it (a restarted or killed redis-server,
// an idle timeout) or left bytes we never asked for; either way the stream is no longer ours.
// A pooled connection would otherwise fail its next command once ("Broken pipe", EOF).
bool StillConnected(const redisContext* context) {
  char byte;
  for (;;) {
    const ssize_t n = recv(context->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
}

// Commands that only read: running one twice answers the same and changes nothing, so one whose
// connection broke after it was sent may be sent again. Anything not listed counts as a write.
bool IsReadOnly(absl::string_view name) {
  // Space-separated, with a space at either end.
  static constexpr absl::string_view kReadOnly =
      " DUMP EXISTS GET HEXISTS HGET HGETALL HKEYS HLEN HMGET HSCAN HVALS LINDEX LLEN LRANGE MGET "
      "PING PTTL SCAN SCARD SISMEMBER SMEMBERS SMISMEMBER SSCAN STRLEN TIME TTL TYPE XLEN "
      "XPENDING XRANGE XREVRANGE ZCARD ZCOUNT ZRANGE ZRANGEBYSCORE ZRANK ZREVRANGE "
      "ZREVRANGEBYSCORE ZSCAN ZSCORE ";
  if (name.empty() || absl::StrContains(name, ' ')) return false;
  return absl::StrContains(kReadOnly, absl::StrCat(" ", absl::AsciiStrToUpper(name), " "));
}

template <typename CommandArgs>
bool AllReadOnly(const std::vector<CommandArgs>& commands) {
  for (const CommandArgs& args : commands) {
    if (args.empty() || !IsReadOnly(args[0])) return false;
  }
  return true;
}

}  // namespace

void BeginCallBudget(absl::Time deadline, absl::Duration budget, absl::Status refusal) {
  thread_budget.open = true;
  thread_budget.deadline = deadline;
  thread_budget.left = budget;
  thread_budget.refusal = std::move(refusal);
}

void EndCallBudget() { thread_budget = ThreadBudget(); }

void ExtendCallBudget(absl::Duration more) {
  if (thread_budget.open && more > absl::ZeroDuration()) thread_budget.left += more;
}

// ---------------------------------------------------------------------------------------------
// Reply

Reply::Reply(std::shared_ptr<redisReply> root, const redisReply* node)
    : root_(std::move(root)), node_(node), type_(node_ ? TypeOf(node_) : Type::kNil) {}

Reply Reply::Own(redisReply* raw) {
  std::shared_ptr<redisReply> root(raw, [](redisReply* r) {
    if (r) freeReplyObject(r);
  });
  return Reply(root, raw);
}

absl::string_view Reply::str() const {
  if (!node_ || node_->str == nullptr) return {};
  return absl::string_view(node_->str, node_->len);
}

int64_t Reply::integer() const {
  if (!node_) return 0;
  if (type_ == Type::kInteger) return node_->integer;
  int64_t value = 0;
  if (node_->str && absl::SimpleAtoi(str(), &value)) return value;
  return 0;
}

size_t Reply::size() const { return type_ == Type::kArray ? node_->elements : 0; }

Reply Reply::operator[](size_t i) const {
  if (type_ != Type::kArray || i >= node_->elements) return Reply();
  return Reply(root_, node_->element[i]);
}

absl::Status Reply::ToStatus() const {
  if (type_ != Type::kError) return absl::OkStatus();
  if (IsTransientError(str())) return absl::UnavailableError(absl::StrCat("redis: ", str()));
  return absl::InternalError(absl::StrCat("redis: ", str()));
}

absl::StatusOr<std::string> ExpectString(const Reply& reply) {
  if (!reply.is_string()) return absl::InternalError("redis: expected a string reply");
  return std::string(reply.str());
}

absl::StatusOr<int64_t> ExpectInteger(const Reply& reply) {
  if (reply.is_integer()) return reply.integer();
  int64_t value = 0;
  if (reply.is_string() && absl::SimpleAtoi(reply.str(), &value)) return value;
  return absl::InternalError("redis: expected an integer reply");
}

// ---------------------------------------------------------------------------------------------
// Script

Script::Script(std::string source) : source_(std::move(source)) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(source_.data()), source_.size(), digest);
  char hex[2 * SHA_DIGEST_LENGTH + 1];
  for (size_t i = 0; i < SHA_DIGEST_LENGTH; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  sha1_.assign(hex, size_t{2} * SHA_DIGEST_LENGTH);
}

// ---------------------------------------------------------------------------------------------
// Config

absl::StatusOr<Config> Config::FromAddress(absl::string_view address) {
  Config config;
  if (absl::StartsWith(address, "unix:")) {
    config.unix_socket = std::string(address.substr(5));
    if (config.unix_socket.empty())
      return absl::InvalidArgumentError("redis: empty unix socket path");
    return config;
  }
  size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) {
    config.host = std::string(address);
  } else {
    config.host = std::string(address.substr(0, colon));
    if (!absl::SimpleAtoi(address.substr(colon + 1), &config.port) || config.port <= 0 ||
        config.port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("redis: bad port in address '", address,
                                                     "' (want host:port or unix:/path)"));
    }
  }
  if (config.host.empty()) return absl::InvalidArgumentError("redis: empty host");
  return config;
}

std::string Config::Describe() const {
  return unix_socket.empty() ? absl::StrCat(host, ":", port) : absl::StrCat("unix:", unix_socket);
}

// ---------------------------------------------------------------------------------------------
// Pool

struct Pool::Slot {
  redisContext* context = nullptr;
  bool ever_connected = false;

  void Close() {
    if (context) redisFree(context);
    context = nullptr;
  }
  ~Slot() { Close(); }
};

Pool::Pool(Config config) : config_(std::move(config)), backoff_(config_.min_backoff) {
  // hiredis writes with plain write(2): a peer that died would kill the process with SIGPIPE
  // instead of giving us an error to turn into UNAVAILABLE.
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { signal(SIGPIPE, SIG_IGN); });
  {
    absl::MutexLock lock(&mu_);
    int size = std::max(1, config_.pool_size);
    for (int i = 0; i < size; ++i) {
      slots_.push_back(std::make_unique<Slot>());
      idle_.push_back(slots_.back().get());
    }
  }
  absl::MutexLock live(&LivePoolsMutex());
  LivePools().insert(this);
}

Pool::~Pool() {
  absl::MutexLock live(&LivePoolsMutex());
  LivePools().erase(this);
}

absl::StatusOr<Pool::Slot*> Pool::TakeIdle(absl::Time end, size_t leave_idle) {
  absl::MutexLock lock(&mu_);
  if (leave_idle > 0 && idle_.size() <= leave_idle) {
    return absl::UnavailableError(absl::StrCat("redis: fewer than ", leave_idle + 1,
                                               " idle connections to ", config_.Describe()));
  }
  if (idle_.empty()) {
    ++waits_;
    auto has_idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !idle_.empty(); };
    const absl::Time wait_start = absl::Now();
    if (!mu_.AwaitWithDeadline(absl::Condition(&has_idle), end)) {
      return absl::UnavailableError(absl::StrCat(
          "redis: no free connection to ", config_.Describe(), " within ",
          absl::FormatDuration(absl::Trunc(absl::Now() - wait_start, absl::Milliseconds(1)))));
    }
  }
  Slot* slot = idle_.back();
  idle_.pop_back();
  ++in_use_;
  return slot;
}

absl::StatusOr<Pool::Slot*> Pool::Acquire(absl::Time end, size_t leave_idle) {
  absl::StatusOr<Slot*> taken = TakeIdle(end, leave_idle);
  if (!taken.ok()) return taken.status();
  Slot* slot = *taken;
  if (slot->context != nullptr && !StillConnected(slot->context)) {
    // Found dead before anything was sent on it: replaced here, so no command fails for it.
    slot->Close();
    absl::MutexLock lock(&mu_);
    ++failures_;
  }
  if (slot->context != nullptr) return slot;
  if (absl::Status connected = Connect(slot, end); !connected.ok()) {
    absl::MutexLock lock(&mu_);
    idle_.push_back(slot);
    --in_use_;
    return connected;
  }
  return slot;
}

absl::Status Pool::Connect(Slot* slot, absl::Time end) {
  {
    absl::MutexLock lock(&mu_);
    if (absl::Now() < retry_after_) {
      return absl::UnavailableError(
          absl::StrCat("redis: ", config_.Describe(), " is unreachable; retrying shortly"));
    }
  }
  timeval tv = TimevalOf(
      std::min(config_.connect_timeout, std::max(end - absl::Now(), absl::Milliseconds(1))));
  redisContext* context = config_.unix_socket.empty()
                              ? redisConnectWithTimeout(config_.host.c_str(), config_.port, tv)
                              : redisConnectUnixWithTimeout(config_.unix_socket.c_str(), tv);
  if (context == nullptr || context->err) {
    std::string why = context ? context->errstr : "out of memory";
    if (context) redisFree(context);
    absl::MutexLock lock(&mu_);
    ++failures_;
    retry_after_ = absl::Now() + backoff_;
    backoff_ = std::min(backoff_ * 2, config_.max_backoff);
    return absl::UnavailableError(
        absl::StrCat("redis: cannot connect to ", config_.Describe(), ": ", why));
  }
  if (config_.unix_socket.empty()) redisEnableKeepAlive(context);
  slot->context = context;
  absl::MutexLock lock(&mu_);
  if (slot->ever_connected) ++reconnects_;
  slot->ever_connected = true;
  backoff_ = config_.min_backoff;
  retry_after_ = absl::InfinitePast();
  return absl::OkStatus();
}

void Pool::Release(Slot* slot, bool broken) {
  if (broken) slot->Close();
  absl::MutexLock lock(&mu_);
  if (broken) ++failures_;
  idle_.push_back(slot);
  --in_use_;
}

absl::StatusOr<std::vector<Reply>> Pool::Run(const std::vector<Args>& commands,
                                             absl::Duration timeout) {
  return RunCommands(commands, timeout);
}

absl::StatusOr<std::vector<Reply>> Pool::RunViews(
    const std::vector<std::vector<absl::string_view>>& commands, absl::Duration timeout) {
  return RunCommands(commands, timeout);
}

template <typename CommandArgs>
absl::StatusOr<std::vector<Reply>> Pool::RunOn(Slot* slot, const std::vector<CommandArgs>& commands,
                                               absl::Time end, Breakage* breakage) {
  redisContext* c = slot->context;
  redisSetTimeout(c, TimevalUntil(end));
  // A slot's output buffer is empty between calls: each call reads all its replies, which
  // flushes it first.
  bool sent_any = false;
  if (absl::Status written = WriteDirect(c->fd, commands, &sent_any); !written.ok()) {
    *breakage = sent_any ? Breakage::kAfterSending : Breakage::kNothingSent;
    return absl::UnavailableError(
        absl::StrCat("redis: ", config_.Describe(), ": ", written.message()));
  }
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) {
      // A timeout or a dropped connection leaves the stream out of step: never reuse it.
      std::string why = c->errstr[0] ? c->errstr : "connection lost";
      *breakage = Breakage::kAfterSending;
      return absl::UnavailableError(absl::StrCat("redis: ", config_.Describe(), ": ", why));
    }
    replies.push_back(Reply::Own(static_cast<redisReply*>(raw)));
  }
  return replies;
}

// What is sent again. A connection found dead while idle never fails a command: Acquire replaces
// it before anything is sent. A command whose connection breaks under it is sent again once, on
// another connection and within the same time (the clock's end: the call's one Redis budget,
// never past its deadline), only when that cannot apply a write twice:
//  - nothing of it was sent (the write failed before its first byte left), so Redis never saw
//    it; or
//  - every command in it only reads (IsReadOnly), so running it twice answers the same.
// Anything else that may have reached Redis (EVALSHA of a write script, HSET, INCR, ... whose
// reply was lost) is not sent again: it answers UNAVAILABLE and the caller's retry, with its
// request id, is what our writes apply at most once.
template <typename CommandArgs>
absl::StatusOr<std::vector<Reply>> Pool::RunCommands(const std::vector<CommandArgs>& commands,
                                                     absl::Duration timeout) {
  const OperationClock clock(timeout, config_.command_timeout);
  if (!clock.status().ok()) return clock.status();
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<Slot*> acquired = Acquire(clock.end());
    if (!acquired.ok()) return acquired.status();
    Breakage breakage = Breakage::kNone;
    absl::StatusOr<std::vector<Reply>> replies = RunOn(*acquired, commands, clock.end(), &breakage);
    Release(*acquired, breakage != Breakage::kNone);
    const bool resendable = breakage == Breakage::kNothingSent ||
                            (breakage == Breakage::kAfterSending && AllReadOnly(commands));
    if (!resendable || attempt == 2 || absl::Now() >= clock.end()) return replies;
    absl::MutexLock lock(&mu_);
    ++resends_;
  }
}

absl::StatusOr<std::unique_ptr<Pool::Session>> Pool::Hold(size_t leave_idle) {
  const OperationClock clock(absl::ZeroDuration(), config_.command_timeout);
  if (!clock.status().ok()) return clock.status();
  absl::StatusOr<Slot*> acquired = Acquire(clock.end(), leave_idle);
  if (!acquired.ok()) return acquired.status();
  return std::unique_ptr<Session>(new Session(*this, *acquired));
}

Pool::Session::~Session() {
  if (slot_ == nullptr) return;
  Breakage breakage = Breakage::kNone;
  if (!clean_) {
    // Whatever it holds, DISCARD ends a MULTI (an error reply when there is none) and UNWATCH
    // drops the watched keys: the connection goes back to the pool as new.
    // Cleanup, not the call's work: its own timeout, so a spent budget closes the connection
    // (dropping the WATCH and MULTI with it) only when Redis does not answer.
    const std::vector<Args> reset = {{"DISCARD"}, {"UNWATCH"}};
    absl::StatusOr<std::vector<Reply>> replies =
        pool_.RunOn(slot_, reset, absl::Now() + pool_.config_.command_timeout, &breakage);
    if (!replies.ok() || (*replies)[1].is_error()) breakage = Breakage::kAfterSending;
  }
  pool_.Release(slot_, breakage != Breakage::kNone);
}

absl::StatusOr<std::vector<Reply>> Pool::Session::Pipeline(const std::vector<Args>& commands) {
  if (slot_ == nullptr) {
    return absl::UnavailableError("redis: this session's connection was lost");
  }
  if (commands.empty()) return std::vector<Reply>();
  const OperationClock clock(absl::ZeroDuration(), pool_.config_.command_timeout);
  if (!clock.status().ok()) return clock.status();
  Breakage breakage = Breakage::kNone;
  clean_ = false;
  absl::StatusOr<std::vector<Reply>> replies = pool_.RunOn(slot_, commands, clock.end(), &breakage);
  if (breakage != Breakage::kNone) {
    pool_.Release(slot_, true);
    slot_ = nullptr;
    return replies.status();
  }
  // The connection holds nothing once its last command ended any transaction and watch.
  const Args& last = commands.back();
  if (!last.empty() && !replies->back().is_error()) {
    const std::string& name = last[0];
    clean_ = absl::EqualsIgnoreCase(name, "EXEC") || absl::EqualsIgnoreCase(name, "DISCARD") ||
             absl::EqualsIgnoreCase(name, "UNWATCH");
  }
  return replies;
}

absl::StatusOr<Reply> Pool::Command(const Args& args) {
  absl::StatusOr<std::vector<Reply>> replies = Run({args});
  if (!replies.ok()) return replies.status();
  Reply reply = std::move((*replies)[0]);
  if (absl::Status s = reply.ToStatus(); !s.ok()) return s;
  return reply;
}

absl::StatusOr<std::vector<Reply>> Pool::Pipeline(const std::vector<Args>& commands) {
  if (commands.empty()) return std::vector<Reply>();
  return Run(commands);
}

absl::StatusOr<Reply> Pool::Eval(const Script& script, const Args& keys, const Args& args) {
  return Eval(script, keys, args, absl::ZeroDuration());
}

absl::StatusOr<Reply> Pool::Eval(const Script& script, const Args& keys, const Args& args,
                                 absl::Duration timeout) {
  const std::vector<absl::string_view> key_views(keys.begin(), keys.end());
  const std::vector<absl::string_view> arg_views(args.begin(), args.end());
  return EvalViews(script, key_views, arg_views, timeout);
}

absl::StatusOr<Reply> Pool::EvalViews(const Script& script,
                                      absl::Span<const absl::string_view> keys,
                                      absl::Span<const absl::string_view> args,
                                      absl::Duration timeout) {
  const std::string key_count = std::to_string(keys.size());
  std::vector<std::vector<absl::string_view>> commands(1);
  std::vector<absl::string_view>& command = commands[0];
  command.reserve(3 + keys.size() + args.size());
  command.push_back("EVALSHA");
  command.push_back(script.sha1());
  command.push_back(key_count);
  command.insert(command.end(), keys.begin(), keys.end());
  command.insert(command.end(), args.begin(), args.end());
  absl::StatusOr<std::vector<Reply>> replies = RunViews(commands, timeout);
  if (!replies.ok()) return replies.status();
  Reply reply = (*replies)[0];
  if (reply.is_error() && absl::StartsWith(reply.str(), "NOSCRIPT")) {
    // Load and run in one round trip; SCRIPT LOAD is idempotent.
    commands.insert(commands.begin(), {"SCRIPT", "LOAD", script.source()});
    replies = RunViews(commands, timeout);
    if (!replies.ok()) return replies.status();
    if (absl::Status s = (*replies)[0].ToStatus(); !s.ok()) return s;
    reply = (*replies)[1];
  }
  if (absl::Status s = reply.ToStatus(); !s.ok()) return s;
  return reply;
}

PoolStats Pool::Stats() const {
  absl::MutexLock lock(&mu_);
  return PoolStats{
      static_cast<int>(slots_.size()), in_use_, waits_, reconnects_, failures_, resends_};
}

std::vector<AddressPoolStats> LivePoolStats() {
  std::map<std::string, PoolStats> by_address;
  {
    absl::MutexLock live(&LivePoolsMutex());
    for (const Pool* pool : LivePools()) {
      const PoolStats stats = pool->Stats();
      PoolStats& sum = by_address[pool->config().Describe()];
      sum.size += stats.size;
      sum.in_use += stats.in_use;
      sum.waits += stats.waits;
      sum.reconnects += stats.reconnects;
      sum.failures += stats.failures;
      sum.resends += stats.resends;
    }
  }
  std::vector<AddressPoolStats> out;
  out.reserve(by_address.size());
  for (auto& [address, stats] : by_address) out.push_back({address, stats});
  return out;
}

}  // namespace shidang::redis
