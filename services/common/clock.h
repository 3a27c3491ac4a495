#pragma once

// The one source of "now" and "today" for every Shidang process. Rules that depend on the date
// take it from a Clock, so tests (and end-to-end runs with --today) can pin it.

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace shidang {

// Asia/Shanghai as a fixed UTC+8 offset. China has had no daylight saving time since 1991, so a
// fixed offset gives the same dates for every date we handle and needs no tzdata on the machine
// (a minimal container image has none, and absl::LoadTimeZone would silently fall back to UTC).
absl::TimeZone ShanghaiTimeZone();

// The system clock. Subclasses override Now(); Today() follows from it.
class Clock {
 public:
  virtual ~Clock();

  // The current instant (absl::Now() for the system clock).
  virtual absl::Time Now() const;

  // The calendar date in Asia/Shanghai at Now(): what a county office calls "today".
  virtual absl::CivilDay Today() const;
};

// A clock that stands still until told to move, for tests and end-to-end runs. Thread-safe: a test
// may move it while servers read it.
//
//   FixedClock clock(absl::CivilDay(2025, 9, 1));  // 2025-09-01 00:00 in Shanghai
//   clock.Advance(absl::Hours(24));                // now 2025-09-02
class FixedClock : public Clock {
 public:
  // Midnight at the start of `today` in Asia/Shanghai.
  explicit FixedClock(absl::CivilDay today);
  explicit FixedClock(absl::Time now);

  absl::Time Now() const override;

  // Moves to midnight at the start of `today` in Asia/Shanghai.
  void SetToday(absl::CivilDay today);
  void SetNow(absl::Time now);
  // Moves forward (or back, when negative) by `by`.
  void Advance(absl::Duration by);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

// The clock a process runs on, from its --today flag: empty gives the system clock; YYYY-MM-DD
// gives a FixedClock pinned to that day (for end-to-end tests). Anything else is INVALID_ARGUMENT
// naming the flag.
absl::StatusOr<std::unique_ptr<Clock>> ClockFromFlagValue(absl::string_view today);

}  // namespace shidang
