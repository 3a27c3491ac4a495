#include "tests/kit/redis_server.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"

namespace shidang::testing {

TempDir::TempDir() {
  const char* base = getenv("TMPDIR");
  std::string pattern = absl::StrCat(base && *base ? base : "/tmp", "/shidang-test-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    perror("mkdtemp");
    abort();
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

RedisServer::RedisServer(RedisServerOptions options) : options_(std::move(options)) {
  // Unix socket paths are limited to ~107 bytes; temp dirs are short enough.
  socket_path_ = dir_.path() + "/redis.sock";
  Start();
  // Made here, not on first use: tests call pool() from many threads at once.
  pool_ = std::make_unique<redis::Pool>(config());
}

RedisServer::~RedisServer() {
  pool_.reset();
  if (pid_ > 0) Kill();
}

redis::Config RedisServer::config() const {
  redis::Config config;
  config.unix_socket = socket_path_;
  return config;
}

redis::Pool& RedisServer::pool() { return *pool_; }

void RedisServer::Start() {
  std::vector<std::string> args = {
      "redis-server",
      "--port",
      "0",
      "--unixsocket",
      socket_path_,
      "--unixsocketperm",
      "700",
      "--dir",
      dir_.path(),
      "--appendonly",
      options_.appendonly ? "yes" : "no",
      "--appendfsync",
      options_.appendfsync,
      "--save",
      "",
      "--daemonize",
      "no",
      "--logfile",
      dir_.path() + "/redis.log",
  };
  if (options_.cluster_enabled) {
    args.insert(args.end(),
                {"--cluster-enabled", "yes", "--cluster-config-file", dir_.path() + "/nodes.conf"});
  }
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());

  // argv is built before fork: after it, a child of a threaded process may not allocate.
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    abort();
  }
  if (pid == 0) {
    // Dies with the test binary, also when a crash skips the destructor.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execvp("redis-server", argv.data());
    perror("execvp redis-server");
    _exit(127);
  }
  pid_ = pid;
  WaitReady();
}

void RedisServer::WaitReady() {
  redis::Config probe_config = config();
  for (int i = 0; i < 500; ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      fprintf(stderr, "redis-server exited early; see %s/redis.log\n", dir_.path().c_str());
      abort();
    }
    if (std::filesystem::exists(socket_path_)) {
      redis::Pool probe(probe_config);
      auto reply = probe.Command({"PING"});
      if (reply.ok()) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  fprintf(stderr, "redis-server did not become ready in 5 s\n");
  abort();
}

void RedisServer::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  std::error_code ignored;
  std::filesystem::remove(socket_path_, ignored);
}

void RedisServer::Pause() {
  if (pid_ > 0) kill(pid_, SIGSTOP);
}

void RedisServer::Resume() {
  if (pid_ > 0) kill(pid_, SIGCONT);
}

void RedisServer::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace shidang::testing
