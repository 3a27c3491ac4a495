#include "services/common/process.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

// absl calls this (a weak hook it declares in usage_config.h) before it exits on a fatal usage
// error, such as an unknown flag. The program's usage message, printed after absl's error, says
// what the program takes instead: the gateway's names its --http_port, where its /metrics are.
extern "C" void ABSL_INTERNAL_C_SYMBOL(AbslInternalReportFatalUsageError)(absl::string_view) {
  static std::atomic<bool> printed{false};
  if (printed.exchange(true)) return;
  const std::string usage(absl::ProgramUsageMessage());
  // absl answers a warning of its own when the program set no message.
  if (usage.empty() || absl::StartsWith(usage, "Warning: SetProgramUsageMessage()")) return;
  std::fprintf(stderr, "%s\n", usage.c_str());
}

namespace shidang {

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

std::vector<char*> InitServerProcess(int argc, char** argv) {
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  BlockTerminationSignals();
  // A client that hangs up must not kill the process.
  signal(SIGPIPE, SIG_IGN);
  return positional;
}

absl::Status WritePortFile(const std::string& path, int port) {
  const std::string temp = absl::StrCat(path, ".tmp.", getpid());
  {
    std::ofstream out(temp, std::ios::trunc);
    out << port << "\n";
    out.close();
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", temp));
  }
  // rename is atomic: a reader sees no file or the whole port, never a partial write.
  if (rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    return absl::UnavailableError(absl::StrCat("cannot rename ", temp, " to ", path));
  }
  return absl::OkStatus();
}

}  // namespace shidang
