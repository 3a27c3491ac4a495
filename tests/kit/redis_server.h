#pragma once

// Test kit: a real redis-server of the test's own, on a unix socket in a fresh temp dir that is
// removed afterwards (also when the test fails). Never a mock of Redis.

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "services/common/redis.h"

namespace shidang::testing {

// Creates a fresh directory under $TMPDIR (or /tmp) and removes it, recursively, on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct RedisServerOptions {
  bool appendonly = true;
  // "always", "everysec" or "no".
  std::string appendfsync = "everysec";
  bool cluster_enabled = false;
  std::vector<std::string> extra_args;
};

class RedisServer {
 public:
  // Starts redis-server and waits until it answers PING; aborts the test binary if it cannot.
  explicit RedisServer(RedisServerOptions options = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  const std::string& socket_path() const { return socket_path_; }
  const std::string& data_dir() const { return dir_.path(); }
  // "unix:<socket>", the address form services take in --redis.
  std::string address() const { return "unix:" + socket_path_; }
  redis::Config config() const;
  // A pool of its own for the test's checks; safe to use from many threads (it reconnects by
  // itself after Kill and Start).
  redis::Pool& pool();

  // SIGKILL, as a crash would (no save on exit).
  void Kill();
  // SIGTERM and wait.
  void Stop();
  // SIGSTOP: the server stalls (connections stay open, nothing is answered) until Resume.
  void Pause();
  // SIGCONT after Pause.
  void Resume();
  // Starts again on the same data directory and socket.
  void Start();
  bool running() const { return pid_ > 0; }

 private:
  void WaitReady();

  TempDir dir_;
  RedisServerOptions options_;
  std::string socket_path_;
  pid_t pid_ = -1;
  std::unique_ptr<redis::Pool> pool_;
};

}  // namespace shidang::testing
