#include "services/common/log.h"

#include <cstdio>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace shidang {
namespace {

ABSL_CONST_INIT absl::Mutex log_mutex(absl::kConstInit);

}  // namespace

void LogLine(absl::string_view level, absl::string_view line) {
  std::string text = absl::StrCat(
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()), " ", level, " ");
  text.reserve(text.size() + line.size() + 1);
  for (char c : line) {
    const unsigned char u = static_cast<unsigned char>(c);
    text.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  text.push_back('\n');
  absl::MutexLock lock(&log_mutex);
  fwrite(text.data(), 1, text.size(), stderr);
  fflush(stderr);
}

}  // namespace shidang
