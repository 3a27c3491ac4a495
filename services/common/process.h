#pragma once

// What every Shidang process (each service, the gateway) does around its main, with no gRPC and
// no Redis: parse its own flags, take SIGTERM/SIGINT synchronously, write a bound port for tests
// and scripts. Flags are defined by each main (or, for the flags every service shares, by
// service_flags.h's object library linked into service executables only), never by a library, so
// a process accepts exactly the flags it uses and absl's parser refuses the rest.

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace shidang {

// Call first in main, before anything starts a thread: parses the command line (exits on unknown
// or malformed flags, printing the program's usage message, absl::SetProgramUsageMessage, after
// absl's own error) and blocks SIGTERM and SIGINT in the calling thread, so every thread started
// later inherits the mask and the signals are taken only where the process waits for them
// (sigtimedwait), never by a handler in some library's thread. Ignores SIGPIPE. Returns the
// positional arguments (argv[0] first).
std::vector<char*> InitServerProcess(int argc, char** argv);

// The signals InitServerProcess blocks: SIGTERM and SIGINT.
void BlockTerminationSignals();

// Writes `port` and a newline to `path` atomically (a temp file renamed into place), so a reader
// sees no file or the whole number. UNAVAILABLE naming the file when it cannot.
absl::Status WritePortFile(const std::string& path, int port);

}  // namespace shidang
