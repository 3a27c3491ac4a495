#pragma once

// The flags every service takes, read into a ServiceConfig (service_main.h):
//   --host --port --port_file --redis --principal_key_file --shutdown_grace_ms --max_threads
//   --today --metrics_port --metrics_port_file
// They are defined in service_flags.cc, which is not in any library: CMake's object library
// shidang_service_flags puts it into each service executable that links it (object files do not
// pass on to whatever links that executable's libraries). So only service processes take these
// flags; the gateway and the tools define their own, and absl refuses a flag a process lacks.

#include "services/common/service_main.h"

namespace shidang {

// The values of the flags above, unchecked: RunService validates them.
ServiceConfig ServiceConfigFromFlags();

// The whole main of a service: sets `usage` as the usage line, parses the flags and blocks the
// stop signals (InitServerProcess), then RunService with the flags' config and `wire`; returns
// RunService's exit code.
int ServiceMain(int argc, char** argv, const char* usage, const ServiceWiring& wire);

}  // namespace shidang
