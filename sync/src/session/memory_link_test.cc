#include "session/memory_link.h"

#include <gtest/gtest.h>

#include <numeric>
#include <thread>

namespace outpost::sync {
namespace {

using Fault = MemoryLink::Fault;

std::vector<uint8_t> Counting(size_t n, uint8_t from = 0) {
  std::vector<uint8_t> v(n);
  std::iota(v.begin(), v.end(), from);
  return v;
}

TEST(MemoryLinkTest, WhatOneEndWritesTheOtherReadsInOrderAcrossThreads) {
  auto [a, b] = MemoryLink::Pair();
  std::thread writer([&, a = a.get()] {
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(a->Write(Counting(10, static_cast<uint8_t>(i))).ok());
  });
  for (int i = 0; i < 50; ++i) {
    std::vector<uint8_t> got(20);
    ASSERT_TRUE(b->ReadExact(got).ok());
    EXPECT_EQ(got[0], static_cast<uint8_t>(2 * i));
    EXPECT_EQ(got[10], static_cast<uint8_t>(2 * i + 1));
  }
  writer.join();
  EXPECT_EQ(a->bytes_sent(), 1000u);
  EXPECT_EQ(b->bytes_received(), 1000u);
  EXPECT_EQ(a->write_offsets().size(), 100u);
  EXPECT_EQ(a->write_offsets()[7], 70u);
}

TEST(MemoryLinkTest, ACutDeliversExactlyTheBytesBeforeItThenBothEndsFail) {
  auto [a, b] = MemoryLink::Pair({Fault::kCut, 15});
  ASSERT_TRUE(a->Write(Counting(10)).ok());
  EXPECT_FALSE(a->faulted());
  EXPECT_FALSE(a->Write(Counting(10, 10)).ok());  // bytes 10..14 pass, then the cut
  EXPECT_TRUE(a->faulted());
  std::vector<uint8_t> got(15);
  ASSERT_TRUE(b->ReadExact(got).ok());
  EXPECT_EQ(got, Counting(15));
  std::vector<uint8_t> more(1);
  EXPECT_FALSE(b->ReadExact(more).ok());
  EXPECT_FALSE(b->Write(Counting(1)).ok());
  EXPECT_FALSE(a->ReadExact(more).ok());
}

TEST(MemoryLinkTest, ACutAtByteZeroLetsNothingThrough) {
  auto [a, b] = MemoryLink::Pair({}, {Fault::kCut, 0});
  ASSERT_TRUE(a->Write(Counting(4)).ok());  // the other way is fine until the cut
  EXPECT_FALSE(b->Write(Counting(4)).ok());
  std::vector<uint8_t> got(1);
  EXPECT_FALSE(a->ReadExact(got).ok());
  EXPECT_EQ(a->bytes_received(), 0u);
}

TEST(MemoryLinkTest, AStallTimesReadsOutAtOnceAndLosesWhatIsWritten) {
  auto [a, b] = MemoryLink::Pair({Fault::kStall, 5}, {}, std::chrono::hours(1));
  ASSERT_TRUE(a->Write(Counting(8)).ok());  // a cannot tell: its bytes left
  ASSERT_TRUE(b->Write(Counting(3)).ok());  // lost too: the link is silent both ways
  std::vector<uint8_t> got(5);
  ASSERT_TRUE(b->ReadExact(got).ok());
  EXPECT_EQ(got, Counting(5));
  std::vector<uint8_t> more(1);
  Status st = b->ReadExact(more);  // would wait an hour on a real link
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("timed out"), std::string::npos) << st.message();
  EXPECT_FALSE(a->ReadExact(more).ok());
  EXPECT_TRUE(a->faulted());
}

TEST(MemoryLinkTest, CorruptFlipsExactlyTheCountedByte) {
  auto [a, b] = MemoryLink::Pair({Fault::kCorrupt, 12});
  ASSERT_TRUE(a->Write(Counting(10)).ok());
  ASSERT_TRUE(a->Write(Counting(10, 10)).ok());
  std::vector<uint8_t> got(20);
  ASSERT_TRUE(b->ReadExact(got).ok());
  auto expected = Counting(20);
  EXPECT_NE(got[12], expected[12]);
  got[12] = expected[12];
  EXPECT_EQ(got, expected);
}

TEST(MemoryLinkTest, AClosedPeerIsTheEndOfTheStreamAfterWhatItSent) {
  auto [a, b] = MemoryLink::Pair();
  ASSERT_TRUE(a->Write(Counting(3)).ok());
  a->Close();
  std::vector<uint8_t> got(3);
  ASSERT_TRUE(b->ReadExact(got).ok());
  Status st = b->ReadExact(got);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("closed"), std::string::npos) << st.message();
  EXPECT_FALSE(b->Write(Counting(1)).ok());
}

TEST(MemoryLinkTest, WhenBothEndsWaitToReadTheLinkGoesSilentInsteadOfHanging) {
  auto [a, b] = MemoryLink::Pair({}, {}, std::chrono::hours(1));
  Status a_read;
  std::thread reader([&, a = a.get()] {
    std::vector<uint8_t> got(1);
    a_read = a->ReadExact(got);
  });
  // Whichever end waits second finds the other waiting; without it b would wait an hour.
  std::vector<uint8_t> got(1);
  Status b_read = b->ReadExact(got);
  reader.join();
  EXPECT_FALSE(a_read.ok());
  EXPECT_FALSE(b_read.ok());
  EXPECT_TRUE(a->faulted());
}

TEST(MemoryLinkTest, LingerDrainsWhatThePeerStillSendsUntilItCloses) {
  auto [a, b] = MemoryLink::Pair({}, {}, std::chrono::hours(1));
  ASSERT_TRUE(b->Write(Counting(7)).ok());  // unread when a stops
  std::thread peer([b = b.get()] {
    (void)b->Write(Counting(5));
    std::vector<uint8_t> got(1);
    (void)b->ReadExact(got);  // a shut down sending: the end of the stream
    b->Close();
  });
  a->Linger(std::chrono::hours(1));
  peer.join();
  EXPECT_EQ(a->bytes_received(), 12u);
  EXPECT_FALSE(a->Write(Counting(1)).ok());
}

TEST(MemoryLinkTest, CloseFromAnotherThreadEndsABlockedRead) {
  auto [a, b] = MemoryLink::Pair({}, {}, std::chrono::hours(1));
  Status read;
  std::thread reader([&, a = a.get()] {
    std::vector<uint8_t> got(1);
    read = a->ReadExact(got);
  });
  a->Close();
  reader.join();
  EXPECT_FALSE(read.ok());
}

class StepClock : public PaceClock {
 public:
  time_point Now() override { return now; }
  void SleepUntil(time_point when) override { now = std::max(now, when); }
  time_point now{};
};

TEST(MemoryLinkTest, ARateCapPacesReadsOnTheGivenClock) {
  auto [a, b] = MemoryLink::Pair();
  StepClock clock;
  b->set_pace_clock(&clock);
  b->set_rate_limit_kbps(80);  // 10 bytes per millisecond
  ASSERT_TRUE(a->Write(Counting(200)).ok());
  std::vector<uint8_t> got(100);
  ASSERT_TRUE(b->ReadExact(got).ok());
  ASSERT_TRUE(b->ReadExact(got).ok());
  EXPECT_EQ(clock.now - PaceClock::time_point{}, std::chrono::milliseconds(20));
}

}  // namespace
}  // namespace outpost::sync
