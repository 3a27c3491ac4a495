#pragma once

// Test kit: one of our binaries as a real child process on a port of its own choosing. It is
// started with `--port=0 --port_file=<dir>/port` added to its arguments (`--port=0` only when
// they hold no `--port=`), its stderr (and stdout)
// go to files in its temp dir, and it is stopped (SIGTERM, then SIGKILL after 5 s) when the
// object goes, also when the test fails. It dies with the test binary (PR_SET_PDEATHSIG).

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/kit/redis_server.h"

namespace shidang::testing {

struct ProcessExit {
  bool timed_out = false;  // still running when Wait gave up
  bool exited = false;     // exited normally, with exit_code
  int exit_code = -1;
  int signal = 0;  // the signal that ended it, when !exited
  std::string Describe() const;
};

class ServiceProcess {
 public:
  // Starts `binary` with `args` (without argv[0]) and waits up to `startup` for the port file.
  // FAILED_PRECONDITION (with its stderr) when it exits first or never writes the port.
  static absl::StatusOr<std::unique_ptr<ServiceProcess>> Start(
      const std::string& binary, const std::vector<std::string>& args,
      absl::Duration startup = absl::Seconds(10));

  ~ServiceProcess();
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  int port() const { return port_; }
  // "127.0.0.1:<port>".
  std::string address() const;
  pid_t pid() const { return pid_; }
  const std::string& dir() const { return dir_.path(); }

  // Sends `signal` (no-op once it has been reaped).
  void Kill(int signal);
  // Waits up to `timeout` for it to end, and reaps it; once reaped, returns how it ended.
  ProcessExit Wait(absl::Duration timeout = absl::Seconds(10));
  // Everything it wrote to stderr so far.
  std::string StderrText() const;

 private:
  ServiceProcess() = default;
  // Starts the child with `argv_strings` (argv[0] first), its output to files in dir().
  absl::Status Spawn(std::vector<std::string> argv_strings);
  // Waits up to `startup` for the port file; FAILED_PRECONDITION when the child exits first.
  absl::Status AwaitPortFile(const std::string& binary, const std::string& port_file,
                             absl::Duration startup);

  TempDir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string stderr_path_;
  ProcessExit exit_;  // how it ended, once reaped
};

}  // namespace shidang::testing
