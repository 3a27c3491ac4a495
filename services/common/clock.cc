#include "services/common/clock.h"

#include "services/common/dates.h"

namespace shidang {

absl::TimeZone ShanghaiTimeZone() {
  static const absl::TimeZone* const kShanghai =
      new absl::TimeZone(absl::FixedTimeZone(8 * 60 * 60));
  return *kShanghai;
}

Clock::~Clock() = default;

absl::Time Clock::Now() const { return absl::Now(); }

absl::CivilDay Clock::Today() const { return absl::ToCivilDay(Now(), ShanghaiTimeZone()); }

FixedClock::FixedClock(absl::CivilDay today)
    : now_(absl::FromCivil(absl::CivilSecond(today), ShanghaiTimeZone())) {}

FixedClock::FixedClock(absl::Time now) : now_(now) {}

absl::Time FixedClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

void FixedClock::SetToday(absl::CivilDay today) {
  SetNow(absl::FromCivil(absl::CivilSecond(today), ShanghaiTimeZone()));
}

void FixedClock::SetNow(absl::Time now) {
  absl::MutexLock lock(&mu_);
  now_ = now;
}

void FixedClock::Advance(absl::Duration by) {
  absl::MutexLock lock(&mu_);
  now_ += by;
}

absl::StatusOr<std::unique_ptr<Clock>> ClockFromFlagValue(absl::string_view today) {
  if (today.empty()) return std::make_unique<Clock>();
  absl::StatusOr<absl::CivilDay> day = dates::ParseDate(today, "--today");
  if (!day.ok()) return day.status();
  return std::unique_ptr<Clock>(std::make_unique<FixedClock>(*day));
}

}  // namespace shidang
