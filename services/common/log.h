#pragma once

// One line per event on stderr, each starting with an ISO 8601 UTC timestamp and a level. Lines
// from different threads never interleave. Callers must not log secrets: no tokens, no signed
// principals, no ID-card numbers.
//
//   LogInfo("listening on ", address);
//   -> 2024-09-01T08:00:00.123Z INFO listening on 127.0.0.1:40123

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace shidang {

// Writes `line` (with a timestamp in front and a newline after) to stderr, under a mutex.
// Control characters in `line` are replaced by '?', so one call is always one line.
void LogLine(absl::string_view level, absl::string_view line);

template <typename... Args>
void LogInfo(const Args&... args) {
  LogLine("INFO", absl::StrCat(args...));
}
template <typename... Args>
void LogWarning(const Args&... args) {
  LogLine("WARNING", absl::StrCat(args...));
}
template <typename... Args>
void LogError(const Args&... args) {
  LogLine("ERROR", absl::StrCat(args...));
}

}  // namespace shidang
