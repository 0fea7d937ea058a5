#include "session/pacer.h"

#include <gtest/gtest.h>

#include <vector>

namespace outpost::sync {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

// A logical clock: time moves only when the pacer sleeps, or when the test says so.
class LogicalClock : public PaceClock {
 public:
  time_point Now() override { return now_; }
  void SleepUntil(time_point when) override {
    sleeps_.push_back(std::chrono::duration_cast<microseconds>(when - now_));
    if (when > now_) now_ = when;
  }
  void Advance(microseconds d) { now_ += d; }
  microseconds elapsed() const { return std::chrono::duration_cast<microseconds>(now_ - time_point{}); }
  const std::vector<microseconds>& sleeps() const { return sleeps_; }

 private:
  time_point now_{};
  std::vector<microseconds> sleeps_;
};

TEST(PacerTest, WithoutACapItNeverWaits) {
  LogicalClock clock;
  Pacer pacer(&clock);
  for (int i = 0; i < 100; ++i) pacer.Received(65536);
  EXPECT_TRUE(clock.sleeps().empty());
  EXPECT_EQ(clock.elapsed(), microseconds(0));
}

TEST(PacerTest, AtTwoMegabitsAQuarterMegabyteTakesOneSecond) {
  LogicalClock clock;
  Pacer pacer(&clock);
  pacer.set_rate_kbps(2000);  // 250 kB/s
  for (int i = 0; i < 10; ++i) pacer.Received(25000);
  EXPECT_EQ(clock.elapsed(), microseconds(1000000));
  // Each read of 25 kB waits a tenth of a second.
  ASSERT_EQ(clock.sleeps().size(), 10u);
  EXPECT_EQ(clock.sleeps()[3], milliseconds(100));
}

TEST(PacerTest, TimeTheReadsTookAlreadyCounts) {
  LogicalClock clock;
  Pacer pacer(&clock);
  pacer.set_rate_kbps(8);  // 1000 bytes/s: 1 byte per millisecond
  pacer.Received(100);     // due at 100 ms
  EXPECT_EQ(clock.elapsed(), milliseconds(100));
  clock.Advance(milliseconds(500));  // a slow read: 600 ms now
  pacer.Received(300);               // due at 400 ms: already past
  EXPECT_EQ(clock.elapsed(), milliseconds(600));
  EXPECT_EQ(clock.sleeps().size(), 1u);
  pacer.Received(400);  // due at 800 ms
  EXPECT_EQ(clock.elapsed(), milliseconds(800));
}

TEST(PacerTest, ANewRateStartsTheCountAgain) {
  LogicalClock clock;
  Pacer pacer(&clock);
  pacer.set_rate_kbps(8);
  pacer.Received(1000);  // 1 s
  pacer.set_rate_kbps(16);
  pacer.Received(1000);  // half a second more, counted from now
  EXPECT_EQ(clock.elapsed(), milliseconds(1500));
}

}  // namespace
}  // namespace outpost::sync
