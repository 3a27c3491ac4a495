#include "tests/kit/service_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "tests/kit/files.h"

namespace shidang::testing {
namespace {

ProcessExit FromWaitStatus(int status) {
  ProcessExit exit;
  if (WIFEXITED(status)) {
    exit.exited = true;
    exit.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    exit.signal = WTERMSIG(status);
  }
  return exit;
}

// argv of the child: `binary`, `args`, then the port flags (a restart on the port it had before,
// as tests/e2e's faults do, passes --port itself).
std::vector<std::string> ChildArguments(const std::string& binary,
                                        const std::vector<std::string>& args,
                                        const std::string& port_file) {
  std::vector<std::string> argv_strings = {binary};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  const bool port_given = std::any_of(args.begin(), args.end(), [](const std::string& arg) {
    return absl::StartsWith(arg, "--port=");
  });
  if (!port_given) argv_strings.push_back("--port=0");
  argv_strings.push_back("--port_file=" + port_file);
  return argv_strings;
}

// The child's side of fork: async-signal-safe calls only, then exec (or exit 127 if it fails).
[[noreturn]] void ExecChild(pid_t parent, const sigset_t& all_signals, int out_fd, int err_fd,
                            const std::vector<char*>& argv) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(126);
  sigprocmask(SIG_UNBLOCK, &all_signals, nullptr);
  struct sigaction default_action = {};
  default_action.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &default_action, nullptr);
  sigaction(SIGTERM, &default_action, nullptr);
  sigaction(SIGINT, &default_action, nullptr);
  dup2(out_fd, STDOUT_FILENO);
  dup2(err_fd, STDERR_FILENO);
  execv(argv[0], argv.data());
  static const char kExecFailed[] = "execv failed\n";
  [[maybe_unused]] ssize_t ignored = write(STDERR_FILENO, kExecFailed, sizeof(kExecFailed) - 1);
  _exit(127);
}

}  // namespace

std::string ProcessExit::Describe() const {
  if (timed_out) return "still running";
  if (exited) return absl::StrCat("exited with ", exit_code);
  return absl::StrCat("killed by signal ", signal);
}

absl::StatusOr<std::unique_ptr<ServiceProcess>> ServiceProcess::Start(
    const std::string& binary, const std::vector<std::string>& args, absl::Duration startup) {
  std::unique_ptr<ServiceProcess> process(new ServiceProcess());
  const std::string port_file = process->dir() + "/port";
  process->stderr_path_ = process->dir() + "/stderr.log";
  absl::Status spawned = process->Spawn(ChildArguments(binary, args, port_file));
  if (!spawned.ok()) return spawned;
  absl::Status serving = process->AwaitPortFile(binary, port_file, startup);
  if (!serving.ok()) return serving;  // the destructor stops it
  return process;
}

absl::Status ServiceProcess::Spawn(std::vector<std::string> argv_strings) {
  // Everything the child needs is prepared before fork: after it, in a process with threads, the
  // child may only call async-signal-safe functions until exec.
  std::vector<char*> argv;
  argv.reserve(argv_strings.size() + 1);
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const int err_fd = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const std::string stdout_path = dir() + "/stdout.log";
  const int out_fd = open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (err_fd < 0 || out_fd < 0) {
    if (err_fd >= 0) close(err_fd);
    if (out_fd >= 0) close(out_fd);
    return absl::FailedPreconditionError("cannot create the output files of the child");
  }
  const pid_t parent = getpid();
  sigset_t all_signals;
  sigfillset(&all_signals);

  const pid_t pid = fork();
  if (pid == 0) ExecChild(parent, all_signals, out_fd, err_fd, argv);
  close(err_fd);
  close(out_fd);
  if (pid < 0) return absl::FailedPreconditionError("fork failed");
  pid_ = pid;
  return absl::OkStatus();
}

absl::Status ServiceProcess::AwaitPortFile(const std::string& binary, const std::string& port_file,
                                           absl::Duration startup) {
  const absl::Time give_up = absl::Now() + startup;
  while (absl::Now() < give_up) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::FailedPreconditionError(
          absl::StrCat(binary, " ", FromWaitStatus(status).Describe(),
                       " before it was serving; its stderr:\n", StderrText()));
    }
    // The server writes the file by rename, so once it exists it is whole.
    std::string text = ReadFile(port_file);
    int port = 0;
    if (!text.empty() && absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &port) && port > 0) {
      port_ = port;
      return absl::OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return absl::FailedPreconditionError(absl::StrCat(binary, " wrote no port within ",
                                                    absl::FormatDuration(startup),
                                                    "; its stderr:\n", StderrText()));
}

ServiceProcess::~ServiceProcess() {
  if (pid_ <= 0) return;
  Kill(SIGTERM);
  ProcessExit exit = Wait(absl::Seconds(5));
  if (exit.timed_out) {
    Kill(SIGKILL);
    Wait(absl::Seconds(5));
  }
}

std::string ServiceProcess::address() const { return absl::StrCat("127.0.0.1:", port_); }

void ServiceProcess::Kill(int signal) {
  if (pid_ > 0) kill(pid_, signal);
}

ProcessExit ServiceProcess::Wait(absl::Duration timeout) {
  if (pid_ <= 0) return exit_;
  ProcessExit timed_out;
  timed_out.timed_out = true;
  const absl::Time give_up = absl::Now() + timeout;
  do {
    int status = 0;
    const pid_t reaped = waitpid(pid_, &status, WNOHANG);
    if (reaped == pid_) {
      pid_ = -1;
      exit_ = FromWaitStatus(status);
      return exit_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  } while (absl::Now() < give_up);
  return timed_out;
}

std::string ServiceProcess::StderrText() const { return ReadFile(stderr_path_); }

}  // namespace shidang::testing
