// The pacing rule: byte k may be handed on no earlier than k * 8 / rate after the first.
#include "session/pacer.h"

#include <thread>

namespace outpost::sync {

namespace {

class RealClock : public PaceClock {
 public:
  time_point Now() override { return std::chrono::steady_clock::now(); }
  void SleepUntil(time_point when) override { std::this_thread::sleep_until(when); }
};

}  // namespace

PaceClock* PaceClock::Real() {
  static RealClock clock;
  return &clock;
}

void Pacer::set_rate_kbps(uint64_t kbps) {
  rate_kbps_ = kbps;
  bytes_ = 0;
}

void Pacer::Received(size_t n) {
  if (rate_kbps_ == 0 || n == 0) return;
  if (bytes_ == 0) start_ = clock_->Now();
  bytes_ += n;
  // kbit/s is bits per millisecond: bytes * 8 / kbps ms, in microseconds.
  auto due = start_ + std::chrono::microseconds(bytes_ * 8 * 1000 / rate_kbps_);
  if (due > clock_->Now()) clock_->SleepUntil(due);
}

}  // namespace outpost::sync
